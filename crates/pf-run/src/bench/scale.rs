//! Scale workloads: how the cost grows with the number of particles (`scale-*`, `--particles`,
//! `--chunk`) and with the dimension (`dim-*`, `--dim`, `--target funnel|gmm`).
//!
//! | workload | what is timed | default sizes |
//! |---|---|---|
//! | `scale-langevin` | ULA on seed 001's funnel (analytic score, fused on the CPU), in chunks | N = 10⁵, K = 100 |
//! | `scale-vp-sde` | reverse-SDE Euler–Maruyama, seed 001's ScoreModel (untrained), in chunks | N = 10⁵, K = 20 |
//! | `scale-pf-ode` | PF-ODE Euler, the same net, in chunks | N = 10⁵, K = 20 |
//! | `scale-likelihood` | PF-ODE log-likelihood, D = 1 ScoreModel, exact trace, Dormand–Prince 1e-5, in chunks | N = 10⁵ points |
//! | `dim-ula` | ULA on Neal's funnel or a 4-component mixture in D dimensions (analytic score) | D = 8, N = 10⁴, K = 200 |
//! | `dim-train` | DSM training (ε target, VP path, Adam 3e-4) of a ScoreModel with input D | D = 8, B = 512, S = 200 |
//! | `dim-pf-ode` | PF-ODE Euler with that net (untrained) | D = 8, N = 10⁴, K = 20 |
//! | `dim-likelihood` | log-likelihood, Hutchinson (1 Rademacher probe), Dormand–Prince 1e-5 | D = 8, N = 2 000 points |
//!
//! The work unit is particle-steps (point-evaluations of the right-hand side for the
//! likelihood, samples for training), so `1 / throughput` is the time per particle-step; the
//! JSON line's `peak_rss_mb` is the process's peak resident memory (the untimed warm-up is
//! small, so the peak is the timed run's).

use super::{mean, small, timed, Outcome, Sizes};
use anyhow::{bail, Result};
use pf_core::field::{ScoreField, TargetScore};
use pf_core::param::Param;
use pf_core::path::{GaussianPath, VpLinear};
use pf_core::target::{Funnel, GaussianMixture, NealFunnel, Target};
use pf_nets::{NetConfig, NetScore, ScoreMlpConfig};
use pf_sample::chunk::run_chunked;
use pf_sample::init::Init;
use pf_sample::likelihood::{Likelihood, Prior, Probe, Trace};
use pf_sample::ode::{OdeMethod, OdeSampler};
use pf_sample::reverse_sde::{Grid, ReverseSde};
use pf_sample::ula::Ula;
use pf_sample::{Driver, SampleOut};
use pf_train::data::Batches;
use pf_train::dsm::{Dsm, DsmConfig};
use pf_train::{Predictor, TrainConfig, Trainer};
use std::sync::Arc;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// The scale and dimension workloads, in the order the report lists them.
pub const WORKLOADS: [&str; 8] = [
    "scale-langevin",
    "scale-vp-sde",
    "scale-pf-ode",
    "scale-likelihood",
    "dim-ula",
    "dim-train",
    "dim-pf-ode",
    "dim-likelihood",
];

/// Default sizes of a scale workload (None: not one of them).
pub(crate) fn defaults(w: &str) -> Option<Sizes> {
    let ps = |particles, steps| Sizes {
        particles: Some(particles),
        steps,
        ..Sizes::default()
    };
    Some(match w {
        "scale-langevin" => ps(100_000, Some(100)),
        "scale-vp-sde" | "scale-pf-ode" => ps(100_000, Some(20)),
        "scale-likelihood" => ps(100_000, None),
        "dim-ula" => ps(10_000, Some(200)),
        "dim-pf-ode" => ps(10_000, Some(20)),
        "dim-likelihood" => ps(2_000, None),
        "dim-train" => Sizes {
            train_steps: Some(200),
            batch: Some(512),
            ..Sizes::default()
        },
        _ => return None,
    })
}

/// Knobs beyond the sizes.
#[derive(Clone, Debug)]
pub(crate) struct Knobs {
    /// Particles (points) per chunk; None: all at once.
    pub chunk: Option<usize>,
    /// The dimension of the `dim-*` workloads.
    pub dim: usize,
    /// `funnel` (Neal's) or `gmm` for the `dim-*` workloads.
    pub target: String,
}

pub(crate) fn run(
    w: &str,
    sz: Sizes,
    k: &Knobs,
    device: Device,
    seed: i64,
) -> Result<(f64, Outcome)> {
    match w {
        "scale-langevin" => langevin(sz, k, device, seed),
        "scale-vp-sde" => vp(sz, k, false, device, seed),
        "scale-pf-ode" => vp(sz, k, true, device, seed),
        "scale-likelihood" => likelihood_1d(sz, k, device, seed),
        "dim-ula" => dim_ula(sz, k, device, seed),
        "dim-train" => dim_train(sz, k, device, seed),
        "dim-pf-ode" => dim_pf_ode(sz, k, device, seed),
        "dim-likelihood" => dim_likelihood(sz, k, device, seed),
        _ => bail!("not a scale workload: {w}"),
    }
}

fn outcome(work: usize, unit: &'static str, nfe: Option<usize>, check: f64) -> Outcome {
    Outcome {
        work: work as f64,
        unit,
        nfe,
        check,
    }
}

/// ULA with the funnel's fused step, N particles in chunks.
fn langevin(sz: Sizes, k: &Knobs, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (n, steps) = (sz.particles.unwrap_or(1), sz.steps.unwrap_or(1));
    let f = Funnel::default();
    let score = TargetScore(&f);
    let go = |n: usize, steps: usize| -> Result<SampleOut> {
        let ula = Ula {
            steps,
            eta: vec![1e-3],
            ..Ula::default()
        };
        Ok(run_chunked(n, k.chunk, |_, rows| {
            let x0 = Init::StdNormal.draw(rows, 2, device)?;
            ula.run(&score, Some(&f), x0, &mut Driver::default())
        })?)
    };
    tch::manual_seed(seed);
    go(small(n, 1000), small(steps, 5))?;
    tch::manual_seed(seed);
    let (wall, out) = timed(device, || go(n, steps))?;
    Ok((
        wall,
        outcome(n * steps, "particle-steps/s", None, mean(&out.x)),
    ))
}

/// A net's variables, the net read as a score field, and its path.
type Scored = (
    VarStore,
    NetScore<Box<dyn pf_nets::Net>>,
    Arc<dyn GaussianPath>,
);

/// Seed 001's ScoreModel (ε) on the VP path, untrained (the cost does not depend on weights).
fn score_net(dim: usize, device: Device) -> Result<Scored> {
    let vs = VarStore::new(device);
    let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(dim as i64)).build(&vs.root())?;
    let path: Arc<dyn GaussianPath> = Arc::new(VpLinear::default());
    let score = NetScore::new(net, Param::Eps, path.clone());
    Ok((vs, score, path))
}

/// Reverse SDE or PF-ODE Euler over `steps` steps from t = 1 to 1e-3, chunked.
/// What [`sample_vp`] runs: particles, dimension, steps, chunk, PF ODE (else reverse SDE).
struct VpRun {
    n: usize,
    dim: usize,
    steps: usize,
    chunk: Option<usize>,
    ode: bool,
}

fn sample_vp(
    path: &dyn GaussianPath,
    score: &dyn ScoreField,
    r: VpRun,
    device: Device,
) -> Result<SampleOut> {
    let VpRun {
        n,
        dim,
        steps,
        chunk,
        ode,
    } = r;
    Ok(run_chunked(n, chunk, |_, rows| {
        let x1 = Tensor::randn([rows as i64, dim as i64], (Kind::Float, device));
        if ode {
            OdeSampler {
                method: OdeMethod::Euler,
                steps,
                t_start: None,
                t_end: 1e-3,
            }
            .pf_ode(path, score, &x1, &mut Driver::default())
        } else {
            ReverseSde {
                grid: Grid {
                    steps,
                    t_start: None,
                    t_end: 1e-3,
                },
            }
            .run(path, score, &x1, &mut Driver::default())
        }
    })?)
}

fn vp(sz: Sizes, k: &Knobs, ode: bool, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (n, steps) = (sz.particles.unwrap_or(1), sz.steps.unwrap_or(1));
    tch::manual_seed(seed);
    let (_vs, score, path) = score_net(2, device)?;
    let warm = VpRun {
        n: small(n, 1000),
        dim: 2,
        steps: small(steps, 3),
        chunk: k.chunk,
        ode,
    };
    sample_vp(&*path, &score, warm, device)?;
    tch::manual_seed(seed);
    let (wall, out) = timed(device, || {
        let run = VpRun {
            n,
            dim: 2,
            steps,
            chunk: k.chunk,
            ode,
        };
        sample_vp(&*path, &score, run, device)
    })?;
    Ok((
        wall,
        outcome(n * steps, "particle-steps/s", Some(steps), mean(&out.x)),
    ))
}

/// log p at `x` [N, D] in chunks; (log p, nfe).
fn loglik(
    lik: &Likelihood,
    path: &dyn GaussianPath,
    score: &dyn ScoreField,
    x: &Tensor,
) -> Result<(Tensor, usize)> {
    let ll = lik.score(path, score, x, &Prior::Normal { std: 1.0 })?;
    Ok((ll.logp, ll.nfe))
}

/// Seed 002's likelihood (D = 1 ScoreModel predicting the score, exact trace) on N grid points.
fn likelihood_1d(sz: Sizes, k: &Knobs, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let n = sz.particles.unwrap_or(1);
    tch::manual_seed(seed);
    let vs = VarStore::new(device);
    let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(1)).build(&vs.root())?;
    let path: Arc<dyn GaussianPath> = Arc::new(VpLinear::default());
    let score = NetScore::new(net, Param::Score, path.clone());
    let lik = Likelihood {
        chunk: k.chunk,
        ..Likelihood::default()
    };
    let grid = |n: usize| Tensor::linspace(-4.0, 4.0, n as i64, (Kind::Float, device)).unsqueeze(1);
    let _warm = loglik(&lik, &*path, &score, &grid(small(n, 256)))?;
    let (wall, (logp, nfe)) = timed(device, || loglik(&lik, &*path, &score, &grid(n)))?;
    Ok((
        wall,
        outcome(n * nfe, "point-evals/s", Some(nfe), mean(&logp)),
    ))
}

/// The `dim-*` target: Neal's funnel, or 4 Gaussians (std 0.5) at ±2 along the first two axes.
fn target(k: &Knobs) -> Result<Box<dyn Target>> {
    let d = k.dim;
    Ok(match k.target.as_str() {
        "funnel" => Box::new(NealFunnel::new(d)?),
        "gmm" => {
            let mean = |axis: usize, sign: f64| {
                let mut m = vec![0.0; d];
                m[axis % d] = 2.0 * sign;
                m
            };
            Box::new(GaussianMixture::new(
                vec![0.25; 4],
                vec![mean(0, 1.0), mean(0, -1.0), mean(1, 1.0), mean(1, -1.0)],
                vec![vec![0.5; d]; 4],
            )?)
        }
        t => bail!("--target {t}: allowed: funnel, gmm"),
    })
}

fn dim_ula(sz: Sizes, k: &Knobs, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (n, steps) = (sz.particles.unwrap_or(1), sz.steps.unwrap_or(1));
    let t = target(k)?;
    let score = TargetScore(&*t);
    let go = |n: usize, steps: usize| -> Result<SampleOut> {
        let ula = Ula {
            steps,
            eta: vec![1e-3],
            ..Ula::default()
        };
        Ok(run_chunked(n, k.chunk, |_, rows| {
            let x0 = Init::StdNormal.draw(rows, k.dim, device)?;
            ula.run(&score, None, x0, &mut Driver::default())
        })?)
    };
    tch::manual_seed(seed);
    go(small(n, 1000), small(steps, 5))?;
    tch::manual_seed(seed);
    let (wall, out) = timed(device, || go(n, steps))?;
    Ok((
        wall,
        outcome(n * steps, "particle-steps/s", None, mean(&out.x)),
    ))
}

fn dim_train(sz: Sizes, k: &Knobs, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (steps, batch) = (sz.train_steps.unwrap_or(1), sz.batch.unwrap_or(1));
    tch::manual_seed(seed);
    let t = target(k)?;
    let vs = VarStore::new(device);
    let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(k.dim as i64)).build(&vs.root())?;
    let dsm = Dsm::new(Arc::new(VpLinear::default()), DsmConfig::seed_001())?;
    let data = Batches::new(t.sample(20_000, device), batch, seed as u64);
    let model = Predictor::net(&*net, Param::Eps);
    let cfg = |steps| TrainConfig {
        seed: seed as u64,
        steps: Some(steps),
        batch_size: batch,
        lr: 3e-4,
        progress: false,
        ..TrainConfig::default()
    };
    Trainer::new(&vs, cfg(small(steps, 5)), None)?.run(|i| dsm.loss(&model, &data.batch(i)))?;
    let mut trainer = Trainer::new(&vs, cfg(steps), None)?;
    let (wall, rep) = timed(device, || {
        Ok(trainer.run(|i| dsm.loss(&model, &data.batch(i)))?)
    })?;
    let check = rep.final_loss().unwrap_or(f64::NAN);
    Ok((wall, outcome(steps * batch, "samples/s", None, check)))
}

fn dim_pf_ode(sz: Sizes, k: &Knobs, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (n, steps) = (sz.particles.unwrap_or(1), sz.steps.unwrap_or(1));
    tch::manual_seed(seed);
    let (_vs, score, path) = score_net(k.dim, device)?;
    let warm = VpRun {
        n: small(n, 500),
        dim: k.dim,
        steps: small(steps, 3),
        chunk: k.chunk,
        ode: true,
    };
    sample_vp(&*path, &score, warm, device)?;
    tch::manual_seed(seed);
    let (wall, out) = timed(device, || {
        let run = VpRun {
            n,
            dim: k.dim,
            steps,
            chunk: k.chunk,
            ode: true,
        };
        sample_vp(&*path, &score, run, device)
    })?;
    Ok((
        wall,
        outcome(n * steps, "particle-steps/s", Some(steps), mean(&out.x)),
    ))
}

fn dim_likelihood(sz: Sizes, k: &Knobs, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let n = sz.particles.unwrap_or(1);
    tch::manual_seed(seed);
    let t = target(k)?;
    let (_vs, score, path) = score_net(k.dim, device)?;
    let lik = Likelihood {
        trace: Trace::Hutchinson {
            probes: 1,
            probe: Probe::Rademacher,
        },
        chunk: k.chunk,
        ..Likelihood::default()
    };
    let _warm = loglik(&lik, &*path, &score, &t.sample(small(n, 200), device))?;
    let x = t.sample(n, device);
    let (wall, (logp, nfe)) = timed(device, || loglik(&lik, &*path, &score, &x))?;
    Ok((
        wall,
        outcome(n * nfe, "point-evals/s", Some(nfe), mean(&logp)),
    ))
}
