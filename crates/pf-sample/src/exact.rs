//! Exact fields as models (`[[exact]]`): a Gaussian-mixture target's noised score, velocity and
//! DDPM noise in closed form, served to samplers exactly where a trained network would be.
//!
//! Under a Gaussian path x_t = α(t) x₀ + σ(t) ε a mixture stays a mixture (pf-core's
//! [`GmmOracle`]), so on such a target every sampler can run once with the exact field and once
//! with a learned one: the first row measures the discretisation error alone, the difference
//! between the two the network's learning error.
//!
//! - score: s(x, t) = ∇ₓ log p_t(x) on the configured `path`;
//! - velocity: the path's probability-flow velocity, v = α' E[x₀|x] + σ' E[ε|x];
//! - DDPM noise (with a `ddpm` schedule): ε(x_k, k) = −σ_k ∇log p_k(x_k), where p_k is the
//!   mixture pushed through x_k = √ᾱ_k x₀ + √(1 − ᾱ_k) ε, the step k read from DDPM's time
//!   t_k = (k + 1)/T on the device (no host read per step).

use crate::sampler::{DdpmModel, ModelInfo, Models, ScoreModel, VelocityModel};
use crate::{Error, Result};
use pf_core::field::FieldKind;
use pf_core::oracle::GmmOracle;
use pf_core::path::{DdpmSchedule, GaussianPath, PathConfig};
use pf_core::target::GaussianMixture;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// One `[[exact]]` table: a name samplers refer to (`model = "…"`), the Gaussian path its score
/// and velocity follow, and optionally a DDPM schedule for its noise predictor.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExactConfig {
    pub name: String,
    #[serde(default)]
    pub path: PathConfig,
    /// DDPM's discrete schedule (for `ddpm` / `ddim` samplers).
    #[serde(default)]
    pub ddpm: Option<DdpmSpec>,
}

/// T steps with β linear from `beta_1` to `beta_t` (Ho et al.: 1000, 1e-4, 0.02).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdpmSpec {
    #[serde(default = "ddpm_steps")]
    pub steps: usize,
    #[serde(default = "beta_1")]
    pub beta_1: f64,
    #[serde(default = "beta_t")]
    pub beta_t: f64,
}

fn ddpm_steps() -> usize {
    1000
}
fn beta_1() -> f64 {
    1e-4
}
fn beta_t() -> f64 {
    0.02
}

/// What `[[exact]]` models are called in messages and reports.
pub const OBJECTIVE: &str = "exact";

impl ExactConfig {
    /// What it serves, as samplers' checks see it.
    pub fn info(&self) -> ModelInfo {
        let mut provides = vec![FieldKind::Score, FieldKind::Velocity];
        if self.ddpm.is_some() {
            provides.push(FieldKind::DdpmNoise);
        }
        ModelInfo {
            name: self.name.clone(),
            objective: OBJECTIVE.into(),
            provides,
            path: Some(self.path.clone()),
            ddpm_steps: self.ddpm.as_ref().map(|d| d.steps),
        }
    }

    /// Checks the path and schedule; `key` is where the table sits (`exact[0]`), `target` the
    /// run's target and whether it is a Gaussian mixture.
    pub fn check(&self, key: &str, target: &str, mixture: bool) -> Result<()> {
        if !mixture {
            return Err(Error::invalid(
                &format!("{key}.name"),
                format!("{:?}", self.name),
                &format!("exact fields need a Gaussian-mixture target (8gaussians, gmm, gmm1d); target {target} has no closed-form noised score"),
            ));
        }
        self.path
            .validate(&format!("{key}.path"))
            .map_err(Error::Core)?;
        if let Some(d) = &self.ddpm {
            if d.steps == 0 {
                return Err(Error::invalid(
                    &format!("{key}.ddpm.steps"),
                    0,
                    "must be ≥ 1",
                ));
            }
            if !(0.0 < d.beta_1 && d.beta_1 < d.beta_t && d.beta_t < 1.0) {
                return Err(Error::invalid(
                    &format!("{key}.ddpm.beta_1/beta_t"),
                    format!("{}/{}", d.beta_1, d.beta_t),
                    "need 0 < beta_1 < beta_t < 1",
                ));
            }
        }
        Ok(())
    }

    /// The model for target mixture `gmm` on `device`.
    pub fn build(&self, gmm: GaussianMixture, device: Device) -> Result<ExactModel> {
        let path = self.path.build()?;
        let ddpm = self.ddpm.as_ref().map(|d| {
            let s = DdpmSchedule::linear(d.steps, d.beta_1, d.beta_t);
            // in f64 before rounding: 1 − ᾱ_k in float32 would lose digits near k = 0
            let col = |f: fn(f64) -> f64| {
                let v: Vec<f32> = s.alpha_bars.iter().map(|&a| f(a) as f32).collect();
                Tensor::from_slice(&v).to_device(device)
            };
            let tables = Tables {
                alpha: col(f64::sqrt),
                sigma: col(|a| (1.0 - a).sqrt()),
            };
            (s, tables)
        });
        Ok(ExactModel {
            oracle: GmmOracle::new(gmm, path),
            ddpm,
        })
    }
}

/// √ᾱ_k and √(1 − ᾱ_k) per step k, on the device.
struct Tables {
    alpha: Tensor,
    sigma: Tensor,
}

/// A built `[[exact]]` model.
pub struct ExactModel {
    pub oracle: GmmOracle<Arc<dyn GaussianPath>>,
    ddpm: Option<(DdpmSchedule, Tables)>,
}

impl ExactModel {
    /// DDPM's ε(x, t) at t = (k + 1)/T: −σ_k ∇log p_k(x). x [N, D], t [1, 1] → [N, D].
    fn eps(&self, x: &Tensor, t: &Tensor) -> Tensor {
        let (s, tab) = self.ddpm.as_ref().expect("a ddpm schedule");
        let big_t = s.steps() as f64;
        let k = (t.to_kind(Kind::Double) * big_t - 1.0)
            .round()
            .clamp(0.0, big_t - 1.0)
            .to_kind(Kind::Int64)
            .view([-1]);
        let a = tab
            .alpha
            .index_select(0, &k)
            .view([-1, 1])
            .to_kind(x.kind());
        let sg = tab
            .sigma
            .index_select(0, &k)
            .view([-1, 1])
            .to_kind(x.kind());
        -self.oracle.gmm.score_at(x, &a, &sg) * sg
    }
}

/// The `[[exact]]` models of a run, by name.
#[derive(Default)]
pub struct ExactSet(pub HashMap<String, ExactModel>);

impl Models for ExactSet {
    fn score(&self, name: &str) -> Option<ScoreModel<'_>> {
        let m = self.0.get(name)?;
        Some(ScoreModel {
            field: Box::new(&m.oracle),
            path: m.oracle.path.clone(),
        })
    }
    fn velocity(&self, name: &str) -> Option<VelocityModel<'_>> {
        let m = self.0.get(name)?;
        Some(VelocityModel {
            field: Box::new(&m.oracle),
            path: Some(m.oracle.path.clone()),
            source: None,
        })
    }
    fn ddpm(&self, name: &str) -> Option<DdpmModel<'_>> {
        let m = self.0.get(name)?;
        let (s, _) = m.ddpm.as_ref()?;
        Some(DdpmModel {
            schedule: s,
            eps: Box::new(move |x: &Tensor, t: &Tensor| m.eps(x, t)),
        })
    }
}

/// Two sets of models as one: a name is looked up in the first, then the second.
pub struct Chain<'a>(pub &'a dyn Models, pub &'a dyn Models);

impl Models for Chain<'_> {
    fn score(&self, name: &str) -> Option<ScoreModel<'_>> {
        self.0.score(name).or_else(|| self.1.score(name))
    }
    fn velocity(&self, name: &str) -> Option<VelocityModel<'_>> {
        self.0.velocity(name).or_else(|| self.1.velocity(name))
    }
    fn ddpm(&self, name: &str) -> Option<DdpmModel<'_>> {
        self.0.ddpm(name).or_else(|| self.1.ddpm(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact DDPM noise is the ε that made x_k: for x_k = √ᾱ_k x₀ + √(1 − ᾱ_k) ε with x₀ from
    /// a single Gaussian N(μ, s²), E[ε | x_k] = √(1 − ᾱ_k)(x_k − √ᾱ_k μ)/(ᾱ_k s² + 1 − ᾱ_k),
    /// checked at several steps to float32 rounding.
    #[test]
    fn ddpm_noise_is_the_posterior_mean_of_eps() {
        let (mu, s) = (0.7f64, 0.4f64);
        let gmm = GaussianMixture::new(vec![1.0], vec![vec![mu]], vec![vec![s]]).unwrap();
        let cfg = ExactConfig {
            name: "e".into(),
            path: PathConfig::default(),
            ddpm: Some(DdpmSpec {
                steps: 1000,
                beta_1: 1e-4,
                beta_t: 0.02,
            }),
        };
        let set = ExactSet(HashMap::from([(
            "e".to_string(),
            cfg.build(gmm, Device::Cpu).unwrap(),
        )]));
        let m = set.ddpm("e").unwrap();
        let x = Tensor::linspace(-2.0, 2.0, 9, (Kind::Float, Device::Cpu)).view([-1, 1]);
        for k in [0usize, 10, 300, 999] {
            let t = Tensor::from_slice(&[m.schedule.time(k) as f32]).view([1, 1]);
            let e = (m.eps)(&x, &t);
            let ab = m.schedule.alpha_bars[k];
            let want = (&x - ab.sqrt() * mu) * ((1.0 - ab).sqrt() / (ab * s * s + 1.0 - ab));
            let err = (e - want).abs().max().double_value(&[]);
            assert!(err < 1e-5, "step {k}: max |ε − exact| = {err}");
        }
        assert!(set.score("nope").is_none());
        let info = cfg.info();
        assert_eq!(info.ddpm_steps, Some(1000));
        assert!(info.provides.contains(&FieldKind::DdpmNoise));
    }

    /// A non-mixture target is refused with the key named.
    #[test]
    fn needs_a_mixture() {
        let cfg = ExactConfig {
            name: "e".into(),
            path: PathConfig::default(),
            ddpm: None,
        };
        let e = cfg
            .check("exact[0]", "funnel", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("exact[0].name") && e.contains("funnel"), "{e}");
    }
}
