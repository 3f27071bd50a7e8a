//! Exact log-likelihood through the probability-flow ODE (seed 002; Chen et al. 2018,
//! Song et al. 2021).
//!
//! Along dx/dt = v(x, t), d/dt log p_t(x_t) = −∇·v(x_t, t). Integrating the augmented state
//! [x, Δ] with dΔ/dt = ∇·v from t = T_ε up to T gives
//!   log p_{T_ε}(x) = log p_T(x_T) + Δ(T).
//! The divergence is exact (one backward pass per dimension, for small D) or Hutchinson's
//! estimate ∇·v ≈ (1/K) Σ_k ε_kᵀ (∂v/∂x) ε_k, with the probes ε_k drawn once and held fixed for
//! the whole solve (Gaussian or Rademacher). Results in nats; bits/dim = −log p / (D ln 2).
//!
//! Chunks: with [`Likelihood::chunk`] = Some(C) the points are solved C at a time, each chunk its
//! own adaptive solve (its own steps: the error norm is over the chunk's points, so step counts
//! and the last digits of log p differ from one solve over all points) with its own probes. The
//! working memory (the augmented state, the stages, the graph of one field evaluation) is then
//! bounded by C points, not N. `None` (the default) solves all points at once.

use crate::{Error, Result};
use pf_core::field::{ScoreField, VelocityField};
use pf_core::ode::{Dopri5, ErrorNorm};
use pf_core::path::GaussianPath;
use pf_core::sde::pf_ode_drift;
use std::f64::consts::{LN_2, PI};
use tch::{Kind, Tensor};

/// Hutchinson probe distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Gaussian,
    Rademacher,
}

/// How ∇·v is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trace {
    /// D backward passes: exact.
    Exact,
    /// K fixed probes averaged: unbiased, K backward passes.
    Hutchinson { probes: usize, probe: Probe },
}

/// The log-density at T that closes the integral.
pub enum Prior<'a> {
    /// N(0, std² I).
    Normal { std: f64 },
    /// Any log-density [N, D] → [N] (e.g. the exact marginal p_T of an oracle).
    Custom(&'a dyn Fn(&Tensor) -> Tensor),
}

impl Prior<'_> {
    fn log_prob(&self, x: &Tensor) -> Tensor {
        match self {
            Prior::Normal { std } => {
                let d = x.size()[1] as f64;
                let c = -0.5 * d * (2.0 * PI * std * std).ln();
                x.square().sum_dim_intlist(-1, false, x.kind()) * (-0.5 / (std * std)) + c
            }
            Prior::Custom(f) => f(x),
        }
    }
}

/// Likelihood settings (defaults: seed 002's T_ε = 1e-5, T = 1, rtol = atol = 1e-5, exact trace).
#[derive(Clone, Debug)]
pub struct Likelihood {
    pub t_eps: f64,
    /// Upper end T (None: the path's `t_max`, or 1 for velocity fields).
    pub t_end: Option<f64>,
    pub rtol: f64,
    pub atol: f64,
    pub trace: Trace,
    pub max_steps: usize,
    /// Solve at most this many points at a time (None: all at once); see the module docs.
    pub chunk: Option<usize>,
}

impl Default for Likelihood {
    fn default() -> Self {
        Self {
            t_eps: 1e-5,
            t_end: None,
            rtol: 1e-5,
            atol: 1e-5,
            trace: Trace::Exact,
            max_steps: 100_000,
            chunk: None,
        }
    }
}

/// Per-point log-likelihoods and their cost.
#[derive(Debug)]
pub struct LogLik {
    /// log p(x) in nats, [N].
    pub logp: Tensor,
    /// −log p / (D ln 2), [N].
    pub bits_per_dim: Tensor,
    /// Evaluations of the right-hand side (each = one field evaluation plus the trace passes);
    /// with chunks, the largest of any chunk.
    pub nfe: usize,
    /// Accepted + rejected steps (with chunks, the largest of any chunk).
    pub steps: usize,
}

impl Likelihood {
    /// log p_{T_ε}(x) for a score field on a Gaussian path: v = f x − ½ g² s.
    pub fn score(
        &self,
        path: &dyn GaussianPath,
        score: &dyn ScoreField,
        x: &Tensor,
        prior: &Prior,
    ) -> Result<LogLik> {
        let t_end = self.t_end.unwrap_or_else(|| path.t_max());
        let mut v = |t: f64, x: &Tensor, tb: &Tensor| pf_ode_drift(path, t, x, &score.score(x, tb));
        self.solve(&mut v, x, t_end, prior)
    }

    /// log p_{T_ε}(x) for a velocity field (e.g. flow matching), prior at t_end (default 1).
    pub fn velocity(&self, field: &dyn VelocityField, x: &Tensor, prior: &Prior) -> Result<LogLik> {
        let t_end = self.t_end.unwrap_or(1.0);
        let mut v = |_t: f64, x: &Tensor, tb: &Tensor| field.velocity(x, tb);
        self.solve(&mut v, x, t_end, prior)
    }

    /// All points, one chunk at a time (see the module docs).
    fn solve(
        &self,
        v: &mut dyn FnMut(f64, &Tensor, &Tensor) -> Tensor,
        x0: &Tensor,
        t_end: f64,
        prior: &Prior,
    ) -> Result<LogLik> {
        let n = x0.size()[0] as usize;
        let spans = crate::chunk::spans(n, self.chunk)?;
        if spans.len() == 1 {
            return self.solve_one(v, x0, t_end, prior);
        }
        let (mut logp, mut bpd) = (Vec::new(), Vec::new());
        let (mut nfe, mut steps) = (0, 0);
        for (start, rows) in spans {
            let r = self.solve_one(v, &x0.narrow(0, start as i64, rows as i64), t_end, prior)?;
            logp.push(r.logp);
            bpd.push(r.bits_per_dim);
            nfe = nfe.max(r.nfe);
            steps = steps.max(r.steps);
        }
        Ok(LogLik {
            logp: Tensor::cat(&logp, 0),
            bits_per_dim: Tensor::cat(&bpd, 0),
            nfe,
            steps,
        })
    }

    fn solve_one(
        &self,
        v: &mut dyn FnMut(f64, &Tensor, &Tensor) -> Tensor,
        x0: &Tensor,
        t_end: f64,
        prior: &Prior,
    ) -> Result<LogLik> {
        if !(self.t_eps > 0.0 && self.t_eps < t_end && t_end <= 1.0) {
            return Err(Error::invalid(
                "t_eps",
                self.t_eps,
                &format!("need 0 < t_eps < T = {t_end} ≤ 1"),
            ));
        }
        let (n, d) = (x0.size()[0], x0.size()[1]);
        let probes = match self.trace {
            Trace::Exact => None,
            Trace::Hutchinson { probes, probe } => {
                if probes == 0 {
                    return Err(Error::invalid("probes", 0, "must be ≥ 1"));
                }
                let shape = [probes as i64, n, d];
                Some(match probe {
                    Probe::Gaussian => Tensor::randn(shape, (x0.kind(), x0.device())),
                    Probe::Rademacher => {
                        Tensor::randint(2, shape, (Kind::Int64, x0.device())).to_kind(x0.kind())
                            * 2.0
                            - 1.0
                    }
                })
            }
        };
        let tb = std::cell::RefCell::new(Tensor::zeros([1, 1], (x0.kind(), x0.device())));
        let mut rhs = |t: f64, y: &Tensor| -> Tensor {
            let _ = tb.borrow_mut().fill_(t);
            let tbr = tb.borrow();
            tch::with_grad(|| {
                let x = y.narrow(1, 0, d).detach().set_requires_grad(true);
                let vel = v(t, &x, &tbr);
                let div = match &probes {
                    None => {
                        let mut div = Tensor::zeros([n], (x.kind(), x.device()));
                        for i in 0..d {
                            let keep = i + 1 < d;
                            let g = Tensor::run_backward(
                                &[vel.select(1, i).sum(x.kind())],
                                &[&x],
                                keep,
                                false,
                            );
                            div += g[0].select(1, i);
                        }
                        div
                    }
                    Some(eps) => {
                        let k = eps.size()[0];
                        let mut div = Tensor::zeros([n], (x.kind(), x.device()));
                        for j in 0..k {
                            let e = eps.get(j);
                            let g = Tensor::run_backward(
                                &[(&vel * &e).sum(x.kind())],
                                &[&x],
                                j + 1 < k,
                                false,
                            );
                            div += (&g[0] * &e).sum_dim_intlist(-1, false, x.kind());
                        }
                        div / k as f64
                    }
                };
                Tensor::cat(&[vel.detach(), div.detach().unsqueeze(-1)], 1)
            })
        };
        let y0 = Tensor::cat(
            &[x0.detach(), Tensor::zeros([n, 1], (x0.kind(), x0.device()))],
            1,
        );
        let solver = Dopri5 {
            max_steps: self.max_steps,
            norm: ErrorNorm::Rms,
            ..Dopri5::new(self.rtol, self.atol)
        };
        let (y, st) = solver.solve(&mut rhs, &y0, self.t_eps, t_end, |_, _, _| {})?;
        let (x_t, delta) = (y.narrow(1, 0, d), y.select(1, d));
        let logp = tch::no_grad(|| prior.log_prob(&x_t)) + delta;
        let bits_per_dim = -&logp / (d as f64 * LN_2);
        Ok(LogLik {
            logp,
            bits_per_dim,
            nfe: st.nfe,
            steps: st.accepted + st.rejected,
        })
    }
}
