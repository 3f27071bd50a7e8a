//! Unit tests of the nets, configs, parameterisations and checkpoints.

use crate::checkpoint::{self, Sidecar};
use crate::*;
use pf_core::field::{ScoreField, VelocityField};
use pf_core::param::{convert, Param};
use pf_core::path::{GaussianPath, VpLinear};
use std::sync::Arc;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

fn all_archs(dim: i64) -> Vec<NetConfig> {
    let mut fourier = ScoreMlpConfig::new(dim);
    fourier.time_embed = TimeEmbedKind::Fourier;
    fourier.embed_dim = 16;
    let mut disc_t = DiscriminatorConfig::new(dim);
    disc_t.time_embed = TimeEmbedKind::Learned;
    disc_t.embed_dim = 8;
    vec![
        NetConfig::ScoreMlp(ScoreMlpConfig::new(dim)),
        NetConfig::ScoreMlp(fourier),
        NetConfig::DdpmMlp(DdpmMlpConfig::new(dim)),
        NetConfig::VectorMlp(VectorMlpConfig::new(dim)),
        NetConfig::Discriminator(DiscriminatorConfig::new(dim)),
        NetConfig::Discriminator(disc_t),
    ]
}

fn max_abs(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn shapes_and_broadcast_time() {
    let _rng = pf_core::rng::seed_exclusive(0);
    for cfg in all_archs(3) {
        let vs = VarStore::new(Device::Cpu);
        let net = cfg.build(&vs.root()).unwrap();
        let x = Tensor::randn([7, 3], (Kind::Float, Device::Cpu));
        let t1 = Tensor::full([1, 1], 0.3, (Kind::Float, Device::Cpu));
        let tn = Tensor::full([7, 1], 0.3, (Kind::Float, Device::Cpu));
        let t0 = Tensor::from(0.3f64); // 0-dim double: converted and expanded
        let a = net.forward(&x, &t1);
        assert_eq!(a.size(), vec![7, cfg.out_dim()], "{}", cfg.arch());
        assert_eq!(a.kind(), Kind::Float);
        // one shared time may take a folded path (score-mlp, ddpm-mlp): equal up to rounding
        assert!(max_abs(&a, &net.forward(&x, &tn)) < 1e-5, "{}", cfg.arch());
        assert!(max_abs(&a, &net.forward(&x, &t0)) < 1e-5, "{}", cfg.arch());
        assert_eq!((net.in_dim(), net.out_dim()), (3, cfg.out_dim()));
    }
}

/// Parameter names are those of the seeds' PyTorch modules (so `load_state_dict` takes them).
#[test]
fn parameter_names_follow_pytorch() {
    let _rng = pf_core::rng::seed_exclusive(0);
    let names = |cfg: NetConfig| {
        let vs = VarStore::new(Device::Cpu);
        cfg.build(&vs.root()).unwrap();
        checkpoint::named_variables(&vs)
            .into_iter()
            .map(|(n, t)| format!("{n}{:?}", t.size()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(NetConfig::ScoreMlp(ScoreMlpConfig::new(2))),
        [
            "embed.0.bias[64]",
            "embed.0.weight[64, 1]",
            "embed.2.bias[64]",
            "embed.2.weight[64, 64]",
            "net.0.0.bias[128]",
            "net.0.0.weight[128, 66]",
            "net.1.0.bias[256]",
            "net.1.0.weight[256, 192]",
            "net.2.0.bias[128]",
            "net.2.0.weight[128, 320]",
            "out.bias[2]",
            "out.weight[2, 128]",
        ]
    );
    let mut d = DdpmMlpConfig::new(2);
    d.nblocks = 4;
    assert_eq!(
        names(NetConfig::DdpmMlp(d)),
        [
            "inblock.bias[64]",
            "inblock.weight[64, 3]",
            "midblocks.0.linear.bias[64]",
            "midblocks.0.linear.weight[64, 64]",
            "midblocks.1.linear.bias[64]",
            "midblocks.1.linear.weight[64, 64]",
            "midblocks.2.linear.bias[64]",
            "midblocks.2.linear.weight[64, 64]",
            "midblocks.3.linear.bias[64]",
            "midblocks.3.linear.weight[64, 64]",
            "outblock.bias[2]",
            "outblock.weight[2, 64]",
        ]
    );
    let mut v = VectorMlpConfig::new(2);
    v.hidden = vec![32, 32];
    assert_eq!(
        names(NetConfig::VectorMlp(v)),
        [
            "net.0.bias[32]",
            "net.0.weight[32, 3]",
            "net.2.bias[32]",
            "net.2.weight[32, 32]",
            "net.4.bias[2]",
            "net.4.weight[2, 32]",
        ]
    );
    let mut f = ScoreMlpConfig::new(1);
    f.time_embed = TimeEmbedKind::Fourier;
    f.embed_dim = 8;
    f.hidden = vec![16];
    let n = names(NetConfig::ScoreMlp(f));
    assert!(n.contains(&"fourier.freqs[1, 4]".to_string()), "{n:?}");
    assert!(n.contains(&"embed.0.weight[8, 8]".to_string()), "{n:?}");
}

/// The seed-001 net with its defaults reproduces a hand-written forward pass.
#[test]
fn score_mlp_matches_hand_written_forward() {
    let _rng = pf_core::rng::seed_exclusive(3);
    let vs = VarStore::new(Device::Cpu);
    let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(2))
        .build(&vs.root())
        .unwrap();
    let v = vs.variables();
    let lin =
        |x: &Tensor, p: &str| x.linear(&v[&format!("{p}.weight")], Some(&v[&format!("{p}.bias")]));
    let x = Tensor::randn([5, 2], (Kind::Float, Device::Cpu));
    let t = Tensor::rand([5, 1], (Kind::Float, Device::Cpu));
    let e = lin(&lin(&t, "embed.0").silu(), "embed.2");
    let mut h = x.shallow_clone();
    for i in 0..3 {
        h = lin(&Tensor::cat(&[&h, &e], 1), &format!("net.{i}.0")).silu();
    }
    let want = lin(&h, "out");
    assert!(max_abs(&want, &net.forward(&x, &t)) < 1e-6);
}

#[test]
fn config_parses_with_defaults_and_rejects_unknown_keys() {
    let c: NetConfig = toml::from_str("arch = \"score-mlp\"\ndim = 2\n").unwrap();
    assert_eq!(c, NetConfig::ScoreMlp(ScoreMlpConfig::new(2)));
    let c: NetConfig =
        toml::from_str("arch = \"ddpm-mlp\"\ndim = 2\nnblocks = 4\nactivation = \"silu\"\n")
            .unwrap();
    match c {
        NetConfig::DdpmMlp(d) => {
            assert_eq!(
                (d.nblocks, d.nunits, d.activation),
                (4, 64, Activation::Silu)
            );
            assert_eq!(d.time_embed, TimeEmbedKind::Raw);
        }
        other => panic!("{other:?}"),
    }
    let err = toml::from_str::<NetConfig>("arch = \"score-mlp\"\ndim = 2\nhiden = [3]\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("hiden"), "{err}");
    let err = toml::from_str::<NetConfig>("arch = \"mlp\"\ndim = 2\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("mlp"), "{err}");
    // JSON round trip (the sidecar)
    for c in all_archs(2) {
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<NetConfig>(&s).unwrap(), c, "{s}");
    }
}

#[test]
fn validate_names_the_key() {
    let _rng = pf_core::rng::seed_exclusive(0);
    let mut s = ScoreMlpConfig::new(2);
    s.hidden = vec![64, 0];
    let e = NetConfig::ScoreMlp(s).validate().unwrap_err().to_string();
    assert!(e.contains("model.hidden"), "{e}");
    let mut s = ScoreMlpConfig::new(2);
    s.time_embed = TimeEmbedKind::Fourier;
    s.embed_dim = 7;
    let e = NetConfig::ScoreMlp(s).validate().unwrap_err().to_string();
    assert!(e.contains("model.embed_dim"), "{e}");
    let e = NetConfig::VectorMlp(VectorMlpConfig::new(0))
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("model.dim"), "{e}");
    let mut d = DdpmMlpConfig::new(2);
    d.nunits = 0;
    let e = NetConfig::DdpmMlp(d).build(&VarStore::new(Device::Cpu).root());
    assert!(e.err().unwrap().to_string().contains("model.nunits"));
}

/// An ε-net read as a score is −ε̂/σ(t); as a velocity, α' x̂₀ + σ' ε̂.
#[test]
fn parameterisations_convert_through_the_path() {
    let _rng = pf_core::rng::seed_exclusive(5);
    let vs = VarStore::new(Device::Cpu);
    let net = NetConfig::ScoreMlp(ScoreMlpConfig::new(2))
        .build(&vs.root())
        .unwrap();
    let path: Arc<dyn GaussianPath> = Arc::new(VpLinear::default());
    let x = Tensor::randn([6, 2], (Kind::Float, Device::Cpu));
    let t = Tensor::rand([6, 1], (Kind::Float, Device::Cpu)) * 0.9 + 0.05;
    let eps = net.forward(&x, &t);
    let c = path.coeffs_t(&t);
    let s = NetScore::new(&*net, Param::Eps, path.clone()).score(&x, &t);
    assert!(max_abs(&s, &(-&eps / &c.sigma)) < 1e-6);
    let v = NetVelocity::new(&*net, Param::Eps, path.clone()).velocity(&x, &t);
    let want = convert(Param::Eps, Param::Velocity, &eps, &x, &c);
    assert!(max_abs(&v, &want) < 1e-6);
    // one time for the batch gives the same as the per-sample column
    let t1 = Tensor::full([1, 1], 0.4, (Kind::Float, Device::Cpu));
    let tn = Tensor::full([6, 1], 0.4, (Kind::Float, Device::Cpu));
    let sc = NetScore::new(&*net, Param::X0, path.clone());
    assert!(max_abs(&sc.score(&x, &t1), &sc.score(&x, &tn)) < 1e-7);
    // a direct velocity net is the net itself
    let d = NetVelocity::direct(&*net);
    assert!(max_abs(&d.velocity(&x, &t), &eps) == 0.0);
}

#[test]
fn checkpoint_round_trip_in_rust() {
    let _rng = pf_core::rng::seed_exclusive(0);
    let dir = tempfile::tempdir().unwrap();
    for (i, cfg) in all_archs(2).into_iter().enumerate() {
        tch::manual_seed(10 + i as i64);
        let vs = VarStore::new(Device::Cpu);
        let net = cfg.build(&vs.root()).unwrap();
        let path = dir.path().join(format!("net{i}.safetensors"));
        checkpoint::save(&vs, &Sidecar::new(cfg.clone(), Some(Param::Eps)), &path).unwrap();
        assert!(checkpoint::sidecar_path(&path).exists());
        tch::manual_seed(999); // different init, overwritten by the load
        let loaded = checkpoint::load(&path, Device::Cpu).unwrap();
        assert_eq!(loaded.sidecar.model, cfg);
        assert_eq!(loaded.sidecar.param, Some(Param::Eps));
        let x = Tensor::randn([9, 2], (Kind::Float, Device::Cpu));
        let t = Tensor::rand([9, 1], (Kind::Float, Device::Cpu));
        assert_eq!(
            max_abs(&net.forward(&x, &t), &loaded.net.forward(&x, &t)),
            0.0
        );
    }
    // no temp files left behind
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| pf_fs::is_temp(&e.file_name().to_string_lossy()))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn mismatched_architecture_is_a_clear_error() {
    let _rng = pf_core::rng::seed_exclusive(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let vs = VarStore::new(Device::Cpu);
    let cfg = NetConfig::ScoreMlp(ScoreMlpConfig::new(2));
    cfg.build(&vs.root()).unwrap();
    checkpoint::save(&vs, &Sidecar::new(cfg, None), &path).unwrap();

    // wider first hidden layer
    let mut wide = ScoreMlpConfig::new(2);
    wide.hidden = vec![64, 256, 128];
    let vs2 = VarStore::new(Device::Cpu);
    NetConfig::ScoreMlp(wide).build(&vs2.root()).unwrap();
    let e = checkpoint::load_into(&vs2, &path).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("net.0.0") && msg.contains("[128") && msg.contains("[64"),
        "{msg}"
    );
    assert!(msg.contains("m.safetensors"), "{msg}");

    // fewer layers: the file has a tensor the model lacks
    let mut short = ScoreMlpConfig::new(2);
    short.hidden = vec![128, 256];
    let vs3 = VarStore::new(Device::Cpu);
    NetConfig::ScoreMlp(short).build(&vs3.root()).unwrap();
    let msg = checkpoint::load_into(&vs3, &path).unwrap_err().to_string();
    assert!(msg.contains("net.2.0"), "{msg}");

    // another arch: a model tensor missing from the file
    let vs4 = VarStore::new(Device::Cpu);
    NetConfig::DdpmMlp(DdpmMlpConfig::new(2))
        .build(&vs4.root())
        .unwrap();
    let msg = checkpoint::load_into(&vs4, &path).unwrap_err().to_string();
    assert!(msg.contains("inblock") && msg.contains("missing"), "{msg}");
}
