//! Training the `[[model]]`s of a run and reading them back as score / velocity / noise fields.

use crate::config::ModelConfig;
use anyhow::{Context, Result};
use pf_core::field::FieldKind;
use pf_core::path::GaussianPath;
use pf_core::target::Target;
use pf_nets::checkpoint::Sidecar;
use pf_nets::{Net, NetScore, NetVelocity};
use pf_sample::sampler::{DdpmModel, Models, ScoreModel, VelocityModel};
use pf_train::data::Batches;
use pf_train::{BatchLoss, Predictor, TrainReport, Trainer};
use std::collections::HashMap;
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
    /// The built objective (DDPM's schedule, a linear path's source).
    pub objective: Box<dyn BatchLoss>,
    pub report: TrainReport,
    pub wall_s: f64,
}

impl Trained {
    fn provides(&self, k: FieldKind) -> bool {
        self.cfg.loss.provides().contains(&k)
    }
    /// The net read as a score field on its path.
    pub fn score(&self) -> NetScore<&dyn Net> {
        NetScore::new(&*self.net, self.cfg.param, self.path.clone())
    }
    /// The net read as a velocity field (on its Gaussian path, or directly on another path).
    pub fn velocity(&self) -> NetVelocity<&dyn Net> {
        if self.cfg.loss.objective.on_gaussian_path() {
            NetVelocity::new(&*self.net, self.cfg.param, self.path.clone())
        } else {
            NetVelocity::direct(&*self.net)
        }
    }
}

/// The trained models of a run, by name, as samplers see them.
pub struct TrainedSet(pub HashMap<String, Trained>);

impl Models for TrainedSet {
    fn score(&self, name: &str) -> Option<ScoreModel<'_>> {
        let m = self.0.get(name).filter(|m| m.provides(FieldKind::Score))?;
        Some(ScoreModel {
            field: Box::new(m.score()),
            path: m.path.clone(),
        })
    }
    fn velocity(&self, name: &str) -> Option<VelocityModel<'_>> {
        let m = self
            .0
            .get(name)
            .filter(|m| m.provides(FieldKind::Velocity))?;
        Some(VelocityModel {
            field: Box::new(m.velocity()),
            path: m
                .cfg
                .loss
                .objective
                .on_gaussian_path()
                .then(|| m.path.clone()),
            source: m.objective.source(),
        })
    }
    fn ddpm(&self, name: &str) -> Option<DdpmModel<'_>> {
        let m = self
            .0
            .get(name)
            .filter(|m| m.provides(FieldKind::DdpmNoise))?;
        Some(DdpmModel {
            schedule: m.objective.ddpm()?,
            eps: Box::new(|x: &Tensor, t: &Tensor| m.net.forward(x, t)),
        })
    }
}

/// Trains one model into `dir` (checkpoint.safetensors + .json, model.safetensors + .json,
/// loss.csv), resuming from `dir`'s checkpoint when `resume` and one exists
/// ([`crate::resume::model_checkpoint`]).
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
    crate::resume::model_checkpoint(&mut trainer, &cfg.name, resume)?;
    let batch = tcfg.batch_size;
    let x0 = |k: usize| -> Tensor {
        match &data {
            Some(d) => d.batch(k),
            None => target.sample(batch, device),
        }
    };
    let pred = Predictor::net(&*net, cfg.param);
    let objective = cfg.loss.objective.build(path.clone(), device)?;
    let started = Instant::now();
    let mut report = trainer
        .run(|k| objective.loss(&pred, &x0(k)))
        .with_context(|| format!("training model {}", cfg.name))?;
    let wall_s = started.elapsed().as_secs_f64();
    crate::resume::loss_history(&trainer, &mut report, resume)?;
    // sample with the EMA weights when there are any, and keep a plain copy PyTorch can load
    trainer.save_model(dir.join("model.safetensors"), true, &sidecar)?;
    trainer.copy_ema_to_model();
    drop(pred);
    Ok(Trained {
        cfg: cfg.clone(),
        _vs: vs,
        net,
        path,
        objective,
        report,
        wall_s,
    })
}
