//! `validate`: every value of a config checked, errors naming the key as the user wrote it
//! (`model[0].train.lr`, `sampler[2].eta`), and the consistency between target, models and
//! samplers.

use super::*;
use anyhow::bail;
use pf_core::field::FieldKind;
use pf_sample::sampler::{Check, ModelInfo};

fn pos(key: &str, v: usize) -> Result<()> {
    if v == 0 {
        bail!("invalid {key} = 0: must be ≥ 1");
    }
    Ok(())
}

fn positive(key: &str, v: f64) -> Result<()> {
    if !(v > 0.0 && v.is_finite()) {
        bail!("invalid {key} = {v}: must be finite and > 0");
    }
    Ok(())
}

impl RunConfig {
    /// Checks every value and the consistency between target, models and samplers.
    pub fn validate(&self) -> Result<()> {
        self.target.validate()?;
        let target = self.target.build().context("target")?;
        let dim = target.dim();
        let mut names = std::collections::HashSet::new();
        for (i, m) in self.models.iter().enumerate() {
            let p = format!("model[{i}]");
            if !names.insert(m.name.as_str()) {
                bail!(
                    "invalid {p}.name = {:?}: model names must be unique",
                    m.name
                );
            }
            m.validate(&p, dim)?;
        }
        let mixture = self.target.mixture().is_some();
        for (i, e) in self.exact.iter().enumerate() {
            let p = format!("exact[{i}]");
            if !names.insert(e.name.as_str()) {
                bail!(
                    "invalid {p}.name = {:?}: model names must be unique across [[model]] and [[exact]]",
                    e.name
                );
            }
            e.check(&p, &target.name(), mixture)?;
        }
        self.validate_samplers(&*target)?;
        if let Some(l) = &self.likelihood {
            l.validate(&self.model_infos(), dim)?;
        }
        self.output.validate()?;
        if self.samplers.is_empty() && self.likelihood.is_none() && self.models.is_empty() {
            bail!("nothing to do: the config has no [[model]], [[sampler]] or [likelihood]");
        }
        Ok(())
    }

    /// What each `[[model]]` and `[[exact]]` serves, as samplers' checks see it.
    pub fn model_infos(&self) -> Vec<ModelInfo> {
        let exact = self.exact.iter().map(ExactConfig::info);
        self.models
            .iter()
            .map(ModelConfig::info)
            .chain(exact)
            .collect()
    }

    /// Each sampler's label, its common keys, then the method's own check.
    fn validate_samplers(&self, target: &dyn Target) -> Result<()> {
        let infos = self.model_infos();
        let objectives = pf_train::objective::installed();
        let providers = |k: FieldKind| objectives.providers(k);
        let ratio = crate::discriminator::DiscriminatorFactory;
        let mut labels = std::collections::HashSet::new();
        for (i, s) in self.samplers.iter().enumerate() {
            let p = format!("sampler[{i}]");
            let label = s.label();
            if !labels.insert(label.clone()) {
                bail!("invalid {p}.name = {label:?}: sampler names must be unique (set name = \"...\")");
            }
            if label.is_empty()
                || !label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!("invalid {p}.name = {label:?}: use letters, digits, '-' and '_'");
            }
            pos(&format!("{p}.particles"), s.sampler.particles())?;
            if let Some(r) = s.record {
                pos(&format!("{p}.record"), r)?;
            }
            if let Some(c) = s.chunk {
                pos(&format!("{p}.chunk"), c)?;
                if !s.sampler.clone_box().set_particles(c) {
                    bail!("invalid {p}.chunk = {c}: {} does not run in chunks (its particles interact, or it has no chunked form)", s.method);
                }
            }
            let cx = Check {
                key: p,
                method: s.method.clone(),
                target,
                models: &infos,
                providers: &providers,
                ratio: Some(&ratio as &dyn RatioFactory),
            };
            s.sampler.check(&cx)?;
        }
        Ok(())
    }
}

impl ModelConfig {
    /// Checks the net, path, training budget and objective of the model at `p` (`model[0]`).
    fn validate(&self, p: &str, dim: usize) -> Result<()> {
        self.net
            .validate()
            .map_err(|e| keyed(e, &format!("{p}.net"), "model."))?;
        if self.net.dim() as usize != dim {
            bail!(
                "invalid {p}.net.dim = {}: the target has dimension {dim}",
                self.net.dim()
            );
        }
        if matches!(self.net, NetConfig::Discriminator(_)) {
            bail!("invalid {p}.net.arch = \"discriminator\": a trained model needs score-mlp, ddpm-mlp or vector-mlp");
        }
        self.path.validate(&format!("{p}.path"))?;
        self.train.validate().map_err(|e| keyed(e, p, ""))?;
        match (self.train.steps, self.train.epochs) {
            (Some(0), _) => bail!("invalid {p}.train.steps = 0: must be ≥ 1"),
            (_, Some(0)) => bail!("invalid {p}.train.epochs = 0: must be ≥ 1"),
            _ => {}
        }
        if self.train.epochs.is_some() && self.dataset.is_none() {
            bail!("invalid {p}.train.epochs: an epoch budget needs a fixed dataset ({p}.dataset = N), or use {p}.train.steps");
        }
        if let Some(n) = self.dataset {
            pos(&format!("{p}.dataset"), n)?;
        }
        self.loss.objective.check(p, self.param, dim)?;
        Ok(())
    }

    /// What the trained net serves.
    pub fn info(&self) -> ModelInfo {
        let o = &self.loss.objective;
        ModelInfo {
            name: self.name.clone(),
            objective: self.loss.kind.clone(),
            provides: self.loss.provides().to_vec(),
            path: o.on_gaussian_path().then(|| self.path.clone()),
            ddpm_steps: o.ddpm_steps(),
        }
    }
}

impl LikelihoodConfig {
    fn validate(&self, models: &[ModelInfo], dim: usize) -> Result<()> {
        let Some(m) = models.iter().find(|m| m.name == self.model) else {
            bail!(
                "invalid likelihood.model = {:?}: no [[model]] has that name",
                self.model
            );
        };
        let score = m.provides.contains(&FieldKind::Score);
        let velocity = m.provides.contains(&FieldKind::Velocity);
        if velocity && !score && m.path.is_none() {
            bail!("invalid likelihood.model = {:?}: the linear path from an arbitrary source has no closed-form prior density", self.model);
        }
        if !(score || velocity) {
            bail!(
                "invalid likelihood.model = {:?}: needs a score or velocity model on a Gaussian path (trained with {})",
                self.model,
                m.objective
            );
        }
        if !(self.t_eps > 0.0 && self.t_eps < 1.0) {
            bail!(
                "invalid likelihood.t_eps = {}: need 0 < T_ε < 1",
                self.t_eps
            );
        }
        positive("likelihood.rtol", self.rtol)?;
        positive("likelihood.atol", self.atol)?;
        if !["exact", "hutchinson"].contains(&self.trace.as_str()) {
            bail!(
                "invalid likelihood.trace = {:?}: allowed: exact, hutchinson",
                self.trace
            );
        }
        if !["gaussian", "rademacher"].contains(&self.probe.as_str()) {
            bail!(
                "invalid likelihood.probe = {:?}: allowed: gaussian, rademacher",
                self.probe
            );
        }
        pos("likelihood.probes", self.probes)?;
        if let Some(c) = self.chunk {
            pos("likelihood.chunk", c)?;
        }
        match self.points {
            LikelihoodPoints::Grid { lo, hi, n } => {
                pos("likelihood.points.n", n)?;
                if !(lo < hi && lo.is_finite() && hi.is_finite()) {
                    bail!("invalid likelihood.points.lo/hi = {lo}/{hi}: need lo < hi");
                }
                if dim != 1 {
                    bail!("invalid likelihood.points.kind = \"grid\": a grid needs a 1-D target (this one has dimension {dim}); use kind = \"samples\"");
                }
            }
            LikelihoodPoints::Samples { n } => pos("likelihood.points.n", n)?,
        }
        Ok(())
    }
}

impl OutputConfig {
    fn validate(&self) -> Result<()> {
        pos("output.reference", self.reference)?;
        pos("output.gif_frames", self.gif_frames)?;
        pos("output.plot_particles", self.plot_particles)?;
        if let Some(w) = self.window {
            if !(w[0][0] < w[0][1] && w[1][0] < w[1][1]) {
                bail!(
                    "invalid output.window = {w:?}: need [[x_lo, x_hi], [y_lo, y_hi]] with lo < hi"
                );
            }
        }
        Ok(())
    }
}
