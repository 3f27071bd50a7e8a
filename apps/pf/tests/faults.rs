//! Faults met while a run is in progress (issue 16), through the real binary: out of memory
//! (refused before the run, and an allocation failure past that check), SIGINT and SIGTERM
//! (one line, 130 / 143, a resumable directory or none, `--resume` giving the uninterrupted
//! run's bytes), the per-directory lock, and a write that fails part-way (a file-size limit).
//! Every case ends with exactly one stderr line and never a Rust or C++ backtrace.

mod common;

use common::{check_checkpoint, ok, pf, run, temps, tiny};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// stderr as text, after checking it is one line with no backtrace in it.
fn one_line(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    for bad in [
        "panicked",
        "backtrace",
        "frame #",
        "Exception raised",
        "RUST_BACKTRACE",
    ] {
        assert!(!err.contains(bad), "stderr shows a backtrace/panic: {err}");
    }
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    err.trim_end().to_string()
}

/// `pf --device cpu --threads 1 ARGS` in `dir`, spawned with piped stderr.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    pf(dir)
        .args(["--device", "cpu", "--threads", "1"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pf starts")
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// Waits until `cond` holds (or panics after 120 s, or if `child` ended first).
fn wait_for(child: &mut Child, what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !cond() {
        if let Some(st) = child.try_wait().unwrap() {
            panic!("pf ended ({st}) before {what}");
        }
        assert!(Instant::now() < deadline, "no {what} after 120 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// step,loss,lr of every row (the elapsed column is wall time).
fn losses(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("loss.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head).to_string())
        .collect()
}

/// metrics.json without its wall-clock fields.
fn metrics(dir: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| k != "wall_s");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    strip(&mut v);
    v
}

/// The arguments of the `resume with: pf …` part of an interrupt line.
fn resume_args(line: &str) -> Vec<String> {
    let cmd = line
        .split_once("resume with: pf ")
        .unwrap_or_else(|| panic!("no resume command in {line:?}"))
        .1;
    cmd.split_whitespace().map(String::from).collect()
}

/// The byte count in "… (N bytes) …" or "allocate N bytes".
fn bytes_in(line: &str) -> f64 {
    let i = line.find(" bytes").expect("a byte count");
    let head = &line[..i];
    let start = head
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |j| j + 1);
    head[start..].parse().unwrap()
}

#[test]
fn preflight_refuses_an_impossible_config_before_the_directory_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("config.toml"), tiny(20, 10)).unwrap();
    let o = run(
        d,
        &[
            "run",
            "config.toml",
            "--out",
            "out",
            "--set",
            "sampler.ula.particles=10000000000",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let line = one_line(&o);
    assert!(
        line.starts_with("error: not enough memory for sampler ula:")
            && line.contains("on cpu")
            && line.contains("use fewer particles (sampler.ula.particles = 10000000000)"),
        "{line}"
    );
    // at least the particles themselves (N × D × 4 bytes), at most a hundred times that
    let b = bytes_in(&line);
    let particles = 1e10 * 2.0 * 4.0;
    assert!(
        (particles..=100.0 * particles).contains(&b),
        "{b} bytes: {line}"
    );
    assert!(!d.join("out").exists(), "the run directory was made");
}

/// Past the pre-flight (told there is plenty), libtorch's allocation of the particles fails
/// under `ulimit -v`: one line naming the sampler, the bytes (N × D × 4) and the device; exit 1;
/// the trained model's directory is kept (it holds a checkpoint), nothing half-written.
#[test]
fn an_allocation_failure_past_preflight_is_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("config.toml"), tiny(20, 10)).unwrap();
    let n: u64 = 400_000_000;
    let o = std::process::Command::new("bash")
        .current_dir(d)
        .env("PF_MEMORY_AVAILABLE", "1e15")
        .env("RUST_BACKTRACE", "1")
        .arg("-c")
        .arg(format!(
            "ulimit -v 4500000; exec '{}' --device cpu --threads 1 run config.toml --out out --set sampler.ula.particles={n}",
            env!("CARGO_BIN_EXE_pf")
        ))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line = one_line(&o);
    assert_eq!(
        line,
        format!(
            "error: out of memory in sampler ula: libtorch could not allocate {} bytes (3.2 GB) on cpu; use fewer particles (sampler.ula.particles = {n})",
            n * 2 * 4
        )
    );
    assert_eq!(check_checkpoint(&d.join("out/checkpoint.safetensors")), 20);
    assert!(!d.join("out/samples_ula.npy").exists());
    assert!(temps(d).is_empty(), "{:?}", temps(d));
}

/// SIGINT mid-training: one line naming the model and step, status 130, a checkpoint at exactly
/// that step; the printed resume command then gives the uninterrupted run's bytes.
#[test]
fn sigint_mid_training_then_resume_matches_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    const STEPS: usize = 2000;
    std::fs::write(d.join("config.toml"), tiny(STEPS, 25)).unwrap();
    ok(
        &run(
            d,
            &["--threads", "1", "run", "config.toml", "--out", "full"],
        ),
        "uninterrupted run",
    );

    let mut child = spawn(d, &["run", "config.toml", "--out", "cut"]);
    wait_for(&mut child, "a first checkpoint", || {
        d.join("cut/checkpoint.json").exists()
    });
    signal(&child, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    let line = one_line(&o);
    assert_eq!(o.status.code(), Some(130), "{line}");
    let step: usize = line
        .strip_prefix("interrupted at model vp step ")
        .and_then(|r| r.split(';').next())
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .unwrap();
    assert!(step > 0 && step < STEPS, "{line}");
    assert_eq!(
        check_checkpoint(&d.join("cut/checkpoint.safetensors")),
        step
    );
    assert!(!d.join("cut/model.safetensors").exists());
    let args = resume_args(&line);
    assert_eq!(
        args,
        [
            "--device",
            "cpu",
            "--threads",
            "1",
            "run",
            "config.toml",
            "--out",
            "cut",
            "--resume"
        ]
    );

    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&pf(d).args(&args).output().unwrap(), "resume");
    let (full, cut) = (d.join("full"), d.join("cut"));
    for f in [
        "model.safetensors",
        "checkpoint.safetensors",
        "samples.npy",
        "samples_reverse-sde.npy",
        "samples_ula.npy",
    ] {
        assert!(bytes(&full.join(f)) == bytes(&cut.join(f)), "{f} differs");
    }
    assert_eq!(losses(&full), losses(&cut));
    assert_eq!(metrics(&full), metrics(&cut));
    assert!(temps(d).is_empty() && !cut.join(".pf-lock").exists());
}

/// SIGTERM while the second sampler runs: status 143, the trained model and the first sampler's
/// samples kept; `--resume` neither retrains nor resamples them and gives an uninterrupted
/// run's bytes. A SIGINT arriving before training leaves no directory.
#[test]
fn sigterm_while_sampling_keeps_the_model_and_resume_reruns_only_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = tiny(200, 50);
    // ULA for a very long time: it is the sampler running when the signal comes
    std::fs::write(
        d.join("long.toml"),
        cfg.replace("steps = 50\n", "steps = 100000000\n"),
    )
    .unwrap();
    std::fs::write(d.join("config.toml"), &cfg).unwrap();
    ok(
        &run(
            d,
            &["--threads", "1", "run", "config.toml", "--out", "full"],
        ),
        "uninterrupted run",
    );

    let mut child = spawn(d, &["run", "long.toml", "--out", "cut"]);
    wait_for(&mut child, "the first sampler's samples", || {
        d.join("cut/samples_reverse-sde.json").exists()
    });
    signal(&child, libc::SIGTERM);
    let o = child.wait_with_output().unwrap();
    let line = one_line(&o);
    assert_eq!(o.status.code(), Some(143), "{line}");
    // the resume hint names the binary that ran (`pf`) and its own arguments
    assert!(
        line.starts_with("interrupted while sampling ula; the trained models are kept; resume with: pf --device cpu --threads 1 run long.toml --out cut --resume"),
        "{line}"
    );
    let cut = d.join("cut");
    assert_eq!(check_checkpoint(&cut.join("checkpoint.safetensors")), 200);
    let model = bytes(&cut.join("model.safetensors"));
    assert!(model == bytes(&d.join("full/model.safetensors")));
    assert!(!cut.join("samples_ula.npy").exists());
    let (ck, log, first) = (
        bytes(&cut.join("checkpoint.json")),
        bytes(&cut.join("loss.csv")),
        std::fs::metadata(cut.join("samples_reverse-sde.npy"))
            .unwrap()
            .modified()
            .unwrap(),
    );

    // resume with the short config: only ULA runs
    ok(
        &run(
            d,
            &[
                "--threads",
                "1",
                "run",
                "config.toml",
                "--out",
                "cut",
                "--resume",
            ],
        ),
        "resume",
    );
    assert!(
        bytes(&cut.join("checkpoint.json")) == ck,
        "the model was trained again"
    );
    assert!(
        bytes(&cut.join("loss.csv")) == log,
        "the loss log was rewritten"
    );
    let again = std::fs::metadata(cut.join("samples_reverse-sde.npy"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(first, again, "reverse-sde was sampled again");
    let full = d.join("full");
    for f in [
        "samples.npy",
        "samples_reverse-sde.npy",
        "samples_ula.npy",
        "model.safetensors",
    ] {
        assert!(bytes(&full.join(f)) == bytes(&cut.join(f)), "{f} differs");
    }
    assert_eq!(metrics(&full), metrics(&cut));

    // a sampler whose settings changed is sampled again (100 rows of 2 float32 after the header)
    ok(
        &run(
            d,
            &[
                "--threads",
                "1",
                "run",
                "config.toml",
                "--out",
                "cut",
                "--resume",
                "--set",
                "sampler.reverse-sde.particles=100",
            ],
        ),
        "resume with other particles",
    );
    let a = bytes(&full.join("samples_reverse-sde.npy")).len();
    let b = bytes(&cut.join("samples_reverse-sde.npy")).len();
    assert_eq!(a - b, 100 * 2 * 4);

    // nothing worth keeping: a sampler-only run stopped in its first sampler
    let only_ula = cfg
        .replace("steps = 50\n", "steps = 100000000\n")
        .split("[[model]]")
        .next()
        .unwrap()
        .to_string()
        + "[[sampler]]\nmethod = \"ula\"\nparticles = 200\nsteps = 100000000\neta = [1e-2]\n";
    std::fs::write(d.join("ula.toml"), only_ula).unwrap();
    let mut child = spawn(d, &["run", "ula.toml", "--out", "gone"]);
    wait_for(&mut child, "the lock", || {
        std::fs::read_to_string(d.join("gone/.pf-lock")).is_ok_and(|s| s.ends_with('\n'))
    });
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    let line = one_line(&o);
    assert_eq!(o.status.code(), Some(130), "{line}");
    // (while sampling ula, or the reference just before it on a slow machine)
    assert!(
        line.starts_with("interrupted while")
            && line.ends_with("; nothing worth keeping, gone removed"),
        "{line}"
    );
    assert!(!d.join("gone").exists());
}

/// Two runs started into one new directory at once: exactly one gets it, the other is refused
/// naming the holder's pid and leaves the directory alone. A lock left by a SIGKILLed run does
/// not block the next one.
#[test]
fn one_run_per_directory_and_a_stale_lock_never_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sampler_only = "seed = 3\n[target]\nkind = \"funnel\"\n[output]\nreference = 300\nplots = false\ngif = false\n\n[[sampler]]\nmethod = \"ula\"\nparticles = 200\nsteps = STEPS\neta = [1e-2]\n";
    std::fs::write(
        d.join("long.toml"),
        sampler_only.replace("STEPS", "100000000"),
    )
    .unwrap();
    std::fs::write(d.join("short.toml"), sampler_only.replace("STEPS", "50")).unwrap();

    let mut a = spawn(d, &["run", "long.toml", "--out", "race"]);
    let mut b = spawn(d, &["run", "long.toml", "--out", "race"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    let (loser, mut winner) = loop {
        if a.try_wait().unwrap().is_some() {
            break (a, b);
        }
        if b.try_wait().unwrap().is_some() {
            break (b, a);
        }
        assert!(Instant::now() < deadline, "neither run was refused");
        std::thread::sleep(Duration::from_millis(5));
    };
    let o = loser.wait_with_output().unwrap();
    let line = one_line(&o);
    assert_eq!(o.status.code(), Some(1), "{line}");
    assert_eq!(
        line,
        format!(
            "error: output directory race is in use by another pf run (pid {}); wait for it to end or use another --out",
            winner.id()
        )
    );
    assert!(winner.try_wait().unwrap().is_none(), "the winner stopped");
    assert!(
        d.join("race").is_dir(),
        "the refused run removed the directory"
    );

    // the winner dies without cleaning up: its lock file stays, and blocks nothing
    winner.kill().unwrap();
    winner.wait().unwrap();
    let stale = std::fs::read_to_string(d.join("race/.pf-lock")).unwrap();
    assert_eq!(stale.trim(), winner.id().to_string());
    ok(
        &run(
            d,
            &[
                "--threads",
                "1",
                "run",
                "short.toml",
                "--out",
                "race",
                "--force",
            ],
        ),
        "a run after a stale lock",
    );
    assert!(d.join("race/samples_ula.npy").exists() && !d.join("race/.pf-lock").exists());
}

/// A write that fails part-way (here: past `ulimit -f`, EFBIG) names the file, exits 1, leaves
/// the previous complete file in place and no temporary file.
#[test]
fn a_failed_write_names_the_file_and_keeps_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("config.toml"), tiny(20, 10)).unwrap();
    ok(
        &run(d, &["--threads", "1", "run", "config.toml", "--out", "out"]),
        "first run",
    );
    let before = bytes(&d.join("out/samples_ula.npy"));
    let metrics_before = bytes(&d.join("out/metrics.json"));
    // 20 000 particles: samples_ula.npy is 160 kB, over the 64 KiB limit; everything else fits
    let o = std::process::Command::new("bash")
        .current_dir(d)
        .arg("-c")
        .arg(format!(
            "ulimit -f 64; exec '{}' --device cpu --threads 1 run config.toml --out out --force --set sampler.ula.particles=20000",
            env!("CARGO_BIN_EXE_pf")
        ))
        .output()
        .unwrap();
    let line = one_line(&o);
    assert_eq!(o.status.code(), Some(1), "{line}");
    assert_eq!(
        line,
        "error: cannot write out/samples_ula.npy: I/O error: File too large (os error 27)"
    );
    assert!(bytes(&d.join("out/samples_ula.npy")) == before);
    assert!(bytes(&d.join("out/metrics.json")) == metrics_before);
    assert!(temps(d).is_empty(), "{:?}", temps(d));

    // a checkpoint over the limit: the file named, a new directory removed
    let o = std::process::Command::new("bash")
        .current_dir(d)
        .arg("-c")
        .arg(format!(
            "ulimit -f 8; exec '{}' --device cpu --threads 1 run config.toml --out small",
            env!("CARGO_BIN_EXE_pf")
        ))
        .output()
        .unwrap();
    let line = one_line(&o);
    assert_eq!(o.status.code(), Some(1), "{line}");
    assert_eq!(
        line,
        "error: training model vp: small/checkpoint.safetensors: File too large (os error 27)"
    );
    assert!(!d.join("small").exists());
    assert!(temps(d).is_empty(), "{:?}", temps(d));
}

/// A second signal ends the process at once with the first one's convention (130 here); what
/// is on disk still loads, and nothing prints a backtrace.
#[test]
fn a_second_sigint_exits_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("config.toml"), tiny(100_000, 25)).unwrap();
    let mut child = spawn(d, &["run", "config.toml", "--out", "cut"]);
    wait_for(&mut child, "a first checkpoint", || {
        d.join("cut/checkpoint.json").exists()
    });
    signal(&child, libc::SIGINT);
    signal(&child, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines().count() <= 1 && !err.contains("panicked"),
        "{err}"
    );
    let step = check_checkpoint(&d.join("cut/checkpoint.safetensors"));
    assert!(step > 0 && step < 100_000);
}
