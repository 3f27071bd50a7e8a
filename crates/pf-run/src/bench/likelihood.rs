//! `likelihood-gmm1d`: seed 002's exact log-likelihood through the PF ODE, on 10 000 equidistant
//! points of (−4, 4), with a score net (seed 001's ScoreModel for D = 1, predicting the score),
//! the VP path β ∈ [0.1, 20], T_ε = 1e-5, Dormand–Prince rtol = atol = 1e-5 and the exact trace.

use super::{mean, small, timed, Outcome, Sizes};
use anyhow::{Context, Result};
use pf_core::param::Param;
use pf_core::path::{GaussianPath, VpLinear};
use pf_nets::{NetConfig, NetScore, ScoreMlpConfig};
use pf_sample::likelihood::{Likelihood, Prior};
use std::path::Path;
use std::sync::Arc;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

pub(crate) fn gmm1d(
    sz: Sizes,
    weights: Option<&Path>,
    device: Device,
    seed: i64,
) -> Result<(f64, Outcome)> {
    let n = sz.particles.unwrap_or(1);
    tch::manual_seed(seed);
    let vs = VarStore::new(device);
    let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(1)).build(&vs.root())?;
    if let Some(w) = weights {
        pf_nets::checkpoint::load_into(&vs, w)
            .with_context(|| format!("loading --weights {}", w.display()))?;
    }
    let path: Arc<dyn GaussianPath> = Arc::new(VpLinear::default());
    let score = NetScore::new(net, Param::Score, path.clone());
    let lik = Likelihood::default();
    // seed 002's prior: N(0, 1)
    let prior = Prior::Normal { std: 1.0 };
    let run = |n: usize| -> Result<(Tensor, usize)> {
        let x = Tensor::linspace(-4.0, 4.0, n as i64, (Kind::Float, device)).unsqueeze(1);
        let ll = lik.score(&*path, &score, &x, &prior)?;
        Ok((ll.logp, ll.nfe))
    };
    let _warm = run(small(n, 256))?;
    let (wall, (logp, nfe)) = timed(device, || run(n))?;
    Ok((
        wall,
        Outcome {
            work: (n * nfe) as f64,
            unit: "point-evals/s",
            nfe: Some(nfe),
            check: mean(&logp),
        },
    ))
}
