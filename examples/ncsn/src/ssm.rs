//! Sliced score matching (Song, Garg, Shi & Ermon 2019), noise-conditional: `kind = "ssm"`.
//!
//! **Score matching at one noise level.** For samples x̃ of a density p_t, Hyvärinen's
//! integration by parts turns the unknown target ∇log p_t into a term in the model alone:
//!
//!   J_t(θ) = E_{x̃ ~ p_t} [ tr ∇ₓ s_θ(x̃, t) + ½ ‖s_θ(x̃, t)‖² ]
//!          = ½ E ‖s_θ − ∇log p_t‖² − ½ E ‖∇log p_t‖²,
//!
//! so J_t is minimised exactly by the true score, and it is **signed**: at the optimum it equals
//! −½ E‖∇log p_t‖² < 0. Sliced score matching replaces the trace (D backward passes) by random
//! projections v with E[v vᵀ] = I, tr A = E_v[vᵀ A v]:
//!
//! - SSM-VR (`variance_reduction = true`, the default): vᵀ ∇ₓ(vᵀ s_θ) + ½ ‖s_θ‖²;
//! - SSM (`variance_reduction = false`): vᵀ ∇ₓ(vᵀ s_θ) + ½ (vᵀ s_θ)², since E_v[(vᵀs)²] = ‖s‖²;
//!
//! with `projections` = M draws of v per sample (averaged), v ~ N(0, I) (`projection =
//! "gaussian"`) or uniform on {−1, 1}^D (`"rademacher"`). vᵀ ∇ₓ(vᵀ s) is one Jacobian–vector
//! product: ∇ₓ of the per-row scalar vᵀ s by a backward pass with `create_graph`, so that the
//! parameters' gradient flows through it (without it the trace term would carry no gradient and
//! the fit would collapse towards s = 0).
//!
//! **Noise-conditional, on the model's Gaussian path** (NCSN's design, written on pflow's time
//! axis): x̃ = α(t) x₀ + σ(t) z is a sample of the path's marginal p_t, so J_t trains s_θ(·, t)
//! towards ∇log p_t at every t at once:
//!
//!   L(θ) = E_t [ λ(t) J_t(θ) ],  λ(t) = σ(t)² (`weighting = "sigma-sq"`, NCSN's choice)
//!
//! with t ~ U(T_ε, 1] (continuous), or, with `levels = L`, t uniform over the L equally spaced
//! times t_k = T_ε + (1 − T_ε) k/(L − 1). On the VE path σ(t) = σ_min (σ_max/σ_min)^t those are
//! exactly NCSN's geometric ladder σ_max = σ_1 > … > σ_L ≈ σ_min, drawn uniformly, and the
//! continuous form is its limit (log σ uniform). The trained net is read like a DSM-trained one:
//! the score on the model's path (`[model.path]`), so annealed Langevin dynamics and pflow's VE
//! samplers (reverse SDE, PF ODE, predictor–corrector) can drive it.
//!
//! **Relation to DSM.** With pflow's DSM per time, λ ‖s + z/σ‖², and s* = ∇log p_t:
//! ½ DSM_t = ½ E‖s − s*‖² + D/(2σ²) − ½ E‖s*‖², hence
//!
//!   SSM_t(s) − ½ DSM_t(s) = −λ(t) D/(2σ(t)²)  (= −D/2 with λ = σ²),
//!
//! the same constant for every model s: the two losses have the same minimiser and the same
//! gradients in expectation. `tests/ssm.rs` checks this in closed form and by Monte Carlo.

use pf_core::param::Param;
use pf_core::path::GaussianPath;
use pf_train::objective::{t_eps_in_unit, want_param, BatchLoss, Objective};
use pf_train::{Error, Loss, Predictor, Result, Weighting};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// The law of the projections v (E[v vᵀ] = I for both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Projection {
    /// v ~ N(0, I).
    #[default]
    Gaussian,
    /// v uniform on {−1, 1}^D (a lower-variance trace estimator).
    Rademacher,
}

impl Projection {
    /// One projection per row of `like` [N, D], same kind and device.
    pub fn draw(self, like: &Tensor) -> Tensor {
        match self {
            Projection::Gaussian => like.randn_like(),
            Projection::Rademacher => like.randint_like(2) * 2.0 - 1.0,
        }
    }
}

/// `kind = "ssm"`: sliced score matching on the model's Gaussian path (see the module docs).
/// Defaults: SSM-VR, one Gaussian projection per sample, λ = σ², T_ε = 1e-5, continuous t.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsmConfig {
    /// SSM-VR (½‖s‖² in closed form) rather than plain SSM (½(vᵀs)²).
    #[serde(default = "yes")]
    pub variance_reduction: bool,
    /// The law of v: `gaussian` or `rademacher`.
    #[serde(default)]
    pub projection: Projection,
    /// M, the number of projections per sample.
    #[serde(default = "one")]
    pub projections: usize,
    /// λ(t): `sigma-sq` (NCSN), `none` or `likelihood`.
    #[serde(default = "sigma_sq")]
    pub weighting: Weighting,
    /// T_ε: the smallest time trained.
    #[serde(default = "t_eps")]
    pub t_eps: f64,
    /// L discrete noise levels instead of continuous t (absent: continuous).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<usize>,
}

fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}
fn sigma_sq() -> Weighting {
    Weighting::SigmaSq
}
fn t_eps() -> f64 {
    1e-5
}

impl Default for SsmConfig {
    fn default() -> Self {
        Self {
            variance_reduction: true,
            projection: Projection::Gaussian,
            projections: 1,
            weighting: Weighting::SigmaSq,
            t_eps: t_eps(),
            levels: None,
        }
    }
}

impl SsmConfig {
    /// Checks the values; errors name `<prefix>.<key>` (`model[0].loss.projections`).
    pub fn validate(&self, prefix: &str) -> Result<()> {
        if self.projections == 0 {
            return Err(Error::Other(format!(
                "invalid {prefix}.projections = 0: must be ≥ 1"
            )));
        }
        if let Some(l) = self.levels {
            if l < 2 {
                return Err(Error::Other(format!(
                    "invalid {prefix}.levels = {l}: a ladder needs ≥ 2 levels (leave levels out for continuous t)"
                )));
            }
        }
        Ok(())
    }
}

impl Objective for SsmConfig {
    /// SSM drops the data-dependent constant of score matching: at the optimum it is
    /// −½ E[λ ‖∇log p_t‖²] < 0, so `loss.png` draws it on a linear axis.
    fn signed_loss(&self) -> bool {
        true
    }
    fn check(&self, key: &str, param: Param, _dim: usize) -> Result<()> {
        self.validate(&format!("{key}.loss"))?;
        t_eps_in_unit(key, self.t_eps)?;
        want_param(
            key,
            param,
            &[Param::Eps, Param::Score, Param::X0],
            "ssm",
            "eps, score or x0",
        )
    }
    fn build(&self, path: Arc<dyn GaussianPath>, _device: Device) -> Result<Box<dyn BatchLoss>> {
        Ok(Box::new(Ssm::new(path, self.clone())?))
    }
}

/// The SSM loss on one path.
pub struct Ssm {
    path: Arc<dyn GaussianPath>,
    cfg: SsmConfig,
}

impl Ssm {
    /// Validates `cfg` (errors name `loss.*`).
    pub fn new(path: Arc<dyn GaussianPath>, cfg: SsmConfig) -> Result<Self> {
        cfg.validate("loss")?;
        if !(cfg.t_eps > 0.0 && cfg.t_eps < 1.0) {
            return Err(Error::config("loss.t_eps", cfg.t_eps, "must be in (0, 1)"));
        }
        Ok(Self { path, cfg })
    }

    pub fn config(&self) -> &SsmConfig {
        &self.cfg
    }

    /// `n` training times [n, 1]: U(T_ε, 1], or uniform over the ladder of `levels` times.
    pub fn draw_times(&self, n: i64, (kind, device): (Kind, Device)) -> Tensor {
        let e = self.cfg.t_eps;
        match self.cfg.levels {
            None => pf_train::predictor::uniform_times(n, e, (kind, device)),
            Some(l) => {
                let k = Tensor::randint(l as i64, [n, 1], (Kind::Int64, device)).to_kind(kind);
                k * ((1.0 - e) / (l - 1) as f64) + e
            }
        }
    }

    /// M projections for the rows of `like` [N, D].
    pub fn draw_projections(&self, like: &Tensor) -> Vec<Tensor> {
        (0..self.cfg.projections)
            .map(|_| self.cfg.projection.draw(like))
            .collect()
    }

    /// Per-sample losses for given draws: data x₀ [N, D], times t [N, 1] (or [1, 1]), noise
    /// z [N, D] (x̃ = α x₀ + σ z) and projections v (each [N, D], at least one):
    /// λ(t) [ (1/M) Σ_m v_mᵀ ∇ₓ(v_mᵀ s) + ½‖s‖² ] (VR), or with ½(v_mᵀ s)² inside the mean.
    /// Attached to the autograd graph (second order through the Jacobian term). → [N].
    pub fn per_sample_at(
        &self,
        model: &Predictor,
        x0: &Tensor,
        t: &Tensor,
        z: &Tensor,
        v: &[Tensor],
    ) -> Tensor {
        assert!(!v.is_empty(), "sliced score matching needs ≥ 1 projection");
        // grad mode on even under an outer no_grad: the Jacobian term is a backward pass
        tch::with_grad(|| {
            let c = self.path.coeffs_t(t);
            let x = (x0 * &c.alpha + z * &c.sigma)
                .detach()
                .set_requires_grad(true);
            let s = model.predict_as(Param::Score, &x, t, &c);
            let kind = s.kind();
            let row_sum = |a: &Tensor| a.sum_dim_intlist(-1, false, kind);
            let (mut jac, mut quad) = (Vec::with_capacity(v.len()), Vec::new());
            for vm in v {
                let sv = row_sum(&(&s * vm)); // vᵀ s per row, [N]
                if sv.requires_grad() {
                    // rows are independent: ∇ₓ Σ_n (vᵀs)_n holds each row's own ∇ₓ(vᵀs); keep
                    // the graph (the next projection and the parameters' backward use it) and
                    // create one for the result (its gradient in θ)
                    let g = Tensor::run_backward(&[sv.sum(kind)], &[&x], true, true)
                        .pop()
                        .expect("one gradient");
                    jac.push(row_sum(&(g * vm)));
                }
                if !self.cfg.variance_reduction {
                    quad.push(sv.square() * 0.5);
                }
            }
            // Σ over the projections (no Jacobian terms when the prediction carries no graph)
            let total = |terms: Vec<Tensor>| match terms.len() {
                0 => Tensor::zeros([x.size()[0]], (kind, x.device())),
                _ => Tensor::stack(&terms, 0).sum_dim_intlist(0, false, kind),
            };
            let m = v.len() as f64;
            let per = if self.cfg.variance_reduction {
                total(jac) / m + row_sum(&s.square()) * 0.5
            } else {
                (total(jac) + total(quad)) / m
            };
            let lambda = self.cfg.weighting.lambda_t(&*self.path, t, &c);
            per * lambda.view([-1])
        })
    }

    /// Draws t, z and v for the batch x₀ [N, D]; returns the per-sample losses [N] and t [N, 1].
    pub fn per_sample(&self, model: &Predictor, x0: &Tensor) -> (Tensor, Tensor) {
        let t = self.draw_times(x0.size()[0], (x0.kind(), x0.device()));
        let z = x0.randn_like();
        let v = self.draw_projections(x0);
        (self.per_sample_at(model, x0, &t, &z, &v), t)
    }

    /// The batch loss: the mean of [`per_sample`](Self::per_sample). Signed (see the module docs).
    pub fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss {
        let (l, t) = self.per_sample(model, x0);
        Loss {
            value: l.mean(l.kind()),
            t: Some(t),
        }
    }
}

impl BatchLoss for Ssm {
    fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss {
        Ssm::loss(self, model, x0)
    }
}
