//! Seed 004's `MLPVectorField`: v_θ(x, t) = MLP([x, t]) (raw t by default), output [N, D].
//!
//! Seed 004 defaults: hidden = [64, 64, 64, 64], SiLU. Parameter names `net.0`, `net.2`, … as in
//! the seed's `build_mlp` `nn.Sequential`. The same net can predict any [`pf_core::param::Param`]
//! (it is a vector field of the right shape); the parameterisation says what it means.

use crate::activation::Activation;
use crate::mlp::Mlp;
use crate::time_embed::TimeEmbedKind;
use crate::Net;
use tch::nn;
use tch::Tensor;

/// See the module docs. Shapes: x [N, D], t [N, 1] or [1, 1] → [N, D].
#[derive(Debug)]
pub struct VectorMlp(Mlp);

impl VectorMlp {
    /// Builds the layers under `vs`.
    pub fn new(
        vs: &nn::Path,
        dim: i64,
        hidden: &[i64],
        act: Activation,
        embed: (TimeEmbedKind, i64, f64),
    ) -> Self {
        Self(Mlp::new(vs, dim, dim, hidden, act, embed))
    }
}

impl Net for VectorMlp {
    fn forward(&self, x: &Tensor, t: &Tensor) -> Tensor {
        self.0.forward(x, t)
    }
    fn in_dim(&self) -> i64 {
        self.0.dim
    }
    fn out_dim(&self) -> i64 {
        self.0.out_dim
    }
}
