//! Picking the device: `auto` (CUDA when available, else CPU), `cpu`, `cuda` or `cuda:N`.

use crate::{Error, Result};
use tch::{Cuda, Device};

/// Parses a device name. Asking for CUDA where there is none is an error, never a silent fallback.
pub fn select_device(name: &str) -> Result<Device> {
    match name {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        "cuda" => cuda(0),
        s => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(i)) => cuda(i),
            _ => Err(Error::invalid(
                "device",
                name,
                "allowed: auto, cpu, cuda, cuda:N",
            )),
        },
    }
}

fn cuda(i: usize) -> Result<Device> {
    if !Cuda::is_available() {
        return Err(Error::Device(
            "cuda was asked for but libtorch sees no CUDA device (use --device cpu or auto)".into(),
        ));
    }
    let n = Cuda::device_count() as usize;
    if i >= n {
        return Err(Error::Device(format!(
            "cuda:{i} asked for but only {n} CUDA device(s) present"
        )));
    }
    Ok(Device::Cuda(i))
}

/// A short name for a device: `cpu` or `cuda:N`.
pub fn device_name(d: Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".into(),
        Device::Vulkan => "vulkan".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(select_device("cpu").unwrap(), Device::Cpu);
        let e = select_device("gpu").unwrap_err().to_string();
        assert!(
            e.contains("device") && e.contains("gpu") && e.contains("allowed"),
            "{e}"
        );
        if !Cuda::is_available() {
            let e = select_device("cuda").unwrap_err().to_string();
            assert!(e.contains("no CUDA"), "{e}");
            assert_eq!(select_device("auto").unwrap(), Device::Cpu);
        }
    }
}
