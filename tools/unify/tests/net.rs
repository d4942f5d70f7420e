//! Guest sockets on the hosted platform, end to end: a static C echo server run with
//! `-p HOST:GUEST` is reached at HOST, sees its own GUEST port in getsockname, echoes,
//! and SIGINT sent to unify ends its blocking accept or read with EINTR.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// The guest's own port; the host port is picked free.
const GUEST_PORT: u16 = 7007;

fn guest(dir: &Path) -> PathBuf {
    let exe = dir.join("echo_server");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests/echo_server.c");
    let status = Command::new("cc").args(["-static", "-O1", "-o"]).arg(&exe).arg(&src).status().expect("cc runs");
    assert!(status.success(), "cc -static failed (libc6-dev provides the static glibc)");
    exe
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap().local_addr().unwrap().port()
}

/// Starts the server under unify with `-p HOST:GUEST`; returns it, its stdout and HOST.
fn start(tag: &str) -> (Child, BufReader<ChildStdout>, u16, PathBuf) {
    let dir = std::env::temp_dir().join(format!("unify-net-tests-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = guest(&dir);
    let host = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_unify"))
        .args(["run", "-p", &format!("{host}:{GUEST_PORT}"), "--"])
        .arg(&exe)
        .arg(GUEST_PORT.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("unify starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, format!("listening, getsockname says port {GUEST_PORT}\n"));
    (child, out, host, dir)
}

/// Sends SIGINT until the server has ended (one that arrives before the guest blocks
/// only runs its handler; the next one ends the wait), then reaps it.
fn finish(mut child: Child, mut out: BufReader<ChildStdout>, dir: PathBuf) -> (Option<i32>, String) {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pid = child.id() as i32;
    let flag = done.clone();
    let sender = std::thread::spawn(move || {
        for _ in 0..100 {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            // SAFETY: kill with the pid of our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGINT) };
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    sender.join().unwrap();
    let status = child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (status.code(), rest)
}

#[test]
fn a_published_port_reaches_the_guest_and_sigint_ends_its_read() {
    let (child, mut out, host, dir) = start("read");
    let mut c = TcpStream::connect(("127.0.0.1", host)).expect("the published port accepts");
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "client from loopback: 1\n");
    c.write_all(b"hello through unify\n").unwrap();
    let mut buf = [0u8; 64];
    let n = c.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello through unify\n");
    let (code, rest) = finish(child, out, dir);
    assert_eq!(code, Some(0));
    assert_eq!(rest, "interrupted in read: EINTR, stop 1\n");
}

#[test]
fn sigint_ends_a_blocking_accept() {
    let (child, out, _host, dir) = start("accept");
    let (code, rest) = finish(child, out, dir);
    assert_eq!(code, Some(0));
    assert_eq!(rest, "interrupted in accept: EINTR, stop 1\n");
}
