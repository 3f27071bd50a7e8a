//! File-level behaviour of every plotting function: decoded sizes, GIF frames and delays,
//! atomic writes, errors naming the path, and non-finite input.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use image::codecs::gif::GifDecoder;
use image::{AnimationDecoder, Frame};
use pf_viz::*;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn png_dims(path: &Path) -> (u32, u32) {
    image::image_dimensions(path).expect("decode png")
}

fn gif_frames(path: &Path) -> Vec<Frame> {
    let file = BufReader::new(File::open(path).expect("open gif"));
    GifDecoder::new(file)
        .expect("gif header")
        .into_frames()
        .collect_frames()
        .expect("decode gif frames")
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A spread of points: a small deterministic grid in [-2, 2]².
fn cloud(n: usize) -> Vec<[f32; 2]> {
    (0..n)
        .map(|i| {
            let a = i as f32 * 0.618_034;
            [2.0 * (a * 6.1).sin(), 2.0 * (a * 3.7).cos()]
        })
        .collect()
}

fn frames(n: usize, particles: usize) -> Vec<Vec<[f32; 2]>> {
    (0..n)
        .map(|k| {
            cloud(particles)
                .into_iter()
                .map(|p| [p[0] * (1.0 + k as f32 * 0.01), p[1]])
                .collect()
        })
        .collect()
}

fn names_path(err: &Error, path: &Path) {
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "error does not name {}: {msg}",
        path.display()
    );
    assert_eq!(err.path(), path);
}

#[test]
fn png_sizes_match_the_request() {
    let dir = tmp();
    let d = dir.path();
    let pts = cloud(200);

    let p = d.join("scatter.png");
    let opts = ScatterOpts {
        size: (320, 240),
        ..ScatterOpts::default()
    };
    scatter(&p, &pts, &opts).unwrap();
    assert_eq!(png_dims(&p), (320, 240));

    let p = d.join("density.png");
    let opts = DensityOpts {
        size: (400, 300),
        bins: (20, 20),
        log_scale: true,
        ..DensityOpts::default()
    };
    density(&p, &pts, &opts).unwrap();
    assert_eq!(png_dims(&p), (400, 300));

    let p = d.join("traj.png");
    let opts = TrajOpts {
        size: (600, 200),
        ..TrajOpts::default()
    };
    trajectories(&p, &frames(6, 10), &[3], &opts).unwrap();
    assert_eq!(png_dims(&p), (600, 200));

    let p = d.join("curves.png");
    let xs: Vec<f64> = (1..50).map(f64::from).collect();
    let ys: Vec<f64> = xs.iter().map(|x| 1.0 / x).collect();
    let opts = CurveOpts {
        log_y: true,
        size: (300, 200),
        ..CurveOpts::default()
    };
    curves(&p, &[Series::line("loss", xs.clone(), ys)], &opts).unwrap();
    assert_eq!(png_dims(&p), (300, 200));

    let p = d.join("hist.png");
    let samples: Vec<f32> = pts.iter().map(|q| q[0]).collect();
    let overlay = Series::dashed("truth", xs.clone(), vec![0.1; xs.len()]);
    let opts = HistOpts {
        size: (350, 250),
        bins: 20,
        ..HistOpts::default()
    };
    hist1d(&p, &samples, Some(&overlay), &opts).unwrap();
    assert_eq!(png_dims(&p), (350, 250));
}

#[test]
fn strip_and_panel_tile_their_frames() {
    let dir = tmp();
    let p = dir.path().join("strip.png");
    let opts = StripOpts {
        scatter: ScatterOpts {
            size: (120, 100),
            ..ScatterOpts::default()
        },
        steps: Some((0..10).map(|k| 5 * k).collect()),
        max_frames: 4,
    };
    strip(&p, &frames(10, 20), &opts).unwrap();
    assert_eq!(png_dims(&p), (4 * 120, 100));

    let p = dir.path().join("panel.png");
    let panels: Vec<Panel> = (0..5)
        .map(|i| Panel {
            title: format!("method {i}"),
            points: cloud(30),
        })
        .collect();
    let opts = PanelOpts {
        cols: 3,
        panel_size: (200, 150),
        ..PanelOpts::default()
    };
    panel(&p, &panels, &opts).unwrap();
    assert_eq!(png_dims(&p), (600, 300));
    let titled = PanelOpts {
        title: "comparison".into(),
        cols: 10,
        ..opts
    };
    panel(&p, &panels, &titled).unwrap();
    assert_eq!(png_dims(&p), (5 * 200, 150 + 40));
}

#[test]
fn gif_has_subsampled_frames_and_the_requested_delay() {
    let dir = tmp();
    let p = dir.path().join("anim.gif");
    let opts = GifOpts {
        scatter: ScatterOpts {
            size: (96, 80),
            x_range: Some((-6.0, 6.0)),
            y_range: Some((-6.0, 6.0)),
            ..ScatterOpts::default()
        },
        steps: Some((0..25).map(|k| 10 * k).collect()),
        delay_ms: 70,
        max_frames: 10,
    };
    gif(&p, &frames(25, 20), &opts).unwrap();
    let decoded = gif_frames(&p);
    assert_eq!(decoded.len(), 10);
    for f in &decoded {
        assert_eq!(f.buffer().dimensions(), (96, 80));
        assert_eq!(f.delay().numer_denom_ms(), (70, 1));
    }
    // fewer frames than max_frames: all kept; the delay rounds to 10 ms units
    let opts = GifOpts {
        steps: None,
        delay_ms: 24,
        max_frames: 100,
        ..opts
    };
    gif(&p, &frames(4, 20), &opts).unwrap();
    let decoded = gif_frames(&p);
    assert_eq!(decoded.len(), 4);
    assert_eq!(decoded[0].delay().numer_denom_ms(), (20, 1));
}

#[test]
fn missing_directory_is_an_error_naming_the_path() {
    let dir = tmp();
    let p: PathBuf = dir.path().join("no/such/dir/plot.png");
    let err = scatter(&p, &cloud(10), &ScatterOpts::default()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    names_path(&err, &p);
    // a regular file in place of a directory
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    let p = dir.path().join("file/anim.gif");
    let err = gif(&p, &frames(2, 5), &GifOpts::default()).unwrap_err();
    names_path(&err, &p);
    assert_eq!(listing(dir.path()), vec!["file"]);
}

#[test]
fn failed_rename_leaves_no_temp_file() {
    let dir = tmp();
    // the target is a directory: drawing succeeds, the final rename fails
    let p = dir.path().join("taken.png");
    std::fs::create_dir(&p).unwrap();
    let err = scatter(&p, &cloud(10), &ScatterOpts::default()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    names_path(&err, &p);
    assert_eq!(listing(dir.path()), vec!["taken.png"]);
    let p = dir.path().join("taken.gif");
    std::fs::create_dir(&p).unwrap();
    let err = gif(&p, &frames(2, 5), &GifOpts::default()).unwrap_err();
    names_path(&err, &p);
    assert_eq!(listing(dir.path()), vec!["taken.gif", "taken.png"]);
}

#[test]
fn success_leaves_only_the_output() {
    let dir = tmp();
    let p = dir.path().join("out.png");
    scatter(&p, &cloud(10), &ScatterOpts::default()).unwrap();
    // overwriting an existing file works too
    scatter(&p, &cloud(20), &ScatterOpts::default()).unwrap();
    gif(
        dir.path().join("out.gif"),
        &frames(2, 5),
        &GifOpts::default(),
    )
    .unwrap();
    assert_eq!(listing(dir.path()), vec!["out.gif", "out.png"]);
}

#[test]
fn empty_input_is_an_error_naming_the_path() {
    let dir = tmp();
    let p = dir.path().join("empty.png");
    let g = dir.path().join("empty.gif");
    let errs = [
        scatter(&p, &[], &ScatterOpts::default()).unwrap_err(),
        density(&p, &[], &DensityOpts::default()).unwrap_err(),
        gif(&g, &[], &GifOpts::default()).unwrap_err(),
        gif(&g, &[vec![], vec![]], &GifOpts::default()).unwrap_err(),
        strip(&p, &[], &StripOpts::default()).unwrap_err(),
        panel(&p, &[], &PanelOpts::default()).unwrap_err(),
        curves(&p, &[], &CurveOpts::default()).unwrap_err(),
        curves(
            &p,
            &[Series::line("a", vec![], vec![])],
            &CurveOpts::default(),
        )
        .unwrap_err(),
        hist1d(&p, &[], None, &HistOpts::default()).unwrap_err(),
        trajectories(&p, &[], &[0], &TrajOpts::default()).unwrap_err(),
        trajectories(&p, &frames(3, 2), &[], &TrajOpts::default()).unwrap_err(),
    ];
    for err in &errs {
        assert!(matches!(err, Error::EmptyInput { .. }), "{err}");
        let target = if err.path() == g { &g } else { &p };
        names_path(err, target);
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn invalid_options_are_errors_naming_the_path() {
    let dir = tmp();
    let p = dir.path().join("bad.png");
    let pts = cloud(10);
    let bad_range = ScatterOpts {
        x_range: Some((1.0, -1.0)),
        ..ScatterOpts::default()
    };
    let bad_grid = ScatterOpts {
        background: Some(Grid {
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            nx: 3,
            ny: 3,
            values: vec![0.0; 4],
        }),
        ..ScatterOpts::default()
    };
    let errs = [
        scatter(&p, &pts, &bad_range).unwrap_err(),
        scatter(&p, &pts, &bad_grid).unwrap_err(),
        scatter(dir.path().join("bad.svg"), &pts, &ScatterOpts::default()).unwrap_err(),
        trajectories(&p, &frames(3, 2), &[2], &TrajOpts::default()).unwrap_err(),
        gif(
            dir.path().join("bad.gif"),
            &frames(3, 2),
            &GifOpts {
                steps: Some(vec![0, 1]),
                ..GifOpts::default()
            },
        )
        .unwrap_err(),
        curves(
            &p,
            &[Series::line("a", vec![1.0, 2.0], vec![1.0])],
            &CurveOpts::default(),
        )
        .unwrap_err(),
    ];
    for err in &errs {
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert!(err.to_string().contains("bad."), "{err}");
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn non_finite_points_are_dropped_without_panic() {
    let dir = tmp();
    let d = dir.path();
    let mut pts = cloud(50);
    pts[3] = [f32::NAN, 0.0];
    pts[7] = [0.0, f32::INFINITY];
    pts[9] = [f32::NEG_INFINITY, f32::NAN];
    scatter(d.join("s.png"), &pts, &ScatterOpts::default()).unwrap();
    density(d.join("d.png"), &pts, &DensityOpts::default()).unwrap();
    // all non-finite: an empty plot, not an error and not a panic
    let nans = vec![[f32::NAN, f32::NAN]; 5];
    scatter(d.join("nan.png"), &nans, &ScatterOpts::default()).unwrap();
    let mut fr = frames(5, 20);
    fr[2][0] = [f32::NAN, 1.0];
    fr[4] = nans.clone();
    gif(d.join("g.gif"), &fr, &GifOpts::default()).unwrap();
    assert_eq!(gif_frames(&d.join("g.gif")).len(), 5);
    strip(d.join("st.png"), &fr, &StripOpts::default()).unwrap();
    trajectories(d.join("t.png"), &fr, &[0, 1], &TrajOpts::default()).unwrap();
    let panels = [
        Panel {
            title: "ok".into(),
            points: pts.clone(),
        },
        Panel {
            title: "diverged".into(),
            points: nans,
        },
    ];
    panel(d.join("p.png"), &panels, &PanelOpts::default()).unwrap();
    let samples = [0.5, f32::NAN, 1.0, f32::INFINITY, -0.3];
    hist1d(d.join("h.png"), &samples, None, &HistOpts::default()).unwrap();
    let s = Series::points(
        "a",
        vec![1.0, f64::NAN, 3.0],
        vec![1.0, 2.0, f64::NEG_INFINITY],
    );
    curves(d.join("c.png"), &[s], &CurveOpts::default()).unwrap();
    assert_eq!(listing(d).len(), 9);
}
