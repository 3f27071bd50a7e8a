//! `ddpm-train` and `ddpm-sample`: seed 001's DiffusionModel (4 blocks of 64, ReLU, raw time).

use super::{mean, small, timed, Outcome, Sizes};
use anyhow::Result;
use pf_core::param::Param;
use pf_core::path::DdpmSchedule;
use pf_core::target::{Funnel, Target};
use pf_nets::{DdpmMlpConfig, NetConfig};
use pf_sample::ddpm::Ddpm;
use pf_train::data::Batches;
use pf_train::ddpm::DdpmLoss;
use pf_train::lr_schedule::LrSchedule;
use pf_train::{Predictor, TrainConfig, Trainer};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// The dataset size (as vp-train: 100 000 funnel samples).
const DATA: usize = 100_000;

fn net_config() -> NetConfig {
    NetConfig::DdpmMlp(DdpmMlpConfig {
        nblocks: 4,
        ..DdpmMlpConfig::new(2)
    })
}

/// ε-MSE on T = 1000 steps, Adam lr 1e-3 with seed 001's LinearLR(1 → 0.01) over the run.
pub(crate) fn train(sz: Sizes, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (steps, batch) = (sz.train_steps.unwrap_or(1), sz.batch.unwrap_or(1));
    tch::manual_seed(seed);
    let vs = VarStore::new(device);
    let net = net_config().build(&vs.root())?;
    let loss = DdpmLoss::new(DdpmSchedule::default());
    let data = Batches::new(Funnel::default().sample(DATA, device), batch, seed as u64);
    let model = Predictor::net(&*net, Param::Eps);
    let cfg = |steps| TrainConfig {
        seed: seed as u64,
        steps: Some(steps),
        batch_size: batch,
        lr: 1e-3,
        lr_schedule: LrSchedule::seed_001(),
        progress: false,
        ..TrainConfig::default()
    };
    Trainer::new(&vs, cfg(small(steps, 5)), None)?.run(|k| loss.loss(&model, &data.batch(k)))?;
    let mut trainer = Trainer::new(&vs, cfg(steps), None)?;
    let (wall, rep) = timed(device, || {
        Ok(trainer.run(|k| loss.loss(&model, &data.batch(k)))?)
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

/// Ancestral sampling (Ho et al. Algorithm 2) over T = `steps` (linear β 1e-4 → 0.02), from
/// N(0, I), with an untrained net.
pub(crate) fn sample(sz: Sizes, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (n, k) = (sz.particles.unwrap_or(1), sz.steps.unwrap_or(1));
    tch::manual_seed(seed);
    let vs = VarStore::new(device);
    let net = net_config().build(&vs.root())?;
    let eps = |x: &Tensor, t: &Tensor| net.forward(x, t);
    let run = |k: usize| -> Result<(Tensor, usize)> {
        let sched = DdpmSchedule::linear(k, 1e-4, 0.02);
        let x0 = Tensor::randn([n as i64, 2], (Kind::Float, device));
        let out = Ddpm::default().run(&sched, &eps, &x0, &mut pf_sample::Driver::default())?;
        Ok((out.x, out.nfe))
    };
    let _warm = run(small(k, 10))?;
    tch::manual_seed(seed);
    let (wall, (x, nfe)) = timed(device, || run(k))?;
    Ok((
        wall,
        Outcome {
            work: (n * nfe) as f64,
            unit: "particle-steps/s",
            nfe: Some(nfe),
            check: mean(&x),
        },
    ))
}
