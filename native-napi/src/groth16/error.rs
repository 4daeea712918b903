//! Why loading or proving failed. Each kind carries a stable code the JS side
//! maps to its own error type; messages name the file, section and offset.
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Groth16Error {
    /// The .zkey is not a well-formed snarkjs Groth16 BN254 proving key.
    Zkey(String),
    /// The .wtns is not a well-formed snarkjs witness file.
    Wtns(String),
    /// Both parse, but the witness is not for this proving key.
    Mismatch(String),
    /// The caller asked for something invalid (an argument, a freed handle).
    Argument(String),
    /// An OS facility failed (the random source).
    Os(String),
}

impl Groth16Error {
    pub fn code(&self) -> &'static str {
        match self {
            Groth16Error::Zkey(_) => "ZKEY_MALFORMED",
            Groth16Error::Wtns(_) => "WTNS_MALFORMED",
            Groth16Error::Mismatch(_) => "WTNS_MISMATCH",
            Groth16Error::Argument(_) => "BAD_ARGUMENT",
            Groth16Error::Os(_) => "OS_ERROR",
        }
    }
    pub fn message(&self) -> &str {
        match self {
            Groth16Error::Zkey(m) | Groth16Error::Wtns(m) | Groth16Error::Mismatch(m) | Groth16Error::Argument(m) | Groth16Error::Os(m) => m,
        }
    }
}

impl fmt::Display for Groth16Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

pub type Result<T> = std::result::Result<T, Groth16Error>;
