//! The Markdown tables of a run, shared by `pf run` (`metrics.md`) and `pf compare`
//! (`report.md`, `leaderboard.md`), and the console summary.
//!
//! Every metric column comes from pf-core's metric table ([`pf_core::metrics::METRICS`]): a
//! column whose value no row has is left out of that table.

use crate::run::{ModelResult, RunSummary, SamplerResult};
use pf_core::metrics::{columns, Column};

/// The metric columns at least one of `rs` has a value (or a true value) for, in table order.
fn shown<'a>(rs: impl Iterator<Item = &'a SamplerResult> + Clone) -> Vec<&'static Column> {
    columns()
        .filter(|c| rs.clone().any(|r| c.applies(&r.metrics)))
        .collect()
}

/// One legend line per shown metric column: its header and what it measures.
pub fn legend(rs: &[SamplerResult]) -> String {
    shown(rs.iter())
        .iter()
        .map(|c| format!("- **{}**: {}.\n", c.header, c.about))
        .collect()
}

/// The per-sampler table: label (with the method's diagnostics), particles, every metric
/// column, wall time, NFE and non-finite rows.
pub fn sampler_table(rs: &[SamplerResult]) -> String {
    let cols = shown(rs.iter());
    let mut md = String::from("| method | particles |");
    for c in &cols {
        md += &format!(" {} |", c.header);
    }
    md += " wall s | NFE | non-finite |\n|";
    md += &"---|".repeat(cols.len() + 5);
    md += "\n";
    for r in rs {
        let diag: String = r
            .diagnostics
            .iter()
            .map(|(k, v)| format!(" ({k} {v:.2})"))
            .collect();
        md += &format!("| {}{diag} | {} |", r.label, r.particles);
        for c in &cols {
            md += &format!(" {} |", c.cell(&r.metrics));
        }
        md += &format!(
            " {:.2} | {} | {} |\n",
            r.wall_s, r.nfe, r.metrics.n_nonfinite
        );
    }
    md
}

/// `v` to 4 decimals, or `–`.
fn opt4(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.4}"))
}

/// The models table (loss, steps, final loss, wall time; the PF-ODE NLL where measured).
pub fn model_table(ms: &[ModelResult]) -> String {
    let nll = ms.iter().any(|m| m.nll.is_some());
    let mut md = String::from("| model | loss | steps | final loss | wall s |");
    md += if nll {
        " NLL (nats) | bits/dim | true NLL |\n|---|---|---|---|---|---|---|---|\n"
    } else {
        "\n|---|---|---|---|---|\n"
    };
    for m in ms {
        md += &format!(
            "| {} | {} | {} | {} | {:.1} |",
            m.name,
            m.loss,
            m.steps,
            opt4(m.final_loss),
            m.wall_s
        );
        if nll {
            md += &format!(
                " {} | {} | {} |",
                opt4(m.nll),
                opt4(m.bits_per_dim),
                opt4(m.true_nll)
            );
        }
        md += "\n";
    }
    for m in ms {
        if let Some(why) = &m.nll_skipped {
            md += &format!("\nNo NLL for model {}: {why}.\n", m.name);
        }
    }
    md
}

/// `metrics.md` of a run: the samplers', models' and likelihood's tables.
pub fn metrics_markdown(s: &RunSummary) -> String {
    let mut md = format!(
        "# {}\n\ntarget `{}`, seed {}, device {}, {} reference samples\n\n",
        s.name.clone().unwrap_or_else(|| "pflow run".into()),
        s.target,
        s.seed,
        s.device,
        s.reference
    );
    if !s.samplers.is_empty() {
        md += &sampler_table(&s.samplers);
        md += "\n";
        md += &legend(&s.samplers);
    }
    if !s.models.is_empty() {
        md += "\n";
        md += &model_table(&s.models);
    }
    if let Some(l) = &s.likelihood {
        md += &format!(
            "\n| likelihood model | points | NFE | wall s | max abs err (nats) | NLL (nats) | bits/dim | KL(p‖q) ± se |\n|---|---|---|---|---|---|---|---|\n| {} | {} | {} | {:.2} | {} | {} | {} | {} ± {} |\n",
            l.model, l.points, l.nfe, l.wall_s, opt4(l.max_abs_err), opt4(l.nll), opt4(l.bits_per_dim), opt4(l.kl), opt4(l.kl_se)
        );
    }
    md
}

/// Methods × targets, one section per metric column that some cell has a value for; each cell
/// links to its suite's report and the best cell of each target (by the column's
/// [`pf_core::metrics::Better`]) is bold. "–" where a suite has no such row or value.
pub fn leaderboard_tables(cols: &[(&str, RunSummary)]) -> String {
    let mut rows: Vec<&str> = Vec::new();
    for (_, s) in cols {
        for r in &s.samplers {
            if !rows.contains(&r.label.as_str()) {
                rows.push(&r.label);
            }
        }
    }
    let all = cols.iter().flat_map(|(_, s)| s.samplers.iter());
    let mut md = String::new();
    for c in shown(all) {
        md += &format!("\n## {}\n\n{}.\n\n| method |", c.header, capital(c.about));
        for (name, _) in cols {
            md += &format!(" {name} |");
        }
        md += &format!("\n|---|{}\n", "---|".repeat(cols.len()));
        // the best value per target
        let best: Vec<Option<f64>> = cols
            .iter()
            .map(|(_, s)| {
                s.samplers
                    .iter()
                    .filter_map(|r| c.badness(&r.metrics))
                    .min_by(f64::total_cmp)
            })
            .collect();
        for label in &rows {
            md += &format!("| {label} |");
            for ((name, s), b) in cols.iter().zip(&best) {
                let r = s.samplers.iter().find(|r| r.label == *label);
                md += &match r.and_then(|r| Some((c.value(&r.metrics)?, c.badness(&r.metrics)))) {
                    Some((v, bad)) if bad == *b => {
                        format!(" [**{}**]({name}/report.md) |", c.fmt(v))
                    }
                    Some((v, _)) => format!(" [{}]({name}/report.md) |", c.fmt(v)),
                    None => " – |".into(),
                };
            }
            md += "\n";
        }
    }
    md
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// One console line per sampler (every metric that has a value, and the wall time), the
/// likelihood's numbers, and where the outputs are.
pub fn console_summary(s: &RunSummary) -> String {
    let mut out = String::new();
    for r in &s.samplers {
        out += &format!("{:<14}", r.label);
        for c in columns() {
            if let Some(v) = c.value(&r.metrics) {
                out += &format!("  {} {}", c.key, c.fmt(v));
            }
        }
        out += &format!("  {:>7.2}s\n", r.wall_s);
    }
    if let Some(l) = &s.likelihood {
        out += &format!(
            "likelihood     nll {:?}  kl {:?}  max|err| {:?}\n",
            l.nll, l.kl, l.max_abs_err
        );
    }
    out
}
