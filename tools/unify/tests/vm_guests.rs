//! Guests booted as VMs (`unify run --platform vm`, TCG) through the whole path: the
//! built-in kernel, QEMU, the relayed serial ports. Each compares with the same program
//! run natively. Without QEMU they fail naming the package, unless UNIFY_SKIP_VM_TESTS=1.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use support::{guest_program, have_qemu, output_within};

/// TCG on a loaded two-core machine: a guest that takes 50 ms natively may take seconds.
const LIMIT: Duration = Duration::from_secs(120);

fn guests() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("unify-vm-guests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fn program(name: &str) -> PathBuf {
    let exe = guests().join(name);
    if !exe.exists() {
        guest_program(guests(), name);
    }
    exe
}

fn in_vm(exe: &Path, stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_unify"));
    cmd.args(["run", "--platform", "vm", "--accel", "tcg", "--"]).arg(exe);
    output_within(&mut cmd, stdin, LIMIT)
}

fn native(exe: &Path, stdin: Option<&[u8]>) -> Output {
    output_within(&mut Command::new(exe), stdin, LIMIT)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_spinning_thread_does_not_starve_the_others() {
    if !have_qemu() {
        return;
    }
    let exe = program("busy_and_ticks");
    let out = in_vm(&exe, None);
    assert_eq!(text(&out.stdout), "tick 0\ntick 1\ntick 2\njoined\n", "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(native(&exe, None).stdout, out.stdout);
}

#[test]
fn a_fault_without_a_handler_is_sigsegv_with_one_line() {
    use std::os::unix::process::ExitStatusExt;
    if !have_qemu() {
        return;
    }
    let exe = program("null_store");
    let out = in_vm(&exe, None);
    assert_eq!(text(&out.stdout), "before the fault\n");
    assert_eq!(out.status.signal(), Some(libc::SIGSEGV), "{:?} {}", out.status, text(&out.stderr));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("unify: the guest was killed by SIGSEGV at address 0x10, instruction pointer 0x"),
        "{err}"
    );
    assert_eq!(native(&exe, None).status.signal(), Some(libc::SIGSEGV));
}

#[test]
fn stdin_reaches_the_guest_and_ends() {
    if !have_qemu() {
        return;
    }
    let exe = program("count_stdin");
    let input: Vec<u8> = (0..2000).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
    let out = in_vm(&exe, Some(&input));
    assert_eq!(out.stdout, native(&exe, Some(&input)).stdout, "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
    // An empty stdin (/dev/null) ends at once.
    assert_eq!(text(&in_vm(&exe, None).stdout), "0 bytes, 0 lines, last read 0\n");
}

#[test]
fn one_run_of_a_kept_image_takes_its_own_arguments_environment_and_directory() {
    if !have_qemu() {
        return;
    }
    let exe = program("show_run");
    let img = guests().join("show_run.img");
    let _ = std::fs::remove_file(&img);
    let unify = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_unify"));
        c.env_remove("UNIFY_PLATFORM");
        c
    };
    let built = output_within(
        unify().arg("build").arg(&exe).arg("-o").arg(&img).args(["-e", "X=built", "--", "a"]),
        None,
        LIMIT,
    );
    assert!(built.status.success(), "{}", text(&built.stderr));
    let vm = |args: &[&str]| {
        output_within(unify().args(["run", "--platform", "vm", "--accel", "tcg"]).args(args).arg(&img), None, LIMIT)
    };
    let as_built = "arg a\nX=built\ncwd=/\n";
    let out = vm(&[]);
    assert_eq!((text(&out.stdout).as_str(), out.status.code()), (as_built, Some(3)), "{}", text(&out.stderr));

    // -e, -w and arguments change this run only (the kernel takes the run's manifest
    // from QEMU's fw_cfg); the next run is the image's again.
    let mut cmd = unify();
    cmd.args(["run", "--platform", "vm", "--accel", "tcg", "-e", "X=this run", "-w", "/tmp", "--"]).arg(&img);
    let out = output_within(cmd.args(["b", "c d"]), None, LIMIT);
    assert_eq!(text(&out.stdout), "arg b\narg c d\nX=this run\ncwd=/tmp\n", "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(3));
    let out = vm(&[]);
    assert_eq!(text(&out.stdout), as_built, "{}", text(&out.stderr));
    std::fs::remove_file(&img).unwrap();
}
