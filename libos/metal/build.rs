//! Points the linker at this crate's linker script (an absolute path, so it holds
//! whatever directory cargo links from), and builds the guest's vDSO (vdso/: a small
//! C shared object, `$CC` or `gcc`) for src/vdso.rs to embed.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=linker.ld");
    println!("cargo:rerun-if-changed=src/boot.s");
    println!("cargo:rerun-if-changed=src/vectors.s");
    println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
    build_vdso(&dir);
}

/// `vdso/vdso.c` linked by `vdso/vdso.lds` into `$OUT_DIR/vdso.so`.
fn build_vdso(dir: &str) {
    println!("cargo:rerun-if-changed=vdso/vdso.c");
    println!("cargo:rerun-if-changed=vdso/vdso.lds");
    println!("cargo:rerun-if-env-changed=CC");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let status = std::process::Command::new(&cc)
        .args(["-O2", "-fPIC", "-shared", "-nostdlib", "-fno-stack-protector"])
        .args(["-fno-asynchronous-unwind-tables", "-fcf-protection=none", "-mno-red-zone"])
        .arg(format!("-Wl,-T,{dir}/vdso/vdso.lds"))
        .args(["-Wl,--hash-style=both", "-Wl,-soname=linux-vdso.so.1", "-Wl,--build-id=none"])
        .args(["-Wl,-z,max-page-size=4096", "-o"])
        .arg(format!("{out}/vdso.so"))
        .arg(format!("{dir}/vdso/vdso.c"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cc} to build the vDSO: {e}"));
    assert!(status.success(), "{cc} failed to build the vDSO (vdso/vdso.c)");
}
