//! The experiment config: one TOML file describes a whole run — target, models and their
//! training, samplers, likelihood, outputs, seed. Every table rejects unknown keys; `validate`
//! checks every value and names the key.

use anyhow::{bail, Context, Result};
use pf_core::param::Param;
use pf_core::path::PathConfig;
use pf_core::target::{Target, TargetConfig};
use pf_nets::NetConfig;
use pf_train::discriminator::DiscriminatorTrainConfig;
use pf_train::dsm::DsmConfig;
use pf_train::TrainConfig;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A whole experiment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// A label for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// Fixes every random draw of the run (overridden by `--seed`).
    #[serde(default)]
    pub seed: u64,
    pub target: TargetConfig,
    /// Models to train, in order (`[[model]]`).
    #[serde(default, rename = "model")]
    pub models: Vec<ModelConfig>,
    /// Samplers to run, in order (`[[sampler]]`); the first is the main one (`samples.npy`).
    #[serde(default, rename = "sampler")]
    pub samplers: Vec<SamplerConfig>,
    /// Log-likelihood through the PF ODE (`[likelihood]`).
    #[serde(default)]
    pub likelihood: Option<LikelihoodConfig>,
    #[serde(default)]
    pub output: OutputConfig,
}

/// One trained network.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// How samplers refer to it.
    #[serde(default = "default_model_name")]
    pub name: String,
    pub net: NetConfig,
    /// The Gaussian path it is trained on (dsm, csm, fm).
    #[serde(default)]
    pub path: PathConfig,
    /// What the net predicts: eps | score | x0 | velocity.
    #[serde(default = "default_param")]
    pub param: Param,
    pub loss: LossConfig,
    #[serde(default)]
    pub train: TrainConfig,
    /// A fixed dataset of `size` target samples (shuffled per epoch); absent: fresh samples
    /// every step.
    #[serde(default)]
    pub dataset: Option<usize>,
}

fn default_model_name() -> String {
    "model".into()
}
fn default_param() -> Param {
    Param::Eps
}

/// The training objective.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LossConfig {
    /// Continuous denoising score matching on the model's path.
    Dsm(DsmConfig),
    /// Discrete DDPM ε-MSE with T steps, β linear from beta_1 to beta_t.
    Ddpm {
        #[serde(default = "ddpm_steps")]
        steps: usize,
        #[serde(default = "ddpm_beta_1")]
        beta_1: f64,
        #[serde(default = "ddpm_beta_t")]
        beta_t: f64,
    },
    /// Conditional score matching on the model's path (seed 004).
    Csm {
        #[serde(default = "cond_t_eps")]
        t_eps: f64,
    },
    /// Conditional flow matching on the model's path.
    Fm {
        #[serde(default = "cond_t_eps")]
        t_eps: f64,
    },
    /// Flow matching on the linear path from an arbitrary source (seed 004).
    FmLinear { source: TargetConfig },
}

fn ddpm_steps() -> usize {
    1000
}
fn ddpm_beta_1() -> f64 {
    1e-4
}
fn ddpm_beta_t() -> f64 {
    0.02
}
fn cond_t_eps() -> f64 {
    1e-3
}

/// Where a sampler's particles start (default: the prior of its method).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum InitConfig {
    /// The method's own start: N(0, I) for Langevin, the path prior for diffusion samplers,
    /// the source for flows on the linear path, 8 Gaussians for MonoFlow.
    #[default]
    Default,
    /// N(shift, diag(scale²)).
    Normal {
        #[serde(default = "one_vec")]
        scale: Vec<f64>,
        #[serde(default = "zero_vec")]
        shift: Vec<f64>,
    },
    /// Exact samples of another target.
    Target { target: TargetConfig },
    /// Rows of an N×D `.npy` or CSV file (drawn with replacement when N differs).
    File { path: PathBuf },
}

fn one_vec() -> Vec<f64> {
    vec![1.0]
}
fn zero_vec() -> Vec<f64> {
    vec![0.0]
}

/// Where a Langevin sampler's score comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreSource {
    /// The target's closed-form score.
    Target,
    /// Autograd of the target's log-density (seed 003).
    Autograd,
}

/// ODE solvers for PF-ODE and flow sampling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Solver {
    Euler,
    Heun,
    Rk4,
    Dopri5,
}

/// MonoFlow's h.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HConfig {
    Logit,
    Ns,
    Vanilla,
    Arcsinh,
}

/// MonoFlow's particle optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParticleOptimizer {
    Sgd,
    Adam,
}

/// One sampler (`[[sampler]]`, tagged by `method`). `name` labels its outputs
/// (`samples_<name>.npy`, `<name>.png`, `<name>.gif`); `record` is the trajectory stride for
/// the GIF (absent: no GIF).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SamplerConfig {
    /// Unadjusted Langevin: x ← x + η ⊙ s + √(2τ) ⊙ ξ (τ = η unless `noise_scale`).
    Ula {
        #[serde(default)]
        name: Option<String>,
        #[serde(default = "particles")]
        particles: usize,
        #[serde(default = "langevin_steps")]
        steps: usize,
        #[serde(default = "default_eta")]
        eta: Vec<f64>,
        #[serde(default)]
        noise_scale: Option<Vec<f64>>,
        #[serde(default = "score_target")]
        score: ScoreSource,
        #[serde(default)]
        init: InitConfig,
        /// Run the particles at most this many at a time (bounded memory; pf_sample::chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk: Option<usize>,
        #[serde(default)]
        record: Option<usize>,
    },
    /// Metropolis-adjusted Langevin.
    Mala {
        #[serde(default)]
        name: Option<String>,
        #[serde(default = "particles")]
        particles: usize,
        #[serde(default = "langevin_steps")]
        steps: usize,
        #[serde(default = "default_eta")]
        eta: Vec<f64>,
        #[serde(default)]
        init: InitConfig,
        /// Run the particles at most this many at a time (bounded memory; pf_sample::chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk: Option<usize>,
        #[serde(default)]
        record: Option<usize>,
    },
    /// Reverse-SDE Euler–Maruyama with a trained score model.
    ReverseSde {
        #[serde(default)]
        name: Option<String>,
        model: String,
        #[serde(default = "particles")]
        particles: usize,
        #[serde(default = "diffusion_steps")]
        steps: usize,
        #[serde(default = "t_end")]
        t_end: f64,
        /// Run the particles at most this many at a time (bounded memory; pf_sample::chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk: Option<usize>,
        #[serde(default)]
        record: Option<usize>,
    },
    /// Predictor–corrector (reverse diffusion + Langevin corrector).
    Pc {
        #[serde(default)]
        name: Option<String>,
        model: String,
        #[serde(default = "particles")]
        particles: usize,
        #[serde(default = "diffusion_steps")]
        steps: usize,
        #[serde(default = "t_end")]
        t_end: f64,
        #[serde(default = "snr")]
        snr: f64,
        #[serde(default = "one")]
        corrector_steps: usize,
        /// Run the particles at most this many at a time (bounded memory; pf_sample::chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk: Option<usize>,
        #[serde(default)]
        record: Option<usize>,
    },
    /// Probability-flow ODE with a trained score model.
    PfOde {
        #[serde(default)]
        name: Option<String>,
        model: String,
        #[serde(default = "particles")]
        particles: usize,
        #[serde(default = "solver")]
        solver: Solver,
        #[serde(default = "diffusion_steps")]
        steps: usize,
        #[serde(default = "tol")]
        rtol: f64,
        #[serde(default = "tol")]
        atol: f64,
        #[serde(default = "t_end")]
        t_end: f64,
        /// Run the particles at most this many at a time (bounded memory; pf_sample::chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk: Option<usize>,
        #[serde(default)]
        record: Option<usize>,
    },
    /// DDPM ancestral sampling (Ho et al., Algorithm 2) with a `ddpm` model.
    Ddpm {
        #[serde(default)]
        name: Option<String>,
        model: String,
        #[serde(default = "particles")]
        particles: usize,
        /// Run the particles at most this many at a time (bounded memory; pf_sample::chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk: Option<usize>,
        #[serde(default)]
        record: Option<usize>,
    },
    /// DDIM (η = 0) with a `ddpm` model over `steps` steps.
    Ddim {
        #[serde(default)]
        name: Option<String>,
        model: String,
        #[serde(default = "particles")]
        particles: usize,
        #[serde(default = "ddim_steps")]
        steps: usize,
        /// Run the particles at most this many at a time (bounded memory; pf_sample::chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk: Option<usize>,
        #[serde(default)]
        record: Option<usize>,
    },
    /// Integrate a velocity model (flow matching) from t = 1 to 0.
    Flow {
        #[serde(default)]
        name: Option<String>,
        model: String,
        #[serde(default = "particles")]
        particles: usize,
        #[serde(default = "solver")]
        solver: Solver,
        #[serde(default = "diffusion_steps")]
        steps: usize,
        #[serde(default = "tol")]
        rtol: f64,
        #[serde(default = "tol")]
        atol: f64,
        #[serde(default)]
        t_end: f64,
        #[serde(default)]
        init: InitConfig,
        /// Run the particles at most this many at a time (bounded memory; pf_sample::chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk: Option<usize>,
        #[serde(default)]
        record: Option<usize>,
    },
    /// Seed 004's Langevin-corrected SDE: velocity model + score model, noise σ.
    PathSde {
        #[serde(default)]
        name: Option<String>,
        velocity: String,
        score: String,
        #[serde(default = "path_sigma")]
        sigma: f64,
        #[serde(default = "particles")]
        particles: usize,
        #[serde(default = "diffusion_steps")]
        steps: usize,
        #[serde(default = "t_end")]
        t_end: f64,
        /// Run the particles at most this many at a time (bounded memory; pf_sample::chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chunk: Option<usize>,
        #[serde(default)]
        record: Option<usize>,
    },
    /// MonoFlow: particles along h'(D)∇D, the discriminator refitted every iteration.
    Monoflow {
        #[serde(default)]
        name: Option<String>,
        #[serde(default = "monoflow_particles")]
        particles: usize,
        #[serde(default = "monoflow_iterations")]
        iterations: usize,
        #[serde(default = "monoflow_particles")]
        batch: usize,
        #[serde(default = "h_logit")]
        h: HConfig,
        #[serde(default = "particle_sgd")]
        optimizer: ParticleOptimizer,
        #[serde(default = "monoflow_lr")]
        lr: f64,
        #[serde(default)]
        noise: f64,
        /// Discriminator architecture (default: an MLP [128, 128] with SiLU, no time input).
        #[serde(default)]
        discriminator: Option<NetConfig>,
        #[serde(default)]
        discriminator_train: Option<DiscriminatorTrainConfig>,
        #[serde(default)]
        init: InitConfig,
        #[serde(default)]
        record: Option<usize>,
    },
}

fn particles() -> usize {
    10_000
}
fn langevin_steps() -> usize {
    1500
}
fn default_eta() -> Vec<f64> {
    vec![1e-3]
}
fn score_target() -> ScoreSource {
    ScoreSource::Target
}
fn diffusion_steps() -> usize {
    1000
}
fn t_end() -> f64 {
    1e-3
}
fn snr() -> f64 {
    0.16
}
fn one() -> usize {
    1
}
fn solver() -> Solver {
    Solver::Rk4
}
fn tol() -> f64 {
    1e-5
}
fn ddim_steps() -> usize {
    100
}
fn path_sigma() -> f64 {
    0.5
}
fn monoflow_particles() -> usize {
    512
}
fn monoflow_iterations() -> usize {
    5000
}
fn h_logit() -> HConfig {
    HConfig::Logit
}
fn particle_sgd() -> ParticleOptimizer {
    ParticleOptimizer::Sgd
}
fn monoflow_lr() -> f64 {
    1e-3
}

/// The points the likelihood is evaluated at.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LikelihoodPoints {
    /// An even grid of `n` points on [lo, hi] (1-D targets; seed 002).
    Grid { lo: f64, hi: f64, n: usize },
    /// `n` fresh samples of the target (held out from training).
    Samples { n: usize },
}

/// Log-likelihood through the PF ODE of a trained score model (`[likelihood]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LikelihoodConfig {
    pub model: String,
    pub points: LikelihoodPoints,
    #[serde(default = "lik_t_eps")]
    pub t_eps: f64,
    #[serde(default = "tol")]
    pub rtol: f64,
    #[serde(default = "tol")]
    pub atol: f64,
    /// exact | hutchinson
    #[serde(default = "trace_exact")]
    pub trace: String,
    #[serde(default = "probes")]
    pub probes: usize,
    /// gaussian | rademacher
    #[serde(default = "probe_rademacher")]
    pub probe: String,
    /// Also evaluate NLL / KL on this many held-out target samples (when the target has a
    /// normalised log-density).
    #[serde(default = "heldout")]
    pub heldout: usize,
    /// Solve at most this many points at a time (bounded memory; each chunk its own adaptive
    /// solve). Absent: all points at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<usize>,
}

fn lik_t_eps() -> f64 {
    1e-5
}
fn trace_exact() -> String {
    "exact".into()
}
fn probes() -> usize {
    1
}
fn probe_rademacher() -> String {
    "rademacher".into()
}
fn heldout() -> usize {
    2000
}

/// What is written besides samples and metrics.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Fresh target samples the metrics compare against.
    #[serde(default = "reference")]
    pub reference: usize,
    /// PNG figures.
    #[serde(default = "yes")]
    pub plots: bool,
    /// GIFs for samplers with `record`.
    #[serde(default = "yes")]
    pub gif: bool,
    #[serde(default = "gif_frames")]
    pub gif_frames: usize,
    #[serde(default = "gif_delay")]
    pub gif_delay_ms: u32,
    /// Particles drawn per frame / scatter (a subset keeps files small).
    #[serde(default = "plot_particles")]
    pub plot_particles: usize,
    /// Fixed plot window [[x_lo, x_hi], [y_lo, y_hi]] (default: from the reference samples).
    #[serde(default)]
    pub window: Option<[[f64; 2]; 2]>,
}

fn reference() -> usize {
    20_000
}
fn yes() -> bool {
    true
}
fn gif_frames() -> usize {
    60
}
fn gif_delay() -> u32 {
    60
}
fn plot_particles() -> usize {
    4000
}

impl Default for OutputConfig {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

/// A field every sampler variant has (`name`, `particles`, `record`), by reference.
macro_rules! common_field {
    ($s:expr, $f:ident) => {
        match $s {
            SamplerConfig::Ula { $f, .. }
            | SamplerConfig::Mala { $f, .. }
            | SamplerConfig::ReverseSde { $f, .. }
            | SamplerConfig::Pc { $f, .. }
            | SamplerConfig::PfOde { $f, .. }
            | SamplerConfig::Ddpm { $f, .. }
            | SamplerConfig::Ddim { $f, .. }
            | SamplerConfig::Flow { $f, .. }
            | SamplerConfig::PathSde { $f, .. }
            | SamplerConfig::Monoflow { $f, .. } => $f,
        }
    };
}

impl SamplerConfig {
    /// The method's name as written in configs.
    pub fn method(&self) -> &'static str {
        match self {
            SamplerConfig::Ula { .. } => "ula",
            SamplerConfig::Mala { .. } => "mala",
            SamplerConfig::ReverseSde { .. } => "reverse-sde",
            SamplerConfig::Pc { .. } => "pc",
            SamplerConfig::PfOde { .. } => "pf-ode",
            SamplerConfig::Ddpm { .. } => "ddpm",
            SamplerConfig::Ddim { .. } => "ddim",
            SamplerConfig::Flow { .. } => "flow",
            SamplerConfig::PathSde { .. } => "path-sde",
            SamplerConfig::Monoflow { .. } => "monoflow",
        }
    }
    /// The label of its outputs: `name`, or the method.
    pub fn label(&self) -> String {
        common_field!(self, name)
            .clone()
            .unwrap_or_else(|| self.method().to_string())
    }
    /// Number of particles.
    pub fn particles(&self) -> usize {
        *common_field!(self, particles)
    }
    /// Particles (mutable, for `--quick`).
    pub fn particles_mut(&mut self) -> &mut usize {
        common_field!(self, particles)
    }
    /// The particle chunk (None: all at once; MonoFlow's particles interact: never chunked).
    pub fn chunk(&self) -> Option<usize> {
        match self {
            SamplerConfig::Monoflow { .. } => None,
            SamplerConfig::Ula { chunk, .. }
            | SamplerConfig::Mala { chunk, .. }
            | SamplerConfig::ReverseSde { chunk, .. }
            | SamplerConfig::Pc { chunk, .. }
            | SamplerConfig::PfOde { chunk, .. }
            | SamplerConfig::Ddpm { chunk, .. }
            | SamplerConfig::Ddim { chunk, .. }
            | SamplerConfig::Flow { chunk, .. }
            | SamplerConfig::PathSde { chunk, .. } => *chunk,
        }
    }
    /// The trajectory stride.
    pub fn record(&self) -> Option<usize> {
        *common_field!(self, record)
    }
    /// The models it uses.
    pub fn models(&self) -> Vec<&str> {
        match self {
            SamplerConfig::ReverseSde { model, .. }
            | SamplerConfig::Pc { model, .. }
            | SamplerConfig::PfOde { model, .. }
            | SamplerConfig::Ddpm { model, .. }
            | SamplerConfig::Ddim { model, .. }
            | SamplerConfig::Flow { model, .. } => vec![model.as_str()],
            SamplerConfig::PathSde {
                velocity, score, ..
            } => vec![velocity.as_str(), score.as_str()],
            _ => vec![],
        }
    }
}

/// Parses config text with `key=value` overrides applied before typing (so they go through
/// the same checks), then validates. Errors are one line; a TOML error names the line, an error
/// that only the overrides cause says so.
pub fn parse(text: &str, overrides: &[String]) -> Result<RunConfig> {
    let cfg = parse_unchecked(text, overrides)?;
    if let Err(e) = cfg.validate() {
        if !overrides.is_empty() && parse(text, &[]).is_ok() {
            return Err(e.context(set_origin(overrides)));
        }
        return Err(e);
    }
    Ok(cfg)
}

/// `--set a=1 --set b=2`, for messages about errors the overrides cause.
fn set_origin(overrides: &[String]) -> String {
    let sets: Vec<String> = overrides.iter().map(|o| format!("--set {o}")).collect();
    format!("after {}", sets.join(" "))
}

fn parse_unchecked(text: &str, overrides: &[String]) -> Result<RunConfig> {
    let mut value: toml::Value = toml::from_str(text).map_err(|e| located(text, &e))?;
    for o in overrides {
        crate::overrides::apply(&mut value, o)?;
    }
    match value.try_into::<RunConfig>() {
        Ok(cfg) => Ok(cfg),
        Err(e) => {
            // the same error read from the text itself carries its line
            match toml::from_str::<RunConfig>(text) {
                Err(e2) if overrides.is_empty() || e2.message() == e.message() => {
                    Err(located(text, &e2))
                }
                _ if !overrides.is_empty() => {
                    Err(anyhow::anyhow!(friendly(&e.to_string())).context(set_origin(overrides)))
                }
                _ => Err(anyhow::anyhow!(friendly(&e.to_string()))),
            }
        }
    }
}

/// A TOML error on one line: "line L: <the line's text>: message". For an unknown variant the
/// line is the one that holds the bad value (serde points at the enclosing table).
fn located(text: &str, e: &toml::de::Error) -> anyhow::Error {
    let msg = friendly(e.message());
    let Some(span) = e.span() else {
        return anyhow::anyhow!(msg);
    };
    // serde points at the enclosing table for an unknown key or variant: find its line
    let mut at = span.start.min(text.len());
    let end = span.end.clamp(at, text.len());
    let quoted = |prefix: &str| {
        e.message()
            .strip_prefix(prefix)
            .and_then(|r| r.split('`').next())
            .map(str::to_string)
    };
    let found = if let Some(bad) = quoted("unknown variant `") {
        text[at..end].find(&format!("\"{bad}\""))
    } else if let Some(key) = quoted("unknown field `") {
        let mut off = 0;
        text[at..end].split_inclusive('\n').find_map(|l| {
            let here = off;
            off += l.len();
            let rest = l.trim_start().strip_prefix(key.as_str())?;
            rest.trim_start()
                .starts_with(['=', '.'])
                .then_some(here + l.len() - l.trim_start().len())
        })
    } else {
        None
    };
    at += found.unwrap_or(0);
    let line = text[..at].matches('\n').count() + 1;
    let src = text.lines().nth(line - 1).unwrap_or("").trim();
    let src: String = if src.chars().count() > 60 {
        src.chars().take(57).chain("...".chars()).collect()
    } else {
        src.to_string()
    };
    anyhow::anyhow!("line {line}: {src}: {msg}")
}

/// serde's wording made clearer for config files, on one line.
fn friendly(msg: &str) -> String {
    one_line(msg)
        .replace(
            ", there are no fields",
            ": this kind takes no keys besides `kind`",
        )
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
}

/// A multi-line message folded onto one line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Re-roots a crate's `invalid <key> = <value>: <what is allowed>` error under `prefix` (the
/// crate's own root `strip` dropped: pf-nets says `model.hidden`, pf-core `target.rx`), so the
/// message names the key as written in the config: `model[0].net.hidden`.
fn keyed(e: impl std::fmt::Display, prefix: &str, strip: &str) -> anyhow::Error {
    let msg = e.to_string();
    match msg.strip_prefix("invalid ") {
        Some(rest) => {
            let rest = rest.strip_prefix(strip).unwrap_or(rest);
            anyhow::anyhow!("invalid {prefix}.{rest}")
        }
        None => anyhow::anyhow!("{prefix}: {msg}"),
    }
}

/// A [`Param`] as written in configs.
fn param_name(p: Param) -> String {
    format!("{p:?}").to_lowercase()
}

fn pos(key: &str, v: usize) -> Result<()> {
    if v == 0 {
        bail!("invalid {key} = 0: must be ≥ 1");
    }
    Ok(())
}

fn positive(key: &str, v: f64) -> Result<()> {
    if !(v > 0.0 && v.is_finite()) {
        bail!("invalid {key} = {v}: must be finite and > 0");
    }
    Ok(())
}

fn t_end_ok(key: &str, v: f64) -> Result<()> {
    if !(0.0..1.0).contains(&v) {
        bail!("invalid {key} = {v}: must be in [0, 1)");
    }
    Ok(())
}

impl RunConfig {
    /// Checks every value and the consistency between target, models and samplers.
    pub fn validate(&self) -> Result<()> {
        self.target.validate()?;
        let target = self.target.build().context("target")?;
        let dim = target.dim();
        let mut names = std::collections::HashSet::new();
        for (i, m) in self.models.iter().enumerate() {
            let p = format!("model[{i}]");
            if !names.insert(m.name.as_str()) {
                bail!(
                    "invalid {p}.name = {:?}: model names must be unique",
                    m.name
                );
            }
            m.net
                .validate()
                .map_err(|e| keyed(e, &format!("{p}.net"), "model."))?;
            if m.net.dim() as usize != dim {
                bail!(
                    "invalid {p}.net.dim = {}: the target has dimension {dim}",
                    m.net.dim()
                );
            }
            if matches!(m.net, NetConfig::Discriminator(_)) {
                bail!("invalid {p}.net.arch = \"discriminator\": a trained model needs score-mlp, ddpm-mlp or vector-mlp");
            }
            m.path.validate(&format!("{p}.path"))?;
            m.train.validate().map_err(|e| keyed(e, &p, ""))?;
            match (m.train.steps, m.train.epochs) {
                (Some(0), _) => bail!("invalid {p}.train.steps = 0: must be ≥ 1"),
                (_, Some(0)) => bail!("invalid {p}.train.epochs = 0: must be ≥ 1"),
                _ => {}
            }
            if m.train.epochs.is_some() && m.dataset.is_none() {
                bail!("invalid {p}.train.epochs: an epoch budget needs a fixed dataset ({p}.dataset = N), or use {p}.train.steps");
            }
            if let Some(n) = m.dataset {
                pos(&format!("{p}.dataset"), n)?;
            }
            match &m.loss {
                LossConfig::Dsm(d) => {
                    d.validate().map_err(|e| keyed(e, &p, ""))?;
                    if !(d.t_eps > 0.0 && d.t_eps < 1.0) {
                        bail!("invalid {p}.loss.t_eps = {}: need 0 < T_ε < 1", d.t_eps);
                    }
                    if !matches!(m.param, Param::Eps | Param::Score | Param::X0) {
                        bail!(
                            "invalid {p}.param = {:?}: dsm trains eps, score or x0",
                            param_name(m.param)
                        );
                    }
                }
                LossConfig::Ddpm {
                    steps,
                    beta_1,
                    beta_t,
                } => {
                    pos(&format!("{p}.loss.steps"), *steps)?;
                    if !(*beta_1 > 0.0 && beta_1 < beta_t && *beta_t < 1.0) {
                        bail!("invalid {p}.loss.beta_1/beta_t = {beta_1}/{beta_t}: need 0 < beta_1 < beta_t < 1");
                    }
                    if m.param != Param::Eps {
                        bail!(
                            "invalid {p}.param = {:?}: ddpm trains eps",
                            param_name(m.param)
                        );
                    }
                }
                LossConfig::Csm { t_eps } | LossConfig::Fm { t_eps } => {
                    if !(*t_eps > 0.0 && *t_eps < 1.0) {
                        bail!("invalid {p}.loss.t_eps = {t_eps}: must be in (0, 1)");
                    }
                    if matches!(m.loss, LossConfig::Csm { .. }) && m.param != Param::Score {
                        bail!(
                            "invalid {p}.param = {:?}: csm trains score",
                            param_name(m.param)
                        );
                    }
                    if matches!(m.loss, LossConfig::Fm { .. }) && m.param != Param::Velocity {
                        bail!(
                            "invalid {p}.param = {:?}: fm trains velocity",
                            param_name(m.param)
                        );
                    }
                }
                LossConfig::FmLinear { source } => {
                    source
                        .validate()
                        .map_err(|e| keyed(e, &format!("{p}.loss.source"), "target."))?;
                    if target_dim(source)? != dim {
                        bail!(
                            "invalid {p}.loss.source: dimension {} ≠ target dimension {dim}",
                            target_dim(source)?
                        );
                    }
                    if m.param != Param::Velocity {
                        bail!(
                            "invalid {p}.param = {:?}: fm-linear trains velocity",
                            param_name(m.param)
                        );
                    }
                }
            }
        }
        let find = |s: &str| self.models.iter().find(|m| m.name == s);
        let mut labels = std::collections::HashSet::new();
        for (i, s) in self.samplers.iter().enumerate() {
            let p = format!("sampler[{i}]");
            let label = s.label();
            if !labels.insert(label.clone()) {
                bail!("invalid {p}.name = {label:?}: sampler names must be unique (set name = \"...\")");
            }
            if label.is_empty()
                || !label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!("invalid {p}.name = {label:?}: use letters, digits, '-' and '_'");
            }
            pos(&format!("{p}.particles"), s.particles())?;
            if let Some(c) = s.chunk() {
                pos(&format!("{p}.chunk"), c)?;
            }
            if let Some(r) = s.record() {
                pos(&format!("{p}.record"), r)?;
            }
            for m in s.models() {
                if find(m).is_none() {
                    let known: Vec<&str> = self.models.iter().map(|m| m.name.as_str()).collect();
                    bail!(
                        "invalid {p}.model = {m:?}: no [[model]] has that name (known: {known:?})"
                    );
                }
            }
            let want = |m: &str, ok: &[&str], what: &str| -> Result<()> {
                let mc = find(m).expect("checked");
                let kind = match mc.loss {
                    LossConfig::Dsm(_) => "dsm",
                    LossConfig::Ddpm { .. } => "ddpm",
                    LossConfig::Csm { .. } => "csm",
                    LossConfig::Fm { .. } => "fm",
                    LossConfig::FmLinear { .. } => "fm-linear",
                };
                if !ok.contains(&kind) {
                    bail!("invalid {p}.model = {m:?}: {} needs {what}, but that model is trained with {kind}", s.method());
                }
                Ok(())
            };
            if matches!(s, SamplerConfig::Ula { .. } | SamplerConfig::Mala { .. }) {
                let probe =
                    tch::Tensor::zeros([1, dim as i64], (tch::Kind::Float, tch::Device::Cpu));
                if target.log_prob(&probe).is_none() {
                    bail!(
                        "invalid {p}.method = {:?}: target {} has samples only, no log-density, and Langevin needs its score; use a [[model]] with reverse-sde / pf-ode / flow, or monoflow",
                        s.method(),
                        target.name()
                    );
                }
            }
            match s {
                SamplerConfig::Ula {
                    steps,
                    eta,
                    noise_scale,
                    init,
                    ..
                } => {
                    pos(&format!("{p}.steps"), *steps)?;
                    check_vec(&format!("{p}.eta"), eta, dim)?;
                    if let Some(ns) = noise_scale {
                        check_vec(&format!("{p}.noise_scale"), ns, dim)?;
                    }
                    check_init(&format!("{p}.init"), init, dim)?;
                }
                SamplerConfig::Mala {
                    steps, eta, init, ..
                } => {
                    pos(&format!("{p}.steps"), *steps)?;
                    check_vec(&format!("{p}.eta"), eta, dim)?;
                    check_init(&format!("{p}.init"), init, dim)?;
                }
                SamplerConfig::ReverseSde {
                    model,
                    steps,
                    t_end,
                    ..
                } => {
                    want(model, &["dsm", "csm"], "a score model (dsm or csm)")?;
                    pos(&format!("{p}.steps"), *steps)?;
                    t_end_ok(&format!("{p}.t_end"), *t_end)?;
                }
                SamplerConfig::Pc {
                    model,
                    steps,
                    t_end,
                    snr,
                    corrector_steps,
                    ..
                } => {
                    want(model, &["dsm", "csm"], "a score model (dsm or csm)")?;
                    pos(&format!("{p}.steps"), *steps)?;
                    t_end_ok(&format!("{p}.t_end"), *t_end)?;
                    positive(&format!("{p}.snr"), *snr)?;
                    let _ = corrector_steps;
                }
                SamplerConfig::PfOde {
                    model,
                    steps,
                    rtol,
                    atol,
                    t_end,
                    ..
                } => {
                    want(model, &["dsm", "csm"], "a score model (dsm or csm)")?;
                    pos(&format!("{p}.steps"), *steps)?;
                    positive(&format!("{p}.rtol"), *rtol)?;
                    positive(&format!("{p}.atol"), *atol)?;
                    t_end_ok(&format!("{p}.t_end"), *t_end)?;
                }
                SamplerConfig::Ddpm { model, .. } => want(model, &["ddpm"], "a ddpm model")?,
                SamplerConfig::Ddim { model, steps, .. } => {
                    want(model, &["ddpm"], "a ddpm model")?;
                    let LossConfig::Ddpm { steps: big_t, .. } = find(model).expect("checked").loss
                    else {
                        unreachable!()
                    };
                    if *steps == 0 || *steps > big_t {
                        bail!("invalid {p}.steps = {steps}: must be in 1..={big_t} (the model's DDPM steps)");
                    }
                }
                SamplerConfig::Flow {
                    model,
                    steps,
                    rtol,
                    atol,
                    t_end,
                    init,
                    ..
                } => {
                    want(
                        model,
                        &["fm", "fm-linear"],
                        "a velocity model (fm or fm-linear)",
                    )?;
                    pos(&format!("{p}.steps"), *steps)?;
                    positive(&format!("{p}.rtol"), *rtol)?;
                    positive(&format!("{p}.atol"), *atol)?;
                    t_end_ok(&format!("{p}.t_end"), *t_end)?;
                    check_init(&format!("{p}.init"), init, dim)?;
                }
                SamplerConfig::PathSde {
                    velocity,
                    score,
                    sigma,
                    steps,
                    t_end,
                    ..
                } => {
                    want(velocity, &["fm"], "a velocity model trained with fm")?;
                    want(score, &["csm", "dsm"], "a score model (csm or dsm)")?;
                    if find(velocity).map(|m| &m.path) != find(score).map(|m| &m.path) {
                        bail!("invalid {p}.score = {score:?}: the velocity and score models must share one path");
                    }
                    if !(*sigma >= 0.0 && sigma.is_finite()) {
                        bail!("invalid {p}.sigma = {sigma}: must be finite and ≥ 0");
                    }
                    pos(&format!("{p}.steps"), *steps)?;
                    t_end_ok(&format!("{p}.t_end"), *t_end)?;
                }
                SamplerConfig::Monoflow {
                    iterations,
                    batch,
                    lr,
                    noise,
                    discriminator,
                    discriminator_train,
                    init,
                    ..
                } => {
                    pos(&format!("{p}.iterations"), *iterations)?;
                    pos(&format!("{p}.batch"), *batch)?;
                    positive(&format!("{p}.lr"), *lr)?;
                    if !(*noise >= 0.0 && noise.is_finite()) {
                        bail!("invalid {p}.noise = {noise}: must be finite and ≥ 0");
                    }
                    if let Some(d) = discriminator {
                        d.validate()
                            .map_err(|e| keyed(e, &format!("{p}.discriminator"), "model."))?;
                        if !matches!(d, NetConfig::Discriminator(_)) || d.dim() as usize != dim {
                            bail!("invalid {p}.discriminator: needs arch = \"discriminator\" with dim = {dim}");
                        }
                    }
                    if let Some(t) = discriminator_train {
                        t.validate().map_err(|e| {
                            keyed(e, &format!("{p}.discriminator_train"), "discriminator.")
                        })?;
                    }
                    check_init(&format!("{p}.init"), init, dim)?;
                }
            }
        }
        if let Some(l) = &self.likelihood {
            let Some(m) = find(&l.model) else {
                bail!(
                    "invalid likelihood.model = {:?}: no [[model]] has that name",
                    l.model
                );
            };
            if !matches!(
                m.loss,
                LossConfig::Dsm(_)
                    | LossConfig::Csm { .. }
                    | LossConfig::Fm { .. }
                    | LossConfig::FmLinear { .. }
            ) {
                bail!("invalid likelihood.model = {:?}: needs a score (dsm, csm) or velocity (fm) model", l.model);
            }
            if matches!(m.loss, LossConfig::FmLinear { .. }) {
                bail!("invalid likelihood.model = {:?}: the linear path from an arbitrary source has no closed-form prior density", l.model);
            }
            if !(l.t_eps > 0.0 && l.t_eps < 1.0) {
                bail!("invalid likelihood.t_eps = {}: need 0 < T_ε < 1", l.t_eps);
            }
            positive("likelihood.rtol", l.rtol)?;
            positive("likelihood.atol", l.atol)?;
            if !["exact", "hutchinson"].contains(&l.trace.as_str()) {
                bail!(
                    "invalid likelihood.trace = {:?}: allowed: exact, hutchinson",
                    l.trace
                );
            }
            if !["gaussian", "rademacher"].contains(&l.probe.as_str()) {
                bail!(
                    "invalid likelihood.probe = {:?}: allowed: gaussian, rademacher",
                    l.probe
                );
            }
            pos("likelihood.probes", l.probes)?;
            if let Some(c) = l.chunk {
                pos("likelihood.chunk", c)?;
            }
            match l.points {
                LikelihoodPoints::Grid { lo, hi, n } => {
                    pos("likelihood.points.n", n)?;
                    if !(lo < hi && lo.is_finite() && hi.is_finite()) {
                        bail!("invalid likelihood.points.lo/hi = {lo}/{hi}: need lo < hi");
                    }
                    if dim != 1 {
                        bail!("invalid likelihood.points.kind = \"grid\": a grid needs a 1-D target (this one has dimension {dim}); use kind = \"samples\"");
                    }
                }
                LikelihoodPoints::Samples { n } => pos("likelihood.points.n", n)?,
            }
        }
        pos("output.reference", self.output.reference)?;
        pos("output.gif_frames", self.output.gif_frames)?;
        pos("output.plot_particles", self.output.plot_particles)?;
        if let Some(w) = self.output.window {
            if !(w[0][0] < w[0][1] && w[1][0] < w[1][1]) {
                bail!(
                    "invalid output.window = {w:?}: need [[x_lo, x_hi], [y_lo, y_hi]] with lo < hi"
                );
            }
        }
        if self.samplers.is_empty() && self.likelihood.is_none() && self.models.is_empty() {
            bail!("nothing to do: the config has no [[model]], [[sampler]] or [likelihood]");
        }
        Ok(())
    }
}

fn check_vec(key: &str, v: &[f64], dim: usize) -> Result<()> {
    if v.len() != 1 && v.len() != dim {
        bail!("invalid {key} = {v:?}: give 1 or {dim} values (one per dimension)");
    }
    if v.iter().any(|e| !(*e > 0.0 && e.is_finite())) {
        bail!("invalid {key} = {v:?}: step sizes must be finite and > 0");
    }
    Ok(())
}

fn check_init(key: &str, init: &InitConfig, dim: usize) -> Result<()> {
    match init {
        InitConfig::Normal { scale, shift } => {
            check_vec(&format!("{key}.scale"), scale, dim)?;
            if shift.len() != 1 && shift.len() != dim {
                bail!("invalid {key}.shift = {shift:?}: give 1 or {dim} values");
            }
        }
        InitConfig::Target { target } => {
            target
                .validate()
                .map_err(|e| keyed(e, &format!("{key}.target"), "target."))?;
            if target_dim(target)? != dim {
                bail!(
                    "invalid {key}.target: dimension {} ≠ target dimension {dim}",
                    target_dim(target)?
                );
            }
        }
        InitConfig::File { path } => {
            let d = pf_core::target::DataFile::load(path)
                .with_context(|| format!("invalid {key}.path"))?
                .dim();
            if d != dim {
                bail!(
                    "invalid {key}.path = {}: its rows have {d} columns, the target has dimension {dim}",
                    path.display()
                );
            }
        }
        InitConfig::Default => {}
    }
    Ok(())
}

/// The dimension of a configured target (builds it: a data file is read here, so a bad file
/// fails before any output is written).
pub fn target_dim(t: &TargetConfig) -> Result<usize> {
    Ok(t.build()?.dim())
}
