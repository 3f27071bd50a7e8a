//! `sweep_<metric>.png` of `pf sweep collect`: the metric against a swept key, one line per
//! sampler (and per value of the other keys), error bars ± one sd over seeds.

use super::collect::{lookup, set_value, Status};
use super::summary::{mean_sd, short};
use super::{Plan, PlotArgs};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// One plotted line: (metric column, the other swept keys' values).
type LineKey = (usize, Vec<String>);

/// The plotted metric's columns with their line names: an exact column, or the sampler metric
/// `m` of every sampler.
pub(super) fn metric_columns(metric: &str, cols: &[String]) -> Result<Vec<(String, String)>> {
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

/// The plotted columns (none when no point is complete), or the error of an unknown metric.
pub(super) fn plotted_columns(
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
pub(super) fn x_key(plot: &PlotArgs, plan: &Plan, keys: &[String]) -> Result<Option<String>> {
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

/// The value of swept key `k` at point `i`.
pub(super) fn key_value(plan: &Plan, i: usize, k: usize) -> String {
    set_value(&plan.points[i].set[k]).to_string()
}

/// An x value as a number: a number, or a one-element array of one (a per-dimension step size
/// given once).
pub(super) fn x_number(v: &str) -> Option<f64> {
    let v = v.trim();
    let v = v
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(v);
    v.trim().parse::<f64>().ok()
}

/// The x axis: the values of key `xi` in sweep order (text), their positions (the numbers when
/// they all parse, else 0, 1, …) and the axis label.
pub(super) fn x_axis(plan: &Plan, xi: usize, x: &str) -> (Vec<String>, Vec<f64>, String) {
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
pub(super) fn line_values(
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
pub(super) fn error_series(
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
pub(super) fn spans_decade(v: &[f64]) -> bool {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let lo = f.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    !f.is_empty() && lo > 0.0 && hi / lo >= 10.0
}

/// The metric against swept key `x`: one line per plotted column and per combination of the
/// other keys' values; mean ± sd over seeds at each x.
pub(super) fn plot_metric(
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
