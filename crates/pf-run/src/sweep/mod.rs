//! `pf sweep`: one config run over a grid of `--set` values and seeds, locally in parallel or as
//! a Slurm array, then collected into one table.
//!
//! Every point is a plain `pf run BASE --set … --seed S --threads T --out DIR/<name>` of this
//! same binary (a subprocess locally, an array task on Slurm), where BASE is `DIR/base.toml`, a
//! copy of the config taken when the sweep was made. `DIR/sweep.toml` records the resolved sweep
//! (config, overrides, axes, seeds, threads, device and every point's command), so `--resume`
//! and `pf sweep collect` read it back and a sweep can be rerun from it alone.
//!
//! A point is complete when `DIR/<name>/metrics.json` exists; its output goes to
//! `DIR/logs/<name>.log`, whose last `error:` line is the point's error when it failed.

mod args;
mod collect;
mod grid;
mod local;
mod plot;
mod slurm;
mod summary;

use crate::cli::Global;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use args::{PlotArgs, SweepArgs, SweepCommand, SweepOpts};
pub use grid::{Axis, Point};

/// Slurm resources, as recorded in sweep.toml.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SlurmOpts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub cpus_per_task: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<String>,
}

/// The resolved sweep: sweep.toml.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The `pf sweep` command that made it.
    pub command: String,
    /// Where the config came from; `base` is the copy every point runs.
    pub config: String,
    pub base: String,
    /// `--set` overrides applied at every point.
    pub set: Vec<String>,
    pub quick: bool,
    /// `--device` and `--threads` of every point.
    pub device: String,
    pub threads: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<u64>>,
    /// The plot's metric and x key.
    pub metric: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmOpts>,
    #[serde(rename = "axis", default)]
    pub axes: Vec<Axis>,
    #[serde(rename = "point")]
    pub points: Vec<Point>,
}

/// The file names inside a sweep directory.
pub const PLAN: &str = "sweep.toml";
pub const BASE: &str = "base.toml";
pub const LOGS: &str = "logs";

impl Plan {
    /// Every swept key, in axis order.
    pub fn keys(&self) -> Vec<String> {
        self.axes.iter().flat_map(|a| a.keys.clone()).collect()
    }

    /// The `pf` arguments of point `i`, writing into `dir/<name>`: exactly a `pf run` a user
    /// could type (a rerun into an existing directory adds `--resume`).
    pub fn args(&self, dir: &Path, i: usize) -> Vec<String> {
        let p = &self.points[i];
        let mut a: Vec<String> = vec![
            "--device".into(),
            self.device.clone(),
            "--threads".into(),
            self.threads.to_string(),
        ];
        if let Some(s) = p.seed {
            a.extend(["--seed".into(), s.to_string()]);
        }
        a.extend([
            "run".into(),
            dir.join(&self.base).display().to_string(),
            "--out".into(),
            dir.join(&p.name).display().to_string(),
        ]);
        for s in self.set.iter().chain(&p.set) {
            a.extend(["--set".into(), s.clone()]);
        }
        if self.quick {
            a.push("--quick".into());
        }
        a
    }

    /// What makes two sweeps the same sweep (the commands and paths may differ).
    fn same_sweep(&self, other: &Plan) -> bool {
        (&self.set, self.quick, &self.seeds, &self.axes, &self.points)
            == (
                &other.set,
                other.quick,
                &other.seeds,
                &other.axes,
                &other.points,
            )
    }
}

/// Reads `dir/sweep.toml`.
pub fn read_plan(dir: &Path) -> Result<Plan> {
    let p = dir.join(PLAN);
    let text = std::fs::read_to_string(&p).with_context(|| {
        format!(
            "{} holds no readable {PLAN}: not a sweep directory",
            dir.display()
        )
    })?;
    toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", p.display(), e.message().replace('\n', " ")))
}

/// `pf sweep …`.
pub fn main(args: SweepArgs, g: &Global) -> Result<()> {
    match args.command {
        Some(SweepCommand::Collect { dir, plot }) => collect::command(&dir, &plot),
        None => sweep(args.sweep, g),
    }
}

/// Checks one combination of overrides exactly as `pf run` would (parse, `--quick`, validate).
fn check(text: &str, sets: &[String], quick: bool) -> Result<()> {
    let mut cfg = crate::config::parse(text, sets)?;
    if quick {
        crate::quick::shrink(&mut cfg);
        cfg.validate().context("with --quick")?;
    }
    Ok(())
}

/// An error's chain on one line, without config::parse's "after --set …" (the caller names
/// the key and value itself).
fn cause(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .filter(|c| !c.starts_with("after --set "))
        .collect::<Vec<_>>()
        .join(": ")
}

/// `pf sweep CONFIG …`: resolves and validates the sweep, prepares its directory, then runs it
/// locally (and collects it) or writes (and maybe submits) its Slurm array.
fn sweep(o: SweepOpts, g: &Global) -> Result<()> {
    let config = o.config.clone().expect("clap requires CONFIG");
    let text = std::fs::read_to_string(&config)
        .with_context(|| format!("cannot read config {}", config.display()))?;
    let origin = config.display().to_string();

    // the grid, then every point validated before anything is written
    let (axes, seeds, points) = grid_points(&o, g)?;
    let base = crate::config::parse(&text, &o.set).with_context(|| format!("config {origin}"))?;
    check(&text, &o.set, o.quick).with_context(|| format!("config {origin}"))?;
    check_axes(&text, &o, &axes)?;
    if axes.len() > 1 {
        check_points(&text, &o, &points, seeds.is_none())?;
    }
    let metric = o.plot.metric.clone().unwrap_or_else(|| "energy".into());
    check_x(&o.plot, &axes)?;

    // where, with how many threads, on which device
    let dir = sweep_dir(&o, base.name.as_deref(), &config)?;
    let (threads, device, slurm_opts) = resources(&o, g)?;
    let mut plan = Plan {
        command: command_line(),
        config: origin,
        base: BASE.into(),
        set: o.set.clone(),
        quick: o.quick,
        device,
        threads,
        seeds,
        metric,
        x: o.plot.x.clone(),
        slurm: slurm_opts,
        axes,
        points,
    };

    // the directory: new, or this same sweep with --resume
    let resuming = adopt(&mut plan, &dir, &text, o.resume, g)?;
    if o.submit {
        slurm::find_sbatch()?;
    }
    write_dir(&plan, &dir, &text, resuming)?;

    if o.slurm {
        return slurm::run(&plan, &dir, o.submit);
    }
    let failed = local::run(&plan, &dir, o.jobs)?;
    // collect reports every failed point with its error line and fails the exit status
    collect::collect(&dir, &PlotArgs::default())?;
    if failed > 0 {
        bail!("{failed} point(s) failed");
    }
    Ok(())
}

/// A sweep's axes, swept seeds (if any) and points.
type Grid = (Vec<Axis>, Option<Vec<u64>>, Vec<Point>);

/// The axes, seeds and points of `--grid`, `--zip` and `--seeds` (with `--seed` on every point
/// when no seeds are swept); refuses an empty grid, a seed given twice and `--jobs 0`.
fn grid_points(o: &SweepOpts, g: &Global) -> Result<Grid> {
    let axes = grid::axes(&o.grid, &o.zip)?;
    let seeds = o.seeds.as_deref().map(grid::parse_seeds).transpose()?;
    if axes.is_empty() && seeds.is_none() {
        bail!("empty grid: give --grid KEY=V1,V2,… (or --zip, --seeds)");
    }
    if seeds.is_some() && g.seed.is_some() {
        bail!("--seed and --seeds: give one (--seeds sweeps the seed)");
    }
    if seeds.is_some() && axes.iter().any(|a| a.keys.iter().any(|k| k == "seed")) {
        bail!("--grid seed=… and --seeds: give one");
    }
    if o.jobs == 0 {
        bail!("--jobs must be ≥ 1");
    }
    let mut points = grid::points(&axes, seeds.as_deref())?;
    if seeds.is_none() {
        for p in &mut points {
            p.seed = g.seed;
        }
    }
    Ok((axes, seeds, points))
}

/// Checks every value of every axis on its own (with the `--set` overrides), naming the first
/// bad one as `invalid --grid KEY=V: cause` (or `--zip K1=V1 K2=V2`).
fn check_axes(text: &str, o: &SweepOpts, axes: &[Axis]) -> Result<()> {
    for a in axes {
        for step in &a.values {
            let kv: Vec<String> = a
                .keys
                .iter()
                .zip(step)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let mut sets = o.set.clone();
            sets.extend(kv.iter().cloned());
            let flag = if a.keys.len() > 1 { "--zip" } else { "--grid" };
            check(text, &sets, o.quick)
                .map_err(|e| anyhow::anyhow!("invalid {flag} {}: {}", kv.join(" "), cause(&e)))?;
        }
    }
    Ok(())
}

/// Checks every combination of axis values (once, at the first seed, when seeds are swept),
/// naming the first bad point.
fn check_points(text: &str, o: &SweepOpts, points: &[Point], unseeded: bool) -> Result<()> {
    for p in points
        .iter()
        .filter(|p| p.seed == points[0].seed || unseeded)
    {
        let mut sets = o.set.clone();
        sets.extend(p.set.iter().cloned());
        check(text, &sets, o.quick).map_err(|e| {
            anyhow::anyhow!(
                "invalid sweep point {} ({}): {}",
                p.name,
                p.set.join(" "),
                cause(&e)
            )
        })?;
    }
    Ok(())
}

/// Refuses a `--x` that is not a swept key.
fn check_x(plot: &PlotArgs, axes: &[Axis]) -> Result<()> {
    let keys: Vec<String> = axes.iter().flat_map(|a| a.keys.clone()).collect();
    if let Some(x) = &plot.x {
        if !keys.contains(x) {
            bail!(
                "invalid --x {x}: not a swept key (swept: {})",
                keys.join(", ")
            );
        }
    }
    Ok(())
}

/// The sweep directory, absolute: `--out`, or `sweeps/<the config's name or file stem>`.
fn sweep_dir(o: &SweepOpts, name: Option<&str>, config: &Path) -> Result<PathBuf> {
    let dir = o.out.clone().unwrap_or_else(|| {
        let stem = name.map(str::to_string).unwrap_or_else(|| {
            config
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("sweep")
                .to_string()
        });
        PathBuf::from("sweeps").join(stem)
    });
    std::path::absolute(&dir).with_context(|| format!("invalid --out {}", dir.display()))
}

/// Every point's libtorch threads and device, and the Slurm resources: on Slurm `--threads`
/// (else `--cpus-per-task`, else 1) and `cuda` exactly when GPUs are asked for; locally
/// `--threads` (else max(1, cores / jobs)) on the selected device.
fn resources(o: &SweepOpts, g: &Global) -> Result<(usize, String, Option<SlurmOpts>)> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if !o.slurm {
        let d = pf_core::device::select_device(&g.device)?;
        return Ok((
            g.threads.unwrap_or((cores / o.jobs).max(1)),
            pf_core::device::device_name(d),
            None,
        ));
    }
    let threads = g.threads.or(o.cpus_per_task).unwrap_or(1);
    let device = match (&o.gpus, g.device.as_str()) {
        (Some(_), "cpu") => bail!("--gpus with --device cpu: drop one"),
        (Some(_), "auto") => "cuda".to_string(),
        (Some(_), d) => d.to_string(),
        (None, "auto") => "cpu".to_string(),
        (None, d) if d.starts_with("cuda") => {
            bail!("--device {d} on Slurm needs --gpus N (the task must be given a GPU)")
        }
        (None, d) => d.to_string(),
    };
    let so = SlurmOpts {
        partition: o.partition.clone(),
        time: o.time.clone(),
        cpus_per_task: o.cpus_per_task.unwrap_or(threads),
        gpus: o.gpus.clone(),
    };
    Ok((threads, device, Some(so)))
}

/// This command line, after the running binary's name, shell-quoted (recorded in sweep.toml).
fn command_line() -> String {
    crate::program::command_line(std::env::args().skip(1))
}

/// Writes the sweep directory: base.toml (a new sweep only), logs/ and sweep.toml.
fn write_dir(plan: &Plan, dir: &Path, text: &str, resuming: bool) -> Result<()> {
    if !resuming {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create sweep directory {}", dir.display()))?;
        crate::io::text(&dir.join(BASE), text)?;
    }
    std::fs::create_dir_all(dir.join(LOGS))
        .with_context(|| format!("cannot create {}", dir.join(LOGS).display()))?;
    crate::io::text(&dir.join(PLAN), &plan_text(plan)?)
}

/// sweep.toml's text: the plan with a header saying what it is (naming the running binary).
fn plan_text(plan: &Plan) -> Result<String> {
    let pf = crate::program::name();
    Ok(format!(
        "# The resolved sweep, written by `{pf} sweep` and read back by --resume and `{pf} sweep collect`.\n\
         # Every point runs `{pf} run {BASE} …` (base.toml: the config as it was); rerun the whole sweep with\n\
         #   {}\n\
         # and --resume --out <this directory>, or any one point with its `{pf} run` line in logs/<name>.log.\n\n{}",
        plan.command,
        toml::to_string(plan).context("serialising sweep.toml")?
    ))
}

/// Checks `dir` for a new sweep or a resume. A new sweep needs an absent or empty directory;
/// a directory with a sweep.toml must hold this same sweep (then `--resume` takes its threads
/// and device, so every point runs alike). Returns whether the sweep is resumed.
fn adopt(plan: &mut Plan, dir: &Path, text: &str, resume: bool, g: &Global) -> Result<bool> {
    if crate::io::absent_or_empty(dir) {
        return Ok(false);
    }
    if !dir.is_dir() {
        bail!("--out {} exists and is not a directory", dir.display());
    }
    let d = dir.display();
    if !dir.join(PLAN).exists() {
        bail!("{d} is not empty and holds no sweep ({PLAN}): give a fresh --out");
    }
    let old = read_plan(dir)?;
    let old_text = std::fs::read_to_string(dir.join(&old.base)).unwrap_or_default();
    if old_text != text || !old.same_sweep(plan) {
        let what = if old_text != text {
            "another config"
        } else {
            "other points or overrides"
        };
        bail!(
            "{d} holds another sweep ({what}: {}); give a fresh --out",
            old.command
        );
    }
    if !resume {
        bail!(
            "{d} already holds this sweep: add --resume to finish it (complete points are skipped)"
        );
    }
    if g.threads.is_some_and(|t| t != old.threads) {
        bail!(
            "{d} was swept with --threads {}; resume with the same (or without --threads)",
            old.threads
        );
    }
    if plan.device != old.device {
        let explicit = g.device != "auto" || plan.slurm.as_ref().is_some_and(|s| s.gpus.is_some());
        if explicit {
            bail!(
                "{d} was swept on --device {}; resume on the same",
                old.device
            );
        }
        plan.device = old.device.clone();
    }
    plan.threads = old.threads;
    if let Some(s) = &mut plan.slurm {
        if s.cpus_per_task < plan.threads {
            s.cpus_per_task = plan.threads;
        }
    }
    Ok(true)
}
