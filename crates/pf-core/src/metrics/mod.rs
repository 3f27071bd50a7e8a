//! Sample-based distances between a sample set and a reference set, and funnel diagnostics.
//!
//! Inputs are [N, D] and [M, D] tensors of any float kind on any device; the work runs on the first
//! argument's device in float64, pairwise terms in row blocks of at most 2¹⁷ entries on the CPU
//! and 2²² on an accelerator (so 20 000 × 20 000 never materialises a full matrix; within-set
//! terms use the upper triangle only), and results come back as `f64`.
//!
//! - [`energy_distance`]: 2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖ (unbiased; 0 in expectation when p = q).
//! - [`mmd`]: unbiased MMD² with an RBF kernel, median-heuristic bandwidth, and a bandwidth mixture.
//! - [`sliced_w1`]: sliced Wasserstein-1 over fixed random directions.
//! - [`neck_stats`]: a funnel's neck coverage and the spread of x there.
//! - [`kl_estimate`]: Monte-Carlo KL(p‖q) from log-densities at samples of p.
//! - [`tail_stats`]: the KS distance between the laws of log p over the samples and over the
//!   reference, and the share of samples below the reference's 0.1 % quantile of log p.
//! - [`w1_to_mixture`]: exact 1-D W₁ between a sample and a Gaussian mixture (e.g. an oracle's
//!   time marginal), with [`w1_null_mean`] its mean over exact samples.
//! - [`report`]: every entry of the metric table [`METRICS`] in one [`MetricReport`], non-finite
//!   rows counted; [`report_for`] adds the tail diagnostics through the target's log-density.
//!   The table is what every report reads: a new metric is its own file plus one entry there.
//!
//! Large sets: [`report`] computes the distances (energy, MMD², sliced W₁) on a random subset of
//! at most [`METRIC_ROWS`] finite rows of each set (uniform without replacement, from a Rust RNG
//! seeded with the constant [`SUBSAMPLE_SEED`], so the choice never touches libtorch's RNG and is
//! the same on every run); the pairwise terms then cost O(METRIC_ROWS²) however many particles
//! were drawn. The funnel's neck statistics are O(N) and use every finite row. Sets no larger
//! than [`METRIC_ROWS`] are used whole, exactly as before.

mod energy;
mod kl;
mod mmd;
mod neck;
mod sliced_wasserstein;
mod table;
mod tails;
mod w1_mixture;

pub use energy::energy_distance;
pub use kl::{kl_estimate, KlEstimate};
pub use mmd::{median_bandwidth, mmd, mmd2_unbiased, MmdResult, MMD_SCALES};
pub use neck::{neck_stats, NeckReport};
pub use sliced_wasserstein::{sliced_w1, SW_DIRECTIONS, SW_SEED};
pub use table::{columns, Better, Column, Format, Metric, Sets, METRICS};
pub use tails::{ks_sorted, tail_stats, TailReport, TAIL_LEVEL};
pub use w1_mixture::{w1_null_mean, w1_to_mixture};

use crate::target::{Neck, Target};
use serde::Serialize;
use tch::{Device, Kind, Tensor};

/// The most rows of each set [`report`]'s distances use (a documented random subset above it).
pub const METRIC_ROWS: usize = 20_000;

/// The fixed seed of [`subsample`]'s choice of rows.
pub const SUBSAMPLE_SEED: u64 = 0x5eed_5ab5;

/// At most `k` rows of `x` [N, D]: all of them (the same tensor) when N ≤ k, else k rows chosen
/// uniformly without replacement by a `StdRng` seeded with [`SUBSAMPLE_SEED`], kept in their
/// original order.
pub fn subsample(x: &Tensor, k: usize) -> Tensor {
    let n = x.size()[0] as usize;
    if n <= k {
        return x.shallow_clone();
    }
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(SUBSAMPLE_SEED);
    let mut idx: Vec<i64> = rand::seq::index::sample(&mut rng, n, k)
        .into_iter()
        .map(|i| i as i64)
        .collect();
    idx.sort_unstable();
    x.index_select(0, &Tensor::from_slice(&idx).to_device(x.device()))
}

/// The most entries of a pairwise block held at once: 2¹⁷ float64 (1 MiB, cache-sized) on the
/// CPU, 2²² (32 MiB) on an accelerator (fewer, larger kernels).
pub(crate) fn block_elems(device: Device) -> i64 {
    match device {
        Device::Cpu => 1 << 17,
        _ => 1 << 22,
    }
}

/// `x` as a float64 tensor on `device`, flattened to [N, D] (a [N] input becomes [N, 1]).
pub(crate) fn f64_on(x: &Tensor, device: Device) -> Tensor {
    let x = x.to_device(device).to_kind(Kind::Double);
    if x.dim() == 1 {
        x.unsqueeze(1)
    } else {
        x
    }
}

/// The rows of `x` with every entry finite, and how many rows were dropped.
pub fn finite_rows(x: &Tensor) -> (Tensor, usize) {
    let x2 = if x.dim() == 1 {
        x.unsqueeze(1)
    } else {
        x.shallow_clone()
    };
    let keep = x2.isfinite().all_dim(1, false);
    let idx = keep.nonzero().squeeze_dim(1);
    let dropped = x2.size()[0] - idx.size()[0];
    (x2.index_select(0, &idx), dropped as usize)
}

/// Squared Euclidean distances between the rows `xb` [B, D] and `y` [M, D] (float64), [B, M].
fn sq_dists(xb: &Tensor, y: &Tensor, y_sq: &Tensor) -> Tensor {
    let x_sq = xb
        .square()
        .sum_dim_intlist(1, false, Kind::Double)
        .unsqueeze(1);
    let mut d2 = xb.mm(&y.tr()) * -2.0;
    let _ = d2.g_add_(&x_sq).g_add_(y_sq).clamp_min_(0.0);
    d2
}

/// Σ over pairs of `g(‖a − b‖²)` for a function `g` of a block of squared distances that returns
/// its K per-feature sums ([K] float64), in row blocks of at most `block` entries.
///
/// Cross (`same` = false, `x` [N, D] against `y` [M, D]): all N·M pairs. Within (`same` = true,
/// `y` ignored): the ordered pairs i ≠ j of `x`, computed from the upper triangle only (each row
/// block against the rows from its first row on, doubled, less the block's own square counted
/// once and its diagonal, where d² = 0 exactly and g contributes `g(0)`).
pub(crate) fn pair_sums(
    x: &Tensor,
    y: &Tensor,
    same: bool,
    block: i64,
    mut g: impl FnMut(&Tensor) -> Tensor,
) -> Vec<f64> {
    let dev = x.device();
    let n = x.size()[0];
    let y = if same { x } else { y };
    let m = y.size()[0];
    let y_sq = y
        .square()
        .sum_dim_intlist(1, false, Kind::Double)
        .unsqueeze(0); // [1, M]
    let g0 = g(&Tensor::zeros([1, 1], (Kind::Double, dev)));
    let mut acc = g0.zeros_like();
    let mut row0 = 0;
    while row0 < n {
        let cols = if same { m - row0 } else { m };
        let rows = (block / cols.max(1)).clamp(1, n - row0);
        let xb = x.narrow(0, row0, rows);
        if same {
            let d2 = sq_dists(&xb, &y.narrow(0, row0, cols), &y_sq.narrow(1, row0, cols));
            let _ = d2.narrow(1, 0, rows).diagonal(0, 0, 1).fill_(0.0);
            let square = g(&d2.narrow(1, 0, rows));
            acc += g(&d2) * 2.0 - square - &g0 * rows as f64;
        } else {
            acc += g(&sq_dists(&xb, y, &y_sq));
        }
        row0 += rows;
    }
    Vec::<f64>::try_from(acc).expect("pair sums")
}

/// Every metric of [`METRICS`] for one sample set against a reference; see [`report`].
/// A metric is null (JSON `null`, [`MetricReport::get`] None) where it does not apply, and a
/// distance is null when fewer than two finite rows remain on either side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricReport {
    /// Rows of the sample set given.
    pub n: usize,
    /// Sample rows with a NaN/Inf entry, left out of every metric.
    pub n_nonfinite: usize,
    /// Finite reference rows used.
    pub n_reference: usize,
    /// Rows of each set the distances used when a set had more than [`METRIC_ROWS`] finite
    /// rows (a fixed random subset; see the module docs); absent when every row was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_rows: Option<usize>,
    /// The values of [`METRICS`], under their keys, in table order.
    #[serde(flatten)]
    pub values: Values,
    /// Monte-Carlo KL(p‖q); not computed by [`report`] (it needs log-densities): see
    /// [`MetricReport::with_kl`].
    pub kl: Option<KlEstimate>,
}

/// The metric values of a [`MetricReport`], by key in table order (a JSON object when written).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Values(pub Vec<(&'static str, serde_json::Value)>);

impl Serialize for Values {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// All sample-based metrics of `samples` [N, D] against `reference` [M, D] (fresh samples of the
/// true target), plus the neck diagnostics when `neck` is given; no tail diagnostics (they need
/// the target: [`report_for`]). Rows with non-finite entries are left out (and counted in
/// `n_nonfinite` for the samples).
///
/// The work runs on the CPU whatever device the samples are on (one copy each way): float64
/// pairwise sums are slow on most accelerators, and the numbers are then the same as a CPU
/// run's for the same samples.
pub fn report(samples: &Tensor, reference: &Tensor, neck: Option<Neck>) -> MetricReport {
    evaluate(None, samples, reference, neck)
}

/// [`report`] with the target's neck diagnostics and, where the target has a log-density, its
/// tail diagnostics ([`tail_stats`]).
pub fn report_for(
    target: &dyn Target,
    samples: &Tensor,
    reference: &Tensor,
    neck: Option<Neck>,
) -> MetricReport {
    evaluate(Some(target), samples, reference, neck)
}

/// Every entry of [`METRICS`] on the two sets.
fn evaluate(
    target: Option<&dyn Target>,
    samples: &Tensor,
    reference: &Tensor,
    neck: Option<Neck>,
) -> MetricReport {
    let (samples, reference) = (
        samples.to_device(Device::Cpu),
        reference.to_device(Device::Cpu),
    );
    let (x, n_nonfinite) = finite_rows(&samples);
    let (y, _) = finite_rows(&reference);
    let n_reference = y.size()[0] as usize;
    let large = x.size()[0] as usize > METRIC_ROWS || n_reference > METRIC_ROWS;
    let (xs, ys) = (subsample(&x, METRIC_ROWS), subsample(&y, METRIC_ROWS));
    let sets = Sets {
        samples: &samples,
        reference: &reference,
        x: &x,
        y: &y,
        xs: &xs,
        ys: &ys,
        ok: x.size()[0] >= 2 && n_reference >= 2,
        target,
        neck: neck.as_ref(),
    };
    MetricReport {
        n: samples.size()[0] as usize,
        n_nonfinite,
        n_reference,
        metric_rows: large.then_some(METRIC_ROWS),
        values: Values(METRICS.iter().flat_map(|m| (m.compute)(&sets)).collect()),
        kl: None,
    }
}

impl MetricReport {
    /// The value at a dotted key (`energy`, `neck.share`), None where it is null or absent.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.value(key)?.as_f64()
    }

    /// The JSON value at a dotted key.
    pub fn value(&self, key: &str) -> Option<&serde_json::Value> {
        let mut parts = key.split('.');
        let head = parts.next()?;
        let mut v = &self.values.0.iter().find(|(k, _)| *k == head)?.1;
        for p in parts {
            v = v.get(p)?;
        }
        Some(v)
    }

    /// The energy distance (NaN where it could not be computed).
    pub fn energy(&self) -> f64 {
        self.get("energy").unwrap_or(f64::NAN)
    }

    /// The funnel neck diagnostics, for funnel targets.
    pub fn neck(&self) -> Option<NeckReport> {
        serde_json::from_value(self.value("neck")?.clone()).ok()
    }

    /// The tail diagnostics, where the target has a log-density.
    pub fn tails(&self) -> Option<TailReport> {
        serde_json::from_value(self.value("tails")?.clone()).ok()
    }

    /// The same report with a KL estimate attached.
    pub fn with_kl(mut self, kl: KlEstimate) -> Self {
        self.kl = Some(kl);
        self
    }
}

#[cfg(test)]
pub(crate) mod tests;
