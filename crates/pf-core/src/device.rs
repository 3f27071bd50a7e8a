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

/// The environment variable naming the device the device-aware tests run on.
pub const TEST_DEVICE_ENV: &str = "PFLOW_TEST_DEVICE";

/// The device tests run on: `PFLOW_TEST_DEVICE` (`cpu`, `cuda`, `cuda:N`; default `cpu`).
/// Panics with one line naming the variable when it names a device libtorch cannot give: a test
/// run asked for CUDA where there is none must fail, not quietly pass on the CPU.
pub fn test_device() -> Device {
    let name = std::env::var(TEST_DEVICE_ENV).unwrap_or_else(|_| "cpu".into());
    match name.as_str() {
        "auto" => panic!("{TEST_DEVICE_ENV}=auto: name the device (cpu, cuda, cuda:N)"),
        n => select_device(n).unwrap_or_else(|e| panic!("{TEST_DEVICE_ENV}={n}: {e}")),
    }
}

/// Whether libtorch's results on `d` repeat bit for bit from run to run with the same seed and
/// inputs (the CPU's kernels do; CUDA's reductions and atomics need not), so that tests may
/// compare exactly instead of within a tolerance.
pub fn bit_reproducible(d: Device) -> bool {
    d == Device::Cpu
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

/// Makes the C allocator keep freed memory for reuse instead of handing it back to the kernel.
///
/// libtorch allocates CPU tensors with the C `malloc`. glibc serves blocks above its mmap
/// threshold (128 KiB, adaptive up to 32 MiB) with fresh `mmap`s and returns the top of the heap
/// to the kernel past its trim threshold, so a sampling loop that allocates and frees a few
/// [N, 256] activations per step page-faults every step (measured: a third of the CPU time of
/// DDPM sampling at 20 000 particles went to the kernel). Raising both thresholds (32 MiB, 1 GiB)
/// lets those blocks be reused: the process keeps its peak heap instead. Call once, at the top of
/// `main`, before any tensor exists. Returns whether the allocator accepted the settings (false
/// off glibc, where nothing is done).
pub fn retain_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: mallopt only adjusts glibc's allocator parameters; both values are in range
        // (the mmap threshold's maximum is 32 MiB on 64-bit targets).
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_settings_are_accepted() {
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert!(retain_freed_memory());
        }
    }

    #[test]
    fn test_device_defaults_to_the_cpu() {
        if std::env::var_os(TEST_DEVICE_ENV).is_none() {
            assert_eq!(test_device(), Device::Cpu);
            assert!(bit_reproducible(test_device()));
        }
    }

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
