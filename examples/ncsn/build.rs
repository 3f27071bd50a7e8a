//! The binary and the test executables find libtorch without LD_LIBRARY_PATH (see pf-build).
fn main() {
    pf_build::link_libtorch()
}
