//! Density-normalised 1-D histogram with an optional true-density curve.

use std::path::Path;

use plotters::prelude::*;

use crate::atomic::write_png;
use crate::colormap::palette;
use crate::curves::{fmt_tick, prepare, SeriesStyle};
use crate::data::{auto_range, check_range, with_dropped};
use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::scatter::font_sizes;
use crate::Series;

/// Options of [`hist1d`].
#[derive(Clone, Debug)]
pub struct HistOpts {
    /// Title above the plot.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Number of equal-width bins.
    pub bins: usize,
    /// Range covered by the bins; `None`: the samples' min..max. The shown x range also covers
    /// the overlay's xs when this is `None`.
    pub range: Option<(f64, f64)>,
    /// Bar colour.
    pub color: RGBColor,
    /// Image size in pixels.
    pub size: (u32, u32),
}

impl Default for HistOpts {
    fn default() -> Self {
        HistOpts {
            title: String::new(),
            x_label: "x".into(),
            y_label: "density".into(),
            bins: 60,
            range: None,
            color: palette(0),
            size: (640, 420),
        }
    }
}

/// Bar heights `count / (n · width)` of `samples` over `bins` equal bins of `range`, `n` the
/// number of samples given (so the bars integrate to the share of samples inside the range).
/// The upper edge belongs to the last bin.
pub(crate) fn histogram(samples: &[f64], range: (f64, f64), bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins];
    let width = (range.1 - range.0) / bins as f64;
    for &s in samples {
        if s >= range.0 && s <= range.1 {
            let k = (((s - range.0) / width) as usize).min(bins - 1);
            counts[k] += 1;
        }
    }
    let norm = samples.len().max(1) as f64 * width;
    counts.into_iter().map(|c| c as f64 / norm).collect()
}

/// Writes a density-normalised histogram of `samples` to `path` (PNG), with `overlay` (e.g. the
/// true density) drawn over it (red when it has no colour). Non-finite samples are dropped and
/// counted in the title.
///
/// Errors: no samples, `bins == 0`, a bad range or overlay, or an unwritable path.
pub fn hist1d(
    path: impl AsRef<Path>,
    samples: &[f32],
    overlay: Option<&Series>,
    opts: &HistOpts,
) -> Result<()> {
    let path = path.as_ref();
    if samples.is_empty() {
        return Err(Error::empty(path, "no samples"));
    }
    if opts.bins == 0 {
        return Err(Error::invalid(path, "bins must be at least 1"));
    }
    let finite: Vec<f64> = samples
        .iter()
        .filter(|s| s.is_finite())
        .map(|&s| s as f64)
        .collect();
    let dropped = samples.len() - finite.len();
    let overlay = overlay
        .map(|s| prepare(path, s, RED, false))
        .transpose()?
        .map(|(p, _, _)| p);
    let overlay_pts = || overlay.iter().flat_map(|p| p.pieces.iter().flatten());

    let bin_range = match opts.range {
        Some(r) => {
            check_range(path, r, "range")?;
            r
        }
        None => {
            let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if lo > hi {
                (-1.0, 1.0)
            } else if hi - lo <= f64::EPSILON * lo.abs().max(1.0) {
                (lo - 0.5, hi + 0.5)
            } else {
                (lo, hi)
            }
        }
    };
    let heights = histogram(&finite, bin_range, opts.bins);
    let x_range = match opts.range {
        Some(r) => r,
        None => auto_range(
            [bin_range.0, bin_range.1]
                .into_iter()
                .chain(overlay_pts().map(|p| p.0)),
        )
        .unwrap_or(bin_range),
    };
    let y_top = heights
        .iter()
        .copied()
        .chain(
            overlay_pts()
                .filter(|p| p.0 >= x_range.0 && p.0 <= x_range.1)
                .map(|p| p.1),
        )
        .fold(0.0_f64, f64::max);
    let y_range = (0.0, if y_top > 0.0 { y_top * 1.08 } else { 1.0 });
    let title = with_dropped(&opts.title, dropped);
    let width = (bin_range.1 - bin_range.0) / opts.bins as f64;

    write_png(path, opts.size, |root| {
        let (_, h) = root.dim_in_pixel();
        let (title_px, desc_px, tick_px) = font_sizes(h);
        let mut builder = ChartBuilder::on(root);
        builder
            .margin(12)
            .x_label_area_size(tick_px * 2 + desc_px + 8)
            .y_label_area_size(tick_px * 4 + desc_px + 14);
        if !title.is_empty() {
            builder.caption(&title, (FAMILY, title_px));
        }
        let mut chart = builder.build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
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
        let bar = opts.color.mix(0.6).filled();
        chart
            .draw_series(
                heights
                    .iter()
                    .enumerate()
                    .filter(|(_, &v)| v > 0.0)
                    .map(|(k, &v)| {
                        let l = bin_range.0 + k as f64 * width;
                        Rectangle::new([(l, 0.0), (l + width, v)], bar)
                    }),
            )?
            .label(format!("samples (n = {})", finite.len()))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 22, y + 5)], bar));
        if let Some(p) = &overlay {
            let color = p.color;
            for (k, piece) in p.pieces.iter().enumerate() {
                let piece = piece.clone();
                let anno = match p.style {
                    SeriesStyle::Line => {
                        chart.draw_series(LineSeries::new(piece, color.stroke_width(2)))?
                    }
                    SeriesStyle::Dashed => chart.draw_series(DashedLineSeries::new(
                        piece,
                        8,
                        5,
                        color.stroke_width(2),
                    ))?,
                    SeriesStyle::Points => chart.draw_series(
                        piece.into_iter().map(|q| Circle::new(q, 3, color.filled())),
                    )?,
                };
                if k == 0 && !p.name.is_empty() {
                    anno.label(&p.name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
                    });
                }
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .legend_area_size(28)
            .label_font((FAMILY, tick_px + 1))
            .draw()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_integrates_to_share_inside() {
        let s = [0.1, 0.2, 0.6, 1.0, 5.0];
        let h = histogram(&s, (0.0, 1.0), 2);
        // 2 samples in [0, .5), 2 in [.5, 1] (1.0 joins the last bin), 1 outside; n = 5
        assert_eq!(h, vec![2.0 / 2.5, 2.0 / 2.5]);
        let area: f64 = h.iter().map(|v| v * 0.5).sum();
        assert!((area - 0.8).abs() < 1e-12);
    }
}
