//! Faults (issue 9): a training run killed with SIGKILL at any moment never leaves a corrupt
//! checkpoint, and `--resume` continues it to exactly the bytes of an uninterrupted run (CPU).
//!
//! The run is killed once as soon as its first checkpoint appears, then resumed and killed
//! again after pseudo-random delays (printed, so a failure can be replayed), then resumed to
//! the end. After every kill the checkpoint on disk must load completely (safetensors, sidecar,
//! strict names and shapes, raw and EMA weights, all finite). At the end the model, the
//! checkpoint, every samples file and the loss log must equal the uninterrupted run's.

mod common;

use common::{check_checkpoint, ok, pf, run, temps, tiny};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

const STEPS: usize = 3000;
const EVERY: usize = 25;

/// A pseudo-random stream (xorshift) seeded from the clock; the delays are printed.
struct Delays(u64);

impl Delays {
    fn new() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64;
        Delays(t | 1)
    }
    /// Uniform in [lo, hi).
    fn next(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + (hi - lo) * (self.0 % 10_000) as f64 / 10_000.0
    }
}

fn spawn(dir: &Path, resume: bool) -> Child {
    let mut c = pf(dir);
    c.args([
        "--device",
        "cpu",
        "--threads",
        "1",
        "run",
        "config.toml",
        "--out",
        "cut",
    ]);
    if resume {
        c.arg("--resume");
    }
    c.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("pf starts")
}

/// SIGKILL (if still running) and reap.
fn kill(mut child: Child) -> bool {
    let running = child.try_wait().expect("try_wait").is_none();
    let _ = child.kill();
    let _ = child.wait();
    running
}

/// The step the checkpoint holds, after checking it loads (None: no checkpoint yet).
fn checked(dir: &Path) -> Option<usize> {
    let ck = dir.join("cut/checkpoint.safetensors");
    ck.exists().then(|| check_checkpoint(&ck))
}

/// step,loss,lr of every row (the elapsed column is wall time).
fn losses(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head).to_string())
        .collect()
}

#[test]
fn sigkill_never_corrupts_the_checkpoint_and_resume_is_bit_identical() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("config.toml"), tiny(STEPS, EVERY)).unwrap();

    // the uninterrupted run
    let t0 = Instant::now();
    ok(
        &run(
            d,
            &["--threads", "1", "run", "config.toml", "--out", "full"],
        ),
        "uninterrupted run",
    );
    let full_s = t0.elapsed().as_secs_f64();

    // 1: killed as soon as the first checkpoint is on disk
    let child = spawn(d, false);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !d.join("cut/checkpoint.json").exists() {
        assert!(Instant::now() < deadline, "no checkpoint after 120 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(kill(child), "the run ended before it could be killed");
    let mut steps = vec![checked(d).expect("a checkpoint")];

    // 2..: resumed and killed after pseudo-random delays spread over the run's length
    let mut rng = Delays::new();
    let mut delays = Vec::new();
    for _ in 0..4 {
        let frac = rng.next(0.15, 0.75);
        let delay = Duration::from_secs_f64(full_s * frac);
        delays.push(delay.as_millis());
        let child = spawn(d, true);
        std::thread::sleep(delay);
        kill(child);
        if let Some(s) = checked(d) {
            assert!(
                s >= *steps.last().unwrap(),
                "the checkpoint went back from step {} to {s}",
                steps.last().unwrap()
            );
            steps.push(s);
        }
    }
    println!(
        "uninterrupted {full_s:.1}s; kill delays {delays:?} ms; checkpoints at steps {steps:?}"
    );

    // to the end
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
        "final resume",
    );
    let (full, cut) = (d.join("full"), d.join("cut"));
    for f in [
        "model.safetensors",
        "checkpoint.safetensors",
        "samples.npy",
        "samples_reverse-sde.npy",
        "samples_ula.npy",
    ] {
        let (a, b) = (
            std::fs::read(full.join(f)).unwrap(),
            std::fs::read(cut.join(f)).unwrap(),
        );
        assert!(
            a == b,
            "{f} differs from the uninterrupted run (kills at {delays:?} ms, checkpoints {steps:?})"
        );
    }
    assert_eq!(
        losses(&full.join("loss.csv")),
        losses(&cut.join("loss.csv"))
    );
    assert_eq!(check_checkpoint(&cut.join("checkpoint.safetensors")), STEPS);
    assert!(temps(d).is_empty(), "{:?}", temps(d));
    println!("kill/resume test: {:.1}s", started.elapsed().as_secs_f64());
}

/// A checkpoint after every step (each write synced and renamed): kills land mostly inside a
/// checkpoint write; the file on disk must still always load, and resuming must finish.
#[test]
fn kills_during_checkpoint_writes_never_leave_a_torn_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("config.toml"), tiny(200, 1)).unwrap();
    let mut rng = Delays::new();
    let mut seen = Vec::new();
    let mut delays = Vec::new();
    let mut cut_writes = 0;
    for i in 0..6 {
        // wait for this process's first checkpoint write, then kill a moment later
        let side = d.join("cut/checkpoint.json");
        let before = std::fs::read(&side).ok();
        let mut child = spawn(d, i > 0);
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::fs::read(&side).ok() == before && child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "no new checkpoint after 120 s");
            std::thread::sleep(Duration::from_millis(2));
        }
        let delay = rng.next(0.0, 0.15);
        delays.push((delay * 1000.0) as u64);
        std::thread::sleep(Duration::from_secs_f64(delay));
        kill(child);
        seen.extend(checked(d));
        cut_writes += temps(d).len();
    }
    println!(
        "kill delays {delays:?} ms; checkpoints at steps {seen:?}; {cut_writes} writes cut short"
    );
    assert!(!seen.is_empty());
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
        "final resume",
    );
    assert_eq!(checked(d), Some(200));
    assert!(temps(d).is_empty(), "{:?}", temps(d));
}
