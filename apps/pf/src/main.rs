//! `pf`: the pflow command line, with every built-in sampler and objective. The whole program is
//! the `pf-run` library; a researcher's binary registers its own methods the same way (see
//! README, "Add a method").

fn main() {
    pf_run::App::default().main()
}
