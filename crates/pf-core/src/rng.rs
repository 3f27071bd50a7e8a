//! A fast stream of standard normal `f32` draws for CPU hot loops (Langevin noise).
//!
//! libtorch's CPU `normal_` draws its uniforms one by one from a single Mersenne Twister
//! (≈ 2.5 ns a number, serial), which dominates a fused Langevin step on 10⁴ particles. This
//! stream runs [`LANES`] independent xoshiro128++ generators side by side (structure of arrays,
//! so the loop vectorises) and turns each pair of 32-bit words into two normals by the
//! Box–Muller transform:
//!   u₁ = (k + 1) 2⁻²⁴ ∈ (0, 1] from the top 24 bits of one word, r = √(−2 ln u₁);
//!   the other word gives a quadrant q (2 bits) and f ∈ [−½, ½) (24 bits), θ = (q + f) π/2;
//!   z₀ = r cos θ, z₁ = r sin θ.
//! ln and sin/cos are [`crate::fastmath`]'s polynomials (errors ≤ 3e-7), so the draws are exact
//! normals up to float rounding; the smallest u₁ = 2⁻²⁴ caps |z| at √(2 · 24 ln 2) ≈ 5.77 (the
//! tail beyond has probability 8e-9, below what a 24-bit uniform can resolve).
//!
//! **Seeding follows libtorch's generator**: [`GaussianStream::from_torch`] draws its 128-bit
//! seed with `Tensor::randint`, so `tch::manual_seed` fixes the whole stream and runs stay
//! reproducible (same numbers for the same seed on the same CPU family; the SIMD width chosen at
//! run time does not change the numbers, only how fast they come).

use std::sync::{Mutex, MutexGuard};
use tch::{Device, Kind, Tensor};

/// Independent generator lanes (one SIMD register of u32 on AVX-512).
pub const LANES: usize = 16;

/// See the module docs.
#[derive(Clone, Debug)]
pub struct GaussianStream {
    s: [[u32; LANES]; 4],
}

/// SplitMix64, to expand a seed into the lanes' states.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl GaussianStream {
    /// A stream seeded by two 64-bit words (expanded by SplitMix64; lanes are never all-zero).
    pub fn new(seed: u64, seed2: u64) -> Self {
        let mut st = seed ^ seed2.rotate_left(32) ^ 0x6a09_e667_f3bc_c908;
        let words: [[u32; 4]; LANES] = std::array::from_fn(|_| {
            let a = splitmix(&mut st);
            let b = splitmix(&mut st);
            [a as u32, (a >> 32) as u32, b as u32, ((b >> 32) as u32) | 1]
        });
        let s = std::array::from_fn(|k| std::array::from_fn(|lane| words[lane][k]));
        Self { s }
    }

    /// A stream seeded from libtorch's default CPU generator (two `randint` draws), so
    /// `tch::manual_seed` fixes it.
    pub fn from_torch() -> Self {
        let w = Tensor::randint_low(0, i64::MAX, [2], (Kind::Int64, Device::Cpu));
        let v = Vec::<i64>::try_from(&w).expect("two int64 seeds");
        Self::new(v[0] as u64, v[1] as u64)
    }

    /// Fills `out` with independent N(0, 1) draws (the next `out.len()` rounded up to a block of
    /// 2·[`LANES`]; a partial last block discards its surplus).
    pub fn fill(&mut self, out: &mut [f32]) {
        fill_lanes(&mut self.s, out);
    }

    /// Fills a contiguous float32 CPU tensor in place; returns false (touching nothing) for any
    /// other tensor, so the caller can fall back to `normal_`.
    pub fn fill_tensor(&mut self, t: &mut Tensor) -> bool {
        match cpu_f32_slice_mut(t) {
            Some(s) => {
                self.fill(s);
                true
            }
            None => false,
        }
    }
}

/// Exclusive, seeded use of libtorch's default generators; see [`seed_exclusive`].
#[must_use = "the generators are held only while the guard lives"]
pub struct SeedGuard {
    _lock: MutexGuard<'static, ()>,
}

static DEFAULT_GENERATORS: Mutex<()> = Mutex::new(());

/// Seeds libtorch's default generators (`tch::manual_seed`: CPU and every CUDA device) and holds
/// them until the guard drops.
///
/// libtorch keeps one default generator per device for the whole process, so when two threads
/// draw at once their streams interleave and neither is reproducible; the Rust test harness runs
/// tests on parallel threads, which made statistical checks depend on scheduling. Code that draws
/// only while holding this guard gets the same numbers for the same seed whatever else the
/// process runs: every other caller waits here. A holder that panicked leaves the lock usable.
/// While holding it, `tch::manual_seed` reseeds; taking a second guard on the same thread
/// deadlocks (the lock is not re-entrant).
pub fn seed_exclusive(seed: i64) -> SeedGuard {
    let lock = DEFAULT_GENERATORS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    tch::manual_seed(seed);
    SeedGuard { _lock: lock }
}

/// The data of a contiguous float32 CPU tensor as a mutable slice, or `None` for any other tensor.
///
/// The slice aliases the tensor's storage: nothing else may read or write that storage (through
/// this tensor or a view of it) while the slice lives, which the `&mut` borrow enforces for this
/// handle (views taken earlier are the caller's business).
pub fn cpu_f32_slice_mut(t: &mut Tensor) -> Option<&mut [f32]> {
    if t.device() != Device::Cpu || t.kind() != Kind::Float || !t.is_contiguous() {
        return None;
    }
    let n = t.numel();
    if n == 0 {
        return Some(&mut []);
    }
    // SAFETY: a contiguous float32 CPU tensor holds `n` initialised f32 at `data_ptr`, and the
    // `&mut Tensor` borrow keeps this handle from being used while the slice lives.
    Some(unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, n) })
}

/// The data of a contiguous float32 CPU tensor as a slice, or `None` for any other tensor.
pub fn cpu_f32_slice(t: &Tensor) -> Option<&[f32]> {
    if t.device() != Device::Cpu || t.kind() != Kind::Float || !t.is_contiguous() {
        return None;
    }
    let n = t.numel();
    if n == 0 {
        return Some(&[]);
    }
    // SAFETY: as in `cpu_f32_slice_mut`; shared access only.
    Some(unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, n) })
}

/// One xoshiro128++ step of every lane.
#[inline(always)]
fn next(s: &mut [[u32; LANES]; 4]) -> [u32; LANES] {
    let [s0, s1, s2, s3] = s;
    let mut out = [0u32; LANES];
    for i in 0..LANES {
        out[i] = s0[i].wrapping_add(s3[i]).rotate_left(7).wrapping_add(s0[i]);
        let t = s1[i] << 9;
        s2[i] ^= s0[i];
        s3[i] ^= s1[i];
        s1[i] ^= s2[i];
        s0[i] ^= s3[i];
        s2[i] ^= t;
        s3[i] = s3[i].rotate_left(11);
    }
    out
}

/// 2·LANES normals: out[..LANES] = r cos θ, out[LANES..] = r sin θ.
#[inline(always)]
fn block(s: &mut [[u32; LANES]; 4], out: &mut [f32; 2 * LANES]) {
    use crate::fastmath::{ln, sincos_pi4};
    const TWO_M24: f32 = 1.0 / 16_777_216.0;
    let a = next(s);
    let b = next(s);
    let (lo, hi) = out.split_at_mut(LANES);
    for i in 0..LANES {
        let u1 = ((a[i] >> 8) + 1) as f32 * TWO_M24;
        let r = (-2.0 * ln(u1)).sqrt();
        let q = b[i] & 3;
        let f = ((b[i] >> 8) as f32 * TWO_M24 - 0.5) * std::f32::consts::FRAC_PI_2;
        let (sn, cs) = sincos_pi4(f);
        // rotate (cos f, sin f) by q quarter turns
        let (c1, s1) = if q & 1 == 1 { (-sn, cs) } else { (cs, sn) };
        let rr = if q & 2 == 2 { -r } else { r };
        lo[i] = rr * c1;
        hi[i] = rr * s1;
    }
}

crate::fastmath::multiversion! {
    /// Fills `out` from the lanes `s`, block by block (a partial last block discards its surplus).
    fn fill_lanes(s: &mut [[u32; LANES]; 4], out: &mut [f32]) {
        let mut chunks = out.chunks_exact_mut(2 * LANES);
        for c in &mut chunks {
            let c: &mut [f32; 2 * LANES] = c.try_into().expect("block size");
            block(s, c);
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let mut tmp = [0f32; 2 * LANES];
            block(s, &mut tmp);
            rest.copy_from_slice(&tmp[..rest.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(n: usize, seed: u64) -> Vec<f32> {
        let mut g = GaussianStream::new(seed, 7);
        let mut v = vec![0f32; n];
        g.fill(&mut v);
        v
    }

    /// Moments of 4·10⁶ draws within 5 standard errors: mean 0, variance 1, skewness 0,
    /// kurtosis 3; and the tail shares P(|z| > 1, 2, 3) against Φ.
    #[test]
    fn moments_and_tails() {
        let n = 4_000_000;
        let v = draws(n, 1);
        let nf = n as f64;
        let m = |p: i32| v.iter().map(|&x| (x as f64).powi(p)).sum::<f64>() / nf;
        let (m1, m2, m3, m4) = (m(1), m(2), m(3), m(4));
        assert!(m1.abs() < 5.0 / nf.sqrt(), "mean {m1}");
        assert!((m2 - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(), "var {m2}");
        assert!(m3.abs() < 5.0 * (15.0 / nf).sqrt(), "skew {m3}");
        assert!((m4 - 3.0).abs() < 5.0 * (96.0 / nf).sqrt(), "kurt {m4}");
        for (k, p) in [(1.0, 0.317_310_5), (2.0, 0.045_500_26), (3.0, 0.002_699_8)] {
            let share = v.iter().filter(|&&x| (x as f64).abs() > k).count() as f64 / nf;
            let se = (p * (1.0 - p) / nf).sqrt();
            assert!((share - p).abs() < 5.0 * se, "P(|z|>{k}) {share} vs {p}");
        }
    }

    /// Kolmogorov–Smirnov against Φ on 10⁶ draws: D√n below the 0.1 % critical value 1.95.
    #[test]
    fn kolmogorov_smirnov() {
        let n = 1_000_000;
        let mut v: Vec<f64> = draws(n, 2).into_iter().map(f64::from).collect();
        v.sort_by(f64::total_cmp);
        let phi = |x: f64| 0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2));
        let d = v
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = phi(x);
                (f - i as f64 / n as f64)
                    .abs()
                    .max(((i + 1) as f64 / n as f64 - f).abs())
            })
            .fold(0.0, f64::max);
        assert!(
            d * (n as f64).sqrt() < 1.95,
            "KS D√n = {}",
            d * (n as f64).sqrt()
        );
    }

    /// Neighbouring draws (within a block, across the cos/sin halves, across lanes) are
    /// uncorrelated.
    #[test]
    fn no_lag_correlation() {
        let n = 2_000_000;
        let v = draws(n, 3);
        for lag in [1usize, LANES, 2 * LANES, 2 * LANES + 1] {
            let c = v
                .iter()
                .zip(&v[lag..])
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum::<f64>()
                / (n - lag) as f64;
            assert!(c.abs() < 5.0 / (n as f64).sqrt(), "lag {lag}: {c}");
        }
    }

    /// The torch seeding follows `manual_seed`; a partial last block is the prefix of a full one.
    #[test]
    fn reproducible() {
        let _rng = crate::rng::seed_exclusive(0);
        let mut a = GaussianStream::new(5, 6);
        let mut x = vec![0f32; 1000];
        a.fill(&mut x);
        let mut c = GaussianStream::new(5, 6);
        let mut z = vec![0f32; 7];
        c.fill(&mut z);
        assert_eq!(&z[..], &x[..7]);
        tch::manual_seed(11);
        let mut t1 = Tensor::zeros([100, 2], (Kind::Float, Device::Cpu));
        assert!(GaussianStream::from_torch().fill_tensor(&mut t1));
        tch::manual_seed(11);
        let mut t2 = Tensor::zeros([100, 2], (Kind::Float, Device::Cpu));
        assert!(GaussianStream::from_torch().fill_tensor(&mut t2));
        assert!(t1.equal(&t2));
        assert!(t1.abs().sum(Kind::Float).double_value(&[]) > 0.0);
        let mut d = Tensor::zeros([4], (Kind::Double, Device::Cpu));
        assert!(!GaussianStream::new(1, 1).fill_tensor(&mut d));
    }
}
