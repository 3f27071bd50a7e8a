//! Running one `[[sampler]]`: wiring a pf-sample method to the target or a trained model.

use super::models::Trained;
use crate::config::{
    HConfig, InitConfig, LossConfig, ParticleOptimizer, SamplerConfig, ScoreSource, Solver,
};
use anyhow::{anyhow, Context, Result};
use pf_core::field::{AutogradScore, TargetScore};
use pf_core::target::{DataFile, GaussianMixture, Target};
use pf_nets::{DiscriminatorConfig, NetConfig};
use pf_sample::ddpm::{Ddpm, DdpmMethod};
use pf_sample::init::Init;
use pf_sample::mala::Mala;
use pf_sample::monoflow::{HFamily, MonoFlow, ParticleOpt};
use pf_sample::ode::{OdeMethod, OdeSampler};
use pf_sample::path_sde::PathSde;
use pf_sample::pc::PredictorCorrector;
use pf_sample::reverse_sde::{Grid, ReverseSde};
use pf_sample::ula::Ula;
use pf_sample::SampleOut;
use pf_train::discriminator::{Discriminator, DiscriminatorTrainConfig};
use std::collections::HashMap;
use tch::{Device, Kind, Tensor};

/// Frames kept per GIF frame.
pub const RECORD_PARTICLES: usize = 4000;

fn ode_method(s: Solver, rtol: f64, atol: f64) -> OdeMethod {
    match s {
        Solver::Euler => OdeMethod::Euler,
        Solver::Heun => OdeMethod::Heun,
        Solver::Rk4 => OdeMethod::Rk4,
        Solver::Dopri5 => OdeMethod::Dopri5 { rtol, atol },
    }
}

/// The particles an [`InitConfig`] asks for; `default` when it says `default`.
fn initial(
    init: &InitConfig,
    n: usize,
    dim: usize,
    device: Device,
    default: impl FnOnce() -> Result<Tensor>,
) -> Result<Tensor> {
    Ok(match init {
        InitConfig::Default => default()?,
        InitConfig::Normal { scale, shift } => Init::Normal {
            scale: scale.clone(),
            shift: shift.clone(),
        }
        .draw(n, dim, device)?,
        InitConfig::Target { target } => target.build()?.sample(n, device),
        InitConfig::File { path } => DataFile::load(path)?.sample(n, device),
    })
}

/// Runs sampler `s` with `n` particles. `record` limits the trajectory stride (None: off).
pub fn run(
    s: &SamplerConfig,
    target: &dyn Target,
    models: &HashMap<String, Trained>,
    device: Device,
    record: Option<usize>,
) -> Result<SampleOut> {
    let dim = target.dim();
    let model = |name: &str| {
        models
            .get(name)
            .ok_or_else(|| anyhow!("model {name:?} was not trained"))
    };
    let rp = Some(RECORD_PARTICLES);
    let normal = |n: usize, std: f64| -> Result<Tensor> {
        Ok(Tensor::randn([n as i64, dim as i64], (Kind::Float, device)) * std)
    };
    let out = match s {
        SamplerConfig::Ula {
            particles,
            steps,
            eta,
            noise_scale,
            score,
            init,
            ..
        } => {
            let x0 = initial(init, *particles, dim, device, || normal(*particles, 1.0))?;
            let ula = Ula {
                steps: *steps,
                eta: eta.clone(),
                noise_scale: noise_scale.clone(),
                record,
                record_particles: rp,
                ..Ula::default()
            };
            match score {
                ScoreSource::Target => {
                    let _ = target.score(&x0.narrow(0, 0, 1)).ok_or_else(|| {
                        anyhow!(
                            "target {} has no score; use score = \"autograd\" or another sampler",
                            target.name()
                        )
                    })?;
                    ula.run(
                        &TargetScore(target),
                        &Init::Given(x0),
                        *particles,
                        dim,
                        device,
                    )?
                }
                ScoreSource::Autograd => {
                    let _ = target.log_prob(&x0.narrow(0, 0, 1)).ok_or_else(|| {
                        anyhow!(
                            "target {} has no log-density to differentiate",
                            target.name()
                        )
                    })?;
                    let lp = |x: &Tensor| target.log_prob(x).expect("checked");
                    ula.run(
                        &AutogradScore(lp),
                        &Init::Given(x0),
                        *particles,
                        dim,
                        device,
                    )?
                }
            }
        }
        SamplerConfig::Mala {
            particles,
            steps,
            eta,
            init,
            ..
        } => {
            let x0 = initial(init, *particles, dim, device, || normal(*particles, 1.0))?;
            Mala {
                steps: *steps,
                eta: eta.clone(),
                record,
                record_particles: rp,
                ..Mala::default()
            }
            .run(target, &Init::Given(x0), *particles, device)?
        }
        SamplerConfig::ReverseSde {
            model: m,
            particles,
            steps,
            t_end,
            ..
        } => {
            let m = model(m)?;
            let x1 = normal(*particles, m.path.prior_std())?;
            let grid = Grid {
                steps: *steps,
                t_start: None,
                t_end: *t_end,
            };
            ReverseSde {
                grid,
                record,
                record_particles: rp,
                ..ReverseSde::default()
            }
            .run(&*m.path, &m.score(), &x1)?
        }
        SamplerConfig::Pc {
            model: m,
            particles,
            steps,
            t_end,
            snr,
            corrector_steps,
            ..
        } => {
            let m = model(m)?;
            let x1 = normal(*particles, m.path.prior_std())?;
            let grid = Grid {
                steps: *steps,
                t_start: None,
                t_end: *t_end,
            };
            PredictorCorrector {
                grid,
                snr: *snr,
                corrector_steps: *corrector_steps,
                record,
                record_particles: rp,
                ..PredictorCorrector::default()
            }
            .run(&*m.path, &m.score(), &x1)?
        }
        SamplerConfig::PfOde {
            model: m,
            particles,
            solver,
            steps,
            rtol,
            atol,
            t_end,
            ..
        } => {
            let m = model(m)?;
            let x1 = normal(*particles, m.path.prior_std())?;
            let s = OdeSampler {
                method: ode_method(*solver, *rtol, *atol),
                steps: *steps,
                t_start: None,
                t_end: *t_end,
                record,
                record_particles: rp,
                ..OdeSampler::default()
            };
            s.pf_ode(&*m.path, &m.score(), &x1)?
        }
        SamplerConfig::Ddpm {
            model: m,
            particles,
            ..
        }
        | SamplerConfig::Ddim {
            model: m,
            particles,
            ..
        } => {
            let m = model(m)?;
            let sched = m
                .ddpm
                .as_ref()
                .ok_or_else(|| anyhow!("model {} is not a ddpm model", m.cfg.name))?;
            let method = match s {
                SamplerConfig::Ddim { steps, .. } => DdpmMethod::Ddim { steps: *steps },
                _ => DdpmMethod::Ancestral,
            };
            let eps = |x: &Tensor, t: &Tensor| m.net.forward(x, t);
            let x1 = normal(*particles, 1.0)?;
            Ddpm {
                method,
                record,
                record_particles: rp,
                ..Ddpm::default()
            }
            .run(sched, &eps, &x1)?
        }
        SamplerConfig::Flow {
            model: m,
            particles,
            solver,
            steps,
            rtol,
            atol,
            t_end,
            init,
            ..
        } => {
            let m = model(m)?;
            let x1 = initial(init, *particles, dim, device, || match &m.source {
                Some(src) => Ok(src.sample(*particles, device)),
                None => normal(*particles, m.path.prior_std()),
            })?;
            let s = OdeSampler {
                method: ode_method(*solver, *rtol, *atol),
                steps: *steps,
                t_start: Some(1.0),
                t_end: *t_end,
                record,
                record_particles: rp,
                ..OdeSampler::default()
            };
            s.flow(&m.velocity(), &x1)?
        }
        SamplerConfig::PathSde {
            velocity,
            score,
            sigma,
            particles,
            steps,
            t_end,
            ..
        } => {
            let (v, sc) = (model(velocity)?, model(score)?);
            if matches!(v.cfg.loss, LossConfig::FmLinear { .. }) {
                return Err(anyhow!("path-sde needs a Gaussian path (the linear path from an arbitrary source has no score)"));
            }
            let x1 = normal(*particles, v.path.prior_std())?;
            PathSde {
                sigma: *sigma,
                steps: *steps,
                t_start: 1.0,
                t_end: *t_end,
                record,
                record_particles: rp,
                ..PathSde::default()
            }
            .run(&v.velocity(), &sc.score(), &x1)?
        }
        SamplerConfig::Monoflow {
            particles,
            iterations,
            batch,
            h,
            optimizer,
            lr,
            noise,
            discriminator,
            discriminator_train,
            init,
            ..
        } => {
            let net = discriminator
                .clone()
                .unwrap_or_else(|| default_discriminator(dim));
            let mut d = Discriminator::new(
                net,
                discriminator_train
                    .clone()
                    .unwrap_or_else(default_discriminator_train),
                device,
            )
            .context("discriminator")?;
            let x0 = initial(init, *particles, dim, device, || {
                if dim == 2 {
                    Ok(GaussianMixture::eight_gaussians(2.0, 0.2)?.sample(*particles, device))
                } else {
                    normal(*particles, 1.0)
                }
            })?;
            let h = match h {
                HConfig::Logit => HFamily::Logit,
                HConfig::Ns => HFamily::Ns,
                HConfig::Vanilla => HFamily::Vanilla,
                HConfig::Arcsinh => HFamily::Arcsinh,
            };
            let opt = match optimizer {
                ParticleOptimizer::Sgd => ParticleOpt::Sgd { lr: *lr },
                ParticleOptimizer::Adam => ParticleOpt::Adam {
                    lr: *lr,
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-8,
                },
            };
            let flow = MonoFlow {
                iterations: *iterations,
                batch: *batch,
                h,
                opt,
                noise: *noise,
                record,
                record_particles: rp,
                guard: Default::default(),
            };
            flow.run(&mut d, target, &Init::Given(x0), *particles, device)?
        }
    };
    Ok(out)
}

/// Seed 000's discriminator: an MLP with two hidden layers of 128, SiLU, no time input.
pub fn default_discriminator(dim: usize) -> NetConfig {
    NetConfig::Discriminator(DiscriminatorConfig::new(dim as i64))
}

/// The discriminator's default training: k = 1 Adam step per iteration at lr 1e-3 (seed 000).
pub fn default_discriminator_train() -> DiscriminatorTrainConfig {
    toml::from_str("").expect("defaults")
}
