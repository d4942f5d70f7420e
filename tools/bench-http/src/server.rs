//! The four servers: how each is started, when it counts as serving (it answers
//! `GET /health` through its host port), and how it is stopped (SIGINT to the server and
//! to unify, which passes it to the guest; SIGTERM to the Linux VM's QEMU) without leaving
//! a QEMU behind.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bench_vm::debian::LinuxKernel;
use bench_vm::linuxvm::{self, Init, KernelImage, LinuxVm, RunningVm, Spec};
use bench_vm::serial::Output;

/// The port the server listens on inside hosted unify and the VMs.
pub const GUEST_PORT: u16 = 8080;

/// Which way the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// `http_server PORT` on this machine.
    Native,
    /// `unify run --platform hosted`.
    Hosted,
    /// `unify run --platform vm --accel tcg`: the unify kernel under QEMU.
    Vm,
    /// The same binary in a Linux VM (Debian's cloud kernel) under QEMU.
    LinuxVm,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Native => "native",
            Kind::Hosted => "hosted",
            Kind::Vm => "VM",
            Kind::LinuxVm => "Linux VM",
        }
    }

    pub fn is_vm(self) -> bool {
        matches!(self, Kind::Vm | Kind::LinuxVm)
    }
}

/// What the servers are started from.
pub struct Setup<'a> {
    pub unify: &'a Path,
    pub server: &'a Path,
    /// Memory of either VM, MiB.
    pub mem_mib: u32,
    /// bench-vm's cache (kernel package, initramfs images).
    pub cache: &'a Path,
}

enum Proc {
    /// The server itself, or unify running it (hosted or as a VM).
    Process { child: Child, stdout: Output, stderr: Output },
    /// The Linux VM's QEMU.
    Qemu(RunningVm),
}

/// A running server.
pub struct Server {
    pub kind: Kind,
    /// The host port the load goes to.
    pub port: u16,
    /// The command that was started (argv).
    pub command: Vec<String>,
    /// The QEMU that runs the VM (argv), as started: for the VM side read from
    /// `/proc/PID/cmdline` of unify's QEMU child once the server answers.
    pub qemu: Option<Vec<String>>,
    proc: Proc,
    started: Instant,
    done: bool,
}

/// A free TCP port on 127.0.0.1 (bound and released: another process could take it first).
pub fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("a free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| format!("a free port: {e}"))?.port())
}

impl Server {
    /// Starts `kind`'s server on host port `port`. For the Linux VM, `kernel` is Debian's
    /// kernel (bench-vm fetched or found it).
    pub fn start(kind: Kind, port: u16, setup: &Setup, kernel: Option<&LinuxKernel>) -> Result<Server, String> {
        let server = setup.server.display().to_string();
        let unify = setup.unify.display().to_string();
        let publish = format!("{port}:{GUEST_PORT}");
        let guest_port = GUEST_PORT.to_string();
        let command: Vec<String> = match kind {
            Kind::Native => vec![server, port.to_string()],
            Kind::Hosted => [&unify, "run", "--platform", "hosted", "-p", &publish, "--", &server, &guest_port]
                .map(String::from)
                .into(),
            Kind::Vm => [
                &unify,
                "run",
                "--platform",
                "vm",
                "--accel",
                "tcg",
                "-m",
                &format!("{}M", setup.mem_mib),
                "-p",
                &publish,
                "--",
                &server,
                &guest_port,
            ]
            .map(String::from)
            .into(),
            Kind::LinuxVm => return Server::start_linux(port, setup, kernel),
        };
        let started = Instant::now();
        let mut cmd = Command::new(&command[0]);
        cmd.args(&command[1..]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // If this benchmark dies, so does the server (and unify's QEMU with unify).
        linuxvm::die_with_parent(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", command[0]))?;
        let stdout = Output::capture(child.stdout.take().unwrap());
        let stderr = Output::capture(child.stderr.take().unwrap());
        Ok(Server {
            kind,
            port,
            command,
            qemu: None,
            proc: Proc::Process { child, stdout, stderr },
            started,
            done: false,
        })
    }

    fn start_linux(port: u16, setup: &Setup, kernel: Option<&LinuxKernel>) -> Result<Server, String> {
        let kernel = kernel.ok_or("no Linux kernel")?;
        // unify's VM runs with `-cpu max -smp 1`; bench-vm's launcher does not add them.
        let mut extra: Vec<String> = ["-cpu", "max", "-smp", "1"].map(String::from).into();
        extra.extend(linuxvm::user_net(port, GUEST_PORT));
        let vm = LinuxVm::prepare(
            kernel,
            setup.cache,
            Spec {
                program: setup.server,
                args: vec![GUEST_PORT.to_string()],
                init: Init::Wrapper { net: true },
                image: KernelImage::BzImage,
                extra_qemu: extra,
            },
        )?;
        let mut argv = vec![linuxvm::QEMU.to_string()];
        argv.extend(vm.qemu_args(setup.mem_mib));
        let running = vm.spawn(setup.mem_mib)?;
        Ok(Server {
            kind: Kind::LinuxVm,
            port,
            command: argv.clone(),
            qemu: Some(argv),
            started: running.started,
            proc: Proc::Qemu(running),
            done: false,
        })
    }

    fn pid(&self) -> libc::pid_t {
        match &self.proc {
            Proc::Process { child, .. } => child.id() as libc::pid_t,
            Proc::Qemu(vm) => vm.child.id() as libc::pid_t,
        }
    }

    /// An error (with the end of what the process wrote) if it has exited.
    pub fn running(&mut self) -> Result<(), String> {
        let (status, out, err) = match &mut self.proc {
            Proc::Process { child, stdout, stderr } => (child.try_wait(), &*stdout, &*stderr),
            Proc::Qemu(vm) => (vm.child.try_wait(), &vm.serial, &vm.stderr),
        };
        match status {
            Ok(None) => Ok(()),
            Ok(Some(status)) => {
                self.done = true;
                Err(format!("exited ({status}); {}", tails(out, err)))
            }
            Err(e) => Err(format!("waiting for it: {e}")),
        }
    }

    /// Waits until `GET /health` through the host port answers 200; the time from the
    /// spawn. For the VM side, then reads unify's QEMU command line.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<Duration, String> {
        let deadline = self.started + timeout;
        loop {
            self.running()?;
            if answers(self.port) {
                break;
            }
            if Instant::now() >= deadline {
                let (out, err) = match &self.proc {
                    Proc::Process { stdout, stderr, .. } => (stdout, stderr),
                    Proc::Qemu(vm) => (&vm.serial, &vm.stderr),
                };
                return Err(format!(
                    "127.0.0.1:{} did not answer GET /health within {} s; {}",
                    self.port,
                    timeout.as_secs(),
                    tails(out, err)
                ));
            }
            std::thread::sleep(Duration::from_millis(if self.kind.is_vm() { 50 } else { 10 }));
        }
        let ready = self.started.elapsed();
        if self.kind == Kind::Vm {
            self.qemu = qemu_children(self.pid()).into_iter().next().map(|(_, argv)| argv);
        }
        Ok(ready)
    }

    /// Stops the server: SIGINT to the server or unify (which passes it to the program)
    /// and its exit awaited: an error unless it exits 0 having printed its "shutting down
    /// after N requests" line; SIGTERM to the Linux VM's QEMU. Whatever does not end
    /// within `timeout` is killed. Also checks that unify's QEMU is gone. Returns what
    /// happened, for the report.
    pub fn stop(&mut self, timeout: Duration) -> Result<String, String> {
        let pid = self.pid();
        let qemus = if self.kind == Kind::Vm { qemu_children(pid) } else { Vec::new() };
        let t0 = Instant::now();
        self.done = true;
        let result = match &mut self.proc {
            Proc::Process { child, stdout, stderr } => {
                signal(pid, libc::SIGINT);
                match linuxvm::wait_timeout(child, timeout) {
                    None => {
                        let _ = child.kill();
                        let _ = child.wait();
                        Err(format!("still running {} s after SIGINT: killed", timeout.as_secs()))
                    }
                    Some((status, _)) => {
                        let text = stdout.text();
                        let line = text.lines().find(|l| l.contains("shutting down after")).map(str::trim);
                        match (status.success(), line) {
                            (true, Some(line)) => {
                                Ok(format!("SIGINT: exit 0 after {:.1} s, {line:?}", t0.elapsed().as_secs_f64()))
                            }
                            _ => Err(format!("SIGINT: {status}; {}", tails(stdout, stderr))),
                        }
                    }
                }
            }
            Proc::Qemu(vm) => {
                signal(pid, libc::SIGTERM);
                match vm.wait_timeout(timeout) {
                    Some((status, _)) => {
                        Ok(format!("QEMU: SIGTERM: {status} after {:.1} s", t0.elapsed().as_secs_f64()))
                    }
                    None => {
                        vm.kill();
                        Err(format!("QEMU still running {} s after SIGTERM: killed", timeout.as_secs()))
                    }
                }
            }
        };
        // unify's QEMU dies with unify (PR_SET_PDEATHSIG); make sure.
        let mut left = Vec::new();
        for (qpid, _) in qemus {
            let gone_by = Instant::now() + Duration::from_secs(5);
            while is_qemu(qpid) && Instant::now() < gone_by {
                std::thread::sleep(Duration::from_millis(20));
            }
            if is_qemu(qpid) {
                signal(qpid, libc::SIGKILL);
                left.push(qpid);
            }
        }
        match (result, left.is_empty()) {
            (r, true) => r,
            (Ok(s), false) | (Err(s), false) => Err(format!("{s}; unify's QEMU (pid {left:?}) outlived it: killed")),
        }
    }
}

impl Drop for Server {
    /// A server not stopped (an error on the way) is killed; unify's QEMU dies with unify.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match &mut self.proc {
            Proc::Process { child, .. } => {
                if matches!(child.try_wait(), Ok(None)) {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
            Proc::Qemu(vm) => vm.kill(),
        }
    }
}

/// The last lines of a process's stdout and stderr (or the console and QEMU's stderr).
fn tails(out: &Output, err: &Output) -> String {
    let tail = |o: &Output| {
        let t = o.text();
        let lines: Vec<&str> = t.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
        lines[lines.len().saturating_sub(6)..].join(" | ")
    };
    format!("stdout: [{}] stderr: [{}]", tail(out), tail(err))
}

/// One `GET /health` with `Connection: close`: true if the reply starts with a 200.
/// (QEMU's user network accepts a forwarded connection before the guest listens, then
/// closes it: a connect alone proves nothing.)
fn answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut reply = Vec::new();
    let mut buf = [0u8; 256];
    while reply.len() < 12 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
        }
    }
    reply.starts_with(b"HTTP/1.1 200")
}

fn signal(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: kill(2) takes two integers and touches no memory of ours. `pid` is a child
    // not yet reaped (or, for unify's QEMU, one checked by name just before), so it does
    // not name an unrelated process.
    unsafe { libc::kill(pid, sig) };
}

/// The children of `parent` that are QEMU, with their argv (from /proc).
fn qemu_children(parent: libc::pid_t) -> Vec<(libc::pid_t, Vec<String>)> {
    let Ok(dir) = fs::read_dir("/proc") else { return Vec::new() };
    let mut found = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<libc::pid_t>().ok()) else { continue };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse::<libc::pid_t>().ok());
        if ppid != Some(parent) || !is_qemu(pid) {
            continue;
        }
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let argv = cmdline
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        found.push((pid, argv));
    }
    found
}

/// Whether `pid` is a live (not zombie) QEMU.
fn is_qemu(pid: libc::pid_t) -> bool {
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let state = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').and_then(|i| s[i + 1..].split_whitespace().next().map(str::to_string)));
    comm.starts_with("qemu-system") && state.is_some_and(|s| s != "Z")
}
