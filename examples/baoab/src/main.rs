//! `pf-baoab`: the whole `pf` command line (run, compare, --set, --quick, checks, plots) with
//! `method = "baoab"` added beside pflow's own samplers.

fn main() {
    let mut app = pf_run::App::default();
    app.samplers.register::<pf_baoab::BaoabConfig>("baoab");
    app.main()
}
