//! `pf run`: one experiment config in, one run directory out.
//!
//! The directory gets `config.toml` (resolved, every default filled in), one
//! `samples_<name>.npy` per sampler (`samples.npy` = the first) and `samples_<name>.json` (its
//! NFE, acceptance and wall time, written last: `--resume` reuses a finished sampler), `metrics.json` and
//! `metrics.md` (against fresh target samples), figures (`<name>.png` over the target's density,
//! `<name>_density.png`; with `record`: `<name>_trajectories.png`, `<name>_strip.png`,
//! `panel.png`, `loss.png`, `loglik.png`; 1-D with `record`: `<name>_paths.png`, and
//! `<name>_marginals.png` against the exact p_t, see [`time_marginals`]), animations (`<name>.gif` for samplers with `record`), per trained model `checkpoint.safetensors` (+ `.json`),
//! `model.safetensors` (plain weights, loadable by PyTorch) and `loss.csv` — at the top level for
//! one model, under `models/<name>/` for several — and for likelihood runs `loglik.npy`.
//! Every file is written to a temporary name and renamed.

pub mod chunked;
pub mod figures;
pub mod models;
pub mod plots;
pub mod stage;
pub mod time_marginals;

pub use stage::{stage, stage_seed};

use crate::config::{LikelihoodPoints, RunConfig, SamplerSpec};
use crate::faults::{self, Stage};
use crate::likelihood;
use crate::{io, resume};
use anyhow::{Context, Result};
use figures::Figures;
use models::{Trained, TrainedSet};
use pf_core::metrics::{report_for, MetricReport};
use pf_core::target::Target;
use pf_sample::exact::ExactSet;
use pf_sample::sampler::Models;
use pf_sample::Ctx;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// How to run.
pub struct RunOpts {
    pub out: PathBuf,
    pub force: bool,
    pub resume: bool,
    pub device: Device,
}

/// One sampler's results.
#[derive(Clone, Debug, Serialize)]
pub struct SamplerResult {
    pub label: String,
    pub method: String,
    pub particles: usize,
    pub wall_s: f64,
    pub nfe: usize,
    /// MALA's acceptance rate (also among `diagnostics`).
    pub acceptance: Option<f64>,
    /// The method's own diagnostics by name.
    pub diagnostics: BTreeMap<String, f64>,
    pub metrics: MetricReport,
    /// Files written for it.
    pub samples: String,
    pub figure: Option<String>,
    pub gif: Option<String>,
    /// 1-D samplers on a mixture's known path: W₁ to the exact p_t by time.
    #[serde(flatten)]
    pub w1: Option<time_marginals::W1ByTime>,
}

/// One trained model's summary.
#[derive(Clone, Debug, Serialize)]
pub struct ModelResult {
    pub name: String,
    pub loss: String,
    pub steps: usize,
    pub final_loss: Option<f64>,
    pub wall_s: f64,
    pub dir: String,
    /// PF-ODE NLL (nats) and bits/dim on `output.model_nll` held-out target samples, and the
    /// target's own NLL of the same samples where its density is known.
    pub nll: Option<f64>,
    pub bits_per_dim: Option<f64>,
    pub true_nll: Option<f64>,
    /// Why a model that serves an ODE has no NLL (see [`crate::likelihood::STIFF_DRIFT`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nll_skipped: Option<String>,
}

/// Everything `metrics.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub name: Option<String>,
    pub target: String,
    pub seed: u64,
    pub device: String,
    /// libtorch intra-op threads the run used.
    pub threads: i32,
    pub reference: usize,
    pub models: Vec<ModelResult>,
    pub samplers: Vec<SamplerResult>,
    pub likelihood: Option<crate::likelihood::LikelihoodResult>,
}

/// Runs `cfg` into `opts.out` (already validated): the reference, the models, every sampler,
/// the panel, the likelihood, then `metrics.json` and `metrics.md`.
pub fn run_stages(cfg: &RunConfig, opts: &RunOpts) -> Result<RunSummary> {
    let dir = io::prepare_dir(&opts.out, opts.force || opts.resume)?;
    let device = opts.device;
    io::text(
        &dir.join("config.toml"),
        &toml::to_string_pretty(cfg).context("serialising the resolved config")?,
    )?;
    let target = cfg.target.build()?;
    // the reference the metrics compare against: fresh samples with their own seed
    tch::manual_seed(stage_seed(cfg.seed, "reference"));
    let n = cfg.output.reference;
    let reference = faults::stage(Stage::Reference { n }, || Ok(target.sample(n, device)))?;

    let (trained, mut model_results) = train_models(cfg, &*target, &dir, opts)?;
    let trained = TrainedSet(trained);
    let exact = exact_models(cfg, device)?;
    let models = pf_sample::exact::Chain(&trained, &exact);
    model_results.extend(cfg.exact.iter().map(|e| ModelResult::exact(&e.name)));
    if cfg.output.model_nll > 0 {
        let points = cfg.output.model_nll;
        faults::stage(Stage::Likelihood { points }, || {
            likelihood::models_nll(cfg, &*target, &models, &mut model_results, device)
        })?;
    }
    let cx = SamplerCx {
        cfg,
        opts,
        dir: &dir,
        target: &*target,
        models: &models,
        reference: &reference,
    };
    let (results, finals) = run_samplers(&cx)?;
    if cfg.output.plots {
        let title = cfg.name.clone().unwrap_or_else(|| target.name());
        figures::panel(&cx.figures(), &dir, &reference, &results, &finals, title)?;
    }
    let likelihood = match &cfg.likelihood {
        Some(l) => {
            let points = match l.points {
                LikelihoodPoints::Grid { n, .. } | LikelihoodPoints::Samples { n } => n,
            };
            Some(faults::stage(Stage::Likelihood { points }, || {
                likelihood::run_likelihood(l, &*target, &models, &dir, cfg, device)
            })?)
        }
        None => None,
    };
    let summary = RunSummary {
        name: cfg.name.clone(),
        target: target.name(),
        seed: cfg.seed,
        device: pf_core::device::device_name(device),
        threads: tch::get_num_threads(),
        reference: cfg.output.reference,
        models: model_results,
        samplers: results,
        likelihood,
    };
    io::text(
        &dir.join("metrics.json"),
        &serde_json::to_string_pretty(&summary)?,
    )?;
    let md = crate::report::metrics_markdown(&summary);
    io::text(&dir.join("metrics.md"), &md)?;
    Ok(summary)
}

/// What every sampler of a run is run against.
struct SamplerCx<'a> {
    cfg: &'a RunConfig,
    opts: &'a RunOpts,
    dir: &'a Path,
    target: &'a dyn Target,
    models: &'a dyn Models,
    reference: &'a Tensor,
}

impl SamplerCx<'_> {
    fn figures(&self) -> Figures {
        Figures::new(self.cfg, self.target, self.reference)
    }
}

/// Every sampler in config order: read back where `--resume` finds it finished, else run.
fn run_samplers(cx: &SamplerCx) -> Result<(Vec<SamplerResult>, Vec<Tensor>)> {
    let (cfg, dir, device) = (cx.cfg, cx.dir, cx.opts.device);
    let figures = cx.figures();
    let (mut results, mut finals) = (Vec::new(), Vec::new());
    for (i, s) in cfg.samplers.iter().enumerate() {
        let (r, x) = match resume::finished(dir, cfg, s, cx.opts.resume, device)? {
            Some((x, done)) => (resumed(cx, s, &x, done), x),
            None => run_sampler(cx, i, s, &figures)?,
        };
        results.push(r);
        finals.push(x);
    }
    Ok((results, finals))
}

/// The result of a sampler finished in an earlier run, scored again.
fn resumed(
    cx: &SamplerCx,
    s: &SamplerSpec,
    x: &Tensor,
    done: resume::SamplerDone,
) -> SamplerResult {
    let label = s.label();
    SamplerResult {
        samples: format!("samples_{label}.npy"),
        label,
        method: s.method.clone(),
        particles: x.size()[0] as usize,
        wall_s: done.wall_s,
        nfe: done.nfe,
        acceptance: done.diagnostics.get("acceptance").copied(),
        diagnostics: done.diagnostics,
        metrics: report_for(cx.target, x, cx.reference, cx.cfg.target.neck()),
        figure: done.figure,
        gif: done.gif,
        w1: done.w1,
    }
}

impl ModelResult {
    /// An `[[exact]]` model's row: nothing trained.
    fn exact(name: &str) -> Self {
        Self {
            name: name.into(),
            loss: pf_sample::exact::OBJECTIVE.into(),
            steps: 0,
            final_loss: None,
            wall_s: 0.0,
            dir: String::new(),
            nll: None,
            bits_per_dim: None,
            true_nll: None,
            nll_skipped: None,
        }
    }
}

/// The `[[exact]]` models of a run, built on the target's mixture (validation made sure it has one).
fn exact_models(cfg: &RunConfig, device: Device) -> Result<ExactSet> {
    let mut set = ExactSet::default();
    for e in &cfg.exact {
        let gmm = cfg.target.mixture().with_context(|| {
            format!(
                "exact model {}: the target is not a Gaussian mixture",
                e.name
            )
        })?;
        set.0.insert(e.name.clone(), e.build(gmm, device)?);
    }
    Ok(set)
}

/// Trains every `[[model]]` (each under its own seed) and plots the losses.
fn train_models(
    cfg: &RunConfig,
    target: &dyn Target,
    dir: &Path,
    opts: &RunOpts,
) -> Result<(HashMap<String, Trained>, Vec<ModelResult>)> {
    let mut trained = HashMap::new();
    let mut results = Vec::new();
    for m in &cfg.models {
        let mdir = io::model_dir(cfg, dir, &m.name);
        tch::manual_seed(stage_seed(cfg.seed, &format!("model/{}", m.name)));
        tracing::info!(model = %m.name, "training");
        let stage = Stage::Model {
            name: m.name.clone(),
            batch: m.train.batch_size,
        };
        let t = faults::stage(stage, || {
            tch::with_grad(|| models::train(m, target, cfg.seed, &mdir, opts.device, opts.resume))
        })?;
        results.push(ModelResult {
            name: m.name.clone(),
            loss: m.loss.kind.clone(),
            steps: t.report.steps,
            final_loss: t.report.final_loss(),
            wall_s: t.wall_s,
            dir: rel(dir, &mdir),
            nll: None,
            bits_per_dim: None,
            true_nll: None,
            nll_skipped: None,
        });
        trained.insert(m.name.clone(), t);
    }
    if cfg.output.plots && !results.is_empty() {
        let series: Vec<pf_viz::Series> = cfg
            .models
            .iter()
            .filter_map(|m| {
                let t = &trained[&m.name];
                let xs: Vec<f64> = t.report.history.iter().map(|r| r.step as f64).collect();
                let ys: Vec<f64> = t.report.history.iter().map(|r| r.loss).collect();
                (!xs.is_empty()).then(|| pf_viz::Series::line(m.name.clone(), xs, ys))
            })
            .collect();
        if !series.is_empty() {
            let signed = cfg.models.iter().any(|m| m.loss.objective.signed_loss());
            plots::losses(&dir.join("loss.png"), series, signed)?;
        }
    }
    Ok((trained, results))
}

/// Runs sampler `i` under its own seed, scores it and writes its samples and figures.
fn run_sampler(
    cx: &SamplerCx,
    i: usize,
    s: &SamplerSpec,
    figures: &Figures,
) -> Result<(SamplerResult, Tensor)> {
    let (cfg, target, reference, dir) = (cx.cfg, cx.target, cx.reference, cx.dir);
    let device = cx.opts.device;
    let label = s.label();
    let pb = stage(format!("sampler {}/{}: {label}", i + 1, cfg.samplers.len()));
    tch::manual_seed(stage_seed(cfg.seed, &format!("sampler/{label}")));
    let fused = cfg.target.fused_langevin();
    let scx = Ctx {
        target,
        models: cx.models,
        ratio: Some(&crate::discriminator::DiscriminatorFactory),
        device,
        fused: fused.as_deref(),
    };
    let started = Instant::now();
    let sampling = Stage::Sampler {
        label: label.clone(),
        particles: s.sampler.particles(),
    };
    // pf-sample's errors start with the method; name the sampler when its label differs
    let out = faults::stage(sampling, || {
        chunked::run(s, &scx, s.record.filter(|_| cfg.output.gif)).with_context(|| {
            if label == s.method {
                format!("sampler[{i}]")
            } else {
                format!("sampler[{i}] {label}")
            }
        })
    })?;
    let _ = out.x.sum(Kind::Float).double_value(&[]); // wait for the device before stopping the clock
    let wall_s = started.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let metrics = report_for(target, &out.x, reference, cfg.target.neck());
    tracing::info!(sampler = %label, wall_s, energy = metrics.energy(), "sampled");
    let samples = format!("samples_{label}.npy");
    io::npy(&dir.join(&samples), &out.x)?;
    if i == 0 {
        io::npy(&dir.join("samples.npy"), &out.x)?;
    }
    let title = format!("{label} — energy {:.2e}", metrics.energy());
    let (figure, gif) = figures::sampler_figures(cfg, &label, title, target, &out, figures, dir)?;
    let w1 = time_marginals::write(cfg, s, &label, target, &out, dir)?;
    let done = resume::SamplerDone {
        nfe: out.nfe,
        diagnostics: out.diagnostics.clone(),
        wall_s,
        figure: figure.clone(),
        gif: gif.clone(),
        w1: w1.clone(),
    };
    resume::mark_finished(dir, cfg, s, done)?;
    let result = SamplerResult {
        label,
        method: s.method.clone(),
        particles: out.x.size()[0] as usize,
        wall_s,
        nfe: out.nfe,
        acceptance: out.diagnostics.get("acceptance").copied(),
        diagnostics: out.diagnostics,
        metrics,
        samples,
        figure,
        gif,
        w1,
    };
    Ok((result, out.x))
}

fn rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base)
        .map(|r| r.display().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| ".".into())
}
