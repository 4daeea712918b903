//! Radix-2 number-theoretic transform over Fr, natural order in and out, on the
//! domain of ffjavascript's 2^k-th roots of unity (fr::root_of_unity): the same
//! fft/ifft snarkjs's prover runs.
use super::field::Field;
use super::fr::{root_of_unity, Fr};

fn bit_reverse(a: &mut [Fr]) {
    let n = a.len();
    let bits = n.trailing_zeros();
    if bits == 0 {
        return;
    }
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if i < j {
            a.swap(i, j);
        }
    }
}

/// In place: a[i] ← Σ_j a[j]·ω^(ij), ω a primitive len-th root of unity.
fn transform(a: &mut [Fr], omega: Fr) {
    let n = a.len();
    bit_reverse(a);
    let mut len = 2;
    while len <= n {
        // ω_len = ω^(n/len); the stage's twiddles are its powers.
        let mut w_len = omega;
        let mut m = n;
        while m > len {
            w_len = w_len.square();
            m >>= 1;
        }
        let half = len / 2;
        let mut tw = Vec::with_capacity(half);
        let mut w = Fr::one();
        for _ in 0..half {
            tw.push(w);
            w = w.mul(&w_len);
        }
        for chunk in a.chunks_mut(len) {
            let (lo, hi) = chunk.split_at_mut(half);
            for k in 0..half {
                let t = hi[k].mul(&tw[k]);
                hi[k] = lo[k].sub(&t);
                lo[k] = lo[k].add(&t);
            }
        }
        len <<= 1;
    }
}

/// The NTT of a power-of-two-length slice (None for other lengths or beyond 2^28).
pub fn ntt(a: &mut [Fr]) -> Option<()> {
    let n = a.len();
    if !n.is_power_of_two() {
        return None;
    }
    let omega = root_of_unity(n.trailing_zeros())?;
    transform(a, omega);
    Some(())
}

/// The inverse NTT (including the 1/n factor).
pub fn intt(a: &mut [Fr]) -> Option<()> {
    let n = a.len();
    if !n.is_power_of_two() {
        return None;
    }
    let omega = root_of_unity(n.trailing_zeros())?.inv()?;
    transform(a, omega);
    let n_inv = Fr::from_u64(n as u64).inv()?;
    for x in a.iter_mut() {
        *x = x.mul(&n_inv);
    }
    Some(())
}
