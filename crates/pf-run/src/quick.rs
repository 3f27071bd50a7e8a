//! `--quick`: every budget shrunk so a run finishes in well under a minute on 2 CPU cores.
//! The shape of the experiment (methods, nets, paths) is kept; only sizes and step counts drop.

use crate::config::{LikelihoodPoints, RunConfig};

/// Caps applied by `--quick` (samplers take theirs from [`pf_sample::Quick`]).
pub const TRAIN_STEPS: usize = 200;
pub const DATASET: usize = 20_000;
pub const LIKELIHOOD_POINTS: usize = 400;
pub const REFERENCE: usize = 2000;

/// Shrinks every budget of `cfg` in place.
pub fn shrink(cfg: &mut RunConfig) {
    let q = pf_sample::Quick::default();
    for m in &mut cfg.models {
        let t = &mut m.train;
        t.steps = Some(t.steps.map_or(TRAIN_STEPS, |s| s.min(TRAIN_STEPS)));
        t.epochs = None;
        t.log_every = t.log_every.min(50);
        t.checkpoint_every = t.checkpoint_every.map(|c| c.min(TRAIN_STEPS));
        t.batch_size = t.batch_size.min(512);
        m.dataset = m.dataset.map(|d| d.min(DATASET));
    }
    for s in &mut cfg.samplers {
        if let Some(steps) = s.sampler.quick(&q) {
            s.record = s.record.map(|_| (steps / 10).max(1));
        }
    }
    if let Some(l) = &mut cfg.likelihood {
        match &mut l.points {
            LikelihoodPoints::Grid { n, .. } | LikelihoodPoints::Samples { n } => {
                *n = (*n).min(LIKELIHOOD_POINTS)
            }
        }
        l.heldout = l.heldout.min(LIKELIHOOD_POINTS);
        l.rtol = l.rtol.max(1e-4);
        l.atol = l.atol.max(1e-4);
    }
    cfg.output.reference = cfg.output.reference.min(REFERENCE);
    cfg.output.model_nll = cfg.output.model_nll.min(LIKELIHOOD_POINTS);
    cfg.output.gif_frames = cfg.output.gif_frames.min(20);
    cfg.output.plot_particles = cfg.output.plot_particles.min(q.particles);
}
