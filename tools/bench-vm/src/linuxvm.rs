//! The Linux VM: Debian's cloud kernel booting one static program from an initramfs under
//! QEMU, with the flags unify's VM uses. Reusable: [`LinuxVm::prepare`] builds the
//! initramfs once, [`LinuxVm::spawn`] starts a VM and hands back the QEMU child and its
//! timestamped serial console, e.g. for a server reached through user networking:
//!
//! ```ignore
//! let vm = LinuxVm::prepare(&kernel, cache, Spec {
//!     program: &server, args: vec!["8080".into()],
//!     init: Init::Wrapper { net: true },
//!     image: KernelImage::BzImage,
//!     extra_qemu: user_net(18080, 8080),
//! })?;
//! let mut running = vm.spawn(256)?;
//! running.serial.wait_for(b"listening", deadline);
//! // ... load 127.0.0.1:18080 ...
//! running.kill();
//! ```
//!
//! What was found to work (QEMU 7.2, Debian's 6.1 cloud kernel, TCG):
//! - `-M microvm,acpi=off -kernel vmlinuz` boots the bzImage through QEMU's Linux boot
//!   protocol support; no option ROM switches are needed. `-kernel vmlinux` (the ELF from
//!   inside the bzImage) boots through its PVH note, like unify-kernel.
//! - The kernel command line keeps ACPI on (`acpi=off` there loses the program's console
//!   output: with neither ACPI nor an MP table the kernel routes no serial interrupt, and the
//!   tty never drains); `reboot=t` makes a reboot a triple fault, which `-no-reboot` turns
//!   into QEMU's exit (without it the kernel tries keyboard-controller and ACPI resets that
//!   microvm lacks, for seconds); `panic=-1` reboots at once on a panic.
//! - virtio, virtio_mmio and virtio_net are modules in this kernel, and
//!   `CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES` is off, so the `virtio_mmio.device=` words microvm
//!   adds under `acpi=off` mean nothing to it: for networking the machine is plain
//!   `-M microvm` (ACPI on: the transports are in the DSDT) and the init loads the modules.
//! - With ACPI on, microvm's tables declare a hardware-reduced platform, so Linux sets no
//!   PIT timer up and depends on knowing the TSC's frequency. Its quick calibration
//!   against the PIT fails now and then under TCG, and then the boot hangs with the clock
//!   at 0 (seen in about half the boots here). `tsc_early_khz=` gives the frequency: under
//!   TCG the guest's TSC is the host's, so the host's rate, measured, is passed (8 of 8
//!   boots came up with it). The ACPI-off machine routes the PIT through the MP table and
//!   boots either way.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::cpio::Cpio;
use crate::debian::LinuxKernel;
use crate::guest;
use crate::serial::Output;

pub const QEMU: &str = "qemu-system-x86_64";

/// The QEMU flags unify's VM runs with (before `-m`, `-kernel`, ...).
pub const COMMON_FLAGS: &[&str] =
    &["-accel", "tcg", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-serial", "stdio"];

/// The kernel command line (plus `rdinit=/init`).
pub const APPEND: &str = "console=ttyS0 quiet panic=-1 reboot=t";

/// Who is PID 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// The program itself is `/init`. Its exit panics the kernel ("Attempted to kill
    /// init! exitcode=0x…"), which `panic=-1 reboot=t` and `-no-reboot` turn into QEMU's
    /// exit. Arguments go on the kernel command line after `--` (no spaces).
    Direct,
    /// bench-vm's init (`guest/init.c`) runs the program as PID 2 with /proc, /sys and /dev
    /// mounted, reports "bench-vm-init: exit N" and ends the VM. With `net`, it first loads
    /// virtio_mmio and virtio_net and configures lo and eth0 (10.0.2.15/24 via 10.0.2.2).
    Wrapper { net: bool },
}

/// Which file of the kernel package QEMU boots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelImage {
    /// `boot/vmlinuz-*` as shipped (Linux boot protocol, decompresses itself).
    BzImage,
    /// The ELF vmlinux unpacked from it, entered through its PVH note.
    Pvh,
}

/// What to run.
pub struct Spec<'a> {
    pub program: &'a Path,
    pub args: Vec<String>,
    pub init: Init,
    pub image: KernelImage,
    /// More QEMU arguments, e.g. [`user_net`].
    pub extra_qemu: Vec<String>,
}

/// `-netdev user` with one forwarded TCP port and a virtio-net device on microvm's
/// virtio-mmio bus (for [`Init::Wrapper`] with `net`).
pub fn user_net(host_port: u16, guest_port: u16) -> Vec<String> {
    vec![
        "-netdev".into(),
        format!("user,id=n0,hostfwd=tcp:127.0.0.1:{host_port}-:{guest_port}"),
        "-device".into(),
        "virtio-net-device,netdev=n0".into(),
    ]
}

/// A prepared VM: kernel, initramfs and flags; spawn it as often as wanted.
pub struct LinuxVm {
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
    pub machine: String,
    pub append: String,
    pub extra_qemu: Vec<String>,
}

/// A running VM.
pub struct RunningVm {
    pub child: Child,
    /// QEMU's stdout: the guest's serial console (COM1).
    pub serial: Output,
    /// QEMU's own stderr.
    pub stderr: Output,
    /// Just before QEMU was spawned.
    pub started: Instant,
}

/// How the program in the VM ended, as the console reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestExit {
    Code(i32),
    Signal(i32),
}

impl LinuxVm {
    /// Builds the initramfs for `spec` into `cache/initramfs/` and fixes the flags.
    pub fn prepare(kernel: &LinuxKernel, cache: &Path, spec: Spec) -> Result<LinuxVm, String> {
        let program = fs::read(spec.program).map_err(|e| format!("{}: {e}", spec.program.display()))?;
        let name = spec
            .program
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: not a file name", spec.program.display()))?
            .to_string();
        let mut cpio = Cpio::new();
        let mut append = format!("{APPEND} rdinit=/init");
        let mut machine = "microvm,acpi=off".to_string();
        let tag;
        match spec.init {
            Init::Direct => {
                cpio.file("init", 0o755, &program);
                if !spec.args.is_empty() {
                    if spec.args.iter().any(|a| a.is_empty() || a.contains(char::is_whitespace)) {
                        return Err("Init::Direct passes arguments on the kernel command line: no spaces".into());
                    }
                    append = format!("{append} -- {}", spec.args.join(" "));
                }
                tag = format!("{name}-direct");
            }
            Init::Wrapper { net } => {
                let init = guest::build(cache, "bench-vm-init", guest::INIT_C)?;
                let init = fs::read(&init).map_err(|e| format!("{}: {e}", init.display()))?;
                cpio.file("init", 0o755, &init);
                cpio.dir("bin");
                cpio.file(&format!("bin/{name}"), 0o755, &program);
                cpio.dir("bench-vm");
                let mut argv = format!("/bin/{name}\0").into_bytes();
                for a in &spec.args {
                    argv.extend_from_slice(a.as_bytes());
                    argv.push(0);
                }
                cpio.file("bench-vm/argv", 0o644, &argv);
                if net {
                    let modules = kernel.modules_for(&["virtio_mmio", "virtio_net"])?;
                    cpio.dir("modules");
                    let mut list = String::new();
                    for m in &modules {
                        let file = m.file_name().unwrap().to_str().unwrap();
                        let bytes = fs::read(m).map_err(|e| format!("{}: {e}", m.display()))?;
                        cpio.file(&format!("modules/{file}"), 0o644, &bytes);
                        list.push_str(&format!("/modules/{file}\n"));
                    }
                    cpio.file("bench-vm/modules", 0o644, list.as_bytes());
                    cpio.file("bench-vm/net", 0o644, b"");
                    machine = "microvm".to_string();
                    append = format!("{append} tsc_early_khz={}", host_tsc_khz());
                }
                tag = format!("{name}-wrapper{}", if net { "-net" } else { "" });
            }
        }
        let dir = cache.join("initramfs");
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let initramfs = dir.join(format!("{tag}.cpio"));
        fs::write(&initramfs, cpio.finish()).map_err(|e| format!("{}: {e}", initramfs.display()))?;
        let kernel_file = match spec.image {
            KernelImage::BzImage => kernel.bzimage.clone(),
            KernelImage::Pvh => kernel.pvh_vmlinux()?,
        };
        Ok(LinuxVm { kernel: kernel_file, initramfs, machine, append, extra_qemu: spec.extra_qemu })
    }

    /// QEMU's arguments for a VM of `mem_mib` MiB.
    pub fn qemu_args(&self, mem_mib: u32) -> Vec<String> {
        let mut a: Vec<String> = vec!["-M".into(), self.machine.clone()];
        a.extend(COMMON_FLAGS.iter().map(|s| s.to_string()));
        a.extend(["-m".into(), format!("{mem_mib}M")]);
        a.extend(["-kernel".into(), self.kernel.display().to_string()]);
        a.extend(["-initrd".into(), self.initramfs.display().to_string()]);
        a.extend(["-append".into(), self.append.clone()]);
        a.extend(self.extra_qemu.iter().cloned());
        a
    }

    /// The command line, for people (arguments with spaces quoted).
    pub fn command_line(&self, mem_mib: u32) -> String {
        shell_line(QEMU, &self.qemu_args(mem_mib))
    }

    /// Starts QEMU. It is killed (SIGKILL) if the thread that spawned it ends first
    /// (`PR_SET_PDEATHSIG`), so a benchmark that dies leaves no VM behind: spawn from a
    /// thread that lives as long as the VM should (the main thread).
    pub fn spawn(&self, mem_mib: u32) -> Result<RunningVm, String> {
        let started = Instant::now();
        let mut cmd = Command::new(QEMU);
        cmd.args(self.qemu_args(mem_mib)).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| format!("{QEMU}: {e} (Debian: apt-get install qemu-system-x86)"))?;
        let serial = Output::capture(child.stdout.take().unwrap());
        let stderr = Output::capture(child.stderr.take().unwrap());
        Ok(RunningVm { child, serial, stderr, started })
    }
}

impl RunningVm {
    /// Waits for QEMU to exit; returns its status and when it was seen, or None (still
    /// running) after `timeout`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<(ExitStatus, Instant)> {
        wait_timeout(&mut self.child, timeout)
    }

    /// Kills QEMU (if it still runs) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The program's exit as the console reported it (either init mode).
    pub fn guest_exit(&self) -> Option<GuestExit> {
        parse_guest_exit(&self.serial.text())
    }
}

impl Drop for RunningVm {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// Makes the process `cmd` spawns die (SIGKILL) when the thread that spawns it ends
/// (`PR_SET_PDEATHSIG`); the spawn fails if that parent is already gone.
pub fn die_with_parent(cmd: &mut Command) -> &mut Command {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the child between fork and exec and makes only
    // async-signal-safe calls (prctl, getppid), with no allocation or locking.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the prctl: then nobody would kill the child.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        })
    }
}

/// The host's TSC rate in kHz, measured against the monotonic clock over 50 ms (under TCG
/// the guest reads the host's TSC).
pub fn host_tsc_khz() -> u64 {
    let t0 = Instant::now();
    // SAFETY: rdtsc reads a counter; it has no memory effects and x86-64 always has it.
    let c0 = unsafe { core::arch::x86_64::_rdtsc() };
    std::thread::sleep(Duration::from_millis(50));
    // SAFETY: as above.
    let c1 = unsafe { core::arch::x86_64::_rdtsc() };
    let ns = t0.elapsed().as_nanos().max(1);
    (u128::from(c1.wrapping_sub(c0)) * 1_000_000 / ns) as u64
}

/// [`RunningVm::wait_timeout`] for any child: sleeps in poll(2) on a pidfd, so the exit
/// is seen when it happens (polling try_wait every 200 µs where pidfds are missing).
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<(ExitStatus, Instant)> {
    let deadline = Instant::now() + timeout;
    let pid = child.id() as libc::pid_t;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is
    // passed. `child` is not reaped yet (we hold it), so `pid` still names it.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    let result = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some((status, Instant::now())),
            Ok(None) => {}
            Err(_) => break None,
        }
        let now = Instant::now();
        if now >= deadline {
            break None;
        }
        if pidfd >= 0 {
            let ms = (deadline - now).as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            let mut pfd = libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 };
            // SAFETY: `pfd` is one valid, writable pollfd for the duration of the call.
            unsafe { libc::poll(&mut pfd, 1, ms) };
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    };
    if pidfd >= 0 {
        // SAFETY: `pidfd` is the fd opened above, owned here and closed once.
        unsafe { libc::close(pidfd) };
    }
    result
}

/// Finds "bench-vm-init: exit N" / "bench-vm-init: signal N" (the wrapper) or the
/// kernel's "Attempted to kill init! exitcode=0x…" (a wait status: Init::Direct).
pub fn parse_guest_exit(console: &str) -> Option<GuestExit> {
    for line in console.lines() {
        if let Some(rest) = line.split("bench-vm-init: exit ").nth(1) {
            return rest.trim().parse().ok().map(GuestExit::Code);
        }
        if let Some(rest) = line.split("bench-vm-init: signal ").nth(1) {
            return rest.trim().parse().ok().map(GuestExit::Signal);
        }
        if let Some(rest) = line.split("Attempted to kill init! exitcode=0x").nth(1) {
            let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            let status = i32::from_str_radix(&hex, 16).ok()?;
            return Some(if status & 0x7f == 0 {
                GuestExit::Code((status >> 8) & 0xff)
            } else {
                GuestExit::Signal(status & 0x7f)
            });
        }
    }
    None
}

/// `prog args...` with the arguments that need it single-quoted.
pub fn shell_line(prog: &str, args: &[String]) -> String {
    let mut s = prog.to_string();
    for a in args {
        s.push(' ');
        if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_=.,:/@+%".contains(c)) {
            s.push_str(a);
        } else {
            s.push('\'');
            s.push_str(&a.replace('\'', r"'\''"));
            s.push('\'');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_exit_from_either_init() {
        let panic =
            "hello, world\r\n[    1.8] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300\r\n";
        assert_eq!(parse_guest_exit(panic), Some(GuestExit::Code(3)));
        let killed = "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b";
        assert_eq!(parse_guest_exit(killed), Some(GuestExit::Signal(11)));
        assert_eq!(parse_guest_exit("x\r\nbench-vm-init: exit 0\r\n"), Some(GuestExit::Code(0)));
        assert_eq!(parse_guest_exit("bench-vm-init: signal 9\r\n"), Some(GuestExit::Signal(9)));
        assert_eq!(parse_guest_exit("[ 0.1] booting\r\n"), None);
    }

    #[test]
    fn shell_quoting() {
        let args = ["-append".to_string(), "console=ttyS0 quiet".to_string(), "it's".to_string()];
        assert_eq!(shell_line("q", &args), r"q -append 'console=ttyS0 quiet' 'it'\''s'");
    }
}
