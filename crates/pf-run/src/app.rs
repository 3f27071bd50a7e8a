//! The `pf` command line as a library: [`App`] holds the method registries; [`App::main`]
//! parses the command line, sets up logging, threads and the device, and hands over to one
//! subcommand.

use crate::cli::{Cli, Command};
use crate::{bench, commands, compare, faults, info, sweep};
use anyhow::Result;
use tracing_subscriber::EnvFilter;

/// The program: which samplers and objectives configs may name.
///
/// ```no_run
/// // a researcher's binary: pflow's methods plus one of their own
/// # #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)] struct MyConfig;
/// # impl pf_sample::Sampler for MyConfig {
/// #   fn budget(&mut self) -> pf_sample::Budget<'_> { unimplemented!() }
/// #   fn models(&self) -> pf_sample::ModelUse<'_> { pf_sample::ModelUse::none() }
/// #   fn check(&self, _: &pf_sample::Check) -> pf_sample::Result<()> { Ok(()) }
/// #   fn run(&self, _: &pf_sample::Ctx, _: &mut pf_sample::Driver) -> pf_sample::Result<pf_sample::SampleOut> { unimplemented!() }
/// # }
/// let mut app = pf_run::App::default();
/// app.samplers.register::<MyConfig>("my-sampler");
/// app.main();
/// ```
pub struct App {
    pub samplers: pf_sample::Registry,
    pub objectives: pf_train::objective::Registry,
}

impl Default for App {
    /// Every sampler of pf-sample and every objective of pf-train.
    fn default() -> Self {
        Self {
            samplers: pf_sample::Registry::builtin(),
            objectives: pf_train::objective::Registry::builtin(),
        }
    }
}

impl App {
    /// Makes the registries the ones configs are read with (once per process).
    pub fn install(self) {
        if pf_sample::registry::install(self.samplers).is_err()
            || pf_train::objective::install(self.objectives).is_err()
        {
            tracing::warn!("method registries were installed already; keeping the first");
        }
    }

    /// Runs the command line: `pf info | run | compare | sweep | bench` (help, version and
    /// messages name the running binary). Exits the process.
    pub fn main(self) -> ! {
        // first: libtorch's OpenMP workers sleep when idle instead of spinning (re-executes once;
        // see pf_core::threads), so a loaded machine does not stall every parallel region
        pf_core::threads::apply_default_wait_policy();
        // before any tensor exists: keep freed CPU buffers for reuse (no per-step page faults)
        pf_core::device::retain_freed_memory();
        faults::install();
        self.install();
        let cli = match Cli::parse_named(crate::program::name()) {
            Ok(c) => c,
            Err(e) => usage_error(e),
        };
        init_logging(cli.global.verbose);
        if let Err(e) = faults::catch(|| run(cli)) {
            if let Some((line, status)) = faults::interrupted(&e) {
                eprintln!("{line}");
                std::process::exit(status);
            }
            eprintln!("error: {}", one_line(&e));
            std::process::exit(1);
        }
        std::process::exit(0)
    }
}

/// Help and version print as clap renders them; a usage error becomes one line (the message and
/// clap's tip, if any), exit status 2.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_string();
    if first.ends_with(':') {
        // "the following required arguments were not provided:" and the first of them
        first = format!("{first} {}", lines.next().unwrap_or_default());
    }
    let tip = lines
        .find_map(|l| l.strip_prefix("tip: "))
        .map(|t| format!("; {t}"))
        .unwrap_or_default();
    eprintln!("{first}{tip} (see {} --help)", crate::program::name());
    std::process::exit(2);
}

/// The error and its causes on one line: "context: cause: cause" (libtorch's C++ backtraces
/// cut off).
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in e.chain().map(|c| faults::oom::clean(&c.to_string())) {
        // a cause its wrapper already spelled out ("I/O error: X" then "X")
        if !parts.last().is_some_and(|p| p.ends_with(&c)) {
            parts.push(c);
        }
    }
    parts.join(": ")
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    if let Some(n) = g.threads {
        anyhow::ensure!(n >= 1, "--threads must be ≥ 1, got {n}");
        tch::set_num_threads(n as i32);
    }
    if let Command::Sweep(args) = cli.command {
        // before selecting a device: a Slurm sweep may ask for GPUs this machine lacks
        return sweep::main(*args, g);
    }
    let device = pf_core::device::select_device(&g.device)?;
    tracing::info!(device = %pf_core::device::device_name(device), "device selected");
    match cli.command {
        Command::Info => info::run(device),
        Command::Bench(args) => bench::run(&args, device, g.seed),
        Command::Run { config, args } => commands::run(&config, &args, device, g.seed),
        Command::Compare(args) => compare::compare(&args, device, g.seed),
        Command::Sweep(_) => unreachable!("handled above"),
    }
}
