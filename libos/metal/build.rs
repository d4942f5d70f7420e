//! Points the linker at this crate's linker script (an absolute path, so it holds
//! whatever directory cargo links from).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=linker.ld");
    println!("cargo:rerun-if-changed=src/boot.s");
    println!("cargo:rerun-if-changed=src/vectors.s");
    println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
}
