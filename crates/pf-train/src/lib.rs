//! pf-train: losses and the training loop of pflow.
//!
//! Time runs t = 0 (data) to t = 1 (prior/source); x_t = α(t) x₀ + σ(t) ε. Every regression loss
//! is Σ over the D dimensions, mean over the batch.
//!
//! - Losses (one file each), all taking a [`Predictor`] (a raw prediction function plus the
//!   [`pf_core::param::Param`] it predicts, so analytic oracles plug in):
//!   [`dsm`] (continuous DSM on any Gaussian path, ε or score target, λ = 1 / σ² / g²,
//!   importance-sampled t), [`ddpm`] (discrete ε-MSE), [`csm`] (seed 004's conditional score
//!   matching), [`flow_matching`] (Gaussian path, and linear path from an arbitrary source),
//!   [`bce`] (seed 000's discriminator loss).
//! - The loop: [`Trainer`] with our own [`adam::Adam`], [`lr_schedule`], global-norm clipping,
//!   [`ema`], [`data::Batches`], a loss CSV, a progress bar, atomic [`checkpoint`]s, bit-exact
//!   `resume` (randomness is a function of (seed, step): [`seed`]) and a NaN/Inf guard.
//! - [`discriminator::Discriminator`]: MonoFlow's density-ratio estimator
//!   ([`pf_core::ratio::DensityRatio`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use pf_core::{param::Param, path::VpLinear, target::{GaussianMixture, Target}};
//! use pf_nets::{NetConfig, ScoreMlpConfig};
//! use pf_train::{dsm::{Dsm, DsmConfig}, data::Batches, Predictor, TrainConfig, Trainer};
//! use tch::{nn::VarStore, Device};
//! let dev = Device::cuda_if_available();
//! let vs = VarStore::new(dev);
//! let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(1)).build(&vs.root()).unwrap();
//! let dsm = Dsm::new(Arc::new(VpLinear::default()), DsmConfig::seed_002()).unwrap();
//! let data = Batches::new(GaussianMixture::gmm1d().sample(50_000, dev), 512, 0);
//! let cfg = TrainConfig { steps: None, epochs: Some(20), ..Default::default() };
//! let mut trainer = Trainer::new(&vs, cfg, Some(data.steps_per_epoch())).unwrap()
//!     .with_out_dir("runs/gmm1d");
//! let model = Predictor::net(&*net, Param::Eps);
//! trainer.run(|step| dsm.loss(&model, &data.batch(step))).unwrap();
//! ```

pub mod adam;
pub mod bce;
pub mod checkpoint;
pub mod config;
pub mod csm;
pub mod data;
pub mod ddpm;
pub mod discriminator;
pub mod dsm;
pub mod ema;
pub mod error;
pub mod flow_matching;
pub mod lr_schedule;
pub mod objective;
pub mod predictor;
pub mod seed;
pub mod time_sampling;
pub mod trainer;
pub mod weighting;

pub use config::TrainConfig;
pub use error::{Error, Result};
pub use objective::{BatchLoss, Objective, ObjectiveSpec};
pub use predictor::{Loss, Predictor};
pub use trainer::{LogRow, TrainReport, Trainer};
pub use weighting::Weighting;
