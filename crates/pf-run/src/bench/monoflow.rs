//! `monoflow-funnel`: seed 000's particle flow toward the funnel. Each iteration: one Adam step
//! (lr 1e-3) of the discriminator (seed 000's MLP, [128, 128] SiLU) on BCE between a fresh data
//! batch and a random batch of particles, then one SGD step (lr 1e-3) of every particle along
//! ∇ₓD (h = identity, the seed's `-torch.sum(D_logit(xs))`).

use super::{mean, small, timed, Outcome, Sizes};
use anyhow::Result;
use pf_core::target::Funnel;
use pf_nets::{DiscriminatorConfig, NetConfig};
use pf_sample::init::Init;
use pf_sample::monoflow::{HFamily, MonoFlow, ParticleOpt};
use pf_sample::Driver;
use pf_train::discriminator::{Discriminator, DiscriminatorTrainConfig};
use tch::Device;

pub(crate) fn funnel(sz: Sizes, device: Device, seed: i64) -> Result<(f64, Outcome)> {
    let (n, k, batch) = (
        sz.particles.unwrap_or(1),
        sz.steps.unwrap_or(1),
        sz.batch.unwrap_or(1),
    );
    anyhow::ensure!(
        batch <= n,
        "--batch {batch} must be at most --particles {n} (a batch of distinct particles)"
    );
    tch::manual_seed(seed);
    let mut disc = Discriminator::new(
        NetConfig::Discriminator(DiscriminatorConfig::new(2)),
        DiscriminatorTrainConfig::default(),
        device,
    )?;
    let target = Funnel::default();
    let flow = |iterations| MonoFlow {
        iterations,
        batch,
        h: HFamily::Logit,
        opt: ParticleOpt::Sgd { lr: 1e-3 },
        noise: 0.0,
    };
    let x0 = || Init::StdNormal.draw(n, 2, device);
    flow(small(k, 5)).run(&mut disc, &target, x0()?, &mut Driver::default())?;
    tch::manual_seed(seed);
    let (wall, out) = timed(device, || {
        Ok(flow(k).run(&mut disc, &target, x0()?, &mut Driver::default())?)
    })?;
    Ok((
        wall,
        Outcome {
            work: k as f64,
            unit: "iterations/s",
            nfe: None,
            check: mean(&out.x),
        },
    ))
}
