//! Samplers stop at the next step boundary once an interrupt is requested (the flag is
//! process-wide, so this test has its own binary): `Guard::check` runs every step of every
//! sampler, and the ODE integrators check it too.

use pf_core::field::TargetScore;
use pf_core::interrupt::{self, Signal};
use pf_core::target::GaussianMixture;
use pf_sample::init::Init;
use pf_sample::ode::OdeSampler;
use pf_sample::ula::Ula;
use pf_sample::{Driver, Error};
use tch::{Device, Kind, Tensor};

#[test]
fn samplers_and_integrators_stop_with_a_typed_error() {
    let target = GaussianMixture::gmm1d();
    let ula = Ula {
        steps: 10,
        eta: vec![1e-2],
        ..Ula::default()
    };
    // not requested: runs to the end
    assert!(ula
        .run(
            &TargetScore(&target),
            None,
            Init::StdNormal.draw(50, 1, Device::Cpu).unwrap(),
            &mut Driver::default()
        )
        .is_ok_and(|o| o.nfe == 10));
    interrupt::request(Signal::Interrupt);
    match ula.run(
        &TargetScore(&target),
        None,
        Init::StdNormal.draw(50, 1, Device::Cpu).unwrap(),
        &mut Driver::default(),
    ) {
        Err(Error::Interrupted {
            method,
            step,
            signal,
        }) => {
            assert_eq!(
                (method.as_str(), step, signal),
                ("ula", 1, Signal::Interrupt)
            );
        }
        other => panic!("expected Interrupted, got {:?}", other.map(|o| o.nfe)),
    }
    let ode = OdeSampler::default();
    let x = Tensor::zeros([4, 1], (Kind::Float, Device::Cpu));
    let mut rhs = |_t: f64, x: &Tensor| -x;
    match ode.run(&mut rhs, &x, 1.0, "flow", &mut Driver::default()) {
        Err(Error::Core(pf_core::Error::Interrupted { step, signal, .. })) => {
            assert_eq!((step, signal), (0, Signal::Interrupt));
        }
        other => panic!("expected Interrupted, got {:?}", other.map(|o| o.nfe)),
    }
    interrupt::clear();
    assert!(ode
        .run(&mut rhs, &x, 1.0, "flow", &mut Driver::default())
        .is_ok());
}
