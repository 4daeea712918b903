//! Fr: BN254's scalar field, r = 21888242871839275222246405745257275088548364400416034343698204186575808495617,
//! and its roots of unity chosen exactly as ffjavascript chooses them (so the NTT
//! domain matches the one a snarkjs .zkey was set up on).
use super::field::{mont_field, sub4, Field};

mont_field!(Fr, [0x43e1f593f0000001, 0x2833e84879b97091, 0xb85045b68181585d, 0x30644e72e131a029]);

/// 2-adicity of r − 1.
pub const TWO_ADICITY: u32 = 28;

fn shr(v: &[u64; 4], n: u32) -> [u64; 4] {
    let mut r = *v;
    for _ in 0..n {
        for i in 0..4 {
            let hi = if i < 3 { r[i + 1] << 63 } else { 0 };
            r[i] = (r[i] >> 1) | hi;
        }
    }
    r
}

/// ffjavascript's nqr: the smallest quadratic non-residue from 2 up (Euler's criterion).
pub fn nqr() -> Fr {
    let half = shr(&Fr::MODULUS, 1);
    let minus_one = Fr::one().neg();
    let mut q = Fr::from_u64(2);
    while q.pow(&half) != minus_one {
        q = q.add(&Fr::one());
    }
    q
}

/// w[k]: ffjavascript's primitive 2^k-th root of unity, w[28] = nqr^t with r − 1 = 2^28·t,
/// and w[k] = w[k+1]².
pub fn root_of_unity(k: u32) -> Option<Fr> {
    if k > TWO_ADICITY {
        return None;
    }
    let t = shr(&sub4(&Fr::MODULUS, &[1, 0, 0, 0]).0, TWO_ADICITY);
    let mut w = nqr().pow(&t);
    for _ in k..TWO_ADICITY {
        w = w.square();
    }
    Some(w)
}
