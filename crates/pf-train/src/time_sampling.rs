//! Drawing the times of a continuous-time loss, with optional importance sampling.
//!
//! A loss E_{t ~ U(T_ε, 1)}[λ(t) ℓ(t)] is estimated either by uniform t with per-sample factor
//! λ(t), or by t ~ q(t) ∝ λ(t)/σ²(t) with factor λ(t) / ((1 − T_ε) q(t)), which keeps the
//! estimator unbiased. With the likelihood weighting λ = g², λ/σ² ~ 1/t near t = 0 on VP paths:
//! importance sampling concentrates draws where the weighted loss lives and removes most of the
//! variance (the factor becomes Z σ²(t)/(1 − T_ε), Z the normaliser).
//!
//! q is tabulated once as its inverse CDF at `IS_CELLS` + 1 equally spaced probabilities
//! (quantiles Q₀ = T_ε < Q₁ < … < Q_M = 1, from a fine log-spaced trapezoid CDF). A draw is
//! t = Q_j + f (Q_{j+1} − Q_j) with u = (j + f)/M ~ U[0, 1): the sampled density q̃ is piecewise
//! constant, q̃(t) = 1/(M (Q_{j+1} − Q_j)) on cell j, and the factor uses q̃ itself, so the
//! estimator is exactly unbiased however coarse the table. (All elementwise ops and one gather:
//! no `searchsorted`, which is slow on CPU.)

use crate::weighting::Weighting;
use pf_core::path::{CoeffsT, GaussianPath};
use tch::{Device, Kind, Tensor};

/// Number of cells of the importance table.
pub const IS_CELLS: usize = 4096;

/// Draws times t ∈ (T_ε, 1] and the per-sample factor m(t) with E[m(t) ℓ(t)] = E_U[λ(t) ℓ(t)].
#[derive(Debug)]
pub struct TimeSampler {
    t_eps: f64,
    weighting: Weighting,
    table: Option<Table>,
}

#[derive(Debug)]
struct Table {
    /// the quantiles Q₀..Q_M (host, f64)
    quantiles: Vec<f64>,
    /// the same on the device of the last call
    cache: std::sync::Mutex<Option<(Device, Tensor)>>,
}

impl TimeSampler {
    /// Uniform t on (T_ε, 1].
    pub fn uniform(t_eps: f64, weighting: Weighting) -> Self {
        Self {
            t_eps,
            weighting,
            table: None,
        }
    }

    /// t ~ q ∝ λ(t)/σ²(t) on [T_ε, 1] (needs T_ε > 0).
    pub fn importance(path: &dyn GaussianPath, t_eps: f64, weighting: Weighting) -> Self {
        assert!(t_eps > 0.0, "importance sampling needs t_eps > 0");
        // fine log-spaced CDF of q (trapezoid), then its inverse at u = i/M
        let fine = 16 * IS_CELLS;
        let ratio = 1.0 / t_eps;
        let grid: Vec<f64> = (0..=fine)
            .map(|i| {
                if i == fine {
                    1.0
                } else {
                    t_eps * ratio.powf(i as f64 / fine as f64)
                }
            })
            .collect();
        let q = |t: f64| weighting.lambda(path, t) / path.coeffs(t).sigma.powi(2);
        let qg: Vec<f64> = grid.iter().map(|&t| q(t)).collect();
        let mut cdf = vec![0.0; fine + 1];
        for i in 0..fine {
            cdf[i + 1] = cdf[i] + 0.5 * (qg[i] + qg[i + 1]) * (grid[i + 1] - grid[i]);
        }
        let total = cdf[fine];
        let m = IS_CELLS;
        let mut quantiles = Vec::with_capacity(m + 1);
        quantiles.push(t_eps);
        let mut k = 0;
        for i in 1..m {
            let target = total * i as f64 / m as f64;
            while cdf[k + 1] < target {
                k += 1;
            }
            let f = (target - cdf[k]) / (cdf[k + 1] - cdf[k]);
            quantiles.push(grid[k] + f * (grid[k + 1] - grid[k]));
        }
        quantiles.push(1.0);
        Self {
            t_eps,
            weighting,
            table: Some(Table {
                quantiles,
                cache: std::sync::Mutex::new(None),
            }),
        }
    }

    pub fn t_eps(&self) -> f64 {
        self.t_eps
    }
    pub fn is_importance(&self) -> bool {
        self.table.is_some()
    }

    /// The normalised importance density q̃(t) at a host time (None when uniform).
    pub fn density(&self, t: f64) -> Option<f64> {
        let q = &self.table.as_ref()?.quantiles;
        let m = q.len() - 1;
        let j = q.partition_point(|&e| e <= t).clamp(1, m) - 1;
        Some(1.0 / (m as f64 * (q[j + 1] - q[j])))
    }

    /// The CDF of q̃ at a host time (None when uniform).
    pub fn cdf(&self, t: f64) -> Option<f64> {
        let q = &self.table.as_ref()?.quantiles;
        let m = q.len() - 1;
        let j = q.partition_point(|&e| e <= t).clamp(1, m) - 1;
        Some((j as f64 + ((t - q[j]) / (q[j + 1] - q[j])).clamp(0.0, 1.0)) / m as f64)
    }

    /// n times [n, 1], their factors m(t) [n, 1] and the path's coefficients at them (`kind` on
    /// `device`), with λ from `path`.
    pub fn sample(&self, path: &dyn GaussianPath, n: i64, options: (Kind, Device)) -> TimeDraw {
        match &self.table {
            None => {
                let t = crate::predictor::uniform_times(n, self.t_eps, options);
                let c = path.coeffs_t(&t);
                let factor = self.weighting.lambda_t(path, &t, &c);
                TimeDraw {
                    t,
                    factor,
                    coeffs: c,
                }
            }
            Some(tb) => {
                let dev = options.1;
                let qs = tb.on(dev);
                let m = (tb.quantiles.len() - 1) as i64;
                let u = Tensor::rand([n, 1], (Kind::Double, dev)) * m as f64;
                let j = u.floor().clamp(0.0, (m - 1) as f64);
                let frac = &u - &j;
                let j = j.to_kind(Kind::Int64).view([-1]);
                let lo = qs.index_select(0, &j).view([-1, 1]);
                let hi = qs.index_select(0, &(j + 1)).view([-1, 1]);
                let width = hi - &lo;
                let t = (lo + frac * &width)
                    .clamp(self.t_eps, 1.0)
                    .to_kind(options.0);
                let c = path.coeffs_t(&t);
                let lam = self.weighting.lambda_t(path, &t, &c);
                // λ / ((1 − T_ε) q̃), q̃ = 1/(M width)
                let factor = lam * (width * (m as f64 / (1.0 - self.t_eps))).to_kind(options.0);
                TimeDraw {
                    t,
                    factor,
                    coeffs: c,
                }
            }
        }
    }
}

/// Times, factors and path coefficients drawn by [`TimeSampler::sample`].
#[derive(Debug)]
pub struct TimeDraw {
    /// t [N, 1].
    pub t: Tensor,
    /// m(t) [N, 1]: λ(t) (uniform) or λ(t)/((1 − T_ε) q̃(t)) (importance).
    pub factor: Tensor,
    /// α, σ, α', σ' at t, each [N, 1].
    pub coeffs: CoeffsT,
}

impl Table {
    fn on(&self, dev: Device) -> Tensor {
        let mut cache = self.cache.lock().expect("time table cache");
        if let Some((d, q)) = cache.as_ref() {
            if *d == dev {
                return q.shallow_clone();
            }
        }
        let q = Tensor::from_slice(&self.quantiles).to_device(dev);
        *cache = Some((dev, q.shallow_clone()));
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pf_core::path::VpLinear;

    /// The importance sampler is unbiased: E_q[m(t) h(t)] = E_U[λ(t) h(t)] for a test function h,
    /// and its draws follow q (a two-sided check on the mass below the median of q̃).
    #[test]
    fn importance_factors_are_unbiased() {
        let _rng = pf_core::rng::seed_exclusive(11);
        let path = VpLinear::default();
        let t_eps = 1e-3;
        let s = TimeSampler::importance(&path, t_eps, Weighting::Likelihood);
        let n = 200_000;
        let TimeDraw { t, factor: m, .. } = s.sample(&path, n, (Kind::Double, Device::Cpu));
        let tmin = t.min().double_value(&[]);
        assert!(tmin >= t_eps && t.max().double_value(&[]) <= 1.0);
        // h(t) = σ²(t): E_U[β σ²] = (1/(1−T_ε)) ∫ β(1 − e^{−B}) dt = (ΔB − (e^{−B(T_ε)} − e^{−B(1)}))/(1−T_ε)
        let c = path.coeffs_t(&t);
        let est = (&m * c.sigma.square()).mean(Kind::Double).double_value(&[]);
        let b = |t: f64| path.integral(t);
        let exact = ((b(1.0) - b(t_eps)) - ((-b(t_eps)).exp() - (-b(1.0)).exp())) / (1.0 - t_eps);
        let se = (&m * c.sigma.square()).std(true).double_value(&[]) / (n as f64).sqrt();
        assert!(
            (est - exact).abs() < 5.0 * se + 1e-12,
            "{est} vs {exact} (se {se})"
        );
        // draws follow q̃: the share of draws below t = 0.01 matches the table's CDF there
        let share = t
            .lt(0.01)
            .to_kind(Kind::Double)
            .mean(Kind::Double)
            .double_value(&[]);
        let want = s.cdf(0.01).unwrap();
        let se = (want * (1.0 - want) / n as f64).sqrt();
        assert!((share - want).abs() < 5.0 * se, "{share} vs {want}");
    }
}
