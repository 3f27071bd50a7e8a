//! `pf bench WORKLOAD`: times one workload and prints one JSON line.

use anyhow::Result;
use tch::Device;

/// Arguments of `pf bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The workload to time.
    pub workload: String,
}

pub fn run(args: &BenchArgs, _device: Device, _seed: Option<u64>) -> Result<()> {
    anyhow::bail!("bench workload {} is being written", args.workload)
}
