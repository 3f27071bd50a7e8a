//! Helpers shared by the integration tests: the `pf` binary, tiny configs, checkpoint checks.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `pf` (the binary under test), run in `dir`.
pub fn pf(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pf"));
    c.current_dir(dir);
    // what a new user sees: the default log level
    c.env_remove("RUST_LOG");
    c
}

/// Runs `pf --device cpu ARGS` in `dir` (`pf ARGS` when ARGS name a device).
pub fn run(dir: &Path, args: &[&str]) -> Output {
    let mut c = pf(dir);
    if !args.contains(&"--device") {
        c.args(["--device", "cpu"]);
    }
    c.args(args).output().expect("pf runs")
}

/// Panics with stderr unless `o` succeeded.
pub fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what}: pf failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A tiny experiment: seed 001's funnel, one small VP score model trained for `steps` steps
/// (fixed dataset, EMA, a checkpoint every `ckpt` steps), a reverse-SDE sampler and ULA.
/// Seconds on 2 cores.
pub fn tiny(steps: usize, ckpt: usize) -> String {
    format!(
        r#"name = "tiny"
seed = 7

[target]
kind = "funnel"

[output]
reference = 300
plots = false
gif = false

[[model]]
name = "vp"
param = "eps"
dataset = 1000
[model.net]
arch = "score-mlp"
dim = 2
hidden = [16, 16]
embed_dim = 8
[model.path]
kind = "vp"
beta_min = 0.1
beta_max = 20.0
[model.loss]
kind = "dsm"
[model.train]
steps = {steps}
batch_size = 64
lr = 1e-3
ema_decay = 0.99
log_every = {ckpt}
checkpoint_every = {ckpt}

[[sampler]]
method = "reverse-sde"
model = "vp"
particles = 200
steps = 20

[[sampler]]
method = "ula"
particles = 200
steps = 50
eta = [1e-2]
"#
    )
}

/// Every file under `dir` (relative paths, sorted).
pub fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().to_path_buf());
                }
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// Temporary (partial) files under `dir`.
pub fn temps(dir: &Path) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(".tmp"))
        })
        .collect()
}

/// Checks that the training checkpoint at `ck` loads completely: its safetensors parse, its
/// sidecar parses, the net described there takes both the raw and the EMA weights (strict
/// names and shapes), every value is finite. Returns the completed steps it holds.
pub fn check_checkpoint(ck: &Path) -> usize {
    use pf_train::checkpoint::{load_weights, read_sidecar, Weights};
    let named = pf_nets::checkpoint::read_tensors(ck)
        .unwrap_or_else(|e| panic!("{}: unreadable: {e}", ck.display()));
    let step = named["train.step"].int64_value(&[0]) as usize;
    let side = read_sidecar(ck).unwrap_or_else(|e| panic!("{}: sidecar: {e}", ck.display()));
    // the sidecar is renamed into place just after the tensors: it is never ahead of them,
    // and behind by at most one checkpoint interval (a kill between the two renames)
    let every = side.train.checkpoint_every.unwrap_or(usize::MAX);
    assert!(
        side.step <= step && step - side.step <= every,
        "{}: sidecar step {} vs tensors {step}",
        ck.display(),
        side.step
    );
    let net: pf_nets::NetConfig =
        serde_json::from_value(side.model["model"].clone()).expect("net config in the sidecar");
    for w in [Weights::Model, Weights::Ema] {
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let _net = net.build(&vs.root()).unwrap();
        load_weights(&vs, ck, w).unwrap_or_else(|e| panic!("{}: {w:?}: {e}", ck.display()));
        for (n, t) in vs.variables() {
            assert!(
                bool::try_from(t.isfinite().all()).unwrap(),
                "{}: {n} is not finite",
                ck.display()
            );
        }
    }
    for (n, t) in &named {
        if t.is_floating_point() {
            assert!(
                bool::try_from(t.isfinite().all()).unwrap(),
                "{}: {n} is not finite",
                ck.display()
            );
        }
    }
    step
}
