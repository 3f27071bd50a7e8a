//! A run's figures: each sampler's scatter (or 1-D histogram), density, trajectories, strip and
//! GIF over the target, and the panel of every sampler beside the reference.

use super::plots;
use crate::config::RunConfig;
use anyhow::Result;
use pf_core::target::Target;
use pf_sample::SampleOut;
use std::path::Path;
use tch::{Kind, Tensor};

/// How a run draws its samples: a 2-D canvas over the target, or a 1-D histogram range.
pub struct Figures {
    pub canvas: Option<plots::Canvas>,
    pub range_1d: Option<(f64, f64)>,
}

impl Figures {
    pub fn new(cfg: &RunConfig, target: &dyn Target, reference: &Tensor) -> Self {
        let dim = target.dim();
        let canvas = (dim >= 2).then(|| {
            plots::Canvas::new(
                target,
                &cfg.target,
                reference,
                cfg.output.window,
                cfg.output.plot_particles,
            )
        });
        let range_1d = (dim == 1).then(|| {
            let c = reference.select(1, 0).to_kind(Kind::Double);
            let q = |p: f64| {
                c.quantile_scalar(p, None, false, "linear")
                    .double_value(&[])
            };
            let (lo, hi) = (q(0.001), q(0.999));
            (lo - 0.15 * (hi - lo), hi + 0.15 * (hi - lo))
        });
        Self { canvas, range_1d }
    }
}

/// A sampler's scatter (or 1-D histogram), density, trajectory plots and GIF.
pub fn sampler_figures(
    cfg: &RunConfig,
    label: &str,
    title: String,
    target: &dyn Target,
    out: &SampleOut,
    figures: &Figures,
    dir: &Path,
) -> Result<(Option<String>, Option<String>)> {
    let (mut figure, mut gif) = (None, None);
    if cfg.output.plots {
        let f = format!("{label}.png");
        if let Some(c) = &figures.canvas {
            c.scatter(&dir.join(&f), &out.x, title)?;
        } else if let Some(r) = figures.range_1d {
            let n = cfg.output.plot_particles.max(20_000);
            plots::hist_1d(&dir.join(&f), target, &out.x, title, r, n)?;
        }
        figure = Some(f);
        if let Some(c) = &figures.canvas {
            let sd = format!("{label}: sample density");
            c.density(&dir.join(format!("{label}_density.png")), &out.x, sd)?;
            if let Some(tr) = &out.trajectory {
                let tp = dir.join(format!("{label}_trajectories.png"));
                c.trajectories(&tp, tr, label.to_string())?;
                c.strip(
                    &dir.join(format!("{label}_strip.png")),
                    tr,
                    label.to_string(),
                )?;
            }
        }
    }
    if let (Some(c), Some(tr)) = (&figures.canvas, &out.trajectory) {
        let g = format!("{label}.gif");
        let (frames, delay) = (cfg.output.gif_frames, cfg.output.gif_delay_ms);
        c.gif(&dir.join(&g), tr, label.to_string(), frames, delay)?;
        gif = Some(g);
    }
    Ok((figure, gif))
}

/// `panel.png`: the reference beside every sampler's samples, each titled with its energy
/// distance (2-D targets; nothing for 1-D ones or a run without samplers).
pub fn panel(
    figures: &Figures,
    dir: &Path,
    reference: &Tensor,
    results: &[super::SamplerResult],
    finals: &[Tensor],
    title: String,
) -> Result<()> {
    let Some(c) = figures.canvas.as_ref().filter(|_| !finals.is_empty()) else {
        return Ok(());
    };
    let mut panels: Vec<(String, &Tensor)> = vec![("target (reference)".into(), reference)];
    for (r, x) in results.iter().zip(finals) {
        panels.push((format!("{} — E {:.1e}", r.label, r.metrics.energy()), x));
    }
    c.panel(&dir.join("panel.png"), panels, title)
}
