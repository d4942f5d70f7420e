//! Running one program: cleared environment, piped stdio, its own process group, and a
//! timeout after which the whole group is killed.

use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// At most this much of each output stream is kept (the rest is drained and dropped).
const MAX_CAPTURE: usize = 16 << 20;
/// How long to wait for the output pipes to close once the process has exited
/// (a leftover grandchild may still hold them).
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    Signaled(i32),
    TimedOut,
    SpawnFailed(String),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(c) => write!(f, "exit {c}"),
            Status::Signaled(s) => write!(f, "killed by signal {s}"),
            Status::TimedOut => write!(f, "timed out"),
            Status::SpawnFailed(e) => write!(f, "could not start: {e}"),
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub status: Status,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// One command line to run.
#[derive(Clone, Debug)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The complete environment (nothing is inherited).
    pub env: Vec<(String, String)>,
    /// Bytes for a pipe on stdin (closed after them), or `None` for /dev/null.
    pub stdin: Option<Vec<u8>>,
    pub cwd: PathBuf,
    pub timeout: Duration,
}

impl Spec {
    /// A shell-like rendering, for messages.
    pub fn display(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.env {
            s.push_str(&format!("{k}={} ", quote(v)));
        }
        s.push_str(&quote(&self.program.to_string_lossy()));
        for a in &self.args {
            s.push(' ');
            s.push_str(&quote(&a.to_string_lossy()));
        }
        s
    }
}

fn quote(s: &str) -> String {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn read_capped(mut r: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let room = MAX_CAPTURE.saturating_sub(out.len());
                out.extend_from_slice(&buf[..n.min(room)]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    out
}

fn kill_group(child: &Child) {
    // The child was started as the leader of its own process group (pgid == pid).
    let pgid = child.id() as libc::pid_t;
    // SAFETY: kill(2) with a negative pid signals that process group; no memory is
    // involved. The group is ours: it was created for this child.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Runs `spec` to completion or until its timeout.
pub fn run(spec: &Spec) -> Outcome {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(if spec.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                status: Status::SpawnFailed(format!("{}: {e}", spec.program.display())),
                stdout: Vec::new(),
                stderr: Vec::new(),
            }
        }
    };

    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), spec.stdin.clone()) {
        // A program that exits without reading gives EPIPE here: ignored.
        // Detached: it ends when the pipe's reader closes.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let tx2 = tx.clone();
    thread::spawn(move || {
        let _ = tx.send((1, read_capped(stdout)));
    });
    thread::spawn(move || {
        let _ = tx2.send((2, read_capped(stderr)));
    });

    let deadline = Instant::now() + spec.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                break match (st.code(), st.signal()) {
                    (Some(c), _) => Status::Exited(c),
                    (None, Some(s)) => Status::Signaled(s),
                    (None, None) => Status::SpawnFailed("unknown wait status".into()),
                };
            }
            Ok(None) if Instant::now() >= deadline => {
                kill_group(&child);
                let _ = child.wait();
                break Status::TimedOut;
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(e) => break Status::SpawnFailed(format!("wait: {e}")),
        }
    };

    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut drain_deadline = Instant::now() + DRAIN_GRACE;
    let mut killed = false;
    for _ in 0..2 {
        let got = loop {
            let left = drain_deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(v) => break Some(v),
                Err(mpsc::RecvTimeoutError::Timeout) if !killed => {
                    // Something in the group still holds the pipes open.
                    kill_group(&child);
                    killed = true;
                    drain_deadline = Instant::now() + DRAIN_GRACE;
                }
                Err(_) => break None,
            }
        };
        match got {
            Some((1, v)) => out = v,
            Some((_, v)) => err = v,
            None => break,
        }
    }
    Outcome { status, stdout: out, stderr: err }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout_ms: u64) -> Outcome {
        run(&Spec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("LANG".into(), "C".into()), ("FOO".into(), "bar baz".into())],
            stdin: Some(b"input line\n".to_vec()),
            cwd: std::env::temp_dir(),
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    #[test]
    fn exit_code_and_streams() {
        let o = sh("cat; echo out; echo err >&2; exit 3", 10_000);
        assert_eq!(o.status, Status::Exited(3));
        assert_eq!(o.stdout, b"input line\nout\n");
        assert_eq!(o.stderr, b"err\n");
    }

    #[test]
    fn environment_is_exactly_the_given_one() {
        let o = sh("env | sort", 10_000);
        let text = String::from_utf8(o.stdout).unwrap();
        // sh may add PWD / SHLVL / _ of its own; nothing from our environment leaks.
        assert!(text.contains("FOO=bar baz\n"));
        assert!(text.contains("LANG=C\n"));
        assert!(!text.contains("CARGO"), "{text}");
        assert!(!text.contains("HOME="), "{text}");
    }

    #[test]
    fn null_stdin() {
        let o = run(&Spec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "test -c /dev/stdin && echo char device; cat".into()],
            env: vec![],
            stdin: None,
            cwd: std::env::temp_dir(),
            timeout: Duration::from_secs(10),
        });
        assert_eq!(o.status, Status::Exited(0));
        assert_eq!(o.stdout, b"char device\n");
    }

    #[test]
    fn signal() {
        let o = sh("kill -SEGV $$", 10_000);
        assert_eq!(o.status, Status::Signaled(11));
    }

    #[test]
    fn timeout_kills_the_group() {
        let t = Instant::now();
        // The background sleep holds stdout open; killing the group closes it.
        let o = sh("sleep 30 & echo started; sleep 30", 300);
        assert_eq!(o.status, Status::TimedOut);
        assert_eq!(o.stdout, b"started\n");
        assert!(t.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn spawn_failure() {
        let o = run(&Spec {
            program: "/nonexistent/program".into(),
            args: vec![],
            env: vec![],
            stdin: None,
            cwd: std::env::temp_dir(),
            timeout: Duration::from_secs(1),
        });
        assert!(matches!(o.status, Status::SpawnFailed(_)), "{:?}", o.status);
    }

    #[test]
    fn display_quotes() {
        let s = Spec {
            program: "/bin/x".into(),
            args: vec!["a".into(), "b c".into(), "".into(), "it's".into()],
            env: vec![("K".into(), "v w".into())],
            stdin: None,
            cwd: "/".into(),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(s.display(), "K='v w' /bin/x a 'b c' '' 'it'\\''s'");
    }
}
