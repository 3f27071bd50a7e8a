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
use super::{read_plan, Plan, PlotArgs};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// What happened to one point.
#[derive(Clone, Debug, PartialEq)]
enum Status {
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
fn lookup(s: &Status, c: &str) -> Option<(f64, String)> {
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

/// sweep.md's columns besides every sampler metric of pf-core's metric table and the plotted
/// one: MALA's acceptance, the models' final loss and the likelihood's numbers.
const HEADLINE: [&str; 6] = [
    ".acceptance",
    ".final_loss",
    "likelihood.nll",
    "likelihood.kl",
    "likelihood.max_abs_err",
    "likelihood.bits_per_dim",
];

/// Whether sweep.md shows column `c` (a dotted metrics.json path): a sampler's value of any
/// column of the metric table, or one of [`HEADLINE`].
fn headline(c: &str) -> bool {
    let metric = c
        .strip_prefix("samplers.")
        .and_then(|r| r.split_once(".metrics."));
    metric.is_some_and(|(_, k)| pf_core::metrics::columns().any(|col| col.key == k))
        || HEADLINE.iter().any(|h| c.ends_with(h))
}

/// A column's name in sweep.md: `samplers.ula.metrics.energy` → `ula energy`.
fn short(col: &str) -> String {
    let c = col
        .strip_prefix("samplers.")
        .or_else(|| col.strip_prefix("models."))
        .unwrap_or(col)
        .replace(".metrics.", ".");
    match c.rsplit_once('.') {
        Some((a, b)) => format!("{a} {b}"),
        None => c,
    }
}

/// Mean and sample sd (None with fewer than two values).
fn mean_sd(v: &[f64]) -> Option<(f64, Option<f64>)> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd =
        (v.len() > 1).then(|| (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Some((m, sd))
}

/// The plotted metric's columns with their line names: an exact column, or the sampler metric
/// `m` of every sampler.
fn metric_columns(metric: &str, cols: &[String]) -> Result<Vec<(String, String)>> {
    if cols.iter().any(|c| c == metric) {
        return Ok(vec![(metric.to_string(), short(metric))]);
    }
    let found: Vec<(String, String)> = cols
        .iter()
        .filter_map(|c| {
            let rest = c.strip_prefix("samplers.")?;
            let (label, m) = rest
                .split_once(".metrics.")
                .or_else(|| rest.split_once('.'))?;
            (m == metric).then(|| (c.clone(), label.to_string()))
        })
        .collect();
    if found.is_empty() {
        let mut names: Vec<String> = cols
            .iter()
            .filter_map(|c| {
                let rest = c.strip_prefix("samplers.")?;
                let m = rest
                    .split_once(".metrics.")
                    .or_else(|| rest.split_once('.'))?
                    .1;
                Some(m.to_string())
            })
            .collect();
        names.sort();
        names.dedup();
        bail!(
            "invalid --metric {metric}: not a sampler metric ({}) nor a sweep.csv column",
            names.join(", ")
        );
    }
    Ok(found)
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
fn set_value(kv: &str) -> &str {
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

/// The plotted columns (none when no point is complete), or the error of an unknown metric.
fn plotted_columns(
    metric: &str,
    st: &[Status],
    metric_cols: &[String],
) -> (Vec<(String, String)>, Option<anyhow::Error>) {
    if !st.iter().any(|s| matches!(s, Status::Ok(_))) {
        return (Vec::new(), None);
    }
    match metric_columns(metric, metric_cols) {
        Ok(c) => (c, None),
        Err(e) => (Vec::new(), Some(e)),
    }
}

/// The plot's x key: `--x` (which must be swept), else the sweep's own, else the first key.
fn x_key(plot: &PlotArgs, plan: &Plan, keys: &[String]) -> Result<Option<String>> {
    Ok(match &plot.x {
        Some(x) if !keys.contains(x) => {
            bail!(
                "invalid --x {x}: not a swept key (swept: {})",
                keys.join(", ")
            )
        }
        Some(x) => Some(x.clone()),
        None => plan.x.clone().or_else(|| keys.first().cloned()),
    })
}

/// The points grouped by their swept values (a group's members differ only in the seed), in
/// sweep order.
fn seed_groups(plan: &Plan) -> Vec<(Vec<String>, Vec<usize>)> {
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (i, p) in plan.points.iter().enumerate() {
        match groups.iter_mut().find(|(k, _)| *k == p.set) {
            Some((_, v)) => v.push(i),
            None => groups.push((p.set.clone(), vec![i])),
        }
    }
    groups
}

/// sweep.md's title, note and table: per group of seeds, its swept values, how many seeds
/// finished, and mean ± sd of the headline and plotted columns.
fn summary(
    plan: &Plan,
    st: &[Status],
    metric_cols: &[String],
    plotted: &[(String, String)],
) -> String {
    let groups = seed_groups(plan);
    let mut md_cols: Vec<String> = metric_cols
        .iter()
        .filter(|c| headline(c))
        .cloned()
        .collect();
    for (c, _) in plotted {
        if !md_cols.contains(c) {
            md_cols.push(c.clone());
        }
    }
    let title = plan
        .config
        .rsplit('/')
        .next()
        .unwrap_or(&plan.config)
        .trim_end_matches(".toml");
    let n_seeds = plan.seeds.as_ref().map_or(1, Vec::len);
    let mut md = format!(
        "# Sweep: {title}\n\n{} points ({} × {n_seeds} seed{}){}; mean ± sd over seeds (sample sd, n − 1); \
         `ok` counts the seeds that finished.\n\n",
        plan.points.len(),
        groups.len(),
        if n_seeds == 1 { "" } else { "s" },
        if plan.quick { ", --quick budgets" } else { "" },
    );
    let mut h: Vec<String> = plan.keys().iter().map(|k| format!("`{k}`")).collect();
    h.push("ok".into());
    h.extend(md_cols.iter().map(|c| short(c)));
    md += &format!("| {} |\n|{}\n", h.join(" | "), "---|".repeat(h.len()));
    for (set, members) in &groups {
        md += &summary_row(st, set, members, &md_cols);
    }
    md
}

/// One row of sweep.md's table: a group's swept values, `ok/n`, and per column mean ± sd over
/// its complete seeds (`–` when none is).
fn summary_row(st: &[Status], set: &[String], members: &[usize], md_cols: &[String]) -> String {
    let mut row: Vec<String> = set
        .iter()
        .map(|kv| set_value(kv).replace('|', "\\|"))
        .collect();
    let ok = members
        .iter()
        .filter(|&&i| matches!(st[i], Status::Ok(_)))
        .count();
    row.push(format!("{ok}/{}", members.len()));
    for c in md_cols {
        let v: Vec<f64> = members
            .iter()
            .filter_map(|&i| lookup(&st[i], c))
            .map(|v| v.0)
            .collect();
        row.push(match mean_sd(&v) {
            None => "–".into(),
            Some((m, None)) => format!("{m:.3e}"),
            Some((m, Some(sd))) => format!("{m:.3e} ± {sd:.1e}"),
        });
    }
    format!("| {} |\n", row.join(" | "))
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

/// One plotted line: (metric column, the other swept keys' values).
type LineKey = (usize, Vec<String>);

/// The value of swept key `k` at point `i`.
fn key_value(plan: &Plan, i: usize, k: usize) -> String {
    set_value(&plan.points[i].set[k]).to_string()
}

/// An x value as a number: a number, or a one-element array of one (a per-dimension step size
/// given once).
fn x_number(v: &str) -> Option<f64> {
    let v = v.trim();
    let v = v
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(v);
    v.trim().parse::<f64>().ok()
}

/// The x axis: the values of key `xi` in sweep order (text), their positions (the numbers when
/// they all parse, else 0, 1, …) and the axis label.
fn x_axis(plan: &Plan, xi: usize, x: &str) -> (Vec<String>, Vec<f64>, String) {
    let mut xs_text: Vec<String> = Vec::new();
    for i in 0..plan.points.len() {
        let v = key_value(plan, i, xi);
        if !xs_text.contains(&v) {
            xs_text.push(v);
        }
    }
    let parsed: Option<Vec<f64>> = xs_text.iter().map(|v| x_number(v)).collect();
    let (xs, x_label) = match parsed {
        Some(v) => (v, x.to_string()),
        None => (
            (0..xs_text.len()).map(|i| i as f64).collect(),
            format!("{x} (0 = {}, …)", xs_text[0]),
        ),
    };
    (xs_text, xs, x_label)
}

/// Every line's values at each x (one per complete seed), and the lines in order of first
/// appearance: per plotted column, per combination of the other keys' (`others`) values.
fn line_values(
    plan: &Plan,
    st: &[Status],
    cols: &[(String, String)],
    xi: usize,
    others: &[usize],
    xs_text: &[String],
) -> (BTreeMap<LineKey, Vec<Vec<f64>>>, Vec<LineKey>) {
    let mut lines: BTreeMap<LineKey, Vec<Vec<f64>>> = BTreeMap::new();
    let mut order: Vec<LineKey> = Vec::new();
    for (ci, (c, _)) in cols.iter().enumerate() {
        for (i, s) in st.iter().enumerate() {
            let other: Vec<String> = others.iter().map(|&k| key_value(plan, i, k)).collect();
            let key = (ci, other);
            if !lines.contains_key(&key) {
                order.push(key.clone());
            }
            let slot = lines
                .entry(key)
                .or_insert_with(|| vec![Vec::new(); xs_text.len()]);
            let at = xs_text
                .iter()
                .position(|v| *v == key_value(plan, i, xi))
                .expect("listed");
            if let Some((f, _)) = lookup(s, c) {
                slot[at].push(f);
            }
        }
    }
    (lines, order)
}

/// One line's series: named by its column and the other keys' values, mean ± sd at each x.
/// x values where no run finished are left out (sweep.md lists those points).
fn error_series(
    name: &str,
    others: &[(&str, &str)],
    xs: &[f64],
    vals: &[Vec<f64>],
) -> pf_viz::ErrorSeries {
    let mut name = name.to_string();
    for (k, v) in others {
        name += &format!(", {k}={v}");
    }
    let (mut sx, mut ys, mut es) = (Vec::new(), Vec::new(), Vec::new());
    for (x, vals) in xs.iter().zip(vals) {
        if let Some((m, sd)) = mean_sd(vals) {
            sx.push(*x);
            ys.push(m);
            es.push(sd.unwrap_or(0.0));
        }
    }
    pf_viz::ErrorSeries::new(name, sx, ys, es)
}

/// Whether `v`'s finite values are all positive and span at least a decade (a log axis).
fn spans_decade(v: &[f64]) -> bool {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let lo = f.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    !f.is_empty() && lo > 0.0 && hi / lo >= 10.0
}

/// The metric against swept key `x`: one line per plotted column and per combination of the
/// other keys' values; mean ± sd over seeds at each x.
fn plot_metric(
    dir: &Path,
    png: &str,
    plan: &Plan,
    st: &[Status],
    x: &str,
    metric: &str,
    cols: &[(String, String)],
) -> Result<()> {
    let keys = plan.keys();
    let xi = keys.iter().position(|k| k == x).expect("checked");
    let (xs_text, xs, x_label) = x_axis(plan, xi, x);
    let others: Vec<usize> = (0..keys.len()).filter(|&k| k != xi).collect();
    let (lines, order) = line_values(plan, st, cols, xi, &others, &xs_text);
    let short_keys = super::grid::short_names(&keys);
    let series: Vec<pf_viz::ErrorSeries> = order
        .iter()
        .map(|key| {
            let (ci, other) = key;
            let named: Vec<(&str, &str)> = others
                .iter()
                .zip(other)
                .map(|(&k, v)| (short_keys[k].as_str(), v.as_str()))
                .collect();
            error_series(&cols[*ci].1, &named, &xs, &lines[key])
        })
        .collect();
    let all_y: Vec<f64> = series.iter().flat_map(|s| s.ys.clone()).collect();
    let n_seeds = plan.seeds.as_ref().map_or(1, Vec::len);
    let opts = pf_viz::ErrorBarOpts {
        title: format!(
            "{metric} against {} ({})",
            short_keys[xi],
            if n_seeds > 1 {
                format!("mean ± sd over {n_seeds} seeds")
            } else {
                "one seed".into()
            }
        ),
        x_label,
        y_label: metric.to_string(),
        log_x: spans_decade(&xs),
        log_y: spans_decade(&all_y),
        x_ticks: (xs.len() <= 12).then(|| xs.clone()),
        ..pf_viz::ErrorBarOpts::default()
    };
    pf_viz::errorbars(dir.join(png), &series, &opts)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(short("samplers.ula.metrics.energy"), "ula energy");
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
