//! Every config in configs/ runs with `pf run --quick` and writes the files a run promises.

use pf_core::target::Target;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pf"))
}

fn configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        // the compare suites run in scripts/test.sh's `pf compare --all --quick`, whose
        // leaderboard scripts/check_leaderboard.py checks
        .filter(|p| {
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            !stem.starts_with("compare_")
        })
        .collect();
    v.sort();
    v
}

fn npy_shape(path: &Path) -> (usize, usize) {
    let a: ndarray::Array2<f32> =
        ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (a.nrows(), a.ncols())
}

#[test]
fn every_config_runs_quick_and_writes_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let all = configs();
    assert!(all.len() >= 8, "configs/ holds {} configs", all.len());
    for cfg in all {
        let stem = cfg.file_stem().unwrap().to_str().unwrap().to_string();
        let out = tmp.path().join(&stem);
        let o = pf()
            .args(["--device", "cpu", "run"])
            .arg(&cfg)
            .arg("--quick")
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(&cfg).unwrap();
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        // the resolved config is there and regenerates the same experiment
        let resolved: toml::Value =
            toml::from_str(&std::fs::read_to_string(out.join("config.toml")).unwrap()).unwrap();
        assert_eq!(
            resolved["target"]["kind"], parsed["target"]["kind"],
            "{stem}"
        );
        let metrics: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap())
                .unwrap();
        assert!(out.join("metrics.md").exists(), "{stem}: metrics.md");
        let samplers = parsed
            .get("sampler")
            .and_then(|s| s.as_array())
            .cloned()
            .unwrap_or_default();
        let models = parsed
            .get("model")
            .and_then(|s| s.as_array())
            .cloned()
            .unwrap_or_default();
        // every samples file is N × D with N the resolved (quick-capped) particle count and D
        // the target's dimension; samples.npy is the first sampler's
        let target: pf_core::target::TargetConfig = resolved["target"].clone().try_into().unwrap();
        let dim = target.build().unwrap().dim();
        for (i, s) in samplers.iter().enumerate() {
            let label = s
                .get("name")
                .or(s.get("method"))
                .and_then(|v| v.as_str())
                .unwrap();
            let n = resolved["sampler"][i]["particles"].as_integer().unwrap() as usize;
            assert!(n <= 1000, "{stem}/{label}: --quick left {n} particles");
            assert_eq!(
                npy_shape(&out.join(format!("samples_{label}.npy"))),
                (n, dim),
                "{stem}: samples_{label}.npy"
            );
            if i == 0 {
                assert_eq!(
                    npy_shape(&out.join("samples.npy")),
                    (n, dim),
                    "{stem}: samples.npy"
                );
            }
            assert!(
                out.join(format!("{label}.png")).exists(),
                "{stem}: {label}.png"
            );
            if s.get("record").is_some() && resolved["target"]["kind"].as_str() != Some("gmm1d") {
                assert!(
                    out.join(format!("{label}.gif")).exists(),
                    "{stem}: {label}.gif"
                );
            }
            let m = &metrics["samplers"][i];
            assert_eq!(m["label"].as_str(), Some(label));
            let e = m["metrics"]["energy"].as_f64().unwrap_or(f64::NAN);
            assert!(e.is_finite(), "{stem}/{label}: energy distance {e}");
            // seed 002's time-resolved view of 1-D samplers that record
            if s.get("record").is_some() && dim == 1 {
                let paths = out.join(format!("{label}_paths.png"));
                assert!(paths.exists(), "{stem}: {label}_paths.png");
            }
            if stem == "seed002_gmm1d" {
                let w = m["w1_by_time"].as_array().cloned().unwrap_or_default();
                assert!(!w.is_empty(), "{stem}/{label}: no w1_by_time");
                assert!(w.iter().all(|p| p[1].as_f64().is_some_and(f64::is_finite)));
                // the exact score's samplers sit at the exact-sample floor at every shown time
                // (measured with --quick: 0.71-1.08 times it; the 200-step trained model's
                // rows reach 5 times it near t = 0)
                if label.starts_with("exact-") {
                    let floor = m["w1_floor"].as_array().cloned().unwrap_or_default();
                    assert_eq!(floor.len(), w.len(), "{stem}/{label}: w1_floor");
                    for (p, f) in w.iter().zip(&floor) {
                        let (w1, f) = (p[1].as_f64().unwrap(), f[1].as_f64().unwrap());
                        assert!(
                            w1 < 2.5 * f,
                            "{stem}/{label}: W1 {w1} at t = {} against a floor of {f}",
                            p[0]
                        );
                    }
                }
                let hists = out.join(format!("{label}_marginals.png"));
                assert!(hists.exists(), "{stem}: {label}_marginals.png");
            }
        }
        match models.len() {
            0 => {}
            1 => {
                for f in [
                    "checkpoint.safetensors",
                    "checkpoint.json",
                    "model.safetensors",
                    "loss.csv",
                ] {
                    assert!(out.join(f).exists(), "{stem}: {f}");
                }
            }
            _ => {
                for m in &models {
                    let name = m["name"].as_str().unwrap();
                    for f in ["checkpoint.safetensors", "model.safetensors", "loss.csv"] {
                        assert!(
                            out.join("models").join(name).join(f).exists(),
                            "{stem}: models/{name}/{f}"
                        );
                    }
                }
            }
        }
        if parsed.get("likelihood").is_some() {
            // one row per likelihood point: its coordinates, then log p
            let n = resolved["likelihood"]["points"]["n"].as_integer().unwrap() as usize;
            assert_eq!(
                npy_shape(&out.join("loglik.npy")),
                (n, dim + 1),
                "{stem}: loglik.npy"
            );
            assert!(metrics["likelihood"]["nll"].as_f64().unwrap().is_finite());
        }
        // nothing temporary left behind
        let leftovers: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{stem}: {leftovers:?}");
    }
}
