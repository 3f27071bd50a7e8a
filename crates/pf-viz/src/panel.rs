//! A grid of scatter subplots, one per method, on shared axes.

use std::path::Path;

use plotters::prelude::*;

use crate::atomic::{check_size, write_png};
use crate::data::{finite_points, with_dropped};
use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::grid::Grid;
use crate::scatter::{draw_frame, resolve_ranges, Frame, PointStyle};

/// One subplot of [`panel`]: its title (put metrics here) and its points.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    /// Subplot title, e.g. "PF-ODE  MMD 0.012".
    pub title: String,
    /// The samples to scatter.
    pub points: Vec<[f32; 2]>,
}

/// Options of [`panel`].
#[derive(Clone, Debug)]
pub struct PanelOpts {
    /// Title over the whole grid (empty: none).
    pub title: String,
    /// Subplots per row.
    pub cols: usize,
    /// Shared x range; `None`: over all panels (and the outline) plus a 5% margin.
    pub x_range: Option<(f64, f64)>,
    /// Shared y range; `None`: over all panels (and the outline) plus a 5% margin.
    pub y_range: Option<(f64, f64)>,
    /// Polylines drawn in red on every subplot.
    pub outline: Vec<Vec<(f64, f64)>>,
    /// Field drawn as filled bands under the points of every subplot.
    pub background: Option<Grid>,
    /// Number of background bands (0: continuous).
    pub background_levels: usize,
    /// Size of one subplot in pixels.
    pub panel_size: (u32, u32),
    /// Marker radius in pixels (0: one pixel).
    pub point_size: u32,
    /// Marker opacity in [0, 1].
    pub alpha: f64,
    /// Marker colour.
    pub color: RGBColor,
    /// Axis labels.
    pub x_label: String,
    /// See `x_label`.
    pub y_label: String,
}

impl Default for PanelOpts {
    fn default() -> Self {
        PanelOpts {
            title: String::new(),
            cols: 3,
            x_range: None,
            y_range: None,
            outline: Vec::new(),
            background: None,
            background_levels: 12,
            panel_size: (360, 360),
            point_size: 1,
            alpha: 0.5,
            color: RGBColor(0, 0, 255),
            x_label: "x".into(),
            y_label: "y".into(),
        }
    }
}

/// Writes a comparison grid (row-major, `opts.cols` per row) of the panels into one PNG.
/// Non-finite points are dropped per panel and counted in its title; a panel may be empty.
///
/// Errors: no panels or no points in any panel, `cols == 0`, bad options, or an unwritable path.
pub fn panel(path: impl AsRef<Path>, panels: &[Panel], opts: &PanelOpts) -> Result<()> {
    let path = path.as_ref();
    if panels.iter().all(|p| p.points.is_empty()) {
        return Err(Error::empty(path, "no panels or no points"));
    }
    if opts.cols == 0 {
        return Err(Error::invalid(path, "cols must be at least 1"));
    }
    let style = PointStyle {
        size: opts.point_size,
        alpha: opts.alpha,
        color: opts.color,
    };
    style.check(path)?;
    check_size(path, opts.panel_size)?;
    if let Some(g) = &opts.background {
        g.check(path)?;
    }
    let prepared: Vec<(Vec<(f64, f64)>, usize)> =
        panels.iter().map(|p| finite_points(&p.points)).collect();
    let (x_range, y_range) = resolve_ranges(
        path,
        opts.x_range,
        opts.y_range,
        prepared.iter().flat_map(|p| p.0.iter()),
        &opts.outline,
    )?;
    let titles: Vec<String> = panels
        .iter()
        .zip(&prepared)
        .map(|(p, (_, dropped))| with_dropped(&p.title, *dropped))
        .collect();
    let reserve_title = titles.iter().any(|t| !t.is_empty());
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

    write_png(path, size, |root| {
        let body = if opts.title.is_empty() {
            root.clone()
        } else {
            root.titled(&opts.title, (FAMILY, 24))?
        };
        let cells = body.split_evenly((rows, cols));
        for (area, (title, (pts, _))) in cells.iter().zip(titles.iter().zip(&prepared)) {
            let frame = Frame {
                title: title.clone(),
                reserve_title,
                x_label: &opts.x_label,
                y_label: &opts.y_label,
                points: pts,
                x_range,
                y_range,
                style,
                outline: &opts.outline,
                background: opts
                    .background
                    .as_ref()
                    .map(|g| (g, opts.background_levels)),
                corner_label: None,
            };
            draw_frame(area, &frame)?;
        }
        Ok(())
    })
}
