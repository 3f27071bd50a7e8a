//! `pf sweep collect DIR`: the sweep's runs as one table.
//!
//! - `sweep.csv`: one row per point (run name, status, every swept key, then every number in
//!   its `metrics.json`, flattened to a dotted path: `samplers.<label>.metrics.energy`,
//!   `models.<name>.final_loss`, `likelihood.nll`; array elements named by their label or name).
//!   Wall-clock times (`…wall_s`) go to `timings.csv` instead, so two runs of the same sweep
//!   (locally, on Slurm) give the same sweep.csv and sweep.md, byte for byte.
//! - `sweep.md`: per point (every swept key but the seed) the mean ± sample standard deviation
//!   (n − 1) over its seeds of the headline metrics, and the failed points with their errors.
//! - `sweep_<metric>.png`: the metric against a swept key, one line per sampler (and per value
//!   of the other keys), error bars ± one sd over seeds.
//!
//! Numbers are written as serde_json writes them (the shortest text that reads back exactly).

use super::local::{complete, error_line};
use super::plot::{plot_metric, plotted_columns, x_key};
use super::summary::summary;
use super::{read_plan, Plan, PlotArgs};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;

/// What happened to one point.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Status {
    Ok(Vec<(String, f64, String)>),
    Failed(String),
    Missing,
}

impl Status {
    fn word(&self) -> &'static str {
        match self {
            Status::Ok(_) => "ok",
            Status::Failed(_) => "failed",
            Status::Missing => "missing",
        }
    }
}

/// `pf sweep collect DIR`.
pub fn command(dir: &Path, plot: &PlotArgs) -> Result<()> {
    collect(dir, plot)
}

/// Every number in `v`, as (dotted path, value, text as serde_json writes it).
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, f64, String)>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.push((prefix.to_string(), f, n.to_string()));
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&join(k), v, out);
            }
        }
        Value::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                let id = e
                    .get("label")
                    .or_else(|| e.get("name"))
                    .and_then(Value::as_str)
                    .map_or(i.to_string(), str::to_string);
                flatten(&join(&id), e, out);
            }
        }
        _ => {}
    }
}

fn is_timing(col: &str) -> bool {
    col == "wall_s" || col.ends_with(".wall_s")
}

/// A CSV field, quoted when it holds a comma, quote or newline.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    let mut l = fields
        .into_iter()
        .map(|f| csv_field(&f))
        .collect::<Vec<_>>()
        .join(",");
    l.push('\n');
    l
}

/// Column `c` of a complete point: (value, text).
pub(super) fn lookup(s: &Status, c: &str) -> Option<(f64, String)> {
    match s {
        Status::Ok(nums) => nums
            .iter()
            .find(|(k, _, _)| k == c)
            .map(|(_, f, t)| (*f, t.clone())),
        _ => None,
    }
}

/// Each point's status and numbers.
fn statuses(plan: &Plan, dir: &Path) -> Result<Vec<Status>> {
    plan.points
        .iter()
        .map(|p| {
            if complete(dir, &p.name) {
                let path = dir.join(&p.name).join("metrics.json");
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let v: Value = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not valid JSON", path.display()))?;
                let mut nums = Vec::new();
                flatten("", &v, &mut nums);
                Ok(Status::Ok(nums))
            } else if let Some(e) = error_line(dir, &p.name) {
                Ok(Status::Failed(e))
            } else {
                Ok(Status::Missing)
            }
        })
        .collect()
}

/// Collects `dir` into sweep.csv, sweep.md, timings.csv and the plot; errors (after writing
/// them) when a point failed or has not run, naming each with its error line on stderr.
pub fn collect(dir: &Path, plot: &PlotArgs) -> Result<()> {
    let plan = read_plan(dir)?;
    let st = statuses(&plan, dir)?;
    let keys = plan.keys();

    let (metric_cols, timing_cols) = columns(&plan, &st);
    let csv = table(&plan, &st, &metric_cols);
    let timings = table(&plan, &st, &timing_cols);

    // the plot's metric and x key
    let metric = plot.metric.clone().unwrap_or_else(|| plan.metric.clone());
    // an unknown metric still gets the tables written; the error comes after them
    let (plotted, bad_metric) = plotted_columns(&metric, &st, &metric_cols);
    let x_key = x_key(plot, &plan, &keys)?;

    let mut md = summary(&plan, &st, &metric_cols, &plotted);
    let failures = failures(&st);
    md += &not_complete(&plan, &failures);

    // the plot
    let png = format!("sweep_{}.png", super::grid::sanitize(&metric));
    let mut wrote_png = false;
    if let (Some(x), false) = (&x_key, plotted.is_empty()) {
        plot_metric(dir, &png, &plan, &st, x, &metric, &plotted)?;
        wrote_png = true;
    }
    md += &if wrote_png {
        format!(
            "\n![{metric} against {}]({png})\n",
            x_key.as_deref().unwrap_or("")
        )
    } else {
        String::new()
    };

    let out = crate::io::text;
    out(&dir.join("sweep.csv"), &csv)?;
    out(&dir.join("timings.csv"), &timings)?;
    out(&dir.join("sweep.md"), &md)?;
    let ok = st.iter().filter(|s| matches!(s, Status::Ok(_))).count();
    println!(
        "collected {ok}/{} points: {}, {}{}",
        st.len(),
        dir.join("sweep.csv").display(),
        dir.join("sweep.md").display(),
        if wrote_png {
            format!(", {}", dir.join(&png).display())
        } else {
            String::new()
        }
    );
    if let Some(e) = bad_metric {
        return Err(e.context(format!("no plot (tables written to {})", dir.display())));
    }
    report_failures(&plan, &st, &failures)
}

/// The value of a `KEY=VALUE` override (empty without `=`).
pub(super) fn set_value(kv: &str) -> &str {
    kv.split_once('=').map_or("", |x| x.1)
}

/// The columns of sweep.csv and timings.csv: the union of every complete run's numbers, in
/// order of first appearance, wall-clock times apart (a swept seed has its own column already).
fn columns(plan: &Plan, st: &[Status]) -> (Vec<String>, Vec<String>) {
    let with_seed = plan.seeds.is_some();
    let mut metric_cols: Vec<String> = Vec::new();
    let mut timing_cols: Vec<String> = Vec::new();
    for s in st {
        if let Status::Ok(nums) = s {
            for (c, _, _) in nums {
                let list = if is_timing(c) {
                    &mut timing_cols
                } else if c == "seed" && with_seed {
                    continue; // the swept seed's own column
                } else {
                    &mut metric_cols
                };
                if !list.contains(c) {
                    list.push(c.clone());
                }
            }
        }
    }
    (metric_cols, timing_cols)
}

/// A CSV table: run, status, the swept values (and seed), then columns `cols`; a row per point.
fn table(plan: &Plan, st: &[Status], cols: &[String]) -> String {
    let with_seed = plan.seeds.is_some();
    let mut head: Vec<String> = vec!["run".into(), "status".into()];
    head.extend(plan.keys());
    if with_seed {
        head.push("seed".into());
    }
    head.extend(cols.iter().cloned());
    let mut out = csv_line(head);
    for (p, s) in plan.points.iter().zip(st) {
        let mut row = vec![p.name.clone(), s.word().to_string()];
        row.extend(p.set.iter().map(|kv| set_value(kv).to_string()));
        if with_seed {
            row.push(p.seed.map_or(String::new(), |s| s.to_string()));
        }
        row.extend(
            cols.iter()
                .map(|c| lookup(s, c).map_or(String::new(), |v| v.1)),
        );
        out += &csv_line(row);
    }
    out
}

/// The points that did not complete, with their error line (or why it is missing).
fn failures(st: &[Status]) -> Vec<(usize, String)> {
    st.iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Status::Failed(e) => Some((i, e.clone())),
            Status::Missing => Some((i, "missing (not run, still running, or killed)".into())),
            Status::Ok(_) => None,
        })
        .collect()
}

/// sweep.md's "Not complete" section (empty when every point completed).
fn not_complete(plan: &Plan, failures: &[(usize, String)]) -> String {
    if failures.is_empty() {
        return String::new();
    }
    let mut md = "\n## Not complete\n\n".to_string();
    for (i, e) in failures {
        md += &format!("- `{}`: {}\n", plan.points[*i].name, e);
    }
    md
}

/// Names each incomplete point with its error on stderr and errors with their count and names.
fn report_failures(plan: &Plan, st: &[Status], failures: &[(usize, String)]) -> Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    for (i, e) in failures {
        eprintln!("{} {}: {e}", st[*i].word(), plan.points[*i].name);
    }
    let names: Vec<&str> = failures
        .iter()
        .map(|(i, _)| plan.points[*i].name.as_str())
        .collect();
    bail!(
        "{} of {} points not complete: {}",
        failures.len(),
        st.len(),
        names.join("; ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::summary::{mean_sd, short};

    #[test]
    fn flatten_names_elements_by_label() {
        let v: Value = serde_json::from_str(
            r#"{"seed": 3, "samplers": [{"label": "ula", "wall_s": 1.5, "metrics": {"energy": 0.012, "neck": null}},
                {"label": "mala", "acceptance": 0.5, "metrics": {"energy": 1e-20}}],
                "models": [], "name": "x"}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        flatten("", &v, &mut out);
        let names: Vec<(&str, &str)> = out
            .iter()
            .map(|(k, _, t)| (k.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("samplers.ula.metrics.energy", "0.012"),
                ("samplers.ula.wall_s", "1.5"),
                ("samplers.mala.acceptance", "0.5"),
                ("samplers.mala.metrics.energy", "1e-20"),
                ("seed", "3"),
            ]
        );
        assert!(is_timing("samplers.ula.wall_s") && !is_timing("samplers.ula.nfe"));
        assert_eq!(short("samplers.ula.metrics.energy"), "ula energy distance");
        assert_eq!(short("samplers.ula.metrics.tails.ks"), "ula log p KS");
        assert_eq!(short("samplers.ula.acceptance"), "ula acceptance");
        assert_eq!(short("models.vp.final_loss"), "vp final_loss");
        assert_eq!(short("likelihood.nll"), "likelihood nll");
    }

    #[test]
    fn mean_and_sample_sd() {
        let (m, sd) = mean_sd(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(m, 2.5);
        // Σ(x − m)² = 5, / (n − 1) = 5/3
        assert!((sd.unwrap() - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(mean_sd(&[2.0]), Some((2.0, None)));
        assert_eq!(mean_sd(&[]), None);
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(
            csv_line(["a".into(), "[0.01, 0.1]".into(), "say \"x\"".into()]),
            "a,\"[0.01, 0.1]\",\"say \"\"x\"\"\"\n"
        );
    }
}
