//! `pf`: the pflow command line. Parse, set up logging, threads and the device, then hand over to
//! one subcommand module. The maths lives in the crates.

mod bench;
mod cli;
mod commands;
mod config;
mod info;
mod overrides;
mod quick;
mod run;

use anyhow::Result;
use clap::Parser;
use cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

fn main() {
    // first: libtorch's OpenMP workers sleep when idle instead of spinning (re-executes once;
    // see pf_core::threads), so a loaded machine does not stall every parallel region
    pf_core::threads::apply_default_wait_policy();
    // before any tensor exists: keep freed CPU buffers for reuse (no per-step page faults)
    pf_core::device::retain_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => usage_error(e),
    };
    init_logging(cli.global.verbose);
    if let Err(e) = run(cli) {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
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
    let first = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_string();
    let tip = lines
        .find_map(|l| l.strip_prefix("tip: "))
        .map(|t| format!("; {t}"))
        .unwrap_or_default();
    eprintln!("{first}{tip} (see pf --help)");
    std::process::exit(2);
}

/// The error and its causes on one line: "context: cause: cause".
fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
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
    let device = pf_core::device::select_device(&g.device)?;
    tracing::info!(device = %pf_core::device::device_name(device), "device selected");
    match cli.command {
        Command::Info => info::run(device),
        Command::Bench(args) => bench::run(&args, device, g.seed),
        Command::Run { config, args } => commands::run(&config, &args, device, g.seed),
        Command::Compare { config, args } => {
            commands::compare(config.as_deref(), &args, device, g.seed)
        }
    }
}
