//! Seed 001's `ScoreModel`: an MLP whose every hidden layer sees the time embedding.
//!
//! h₀ = x;  h_{i+1} = act(W_i [h_i, e(t)] + b_i) for each width in `hidden`;  out = W_o h_L + b_o.
//! With the seed's defaults e(t) is the learned Linear(1, 64)–SiLU–Linear(64, 64) embedding,
//! hidden = [128, 256, 128], act = SiLU. Parameter names follow the PyTorch module:
//! `embed.{0,2}.*`, `net.{i}.0.*` (each hidden layer is `Sequential(Linear, act)`), `out.*`.

use crate::activation::Activation;
use crate::linear::torch_linear;
use crate::time_embed::{TimeEmbed, TimeEmbedKind};
use crate::{batch_time, Net};
use tch::nn::{self, Module};
use tch::Tensor;

/// See the module docs. Shapes: x [N, D], t [N, 1] or [1, 1] → [N, D].
#[derive(Debug)]
pub struct ScoreMlp {
    dim: i64,
    embed: TimeEmbed,
    layers: Vec<nn::Linear>,
    out: nn::Linear,
    act: Activation,
}

impl ScoreMlp {
    /// Builds the layers under `vs`. `dim` is D; `hidden` the widths; the embedding is
    /// (kind, E, Fourier scale).
    pub fn new(
        vs: &nn::Path,
        dim: i64,
        hidden: &[i64],
        act: Activation,
        embed: (TimeEmbedKind, i64, f64),
    ) -> Self {
        let embed = TimeEmbed::new(vs, embed.0, embed.1, embed.2);
        let e = embed.out_dim();
        let net = vs / "net";
        let mut input = dim;
        let mut layers = Vec::with_capacity(hidden.len());
        for (i, &h) in hidden.iter().enumerate() {
            layers.push(torch_linear(&(&net / i as i64 / 0), input + e, h));
            input = h;
        }
        let out = torch_linear(&(vs / "out"), input, dim);
        Self {
            dim,
            embed,
            layers,
            out,
            act,
        }
    }
}

impl Net for ScoreMlp {
    fn forward(&self, x: &Tensor, t: &Tensor) -> Tensor {
        let t = batch_time(t, x);
        let e = self.embed.forward(&t);
        let mut h = x.shallow_clone();
        for l in &self.layers {
            let input = match &e {
                Some(e) => Tensor::cat(&[&h, e], 1),
                None => h,
            };
            h = self.act.apply(&l.forward(&input));
        }
        self.out.forward(&h)
    }
    fn in_dim(&self) -> i64 {
        self.dim
    }
    fn out_dim(&self) -> i64 {
        self.dim
    }
}
