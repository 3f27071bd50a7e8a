//! Deterministic sampling: integrate dx/dt = v(x, t) from t_start (prior/source) down to t_end.
//!
//! For a score field on a Gaussian path the velocity is the probability-flow drift
//! v = f(t) x − ½ g²(t) s(x, t) ([`pf_ode`]); a learned or exact velocity field is integrated
//! directly ([`flow`]), which also covers the linear path from an arbitrary source (seed 004).

use crate::trajectory::{Guard, Recorder};
use crate::{Error, Result, SampleOut};
use pf_core::field::{ScoreField, VelocityField};
use pf_core::ode::{integrate, Dopri5, ErrorNorm, FixedMethod};
use pf_core::path::GaussianPath;
use pf_core::sde::pf_ode_drift;
use tch::Tensor;

/// The integrator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OdeMethod {
    Euler,
    Heun,
    Rk4,
    /// Adaptive Dormand–Prince 5(4).
    Dopri5 {
        rtol: f64,
        atol: f64,
    },
}

impl OdeMethod {
    /// Parses `euler`, `heun`, `rk4` or `dopri5` (with the given tolerances).
    pub fn parse(name: &str, rtol: f64, atol: f64) -> Result<Self> {
        Ok(match name {
            "euler" => OdeMethod::Euler,
            "heun" => OdeMethod::Heun,
            "rk4" => OdeMethod::Rk4,
            "dopri5" => OdeMethod::Dopri5 { rtol, atol },
            _ => {
                return Err(Error::invalid(
                    "solver",
                    name,
                    "allowed: euler, heun, rk4, dopri5",
                ))
            }
        })
    }
}

/// ODE sampling settings. `steps` is used by the fixed-step methods.
#[derive(Clone, Debug)]
pub struct OdeSampler {
    pub method: OdeMethod,
    pub steps: usize,
    /// Start time (None: the path's `t_max` for [`pf_ode`], 1 for [`flow`]).
    pub t_start: Option<f64>,
    pub t_end: f64,
    pub record: Option<usize>,
    pub record_particles: Option<usize>,
    pub guard: Guard,
}

impl Default for OdeSampler {
    fn default() -> Self {
        Self {
            method: OdeMethod::Rk4,
            steps: 200,
            t_start: None,
            t_end: 1e-3,
            record: None,
            record_particles: None,
            guard: Guard::default(),
        }
    }
}

impl OdeSampler {
    /// PF-ODE sampling with a score field on `path`.
    pub fn pf_ode(
        &self,
        path: &dyn GaussianPath,
        score: &dyn ScoreField,
        x_init: &Tensor,
    ) -> Result<SampleOut> {
        let mut tb = Tensor::zeros([1, 1], (x_init.kind(), x_init.device()));
        let mut rhs = |t: f64, x: &Tensor| {
            let _ = tb.fill_(t);
            pf_ode_drift(path, t, x, &score.score(x, &tb))
        };
        self.run(
            &mut rhs,
            x_init,
            self.t_start.unwrap_or_else(|| path.t_max()),
            "pf-ode",
        )
    }

    /// Flow sampling with a velocity field.
    pub fn flow(&self, field: &dyn VelocityField, x_init: &Tensor) -> Result<SampleOut> {
        let mut tb = Tensor::zeros([1, 1], (x_init.kind(), x_init.device()));
        let mut rhs = |t: f64, x: &Tensor| {
            let _ = tb.fill_(t);
            field.velocity(x, &tb)
        };
        self.run(&mut rhs, x_init, self.t_start.unwrap_or(1.0), "flow")
    }

    /// Integrates any right-hand side from `t0` to `t_end` with this sampler's method.
    pub fn run(
        &self,
        rhs: &mut impl FnMut(f64, &Tensor) -> Tensor,
        x_init: &Tensor,
        t0: f64,
        method_name: &str,
    ) -> Result<SampleOut> {
        let t1 = self.t_end;
        if !(t1 >= 0.0 && t1 < t0) {
            return Err(Error::invalid(
                "t_end",
                t1,
                &format!("need 0 ≤ t_end < t_start = {t0}"),
            ));
        }
        let mut rec = Recorder::new(self.record, self.record_particles);
        rec.offer(0, t0, x_init, false);
        let guard = self.guard;
        let mut bad: Option<(usize, f64)> = None;
        let (x, nfe) = tch::no_grad(|| -> Result<(Tensor, usize)> {
            match self.method {
                OdeMethod::Dopri5 { rtol, atol } => {
                    let solver = Dopri5 {
                        norm: ErrorNorm::Rms,
                        ..Dopri5::new(rtol, atol)
                    };
                    let (x, st) = solver.solve(rhs, x_init, t0, t1, |k, t, y| {
                        rec.offer(k, t, y, false);
                    })?;
                    Ok((x, st.nfe))
                }
                m => {
                    let fm = match m {
                        OdeMethod::Euler => FixedMethod::Euler,
                        OdeMethod::Heun => FixedMethod::Heun,
                        _ => FixedMethod::Rk4,
                    };
                    if self.steps == 0 {
                        return Err(Error::invalid("steps", 0, "must be ≥ 1"));
                    }
                    let x = integrate(fm, rhs, x_init, t0, t1, self.steps, |k, t, y| {
                        rec.offer(k, t, y, k == self.steps);
                        if bad.is_none()
                            && guard.every > 0
                            && k % guard.every == 0
                            && !crate::trajectory::all_finite(y)
                        {
                            bad = Some((k, t));
                        }
                    })?;
                    Ok((x, self.steps * fm.evals_per_step()))
                }
            }
        })?;
        if let Some((k, t)) = bad {
            return Err(Error::NonFinite {
                method: method_name.into(),
                step: k,
                t: Some(t),
                hint: "use more steps or a larger t_end (T_ε)".into(),
            });
        }
        guard.check(
            &x,
            method_name,
            self.steps,
            t1,
            "use more steps or a larger t_end (T_ε)",
            true,
        )?;
        Ok(SampleOut {
            x,
            trajectory: rec.finish(),
            nfe,
            acceptance: None,
        })
    }
}
