//! 1-D samplers over time (seed 002): many particles' x against t, and particle histograms at
//! chosen times against the exact marginal densities, as small multiples.

use std::path::Path;

use plotters::prelude::*;

use crate::atomic::{check_size, write_png};
use crate::colormap::palette;
use crate::curves::fmt_tick;
use crate::data::{auto_range, check_range, with_dropped};
use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::hist::histogram;
use crate::scatter::font_sizes;

/// One subplot of [`paths_1d`]: `frames[k][i]` is particle i's coordinate at time `ts[k]`.
#[derive(Clone, Debug, Default)]
pub struct Paths1d {
    /// Subplot title (e.g. "reverse SDE", "PF ODE").
    pub title: String,
    /// The time of each frame (one per frame; any order of t, drawn as given).
    pub ts: Vec<f64>,
    /// frames × particles.
    pub frames: Vec<Vec<f32>>,
}

/// Options of [`paths_1d`].
#[derive(Clone, Debug)]
pub struct Paths1dOpts {
    /// Title over the whole figure (empty: none).
    pub title: String,
    /// Subplots per row.
    pub cols: usize,
    /// Axis labels.
    pub x_label: String,
    /// See `x_label`.
    pub y_label: String,
    /// Shared vertical range; `None`: over every panel's finite values plus a 5 % margin.
    pub y_range: Option<(f64, f64)>,
    /// Draw at most this many particles per panel (evenly spaced indices).
    pub max_particles: usize,
    /// Line opacity in (0, 1].
    pub alpha: f64,
    /// Line colour.
    pub color: RGBColor,
    /// Size of one subplot in pixels.
    pub panel_size: (u32, u32),
}

impl Default for Paths1dOpts {
    fn default() -> Self {
        Paths1dOpts {
            title: String::new(),
            cols: 2,
            x_label: "t".into(),
            y_label: "x".into(),
            y_range: None,
            max_particles: 200,
            alpha: 0.25,
            color: palette(0),
            panel_size: (520, 380),
        }
    }
}

/// The polylines of particle `i` through `frames` at `ts`, broken at non-finite values, and
/// how many values were non-finite.
fn particle_pieces(ts: &[f64], frames: &[Vec<f32>], i: usize) -> (Vec<Vec<(f64, f64)>>, usize) {
    let (mut pieces, mut cur, mut bad) = (Vec::new(), Vec::new(), 0);
    for (t, f) in ts.iter().zip(frames) {
        let v = f[i];
        if v.is_finite() {
            cur.push((*t, v as f64));
        } else {
            bad += 1;
            if !cur.is_empty() {
                pieces.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        pieces.push(cur);
    }
    (pieces, bad)
}

/// Writes the particles' x against t of every panel (row-major, `opts.cols` per row, shared y
/// axis) to `path` (PNG). Non-finite values break a line and are counted in the panel title.
///
/// Errors: no panels, a panel whose `ts` and `frames` lengths differ or whose frames have
/// different particle counts, no particles anywhere, `cols` or `max_particles` 0, an alpha
/// outside (0, 1], a bad range, or an unwritable path.
pub fn paths_1d(path: impl AsRef<Path>, panels: &[Paths1d], opts: &Paths1dOpts) -> Result<()> {
    let path = path.as_ref();
    if panels.is_empty() || panels.iter().all(|p| p.frames.iter().all(|f| f.is_empty())) {
        return Err(Error::empty(path, "no panels or no particles"));
    }
    if opts.cols == 0 || opts.max_particles == 0 {
        return Err(Error::invalid(path, "cols and max_particles must be ≥ 1"));
    }
    if !(opts.alpha > 0.0 && opts.alpha <= 1.0) {
        return Err(Error::invalid(
            path,
            format!("alpha {} not in (0, 1]", opts.alpha),
        ));
    }
    check_size(path, opts.panel_size)?;
    if let Some(r) = opts.y_range {
        check_range(path, r, "y_range")?;
    }
    let mut prepared = Vec::with_capacity(panels.len());
    for (k, p) in panels.iter().enumerate() {
        if p.ts.len() != p.frames.len() {
            return Err(Error::invalid(
                path,
                format!(
                    "panel {k}: {} times for {} frames",
                    p.ts.len(),
                    p.frames.len()
                ),
            ));
        }
        let n = p.frames.first().map_or(0, |f| f.len());
        if p.frames.iter().any(|f| f.len() != n) {
            return Err(Error::invalid(
                path,
                format!("panel {k}: frames hold different numbers of particles"),
            ));
        }
        let chosen: Vec<usize> = if n <= opts.max_particles {
            (0..n).collect()
        } else {
            (0..opts.max_particles)
                .map(|j| j * n / opts.max_particles)
                .collect()
        };
        let mut bad = 0;
        let lines: Vec<Vec<(f64, f64)>> = chosen
            .iter()
            .flat_map(|&i| {
                let (pieces, b) = particle_pieces(&p.ts, &p.frames, i);
                bad += b;
                pieces
            })
            .collect();
        // the t axis spans the times exactly
        let (lo, hi) =
            p.ts.iter()
                .filter(|t| t.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &t| {
                    (a.min(t), b.max(t))
                });
        let t_range = if hi > lo {
            (lo, hi)
        } else if lo.is_finite() {
            (lo - 0.5, lo + 0.5)
        } else {
            (0.0, 1.0)
        };
        let title = with_dropped(&p.title, bad);
        prepared.push((title, lines, t_range));
    }
    let y_range = match opts.y_range {
        Some(r) => r,
        None => auto_range(
            prepared
                .iter()
                .flat_map(|p| p.1.iter().flatten().map(|q| q.1)),
        )
        .unwrap_or((-1.0, 1.0)),
    };
    let cols = opts.cols.min(panels.len());
    let rows = panels.len().div_ceil(cols);
    let title_h = if opts.title.is_empty() { 0 } else { 40 };
    let size = (
        opts.panel_size.0.saturating_mul(cols as u32),
        opts.panel_size
            .1
            .saturating_mul(rows as u32)
            .saturating_add(title_h),
    );
    let style = opts.color.mix(opts.alpha).stroke_width(1);
    write_png(path, size, |root| {
        let body = if opts.title.is_empty() {
            root.clone()
        } else {
            root.titled(&opts.title, (FAMILY, 24))?
        };
        let cells = body.split_evenly((rows, cols));
        for (area, (title, lines, t_range)) in cells.iter().zip(&prepared) {
            let (_, h) = area.dim_in_pixel();
            let (title_px, desc_px, tick_px) = font_sizes(h);
            let mut chart = ChartBuilder::on(area)
                .margin(12)
                .caption(title, (FAMILY, title_px))
                .x_label_area_size(tick_px * 2 + desc_px + 8)
                .y_label_area_size(tick_px * 4 + desc_px + 14)
                .build_cartesian_2d(t_range.0..t_range.1, y_range.0..y_range.1)?;
            chart
                .configure_mesh()
                .x_desc(&opts.x_label)
                .y_desc(&opts.y_label)
                .x_label_formatter(&fmt_tick)
                .y_label_formatter(&fmt_tick)
                .label_style((FAMILY, tick_px))
                .axis_desc_style((FAMILY, desc_px))
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(215, 215, 215))
                .draw()?;
            for l in lines {
                chart.draw_series(std::iter::once(PathElement::new(l.clone(), style)))?;
            }
        }
        Ok(())
    })
}

/// One subplot of [`marginal_hists`]: the particles at one time and the exact density there.
#[derive(Clone, Debug, Default)]
pub struct MarginalPanel {
    /// Subplot title (e.g. "t = 0.5   W₁ 0.012").
    pub title: String,
    /// The particles' coordinates.
    pub samples: Vec<f32>,
    /// The exact marginal density as (x, p(x)) points, drawn in red; empty: none.
    pub density: Vec<(f64, f64)>,
}

/// Options of [`marginal_hists`].
#[derive(Clone, Debug)]
pub struct MarginalOpts {
    /// Title over the whole figure (empty: none).
    pub title: String,
    /// Subplots per row.
    pub cols: usize,
    /// Range of the bins, shared by every panel; `None`: over every panel's finite samples.
    pub range: Option<(f64, f64)>,
    /// Equal-width bins per panel.
    pub bins: usize,
    /// Label of the x axis.
    pub x_label: String,
    /// Bar colour.
    pub color: RGBColor,
    /// Size of one subplot in pixels.
    pub panel_size: (u32, u32),
}

impl Default for MarginalOpts {
    fn default() -> Self {
        MarginalOpts {
            title: String::new(),
            cols: 3,
            range: None,
            bins: 60,
            x_label: "x".into(),
            color: palette(0),
            panel_size: (380, 280),
        }
    }
}

/// Writes one density-normalised histogram per panel with its exact density curve in red
/// (row-major, `opts.cols` per row, shared x axis, each panel its own y axis) to `path` (PNG).
/// Bars are count / (n · width) with n every sample of the panel, so bars and curve are on the
/// same scale. Non-finite samples are dropped and counted in the panel title.
///
/// Errors: no panels or no samples anywhere, `cols` or `bins` 0, a bad range, or an unwritable
/// path.
pub fn marginal_hists(
    path: impl AsRef<Path>,
    panels: &[MarginalPanel],
    opts: &MarginalOpts,
) -> Result<()> {
    let path = path.as_ref();
    if panels.iter().all(|p| p.samples.is_empty()) {
        return Err(Error::empty(path, "no panels or no samples"));
    }
    if opts.cols == 0 || opts.bins == 0 {
        return Err(Error::invalid(path, "cols and bins must be ≥ 1"));
    }
    check_size(path, opts.panel_size)?;
    let finite: Vec<Vec<f64>> = panels
        .iter()
        .map(|p| {
            p.samples
                .iter()
                .filter(|v| v.is_finite())
                .map(|&v| v as f64)
                .collect()
        })
        .collect();
    let range = match opts.range {
        Some(r) => {
            check_range(path, r, "range")?;
            r
        }
        None => auto_range(finite.iter().flatten().copied()).unwrap_or((-1.0, 1.0)),
    };
    let width = (range.1 - range.0) / opts.bins as f64;
    // per panel: title, bar heights, density curve, top of the y axis
    type Prepared = (String, Vec<f64>, Vec<(f64, f64)>, f64);
    let prepared: Vec<Prepared> = panels
        .iter()
        .zip(&finite)
        .map(|(p, f)| {
            let mut h = histogram(f, range, opts.bins);
            // normalise by every sample given, non-finite ones included
            let scale = f.len().max(1) as f64 / p.samples.len().max(1) as f64;
            h.iter_mut().for_each(|v| *v *= scale);
            let curve: Vec<(f64, f64)> = p
                .density
                .iter()
                .copied()
                .filter(|q| q.0.is_finite() && q.1.is_finite())
                .collect();
            let top = h
                .iter()
                .copied()
                .chain(
                    curve
                        .iter()
                        .filter(|q| q.0 >= range.0 && q.0 <= range.1)
                        .map(|q| q.1),
                )
                .fold(0.0f64, f64::max);
            let top = if top > 0.0 { top * 1.08 } else { 1.0 };
            (
                with_dropped(&p.title, p.samples.len() - f.len()),
                h,
                curve,
                top,
            )
        })
        .collect();
    let cols = opts.cols.min(panels.len());
    let rows = panels.len().div_ceil(cols);
    let title_h = if opts.title.is_empty() { 0 } else { 40 };
    let size = (
        opts.panel_size.0.saturating_mul(cols as u32),
        opts.panel_size
            .1
            .saturating_mul(rows as u32)
            .saturating_add(title_h),
    );
    let bar = opts.color.mix(0.6).filled();
    write_png(path, size, |root| {
        let body = if opts.title.is_empty() {
            root.clone()
        } else {
            root.titled(&opts.title, (FAMILY, 24))?
        };
        let cells = body.split_evenly((rows, cols));
        for (area, (title, heights, curve, top)) in cells.iter().zip(&prepared) {
            let (_, h) = area.dim_in_pixel();
            let (title_px, desc_px, tick_px) = font_sizes(h);
            let mut chart = ChartBuilder::on(area)
                .margin(10)
                .caption(title, (FAMILY, title_px))
                .x_label_area_size(tick_px * 2 + desc_px + 8)
                .y_label_area_size(tick_px * 4 + 8)
                .build_cartesian_2d(range.0..range.1, 0.0..*top)?;
            chart
                .configure_mesh()
                .x_desc(&opts.x_label)
                .x_label_formatter(&fmt_tick)
                .y_label_formatter(&fmt_tick)
                .label_style((FAMILY, tick_px))
                .axis_desc_style((FAMILY, desc_px))
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(215, 215, 215))
                .draw()?;
            chart.draw_series(heights.iter().enumerate().filter(|(_, &v)| v > 0.0).map(
                |(k, &v)| {
                    let l = range.0 + k as f64 * width;
                    Rectangle::new([(l, 0.0), (l + width, v)], bar)
                },
            ))?;
            if !curve.is_empty() {
                chart.draw_series(LineSeries::new(curve.clone(), RED.stroke_width(2)))?;
            }
        }
        Ok(())
    })
}
