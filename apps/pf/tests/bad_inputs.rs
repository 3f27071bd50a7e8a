//! The bad-input table (issue 9): every row is a config, a file or a command line a user could
//! get wrong, run through the real `pf` binary. Each must fail with a non-zero exit and exactly
//! one stderr line `error: …` naming the key / value / file at fault and what is allowed, and
//! leave no partial output: no temporary files, no run directory for an error found before any
//! work (validation runs in milliseconds, before the directory is made), and a pre-existing
//! directory unchanged. README.md's "Reliability" section summarises this table.
//!
//! Also here: the NaN/Inf guards (an absurd learning rate stops training naming the step, the
//! t range, the knob and the last good checkpoint, which still loads; a diverging ULA step stops
//! sampling naming the method, the step, t and the knob).

mod common;

use common::{check_checkpoint, files, run, temps, tiny};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

/// What the output directory `out` must look like after the failure.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Out {
    /// Never created (the error came before any work).
    Absent,
    /// Existed before the run; every file in it is unchanged.
    Unchanged,
    /// Not checked beyond "no temporary files" (e.g. `out` is not a directory).
    Any,
}

/// Files a row puts in its working directory before running.
enum Setup {
    None,
    /// (name, bytes)
    Files(Vec<(&'static str, Vec<u8>)>),
    /// `out/` holds a finished tiny run whose model has hidden [16, 16] on the 2-D funnel.
    TrainedRun,
    /// `out/` holds a finished tiny run whose checkpoint was then cut to `n` bytes.
    TruncatedCheckpoint(usize),
}

struct Case {
    name: &'static str,
    /// config.toml's text (None: no config written).
    config: Option<String>,
    setup: Setup,
    /// arguments after `pf --device cpu` ("run config.toml --out out" unless given).
    args: Vec<String>,
    /// substrings the error line must contain.
    expect: Vec<&'static str>,
    out: Out,
}

/// The valid base config: tiny(2 steps) — funnel, model "vp", samplers reverse-sde and ula.
fn base() -> String {
    tiny(2, 1)
}

/// `base()` with `from` replaced by `to` (which must occur).
fn with(from: &str, to: &str) -> String {
    let b = base();
    assert!(b.contains(from), "base config has no {from:?}");
    b.replacen(from, to, 1)
}

fn run_args(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["run", "config.toml", "--out", "out"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn case(name: &'static str, config: String, expect: &[&'static str]) -> Case {
    Case {
        name,
        config: Some(config),
        setup: Setup::None,
        args: run_args(&[]),
        expect: expect.to_vec(),
        out: Out::Absent,
    }
}

/// A `.npy` header + data for an N×2 float32 array of `n` rows.
fn npy(n: usize) -> Vec<u8> {
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, 2), }}");
    let pad = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((header.len() as u16).to_le_bytes());
    b.extend(header.as_bytes());
    for i in 0..2 * n {
        b.extend(((i as f32) * 0.01).to_le_bytes());
    }
    b
}

fn file_target(path: &str) -> String {
    with(
        "kind = \"funnel\"",
        &format!("kind = \"file\"\npath = \"{path}\""),
    )
    // Langevin needs a log-density: only the learned sampler stays
    .replace(
        "[[sampler]]\nmethod = \"ula\"\nparticles = 200\nsteps = 50\neta = [1e-2]\n",
        "",
    )
}

fn table() -> Vec<Case> {
    let mut v = vec![
        // ---- unknown keys and names: serde, with the line
        case(
            "unknown top-level key",
            with("seed = 7", "seed = 7\nsed = 8"),
            &["config.toml", "line 3", "unknown key `sed`", "`seed`"],
        ),
        case(
            "unknown key in [target]",
            with(
                "kind = \"funnel\"",
                "kind = \"ring\"\nradius = 2.0",
            ),
            &["config.toml", "line 6", "unknown key `radius`", "`rx`"],
        ),
        case(
            "unknown key in [[sampler]]",
            with("eta = [1e-2]", "eta = [1e-2]\nstep_size = 0.1"),
            &["unknown key `step_size`", "`eta`", "line"],
        ),
        case(
            "unknown key in [model.train]",
            with("batch_size = 64", "batch_size = 64\nlearning_rate = 1e-3"),
            &["unknown key `learning_rate`", "`lr`", "line"],
        ),
        case(
            "unknown target kind",
            with("kind = \"funnel\"", "kind = \"funel\""),
            &["kind = \"funel\"", "unknown variant `funel`", "`funnel`", "`neal-funnel`"],
        ),
        case(
            "unknown sampler method",
            with("method = \"ula\"", "method = \"langevin\""),
            &["unknown variant `langevin`", "`ula`", "`mala`", "`pf-ode`"],
        ),
        case(
            "unknown path kind",
            with("kind = \"vp\"", "kind = \"vpsde\""),
            &["unknown variant `vpsde`", "`vp`", "`ve`", "`sub-vp`"],
        ),
        case(
            "unknown loss kind",
            with("kind = \"dsm\"", "kind = \"score-matching\""),
            &["unknown variant `score-matching`", "`dsm`", "`fm`"],
        ),
        case(
            "unknown activation",
            with("embed_dim = 8", "embed_dim = 8\nactivation = \"swish\""),
            &["activation = \"swish\"", "`silu`", "`relu`"],
        ),
        case(
            "TOML syntax error",
            with("[output]", "[output"),
            &["config.toml", "line 7", "[output"],
        ),
        // ---- values: validate(), naming the key, the value and what is allowed
        case(
            "step size eta = 0",
            with("eta = [1e-2]", "eta = [0.0]"),
            &["sampler[1].eta = [0.0]", "> 0"],
        ),
        case(
            "step size eta < 0 in one dimension",
            with("eta = [1e-2]", "eta = [1e-2, -1e-2]"),
            &["sampler[1].eta = [0.01, -0.01]", "> 0"],
        ),
        case(
            "eta with the wrong number of dimensions",
            with("eta = [1e-2]", "eta = [1e-2, 1e-2, 1e-2]"),
            &["sampler[1].eta", "give 1 or 2 values"],
        ),
        case(
            "beta_min >= beta_max",
            with("beta_max = 20.0", "beta_max = 0.05"),
            &["model[0].path.beta_max = 0.05", "> beta_min = 0.1"],
        ),
        case(
            "sigma_min >= sigma_max",
            with(
                "kind = \"vp\"\nbeta_min = 0.1\nbeta_max = 20.0",
                "kind = \"ve\"\nsigma_min = 5.0\nsigma_max = 0.01",
            ),
            &["model[0].path.sigma_max = 0.01", "> sigma_min = 5"],
        ),
        case(
            "loss t_eps = 0",
            with("kind = \"dsm\"", "kind = \"dsm\"\nt_eps = 0.0"),
            &["model[0].loss.t_eps = 0", "0 < T_ε < 1"],
        ),
        case(
            "likelihood t_eps >= 1",
            base() + "\n[likelihood]\nmodel = \"vp\"\npoints = { kind = \"samples\", n = 10 }\nt_eps = 1.5\n",
            &["likelihood.t_eps = 1.5", "0 < T_ε < 1"],
        ),
        case(
            "particles = 0",
            with("particles = 200", "particles = 0"),
            &["sampler[0].particles = 0", "≥ 1"],
        ),
        case(
            "sampler steps = 0",
            with("steps = 20", "steps = 0"),
            &["sampler[0].steps = 0", "≥ 1"],
        ),
        case(
            "train steps = 0",
            with("steps = 2\n", "steps = 0\n"),
            &["model[0].train.steps = 0", "≥ 1"],
        ),
        case(
            "batch_size = 0",
            with("batch_size = 64", "batch_size = 0"),
            &["model[0].train.batch_size = 0", "at least 1"],
        ),
        case(
            "learning rate < 0",
            with("lr = 1e-3", "lr = -1e-3"),
            &["model[0].train.lr = -0.001", "> 0"],
        ),
        case(
            "epochs without a dataset",
            with("dataset = 1000\n", "").replace("steps = 2\n", "epochs = 2\n"),
            &["model[0].train.epochs", "fixed dataset", "model[0].dataset"],
        ),
        case(
            "model dim != target dim",
            with("dim = 2", "dim = 3"),
            &["model[0].net.dim = 3", "dimension 2"],
        ),
        case(
            "sampler names a missing model",
            with("model = \"vp\"", "model = \"ve\""),
            &["sampler[0].model = \"ve\"", "no [[model]]", "\"vp\""],
        ),
        case(
            "exact field on a target that is not a mixture",
            format!("{}\n[[exact]]\nname = \"exact\"\n", base()),
            &["exact[0].name = \"exact\"", "Gaussian-mixture target", "funnel"],
        ),
        case(
            "sampler needs another kind of model",
            with("method = \"reverse-sde\"", "method = \"flow\""),
            &["sampler[0].model = \"vp\"", "flow needs a velocity model", "dsm"],
        ),
        case(
            "nothing to do",
            "[target]\nkind = \"funnel\"\n".into(),
            &["nothing to do", "[[sampler]]"],
        ),
        // ---- --set goes through the same parsing and validation
        Case {
            args: run_args(&["--set", "model.vp.train.learning_rate=1e-3"]),
            ..case(
                "--set an unknown key",
                base(),
                &["--set model.vp.train.learning_rate=1e-3", "unknown key `learning_rate`", "`lr`"],
            )
        },
        Case {
            args: run_args(&["--set", "model.vp.train.lr=-1"]),
            ..case(
                "--set a value validation rejects",
                base(),
                &["--set model.vp.train.lr=-1", "model[0].train.lr = -1", "> 0"],
            )
        },
        Case {
            args: run_args(&["--set", "sampler.ula.steps=many"]),
            ..case(
                "--set a value of the wrong type",
                base(),
                &["--set sampler.ula.steps=many", "\"many\"", "expected usize"],
            )
        },
        Case {
            args: run_args(&["--set", "sampler.mala.steps=10"]),
            ..case(
                "--set an element that does not exist",
                base(),
                &["--set sampler.mala.steps", "no element named \"mala\""],
            )
        },
        Case {
            args: run_args(&["--set", "seed"]),
            ..case("--set without =", base(), &["--set \"seed\"", "key=value"])
        },
        Case {
            args: run_args(&["--quick", "--set", "sampler.ula.eta=[1e-2, 0.0]"]),
            ..case(
                "--set with --quick",
                base(),
                &["sampler[1].eta = [0.01, 0.0]", "> 0"],
            )
        },
        // ---- files
        Case {
            config: None,
            args: ["run", "nope.toml", "--out", "out"]
                .map(String::from)
                .to_vec(),
            ..case(
                "missing config file",
                String::new(),
                &["cannot read config nope.toml", "No such file"],
            )
        },
        case(
            "missing .npy for a file target",
            file_target("missing.npy"),
            &["config.toml", "missing.npy", "no such file"],
        ),
        Case {
            setup: Setup::Files(vec![("data.npy", npy(50)[..40].to_vec())]),
            ..case(
                "truncated .npy header",
                file_target("data.npy"),
                &["data.npy", "truncated .npy", "header"],
            )
        },
        Case {
            setup: Setup::Files(vec![("data.npy", {
                let b = npy(50);
                b[..b.len() - 8].to_vec()
            })]),
            ..case(
                "truncated .npy data",
                file_target("data.npy"),
                &["data.npy", "truncated .npy", "fewer values"],
            )
        },
        Case {
            setup: Setup::Files(vec![("data.npy", b"this is not numpy".to_vec())]),
            ..case(
                "corrupt .npy",
                file_target("data.npy"),
                &["data.npy", "not a valid .npy"],
            )
        },
        Case {
            setup: Setup::Files(vec![("data.csv", b"x,y\n1,2\n3,4\n5\n".to_vec())]),
            ..case(
                "ragged CSV",
                file_target("data.csv"),
                &["data.csv", "ragged", "line 4", "1 columns", "2"],
            )
        },
        Case {
            setup: Setup::Files(vec![("data.csv", b"1,2\n3,oops\n".to_vec())]),
            ..case(
                "non-numeric CSV",
                file_target("data.csv"),
                &["data.csv", "line 2", "\"oops\" is not a number"],
            )
        },
        Case {
            setup: Setup::Files(vec![("data.npy", npy(50))]),
            ..case(
                "Langevin on a data set (no log-density)",
                with("kind = \"funnel\"", "kind = \"file\"\npath = \"data.npy\""),
                &["sampler[1].method = \"ula\"", "no log-density", "reverse-sde"],
            )
        },
        Case {
            setup: Setup::Files(vec![("init.csv", b"1,2,3\n4,5,6\n".to_vec())]),
            ..case(
                "init file of another dimension",
                with(
                    "eta = [1e-2]",
                    "eta = [1e-2]\ninit = { kind = \"file\", path = \"init.csv\" }",
                ),
                &["sampler[1].init.path = init.csv", "3 columns", "dimension 2"],
            )
        },
        // ---- the output directory
        Case {
            setup: Setup::Files(vec![("out/old.txt", b"keep me".to_vec())]),
            out: Out::Unchanged,
            ..case(
                "non-empty output directory without --force",
                base(),
                &["output directory out is not empty", "--force"],
            )
        },
        Case {
            setup: Setup::Files(vec![("blocker", b"a regular file".to_vec())]),
            args: run_args(&[]).into_iter().map(|a| if a == "out" { "blocker/out".into() } else { a }).collect(),
            out: Out::Any,
            ..case(
                "output path under a regular file",
                base(),
                &["cannot create output directory blocker/out", "Not a directory"],
            )
        },
        Case {
            setup: Setup::Files(vec![("out", b"a regular file".to_vec())]),
            out: Out::Any,
            ..case(
                "output path is a regular file",
                base(),
                &["output out exists and is not a directory"],
            )
        },
        // ---- the command line
        Case {
            args: ["--device", "tpu", "run", "config.toml", "--out", "out"]
                .map(String::from)
                .to_vec(),
            ..case("unknown device", base(), &["device = tpu", "auto, cpu, cuda"])
        },
        Case {
            args: ["--threads", "0", "run", "config.toml", "--out", "out"]
                .map(String::from)
                .to_vec(),
            ..case("--threads 0", base(), &["--threads", "≥ 1", "0"])
        },
        // ---- --resume with a checkpoint that does not fit
        Case {
            setup: Setup::TrainedRun,
            args: run_args(&["--resume", "--set", "model.vp.net.hidden=[32, 16]"]),
            out: Out::Unchanged,
            ..case(
                "--resume: checkpoint of another architecture",
                base(),
                &[
                    "cannot resume model vp from out/checkpoint.safetensors",
                    "tensor `net.0.0.bias`",
                    "[16]",
                    "[32]",
                    "net.hidden = [16,16]",
                ],
            )
        },
        Case {
            setup: Setup::TrainedRun,
            args: run_args(&[
                "--resume",
                "--set",
                "target={kind=\"neal-funnel\", dim=3}",
                "--set",
                "model.vp.net.dim=3",
                "--set",
                "sampler.ula.eta=[1e-2]",
            ]),
            out: Out::Unchanged,
            ..case(
                "--resume: checkpoint of another dimension",
                base(),
                &["tensor `net.0.0.weight`", "[16, 10]", "[16, 11]", "net.dim = 2"],
            )
        },
        Case {
            setup: Setup::TrainedRun,
            args: run_args(&["--resume", "--set", "model.vp.net.activation=\"relu\""]),
            out: Out::Unchanged,
            ..case(
                "--resume: same shapes, other activation",
                base(),
                &["net.activation = \"silu\"", "\"relu\""],
            )
        },
        Case {
            setup: Setup::TruncatedCheckpoint(100),
            args: run_args(&["--resume"]),
            out: Out::Unchanged,
            ..case(
                "--resume: truncated checkpoint",
                base(),
                &["out/checkpoint.safetensors", "truncated or corrupt"],
            )
        },
    ];
    if cuda_available() {
        eprintln!("CUDA is available: skipping the `--device cuda without CUDA` row");
    } else {
        v.push(Case {
            args: ["--device", "cuda", "run", "config.toml", "--out", "out"]
                .map(String::from)
                .to_vec(),
            ..case(
                "--device cuda without CUDA",
                base(),
                &["cuda", "no CUDA device", "--device cpu"],
            )
        });
    }
    v
}

fn cuda_available() -> bool {
    std::process::Command::new(env!("CARGO_BIN_EXE_pf"))
        .args(["--device", "cuda", "info"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A finished tiny run (2 training steps), made once and copied into the rows that need it.
fn trained_run() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("pf-bad-inputs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("config.toml"), base()).unwrap();
        common::ok(
            &run(
                &d,
                &run_args(&[]).iter().map(String::as_str).collect::<Vec<_>>(),
            ),
            "trained run",
        );
        d.join("out")
    })
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files(from) {
        let dst = to.join(&f);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&f), dst).unwrap();
    }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files(dir)
        .into_iter()
        .map(|f| {
            let b = std::fs::read(dir.join(&f)).unwrap();
            (f, b)
        })
        .collect()
}

/// Runs one row; Err(why) when it does not behave.
fn check(c: &Case) -> Result<(String, f64), String> {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    if let Some(text) = &c.config {
        std::fs::write(d.join("config.toml"), text).unwrap();
    }
    let out = d.join("out");
    match &c.setup {
        Setup::None => {}
        Setup::Files(fs) => {
            for (name, bytes) in fs {
                let p = d.join(name);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
            }
        }
        Setup::TrainedRun => copy_dir(trained_run(), &out),
        Setup::TruncatedCheckpoint(n) => {
            copy_dir(trained_run(), &out);
            let ck = out.join("checkpoint.safetensors");
            let b = std::fs::read(&ck).unwrap();
            std::fs::write(&ck, &b[..*n]).unwrap();
        }
    }
    let before = out.is_dir().then(|| snapshot(&out));
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let o = run(d, &args);
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let line = stderr.trim_end().to_string();
    let mut why = Vec::new();
    if o.status.success() || o.status.code() != Some(1) {
        why.push(format!("exit status {:?}, want 1", o.status.code()));
    }
    if line.lines().count() != 1 {
        why.push(format!("stderr has {} lines", line.lines().count()));
    }
    if !line.starts_with("error: ") {
        why.push("stderr does not start with `error: `".into());
    }
    for e in &c.expect {
        if !line.contains(e) {
            why.push(format!("missing {e:?}"));
        }
    }
    let t = temps(d);
    if !t.is_empty() {
        why.push(format!("temporary files left: {t:?}"));
    }
    match c.out {
        Out::Absent if out.exists() => why.push(format!(
            "the output directory was created: {:?}",
            files(&out)
        )),
        Out::Unchanged if before.as_ref() != Some(&snapshot(&out)) => {
            why.push("the output directory changed".into())
        }
        _ => {}
    }
    if why.is_empty() {
        Ok((line, secs))
    } else {
        Err(format!("{}\n    stderr: {stderr}", why.join("; ")))
    }
}

#[test]
fn bad_inputs_fail_with_one_clear_line_and_leave_nothing_behind() {
    let cases = table();
    assert!(cases.len() >= 24, "{} rows", cases.len());
    let started = Instant::now();
    // the resume rows share one trained run: make it before the threads start
    let _ = trained_run();
    let results: Vec<Result<(String, f64), String>> = std::thread::scope(|s| {
        let chunks: Vec<&[Case]> = cases.chunks(cases.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|ch| s.spawn(move || ch.iter().map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let _ = std::fs::remove_dir_all(trained_run().parent().unwrap());
    let mut failures = Vec::new();
    for (c, r) in cases.iter().zip(&results) {
        match r {
            Ok((line, secs)) => println!("{:<44} {secs:>5.2}s  {line}", c.name),
            Err(why) => failures.push(format!("{}: {why}", c.name)),
        }
    }
    println!(
        "{} rows in {:.1}s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// An absurd learning rate: training stops at the first logging / checkpoint interval after the
/// loss turns non-finite, naming the model, the step, the batch's t range, the last good
/// checkpoint and the knob; that checkpoint survives and loads.
#[test]
fn a_diverging_training_run_stops_naming_step_and_knob_and_keeps_its_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("config.toml"), tiny(200, 1)).unwrap();
    let o = run(
        d,
        &[
            "run",
            "config.toml",
            "--out",
            "out",
            "--set",
            "model.vp.train.lr=1e6",
            "--set",
            "model.vp.train.log_every=50",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr).trim_end().to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for want in [
        "error: training model vp: non-finite",
        "at step ",
        "batch t in [",
        "last good checkpoint: out/checkpoint.safetensors",
        "lower train.lr (now 1e6)",
        "t_eps",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    let step: usize = err
        .split("at step ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .expect("a step number");
    let ck = d.join("out/checkpoint.safetensors");
    let good = check_checkpoint(&ck);
    assert!(
        good <= step && step < 50,
        "checkpoint at {good}, bad step {step}"
    );
    assert!(temps(d).is_empty(), "{:?}", temps(d));
    assert!(!d.join("out/samples.npy").exists());
}

/// ULA with a step far too large for the funnel's neck: sampling stops within the guard's
/// interval, naming the method, the step, t and the knob; nothing is left behind.
#[test]
fn a_diverging_sampler_stops_naming_method_step_and_knob() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("config.toml"),
        "seed = 1\n[target]\nkind = \"funnel\"\n[output]\nreference = 200\nplots = false\ngif = false\n\
         [[sampler]]\nmethod = \"ula\"\nparticles = 200\nsteps = 1000\neta = [10.0]\n",
    )
    .unwrap();
    let o = run(d, &["run", "config.toml", "--out", "out"]);
    let err = String::from_utf8_lossy(&o.stderr).trim_end().to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for want in [
        "error: sampler[0]: ula: non-finite",
        "at step ",
        "lower eta",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    let step: usize = err
        .split("at step ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .expect("a step number");
    assert!(
        step <= 100,
        "detected at step {step}, the guard checks every 100"
    );
    assert!(!d.join("out").exists(), "{:?}", files(&d.join("out")));
}

/// A mistyped flag or subcommand is one line naming it, with clap's suggestion, exit status 2.
#[test]
fn usage_errors_are_one_line() {
    for (args, want) in [
        (vec!["run", "x.toml", "--forse"], "'--forse'"),
        (vec!["runn"], "'runn'"),
        (vec!["bench"], "required"),
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_pf"))
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).trim_end().to_string();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error:") && err.contains(want),
            "{args:?}: {err}"
        );
        // the help to read is that of the binary that ran
        assert!(err.ends_with("(see pf --help)"), "{args:?}: {err}");
    }
}
