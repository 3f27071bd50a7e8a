//! The shared sampling driver: what every sampler does around its update rule, written once —
//! recording trajectory frames with a stride, the non-finite guard, and the step bookkeeping.
//!
//! A sampler calls [`Driver::begin`] with its initial particles, [`Driver::step`] after each
//! update (step k = 1..=steps, at time t when the method has a time axis), and puts
//! [`Driver::trajectory`] into its [`crate::SampleOut`]. With recording off and the guard's
//! interval not reached, a step costs no tensor work and no host read.

use crate::trajectory::{Guard, Recorder, Trajectory};
use crate::{Error, Result};
use tch::Tensor;

/// Recording and health checks for one sampler run.
#[derive(Debug, Default)]
pub struct Driver {
    rec: Recorder,
    guard: Guard,
    method: String,
    hint: String,
    steps: usize,
    failed: Option<(usize, Option<f64>)>,
}

impl Driver {
    /// `record`: keep a frame every `record` steps (None: no trajectory); `record_particles`:
    /// keep only the first ones of each frame.
    pub fn new(record: Option<usize>, record_particles: Option<usize>) -> Self {
        Self {
            rec: Recorder::new(record, record_particles),
            ..Self::default()
        }
    }

    /// The same driver with another guard interval.
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.guard = guard;
        self
    }

    /// Starts a run of `method` over `steps` steps from `x` at time `t0` (None: no time axis).
    /// `hint` is the knob a non-finite error names (e.g. "lower eta (the step size)").
    pub fn begin(&mut self, method: &str, hint: &str, steps: usize, t0: Option<f64>, x: &Tensor) {
        self.method = method.into();
        self.hint = hint.into();
        self.steps = steps;
        self.failed = None;
        self.rec.offer(0, t0.unwrap_or(0.0), x, false);
    }

    /// After step `k` (1-based) the particles are `x` at time `t`: records a frame on the stride
    /// (and at the last step) and checks for NaN/Inf on the guard's interval and at the last step.
    pub fn step(&mut self, k: usize, t: Option<f64>, x: &Tensor) -> Result<()> {
        let last = k == self.steps;
        self.rec.offer(k, t.unwrap_or(0.0), x, last);
        self.guard
            .check(x, &self.method, k, t, &self.hint, last)
            .inspect_err(|_| {
                self.failed.get_or_insert((k, t));
            })
    }

    /// [`step`](Self::step) for callbacks that cannot return an error (ODE integrators): the
    /// first failure is kept and reported by [`finish_check`](Self::finish_check).
    pub fn observe(&mut self, k: usize, t: Option<f64>, x: &Tensor) {
        if self.failed.is_none() {
            let _ = self.step(k, t, x);
        } else {
            self.rec.offer(k, t.unwrap_or(0.0), x, k == self.steps);
        }
    }

    /// Records a frame without a health check (adaptive solvers' accepted steps).
    pub fn record(&mut self, k: usize, t: f64, x: &Tensor) {
        self.rec.offer(k, t, x, false);
    }

    /// The error of the first failed [`observe`](Self::observe), or a final check of `x` at `t`.
    pub fn finish_check(&mut self, x: &Tensor, t: Option<f64>) -> Result<()> {
        if let Some((step, t)) = self.failed {
            return Err(Error::NonFinite {
                method: self.method.clone(),
                step,
                t,
                hint: self.hint.clone(),
            });
        }
        self.guard
            .check(x, &self.method, self.steps, t, &self.hint, true)
    }

    /// The recorded frames (moved to the CPU), or None when recording is off.
    pub fn trajectory(&mut self) -> Option<Trajectory> {
        std::mem::take(&mut self.rec).finish()
    }
}
