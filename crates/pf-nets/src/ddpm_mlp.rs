//! Seed 001's DDPM `DiffusionModel`: the time (raw t by default) concatenated to x once, at the
//! input.
//!
//! h = W_in [x, e(t)] + b_in (no activation, as in the seed);  h ← act(W_k h + b_k) for each of
//! `nblocks` blocks of width `nunits`;  out = W_out h + b_out. Seed defaults: nblocks = 2
//! (the seed's run uses 4), nunits = 64, ReLU. Parameter names follow the PyTorch module:
//! `inblock.*`, `midblocks.{k}.linear.*`, `outblock.*` (plus `embed.*` for learned/Fourier time).
//! pflow feeds the continuous time t = (k + 1)/T of DDPM step k (the seed fed the integer k).
//!
//! With one time for the whole batch (t [1, 1] or 0-dim, as the samplers pass it) the time
//! columns of `inblock` are folded into its bias (W [x, e] + b = W^x x + (W^e e + b)): no
//! concatenation, same result up to rounding. Activations run in place when no gradient is needed.

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
        let mut h = if t.numel() == 1 && x.size()[0] > 1 {
            let t = t.to_kind(x.kind()).reshape([1, 1]);
            match self.embed.forward(&t) {
                Some(e) => {
                    let nx = x.size()[1];
                    let w = &self.inblock.ws;
                    let mut bias = e.matmul(&w.narrow(1, nx, e.size()[1]).tr()).squeeze_dim(0);
                    if let Some(b) = &self.inblock.bs {
                        bias += b;
                    }
                    bias.addmm(x, &w.narrow(1, 0, nx).tr())
                }
                None => self.inblock.forward(x),
            }
        } else {
            let t = batch_time(t, x);
            let input = match self.embed.forward(&t) {
                Some(e) => Tensor::cat(&[x, &e], 1),
                None => x.shallow_clone(),
            };
            self.inblock.forward(&input)
        };
        for l in &self.midblocks {
            h = self.act.apply_owned(l.forward(&h));
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

#[cfg(test)]
mod tests {
    use crate::{DdpmMlpConfig, Net, NetConfig, TimeEmbedKind};
    use tch::{nn, Device, Kind, Tensor};

    /// The folded shared-time forward equals the plain one, for raw and learned time.
    #[test]
    fn shared_time_fold_equals_plain_forward() {
        let _rng = pf_core::rng::seed_exclusive(5);
        for kind in [
            TimeEmbedKind::Raw,
            TimeEmbedKind::Learned,
            TimeEmbedKind::None,
        ] {
            let vs = nn::VarStore::new(Device::Cpu);
            let mut cfg = DdpmMlpConfig::new(2);
            cfg.nblocks = 4;
            cfg.time_embed = kind;
            let net = NetConfig::DdpmMlp(cfg).build(&vs.root()).unwrap();
            let x = Tensor::randn([257, 2], (Kind::Float, Device::Cpu));
            let t11 = Tensor::full([1, 1], 0.42, (Kind::Float, Device::Cpu));
            let tn = t11.expand([257, 1], false).contiguous();
            let plain = tch::no_grad(|| net.forward(&x, &tn));
            let fold = tch::no_grad(|| net.forward(&x, &t11));
            let with_grad = net.forward(&x, &t11).detach();
            let scale = plain.abs().max().double_value(&[]).max(1.0);
            for y in [&fold, &with_grad] {
                let err = (y - &plain).abs().max().double_value(&[]);
                assert!(err < 2e-6 * scale, "{kind:?}: {err:e}");
            }
        }
    }
}
