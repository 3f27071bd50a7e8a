//! A sampler's `chunk = C`: the particles run at most C at a time through [`samplers::run`]
//! (pf_sample::chunk joins the chunks; only the first records a trajectory). Without `chunk`,
//! or with C ≥ particles, this is exactly [`samplers::run`].

use super::models::Trained;
use super::samplers;
use crate::config::SamplerConfig;
use anyhow::Result;
use pf_core::target::Target;
use pf_sample::SampleOut;
use std::collections::HashMap;
use tch::Device;

/// [`samplers::run`] over the sampler's particle chunks.
pub fn run(
    s: &SamplerConfig,
    target: &dyn Target,
    models: &HashMap<String, Trained>,
    device: Device,
    record: Option<usize>,
) -> Result<SampleOut> {
    let n = s.particles();
    match s.chunk().filter(|&c| c < n) {
        None => samplers::run(s, target, models, device, record),
        Some(c) => pf_sample::chunk::run_chunked(n, Some(c), |i, rows| {
            let mut part = s.clone();
            *part.particles_mut() = rows;
            samplers::run(&part, target, models, device, record.filter(|_| i == 0))
        }),
    }
}
