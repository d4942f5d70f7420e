//! What several integration tests share: building a C guest with the system compiler,
//! interrupting a running unify with SIGINT until its guest is done, running a command
//! with a time limit, and a stand-in for QEMU.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// Runs `cmd` with `stdin` (or /dev/null) and collects its output; kills it (and its
/// process group, which it leads) and fails the test if it takes longer than `limit`.
pub fn output_within(cmd: &mut Command, stdin: Option<&[u8]>, limit: Duration) -> Output {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().expect("the command starts");
    if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), stdin) {
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let pid = child.id() as i32;
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let watchdog = std::thread::spawn(move || {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if flag.load(Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: kill with the process group our own child leads; the child is not
        // reaped before this thread is joined.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        true
    });
    let out = child.wait_with_output().expect("wait");
    done.store(true, Ordering::SeqCst);
    let timed_out = watchdog.join().unwrap();
    assert!(!timed_out, "{cmd:?} took longer than {limit:?}; stderr: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A directory holding only `qemu-system-x86_64`: tests/support/fake_qemu.c, which plays
/// the kernel's side of the serial-port protocol as `$FAKE_QEMU` says.
pub fn fake_qemu_dir(dir: &Path) -> PathBuf {
    let bin = dir.join("fake-qemu-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake_qemu.c");
    let status =
        Command::new("cc").args(["-O1", "-o"]).arg(bin.join("qemu-system-x86_64")).arg(&src).status().expect("cc runs");
    assert!(status.success(), "cc failed on {}", src.display());
    bin
}

/// Whether the real QEMU is here; without it these tests fail (naming the package) unless
/// UNIFY_SKIP_VM_TESTS=1, as libos/metal/tests/boot-test does.
pub fn have_qemu() -> bool {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("qemu-system-x86_64").is_file());
    if !found {
        assert!(
            std::env::var_os("UNIFY_SKIP_VM_TESTS").is_some_and(|v| v == "1"),
            "qemu-system-x86_64 not found: install the Debian package qemu-system-x86 (or set UNIFY_SKIP_VM_TESTS=1)"
        );
    }
    found
}
