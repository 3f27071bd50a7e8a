//! The training config (TOML `[train]`), validated; unknown keys are errors.
//!
//! ```toml
//! [train]
//! seed = 0
//! steps = 10000            # or: epochs = 200 (over a fixed dataset; exactly one of the two)
//! batch_size = 512
//! lr = 1e-3
//! betas = [0.9, 0.999]
//! adam_eps = 1e-8
//! weight_decay = 0.0
//! warmup_steps = 0
//! grad_clip = 1.0          # global-norm clipping; absent = off
//! ema_decay = 0.999        # absent = no EMA
//! log_every = 100          # loss CSV row, progress message, NaN/Inf check
//! checkpoint_every = 1000  # absent = only at the end
//! progress = true          # indicatif bar (hidden anyway when stderr is not a terminal)
//! [train.lr_schedule]
//! kind = "linear"          # constant | linear | cosine
//! start_factor = 1.0
//! end_factor = 0.01
//! ```

use crate::adam::AdamParams;
use crate::lr_schedule::LrSchedule;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// See the module docs for keys and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub steps: Option<usize>,
    #[serde(default)]
    pub epochs: Option<usize>,
    #[serde(default = "TrainConfig::default_batch_size")]
    pub batch_size: usize,
    #[serde(default = "TrainConfig::default_lr")]
    pub lr: f64,
    #[serde(default = "TrainConfig::default_betas")]
    pub betas: [f64; 2],
    #[serde(default = "TrainConfig::default_adam_eps")]
    pub adam_eps: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    #[serde(default)]
    pub warmup_steps: usize,
    #[serde(default)]
    pub grad_clip: Option<f64>,
    #[serde(default)]
    pub ema_decay: Option<f64>,
    #[serde(default = "TrainConfig::default_log_every")]
    pub log_every: usize,
    #[serde(default)]
    pub checkpoint_every: Option<usize>,
    #[serde(default = "TrainConfig::default_progress")]
    pub progress: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            steps: Some(1000),
            epochs: None,
            batch_size: Self::default_batch_size(),
            lr: Self::default_lr(),
            betas: Self::default_betas(),
            adam_eps: Self::default_adam_eps(),
            weight_decay: 0.0,
            lr_schedule: LrSchedule::Constant,
            warmup_steps: 0,
            grad_clip: None,
            ema_decay: None,
            log_every: Self::default_log_every(),
            checkpoint_every: None,
            progress: Self::default_progress(),
        }
    }
}

impl TrainConfig {
    fn default_batch_size() -> usize {
        512
    }
    fn default_lr() -> f64 {
        1e-3
    }
    fn default_betas() -> [f64; 2] {
        [0.9, 0.999]
    }
    fn default_adam_eps() -> f64 {
        1e-8
    }
    fn default_log_every() -> usize {
        100
    }
    fn default_progress() -> bool {
        true
    }

    /// Adam's hyper-parameters.
    pub fn adam(&self) -> AdamParams {
        AdamParams {
            beta1: self.betas[0],
            beta2: self.betas[1],
            eps: self.adam_eps,
            weight_decay: self.weight_decay,
        }
    }

    /// The run's length in steps: `steps`, or `epochs × steps_per_epoch` over a fixed dataset.
    pub fn total_steps(&self, steps_per_epoch: Option<usize>) -> Result<usize> {
        match (self.steps, self.epochs) {
            (Some(s), None) => Ok(s),
            (None, Some(e)) => match steps_per_epoch {
                Some(k) => Ok(e * k),
                None => Err(Error::config(
                    "train.epochs",
                    e,
                    "an epoch budget needs a fixed dataset (give the trainer its steps per epoch), or use train.steps",
                )),
            },
            (Some(_), Some(_)) => Err(Error::config(
                "train.steps",
                self.steps.unwrap_or_default(),
                "give train.steps or train.epochs, not both",
            )),
            (None, None) => Err(Error::config(
                "train.steps",
                "none",
                "give train.steps or train.epochs",
            )),
        }
    }

    /// The learning rate of step k in a run of `run_steps`.
    pub fn lr_at(&self, k: usize, run_steps: usize) -> f64 {
        self.lr
            * crate::lr_schedule::warmup_factor(k, self.warmup_steps)
            * self.lr_schedule.factor(k, run_steps)
    }

    /// Checks every value; errors name the key (`train.lr`, …).
    pub fn validate(&self) -> Result<()> {
        let _ = self.total_steps(Some(1))?;
        if self.batch_size == 0 {
            return Err(Error::config("train.batch_size", 0, "must be at least 1"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::config("train.lr", self.lr, "must be finite and > 0"));
        }
        if !self.betas.iter().all(|b| (0.0..1.0).contains(b)) {
            return Err(Error::config(
                "train.betas",
                self.betas,
                "each must be in [0, 1)",
            ));
        }
        if !(self.adam_eps.is_finite() && self.adam_eps > 0.0) {
            return Err(Error::config(
                "train.adam_eps",
                self.adam_eps,
                "must be > 0",
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::config(
                "train.weight_decay",
                self.weight_decay,
                "must be ≥ 0",
            ));
        }
        if let Some(c) = self.grad_clip {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::config(
                    "train.grad_clip",
                    c,
                    "must be finite and > 0",
                ));
            }
        }
        if let Some(d) = self.ema_decay {
            if !(0.0..1.0).contains(&d) {
                return Err(Error::config("train.ema_decay", d, "must be in [0, 1)"));
            }
        }
        if self.log_every == 0 {
            return Err(Error::config("train.log_every", 0, "must be at least 1"));
        }
        if self.checkpoint_every == Some(0) {
            return Err(Error::config(
                "train.checkpoint_every",
                0,
                "must be at least 1",
            ));
        }
        self.lr_schedule.validate()
    }
}
