//! Seed 000's discriminator: an MLP giving the logit D(x) [N, 1] of a binary classifier
//! (data = 1, particles = 0), optionally time-conditioned (flow time t through the time
//! embedding; `none` by default, as in the seed).
//!
//! Trained by BCE with logits, D(x) ≈ log p_data(x) − log q(x); particle flows move along ∇ₓD.
//! Defaults: hidden = [128, 128], SiLU (smooth, so ∇ₓD is smooth; `leaky-relu` is the usual GAN
//! choice). Parameter names `net.0`, `net.2`, … (`nn.Sequential`).

use crate::activation::Activation;
use crate::mlp::Mlp;
use crate::time_embed::TimeEmbedKind;
use crate::Net;
use tch::nn;
use tch::Tensor;

/// See the module docs. Shapes: x [N, D], t [N, 1] or [1, 1] (ignored when unconditioned) → [N, 1].
#[derive(Debug)]
pub struct DiscriminatorMlp(Mlp);

impl DiscriminatorMlp {
    /// Builds the layers under `vs`.
    pub fn new(
        vs: &nn::Path,
        dim: i64,
        hidden: &[i64],
        act: Activation,
        embed: (TimeEmbedKind, i64, f64),
    ) -> Self {
        Self(Mlp::new(vs, dim, 1, hidden, act, embed))
    }
}

impl Net for DiscriminatorMlp {
    fn forward(&self, x: &Tensor, t: &Tensor) -> Tensor {
        self.0.forward(x, t)
    }
    fn in_dim(&self) -> i64 {
        self.0.dim
    }
    fn out_dim(&self) -> i64 {
        1
    }
}
