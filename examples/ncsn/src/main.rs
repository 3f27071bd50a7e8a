//! `pf-ncsn`: the whole `pf` command line (run, compare, --set, --quick, checks, plots) with
//! `kind = "ssm"` beside pflow's objectives and `method = "ald"` beside its samplers.

use pf_core::field::FieldKind;

fn main() {
    let mut app = pf_run::App::default();
    // a net trained with sliced score matching is a score model on its Gaussian path, as with dsm
    app.objectives
        .register::<pf_ncsn::SsmConfig>("ssm", &[FieldKind::Score]);
    app.samplers.register::<pf_ncsn::AldConfig>("ald");
    app.main()
}
