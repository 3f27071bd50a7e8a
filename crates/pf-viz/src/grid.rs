//! A scalar field on a regular grid (a log-density, a histogram), and how it is painted.

use std::path::Path;

use crate::atomic::Area;
use crate::colormap::{lighten, viridis};
use crate::data::check_range;
use crate::error::{DrawResult, Error, Result};

/// A scalar field sampled at the centres of an `nx` × `ny` grid of equal cells covering
/// `x_range` × `y_range`: `values[j * nx + i]` is the value at
/// `(x_lo + (i + ½)·dx, y_lo + (j + ½)·dy)` (row-major, y outer, y increasing).
/// Non-finite values (e.g. a log-density of −∞) are drawn in the lowest colour.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// `(lo, hi)` of x covered by the grid.
    pub x_range: (f64, f64),
    /// `(lo, hi)` of y covered by the grid.
    pub y_range: (f64, f64),
    /// Number of cells along x.
    pub nx: usize,
    /// Number of cells along y.
    pub ny: usize,
    /// `nx * ny` values, row-major with y outer.
    pub values: Vec<f64>,
}

impl Grid {
    /// Samples `f(x, y)` at the `nx` × `ny` cell centres (e.g. a target's log-density).
    pub fn from_fn(
        x_range: (f64, f64),
        y_range: (f64, f64),
        nx: usize,
        ny: usize,
        mut f: impl FnMut(f64, f64) -> f64,
    ) -> Self {
        let dx = (x_range.1 - x_range.0) / nx.max(1) as f64;
        let dy = (y_range.1 - y_range.0) / ny.max(1) as f64;
        let mut values = Vec::with_capacity(nx * ny);
        for j in 0..ny {
            let y = y_range.0 + (j as f64 + 0.5) * dy;
            for i in 0..nx {
                values.push(f(x_range.0 + (i as f64 + 0.5) * dx, y));
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

    /// Raises every value below `floor` to `floor` (NaN and −∞ included), so that a
    /// log-density's far tail does not squeeze all the colour bands near the mode.
    pub fn clamp_below(mut self, floor: f64) -> Self {
        for v in &mut self.values {
            if v.is_nan() || *v < floor {
                *v = floor;
            }
        }
        self
    }

    /// `(min, max)` over the finite values, `None` if there is none.
    pub fn finite_min_max(&self) -> Option<(f64, f64)> {
        let (lo, hi) = self
            .values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        (lo <= hi).then_some((lo, hi))
    }

    /// Checks shape and ranges; `path` names the output in the error.
    pub(crate) fn check(&self, path: &Path) -> Result<()> {
        check_range(path, self.x_range, "grid x_range")?;
        check_range(path, self.y_range, "grid y_range")?;
        if self.nx == 0 || self.ny == 0 || self.values.len() != self.nx * self.ny {
            return Err(Error::invalid(
                path,
                format!(
                    "grid of {}x{} cells needs {} values, got {}",
                    self.nx,
                    self.ny,
                    self.nx * self.ny,
                    self.values.len()
                ),
            ));
        }
        Ok(())
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.values[j * self.nx + i]
    }

    /// The value at `(x, y)`: bilinear between cell centres (nearest cell when `smooth` is
    /// false or a neighbour is not finite); `None` outside the grid.
    pub(crate) fn sample(&self, x: f64, y: f64, smooth: bool) -> Option<f64> {
        let (x0, x1) = self.x_range;
        let (y0, y1) = self.y_range;
        if !(x >= x0 && x <= x1 && y >= y0 && y <= y1) {
            return None;
        }
        let u = (x - x0) / (x1 - x0) * self.nx as f64;
        let v = (y - y0) / (y1 - y0) * self.ny as f64;
        let nearest = self.at((u as usize).min(self.nx - 1), (v as usize).min(self.ny - 1));
        if !smooth {
            return Some(nearest);
        }
        let (u, v) = ((u - 0.5).max(0.0), (v - 0.5).max(0.0));
        let i0 = (u as usize).min(self.nx - 1);
        let j0 = (v as usize).min(self.ny - 1);
        let (i1, j1) = ((i0 + 1).min(self.nx - 1), (j0 + 1).min(self.ny - 1));
        let (fu, fv) = ((u - i0 as f64).min(1.0), (v - j0 as f64).min(1.0));
        let c = [
            self.at(i0, j0),
            self.at(i1, j0),
            self.at(i0, j1),
            self.at(i1, j1),
        ];
        if c.iter().any(|x| !x.is_finite()) {
            return Some(nearest);
        }
        let bottom = c[0] + fu * (c[1] - c[0]);
        let top = c[2] + fu * (c[3] - c[2]);
        Some(bottom + fv * (top - bottom))
    }
}

/// How a grid is turned into colours.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shading {
    /// Number of filled bands (contour levels); 0 for a continuous colour ramp.
    pub levels: usize,
    /// Mix the colours with white (a background under points).
    pub light: bool,
    /// Bilinear interpolation between cell centres (false: flat cells, as for a histogram).
    pub smooth: bool,
    /// Values mapped to the ends of the colour ramp.
    pub lo: f64,
    /// See `lo`.
    pub hi: f64,
}

impl Shading {
    /// Position in [0, 1] on the colour ramp for a value (quantised to the bands).
    pub(crate) fn ramp(&self, v: f64) -> f64 {
        if !v.is_finite() {
            return if v == f64::INFINITY { 1.0 } else { 0.0 };
        }
        let t = if self.hi > self.lo {
            ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)
        } else {
            1.0
        };
        if self.levels >= 2 {
            let n = self.levels as f64;
            (t * n).floor().min(n - 1.0) / (n - 1.0)
        } else {
            t
        }
    }
}

/// Paints `grid` pixel by pixel onto `area`, a plotting area (pixel origin at its top-left)
/// showing `x_range` × `y_range`. Pixels outside the grid are left untouched.
pub(crate) fn paint(
    area: &Area<'_>,
    x_range: (f64, f64),
    y_range: (f64, f64),
    grid: &Grid,
    shading: &Shading,
) -> DrawResult<()> {
    let (w, h) = area.dim_in_pixel();
    let sx = (x_range.1 - x_range.0) / w.max(1) as f64;
    let sy = (y_range.1 - y_range.0) / h.max(1) as f64;
    for j in 0..h {
        let y = y_range.1 - (j as f64 + 0.5) * sy;
        for i in 0..w {
            let x = x_range.0 + (i as f64 + 0.5) * sx;
            if let Some(v) = grid.sample(x, y, shading.smooth) {
                let mut c = viridis(shading.ramp(v));
                if shading.light {
                    c = lighten(c, 0.45);
                }
                area.draw_pixel((i as i32, j as i32), &c)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_fn_samples_cell_centres_row_major() {
        let g = Grid::from_fn((0.0, 2.0), (0.0, 4.0), 2, 2, |x, y| 10.0 * x + y);
        // centres: x in {0.5, 1.5}, y in {1, 3}
        assert_eq!(g.values, vec![6.0, 16.0, 8.0, 18.0]);
        assert!(g.check(Path::new("p.png")).is_ok());
        assert_eq!(g.finite_min_max(), Some((6.0, 18.0)));
    }

    #[test]
    fn sample_nearest_and_bilinear() {
        let g = Grid::from_fn((0.0, 2.0), (0.0, 2.0), 2, 2, |x, y| x + 10.0 * y);
        assert_eq!(g.sample(0.2, 0.2, false), Some(5.5));
        assert_eq!(g.sample(1.0, 0.5, true), Some(6.0));
        assert_eq!(g.sample(1.0, 1.0, true), Some(11.0));
        assert_eq!(g.sample(3.0, 1.0, true), None);
    }

    #[test]
    fn clamp_and_check() {
        let g = Grid {
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            nx: 2,
            ny: 1,
            values: vec![f64::NEG_INFINITY, -50.0],
        }
        .clamp_below(-10.0);
        assert_eq!(g.values, vec![-10.0, -10.0]);
        let bad = Grid {
            values: vec![1.0],
            ..g
        };
        let e = bad.check(Path::new("out/bg.png")).unwrap_err();
        assert!(e.to_string().contains("out/bg.png"), "{e}");
    }

    #[test]
    fn bands_quantise() {
        let s = Shading {
            levels: 5,
            light: false,
            smooth: true,
            lo: 0.0,
            hi: 1.0,
        };
        assert_eq!(s.ramp(0.0), 0.0);
        assert_eq!(s.ramp(0.1), 0.0);
        assert_eq!(s.ramp(0.45), 0.5);
        assert_eq!(s.ramp(1.0), 1.0);
        assert_eq!(s.ramp(f64::NEG_INFINITY), 0.0);
    }
}
