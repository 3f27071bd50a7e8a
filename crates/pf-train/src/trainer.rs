//! The training loop, generic over what is trained: it owns the trainable variables (through
//! [`Adam`]), the Adam state, the EMA shadows and the step counter, and calls a user closure
//! `FnMut(step) -> loss` once per step.
//!
//! Step k (0-based) does, in order:
//! 1. `tch::manual_seed(step_seed(seed, k))`: every random draw of the step is a function of
//!    (seed, k) (see [`crate::seed`]), so resuming is bit-identical by construction (libtorch's
//!    generator is process-global: other threads must not draw from it during training);
//! 2. lr_k = lr · warm-up · schedule factor (see [`crate::lr_schedule`]);
//! 3. zero the gradients, call the closure, backpropagate;
//! 4. gradient norm (clipped to `grad_clip` if set) and the Adam update, then the EMA update;
//! 5. NaN/Inf bookkeeping on the device.
//!
//! There is no host synchronisation per step: the loss is accumulated on the device and read
//! every `log_every` steps (a CSV row `step,loss,lr,elapsed_s` with the mean loss since the last
//! row, the progress-bar message, a `tracing` line). At those reads, and before every checkpoint,
//! the NaN/Inf guard looks at the first step whose loss or gradient norm was not finite and stops
//! with [`Error::NonFinite`], naming that step, its batch's t range and the last good checkpoint.
//! Checkpoints (`checkpoint.safetensors` + `.json` in the output directory; see
//! [`crate::checkpoint`]) are written every `checkpoint_every` steps and at the end, atomically.
//!
//! Interrupts: before each step the loop looks at [`pf_core::interrupt::requested`] (one atomic
//! load); once SIGINT or SIGTERM has arrived it writes a checkpoint of the state after the last
//! complete step and returns [`Error::Interrupted`], so `resume` continues bit for bit.

use crate::adam::{trainable_named, Adam};
use crate::checkpoint::{scalar, TrainSidecar, FORMAT};
use crate::config::TrainConfig;
use crate::ema::Ema;
use crate::predictor::Loss;
use crate::seed::step_seed;
use crate::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pf_nets::checkpoint::{read_tensors, sidecar_path, write_json, write_tensors, Sidecar};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// One row of the loss log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogRow {
    /// Completed steps.
    pub step: usize,
    /// Mean loss over the steps since the previous row.
    pub loss: f64,
    /// The learning rate of the last of those steps.
    pub lr: f64,
    /// Wall-clock seconds since training began (all sessions).
    pub elapsed_s: f64,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct TrainReport {
    /// Completed steps at the end of the run.
    pub steps: usize,
    /// The rows logged during this run.
    pub history: Vec<LogRow>,
    /// The checkpoint written last, if any.
    pub last_checkpoint: Option<PathBuf>,
}

impl TrainReport {
    /// The last logged mean loss.
    pub fn final_loss(&self) -> Option<f64> {
        self.history.last().map(|r| r.loss)
    }
}

/// The whole rows of a loss log written by [`Trainer`] (`step,loss,lr,elapsed_s`; a row cut
/// short by a kill is skipped). The values read back are the ones logged, bit for bit (they are
/// written in Rust's shortest round-trip form).
pub fn read_log(path: impl AsRef<Path>) -> Result<Vec<LogRow>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            if f.len() != 4 {
                return None;
            }
            Some(LogRow {
                step: f[0].parse().ok()?,
                loss: f[1].parse().ok()?,
                lr: f[2].parse().ok()?,
                elapsed_s: f[3].parse().ok()?,
            })
        })
        .collect())
}

/// Appends one row; a write that fails part-way (a full disk, a file-size limit) is cut back
/// off, so the file keeps only whole rows.
fn append_row(w: &mut std::fs::File, line: &str) -> std::io::Result<()> {
    let len = w.metadata()?.len();
    let r = w.write_all(line.as_bytes()).and_then(|()| w.flush());
    if r.is_err() {
        let _ = w.set_len(len);
    }
    r
}

/// The trainer (see the module docs).
pub struct Trainer {
    cfg: TrainConfig,
    total: usize,
    adam: Adam,
    buffers: Vec<(String, Tensor)>,
    ema: Option<Ema>,
    step: usize,
    out_dir: Option<PathBuf>,
    model_meta: serde_json::Value,
    last_checkpoint: Option<PathBuf>,
    elapsed_before: f64,
    device: Device,
    loss_sum: Tensor,
    loss_count: usize,
    /// [first bad step, what (1 loss, 2 gradient), t min, t max], step −1 while all is well.
    bad: Tensor,
}

const CSV_HEADER: &str = "step,loss,lr,elapsed_s";

impl Trainer {
    /// A trainer for the trainable variables of `vs`. `steps_per_epoch` is needed for an epoch
    /// budget (see [`crate::data::Batches::steps_per_epoch`]). Nothing is written to disk unless
    /// an output directory is set with [`with_out_dir`](Self::with_out_dir).
    pub fn new(vs: &VarStore, cfg: TrainConfig, steps_per_epoch: Option<usize>) -> Result<Self> {
        cfg.validate()?;
        let total = cfg.total_steps(steps_per_epoch)?;
        let named = trainable_named(vs);
        if named.is_empty() {
            return Err(Error::config(
                "model",
                "no trainable variables",
                "build the model in the VarStore before creating the trainer",
            ));
        }
        let buffers = pf_nets::checkpoint::named_variables(vs)
            .into_iter()
            .filter(|(_, t)| !t.requires_grad())
            .collect();
        let adam = Adam::new(named, cfg.adam());
        let ema = cfg
            .ema_decay
            .map(|d| Ema::new(adam.names(), adam.params(), d));
        let device = vs.device();
        Ok(Self {
            total,
            adam,
            buffers,
            ema,
            step: 0,
            out_dir: None,
            model_meta: serde_json::Value::Null,
            last_checkpoint: None,
            elapsed_before: 0.0,
            device,
            loss_sum: Tensor::zeros([], (Kind::Double, device)),
            loss_count: 0,
            bad: Self::no_bad(device),
            cfg,
        })
    }

    fn no_bad(device: Device) -> Tensor {
        Tensor::from_slice(&[-1.0, 0.0, f64::NAN, f64::NAN]).to_device(device)
    }

    /// Writes the loss CSV and checkpoints under `dir` (created if needed).
    pub fn with_out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// The model's description stored in checkpoint sidecars (usually a pf-nets sidecar).
    pub fn with_model_meta(mut self, meta: serde_json::Value) -> Self {
        self.model_meta = meta;
        self
    }

    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }
    /// Completed steps.
    pub fn step(&self) -> usize {
        self.step
    }
    /// The run's length in steps.
    pub fn total_steps(&self) -> usize {
        self.total
    }
    pub fn adam(&self) -> &Adam {
        &self.adam
    }
    pub fn ema(&self) -> Option<&Ema> {
        self.ema.as_ref()
    }
    /// The trained parameters (same storage as the VarStore's variables).
    pub fn params(&self) -> &[Tensor] {
        self.adam.params()
    }
    pub fn last_checkpoint(&self) -> Option<&Path> {
        self.last_checkpoint.as_deref()
    }
    /// `<out_dir>/checkpoint.safetensors`.
    pub fn checkpoint_path(&self) -> Option<PathBuf> {
        self.out_dir
            .as_ref()
            .map(|d| d.join("checkpoint.safetensors"))
    }
    /// `<out_dir>/loss.csv`.
    pub fn csv_path(&self) -> Option<PathBuf> {
        self.out_dir.as_ref().map(|d| d.join("loss.csv"))
    }

    /// Copies the EMA weights into the model (for sampling after training); no-op without EMA.
    pub fn copy_ema_to_model(&mut self) {
        if let Some(e) = &self.ema {
            e.copy_to(self.adam.params_mut());
        }
    }

    /// Runs to the end of the budget. See [`run_until`](Self::run_until).
    pub fn run<L: Into<Loss>>(&mut self, f: impl FnMut(usize) -> L) -> Result<TrainReport> {
        self.run_until(self.total, f)
    }

    /// Runs until `stop` steps are completed (capped by the budget), then writes a checkpoint if
    /// there is an output directory. `f(k)` returns the loss of step k (a 0-dim tensor, or a
    /// [`Loss`] with its batch times for the NaN guard's message).
    pub fn run_until<L: Into<Loss>>(
        &mut self,
        stop: usize,
        mut f: impl FnMut(usize) -> L,
    ) -> Result<TrainReport> {
        let stop = stop.min(self.total);
        let start = Instant::now();
        let mut report = TrainReport {
            steps: self.step,
            ..Default::default()
        };
        let mut csv = self.open_csv()?;
        let bar = self.progress_bar();
        bar.set_position(self.step as u64);
        let every = self.cfg.log_every;
        let mut lr = self.cfg.lr_at(self.step, self.total);
        while self.step < stop {
            if let Some(signal) = pf_core::interrupt::requested() {
                bar.finish_and_clear();
                return Err(self.interrupted(signal, start));
            }
            let k = self.step;
            tch::manual_seed(step_seed(self.cfg.seed, k));
            lr = self.cfg.lr_at(k, self.total);
            self.adam.zero_grad();
            let loss: Loss = f(k).into();
            loss.value.backward();
            let gnorm = self.adam.step_clipped(lr, self.cfg.grad_clip);
            self.record(k, &loss, &gnorm);
            if let Some(e) = &mut self.ema {
                e.update(self.adam.params(), k);
            }
            self.step += 1;
            bar.inc(1);
            let at_end = self.step == stop;
            if self.step % every == 0 || at_end {
                self.check_finite(lr)?;
                if self.loss_count > 0 {
                    let row = self.log_row(lr, start);
                    if let Some(w) = csv.as_mut() {
                        // one write per row: a kill leaves whole rows (and at worst one cut
                        // row, which a resumed run drops)
                        let line = format!(
                            "{},{:e},{:e},{:.3}\n",
                            row.step, row.loss, row.lr, row.elapsed_s
                        );
                        append_row(w, &line)
                            .map_err(|e| Error::file(self.csv_path().unwrap_or_default(), e))?;
                    }
                    bar.set_message(format!("loss {:.4e}", row.loss));
                    bar.suspend(|| {
                        tracing::info!(step = row.step, loss = row.loss, lr = row.lr, "train");
                    });
                    report.history.push(row);
                }
            }
            let ck_due = self
                .cfg
                .checkpoint_every
                .is_some_and(|n| self.step % n == 0);
            if self.out_dir.is_some() && (ck_due || at_end) {
                self.check_finite(lr)?;
                let p = self.save_checkpoint_at(start)?;
                report.last_checkpoint = Some(p);
            }
        }
        bar.finish_and_clear();
        self.elapsed_before += start.elapsed().as_secs_f64();
        let _ = lr;
        report.steps = self.step;
        if report.last_checkpoint.is_none() {
            report.last_checkpoint = self.last_checkpoint.clone();
        }
        Ok(report)
    }

    /// Stopping on SIGINT/SIGTERM at a step boundary: a checkpoint of the current state (when
    /// there is an output directory and the state is finite), then [`Error::Interrupted`].
    fn interrupted(&mut self, signal: pf_core::interrupt::Signal, start: Instant) -> Error {
        let lr = self.cfg.lr_at(self.step, self.total);
        if let Err(e) = self.check_finite(lr) {
            return e;
        }
        let checkpoint = if self.out_dir.is_some() {
            match self.save_checkpoint_at(start) {
                Ok(p) => Some(p),
                Err(e) => return e,
            }
        } else {
            None
        };
        self.elapsed_before += start.elapsed().as_secs_f64();
        Error::Interrupted {
            step: self.step,
            signal,
            checkpoint,
        }
    }

    /// Device-side bookkeeping of one step: accumulate the loss, remember the first non-finite
    /// step with its t range. No host sync.
    fn record(&mut self, k: usize, loss: &Loss, gnorm: &Tensor) {
        tch::no_grad(|| {
            let lv = loss.value.detach().to_kind(Kind::Double);
            let _ = self.loss_sum.g_add_(&lv);
            self.loss_count += 1;
            let loss_ok = lv.isfinite();
            let ok = loss_ok.logical_and(&gnorm.isfinite());
            let first = self.bad.get(0).lt(0.0).logical_and(&ok.logical_not());
            let opts = (Kind::Double, self.device);
            let (tmin, tmax) = match &loss.t {
                Some(t) => (t.min().to_kind(Kind::Double), t.max().to_kind(Kind::Double)),
                None => (
                    Tensor::full([], f64::NAN, opts),
                    Tensor::full([], f64::NAN, opts),
                ),
            };
            let what =
                Tensor::full([], 2.0, opts).where_self(&loss_ok, &Tensor::full([], 1.0, opts));
            let rec = Tensor::stack(&[Tensor::full([], k as f64, opts), what, tmin, tmax], 0);
            self.bad = rec.where_self(&first, &self.bad);
        });
    }

    /// The NaN/Inf guard (a host sync).
    fn check_finite(&self, lr: f64) -> Result<()> {
        let rec = Vec::<f64>::try_from(&self.bad)?;
        if rec[0] < 0.0 {
            return Ok(());
        }
        let t_range = (rec[2].is_finite() && rec[3].is_finite()).then_some((rec[2], rec[3]));
        Err(Error::NonFinite {
            what: if rec[1] == 1.0 {
                "loss"
            } else {
                "gradient norm"
            }
            .into(),
            step: rec[0] as usize,
            t_range,
            last_checkpoint: self.last_checkpoint.clone(),
            lr,
        })
    }

    /// Reads and resets the loss accumulator (a host sync).
    fn log_row(&mut self, lr: f64, start: Instant) -> LogRow {
        let sum = self.loss_sum.double_value(&[]);
        let row = LogRow {
            step: self.step,
            loss: sum / self.loss_count as f64,
            lr,
            elapsed_s: self.elapsed_before + start.elapsed().as_secs_f64(),
        };
        let _ = self.loss_sum.zero_();
        self.loss_count = 0;
        row
    }

    fn progress_bar(&self) -> ProgressBar {
        if !self.cfg.progress || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar =
            ProgressBar::with_draw_target(Some(self.total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{bar:30} {pos}/{len} [{elapsed_precise}<{eta_precise}] {per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    }

    /// Opens the CSV for appending, writing the header if new; on a resumed run rows beyond the
    /// current step (and a row cut short by a kill) are dropped first, and the kept rows are
    /// rewritten atomically (temp file + rename).
    fn open_csv(&self) -> Result<Option<std::fs::File>> {
        let Some(path) = self.csv_path() else {
            return Ok(None);
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
        }
        let keep: Vec<String> = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .skip(1)
                .filter(|l| {
                    let f: Vec<&str> = l.split(',').collect();
                    f.len() == 4
                        && f[1..].iter().all(|v| v.parse::<f64>().is_ok())
                        && f[0].parse::<usize>().is_ok_and(|s| s <= self.step)
                })
                .map(str::to_string)
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut text = format!("{CSV_HEADER}\n");
        for l in keep {
            text.push_str(&l);
            text.push('\n');
        }
        pf_fs::write_bytes(&path, text.as_bytes()).map_err(|e| Error::file(&path, e.source))?;
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::file(&path, e))?;
        Ok(Some(f))
    }

    /// Every tensor of a checkpoint (see [`crate::checkpoint`]).
    fn checkpoint_tensors(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = Vec::new();
        for (n, p) in self.adam.names().iter().zip(self.adam.params()) {
            v.push((format!("model.{n}"), p.shallow_clone()));
        }
        for (n, b) in &self.buffers {
            v.push((format!("model.{n}"), b.shallow_clone()));
        }
        if let Some(e) = &self.ema {
            v.extend(e.state());
        }
        v.extend(self.adam.state());
        v.push(("train.step".into(), Tensor::from_slice(&[self.step as i64])));
        v.push(("train.loss_sum".into(), self.loss_sum.view([1])));
        v.push((
            "train.loss_count".into(),
            Tensor::from_slice(&[self.loss_count as i64]),
        ));
        v
    }

    fn save_checkpoint_at(&mut self, start: Instant) -> Result<PathBuf> {
        let path = self.checkpoint_path().ok_or_else(|| {
            Error::config("out_dir", "none", "checkpoints need an output directory")
        })?;
        write_tensors(&self.checkpoint_tensors(), &path)?;
        let side = TrainSidecar {
            format: FORMAT.into(),
            step: self.step,
            elapsed_s: self.elapsed_before + start.elapsed().as_secs_f64(),
            model: self.model_meta.clone(),
            train: self.cfg.clone(),
        };
        write_json(&side, sidecar_path(&path))?;
        self.last_checkpoint = Some(path.clone());
        Ok(path)
    }

    /// Writes a checkpoint now (to [`checkpoint_path`](Self::checkpoint_path)).
    pub fn save_checkpoint(&mut self) -> Result<PathBuf> {
        self.check_finite(self.cfg.lr_at(self.step, self.total))?;
        self.save_checkpoint_at(Instant::now())
    }

    /// Writes a checkpoint of the whole state to `path` (and its sidecar), atomically.
    pub fn save_checkpoint_to(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        write_tensors(&self.checkpoint_tensors(), path)?;
        let side = TrainSidecar {
            format: FORMAT.into(),
            step: self.step,
            elapsed_s: self.elapsed_before,
            model: self.model_meta.clone(),
            train: self.cfg.clone(),
        };
        write_json(&side, sidecar_path(path))?;
        self.last_checkpoint = Some(path.to_path_buf());
        Ok(())
    }

    /// Writes a plain pf-nets checkpoint of the model (EMA weights if `use_ema` and EMA is on)
    /// with `sidecar`: loadable by `pf_nets::checkpoint::load` and by PyTorch directly.
    pub fn save_model(
        &self,
        path: impl AsRef<Path>,
        use_ema: bool,
        sidecar: &Sidecar,
    ) -> Result<()> {
        let path = path.as_ref();
        let weights: &[Tensor] = match (&self.ema, use_ema) {
            (Some(e), true) => e.shadows(),
            _ => self.adam.params(),
        };
        let mut v: Vec<(String, Tensor)> = self
            .adam
            .names()
            .iter()
            .cloned()
            .zip(weights.iter().map(|t| t.shallow_clone()))
            .collect();
        v.extend(
            self.buffers
                .iter()
                .map(|(n, b)| (n.clone(), b.shallow_clone())),
        );
        write_tensors(&v, path)?;
        write_json(sidecar, sidecar_path(path))?;
        Ok(())
    }

    /// Restores weights, buffers, EMA shadows, Adam moments, the step and the loss accumulator
    /// from a checkpoint, so that continuing is bit-identical (on CPU) to never having stopped.
    pub fn resume(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let named = read_tensors(path)?;
        // model weights and buffers: strict through pf-nets (names and shapes)
        let mut model: Vec<(String, Tensor)> = self
            .adam
            .names()
            .iter()
            .cloned()
            .zip(self.adam.params().iter().map(|t| t.shallow_clone()))
            .collect();
        model.extend(
            self.buffers
                .iter()
                .map(|(n, b)| (n.clone(), b.shallow_clone())),
        );
        let mut pairs = Vec::new();
        for (n, dst) in &model {
            let key = format!("model.{n}");
            let src = named
                .get(&key)
                .ok_or_else(|| Error::checkpoint(path, format!("tensor `{key}` is missing")))?;
            if src.size() != dst.size() {
                return Err(Error::checkpoint(
                    path,
                    format!(
                        "tensor `{key}` has shape {:?} in the checkpoint but {:?} in the model",
                        src.size(),
                        dst.size()
                    ),
                ));
            }
            pairs.push((dst.shallow_clone(), src));
        }
        if let Some(k) = named.keys().find(|k| {
            k.strip_prefix("model.")
                .is_some_and(|n| !model.iter().any(|(m, _)| m == n))
        }) {
            return Err(Error::checkpoint(
                path,
                format!("tensor `{k}` has no counterpart in the model"),
            ));
        }
        self.adam.load_state(&named, path)?;
        if let Some(e) = &mut self.ema {
            e.load_state(&named, path)?;
        }
        let step = scalar(&named, "train.step", path)? as usize;
        let loss_sum = scalar(&named, "train.loss_sum", path)?;
        let loss_count = scalar(&named, "train.loss_count", path)? as usize;
        tch::no_grad(|| {
            for (mut dst, src) in pairs {
                dst.copy_(&src.to_device(dst.device()).to_kind(dst.kind()));
            }
        });
        self.adam.set_updates(step as u64);
        self.step = step;
        self.loss_sum = Tensor::full([], loss_sum, (Kind::Double, self.device));
        self.loss_count = loss_count;
        self.bad = Self::no_bad(self.device);
        match crate::checkpoint::read_sidecar(path) {
            Ok(side) => {
                self.elapsed_before = side.elapsed_s;
                if side.train.seed != self.cfg.seed {
                    tracing::warn!(
                        "resuming {} trained with seed {} under seed {}: the continuation differs from an uninterrupted run",
                        path.display(),
                        side.train.seed,
                        self.cfg.seed
                    );
                }
            }
            Err(e) => tracing::warn!("{e}; elapsed time restarts at 0"),
        }
        self.last_checkpoint = Some(path.to_path_buf());
        Ok(())
    }
}
