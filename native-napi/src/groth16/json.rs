//! The proof and public signals as snarkjs prints them: decimal strings, affine
//! points with a projective "1" coordinate ("1", "0" for G2), protocol and curve.
use super::curve::{G1Affine, G2Affine};
use super::fq::Fq;

/// A plain 256-bit integer in decimal.
pub fn decimal(v: &[u64; 4]) -> String {
    let mut limbs = *v;
    let mut chunks = Vec::new();
    const TEN19: u128 = 10_000_000_000_000_000_000;
    loop {
        let mut rem: u128 = 0;
        for i in (0..4).rev() {
            let cur = (rem << 64) | limbs[i] as u128;
            limbs[i] = (cur / TEN19) as u64;
            rem = cur % TEN19;
        }
        chunks.push(rem as u64);
        if limbs == [0; 4] {
            break;
        }
    }
    let mut s = chunks.last().map(|c| c.to_string()).unwrap_or_default();
    for c in chunks.iter().rev().skip(1) {
        s.push_str(&format!("{c:019}"));
    }
    s
}

fn fq(v: &Fq) -> String {
    format!("\"{}\"", decimal(&v.to_canonical()))
}

fn g1(p: &G1Affine) -> String {
    if p.infinity {
        return "[\"0\",\"1\",\"0\"]".into();
    }
    format!("[{},{},\"1\"]", fq(&p.x), fq(&p.y))
}

fn g2(p: &G2Affine) -> String {
    if p.infinity {
        return "[[\"0\",\"0\"],[\"1\",\"0\"],[\"0\",\"0\"]]".into();
    }
    format!("[[{},{}],[{},{}],[\"1\",\"0\"]]", fq(&p.x.c0), fq(&p.x.c1), fq(&p.y.c0), fq(&p.y.c1))
}

/// {"proof":{pi_a, pi_b, pi_c, protocol, curve},"publicSignals":[...]}
pub fn proof_json(a: &G1Affine, b: &G2Affine, c: &G1Affine, public: &[[u64; 4]]) -> String {
    let signals: Vec<String> = public.iter().map(|v| format!("\"{}\"", decimal(v))).collect();
    format!(
        "{{\"proof\":{{\"pi_a\":{},\"pi_b\":{},\"pi_c\":{},\"protocol\":\"groth16\",\"curve\":\"bn128\"}},\"publicSignals\":[{}]}}",
        g1(a),
        g2(b),
        g1(c),
        signals.join(",")
    )
}
