//! Timers end to end on the hosted platform: a C guest (guests/timers.c) run natively
//! and under unify must print the same lines, and a guest whose ITIMER_REAL fires with
//! SIGALRM's default action must die by SIGALRM, at the right time, both ways.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Builds the guest as `name` (one per test: the tests run in parallel).
fn guest(name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests/timers.c");
    let dir = std::env::temp_dir().join(format!("unify-timers-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    support::build_c(&src, &dir.join(name))
}

fn native(exe: &Path, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new(exe).args(args).output().unwrap();
    (out, start.elapsed())
}

fn hosted(exe: &Path, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_unify"))
        .args(["run", "--platform", "hosted", "--"])
        .arg(exe)
        .args(args)
        .output()
        .unwrap();
    (out, start.elapsed())
}

#[test]
fn timers_behave_as_natively() {
    let exe = guest("timers");
    let (n, _) = native(&exe, &[]);
    let (h, _) = hosted(&exe, &[]);
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(n.status.success(), "native run failed: {n:?}");
    assert_eq!(text(&h), text(&n), "stderr under unify: {}", String::from_utf8_lossy(&h.stderr));
    assert!(h.status.success());
}

#[test]
fn an_unhandled_sigalrm_kills_at_the_right_time() {
    let exe = guest("timers_die");
    for (name, (out, took)) in [("native", native(&exe, &["die"])), ("hosted", hosted(&exe, &["die"]))] {
        assert_eq!(String::from_utf8_lossy(&out.stdout), "armed\n", "{name}");
        assert_eq!(out.status.signal(), Some(14), "{name}: {:?}", out.status);
        assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(4), "{name}: {took:?}");
    }
}
