//! `unify run --platform vm`: the program runs in a VM of its own, the unify kernel
//! (`libos/metal`, built into unify) under QEMU, with the run's image as its disk.
//!
//! - [`accel`]: `--accel auto|kvm|tcg`, and whether KVM can run the kernel here;
//! - [`kernel`]: the built-in kernel, handed to QEMU as a sealed memfd;
//! - [`qemu`]: finding QEMU, its command line (the contract with the kernel), starting it;
//! - [`proxy`]: `-p` for TCP: unify listens on the host port and relays to QEMU's;
//! - [`tap`]: `--net tap=IFNAME` checked before QEMU starts;
//! - [`relay`]: the three serial ports (guest stdout/stdin, guest stderr, kernel log and
//!   control);
//! - [`signals`]: signals sent to unify become control lines for the kernel;
//! - [`status`]: the kernel's exit record, checked against QEMU's exit code.

pub mod accel;
mod kernel;
mod proxy;
mod qemu;
mod relay;
mod signals;
mod status;
mod tap;

use std::io::{BufRead, BufReader, Write};
use std::process::ChildStderr;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use std::os::fd::AsRawFd;

use crate::cli::RunArgs;
use crate::fail::{Failure, CANNOT_RUN, VM_FAILED};
use crate::network::{self, Backend, Net};
use crate::options;
use crate::ports;
use crate::run::{prepare, Prepared};
use accel::Accel;
use qemu::{Machine, NetDevice};
use relay::Sink;
use status::{LogTail, Outcome};

/// `-m` and `--smp` when not given.
const DEFAULT_MEMORY_MIB: u64 = 256;
const DEFAULT_SMP: u32 = 1;

/// Runs the program as a VM; returns unify's exit status (or ends unify by the guest's
/// signal).
pub fn run(args: &RunArgs) -> i32 {
    match boot(args) {
        Ok(code) => code,
        Err(f) => f.report(CANNOT_RUN),
    }
}

/// The command line's VM settings, checked before anything is built.
struct Settings {
    memory_mib: u64,
    smp: u32,
    accel: Accel,
    ports: Vec<libos_hosted::net::ports::PortMap>,
    /// `--net`, when given (else the image's, else user networking: [`network_for`]).
    net: Option<Net>,
    /// Words after the fixed ones on the kernel command line.
    kernel_words: Vec<String>,
}

fn settings(args: &RunArgs) -> Result<Settings, Failure> {
    for (given, flag) in [(args.stats, "--stats"), (args.no_rewrite, "--no-rewrite"), (args.no_vdso, "--no-vdso")] {
        if given {
            return Err(Failure::usage(format!("{flag} applies to --platform hosted only")));
        }
    }
    let mut kernel_words = Vec::new();
    if args.trace {
        kernel_words.push("unify.trace".to_string());
    }
    if args.verbose {
        // The whole kernel log (without it the kernel writes only its exit record and
        // failures: every byte on a serial port is a trip through QEMU).
        kernel_words.push("unify.verbose".to_string());
    }
    for word in &args.kernel_args {
        if word.is_empty() || word.contains(|c: char| c.is_whitespace() || c == '"') {
            return Err(Failure::usage(format!("--kernel-arg {word:?}: one word, without spaces or quotes")));
        }
        kernel_words.push(word.clone());
    }
    let ports = ports::parse_all(&args.publish)?;
    let net = match &args.net {
        Some(spec) => {
            let net = network::parse(spec).map_err(|why| Failure::usage(format!("--net {spec}: {why}")))?;
            check_ports(&net, &ports, &format!("--net {spec}"))?;
            Some(net)
        }
        None => None,
    };
    Ok(Settings {
        memory_mib: args.memory.as_deref().map(options::memory).transpose()?.unwrap_or(DEFAULT_MEMORY_MIB),
        smp: args.smp.unwrap_or(DEFAULT_SMP),
        accel: args.accel.unwrap_or(Accel::Auto),
        ports,
        net,
        kernel_words,
    })
}

/// `-p` goes through QEMU's user network only.
fn check_ports(net: &Net, ports: &[libos_hosted::net::ports::PortMap], given: &str) -> Result<(), Failure> {
    let Some(p) = ports.first() else { return Ok(()) };
    let p = format!("-p {}:{}{}", p.host, p.guest, if p.udp { "/udp" } else { "" });
    match net.backend {
        Backend::User => Ok(()),
        Backend::Tap(_) => Err(Failure::usage(format!(
            "{p}: ports are published through QEMU's user network, not with {given}: the guest is reached at its own \
             address"
        ))),
        Backend::None => Err(Failure::usage(format!("{p}: the VM has no network ({given})"))),
    }
}

/// The run's network: `--net`, else the image's (`unify build --net`), else user
/// networking; checked against `-p`.
fn network_for(s: &Settings, manifest: &unify_rootfs::Manifest, args: &RunArgs) -> Result<Net, Failure> {
    if let Some(net) = &s.net {
        return Ok(net.clone());
    }
    let Some(spec) = &manifest.net else { return Ok(Net::default()) };
    let image =
        args.image.as_deref().or(args.target.as_deref()).map_or("the image".into(), |p| p.display().to_string());
    let net =
        network::parse(spec).map_err(|why| Failure::failed(format!("{image}: the manifest's net={spec}: {why}")))?;
    check_ports(&net, &s.ports, &format!("the image's net={spec} (--net user overrides it)"))?;
    Ok(net)
}

/// What unify's fds 0–2 are, for the guest's fstat (`unify.stdio`): `n` /dev/null (a
/// character device that is not a terminal), `t` a terminal, `p` anything else (a pipe,
/// file or socket: the guest reads and writes a stream either way). Programs decide by
/// it: ripgrep searches stdin instead of the working directory when it is a pipe.
fn stdio_kinds() -> String {
    (0..3)
        .map(|fd| {
            // SAFETY: an all-zero stat is valid; fstat fills it for an open fd.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: a valid out-pointer; a closed fd just fails.
            if unsafe { libc::fstat(fd, &mut st) } != 0 {
                return 'n';
            }
            // SAFETY: isatty takes any fd.
            if unsafe { libc::isatty(fd) } == 1 {
                't'
            } else if st.st_mode & libc::S_IFMT == libc::S_IFCHR {
                'n'
            } else {
                'p'
            }
        })
        .collect()
}

/// The kernel command line: the log on COM3 (`unify.log=3`), the host's wall-clock time
/// (`unify.time`, ns since the epoch: the VM has no clock of its own to trust) and its
/// monotonic clock (`unify.monotonic`: the guest's continues it, so "a second ago" is
/// a valid time from the start, as on a host that has been up a while), what fds 0–2
/// are (`unify.stdio`), then the optional words (the network's `unify.ip`, `unify.gw`,
/// `unify.dns`, `unify.dhcp`; `unify.trace`, `unify.verbose`, `--kernel-arg`s).
fn kernel_command_line(words: &[String]) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid out-pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let monotonic = ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128;
    let mut line = format!("unify.log=3 unify.time={now} unify.monotonic={monotonic} unify.stdio={}", stdio_kinds());
    for w in words {
        line.push(' ');
        line.push_str(w);
    }
    line
}

fn boot(args: &RunArgs) -> Result<i32, Failure> {
    let s = settings(args)?;
    let qemu_path = qemu::find()?;
    let Prepared { image, manifest, run_only } = prepare(args)?;
    let net = network_for(&s, &manifest, args)?;
    let net_device = match &net.backend {
        Backend::None => NetDevice::None,
        Backend::User => NetDevice::User,
        Backend::Tap(ifname) => {
            // Before QEMU starts: a missing or unusable interface fails here, with one line.
            if let Some(warning) = tap::check(ifname)? {
                eprintln!("unify: {warning}");
            }
            NetDevice::Tap { ifname: ifname.clone(), mac: network::tap_mac(ifname) }
        }
    };
    let mut kernel_words = net.kernel_words();
    kernel_words.extend(s.kernel_words.iter().cloned());
    let (accel, notice) = accel::choose(s.accel)?;
    if let Some(notice) = notice {
        eprintln!("unify: {notice}");
    }
    if s.smp > 1 {
        eprintln!("unify: --smp {}: the VM gets {} CPUs, but the unify kernel uses one for now", s.smp, s.smp);
    }
    let kernel = kernel::open(args.kernel.as_deref())?;
    // One run of a kept image with other arguments, environment or directory: the
    // kernel takes this manifest instead of the image's.
    let run_manifest = run_only.then(|| kernel::manifest_fd(&manifest.render())).transpose()?;
    if run_manifest.is_some() {
        kernel_words.push("unify.manifest=fw_cfg".into());
    }
    // Before QEMU starts: a busy host port fails here, with one line.
    let (published, qemu_ports) = proxy::listen(&s.ports)?;
    let io = |e: std::io::Error| Failure::failed(format!("cannot connect the VM's serial ports: {e}"));
    let (ours, theirs) = relay::pairs().map_err(io)?;
    let machine = Machine {
        accel: accel.qemu_name(),
        memory_mib: s.memory_mib,
        smp: s.smp,
        append: kernel_command_line(&kernel_words),
        kernel_fd: kernel.as_raw_fd(),
        image_fd: image.as_raw_fd(),
        manifest_fd: run_manifest.as_ref().map(|fd| fd.as_raw_fd()),
        com_fds: [theirs.com1.as_raw_fd(), theirs.com2.as_raw_fd(), theirs.com3.as_raw_fd()],
        ports: qemu_ports,
        net: net_device,
    };
    if args.verbose {
        eprintln!("unify: {}", qemu::shown(&qemu_path, &machine.args()));
    }

    // From here on the forwarded signals are the guest's (signals.rs).
    let blocked = signals::block();
    let mut child = qemu::spawn(&qemu_path, &machine)?;
    let published = published.start();
    // QEMU has its own copies; the ports reach their end when QEMU's copies close.
    drop(theirs);
    drop(kernel);
    drop(run_manifest);
    let ready = std::sync::Arc::new(relay::Ready::default());
    let control = relay::Control::new(ours.com3.try_clone().map_err(io)?, ready.clone());
    let stdin_port = ours.com1.try_clone().map_err(io)?;
    let log_started = relay::LogStarted::default();
    let stdout = relay::copy_out(ours.com1, Sink::Stdout, Some(log_started.clone()));
    let stderr = relay::copy_out(ours.com2, Sink::Stderr, None);
    let log = relay::read_log(ours.com3, args.verbose, log_started, ready);
    relay::copy_stdin(stdin_port, control.clone());
    signals::forward(blocked, control);
    let qemu_messages = child.stderr.take().map(|e| qemu_stderr(e, args.verbose));

    let qemu_status = child.wait().map_err(|e| Failure::failed(format!("waiting for QEMU: {e}")))?;
    published.stop();
    // Every port is read to its end before unify decides anything.
    let com1 = stdout.join().unwrap_or_default();
    let _ = stderr.join();
    let log = log.join().unwrap_or_default();
    let qemu_messages = qemu_messages.and_then(|t| t.join().ok()).unwrap_or_default();
    drop(image);

    // A kernel that does not know `unify.log=3` (one that predates it, or one that
    // failed before reading its command line) logs on COM1: its record is there.
    let log = if log.bytes == 0 && com1.record.is_some() { com1 } else { log };
    let show_tail = |log: &LogTail| {
        if !args.verbose {
            let text: String = log.lines().map(|l| format!("{l}\n")).collect();
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    };
    match status::outcome(log.record, qemu_status) {
        Outcome::Exited(status) if i32::from(status) == VM_FAILED => {
            // The kernel failed (or so says the guest's own status 125): its last words.
            show_tail(&log);
            Ok(VM_FAILED)
        }
        Outcome::Exited(status) => Ok(i32::from(status)),
        Outcome::Killed(sig) => status::die_by_signal(sig),
        Outcome::NoReport(why) => {
            eprintln!("unify: {why}");
            show_tail(&log);
            show_tail(&qemu_messages);
            Ok(VM_FAILED)
        }
    }
}

/// QEMU's own messages: copied to stderr as they come with `--verbose`, else only the
/// last lines kept (shown if the VM fails).
fn qemu_stderr(pipe: ChildStderr, verbose: bool) -> JoinHandle<LogTail> {
    std::thread::spawn(move || {
        let mut tail = LogTail::default();
        for line in BufReader::new(pipe).split(b'\n') {
            let Ok(mut line) = line else { break };
            line.push(b'\n');
            if verbose {
                let _ = std::io::stderr().write_all(&line);
            }
            tail.feed(&line, |_| {});
        }
        tail
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_command_line() {
        let line = kernel_command_line(&["unify.trace".into(), "unify.exit=3".into()]);
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words.len(), 6);
        assert_eq!(words[0], "unify.log=3");
        let ns: u128 = words[1].strip_prefix("unify.time=").unwrap().parse().unwrap();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
        assert!(ns <= now && now - ns < 60_000_000_000, "{ns} vs {now}");
        assert!(words[2].strip_prefix("unify.monotonic=").unwrap().parse::<u128>().unwrap() > 0);
        assert!(words[3].strip_prefix("unify.stdio=").is_some_and(|k| k.len() == 3), "{line}");
        assert_eq!(&words[4..], ["unify.trace", "unify.exit=3"]);
    }
}
