//! Gaussian mixtures with diagonal covariances, in any dimension; the 8-Gaussians ring and
//! seed 002's 1-D mixture of three are presets.

use super::Target;
use crate::{Error, Result};
use std::f64::consts::PI;
use std::sync::Mutex;
use tch::{Device, Kind, Tensor};

/// p(x) = Σ_k w_k N(x; μ_k, diag(s_k²)).
#[derive(Debug)]
pub struct GaussianMixture {
    name: String,
    weights: Vec<f64>,
    means: Vec<Vec<f64>>,
    stds: Vec<Vec<f64>>,
    cache: Mutex<Vec<(Device, Kind, MixTensors)>>,
}

/// The mixture's parameters as tensors: log-weights [K], means [K, D], variances [K, D].
#[derive(Debug)]
pub struct MixTensors {
    pub log_w: Tensor,
    pub mu: Tensor,
    pub var: Tensor,
}

impl MixTensors {
    fn shallow(&self) -> Self {
        Self {
            log_w: self.log_w.shallow_clone(),
            mu: self.mu.shallow_clone(),
            var: self.var.shallow_clone(),
        }
    }
}

impl Clone for GaussianMixture {
    fn clone(&self) -> Self {
        Self::new_unchecked(
            self.name.clone(),
            self.weights.clone(),
            self.means.clone(),
            self.stds.clone(),
        )
    }
}

impl GaussianMixture {
    /// A mixture from weights (normalised here), means [K][D] and per-dimension stds [K][D].
    pub fn new(weights: Vec<f64>, means: Vec<Vec<f64>>, stds: Vec<Vec<f64>>) -> Result<Self> {
        let k = weights.len();
        if k == 0 {
            return Err(Error::invalid(
                "weights",
                "[]",
                "a mixture needs at least one component",
            ));
        }
        if means.len() != k || stds.len() != k {
            return Err(Error::invalid(
                "means",
                format!("{} means, {} stds", means.len(), stds.len()),
                format!("need one mean and one std vector per weight ({k})"),
            ));
        }
        let d = means[0].len();
        if d == 0 || means.iter().chain(stds.iter()).any(|v| v.len() != d) {
            return Err(Error::invalid(
                "means",
                format!("{means:?}"),
                "all means and stds must have the same dimension ≥ 1",
            ));
        }
        if weights.iter().any(|w| !(*w > 0.0 && w.is_finite())) {
            return Err(Error::invalid(
                "weights",
                format!("{weights:?}"),
                "weights must be finite and > 0",
            ));
        }
        if stds.iter().flatten().any(|s| !(*s > 0.0 && s.is_finite())) {
            return Err(Error::invalid(
                "stds",
                format!("{stds:?}"),
                "standard deviations must be finite and > 0",
            ));
        }
        if means.iter().flatten().any(|m| !m.is_finite()) {
            return Err(Error::invalid(
                "means",
                format!("{means:?}"),
                "means must be finite",
            ));
        }
        let s: f64 = weights.iter().sum();
        let weights = weights.iter().map(|w| w / s).collect();
        Ok(Self::new_unchecked(
            format!("gmm{d}d-{k}"),
            weights,
            means,
            stds,
        ))
    }

    fn new_unchecked(
        name: String,
        weights: Vec<f64>,
        means: Vec<Vec<f64>>,
        stds: Vec<Vec<f64>>,
    ) -> Self {
        Self {
            name,
            weights,
            means,
            stds,
            cache: Mutex::new(Vec::new()),
        }
    }

    /// The same mixture under another name.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Eight equal-weight isotropic Gaussians with std `std` centred on a circle of radius
    /// `radius` at angles kπ/4 (pflow's default: radius 2, std 0.2).
    pub fn eight_gaussians(radius: f64, std: f64) -> Result<Self> {
        let means = (0..8)
            .map(|k| {
                let a = k as f64 * PI / 4.0;
                vec![radius * a.cos(), radius * a.sin()]
            })
            .collect();
        Ok(Self::new(vec![1.0; 8], means, vec![vec![std; 2]; 8])?.named("8gaussians"))
    }

    /// Seed 002's 1-D mixture of three Gaussians (pflow's choice of parameters, the seed gives
    /// none): weights (0.25, 0.5, 0.25), means (−2, 0, 2), stds (0.5, 0.3, 0.5).
    pub fn gmm1d() -> Self {
        Self::new(
            vec![0.25, 0.5, 0.25],
            vec![vec![-2.0], vec![0.0], vec![2.0]],
            vec![vec![0.5], vec![0.3], vec![0.5]],
        )
        .expect("valid preset")
        .named("gmm1d")
    }

    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    pub fn means(&self) -> &[Vec<f64>] {
        &self.means
    }
    pub fn stds(&self) -> &[Vec<f64>] {
        &self.stds
    }
    pub fn components(&self) -> usize {
        self.weights.len()
    }

    /// Parameters as tensors of `kind` on `device`, built once per (device, kind) and cached, so
    /// hot loops do no host-to-device copies.
    pub fn tensors(&self, device: Device, kind: Kind) -> MixTensors {
        let mut cache = self.cache.lock().expect("mixture cache");
        if let Some((_, _, t)) = cache.iter().find(|(d, k, _)| *d == device && *k == kind) {
            return t.shallow();
        }
        let (k, d) = (self.weights.len() as i64, self.means[0].len() as i64);
        let flat = |v: &[Vec<f64>]| v.iter().flatten().copied().collect::<Vec<f64>>();
        let t = MixTensors {
            log_w: Tensor::from_slice(&self.weights.iter().map(|w| w.ln()).collect::<Vec<_>>())
                .to_kind(kind)
                .to_device(device),
            mu: Tensor::from_slice(&flat(&self.means))
                .view([k, d])
                .to_kind(kind)
                .to_device(device),
            var: Tensor::from_slice(&flat(&self.stds))
                .view([k, d])
                .square()
                .to_kind(kind)
                .to_device(device),
        };
        cache.push((device, kind, t.shallow()));
        t
    }

    /// log p_t(x) of the mixture pushed through x_t = α x₀ + σ ε: means α μ_k, variances
    /// α² s_k² + σ². `alpha`, `sigma` are [N, 1] or 0-dim tensors (α = 1, σ = 0 gives log p).
    /// Also returns the per-component pieces used by the score. Shapes: x [N, D] → [N].
    pub fn log_prob_at(&self, x: &Tensor, alpha: &Tensor, sigma: &Tensor) -> Tensor {
        self.pieces(x, alpha, sigma).log_p
    }

    /// log p_t, responsibilities r [N, K], centred d = x − α μ [N, K, D] and variances C [N|1, K, D].
    pub fn pieces(&self, x: &Tensor, alpha: &Tensor, sigma: &Tensor) -> Pieces {
        let m = self.tensors(x.device(), x.kind());
        let a = expand3(alpha);
        let s = expand3(sigma);
        let mu = m.mu.unsqueeze(0) * &a; // [N|1, K, D]
        let var = m.var.unsqueeze(0) * a.square() + s.square(); // [N|1, K, D]
        let d = x.unsqueeze(1) - &mu; // [N, K, D]
        let comp =
            -((d.square() / &var) + (&var * (2.0 * PI)).log()).sum_dim_intlist(-1, false, x.kind())
                * 0.5
                + m.log_w.unsqueeze(0); // [N, K]
        let log_p = comp.logsumexp(-1, false);
        let r = (comp - log_p.unsqueeze(-1)).exp();
        Pieces { log_p, r, d, var }
    }

    /// ∇ₓ log p_t(x) = −Σ_k r_k (x − α μ_k)/C_k. Shapes: x [N, D] → [N, D].
    pub fn score_at(&self, x: &Tensor, alpha: &Tensor, sigma: &Tensor) -> Tensor {
        let p = self.pieces(x, alpha, sigma);
        -(p.r.unsqueeze(-1) * (&p.d / &p.var)).sum_dim_intlist(1, false, x.kind())
    }
}

/// Intermediate quantities of a mixture evaluation (see [`GaussianMixture::pieces`]).
pub struct Pieces {
    pub log_p: Tensor,
    pub r: Tensor,
    pub d: Tensor,
    pub var: Tensor,
}

/// [N, 1] → [N, 1, 1]; 0-dim stays 0-dim.
fn expand3(c: &Tensor) -> Tensor {
    if c.dim() == 0 {
        c.shallow_clone()
    } else {
        c.reshape([-1, 1, 1])
    }
}

impl Target for GaussianMixture {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn dim(&self) -> usize {
        self.means[0].len()
    }
    fn sample(&self, n: usize, device: Device) -> Tensor {
        let m = self.tensors(device, Kind::Float);
        let idx = m.log_w.exp().multinomial(n as i64, true);
        let mu = m.mu.index_select(0, &idx);
        let sd = m.var.index_select(0, &idx).sqrt();
        mu + sd * Tensor::randn([n as i64, self.dim() as i64], (Kind::Float, device))
    }
    fn log_prob(&self, x: &Tensor) -> Option<Tensor> {
        let one = Tensor::from(1.0);
        let zero = Tensor::from(0.0);
        Some(self.log_prob_at(x, &one, &zero))
    }
    fn score(&self, x: &Tensor) -> Option<Tensor> {
        Some(self.score_at(x, &Tensor::from(1.0), &Tensor::from(0.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::tests::{check_normalised_1d, check_normalised_2d, check_score};

    #[test]
    fn presets_are_normalised_and_scores_exact() {
        let g = GaussianMixture::gmm1d();
        check_normalised_1d(&g, (-8.0, 8.0), 1e-6);
        check_score(&g, 2.0, 1e-4);
        let e = GaussianMixture::eight_gaussians(2.0, 0.2).unwrap();
        check_normalised_2d(&e, (-4.0, 4.0), (-4.0, 4.0), 1e-3);
        check_score(&e, 2.5, 1e-4);
        let aniso = GaussianMixture::new(
            vec![1.0, 3.0],
            vec![vec![0.0, 1.0, -1.0], vec![1.0, -1.0, 0.5]],
            vec![vec![0.5, 1.0, 0.8], vec![1.2, 0.3, 0.6]],
        )
        .unwrap();
        check_score(&aniso, 1.5, 1e-4);
    }

    #[test]
    fn sample_moments() {
        let _rng = crate::rng::seed_exclusive(3);
        let g = GaussianMixture::gmm1d();
        let x = g.sample(200_000, Device::Cpu).to_kind(Kind::Double);
        // mean 0 by symmetry; var = Σ w (s² + μ²) = 0.25·(0.25+4)·2 + 0.5·0.09 = 2.17
        let (m, v) = (
            x.mean(Kind::Double).double_value(&[]),
            x.var(true).double_value(&[]),
        );
        assert!(m.abs() < 5.0 * (2.17f64 / 2e5).sqrt(), "mean {m}");
        assert!((v - 2.17).abs() < 0.03, "var {v}");
    }

    #[test]
    fn rejects_bad_parameters() {
        let e = GaussianMixture::new(vec![1.0], vec![vec![0.0]], vec![vec![-1.0]])
            .unwrap_err()
            .to_string();
        assert!(e.contains("stds"), "{e}");
        let e = GaussianMixture::new(vec![1.0, 1.0], vec![vec![0.0]], vec![vec![1.0]])
            .unwrap_err()
            .to_string();
        assert!(e.contains("means"), "{e}");
    }
}
