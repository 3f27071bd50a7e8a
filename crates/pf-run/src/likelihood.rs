//! Likelihoods through the PF ODE in a run: each trained model's NLL on held-out target
//! samples (`[output] model_nll`), and the `[likelihood]` table's points (`loglik.npy`, the
//! error against the true log-density, NLL, bits/dim and KL(p‖q) on held-out samples).

use crate::config::{LikelihoodPoints, RunConfig};
use crate::run::{plots, stage, stage_seed, ModelResult};
use anyhow::{Context, Result};
use pf_core::metrics::kl_estimate;
use pf_core::target::Target;
use pf_sample::likelihood::{Likelihood, Prior, Probe, Trace};
use pf_sample::sampler::Models;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

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

/// Each model's PF-ODE NLL on `output.model_nll` fresh target samples (the same for every
/// model, their own seed), dopri5 at rtol = atol = 1e-5 with the exact trace; DDPM noise models
/// have no ODE and are skipped.
pub fn models_nll(
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

/// Max |log q − log p| over the points where the true density exceeds 1e-4 (NaN where none does).
fn max_abs_err(logq: &Tensor, logp: &Tensor) -> f64 {
    let mask = logp.gt(1e-4f64.ln());
    let d = (logq - logp).abs().masked_select(&mask);
    if d.numel() == 0 {
        f64::NAN
    } else {
        d.max().double_value(&[])
    }
}

/// NLL (nats), bits/dim and KL(p‖q) ± se (normalised targets) on `n` fresh target samples.
type Heldout = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);
fn heldout(
    target: &dyn Target,
    eval: &dyn Fn(&Tensor) -> Result<pf_sample::likelihood::LogLik>,
    n: usize,
    device: Device,
) -> Result<Heldout> {
    let h = target.sample(n, device);
    let q = eval(&h).context("likelihood on held-out samples")?;
    let nll = -q.logp.mean(Kind::Double).double_value(&[]);
    let bpd = q.bits_per_dim.mean(Kind::Double).double_value(&[]);
    let kl = target
        .normalised()
        .then(|| target.log_prob(&h))
        .flatten()
        .map(|p| kl_estimate(&p, &q.logp));
    Ok((Some(nll), Some(bpd), kl.map(|k| k.kl), kl.map(|k| k.se)))
}

/// Log-likelihoods of the `[likelihood]` points (and held-out samples) under a model.
pub fn run_likelihood(
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
    crate::io::npy(
        &dir.join("loglik.npy"),
        &Tensor::cat(
            &[
                x.to_kind(Kind::Float),
                out.logp.to_kind(Kind::Float).unsqueeze(1),
            ],
            1,
        ),
    )?;
    let truth = target.normalised().then(|| target.log_prob(&x)).flatten();
    let max_abs_err = truth.as_ref().map(|t| max_abs_err(&out.logp, t));
    if cfg.output.plots && target.dim() == 1 {
        let host = |t: &Tensor| {
            Vec::<f64>::try_from(t.view([-1]).to_kind(Kind::Double).to_device(Device::Cpu))
        };
        let tv = truth.as_ref().map(host).transpose()?;
        plots::loglik_curves(&dir.join("loglik.png"), host(&x)?, host(&out.logp)?, tv)?;
    }
    let held = if l.heldout > 0 {
        tch::manual_seed(stage_seed(cfg.seed, "likelihood/heldout"));
        Some(heldout(target, &eval, l.heldout, device)?)
    } else {
        None
    };
    let (nll, bpd, kl, kl_se) = held.unwrap_or_default();
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
