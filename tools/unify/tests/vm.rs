//! `unify run --platform vm` (the default platform) from the command line.
//!
//! Most tests put a stand-in for QEMU on `$PATH` (support/fake_qemu.c) that plays the
//! kernel's side of the serial ports: they check the host side (the command line QEMU
//! gets, the stdout/stderr/stdin relays, `eof`, signals, the exit record and QEMU's exit
//! code, the failure reports) without needing a kernel that runs guests. The last tests
//! boot the real unify kernel built into unify under the real QEMU (TCG).

mod support;

use support::have_qemu;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

/// A run of unify under test may take this long (QEMU under TCG on a loaded machine).
const LIMIT: Duration = Duration::from_secs(120);

fn unify() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_unify"));
    c.env_remove("UNIFY_PLATFORM");
    c
}

/// This test binary's scratch directory: a static program, the fake QEMU.
struct Fixture {
    dir: PathBuf,
    program: PathBuf,
    fake_bin: PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        // Under target/ rather than $TMPDIR: nothing runs at the end to remove it.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("vm-tests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("three.c");
        std::fs::write(&src, "int main(void) { return 3; }\n").unwrap();
        let program = support::build_c(&src, &dir.join("three"));
        let fake_bin = support::fake_qemu_dir(&dir);
        Fixture { dir, program, fake_bin }
    })
}

/// `unify run --platform vm [--accel tcg] ARGS -- PROGRAM` with the fake QEMU doing
/// `mode` (`--accel tcg` unless ARGS choose).
fn fake(mode: &str, args: &[&str]) -> Command {
    let f = fixture();
    let mut c = unify();
    c.env("PATH", &f.fake_bin).env("FAKE_QEMU", mode).args(["run", "--platform", "vm"]);
    if !args.contains(&"--accel") {
        c.args(["--accel", "tcg"]);
    }
    c.args(args).arg("--").arg(&f.program);
    c
}

fn run(cmd: &mut Command) -> Output {
    support::output_within(cmd, None, LIMIT)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bad command line: status 2, one line on stderr that mentions `mentions`.
fn assert_usage(out: &Output, mentions: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.contains(mentions), "{err:?} should mention {mentions:?}");
}

// --- QEMU missing, options -----------------------------------------------------------

#[test]
fn without_qemu_one_line_says_what_to_install() {
    let empty = fixture().dir.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let expected = "unify: qemu-system-x86_64 not found: install the Debian package qemu-system-x86, or run with \
                    --platform hosted\n";
    // `unify run` and the shorthand both default to the VM platform.
    for args in [&["run"][..], &[]] {
        let out = run(unify().env("PATH", &empty).args(args).arg(&fixture().program));
        assert_eq!(out.status.code(), Some(126));
        assert_eq!(stderr(&out), expected);
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn accel_values() {
    let out = run(unify().args(["run", "--accel", "fast"]).arg(&fixture().program));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid value 'fast'"), "{}", stderr(&out));

    // --accel tcg: no probe, no notice.
    let out = run(&mut fake("args", &[]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("\n-accel\ntcg\n"));
    assert_eq!(stderr(&out), "");

    // --accel auto: KVM where it can run the kernel, else TCG with exactly one notice.
    let out = run(&mut fake("args", &["--accel", "auto"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    if stdout(&out).contains("\n-accel\ntcg\n") {
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("unify: ") && err.contains("running the VM under TCG"), "{err}");
    } else {
        assert!(stdout(&out).contains("\n-accel\nkvm\n"));
        assert_eq!(stderr(&out), "");
    }
    // This machine's /dev/kvm is PVM, which auto must not take (DESIGN.md).
    if Path::new("/sys/module/kvm_pvm").exists() {
        assert!(stdout(&out).contains("\n-accel\ntcg\n"));
        assert!(stderr(&out).contains("PVM"), "{}", stderr(&out));
    }
}

#[test]
fn memory_and_cpus() {
    for (m, why) in [
        ("256", "give the unit"),
        ("8M", "too small"),
        ("1500K", "not a whole number of MiB"),
        ("lots", "expected a number"),
        ("5000G", "too large"),
    ] {
        assert_usage(&run(&mut fake("args", &["-m", m])), &format!("-m {m}: {why}"));
    }
    let out = run(&mut fake("args", &["--smp", "0"]));
    assert_eq!(out.status.code(), Some(2));

    // The defaults.
    let out = run(&mut fake("args", &[]));
    assert!(stdout(&out).contains("\n-m\n256M\n-smp\n1\n"), "{}", stdout(&out));

    let out = run(&mut fake("args", &["-m", "1G", "--smp", "2"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("\n-m\n1024M\n-smp\n2\n"), "{}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one notice: {err}");
    assert!(err.contains("--smp 2") && err.contains("one"), "{err}");

    let out = run(&mut fake("args", &["--memory", "65536K"]));
    assert!(stdout(&out).contains("\n-m\n64M\n"), "{}", stdout(&out));
}

#[test]
fn options_of_the_other_platform_are_refused() {
    for flag in ["--no-rewrite", "--no-vdso", "--stats"] {
        assert_usage(&run(&mut fake("args", &[flag])), &format!("{flag} applies to --platform hosted only"));
    }
    for args in [&["-m", "1G"][..], &["--smp", "2"], &["--accel", "tcg"], &["--verbose"]] {
        let out = run(unify().args(["run", "--platform", "hosted"]).args(args).arg(&fixture().program));
        assert_usage(&out, &format!("{} applies to --platform vm only", args[0]));
    }
}

// --- The command line QEMU gets --------------------------------------------------------

#[test]
fn qemu_gets_the_contract_command_line() {
    // A free host port: unify listens on it (UDP ones are QEMU's, which the fake never binds).
    let host = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap().local_addr().unwrap().port();
    let tcp = format!("{host}:8080");
    let out = run(&mut fake("args", &["--trace", "--kernel-arg", "unify.exit=3", "-p", &tcp, "-p", "5353:53/udp"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let args: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    let after = |flag: &str| -> Vec<&str> {
        args.iter().enumerate().filter(|(_, a)| *a == flag).map(|(i, _)| args[i + 1].as_str()).collect()
    };
    assert_eq!(after("-M"), ["microvm,acpi=off"]);
    assert_eq!(after("-cpu"), ["max"]);
    for flag in ["-nodefaults", "-no-user-config", "-nographic", "-no-reboot"] {
        assert!(args.iter().any(|a| a == flag), "{flag}");
    }
    let append = after("-append");
    let words: Vec<&str> = append[0].split(' ').collect();
    assert_eq!(words[0], "unify.log=3");
    assert!(words[1].strip_prefix("unify.time=").unwrap().parse::<u128>().unwrap() > 1_600_000_000_000_000_000);
    assert!(words[2].starts_with("unify.monotonic="));
    // run(): stdin is /dev/null, stdout and stderr are pipes.
    assert_eq!(words[3], "unify.stdio=npp");
    assert_eq!(&words[4..], ["unify.trace", "unify.exit=3"]);
    assert!(after("-kernel")[0].starts_with("/proc/self/fd/"));
    let chardevs = after("-chardev");
    assert_eq!(chardevs.len(), 3);
    for (i, c) in chardevs.iter().enumerate() {
        assert!(c.starts_with(&format!("socket,id=com{},fd=", i + 1)), "{c}");
    }
    assert_eq!(after("-serial"), ["chardev:com1"]);
    assert_eq!(
        after("-device"),
        [
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "isa-serial,iobase=0x2f8,irq=3,chardev=com2",
            "isa-serial,iobase=0x3e8,irq=4,chardev=com3",
            "virtio-blk-device,drive=root",
            "virtio-rng-device",
            "virtio-net-device,netdev=net0"
        ]
    );
    let drive = after("-drive");
    assert!(drive[0].starts_with("id=root,file=/proc/self/fd/") && drive[0].ends_with(",format=raw,if=none"));
    // TCP goes to an inner port unify's proxy relays to (unify listens on `host` itself);
    // UDP is QEMU's own.
    let netdev = after("-netdev");
    let inner = netdev[0]
        .strip_prefix("user,id=net0,hostfwd=tcp:127.0.0.1:")
        .and_then(|r| r.strip_suffix("-:8080,hostfwd=udp:127.0.0.1:5353-:53"))
        .unwrap_or_else(|| panic!("{netdev:?}"));
    assert!(inner.parse::<u16>().is_ok_and(|p| p != 0 && p != host), "{netdev:?}");

    // Without -p: user networking all the same, nothing forwarded, no address words
    // (QEMU's 10.0.2.15 is the kernel's default).
    let out = run(&mut fake("args", &[]));
    assert!(
        stdout(&out).contains("\n-netdev\nuser,id=net0\n-device\nvirtio-net-device,netdev=net0\n"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("unify.ip") && !stdout(&out).contains("unify.dhcp"), "{}", stdout(&out));
}

// --- The network (--net) -------------------------------------------------------------------

/// The arguments QEMU got (the fake's `args` mode), the `-append` value and the one after
/// `-netdev` (empty: none).
fn qemu_args(out: &Output) -> (String, String) {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    let args: Vec<String> = stdout(out).lines().map(str::to_string).collect();
    let after = |flag: &str| args.iter().position(|a| a == flag).map_or(String::new(), |i| args[i + 1].clone());
    (after("-append"), after("-netdev"))
}

#[test]
fn net_options_reach_qemu_and_the_kernel() {
    let (append, netdev) = qemu_args(&run(&mut fake("args", &["--net", "user"])));
    assert_eq!(netdev, "user,id=net0");
    assert!(!append.contains("unify.dhcp"), "{append}");

    let (append, netdev) = qemu_args(&run(&mut fake("args", &["--net", "user,dhcp,dns=1.1.1.1"])));
    assert_eq!(netdev, "user,id=net0");
    assert!(append.contains(" unify.dhcp=5 unify.dns=1.1.1.1"), "{append}");
    let (append, _) = qemu_args(&run(&mut fake("args", &["--net", "user,dhcp,dhcp-wait=0", "--trace"])));
    assert!(append.ends_with(" unify.dhcp=0 unify.trace"), "the network's words come first: {append}");

    // No card at all.
    let out = run(&mut fake("args", &["--net", "none"]));
    let (append, netdev) = qemu_args(&out);
    assert_eq!(netdev, "");
    assert!(!stdout(&out).contains("virtio-net"), "{}", stdout(&out));
    assert!(!append.contains("unify.dns"), "{append}");
}

#[test]
fn net_errors_are_one_line_before_qemu_starts() {
    for (args, mentions) in [
        (&["--net", "bridge"][..], "--net bridge: \"bridge\": expected user, tap=IFNAME or none"),
        (&["--net", "tap"], "--net tap: tap wants the TAP interface's name"),
        (&["--net", "user,ip=10.0.2.16/24"], "ip= goes with tap=IFNAME"),
        (&["--net", "tap=t0,ip=192.168.1.2/24,gw=10.0.0.1"], "gw=10.0.0.1: not another address of 192.168.1.2/24"),
        (&["--net", "none,dhcp"], "none takes no options"),
        (&["--net", "tap=t0", "-p", "8080:80"], "-p 8080:80: ports are published through QEMU's user network"),
        (&["--net", "none", "-p", "5353:53/udp"], "-p 5353:53/udp: the VM has no network (--net none)"),
    ] {
        let out = run(&mut fake("args", args));
        assert_usage(&out, mentions);
        assert!(out.stdout.is_empty(), "QEMU ran: {}", stdout(&out));
    }
    // A TAP interface that is not there, or not a TAP interface: 126, one line.
    for (ifname, why) in [
        ("nosuchtap9", "no such network interface (make one: ip tuntap add dev nosuchtap9 mode tap"),
        ("lo", "lo is not a TAP interface"),
    ] {
        let out = run(&mut fake("args", &["--net", &format!("tap={ifname}")]));
        assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&format!("unify: --net tap={ifname}: ")) && err.contains(why), "{err}");
        assert!(out.stdout.is_empty(), "QEMU ran: {}", stdout(&out));
    }
    // The VM's network is the VM's.
    let out = run(unify().args(["run", "--platform", "hosted", "--net", "none"]).arg(&fixture().program));
    assert_usage(&out, "--net applies to --platform vm only");
}

#[test]
fn a_built_image_keeps_its_network() {
    let f = fixture();
    let img = f.dir.join("net.img");
    let _ = std::fs::remove_file(&img);
    let out = run(unify().args(["build", "--net", "tap=t0,bogus"]).arg(&f.program).arg("-o").arg(&img));
    assert_usage(&out, "--net tap=t0,bogus: unknown option \"bogus\"");
    assert!(!img.exists());

    let out = run(unify().args(["build", "--net", "user,dhcp,dns=9.9.9.9"]).arg(&f.program).arg("-o").arg(&img));
    assert!(out.status.success(), "{}", stderr(&out));
    let with_fake = |args: &[&str]| {
        let mut c = unify();
        c.env("PATH", &f.fake_bin).env("FAKE_QEMU", "args").args(["run", "--accel", "tcg"]).args(args).arg(&img);
        run(&mut c)
    };
    let (append, netdev) = qemu_args(&with_fake(&[]));
    assert_eq!(netdev, "user,id=net0");
    assert!(append.contains(" unify.dhcp=5 unify.dns=9.9.9.9"), "{append}");
    // --net wins over the image's.
    let (append, netdev) = qemu_args(&with_fake(&["--net", "none"]));
    assert_eq!(netdev, "");
    assert!(!append.contains("unify.dhcp"), "{append}");
    std::fs::remove_file(&img).unwrap();

    // An image for a TAP interface refuses -p unless --net says otherwise.
    let out = run(unify().args(["build", "--net", "tap=t0"]).arg(&f.program).arg("-o").arg(&img));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = with_fake(&["-p", "5353:53/udp"]);
    assert_usage(&out, "the image's net=tap=t0 (--net user overrides it)");
    let (_, netdev) = qemu_args(&with_fake(&["--net", "user", "-p", "5353:53/udp"]));
    assert_eq!(netdev, "user,id=net0,hostfwd=udp:127.0.0.1:5353-:53");
    std::fs::remove_file(&img).unwrap();
}

#[test]
fn a_busy_published_port_fails_before_qemu_starts() {
    let busy = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = busy.local_addr().unwrap().port();
    let out = run(&mut fake("args", &["-p", &format!("{port}:8080")]));
    assert_eq!(out.status.code(), Some(126));
    assert_eq!(stderr(&out), format!("unify: -p {port}:8080: port {port} is in use on 127.0.0.1\n"));
    assert!(out.stdout.is_empty(), "QEMU ran: {}", stdout(&out));
}

#[test]
fn verbose_shows_the_command_line_and_the_kernel_log() {
    let out = run(&mut fake("exit 0", &["--verbose"]));
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    let first = err.lines().next().unwrap();
    assert!(first.starts_with("unify: ") && first.contains("qemu-system-x86_64 -M microvm,acpi=off"), "{err}");
    assert!(err.lines().any(|l| l == "fake-qemu: booting"), "{err}");
    assert!(err.lines().any(|l| l == "unify-kernel: exit status 0 (fake)"), "{err}");

    // Without --verbose the log is not shown.
    let out = run(&mut fake("exit 0", &[]));
    assert_eq!(stderr(&out), "");
}

// --- Status, relays, signals ------------------------------------------------------------

#[test]
fn the_status_comes_from_the_exit_record() {
    for status in [0, 3, 127, 200, 255] {
        let out = run(&mut fake(&format!("exit {status}"), &[]));
        assert_eq!(out.status.code(), Some(status), "{}", stderr(&out));
        assert_eq!(stderr(&out), "");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn stdin_reaches_com1_and_its_end_is_the_eof_line() {
    let input = b"first line\nsecond line\n\x00\xffbinary";
    let out = support::output_within(&mut fake("echo", &[]), Some(input), LIMIT);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(out.stdout, input);
    assert_eq!(stderr(&out), format!("fake-qemu: eof after {0} bytes (announced {0})\n", input.len()));

    // No stdin at all: `eof` at once.
    let out = run(&mut fake("echo", &[]));
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(stderr(&out), "fake-qemu: eof after 0 bytes (announced 0)\n");
}

#[test]
fn every_byte_is_relayed_before_unify_exits() {
    let out = run(&mut fake("big", &[]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    assert!(out.stdout == expected, "stdout: {} bytes, not the 1 MiB written", out.stdout.len());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1000);
    assert_eq!(err.lines().last(), Some("stderr line 999"));
}

/// Starts unify under the fake QEMU's `signal` mode in a process group of its own, as a
/// shell starts a foreground job, and waits for "ready"; returns the fake QEMU's pid.
fn start_signal_run() -> (std::process::Child, i32) {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let mut child = fake("signal", &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let pid = line.strip_prefix("ready ").and_then(|p| p.trim().parse().ok());
    (child, pid.unwrap_or_else(|| panic!("expected ready PID, got {line:?}")))
}

/// Whether process `pid` has ended (gone, or a zombie waiting to be reaped).
fn ended(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn signals_go_to_the_guest_and_its_death_is_unifys() {
    use std::io::Read;
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1] {
        let (mut child, _) = start_signal_run();
        // To the whole process group, as a terminal sends Ctrl-C: QEMU, in a group of its
        // own, must not get it (the fake would die without a report).
        // SAFETY: kill with the process group our own child leads.
        unsafe { libc::kill(-(child.id() as i32), sig) };
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(sig), "{status:?}: {err}");
        assert_eq!(err, format!("fake-qemu: got signal {sig}\n"));
    }
}

#[test]
fn killing_unify_takes_qemu_with_it() {
    let (mut child, qemu) = start_signal_run();
    assert!(!ended(qemu));
    // SAFETY: kill with the pid of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    let waited = std::time::Instant::now();
    while !ended(qemu) {
        assert!(waited.elapsed() < Duration::from_secs(20), "QEMU (pid {qemu}) outlived unify");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// --- Failures ----------------------------------------------------------------------------

#[test]
fn a_vm_that_stops_without_a_report_is_125_with_the_log() {
    let out = run(&mut fake("silent", &[]));
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].starts_with("unify: the VM stopped without reporting a status"), "{err}");
    assert!(lines.contains(&"fake-qemu: about to stop without a report"), "{err}");
    assert!(lines.contains(&"fake-qemu: a message of QEMU's own"), "{err}");

    let out = run(&mut fake("mismatch", &[]));
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).starts_with("unify: the VM stopped without reporting a status"), "{}", stderr(&out));
}

#[test]
fn a_kernel_failure_shows_the_last_log_lines() {
    let out = run(&mut fake("fail", &[]));
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 20, "{err}");
    assert_eq!(lines[0], "fake-qemu: log line 12");
    assert_eq!(lines[19], "unify-kernel: exit status 125 (fake)");
}

// --- Images -----------------------------------------------------------------------------

#[test]
fn a_built_image_boots_the_same_way() {
    let f = fixture();
    let img = f.dir.join("boot.img");
    let _ = std::fs::remove_file(&img);
    let out = run(unify().arg("build").arg(&f.program).arg("-o").arg(&img));
    assert!(out.status.success(), "{}", stderr(&out));
    for args in [&["run", "--platform", "vm", "--accel", "tcg"][..], &["--accel", "tcg"]] {
        let out = run(unify().env("PATH", &f.fake_bin).env("FAKE_QEMU", "exit 4").args(args).arg(&img));
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    }
    // What changes one run of a kept image reaches the kernel as QEMU's fw_cfg file.
    let mut cmd = unify();
    cmd.env("PATH", &f.fake_bin).env("FAKE_QEMU", "args").args(["--accel", "tcg", "-e", "X=1"]);
    let out = run(cmd.arg(&img).arg("arg"));
    let (append, _) = qemu_args(&out);
    assert!(append.split(' ').any(|w| w == "unify.manifest=fw_cfg"), "{append}");
    let fw_cfg = stdout(&out).lines().skip_while(|a| *a != "-fw_cfg").nth(1).unwrap_or_default().to_string();
    assert!(fw_cfg.starts_with("name=opt/unify/manifest,file=/proc/self/fd/"), "{}", stdout(&out));
    // Without such options the image's own manifest is the run's.
    let out = run(unify().env("PATH", &f.fake_bin).env("FAKE_QEMU", "args").args(["--accel", "tcg"]).arg(&img));
    let (append, _) = qemu_args(&out);
    assert!(!append.contains("unify.manifest") && !stdout(&out).contains("-fw_cfg"), "{}", stdout(&out));
    std::fs::remove_file(&img).unwrap();
}

// --- The real QEMU and the built-in kernel ----------------------------------------------

fn boot(kernel_args: &[&str]) -> Output {
    let mut cmd = unify();
    cmd.args(["run", "--platform", "vm", "--accel", "tcg"]);
    for a in kernel_args {
        cmd.args(["--kernel-arg", a]);
    }
    cmd.arg("--").arg(&fixture().program);
    run(&mut cmd)
}

#[test]
fn the_kernel_boots_and_its_status_comes_through() {
    if !have_qemu() {
        return;
    }
    // The program exits 3 too, so a kernel that runs it gives the same status.
    let out = boot(&["unify.exit=3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_kernel_fault_is_125_with_its_log() {
    if !have_qemu() {
        return;
    }
    let out = boot(&["unify.selftest=pagefault"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.lines().count() > 1, "{err}");
    assert!(err.lines().last().is_some_and(|l| l.starts_with("unify-kernel: exit status 125")), "{err}");
    assert!(err.contains("#PF"), "{err}");
}
