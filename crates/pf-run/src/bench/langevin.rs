//! `langevin-funnel` and `langevin-ring`: ULA from N(0, I) (seeds 001 and 003).

use super::{mean, small, timed, Outcome, Sizes};
use anyhow::Result;
use pf_core::field::{AutogradScore, FusedLangevin, ScoreField, TargetScore};
use pf_core::target::{Funnel, Ring};
use pf_sample::init::Init;
use pf_sample::ula::Ula;
use pf_sample::Driver;
use tch::Device;

/// Warm-up (the first few steps, untimed), then the timed run, both from `tch::manual_seed(seed)`.
fn ula(
    score: &dyn ScoreField,
    fused: Option<&dyn FusedLangevin>,
    eta: Vec<f64>,
    sz: Sizes,
    device: Device,
    seed: i64,
) -> Result<(f64, Outcome)> {
    let (n, k) = (sz.particles.unwrap_or(1), sz.steps.unwrap_or(1));
    let cfg = |steps| Ula {
        steps,
        eta: eta.clone(),
        ..Ula::default()
    };
    tch::manual_seed(seed);
    let x0 = || Init::StdNormal.draw(n, 2, device);
    cfg(small(k, 10)).run(score, fused, x0()?, &mut Driver::default())?;
    tch::manual_seed(seed);
    let (wall, out) = timed(device, || {
        Ok(cfg(k).run(score, fused, x0()?, &mut Driver::default())?)
    })?;
    Ok((
        wall,
        Outcome {
            work: (n * k) as f64,
            unit: "particle-steps/s",
            nfe: None,
            check: mean(&out.x),
        },
    ))
}

/// Seed 001's Langevin on its funnel: η = τ = 1e-3 (`lr = noise_scale = 0.001`), with the
/// correct analytic score (pf-core's erratum), fused on the CPU.
pub(crate) fn funnel(sz: Sizes, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let f = Funnel::default();
    ula(&TargetScore(&f), Some(&f), vec![1e-3], sz, device, seed)
}

/// Seed 003 part (b): ring rx = ry = 1.5 at the origin, η = (1e-2, 1e-2); the score is the
/// closed form (fused step) or, with `autograd`, seed 003's autograd of −(r − 1)²/0.033.
pub(crate) fn ring(sz: Sizes, autograd: bool, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let r = Ring::new(1.5, 1.5, 0.0, 0.0)?;
    let eta = vec![1e-2, 1e-2];
    if autograd {
        let s = AutogradScore(|x: &tch::Tensor| r.log_prob_unnormalised(x));
        ula(&s, None, eta, sz, device, seed)
    } else {
        ula(&TargetScore(&r), Some(&r), eta, sz, device, seed)
    }
}
