//! Build script shared by every pflow package that links libtorch.
//!
//! torch-sys exports its libtorch directory as `DEP_TCH_LIBTORCH_LIB` to packages that depend on
//! it directly. We add that directory (symlinks resolved) as an rpath so binaries and test
//! executables run without LD_LIBRARY_PATH, and force `libtorch_cuda.so` into NEEDED: nothing
//! references it by symbol, so `--as-needed` would drop it and CUDA would be invisible at run time.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone().into());
    // The libtorch version, for `pf info`: a pip wheel has torch/version.py, a C++ distribution
    // has build-version.
    let root = dir.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let version = std::fs::read_to_string(root.join("version.py"))
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
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PFLOW_LIBTORCH_VERSION={version}");
    println!("cargo:rustc-env=PFLOW_LIBTORCH_DIR={}", dir.display());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    if dir.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
