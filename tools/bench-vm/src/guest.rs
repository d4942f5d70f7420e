//! The C programs that run inside the VMs (`guest/`), compiled static into the cache.
//!
//! `musl-gcc -static -O2` (Debian's `musl-tools`) when it is installed, else the system
//! compiler with `-static` (glibc's static libc works too, only bigger). The sources are
//! embedded, so the tool works from any directory; a build is redone when its source or
//! compiler changes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const HELLO_C: &str = include_str!("../guest/hello.c");
pub const INIT_C: &str = include_str!("../guest/init.c");

/// What `hello` writes (one line).
pub const HELLO_LINE: &str = "hello, world";

/// Compiles `source` into `cache/guest/<name>` (static) unless it is already there.
pub fn build(cache: &Path, name: &str, source: &str) -> Result<PathBuf, String> {
    let dir = cache.join("guest");
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let cc = compiler();
    let key = format!("{cc}\n{source}");
    let out = dir.join(name);
    let stamp = dir.join(format!("{name}.source"));
    if out.exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == key) {
        return Ok(out);
    }
    let src = dir.join(format!("{name}.c"));
    fs::write(&src, source).map_err(|e| format!("{}: {e}", src.display()))?;
    let status = Command::new(&cc)
        .args(["-static", "-O2", "-Wall", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .map_err(|e| format!("{cc}: {e}"))?;
    if !status.success() {
        return Err(format!("{cc} could not build {}", src.display()));
    }
    fs::write(&stamp, key).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(out)
}

/// `musl-gcc` if it is on PATH, else `cc`.
pub fn compiler() -> String {
    let musl = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("musl-gcc").is_file()))
        .unwrap_or(false);
    if musl { "musl-gcc" } else { "cc" }.to_string()
}
