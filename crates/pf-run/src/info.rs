//! `pf info`: what this binary links against and what it sees.

use anyhow::Result;
use tch::{Cuda, Device};

pub fn run(device: Device) -> Result<()> {
    println!("pflow      {}", env!("CARGO_PKG_VERSION"));
    println!("tch        {}", TCH_VERSION);
    println!(
        "libtorch   {} ({})",
        env!("PFLOW_LIBTORCH_VERSION"),
        env!("PFLOW_LIBTORCH_DIR")
    );
    println!("device     {}", pf_core::device::device_name(device));
    println!(
        "cuda       {}",
        if Cuda::is_available() {
            "available"
        } else {
            "not available"
        }
    );
    println!("cuda devs  {}", Cuda::device_count());
    println!(
        "cudnn      {}",
        if Cuda::cudnn_is_available() {
            "available"
        } else {
            "not available"
        }
    );
    println!("threads    {} intra-op", tch::get_num_threads());
    println!("omp wait   {}", pf_core::threads::describe());
    Ok(())
}

/// The tch crate version this binary was built with (kept in step with Cargo.lock by a test).
const TCH_VERSION: &str = "0.24.0";

#[cfg(test)]
mod tests {
    #[test]
    fn tch_version_matches_lockfile() {
        let lock =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
                .unwrap();
        let pat = "name = \"tch\"\nversion = \"";
        let i = lock.find(pat).expect("tch in Cargo.lock");
        let v = &lock[i + pat.len()..];
        assert_eq!(&v[..v.find('"').unwrap()], super::TCH_VERSION);
    }
}
