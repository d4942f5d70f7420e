//! Builds unify-kernel (`libos/metal`) so that the `unify` binary carries it.
//!
//! `libos/metal` is a Cargo workspace of its own whose `.cargo/config.toml` holds the
//! kernel's RUSTFLAGS and link arguments (libos/metal/README.md, "Why a separate
//! workspace"). Cargo finds that file from the working directory, so the kernel is built
//! by running `cargo build --release` *in* `libos/metal`, with the variables Cargo sets
//! for build scripts (and the user's build settings meant for unify) removed so that
//! none of them leaks into the kernel's build, and with the target directory
//! `libos/metal/target`, which a `cargo build` there by hand shares. The kernel is then
//! copied to `$OUT_DIR/unify-kernel`, which `src/vm/kernel.rs` embeds with
//! `include_bytes!`. `cargo install --path tools/unify` therefore gives a complete tool.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The kernel's target triple (libos/metal/.cargo/config.toml builds for it).
const KERNEL_TARGET: &str = "x86_64-unknown-linux-gnu";

fn main() {
    let here = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let metal = here.join("../../libos/metal");
    let metal = match metal.canonicalize() {
        Ok(p) => p,
        Err(e) => fail(&format!(
            "{}: {e}: unify embeds the unify kernel and must be built from the unify source tree",
            metal.display()
        )),
    };
    for input in ["src", "Cargo.toml", "Cargo.lock", "linker.ld", "build.rs", ".cargo/config.toml"] {
        println!("cargo:rerun-if-changed={}", metal.join(input).display());
    }
    // The kernel is built from the shared crates too: a change there is a new kernel.
    for shared in ["libos/core", "syscall-shim", "loader", "rootfs"] {
        let dir = metal.join("../..").join(shared);
        for input in ["src", "Cargo.toml"] {
            println!("cargo:rerun-if-changed={}", dir.join(input).display());
        }
    }
    println!("cargo:rerun-if-changed={}", metal.join("../../rootfs/core_io").display());

    let target_dir = metal.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&metal)
        .args(["build", "--release", "--bin", "unify-kernel", "--target-dir"])
        .arg(&target_dir)
        .stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if leaks_into_the_kernel_build(&key.to_string_lossy()) {
            cmd.env_remove(&key);
        }
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => fail(&format!("running {}: {e}", Path::new(&cargo).display())),
    };
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        fail(&format!("building unify-kernel in {} failed ({})", metal.display(), out.status));
    }

    let built = target_dir.join(KERNEL_TARGET).join("release/unify-kernel");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = std::fs::copy(&built, out_dir.join("unify-kernel")) {
        fail(&format!("copying {}: {e}", built.display()));
    }
}

/// Whether an environment variable of this build would change how the kernel is built:
/// what Cargo sets for a build script (the profile, the target, rustc and its wrappers,
/// the jobserver, `CARGO_CFG_*`, `CARGO_FEATURE_*`, `CARGO_PKG_*`, ...) and the user's
/// settings meant for the outer build (`RUSTFLAGS`, `CARGO_BUILD_*`, `CARGO_TARGET_*`,
/// `CARGO_PROFILE_*`, ...). Kept: where Cargo and rustup live and how to reach the
/// network (`CARGO_HOME`, `CARGO_NET_*`, `CARGO_HTTP_*`, `CARGO_REGISTRIES_*`, the
/// toolchain `RUSTUP_TOOLCHAIN` names), so the kernel is built by the same toolchain.
fn leaks_into_the_kernel_build(key: &str) -> bool {
    const KEEP: &[&str] = &["CARGO_HOME", "CARGO_NET_", "CARGO_HTTP_", "CARGO_REGISTRIES_", "CARGO_REGISTRY_"];
    const DROP: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_LINKER",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
        "MAKEFLAGS",
        "MFLAGS",
    ];
    if key.starts_with("CARGO") || key.starts_with("__CARGO") {
        return !KEEP.iter().any(|k| key.starts_with(k));
    }
    DROP.contains(&key) || key.starts_with("DEP_")
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1)
}
