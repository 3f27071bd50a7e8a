//! Build script shared by every pflow package that links libtorch: see pf-build.
fn main() {
    pf_build::link_libtorch()
}
