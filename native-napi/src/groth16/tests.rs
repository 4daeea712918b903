//! Unit tests: field identities, curve group laws, MSM against the naive sum,
//! NTT round trips, and rejection of malformed files.
use super::curve::*;
use super::field::Field;
use super::fq::Fq;
use super::fq2::Fq2;
use super::fr::{root_of_unity, Fr};
use super::msm::{msm, msm_naive};
use super::ntt::{intt, ntt};

/// xorshift64*: deterministic test randomness.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn limbs(&mut self) -> [u64; 4] {
        [self.next(), self.next(), self.next(), self.next() & (u64::MAX >> 3)]
    }
    fn fq(&mut self) -> Fq {
        Fq::from_canonical(self.limbs()).unwrap()
    }
    fn fr(&mut self) -> Fr {
        Fr::from_canonical(self.limbs()).unwrap()
    }
    fn fq2(&mut self) -> Fq2 {
        Fq2::new(self.fq(), self.fq())
    }
}

fn g1_gen() -> G1Affine {
    Affine::new(Fq::from_u64(1), Fq::from_u64(2))
}

fn g2_gen() -> G2Affine {
    let d = |s: &str| {
        let mut v = [0u64; 4];
        for ch in s.bytes() {
            // v = v·10 + digit
            let mut carry = (ch - b'0') as u128;
            for l in v.iter_mut() {
                let t = (*l as u128) * 10 + carry;
                *l = t as u64;
                carry = t >> 64;
            }
        }
        Fq::from_canonical(v).unwrap()
    };
    Affine::new(
        Fq2::new(
            d("10857046999023057135944570762232829481370756359578518086990519993285655852781"),
            d("11559732032986387107991004021392285783925812861821192530917403151452391805634"),
        ),
        Fq2::new(
            d("8495653923123431417604973247489272438418190587263600148770280649306958101930"),
            d("4082367875863433681332203403145435568316851327593401208105741076214120093531"),
        ),
    )
}

fn field_laws<F: Field>(mut rnd: impl FnMut() -> F) {
    for _ in 0..200 {
        let (a, b, c) = (rnd(), rnd(), rnd());
        assert_eq!(a.add(&b), b.add(&a));
        assert_eq!(a.mul(&b), b.mul(&a));
        assert_eq!(a.mul(&b).mul(&c), a.mul(&b.mul(&c)));
        assert_eq!(a.mul(&b.add(&c)), a.mul(&b).add(&a.mul(&c)));
        assert_eq!(a.sub(&b).add(&b), a);
        assert_eq!(a.add(&a.neg()), F::zero());
        assert_eq!(a.square(), a.mul(&a));
        assert_eq!(a.mul(&F::one()), a);
        if !a.is_zero() {
            assert_eq!(a.mul(&a.inv().unwrap()), F::one());
        }
    }
    assert!(F::zero().inv().is_none());
}

#[test]
fn fq_fr_fq2_are_fields() {
    let mut r = Rng(7);
    field_laws(|| r.fq());
    let mut r = Rng(8);
    field_laws(|| r.fr());
    let mut r = Rng(9);
    field_laws(|| r.fq2());
}

#[test]
fn montgomery_round_trip_and_known_values() {
    let mut r = Rng(1);
    for _ in 0..100 {
        let v = r.limbs();
        assert_eq!(Fq::from_canonical(v).unwrap().to_canonical(), v);
    }
    assert!(Fq::from_canonical(Fq::MODULUS).is_none());
    // (p − 1)² = 1 mod p
    let m1 = Fq::one().neg();
    assert_eq!(m1.square(), Fq::one());
    assert_eq!(Fr::from_u64(6).mul(&Fr::from_u64(7)).to_canonical(), [42, 0, 0, 0]);
}

#[test]
fn roots_of_unity_have_their_order() {
    for k in [1u32, 5, 13, 28] {
        let w = root_of_unity(k).unwrap();
        let mut x = w;
        for _ in 0..k - 1 {
            x = x.square();
        }
        assert_eq!(x, Fr::one().neg(), "w[{k}]^(2^(k-1)) = -1");
    }
    assert!(root_of_unity(29).is_none());
}

#[test]
fn ntt_round_trips_and_evaluates() {
    let mut r = Rng(3);
    let coeffs: Vec<Fr> = (0..16).map(|_| r.fr()).collect();
    let mut v = coeffs.clone();
    ntt(&mut v).unwrap();
    let w = root_of_unity(4).unwrap();
    let mut x = Fr::one();
    for e in v.iter() {
        let mut acc = Fr::zero();
        for c in coeffs.iter().rev() {
            acc = acc.mul(&x).add(c);
        }
        assert_eq!(*e, acc);
        x = x.mul(&w);
    }
    intt(&mut v).unwrap();
    assert_eq!(v, coeffs);
    assert!(ntt(&mut vec![Fr::one(); 3]).is_none());
}

fn group_laws<C: CurveParams>(g: Affine<C>) {
    let mut r = Rng(11);
    assert!(g.is_on_curve());
    let gj = g.to_jacobian();
    let p = gj.mul_scalar(&r.limbs());
    let q = gj.mul_scalar(&r.limbs());
    let s = gj.mul_scalar(&r.limbs());
    assert!(p.to_affine().is_on_curve());
    assert!(p.add(&q).eq_point(&q.add(&p)));
    assert!(p.add(&q).add(&s).eq_point(&p.add(&q.add(&s))));
    assert!(p.add(&p).eq_point(&p.double()));
    assert!(p.add(&p.neg()).is_identity());
    assert!(p.add(&Jacobian::identity()).eq_point(&p));
    assert!(p.add_affine(&q.to_affine()).eq_point(&p.add(&q)));
    assert!(p.add_affine(&p.to_affine()).eq_point(&p.double()));
    assert!(p.add_affine(&p.to_affine().neg()).is_identity());
    // 2·3·G = 6·G and r·G = O.
    assert!(gj.mul_scalar(&[3, 0, 0, 0]).double().eq_point(&gj.mul_scalar(&[6, 0, 0, 0])));
    assert!(gj.mul_scalar(&Fr::MODULUS).is_identity());
}

#[test]
fn g1_and_g2_group_laws() {
    group_laws(g1_gen());
    group_laws(g2_gen());
}

#[test]
fn msm_matches_naive() {
    let mut r = Rng(5);
    for n in [0usize, 1, 2, 7, 40, 100] {
        let g = g1_gen().to_jacobian();
        let bases: Vec<G1Affine> = (0..n).map(|_| g.mul_scalar(&r.limbs()).to_affine()).collect();
        let mut scalars: Vec<[u64; 4]> = (0..n).map(|_| r.limbs()).collect();
        if n > 3 {
            scalars[1] = [0; 4];
            scalars[2] = [1, 0, 0, 0];
        }
        let want = msm_naive(&bases, &scalars);
        for threads in [1, 2, 3] {
            assert!(msm(&bases, &scalars, threads).eq_point(&want), "n={n} threads={threads}");
        }
        let g2 = g2_gen().to_jacobian();
        let bases2: Vec<G2Affine> = (0..n.min(20)).map(|_| g2.mul_scalar(&r.limbs()).to_affine()).collect();
        assert!(msm(&bases2, &scalars, 2).eq_point(&msm_naive(&bases2, &scalars)));
    }
}

/// With G16_ZKEY and G16_WTNS set, proves and prints snarkjs's JSON (a development aid;
/// the TypeScript tests verify native proofs with snarkjs).
#[test]
fn msm_batched_affine_handles_equal_and_opposite_points() {
    let mut r = Rng(17);
    let g = g1_gen().to_jacobian();
    let few: Vec<G1Affine> = (0..5).map(|_| g.mul_scalar(&r.limbs()).to_affine()).collect();
    // 900 bases drawn from 5 points and their negatives: many doublings and cancellations.
    let bases: Vec<G1Affine> = (0..900).map(|i| if i % 3 == 0 { few[i % 5].neg() } else { few[i % 5] }).collect();
    for small in [false, true] {
        let scalars: Vec<[u64; 4]> = (0..900).map(|i| if small { [(i % 4) as u64, 0, 0, 0] } else { r.limbs() }).collect();
        let want = msm_naive(&bases, &scalars);
        assert!(msm(&bases, &scalars, 2).eq_point(&want), "small={small}");
    }
    let g2 = g2_gen().to_jacobian();
    let bases2: Vec<G2Affine> = (0..300).map(|_| g2.mul_scalar(&r.limbs()).to_affine()).collect();
    let scalars: Vec<[u64; 4]> = (0..300).map(|_| r.limbs()).collect();
    assert!(msm(&bases2, &scalars, 1).eq_point(&msm_naive(&bases2, &scalars)));
}

#[test]
fn fixed_base_msm_matches_naive() {
    use super::msm::{choose_fixed, FixedBase};
    let mut r = Rng(19);
    let g = g1_gen().to_jacobian();
    let mut bases: Vec<G1Affine> = (0..150).map(|_| g.mul_scalar(&r.limbs()).to_affine()).collect();
    bases[7] = Affine::identity();
    let scalars: Vec<[u64; 4]> = (0..150).map(|i| if i % 9 == 0 { [0; 4] } else { Fr::from_canonical(r.limbs()).unwrap().to_canonical() }).collect();
    let want = msm_naive(&bases, &scalars);
    for (c, k) in [(4, 1), (5, 3), (8, 2), (11, 1), (6, 43)] {
        let t = FixedBase::build(&bases, c, k, 2);
        assert!(t.msm(&scalars, 1).eq_point(&want), "c={c} k={k}");
        assert!(t.msm(&scalars, 3).eq_point(&want), "c={c} k={k} threads=3");
    }
    let g2 = g2_gen().to_jacobian();
    let bases2: Vec<G2Affine> = (0..70).map(|_| g2.mul_scalar(&r.limbs()).to_affine()).collect();
    let t = FixedBase::build(&bases2, 7, 2, 2);
    assert!(t.msm(&scalars, 2).eq_point(&msm_naive(&bases2, &scalars[..70])));
    // The budget bounds the table; no budget, no table.
    assert!(choose_fixed(5000, 72, 0).is_none());
    if let Some((c, k)) = choose_fixed(5000, 72, 8 << 20) {
        assert!(5000 * 254usize.div_ceil(c).div_ceil(k) * 72 <= 8 << 20);
    }
}

#[test]
fn proofs_with_tables_equal_proofs_without() {
    let Some(z) = kp_zkey() else { return };
    let pk = super::zkey::parse_zkey(&z).unwrap();
    let mut r = Rng(23);
    let w: Vec<[u64; 4]> = (0..pk.n_vars).map(|i| if i == 0 { [1, 0, 0, 0] } else { Fr::from_canonical(r.limbs()).unwrap().to_canonical() }).collect();
    let (rr, ss) = ([5u64, 6, 7, 8], [9u64, 10, 11, 12]);
    let plain = super::prover::prove_with(&pk, &w, &rr, &ss, 2).unwrap();
    let pre = super::prover::Precomputed::build(&pk, 64 << 20, 2);
    assert!(pre.bytes() > 0 && pre.bytes() <= 64 << 20);
    let fixed = super::prover::prove_fixed(&pk, &pre, &w, &rr, &ss, 2).unwrap();
    assert!(plain.a.to_jacobian().eq_point(&fixed.a.to_jacobian()));
    assert!(plain.b.to_jacobian().eq_point(&fixed.b.to_jacobian()));
    assert!(plain.c.to_jacobian().eq_point(&fixed.c.to_jacobian()));
}

#[test]
fn prove_from_env_files() {
    let (Ok(z), Ok(w)) = (std::env::var("G16_ZKEY"), std::env::var("G16_WTNS")) else { return };
    let pk = super::zkey::parse_zkey(&std::fs::read(z).unwrap()).unwrap();
    let wit = super::wtns::parse_wtns(&std::fs::read(w).unwrap()).unwrap();
    let t = std::time::Instant::now();
    let p = super::prover::prove(&pk, &Default::default(), &wit, 2).unwrap();
    eprintln!("prove: {:?}", t.elapsed());
    let json = super::json::proof_json(&p.a, &p.b, &p.c, &p.public);
    std::fs::write(std::env::var("G16_OUT").unwrap_or("/tmp/g16/out.json".into()), json).unwrap();
}

fn kp_zkey() -> Option<Vec<u8>> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../circuits/build/key_possession/key_possession.zkey")).ok()
}

#[test]
fn binfile_rejects_bad_headers() {
    use super::error::Groth16Error;
    use super::wtns::parse_wtns;
    use super::zkey::parse_zkey;
    for bytes in [&b""[..], b"zk", b"zkey", b"wtns\x02\x00\x00\x00", b"zkey\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"] {
        assert!(matches!(parse_zkey(bytes), Err(Groth16Error::Zkey(_))), "{bytes:?}");
        assert!(matches!(parse_wtns(bytes), Err(Groth16Error::Wtns(_))), "{bytes:?}");
    }
    // Version 9 and an absurd section count.
    assert!(parse_zkey(b"zkey\x09\x00\x00\x00\x00\x00\x00\x00").is_err());
    assert!(parse_wtns(b"wtns\x02\x00\x00\x00\xff\xff\x00\x00").is_err());
}

#[test]
fn zkey_truncations_and_corruptions_are_errors_not_panics() {
    let Some(z) = kp_zkey() else { return };
    let pk = super::zkey::parse_zkey(&z).expect("the built zkey parses");
    assert_eq!(pk.n_public, 3);
    let mut cut = 0;
    while cut < z.len() {
        assert!(super::zkey::parse_zkey(&z[..cut]).is_err(), "cut at {cut}");
        cut += 997;
    }
    // A coordinate pushed off the curve (alpha_1's x, in section 2 after 84 bytes of sizes).
    let mut r = Rng(21);
    let mut bad_points = 0;
    for _ in 0..200 {
        let mut b = z.clone();
        let at = 12 + (r.next() as usize) % (b.len() - 12);
        b[at] ^= 1 << (r.next() % 8);
        if let Err(e) = super::zkey::parse_zkey(&b) {
            assert_eq!(e.code(), "ZKEY_MALFORMED");
            if e.message().contains("not on the curve") || e.message().contains("not below") {
                bad_points += 1;
            }
        }
    }
    assert!(bad_points > 0, "bit flips in point data are caught");
}

#[test]
fn mismatched_witness_is_an_error() {
    let Some(z) = kp_zkey() else { return };
    let pk = super::zkey::parse_zkey(&z).unwrap();
    let w = vec![[1u64, 0, 0, 0]; pk.n_vars - 1];
    assert_eq!(super::prover::prove(&pk, &Default::default(), &w, 1).err().map(|e| e.code()), Some("WTNS_MISMATCH"));
    let mut w = vec![[0u64; 4]; pk.n_vars];
    assert_eq!(super::prover::prove(&pk, &Default::default(), &w, 1).err().map(|e| e.code()), Some("WTNS_MISMATCH"));
    // Any witness (even one that breaks the constraints) yields points, never a panic.
    w[0] = [1, 0, 0, 0];
    assert!(super::prover::prove(&pk, &Default::default(), &w, 2).is_ok());
}

/// With G16_ZKEY and G16_WTNS set: thread CPU time per phase (development aid).
#[test]
fn phase_cpu_times() {
    let (Ok(z), Ok(w)) = (std::env::var("G16_ZKEY"), std::env::var("G16_WTNS")) else { return };
    fn cpu() -> f64 {
        let mut ts = crate::sys::timespec { tv_sec: 0, tv_nsec: 0 };
        unsafe { crate::sys::clock_gettime(3, &mut ts) };
        ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
    }
    let pk = super::zkey::parse_zkey(&std::fs::read(z).unwrap()).unwrap();
    let wit = super::wtns::parse_wtns(&std::fs::read(w).unwrap()).unwrap();
    let t = cpu();
    let h = super::prover::h_scalars(&pk, &wit).unwrap();
    eprintln!("h {:.1} ms (own thread only)", cpu() - t);
    let t = cpu();
    let _ = msm(&pk.a, &wit, 1);
    eprintln!("A {:.1} ms", cpu() - t);
    let t = cpu();
    let _ = msm(&pk.b2, &wit, 1);
    eprintln!("B2 {:.1} ms", cpu() - t);
    let t = cpu();
    let _ = msm(&pk.h, &h, 1);
    eprintln!("H {:.1} ms", cpu() - t);
    let t = cpu();
    let mut x = Fq::from_u64(3);
    let mut y = Fq::from_u64(5);
    for _ in 0..1_000_000 {
        x = x.mul(&y);
        y = y.add(&x);
    }
    eprintln!("1M fq mul+add {:.1} ms {:?}", cpu() - t, x.0[0]);
    let t = cpu();
    for _ in 0..1000 {
        x = x.inv().unwrap();
    }
    eprintln!("1k fq inv {:.1} ms {:?}", cpu() - t, x.0[0]);
}
