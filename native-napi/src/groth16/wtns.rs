//! snarkjs's .wtns: section 1 (u32 n8, the prime in n8 bytes, u32 count) and
//! section 2 (the values, n8 bytes each, plain little-endian integers).
use super::binfile::{limbs_le, BinFile};
use super::error::{Groth16Error, Result};
use super::field::geq;
use super::fr::Fr;

fn bad(m: String) -> Groth16Error {
    Groth16Error::Wtns(m)
}

/// The witness as plain scalars; w[0] is the constant 1.
pub fn parse_wtns(bytes: &[u8]) -> Result<Vec<[u64; 4]>> {
    let file = BinFile::parse(bytes, b"wtns", 2).map_err(bad)?;
    let mut h = file.section(1).map_err(bad)?;
    let e = |e: String| bad(format!("header: {e}"));
    let n8 = h.u32().map_err(e)?;
    if n8 != 32 {
        return Err(bad(format!("field element size {n8}, expected 32 (BN254)")));
    }
    if h.limbs().map_err(e)? != Fr::MODULUS {
        return Err(Groth16Error::Mismatch("the witness is over another field than BN254's scalar field".into()));
    }
    let n = h.u32().map_err(e)? as usize;
    let mut d = file.section(2).map_err(bad)?;
    if d.bytes.len() != n.saturating_mul(32) {
        return Err(bad(format!("section 2 holds {} bytes, expected {n} values = {}", d.bytes.len(), n.saturating_mul(32))));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let v = limbs_le(d.take(32).map_err(bad)?);
        if geq(&v, &Fr::MODULUS) {
            return Err(bad(format!("witness value {i} is not below the scalar field prime")));
        }
        out.push(v);
    }
    Ok(out)
}
