//! Montgomery arithmetic on 4×64-bit limbs (R = 2^256) for BN254's two primes:
//! Fq (the base field of the curve) and Fr (the scalar field). Values are kept in
//! Montgomery form, exactly as snarkjs stores them in a .zkey, so points load by
//! copying limbs.

/// What the curve, NTT and MSM code need from a field.
pub trait Field: Copy + Clone + PartialEq + Eq + Send + Sync + std::fmt::Debug + 'static {
    fn zero() -> Self;
    fn one() -> Self;
    fn is_zero(&self) -> bool;
    fn add(&self, o: &Self) -> Self;
    fn sub(&self, o: &Self) -> Self;
    fn mul(&self, o: &Self) -> Self;
    fn square(&self) -> Self;
    fn neg(&self) -> Self;
    fn double(&self) -> Self {
        self.add(self)
    }
    /// The inverse, or None for zero.
    fn inv(&self) -> Option<Self>;
}

/// a + b + carry → (sum, carry).
#[inline(always)]
pub const fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + b as u128 + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// a − b − borrow → (difference, borrow ∈ {0, 1}).
#[inline(always)]
pub const fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = (a as u128).wrapping_sub(b as u128 + borrow as u128);
    (t as u64, (t >> 127) as u64)
}

/// a + b·c + carry → (low, high); never overflows a u128.
#[inline(always)]
pub const fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + (b as u128) * (c as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// a ≥ b on little-endian limbs.
#[inline(always)]
pub const fn geq(a: &[u64; 4], b: &[u64; 4]) -> bool {
    let mut i = 4;
    while i > 0 {
        i -= 1;
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

#[inline(always)]
pub const fn sub4(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], u64) {
    let (r0, br) = sbb(a[0], b[0], 0);
    let (r1, br) = sbb(a[1], b[1], br);
    let (r2, br) = sbb(a[2], b[2], br);
    let (r3, br) = sbb(a[3], b[3], br);
    ([r0, r1, r2, r3], br)
}

#[inline(always)]
pub const fn add4(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], u64) {
    let (r0, c) = adc(a[0], b[0], 0);
    let (r1, c) = adc(a[1], b[1], c);
    let (r2, c) = adc(a[2], b[2], c);
    let (r3, c) = adc(a[3], b[3], c);
    ([r0, r1, r2, r3], c)
}

/// −m⁻¹ mod 2^64 by Newton's iteration (each step doubles the correct bits).
pub const fn mont_inv(m0: u64) -> u64 {
    let mut inv: u64 = 1;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        i += 1;
    }
    inv.wrapping_neg()
}

/// 2^bits mod m, by doubling (compile time only; m < 2^255).
pub const fn pow2_mod(m: &[u64; 4], bits: u32) -> [u64; 4] {
    let mut r = [1u64, 0, 0, 0];
    let mut i = 0;
    while i < bits {
        let (d, c) = add4(&r, &r);
        r = if c != 0 || geq(&d, m) { sub4(&d, m).0 } else { d };
        i += 1;
    }
    r
}

/// Montgomery product a·b·R⁻¹ mod m: CIOS without the extra carry words, valid
/// because m's top limb is below 2^63 − 1 (true of both BN254 primes), so every
/// intermediate fits four limbs plus the two running carries.
#[inline(always)]
pub fn mont_mul(a: &[u64; 4], b: &[u64; 4], m: &[u64; 4], inv: u64) -> [u64; 4] {
    let mut t = [0u64; 4];
    let mut i = 0;
    while i < 4 {
        let (t0, mut ca) = mac(t[0], a[0], b[i], 0);
        let k = t0.wrapping_mul(inv);
        let (_, mut cm) = mac(t0, k, m[0], 0);
        let mut j = 1;
        while j < 4 {
            let (tj, c1) = mac(t[j], a[j], b[i], ca);
            ca = c1;
            let (tj, c2) = mac(tj, k, m[j], cm);
            cm = c2;
            t[j - 1] = tj;
            j += 1;
        }
        t[3] = cm.wrapping_add(ca);
        i += 1;
    }
    if geq(&t, m) {
        sub4(&t, m).0
    } else {
        t
    }
}

#[inline(always)]
fn shr1(v: &mut [u64; 4], top: u64) {
    v[0] = (v[0] >> 1) | (v[1] << 63);
    v[1] = (v[1] >> 1) | (v[2] << 63);
    v[2] = (v[2] >> 1) | (v[3] << 63);
    v[3] = (v[3] >> 1) | (top << 63);
}

/// x/2 mod m for x < m (m odd).
#[inline(always)]
fn half_mod(x: &mut [u64; 4], m: &[u64; 4]) {
    if x[0] & 1 == 0 {
        shr1(x, 0);
    } else {
        let (s, c) = add4(x, m);
        *x = s;
        shr1(x, c);
    }
}

/// a⁻¹ mod m for a plain 0 < a < m, m an odd prime: the binary extended Euclidean
/// algorithm, several times faster than Fermat's a^(m−2) on four limbs.
pub fn inv_binary(a: &[u64; 4], m: &[u64; 4]) -> [u64; 4] {
    const ONE: [u64; 4] = [1, 0, 0, 0];
    let (mut u, mut v) = (*a, *m);
    let (mut x1, mut x2) = (ONE, [0u64; 4]);
    while u != ONE && v != ONE {
        while u[0] & 1 == 0 {
            shr1(&mut u, 0);
            half_mod(&mut x1, m);
        }
        while v[0] & 1 == 0 {
            shr1(&mut v, 0);
            half_mod(&mut x2, m);
        }
        if geq(&u, &v) {
            u = sub4(&u, &v).0;
            let (d, b) = sub4(&x1, &x2);
            x1 = if b != 0 { add4(&d, m).0 } else { d };
        } else {
            v = sub4(&v, &u).0;
            let (d, b) = sub4(&x2, &x1);
            x2 = if b != 0 { add4(&d, m).0 } else { d };
        }
    }
    if u == ONE {
        x1
    } else {
        x2
    }
}

macro_rules! mont_field {
    ($name:ident, $modulus:expr) => {
        #[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
        pub struct $name(pub [u64; 4]);

        impl $name {
            pub const MODULUS: [u64; 4] = $modulus;
            pub const INV: u64 = $crate::groth16::field::mont_inv($modulus[0]);
            /// R mod m: one in Montgomery form.
            pub const R: [u64; 4] = $crate::groth16::field::pow2_mod(&$modulus, 256);
            /// R² mod m: converts into Montgomery form.
            pub const R2: [u64; 4] = $crate::groth16::field::pow2_mod(&$modulus, 512);
            /// R³ mod m: turns the plain inverse of a Montgomery representation back into one.
            pub const R3: [u64; 4] = $crate::groth16::field::pow2_mod(&$modulus, 768);

            /// From a plain integer already reduced below the modulus (None otherwise).
            pub fn from_canonical(v: [u64; 4]) -> Option<Self> {
                if $crate::groth16::field::geq(&v, &Self::MODULUS) {
                    return None;
                }
                Some(Self($crate::groth16::field::mont_mul(&v, &Self::R2, &Self::MODULUS, Self::INV)))
            }
            /// From limbs already in Montgomery form (as a .zkey stores them), if below the modulus.
            pub fn from_mont(v: [u64; 4]) -> Option<Self> {
                if $crate::groth16::field::geq(&v, &Self::MODULUS) {
                    None
                } else {
                    Some(Self(v))
                }
            }
            pub fn from_u64(v: u64) -> Self {
                Self::from_canonical([v, 0, 0, 0]).unwrap_or_default()
            }
            /// The plain integer value.
            pub fn to_canonical(&self) -> [u64; 4] {
                $crate::groth16::field::mont_mul(&self.0, &[1, 0, 0, 0], &Self::MODULUS, Self::INV)
            }
            /// self^e for a plain little-endian exponent.
            #[allow(dead_code)]
            pub fn pow(&self, e: &[u64; 4]) -> Self {
                let mut r = <Self as $crate::groth16::field::Field>::one();
                for i in (0..256).rev() {
                    r = $crate::groth16::field::Field::square(&r);
                    if (e[i / 64] >> (i % 64)) & 1 == 1 {
                        r = $crate::groth16::field::Field::mul(&r, self);
                    }
                }
                r
            }
        }

        impl $crate::groth16::field::Field for $name {
            #[inline(always)]
            fn zero() -> Self {
                Self([0; 4])
            }
            #[inline(always)]
            fn one() -> Self {
                Self(Self::R)
            }
            #[inline(always)]
            fn is_zero(&self) -> bool {
                self.0 == [0; 4]
            }
            #[inline(always)]
            fn add(&self, o: &Self) -> Self {
                // Both below m < 2^255, so the sum fits 256 bits.
                let (s, _) = $crate::groth16::field::add4(&self.0, &o.0);
                if $crate::groth16::field::geq(&s, &Self::MODULUS) {
                    Self($crate::groth16::field::sub4(&s, &Self::MODULUS).0)
                } else {
                    Self(s)
                }
            }
            #[inline(always)]
            fn sub(&self, o: &Self) -> Self {
                let (d, borrow) = $crate::groth16::field::sub4(&self.0, &o.0);
                if borrow != 0 {
                    Self($crate::groth16::field::add4(&d, &Self::MODULUS).0)
                } else {
                    Self(d)
                }
            }
            #[inline(always)]
            fn mul(&self, o: &Self) -> Self {
                Self($crate::groth16::field::mont_mul(&self.0, &o.0, &Self::MODULUS, Self::INV))
            }
            #[inline(always)]
            fn square(&self) -> Self {
                self.mul(self)
            }
            #[inline(always)]
            fn neg(&self) -> Self {
                if self.is_zero() {
                    *self
                } else {
                    Self($crate::groth16::field::sub4(&Self::MODULUS, &self.0).0)
                }
            }
            fn inv(&self) -> Option<Self> {
                if self.is_zero() {
                    return None;
                }
                // self holds aR; its plain inverse is a⁻¹R⁻¹, and one product with R³ gives a⁻¹R.
                let i = $crate::groth16::field::inv_binary(&self.0, &Self::MODULUS);
                Some(Self($crate::groth16::field::mont_mul(&i, &Self::R3, &Self::MODULUS, Self::INV)))
            }
        }
    };
}
pub(crate) use mont_field;
