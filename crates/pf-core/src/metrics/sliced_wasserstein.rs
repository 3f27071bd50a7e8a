//! Sliced Wasserstein-1: the mean over K unit directions θ_k of the 1-D Wasserstein-1 distance
//! between the projections θ_k·X and θ_k·Y,
//!
//! SW₁ = (1/K) Σ_k ∫₀¹ |F⁻¹_{θ_k·X}(t) − F⁻¹_{θ_k·Y}(t)| dt.
//!
//! The directions are normalised Gaussian vectors from a Rust `StdRng` seeded with the constant
//! [`SW_SEED`], so results never depend on libtorch's RNG state. The 1-D integral is taken on the
//! grid t_i = (i + ½)/L, L = max(N, M), with each empirical quantile function interpolated
//! linearly between order statistics (at fractional index t·n − ½); for N = M this is exactly
//! the mean of |x_(i) − y_(i)|. Same units as the data.

use super::{block_elems, f64_on};
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use tch::{Device, Kind, Tensor};

/// The default number of directions K.
pub const SW_DIRECTIONS: usize = 256;

/// The fixed seed of the directions.
pub const SW_SEED: u64 = 0x5eed_5100;

/// `k` unit directions in R^d, [d, k] float64 on `device`, from [`SW_SEED`].
fn directions(d: usize, k: usize, device: Device) -> Tensor {
    let mut rng = StdRng::seed_from_u64(SW_SEED);
    let v: Vec<f64> = (0..d * k)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let t = Tensor::from_slice(&v)
        .view([k as i64, d as i64])
        .to_device(device);
    let t = &t / t.norm_scalaropt_dim(2.0, [1], true);
    t.tr().contiguous()
}

/// Quantiles of each column of `sorted` [n, K] at t_i = (i + ½)/L, i < L: [L, K].
fn quantiles(sorted: &Tensor, l: i64) -> Tensor {
    let n = sorted.size()[0];
    if n == l {
        return sorted.shallow_clone();
    }
    let pos = ((Tensor::arange(l, (Kind::Double, sorted.device())) + 0.5) * (n as f64 / l as f64)
        - 0.5)
        .clamp(0.0, (n - 1) as f64);
    let lo = pos.floor();
    let w = (&pos - &lo).unsqueeze(1);
    let lo = lo.to_kind(Kind::Int64);
    let hi = (&lo + 1).clamp_max(n - 1);
    sorted.index_select(0, &lo) * (1.0 - &w) + sorted.index_select(0, &hi) * w
}

/// SW₁ between `x` [N, D] and `y` [M, D] over `directions` fixed directions (float64, on `x`'s
/// device; directions processed in groups so that a [max(N, M), k] block stays within the
/// pairwise block size).
/// NaN if either set is empty.
pub fn sliced_w1(x: &Tensor, y: &Tensor, directions_k: usize) -> f64 {
    let dev = x.device();
    let (x, y) = (f64_on(x, dev), f64_on(y, dev));
    let (n, m) = (x.size()[0], y.size()[0]);
    if n == 0 || m == 0 || directions_k == 0 {
        return f64::NAN;
    }
    let l = n.max(m);
    let theta = directions(x.size()[1] as usize, directions_k, dev);
    let group = (block_elems(dev) / l).max(1);
    let mut acc = Tensor::zeros([], (Kind::Double, dev));
    let mut k0 = 0;
    while k0 < directions_k as i64 {
        let kc = group.min(directions_k as i64 - k0);
        let th = theta.narrow(1, k0, kc);
        let (px, _) = x.mm(&th).sort(0, false);
        let (py, _) = y.mm(&th).sort(0, false);
        let gap = (quantiles(&px, l) - quantiles(&py, l)).abs();
        acc += gap.sum(Kind::Double);
        k0 += kc;
    }
    acc.double_value(&[]) / (l as f64 * directions_k as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_in_one_dimension() {
        let _rng = crate::rng::seed_exclusive(3);
        let x = Tensor::randn([500, 1], (Kind::Double, Device::Cpu));
        // in 1-D every direction is ±1, and W₁(X, X + c) = |c|
        assert!((sliced_w1(&x, &(&x + 0.3), 16) - 0.3).abs() < 1e-12);
        // N ≠ M: the 3 000 and 1 000 midpoint quantiles of U(0, 1) are ~1/(4·1000) apart
        let u1 = (Tensor::arange(1000, (Kind::Double, Device::Cpu)) + 0.5) / 1000.0;
        let u3 = (Tensor::arange(3000, (Kind::Double, Device::Cpu)) + 0.5) / 3000.0;
        let d = sliced_w1(&u1.view([-1, 1]), &u3.view([-1, 1]), 4);
        assert!(d < 5e-4, "{d}");
        let d = sliced_w1(&u1.view([-1, 1]), &(u3 + 0.25).view([-1, 1]), 4);
        assert!((d - 0.25).abs() < 5e-4, "{d}");
    }

    #[test]
    fn fixed_directions_ignore_torch_seed_and_shift_scales_as_theory() {
        let _rng = crate::rng::seed_exclusive(4);
        let x = Tensor::randn([800, 2], (Kind::Float, Device::Cpu));
        let y = Tensor::randn([600, 2], (Kind::Float, Device::Cpu));
        tch::manual_seed(99);
        let a = sliced_w1(&x, &y, 64);
        let _ = Tensor::randn([10], (Kind::Float, Device::Cpu));
        assert_eq!(a, sliced_w1(&x, &y, 64));
        // SW₁(X, X + δ) = ‖δ‖ E|θ₁| exactly per direction set: mean |θ·δ| over the K directions
        let delta = Tensor::from_slice(&[0.6f64, -0.8]); // ‖δ‖ = 1
        let th = directions(2, SW_DIRECTIONS, Device::Cpu);
        let want = delta
            .unsqueeze(0)
            .mm(&th)
            .abs()
            .mean(Kind::Double)
            .double_value(&[]);
        let got = sliced_w1(
            &x,
            &(x.to_kind(Kind::Double) + delta.unsqueeze(0)),
            SW_DIRECTIONS,
        );
        assert!((got - want).abs() < 1e-10, "{got} vs {want}");
        // E|θ₁| = 2/π in 2-D; 256 directions get within a few per cent
        assert!((want - 2.0 / std::f64::consts::PI).abs() < 0.03, "{want}");
        // unit norm directions
        let norms = th.norm_scalaropt_dim(2.0, [0], false);
        assert!((norms - 1.0).abs().max().double_value(&[]) < 1e-12);
    }
}
