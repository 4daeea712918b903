//! snarkjs's Groth16 .zkey (BN254 only): sections 1 (protocol = 1, groth16),
//! 2 (field sizes and primes, nVars, nPublic, domainSize, α₁ β₁ β₂ γ₂ δ₁ δ₂),
//! 3 IC, 4 the QAP coefficients, 5 A, 6 B1, 7 B2, 8 C, 9 H. Points are affine
//! coordinates in Montgomery form, little-endian; the identity is all zeros.
//! Every coordinate is checked canonical and on its curve.
use super::binfile::{BinFile, Reader};
use super::curve::{Affine, CurveParams, G1Affine, G2Affine};
use super::error::{Groth16Error, Result};
use super::field::Field;
use super::fq::Fq;
use super::fq2::Fq2;
use super::fr::{Fr, TWO_ADICITY};

/// One QAP coefficient: matrix m (0 = A, 1 = B) row c (constraint) gets value·w[s].
#[derive(Copy, Clone, Debug)]
pub struct Coef {
    pub matrix: u8,
    pub row: u32,
    pub signal: u32,
    /// As stored: the value times R (snarkjs pre-multiplies so one Montgomery
    /// product with a plain witness value lands in Montgomery form).
    pub value: Fr,
}

pub struct ProvingKey {
    pub n_vars: usize,
    pub n_public: usize,
    pub domain_size: usize,
    pub alpha1: G1Affine,
    pub beta1: G1Affine,
    pub beta2: G2Affine,
    pub delta1: G1Affine,
    pub delta2: G2Affine,
    pub coefs: Vec<Coef>,
    pub a: Vec<G1Affine>,
    pub b1: Vec<G1Affine>,
    pub b2: Vec<G2Affine>,
    pub c: Vec<G1Affine>,
    pub h: Vec<G1Affine>,
}

impl ProvingKey {
    /// Bytes the parsed key holds in memory (points and coefficients).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        (self.a.len() + self.b1.len() + self.c.len() + self.h.len()) * size_of::<G1Affine>()
            + self.b2.len() * size_of::<G2Affine>()
            + self.coefs.len() * size_of::<Coef>()
    }
}

fn bad(m: String) -> Groth16Error {
    Groth16Error::Zkey(m)
}

fn fq(r: &mut Reader, what: &str) -> Result<Fq> {
    let at = r.base + r.pos;
    let v = r.limbs().map_err(|e| bad(format!("{what}: {e}")))?;
    Fq::from_mont(v).ok_or_else(|| bad(format!("{what}: coordinate at byte {at} is not below the base field prime")))
}

fn check<C: CurveParams>(p: Affine<C>, what: &str, at: usize) -> Result<Affine<C>> {
    if p.is_on_curve() {
        Ok(p)
    } else {
        Err(bad(format!("{what}: the point at byte {at} is not on the curve")))
    }
}

pub fn read_g1(r: &mut Reader, what: &str) -> Result<G1Affine> {
    let at = r.base + r.pos;
    let x = fq(r, what)?;
    let y = fq(r, what)?;
    if x.is_zero() && y.is_zero() {
        return Ok(Affine::identity());
    }
    check(Affine::new(x, y), what, at)
}

pub fn read_g2(r: &mut Reader, what: &str) -> Result<G2Affine> {
    let at = r.base + r.pos;
    let x = Fq2::new(fq(r, what)?, fq(r, what)?);
    let y = Fq2::new(fq(r, what)?, fq(r, what)?);
    if x.is_zero() && y.is_zero() {
        return Ok(Affine::identity());
    }
    check(Affine::new(x, y), what, at)
}

/// A section that must hold exactly `count` points of `size` bytes.
fn points<T>(file: &BinFile, kind: u32, what: &str, count: usize, size: usize, read: fn(&mut Reader, &str) -> Result<T>) -> Result<Vec<T>> {
    let mut r = file.section(kind).map_err(|e| bad(format!("{what}: {e}")))?;
    let want = count.checked_mul(size).ok_or_else(|| bad(format!("{what}: size overflows")))?;
    if r.bytes.len() != want {
        return Err(bad(format!("{what} (section {kind}) holds {} bytes, expected {count} points = {want}", r.bytes.len())));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(read(&mut r, what)?);
    }
    Ok(out)
}

const Q_BYTES: [u64; 4] = Fq::MODULUS;
const R_BYTES: [u64; 4] = Fr::MODULUS;

pub fn parse_zkey(bytes: &[u8]) -> Result<ProvingKey> {
    let file = BinFile::parse(bytes, b"zkey", 1).map_err(bad)?;
    let mut h = file.section(1).map_err(bad)?;
    let protocol = h.u32().map_err(|e| bad(format!("header: {e}")))?;
    if protocol != 1 {
        return Err(bad(format!("protocol {protocol} is not Groth16 (1)")));
    }
    let mut g = file.section(2).map_err(bad)?;
    let e = |e: String| bad(format!("groth16 header: {e}"));
    let n8q = g.u32().map_err(e)?;
    if n8q != 32 {
        return Err(bad(format!("base field element size {n8q}, expected 32 (BN254)")));
    }
    if g.limbs().map_err(e)? != Q_BYTES {
        return Err(bad("base field prime is not BN254's".into()));
    }
    let n8r = g.u32().map_err(e)?;
    if n8r != 32 {
        return Err(bad(format!("scalar field element size {n8r}, expected 32 (BN254)")));
    }
    if g.limbs().map_err(e)? != R_BYTES {
        return Err(bad("scalar field prime is not BN254's".into()));
    }
    let n_vars = g.u32().map_err(e)? as usize;
    let n_public = g.u32().map_err(e)? as usize;
    let domain_size = g.u32().map_err(e)? as usize;
    if n_vars == 0 || n_public >= n_vars {
        return Err(bad(format!("nPublic {n_public} must be below nVars {n_vars}")));
    }
    if !domain_size.is_power_of_two() || domain_size.trailing_zeros() >= TWO_ADICITY {
        return Err(bad(format!("domain size {domain_size} is not a power of two below 2^{TWO_ADICITY}")));
    }
    let alpha1 = read_g1(&mut g, "alpha_1")?;
    let beta1 = read_g1(&mut g, "beta_1")?;
    let beta2 = read_g2(&mut g, "beta_2")?;
    let _gamma2 = read_g2(&mut g, "gamma_2")?;
    let delta1 = read_g1(&mut g, "delta_1")?;
    let delta2 = read_g2(&mut g, "delta_2")?;

    // IC is only for verifying, but a key with a wrong-sized IC is not one snarkjs wrote.
    let ic = file.section(3).map_err(|e| bad(format!("IC: {e}")))?;
    if ic.bytes.len() != (n_public + 1) * 64 {
        return Err(bad(format!("IC (section 3) holds {} bytes, expected {}", ic.bytes.len(), (n_public + 1) * 64)));
    }

    let mut cr = file.section(4).map_err(|e| bad(format!("coefficients: {e}")))?;
    let n_coefs = cr.u32().map_err(|e| bad(format!("coefficients: {e}")))? as usize;
    if cr.remaining() != n_coefs.saturating_mul(44) {
        return Err(bad(format!("coefficients (section 4) count {n_coefs} needs {} bytes, section has {}", n_coefs.saturating_mul(44), cr.remaining())));
    }
    let mut coefs = Vec::with_capacity(n_coefs);
    for i in 0..n_coefs {
        let e = |e: String| bad(format!("coefficient {i}: {e}"));
        let matrix = cr.u32().map_err(e)?;
        let row = cr.u32().map_err(e)?;
        let signal = cr.u32().map_err(e)?;
        let v = cr.limbs().map_err(e)?;
        if matrix > 1 || row as usize >= domain_size || signal as usize >= n_vars {
            return Err(bad(format!("coefficient {i} (matrix {matrix}, row {row}, signal {signal}) is out of range")));
        }
        let value = Fr::from_mont(v).ok_or_else(|| bad(format!("coefficient {i} is not below the scalar field prime")))?;
        coefs.push(Coef { matrix: matrix as u8, row, signal, value });
    }

    let a = points(&file, 5, "A", n_vars, 64, read_g1)?;
    let b1 = points(&file, 6, "B1", n_vars, 64, read_g1)?;
    let b2 = points(&file, 7, "B2", n_vars, 128, read_g2)?;
    let c = points(&file, 8, "C", n_vars - n_public - 1, 64, read_g1)?;
    let h = points(&file, 9, "H", domain_size, 64, read_g1)?;
    Ok(ProvingKey { n_vars, n_public, domain_size, alpha1, beta1, beta2, delta1, delta2, coefs, a, b1, b2, c, h })
}
