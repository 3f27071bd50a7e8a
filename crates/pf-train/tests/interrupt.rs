//! An interrupt (SIGINT/SIGTERM, here requested directly: the flag is process-wide, so this test
//! has its own binary) stops training at the next step boundary with a checkpoint of exactly
//! that state, and resuming from it gives the uninterrupted run's weights bit for bit.

use pf_core::interrupt::{self, Signal};
use pf_core::param::Param;
use pf_core::path::{GaussianPath, VpLinear};
use pf_core::target::{GaussianMixture, Target};
use pf_nets::{NetConfig, ScoreMlpConfig};
use pf_train::data::Batches;
use pf_train::dsm::{Dsm, DsmConfig};
use pf_train::{Error, Predictor, TrainConfig, Trainer};
use std::sync::Arc;
use tch::nn::VarStore;
use tch::{Device, Tensor};

const STEPS: usize = 30;

/// Trains from a fresh net; `stop_after` requests an interrupt inside that step's loss.
fn train(
    dir: &std::path::Path,
    stop_after: Option<usize>,
    resume: bool,
) -> (Vec<Tensor>, Result<usize, Error>) {
    tch::manual_seed(5);
    let vs = VarStore::new(Device::Cpu);
    let mut c = ScoreMlpConfig::new(1);
    c.hidden = vec![16, 16];
    c.embed_dim = 8;
    let net = NetConfig::ScoreMlp(c).build(&vs.root()).unwrap();
    tch::manual_seed(99);
    let data = Batches::new(GaussianMixture::gmm1d().sample(500, Device::Cpu), 64, 0);
    let cfg = TrainConfig {
        steps: Some(STEPS),
        ema_decay: Some(0.9),
        log_every: 4,
        checkpoint_every: Some(10),
        ..Default::default()
    };
    let mut tr = Trainer::new(&vs, cfg, None).unwrap().with_out_dir(dir);
    if resume {
        tr.resume(dir.join("checkpoint.safetensors")).unwrap();
    }
    let p: Arc<dyn GaussianPath> = Arc::new(VpLinear::default());
    let loss = Dsm::new(p, DsmConfig::seed_001()).unwrap();
    let model = Predictor::net(&*net, Param::Eps);
    let r = tr
        .run(|k| {
            if Some(k) == stop_after {
                interrupt::request(Signal::Terminate);
            }
            loss.loss(&model, &data.batch(k))
        })
        .map(|rep| rep.steps);
    let params = tr.params().iter().map(|t| t.detach().copy()).collect();
    (params, r)
}

#[test]
fn interrupted_training_checkpoints_the_step_and_resumes_bit_for_bit() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (full, r) = train(a.path(), None, false);
    assert_eq!(r.unwrap(), STEPS);

    // requested during step 13's loss: step 13 completes, the loop stops before step 14
    let (_, r) = train(b.path(), Some(13), false);
    match r {
        Err(Error::Interrupted {
            step,
            signal,
            checkpoint,
        }) => {
            assert_eq!((step, signal), (14, Signal::Terminate));
            let ck = checkpoint.expect("a checkpoint");
            assert_eq!(pf_train::checkpoint::read_sidecar(&ck).unwrap().step, 14);
        }
        other => panic!("expected Interrupted, got {other:?}"),
    }
    interrupt::clear();
    let (resumed, r) = train(b.path(), None, true);
    assert_eq!(r.unwrap(), STEPS);
    for (x, y) in full.iter().zip(&resumed) {
        assert!(
            x.equal(y),
            "resumed weights differ from the uninterrupted run's"
        );
    }
    let rows = |d: &std::path::Path| -> Vec<(usize, f64)> {
        pf_train::trainer::read_log(d.join("loss.csv"))
            .unwrap()
            .iter()
            .map(|r| (r.step, r.loss))
            .collect()
    };
    assert_eq!(rows(a.path()), rows(b.path()));
}
