//! The crate's own binary end to end: `pf-baoab run` on the ring config in `--quick` mode, with
//! LD_LIBRARY_PATH removed (libtorch is found through the rpath pf-build adds), and bad keys and
//! values rejected in one line before anything is written.

use std::path::PathBuf;
use std::process::{Command, Output};

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/baoab_ring.toml");

fn pf_baoab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pf-baoab"))
        .args(["--device", "cpu"])
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .env("OMP_NUM_THREADS", "1")
        .output()
        .expect("pf-baoab starts")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pf-baoab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The crate's binary names itself: `--version`, help and usage say `pf-baoab`, not `pf`.
#[test]
fn version_and_help_name_this_binary() {
    let o = pf_baoab(&["--version"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.starts_with("pf-baoab "), "{out}");
    let o = pf_baoab(&["--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Usage: pf-baoab "), "{out}");
}

/// Energy distance of 1000 particles to 2000 reference samples: over seeds 0–5, BAOAB's quick run
/// measured −2.0e-3 … 3.2e-3 (the estimator's noise; seed 0: −1.6e-3), while ULA's quick run
/// (100 steps of η = 0.01, not yet on the ring) measured 6.9e-3 … 2.3e-2. The bound sits between.
const ENERGY_BOUND: f64 = 6e-3;

#[test]
fn quick_run_writes_baoab_metrics() {
    let out = scratch("run");
    let o = pf_baoab(&["run", CONFIG, "--quick", "--out", out.to_str().unwrap()]);
    assert!(
        o.status.success(),
        "pf-baoab run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(out.join("metrics.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let samplers = m["samplers"].as_array().unwrap();
    let methods: Vec<&str> = samplers
        .iter()
        .map(|s| s["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["baoab", "ula"]);
    let baoab = &samplers[0];
    assert_eq!(baoab["particles"], 1000);
    assert_eq!(
        baoab["nfe"], 101,
        "--quick caps steps at 100 (+1 initial force)"
    );
    let energy = baoab["metrics"]["energy"].as_f64().unwrap();
    assert!(
        energy.is_finite() && energy < ENERGY_BOUND,
        "energy distance {energy}"
    );
    // the ring is not Gaussian: m⟨v²⟩ is near 1, cooled by O(h²) (measured 0.96 at h = 0.1)
    let kt = baoab["diagnostics"]["kinetic_temperature"]
        .as_f64()
        .unwrap();
    assert!((kt - 1.0).abs() < 0.1, "kinetic temperature {kt}");
    assert!(out.join("samples_baoab.npy").is_file() && out.join("panel.png").is_file());
    let _ = std::fs::remove_dir_all(&out);
}

/// Bad input: one line naming the key (as the user wrote it) and the value, exit status 1, no
/// run directory.
#[test]
fn bad_keys_and_values_are_one_line_naming_them() {
    for (set, want) in [
        (
            "sampler.baoab.frction=1",
            "unknown key `frction`, expected one of `method`, `name`, `record`, `chunk`, `particles`, `steps`, `step`, `friction`",
        ),
        (
            "sampler.baoab.friction=0.0",
            "invalid sampler[0].friction = 0: must be finite and > 0",
        ),
        (
            "sampler.baoab.scheme=\"obaob\"",
            "unknown variant `obaob`, expected `baoab` or `obabo`",
        ),
    ] {
        let out = scratch("bad");
        let o = pf_baoab(&[
            "run",
            CONFIG,
            "--quick",
            "--out",
            out.to_str().unwrap(),
            "--set",
            set,
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(o.status.code(), Some(1), "{set}: {err}");
        assert_eq!(lines.len(), 1, "{set}: {err}");
        assert!(lines[0].contains(want), "{set}: {err}");
        assert!(!out.exists(), "{set}: nothing is written for a bad config");
    }
}
