//! Figures and animations of a run, through pf-viz (plain arrays in, files out).

use anyhow::{Context, Result};
use pf_core::target::{Target, TargetConfig};
use pf_sample::Trajectory;
use pf_viz::{Grid, Panel, PanelOpts, ScatterOpts, Series};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Rows of a tensor as plain `[f32; 2]` points from columns (a, b), at most `max` of them.
pub fn points2(x: &Tensor, cols: (i64, i64), max: usize) -> Vec<[f32; 2]> {
    let n = (x.size()[0] as usize).min(max) as i64;
    let x = x
        .narrow(0, 0, n)
        .to_device(Device::Cpu)
        .to_kind(Kind::Float);
    let a: Vec<f32> = Vec::try_from(x.select(1, cols.0).contiguous()).unwrap_or_default();
    let b: Vec<f32> = Vec::try_from(x.select(1, cols.1).contiguous()).unwrap_or_default();
    a.into_iter().zip(b).map(|(a, b)| [a, b]).collect()
}

/// One column as host floats, at most `max`.
pub fn column(x: &Tensor, col: i64, max: usize) -> Vec<f32> {
    let n = (x.size()[0] as usize).min(max) as i64;
    Vec::try_from(
        x.narrow(0, 0, n)
            .select(1, col)
            .to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous(),
    )
    .unwrap_or_default()
}

/// What every 2-D figure of a run shares: columns shown, window, outline and density background.
pub struct Canvas {
    pub cols: (i64, i64),
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub outline: Vec<Vec<(f64, f64)>>,
    pub background: Option<Grid>,
    pub max_points: usize,
    pub axis_names: [String; 2],
}

/// A window around the reference samples: their 0.5–99.5 % quantiles plus 10 %.
fn window(reference: &Tensor, col: i64) -> (f64, f64) {
    let c = reference
        .select(1, col)
        .to_kind(Kind::Double)
        .to_device(Device::Cpu);
    let q = |p: f64| {
        c.quantile_scalar(p, None, false, "linear")
            .double_value(&[])
    };
    let (lo, hi) = (q(0.005), q(0.995));
    let pad = 0.1 * (hi - lo).max(1e-6);
    (lo - pad, hi + pad)
}

impl Canvas {
    /// The canvas of a ≥ 2-D target (built from `config`): columns (0, neck) for funnels, else
    /// (0, 1); the config's outline drawn over the points.
    pub fn new(
        target: &dyn Target,
        config: &TargetConfig,
        reference: &Tensor,
        fixed: Option<[[f64; 2]; 2]>,
        max_points: usize,
    ) -> Self {
        let neck = config.neck();
        let cols = match neck {
            Some(n) => (if n.column == 0 { 1 } else { 0 }, n.column as i64),
            None => (0, 1),
        };
        let (x_range, y_range) = match fixed {
            Some(w) => ((w[0][0], w[0][1]), (w[1][0], w[1][1])),
            None => (window(reference, cols.0), window(reference, cols.1)),
        };
        let background =
            if target.dim() == 2 && target.log_prob(&reference.narrow(0, 0, 1)).is_some() {
                // the cell centres pf-viz draws at, as (column a, column b) points
                let mut pts = Vec::with_capacity(2 * 160 * 160);
                let mut grid = Grid::from_fn(x_range, y_range, 160, 160, |x, y| {
                    let (a, b) = if cols == (0, 1) { (x, y) } else { (y, x) };
                    pts.extend([a as f32, b as f32]);
                    f64::NAN
                });
                let at = Tensor::from_slice(&pts)
                    .view([-1, 2])
                    .to_device(reference.device());
                let lp = target
                    .log_prob(&at)
                    .expect("checked")
                    .to_device(Device::Cpu)
                    .to_kind(Kind::Double);
                grid.values = Vec::try_from(lp).unwrap_or_default();
                let mx = grid
                    .values
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .fold(f64::NEG_INFINITY, f64::max);
                Some(grid.clamp_below(mx - 12.0))
            } else {
                None
            };
        let name = |c: i64| {
            if Some(c as usize) == neck.map(|n| n.column) {
                "neck".to_string()
            } else {
                format!("x{c}")
            }
        };
        Self {
            cols,
            x_range,
            y_range,
            outline: config.outline(),
            background,
            max_points,
            axis_names: [name(cols.0), name(cols.1)],
        }
    }

    fn scatter_opts(&self, title: String) -> ScatterOpts {
        ScatterOpts {
            title,
            x_label: self.axis_names[0].clone(),
            y_label: self.axis_names[1].clone(),
            x_range: Some(self.x_range),
            y_range: Some(self.y_range),
            outline: self.outline.clone(),
            background: self.background.clone(),
            ..ScatterOpts::default()
        }
    }

    /// `<dir>/<label>.png`: the samples over the target.
    pub fn scatter(&self, path: &Path, x: &Tensor, title: String) -> Result<()> {
        pf_viz::scatter(
            path,
            &points2(x, self.cols, self.max_points),
            &self.scatter_opts(title),
        )
        .with_context(|| format!("plot {}", path.display()))
    }

    /// An animated GIF of a trajectory.
    pub fn gif(
        &self,
        path: &Path,
        tr: &Trajectory,
        title: String,
        frames: usize,
        delay_ms: u32,
    ) -> Result<()> {
        let f: Vec<Vec<[f32; 2]>> = tr
            .frames
            .iter()
            .map(|x| points2(x, self.cols, self.max_points))
            .collect();
        let opts = pf_viz::GifOpts {
            scatter: self.scatter_opts(title),
            steps: Some(tr.steps.clone()),
            delay_ms,
            max_frames: frames,
        };
        pf_viz::gif(path, &f, &opts).with_context(|| format!("animation {}", path.display()))
    }

    /// A strip of (at most 6) frames of a trajectory, each titled with its step (seed 003).
    pub fn strip(&self, path: &Path, tr: &Trajectory, title: String) -> Result<()> {
        let f: Vec<Vec<[f32; 2]>> = tr
            .frames
            .iter()
            .map(|x| points2(x, self.cols, self.max_points))
            .collect();
        let mut scatter = self.scatter_opts(format!("{title}, step {{step}}"));
        scatter.size = (300, 300);
        let opts = pf_viz::StripOpts {
            scatter,
            steps: Some(tr.steps.clone()),
            max_frames: 6,
        };
        pf_viz::strip(path, &f, &opts).with_context(|| format!("plot {}", path.display()))
    }

    /// A 2-D histogram of the samples (log colour scale) in the run's window.
    pub fn density(&self, path: &Path, x: &Tensor, title: String) -> Result<()> {
        let opts = pf_viz::DensityOpts {
            title,
            x_label: self.axis_names[0].clone(),
            y_label: self.axis_names[1].clone(),
            // about 2 samples per bin-column: √N/1.5 bins a side, 30 to 120
            bins: {
                let b = ((x.size()[0] as f64).sqrt() / 1.5).clamp(30.0, 120.0) as usize;
                (b, b)
            },
            x_range: Some(self.x_range),
            y_range: Some(self.y_range),
            log_scale: true,
            ..pf_viz::DensityOpts::default()
        };
        pf_viz::density(path, &points2(x, self.cols, usize::MAX), &opts)
            .with_context(|| format!("plot {}", path.display()))
    }

    /// Per-particle trajectories along each shown axis (seed 003).
    pub fn trajectories(&self, path: &Path, tr: &Trajectory, title: String) -> Result<()> {
        let f: Vec<Vec<[f32; 2]>> = tr.frames.iter().map(|x| points2(x, self.cols, 8)).collect();
        let n = f.first().map_or(0, |p| p.len()).min(4);
        let opts = pf_viz::TrajOpts {
            title,
            axis_names: self.axis_names.clone().into(),
            steps: Some(tr.steps.clone()),
            ..pf_viz::TrajOpts::default()
        };
        pf_viz::trajectories(path, &f, &(0..n).collect::<Vec<_>>(), &opts)
            .with_context(|| format!("plot {}", path.display()))
    }

    /// One subplot per method with shared axes.
    pub fn panel(&self, path: &Path, panels: Vec<(String, &Tensor)>, title: String) -> Result<()> {
        let panels: Vec<Panel> = panels
            .into_iter()
            .map(|(t, x)| Panel {
                title: t,
                points: points2(x, self.cols, self.max_points),
            })
            .collect();
        let cols = (panels.len() as f64).sqrt().ceil().max(1.0) as usize;
        let opts = PanelOpts {
            title,
            cols,
            x_range: Some(self.x_range),
            y_range: Some(self.y_range),
            outline: self.outline.clone(),
            background: self.background.clone(),
            x_label: self.axis_names[0].clone(),
            y_label: self.axis_names[1].clone(),
            ..PanelOpts::default()
        };
        pf_viz::panel(path, &panels, &opts).with_context(|| format!("plot {}", path.display()))
    }
}

/// A 1-D sample histogram with the true density (when known).
pub fn hist_1d(
    path: &Path,
    target: &dyn Target,
    x: &Tensor,
    title: String,
    range: (f64, f64),
    max_points: usize,
) -> Result<()> {
    let overlay = true_density_1d(target, range, x.device());
    let opts = pf_viz::HistOpts {
        title,
        range: Some(range),
        bins: 80,
        ..pf_viz::HistOpts::default()
    };
    pf_viz::hist1d(path, &column(x, 0, max_points), overlay.as_ref(), &opts)
        .with_context(|| format!("plot {}", path.display()))
}

/// p(x) on a grid over `range`, for 1-D targets with a normalised log-density.
pub fn true_density_1d(target: &dyn Target, range: (f64, f64), device: Device) -> Option<Series> {
    if target.dim() != 1 || !target.normalised() {
        return None;
    }
    let g = Tensor::linspace(range.0, range.1, 400, (Kind::Float, device)).view([-1, 1]);
    let p = target
        .log_prob(&g)?
        .exp()
        .to_kind(Kind::Double)
        .to_device(Device::Cpu);
    let xs: Vec<f64> =
        Vec::try_from(g.view([-1]).to_kind(Kind::Double).to_device(Device::Cpu)).ok()?;
    Some(Series::line("true density", xs, Vec::try_from(p).ok()?))
}

/// Loss curves of the trained models: on a log y axis, or a linear one when a model's loss is
/// `signed` ([`pf_train::Objective::signed_loss`]) or a value is ≤ 0 (a log axis would drop it).
pub fn losses(path: &Path, series: Vec<Series>, signed: bool) -> Result<()> {
    let opts = pf_viz::CurveOpts {
        title: "training loss".into(),
        x_label: "step".into(),
        y_label: "loss".into(),
        log_y: !signed && pf_viz::log_axis_fits(&series),
        ..pf_viz::CurveOpts::default()
    };
    pf_viz::curves(path, &series, &opts).with_context(|| format!("plot {}", path.display()))
}

/// Learned vs true log-likelihood along a 1-D grid (seed 002).
pub fn loglik_curves(
    path: &Path,
    xs: Vec<f64>,
    learned: Vec<f64>,
    truth: Option<Vec<f64>>,
) -> Result<()> {
    let mut s = vec![Series::line("PF-ODE log-likelihood", xs.clone(), learned)];
    if let Some(t) = truth {
        s.push(Series::dashed("true log-density", xs, t));
    }
    let opts = pf_viz::CurveOpts {
        title: "log-likelihood through the PF ODE".into(),
        x_label: "x".into(),
        y_label: "log p(x)".into(),
        ..pf_viz::CurveOpts::default()
    };
    pf_viz::curves(path, &s, &opts).with_context(|| format!("plot {}", path.display()))
}
