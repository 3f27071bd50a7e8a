//! 1-D curves with a legend: learned vs true log-likelihood (seed 002), loss curves (`log_y`).

use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::atomic::{write_png, Area};
use crate::colormap::palette;
use crate::data::{auto_range, check_range, with_note};
use crate::error::{DrawResult, Error, Result};
use crate::font::FAMILY;
use crate::scatter::font_sizes;

/// How a [`Series`] is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SeriesStyle {
    /// A solid line.
    #[default]
    Line,
    /// A dashed line.
    Dashed,
    /// Unconnected markers.
    Points,
}

/// One named curve: `ys[i]` at `xs[i]` (equal lengths). Non-finite pairs break the line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend entry (empty: not in the legend).
    pub name: String,
    /// Abscissae.
    pub xs: Vec<f64>,
    /// Ordinates.
    pub ys: Vec<f64>,
    /// Line, dashed or points.
    pub style: SeriesStyle,
    /// Colour; `None`: the next colour of a categorical palette (red for a [`crate::hist1d`]
    /// overlay).
    pub color: Option<RGBColor>,
}

impl Series {
    /// A series with the given style and the automatic colour.
    pub fn new(name: impl Into<String>, xs: Vec<f64>, ys: Vec<f64>, style: SeriesStyle) -> Self {
        Series {
            name: name.into(),
            xs,
            ys,
            style,
            color: None,
        }
    }

    /// A solid line.
    pub fn line(name: impl Into<String>, xs: Vec<f64>, ys: Vec<f64>) -> Self {
        Self::new(name, xs, ys, SeriesStyle::Line)
    }

    /// A dashed line.
    pub fn dashed(name: impl Into<String>, xs: Vec<f64>, ys: Vec<f64>) -> Self {
        Self::new(name, xs, ys, SeriesStyle::Dashed)
    }

    /// Markers only.
    pub fn points(name: impl Into<String>, xs: Vec<f64>, ys: Vec<f64>) -> Self {
        Self::new(name, xs, ys, SeriesStyle::Points)
    }

    /// The same series in colour `c`.
    pub fn with_color(mut self, c: RGBColor) -> Self {
        self.color = Some(c);
        self
    }
}

/// Options of [`curves`].
#[derive(Clone, Debug)]
pub struct CurveOpts {
    /// Title above the plot.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Logarithmic y axis (values ≤ 0 are dropped and counted in the title).
    pub log_y: bool,
    /// Shown x range; `None`: the data range plus a 5% margin.
    pub x_range: Option<(f64, f64)>,
    /// Shown y range; `None`: the data range plus a 5% margin (multiplicative on a log axis).
    pub y_range: Option<(f64, f64)>,
    /// Image size in pixels.
    pub size: (u32, u32),
}

impl Default for CurveOpts {
    fn default() -> Self {
        CurveOpts {
            title: String::new(),
            x_label: "x".into(),
            y_label: "y".into(),
            log_y: false,
            x_range: None,
            y_range: None,
            size: (640, 420),
        }
    }
}

/// A series split into drawable pieces.
pub(crate) struct Prepared {
    pub name: String,
    pub style: SeriesStyle,
    pub color: RGBColor,
    /// Runs of consecutive valid points.
    pub pieces: Vec<Vec<(f64, f64)>>,
}

/// Splits `s` at invalid points (non-finite, or `y <= 0` with `log_y`); returns the prepared
/// series and the numbers of non-finite and non-positive points dropped.
pub(crate) fn prepare(
    path: &Path,
    s: &Series,
    color: RGBColor,
    log_y: bool,
) -> Result<(Prepared, usize, usize)> {
    if s.xs.len() != s.ys.len() {
        return Err(Error::invalid(
            path,
            format!(
                "series '{}' has {} xs but {} ys",
                s.name,
                s.xs.len(),
                s.ys.len()
            ),
        ));
    }
    let (mut nonfinite, mut nonpositive) = (0, 0);
    let mut pieces = Vec::new();
    let mut cur = Vec::new();
    for (&x, &y) in s.xs.iter().zip(&s.ys) {
        let ok = if !(x.is_finite() && y.is_finite()) {
            nonfinite += 1;
            false
        } else if log_y && y <= 0.0 {
            nonpositive += 1;
            false
        } else {
            true
        };
        if ok {
            cur.push((x, y));
        } else if !cur.is_empty() {
            pieces.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        pieces.push(cur);
    }
    let prepared = Prepared {
        name: s.name.clone(),
        style: s.style,
        color: s.color.unwrap_or(color),
        pieces,
    };
    Ok((prepared, nonfinite, nonpositive))
}

/// Compact tick text: up to 4 significant digits, scientific for very large/small values.
pub(crate) fn fmt_tick(v: &f64) -> String {
    let v = *v;
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.0e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// Tick values of a log axis on [lo, hi] (0 < lo < hi): powers of ten over more than four
/// decades, 1-2-5 steps over more than one and a half, else every 1…9 × 10^k; if a rule
/// leaves fewer than three ticks inside the range, the next finer one is used, and a range too
/// narrow for 1…9 × 10^k gets evenly spaced ticks, the 1, 2 or 5 × 10^k step nearest to four
/// intervals apart.
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = (hi / lo).log10();
    let rules: [&[f64]; 3] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ];
    let first = if decades > 4.0 {
        0
    } else if decades > 1.5 {
        1
    } else {
        2
    };
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    for mantissas in &rules[first..] {
        let ticks: Vec<f64> = (k0..=k1)
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|v| (lo..=hi).contains(v))
            .collect();
        if ticks.len() >= 3 {
            return ticks;
        }
    }
    // the 1, 2 or 5 × 10^k step closest to four intervals across the range
    let span = hi - lo;
    let p = 10f64.powf(span.log10().floor() - 1.0);
    let step = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0]
        .iter()
        .map(|m| m * p)
        .min_by(|a, b| {
            ((span / a) - 4.0)
                .abs()
                .total_cmp(&((span / b) - 4.0).abs())
        })
        .unwrap_or(span);
    let (first, last) = ((lo / step - 1e-9).ceil(), (hi / step + 1e-9).floor());
    (first as i64..=last as i64)
        .map(|i| i as f64 * step)
        .collect()
}

/// The y range of a log axis: given (checked positive) or the data range widened by 5% of the
/// log-span on each side.
fn log_range(path: &Path, given: Option<(f64, f64)>, ys: &[f64]) -> Result<(f64, f64)> {
    if let Some(r) = given {
        check_range(path, r, "y_range")?;
        if r.0 <= 0.0 {
            return Err(Error::invalid(path, "a log y_range must be positive"));
        }
        return Ok(r);
    }
    let (lo, hi) = auto_range(ys.iter().map(|y| y.log10())).unwrap_or((-1.0, 1.0));
    Ok((10f64.powf(lo), 10f64.powf(hi)))
}

/// Draws the series on `area` with the given y coordinate (linear or log).
pub(crate) fn draw_series_chart<Y>(
    area: &Area<'_>,
    title: &str,
    x_label: &str,
    y_label: &str,
    x_range: (f64, f64),
    y_spec: Y,
    series: &[Prepared],
) -> DrawResult<()>
where
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
    let mut chart =
        builder.build_cartesian_2d(Into::<RangedCoordf64>::into(x_range.0..x_range.1), y_spec)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&fmt_tick)
        .y_label_formatter(&fmt_tick)
        .label_style((FAMILY, tick_px))
        .axis_desc_style((FAMILY, desc_px))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;

    let mut any_label = false;
    for s in series {
        let color = s.color;
        let line = color.stroke_width(2);
        for (k, piece) in s.pieces.iter().enumerate() {
            let anno = match s.style {
                SeriesStyle::Line => chart.draw_series(LineSeries::new(piece.clone(), line))?,
                SeriesStyle::Dashed => {
                    chart.draw_series(DashedLineSeries::new(piece.clone(), 8, 5, line))?
                }
                SeriesStyle::Points => {
                    chart.draw_series(piece.iter().map(|&p| Circle::new(p, 3, color.filled())))?
                }
            };
            if k == 0 && !s.name.is_empty() {
                any_label = true;
                match s.style {
                    SeriesStyle::Line => anno.label(&s.name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
                    }),
                    SeriesStyle::Dashed => anno.label(&s.name).legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + PathElement::new(vec![(0, 0), (8, 0)], color.stroke_width(2))
                            + PathElement::new(vec![(13, 0), (22, 0)], color.stroke_width(2))
                    }),
                    SeriesStyle::Points => anno
                        .label(&s.name)
                        .legend(move |(x, y)| Circle::new((x + 11, y), 3, color.filled())),
                };
            }
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

/// Whether a log y axis can draw these series: every finite value is > 0. A loss that can be
/// negative (or reaches 0) needs a linear axis, where a log one would drop those points.
pub fn log_axis_fits(series: &[Series]) -> bool {
    series
        .iter()
        .flat_map(|s| &s.ys)
        .all(|y| !y.is_finite() || *y > 0.0)
}

/// Writes 1-D curves with a legend to `path` (PNG).
///
/// Errors: no series or no points in any, `xs`/`ys` of unequal length, bad ranges, or an
/// unwritable path. Non-finite points (and values ≤ 0 with `log_y`) are dropped and counted in
/// the title.
pub fn curves(path: impl AsRef<Path>, series: &[Series], opts: &CurveOpts) -> Result<()> {
    let path = path.as_ref();
    if series.iter().all(|s| s.xs.is_empty()) {
        return Err(Error::empty(path, "no series or no points"));
    }
    let mut prepared = Vec::with_capacity(series.len());
    let (mut nonfinite, mut nonpositive) = (0, 0);
    for (i, s) in series.iter().enumerate() {
        let (p, a, b) = prepare(path, s, palette(i), opts.log_y)?;
        nonfinite += a;
        nonpositive += b;
        prepared.push(p);
    }
    let all = || prepared.iter().flat_map(|p| p.pieces.iter().flatten());
    let x_range = match opts.x_range {
        Some(r) => {
            check_range(path, r, "x_range")?;
            r
        }
        None => auto_range(all().map(|p| p.0)).unwrap_or((-1.0, 1.0)),
    };
    let ys: Vec<f64> = all().map(|p| p.1).collect();
    let y_range = if opts.log_y {
        log_range(path, opts.y_range, &ys)?
    } else {
        match opts.y_range {
            Some(r) => {
                check_range(path, r, "y_range")?;
                r
            }
            None => auto_range(ys.iter().copied()).unwrap_or((-1.0, 1.0)),
        }
    };
    let title = with_note(&opts.title, nonfinite, "non-finite");
    let title = with_note(&title, nonpositive, "non-positive");
    write_png(path, opts.size, |root| {
        let (lo, hi) = y_range;
        if opts.log_y {
            let y_spec = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
            draw_series_chart(
                root,
                &title,
                &opts.x_label,
                &opts.y_label,
                x_range,
                y_spec,
                &prepared,
            )
        } else {
            draw_series_chart(
                root,
                &title,
                &opts.x_label,
                &opts.y_label,
                x_range,
                lo..hi,
                &prepared,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log-axis ticks: the loss plot's range (0.3 … 2.2) gets 0.3 … 0.9, 1, 2; a wide range only
    /// powers of ten; a range too narrow for 1…9 × 10^k evenly spaced round values.
    #[test]
    fn log_ticks_follow_the_span() {
        let near = |a: &[f64], b: &[f64]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| (x - y).abs() < 1e-12 * y.abs())
        };
        let t = log_ticks(0.3, 2.2);
        assert!(
            near(&t, &[0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 2.0]),
            "{t:?}"
        );
        let t = log_ticks(1e-3, 50.0);
        assert!(near(&t, &[1e-3, 1e-2, 0.1, 1.0, 10.0]), "{t:?}");
        let t = log_ticks(0.01, 5.0);
        assert!(
            near(&t, &[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]),
            "{t:?}"
        );
        let t = log_ticks(1e-6, 1e2);
        assert!(
            near(&t, &[1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0]),
            "{t:?}"
        );
        let t = log_ticks(0.95, 4.0);
        assert!(near(&t, &[1.0, 2.0, 3.0, 4.0]), "{t:?}");
        // too narrow for 1…9 × 10^k: evenly spaced 1-2-5 steps
        let t = log_ticks(1.1, 1.3);
        assert!(near(&t, &[1.1, 1.15, 1.2, 1.25, 1.3]), "{t:?}");
        let t = log_ticks(0.3413, 0.35);
        assert!(near(&t, &[0.342, 0.344, 0.346, 0.348, 0.35]), "{t:?}");
    }

    #[test]
    fn prepare_splits_at_invalid_points() {
        let s = Series::line(
            "a",
            vec![0.0, 1.0, 2.0, 3.0, 4.0],
            vec![1.0, f64::NAN, 2.0, -1.0, 3.0],
        );
        let (p, nf, np) = prepare(Path::new("c.png"), &s, palette(0), true).unwrap();
        assert_eq!((nf, np), (1, 1));
        assert_eq!(
            p.pieces,
            vec![vec![(0.0, 1.0)], vec![(2.0, 2.0)], vec![(4.0, 3.0)]]
        );
        let (p, nf, np) = prepare(Path::new("c.png"), &s, palette(0), false).unwrap();
        assert_eq!((nf, np), (1, 0));
        assert_eq!(p.pieces.len(), 2);
        let bad = Series::line("b", vec![0.0], vec![]);
        assert!(prepare(Path::new("c.png"), &bad, palette(0), false).is_err());
    }

    #[test]
    fn log_axis_fits_positive_values_only() {
        let s = |ys: Vec<f64>| Series::line("loss", vec![0.0; ys.len()], ys);
        assert!(log_axis_fits(&[s(vec![2.0, 0.5, f64::NAN])]));
        assert!(!log_axis_fits(&[s(vec![2.0]), s(vec![0.5, -0.1])]));
        assert!(!log_axis_fits(&[s(vec![1.0, 0.0])]));
        assert!(log_axis_fits(&[]));
    }

    #[test]
    fn tick_format() {
        assert_eq!(fmt_tick(&0.0), "0");
        assert_eq!(fmt_tick(&2.5), "2.5");
        assert_eq!(fmt_tick(&100.0), "100");
        assert_eq!(fmt_tick(&1e-5), "1e-5");
        assert_eq!(fmt_tick(&-0.125), "-0.125");
    }
}
