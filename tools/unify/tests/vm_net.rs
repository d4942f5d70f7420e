//! The VM's network for real (QEMU under TCG, the built-in kernel): a guest
//! (tests/guests/net_client.c) connects to a listener of the test's, which hears which
//! address the guest came from; the guest also prints its own view and its
//! `/etc/resolv.conf`.
//!
//! - QEMU's user network, with the static default and with DHCP from QEMU's own server:
//!   the guest is 10.0.2.15 either way and reaches the host's loopback at 10.0.2.2.
//! - `--net none`: ENETUNREACH.
//! - A TAP interface (root only): the test makes a network namespace of its own, a TAP
//!   interface in it at 192.168.77.1/24, and runs unify and its listener there, so
//!   nothing leaves the namespace; it removes the namespace when done, whatever
//!   happens. A static address, the interface held by someone else, and — with
//!   dnsmasq installed — DHCP. Without root, `ip` or /dev/net/tun it says why and
//!   passes.
//!
//! Without QEMU these fail naming the package, unless UNIFY_SKIP_VM_TESTS=1.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::Duration;

use support::{guest_program, have_qemu, output_within};

const LIMIT: Duration = Duration::from_secs(120);

fn client() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("vm-net-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        guest_program(&dir, "net_client")
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Serves one connection on `listener`: reads the guest's line, answers "hi " and it;
/// returns the line and the peer's address.
fn serve_one(listener: TcpListener) -> JoinHandle<(String, String)> {
    std::thread::spawn(move || {
        let (conn, peer) = listener.accept().expect("the guest connects");
        conn.set_read_timeout(Some(LIMIT)).unwrap();
        let mut line = String::new();
        BufReader::new(&conn).read_line(&mut line).unwrap();
        (&conn).write_all(format!("hi {line}").as_bytes()).unwrap();
        (line, peer.ip().to_string())
    })
}

/// `unify run --accel tcg NET_ARGS -- net_client ADDR PORT`.
fn run_client(prefix: &[&str], net_args: &[&str], addr: &str, port: u16) -> Output {
    let mut cmd = Command::new(prefix.first().copied().unwrap_or(env!("CARGO_BIN_EXE_unify")));
    if !prefix.is_empty() {
        cmd.args(&prefix[1..]).arg(env!("CARGO_BIN_EXE_unify"));
    }
    cmd.env_remove("UNIFY_PLATFORM").args(["run", "--platform", "vm", "--accel", "tcg"]).args(net_args);
    cmd.arg("--").arg(client()).arg(addr).arg(port.to_string());
    output_within(&mut cmd, None, LIMIT)
}

/// Runs the client against a listener on the host's 127.0.0.1 (10.0.2.2 from the guest);
/// checks what both sides saw and returns the guest's resolv.conf lines.
fn user_network(net_args: &[&str]) -> Vec<String> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = serve_one(listener);
    let out = run_client(&[], net_args, "10.0.2.2", port);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let (line, _) = server.join().unwrap();
    assert_eq!(line, "local 10.0.2.15\n");
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    assert_eq!(lines[..2], ["local 10.0.2.15", "server says hi local 10.0.2.15"], "{stdout}");
    assert_eq!(text(&out.stderr), "");
    lines[2..].to_vec()
}

#[test]
fn user_networking_static_and_by_dhcp() {
    if !have_qemu() {
        return;
    }
    assert_eq!(user_network(&[]), ["nameserver 10.0.2.3"]);
    // QEMU's DHCP server gives the same address; the boot waited for it.
    assert_eq!(user_network(&["--net", "user,dhcp"]), ["nameserver 10.0.2.3"]);
    assert_eq!(user_network(&["--net", "user,dhcp,dns=192.0.2.53"]), ["nameserver 192.0.2.53"]);
}

#[test]
fn no_network_is_unreachable() {
    if !have_qemu() {
        return;
    }
    let out = run_client(&[], &["--net", "none"], "10.0.2.2", 9);
    assert_eq!(text(&out.stdout), "connect: Network is unreachable\n", "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(1));
}

// --- A TAP interface in a network namespace of the test's own ---------------------------------

const TAP: &str = "unifytap0";
const HOST_ADDR: &str = "192.168.77.1";

/// The namespace and what runs in it; dropping it ends them and removes the namespace
/// (with the interface).
struct Namespace {
    name: String,
    dnsmasq: Option<Child>,
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Some(mut d) = self.dnsmasq.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        let _ = Command::new("ip").args(["-n", &self.name, "link", "del", TAP]).stderr(Stdio::null()).status();
        let _ = Command::new("ip").args(["netns", "del", &self.name]).stderr(Stdio::null()).status();
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), text(&out.stderr).trim()))
    }
}

/// Makes the namespace with the TAP interface up at 192.168.77.1/24, or says why not.
fn namespace() -> Result<Namespace, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root (a TAP interface and a network namespace need CAP_NET_ADMIN)".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err("no /dev/net/tun".into());
    }
    let name = format!("unify-test-{}", std::process::id());
    ip(&["netns", "add", &name])?;
    let ns = Namespace { name, dnsmasq: None };
    ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
    ip(&["-n", &ns.name, "tuntap", "add", "dev", TAP, "mode", "tap"])?;
    ip(&["-n", &ns.name, "addr", "add", &format!("{HOST_ADDR}/24"), "dev", TAP])?;
    ip(&["-n", &ns.name, "link", "set", TAP, "up"])?;
    Ok(ns)
}

/// Runs `f` on a thread inside the namespace (setns changes the calling thread only).
fn in_namespace<T: Send + 'static>(ns: &Namespace, f: impl FnOnce() -> T + Send + 'static) -> T {
    let file = std::fs::File::open(format!("/run/netns/{}", ns.name)).expect("the namespace's file");
    std::thread::spawn(move || {
        // SAFETY: setns with a namespace descriptor we hold, on this thread only.
        assert_eq!(unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) }, 0, "setns");
        f()
    })
    .join()
    .unwrap()
}

/// The client in the namespace against a listener at 192.168.77.1 there; the guest's
/// output and the address the listener saw it come from.
fn tap_run(ns: &Namespace, net: &str) -> (Output, Option<String>) {
    let listener = in_namespace(ns, || TcpListener::bind((HOST_ADDR, 0)).expect("bind in the namespace"));
    let port = listener.local_addr().unwrap().port();
    let server = serve_one(listener);
    // `ip netns exec` also mounts the namespace's /sys, where unify checks the interface.
    let out = run_client(&["ip", "netns", "exec", &ns.name], &["--net", net], HOST_ADDR, port);
    let peer = if out.status.success() { Some(server.join().unwrap().1) } else { None };
    (out, peer)
}

#[test]
fn a_tap_interface_static_busy_and_by_dhcp() {
    if !have_qemu() {
        return;
    }
    let mut ns = match namespace() {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("skipped: cannot make a TAP interface here: {why}");
            return;
        }
    };

    // A static address, with the gateway and DNS server named.
    let net = format!("tap={TAP},ip=192.168.77.2/24,gw={HOST_ADDR},dns={HOST_ADDR}");
    let (out, peer) = tap_run(&ns, &net);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(stdout, format!("local 192.168.77.2\nserver says hi local 192.168.77.2\nnameserver {HOST_ADDR}\n"));
    assert_eq!(peer.as_deref(), Some("192.168.77.2"));

    // Held by someone else: one line, before QEMU starts.
    let held = in_namespace(&ns, || hold_tap(TAP));
    let out = output_within(
        Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .arg(env!("CARGO_BIN_EXE_unify"))
            .args(["run", "--accel", "tcg", "--net", &format!("tap={TAP},ip=192.168.77.2/24"), "--"])
            .arg(client())
            .args([HOST_ADDR, "9"]),
        None,
        LIMIT,
    );
    drop(held);
    assert_eq!(out.status.code(), Some(126));
    assert_eq!(text(&out.stderr), format!("unify: --net tap={TAP}: in use by another process (another VM?)\n"));

    // DHCP from dnsmasq, when it is installed.
    let Some(dnsmasq) = start_dnsmasq(&ns) else {
        eprintln!("skipped the DHCP part: dnsmasq is not installed (Debian package dnsmasq-base)");
        return;
    };
    ns.dnsmasq = Some(dnsmasq);
    let (out, peer) = tap_run(&ns, &format!("tap={TAP},dhcp-wait=20"));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let addr = stdout.lines().next().and_then(|l| l.strip_prefix("local ")).unwrap_or_default().to_string();
    let last: u8 = addr.strip_prefix("192.168.77.").and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!((50..=60).contains(&last), "an address of dnsmasq's range: {stdout}");
    assert_eq!(stdout, format!("local {addr}\nserver says hi local {addr}\nnameserver {HOST_ADDR}\n"));
    assert_eq!(peer, Some(addr));
}

/// Attaches to the TAP interface as a VM would (the descriptor holds it until dropped).
fn hold_tap(name: &str) -> std::fs::File {
    let tun = std::fs::OpenOptions::new().read(true).write(true).open("/dev/net/tun").unwrap();
    // SAFETY: an all-zero ifreq is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, &s) in req.ifr_name.iter_mut().zip(name.as_bytes()) {
        *d = s as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF on our descriptor with one ifreq.
    assert_eq!(unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETIFF, &mut req) }, 0, "TUNSETIFF");
    tun
}

/// dnsmasq serving DHCP (no DNS) on the TAP interface in the namespace: 192.168.77.50–60,
/// the router and DNS server 192.168.77.1. None when it is not installed.
fn start_dnsmasq(ns: &Namespace) -> Option<Child> {
    let exe = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].into_iter().find(|p| Path::new(p).exists())?;
    let leases = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("dnsmasq-{}.leases", std::process::id()));
    let _ = std::fs::remove_file(&leases);
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name, exe, "--keep-in-foreground", "--port=0", "--bind-interfaces"])
        .arg(format!("--interface={TAP}"))
        .arg("--dhcp-range=192.168.77.50,192.168.77.60,255.255.255.0,2m")
        .arg(format!("--dhcp-option=option:router,{HOST_ADDR}"))
        .arg(format!("--dhcp-option=option:dns-server,{HOST_ADDR}"))
        .arg(format!("--dhcp-leasefile={}", leases.display()))
        .arg("--pid-file=")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Its socket is bound before it answers anything; the guest sends DISCOVERs again.
    std::thread::sleep(Duration::from_millis(300));
    Some(child)
}
