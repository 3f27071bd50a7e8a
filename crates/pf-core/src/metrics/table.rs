//! The metric table: every per-sampler metric pflow reports, one [`Metric`] entry each.
//!
//! An entry says which keys it writes into a sampler's `metrics` object (`metrics.json`), how it
//! computes them from the two sample sets ([`Sets`]), and which table [`Column`]s it gives: the
//! key a cell reads (a dotted path such as `neck.share`), the header, the cell format and which
//! values are better. Every report reads this one table — `metrics.md` of `pf run`,
//! `report.md` and the leaderboard of `pf compare`, the console summary, and the metric
//! columns of `sweep.md` — so a new metric is its own file (the computation) plus one entry in
//! [`METRICS`], and every table shows it.

use super::{energy_distance, mmd, neck_stats, sliced_w1, tail_stats, MetricReport, SW_DIRECTIONS};
use crate::target::{Neck, Target};
use serde_json::Value;
use tch::Tensor;

/// What a metric is computed from: one sample set against fresh target samples, on the CPU.
pub struct Sets<'a> {
    /// The samples as given, non-finite rows included, [N, D].
    pub samples: &'a Tensor,
    /// The reference (fresh target samples) as given, [M, D].
    pub reference: &'a Tensor,
    /// The finite rows of each set.
    pub x: &'a Tensor,
    pub y: &'a Tensor,
    /// At most [`super::METRIC_ROWS`] of those rows each (a fixed random subset above it): what
    /// the O(N²) distances use.
    pub xs: &'a Tensor,
    pub ys: &'a Tensor,
    /// Whether both sides have at least two finite rows (else the distances are NaN).
    pub ok: bool,
    /// The target, where its log-density may be used ([`super::report_for`]).
    pub target: Option<&'a dyn Target>,
    /// The funnel's neck, for funnel targets.
    pub neck: Option<&'a Neck>,
}

/// One metric: the keys it writes and the table columns it gives.
pub struct Metric {
    /// Its name (the first key it writes).
    pub name: &'static str,
    /// Its values under their JSON keys, in order; `Value::Null` where it does not apply (a
    /// non-finite number is written as null too).
    pub compute: fn(&Sets) -> Vec<(&'static str, Value)>,
    /// The columns every table shows for it.
    pub columns: &'static [Column],
}

/// One table column of a metric.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// The dotted path of its value in a sampler's `metrics` object (`energy`, `neck.share`).
    pub key: &'static str,
    /// The column header.
    pub header: &'static str,
    /// How a cell prints.
    pub format: Format,
    /// Which values are better.
    pub better: Better,
    /// One sentence on what it measures, for the reports' legends.
    pub about: &'static str,
}

/// How a cell prints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format {
    /// `{:.Ne}`.
    Sci(usize),
    /// `{:.N}`.
    Fixed(usize),
}

/// Which values of a column are better.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Better {
    Lower,
    Higher,
    /// Nearer this value (an unbiased distance near 0, a share near its true value).
    Near(f64),
    /// Nearer the value at this other key of the same report (the true value of that sampler's
    /// target), which cells print beside it in parentheses.
    NearKey(&'static str),
}

/// Every per-sampler metric, in table order.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "energy",
        compute: energy,
        columns: &[Column {
            key: "energy",
            header: "energy distance",
            format: Format::Sci(3),
            better: Better::Near(0.0),
            about: "2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖ against fresh target samples (unbiased: 0 up to noise for a perfect sampler)",
        }],
    },
    Metric {
        name: "mmd2",
        compute: mmd_rbf,
        columns: &[Column {
            key: "mmd2",
            header: "MMD²",
            format: Format::Sci(3),
            better: Better::Near(0.0),
            about: "unbiased MMD² with an RBF kernel at the median-heuristic bandwidth (0 up to noise for a perfect sampler)",
        }],
    },
    Metric {
        name: "sliced_w1",
        compute: sliced,
        columns: &[Column {
            key: "sliced_w1",
            header: "sliced W₁",
            format: Format::Sci(3),
            better: Better::Lower,
            about: "Wasserstein-1 averaged over fixed random directions (its floor is the sampling noise)",
        }],
    },
    Metric {
        name: "neck",
        compute: neck,
        columns: &[
            Column {
                key: "neck.share",
                header: "neck share (true 0.05)",
                format: Format::Fixed(4),
                better: Better::Near(0.05),
                about: "the share of samples below the true 5 % quantile of a funnel's neck variable (true value 0.05)",
            },
            Column {
                key: "neck.x_std",
                header: "neck x std (true)",
                format: Format::Fixed(4),
                better: Better::NearKey("neck.x_std_target"),
                about: "the std of the other coordinates among those samples, beside its true value",
            },
        ],
    },
    Metric {
        name: "tails",
        compute: tails,
        columns: &[
            Column {
                key: "tails.ks",
                header: "log p KS",
                format: Format::Fixed(4),
                better: Better::Lower,
                about: "the KS distance between the laws of log p over the samples and over fresh target samples: it sees far outliers that energy distance misses (noise scale √(1/N + 1/M))",
            },
            Column {
                key: "tails.low_share",
                header: "below q₀.₀₀₁ of log p (true 0.001)",
                format: Format::Fixed(4),
                better: Better::Near(super::TAIL_LEVEL),
                about: "the share of samples below the reference's 0.1 % quantile of log p (true value 0.001; far outliers and non-finite samples land there)",
            },
        ],
    },
];

/// Every column of [`METRICS`], in table order.
pub fn columns() -> impl Iterator<Item = &'static Column> {
    METRICS.iter().flat_map(|m| m.columns.iter())
}

fn num(v: f64) -> Value {
    Value::from(v) // NaN and ±∞ become null
}

fn energy(s: &Sets) -> Vec<(&'static str, Value)> {
    let e = if s.ok {
        energy_distance(s.xs, s.ys)
    } else {
        f64::NAN
    };
    vec![("energy", num(e))]
}

fn mmd_rbf(s: &Sets) -> Vec<(&'static str, Value)> {
    let (h, m2, mix) = if s.ok {
        let m = mmd(s.xs, s.ys);
        (m.bandwidth, m.mmd2, m.mmd2_mix)
    } else {
        (f64::NAN, f64::NAN, f64::NAN)
    };
    vec![
        ("mmd2", num(m2)),
        ("mmd2_mix", num(mix)),
        ("mmd_bandwidth", num(h)),
    ]
}

fn sliced(s: &Sets) -> Vec<(&'static str, Value)> {
    let w = if s.ok {
        sliced_w1(s.xs, s.ys, SW_DIRECTIONS)
    } else {
        f64::NAN
    };
    vec![
        ("sliced_w1", num(w)),
        ("sw_directions", SW_DIRECTIONS.into()),
    ]
}

fn neck(s: &Sets) -> Vec<(&'static str, Value)> {
    let v = s.neck.map(|nk| neck_stats(s.x, nk));
    vec![("neck", serde_json::to_value(v).unwrap_or(Value::Null))]
}

fn tails(s: &Sets) -> Vec<(&'static str, Value)> {
    let v = s.target.and_then(|t| tail_stats(t, s.samples, s.reference));
    vec![("tails", serde_json::to_value(v).unwrap_or(Value::Null))]
}

impl Column {
    /// Its value in `m`, None where the metric does not apply (or is not finite).
    pub fn value(&self, m: &MetricReport) -> Option<f64> {
        m.get(self.key)
    }

    /// `v` as a cell prints it.
    pub fn fmt(&self, v: f64) -> String {
        match self.format {
            Format::Sci(p) => format!("{v:.p$e}"),
            Format::Fixed(p) => format!("{v:.p$}"),
        }
    }

    /// The true value in `m` that a [`Better::NearKey`] column prints beside its value.
    pub fn truth(&self, m: &MetricReport) -> Option<f64> {
        match self.better {
            Better::NearKey(k) => m.get(k),
            _ => None,
        }
    }

    /// Whether `m` has anything for this column (its value, or its true value).
    pub fn applies(&self, m: &MetricReport) -> bool {
        self.value(m).is_some() || self.truth(m).is_some()
    }

    /// Its cell for `m`: the value (with its true value in parentheses for [`Better::NearKey`]),
    /// or `–`.
    pub fn cell(&self, m: &MetricReport) -> String {
        match (self.value(m), self.truth(m)) {
            (Some(v), Some(t)) => format!("{} ({})", self.fmt(v), self.fmt(t)),
            (None, Some(t)) => format!("– ({})", self.fmt(t)),
            (Some(v), None) => self.fmt(v),
            (None, None) => "–".into(),
        }
    }

    /// How far `m`'s value is from the best (0 is best, lower is better); None without a value.
    pub fn badness(&self, m: &MetricReport) -> Option<f64> {
        let v = self.value(m)?;
        Some(match self.better {
            Better::Lower => v,
            Better::Higher => -v,
            Better::Near(t) => (v - t).abs(),
            Better::NearKey(_) => (v - self.truth(m)?).abs(),
        })
    }
}
