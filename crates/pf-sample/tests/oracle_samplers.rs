//! Every diffusion sampler driven by the exact 8-Gaussian score reaches the target: energy
//! distance within 2× the noise floor of two fresh target samples of the same size. Runs on
//! `PFLOW_TEST_DEVICE` (default cpu); the criteria are statistical, so they hold on any device.

use pf_core::metrics::energy_distance;
use pf_core::oracle::GmmOracle;
use pf_core::path::{DdpmSchedule, GaussianPath, SubVp, VeGeometric, VpLinear};
use pf_core::target::{GaussianMixture, Target};
use pf_sample::ddpm::{Ddpm, DdpmMethod};
use pf_sample::ode::{OdeMethod, OdeSampler};
use pf_sample::pc::PredictorCorrector;
use pf_sample::reverse_sde::{Grid, ReverseSde};
use pf_sample::Driver;
use tch::{Device, Kind, Tensor};

const N: usize = 2000;

/// The device under test (`PFLOW_TEST_DEVICE`, default cpu).
fn dev() -> Device {
    pf_core::device::test_device()
}

fn eight() -> GaussianMixture {
    GaussianMixture::eight_gaussians(2.0, 0.2).unwrap()
}

/// The noise floor: the largest |energy distance| between 8 pairs of fresh target samples of
/// size N (measured ≈ 2e-3 for N = 2000).
fn noise_floor(t: &dyn Target) -> f64 {
    (0..8)
        .map(|_| energy_distance(&t.sample(N, dev()), &t.sample(N, dev())).abs())
        .fold(0.0, f64::max)
}

fn prior(path: &dyn GaussianPath) -> Tensor {
    Tensor::randn([N as i64, 2], (Kind::Float, dev())) * path.prior_std()
}

fn check(name: &str, t: &dyn Target, x: &Tensor, floor: f64) {
    let ed = energy_distance(x, &t.sample(N, dev()));
    println!("{name}: energy distance {ed:.2e} (floor {floor:.2e})");
    assert!(
        ed < 2.0 * floor,
        "{name}: energy distance {ed} ≥ 2 × floor {floor}"
    );
}

/// Mode by mode against a mixture whose components share one isotropic std s (the 8 Gaussians of
/// [`eight`]: radius 2, s = 0.2), in standard errors of an exact N-sample. Each point is given to
/// its nearest mean (the 8 means are 7.7 s apart, so misassignment is negligible) and z-scores are
/// returned for: the largest |share − weight|; the pooled within-mode variance against s²
/// (SE s²·√(2/(D N))); the mean offset along each mean's direction against 0 (SE s/√N). Far
/// sharper than the energy distance at N = 2000, which cannot see a 10 % error in the std.
fn mode_moments(g: &GaussianMixture, x: &Tensor) -> [f64; 3] {
    let s = g.stds()[0][0];
    assert!(
        g.stds().iter().flatten().all(|&v| v == s),
        "one isotropic std"
    );
    let means = Tensor::from_slice(&g.means().concat()).view([g.components() as i64, -1]);
    let (x, n, d) = (
        x.to_device(Device::Cpu).to_kind(Kind::Double),
        x.size()[0] as f64,
        x.size()[1] as f64,
    );
    // nearest mean: argmin ‖x − μ‖² = argmax (x·μ − ½‖μ‖²)
    let half_sq = means.square().sum_dim_intlist(1, false, Kind::Double) * 0.5;
    let k = (x.matmul(&means.tr()) - half_sq).argmax(1, false);
    let res = &x - means.index_select(0, &k);
    let w = Tensor::from_slice(g.weights());
    let shares = k
        .bincount::<Tensor>(None, g.components() as i64)
        .to_kind(Kind::Double)
        / n;
    let se: Tensor = (&w * (-&w + 1.0) / n).sqrt();
    let share_z = ((shares - &w).abs() / se).max().double_value(&[]);
    let var = res.square().sum(Kind::Double).double_value(&[]) / (d * n);
    let var_z = (var - s * s) / (s * s * (2.0 / (d * n)).sqrt());
    let dirs = &means / means.norm_scalaropt_dim(2, [1], true);
    let radial = (&res * dirs.index_select(0, &k))
        .sum(Kind::Double)
        .double_value(&[])
        / n;
    [share_z, var_z, radial / (s / n.sqrt())]
}

/// [`check`], then the mode-wise moments of [`mode_moments`] within 4.5 standard errors.
fn check_modes(name: &str, g: &GaussianMixture, x: &Tensor, floor: f64) {
    check(name, g, x, floor);
    let z = mode_moments(g, x);
    println!(
        "{name}: z(share) {:.2}, z(var) {:.2}, z(radial) {:.2}",
        z[0], z[1], z[2]
    );
    for (what, v) in ["largest share", "within-mode variance", "radial offset"]
        .iter()
        .zip(z)
    {
        assert!(
            v.abs() < 4.5,
            "{name}: {what} is {v:.2} standard errors off"
        );
    }
}

#[test]
fn pf_ode_dopri5_and_rk4() {
    let _rng = pf_core::rng::seed_exclusive(41);
    let o = GmmOracle::new(eight(), VpLinear::default());
    let floor = noise_floor(&o.gmm);
    let x1 = prior(&o.path);
    let dp = OdeSampler {
        method: OdeMethod::Dopri5 {
            rtol: 1e-5,
            atol: 1e-5,
        },
        ..OdeSampler::default()
    };
    let out = dp.pf_ode(&o.path, &o, &x1, &mut Driver::default()).unwrap();
    println!("dopri5 nfe {}", out.nfe);
    check_modes("pf-ode dopri5", &o.gmm, &out.x, floor);
    let rk = OdeSampler {
        method: OdeMethod::Rk4,
        steps: 100,
        ..OdeSampler::default()
    };
    check_modes(
        "pf-ode rk4 (100 steps)",
        &o.gmm,
        &rk.pf_ode(&o.path, &o, &x1, &mut Driver::default())
            .unwrap()
            .x,
        floor,
    );
    // the same ODE run twice from the same start is deterministic
    let again = rk
        .pf_ode(&o.path, &o, &x1, &mut Driver::default())
        .unwrap()
        .x;
    assert_eq!(
        (rk.pf_ode(&o.path, &o, &x1, &mut Driver::default())
            .unwrap()
            .x
            - again)
            .abs()
            .max()
            .double_value(&[]),
        0.0
    );
}

#[test]
fn pf_ode_on_ve_and_sub_vp() {
    let _rng = pf_core::rng::seed_exclusive(42);
    let g = eight();
    let floor = noise_floor(&g);
    let ve = GmmOracle::new(eight(), VeGeometric::new(0.01, 10.0));
    let s = OdeSampler {
        method: OdeMethod::Dopri5 {
            rtol: 1e-5,
            atol: 1e-5,
        },
        ..OdeSampler::default()
    };
    check_modes(
        "pf-ode ve",
        &g,
        &s.pf_ode(&ve.path, &ve, &prior(&ve.path), &mut Driver::default())
            .unwrap()
            .x,
        floor,
    );
    let svp = GmmOracle::new(eight(), SubVp::default());
    check_modes(
        "pf-ode sub-vp",
        &g,
        &s.pf_ode(&svp.path, &svp, &prior(&svp.path), &mut Driver::default())
            .unwrap()
            .x,
        floor,
    );
}

#[test]
fn reverse_sde_and_predictor_corrector() {
    let _rng = pf_core::rng::seed_exclusive(43);
    let o = GmmOracle::new(eight(), VpLinear::default());
    let floor = noise_floor(&o.gmm);
    let sde = ReverseSde {
        grid: Grid {
            steps: 1000,
            ..Grid::default()
        },
    };
    check_modes(
        "reverse sde (1000 steps)",
        &o.gmm,
        &sde.run(&o.path, &o, &prior(&o.path), &mut Driver::default())
            .unwrap()
            .x,
        floor,
    );
    let pc = PredictorCorrector {
        grid: Grid {
            steps: 500,
            ..Grid::default()
        },
        ..PredictorCorrector::default()
    };
    let out = pc
        .run(&o.path, &o, &prior(&o.path), &mut Driver::default())
        .unwrap();
    assert_eq!(out.nfe, 1000);
    check_modes("predictor-corrector (500 × (1+1))", &o.gmm, &out.x, floor);
}

#[test]
fn ddpm_ancestral_and_ddim_with_exact_noise() {
    let _rng = pf_core::rng::seed_exclusive(44);
    let g = eight();
    let floor = noise_floor(&g);
    let sched = DdpmSchedule::default();
    // exact ε̂ = −σ_k ∇log p_k, with (α_k, σ_k) read back from the time t = (k+1)/T
    let eps = |x: &Tensor, t: &Tensor| {
        let k = (t.double_value(&[0, 0]) * sched.steps() as f64).round() as usize - 1;
        let (a, s) = sched.alpha_sigma(k);
        g.score_at(x, &Tensor::from(a), &Tensor::from(s)) * -s
    };
    let x1 = Tensor::randn([N as i64, 2], (Kind::Float, dev()));
    let anc = Ddpm::default()
        .run(&sched, &eps, &x1, &mut Driver::default())
        .unwrap();
    assert_eq!(anc.nfe, 1000);
    check_modes("ddpm ancestral", &g, &anc.x, floor);
    let ddim = Ddpm {
        method: DdpmMethod::Ddim { steps: 250 },
    }
    .run(&sched, &eps, &x1, &mut Driver::default())
    .unwrap();
    assert_eq!(ddim.nfe, 250);
    // (at 100 steps DDIM's discretisation shows: −4 % within-mode variance, measured at N = 20 000)
    check_modes("ddim (250 steps)", &g, &ddim.x, floor);
}

/// Trajectories are recorded with the stride (plus the final state) and cost nothing when off.
#[test]
fn trajectory_stride() {
    let _rng = pf_core::rng::seed_exclusive(0);
    let o = GmmOracle::new(eight(), VpLinear::default());
    let x1 = prior(&o.path);
    let s = OdeSampler {
        method: OdeMethod::Euler,
        steps: 25,
        ..OdeSampler::default()
    };
    let mut drv = Driver::new(Some(10), Some(100));
    let tr = s
        .pf_ode(&o.path, &o, &x1, &mut drv)
        .unwrap()
        .trajectory
        .unwrap();
    assert_eq!(tr.steps, vec![0, 10, 20, 25]);
    assert_eq!(tr.frames[0].size(), [100, 2]);
    assert!((tr.times[0] - 1.0).abs() < 1e-12 && (tr.times[3] - 1e-3).abs() < 1e-12);
    assert!(s
        .pf_ode(&o.path, &o, &x1, &mut Driver::default())
        .unwrap()
        .trajectory
        .is_none());
}

/// Seed 004's linear path from an arbitrary source: 8 Gaussians at t = 1 flow to a 3-component
/// mixture at t = 0 along the exact marginal velocity; also the Langevin-corrected SDE on it.
#[test]
fn linear_path_from_eight_gaussians() {
    use pf_core::oracle::LinearPathOracle;
    use pf_sample::path_sde::PathSde;
    let _rng = pf_core::rng::seed_exclusive(45);
    let data = GaussianMixture::new(
        vec![0.5, 0.3, 0.2],
        vec![vec![0.0, 1.0], vec![-1.0, -1.0], vec![1.5, -0.5]],
        vec![vec![0.3, 0.2], vec![0.2, 0.4], vec![0.3, 0.3]],
    )
    .unwrap();
    let o = LinearPathOracle::new(data, eight()).unwrap();
    let floor = noise_floor(o.data());
    let x1 = o.source().sample(N, dev());
    let s = OdeSampler {
        method: OdeMethod::Rk4,
        steps: 100,
        t_start: Some(1.0),
        t_end: 0.0,
    };
    check(
        "linear path, 8 gaussians → mixture (rk4)",
        o.data(),
        &s.flow(&o, &x1, &mut Driver::default()).unwrap().x,
        floor,
    );
    let sde = PathSde {
        sigma: 0.5,
        steps: 400,
        t_start: 1.0,
        t_end: 1e-3,
    };
    check(
        "linear path, Langevin-corrected SDE σ = 0.5",
        o.data(),
        &sde.run(&o, &o, &x1, &mut Driver::default()).unwrap().x,
        floor,
    );
}

/// The mode-wise check can fail: an exact sample passes it, one with a 10 % larger std
/// (0.22 for 0.2: +21 % variance, ≈ 9.4 standard errors at N = 2000) and one with a 5 % larger
/// radius (0.1 = 22 standard errors) do not.
#[test]
fn mode_moments_see_small_errors() {
    let _rng = pf_core::rng::seed_exclusive(46);
    let g = eight();
    let z = mode_moments(&g, &g.sample(N, dev()));
    assert!(z.iter().all(|v| v.abs() < 4.5), "exact sample: {z:?}");
    let wide = GaussianMixture::eight_gaussians(2.0, 0.22).unwrap();
    let z = mode_moments(&g, &wide.sample(N, dev()));
    assert!(z[1] > 6.0, "std 0.22: {z:?}");
    let far = GaussianMixture::eight_gaussians(2.1, 0.2).unwrap();
    let z = mode_moments(&g, &far.sample(N, dev()));
    assert!(z[2] > 15.0, "radius 2.1: {z:?}");
}
