//! Checkpoints load in PyTorch: the Rust side writes each net's checkpoint, inputs and outputs;
//! `pytorch_check.py` rebuilds the seeds' PyTorch modules from the sidecar config, loads the
//! weights with `safetensors.torch.load_file` and compares outputs (max abs diff ≤ 1e-6).
//!
//! The Python is the venv's (`$HOME/.cache/pflow/torch-2.11.0/bin/python`, or `PFLOW_PYTHON`),
//! and it must import `torch` and `safetensors`. When it cannot be found or cannot import them,
//! the test fails under CI (`CI` set to `true` or `1`, as CI services set it) and otherwise
//! prints the reason and passes.

use pf_nets::checkpoint::{self, Sidecar};
use pf_nets::*;
use std::path::PathBuf;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// The Python to use, or why there is none.
fn python() -> std::result::Result<PathBuf, String> {
    let p = match std::env::var("PFLOW_PYTHON") {
        Ok(p) => PathBuf::from(p),
        Err(_) => {
            let home = std::env::var("HOME").map_err(|_| "HOME is not set".to_string())?;
            PathBuf::from(home).join(".cache/pflow/torch-2.11.0/bin/python")
        }
    };
    if !p.exists() {
        return Err(format!(
            "{} does not exist (set PFLOW_PYTHON, or run scripts/setup-libtorch.sh)",
            p.display()
        ));
    }
    let probe = std::process::Command::new(&p)
        .args(["-c", "import torch, safetensors.torch"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", p.display()))?;
    if !probe.status.success() {
        let err = String::from_utf8_lossy(&probe.stderr);
        let last = err.lines().last().unwrap_or("").to_string();
        return Err(format!(
            "{} cannot import torch and safetensors: {last}",
            p.display()
        ));
    }
    Ok(p)
}

/// Whether the environment says this is CI (`CI=true` or `CI=1`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn cases() -> Vec<NetConfig> {
    let mut fourier = ScoreMlpConfig::new(2);
    fourier.time_embed = TimeEmbedKind::Fourier;
    fourier.embed_dim = 32;
    let mut ddpm4 = DdpmMlpConfig::new(2);
    ddpm4.nblocks = 4;
    let mut ddpm_fourier = DdpmMlpConfig::new(3);
    ddpm_fourier.time_embed = TimeEmbedKind::Fourier;
    ddpm_fourier.embed_dim = 16;
    let mut vec_gelu = VectorMlpConfig::new(2);
    vec_gelu.activation = Activation::Gelu;
    let mut disc_t = DiscriminatorConfig::new(2);
    disc_t.time_embed = TimeEmbedKind::Learned;
    disc_t.embed_dim = 16;
    disc_t.activation = Activation::LeakyRelu;
    let mut disc_sp = DiscriminatorConfig::new(2);
    disc_sp.activation = Activation::Softplus;
    let mut score_tanh = ScoreMlpConfig::new(1);
    score_tanh.activation = Activation::Tanh;
    score_tanh.time_embed = TimeEmbedKind::Raw;
    vec![
        NetConfig::ScoreMlp(ScoreMlpConfig::new(2)),
        NetConfig::ScoreMlp(fourier),
        NetConfig::ScoreMlp(score_tanh),
        NetConfig::DdpmMlp(ddpm4),
        NetConfig::DdpmMlp(ddpm_fourier),
        NetConfig::VectorMlp(VectorMlpConfig::new(2)),
        NetConfig::VectorMlp(vec_gelu),
        NetConfig::Discriminator(DiscriminatorConfig::new(2)),
        NetConfig::Discriminator(disc_t),
        NetConfig::Discriminator(disc_sp),
    ]
}

#[test]
fn pytorch_loads_checkpoints_and_agrees() {
    let _rng = pf_core::rng::seed_exclusive(0);
    let py = match python() {
        Ok(p) => p,
        Err(why) if in_ci() => panic!("CI: the PyTorch round trip cannot run: {why}"),
        Err(why) => {
            println!("NOTICE: PyTorch round trip skipped (not under CI): {why}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    for (i, cfg) in cases().into_iter().enumerate() {
        tch::manual_seed(100 + i as i64);
        let vs = VarStore::new(Device::Cpu);
        let net = cfg.build(&vs.root()).unwrap();
        let d = cfg.dim();
        let x = Tensor::randn([257, d], (Kind::Float, Device::Cpu)) * 2.0;
        let t = Tensor::rand([257, 1], (Kind::Float, Device::Cpu));
        let out = tch::no_grad(|| net.forward(&x, &t));
        let ck = dir.path().join(format!("net{i:02}.safetensors"));
        checkpoint::save(&vs, &Sidecar::new(cfg, None), &ck).unwrap();
        checkpoint::write_tensors(
            &[("x".into(), x), ("t".into(), t), ("out".into(), out)],
            dir.path().join(format!("io{i:02}.safetensors")),
        )
        .unwrap();
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pytorch_check.py");
    let res = std::process::Command::new(&py)
        .arg(&script)
        .arg(dir.path())
        .arg("1e-6")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&res.stdout);
    let stderr = String::from_utf8_lossy(&res.stderr);
    println!("{stdout}{stderr}");
    assert!(
        res.status.success(),
        "PyTorch check failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout.matches(" ok").count(), cases().len(), "{stdout}");
}
