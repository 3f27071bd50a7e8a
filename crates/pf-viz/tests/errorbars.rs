//! `errorbars`: the decoded PNG puts means and bars where the data say (bar lengths in
//! proportion to the errors, on the y scale the means set), and a log x axis spaces decades
//! evenly.

use std::path::Path;

use pf_viz::{errorbars, ErrorBarOpts, ErrorSeries, RGBColor};

const RED: RGBColor = RGBColor(230, 0, 0);
const BLUE: RGBColor = RGBColor(0, 0, 230);

/// (column, row) of every pixel of exactly colour `c`.
fn pixels(path: &Path, c: RGBColor) -> Vec<(u32, u32)> {
    let img = image::open(path).expect("decode png").to_rgb8();
    img.enumerate_pixels()
        .filter(|(_, _, p)| p.0 == [c.0, c.1, c.2])
        .map(|(x, y, _)| (x, y))
        .collect()
}

/// (min row, max row) of the pixels in columns `x0..=x1`.
fn rows(px: &[(u32, u32)], x0: u32, x1: u32) -> (u32, u32) {
    let r: Vec<u32> = px
        .iter()
        .filter(|(x, _)| (x0..=x1).contains(x))
        .map(|p| p.1)
        .collect();
    assert!(!r.is_empty(), "no pixels in columns {x0}..={x1}");
    (*r.iter().min().unwrap(), *r.iter().max().unwrap())
}

/// Two flat lines, mean 1 ± 0.1 (red) and 2 ± 0.4 (blue), on y ∈ [0, 3]: the bars' pixel
/// lengths are 0.2 and 0.8 of the pixel distance between the means (± 3 px for the stroke and
/// the caps), and the legend is off (no names), so every coloured pixel is data.
#[test]
fn bars_scale_with_the_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bars.png");
    let xs = vec![1.0, 2.0, 3.0];
    let series = [
        ErrorSeries::new("", xs.clone(), vec![1.0; 3], vec![0.1; 3]).with_color(RED),
        ErrorSeries::new("", xs, vec![2.0; 3], vec![0.4; 3]).with_color(BLUE),
    ];
    let opts = ErrorBarOpts {
        y_range: Some((0.0, 3.0)),
        size: (600, 500),
        ..ErrorBarOpts::default()
    };
    errorbars(&p, &series, &opts).unwrap();
    let red = pixels(&p, RED);
    let blue = pixels(&p, BLUE);
    // the middle point's column: where both series have pixels, away from the line ends
    let xs_red: Vec<u32> = red.iter().map(|p| p.0).collect();
    let mid = (xs_red.iter().min().unwrap() + xs_red.iter().max().unwrap()) / 2;
    let (r0, r1) = rows(&red, mid - 1, mid + 1);
    let (b0, b1) = rows(&blue, mid - 1, mid + 1);
    let red_len = (r1 - r0) as f64;
    let blue_len = (b1 - b0) as f64;
    let unit = ((r0 + r1) as f64 - (b0 + b1) as f64) / 2.0; // pixels per 1.0 of y
    assert!(unit > 100.0, "means 1 apart are {unit} px apart");
    assert!(
        (red_len - 0.2 * unit).abs() <= 3.0,
        "red bar {red_len} px, expected 0.2 × {unit}"
    );
    assert!(
        (blue_len - 0.8 * unit).abs() <= 3.0,
        "blue bar {blue_len} px, expected 0.8 × {unit}"
    );
}

/// On a log x axis, x = 0.001, 0.01, 0.1 sit equally far apart (± 2 px); on a linear one the
/// first two nearly coincide.
#[test]
fn log_x_spaces_decades_evenly() {
    let dir = tempfile::tempdir().unwrap();
    let xs = [1e-3, 1e-2, 1e-1];
    // one point per series, so each series' pixels lie around one x
    let series: Vec<ErrorSeries> = xs
        .iter()
        .zip([RED, BLUE, RGBColor(0, 160, 0)])
        .map(|(&x, c)| ErrorSeries::new("", vec![x], vec![1.0], vec![0.2]).with_color(c))
        .collect();
    let centre = |p: &Path, c: RGBColor| {
        let px = pixels(p, c);
        assert!(!px.is_empty());
        px.iter().map(|p| p.0 as f64).sum::<f64>() / px.len() as f64
    };
    let p = dir.path().join("logx.png");
    let opts = ErrorBarOpts {
        log_x: true,
        ..ErrorBarOpts::default()
    };
    errorbars(&p, &series, &opts).unwrap();
    let c: Vec<f64> = series
        .iter()
        .map(|s| centre(&p, s.color.unwrap()))
        .collect();
    let (d1, d2) = (c[1] - c[0], c[2] - c[1]);
    assert!(d1 > 100.0 && (d1 - d2).abs() <= 2.0, "{c:?}");

    let p = dir.path().join("linx.png");
    errorbars(&p, &series, &ErrorBarOpts::default()).unwrap();
    let c: Vec<f64> = series
        .iter()
        .map(|s| centre(&p, s.color.unwrap()))
        .collect();
    // linear: (0.01 − 0.001) / (0.1 − 0.01) = 0.1 of the second gap
    let ratio = (c[1] - c[0]) / (c[2] - c[1]);
    assert!((ratio - 0.1).abs() < 0.02, "{c:?}");
}

/// Unequal lengths and negative errors are errors naming the path; nothing is written.
#[test]
fn bad_series_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.png");
    let e = errorbars(
        &p,
        &[ErrorSeries::new("a", vec![1.0, 2.0], vec![1.0], vec![0.0])],
        &ErrorBarOpts::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("bad.png"), "{e}");
    let e = errorbars(
        &p,
        &[ErrorSeries::new("a", vec![1.0], vec![1.0], vec![-0.5])],
        &ErrorBarOpts::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("negative error"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
