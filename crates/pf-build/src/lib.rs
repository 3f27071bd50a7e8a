//! pf-build: one call in a build script makes a crate's binaries and test executables run
//! without `LD_LIBRARY_PATH` and see CUDA where the machine has it.
//!
//! torch-sys exports its libtorch directory as `DEP_TCH_LIBTORCH_LIB`, but only to packages that
//! depend on torch-sys **directly**. So a crate whose binaries use libtorch (every pflow crate, and
//! a researcher's crate built on pflow) declares
//!
//! ```toml
//! [dependencies]
//! torch-sys = "0.24"          # for DEP_TCH_LIBTORCH_LIB
//! [build-dependencies]
//! pf-build = { path = "…/pflow/crates/pf-build" }
//! ```
//!
//! and its `build.rs` is `fn main() { pf_build::link_libtorch() }`. That adds the directory
//! (symlinks resolved) as an rpath and forces `libtorch_cuda.so` into the binary's NEEDED list:
//! nothing references it by symbol, so `--as-needed` would drop it and CUDA would be invisible at
//! run time. It also sets `PFLOW_LIBTORCH_VERSION` and `PFLOW_LIBTORCH_DIR` for `env!`.

use std::path::Path;

/// Emits the link arguments and environment described in the crate docs. Without
/// `DEP_TCH_LIBTORCH_LIB` (no direct torch-sys dependency) it prints a cargo warning and does
/// nothing else.
pub fn link_libtorch() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        println!("cargo:warning=pf-build: DEP_TCH_LIBTORCH_LIB is not set; add torch-sys to [dependencies] so binaries find libtorch");
        return;
    };
    let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone().into());
    println!(
        "cargo:rustc-env=PFLOW_LIBTORCH_VERSION={}",
        libtorch_version(&dir)
    );
    println!("cargo:rustc-env=PFLOW_LIBTORCH_DIR={}", dir.display());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    if dir.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}

/// The libtorch version of the library directory `lib`: a pip wheel has `torch/version.py`, a C++
/// distribution has `build-version`; "unknown" otherwise.
pub fn libtorch_version(lib: &Path) -> String {
    let root = lib.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    std::fs::read_to_string(root.join("version.py"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("__version__ = ")
                    .map(|v| v.trim_matches(|c| c == '\'' || c == '"').to_string())
            })
        })
        .or_else(|| {
            std::fs::read_to_string(root.join("build-version"))
                .ok()
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_from_a_wheel_and_a_cpp_distribution() {
        let d = std::env::temp_dir().join(format!("pf-build-{}", std::process::id()));
        let lib = d.join("lib");
        std::fs::create_dir_all(&lib).unwrap();
        assert_eq!(libtorch_version(&lib), "unknown");
        std::fs::write(d.join("build-version"), "2.11.0+cpu\n").unwrap();
        assert_eq!(libtorch_version(&lib), "2.11.0+cpu");
        std::fs::write(
            d.join("version.py"),
            "git_version = 'x'\n__version__ = '2.11.0+cu130'\n",
        )
        .unwrap();
        assert_eq!(libtorch_version(&lib), "2.11.0+cu130");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
