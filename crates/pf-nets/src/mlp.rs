//! A plain MLP on [x, e(t)]: the body shared by the vector-field net and the discriminator.
//!
//! h₀ = [x, e(t)];  h_{i+1} = act(W_i h_i + b_i) for each width in `hidden`;  out = W_L h_L + b_L.
//! Parameter names follow a PyTorch `nn.Sequential(Linear, act, Linear, act, …, Linear)` stored
//! as `net`: the linears are `net.0`, `net.2`, `net.4`, …

use crate::activation::Activation;
use crate::batch_time;
use crate::linear::torch_linear;
use crate::time_embed::{TimeEmbed, TimeEmbedKind};
use tch::nn::{self, Module};
use tch::Tensor;

/// See the module docs. Shapes: x [N, D], t [N, 1] or [1, 1] → [N, out].
#[derive(Debug)]
pub struct Mlp {
    pub(crate) dim: i64,
    pub(crate) out_dim: i64,
    embed: TimeEmbed,
    layers: Vec<nn::Linear>,
    act: Activation,
}

impl Mlp {
    /// Builds the layers under `vs`: input D + E, the hidden widths, output `out_dim`.
    pub fn new(
        vs: &nn::Path,
        dim: i64,
        out_dim: i64,
        hidden: &[i64],
        act: Activation,
        embed: (TimeEmbedKind, i64, f64),
    ) -> Self {
        let embed = TimeEmbed::new(vs, embed.0, embed.1, embed.2);
        let net = vs / "net";
        let mut widths = vec![dim + embed.out_dim()];
        widths.extend_from_slice(hidden);
        widths.push(out_dim);
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| torch_linear(&(&net / (2 * i) as i64), w[0], w[1]))
            .collect();
        Self {
            dim,
            out_dim,
            embed,
            layers,
            act,
        }
    }

    /// The MLP's output. Shapes: x [N, D], t [N, 1] or [1, 1] → [N, out].
    pub fn forward(&self, x: &Tensor, t: &Tensor) -> Tensor {
        let t = batch_time(t, x);
        let mut h = match self.embed.forward(&t) {
            Some(e) => Tensor::cat(&[x, &e], 1),
            None => x.shallow_clone(),
        };
        let last = self.layers.len() - 1;
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(&h);
            if i < last {
                h = self.act.apply(&h);
            }
        }
        h
    }
}
