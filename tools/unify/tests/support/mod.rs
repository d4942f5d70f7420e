//! What several integration tests share: building a C guest with the system compiler,
//! and interrupting a running unify with SIGINT until its guest is done.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Builds `src` as a static program at `exe` with the system compiler (static glibc).
pub fn build_c(src: &Path, exe: &Path) -> PathBuf {
    let status = Command::new("cc").args(["-static", "-O1", "-o"]).arg(exe).arg(src).status().expect("cc runs");
    assert!(status.success(), "cc -static failed (libc6-dev provides the static glibc)");
    exe.to_path_buf()
}

/// tests/guests/NAME.c, built into `dir`.
pub fn guest_program(dir: &Path, name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/guests/{name}.c"));
    build_c(&src, &dir.join(name))
}

/// Sends SIGINT to `child` every `every` until `out` ends (a SIGINT that lands before
/// the guest blocks only runs its handler; a later one ends the wait), then reaps it.
/// Returns the exit status and the rest of `out`.
pub fn interrupt_until_done(
    mut child: Child,
    mut out: impl Read,
    every: Duration,
) -> (std::process::ExitStatus, String) {
    let done = Arc::new(AtomicBool::new(false));
    let pid = child.id() as i32;
    let flag = done.clone();
    let sender = std::thread::spawn(move || {
        for _ in 0..100 {
            if flag.load(Ordering::SeqCst) {
                break;
            }
            // SAFETY: kill with the pid of our own child, not reaped before this thread
            // is joined.
            unsafe { libc::kill(pid, libc::SIGINT) };
            std::thread::sleep(every);
        }
    });
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    done.store(true, Ordering::SeqCst);
    sender.join().unwrap();
    (child.wait().unwrap(), rest)
}
