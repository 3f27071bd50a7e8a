//! The MonoFlow discriminator (seed 000): a binary classifier with its own VarStore and its own
//! Adam, implementing [`DensityRatio`] for particle flows.
//!
//! `update` makes k Adam steps on the BCE of data (label 1) against particles (label 0) (see
//! [`crate::bce`]), so D(x) ≈ log p_data(x) − log q(x). `logit_and_grad` returns D(x) and ∇ₓD(x)
//! for all particles from one backward pass of Σᵢ D(xᵢ) with respect to x only
//! (`Tensor::run_backward` with inputs = [x]): the discriminator's parameter gradients and Adam
//! state are untouched, so the particle step never trains the discriminator.

use crate::adam::{Adam, AdamParams};
use crate::bce::bce_logits;
use crate::{Error, Result};
use pf_core::ratio::DensityRatio;
use pf_nets::{Net, NetConfig};
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// The discriminator's optimiser settings (TOML `[discriminator]` next to its `[model]`).
/// Defaults: k = 1 step per update (seed 000), Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscriminatorTrainConfig {
    #[serde(default = "DiscriminatorTrainConfig::default_k")]
    pub k_steps: usize,
    #[serde(default = "DiscriminatorTrainConfig::default_lr")]
    pub lr: f64,
    #[serde(default = "DiscriminatorTrainConfig::default_betas")]
    pub betas: [f64; 2],
    #[serde(default = "DiscriminatorTrainConfig::default_eps")]
    pub adam_eps: f64,
}

impl DiscriminatorTrainConfig {
    fn default_k() -> usize {
        1
    }
    fn default_lr() -> f64 {
        1e-3
    }
    fn default_betas() -> [f64; 2] {
        [0.9, 0.999]
    }
    fn default_eps() -> f64 {
        1e-8
    }
    /// Checks the values; errors name `discriminator.*`.
    pub fn validate(&self) -> Result<()> {
        if self.k_steps == 0 {
            return Err(Error::config(
                "discriminator.k_steps",
                0,
                "must be at least 1",
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::config(
                "discriminator.lr",
                self.lr,
                "must be finite and > 0",
            ));
        }
        if !self.betas.iter().all(|b| (0.0..1.0).contains(b)) {
            return Err(Error::config(
                "discriminator.betas",
                self.betas,
                "each must be in [0, 1)",
            ));
        }
        Ok(())
    }
}

impl Default for DiscriminatorTrainConfig {
    fn default() -> Self {
        Self {
            k_steps: Self::default_k(),
            lr: Self::default_lr(),
            betas: Self::default_betas(),
            adam_eps: Self::default_eps(),
        }
    }
}

/// A discriminator with its own VarStore and Adam (see the module docs).
pub struct Discriminator {
    vs: VarStore,
    net: Box<dyn Net>,
    adam: Adam,
    cfg: DiscriminatorTrainConfig,
    model: NetConfig,
}

impl Discriminator {
    /// Builds the net from `model` (a `discriminator` arch, output [N, 1]) on `device`.
    pub fn new(model: NetConfig, cfg: DiscriminatorTrainConfig, device: Device) -> Result<Self> {
        cfg.validate()?;
        if model.out_dim() != 1 {
            return Err(Error::config(
                "model.arch",
                model.arch(),
                "a discriminator needs a net with one output (arch = \"discriminator\")",
            ));
        }
        let vs = VarStore::new(device);
        let net = model.build(&vs.root())?;
        let adam = Adam::for_var_store(
            &vs,
            AdamParams {
                beta1: cfg.betas[0],
                beta2: cfg.betas[1],
                eps: cfg.adam_eps,
                weight_decay: 0.0,
            },
        );
        Ok(Self {
            vs,
            net,
            adam,
            cfg,
            model,
        })
    }

    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }
    pub fn net(&self) -> &dyn Net {
        &*self.net
    }
    pub fn adam(&self) -> &Adam {
        &self.adam
    }
    pub fn model_config(&self) -> &NetConfig {
        &self.model
    }

    fn time(&self, t: f64) -> Tensor {
        Tensor::full([1, 1], t, (Kind::Float, self.vs.device()))
    }

    /// D(x) at flow time t. Shapes: x [N, D] → [N, 1].
    pub fn logit(&self, x: &Tensor, t: f64) -> Tensor {
        self.net.forward(x, &self.time(t))
    }
}

impl DensityRatio for Discriminator {
    /// k Adam steps on BCE(D(data), 1) + BCE(D(particles), 0); returns the last loss (0-dim,
    /// detached, on device: reading it is the caller's host sync).
    fn update(&mut self, data: &Tensor, particles: &Tensor, t: f64) -> Tensor {
        let tt = self.time(t);
        // one forward over [data; particles] (rows are independent): the same logits as two
        // forwards, with half the matrix products and elementwise ops (measured ≈ 10 % of a
        // MonoFlow iteration)
        let nd = data.size()[0];
        let both = Tensor::cat(&[data.detach(), particles.detach()], 0);
        let np = both.size()[0] - nd;
        tch::with_grad(|| {
            let mut last = Tensor::zeros([], (Kind::Float, self.vs.device()));
            for _ in 0..self.cfg.k_steps {
                self.adam.zero_grad();
                let logits = self.net.forward(&both, &tt);
                let loss = bce_logits(&logits.narrow(0, 0, nd), &logits.narrow(0, nd, np));
                loss.backward();
                self.adam.step(self.cfg.lr);
                last = loss.detach();
            }
            last
        })
    }

    /// (D(x) [N, 1], ∇ₓD(x) [N, D]), both detached; parameters, their gradients and the Adam
    /// state are untouched.
    fn logit_and_grad(&self, x: &Tensor, t: f64) -> (Tensor, Tensor) {
        let tt = self.time(t);
        tch::with_grad(|| {
            let xg = x.detach().set_requires_grad(true);
            let logit = self.net.forward(&xg, &tt);
            let g = Tensor::run_backward(&[logit.sum(logit.kind())], &[&xg], false, false);
            let g = g.into_iter().next().expect("one gradient");
            (logit.detach(), g.detach())
        })
    }
}
