//! MonoFlow on seed 001's funnel with 512 particles (seed 000's settings) reaches an energy
//! distance within 2× the noise floor of a 512-point ground-truth sample.

use pf_core::metrics::energy_distance;
use pf_core::target::{Funnel, Target};
use std::process::Command;
use tch::Device;

#[test]
fn monoflow_reaches_the_funnel() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/monoflow_funnel.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_pf"))
        .args(["--device", "cpu", "--threads", "1", "run"])
        .arg(&cfg)
        .args([
            "--set",
            "output.reference=512",
            "--set",
            "output.plots=false",
            "--set",
            "output.gif=false",
            "--out",
        ])
        .arg(tmp.path().join("mf"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("mf/metrics.json")).unwrap())
            .unwrap();
    let s = &m["samplers"][0];
    assert_eq!(s["particles"].as_u64(), Some(512));
    let ed = s["metrics"]["energy"].as_f64().unwrap();
    // the noise floor: the largest |energy distance| between 8 pairs of 512-point target samples
    tch::manual_seed(77);
    let f = Funnel::default();
    let floor = (0..8)
        .map(|_| energy_distance(&f.sample(512, Device::Cpu), &f.sample(512, Device::Cpu)).abs())
        .fold(0.0, f64::max);
    println!(
        "monoflow energy distance {ed:.3e}, noise floor {floor:.3e}, neck share {}",
        s["metrics"]["neck"]["share"]
    );
    assert!(
        ed < 2.0 * floor,
        "energy distance {ed} ≥ 2 × noise floor {floor}"
    );
}
