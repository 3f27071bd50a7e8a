//! Deterministic sampling: integrate dx/dt = v(x, t) from t_start (prior/source) down to t_end.
//!
//! For a score field on a Gaussian path the velocity is the probability-flow drift
//! v = f(t) x − ½ g²(t) s(x, t) ([`pf_ode`]); a learned or exact velocity field is integrated
//! directly ([`flow`]), which also covers the linear path from an arbitrary source (seed 004).

use crate::driver::Driver;
use crate::init::InitConfig;
use crate::sampler::{Check, Ctx, Sampler};
use crate::{Error, Result, SampleOut};
use pf_core::field::FieldKind;
use pf_core::field::{ScoreField, VelocityField};
use pf_core::ode::{integrate, Dopri5, ErrorNorm, FixedMethod};
use pf_core::path::GaussianPath;
use pf_core::sde::pf_ode_drift;
use serde::{Deserialize, Serialize};
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
}

impl Default for OdeSampler {
    fn default() -> Self {
        Self {
            method: OdeMethod::Rk4,
            steps: 200,
            t_start: None,
            t_end: 1e-3,
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
        drv: &mut Driver,
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
            drv,
        )
    }

    /// Flow sampling with a velocity field.
    pub fn flow(
        &self,
        field: &dyn VelocityField,
        x_init: &Tensor,
        drv: &mut Driver,
    ) -> Result<SampleOut> {
        let mut tb = Tensor::zeros([1, 1], (x_init.kind(), x_init.device()));
        let mut rhs = |t: f64, x: &Tensor| {
            let _ = tb.fill_(t);
            field.velocity(x, &tb)
        };
        self.run(&mut rhs, x_init, self.t_start.unwrap_or(1.0), "flow", drv)
    }

    /// Integrates any right-hand side from `t0` to `t_end` with this sampler's method.
    pub fn run(
        &self,
        rhs: &mut impl FnMut(f64, &Tensor) -> Tensor,
        x_init: &Tensor,
        t0: f64,
        method_name: &str,
        drv: &mut Driver,
    ) -> Result<SampleOut> {
        let t1 = self.t_end;
        if !(t1 >= 0.0 && t1 < t0) {
            return Err(Error::invalid(
                "t_end",
                t1,
                &format!("need 0 ≤ t_end < t_start = {t0}"),
            ));
        }
        let hint = "use more steps or a larger t_end (T_ε)";
        let fixed_steps = match self.method {
            OdeMethod::Dopri5 { .. } => 0,
            _ => self.steps,
        };
        drv.begin(method_name, hint, fixed_steps, Some(t0), x_init);
        let (x, nfe) = tch::no_grad(|| -> Result<(Tensor, usize)> {
            match self.method {
                OdeMethod::Dopri5 { rtol, atol } => {
                    let solver = Dopri5 {
                        norm: ErrorNorm::Rms,
                        ..Dopri5::new(rtol, atol)
                    };
                    let (x, st) = solver.solve(rhs, x_init, t0, t1, |k, t, y| {
                        drv.record(k, t, y);
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
                        drv.observe(k, Some(t), y);
                    })?;
                    Ok((x, self.steps * fm.evals_per_step()))
                }
            }
        })?;
        drv.finish_check(&x, Some(t1))?;
        Ok(SampleOut::new(x, drv.trajectory(), nfe))
    }
}

/// ODE solvers for PF-ODE and flow sampling, as configs name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Solver {
    Euler,
    Heun,
    Rk4,
    Dopri5,
}

impl Solver {
    /// The integrator, with dopri5's tolerances.
    pub fn method(self, rtol: f64, atol: f64) -> OdeMethod {
        match self {
            Solver::Euler => OdeMethod::Euler,
            Solver::Heun => OdeMethod::Heun,
            Solver::Rk4 => OdeMethod::Rk4,
            Solver::Dopri5 => OdeMethod::Dopri5 { rtol, atol },
        }
    }
}

/// Float32 [N, D] rows a solver keeps alive (stages, the state, the error estimate).
fn solver_rows(s: Solver) -> f64 {
    match s {
        Solver::Dopri5 => 12.0,
        _ => 8.0,
    }
}

fn rk4() -> Solver {
    Solver::Rk4
}
fn tol() -> f64 {
    1e-5
}

/// `method = "pf-ode"`: the probability-flow ODE of a score model's path, integrated from its
/// prior at t = 1 to `t_end` with a fixed-step solver (`steps`) or dopri5 (`rtol`, `atol`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PfOdeConfig {
    pub model: String,
    #[serde(default = "crate::ula::particles")]
    pub particles: usize,
    #[serde(default = "rk4")]
    pub solver: Solver,
    #[serde(default = "crate::reverse_sde::diffusion_steps")]
    pub steps: usize,
    #[serde(default = "tol")]
    pub rtol: f64,
    #[serde(default = "tol")]
    pub atol: f64,
    #[serde(default = "crate::reverse_sde::t_end")]
    pub t_end: f64,
}

fn check_solver(cx: &Check, steps: usize, rtol: f64, atol: f64, t_end: f64) -> Result<()> {
    cx.at_least_one("steps", steps)?;
    cx.positive("rtol", rtol)?;
    cx.positive("atol", atol)?;
    cx.t_end("t_end", t_end)
}

impl Sampler for PfOdeConfig {
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.steps)
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::following(&[&self.model])
    }
    fn footprint(&self) -> crate::Footprint {
        crate::Footprint::new(solver_rows(self.solver), self.steps)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        cx.model("model", &self.model, FieldKind::Score)?;
        check_solver(cx, self.steps, self.rtol, self.atol, self.t_end)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let m = cx.score_model(&self.model)?;
        let x1 = cx.prior(self.particles, &*m.path)?;
        OdeSampler {
            method: self.solver.method(self.rtol, self.atol),
            steps: self.steps,
            t_start: None,
            t_end: self.t_end,
        }
        .pf_ode(&*m.path, &*m.field, &x1, drv)
    }
}

/// `method = "flow"`: integrates a velocity model (flow matching) from t = 1 — its source or
/// path prior unless `init` says otherwise — down to `t_end`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowConfig {
    pub model: String,
    #[serde(default = "crate::ula::particles")]
    pub particles: usize,
    #[serde(default = "rk4")]
    pub solver: Solver,
    #[serde(default = "crate::reverse_sde::diffusion_steps")]
    pub steps: usize,
    #[serde(default = "tol")]
    pub rtol: f64,
    #[serde(default = "tol")]
    pub atol: f64,
    #[serde(default)]
    pub t_end: f64,
    #[serde(default)]
    pub init: InitConfig,
}

impl Sampler for FlowConfig {
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.steps)
    }
    /// A flow started from its model's own source follows that model's path; one started
    /// elsewhere (`init`) follows none.
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse {
            models: vec![&self.model],
            path: (self.init == InitConfig::Default).then_some(self.model.as_str()),
        }
    }
    fn footprint(&self) -> crate::Footprint {
        crate::Footprint::new(solver_rows(self.solver), self.steps)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        cx.model("model", &self.model, FieldKind::Velocity)?;
        check_solver(cx, self.steps, self.rtol, self.atol, self.t_end)?;
        cx.init("init", &self.init)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let m = cx.velocity_model(&self.model)?;
        let x1 = cx.initial(&self.init, self.particles, m.start())?;
        OdeSampler {
            method: self.solver.method(self.rtol, self.atol),
            steps: self.steps,
            t_start: Some(1.0),
            t_end: self.t_end,
        }
        .flow(&*m.field, &x1, drv)
    }
}
