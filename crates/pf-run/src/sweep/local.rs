//! Running a sweep's points on this machine: up to `jobs` `pf run` subprocesses at once, each
//! with the plan's libtorch threads, output to `logs/<name>.log`. Complete points (their
//! `metrics.json` exists) are skipped; a failed point is reported and the others go on.
//! Progress goes to stderr, one line per finished point: done/failed/running and an ETA.

use super::{Plan, LOGS};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether point `name` is complete.
pub fn complete(dir: &Path, name: &str) -> bool {
    dir.join(name).join("metrics.json").is_file()
}

/// The last `error:` line of a point's log, if any.
pub fn error_line(dir: &Path, name: &str) -> Option<String> {
    let log = std::fs::read_to_string(dir.join(LOGS).join(format!("{name}.log"))).ok()?;
    log.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim().to_string())
}

/// `pf ARGS` for point `i` (with `--resume` when its directory exists: a rerun continues from
/// the checkpoints an interrupted run left).
pub fn command(plan: &Plan, dir: &Path, i: usize) -> Vec<String> {
    let mut a = plan.args(dir, i);
    if dir.join(&plan.points[i].name).exists() {
        a.push("--resume".into());
    }
    a
}

fn fmt_secs(s: f64) -> String {
    let s = s.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Starts point `i` as a subprocess of `exe`, its output to `logs/<name>.log` (which starts
/// with the point's command line).
fn spawn(plan: &Plan, dir: &Path, i: usize, exe: &Path) -> Result<Child> {
    let name = &plan.points[i].name;
    let log_path = dir.join(LOGS).join(format!("{name}.log"));
    let args = command(plan, dir, i);
    let line: Vec<String> = std::iter::once(exe.display().to_string())
        .chain(args.iter().cloned())
        .map(|a| crate::program::shell_quote(&a))
        .collect();
    std::fs::write(&log_path, format!("$ {}\n", line.join(" ")))
        .with_context(|| format!("cannot write {}", log_path.display()))?;
    let log = std::fs::OpenOptions::new()
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot write {}", log_path.display()))?;
    Command::new(exe)
        .args(&args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("log file")?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))
}

/// Runs every incomplete point; returns how many failed.
pub fn run(plan: &Plan, dir: &Path, jobs: usize) -> Result<usize> {
    let exe = std::env::current_exe()
        .with_context(|| format!("cannot find the {} executable", crate::program::name()))?;
    let todo: Vec<usize> = (0..plan.points.len())
        .filter(|&i| !complete(dir, &plan.points[i].name))
        .collect();
    let total = plan.points.len();
    let skipped = total - todo.len();
    eprintln!(
        "sweep: {total} points{}, {} at a time × {} thread(s), device {} → {}",
        if skipped > 0 {
            format!(" ({skipped} complete, {} to run)", todo.len())
        } else {
            String::new()
        },
        jobs.min(todo.len().max(1)),
        plan.threads,
        plan.device,
        dir.display()
    );
    let mut queue = todo.into_iter();
    let mut running: Vec<(usize, Child, Instant)> = Vec::new();
    let (mut done, mut failed) = (skipped, 0usize);
    let mut durations: Vec<f64> = Vec::new();
    loop {
        while running.len() < jobs {
            let Some(i) = queue.next() else { break };
            running.push((i, spawn(plan, dir, i, &exe)?, Instant::now()));
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut k = 0;
        while k < running.len() {
            let Some(status) = running[k].1.try_wait().context("waiting for a point")? else {
                k += 1;
                continue;
            };
            let (i, _, started) = running.swap_remove(k);
            let secs = started.elapsed().as_secs_f64();
            durations.push(secs);
            let name = &plan.points[i].name;
            let ok = status.success() && complete(dir, name);
            let what = if ok {
                done += 1;
                format!("ok      {name} ({secs:.1} s)")
            } else {
                failed += 1;
                let why = error_line(dir, name).unwrap_or_else(|| format!("exit status {status}"));
                format!("FAILED  {name}: {why}")
            };
            let left = total - done - failed; // running + queued
            let eta = if left == 0 {
                String::new()
            } else {
                let mean = durations.iter().sum::<f64>() / durations.len() as f64;
                let waves = left.div_ceil(jobs) as f64;
                format!(", ETA {}", fmt_secs(mean * waves))
            };
            eprintln!(
                "[{done}/{total} done, {failed} failed, {} running{eta}] {what}",
                running.len()
            );
        }
    }
    Ok(failed)
}
