//! `pf compare`: every sampler family on one target into a run directory with `report.md`, from
//! a built-in suite (`--target NAME`, default `funnel`) or a config; `--all` runs every built-in
//! suite and writes `leaderboard.md` (methods × targets, each cell linked to its report).

use crate::commands::{execute_into, prepare, RunArgs};
use crate::config::RunConfig;
use crate::run::RunSummary;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tch::Device;

/// A built-in comparison: a name for `--target` and its config.
#[derive(Debug)]
pub struct Suite {
    pub name: &'static str,
    pub file: &'static str,
    pub text: &'static str,
}

/// The built-in suites, in leaderboard order; each runs every sampler family of pflow's
/// registry (see `configs/compare_*.toml`).
pub const SUITES: [Suite; 4] = [
    Suite {
        name: "funnel",
        file: "compare_funnel.toml",
        text: include_str!("../../../configs/compare_funnel.toml"),
    },
    Suite {
        name: "neal",
        file: "compare_neal.toml",
        text: include_str!("../../../configs/compare_neal.toml"),
    },
    Suite {
        name: "8gaussians",
        file: "compare_8gaussians.toml",
        text: include_str!("../../../configs/compare_8gaussians.toml"),
    },
    Suite {
        name: "ring",
        file: "compare_ring.toml",
        text: include_str!("../../../configs/compare_ring.toml"),
    },
];

/// Registered samplers that draw from something other than the target (a conditional law for
/// a fixed z), so no suite runs them.
pub const NOT_TARGET_SAMPLERS: [&str; 1] = ["conditional"];

/// `pf compare`'s own arguments.
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// An experiment config (default: the built-in suite of --target).
    #[arg(conflicts_with_all = ["target", "all"])]
    pub config: Option<PathBuf>,
    /// A built-in suite: funnel (default), neal, 8gaussians or ring.
    #[arg(long, conflicts_with = "all")]
    pub target: Option<String>,
    /// Every built-in suite, each into OUT/<target>/, and OUT/leaderboard.md (default OUT:
    /// runs/compare-all).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

/// The built-in suite called `name`.
pub fn suite(name: &str) -> Result<&'static Suite> {
    SUITES.iter().find(|s| s.name == name).with_context(|| {
        let names: Vec<&str> = SUITES.iter().map(|s| s.name).collect();
        format!(
            "invalid --target {name:?}: the built-in suites are {}",
            names.join(", ")
        )
    })
}

/// `pf compare [CONFIG | --target NAME | --all]`.
pub fn compare(a: &CompareArgs, device: Device, seed: Option<u64>) -> Result<()> {
    if a.all {
        return all(a, device, seed);
    }
    let (cfg, name) = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read config {}", p.display()))?;
            (
                prepare(&text, &p.display().to_string(), &a.run, seed)?,
                None,
            )
        }
        None => {
            let s = suite(a.target.as_deref().unwrap_or("funnel"))?;
            let origin = format!("{} (built in)", s.file);
            (prepare(s.text, &origin, &a.run, seed)?, Some(s.name))
        }
    };
    let out = a.run.out.clone().unwrap_or_else(|| match name {
        Some(n) if n != "funnel" => PathBuf::from("runs").join(format!("compare-{n}")),
        _ => PathBuf::from("runs").join("compare"),
    });
    one(&cfg, &out, &a.run, device).map(drop)
}

/// Runs one comparison into `out` and writes its report.
fn one(cfg: &RunConfig, out: &Path, args: &RunArgs, device: Device) -> Result<RunSummary> {
    let summary = execute_into(cfg, out.to_path_buf(), args, device)?;
    crate::io::text(&out.join("report.md"), &report(&summary, args.quick))?;
    println!("report: {}", out.join("report.md").display());
    Ok(summary)
}

/// `--all`: every suite (all configs checked before the first runs), then the leaderboard.
fn all(a: &CompareArgs, device: Device, seed: Option<u64>) -> Result<()> {
    let out = a
        .run
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join("compare-all"));
    let cfgs = SUITES
        .iter()
        .map(|s| prepare(s.text, &format!("{} (built in)", s.file), &a.run, seed))
        .collect::<Result<Vec<_>>>()?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut done = Vec::new();
    for (s, cfg) in SUITES.iter().zip(&cfgs) {
        println!("== {} ==", s.name);
        done.push((s.name, one(cfg, &out.join(s.name), &a.run, device)?));
    }
    let path = out.join("leaderboard.md");
    crate::io::text(&path, &leaderboard(&done, a.run.quick))?;
    println!("leaderboard: {}", path.display());
    Ok(())
}

/// Methods × targets for every metric column (see [`crate::report::leaderboard_tables`]).
pub fn leaderboard(cols: &[(&str, RunSummary)], quick: bool) -> String {
    let mut md = format!(
        "# pflow leaderboard\n\nEvery sampler family on {} targets{}. Each cell links to its suite's report \
         (`<target>/report.md`), where every metric, the models' PF-ODE NLL and the figures are; the best \
         value for each target is bold. Rows named `exact-*` draw with the target's exact noised field \
         instead of a network: they show the discretisation error alone. \"–\": the suite has no such row.\n",
        cols.len(),
        if quick { " (--quick budgets)" } else { "" }
    );
    md += &crate::report::leaderboard_tables(cols);
    md
}

/// report.md of `pf compare`.
pub fn report(s: &RunSummary, quick: bool) -> String {
    let mut md = format!(
        "# {}\n\n",
        s.name.clone().unwrap_or_else(|| "pflow comparison".into())
    );
    md += &format!(
        "Target `{}`; every method's samples are compared with {} fresh target samples (seed {}, device {}{}).\n\n",
        s.target,
        s.reference,
        s.seed,
        s.device,
        if quick { ", --quick budgets" } else { "" }
    );
    md += &crate::report::legend(&s.samplers);
    md += "\n";
    md += &crate::report::sampler_table(&s.samplers);
    md += "\n![comparison panel](panel.png)\n\n";
    let gifs: Vec<&str> = s.samplers.iter().filter_map(|r| r.gif.as_deref()).collect();
    if !gifs.is_empty() {
        md += "## Animations\n\n";
        for g in gifs {
            md += &format!("![{g}]({g}) ");
        }
        md += "\n";
    }
    if !s.models.is_empty() {
        md += "\n## Models\n\n";
        if s.models.iter().any(|m| m.nll.is_some()) {
            md += "PF-ODE NLL (dopri5, exact trace) of fresh target samples under each model, next to \
                   the target's own NLL of the same samples (lower is better; the true NLL is the floor \
                   up to sampling noise).\n\n";
        }
        md += &crate::report::model_table(&s.models);
        md += "\n![training loss](loss.png)\n";
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every suite parses, validates, and runs every sampler family of the built-in registry
    /// (except those that do not sample the target); 8 Gaussians has exact-field rows.
    #[test]
    fn every_suite_runs_every_family() {
        crate::App::default().install();
        let cfgs: Vec<_> = SUITES
            .iter()
            .map(|s| {
                crate::config::parse(s.text, &[])
                    .unwrap_or_else(|e| panic!("suite {}: {e:#}", s.name))
            })
            .collect();
        // the families of the leaderboard: every method some suite runs (a new sampler joins
        // by a row in each suite; nothing forces it to)
        let mut families: Vec<String> = cfgs
            .iter()
            .flat_map(|c| c.samplers.iter().map(|x| x.method.clone()))
            .collect();
        families.sort();
        families.dedup();
        families.retain(|f| !NOT_TARGET_SAMPLERS.contains(&f.as_str()));
        // the leaderboard's 16 families are 11 methods (pf-ode with 4 solvers, reverse-sde on 3 paths)
        assert!(families.len() >= 11, "{families:?}");
        for (s, cfg) in SUITES.iter().zip(&cfgs) {
            for m in &families {
                assert!(
                    cfg.samplers.iter().any(|x| &x.method == m),
                    "suite {} has no {m} row",
                    s.name
                );
            }
        }
        let g = crate::config::parse(suite("8gaussians").unwrap().text, &[]).unwrap();
        let exact = g
            .samplers
            .iter()
            .filter(|x| x.label().starts_with("exact-"))
            .count();
        assert!(exact >= 5, "8gaussians: {exact} exact rows");
        assert!(suite("nope")
            .unwrap_err()
            .to_string()
            .contains("funnel, neal"));
    }
}
