//! Recording particle trajectories for animations, with a stride; free when off. The per-step
//! [`Guard`]: non-finite particles and interrupts.

use crate::{Error, Result};
use tch::{Kind, Tensor};

/// Frames of the particle cloud every `stride` steps (frame 0 is the initial state). Frames stay
/// on the sampling device as copies until [`Recorder::finish`]; recording is skipped entirely
/// when the stride is `None`.
#[derive(Debug, Default)]
pub struct Recorder {
    stride: Option<usize>,
    max_particles: Option<i64>,
    frames: Vec<Tensor>,
    steps: Vec<usize>,
    times: Vec<f64>,
}

/// A recorded trajectory: `frames[i]` is [N, D] float32 on the CPU at step `steps[i]`, time `times[i]`.
#[derive(Debug)]
pub struct Trajectory {
    pub frames: Vec<Tensor>,
    pub steps: Vec<usize>,
    pub times: Vec<f64>,
}

/// Health checks on the particles every `every` steps: one host read per check, none between.
#[derive(Clone, Copy, Debug)]
pub struct Guard {
    pub every: usize,
}

impl Default for Guard {
    fn default() -> Self {
        Self { every: 100 }
    }
}

impl Guard {
    /// Errors with the method, step, time and hint if `x` holds a NaN or Inf (checked on the
    /// interval, and always when `force`); with [`Error::Interrupted`] at every step once SIGINT
    /// or SIGTERM has arrived ([`pf_core::interrupt::requested`]: one atomic load, no host sync).
    pub fn check(
        &self,
        x: &Tensor,
        method: &str,
        step: usize,
        t: impl Into<Option<f64>>,
        hint: &str,
        force: bool,
    ) -> Result<()> {
        if let Some(signal) = pf_core::interrupt::requested() {
            return Err(Error::Interrupted {
                method: method.into(),
                step,
                signal,
            });
        }
        if (force || (self.every > 0 && step % self.every == 0)) && !all_finite(x) {
            return Err(Error::NonFinite {
                method: method.into(),
                step,
                t: t.into(),
                hint: hint.into(),
            });
        }
        Ok(())
    }
}

/// Whether every element is finite (one host read).
pub fn all_finite(x: &Tensor) -> bool {
    x.isfinite().all().int64_value(&[]) != 0
}

impl Recorder {
    /// `stride`: record every `stride` steps (None: off). `max_particles`: keep only the first
    /// ones in each frame (plots rarely need all).
    pub fn new(stride: Option<usize>, max_particles: Option<usize>) -> Self {
        Self {
            stride: stride.filter(|s| *s > 0),
            max_particles: max_particles.map(|m| m as i64),
            ..Self::default()
        }
    }
    /// Whether recording is on.
    pub fn on(&self) -> bool {
        self.stride.is_some()
    }
    /// Offers the state after `step` (at time t); kept when step is a multiple of the stride,
    /// or when `last` is set.
    pub fn offer(&mut self, step: usize, t: f64, x: &Tensor, last: bool) {
        let Some(s) = self.stride else { return };
        if step % s == 0 || (last && self.steps.last() != Some(&step)) {
            let n = x.size()[0];
            let keep = self.max_particles.map_or(n, |m| m.min(n));
            self.frames.push(x.narrow(0, 0, keep).detach().copy());
            self.steps.push(step);
            self.times.push(t);
        }
    }
    /// The recorded frames moved to the CPU as float32, or `None` when off.
    pub fn finish(self) -> Option<Trajectory> {
        self.stride?;
        Some(Trajectory {
            frames: self
                .frames
                .iter()
                .map(|f| f.to_kind(Kind::Float).to_device(tch::Device::Cpu))
                .collect(),
            steps: self.steps,
            times: self.times,
        })
    }
}
