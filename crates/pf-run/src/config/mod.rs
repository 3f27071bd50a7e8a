//! The experiment config: one TOML file describes a whole run — target, models and their
//! training, samplers, likelihood, outputs, seed. Every table rejects unknown keys; `validate`
//! checks every value and names the key.

use anyhow::{Context, Result};
use pf_core::param::Param;
use pf_core::path::PathConfig;
use pf_core::target::{Target, TargetConfig};
use pf_nets::NetConfig;
pub use pf_sample::exact::ExactConfig;
use pf_sample::sampler::RatioFactory;
pub use pf_sample::SamplerSpec;
use pf_train::{ObjectiveSpec, TrainConfig};
use serde::{Deserialize, Serialize};

mod validate;

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
    /// Exact fields served as models (`[[exact]]`; Gaussian-mixture targets).
    #[serde(default, rename = "exact", skip_serializing_if = "Vec::is_empty")]
    pub exact: Vec<ExactConfig>,
    /// Samplers to run, in order (`[[sampler]]`); the first is the main one (`samples.npy`).
    #[serde(default, rename = "sampler")]
    pub samplers: Vec<SamplerSpec>,
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
    /// The training objective (`kind = "dsm"`, …; see pf-train's objective registry).
    pub loss: ObjectiveSpec,
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

fn tol() -> f64 {
    1e-5
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
    /// Held-out target samples on which every model's PF-ODE NLL is measured, next to the true
    /// NLL where the target's density is known (0: not measured).
    #[serde(default)]
    pub model_nll: usize,
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

/// Particles a recorded trajectory keeps per frame (the first ones; for GIFs, paths and the 1-D
/// time marginals), whatever the sampler's particle count.
pub const RECORD_PARTICLES: usize = 4000;

impl Default for OutputConfig {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
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

/// The dimension of a configured target (builds it: a data file is read here, so a bad file
/// fails before any output is written).
pub fn target_dim(t: &TargetConfig) -> Result<usize> {
    Ok(t.build()?.dim())
}
