//! Seed 002's time-resolved view of a 1-D run: where a sampler records a trajectory,
//! `<label>_paths.png` (x against t for a few hundred particles), and, when the target is a
//! Gaussian mixture and the sampler follows a `[[model]]`'s Gaussian path
//! ([`pf_sample::ModelUse::path`]), `<label>_marginals.png`: histograms at chosen times
//! against the exact marginal p_t of that path, with W₁ per time.
//!
//! The exact marginal: a mixture Σ_k w_k N(μ_k, s_k²) pushed along x_t = α(t) x₀ + σ(t) ε is
//! Σ_k w_k N(α(t) μ_k, α(t)² s_k² + σ(t)²) ([`GmmOracle::marginal`]). W₁ to it is exact in 1-D
//! ([`w1_to_mixture`]); its floor is the mean W₁ of as many exact samples of p_t
//! ([`w1_null_mean`]), what sampling noise alone gives.

use crate::config::{RunConfig, SamplerSpec};
pub use crate::records::W1ByTime;
use anyhow::{Context, Result};
use pf_core::metrics::{w1_null_mean, w1_to_mixture};
use pf_core::oracle::GmmOracle;
use pf_core::path::GaussianPath;
use pf_core::target::{GaussianMixture, Target};
use pf_sample::{SampleOut, Trajectory};
use pf_viz::{marginal_hists, paths_1d, MarginalOpts, MarginalPanel, Paths1d, Paths1dOpts};
use std::path::Path;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// The times the histograms show: the recorded frame nearest each (seed 002's choice; 0 is
/// the sampler's last frame).
pub const TIMES: [f64; 6] = [1.0, 0.6, 0.3, 0.1, 0.03, 0.0];

/// Particles drawn in `<label>_paths.png`.
pub const PATH_PARTICLES: usize = 300;

/// The Gaussian path sampler `s` follows: that of the `[[model]]` or `[[exact]]` model its
/// [`models`](pf_sample::Sampler::models) names the path of, where the model has one.
fn model_path(cfg: &RunConfig, s: &SamplerSpec) -> Result<Option<Arc<dyn GaussianPath>>> {
    let Some(name) = s.sampler.models().path else {
        return Ok(None);
    };
    let path = cfg
        .models
        .iter()
        .find(|m| m.name == name)
        .and_then(|m| m.info().path)
        .or_else(|| {
            cfg.exact
                .iter()
                .find(|e| e.name == name)
                .map(|e| e.path.clone())
        });
    Ok(match path {
        Some(p) => Some(p.build()?),
        None => None,
    })
}

/// One column of a frame as host floats (all its particles, or the first `max`).
fn xs(frame: &Tensor, max: usize) -> Vec<f32> {
    super::plots::column(frame, 0, max)
}

/// The frame indices nearest each of [`TIMES`], once each, in time order as recorded.
fn shown_frames(times: &[f64]) -> Vec<usize> {
    let mut ks: Vec<usize> = TIMES
        .iter()
        .filter_map(|&t| {
            (0..times.len()).min_by(|&a, &b| (times[a] - t).abs().total_cmp(&(times[b] - t).abs()))
        })
        .collect();
    ks.sort_unstable();
    ks.dedup();
    ks
}

/// W₁ of the shown frames of `tr` to the exact marginals of `gmm` along `path`, with the
/// histogram panels (exact density on a grid over every shown marginal's μ_k ± 4 s_k).
pub fn w1_by_time(
    tr: &Trajectory,
    gmm: &GaussianMixture,
    path: Arc<dyn GaussianPath>,
) -> Result<(W1ByTime, Vec<MarginalPanel>, (f64, f64))> {
    let oracle = GmmOracle::new(gmm.clone(), path);
    let mut w = W1ByTime {
        w1_by_time: Vec::new(),
        w1_floor: Vec::new(),
    };
    let mut panels = Vec::new();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut marginals = Vec::new();
    for k in shown_frames(&tr.times) {
        let t = tr.times[k];
        let m = oracle.marginal(t)?;
        for (mu, sd) in m.means().iter().zip(m.stds()) {
            lo = lo.min(mu[0] - 4.0 * sd[0]);
            hi = hi.max(mu[0] + 4.0 * sd[0]);
        }
        let samples = xs(&tr.frames[k], usize::MAX);
        let x64: Vec<f64> = samples.iter().map(|&v| v as f64).collect();
        let w1 = w1_to_mixture(&x64, &m)?;
        let floor = w1_null_mean(&m, x64.len())?;
        w.w1_by_time.push([t, w1]);
        w.w1_floor.push([t, floor]);
        marginals.push((t, w1, floor, samples, m));
    }
    let grid = Tensor::linspace(lo, hi, 400, (Kind::Double, Device::Cpu)).view([-1, 1]);
    let gx = Vec::<f64>::try_from(grid.view([-1]))?;
    for (t, w1, floor, samples, m) in marginals {
        let p = m.log_prob(&grid).context("mixture density")?.exp();
        panels.push(MarginalPanel {
            title: format!("t = {t:.3}  W₁ {w1:.4} (floor {floor:.4})"),
            samples,
            density: gx.iter().copied().zip(Vec::<f64>::try_from(p)?).collect(),
        });
    }
    Ok((w, panels, (lo, hi)))
}

/// Writes `<label>_paths.png` for a recorded 1-D sampler and, where the exact marginals are
/// known (module docs), `<label>_marginals.png`; returns the W₁ by time then. Figures only
/// with `output.plots`; the W₁ is computed either way.
pub fn write(
    cfg: &RunConfig,
    s: &SamplerSpec,
    label: &str,
    target: &dyn Target,
    out: &SampleOut,
    dir: &Path,
) -> Result<Option<W1ByTime>> {
    let Some(tr) = out.trajectory.as_ref() else {
        return Ok(None);
    };
    if target.dim() != 1 || tr.frames.is_empty() {
        return Ok(None);
    }
    if cfg.output.plots {
        let f = dir.join(format!("{label}_paths.png"));
        let panel = Paths1d {
            title: format!("{label}: x against t"),
            ts: tr.times.clone(),
            frames: tr.frames.iter().map(|x| xs(x, PATH_PARTICLES)).collect(),
        };
        let opts = Paths1dOpts {
            cols: 1,
            max_particles: PATH_PARTICLES,
            ..Paths1dOpts::default()
        };
        paths_1d(&f, &[panel], &opts).with_context(|| format!("plot {}", f.display()))?;
    }
    let (Some(gmm), Some(path)) = (
        cfg.target.mixture().filter(|g| g.dim() == 1),
        model_path(cfg, s)?,
    ) else {
        return Ok(None);
    };
    let (w, panels, range) = w1_by_time(tr, &gmm, path)?;
    if cfg.output.plots {
        let f = dir.join(format!("{label}_marginals.png"));
        let opts = MarginalOpts {
            title: format!("{label}: particles against the exact marginal p_t (red)"),
            cols: panels.len(),
            range: Some(range),
            panel_size: (300, 240),
            ..MarginalOpts::default()
        };
        marginal_hists(&f, &panels, &opts).with_context(|| format!("plot {}", f.display()))?;
    }
    Ok(Some(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pf_core::path::VpLinear;
    use pf_sample::reverse_sde::{Grid, ReverseSde};
    use pf_sample::Driver;

    const CONFIG: &str = r#"
[target]
kind = "gmm1d"

[[model]]
name = "vp"
param = "score"
[model.net]
arch = "score-mlp"
dim = 1
hidden = [16]
[model.loss]
kind = "dsm"

[[sampler]]
method = "reverse-sde"
name = "sde"
model = "vp"
record = 10

[[sampler]]
method = "ula"
record = 10
"#;

    /// The exact oracle's reverse SDE on gmm1d (4000 particles, VP (0.1, 20), 1000
    /// Euler–Maruyama steps, a frame every 10): at every shown time W₁ to the exact p_t is within
    /// 4 standard deviations of the floor, the sd measured over 20 sets of exact samples of p_t
    /// of the same size (Euler's bias at 1000 steps is below that noise). The hook writes both
    /// figures for it, and only the paths for ULA (which follows no model's path).
    #[test]
    fn exact_reverse_sde_sits_at_the_w1_floor_and_the_figures_are_written() {
        let _rng = pf_core::rng::seed_exclusive(5);
        let cfg = crate::config::parse(CONFIG, &[]).unwrap();
        let target = cfg.target.build().unwrap();
        let o = GmmOracle::new(GaussianMixture::gmm1d(), VpLinear::default());
        let n = crate::config::RECORD_PARTICLES as i64;
        let x1 = Tensor::randn([n, 1], (Kind::Float, Device::Cpu));
        let out = ReverseSde {
            grid: Grid::default(),
        }
        .run(&o.path, &o, &x1, &mut Driver::new(Some(10), None))
        .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let w = write(&cfg, &cfg.samplers[0], "sde", &*target, &out, tmp.path())
            .unwrap()
            .expect("reverse-sde follows the model's path");
        for f in ["sde_paths.png", "sde_marginals.png"] {
            let len = std::fs::metadata(tmp.path().join(f)).unwrap().len();
            assert!(len > 1000, "{f}: {len} bytes");
        }
        let ts: Vec<f64> = w.w1_by_time.iter().map(|p| p[0]).collect();
        assert_eq!(ts.len(), TIMES.len(), "{ts:?}");
        assert!(
            (ts[0] - 1.0).abs() < 1e-9 && (ts[5] - 1e-3).abs() < 1e-9,
            "{ts:?}"
        );
        for (&[t, w1], &[_, floor]) in w.w1_by_time.iter().zip(&w.w1_floor) {
            let m = o.marginal(t).unwrap();
            let reps: Vec<f64> = (0..20)
                .map(|_| {
                    let x = m.sample(n as usize, Device::Cpu).to_kind(Kind::Double);
                    w1_to_mixture(&Vec::<f64>::try_from(x.view([-1])).unwrap(), &m).unwrap()
                })
                .collect();
            let mean = reps.iter().sum::<f64>() / 20.0;
            let sd = (reps.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 19.0).sqrt();
            println!(
                "t = {t:.3}: W₁ {w1:.4}, floor {floor:.4} (exact samples {mean:.4} ± sd {sd:.4})"
            );
            assert!((mean - floor).abs() < 4.0 * sd / 20f64.sqrt() + 0.05 * floor);
            assert!(
                w1 < floor + 4.0 * sd,
                "t = {t}: W₁ {w1} vs floor {floor} (sd {sd})"
            );
        }
        let none = write(&cfg, &cfg.samplers[1], "ula", &*target, &out, tmp.path()).unwrap();
        assert_eq!(none, None);
        assert!(tmp.path().join("ula_paths.png").exists());
        assert!(!tmp.path().join("ula_marginals.png").exists());
    }
}
