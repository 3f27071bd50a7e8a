//! Seed 002's 1-D figures: trajectories x against t, and histograms at chosen times against
//! the exact densities. The PNGs are decoded and their pixels checked where the data put ink.

use image::RgbImage;
use pf_viz::*;

fn load(path: &std::path::Path) -> RgbImage {
    image::open(path).expect("decode png").to_rgb8()
}

/// Pixels in the box [x0, x1) × [y0, y1) satisfying `pred`.
fn count(
    img: &RgbImage,
    (x0, x1): (u32, u32),
    (y0, y1): (u32, u32),
    pred: fn([u8; 3]) -> bool,
) -> usize {
    (x0..x1)
        .flat_map(|x| (y0..y1).map(move |y| (x, y)))
        .filter(|&(x, y)| pred(img.get_pixel(x, y).0))
        .count()
}

/// The default bar/line colour (tab10 blue, mixed with white) and not grey or black.
fn bluish(c: [u8; 3]) -> bool {
    c[2] as i32 > c[0] as i32 + 40 && c[2] > 150
}

fn red(c: [u8; 3]) -> bool {
    c[0] > 200 && c[1] < 80 && c[2] < 80
}

/// Two panels side by side: samples uniform on [−2, 0) in the first and on [0, 2) in the
/// second, each with its exact density 0.5 on its half drawn as a red curve. Bars appear only
/// over the half that holds samples (the plot area spans x = −2…2 from about 20 % to 97 % of
/// the panel width), the red curve is drawn in both panels, and the image has the requested
/// size.
#[test]
fn marginal_hists_draw_bars_where_the_samples_are() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("marginals.png");
    let n = 4000;
    let left: Vec<f32> = (0..n)
        .map(|i| -2.0 + 2.0 * (i as f32 + 0.5) / n as f32)
        .collect();
    let right: Vec<f32> = left.iter().map(|v| v + 2.0).collect();
    let curve = |lo: f64| -> Vec<(f64, f64)> {
        (0..=400)
            .map(|k| {
                let x = -2.0 + 4.0 * k as f64 / 400.0;
                (x, if x >= lo && x < lo + 2.0 { 0.5 } else { 0.0 })
            })
            .collect()
    };
    let panels = [
        MarginalPanel {
            title: "t = 0".into(),
            samples: left,
            density: curve(-2.0),
        },
        MarginalPanel {
            title: "t = 1".into(),
            samples: right,
            density: curve(0.0),
        },
    ];
    let opts = MarginalOpts {
        cols: 2,
        range: Some((-2.0, 2.0)),
        bins: 40,
        panel_size: (300, 240),
        ..MarginalOpts::default()
    };
    marginal_hists(&p, &panels, &opts).unwrap();
    let img = load(&p);
    assert_eq!(img.dimensions(), (600, 240));
    let rows = (60, 200);
    // panel 0: data x ∈ [−1.5, −0.5] ↔ about 35–55 % of the width; x ∈ [0.5, 1.5] ↔ 75–92 %
    let l0 = count(&img, (105, 165), rows, bluish);
    let r0 = count(&img, (225, 275), rows, bluish);
    let l1 = count(&img, (300 + 105, 300 + 165), rows, bluish);
    let r1 = count(&img, (300 + 225, 300 + 275), rows, bluish);
    println!("bar pixels: panel 0 {l0} | {r0}, panel 1 {l1} | {r1}");
    assert!(l0 > 3000 && r1 > 3000, "{l0} {r1}");
    assert_eq!((r0, l1), (0, 0));
    assert!(count(&img, (0, 300), (0, 240), red) > 100);
    assert!(count(&img, (300, 600), (0, 240), red) > 100);
}

/// 60 particles moving from x ≈ −2 at t = 0 to x ≈ +2 at t = 1 on straight lines: ink lies
/// along the rising diagonal, the top-left and bottom-right corners of the plot stay empty.
/// A second panel (non-finite values in it) is drawn beside the first on the shared y axis.
#[test]
fn paths_1d_draw_lines_where_the_particles_go() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("paths.png");
    let ts: Vec<f64> = (0..=50).map(|k| k as f64 / 50.0).collect();
    let frames: Vec<Vec<f32>> = ts
        .iter()
        .map(|&t| {
            (0..60)
                .map(|i| (-2.0 + 4.0 * t + 0.2 * (i as f64 / 60.0 - 0.5)) as f32)
                .collect()
        })
        .collect();
    let mut broken = frames.clone();
    broken[10][3] = f32::NAN;
    broken[20] = vec![f32::INFINITY; 60];
    let panels = [
        Paths1d {
            title: "PF ODE".into(),
            ts: ts.clone(),
            frames,
        },
        Paths1d {
            title: "reverse SDE".into(),
            ts: ts.clone(),
            frames: broken,
        },
    ];
    let opts = Paths1dOpts {
        panel_size: (400, 300),
        alpha: 1.0,
        y_range: Some((-2.5, 2.5)),
        ..Paths1dOpts::default()
    };
    paths_1d(&p, &panels, &opts).unwrap();
    let img = load(&p);
    assert_eq!(img.dimensions(), (800, 300));
    // plot area of panel 0 ≈ x 70–388, y 40–245; boxes at t ≈ 0.1–0.3
    let top_left = count(&img, (100, 160), (45, 110), bluish);
    let bottom_left = count(&img, (100, 160), (150, 240), bluish);
    let top_right = count(&img, (300, 380), (45, 110), bluish);
    let bottom_right = count(&img, (300, 380), (150, 240), bluish);
    println!("ink: TL {top_left} BL {bottom_left} TR {top_right} BR {bottom_right}");
    assert_eq!((top_left, bottom_right), (0, 0));
    assert!(
        bottom_left > 200 && top_right > 200,
        "{bottom_left} {top_right}"
    );
    // the second panel has the same ink pattern
    assert_eq!(count(&img, (500, 560), (45, 110), bluish), 0);
    assert!(count(&img, (700, 780), (45, 110), bluish) > 200);
}

#[test]
fn bad_inputs_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.png");
    let errs = [
        paths_1d(&p, &[], &Paths1dOpts::default()).unwrap_err(),
        paths_1d(
            &p,
            &[Paths1d {
                title: String::new(),
                ts: vec![0.0, 1.0],
                frames: vec![vec![0.0]],
            }],
            &Paths1dOpts::default(),
        )
        .unwrap_err(),
        paths_1d(
            &p,
            &[Paths1d {
                title: String::new(),
                ts: vec![0.0, 1.0],
                frames: vec![vec![0.0], vec![0.0, 1.0]],
            }],
            &Paths1dOpts::default(),
        )
        .unwrap_err(),
        marginal_hists(&p, &[], &MarginalOpts::default()).unwrap_err(),
        marginal_hists(
            &p,
            &[MarginalPanel {
                samples: vec![0.0],
                ..MarginalPanel::default()
            }],
            &MarginalOpts {
                bins: 0,
                ..MarginalOpts::default()
            },
        )
        .unwrap_err(),
    ];
    for e in &errs {
        assert_eq!(e.path(), p.as_path(), "{e}");
        assert!(e.to_string().contains("bad.png"), "{e}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
