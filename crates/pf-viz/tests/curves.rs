//! A loss that goes negative (a signed objective) on the curve plot: the log axis would drop
//! every point, the linear axis [`log_axis_fits`] asks for draws them.

use pf_viz::*;
use std::path::Path;

const RED: RGBColor = RGBColor(200, 30, 30);

/// The columns of the image (640 px wide) holding a pixel of colour `c`.
fn columns_with(path: &Path, c: RGBColor) -> usize {
    let img = image::open(path).expect("decode png").to_rgb8();
    assert_eq!(img.dimensions(), (640, 420));
    let mut cols = vec![false; img.width() as usize];
    for (x, _, p) in img.enumerate_pixels() {
        if p.0 == [c.0, c.1, c.2] {
            cols[x as usize] = true;
        }
    }
    cols.iter().filter(|&&b| b).count()
}

#[test]
fn a_negative_loss_is_drawn_on_a_linear_axis() {
    let dir = tempfile::tempdir().unwrap();
    let xs: Vec<f64> = (0..200).map(f64::from).collect();
    // a signed loss falling from 1 through 0 to about -2
    let ys: Vec<f64> = xs.iter().map(|x| 1.0 - 3.0 * (x / 200.0).sqrt()).collect();
    let series = [Series::line("vp", xs, ys).with_color(RED)];
    assert!(!log_axis_fits(&series));

    let linear = dir.path().join("loss.png");
    let opts = CurveOpts {
        title: "training loss".into(),
        log_y: log_axis_fits(&series),
        x_range: Some((0.0, 200.0)),
        ..CurveOpts::default()
    };
    curves(&linear, &series, &opts).unwrap();
    // the line crosses most of the plot area's width (the legend's sample is 22 px)
    let drawn = columns_with(&linear, RED);
    assert!(drawn > 400, "{drawn} columns drawn");

    // what the log axis made of it: every point at or below 0 dropped (the first ninth is left)
    let log = dir.path().join("loss_log.png");
    let opts = CurveOpts {
        log_y: true,
        ..opts
    };
    curves(&log, &series, &opts).unwrap();
    let drawn_log = columns_with(&log, RED);
    assert!(drawn_log < drawn / 2, "{drawn_log} columns on a log axis");
}
