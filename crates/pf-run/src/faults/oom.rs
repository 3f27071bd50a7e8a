//! Panics and libtorch messages as one line: tch's non-`f_` operations panic on a libtorch
//! error (an allocation failure above all), with the C++ backtrace in the message. The hook
//! installed here prints nothing for the main thread (its panics are caught around each stage
//! and reported as errors) and one line for any other thread; never a backtrace.

use super::Stage;

/// Replaces the default panic hook (message + `RUST_BACKTRACE` backtrace).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let main = std::thread::current().name() == Some("main");
        if !main {
            let msg = payload_text(info.payload());
            eprintln!("error: internal error in a worker thread: {}", clean(&msg));
        }
    }));
}

/// The text of a panic payload (`&str` or `String`).
fn payload_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".into()
    }
}

/// An allocation libtorch could not make: the bytes asked for and the device.
#[derive(Clone, Debug, PartialEq)]
pub struct AllocFailure {
    pub bytes: u64,
    pub device: &'static str,
}

/// Reads libtorch's allocation failures: the CPU allocator's "DefaultCPUAllocator: can't
/// allocate memory: you tried to allocate N bytes" and CUDA's "CUDA out of memory. Tried to
/// allocate 2.00 GiB".
pub fn alloc_failure(msg: &str) -> Option<AllocFailure> {
    if let Some(i) = msg.find("you tried to allocate ") {
        let rest = &msg[i + "you tried to allocate ".len()..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        return digits.parse().ok().map(|bytes| AllocFailure {
            bytes,
            device: "cpu",
        });
    }
    if let Some(i) = msg.find("out of memory. Tried to allocate ") {
        let rest = &msg[i + "out of memory. Tried to allocate ".len()..];
        let mut it = rest.split_whitespace();
        let v: f64 = it.next()?.parse().ok()?;
        let unit = it
            .next()?
            .trim_end_matches(|c: char| !c.is_ascii_alphabetic());
        let scale = match unit {
            "B" => 1.0,
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            "GiB" => 1024.0 * 1024.0 * 1024.0,
            "TiB" => 1024.0f64.powi(4),
            _ => return None,
        };
        return Some(AllocFailure {
            bytes: (v * scale) as u64,
            device: "cuda",
        });
    }
    None
}

/// Bytes for people: "8.0 GB", "512.0 MB" (powers of 1000).
pub fn human(bytes: f64) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes:.0} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// A libtorch message without its C++ backtrace, on one line: the text before "Exception
/// raised from" / the first frame, newlines and the `Torch("…")` wrapping removed; an
/// allocation failure reads "out of memory: libtorch could not allocate N bytes (…) on cpu".
pub fn clean(msg: &str) -> String {
    if let Some(a) = alloc_failure(msg) {
        return format!(
            "out of memory: libtorch could not allocate {} bytes ({}) on {}",
            a.bytes,
            human(a.bytes as f64),
            a.device
        );
    }
    let msg = msg.replace("\\n", "\n");
    let cut = [
        "Exception raised from",
        "frame #0",
        "\nstack backtrace",
        "\n",
    ]
    .iter()
    .filter_map(|m| msg.find(m))
    .min()
    .unwrap_or(msg.len());
    let head = msg[..cut].trim();
    let head = head
        .strip_prefix("called `Result::unwrap()` on an `Err` value: ")
        .unwrap_or(head);
    match head.strip_prefix("Torch(\"") {
        Some(inner) => inner.trim_end_matches(['"', ')']).trim().to_string(),
        None => head.to_string(),
    }
}

/// The one line for a panic caught around `stage`: an allocation failure names the stage, the
/// bytes asked for, the device and the knob; anything else is an internal error in that stage.
pub fn panic_message(payload: &(dyn std::any::Any + Send), stage: &Stage) -> String {
    let msg = payload_text(payload);
    match alloc_failure(&msg) {
        Some(a) => format!(
            "out of memory in {}: libtorch could not allocate {} bytes ({}) on {}; {}",
            stage.what(),
            a.bytes,
            human(a.bytes as f64),
            a.device,
            stage.hint()
        ),
        None => format!("internal error in {}: {}", stage.what(), clean(&msg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_and_cuda_allocation_failures() {
        let cpu = "called `Result::unwrap()` on an `Err` value: Torch(\"DefaultCPUAllocator: can't allocate memory: you tried to allocate 80000000000 bytes. Error code 12 (Cannot allocate memory)\\nException raised from malloc at /pytorch/c10/core/impl/alloc_cpu.cpp:117 (most recent call first):\\nframe #0: c10::Error::Error\")";
        assert_eq!(
            alloc_failure(cpu),
            Some(AllocFailure {
                bytes: 80_000_000_000,
                device: "cpu"
            })
        );
        let cuda = "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.1 GiB";
        assert_eq!(
            alloc_failure(cuda),
            Some(AllocFailure {
                bytes: 2 * 1024 * 1024 * 1024,
                device: "cuda"
            })
        );
        let stage = Stage::Sampler {
            label: "ula".into(),
            particles: 10_000_000_000,
        };
        let line = panic_message(&String::from(cpu), &stage);
        assert_eq!(
            line,
            "out of memory in sampler ula: libtorch could not allocate 80000000000 bytes (80.0 GB) on cpu; use fewer particles (sampler.ula.particles = 10000000000)"
        );
    }

    #[test]
    fn clean_drops_the_cpp_backtrace() {
        let m = "called `Result::unwrap()` on an `Err` value: Torch(\"shape '[3]' is invalid for input of size 4\\nException raised from infer_size_impl at /pytorch/aten/src/ATen/InferSize.h:73\\nframe #0: c10::Error\")";
        assert_eq!(clean(m), "shape '[3]' is invalid for input of size 4");
        assert_eq!(
            clean("cannot read x: No such file or directory (os error 2)"),
            "cannot read x: No such file or directory (os error 2)"
        );
        assert_eq!(human(999.0), "999 bytes");
        assert_eq!(human(1.5e9), "1.5 GB");
    }
}
