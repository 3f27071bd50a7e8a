//! `vp-train`, `vp-sample-sde`, `vp-sample-ode`: seed 001's ScoreModel (ε-prediction) on the VP
//! path β ∈ [0.1, 20].

use super::{mean, small, timed, Outcome, Sizes};
use anyhow::Result;
use pf_core::param::Param;
use pf_core::path::{GaussianPath, VpLinear};
use pf_core::target::{Funnel, Target};
use pf_nets::{NetConfig, NetScore, ScoreMlpConfig};
use pf_sample::ode::{OdeMethod, OdeSampler};
use pf_sample::reverse_sde::{Grid, ReverseSde};
use pf_sample::Driver;
use pf_train::data::Batches;
use pf_train::dsm::{Dsm, DsmConfig};
use pf_train::{Predictor, TrainConfig, Trainer};
use std::sync::Arc;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// The seed's dataset size (100 000 funnel samples).
const DATA: usize = 100_000;

/// DSM training, ε target (seed 001's ε-MSE), Adam lr 3e-4, shuffled batches of a fixed dataset.
pub(crate) fn train(sz: Sizes, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (steps, batch) = (sz.train_steps.unwrap_or(1), sz.batch.unwrap_or(1));
    tch::manual_seed(seed);
    let vs = VarStore::new(device);
    let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(2)).build(&vs.root())?;
    let dsm = Dsm::new(Arc::new(VpLinear::default()), DsmConfig::seed_001())?;
    let data = Batches::new(Funnel::default().sample(DATA, device), batch, seed as u64);
    let model = Predictor::net(&*net, Param::Eps);
    let cfg = |steps| TrainConfig {
        seed: seed as u64,
        steps: Some(steps),
        batch_size: batch,
        lr: 3e-4,
        progress: false,
        ..TrainConfig::default()
    };
    Trainer::new(&vs, cfg(small(steps, 5)), None)?.run(|k| dsm.loss(&model, &data.batch(k)))?;
    let mut trainer = Trainer::new(&vs, cfg(steps), None)?;
    let (wall, rep) = timed(device, || {
        Ok(trainer.run(|k| dsm.loss(&model, &data.batch(k)))?)
    })?;
    Ok((
        wall,
        Outcome {
            work: (steps * batch) as f64,
            unit: "samples/s",
            nfe: None,
            check: rep.final_loss().unwrap_or(f64::NAN),
        },
    ))
}

/// Seed 001's grid: `timesteps` = K, the score evaluated at t = k/K for k = K−1 … 1, each step
/// moving by dt = 1/K down to t = 0 (K − 1 steps). Reverse SDE (Euler–Maruyama) or PF ODE
/// (Euler), from N(0, I), with an untrained net (the cost does not depend on the weights).
pub(crate) fn sample(sz: Sizes, ode: bool, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (n, k) = (sz.particles.unwrap_or(1), sz.steps.unwrap_or(2));
    anyhow::ensure!(
        k >= 2,
        "--steps must be at least 2 (the seed's `timesteps`)"
    );
    tch::manual_seed(seed);
    let vs = VarStore::new(device);
    let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(2)).build(&vs.root())?;
    let path: Arc<dyn GaussianPath> = Arc::new(VpLinear::default());
    let score = NetScore::new(net, Param::Eps, path.clone());
    let run = |k: usize| -> Result<Tensor> {
        let x0 = Tensor::randn([n as i64, 2], (Kind::Float, device));
        let t_start = Some((k - 1) as f64 / k as f64);
        let out = if ode {
            OdeSampler {
                method: OdeMethod::Euler,
                steps: k - 1,
                t_start,
                t_end: 0.0,
            }
            .pf_ode(&*path, &score, &x0, &mut Driver::default())?
        } else {
            ReverseSde {
                grid: Grid {
                    steps: k - 1,
                    t_start,
                    t_end: 0.0,
                },
            }
            .run(&*path, &score, &x0, &mut Driver::default())?
        };
        Ok(out.x)
    };
    let _warm = run(small(k, 11))?;
    tch::manual_seed(seed);
    let (wall, x) = timed(device, || run(k))?;
    Ok((
        wall,
        Outcome {
            work: (n * (k - 1)) as f64,
            unit: "particle-steps/s",
            nfe: Some(k - 1),
            check: mean(&x),
        },
    ))
}
