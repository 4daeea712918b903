//! Short Weierstrass curves y² = x³ + b (a = 0) in Jacobian coordinates
//! (x = X/Z², y = Y/Z³, infinity ⇔ Z = 0), generic over the coordinate field so
//! G1 (over Fq) and G2 (over Fq2) share one implementation. Formulas are the
//! a = 0 ones from the Explicit-Formulas Database: dbl-2009-l, add-2007-bl and
//! madd-2007-bl (mixed: the second point affine, which is what the bases are).
use super::field::Field;
use super::fq::Fq;
use super::fq2::Fq2;
use std::sync::OnceLock;

pub trait CurveParams: Copy + Send + Sync + 'static {
    type F: Field;
    fn b() -> Self::F;
}

#[derive(Copy, Clone, Debug)]
pub struct G1Params;
#[derive(Copy, Clone, Debug)]
pub struct G2Params;

impl CurveParams for G1Params {
    type F = Fq;
    fn b() -> Fq {
        Fq::from_u64(3)
    }
}

impl CurveParams for G2Params {
    type F = Fq2;
    /// The twist's b' = 3/(9 + u).
    fn b() -> Fq2 {
        static B: OnceLock<Fq2> = OnceLock::new();
        *B.get_or_init(|| {
            let xi = Fq2::new(Fq::from_u64(9), Fq::from_u64(1));
            Fq2::new(Fq::from_u64(3), Fq::zero()).mul(&xi.inv().unwrap_or_default())
        })
    }
}

/// An affine point; `infinity` marks the identity (snarkjs writes it as all-zero bytes).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Affine<C: CurveParams> {
    pub x: C::F,
    pub y: C::F,
    pub infinity: bool,
}

#[derive(Copy, Clone, Debug)]
pub struct Jacobian<C: CurveParams> {
    pub x: C::F,
    pub y: C::F,
    pub z: C::F,
}

pub type G1Affine = Affine<G1Params>;
pub type G2Affine = Affine<G2Params>;
pub type G1 = Jacobian<G1Params>;
pub type G2 = Jacobian<G2Params>;

impl<C: CurveParams> Affine<C> {
    pub fn identity() -> Self {
        Affine { x: C::F::zero(), y: C::F::zero(), infinity: true }
    }
    pub fn new(x: C::F, y: C::F) -> Self {
        Affine { x, y, infinity: false }
    }
    pub fn is_on_curve(&self) -> bool {
        self.infinity || self.y.square() == self.x.square().mul(&self.x).add(&C::b())
    }
    pub fn to_jacobian(&self) -> Jacobian<C> {
        if self.infinity {
            Jacobian::identity()
        } else {
            Jacobian { x: self.x, y: self.y, z: C::F::one() }
        }
    }
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn neg(&self) -> Self {
        Affine { x: self.x, y: self.y.neg(), infinity: self.infinity }
    }
}

impl<C: CurveParams> Jacobian<C> {
    pub fn identity() -> Self {
        Jacobian { x: C::F::one(), y: C::F::one(), z: C::F::zero() }
    }

    #[inline(always)]
    pub fn is_identity(&self) -> bool {
        self.z.is_zero()
    }

    pub fn to_affine(&self) -> Affine<C> {
        match self.z.inv() {
            None => Affine::identity(),
            Some(zi) => {
                let zi2 = zi.square();
                Affine::new(self.x.mul(&zi2), self.y.mul(&zi2).mul(&zi))
            }
        }
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub fn neg(&self) -> Self {
        Jacobian { x: self.x, y: self.y.neg(), z: self.z }
    }

    #[cfg_attr(not(test), allow(dead_code))]
    /// Equality as group elements (cross-multiplied, no inversion).
    pub fn eq_point(&self, o: &Self) -> bool {
        match (self.is_identity(), o.is_identity()) {
            (true, true) => return true,
            (true, false) | (false, true) => return false,
            _ => {}
        }
        let z1z1 = self.z.square();
        let z2z2 = o.z.square();
        self.x.mul(&z2z2) == o.x.mul(&z1z1) && self.y.mul(&z2z2).mul(&o.z) == o.y.mul(&z1z1).mul(&self.z)
    }

    /// dbl-2009-l.
    #[inline]
    pub fn double(&self) -> Self {
        if self.is_identity() {
            return *self;
        }
        let a = self.x.square();
        let b = self.y.square();
        let c = b.square();
        let d = self.x.add(&b).square().sub(&a).sub(&c).double();
        let e = a.double().add(&a);
        let f = e.square();
        let x3 = f.sub(&d.double());
        let y3 = e.mul(&d.sub(&x3)).sub(&c.double().double().double());
        let z3 = self.y.mul(&self.z).double();
        Jacobian { x: x3, y: y3, z: z3 }
    }

    /// add-2007-bl, with the doubling and inverse cases handled.
    pub fn add(&self, o: &Self) -> Self {
        if self.is_identity() {
            return *o;
        }
        if o.is_identity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = o.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = o.x.mul(&z1z1);
        let s1 = self.y.mul(&o.z).mul(&z2z2);
        let s2 = o.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r = s2.sub(&s1).double();
        if h.is_zero() {
            return if r.is_zero() { self.double() } else { Self::identity() };
        }
        let i = h.double().square();
        let j = h.mul(&i);
        let v = u1.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&s1.mul(&j).double());
        let z3 = self.z.add(&o.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
        Jacobian { x: x3, y: y3, z: z3 }
    }

    /// madd-2007-bl: self + an affine point.
    #[inline]
    pub fn add_affine(&self, o: &Affine<C>) -> Self {
        if o.infinity {
            return *self;
        }
        if self.is_identity() {
            return o.to_jacobian();
        }
        let z1z1 = self.z.square();
        let u2 = o.x.mul(&z1z1);
        let s2 = o.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y).double();
        if h.is_zero() {
            return if r.is_zero() { self.double() } else { Self::identity() };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&j).double());
        let z3 = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        Jacobian { x: x3, y: y3, z: z3 }
    }

    /// k·P for a plain little-endian scalar (double-and-add; used a handful of times per proof).
    pub fn mul_scalar(&self, k: &[u64; 4]) -> Self {
        let mut acc = Self::identity();
        for i in (0..256).rev() {
            acc = acc.double();
            if (k[i / 64] >> (i % 64)) & 1 == 1 {
                acc = acc.add(self);
            }
        }
        acc
    }
}
