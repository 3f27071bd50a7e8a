//! Drawing the times of a continuous-time loss, with optional importance sampling.
//!
//! A loss E_{t ~ U(T_ε, 1)}[λ(t) ℓ(t)] is estimated either by uniform t with per-sample factor
//! λ(t), or by t ~ q(t) ∝ λ(t)/σ²(t) with factor λ(t) / ((1 − T_ε) q(t)), which keeps the
//! estimator unbiased. With the likelihood weighting λ = g², λ/σ² ~ 1/t near t = 0 on VP paths:
//! importance sampling concentrates draws where the weighted loss lives and removes most of the
//! variance (the factor becomes Z σ²(t)/(1 − T_ε), Z the normaliser).
//!
//! q is tabulated once on a log-spaced grid of `IS_CELLS` cells over [T_ε, 1]: q̃ is piecewise
//! constant (trapezoid mass per cell), sampled exactly by inverting its piecewise-linear CDF, and
//! the factor uses q̃ itself, so the estimator is exactly unbiased however coarse the table.

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
    /// host copies (f64): cell edges [M + 1], CDF at edges [M + 1], normalised density [M]
    edges: Vec<f64>,
    cdf: Vec<f64>,
    dens: Vec<f64>,
    /// the same on the device of the last call
    cache: std::sync::Mutex<Option<(Device, Tensor, Tensor, Tensor)>>,
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
        let m = IS_CELLS;
        let ratio = 1.0 / t_eps;
        let edges: Vec<f64> = (0..=m)
            .map(|i| {
                if i == m {
                    1.0
                } else {
                    t_eps * ratio.powf(i as f64 / m as f64)
                }
            })
            .collect();
        let q = |t: f64| weighting.lambda(path, t) / path.coeffs(t).sigma.powi(2);
        let qe: Vec<f64> = edges.iter().map(|&t| q(t)).collect();
        let mass: Vec<f64> = (0..m)
            .map(|i| 0.5 * (qe[i] + qe[i + 1]) * (edges[i + 1] - edges[i]))
            .collect();
        let total: f64 = mass.iter().sum();
        let mut cdf = Vec::with_capacity(m + 1);
        let mut acc = 0.0;
        cdf.push(0.0);
        for w in &mass {
            acc += w / total;
            cdf.push(acc);
        }
        cdf[m] = 1.0;
        let dens = (0..m)
            .map(|i| mass[i] / total / (edges[i + 1] - edges[i]))
            .collect();
        Self {
            t_eps,
            weighting,
            table: Some(Table {
                edges,
                cdf,
                dens,
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
        let tb = self.table.as_ref()?;
        let j = tb
            .edges
            .partition_point(|&e| e <= t)
            .clamp(1, tb.dens.len())
            - 1;
        Some(tb.dens[j])
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
                let (edges, cdf, dens) = tb.on(dev);
                let u = Tensor::rand([n, 1], (Kind::Double, dev));
                let m = tb.dens.len() as i64;
                let j = (u.searchsorted(&cdf, false, true, "right", None::<Tensor>) - 1)
                    .clamp(0, m - 1)
                    .view([-1]);
                let e0 = edges.index_select(0, &j).view([-1, 1]);
                let c0 = cdf.index_select(0, &j).view([-1, 1]);
                let q = dens.index_select(0, &j).view([-1, 1]);
                let t = (e0 + (u - c0) / &q)
                    .clamp(self.t_eps, 1.0)
                    .to_kind(options.0);
                let c = path.coeffs_t(&t);
                let lam = self.weighting.lambda_t(path, &t, &c);
                let factor = lam / (q.to_kind(options.0) * (1.0 - self.t_eps));
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
    fn on(&self, dev: Device) -> (Tensor, Tensor, Tensor) {
        let mut cache = self.cache.lock().expect("time table cache");
        if let Some((d, e, c, q)) = cache.as_ref() {
            if *d == dev {
                return (e.shallow_clone(), c.shallow_clone(), q.shallow_clone());
            }
        }
        let t = |v: &[f64]| Tensor::from_slice(v).to_device(dev);
        let (e, c, q) = (t(&self.edges), t(&self.cdf), t(&self.dens));
        *cache = Some((dev, e.shallow_clone(), c.shallow_clone(), q.shallow_clone()));
        (e, c, q)
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
        tch::manual_seed(11);
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
        let tb = s.table.as_ref().unwrap();
        let j = tb.edges.partition_point(|&e| e <= 0.01) - 1;
        let want = tb.cdf[j] + (0.01 - tb.edges[j]) * tb.dens[j];
        let se = (want * (1.0 - want) / n as f64).sqrt();
        assert!((share - want).abs() < 5.0 * se, "{share} vs {want}");
    }
}
