//! Unbiased MMD² with Gaussian (RBF) kernels k_h(a, b) = exp(−‖a − b‖²/(2h²)):
//!
//! MMD²_u = 1/(N(N−1)) Σ_{i≠j} k(x_i, x_j) + 1/(M(M−1)) Σ_{i≠j} k(y_i, y_j) − 2/(NM) Σ_{i,j} k(x_i, y_j).
//!
//! Its mean is exactly 0 when both sets come from one distribution (so it can be < 0).
//! The bandwidth h is the median heuristic on the reference set (the median pairwise distance
//! among at most 2 000 evenly spaced reference rows); the mixture kernel is the mean of k_{sh} for
//! s ∈ {¼, ½, 1, 2, 4} ([`MMD_SCALES`]), which is less sensitive to the choice of h.

use super::{block_elems, f64_on, pair_sums};
use serde::Serialize;
use tch::{Kind, Tensor};

/// Bandwidth multipliers of the mixture kernel.
pub const MMD_SCALES: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];

/// At most this many reference rows enter the median heuristic.
const MEDIAN_ROWS: i64 = 2000;

/// MMD² at the median-heuristic bandwidth and with the bandwidth mixture.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MmdResult {
    /// The median-heuristic bandwidth h.
    pub bandwidth: f64,
    /// Unbiased MMD² with k_h.
    pub mmd2: f64,
    /// Unbiased MMD² with the mean of k_{sh}, s ∈ [`MMD_SCALES`].
    pub mmd2_mix: f64,
}

/// The median pairwise Euclidean distance among at most 2 000 evenly spaced rows of `y` [M, D]
/// (the lower median for an even count); 1.0 if that median is 0 or not finite.
pub fn median_bandwidth(y: &Tensor) -> f64 {
    let y = f64_on(y, y.device());
    let m = y.size()[0];
    let k = m.min(MEDIAN_ROWS);
    let idx = (Tensor::arange(k, (Kind::Double, y.device())) * (m as f64 / k as f64))
        .floor()
        .to_kind(Kind::Int64);
    let s = y.index_select(0, &idx);
    let iu = Tensor::triu_indices(k, k, 1, (Kind::Int64, y.device()));
    let d = Tensor::cdist(&s, &s, 2.0, 2).index(&[Some(iu.get(0)), Some(iu.get(1))]);
    let h = if d.numel() == 0 {
        f64::NAN
    } else {
        d.median().double_value(&[])
    };
    if h > 0.0 && h.is_finite() {
        h
    } else {
        1.0
    }
}

/// Unbiased MMD² between `x` [N, D] and `y` [M, D] for each bandwidth in `hs` (float64, on `x`'s
/// device, in row blocks). NaN if either set has fewer than two rows.
pub fn mmd2_unbiased(x: &Tensor, y: &Tensor, hs: &[f64]) -> Vec<f64> {
    mmd2_blocked(x, y, hs, block_elems(x.device()))
}

/// Σ of k_h over a block of squared distances, for each h in `hs`, [len(hs)].
///
/// Bandwidths are visited from the widest down; where (h_prev/h)² = 2^j (j ≤ 10, e.g. the
/// factor-2 ladder of [`MMD_SCALES`]) the kernel is the previous one raised to 2^j by j in-place
/// squarings (exp(−d²/2h²) = exp(−d²/2h_prev²)^{(h_prev/h)²}), which is cheaper than an exp
/// (relative error ≤ 2^j ulp); otherwise one exp.
fn kernel_block_sums(d2: &Tensor, hs: &[f64]) -> Tensor {
    let mut order: Vec<usize> = (0..hs.len()).collect();
    order.sort_by(|&a, &b| hs[b].total_cmp(&hs[a]));
    let mut sums: Vec<Option<Tensor>> = (0..hs.len()).map(|_| None).collect();
    let mut prev: Option<(f64, Tensor)> = None;
    for i in order {
        let h = hs[i];
        let k = match prev.take() {
            Some((hp, mut kp)) => {
                let j = (hp / h).powi(2).log2();
                if (j - j.round()).abs() < 1e-9 && (0.0..=10.0).contains(&j.round()) {
                    for _ in 0..j.round() as i32 {
                        let _ = kp.square_();
                    }
                    kp
                } else {
                    (d2 * (-0.5 / (h * h))).exp()
                }
            }
            None => (d2 * (-0.5 / (h * h))).exp(),
        };
        sums[i] = Some(k.sum(Kind::Double));
        prev = Some((h, k));
    }
    let sums: Vec<Tensor> = sums.into_iter().map(|t| t.expect("every h")).collect();
    Tensor::stack(&sums, 0)
}

/// Σ over pairs of k_h for each h (ordered pairs i ≠ j when `same`).
fn kernel_sums(a: &Tensor, b: &Tensor, same: bool, hs: &[f64], block: i64) -> Vec<f64> {
    pair_sums(a, b, same, block, |d2| kernel_block_sums(d2, hs))
}

pub(crate) fn mmd2_blocked(x: &Tensor, y: &Tensor, hs: &[f64], block: i64) -> Vec<f64> {
    let dev = x.device();
    let (x, y) = (f64_on(x, dev), f64_on(y, dev));
    let (n, m) = (x.size()[0] as f64, y.size()[0] as f64);
    if n < 2.0 || m < 2.0 {
        return vec![f64::NAN; hs.len()];
    }
    let kxx = kernel_sums(&x, &x, true, hs, block);
    let kyy = kernel_sums(&y, &y, true, hs, block);
    let kxy = kernel_sums(&x, &y, false, hs, block);
    (0..hs.len())
        .map(|i| kxx[i] / (n * (n - 1.0)) + kyy[i] / (m * (m - 1.0)) - 2.0 * kxy[i] / (n * m))
        .collect()
}

/// MMD² of `x` against the reference `y`: h by the median heuristic on `y`, then the single-h and
/// mixture values (one pass over the pairs for all five bandwidths).
pub fn mmd(x: &Tensor, y: &Tensor) -> MmdResult {
    let h = median_bandwidth(y);
    let hs: Vec<f64> = MMD_SCALES.iter().map(|s| s * h).collect();
    let v = mmd2_unbiased(x, y, &hs);
    MmdResult {
        bandwidth: h,
        mmd2: v[2],
        mmd2_mix: v.iter().sum::<f64>() / v.len() as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn exact_small_case_median_and_blocking() {
        let _rng = crate::rng::seed_exclusive(0);
        // x = {0, 1}, y = {3}, {3, 5} with h = 1: k(d) = e^{−d²/2}
        let k = |d: f64| (-d * d / 2.0).exp();
        let x = Tensor::from_slice(&[0.0f64, 1.0]).view([2, 1]);
        let y = Tensor::from_slice(&[3.0f64, 5.0]).view([2, 1]);
        let want = k(1.0) + k(2.0) - 2.0 * (k(3.0) + k(5.0) + k(2.0) + k(4.0)) / 4.0;
        let got = mmd2_unbiased(&x, &y, &[1.0])[0];
        assert!((got - want).abs() < 1e-14, "{got} vs {want}");
        // median of {1, 3, 2} (points 0, 1, 3) is 2
        let p = Tensor::from_slice(&[0.0f32, 1.0, 3.0]).view([3, 1]);
        assert_eq!(median_bandwidth(&p), 2.0);
        assert_eq!(
            median_bandwidth(&Tensor::zeros([5, 2], (Kind::Float, Device::Cpu))),
            1.0
        );
        // mixture = mean over the five bandwidths
        let a = Tensor::randn([300, 2], (Kind::Float, Device::Cpu));
        let b = Tensor::randn([200, 2], (Kind::Float, Device::Cpu)) * 1.3;
        let r = mmd(&a, &b);
        let hs: Vec<f64> = MMD_SCALES.iter().map(|s| s * r.bandwidth).collect();
        let v = mmd2_unbiased(&a, &b, &hs);
        assert!((r.mmd2 - v[2]).abs() < 1e-15);
        assert!((r.mmd2_mix - v.iter().sum::<f64>() / 5.0).abs() < 1e-15);
        let (a, b) = (a.narrow(0, 0, 80), b.narrow(0, 0, 60));
        let v = mmd2_unbiased(&a, &b, &hs);
        for block in [1, 13, 1000] {
            let w = mmd2_blocked(&a, &b, &hs, block);
            for (p, q) in w.iter().zip(&v) {
                assert!((p - q).abs() < 1e-13);
            }
        }
    }
}
