//! Signals sent to unify from outside reach the guest: Ctrl-C's SIGINT runs the
//! guest's handler (interrupting its blocking read) or ends it by SIGINT, and unify
//! with it.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn guest(dir: &Path) -> PathBuf {
    support::guest_program(dir, "interrupt")
}

/// Runs the guest with `args`, sends SIGINT to unify once the guest waits, and
/// returns its exit status and what it printed after "ready".
fn interrupt(tag: &str, args: &[&str]) -> (std::process::ExitStatus, String) {
    let dir = std::env::temp_dir().join(format!("unify-signal-tests-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = guest(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_unify"))
        .args(["run", "--platform", "hosted"])
        .arg(&exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("unify starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // A SIGINT that lands between "ready" and the read runs the handler before the read
    // starts (natively too), so keep sending until the guest is done.
    let (status, rest) = support::interrupt_until_done(child, out, std::time::Duration::from_millis(100));
    let _ = std::fs::remove_dir_all(&dir);
    (status, rest)
}

#[test]
fn sigint_runs_the_guests_handler_and_interrupts_its_read() {
    let (status, rest) = interrupt("handled", &["handle"]);
    assert_eq!(status.code(), Some(3), "{status:?}");
    assert_eq!(rest, "read -1 EINTR, got signal 2\n");
}

#[test]
fn sigint_without_a_handler_ends_the_guest_and_unify_by_sigint() {
    let (status, rest) = interrupt("default", &[]);
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert_eq!(rest, "");
}
