//! Funnel neck diagnostics ([`neck_stats`]).

use super::f64_on;
use crate::target::Neck;
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Funnel neck diagnostics: how many samples reach the neck, and how wide they are there.
///
/// With the target's [`Neck`] (neck column c, true 5 % quantile q05 of it, true std x_std of the
/// other coordinates below q05): share = #{i : x_ic < q05}/N (ideal 0.05, binomial se
/// √(0.05·0.95/N)), and the sample std of the other coordinates, pooled, over those rows
/// (ideal x_std). A sampler that cannot enter the neck (seed 000's claim about Langevin) shows a
/// share well below 0.05.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeckReport {
    /// The neck column.
    pub column: usize,
    /// The true 5 % quantile of the neck variable.
    pub q05: f64,
    /// Rows examined.
    pub n: usize,
    /// Rows with neck variable < q05.
    pub count: usize,
    /// count / n (ideal 0.05).
    pub share: f64,
    /// The ideal share, 0.05.
    pub share_target: f64,
    /// The binomial standard error of the share under the target, √(0.05·0.95/n).
    pub share_se: f64,
    /// The std (unbiased, pooled over the other columns) of the rows in the neck; `None` with
    /// fewer than two values.
    pub x_std: Option<f64>,
    /// The true std there.
    pub x_std_target: f64,
}

/// Neck coverage of `samples` [N, D] for the target's `neck` (rows are used as given: filter
/// non-finite rows first, as [`report`](super::report) does).
pub fn neck_stats(samples: &Tensor, neck: &Neck) -> NeckReport {
    let x = f64_on(samples, samples.device());
    let (n, d) = (x.size()[0], x.size()[1]);
    let c = neck.column as i64;
    let inside = x.select(1, c).lt(neck.q05);
    let rows = x.index_select(0, &inside.nonzero().squeeze_dim(1));
    let count = rows.size()[0];
    let others: Vec<i64> = (0..d).filter(|&j| j != c).collect();
    let vals = rows
        .index_select(1, &Tensor::from_slice(&others).to_device(x.device()))
        .reshape([-1]);
    let x_std = (vals.numel() >= 2).then(|| vals.std(true).double_value(&[]));
    let share = if n > 0 {
        count as f64 / n as f64
    } else {
        f64::NAN
    };
    NeckReport {
        column: neck.column,
        q05: neck.q05,
        n: n as usize,
        count: count as usize,
        share,
        share_target: 0.05,
        share_se: (0.05 * 0.95 / n as f64).sqrt(),
        x_std,
        x_std_target: neck.x_std,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Funnel, NealFunnel, Target};
    use tch::{Device, Kind};

    #[test]
    fn exact_small_case() {
        // neck in column 1; rows 0 and 1 are below q05 = −1, their x are 1 and −1 → std √2
        let s = Tensor::from_slice(&[1.0f32, -2.0, -1.0, -3.0, 5.0, 0.0, 5.0, 0.5]).view([4, 2]);
        let neck = Neck {
            column: 1,
            q05: -1.0,
            x_std: 0.3,
        };
        let r = neck_stats(&s, &neck);
        assert_eq!((r.n, r.count), (4, 2));
        assert_eq!(r.share, 0.5);
        assert!((r.x_std.unwrap() - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(r.x_std_target, 0.3);
        // nobody in the neck
        let r = neck_stats(&s.narrow(0, 2, 2), &neck);
        assert_eq!((r.count, r.share, r.x_std), (0, 0.0, None));
    }

    /// Exact samples of the funnels: share within 4 binomial se of 0.05, x std within 5 se of
    /// the truth, the se from the data (delta method on the per-row mean of x² in the neck; the
    /// x² are heavy-tailed, kurtosis of x ≈ 3.5 for seed 001's funnel and ≈ 4.6 for Neal's).
    #[test]
    fn exact_samples_sit_at_the_ideal() {
        let _rng = crate::rng::seed_exclusive(17);
        let n = 100_000;
        let (f, nf) = (Funnel::default(), NealFunnel::new(3).unwrap());
        for (t, neck) in [(&f as &dyn Target, f.neck()), (&nf, nf.neck())] {
            let s = t.sample(n, Device::Cpu).to_kind(Kind::Double);
            let r = neck_stats(&s, &neck);
            assert!(
                (r.share - 0.05).abs() < 4.0 * r.share_se,
                "{}: {r:?}",
                t.name()
            );
            let c = neck.column as i64;
            let idx = s.select(1, c).lt(neck.q05).nonzero().squeeze_dim(1);
            let x2 =
                s.index_select(0, &idx)
                    .narrow(1, 0, c)
                    .square()
                    .mean_dim(1, false, Kind::Double);
            let k = x2.size()[0] as f64;
            let sd = x2.mean(Kind::Double).double_value(&[]).sqrt();
            let se = x2.std(true).double_value(&[]) / k.sqrt() / (2.0 * sd);
            let got = r.x_std.unwrap();
            assert!(
                (got - neck.x_std).abs() < 5.0 * se,
                "{}: x std {got} vs {} (se {se})",
                t.name(),
                neck.x_std
            );
        }
    }
}
