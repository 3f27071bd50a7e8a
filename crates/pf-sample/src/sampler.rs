//! The sampler seam: what one `[[sampler]]` method is to the rest of pflow.
//!
//! A method is one type, usually in one file: a serde config (unknown keys rejected, defaults
//! filled) that implements [`Sampler`]. It checks its own values ([`Sampler::check`], errors
//! name the key as the user wrote it: `sampler[1].eta`), shrinks its own budget for `--quick`,
//! asks for what it needs through typed views ([`Ctx::score_model`], [`Ctx::velocity_model`],
//! [`Ctx::ddpm_model`], [`Ctx::density_ratio`], the target's log-density), and runs under the
//! shared [`Driver`] (recording, non-finite guard). [`crate::registry::Registry`] maps the
//! config's `method = "…"` to it; nothing else lists methods.
//!
//! Time runs t = 1 (prior/source) → t = 0 (data) in every sampler.

use crate::driver::Driver;
use crate::init::{InitConfig, Start};
use crate::{Error, Result, SampleOut};
use pf_core::field::{FieldKind, FusedLangevin, ScoreField, VelocityField};
use pf_core::path::{DdpmSchedule, GaussianPath, PathConfig};
use pf_core::ratio::DensityRatio;
use pf_core::target::Target;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// One sampling method, configured.
///
/// What a new sampler must write: [`budget`](Sampler::budget) (views of its particle and step
/// counts), [`models`](Sampler::models) (the models it evaluates: `--resume` keys its samples
/// on them, so the compiler asks for it), [`check`](Sampler::check) and [`run`](Sampler::run).
/// `--quick`, chunking and the particle count follow from the budget; override
/// [`quick`](Sampler::quick), [`set_particles`](Sampler::set_particles) or
/// [`footprint`](Sampler::footprint) only where the method differs.
pub trait Sampler: Send + Sync + std::fmt::Debug {
    /// Its budget, as views into its config: the particles it returns, the steps `--quick`
    /// caps, and whether its particles are independent (so it can run in chunks).
    fn budget(&mut self) -> Budget<'_>;
    /// The models it evaluates, by name, and the one whose Gaussian path its particles follow.
    fn models(&self) -> ModelUse<'_>;
    /// Checks every value against the target and the configured models; errors name the key
    /// under [`Check::key`].
    fn check(&self, cx: &Check) -> Result<()>;
    /// Draws the samples. Called under a seeded generator; `drv` records and guards.
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut>;
    /// Shrinks every budget for `--quick` (see [`Quick`]). Returns the number of steps a
    /// recorded trajectory then spans (the frame stride becomes a tenth of it), or None to keep
    /// the stride as configured. Default: particles capped at [`Quick::particles`], steps (where
    /// the budget has them) at [`Quick::steps`], which a trajectory then spans.
    fn quick(&mut self, q: &Quick) -> Option<usize> {
        let b = self.budget();
        Quick::cap(b.particles, q.particles);
        b.steps.map(|s| {
            Quick::cap(s, q.steps);
            *s
        })
    }
    /// Sets the number of particles (for running in chunks). Returns false where the method
    /// cannot run in chunks: its particles interact ([`Budget::interacting`]).
    fn set_particles(&mut self, n: usize) -> bool {
        let b = self.budget();
        if b.independent {
            *b.particles = n;
        }
        b.independent
    }
    /// What it holds while it runs, for the pre-flight memory check. Default: 12 rows over its
    /// steps.
    fn footprint(&self) -> Footprint {
        Footprint::default()
    }
}

/// A sampler's budget: mutable views of its particle and step counts.
pub struct Budget<'a> {
    /// The particles it returns.
    pub particles: &'a mut usize,
    /// The step count `--quick` caps; None where it has none to cap (DDPM's steps are the model's).
    pub steps: Option<&'a mut usize>,
    /// Whether its particles move independently of each other, so that N particles can run as
    /// several chunks of fewer ([`crate::chunk`]).
    pub independent: bool,
}

impl<'a> Budget<'a> {
    /// `particles` independent particles over `steps` steps.
    pub fn new(particles: &'a mut usize, steps: &'a mut usize) -> Self {
        Self {
            particles,
            steps: Some(steps),
            independent: true,
        }
    }
    /// `particles` independent particles, no step count of its own.
    pub fn particles(particles: &'a mut usize) -> Self {
        Self {
            particles,
            steps: None,
            independent: true,
        }
    }
    /// The same budget for particles that interact (they cannot run in chunks).
    pub fn interacting(self) -> Self {
        Self {
            independent: false,
            ..self
        }
    }
}

/// The models a sampler evaluates, by name, and the one among them whose Gaussian path its
/// particles follow: started from that path's prior and driven by that model's field, they are
/// meant to be distributed as the path's marginal p_t at every time t of their trajectory
/// (none for Langevin, MonoFlow, DDPM's discrete chain, a flow started elsewhere).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelUse<'a> {
    pub models: Vec<&'a str>,
    pub path: Option<&'a str>,
}

impl<'a> ModelUse<'a> {
    /// No model: the sampler uses the target (or a density ratio) only.
    pub fn none() -> Self {
        Self::default()
    }
    /// These models; particles follow none of their paths.
    pub fn models(names: &[&'a str]) -> Self {
        Self {
            models: names.to_vec(),
            path: None,
        }
    }
    /// These models, particles following the path of the first.
    pub fn following(names: &[&'a str]) -> Self {
        Self {
            models: names.to_vec(),
            path: names.first().copied(),
        }
    }
}

/// A sampler's working set: `rows` float32 [N, D] tensors alive at once (particles, noise,
/// score, solver stages, autograd buffers), `floats` more float32 values per particle that do
/// not scale with D (an estimator's activations), and the steps a recorded trajectory spans.
/// The nets of [`Sampler::models`] are counted on top, once each on all N particles.
#[derive(Clone, Debug)]
pub struct Footprint {
    pub rows: f64,
    pub floats: f64,
    pub steps: usize,
}

impl Default for Footprint {
    /// A conservative working set: 12 rows, no steps.
    fn default() -> Self {
        Self {
            rows: 12.0,
            floats: 0.0,
            steps: 0,
        }
    }
}

impl Footprint {
    /// `rows` rows over `steps` steps.
    pub fn new(rows: f64, steps: usize) -> Self {
        Self {
            rows,
            floats: 0.0,
            steps,
        }
    }
}

/// `--quick`'s budget: every run finishes in well under a minute on 2 CPU cores.
#[derive(Clone, Copy, Debug)]
pub struct Quick {
    pub particles: usize,
    pub steps: usize,
    pub iterations: usize,
}

impl Default for Quick {
    fn default() -> Self {
        Self {
            particles: 1000,
            steps: 100,
            iterations: 300,
        }
    }
}

impl Quick {
    /// `v` capped at `cap`.
    pub fn cap(v: &mut usize, cap: usize) {
        *v = (*v).min(cap);
    }
}

/// A configured model as a sampler's check sees it: what it serves and on which path.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    pub name: String,
    /// The objective it is trained with, as configs name it (`dsm`, `fm-linear`, …).
    pub objective: String,
    /// The fields it can serve.
    pub provides: Vec<FieldKind>,
    /// Its Gaussian path; None for a path with no closed form (the linear path from an
    /// arbitrary source) or a discrete DDPM schedule.
    pub path: Option<PathConfig>,
    /// DDPM's number of steps T for DDPM noise models.
    pub ddpm_steps: Option<usize>,
}

/// What a sampler's [`Sampler::check`] may consult.
pub struct Check<'a> {
    /// Where the sampler sits in the config: `sampler[1]`.
    pub key: String,
    /// Its method as configs name it (for messages).
    pub method: String,
    pub target: &'a dyn Target,
    pub models: &'a [ModelInfo],
    /// The objectives that provide each field kind (for messages: "dsm or csm").
    pub providers: &'a dyn Fn(FieldKind) -> Vec<String>,
    /// Checks a density-ratio estimator's options, when one is available.
    pub ratio: Option<&'a dyn RatioFactory>,
}

impl Check<'_> {
    /// The target's dimension.
    pub fn dim(&self) -> usize {
        self.target.dim()
    }
    /// `invalid sampler[i].<field> = <value>: <msg>`.
    pub fn invalid(&self, field: &str, value: impl std::fmt::Display, msg: &str) -> Error {
        Error::invalid(&format!("{}.{field}", self.key), value, msg)
    }
    /// `v` ≥ 1.
    pub fn at_least_one(&self, field: &str, v: usize) -> Result<()> {
        if v == 0 {
            return Err(self.invalid(field, 0, "must be ≥ 1"));
        }
        Ok(())
    }
    /// `v` finite and > 0.
    pub fn positive(&self, field: &str, v: f64) -> Result<()> {
        if !(v > 0.0 && v.is_finite()) {
            return Err(self.invalid(field, v, "must be finite and > 0"));
        }
        Ok(())
    }
    /// `v` finite and ≥ 0.
    pub fn non_negative(&self, field: &str, v: f64) -> Result<()> {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(self.invalid(field, v, "must be finite and ≥ 0"));
        }
        Ok(())
    }
    /// An end time in [0, 1).
    pub fn t_end(&self, field: &str, v: f64) -> Result<()> {
        if !(0.0..1.0).contains(&v) {
            return Err(self.invalid(field, v, "must be in [0, 1)"));
        }
        Ok(())
    }
    /// Per-dimension step sizes: 1 or D values, each finite and > 0.
    pub fn per_dim(&self, field: &str, v: &[f64]) -> Result<()> {
        let dim = self.dim();
        if v.len() != 1 && v.len() != dim {
            return Err(self.invalid(
                field,
                format!("{v:?}"),
                &format!("give 1 or {dim} values (one per dimension)"),
            ));
        }
        if v.iter().any(|e| !(*e > 0.0 && e.is_finite())) {
            return Err(self.invalid(field, format!("{v:?}"), "step sizes must be finite and > 0"));
        }
        Ok(())
    }
    /// The target has a log-density (Langevin-type methods need it).
    pub fn log_density(&self) -> Result<()> {
        let probe = Tensor::zeros([1, self.dim() as i64], (Kind::Float, Device::Cpu));
        if self.target.log_prob(&probe).is_none() {
            return Err(self.invalid(
                "method",
                format!("{:?}", self.method),
                &format!(
                    "target {} has samples only, no log-density, and {} needs its score; use a [[model]] with reverse-sde / pf-ode / flow, or monoflow",
                    self.target.name(),
                    self.method
                ),
            ));
        }
        Ok(())
    }
    /// The model named `name` under key `field`, which must provide `kind`.
    pub fn model(&self, field: &str, name: &str, kind: FieldKind) -> Result<&ModelInfo> {
        let Some(m) = self.models.iter().find(|m| m.name == name) else {
            let known: Vec<&str> = self.models.iter().map(|m| m.name.as_str()).collect();
            return Err(self.invalid(
                field,
                format!("{name:?}"),
                &format!("no [[model]] has that name (known: {known:?})"),
            ));
        };
        if !m.provides.contains(&kind) {
            return Err(self.invalid(
                field,
                format!("{name:?}"),
                &format!(
                    "{} needs a {kind} model ({}), but that model is trained with {}",
                    self.method,
                    (self.providers)(kind).join(" or "),
                    m.objective
                ),
            ));
        }
        Ok(m)
    }
    /// Where particles start: the option's values fit the target.
    pub fn init(&self, field: &str, init: &InitConfig) -> Result<()> {
        init.check(&format!("{}.{field}", self.key), self.dim())
    }
}

/// The run-time view of the configured models, by name.
pub trait Models {
    /// A model serving a score on a Gaussian path.
    fn score(&self, name: &str) -> Option<ScoreModel<'_>>;
    /// A model serving a velocity.
    fn velocity(&self, name: &str) -> Option<VelocityModel<'_>>;
    /// A DDPM noise model.
    fn ddpm(&self, name: &str) -> Option<DdpmModel<'_>>;
}

/// No models (samplers that use only the target).
pub struct NoModels;
impl Models for NoModels {
    fn score(&self, _: &str) -> Option<ScoreModel<'_>> {
        None
    }
    fn velocity(&self, _: &str) -> Option<VelocityModel<'_>> {
        None
    }
    fn ddpm(&self, _: &str) -> Option<DdpmModel<'_>> {
        None
    }
}

/// A score field with the Gaussian path it belongs to.
pub struct ScoreModel<'a> {
    pub field: Box<dyn ScoreField + 'a>,
    pub path: Arc<dyn GaussianPath>,
}

/// A velocity field, its Gaussian path where it has one, and the source of a linear path.
pub struct VelocityModel<'a> {
    pub field: Box<dyn VelocityField + 'a>,
    pub path: Option<Arc<dyn GaussianPath>>,
    pub source: Option<&'a dyn Target>,
}

impl VelocityModel<'_> {
    /// Where its flow starts at t = 1: the source's samples, else the path's prior N(0, σ(1)² I).
    pub fn start(&self) -> Start<'_> {
        match (self.source, &self.path) {
            (Some(s), _) => Start::Target(s),
            (None, Some(p)) => Start::Normal(p.prior_std()),
            (None, None) => Start::Normal(1.0),
        }
    }
}

/// A noise predictor ε(x, t): x [N, D], t [1, 1] → [N, D].
pub type EpsField<'a> = Box<dyn Fn(&Tensor, &Tensor) -> Tensor + 'a>;

/// A DDPM noise predictor with its discrete schedule.
pub struct DdpmModel<'a> {
    pub schedule: &'a DdpmSchedule,
    pub eps: EpsField<'a>,
}

/// Builds density-ratio estimators (MonoFlow's discriminator) from their config tables. The
/// tables are opaque here: the estimator's crate owns their keys.
pub trait RatioFactory {
    /// Checks the options under `key` (`sampler[2]`) for a target of dimension `dim`.
    fn check(
        &self,
        key: &str,
        net: Option<&toml::Value>,
        train: Option<&toml::Value>,
        dim: usize,
    ) -> Result<()>;
    /// A fresh estimator.
    fn build(
        &self,
        net: Option<&toml::Value>,
        train: Option<&toml::Value>,
        dim: usize,
        device: Device,
    ) -> Result<Box<dyn DensityRatio>>;
}

/// What a sampler's [`Sampler::run`] draws on.
pub struct Ctx<'a> {
    pub target: &'a dyn Target,
    pub models: &'a dyn Models,
    pub ratio: Option<&'a dyn RatioFactory>,
    pub device: Device,
    /// A fused Langevin step of `target`'s own closed-form score, where it has one
    /// ([`pf_core::target::TargetConfig::fused_langevin`]); `None` otherwise. Only a sampler
    /// driven by exactly that score may use it (ULA with `score = "target"`), never one driven
    /// by autograd or a network.
    pub fused: Option<&'a dyn FusedLangevin>,
}

impl Ctx<'_> {
    /// The target's dimension.
    pub fn dim(&self) -> usize {
        self.target.dim()
    }
    /// A score model by name.
    pub fn score_model(&self, name: &str) -> Result<ScoreModel<'_>> {
        self.models
            .score(name)
            .ok_or_else(|| missing(name, FieldKind::Score))
    }
    /// A velocity model by name.
    pub fn velocity_model(&self, name: &str) -> Result<VelocityModel<'_>> {
        self.models
            .velocity(name)
            .ok_or_else(|| missing(name, FieldKind::Velocity))
    }
    /// A DDPM noise model by name.
    pub fn ddpm_model(&self, name: &str) -> Result<DdpmModel<'_>> {
        self.models
            .ddpm(name)
            .ok_or_else(|| missing(name, FieldKind::DdpmNoise))
    }
    /// A fresh density-ratio estimator.
    pub fn density_ratio(
        &self,
        net: Option<&toml::Value>,
        train: Option<&toml::Value>,
    ) -> Result<Box<dyn DensityRatio>> {
        let f = self.ratio.ok_or_else(|| Error::Unavailable {
            what: "a density-ratio estimator".into(),
        })?;
        f.build(net, train, self.dim(), self.device)
    }
    /// `n` particles from a Gaussian path's prior N(0, σ(1)² I), where diffusion samplers start.
    pub fn prior(&self, n: usize, path: &dyn GaussianPath) -> Result<Tensor> {
        self.initial(&InitConfig::Default, n, Start::Normal(path.prior_std()))
    }
    /// `n` initial particles as `init` says, `default` where it says `default`.
    pub fn initial(&self, init: &InitConfig, n: usize, default: Start) -> Result<Tensor> {
        init.draw(n, self.dim(), self.device, default)
    }
}

fn missing(name: &str, kind: FieldKind) -> Error {
    Error::Unavailable {
        what: format!("model {name:?} as a {kind} model"),
    }
}
