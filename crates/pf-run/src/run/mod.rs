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
pub mod models;
pub mod plots;
pub mod time_marginals;

use crate::config::{LikelihoodPoints, RunConfig, SamplerSpec};
use crate::faults::{self, Stage};
use crate::{io, resume};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use models::{Trained, TrainedSet};
use pf_core::metrics::{kl_estimate, report_for, tail_cells, MetricReport};
use pf_core::target::Target;
use pf_sample::exact::ExactSet;
use pf_sample::likelihood::{Likelihood, Prior, Probe, Trace};
use pf_sample::sampler::Models;
use pf_sample::{Ctx, SampleOut};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
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
    /// Why a model that serves an ODE has no NLL (see [`STIFF_DRIFT`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nll_skipped: Option<String>,
}

/// A trained score's PF-ODE NLL is not computed where the path's drift coefficient at its prior
/// end, |f(T)| = |α'(T)/α(T)|, exceeds this. Near α = 0 the ODE's drift f x − ½ g² s(x, t) is the
/// difference of two terms of size |f| |x| (g² ≈ 2 |f| σ² there), so a trained score's relative
/// error comes back multiplied by |f|: about 1000 on the conditional paths (α(1) = 0, T = 0.999),
/// against 10 for VP and 0 for VE. The number would measure that amplification, not the model
/// (measured: NLL 12 to 4.5e5 nats where the truth is 1–4). The exact field keeps its NLL.
pub const STIFF_DRIFT: f64 = 200.0;

/// Why the PF-ODE likelihood of the score model `name` measures its path's stiffness rather than
/// the model ([`STIFF_DRIFT`]); None where it does not, or the model serves no score.
fn stiff_prior_end(models: &dyn Models, name: &str) -> Option<String> {
    let m = models.score(name)?;
    let (t, f) = (m.path.t_max(), m.path.drift_coef(m.path.t_max()).abs());
    (f > STIFF_DRIFT).then(|| {
        format!(
            "on its path {} the PF ODE's drift coefficient is |f(T)| = {f:.0} at the prior end \
             T = {t}, which multiplies a trained score's error by about that much",
            m.path.name()
        )
    })
}

/// The likelihood's summary.
#[derive(Clone, Debug, Serialize)]
pub struct LikelihoodResult {
    pub model: String,
    pub points: usize,
    pub nfe: usize,
    pub wall_s: f64,
    /// Max |log q − log p| over the points where the truth is known and p > 1e-4.
    pub max_abs_err: Option<f64>,
    /// NLL (nats) and bits/dim on held-out target samples.
    pub nll: Option<f64>,
    pub bits_per_dim: Option<f64>,
    /// KL(p‖q) ± se on held-out target samples (normalised targets).
    pub kl: Option<f64>,
    pub kl_se: Option<f64>,
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
    pub likelihood: Option<LikelihoodResult>,
}

/// A stage spinner on stderr (hidden when stderr is not a terminal).
pub fn stage(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    if std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("template"),
        );
        pb.enable_steady_tick(Duration::from_millis(200));
    } else {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_message(msg);
    pb
}

/// A seed for stage `label` that depends only on the run seed and the label (so adding a
/// sampler does not change the others' draws).
pub fn stage_seed(seed: u64, label: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in label.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    (h >> 1) as i64
}

/// Runs every stage of `cfg` (already validated) into `opts.out`: reference samples, models,
/// samplers, likelihood, then metrics.json and metrics.md.
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
    let reference = faults::stage(
        Stage::Reference {
            n: cfg.output.reference,
        },
        || Ok(target.sample(cfg.output.reference, device)),
    )?;

    let (trained, mut model_results) = train_models(cfg, &*target, &dir, opts)?;
    let trained = TrainedSet(trained);
    let exact = exact_models(cfg, device)?;
    let models = pf_sample::exact::Chain(&trained, &exact);
    model_results.extend(cfg.exact.iter().map(exact_result));
    if cfg.output.model_nll > 0 {
        faults::stage(
            Stage::Likelihood {
                points: cfg.output.model_nll,
            },
            || models_nll(cfg, &*target, &models, &mut model_results, device),
        )?;
    }
    let figures = Figures::new(cfg, &*target, &reference);
    let sampling = Sampling {
        target: &*target,
        models: &models,
        reference: &reference,
        figures: &figures,
        dir: &dir,
    };
    let results = run_samplers(cfg, &sampling, opts)?;

    let likelihood = match &cfg.likelihood {
        Some(l) => {
            let points = match l.points {
                LikelihoodPoints::Grid { n, .. } | LikelihoodPoints::Samples { n } => n,
            };
            Some(faults::stage(Stage::Likelihood { points }, || {
                run_likelihood(l, &*target, &models, &dir, cfg, device)
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
    io::text(&dir.join("metrics.md"), &metrics_markdown(&summary))?;
    Ok(summary)
}

/// The models-table row of an `[[exact]]` model (nothing trained).
fn exact_result(e: &crate::config::ExactConfig) -> ModelResult {
    ModelResult {
        name: e.name.clone(),
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

/// What every sampler of a run shares.
struct Sampling<'a> {
    target: &'a dyn Target,
    models: &'a dyn Models,
    reference: &'a Tensor,
    figures: &'a Figures,
    dir: &'a Path,
}

/// Runs every sampler (one finished in an earlier run is read back with `--resume`, not run
/// again), then draws the panel of all of them.
fn run_samplers(cfg: &RunConfig, sx: &Sampling<'_>, opts: &RunOpts) -> Result<Vec<SamplerResult>> {
    let mut results = Vec::new();
    let mut finals: Vec<Tensor> = Vec::new();
    for (i, s) in cfg.samplers.iter().enumerate() {
        let (r, x) = match resume::finished(sx.dir, cfg, s, opts.resume, opts.device)? {
            Some((x, done)) => (reused(cfg, s, sx, &x, done), x),
            None => run_sampler(cfg, i, s, sx, opts.device)?,
        };
        results.push(r);
        finals.push(x);
    }
    if cfg.output.plots && !finals.is_empty() {
        if let Some(c) = &sx.figures.canvas {
            let mut panels: Vec<(String, &Tensor)> =
                vec![("target (reference)".into(), sx.reference)];
            for (r, x) in results.iter().zip(&finals) {
                panels.push((format!("{} — E {:.1e}", r.label, r.metrics.energy), x));
            }
            c.panel(
                &sx.dir.join("panel.png"),
                panels,
                cfg.name.clone().unwrap_or_else(|| sx.target.name()),
            )?;
        }
    }
    Ok(results)
}

/// The result of sampler `s`, finished in an earlier run: its counters as recorded, its
/// metrics recomputed from its samples `x`.
fn reused(
    cfg: &RunConfig,
    s: &SamplerSpec,
    sx: &Sampling<'_>,
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
        metrics: report_for(sx.target, x, sx.reference, cfg.target.neck()),
        figure: done.figure,
        gif: done.gif,
        w1: done.w1,
    }
}

/// Each model's PF-ODE NLL on `output.model_nll` fresh target samples (the same for every
/// model, their own seed), dopri5 at rtol = atol = 1e-5 with the exact trace; DDPM noise models
/// have no ODE and are skipped.
fn models_nll(
    cfg: &RunConfig,
    target: &dyn Target,
    models: &dyn Models,
    results: &mut [ModelResult],
    device: Device,
) -> Result<()> {
    tch::manual_seed(stage_seed(cfg.seed, "model-nll"));
    let h = target.sample(cfg.output.model_nll, device);
    let truth = target
        .normalised()
        .then(|| target.log_prob(&h))
        .flatten()
        .map(|p| -p.mean(Kind::Double).double_value(&[]));
    let lik = Likelihood::default();
    for r in results.iter_mut() {
        let has_ode = models.score(&r.name).is_some()
            || models.velocity(&r.name).is_some_and(|v| v.path.is_some());
        if !has_ode {
            continue;
        }
        if r.loss != pf_sample::exact::OBJECTIVE {
            if let Some(why) = stiff_prior_end(models, &r.name) {
                r.nll_skipped = Some(why);
                continue;
            }
        }
        let pb = stage(format!("NLL of model {}", r.name));
        let q = model_loglik(models, &r.name, &lik, &h)
            .with_context(|| format!("NLL of model {}", r.name))?;
        pb.finish_and_clear();
        r.nll = Some(-q.logp.mean(Kind::Double).double_value(&[]));
        r.bits_per_dim = Some(q.bits_per_dim.mean(Kind::Double).double_value(&[]));
        r.true_nll = truth;
    }
    Ok(())
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

/// How a run draws its samples: a 2-D canvas over the target, or a 1-D histogram range.
struct Figures {
    canvas: Option<plots::Canvas>,
    range_1d: Option<(f64, f64)>,
}

impl Figures {
    fn new(cfg: &RunConfig, target: &dyn Target, reference: &Tensor) -> Self {
        let dim = target.dim();
        let canvas = (dim >= 2).then(|| {
            plots::Canvas::new(
                target,
                &cfg.target,
                reference,
                cfg.output.window,
                cfg.output.plot_particles,
            )
        });
        let range_1d = (dim == 1).then(|| {
            let c = reference.select(1, 0).to_kind(Kind::Double);
            let q = |p: f64| {
                c.quantile_scalar(p, None, false, "linear")
                    .double_value(&[])
            };
            let (lo, hi) = (q(0.001), q(0.999));
            (lo - 0.15 * (hi - lo), hi + 0.15 * (hi - lo))
        });
        Self { canvas, range_1d }
    }
}

/// Runs sampler `i` under its own seed, scores it and writes its samples and figures.
fn run_sampler(
    cfg: &RunConfig,
    i: usize,
    s: &SamplerSpec,
    sx: &Sampling<'_>,
    device: Device,
) -> Result<(SamplerResult, Tensor)> {
    let Sampling {
        target,
        models,
        reference,
        figures,
        dir,
    } = *sx;
    let label = s.label();
    let pb = stage(format!("sampler {}/{}: {label}", i + 1, cfg.samplers.len()));
    tch::manual_seed(stage_seed(cfg.seed, &format!("sampler/{label}")));
    let fused = cfg.target.fused_langevin();
    let cx = Ctx {
        target,
        models,
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
        chunked::run(s, &cx, s.record.filter(|_| cfg.output.gif)).with_context(|| {
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
    tracing::info!(sampler = %label, wall_s, energy = metrics.energy, "sampled");
    let samples = format!("samples_{label}.npy");
    io::npy(&dir.join(&samples), &out.x)?;
    if i == 0 {
        io::npy(&dir.join("samples.npy"), &out.x)?;
    }
    let title = format!("{label} — energy {:.2e}", metrics.energy);
    let (figure, gif) = sampler_figures(cfg, &label, title, target, &out, figures, dir)?;
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

/// A sampler's scatter (or 1-D histogram), density, trajectory plots and GIF.
fn sampler_figures(
    cfg: &RunConfig,
    label: &str,
    title: String,
    target: &dyn Target,
    out: &SampleOut,
    figures: &Figures,
    dir: &Path,
) -> Result<(Option<String>, Option<String>)> {
    let (mut figure, mut gif) = (None, None);
    if cfg.output.plots {
        let f = format!("{label}.png");
        if let Some(c) = &figures.canvas {
            c.scatter(&dir.join(&f), &out.x, title)?;
        } else if let Some(r) = figures.range_1d {
            let n = cfg.output.plot_particles.max(20_000);
            plots::hist_1d(&dir.join(&f), target, &out.x, title, r, n)?;
        }
        figure = Some(f);
        if let Some(c) = &figures.canvas {
            let sd = format!("{label}: sample density");
            c.density(&dir.join(format!("{label}_density.png")), &out.x, sd)?;
            if let Some(tr) = &out.trajectory {
                let tp = dir.join(format!("{label}_trajectories.png"));
                c.trajectories(&tp, tr, label.to_string())?;
                c.strip(
                    &dir.join(format!("{label}_strip.png")),
                    tr,
                    label.to_string(),
                )?;
            }
        }
    }
    if let (Some(c), Some(tr)) = (&figures.canvas, &out.trajectory) {
        let g = format!("{label}.gif");
        let (frames, delay) = (cfg.output.gif_frames, cfg.output.gif_delay_ms);
        c.gif(&dir.join(&g), tr, label.to_string(), frames, delay)?;
        gif = Some(g);
    }
    Ok((figure, gif))
}

fn rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base)
        .map(|r| r.display().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| ".".into())
}

/// The PF-ODE likelihood solver a `[likelihood]` table asks for.
fn likelihood_solver(l: &crate::config::LikelihoodConfig) -> Likelihood {
    let trace = match l.trace.as_str() {
        "exact" => Trace::Exact,
        _ => Trace::Hutchinson {
            probes: l.probes,
            probe: if l.probe == "gaussian" {
                Probe::Gaussian
            } else {
                Probe::Rademacher
            },
        },
    };
    Likelihood {
        t_eps: l.t_eps,
        rtol: l.rtol,
        atol: l.atol,
        trace,
        chunk: l.chunk,
        ..Likelihood::default()
    }
}

/// log p(x) through the PF ODE of model `name` (trained or exact): its score on its Gaussian
/// path where it serves one, else its velocity; the prior N(0, σ(1)² I) of that path.
pub fn model_loglik(
    models: &dyn Models,
    name: &str,
    lik: &Likelihood,
    x: &Tensor,
) -> Result<pf_sample::likelihood::LogLik> {
    if let Some(m) = models.score(name) {
        let prior = Prior::Normal {
            std: m.path.prior_std(),
        };
        return Ok(lik.score(&*m.path, &m.field, x, &prior)?);
    }
    let m = models
        .velocity(name)
        .with_context(|| format!("model {name} serves neither a score nor a velocity"))?;
    let path = m.path.as_ref().with_context(|| {
        format!("model {name}: a velocity off a Gaussian path has no prior density")
    })?;
    let prior = Prior::Normal {
        std: path.prior_std(),
    };
    Ok(lik.velocity(&m.field, x, &prior)?)
}

/// Log-likelihoods of the `[likelihood]` points (and held-out samples) under a model.
fn run_likelihood(
    l: &crate::config::LikelihoodConfig,
    target: &dyn Target,
    models: &dyn Models,
    dir: &Path,
    cfg: &RunConfig,
    device: Device,
) -> Result<LikelihoodResult> {
    tch::manual_seed(stage_seed(cfg.seed, "likelihood"));
    let x = match l.points {
        LikelihoodPoints::Grid { lo, hi, n } => {
            Tensor::linspace(lo, hi, n as i64, (Kind::Float, device)).view([-1, 1])
        }
        LikelihoodPoints::Samples { n } => target.sample(n, device),
    };
    let lik = likelihood_solver(l);
    if !cfg.exact.iter().any(|e| e.name == l.model) {
        if let Some(why) = stiff_prior_end(models, &l.model) {
            tracing::warn!("likelihood of model {}: {why}", l.model);
        }
    }
    let eval = |x: &Tensor| model_loglik(models, &l.model, &lik, x);
    let pb = stage(format!("likelihood: {} points", x.size()[0]));
    let started = Instant::now();
    let out = eval(&x).context("likelihood")?;
    let wall_s = started.elapsed().as_secs_f64();
    pb.finish_and_clear();
    io::npy(
        &dir.join("loglik.npy"),
        &Tensor::cat(
            &[
                x.to_kind(Kind::Float),
                out.logp.to_kind(Kind::Float).unsqueeze(1),
            ],
            1,
        ),
    )?;
    let truth = if target.normalised() {
        target.log_prob(&x)
    } else {
        None
    };
    let max_abs_err = truth.as_ref().map(|t| {
        let mask = t.gt(1e-4f64.ln());
        let d = (&out.logp - t).abs().masked_select(&mask);
        if d.numel() == 0 {
            f64::NAN
        } else {
            d.max().double_value(&[])
        }
    });
    if cfg.output.plots && target.dim() == 1 {
        let xs: Vec<f64> =
            Vec::try_from(x.view([-1]).to_kind(Kind::Double).to_device(Device::Cpu))?;
        let ys: Vec<f64> = Vec::try_from(out.logp.to_kind(Kind::Double).to_device(Device::Cpu))?;
        let tv = truth
            .as_ref()
            .map(|t| Vec::try_from(t.to_kind(Kind::Double).to_device(Device::Cpu)))
            .transpose()?;
        plots::loglik_curves(&dir.join("loglik.png"), xs, ys, tv)?;
    }
    // held-out samples: NLL, bits/dim, KL(p‖q)
    let (mut nll, mut bpd, mut kl, mut kl_se) = (None, None, None, None);
    if l.heldout > 0 {
        tch::manual_seed(stage_seed(cfg.seed, "likelihood/heldout"));
        let h = target.sample(l.heldout, device);
        let q = eval(&h).context("likelihood on held-out samples")?;
        nll = Some(-q.logp.mean(Kind::Double).double_value(&[]));
        bpd = Some(q.bits_per_dim.mean(Kind::Double).double_value(&[]));
        if target.normalised() {
            if let Some(p) = target.log_prob(&h) {
                let k = kl_estimate(&p, &q.logp);
                kl = Some(k.kl);
                kl_se = Some(k.se);
            }
        }
    }
    Ok(LikelihoodResult {
        model: l.model.clone(),
        points: x.size()[0] as usize,
        nfe: out.nfe,
        wall_s,
        max_abs_err,
        nll,
        bits_per_dim: bpd,
        kl,
        kl_se,
    })
}

/// The Markdown table of a run.
pub fn metrics_markdown(s: &RunSummary) -> String {
    let mut md = format!(
        "# {}\n\ntarget `{}`, seed {}, device {}, {} reference samples\n\n",
        s.name.clone().unwrap_or_else(|| "pflow run".into()),
        s.target,
        s.seed,
        s.device,
        s.reference
    );
    if !s.samplers.is_empty() {
        md += &sampler_table(&s.samplers);
    }
    if !s.models.is_empty() {
        md += "\n";
        md += &model_table(&s.models);
    }
    if let Some(l) = &s.likelihood {
        let f = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.4}"));
        md += &format!(
            "\n| likelihood model | points | NFE | wall s | max abs err (nats) | NLL (nats) | bits/dim | KL(p‖q) ± se |\n|---|---|---|---|---|---|---|---|\n| {} | {} | {} | {:.2} | {} | {} | {} | {} ± {} |\n",
            l.model, l.points, l.nfe, l.wall_s, f(l.max_abs_err), f(l.nll), f(l.bits_per_dim), f(l.kl), f(l.kl_se)
        );
    }
    md
}

/// The models table (loss, steps, final loss, wall time; the PF-ODE NLL where measured).
pub fn model_table(ms: &[ModelResult]) -> String {
    let nll = ms.iter().any(|m| m.nll.is_some());
    let mut md = String::from("| model | loss | steps | final loss | wall s |");
    md += if nll {
        " NLL (nats) | bits/dim | true NLL |\n|---|---|---|---|---|---|---|---|\n"
    } else {
        "\n|---|---|---|---|---|\n"
    };
    let f = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.4}"));
    for m in ms {
        md += &format!(
            "| {} | {} | {} | {} | {:.1} |",
            m.name,
            m.loss,
            m.steps,
            f(m.final_loss),
            m.wall_s
        );
        if nll {
            md += &format!(
                " {} | {} | {} |",
                f(m.nll),
                f(m.bits_per_dim),
                f(m.true_nll)
            );
        }
        md += "\n";
    }
    for m in ms {
        if let Some(why) = &m.nll_skipped {
            md += &format!("\nNo NLL for model {}: {why}.\n", m.name);
        }
    }
    md
}

/// The per-sampler metrics table (energy, MMD², sliced W₁, neck, log p tails, wall time, NFE).
pub fn sampler_table(rs: &[SamplerResult]) -> String {
    let mut md = String::from(
        "| method | particles | energy distance | MMD² | sliced W₁ | neck share (true 0.05) | neck x std (true) | log p KS | below q₀.₀₀₁ of log p (true 0.001) | wall s | NFE | non-finite |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rs {
        let m = &r.metrics;
        let (share, xs) = match &m.neck {
            Some(k) => (
                format!("{:.4}", k.share),
                k.x_std.map_or(format!("– ({:.4})", k.x_std_target), |s| {
                    format!("{s:.4} ({:.4})", k.x_std_target)
                }),
            ),
            None => ("–".into(), "–".into()),
        };
        let acc: String = r
            .diagnostics
            .iter()
            .map(|(k, v)| format!(" ({k} {v:.2})"))
            .collect();
        let (ks, low) = tail_cells(m.tails.as_ref());
        md += &format!(
            "| {}{acc} | {} | {:.3e} | {:.3e} | {:.3e} | {share} | {xs} | {ks} | {low} | {:.2} | {} | {} |\n",
            r.label, r.particles, m.energy, m.mmd2, m.sliced_w1, r.wall_s, r.nfe, m.n_nonfinite
        );
    }
    md
}
