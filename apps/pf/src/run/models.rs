//! Training the `[[model]]`s of a run and reading them back as score / velocity / noise fields.

use crate::config::{LossConfig, ModelConfig};
use anyhow::{Context, Result};
use pf_core::path::{DdpmSchedule, GaussianPath};
use pf_core::target::Target;
use pf_nets::checkpoint::Sidecar;
use pf_nets::{Net, NetScore, NetVelocity};
use pf_train::csm::Csm;
use pf_train::data::Batches;
use pf_train::ddpm::DdpmLoss;
use pf_train::dsm::Dsm;
use pf_train::flow_matching::{FlowMatching, LinearFlowMatching};
use pf_train::{Loss, Predictor, TrainReport, Trainer};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tch::nn::VarStore;
use tch::{Device, Tensor};

/// A trained model, ready to drive samplers.
pub struct Trained {
    pub cfg: ModelConfig,
    /// Holds the net's variables.
    pub _vs: VarStore,
    pub net: Box<dyn Net>,
    pub path: Arc<dyn GaussianPath>,
    pub ddpm: Option<DdpmSchedule>,
    /// The source target of an fm-linear model.
    pub source: Option<Box<dyn Target>>,
    pub report: TrainReport,
    pub wall_s: f64,
}

impl Trained {
    /// The net read as a score field (dsm, csm).
    pub fn score(&self) -> NetScore<&dyn Net> {
        NetScore::new(&*self.net, self.cfg.param, self.path.clone())
    }
    /// The net read as a velocity field (fm on a Gaussian path, or fm-linear directly).
    pub fn velocity(&self) -> NetVelocity<&dyn Net> {
        match self.cfg.loss {
            LossConfig::FmLinear { .. } => NetVelocity::direct(&*self.net),
            _ => NetVelocity::new(&*self.net, self.cfg.param, self.path.clone()),
        }
    }
}

/// Trains one model into `dir` (checkpoint.safetensors + .json, model.safetensors + .json,
/// loss.csv), resuming from `dir`'s checkpoint when `resume` and one exists.
pub fn train(
    cfg: &ModelConfig,
    target: &dyn Target,
    seed: u64,
    dir: &Path,
    device: Device,
    resume: bool,
) -> Result<Trained> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let vs = VarStore::new(device);
    let net = cfg
        .net
        .build(&vs.root())
        .with_context(|| format!("model {}", cfg.name))?;
    let path = cfg.path.build()?;
    let mut tcfg = cfg.train.clone();
    tcfg.seed = tcfg.seed.wrapping_add(seed);
    let data = cfg.dataset.map(|n| {
        tch::manual_seed(seed as i64 ^ 0x5eed);
        Batches::new(target.sample(n, device), tcfg.batch_size, tcfg.seed)
    });
    let sidecar = Sidecar::new(cfg.net.clone(), Some(cfg.param));
    let meta = serde_json::to_value(&sidecar).context("model sidecar")?;
    let mut trainer = Trainer::new(
        &vs,
        tcfg.clone(),
        data.as_ref().map(|d| d.steps_per_epoch()),
    )
    .with_context(|| format!("model {}", cfg.name))?
    .with_out_dir(dir)
    .with_model_meta(meta);
    if resume {
        if let Some(ck) = trainer.checkpoint_path().filter(|p| p.exists()) {
            trainer
                .resume(&ck)
                .with_context(|| format!("resuming model {} from {}", cfg.name, ck.display()))?;
            tracing::info!(model = %cfg.name, step = trainer.step(), "resumed");
        }
    }
    let batch = tcfg.batch_size;
    let x0 = |k: usize| -> Tensor {
        match &data {
            Some(d) => d.batch(k),
            None => target.sample(batch, device),
        }
    };
    let pred = Predictor::net(&*net, cfg.param);
    let started = Instant::now();
    let training = || format!("training model {}", cfg.name);
    let (report, ddpm, source) = match &cfg.loss {
        LossConfig::Dsm(d) => {
            let loss = Dsm::new(path.clone(), d.clone())?;
            (
                trainer
                    .run(|k| loss.loss(&pred, &x0(k)))
                    .with_context(training)?,
                None,
                None,
            )
        }
        LossConfig::Ddpm {
            steps,
            beta_1,
            beta_t,
        } => {
            let sched = DdpmSchedule::linear(*steps, *beta_1, *beta_t);
            let loss = DdpmLoss::new(sched.clone());
            (
                trainer
                    .run(|k| loss.loss(&pred, &x0(k)))
                    .with_context(training)?,
                Some(sched),
                None,
            )
        }
        LossConfig::Csm { t_eps } => {
            let loss = Csm::new(path.clone(), *t_eps)?;
            (
                trainer
                    .run(|k| loss.loss(&pred, &x0(k)))
                    .with_context(training)?,
                None,
                None,
            )
        }
        LossConfig::Fm { t_eps } => {
            let loss = FlowMatching::new(path.clone(), *t_eps)?;
            (
                trainer
                    .run(|k| loss.loss(&pred, &x0(k)))
                    .with_context(training)?,
                None,
                None,
            )
        }
        LossConfig::FmLinear { source } => {
            let src = source.build()?;
            let report = trainer
                .run(|k| -> Loss {
                    LinearFlowMatching.loss(&pred, &x0(k), &src.sample(batch, device))
                })
                .with_context(training)?;
            (report, None, Some(src))
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    // a resumed model's loss history: every row, those of the earlier runs too
    let mut report = report;
    if let Some(csv) = trainer.csv_path().filter(|_| resume) {
        report.history = pf_train::trainer::read_log(&csv)?;
    }
    // sample with the EMA weights when there are any, and keep a plain copy PyTorch can load
    trainer.save_model(dir.join("model.safetensors"), true, &sidecar)?;
    trainer.copy_ema_to_model();
    drop(pred);
    Ok(Trained {
        cfg: cfg.clone(),
        _vs: vs,
        net,
        path,
        ddpm,
        source,
        report,
        wall_s,
    })
}
