//! Means with error bars against a parameter, one line per series (a sweep's metric against a
//! swept value, ± the standard deviation over seeds), on linear or logarithmic axes.

use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::atomic::{write_png, Area};
use crate::colormap::palette;
use crate::curves::{fmt_tick, log_ticks};
use crate::data::{auto_range, check_range, with_note};
use crate::error::{DrawResult, Error, Result};
use crate::font::FAMILY;
use crate::scatter::font_sizes;

/// One line of [`errorbars`]: mean `ys[i]` ± `errs[i]` at `xs[i]` (equal lengths). A
/// non-finite mean breaks the line; a non-finite or zero error draws no bar.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorSeries {
    /// Legend entry (empty: not in the legend).
    pub name: String,
    /// Abscissae.
    pub xs: Vec<f64>,
    /// Means.
    pub ys: Vec<f64>,
    /// Half-widths of the bars (≥ 0).
    pub errs: Vec<f64>,
    /// Colour; `None`: the next colour of the categorical palette.
    pub color: Option<RGBColor>,
}

impl ErrorSeries {
    /// A series with the automatic colour.
    pub fn new(name: impl Into<String>, xs: Vec<f64>, ys: Vec<f64>, errs: Vec<f64>) -> Self {
        ErrorSeries {
            name: name.into(),
            xs,
            ys,
            errs,
            color: None,
        }
    }

    /// The same series in colour `c`.
    pub fn with_color(mut self, c: RGBColor) -> Self {
        self.color = Some(c);
        self
    }
}

/// Options of [`errorbars`].
#[derive(Clone, Debug)]
pub struct ErrorBarOpts {
    /// Title above the plot.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Logarithmic x axis (points with x ≤ 0 are dropped and counted in the title).
    pub log_x: bool,
    /// Logarithmic y axis (means ≤ 0 are dropped and counted; a bar reaching below the axis is
    /// cut at its bottom).
    pub log_y: bool,
    /// Shown y range; `None`: the bars' range plus a 5% margin (multiplicative on a log axis).
    pub y_range: Option<(f64, f64)>,
    /// Ticks of a log x axis (e.g. the swept values); `None` (or a linear axis): automatic.
    pub x_ticks: Option<Vec<f64>>,
    /// Image size in pixels.
    pub size: (u32, u32),
}

impl Default for ErrorBarOpts {
    fn default() -> Self {
        ErrorBarOpts {
            title: String::new(),
            x_label: "x".into(),
            y_label: "y".into(),
            log_x: false,
            log_y: false,
            y_range: None,
            x_ticks: None,
            size: (640, 420),
        }
    }
}

/// A point kept for drawing: (x, mean, low, high).
type Bar = (f64, f64, f64, f64);

struct Line {
    name: String,
    color: RGBColor,
    /// Runs of consecutive valid points.
    pieces: Vec<Vec<Bar>>,
}

/// Writes means with ± error bars against x to `path` (PNG), one line per series, with a legend.
///
/// Errors: no series or no points, unequal lengths, a negative or NaN error where the mean is
/// finite, a bad range, or an unwritable path.
pub fn errorbars(
    path: impl AsRef<Path>,
    series: &[ErrorSeries],
    opts: &ErrorBarOpts,
) -> Result<()> {
    let path = path.as_ref();
    if series.iter().all(|s| s.xs.is_empty()) {
        return Err(Error::empty(path, "no series or no points"));
    }
    let (mut dropped, mut nonpositive) = (0, 0);
    let mut lines = Vec::with_capacity(series.len());
    for (i, s) in series.iter().enumerate() {
        if s.xs.len() != s.ys.len() || s.xs.len() != s.errs.len() {
            return Err(Error::invalid(
                path,
                format!(
                    "series '{}' has {} xs, {} ys and {} errs",
                    s.name,
                    s.xs.len(),
                    s.ys.len(),
                    s.errs.len()
                ),
            ));
        }
        let mut pieces = Vec::new();
        let mut cur = Vec::new();
        for ((&x, &y), &e) in s.xs.iter().zip(&s.ys).zip(&s.errs) {
            let keep = if !(x.is_finite() && y.is_finite()) {
                dropped += 1;
                false
            } else if (opts.log_x && x <= 0.0) || (opts.log_y && y <= 0.0) {
                nonpositive += 1;
                false
            } else {
                true
            };
            if !keep {
                if !cur.is_empty() {
                    pieces.push(std::mem::take(&mut cur));
                }
                continue;
            }
            let e = if e.is_finite() { e } else { 0.0 };
            if e < 0.0 {
                return Err(Error::invalid(
                    path,
                    format!("series '{}' has a negative error {e} at x = {x}", s.name),
                ));
            }
            cur.push((x, y, y - e, y + e));
        }
        if !cur.is_empty() {
            pieces.push(cur);
        }
        lines.push(Line {
            name: s.name.clone(),
            color: s.color.unwrap_or(palette(i)),
            pieces,
        });
    }
    let bars = || lines.iter().flat_map(|l| l.pieces.iter().flatten());
    let log_of = |v: f64, log: bool| if log { v.log10() } else { v };
    let exp_of = |v: f64, log: bool| if log { 10f64.powf(v) } else { v };
    let x_range = auto_range(bars().map(|b| log_of(b.0, opts.log_x)))
        .map(|(lo, hi)| (exp_of(lo, opts.log_x), exp_of(hi, opts.log_x)))
        .unwrap_or(if opts.log_x { (0.1, 10.0) } else { (-1.0, 1.0) });
    let y_range = match opts.y_range {
        Some(r) => {
            check_range(path, r, "y_range")?;
            if opts.log_y && r.0 <= 0.0 {
                return Err(Error::invalid(path, "a log y_range must be positive"));
            }
            r
        }
        None => {
            // the bars' ends; on a log axis a bar's low end ≤ 0 does not set the range
            let ends = bars().flat_map(|b| [b.1, b.2, b.3]);
            let ends: Vec<f64> = ends
                .filter(|v| !opts.log_y || *v > 0.0)
                .map(|v| log_of(v, opts.log_y))
                .collect();
            auto_range(ends)
                .map(|(lo, hi)| (exp_of(lo, opts.log_y), exp_of(hi, opts.log_y)))
                .unwrap_or(if opts.log_y { (0.1, 10.0) } else { (-1.0, 1.0) })
        }
    };
    let title = with_note(&opts.title, dropped, "non-finite");
    let title = with_note(&title, nonpositive, "non-positive (log axis)");
    let (xl, xh) = x_range;
    let (yl, yh) = y_range;
    write_png(path, opts.size, |root| {
        // log ticks only for a log axis (its range is positive)
        let lx = || {
            let given = opts
                .x_ticks
                .as_ref()
                .map(|t| {
                    t.iter()
                        .copied()
                        .filter(|v| (xl..=xh).contains(v))
                        .collect::<Vec<_>>()
                })
                .filter(|t| !t.is_empty());
            (xl..xh)
                .log_scale()
                .with_key_points(given.unwrap_or_else(|| log_ticks(xl, xh)))
        };
        let ly = || (yl..yh).log_scale().with_key_points(log_ticks(yl, yh));
        match (opts.log_x, opts.log_y) {
            (false, false) => draw(root, &title, opts, xl..xh, yl..yh, y_range, &lines),
            (true, false) => draw(root, &title, opts, lx(), yl..yh, y_range, &lines),
            (false, true) => draw(root, &title, opts, xl..xh, ly(), y_range, &lines),
            (true, true) => draw(root, &title, opts, lx(), ly(), y_range, &lines),
        }
    })
}

fn draw<X, Y>(
    area: &Area<'_>,
    title: &str,
    opts: &ErrorBarOpts,
    x_spec: X,
    y_spec: Y,
    (y_lo, y_hi): (f64, f64),
    lines: &[Line],
) -> DrawResult<()>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let (_, h) = area.dim_in_pixel();
    let (title_px, desc_px, tick_px) = font_sizes(h);
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(12)
        .x_label_area_size(tick_px * 2 + desc_px + 8)
        .y_label_area_size(tick_px * 4 + desc_px + 14);
    if !title.is_empty() {
        builder.caption(title, (FAMILY, title_px));
    }
    let mut chart = builder.build_cartesian_2d(x_spec, y_spec)?;
    chart
        .configure_mesh()
        .x_desc(opts.x_label.as_str())
        .y_desc(opts.y_label.as_str())
        .x_label_formatter(&fmt_tick)
        .y_label_formatter(&fmt_tick)
        .label_style((FAMILY, tick_px))
        .axis_desc_style((FAMILY, desc_px))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    let clip = |v: f64| v.clamp(y_lo, y_hi);
    let mut any_label = false;
    for l in lines {
        let color = l.color;
        for (k, piece) in l.pieces.iter().enumerate() {
            let anno = chart.draw_series(LineSeries::new(
                piece.iter().map(|b| (b.0, b.1)),
                color.stroke_width(2),
            ))?;
            if k == 0 && !l.name.is_empty() {
                any_label = true;
                anno.label(&l.name).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
                });
            }
            chart.draw_series(
                piece
                    .iter()
                    .map(|b| Circle::new((b.0, b.1), 3, color.filled())),
            )?;
            // bars: a vertical line from mean − err to mean + err, 10 px caps at both ends
            let style = color.stroke_width(2);
            let bars = piece.iter().filter(|b| b.3 > b.2);
            chart.draw_series(
                bars.clone()
                    .map(|b| PathElement::new(vec![(b.0, clip(b.2)), (b.0, clip(b.3))], style)),
            )?;
            // (no cap where the axis cuts a bar)
            let ends = bars.flat_map(|b| [(b.0, b.2), (b.0, b.3)]);
            chart
                .draw_series(ends.filter(|e| clip(e.1) == e.1).map(|e| {
                    EmptyElement::at(e) + PathElement::new(vec![(-5, 0), (5, 0)], style)
                }))?;
        }
    }
    if any_label {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .legend_area_size(28)
            .label_font((FAMILY, tick_px + 1))
            .draw()?;
    }
    Ok(())
}
