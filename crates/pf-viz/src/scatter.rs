//! Scatter plot of 2-D points, with optional target outline (red) and background field.

use std::path::Path;

use plotters::prelude::*;

use crate::atomic::{write_png, Area};
use crate::data::{clip_polyline, finite_points, resolve_range, with_dropped};
use crate::error::{DrawResult, Error, Result};
use crate::font::FAMILY;
use crate::grid::{paint, Grid, Shading};

/// Options of [`scatter`] (and of each frame of [`crate::gif`] and [`crate::strip`]).
#[derive(Clone, Debug)]
pub struct ScatterOpts {
    /// Title above the plot (a non-finite count is appended when points were dropped).
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Shown x range; `None`: the data (and outline) range plus a 5% margin.
    pub x_range: Option<(f64, f64)>,
    /// Shown y range; `None`: the data (and outline) range plus a 5% margin.
    pub y_range: Option<(f64, f64)>,
    /// Marker radius in pixels (0: a single pixel).
    pub point_size: u32,
    /// Marker opacity in [0, 1].
    pub alpha: f64,
    /// Marker colour.
    pub color: RGBColor,
    /// Polylines drawn in red over the points (e.g. [`crate::ellipse_outline`]).
    pub outline: Vec<Vec<(f64, f64)>>,
    /// A field (e.g. the target log-density) drawn as filled bands under the points.
    pub background: Option<Grid>,
    /// Number of filled bands of the background (0: a continuous colour ramp).
    pub background_levels: usize,
    /// Image size in pixels (width, height).
    pub size: (u32, u32),
}

impl Default for ScatterOpts {
    fn default() -> Self {
        ScatterOpts {
            title: String::new(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_range: None,
            y_range: None,
            point_size: 1,
            alpha: 0.5,
            color: RGBColor(0, 0, 255),
            outline: Vec::new(),
            background: None,
            background_levels: 12,
            size: (500, 500),
        }
    }
}

/// Marker style.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PointStyle {
    pub size: u32,
    pub alpha: f64,
    pub color: RGBColor,
}

impl PointStyle {
    pub(crate) fn check(&self, path: &Path) -> Result<()> {
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(Error::invalid(
                path,
                format!("alpha {} must be in [0, 1]", self.alpha),
            ));
        }
        if self.size > 64 {
            return Err(Error::invalid(
                path,
                format!("point_size {} px is too large (max 64)", self.size),
            ));
        }
        Ok(())
    }
}

impl ScatterOpts {
    pub(crate) fn point_style(&self) -> PointStyle {
        PointStyle {
            size: self.point_size,
            alpha: self.alpha,
            color: self.color,
        }
    }

    /// Checks everything but the ranges.
    pub(crate) fn check(&self, path: &Path) -> Result<()> {
        self.point_style().check(path)?;
        if let Some(g) = &self.background {
            g.check(path)?;
        }
        Ok(())
    }

    /// The shown ranges: given ones checked, else automatic over `points` and the outline.
    pub(crate) fn ranges<'a>(
        &self,
        path: &Path,
        points: impl Iterator<Item = &'a (f64, f64)> + Clone,
    ) -> Result<((f64, f64), (f64, f64))> {
        resolve_ranges(path, self.x_range, self.y_range, points, &self.outline)
    }
}

/// Given ranges (checked) or automatic ones over `points` and `outline` vertices.
pub(crate) fn resolve_ranges<'a>(
    path: &Path,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    points: impl Iterator<Item = &'a (f64, f64)> + Clone,
    outline: &[Vec<(f64, f64)>],
) -> Result<((f64, f64), (f64, f64))> {
    let outline_pts = || outline.iter().flatten();
    let xr = resolve_range(
        path,
        x_range,
        points
            .clone()
            .map(|p| p.0)
            .chain(outline_pts().map(|p| p.0)),
        "x_range",
    )?;
    let yr = resolve_range(
        path,
        y_range,
        points.map(|p| p.1).chain(outline_pts().map(|p| p.1)),
        "y_range",
    )?;
    Ok((xr, yr))
}

/// Everything one scatter panel needs (points already finite).
pub(crate) struct Frame<'a> {
    pub title: String,
    /// Keep the caption's height even when `title` is empty (aligned panels / fixed GIF axes).
    pub reserve_title: bool,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub points: &'a [(f64, f64)],
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub style: PointStyle,
    pub outline: &'a [Vec<(f64, f64)>],
    pub background: Option<(&'a Grid, usize)>,
    /// Text in the lower-left corner of the plotting area (e.g. "step 3/10").
    pub corner_label: Option<String>,
}

/// Where data coordinates land in the image (backend pixels) for a drawn panel.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(test), allow(dead_code))] // read by the pixel tests
pub(crate) struct PixelMap {
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    /// Pixel of `(x_lo, y_lo)`.
    pub lo_px: (i32, i32),
    /// Pixel of `(x_hi, y_hi)`.
    pub hi_px: (i32, i32),
}

impl PixelMap {
    /// The pixel of a data point (linear, as plotters maps it).
    #[cfg(test)]
    pub(crate) fn to_px(self, x: f64, y: f64) -> (i32, i32) {
        let fx = (x - self.x_range.0) / (self.x_range.1 - self.x_range.0);
        let fy = (y - self.y_range.0) / (self.y_range.1 - self.y_range.0);
        let px = self.lo_px.0 as f64 + fx * (self.hi_px.0 - self.lo_px.0) as f64;
        let py = self.lo_px.1 as f64 + fy * (self.hi_px.1 - self.lo_px.1) as f64;
        (px.round() as i32, py.round() as i32)
    }
}

/// Font sizes scaled to the panel height.
pub(crate) fn font_sizes(height: u32) -> (u32, u32, u32) {
    let title = (height / 24).clamp(12, 22);
    let desc = (height / 32).clamp(11, 16);
    let tick = (height / 38).clamp(10, 14);
    (title, desc, tick)
}

/// Draws one scatter panel on `area`; returns its data→pixel map.
pub(crate) fn draw_frame(area: &Area<'_>, f: &Frame<'_>) -> DrawResult<PixelMap> {
    let (_, h) = area.dim_in_pixel();
    let (title_px, desc_px, tick_px) = font_sizes(h);
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(10)
        .x_label_area_size(tick_px * 2 + desc_px + 8)
        .y_label_area_size(tick_px * 3 + desc_px + 14);
    if !f.title.is_empty() {
        builder.caption(&f.title, (FAMILY, title_px));
    } else if f.reserve_title {
        builder.caption(" ", (FAMILY, title_px));
    }
    let (xr, yr) = (f.x_range, f.y_range);
    let mut chart = builder.build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;

    if let Some((grid, levels)) = f.background {
        if let Some((lo, hi)) = grid.finite_min_max() {
            let shading = Shading {
                levels,
                light: true,
                smooth: true,
                lo,
                hi,
            };
            paint(
                &chart.plotting_area().strip_coord_spec(),
                xr,
                yr,
                grid,
                &shading,
            )?;
        }
    }

    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(f.x_label)
        .y_desc(f.y_label)
        .x_labels(7)
        .y_labels(7)
        .label_style((FAMILY, tick_px))
        .axis_desc_style((FAMILY, desc_px))
        .draw()?;

    let color = f.style.color.mix(f.style.alpha);
    let inside = f
        .points
        .iter()
        .copied()
        .filter(|&(x, y)| x >= xr.0 && x <= xr.1 && y >= yr.0 && y <= yr.1);
    if f.style.size == 0 {
        chart.draw_series(inside.map(|p| Pixel::new(p, color)))?;
    } else {
        let size = f.style.size as i32;
        chart.draw_series(inside.map(|p| Circle::new(p, size, color.filled())))?;
    }

    for line in f.outline {
        for piece in clip_polyline(line, xr, yr) {
            chart.draw_series(LineSeries::new(piece, RED.stroke_width(2)))?;
        }
    }

    if let Some(label) = &f.corner_label {
        let plot = chart.plotting_area().strip_coord_spec();
        let (_, ph) = plot.dim_in_pixel();
        let size = desc_px + 2;
        plot.draw(&Text::new(
            label.clone(),
            (6, ph as i32 - size as i32 - 6),
            (FAMILY, size).into_font().color(&BLACK),
        ))?;
    }

    Ok(PixelMap {
        x_range: xr,
        y_range: yr,
        lo_px: chart.backend_coord(&(xr.0, yr.0)),
        hi_px: chart.backend_coord(&(xr.1, yr.1)),
    })
}

/// Writes a scatter plot of `points` to `path` (PNG; see [`ScatterOpts`]). Non-finite points are
/// skipped and counted in the title; points outside given ranges are not drawn.
///
/// Errors: empty `points`, a bad range / alpha / grid / size, or an unwritable path.
pub fn scatter(path: impl AsRef<Path>, points: &[[f32; 2]], opts: &ScatterOpts) -> Result<()> {
    render(path.as_ref(), points, opts).map(|_| ())
}

/// [`scatter`], returning the data→pixel map (for tests).
pub(crate) fn render(path: &Path, points: &[[f32; 2]], opts: &ScatterOpts) -> Result<PixelMap> {
    if points.is_empty() {
        return Err(Error::empty(path, "no points"));
    }
    opts.check(path)?;
    let (pts, dropped) = finite_points(points);
    let (x_range, y_range) = opts.ranges(path, pts.iter())?;
    let frame = Frame {
        title: with_dropped(&opts.title, dropped),
        reserve_title: false,
        x_label: &opts.x_label,
        y_label: &opts.y_label,
        points: &pts,
        x_range,
        y_range,
        style: opts.point_style(),
        outline: &opts.outline,
        background: opts
            .background
            .as_ref()
            .map(|g| (g, opts.background_levels)),
        corner_label: None,
    };
    let mut map = None;
    write_png(path, opts.size, |root| {
        map = Some(draw_frame(root, &frame)?);
        Ok(())
    })?;
    Ok(map.expect("draw_frame ran"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::colormap::{lighten, viridis};
    use crate::outline::ellipse_outline;
    use image::RgbImage;

    pub(crate) fn load(path: &Path) -> RgbImage {
        image::open(path).expect("decode png").to_rgb8()
    }

    /// The pixel at `p`, or any pixel within `r` of it, satisfies `pred`.
    pub(crate) fn near(
        img: &RgbImage,
        p: (i32, i32),
        r: i32,
        pred: impl Fn([u8; 3]) -> bool,
    ) -> bool {
        (-r..=r).any(|dx| {
            (-r..=r).any(|dy| {
                let (x, y) = (p.0 + dx, p.1 + dy);
                x >= 0
                    && y >= 0
                    && (x as u32) < img.width()
                    && (y as u32) < img.height()
                    && pred(img.get_pixel(x as u32, y as u32).0)
            })
        })
    }

    pub(crate) fn is_blue(c: [u8; 3]) -> bool {
        c[2] > 180 && c[0] < 90 && c[1] < 90
    }

    pub(crate) fn is_red(c: [u8; 3]) -> bool {
        c[0] > 200 && c[1] < 70 && c[2] < 70
    }

    fn is_white(c: [u8; 3]) -> bool {
        c == [255, 255, 255]
    }

    fn opts() -> ScatterOpts {
        ScatterOpts {
            x_range: Some((-3.0, 3.0)),
            y_range: Some((-3.0, 3.0)),
            point_size: 3,
            alpha: 1.0,
            size: (300, 300),
            ..ScatterOpts::default()
        }
    }

    #[test]
    fn points_land_at_their_data_coordinates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pts.png");
        let map = render(&path, &[[1.0, -2.0]; 5], &opts()).unwrap();
        let img = load(&path);
        assert_eq!(img.dimensions(), (300, 300));
        // the point's pixel is blue, and so is its 3-px disc; the mirrored spot is background
        let p = map.to_px(1.0, -2.0);
        assert!(is_blue(img.get_pixel(p.0 as u32, p.1 as u32).0), "{p:?}");
        assert!(is_blue(img.get_pixel(p.0 as u32 + 2, p.1 as u32).0));
        for q in [(-1.0, 2.0), (1.0, 2.0), (-1.0, -2.0), (0.0, 0.0)] {
            let q = map.to_px(q.0, q.1);
            assert!(is_white(img.get_pixel(q.0 as u32, q.1 as u32).0), "{q:?}");
        }
        // orientation: x grows to the right, y grows upwards
        assert!(map.hi_px.0 > map.lo_px.0 && map.hi_px.1 < map.lo_px.1);
    }

    #[test]
    fn outline_is_red_on_the_ellipse_and_absent_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ring.png");
        let o = ScatterOpts {
            outline: vec![ellipse_outline(1.0, 2.5, 0.5, 0.0, 400)],
            ..opts()
        };
        let map = render(&path, &[[-2.5, -2.5]], &o).unwrap();
        let img = load(&path);
        for (x, y) in [(1.5, 0.0), (-0.5, 0.0), (0.5, 2.5), (0.5, -2.5)] {
            assert!(
                near(&img, map.to_px(x, y), 1, is_red),
                "no red near ({x}, {y})"
            );
        }
        for (x, y) in [(0.5, 0.0), (2.5, 2.5), (-2.0, 1.0)] {
            assert!(
                !near(&img, map.to_px(x, y), 3, is_red),
                "red near ({x}, {y})"
            );
        }
    }

    #[test]
    fn outline_outside_the_range_is_clipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.png");
        let o = ScatterOpts {
            outline: vec![ellipse_outline(5.0, 5.0, 0.0, 0.0, 100)],
            ..opts()
        };
        render(&path, &[[0.0, 0.0]], &o).unwrap();
        let img = load(&path);
        assert!(
            !img.pixels().any(|p| is_red(p.0)),
            "outline drawn outside the axes"
        );
    }

    #[test]
    fn background_bands_fill_the_plot_under_the_points() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bg.png");
        let o = ScatterOpts {
            background: Some(Grid::from_fn((-3.0, 3.0), (-3.0, 3.0), 60, 60, |x, y| {
                -(x * x + y * y)
            })),
            background_levels: 8,
            ..opts()
        };
        let map = render(&path, &[[2.0, 2.0]], &o).unwrap();
        let img = load(&path);
        let at = |x: f64, y: f64| {
            let p = map.to_px(x, y);
            img.get_pixel(p.0 as u32, p.1 as u32).0
        };
        let top = lighten(viridis(1.0), 0.45);
        let low = lighten(viridis(0.0), 0.45);
        let close = |c: [u8; 3], e: RGBColor| {
            (c[0] as i32 - e.0 as i32).abs() <= 2
                && (c[1] as i32 - e.1 as i32).abs() <= 2
                && (c[2] as i32 - e.2 as i32).abs() <= 2
        };
        assert!(close(at(0.0, 0.0), top), "{:?}", at(0.0, 0.0));
        assert!(close(at(-2.9, 2.9), low), "{:?}", at(-2.9, 2.9));
        assert!(is_blue(at(2.0, 2.0)));
        // outside the plotting area the image stays white
        assert!(is_white(img.get_pixel(2, 2).0));
    }

    #[test]
    fn auto_range_covers_the_data_and_outline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auto.png");
        let o = ScatterOpts {
            outline: vec![vec![(-4.0, 0.0), (-3.0, 0.0)]],
            ..ScatterOpts::default()
        };
        let map = render(&path, &[[0.0, -1.0], [2.0, 1.0], [f32::NAN, 9.0]], &o).unwrap();
        let (x0, x1) = map.x_range;
        let (y0, y1) = map.y_range;
        assert!((x0 - (-4.0 - 0.3)).abs() < 1e-9 && (x1 - 2.3).abs() < 1e-9);
        assert!((y0 + 1.1).abs() < 1e-9 && (y1 - 1.1).abs() < 1e-9);
    }
}
