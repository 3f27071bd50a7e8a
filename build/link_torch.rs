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
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    if dir.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
