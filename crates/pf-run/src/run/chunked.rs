//! A sampler's `chunk = C`: its particles run at most C at a time (pf_sample::chunk joins the
//! chunks; only the first records a trajectory). Without `chunk`, or with C ≥ particles, this is
//! exactly one run of the sampler.

use crate::config::{SamplerSpec, RECORD_PARTICLES};
use anyhow::Result;
use pf_sample::{Ctx, Driver, SampleOut};

/// Runs `s` over its particle chunks, recording with stride `record` (first chunk only).
pub fn run(s: &SamplerSpec, cx: &Ctx, record: Option<usize>) -> Result<SampleOut> {
    let n = s.sampler.particles();
    match s.chunk.filter(|&c| c < n) {
        None => {
            let mut drv = Driver::new(record, Some(RECORD_PARTICLES));
            Ok(s.sampler.run(cx, &mut drv)?)
        }
        Some(c) => pf_sample::chunk::run_chunked(n, Some(c), |i, rows| -> Result<SampleOut> {
            let mut part = s.sampler.clone_box();
            part.set_particles(rows);
            let mut drv = Driver::new(record.filter(|_| i == 0), Some(RECORD_PARTICLES));
            Ok(part.run(cx, &mut drv)?)
        }),
    }
}
