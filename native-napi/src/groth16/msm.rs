//! Multi-scalar multiplication Σ kᵢ·Pᵢ by Pippenger's bucket method over affine
//! bases, with affine buckets filled by batched affine additions (one inversion per
//! round of additions). The c-bit windows are dealt
//! round-robin to std::thread workers, each returning its window sums, which the
//! caller combines from the top window down.
use super::curve::{Affine, CurveParams, Jacobian};
use super::field::Field;

/// The window width minimising the modelled cost (in field products) of `bits`-bit scalars
/// over n points: per window, n affine additions (~6), 2^c buckets reduced (~27), and one
/// inversion (~150) per round, with about n/2^c + 2 rounds.
pub fn window_bits(n: usize, bits: usize) -> usize {
    let cost = |c: usize| bits.div_ceil(c) * (6 * n + 27 * (1usize << c) + 150 * (n / (1usize << c) + 2));
    (2..=16).min_by_key(|&c| cost(c)).unwrap_or(8)
}

#[inline(always)]
fn digit(k: &[u64; 4], offset: usize, c: usize) -> usize {
    let limb = offset / 64;
    let shift = offset % 64;
    if limb >= 4 {
        return 0;
    }
    let mut v = k[limb] >> shift;
    if shift + c > 64 && limb + 1 < 4 {
        v |= k[limb + 1] << (64 - shift);
    }
    (v as usize) & ((1usize << c) - 1)
}

fn bit_length(k: &[u64; 4]) -> usize {
    for i in (0..4).rev() {
        if k[i] != 0 {
            return i * 64 + 64 - k[i].leading_zeros() as usize;
        }
    }
    0
}

/// Below this many pending additions a round is not worth its field inversion: the rest go
/// into Jacobian buckets by mixed addition.
const MIN_BATCH: usize = 64;

/// Per-thread scratch, reused across windows.
pub struct Scratch<C: CurveParams> {
    affine: Vec<Affine<C>>,
    jacobian: Vec<Jacobian<C>>,
    busy: Vec<bool>,
    pending: Vec<(u32, u32)>,
    next: Vec<(u32, u32)>,
    batch: Vec<(u32, u32)>,
    num: Vec<C::F>,
    den: Vec<C::F>,
    prefix: Vec<C::F>,
}

impl<C: CurveParams> Scratch<C> {
    pub fn new(buckets: usize) -> Self {
        Scratch {
            affine: vec![Affine::identity(); buckets],
            jacobian: vec![Jacobian::identity(); buckets],
            busy: vec![false; buckets],
            pending: Vec::new(),
            next: Vec::new(),
            batch: Vec::new(),
            num: Vec::new(),
            den: Vec::new(),
            prefix: Vec::new(),
        }
    }
}

/// d_i ← 1/d_i for all i with one inversion (Montgomery's trick); none of them may be zero.
fn batch_invert<F: Field>(d: &mut [F], prefix: &mut Vec<F>) {
    prefix.clear();
    let mut acc = F::one();
    for x in d.iter() {
        prefix.push(acc);
        acc = acc.mul(x);
    }
    let mut inv = acc.inv().unwrap_or_else(F::zero);
    for i in (0..d.len()).rev() {
        let next = inv.mul(&d[i]);
        d[i] = inv.mul(&prefix[i]);
        inv = next;
    }
}

/// One window's sum Σ dᵢ·Pᵢ, dᵢ the c-bit digit of kᵢ at `offset`. Buckets are affine and
/// filled in rounds: each round adds at most one point per bucket, all with one shared
/// inversion (an affine addition then costs about 6 products against 11 for a mixed one).
fn window_sum<C: CurveParams>(bases: &[Affine<C>], scalars: &[[u64; 4]], offset: usize, c: usize, s: &mut Scratch<C>) -> Jacobian<C> {
    s.pending.clear();
    for (i, (p, k)) in bases.iter().zip(scalars).enumerate() {
        let d = digit(k, offset, c);
        if d != 0 && !p.infinity {
            s.pending.push(((d - 1) as u32, i as u32));
        }
    }
    accumulate(bases, s)
}

/// Adds each pending (bucket, point index) into its bucket and returns Σ (j+1)·bucket[j].
fn accumulate<C: CurveParams>(bases: &[Affine<C>], s: &mut Scratch<C>) -> Jacobian<C> {
    for b in s.affine.iter_mut() {
        *b = Affine::identity();
    }
    for b in s.jacobian.iter_mut() {
        *b = Jacobian::identity();
    }
    while s.pending.len() >= MIN_BATCH {
        s.next.clear();
        s.batch.clear();
        s.num.clear();
        s.den.clear();
        for &(b, i) in s.pending.iter() {
            let (bu, p) = (b as usize, &bases[i as usize]);
            let acc = s.affine[bu];
            if acc.infinity {
                if s.busy[bu] {
                    s.next.push((b, i));
                } else {
                    s.affine[bu] = *p;
                    s.busy[bu] = true;
                }
                continue;
            }
            if s.busy[bu] {
                s.next.push((b, i));
                continue;
            }
            let dx = p.x.sub(&acc.x);
            if dx.is_zero() {
                if p.y == acc.y {
                    // Doubling: λ = 3x²/2y.
                    let xx = acc.x.square();
                    s.num.push(xx.double().add(&xx));
                    s.den.push(acc.y.double());
                } else {
                    // P + (−P): the bucket empties.
                    s.affine[bu] = Affine::identity();
                    s.busy[bu] = true;
                    continue;
                }
            } else {
                s.num.push(p.y.sub(&acc.y));
                s.den.push(dx);
            }
            s.busy[bu] = true;
            s.batch.push((b, i));
        }
        batch_invert(&mut s.den, &mut s.prefix);
        for (j, &(b, i)) in s.batch.iter().enumerate() {
            let (bu, p) = (b as usize, &bases[i as usize]);
            let acc = s.affine[bu];
            let l = s.num[j].mul(&s.den[j]);
            let x3 = l.square().sub(&acc.x).sub(&p.x);
            let y3 = l.mul(&acc.x.sub(&x3)).sub(&acc.y);
            s.affine[bu] = Affine::new(x3, y3);
        }
        for &(b, _) in s.pending.iter() {
            s.busy[b as usize] = false;
        }
        std::mem::swap(&mut s.pending, &mut s.next);
    }
    for &(b, i) in s.pending.iter() {
        s.jacobian[b as usize] = s.jacobian[b as usize].add_affine(&bases[i as usize]);
    }
    // Σ j·bucket[j] as a running sum from the top bucket down.
    let mut running = Jacobian::identity();
    let mut total = Jacobian::identity();
    for (a, j) in s.affine.iter().zip(&s.jacobian).rev() {
        running = running.add_affine(a);
        if !j.is_identity() {
            running = running.add(j);
        }
        total = total.add(&running);
    }
    total
}

/// Σ scalars[i]·bases[i] over the shorter of the two slices, on up to `threads` threads.
/// Scalars are plain (not Montgomery) little-endian integers.
pub fn msm<C: CurveParams>(bases: &[Affine<C>], scalars: &[[u64; 4]], threads: usize) -> Jacobian<C> {
    let n = bases.len().min(scalars.len());
    let (bases, scalars) = (&bases[..n], &scalars[..n]);
    let bits = scalars.iter().map(bit_length).max().unwrap_or(0);
    if bits == 0 {
        return Jacobian::identity();
    }
    let c = window_bits(n, bits);
    let windows = bits.div_ceil(c);
    let threads = threads.clamp(1, windows);
    let sums: Vec<Jacobian<C>> = if threads == 1 {
        let mut scratch = Scratch::new((1 << c) - 1);
        (0..windows).map(|w| window_sum(bases, scalars, w * c, c, &mut scratch)).collect()
    } else {
        let mut sums = vec![Jacobian::identity(); windows];
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        let mut scratch = Scratch::new((1 << c) - 1);
                        (t..windows).step_by(threads).map(|w| (w, window_sum(bases, scalars, w * c, c, &mut scratch))).collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                // A worker only panics on a bug; re-raise it on this thread, where the caller catches it.
                let part = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                for (w, p) in part {
                    sums[w] = p;
                }
            }
        });
        sums
    };
    let mut acc = Jacobian::identity();
    for s in sums.iter().rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        acc = acc.add(s);
    }
    acc
}

/// The straightforward Σ kᵢ·Pᵢ, for tests.
#[cfg(test)]
pub fn msm_naive<C: CurveParams>(bases: &[Affine<C>], scalars: &[[u64; 4]]) -> Jacobian<C> {
    bases.iter().zip(scalars).fold(Jacobian::identity(), |acc, (p, k)| acc.add(&p.to_jacobian().mul_scalar(k)))
}

/// Affine forms of Jacobian points with one shared inversion.
pub fn batch_to_affine<C: CurveParams>(points: &[Jacobian<C>]) -> Vec<Affine<C>> {
    let mut zs: Vec<C::F> = points.iter().map(|p| if p.is_identity() { C::F::one() } else { p.z }).collect();
    let mut prefix = Vec::with_capacity(zs.len());
    batch_invert(&mut zs, &mut prefix);
    points
        .iter()
        .zip(&zs)
        .map(|(p, zi)| {
            if p.is_identity() {
                Affine::identity()
            } else {
                let zi2 = zi.square();
                Affine::new(p.x.mul(&zi2), p.y.mul(&zi2).mul(zi))
            }
        })
        .collect()
}

/// Scalars below 2^254 (every Fr element) need this many bits.
const SCALAR_BITS: usize = 254;

/// Fixed-base MSM: the bases never change while the proving key is loaded, so each base
/// Pᵢ is stored with its shifts 2^(c·k·j)·Pᵢ. All stored windows then share one bucket set
/// per pass (k passes, c doublings apart) instead of one per window: the bucket
/// reductions and doublings mostly vanish and the inversion batches grow. Memory is
/// n·⌈W/k⌉ points; k trades it for time.
pub struct FixedBase<C: CurveParams> {
    c: usize,
    k: usize,
    windows: usize,
    stored: usize,
    n: usize,
    table: Vec<Affine<C>>,
}

/// The modelled cost (field products) of the plain MSM at its best window.
fn plain_cost(n: usize) -> usize {
    let c = window_bits(n, SCALAR_BITS);
    SCALAR_BITS.div_ceil(c) * (6 * n + 27 * (1usize << c) + 150 * (n / (1usize << c) + 2))
}

/// The (c, k) of least modelled cost whose table fits `budget` bytes, if it beats the plain MSM.
pub fn choose_fixed(n: usize, point_bytes: usize, budget: usize) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize, usize)> = None;
    // Above 2^12 buckets the bucket arrays leave the caches and the model's counts lie
    // (measured: 64 MB of tables at c up to 16 ran slower than 16 MB at c ≤ 12).
    for c in 4..=12 {
        let w = SCALAR_BITS.div_ceil(c);
        for k in 1..=w {
            let stored = w.div_ceil(k);
            if n.saturating_mul(stored).saturating_mul(point_bytes) > budget {
                continue;
            }
            let per_pass = n * stored;
            let cost = 6 * n * w + k * (27 * (1usize << c) + 150 * (per_pass / (1usize << c) + 2)) + k * c * 9;
            if best.is_none_or(|(b, _, _)| cost < b) {
                best = Some((cost, c, k));
            }
            break; // larger k at this c only costs more
        }
    }
    best.filter(|&(cost, _, _)| cost < plain_cost(n)).map(|(_, c, k)| (c, k))
}

impl<C: CurveParams> FixedBase<C> {
    pub fn build(bases: &[Affine<C>], c: usize, k: usize, threads: usize) -> Self {
        let windows = SCALAR_BITS.div_ceil(c);
        let stored = windows.div_ceil(k);
        let n = bases.len();
        let shifts = |chunk: &[Affine<C>]| -> Vec<Affine<C>> {
            let mut jac = Vec::with_capacity(chunk.len() * stored);
            for p in chunk {
                let mut q = p.to_jacobian();
                for _ in 0..stored {
                    jac.push(q);
                    for _ in 0..c * k {
                        q = q.double();
                    }
                }
            }
            batch_to_affine(&jac)
        };
        let threads = threads.clamp(1, n.max(1));
        let chunk = n.div_ceil(threads).max(1);
        let table = std::thread::scope(|s| {
            let hs: Vec<_> = bases.chunks(chunk).map(|part| s.spawn(move || shifts(part))).collect();
            let mut out = Vec::with_capacity(n * stored);
            for h in hs {
                out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            out
        });
        FixedBase { c, k, windows, stored, n, table }
    }

    pub fn bytes(&self) -> usize {
        self.table.len() * std::mem::size_of::<Affine<C>>()
    }

    fn part(&self, lo: usize, hi: usize, scalars: &[[u64; 4]]) -> Jacobian<C> {
        let (c, k, stored) = (self.c, self.k, self.stored);
        let mut s = Scratch::new((1 << c) - 1);
        let mut acc = Jacobian::identity();
        for t in (0..k).rev() {
            for _ in 0..c {
                acc = acc.double();
            }
            s.pending.clear();
            for (i, sc) in scalars.iter().enumerate().take(hi).skip(lo) {
                for j in 0..stored {
                    let w = j * k + t;
                    if w >= self.windows {
                        break;
                    }
                    let d = digit(sc, w * c, c);
                    let idx = i * stored + j;
                    if d != 0 && !self.table[idx].infinity {
                        s.pending.push(((d - 1) as u32, idx as u32));
                    }
                }
            }
            acc = acc.add(&accumulate(&self.table, &mut s));
        }
        acc
    }

    /// Σ scalars[i]·bases[i] over the first min(n, len) bases; scalars wider than the table
    /// covers (≥ 2^(c·windows)) fall back to nothing: callers pass Fr elements.
    pub fn msm(&self, scalars: &[[u64; 4]], threads: usize) -> Jacobian<C> {
        let n = self.n.min(scalars.len());
        let threads = threads.clamp(1, n.max(1));
        if threads == 1 {
            return self.part(0, n, scalars);
        }
        let chunk = n.div_ceil(threads);
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads).map(|t| s.spawn(move || self.part((t * chunk).min(n), ((t + 1) * chunk).min(n), scalars))).collect();
            hs.into_iter().fold(Jacobian::identity(), |acc, h| acc.add(&h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))))
        })
    }
}
