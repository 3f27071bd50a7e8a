//! Discrete DDPM schedule (Ho et al. 2020; seed 001).

/// T steps with β linear from β₁ to β_T; α_k = 1 − β_k, ᾱ_k = ∏_{j≤k} α_j.
/// Index k = 0..T−1 is Ho et al.'s step k + 1; its continuous time is t_k = (k + 1)/T, so
/// x_k = √ᾱ_k x₀ + √(1 − ᾱ_k) ε sits on pflow's time axis (t = 0 data, t = 1 prior).
#[derive(Clone, Debug, PartialEq)]
pub struct DdpmSchedule {
    pub betas: Vec<f64>,
    pub alphas: Vec<f64>,
    pub alpha_bars: Vec<f64>,
}

impl DdpmSchedule {
    /// Linear β from `beta_1` to `beta_t` over `steps` steps (Ho et al.: 1000, 1e-4, 0.02).
    pub fn linear(steps: usize, beta_1: f64, beta_t: f64) -> Self {
        let betas: Vec<f64> = (0..steps)
            .map(|k| {
                if steps == 1 {
                    beta_1
                } else {
                    beta_1 + (beta_t - beta_1) * k as f64 / (steps - 1) as f64
                }
            })
            .collect();
        let alphas: Vec<f64> = betas.iter().map(|b| 1.0 - b).collect();
        let mut acc = 1.0;
        let alpha_bars = alphas
            .iter()
            .map(|a| {
                acc *= a;
                acc
            })
            .collect();
        Self {
            betas,
            alphas,
            alpha_bars,
        }
    }
    /// Number of steps T.
    pub fn steps(&self) -> usize {
        self.betas.len()
    }
    /// Continuous time of step k: (k + 1)/T.
    pub fn time(&self, k: usize) -> f64 {
        (k + 1) as f64 / self.steps() as f64
    }
    /// (α, σ) = (√ᾱ_k, √(1 − ᾱ_k)) of step k.
    pub fn alpha_sigma(&self, k: usize) -> (f64, f64) {
        let ab = self.alpha_bars[k];
        (ab.sqrt(), (1.0 - ab).sqrt())
    }
}

impl Default for DdpmSchedule {
    fn default() -> Self {
        Self::linear(1000, 1e-4, 0.02)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables() {
        let s = DdpmSchedule::default();
        assert_eq!(s.steps(), 1000);
        assert!((s.betas[0] - 1e-4).abs() < 1e-18 && (s.betas[999] - 0.02).abs() < 1e-15);
        // ln ᾱ_T = Σ ln(1 − β_k) ≈ −Σβ_k − ½Σβ_k²; Σβ = 1000·(1e-4 + 0.02)/2 = 10.05
        let sum_b: f64 = s.betas.iter().sum();
        let sum_b2: f64 = s.betas.iter().map(|b| b * b).sum();
        let approx = -sum_b - 0.5 * sum_b2;
        assert!((s.alpha_bars[999].ln() - approx).abs() < 1e-3);
        assert!((sum_b - 10.05).abs() < 1e-12);
        assert!((s.time(999) - 1.0).abs() < 1e-15);
    }
}
