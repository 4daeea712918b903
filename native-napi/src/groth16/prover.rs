//! The Groth16 prover, step for step as snarkjs's groth16_prove: the QAP
//! evaluations of A·w and B·w on the domain from the coefficients, C = A·B
//! pointwise; each interpolated (inverse NTT), shifted onto the odd coset
//! (coefficient i times ω₂ₙ^i) and evaluated there (NTT); h = A·B − C on the coset
//! (the key's H bases absorb the constant Z = −2 there). Then five MSMs and the
//! blinding with random r, s.
use super::curve::{G1Affine, G2Affine, G1, G2};
use super::error::{Groth16Error, Result};
use super::field::Field;
use super::fr::{root_of_unity, Fr};
use super::curve::{Affine, CurveParams, G1Params, G2Params};
use super::msm::{choose_fixed, msm, FixedBase};
use super::ntt::{intt, ntt};
use super::zkey::ProvingKey;

pub struct Proof {
    pub a: G1Affine,
    pub b: G2Affine,
    pub c: G1Affine,
    /// w[1..=nPublic], plain integers.
    pub public: Vec<[u64; 4]>,
}

fn internal(what: &str) -> Groth16Error {
    Groth16Error::Argument(format!("internal: {what}"))
}

/// The quotient's coefficients for the H MSM, as plain scalars.
pub fn h_scalars(pk: &ProvingKey, w: &[[u64; 4]]) -> Result<Vec<[u64; 4]>> {
    let n = pk.domain_size;
    let mut a = vec![Fr::zero(); n];
    let mut b = vec![Fr::zero(); n];
    for k in &pk.coefs {
        // value·R × w / R = (value·w) in Montgomery form.
        let t = k.value.mul(&Fr(w[k.signal as usize]));
        let dst = if k.matrix == 0 { &mut a[k.row as usize] } else { &mut b[k.row as usize] };
        *dst = dst.add(&t);
    }
    let mut c: Vec<Fr> = a.iter().zip(&b).map(|(x, y)| x.mul(y)).collect();
    let inc = root_of_unity(n.trailing_zeros() + 1).ok_or_else(|| internal("domain too large"))?;
    let to_coset = |v: &mut Vec<Fr>| -> Result<()> {
        intt(v).ok_or_else(|| internal("inverse NTT"))?;
        let mut f = Fr::one();
        for x in v.iter_mut() {
            *x = x.mul(&f);
            f = f.mul(&inc);
        }
        ntt(v).ok_or_else(|| internal("NTT"))
    };
    std::thread::scope(|s| -> Result<()> {
        let ha = s.spawn(|| to_coset(&mut a));
        let hb = s.spawn(|| to_coset(&mut b));
        to_coset(&mut c)?;
        ha.join().unwrap_or_else(|e| std::panic::resume_unwind(e))?;
        hb.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
    })?;
    Ok(a.iter().zip(&b).zip(&c).map(|((x, y), z)| x.mul(y).sub(z).to_canonical()).collect())
}

/// Fixed-base tables for the five MSMs, each present when its share of the memory budget
/// buys a table that beats the plain MSM.
#[derive(Default)]
pub struct Precomputed {
    a: Option<FixedBase<G1Params>>,
    b1: Option<FixedBase<G1Params>>,
    b2: Option<FixedBase<G2Params>>,
    c: Option<FixedBase<G1Params>>,
    h: Option<FixedBase<G1Params>>,
}

fn table<C: CurveParams>(bases: &[Affine<C>], share: usize, threads: usize) -> Option<FixedBase<C>> {
    let (c, k) = choose_fixed(bases.len(), std::mem::size_of::<Affine<C>>(), share)?;
    Some(FixedBase::build(bases, c, k, threads))
}

impl Precomputed {
    /// Tables within `budget` bytes, split in proportion to each MSM's base bytes.
    pub fn build(pk: &ProvingKey, budget: usize, threads: usize) -> Self {
        if budget == 0 {
            return Precomputed::default();
        }
        let g1 = std::mem::size_of::<G1Affine>();
        let g2 = std::mem::size_of::<G2Affine>();
        let sizes = [pk.a.len() * g1, pk.b1.len() * g1, pk.b2.len() * g2, pk.c.len() * g1, pk.h.len() * g1];
        let total: usize = sizes.iter().sum::<usize>().max(1);
        let share = |i: usize| ((budget as u128 * sizes[i] as u128) / total as u128) as usize;
        Precomputed {
            a: table(&pk.a, share(0), threads),
            b1: table(&pk.b1, share(1), threads),
            b2: table(&pk.b2, share(2), threads),
            c: table(&pk.c, share(3), threads),
            h: table(&pk.h, share(4), threads),
        }
    }

    pub fn bytes(&self) -> usize {
        [self.a.as_ref().map(|t| t.bytes()), self.b1.as_ref().map(|t| t.bytes()), self.c.as_ref().map(|t| t.bytes()), self.h.as_ref().map(|t| t.bytes())]
            .iter()
            .flatten()
            .sum::<usize>()
            + self.b2.as_ref().map_or(0, |t| t.bytes())
    }
}

fn msm_with<C: CurveParams>(fixed: &Option<FixedBase<C>>, bases: &[Affine<C>], scalars: &[[u64; 4]], threads: usize) -> super::curve::Jacobian<C> {
    match fixed {
        Some(t) => t.msm(scalars, threads),
        None => msm(bases, scalars, threads),
    }
}

/// A proof for witness `w` (plain scalars) with blinding r, s (plain, below r).
#[cfg_attr(not(test), allow(dead_code))]
pub fn prove_with(pk: &ProvingKey, w: &[[u64; 4]], r: &[u64; 4], s: &[u64; 4], threads: usize) -> Result<Proof> {
    prove_fixed(pk, &Precomputed::default(), w, r, s, threads)
}

/// As prove_with, using whatever fixed-base tables `pre` holds.
pub fn prove_fixed(pk: &ProvingKey, pre: &Precomputed, w: &[[u64; 4]], r: &[u64; 4], s: &[u64; 4], threads: usize) -> Result<Proof> {
    if w.len() != pk.n_vars {
        return Err(Groth16Error::Mismatch(format!("the witness has {} values, the proving key wants {}", w.len(), pk.n_vars)));
    }
    if w[0] != [1, 0, 0, 0] {
        return Err(Groth16Error::Mismatch("witness value 0 must be the constant 1".into()));
    }
    let h = h_scalars(pk, w)?;
    let pa: G1 = msm_with(&pre.a, &pk.a, w, threads);
    let pb1: G1 = msm_with(&pre.b1, &pk.b1, w, threads);
    let pb2: G2 = msm_with(&pre.b2, &pk.b2, w, threads);
    let pc: G1 = msm_with(&pre.c, &pk.c, &w[pk.n_public + 1..], threads);
    let ph: G1 = msm_with(&pre.h, &pk.h, &h, threads);

    let rs = Fr::from_canonical(*r).ok_or_else(|| internal("r out of range"))?.mul(&Fr::from_canonical(*s).ok_or_else(|| internal("s out of range"))?);
    let neg_rs = rs.neg().to_canonical();
    let delta1 = pk.delta1.to_jacobian();

    let pi_a = pa.add_affine(&pk.alpha1).add(&delta1.mul_scalar(r));
    let pi_b = pb2.add_affine(&pk.beta2).add(&pk.delta2.to_jacobian().mul_scalar(s));
    let b1 = pb1.add_affine(&pk.beta1).add(&delta1.mul_scalar(s));
    let pi_c = pc.add(&ph).add(&pi_a.mul_scalar(s)).add(&b1.mul_scalar(r)).add(&delta1.mul_scalar(&neg_rs));

    Ok(Proof { a: pi_a.to_affine(), b: pi_b.to_affine(), c: pi_c.to_affine(), public: w[1..=pk.n_public].to_vec() })
}

pub fn prove(pk: &ProvingKey, pre: &Precomputed, w: &[[u64; 4]], threads: usize) -> Result<Proof> {
    let r = super::random::random_scalar()?;
    let s = super::random::random_scalar()?;
    prove_fixed(pk, pre, w, &r, &s, threads)
}

