//! A sweep on Slurm: `slurm/array.sh` (one array task per point, each the same `pf run` as a
//! local sweep's), `slurm/collect.sh` (`pf sweep collect DIR`), `slurm/submit.sh` (both, chained)
//! and `slurm/manifest.json` (index → point → command, and every submission's job ids).
//!
//! Failure handling, and why the collect job can use `afterok`: a point whose `pf run` fails
//! records its error in `logs/<name>.log` and its array task still exits 0, so `afterok` is met
//! and the collect job runs, reports the failed point with its error line and exits 1 (the collect
//! job's state says that something failed). A task that Slurm itself ends (time limit, node
//! failure, cancel) is not "ok": with `--kill-on-invalid-dep=yes` the collect job is then
//! cancelled instead of pending forever, and resubmitting (`--resume --submit`) runs only the
//! missing points and a new collect job.

use super::local::complete;
use super::{Plan, LOGS};
use crate::program::shell_quote;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// sbatch on PATH, or the one-line error `--submit` gives without it.
pub fn find_sbatch() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("sbatch"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--submit: sbatch not found on PATH (is this a Slurm login node?); drop --submit to only write the scripts"
            )
        })
}

/// Indices as a Slurm array spec: `0-3,5,7-8`.
pub fn array_spec(idx: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && idx[j + 1] == idx[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            idx[i].to_string()
        } else {
            format!("{}-{}", idx[i], idx[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// `#SBATCH` lines for the resources every job of the sweep asks for.
fn resources(plan: &Plan, cpus: usize) -> String {
    let s = plan.slurm.clone().unwrap_or_default();
    let mut h = format!("#SBATCH --cpus-per-task={cpus}\n");
    if let Some(p) = &s.partition {
        h += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(t) = &s.time {
        h += &format!("#SBATCH --time={t}\n");
    }
    h
}

fn array_script(plan: &Plan, dir: &Path, exe: &Path, cwd: &Path, spec: &str) -> String {
    let s = plan.slurm.clone().unwrap_or_default();
    let q = |p: &Path| shell_quote(&p.display().to_string());
    let pf = crate::program::name();
    let mut h = format!(
        "#!/bin/bash\n\
         # pflow sweep {dir}: one array task per point; task i runs point i's `{pf} run` (see the\n\
         # case below and manifest.json). A point that fails records its error in\n\
         # logs/<name>.log and the task still exits 0, so the collect job (afterok) runs and reports\n\
         # it; a task Slurm ends itself (time limit, cancel) cancels the collect job\n\
         # (--kill-on-invalid-dep=yes), and `{pf} sweep … --slurm --resume --submit` reruns what is missing.\n\
         #SBATCH --job-name={pf}-sweep\n\
         #SBATCH --array={spec}\n",
        dir = dir.display()
    );
    h += &resources(plan, s.cpus_per_task);
    if let Some(g) = &s.gpus {
        h += &format!("#SBATCH --gpus={g}\n");
    }
    h += &format!(
        "#SBATCH --output={}\n#SBATCH --chdir={}\n\nset -u\npf={}\ndir={}\n\n",
        dir.join("slurm").join("logs").join("%A_%a.out").display(),
        cwd.display(),
        q(exe),
        q(dir)
    );
    h += "case \"${SLURM_ARRAY_TASK_ID:?run with sbatch --array}\" in\n";
    let dir_s = dir.display().to_string();
    for (i, p) in plan.points.iter().enumerate() {
        let args: Vec<String> = plan
            .args(dir, i)
            .into_iter()
            .map(
                |a| match a.strip_prefix(&dir_s).filter(|r| r.starts_with('/')) {
                    // paths inside the sweep directory through $dir
                    Some(rest) => format!("\"$dir\"{}", shell_quote(rest)),
                    None => shell_quote(&a),
                },
            )
            .collect();
        h += &format!(
            "  {i}) name={}; args=({}) ;;\n",
            shell_quote(&p.name),
            args.join(" ")
        );
    }
    h += "  *) echo \"no point $SLURM_ARRAY_TASK_ID in this sweep\" >&2; exit 1 ;;\nesac\n";
    h += &format!(
        "# a rerun continues in the point's directory ({pf} run --resume keeps trained checkpoints)\n\
         [ -d \"$dir/$name\" ] && args+=(--resume)\n\
         echo \"$(date +%T) $name: {pf} ${{args[*]}}\"\n\
         {{ printf '$'; printf ' %q' \"$pf\" \"${{args[@]}}\"; echo; \"$pf\" \"${{args[@]}}\"; }} >\"$dir/{LOGS}/$name.log\" 2>&1\n\
         status=$?\n\
         echo \"$(date +%T) $name: exit $status\"\n\
         # {pf} run's own failure is in the log for collect to report: the task itself succeeded\n\
         exit 0\n"
    );
    h
}

fn collect_script(plan: &Plan, dir: &Path, exe: &Path, cwd: &Path) -> String {
    let mut h = format!(
        "#!/bin/bash\n\
         # pflow sweep {}: collect the runs (after the array job, afterok, --kill-on-invalid-dep=yes).\n\
         # Exits 1 when a point failed or is missing (each is listed with its error line).\n\
         #SBATCH --job-name={}-sweep-collect\n\
         #SBATCH --kill-on-invalid-dep=yes\n",
        dir.display(),
        crate::program::name()
    );
    h += &resources(plan, 1);
    h += &format!(
        "#SBATCH --output={}\n#SBATCH --chdir={}\n\nexec {} sweep collect {}\n",
        dir.join("slurm")
            .join("logs")
            .join("collect_%j.out")
            .display(),
        cwd.display(),
        shell_quote(&exe.display().to_string()),
        shell_quote(&dir.display().to_string())
    );
    h
}

fn submit_script(dir: &Path, spec: Option<&str>) -> String {
    let s = dir.join("slurm");
    let q = |n: &str| shell_quote(&s.join(n).display().to_string());
    match spec {
        Some(spec) => format!(
            "#!/bin/bash\n# Submits the array (points {spec}) and the collect job chained after it.\nset -euo pipefail\n\
             array=$(sbatch --parsable --array={spec} {})\narray=${{array%%;*}}\n\
             collect=$(sbatch --parsable --dependency=afterok:$array --kill-on-invalid-dep=yes {})\n\
             echo \"array job $array, collect job ${{collect%%;*}}\"\n",
            q("array.sh"),
            q("collect.sh")
        ),
        None => format!(
            "#!/bin/bash\n# Every point is complete: only the collect job.\nset -euo pipefail\n\
             collect=$(sbatch --parsable {})\necho \"collect job ${{collect%%;*}}\"\n",
            q("collect.sh")
        ),
    }
}

/// `sbatch --parsable ARGS`: the job id.
fn sbatch(sbatch: &Path, args: &[String]) -> Result<u64> {
    let out = std::process::Command::new(sbatch)
        .arg("--parsable")
        .args(args)
        .output()
        .with_context(|| format!("cannot run {}", sbatch.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!(
            "sbatch {} failed: {}",
            args.join(" "),
            err.lines().last().unwrap_or("(no message)").trim()
        );
    }
    let id = text.trim().split(';').next().unwrap_or("");
    id.parse()
        .with_context(|| format!("sbatch printed {:?}, not a job id", text.trim()))
}

fn write_exec(path: &Path, text: &str) -> Result<()> {
    crate::io::text(path, text)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

/// Writes the scripts and the manifest for the points that are not complete; with `submit`,
/// submits them and prints the job ids.
pub fn run(plan: &Plan, dir: &Path, submit: bool) -> Result<()> {
    let exe = std::env::current_exe()
        .with_context(|| format!("cannot find the {} executable", crate::program::name()))?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let todo: Vec<usize> = (0..plan.points.len())
        .filter(|&i| !complete(dir, &plan.points[i].name))
        .collect();
    let spec = (!todo.is_empty()).then(|| array_spec(&todo));
    let sdir = dir.join("slurm");
    std::fs::create_dir_all(sdir.join("logs"))
        .with_context(|| format!("cannot create {}", sdir.join("logs").display()))?;
    let full = array_spec(&(0..plan.points.len()).collect::<Vec<_>>());
    write_exec(
        &sdir.join("array.sh"),
        &array_script(plan, dir, &exe, &cwd, spec.as_deref().unwrap_or(&full)),
    )?;
    write_exec(
        &sdir.join("collect.sh"),
        &collect_script(plan, dir, &exe, &cwd),
    )?;
    write_exec(
        &sdir.join("submit.sh"),
        &submit_script(dir, spec.as_deref()),
    )?;

    // the manifest: what each index runs, and every submission so far
    let mpath = sdir.join("manifest.json");
    let mut submissions: Vec<serde_json::Value> = std::fs::read_to_string(&mpath)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("submissions").and_then(|s| s.as_array()).cloned())
        .unwrap_or_default();
    let points = manifest_points(plan, dir, &exe);
    let manifest = |subs: &[serde_json::Value]| -> Result<String> {
        Ok(serde_json::to_string_pretty(&serde_json::json!({
            "sweep": dir, "array_script": sdir.join("array.sh"),
            "collect_script": sdir.join("collect.sh"), "points": points, "submissions": subs,
        }))?)
    };
    if !submit {
        crate::io::text(&mpath, &manifest(&submissions)?)?;
        println!(
            "wrote {} ({} of {} points to run) and {}; submit with {}",
            sdir.join("array.sh").display(),
            todo.len(),
            plan.points.len(),
            sdir.join("collect.sh").display(),
            sdir.join("submit.sh").display()
        );
        return Ok(());
    }
    let (array, collect) = submit_jobs(&sdir, spec.as_deref())?;
    submissions.push(serde_json::json!({
        "array_job": array, "indices": spec, "collect_job": collect,
    }));
    crate::io::text(&mpath, &manifest(&submissions)?)?;
    match (array, &spec) {
        (Some(a), Some(spec)) => println!(
            "submitted array job {a} ({} of {} points: {spec}) and collect job {collect} (afterok:{a})",
            todo.len(),
            plan.points.len()
        ),
        _ => println!("every point is complete: submitted collect job {collect}"),
    }
    println!("results: {}", dir.join("sweep.md").display());
    Ok(())
}

/// The manifest's points: index, name, directory, log and the full command of each.
fn manifest_points(plan: &Plan, dir: &Path, exe: &Path) -> Vec<serde_json::Value> {
    plan.points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let cmd: Vec<String> = std::iter::once(exe.display().to_string())
                .chain(plan.args(dir, i))
                .map(|a| shell_quote(&a))
                .collect();
            serde_json::json!({
                "index": i, "name": p.name, "dir": dir.join(&p.name),
                "log": dir.join(LOGS).join(format!("{}.log", p.name)), "command": cmd.join(" "),
            })
        })
        .collect()
}

/// Submits the array of points `spec` (if any) and the collect job chained after it; returns
/// their job ids.
fn submit_jobs(sdir: &Path, spec: Option<&str>) -> Result<(Option<u64>, u64)> {
    let sb = find_sbatch()?;
    let s = |p: &str| sdir.join(p).display().to_string();
    let array = match spec {
        Some(spec) => Some(sbatch(&sb, &[format!("--array={spec}"), s("array.sh")])?),
        None => None,
    };
    let mut args = Vec::new();
    if let Some(a) = array {
        args.extend([
            format!("--dependency=afterok:{a}"),
            "--kill-on-invalid-dep=yes".into(),
        ]);
    }
    args.push(s("collect.sh"));
    let collect = sbatch(&sb, &args).with_context(|| match array {
        Some(a) => format!("array job {a} is submitted, its collect job is not"),
        None => "collect job".into(),
    })?;
    Ok((array, collect))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GPU sweep: the task asks Slurm for the GPUs and its `pf run` uses `--device cuda` (the
    /// GPU Slurm assigns); every point is one case with its own name, seed and override.
    #[test]
    fn array_script_asks_for_gpus_and_runs_each_point() {
        let axes = super::super::grid::axes(&["sampler.ula.steps=10,20".into()], &[]).unwrap();
        let points = super::super::grid::points(&axes, Some(&[0, 1])).unwrap();
        let plan = Plan {
            command: "pf sweep c.toml".into(),
            config: "c.toml".into(),
            base: "base.toml".into(),
            set: vec!["output.gif=false".into()],
            quick: true,
            device: "cuda".into(),
            threads: 4,
            seeds: Some(vec![0, 1]),
            metric: "energy".into(),
            x: None,
            slurm: Some(super::super::SlurmOpts {
                partition: Some("gpu".into()),
                time: Some("00:10:00".into()),
                cpus_per_task: 4,
                gpus: Some("1".into()),
            }),
            axes,
            points,
        };
        let dir = Path::new("/s/w");
        let sh = array_script(&plan, dir, Path::new("/bin/pf"), Path::new("/home"), "1,3");
        for line in [
            "#SBATCH --array=1,3\n",
            "#SBATCH --cpus-per-task=4\n",
            "#SBATCH --partition=gpu\n",
            "#SBATCH --time=00:10:00\n",
            "#SBATCH --gpus=1\n",
            "#SBATCH --chdir=/home\n",
            "  3) name=steps=20,seed=1; args=(--device cuda --threads 4 --seed 1 run \"$dir\"/base.toml \
             --out \"$dir\"/steps=20,seed=1 --set output.gif=false --set sampler.ula.steps=20 --quick) ;;\n",
            "exit 0\n",
        ] {
            assert!(sh.contains(line), "{line:?} not in\n{sh}");
        }
        let collect = collect_script(&plan, dir, Path::new("/bin/pf"), Path::new("/home"));
        assert!(collect.contains("#SBATCH --kill-on-invalid-dep=yes\n"));
        assert!(
            collect.ends_with("exec /bin/pf sweep collect /s/w\n"),
            "{collect}"
        );
        assert!(!collect.contains("--gpus"), "collecting needs no GPU");
    }

    #[test]
    fn array_specs_compress_runs() {
        assert_eq!(array_spec(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_spec(&[0, 2, 3, 4, 7, 9, 10]), "0,2-4,7,9-10");
        assert_eq!(array_spec(&[5]), "5");
    }
}
