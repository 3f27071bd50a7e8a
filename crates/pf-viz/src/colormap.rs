//! Colours: a viridis ramp for heatmaps and a categorical palette for series.

use plotters::style::RGBColor;

/// Viridis sampled at 0, 1/8, ..., 1 (linearly interpolated in between).
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// matplotlib's "tab10" palette, for series and particles.
const TAB10: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// Viridis at `t` in [0, 1] (clamped; NaN maps to 0).
pub(crate) fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let lerp = |p: u8, q: u8| (p as f64 + f * (q as f64 - p as f64)).round() as u8;
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// `c` mixed with white: `keep` = 1 is `c`, 0 is white (used for backgrounds under points).
pub(crate) fn lighten(c: RGBColor, keep: f64) -> RGBColor {
    let m = |v: u8| (v as f64 * keep + 255.0 * (1.0 - keep)).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// The `i`-th categorical colour (cycles).
pub(crate) fn palette(i: usize) -> RGBColor {
    let (r, g, b) = TAB10[i % TAB10.len()];
    RGBColor(r, g, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_clamps() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(2.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(viridis(0.5), RGBColor(33, 144, 141));
    }

    #[test]
    fn lighten_mixes_with_white() {
        assert_eq!(lighten(RGBColor(0, 0, 0), 0.0), RGBColor(255, 255, 255));
        assert_eq!(lighten(RGBColor(10, 20, 30), 1.0), RGBColor(10, 20, 30));
        assert_eq!(palette(10), palette(0));
    }
}
