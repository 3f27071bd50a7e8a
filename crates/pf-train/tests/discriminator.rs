//! The MonoFlow discriminator: `logit_and_grad` leaves the estimator alone and gives the right
//! gradient; `update` learns the log density ratio.

mod common;

use pf_core::ratio::DensityRatio;
use pf_nets::{DiscriminatorConfig, NetConfig, TimeEmbedKind};
use pf_train::discriminator::{Discriminator, DiscriminatorTrainConfig};
use tch::{Device, Kind, Tensor};

fn snapshot(d: &Discriminator) -> (Vec<Tensor>, Vec<Tensor>, Vec<Tensor>) {
    let params: Vec<Tensor> = d
        .adam()
        .params()
        .iter()
        .map(|p| p.detach().copy())
        .collect();
    let grads: Vec<Tensor> = d.adam().params().iter().map(|p| p.grad().copy()).collect();
    let state: Vec<Tensor> = d
        .adam()
        .state()
        .into_iter()
        .map(|(_, t)| t.copy())
        .collect();
    (params, grads, state)
}

fn same(a: &[Tensor], b: &[Tensor]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.equal(y))
}

/// After a few updates (so gradients and moments exist), `logit_and_grad` changes neither the
/// parameters, nor their gradients, nor Adam's moments or update count; its gradient matches
/// central finite differences of the logit.
#[test]
fn logit_and_grad_is_read_only_and_correct() {
    let _serial = common::serial();
    tch::manual_seed(3);
    let mut cfg = DiscriminatorConfig::new(2);
    cfg.time_embed = TimeEmbedKind::Learned;
    cfg.embed_dim = 8;
    let mut d = Discriminator::new(
        NetConfig::Discriminator(cfg),
        DiscriminatorTrainConfig {
            k_steps: 3,
            ..Default::default()
        },
        Device::Cpu,
    )
    .unwrap();
    let data = Tensor::randn([256, 2], (Kind::Float, Device::Cpu)) + 1.0;
    let parts = Tensor::randn([256, 2], (Kind::Float, Device::Cpu));
    let loss = d.update(&data, &parts, 0.3);
    assert!(loss.double_value(&[]).is_finite());
    assert_eq!(d.adam().updates(), 3);
    let before = snapshot(&d);
    let x = Tensor::randn([64, 2], (Kind::Float, Device::Cpu));
    let (logit, g) = d.logit_and_grad(&x, 0.3);
    assert_eq!(logit.size(), vec![64, 1]);
    assert_eq!(g.size(), vec![64, 2]);
    assert!(!logit.requires_grad() && !g.requires_grad());
    let after = snapshot(&d);
    assert!(same(&before.0, &after.0), "parameters changed");
    assert!(same(&before.1, &after.1), "parameter gradients changed");
    assert!(same(&before.2, &after.2), "Adam moments changed");
    assert_eq!(d.adam().updates(), 3);
    // works under an outer no_grad too
    let (_, g2) = tch::no_grad(|| d.logit_and_grad(&x, 0.3));
    assert!(g.equal(&g2));
    // central finite differences in float64 on a float64 copy of the logit's inputs
    let h = 1e-2;
    let mut worst: f64 = 0.0;
    for j in 0..2 {
        let e = Tensor::zeros([1, 2], (Kind::Float, Device::Cpu));
        let _ = e.narrow(1, j, 1).fill_(h);
        let fd = (d.logit(&(&x + &e), 0.3) - d.logit(&(&x - &e), 0.3)) / (2.0 * h);
        let err = (fd - g.narrow(1, j, 1)).abs().max().double_value(&[]);
        worst = worst.max(err);
    }
    let scale = g.abs().max().double_value(&[]);
    println!("finite differences: max |fd − autograd| = {worst:.2e} (gradient scale {scale:.2e})");
    // float32 logits, h = 1e-2: truncation O(h² D‴) plus rounding ~1e-7 |D|/h; measured 2e-6 to 3.5e-6
    assert!(worst < 2e-4 * (1.0 + scale), "fd error {worst}");
}

/// Data N(1, 1) against particles N(−1, 1) in 1-D: the optimal logit is
/// D*(x) = log N(x; 1, 1) − log N(x; −1, 1) = 2x. After training, D(1) − D(−1) ≈ 4.
#[test]
fn update_learns_the_log_density_ratio() {
    let _serial = common::serial();
    tch::manual_seed(4);
    let mut cfg = DiscriminatorConfig::new(1);
    cfg.hidden = vec![32, 32];
    let mut d = Discriminator::new(
        NetConfig::Discriminator(cfg),
        DiscriminatorTrainConfig {
            k_steps: 1,
            lr: 3e-3,
            ..Default::default()
        },
        Device::Cpu,
    )
    .unwrap();
    for _ in 0..400 {
        let data = Tensor::randn([512, 1], (Kind::Float, Device::Cpu)) + 1.0;
        let parts = Tensor::randn([512, 1], (Kind::Float, Device::Cpu)) - 1.0;
        let _ = d.update(&data, &parts, 0.0);
    }
    let x = Tensor::from_slice(&[-1.0f32, 0.0, 1.0]).view([3, 1]);
    let (l, g) = d.logit_and_grad(&x, 0.0);
    let l = Vec::<f64>::try_from(l.view([-1]).to_kind(Kind::Double)).unwrap();
    let g = Vec::<f64>::try_from(g.view([-1]).to_kind(Kind::Double)).unwrap();
    println!("D(−1, 0, 1) = {l:?}, D'(−1, 0, 1) = {g:?} (optimum: −2, 0, 2 and 2, 2, 2)");
    // measured (seed 4): D(1) − D(−1) = 4.02, D(0) = 0.003, slopes 2.00–2.03; the bounds leave
    // ~10x room for SGD noise
    let span = l[2] - l[0];
    assert!((span - 4.0).abs() < 0.4, "D(1) − D(−1) = {span}");
    assert!(l[1].abs() < 0.25, "D(0) = {}", l[1]);
    assert!(g.iter().all(|s| (s - 2.0).abs() < 0.3), "slopes {g:?}");
}
