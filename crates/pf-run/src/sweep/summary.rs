//! `sweep.md` of `pf sweep collect`: per point (every swept key but the seed) the mean ± sample
//! sd over its seeds of every sampler metric of pf-core's metric table, the plotted metric and a
//! few run-level numbers.

use super::collect::{lookup, set_value, Status};
use super::Plan;

/// sweep.md's columns besides every sampler metric of pf-core's metric table and the plotted
/// one: MALA's acceptance, the models' final loss and the likelihood's numbers.
pub(super) const HEADLINE: [&str; 6] = [
    ".acceptance",
    ".final_loss",
    "likelihood.nll",
    "likelihood.kl",
    "likelihood.max_abs_err",
    "likelihood.bits_per_dim",
];

/// Whether sweep.md shows column `c` (a dotted metrics.json path): a sampler's value of any
/// column of the metric table, or one of [`HEADLINE`].
pub(super) fn headline(c: &str) -> bool {
    table_column(c).is_some() || HEADLINE.iter().any(|h| c.ends_with(h))
}

/// `samplers.<label>.metrics.<key>` where `<key>` is a column of pf-core's metric table: the
/// label and that column.
fn table_column(c: &str) -> Option<(&str, &'static pf_core::metrics::Column)> {
    let (label, key) = c.strip_prefix("samplers.")?.split_once(".metrics.")?;
    Some((
        label,
        pf_core::metrics::columns().find(|col| col.key == key)?,
    ))
}

/// A column's name in sweep.md: `samplers.ula.metrics.energy` → `ula energy distance` (a metric
/// table column's header), `models.vp.final_loss` → `vp final_loss`.
pub(super) fn short(col: &str) -> String {
    if let Some((label, c)) = table_column(col) {
        return format!("{label} {}", c.header);
    }
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
pub(super) fn mean_sd(v: &[f64]) -> Option<(f64, Option<f64>)> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd =
        (v.len() > 1).then(|| (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Some((m, sd))
}

/// The points grouped by their swept values (a group's members differ only in the seed), in
/// sweep order.
pub(super) fn seed_groups(plan: &Plan) -> Vec<(Vec<String>, Vec<usize>)> {
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
pub(super) fn summary(
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
pub(super) fn summary_row(
    st: &[Status],
    set: &[String],
    members: &[usize],
    md_cols: &[String],
) -> String {
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
