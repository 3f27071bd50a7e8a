//! `pf sweep` through the real binary (issue 15): a local sweep with a point that fails at run
//! time, its tables and plot; `--resume` after a kill reruns only the unfinished points; bad
//! input fails up front with one line and leaves nothing; and the same sweep on a real
//! single-node Slurm (scripts/slurm-up.sh) collects to the local table byte for byte.
//!
//! Points are tiny (ULA on the ring, 300 particles, 40 steps, 300 reference samples): ~1 s each.
//! `eta = [1e3]` passes validation (a finite positive step) and diverges at run time.

mod common;

use common::{pf, run};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs/langevin_ring.toml")
        .display()
        .to_string()
}

/// Every point's fixed overrides: tiny budgets, no figures.
const SETS: [&str; 10] = [
    "--set",
    "sampler.ula.particles=300",
    "--set",
    "sampler.ula.steps=40",
    "--set",
    "output.reference=300",
    "--set",
    "output.plots=false",
    "--set",
    "output.gif=false",
];
const GRID: &str = "sampler.ula.eta=[1e-2],[3e-2],[1e3]";
const NAMES: [&str; 6] = [
    "eta=1e-2,seed=0",
    "eta=1e-2,seed=1",
    "eta=3e-2,seed=0",
    "eta=3e-2,seed=1",
    "eta=1e3,seed=0",
    "eta=1e3,seed=1",
];

/// `pf --threads 1 sweep CONFIG --grid GRID --seeds 0..1 --quick SETS EXTRA`.
fn sweep_args<'a>(cfg: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "--threads",
        "1",
        "sweep",
        cfg,
        "--grid",
        GRID,
        "--seeds",
        "0..1",
        "--quick",
    ];
    a.extend(SETS);
    a.extend(extra);
    a
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&read(p)).unwrap()
}

/// The local sweep, run once for every test that needs it: (its directory, its output).
fn local() -> &'static (PathBuf, Output) {
    static LOCAL: OnceLock<(PathBuf, Output)> = OnceLock::new();
    LOCAL.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap().keep();
        let cfg = config();
        let out = tmp.join("local");
        let o = run(
            &tmp,
            &sweep_args(&cfg, &["--jobs", "2", "--out", out.to_str().unwrap()]),
        );
        (out, o)
    })
}

/// Mean and sample sd as sweep.md writes them.
fn mean_sd(v: &[f64]) -> String {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
    format!("{m:.3e} ± {sd:.1e}")
}

#[test]
fn local_sweep_collects_tables_and_reports_the_failed_point() {
    let (dir, o) = local();
    let err = stderr(o);
    // the diverging points fail, are reported with their error line, and fail the exit status
    assert_eq!(o.status.code(), Some(1), "{err}");
    for n in &NAMES[4..] {
        assert!(
            err.contains(&format!(
                "FAILED  {n}: error: sampler[0]: ula: non-finite particles"
            )),
            "{err}"
        );
        assert!(
            !dir.join(n).exists(),
            "a failed point leaves no run directory"
        );
    }
    assert!(err.contains("[6/6 done") || err.contains("[4/6 done, 2 failed, 0 running]"));
    assert!(err
        .lines()
        .last()
        .unwrap()
        .starts_with("error: 2 of 6 points not complete"));

    // every other point is a complete run with 1 thread and its seed
    let mut energy = Vec::new();
    for (i, n) in NAMES[..4].iter().enumerate() {
        let m = json(&dir.join(n).join("metrics.json"));
        assert_eq!(m["threads"], 1, "{n}");
        assert_eq!(m["seed"], (i % 2) as u64, "{n}");
        let e = m["samplers"][0]["metrics"]["energy"].as_f64().unwrap();
        energy.push((n, e, m["samplers"][0]["metrics"]["energy"].to_string()));
    }

    // sweep.csv: one row per point, the swept key and seed, every metric exactly as in
    // metrics.json, no wall-clock column (those are in timings.csv)
    let csv = read(&dir.join("sweep.csv"));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 7, "{csv}");
    let head: Vec<&str> = rows[0].split(',').collect();
    assert_eq!(&head[..4], ["run", "status", "sampler.ula.eta", "seed"]);
    assert!(!rows[0].contains("wall_s"));
    assert!(read(&dir.join("timings.csv"))
        .lines()
        .next()
        .unwrap()
        .contains("samplers.ula.wall_s"));
    let col = head
        .iter()
        .position(|c| *c == "samplers.ula.metrics.energy")
        .expect("energy column");
    for (row, (n, _, text)) in rows[1..5].iter().zip(&energy) {
        // names hold commas: quoted
        assert!(row.starts_with(&format!("\"{n}\",ok,[")), "{row}");
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[col + 1], text.as_str(), "{row}"); // +1: the quoted name's comma
    }
    assert!(rows[5].starts_with("\"eta=1e3,seed=0\",failed,[1e3],0,"));

    // sweep.md: mean ± sd over the two seeds, and the failed points with their errors
    let md = read(&dir.join("sweep.md"));
    let e1 = mean_sd(&[energy[0].1, energy[1].1]);
    let e2 = mean_sd(&[energy[2].1, energy[3].1]);
    assert!(
        md.contains(&format!("| [1e-2] | 2/2 | {e1} |")),
        "{md}\n{e1}"
    );
    assert!(
        md.contains(&format!("| [3e-2] | 2/2 | {e2} |")),
        "{md}\n{e2}"
    );
    assert!(md.contains("| [1e3] | 0/2 | – |"), "{md}");
    assert!(md.contains("- `eta=1e3,seed=1`: error: sampler[0]: ula: non-finite particles"));

    // the plot: the sampler's line in the first palette colour (tab10 blue)
    let img = image::open(dir.join("sweep_energy.png")).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (640, 420));
    let blue = img.pixels().filter(|p| p.0 == [31, 119, 180]).count();
    assert!(blue > 200, "{blue} line pixels");

    // sweep.toml: the resolved sweep, its rerun command naming the binary that ran (`pf`)
    let text = read(&dir.join("sweep.toml"));
    let plan: toml::Value = toml::from_str(&text).unwrap();
    let command = plan["command"].as_str().unwrap();
    assert!(
        command.starts_with("pf --device cpu --threads 1 sweep "),
        "{command}"
    );
    assert!(
        text.starts_with("# The resolved sweep, written by `pf sweep`"),
        "{text}"
    );
    assert_eq!(plan["threads"].as_integer(), Some(1));
    assert_eq!(plan["point"].as_array().unwrap().len(), 6);
    assert_eq!(read(&dir.join("base.toml")), read(Path::new(&config())));
}

/// The process group of `pid` killed (the sweep and its `pf run` children, as Ctrl-C would).
fn kill_group(pid: u32) {
    let s = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(s.success());
}

#[test]
fn resume_after_a_kill_reruns_only_unfinished_points() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config();
    let grid = ["--grid", "sampler.ula.eta=[1e-2],[2e-2]"];
    let base = |extra: &[&str]| {
        let mut a = vec![
            "--device",
            "cpu",
            "--threads",
            "1",
            "sweep",
            &cfg,
            "--seeds",
            "0..1",
            "--quick",
            "--jobs",
            "1",
            "--out",
            "s",
        ];
        a.extend(grid);
        a.extend(SETS);
        a.extend(extra.iter().copied());
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let names = [
        "eta=1e-2,seed=0",
        "eta=1e-2,seed=1",
        "eta=2e-2,seed=0",
        "eta=2e-2,seed=1",
    ];
    let mut child = pf(tmp.path())
        .args(base(&[]))
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // kill once the first point is complete and the second has started
    let t0 = Instant::now();
    let s = tmp.path().join("s");
    while !(s.join(names[0]).join("metrics.json").exists()
        && s.join("logs").join(format!("{}.log", names[1])).exists())
    {
        assert!(t0.elapsed() < Duration::from_secs(60), "no point finished");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_group(child.id());
    let _ = child.wait();
    let complete: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| s.join(n).join("metrics.json").exists())
        .collect();
    assert!(!complete.is_empty() && complete.len() < 4, "{complete:?}");
    let stamps: Vec<_> = complete
        .iter()
        .map(|n| {
            std::fs::metadata(s.join(n).join("metrics.json"))
                .unwrap()
                .modified()
                .unwrap()
        })
        .collect();

    // the same command without --resume refuses the directory
    let o = pf(tmp.path()).args(base(&[])).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("already holds this sweep: add --resume"),
        "{}",
        stderr(&o)
    );

    let o = pf(tmp.path()).args(base(&["--resume"])).output().unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let k = complete.len();
    assert!(
        err.contains(&format!("({k} complete, {} to run)", 4 - k)),
        "{err}"
    );
    let reran: Vec<&str> = err
        .lines()
        .filter_map(|l| l.split("] ok      ").nth(1))
        .map(|r| r.split(" (").next().unwrap())
        .collect();
    let expected: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !complete.contains(n))
        .collect();
    assert_eq!(reran, expected, "{err}");
    for (n, t) in complete.iter().zip(&stamps) {
        let now = std::fs::metadata(s.join(n).join("metrics.json"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(now, *t, "{n} was rerun");
    }
    let csv = read(&s.join("sweep.csv"));
    assert_eq!(
        csv.lines().filter(|l| l.contains(",ok,")).count(),
        4,
        "{csv}"
    );
}

/// One line on stderr, exit status 1, and the sweep directory not created.
fn refused(tmp: &Path, args: &[&str], what: &str) {
    let o = run(tmp, args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(what), "{args:?}: {err:?} lacks {what:?}");
}

#[test]
fn bad_input_fails_up_front_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let cfg = config();
    let sw = |extra: &[&'static str]| {
        let mut a = vec!["sweep", cfg.as_str(), "--quick", "--out", "s"];
        a.extend(extra);
        a
    };
    refused(
        t,
        &sw(&["--grid", "sampler.ula.etaa=[1e-2]"]),
        "invalid --grid sampler.ula.etaa=[1e-2]: unknown key `etaa`",
    );
    refused(
        t,
        &sw(&["--grid", "sampler.ula.eta=[1e-2],[-1]"]),
        "invalid --grid sampler.ula.eta=[-1]: invalid sampler[0].eta = [-1.0]",
    );
    refused(
        t,
        &sw(&[
            "--grid",
            "sampler.ula.steps=10",
            "--grid",
            "sampler.ula.eta=[1e-2],[1,2,3]",
        ]),
        "invalid --grid sampler.ula.eta=[1,2,3]",
    );
    refused(t, &sw(&["--grid", "sampler.ula.eta="]), "empty grid");
    refused(t, &sw(&[]), "empty grid");
    refused(
        t,
        &sw(&[
            "--zip",
            "sampler.ula.eta=[1e-2],[2e-2]",
            "--zip",
            "sampler.ula.steps=10",
        ]),
        "invalid --zip sampler.ula.steps",
    );
    assert!(!t.join("s").exists(), "a refused sweep left a directory");

    // --submit without sbatch: nothing written
    let o = pf(t)
        .env("PATH", "/nonexistent")
        .args(sw(&[
            "--grid",
            "sampler.ula.eta=[1e-2]",
            "--slurm",
            "--submit",
        ]))
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--submit: sbatch not found on PATH"), "{err}");
    assert!(!t.join("s").exists());

    // a directory that holds another sweep (written by --slurm without --submit: no runs)
    let o = run(
        t,
        &sw(&["--grid", "sampler.ula.eta=[1e-2],[2e-2]", "--slurm"]),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let before = read(&t.join("s/sweep.toml"));
    refused(
        t,
        &sw(&["--grid", "sampler.ula.eta=[5e-2]", "--resume"]),
        "holds another sweep",
    );
    refused(
        t,
        &sw(&[
            "--grid",
            "sampler.ula.eta=[1e-2],[2e-2]",
            "--seeds",
            "0..1",
            "--resume",
        ]),
        "holds another sweep",
    );
    assert_eq!(
        read(&t.join("s/sweep.toml")),
        before,
        "the other sweep was touched"
    );
    // and a run directory is not a sweep
    std::fs::create_dir_all(t.join("r")).unwrap();
    std::fs::write(t.join("r/metrics.json"), "{}").unwrap();
    refused(
        t,
        &[
            "sweep",
            cfg.as_str(),
            "--grid",
            "sampler.ula.eta=[1e-2]",
            "--out",
            "r",
        ],
        "is not empty and holds no sweep",
    );
    refused(t, &["sweep", "collect", "r"], "not a sweep directory");
}

/// Whether a Slurm controller answers here (scripts/slurm-up.sh starts one).
fn slurm_up() -> Result<(), String> {
    let sinfo = std::process::Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .map_err(|e| format!("sinfo: {e} (no Slurm client)"))?;
    let states = String::from_utf8_lossy(&sinfo.stdout);
    if !sinfo.status.success()
        || !states
            .lines()
            .any(|s| ["idle", "mixed", "allocated"].contains(&s.trim()))
    {
        return Err(format!(
            "no Slurm node up: {}",
            String::from_utf8_lossy(&sinfo.stderr).trim()
        ));
    }
    if !std::process::Command::new("sbatch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err("sbatch not found".into());
    }
    Ok(())
}

/// Waits until none of `jobs` is in squeue.
fn wait_jobs(jobs: &[u64]) {
    let list = jobs
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let t0 = Instant::now();
    loop {
        let o = std::process::Command::new("squeue")
            .args(["-h", "-o", "%i %T", "-j", &list])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        if text.trim().is_empty() {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "jobs {list} still queued: {text}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// "… array job A … collect job C …" → (A, C).
fn job_ids(stdout: &str) -> (Option<u64>, u64) {
    let after = |w: &str| {
        stdout
            .split(w)
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|d| d.parse().ok())
    };
    (
        after("array job "),
        after("collect job ").expect("a collect job id"),
    )
}

#[test]
fn slurm_sweep_matches_the_local_table_byte_for_byte() {
    if let Err(why) = slurm_up() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true needs Slurm (scripts/slurm-up.sh): {why}");
        }
        eprintln!("skipped: {why} (run scripts/slurm-up.sh as root to test on Slurm)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config();
    let out = tmp.path().join("slurm");
    let o = run(
        tmp.path(),
        &sweep_args(
            &cfg,
            &[
                "--slurm",
                "--cpus-per-task",
                "1",
                "--submit",
                "--out",
                out.to_str().unwrap(),
            ],
        ),
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    let (array, collect) = job_ids(&text);
    let array = array.expect("an array job");
    assert!(text.contains("(6 of 6 points: 0-5)"), "{text}");
    wait_jobs(&[array, collect]);

    // every run directory, the collect job's report of the failed points, the same tables
    for n in &NAMES[..4] {
        let m = json(&out.join(n).join("metrics.json"));
        assert_eq!(m["threads"], 1, "{n}");
    }
    let report = read(&out.join(format!("slurm/logs/collect_{collect}.out")));
    for n in &NAMES[4..] {
        assert!(
            report.contains(&format!(
                "failed {n}: error: sampler[0]: ula: non-finite particles"
            )),
            "{report}"
        );
    }
    assert!(
        report.contains("error: 2 of 6 points not complete"),
        "{report}"
    );
    let (local, _) = local();
    for f in ["sweep.csv", "sweep.md"] {
        assert_eq!(
            read(&out.join(f)),
            read(&local.join(f)),
            "{f}: Slurm ≠ local"
        );
    }

    // resubmitting runs only the missing (failed) points, then collects again
    let o = run(
        tmp.path(),
        &sweep_args(
            &cfg,
            &[
                "--slurm",
                "--cpus-per-task",
                "1",
                "--submit",
                "--resume",
                "--out",
                out.to_str().unwrap(),
            ],
        ),
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(text.contains("(2 of 6 points: 4-5)"), "{text}");
    let (array2, collect2) = job_ids(&text);
    wait_jobs(&[array2.expect("an array job"), collect2]);
    let report = read(&out.join(format!("slurm/logs/collect_{collect2}.out")));
    assert!(
        report.contains("error: 2 of 6 points not complete"),
        "{report}"
    );
    let manifest = json(&out.join("slurm/manifest.json"));
    assert_eq!(manifest["submissions"].as_array().unwrap().len(), 2);
    assert_eq!(manifest["submissions"][1]["indices"], "4-5");
}
