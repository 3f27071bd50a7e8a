//! The pre-flight memory check: an estimate of a run's big allocations, compared with the memory
//! available, before the run directory exists.
//!
//! Estimated, in bytes (float32, D the target dimension): what stays resident — the reference
//! samples (R × D × 4) and every finished sampler's particles (N × D × 4, kept for the panel) —
//! plus the largest stage:
//! - a sampler: N × (k · D + a) × 4, k the [N, D] tensors its step keeps alive (12 for
//!   ULA/MALA, twice that through autograd, 6–12 for diffusion and ODE samplers by solver), a
//!   the activations of one forward pass of its net (2 · widest layer + time embedding), plus
//!   the recorded frames and the metrics' float64 copies;
//! - a model: the dataset (n × D × 4) plus a training batch B × (3 · Σ hidden + 3 · E + 8 · D) × 4
//!   (activations kept for backward, and their gradients);
//! - the likelihood: its points × the same per-row training cost × 2.
//!
//! The estimate is meant to catch impossible configs (a factor of ten or more over), not to
//! budget tight ones. On CUDA it is skipped (libtorch does not report free device memory
//! through tch); an allocation failure there is still caught by the stage (see
//! [`super::oom`]).

use super::oom::human;
use super::Stage;
use crate::config::{LikelihoodPoints, ModelConfig, RunConfig, SamplerSpec};
use anyhow::Result;
use pf_nets::NetConfig;
use tch::Device;

/// Environment variable: the bytes the check treats as available (for containers whose
/// `/proc/meminfo` does not tell, and for tests).
pub const AVAILABLE_ENV: &str = "PF_MEMORY_AVAILABLE";

const F32: f64 = 4.0;

/// Memory available to this process: `PF_MEMORY_AVAILABLE`, else the smaller of
/// `/proc/meminfo`'s MemAvailable and the cgroup (v2) limit's headroom. None when unknown.
pub fn available() -> Option<f64> {
    if let Some(v) = std::env::var(AVAILABLE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Some(v);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let mut avail = kb * 1024.0;
    let read = |f: &str| -> Option<f64> {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{f}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    if let (Some(max), Some(cur)) = (read("memory.max"), read("memory.current")) {
        avail = avail.min((max - cur).max(0.0));
    }
    Some(avail)
}

/// The hidden widths and time-embedding width of a net.
fn widths(net: &NetConfig) -> (Vec<f64>, f64) {
    match net {
        NetConfig::ScoreMlp(c) => (
            c.hidden.iter().map(|&h| h as f64).collect(),
            c.embed_dim as f64,
        ),
        NetConfig::DdpmMlp(c) => (vec![c.nunits as f64; c.nblocks + 1], c.nunits as f64),
        NetConfig::VectorMlp(c) => (
            c.hidden.iter().map(|&h| h as f64).collect(),
            c.embed_dim as f64,
        ),
        NetConfig::Discriminator(c) => (
            c.hidden.iter().map(|&h| h as f64).collect(),
            c.embed_dim as f64,
        ),
    }
}

/// Bytes per row of one forward pass without gradients.
fn forward_row(net: &NetConfig, d: f64) -> f64 {
    let (h, e) = widths(net);
    let widest = h.iter().cloned().fold(0.0, f64::max);
    F32 * (2.0 * widest + e + 4.0 * d)
}

/// Bytes per row of one training step (activations kept for backward, and their gradients).
fn train_row(net: &NetConfig, d: f64) -> f64 {
    let (h, e) = widths(net);
    F32 * (3.0 * h.iter().sum::<f64>() + 3.0 * e + 8.0 * d)
}

/// One stage's estimate.
struct Need {
    stage: Stage,
    bytes: f64,
}

fn model_need(m: &ModelConfig, d: f64) -> Need {
    let data = m.dataset.unwrap_or(0) as f64 * d * F32;
    // a linear path's source batch
    let source = (!m.loss.objective.on_gaussian_path() && m.loss.objective.ddpm_steps().is_none())
        as u8 as f64;
    let batch = m.train.batch_size as f64;
    Need {
        stage: Stage::Model {
            name: m.name.clone(),
            batch: m.train.batch_size,
        },
        bytes: data + batch * (train_row(&m.net, d) + source * d * F32),
    }
}

fn sampler_need(s: &SamplerSpec, models: &[ModelConfig], d: f64, reference: f64) -> Need {
    let n = s.sampler.particles() as f64;
    let fp = s.sampler.footprint();
    let used = s.sampler.models().models;
    let fwd = |name: &&str| {
        models
            .iter()
            .find(|m| m.name == *name)
            .map_or(0.0, |m| forward_row(&m.net, d))
    };
    let act = fp.floats * F32
        + if used.is_empty() {
            16.0 * F32
        } else {
            used.iter().map(fwd).sum()
        };
    let (k, steps) = (fp.rows, fp.steps);
    let frames = s.record.map_or(0.0, |stride| {
        (steps / stride.max(1) + 2) as f64 * n.min(crate::config::RECORD_PARTICLES as f64) * d * F32
    });
    // the metrics' float64 copies of the samples and the reference
    let metrics = 2.0 * n * d * 8.0 + reference * d * 8.0;
    Need {
        stage: Stage::Sampler {
            label: s.label(),
            particles: s.sampler.particles(),
        },
        bytes: n * (k * d * F32 + act) + frames + metrics,
    }
}

/// The largest stage of `cfg` with what stays resident while it runs, in run order.
fn peak(cfg: &RunConfig) -> Result<Option<Need>> {
    let d = crate::config::target_dim(&cfg.target)? as f64;
    let r = cfg.output.reference as f64;
    let mut resident = r * d * F32;
    let mut needs = vec![Need {
        stage: Stage::Reference {
            n: cfg.output.reference,
        },
        bytes: 4.0 * r * d * F32,
    }];
    for m in &cfg.models {
        let n = model_need(m, d);
        needs.push(Need {
            bytes: n.bytes + resident,
            ..n
        });
    }
    for s in &cfg.samplers {
        let n = sampler_need(s, &cfg.models, d, r);
        needs.push(Need {
            bytes: n.bytes + resident,
            ..n
        });
        resident += s.sampler.particles() as f64 * d * F32;
    }
    if let Some(l) = &cfg.likelihood {
        let points = match l.points {
            LikelihoodPoints::Grid { n, .. } | LikelihoodPoints::Samples { n } => n,
        }
        .max(l.heldout);
        let row = cfg
            .models
            .iter()
            .find(|m| m.name == l.model)
            .map_or(0.0, |m| train_row(&m.net, d));
        needs.push(Need {
            stage: Stage::Likelihood { points },
            bytes: resident + points as f64 * (2.0 * row + 12.0 * d * F32),
        });
    }
    Ok(needs.into_iter().max_by(|a, b| a.bytes.total_cmp(&b.bytes)))
}

/// Refuses `cfg` when its largest stage cannot fit in the memory available on `device` (CPU
/// only; see the module docs). One line: the stage, the bytes, the device, the knob.
pub fn check(cfg: &RunConfig, device: Device) -> Result<()> {
    if device != Device::Cpu {
        tracing::debug!("pre-flight memory check skipped on {device:?}");
        return Ok(());
    }
    let (Some(need), Some(avail)) = (peak(cfg)?, available()) else {
        return Ok(());
    };
    tracing::debug!(stage = %need.stage.what(), bytes = need.bytes, avail, "pre-flight memory estimate");
    if need.bytes > avail {
        anyhow::bail!(
            "not enough memory for {}: it needs about {} ({:.0} bytes) on cpu, {} is available; {}",
            need.stage.what(),
            human(need.bytes),
            need.bytes,
            human(avail),
            need.stage.hint()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> RunConfig {
        let text = format!(
            "seed = 1\n[target]\nkind = \"funnel\"\n[output]\nreference = 1000\n\n[[sampler]]\nmethod = \"ula\"\nparticles = {extra}\nsteps = 10\n"
        );
        crate::config::parse(&text, &[]).unwrap()
    }

    /// ULA on the 2-D funnel: N × (12 · 2 · 4 + 64) bytes, plus the metrics' float64 copies
    /// (2 · N · 2 · 8 + R · 2 · 8) and the resident reference (R · 2 · 4).
    #[test]
    fn ula_estimate_is_linear_in_particles_as_written() {
        let n = 1_000_000.0;
        let r = 1000.0;
        let want = n * (12.0 * 2.0 * 4.0 + 64.0) + 2.0 * n * 2.0 * 8.0 + r * 2.0 * 8.0 + r * 8.0;
        let got = peak(&cfg("1000000")).unwrap().unwrap();
        assert!(matches!(got.stage, Stage::Sampler { .. }));
        assert!(
            (got.bytes - want).abs() < 1e-6 * want,
            "{} vs {want}",
            got.bytes
        );
    }
}
