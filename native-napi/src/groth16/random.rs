//! Uniform Fr scalars from the OS (/dev/urandom), by rejection: 254 random bits,
//! retried while ≥ r (accepted about three times in four).
use super::error::{Groth16Error, Result};
use super::field::geq;
use super::fr::Fr;
use std::io::Read;

pub fn random_scalar() -> Result<[u64; 4]> {
    let mut f = std::fs::File::open("/dev/urandom").map_err(|e| Groth16Error::Os(format!("cannot open /dev/urandom: {e}")))?;
    for _ in 0..128 {
        let mut b = [0u8; 32];
        f.read_exact(&mut b).map_err(|e| Groth16Error::Os(format!("cannot read /dev/urandom: {e}")))?;
        let mut v = super::binfile::limbs_le(&b);
        v[3] &= u64::MAX >> 2;
        if !geq(&v, &Fr::MODULUS) {
            return Ok(v);
        }
    }
    Err(Groth16Error::Os("/dev/urandom returned 128 out-of-range draws in a row".into()))
}
