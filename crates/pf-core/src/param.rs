//! Conversions between the four things a network can predict on a Gaussian path
//! x_t = α x₀ + σ ε: the noise ε, the score s = ∇ log p_t, the clean point x₀ and the velocity
//! v = α' x₀ + σ' ε (all conditional expectations given x_t for the marginal versions).
//!
//! Every prediction is first turned into the pair (x̂₀, ε̂) tied by x = α x̂₀ + σ ε̂, then into the
//! kind asked for:
//!   ε from s:  ε̂ = −σ s;                 s from ε: s = −ε̂/σ
//!   x₀ from ε: x̂₀ = (x − σ ε̂)/α;         ε from x₀: ε̂ = (x − α x̂₀)/σ
//!   from v:    x̂₀ = (σ v − σ' x)/(α'σ − ασ'),  ε̂ = (α' x − α v)/(α'σ − ασ')
//! The last line is seed 004's "score from vector field":
//! s = −ε̂/σ = (α v − α' x)/(σ²α' − ασσ').

use crate::path::CoeffsT;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// What a network predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Param {
    Eps,
    Score,
    X0,
    Velocity,
}

impl std::str::FromStr for Param {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "eps" => Ok(Param::Eps),
            "score" => Ok(Param::Score),
            "x0" => Ok(Param::X0),
            "velocity" => Ok(Param::Velocity),
            _ => Err(Error::invalid(
                "parameterisation",
                s,
                "allowed: eps, score, x0, velocity",
            )),
        }
    }
}

/// Converts `pred` (of kind `from`, at points `x`) into kind `to` with the path coefficients `c`
/// (tensors broadcastable against x: [N, 1] per-sample or 0-dim). Shapes: x, pred [N, D].
pub fn convert(from: Param, to: Param, pred: &Tensor, x: &Tensor, c: &CoeffsT) -> Tensor {
    if from == to {
        return pred.shallow_clone();
    }
    // Direct one-liners for the common pairs, the (x̂₀, ε̂) route for the rest.
    match (from, to) {
        (Param::Eps, Param::Score) => return -pred / &c.sigma,
        (Param::Score, Param::Eps) => return -pred * &c.sigma,
        _ => {}
    }
    let (x0, eps) = to_x0_eps(from, pred, x, c);
    match to {
        Param::Eps => eps,
        Param::X0 => x0,
        Param::Score => -eps / &c.sigma,
        Param::Velocity => x0 * &c.d_alpha + eps * &c.d_sigma,
    }
}

/// (x̂₀, ε̂) from a prediction of kind `from`.
pub fn to_x0_eps(from: Param, pred: &Tensor, x: &Tensor, c: &CoeffsT) -> (Tensor, Tensor) {
    match from {
        Param::Eps => ((x - pred * &c.sigma) / &c.alpha, pred.shallow_clone()),
        Param::Score => {
            let eps = -pred * &c.sigma;
            ((x - &eps * &c.sigma) / &c.alpha, eps)
        }
        Param::X0 => (pred.shallow_clone(), (x - pred * &c.alpha) / &c.sigma),
        Param::Velocity => {
            let det = &c.d_alpha * &c.sigma - &c.alpha * &c.d_sigma;
            let x0 = (pred * &c.sigma - x * &c.d_sigma) / &det;
            let eps = (x * &c.d_alpha - pred * &c.alpha) / &det;
            (x0, eps)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::{CondPath, GaussianPath, VeGeometric, VpLinear};
    use tch::{Device, Kind};

    /// With x = α x₀ + σ ε known exactly, every kind converts to every other and back.
    #[test]
    fn round_trips_are_exact() {
        let _rng = crate::rng::seed_exclusive(1);
        let opts = (Kind::Double, Device::Cpu);
        let paths: Vec<Box<dyn GaussianPath>> = vec![
            Box::new(VpLinear::default()),
            Box::new(VeGeometric::default()),
            Box::new(CondPath::sqrt()),
        ];
        for p in &paths {
            for t in [0.2, 0.5, 0.9] {
                let c = p.coeffs(t).to_tensors();
                let x0 = Tensor::randn([64, 3], opts);
                let eps = Tensor::randn([64, 3], opts);
                let x = &x0 * &c.alpha + &eps * &c.sigma;
                let truth = [
                    (Param::Eps, eps.shallow_clone()),
                    (Param::Score, -&eps / &c.sigma),
                    (Param::X0, x0.shallow_clone()),
                    (Param::Velocity, &x0 * &c.d_alpha + &eps * &c.d_sigma),
                ];
                for (from, a) in &truth {
                    for (to, b) in &truth {
                        let got = convert(*from, *to, a, &x, &c);
                        let err = (&got - b).abs().max().double_value(&[]);
                        let scale = 1.0 + b.abs().max().double_value(&[]);
                        assert!(
                            err < 1e-10 * scale,
                            "{} t={t} {from:?}->{to:?}: {err}",
                            p.name()
                        );
                    }
                }
            }
        }
    }

    /// Seed 004's ScoreFromVectorField formula, written out, agrees with the conversion.
    #[test]
    fn seed_004_score_from_vector_field() {
        let _rng = crate::rng::seed_exclusive(0);
        let p = CondPath::sqrt();
        let opts = (Kind::Double, Device::Cpu);
        let x = Tensor::randn([16, 2], opts);
        let v = Tensor::randn([16, 2], opts);
        let c = p.coeffs(0.4);
        let want = (&v * c.alpha - &x * c.d_alpha)
            / (c.sigma * c.sigma * c.d_alpha - c.alpha * c.d_sigma * c.sigma);
        let got = convert(Param::Velocity, Param::Score, &v, &x, &c.to_tensors());
        assert!((got - want).abs().max().double_value(&[]) < 1e-12);
    }
}
