//! 2-D histogram heatmap of samples, with a colour bar.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::atomic::write_png;
use crate::colormap::viridis;
use crate::curves::fmt_tick;
use crate::data::{finite_points, resolve_range, with_dropped};
use crate::error::{Error, Result};
use crate::font::FAMILY;
use crate::grid::{paint, Grid, Shading};
use crate::scatter::font_sizes;

/// Options of [`density`].
#[derive(Clone, Debug)]
pub struct DensityOpts {
    /// Title above the plot.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Number of bins along x and y.
    pub bins: (usize, usize),
    /// Binned (and shown) x range; `None`: the data range plus a 5% margin.
    pub x_range: Option<(f64, f64)>,
    /// Binned (and shown) y range; `None`: the data range plus a 5% margin.
    pub y_range: Option<(f64, f64)>,
    /// Colour by log10(1 + count) instead of count.
    pub log_scale: bool,
    /// Image size in pixels (the colour bar takes the rightmost 90 px).
    pub size: (u32, u32),
}

impl Default for DensityOpts {
    fn default() -> Self {
        DensityOpts {
            title: String::new(),
            x_label: "x".into(),
            y_label: "y".into(),
            bins: (100, 100),
            x_range: None,
            y_range: None,
            log_scale: false,
            size: (580, 500),
        }
    }
}

/// Counts of `points` in the `nx` × `ny` cells of the ranges, as a [`Grid`]; points outside
/// are ignored (the upper edges belong to the last cells).
pub(crate) fn histogram2d(
    points: &[(f64, f64)],
    x_range: (f64, f64),
    y_range: (f64, f64),
    (nx, ny): (usize, usize),
) -> Grid {
    let mut values = vec![0.0; nx * ny];
    let (wx, wy) = (x_range.1 - x_range.0, y_range.1 - y_range.0);
    for &(x, y) in points {
        if x >= x_range.0 && x <= x_range.1 && y >= y_range.0 && y <= y_range.1 {
            let i = (((x - x_range.0) / wx * nx as f64) as usize).min(nx - 1);
            let j = (((y - y_range.0) / wy * ny as f64) as usize).min(ny - 1);
            values[j * nx + i] += 1.0;
        }
    }
    Grid {
        x_range,
        y_range,
        nx,
        ny,
        values,
    }
}

/// Width of the colour-bar strip on the right, in pixels.
const BAR_AREA: u32 = 90;

/// Writes a 2-D histogram heatmap of `points` to `path` (PNG). Non-finite points are dropped and
/// counted in the title; points outside given ranges are not binned.
///
/// Errors: no points, a bin count of 0, a bad range, or an unwritable path.
pub fn density(path: impl AsRef<Path>, points: &[[f32; 2]], opts: &DensityOpts) -> Result<()> {
    let path = path.as_ref();
    if points.is_empty() {
        return Err(Error::empty(path, "no points"));
    }
    if opts.bins.0 == 0 || opts.bins.1 == 0 {
        return Err(Error::invalid(
            path,
            "bins must be at least 1 along each axis",
        ));
    }
    if opts.size.0 < BAR_AREA + 64 {
        return Err(Error::invalid(
            path,
            format!("width must be at least {} px", BAR_AREA + 64),
        ));
    }
    let (pts, dropped) = finite_points(points);
    let xr = resolve_range(path, opts.x_range, pts.iter().map(|p| p.0), "x_range")?;
    let yr = resolve_range(path, opts.y_range, pts.iter().map(|p| p.1), "y_range")?;
    let mut grid = histogram2d(&pts, xr, yr, opts.bins);
    if opts.log_scale {
        grid.values.iter_mut().for_each(|v| *v = (1.0 + *v).log10());
    }
    let hi = grid.finite_min_max().map_or(1.0, |m| m.1).max(1e-12);
    let shading = Shading {
        levels: 0,
        light: false,
        smooth: false,
        lo: 0.0,
        hi,
    };
    let title = with_dropped(&opts.title, dropped);
    let bar_label = if opts.log_scale {
        "log10(1 + count)"
    } else {
        "count"
    };

    write_png(path, opts.size, |root| {
        let (w, h) = root.dim_in_pixel();
        let (title_px, desc_px, tick_px) = font_sizes(h);
        let (main, bar_area) = root.split_horizontally(w - BAR_AREA);
        let mut builder = ChartBuilder::on(&main);
        builder
            .margin(10)
            .x_label_area_size(tick_px * 2 + desc_px + 8)
            .y_label_area_size(tick_px * 3 + desc_px + 14);
        if !title.is_empty() {
            builder.caption(&title, (FAMILY, title_px));
        }
        let mut chart = builder.build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
        paint(
            &chart.plotting_area().strip_coord_spec(),
            xr,
            yr,
            &grid,
            &shading,
        )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&opts.x_label)
            .y_desc(&opts.y_label)
            .x_labels(7)
            .y_labels(7)
            .label_style((FAMILY, tick_px))
            .axis_desc_style((FAMILY, desc_px))
            .draw()?;

        // Colour bar aligned with the plotting area.
        let (_, py) = chart.plotting_area().get_pixel_range();
        let (bx0, _) = bar_area.get_base_pixel();
        let (top, bottom) = (py.start, py.end);
        let bar_x = bx0 + 8;
        let span = (bottom - top).max(1);
        for k in 0..span {
            let t = 1.0 - k as f64 / (span - 1).max(1) as f64;
            root.draw(&Rectangle::new(
                [(bar_x, top + k), (bar_x + 16, top + k + 1)],
                viridis(t).filled(),
            ))?;
        }
        root.draw(&Rectangle::new(
            [(bar_x, top), (bar_x + 16, bottom)],
            BLACK.stroke_width(1),
        ))?;
        let tick_style = (FAMILY, tick_px)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for k in 0..=4 {
            let v = hi * k as f64 / 4.0;
            let y = bottom - ((bottom - top) as f64 * k as f64 / 4.0).round() as i32;
            root.draw(&PathElement::new(
                vec![(bar_x + 16, y), (bar_x + 20, y)],
                BLACK,
            ))?;
            root.draw(&Text::new(
                fmt_tick(&v),
                (bar_x + 22, y),
                tick_style.clone(),
            ))?;
        }
        let desc_style = (FAMILY, desc_px)
            .into_font()
            .transform(FontTransform::Rotate90)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let (bw, _) = bar_area.dim_in_pixel();
        root.draw(&Text::new(
            bar_label,
            (bx0 + bw as i32 - desc_px as i32, (top + bottom) / 2),
            desc_style,
        ))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram2d_counts_cells() {
        let pts = [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (1.0, 1.0), (2.0, 0.5)];
        let g = histogram2d(&pts, (0.0, 1.0), (0.0, 1.0), (2, 2));
        assert_eq!(g.values, vec![1.0, 1.0, 0.0, 2.0]);
    }
}
