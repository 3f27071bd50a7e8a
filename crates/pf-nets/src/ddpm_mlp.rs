//! Seed 001's DDPM `DiffusionModel`: the time (raw t by default) concatenated to x once, at the
//! input.
//!
//! h = W_in [x, e(t)] + b_in (no activation, as in the seed);  h ← act(W_k h + b_k) for each of
//! `nblocks` blocks of width `nunits`;  out = W_out h + b_out. Seed defaults: nblocks = 2
//! (the seed's run uses 4), nunits = 64, ReLU. Parameter names follow the PyTorch module:
//! `inblock.*`, `midblocks.{k}.linear.*`, `outblock.*` (plus `embed.*` for learned/Fourier time).
//! pflow feeds the continuous time t = (k + 1)/T of DDPM step k (the seed fed the integer k).

use crate::activation::Activation;
use crate::linear::torch_linear;
use crate::time_embed::{TimeEmbed, TimeEmbedKind};
use crate::{batch_time, Net};
use tch::nn::{self, Module};
use tch::Tensor;

/// See the module docs. Shapes: x [N, D], t [N, 1] or [1, 1] → [N, D].
#[derive(Debug)]
pub struct DdpmMlp {
    dim: i64,
    embed: TimeEmbed,
    inblock: nn::Linear,
    midblocks: Vec<nn::Linear>,
    outblock: nn::Linear,
    act: Activation,
}

impl DdpmMlp {
    /// Builds the layers under `vs`.
    pub fn new(
        vs: &nn::Path,
        dim: i64,
        nblocks: usize,
        nunits: i64,
        act: Activation,
        embed: (TimeEmbedKind, i64, f64),
    ) -> Self {
        let embed = TimeEmbed::new(vs, embed.0, embed.1, embed.2);
        let inblock = torch_linear(&(vs / "inblock"), dim + embed.out_dim(), nunits);
        let mid = vs / "midblocks";
        let midblocks = (0..nblocks)
            .map(|k| torch_linear(&(&mid / k as i64 / "linear"), nunits, nunits))
            .collect();
        let outblock = torch_linear(&(vs / "outblock"), nunits, dim);
        Self {
            dim,
            embed,
            inblock,
            midblocks,
            outblock,
            act,
        }
    }
}

impl Net for DdpmMlp {
    fn forward(&self, x: &Tensor, t: &Tensor) -> Tensor {
        let t = batch_time(t, x);
        let input = match self.embed.forward(&t) {
            Some(e) => Tensor::cat(&[x, &e], 1),
            None => x.shallow_clone(),
        };
        let mut h = self.inblock.forward(&input);
        for l in &self.midblocks {
            h = self.act.apply(&l.forward(&h));
        }
        self.outblock.forward(&h)
    }
    fn in_dim(&self) -> i64 {
        self.dim
    }
    fn out_dim(&self) -> i64 {
        self.dim
    }
}
