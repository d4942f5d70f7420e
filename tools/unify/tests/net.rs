//! Guest sockets on the hosted platform, end to end: a static C echo server run with
//! `-p HOST:GUEST` is reached at HOST, sees its own GUEST port in getsockname, echoes,
//! and SIGINT sent to unify ends its blocking accept or read with EINTR.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// The guest's own port; the host port is picked free.
const GUEST_PORT: u16 = 7007;

fn guest(dir: &Path) -> PathBuf {
    support::guest_program(dir, "echo_server")
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
        .args(["run", "--platform", "hosted", "-p", &format!("{host}:{GUEST_PORT}"), "--"])
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
fn finish(child: Child, out: BufReader<ChildStdout>, dir: PathBuf) -> (Option<i32>, String) {
    let (status, rest) = support::interrupt_until_done(child, out, Duration::from_millis(200));
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
