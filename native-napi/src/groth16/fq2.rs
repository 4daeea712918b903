//! Fq2 = Fq[u]/(u² + 1), the field G2's coordinates live in. snarkjs stores an
//! element as c0 then c1, each 32 bytes.
use super::field::Field;
use super::fq::Fq;

#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
pub struct Fq2 {
    pub c0: Fq,
    pub c1: Fq,
}

impl Fq2 {
    pub const fn new(c0: Fq, c1: Fq) -> Self {
        Fq2 { c0, c1 }
    }
}

impl Field for Fq2 {
    #[inline(always)]
    fn zero() -> Self {
        Fq2::new(Fq::zero(), Fq::zero())
    }
    #[inline(always)]
    fn one() -> Self {
        Fq2::new(Fq::one(), Fq::zero())
    }
    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.c0.is_zero() && self.c1.is_zero()
    }
    #[inline(always)]
    fn add(&self, o: &Self) -> Self {
        Fq2::new(self.c0.add(&o.c0), self.c1.add(&o.c1))
    }
    #[inline(always)]
    fn sub(&self, o: &Self) -> Self {
        Fq2::new(self.c0.sub(&o.c0), self.c1.sub(&o.c1))
    }
    #[inline(always)]
    fn mul(&self, o: &Self) -> Self {
        // Karatsuba: three Fq products instead of four.
        let aa = self.c0.mul(&o.c0);
        let bb = self.c1.mul(&o.c1);
        let cross = self.c0.add(&self.c1).mul(&o.c0.add(&o.c1));
        Fq2::new(aa.sub(&bb), cross.sub(&aa).sub(&bb))
    }
    #[inline(always)]
    fn square(&self) -> Self {
        // (a + bu)² = (a + b)(a − b) + 2ab·u
        let ab = self.c0.mul(&self.c1);
        Fq2::new(self.c0.add(&self.c1).mul(&self.c0.sub(&self.c1)), ab.double())
    }
    #[inline(always)]
    fn neg(&self) -> Self {
        Fq2::new(self.c0.neg(), self.c1.neg())
    }
    fn inv(&self) -> Option<Self> {
        // 1/(a + bu) = (a − bu)/(a² + b²)
        let norm = self.c0.square().add(&self.c1.square());
        let n = norm.inv()?;
        Some(Fq2::new(self.c0.mul(&n), self.c1.neg().mul(&n)))
    }
}
