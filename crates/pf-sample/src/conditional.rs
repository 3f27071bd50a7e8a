//! Seed 004's conditional simulation: for ONE fixed point z, the conditional ODE and the
//! Langevin-corrected conditional SDE of a Gaussian conditional path, whose law is known at
//! every time.
//!
//! Time. Seed 004 runs s = 0 (noise) → s = 1 (data) with p_s(x|z) = N(α_s z, β_s² I); pflow
//! runs t = 1 (prior) → t = 0 (data), so s = 1 − t, and the configured path (pf-core's
//! [`PathConfig`]) gives α(t) and β(t) (pflow's σ(t), written β here because σ is the SDE's
//! noise level, the `sigma` key). The seed's linear path α_s = s, β_s = 1 − s is
//! `cond-linear`: α(t) = 1 − t, β(t) = t.
//!
//! Fields, on pflow's axis, with d = x − α(t) z:
//!   conditional velocity v(x, t|z) = α'(t) z + (β'(t)/β(t)) d   (the seed's u_s = −v(x, 1 − s)),
//!   conditional score    s(x, t|z) = −d / β(t)².
//! The seed's ODE dX = u_s ds and SDE dX = [u_s + ½σ² ∇log p_s] ds + σ dW, integrated from
//! t = 1 down to `t_end` by Euler–Maruyama with h = (1 − t_end)/steps, are the step
//!   x ← x − h [α'(t) z + λ(t) d] + σ √h ξ,   λ(t) = β'/β + σ²/(2β²),
//! from the exact law at t = 1 (N(0, I) on the `cond-*` paths). For every σ ≥ 0 the exact law
//! at time t is N(α(t) z, β(t)² I): the Langevin term leaves it unchanged.
//!
//! Discretisation: d's mean and variance obey m ← (1 − hλ) m + (α(t) − hα'(t) − α(t − h)) z and
//! V ← (1 − hλ)² V + σ² h. On a path with α linear in t the mean stays exact, and on
//! `cond-linear` with σ = 0 the step is exact (each trajectory is a straight line); otherwise
//! [`Conditional::euler_law`] gives the law the scheme actually samples. λ grows like
//! σ²/(2β²) as β → 0, so the SDE needs hλ ≤ 1 on the whole grid (the check names `t_end`):
//! beyond it a step overshoots α z.

use crate::driver::Driver;
use crate::sampler::{Check, Ctx, Quick, Sampler};
use crate::{Result, SampleOut};
use pf_core::path::{Coeffs, GaussianPath, PathConfig};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// The largest h·λ(t) a grid may reach (see the module docs).
pub const MAX_STIFFNESS: f64 = 1.0;

/// Euler–Maruyama for the conditional dynamics of the point `z`, from t = 1 to `t_end`.
#[derive(Clone, Debug)]
pub struct Conditional {
    pub z: Vec<f64>,
    /// Noise level σ (0: the conditional ODE).
    pub sigma: f64,
    pub steps: usize,
    /// End time in (0, 1): at t = 0 the law is the point mass at z.
    pub t_end: f64,
}

/// The law at one grid time: N((α(t) + c) z, std² I) (exact: c = 0, std = β(t)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Law {
    pub t: f64,
    /// The mean's offset from α(t) z, as a multiple of z.
    pub offset: f64,
    pub std: f64,
}

/// Largest mean and std errors of the particles against N(α z, β² I), in units of β.
#[derive(Clone, Copy, Debug, Default)]
struct LawError {
    mean: f64,
    std: f64,
}

impl Conditional {
    /// The step size h.
    pub fn h(&self) -> f64 {
        (1.0 - self.t_end) / self.steps as f64
    }

    /// Time after step k: 1 − k h (t_end exactly after the last).
    pub fn time(&self, k: usize) -> f64 {
        if k == self.steps {
            self.t_end
        } else {
            1.0 - k as f64 * self.h()
        }
    }

    /// λ(t) = β'/β + σ²/(2β²), the rate at which a step pulls x towards α(t) z.
    fn rate(&self, c: &Coeffs) -> f64 {
        c.d_sigma / c.sigma + 0.5 * self.sigma * self.sigma / (c.sigma * c.sigma)
    }

    /// The largest h·λ(t) over the step times, and where it occurs.
    pub fn stiffness(&self, path: &dyn GaussianPath) -> (f64, f64) {
        (0..self.steps)
            .map(|k| {
                let t = self.time(k);
                (self.h() * self.rate(&path.coeffs(t)), t)
            })
            .fold((0.0, 1.0), |a, b| if b.0 > a.0 { b } else { a })
    }

    /// The smallest `t_end` (on a 1e-4 grid) with stiffness ≤ [`MAX_STIFFNESS`] for these σ and
    /// steps (bisection; stiffness falls as t_end rises).
    pub fn min_t_end(&self, path: &dyn GaussianPath) -> f64 {
        let stiff = |t_end: f64| {
            Conditional {
                t_end,
                ..self.clone()
            }
            .stiffness(path)
            .0
        };
        if stiff(1e-4) <= MAX_STIFFNESS {
            return 1e-4;
        }
        let (mut lo, mut hi) = (1e-4, 0.99);
        while hi - lo > 1e-4 {
            let mid = 0.5 * (lo + hi);
            if stiff(mid) <= MAX_STIFFNESS {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// The law Euler–Maruyama samples after each step k = 1..=steps (module docs' recursion),
    /// from the exact law at t = 1.
    pub fn euler_law(&self, path: &dyn GaussianPath) -> Vec<Law> {
        let h = self.h();
        let (mut m, mut v) = (0.0, path.coeffs(1.0).sigma.powi(2));
        (0..self.steps)
            .map(|k| {
                let (t, tn) = (self.time(k), self.time(k + 1));
                let c = path.coeffs(t);
                let a = 1.0 - h * self.rate(&c);
                m = a * m + (c.alpha - h * c.d_alpha - path.coeffs(tn).alpha);
                v = a * a * v + self.sigma * self.sigma * h;
                Law {
                    t: tn,
                    offset: m,
                    std: v.sqrt(),
                }
            })
            .collect()
    }

    /// Runs `n` particles on `device`. Diagnostics (module docs' law, errors in units of β(t)):
    /// `mean_err_*` = max over coordinates of |mean − α z|/β, `std_err_*` = max of |std/β − 1|,
    /// at the step nearest t = ½ (`_mid`), at `t_end` (`_end`), and the largest over every tenth
    /// of the run and those two (`_max`); `euler_std_bias_end`: the scheme's own std error at
    /// t_end ([`euler_law`](Self::euler_law)), the part of `std_err_end` that is not noise.
    pub fn run(
        &self,
        path: &dyn GaussianPath,
        n: usize,
        device: Device,
        drv: &mut Driver,
    ) -> Result<SampleOut> {
        let dim = self.z.len() as i64;
        let z = Tensor::from_slice(&self.z)
            .to_kind(Kind::Float)
            .to_device(device)
            .view([1, dim]);
        let c1 = path.coeffs(1.0);
        let mut x =
            Tensor::randn([n as i64, dim], (Kind::Float, device)) * c1.sigma + &z * c1.alpha;
        let (h, noise) = (self.h(), self.sigma * self.h().sqrt());
        let every = (self.steps / 10).max(1);
        let mid = ((0.5 / h).round() as usize).clamp(1, self.steps);
        let (mut at_mid, mut at_end, mut worst) = (
            LawError::default(),
            LawError::default(),
            LawError::default(),
        );
        drv.begin(
            "conditional",
            "use more steps, a larger t_end or a smaller sigma",
            self.steps,
            Some(1.0),
            &x,
        );
        tch::no_grad(|| -> Result<()> {
            for k in 0..self.steps {
                let c = path.coeffs(self.time(k));
                let d = &x - &z * c.alpha;
                x -= (&z * c.d_alpha + d * self.rate(&c)) * h;
                if noise > 0.0 {
                    x += x.randn_like() * noise;
                }
                let (k1, t) = (k + 1, self.time(k + 1));
                drv.step(k1, Some(t), &x)?;
                if k1 % every == 0 || k1 == mid || k1 == self.steps {
                    let e = law_error(&x, &self.z, &path.coeffs(t))?;
                    worst = LawError {
                        mean: e.mean.max(worst.mean),
                        std: e.std.max(worst.std),
                    };
                    if k1 == mid {
                        at_mid = e;
                    }
                    if k1 == self.steps {
                        at_end = e;
                    }
                }
            }
            Ok(())
        })?;
        let nfe = self.steps * if self.sigma > 0.0 { 2 } else { 1 };
        let bias = self
            .euler_law(path)
            .last()
            .map_or(0.0, |l| l.std / path.coeffs(self.t_end).sigma - 1.0);
        Ok(SampleOut::new(x, drv.trajectory(), nfe)
            .with("mean_err_mid", at_mid.mean)
            .with("std_err_mid", at_mid.std)
            .with("mean_err_end", at_end.mean)
            .with("std_err_end", at_end.std)
            .with("mean_err_max", worst.mean)
            .with("std_err_max", worst.std)
            .with("euler_std_bias_end", bias))
    }
}

/// The particles' largest per-coordinate mean error |x̄ − α z|/β and std error |s/β − 1|
/// against N(α z, β² I) (one host read).
fn law_error(x: &Tensor, z: &[f64], c: &Coeffs) -> Result<LawError> {
    let host = |t: Tensor| Vec::<f64>::try_from(t.to_device(Device::Cpu));
    let mean = host(x.mean_dim(0, false, Kind::Double))?;
    let std = host(x.to_kind(Kind::Double).std_dim(0, true, false))?;
    let mut e = LawError::default();
    for ((m, s), zd) in mean.iter().zip(&std).zip(z) {
        e.mean = e.mean.max((m - c.alpha * zd).abs() / c.sigma);
        e.std = e.std.max((s / c.sigma - 1.0).abs());
    }
    Ok(e)
}

/// `method = "conditional"`: seed 004's conditional ODE (`sigma = 0`) or SDE for the fixed
/// point `z` (one value per target dimension) on the Gaussian conditional `path`, from t = 1 to
/// `t_end`; diagnostics measure the particles against the exact law N(α(t) z, β(t)² I).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionalConfig {
    pub z: Vec<f64>,
    #[serde(default = "cond_linear")]
    pub path: PathConfig,
    #[serde(default)]
    pub sigma: f64,
    #[serde(default = "crate::ula::particles")]
    pub particles: usize,
    #[serde(default = "crate::reverse_sde::diffusion_steps")]
    pub steps: usize,
    #[serde(default = "crate::reverse_sde::t_end")]
    pub t_end: f64,
}

fn cond_linear() -> PathConfig {
    PathConfig::CondLinear {}
}

impl ConditionalConfig {
    fn scheme(&self) -> Conditional {
        Conditional {
            z: self.z.clone(),
            sigma: self.sigma,
            steps: self.steps,
            t_end: self.t_end,
        }
    }
}

impl Sampler for ConditionalConfig {
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.steps)
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::none()
    }
    fn footprint(&self) -> crate::Footprint {
        crate::Footprint::new(6.0, self.steps)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        let dim = cx.dim();
        if self.z.len() != dim {
            return Err(cx.invalid(
                "z",
                format!("{:?}", self.z),
                &format!("give {dim} values (one per dimension of the target)"),
            ));
        }
        if self.z.iter().any(|v| !v.is_finite()) {
            return Err(cx.invalid("z", format!("{:?}", self.z), "values must be finite"));
        }
        self.path.validate(&format!("{}.path", cx.key))?;
        cx.non_negative("sigma", self.sigma)?;
        cx.at_least_one("steps", self.steps)?;
        if !(self.t_end > 0.0 && self.t_end < 1.0) {
            return Err(cx.invalid(
                "t_end",
                self.t_end,
                "must be in (0, 1): at t = 0 the conditional law is the point z",
            ));
        }
        let path = self.path.build()?;
        let (stiff, at) = self.scheme().stiffness(&*path);
        if stiff > MAX_STIFFNESS {
            let min = self.scheme().min_t_end(&*path);
            return Err(cx.invalid(
                "t_end",
                self.t_end,
                &format!(
                    "Euler–Maruyama overshoots near t = 0 with sigma = {} and {} steps (h·λ = {stiff:.3} > {MAX_STIFFNESS} at t = {at:.4}); use t_end ≥ {min:.4}, more steps or a smaller sigma",
                    self.sigma, self.steps
                ),
            ));
        }
        Ok(())
    }
    fn quick(&mut self, q: &Quick) -> Option<usize> {
        Quick::cap(&mut self.particles, q.particles);
        Quick::cap(&mut self.steps, q.steps);
        // fewer steps are stiffer: keep the grid stable
        if let Ok(path) = self.path.build() {
            if self.steps > 0 && self.scheme().stiffness(&*path).0 > MAX_STIFFNESS {
                self.t_end = self.t_end.max(self.scheme().min_t_end(&*path));
            }
        }
        Some(self.steps)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let path = self.path.build()?;
        if self.z.len() != cx.dim() {
            return Err(crate::Error::invalid(
                "z",
                format!("{:?}", self.z),
                &format!("give {} values (one per dimension of the target)", cx.dim()),
            ));
        }
        self.scheme().run(&*path, self.particles, cx.device, drv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::{Models, NoModels};
    use pf_core::field::FieldKind;
    use pf_core::path::CondPath;
    use pf_core::target::{GaussianMixture, Target};

    const Z: [f64; 2] = [1.5, -0.5];

    /// Per-coordinate mean and std (unbiased) of a frame.
    fn moments(x: &Tensor) -> (Vec<f64>, Vec<f64>) {
        let x = x.to_kind(Kind::Double);
        let m = Vec::<f64>::try_from(x.mean_dim(0, false, Kind::Double)).unwrap();
        let s = Vec::<f64>::try_from(x.std_dim(0, true, false)).unwrap();
        (m, s)
    }

    /// Runs `c` with `n` particles recording every `stride` steps and checks every frame after
    /// the start against the exact law N(α z, β² I): the mean within 4 standard errors
    /// (std/√n), the std within 4 standard errors (std/√(2n)) plus the scheme's own std bias
    /// from [`Conditional::euler_law`] (and the mean offset it predicts). Returns the largest
    /// |std/β − 1| seen.
    fn check_law(c: &Conditional, path: &dyn GaussianPath, n: usize, stride: usize) -> f64 {
        let out = c
            .run(path, n, Device::Cpu, &mut Driver::new(Some(stride), None))
            .unwrap();
        let tr = out.trajectory.unwrap();
        let euler = c.euler_law(path);
        let mut worst: f64 = 0.0;
        for (f, &k) in tr.frames.iter().zip(&tr.steps).skip(1) {
            let law = euler[k - 1];
            let co = path.coeffs(law.t);
            let (m, s) = moments(f);
            for (d, &zd) in Z.iter().enumerate() {
                let se_m = law.std / (n as f64).sqrt();
                let se_s = law.std / (2.0 * n as f64).sqrt();
                let bias_m = (law.offset * zd).abs();
                let bias_s = (law.std - co.sigma).abs();
                let (dm, ds) = ((m[d] - co.alpha * zd).abs(), (s[d] - co.sigma).abs());
                assert!(
                    dm < 4.0 * se_m + bias_m + 1e-6,
                    "t = {}: mean {} vs {} (se {se_m}, Euler offset {bias_m})",
                    law.t,
                    m[d],
                    co.alpha * zd
                );
                assert!(
                    ds < 4.0 * se_s + bias_s + 1e-6,
                    "t = {}: std {} vs {} (se {se_s}, Euler bias {bias_s})",
                    law.t,
                    s[d],
                    co.sigma
                );
                worst = worst.max((s[d] / co.sigma - 1.0).abs());
            }
        }
        worst
    }

    /// The conditional ODE on seed 004's linear path: every trajectory is a straight line
    /// x_t = (1 − t) z + t ε, so Euler is exact (the recursion predicts no bias to rounding)
    /// and every frame is N((1 − t) z, t² I) up to sampling noise.
    #[test]
    fn ode_on_the_linear_path_follows_the_exact_law() {
        let _rng = pf_core::rng::seed_exclusive(41);
        let path = CondPath::linear();
        let c = Conditional {
            z: Z.to_vec(),
            sigma: 0.0,
            steps: 200,
            t_end: 1e-3,
        };
        for l in c.euler_law(&path) {
            let co = path.coeffs(l.t);
            assert!(l.offset.abs() < 1e-12 && (l.std - co.sigma).abs() < 1e-9 * co.sigma.max(1e-3));
        }
        let worst = check_law(&c, &path, 20_000, 20);
        println!("cond-linear ODE: largest |std/β − 1| over frames {worst:.4}");
    }

    /// On the √t path Euler is not exact: the recursion's std bias (measured here, a few % near
    /// t_end with 200 steps) is what the particles show, within sampling noise.
    #[test]
    fn ode_on_the_sqrt_path_shows_the_predicted_euler_bias() {
        let _rng = pf_core::rng::seed_exclusive(42);
        let path = CondPath::sqrt();
        let c = Conditional {
            z: Z.to_vec(),
            sigma: 0.0,
            steps: 200,
            t_end: 0.01,
        };
        let last = *c.euler_law(&path).last().unwrap();
        let bias = last.std / path.coeffs(c.t_end).sigma - 1.0;
        println!("cond-sqrt ODE, 200 steps: Euler std bias at t_end = 0.01: {bias:.4}");
        assert!(bias.abs() > 1e-3 && bias.abs() < 0.2, "{bias}");
        check_law(&c, &path, 20_000, 20);
    }

    /// The conditional SDE with σ = 1 keeps the same law at every time: the frames match
    /// N(α z, β² I) within noise plus the scheme's std bias, which stays under 2 % for
    /// 1000 steps down to t_end = 0.1 (largest at t_end, where λ ≈ σ²/(2β²) is stiffest).
    #[test]
    fn sde_keeps_the_exact_law_at_every_time() {
        let _rng = pf_core::rng::seed_exclusive(43);
        let path = CondPath::linear();
        for (sigma, t_end) in [(1.0, 0.1), (0.5, 0.05)] {
            let c = Conditional {
                z: Z.to_vec(),
                sigma,
                steps: 1000,
                t_end,
            };
            assert!(c.stiffness(&path).0 <= MAX_STIFFNESS);
            let last = *c.euler_law(&path).last().unwrap();
            let bias = last.std / t_end - 1.0;
            assert!(bias.abs() < 0.02, "σ = {sigma}: Euler std bias {bias}");
            let worst = check_law(&c, &path, 20_000, 100);
            println!("cond-linear SDE σ = {sigma}, t_end = {t_end}: Euler std bias at t_end {bias:.4}, largest |std/β − 1| over frames {worst:.4}");
        }
    }

    fn check_cx<'a>(
        target: &'a dyn Target,
        providers: &'a dyn Fn(FieldKind) -> Vec<String>,
    ) -> Check<'a> {
        Check {
            key: "sampler[3]".into(),
            method: "conditional".into(),
            target,
            models: &[],
            providers,
            ratio: None,
        }
    }

    fn config(text: &str) -> ConditionalConfig {
        toml::from_str(text).unwrap()
    }

    /// `z` must have one value per target dimension; an overshooting grid names `t_end` and
    /// proposes a value that passes.
    #[test]
    fn checks_name_the_keys() {
        let target = GaussianMixture::eight_gaussians(2.0, 0.2).unwrap();
        let providers = |_: FieldKind| Vec::new();
        let cx = check_cx(&target, &providers);
        let e = config("z = [1.0, 2.0, 3.0]")
            .check(&cx)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid sampler[3].z = [1.0, 2.0, 3.0]: give 2 values (one per dimension of the target)"
        );
        config("z = [1.0, 2.0]").check(&cx).unwrap();
        let e = config("z = [1.0, 2.0]\nt_end = 0.0")
            .check(&cx)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("invalid sampler[3].t_end = 0:"), "{e}");
        let e = config("z = [1.0, 2.0]\npath = { kind = \"vp\", beta_min = -1.0 }")
            .check(&cx)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("invalid sampler[3].path.beta_min = -1"),
            "{e}"
        );
        let bad = config("z = [1.0, 2.0]\nsigma = 1.0\nt_end = 0.01");
        let e = bad.check(&cx).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid sampler[3].t_end = 0.01: Euler–Maruyama overshoots"),
            "{e}"
        );
        let min = bad.scheme().min_t_end(&CondPath::linear());
        assert!(e.contains(&format!("use t_end ≥ {min:.4}")), "{e}");
        let fixed = ConditionalConfig {
            t_end: min,
            ..bad.clone()
        };
        fixed.check(&cx).unwrap();
        // --quick's 100 steps are stiffer: it raises t_end until the grid passes
        let mut q = config("z = [1.0, 2.0]\nsigma = 1.0\nt_end = 0.05");
        q.check(&cx).unwrap();
        assert_eq!(q.quick(&Quick::default()), Some(100));
        assert!(q.t_end > 0.05, "{}", q.t_end);
        q.check(&cx).unwrap();
    }

    /// Through the sampler seam: the run's diagnostics measure the law (mid and end errors
    /// within 4 standard errors of an exact scheme: the linear-path ODE).
    #[test]
    fn diagnostics_measure_the_law() {
        let _rng = pf_core::rng::seed_exclusive(44);
        let target = GaussianMixture::eight_gaussians(2.0, 0.2).unwrap();
        let models: &dyn Models = &NoModels;
        let cx = Ctx {
            target: &target,
            models,
            ratio: None,
            device: Device::Cpu,
            fused: None,
        };
        let n = 20_000;
        let s = config(&format!("z = {Z:?}\nparticles = {n}\nsteps = 100"));
        let out = s.run(&cx, &mut Driver::default()).unwrap();
        let d = &out.diagnostics;
        println!("{d:?}");
        let (se_m, se_s) = (1.0 / (n as f64).sqrt(), 1.0 / (2.0 * n as f64).sqrt());
        for k in ["mean_err_mid", "mean_err_end", "mean_err_max"] {
            assert!(d[k] < 4.0 * se_m, "{k} = {}", d[k]);
        }
        for k in ["std_err_mid", "std_err_end", "std_err_max"] {
            assert!(d[k] < 4.0 * se_s, "{k} = {}", d[k]);
        }
        assert!(d["euler_std_bias_end"].abs() < 1e-9);
        assert_eq!(out.nfe, 100);
        assert!(out.trajectory.is_none());
    }
}
