//! The server cases: a real server (`compat-tests/servers`, tokio) is started natively
//! and under unify, waited for until it says it is ready, driven by a client
//! ([`crate::client`]), stopped with SIGINT (unify forwards it to the guest), and the
//! two sides are compared by their transcripts, their output (ports written as `PORT`)
//! and how they ended (both must exit 0).
//!
//! A `publish` case runs the server under unify on guest port [`GUEST_PORT`] with
//! `-p HOST:GUEST_PORT`, and talks to HOST: the native side simply serves on HOST.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::exec::Status;
use crate::probes::{Paths, RUST_TARGET};
use crate::under_test::UnderTest;

/// The port a `publish` case's guest listens on.
pub const GUEST_PORT: u16 = 8080;
/// How long a server may take to say it is ready, and to stop after SIGINT.
const START_LIMIT: Duration = Duration::from_secs(20);
const STOP_LIMIT: Duration = Duration::from_secs(10);
/// The load of the HTTP check: the acceptance figures.
const REQUESTS: usize = 2000;
const CONNECTIONS: usize = 32;

/// Builds the servers crate (tokio, hyper) like the probes.
pub fn build(paths: &Paths) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "--target", RUST_TARGET, "--manifest-path"])
        .arg(paths.compat.join("servers/Cargo.toml"))
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", paths.compat.join("servers/target"))
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("running {}: {e}", cargo.to_string_lossy()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo build of the servers failed ({status})"))
    }
}

/// Where a server binary is once built.
pub fn binary(paths: &Paths, name: &str) -> PathBuf {
    paths.compat.join("servers/target").join(RUST_TARGET).join("release").join(name)
}

/// A port nobody listens on now (the kernel's pick, released at once).
fn free_port(udp: bool) -> Result<u16, String> {
    let port = if udp {
        std::net::UdpSocket::bind(("127.0.0.1", 0)).and_then(|s| s.local_addr())
    } else {
        std::net::TcpListener::bind(("127.0.0.1", 0)).and_then(|s| s.local_addr())
    };
    port.map(|a| a.port()).map_err(|e| format!("finding a free port: {e}"))
}

/// What one side did.
#[derive(Debug, PartialEq, Eq)]
pub struct Run {
    pub transcript: Vec<String>,
    pub stdout: String,
    pub status: Status,
    pub stderr: String,
}

/// Runs server `bin` on one side: natively when `unify` is `None`.
fn run_side(bin: &Path, unify: Option<&UnderTest>, publish: bool) -> Result<Run, String> {
    let udp = bin.file_name().is_some_and(|n| n.to_string_lossy().starts_with("udp"));
    let host_port = free_port(udp)?;
    let mut cmd = match unify {
        None | Some(UnderTest::Native) => {
            let mut c = Command::new(bin);
            c.arg(host_port.to_string());
            c
        }
        Some(UnderTest::Unify { binary, platform, extra_args }) => {
            let mut c = Command::new(binary);
            c.args(["run", "--platform", platform]).args(extra_args);
            let guest_port = if publish { GUEST_PORT } else { host_port };
            if publish {
                let proto = if udp { "/udp" } else { "" };
                c.arg("-p").arg(format!("{host_port}:{GUEST_PORT}{proto}"));
            }
            c.arg("--").arg(bin).arg(guest_port.to_string());
            c
        }
    };
    cmd.env_clear().env("LANG", "C").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("starting the server: {e}"))?;
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut lines = Vec::new();
    let transcript = match rx.recv_timeout(START_LIMIT) {
        Ok(first) => {
            lines.push(first);
            if udp {
                crate::client::udp_check(host_port)
            } else {
                crate::client::http_check(host_port, REQUESTS, CONNECTIONS)
            }
        }
        Err(_) => vec!["the server never said it was ready".to_string()],
    };
    // SAFETY: kill with the pid of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait(&mut child, STOP_LIMIT);
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
        lines.push(l);
    }
    let stderr = err_reader.join().unwrap_or_default();
    let port_texts = [host_port.to_string(), GUEST_PORT.to_string()];
    let stdout = lines
        .iter()
        .map(|l| port_texts.iter().fold(l.clone(), |l, p| l.replace(p.as_str(), "PORT")))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Run { transcript, stdout, status, stderr })
}

/// Waits for the child up to `limit`; then kills its whole group.
fn wait(child: &mut Child, limit: Duration) -> Status {
    let end = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                return match (st.code(), st.signal()) {
                    (Some(c), _) => Status::Exited(c),
                    (None, Some(s)) => Status::Signaled(s),
                    _ => Status::Exited(-1),
                }
            }
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                // SAFETY: kills the process group our child leads.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                return Status::TimedOut;
            }
        }
    }
}

/// Runs a server case on both sides: `Ok(None)` when they agree and the native side
/// ended well, else the reasons and details.
pub fn run_case(bin: &Path, under_test: &UnderTest, publish: bool) -> Result<Option<(String, Vec<String>)>, String> {
    let native = run_side(bin, None, publish)?;
    let other = run_side(bin, Some(under_test), publish)?;
    let label = under_test.label();
    let mut reasons = Vec::new();
    if native.status != Status::Exited(0) {
        reasons.push(format!("native ended with {} (expected exit 0 after SIGINT)", native.status));
    }
    if other.status != native.status {
        reasons.push(format!("exit status differs (native {} vs {label} {})", native.status, other.status));
    }
    if other.transcript != native.transcript {
        reasons.push("what the client saw differs".to_string());
    }
    if other.stdout != native.stdout {
        reasons.push("stdout differs".to_string());
    }
    if native.transcript.iter().any(|l| l.contains("failed") || l.contains("error") || l.contains("never")) {
        reasons.push("the native run itself did not answer as it should".to_string());
    }
    if reasons.is_empty() {
        return Ok(None);
    }
    let mut details = Vec::new();
    for (name, run) in [("native", &native), (label.as_str(), &other)] {
        for l in &run.transcript {
            details.push(format!("    {name} client | {l}"));
        }
        for l in run.stdout.lines() {
            details.push(format!("    {name} stdout | {l}"));
        }
        for l in run.stderr.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev() {
            details.push(format!("    {name} stderr | {l}"));
        }
    }
    Ok(Some((reasons.join("; "), details)))
}
