//! Finding QEMU, its command line, and starting it.
//!
//! The command line is the contract with the kernel (libos/metal): a microvm with ACPI
//! off (virtio-mmio transports then appear on the kernel command line), the kernel as a
//! PVH ELF, `isa-debug-exit` for the exit status, three 16550 serial ports (COM1 at
//! 0x3f8 is microvm's own ISA serial port; COM2 at 0x2f8 and COM3 at 0x3e8 are added as
//! `isa-serial` devices, because microvm connects only the first `-serial`), the root
//! filesystem image as a virtio-blk disk and, unless `--net none`, a virtio-net device:
//! on QEMU's user-mode network with a `hostfwd` per published port (for TCP, to the inner
//! port unify's proxy relays to: `proxy.rs`), or on a TAP interface (`--net tap=IFNAME`,
//! `script=no`: unify configures nothing on the host).
//!
//! Files QEMU needs (the kernel, the image, a one-run manifest as fw_cfg file
//! `opt/unify/manifest`) and unify's ends of the serial ports are
//! descriptors QEMU inherits: the kernel and the image are opened as
//! `/proc/self/fd/N`, which in QEMU's process is the inherited descriptor. That is what
//! lets an image with no name (a temporary one) and a memfd kernel be used.

use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use libos_hosted::net::ports::PortMap;

use crate::fail::Failure;

pub const QEMU: &str = "qemu-system-x86_64";

/// Where to look when `$PATH` is not set at all (as `execvp` does, with
/// /usr/local/bin in front as Debian's default PATH has it).
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// `qemu-system-x86_64` on `$PATH`.
pub fn find() -> Result<PathBuf, Failure> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into());
    find_in(&path).ok_or_else(|| {
        Failure::refused(format!(
            "{QEMU} not found: install the Debian package qemu-system-x86, or run with --platform hosted"
        ))
    })
}

fn find_in(path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path).filter(|dir| !dir.as_os_str().is_empty()).map(|dir| dir.join(QEMU)).find(|p| {
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap_or_default();
        // SAFETY: `c` is a NUL-terminated path; access reads nothing else.
        p.is_file() && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0
    })
}

/// What one VM is made of.
#[derive(Debug, Clone)]
pub struct Machine {
    /// `kvm` or `tcg`.
    pub accel: &'static str,
    pub memory_mib: u64,
    pub smp: u32,
    /// The kernel command line.
    pub append: String,
    pub kernel_fd: RawFd,
    pub image_fd: RawFd,
    /// The run's own manifest, as fw_cfg file `opt/unify/manifest` (the kernel reads it
    /// with `unify.manifest=fw_cfg`), when it is not the image's.
    pub manifest_fd: Option<RawFd>,
    /// QEMU's ends of COM1, COM2, COM3.
    pub com_fds: [RawFd; 3],
    /// What QEMU forwards: a TCP map's host port is the inner port unify's proxy
    /// connects to (`proxy.rs`), a UDP map's the published one.
    pub ports: Vec<PortMap>,
    /// The network card's other end (`ports` go with [`NetDevice::User`] only).
    pub net: NetDevice,
}

/// What the virtio-net card is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetDevice {
    /// No card.
    None,
    /// QEMU's user network, with `ports` forwarded.
    User,
    /// A host TAP interface, the card with this MAC.
    Tap { ifname: String, mac: String },
}

/// The I/O port and IRQ of each 16550 (the PC's standard COM1–COM3).
const COM_PORTS: [(u16, u8); 3] = [(0x3f8, 4), (0x2f8, 3), (0x3e8, 4)];

impl Machine {
    /// QEMU's arguments.
    pub fn args(&self) -> Vec<OsString> {
        let mut a: Vec<String> = Vec::new();
        let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
        push(&["-M", "microvm,acpi=off", "-accel", self.accel]);
        push(&["-m", &format!("{}M", self.memory_mib), "-smp", &self.smp.to_string(), "-cpu", "max"]);
        push(&["-nodefaults", "-no-user-config", "-nographic", "-no-reboot"]);
        push(&["-kernel", &format!("/proc/self/fd/{}", self.kernel_fd), "-append", &self.append]);
        push(&["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        if let Some(fd) = self.manifest_fd {
            push(&["-fw_cfg", &format!("name=opt/unify/manifest,file=/proc/self/fd/{fd}")]);
        }
        for (i, (fd, (iobase, irq))) in self.com_fds.iter().zip(COM_PORTS).enumerate() {
            let id = format!("com{}", i + 1);
            push(&["-chardev", &format!("socket,id={id},fd={fd}")]);
            if i == 0 {
                push(&["-serial", &format!("chardev:{id}")]);
            } else {
                push(&["-device", &format!("isa-serial,iobase={iobase:#x},irq={irq},chardev={id}")]);
            }
        }
        push(&["-drive", &format!("id=root,file=/proc/self/fd/{},format=raw,if=none", self.image_fd)]);
        push(&["-device", "virtio-blk-device,drive=root"]);
        // The guest's randomness (getrandom, AT_RANDOM) from the host's /dev/urandom.
        push(&["-device", "virtio-rng-device"]);
        match &self.net {
            NetDevice::None => {}
            NetDevice::User => {
                let mut netdev = String::from("user,id=net0");
                for p in &self.ports {
                    let proto = if p.udp { "udp" } else { "tcp" };
                    netdev.push_str(&format!(",hostfwd={proto}:127.0.0.1:{}-:{}", p.host, p.guest));
                }
                push(&["-netdev", &netdev, "-device", "virtio-net-device,netdev=net0"]);
            }
            NetDevice::Tap { ifname, mac } => {
                let netdev = format!("tap,id=net0,ifname={ifname},script=no,downscript=no");
                push(&["-netdev", &netdev, "-device", &format!("virtio-net-device,netdev=net0,mac={mac}")]);
            }
        }
        a.into_iter().map(OsString::from).collect()
    }

    /// Every descriptor QEMU must inherit.
    fn inherited(&self) -> Vec<RawFd> {
        let mut fds = vec![self.kernel_fd, self.image_fd];
        fds.extend(self.manifest_fd);
        fds.extend(self.com_fds);
        fds
    }
}

/// The command line as a shell would take it (for `--verbose`).
pub fn shown(qemu: &Path, args: &[OsString]) -> String {
    let quote = |s: &str| {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b)) {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    std::iter::once(qemu.as_os_str())
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts QEMU: stdin from /dev/null, stdout discarded, stderr piped (shown with
/// `--verbose` or when the VM fails), in a process group of its own, with an empty
/// signal mask, killed when unify dies (PR_SET_PDEATHSIG: the parent *thread* counts,
/// so this must be called from the thread that waits for QEMU), and inheriting exactly
/// the descriptors `machine` names (everything of unify's is close-on-exec).
pub fn spawn(qemu: &Path, machine: &Machine) -> Result<Child, Failure> {
    let inherited = machine.inherited();
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    let mut cmd = Command::new(qemu);
    cmd.args(machine.args()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).process_group(0);
    // SAFETY: the closure runs in the forked child before exec and makes only
    // async-signal-safe calls (prctl, getppid, pthread_sigmask, fcntl, _exit) on values
    // it owns; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // unify died between the fork and the prctl: nobody would ever kill QEMU.
            if libc::getppid() != parent {
                libc::_exit(125);
            }
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            for &fd in &inherited {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Failure::refused(format!(
            "{QEMU} not found: install the Debian package qemu-system-x86, or run with --platform hosted"
        )),
        _ => Failure::failed(format!("cannot start {}: {e}", qemu.display())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(ports: Vec<PortMap>) -> Machine {
        machine_on(ports, NetDevice::None)
    }

    fn machine_on(ports: Vec<PortMap>, net: NetDevice) -> Machine {
        Machine {
            accel: "tcg",
            memory_mib: 256,
            smp: 1,
            append: "unify.log=3 unify.time=1700000000000000000".into(),
            kernel_fd: 5,
            image_fd: 6,
            manifest_fd: None,
            com_fds: [7, 8, 9],
            ports,
            net,
        }
    }

    #[test]
    fn the_command_line() {
        let args = machine(vec![]).args();
        assert_eq!(
            shown(Path::new("qemu-system-x86_64"), &args),
            "qemu-system-x86_64 -M microvm,acpi=off -accel tcg -m 256M -smp 1 -cpu max -nodefaults \
             -no-user-config -nographic -no-reboot -kernel /proc/self/fd/5 \
             -append 'unify.log=3 unify.time=1700000000000000000' \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
             -chardev socket,id=com1,fd=7 -serial chardev:com1 \
             -chardev socket,id=com2,fd=8 -device isa-serial,iobase=0x2f8,irq=3,chardev=com2 \
             -chardev socket,id=com3,fd=9 -device isa-serial,iobase=0x3e8,irq=4,chardev=com3 \
             -drive id=root,file=/proc/self/fd/6,format=raw,if=none -device virtio-blk-device,drive=root \
             -device virtio-rng-device"
        );
        assert_eq!(machine(vec![]).inherited(), [5, 6, 7, 8, 9]);
    }

    #[test]
    fn a_run_manifest_is_a_fw_cfg_file_qemu_inherits() {
        let m = Machine { manifest_fd: Some(10), ..machine(vec![]) };
        let args: Vec<String> = m.args().iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let at = args.iter().position(|a| a == "-fw_cfg").expect("-fw_cfg");
        assert_eq!(args[at + 1], "name=opt/unify/manifest,file=/proc/self/fd/10");
        assert_eq!(m.inherited(), [5, 6, 10, 7, 8, 9]);
    }

    #[test]
    fn published_ports() {
        // A TCP map's host port is the proxy's inner port by now (proxy.rs).
        let ports =
            vec![PortMap { host: 40123, guest: 8080, udp: false }, PortMap { host: 5353, guest: 53, udp: true }];
        assert_eq!(
            net_args(machine_on(ports, NetDevice::User)),
            [
                "-netdev",
                "user,id=net0,hostfwd=tcp:127.0.0.1:40123-:8080,hostfwd=udp:127.0.0.1:5353-:53",
                "-device",
                "virtio-net-device,netdev=net0"
            ]
        );
    }

    /// The arguments from `-netdev` on (none: no card).
    fn net_args(m: Machine) -> Vec<String> {
        let args: Vec<String> = m.args().into_iter().map(|a| a.into_string().unwrap()).collect();
        args.iter().position(|a| a == "-netdev").map_or(Vec::new(), |at| args[at..].to_vec())
    }

    #[test]
    fn network_cards() {
        assert_eq!(
            net_args(machine_on(vec![], NetDevice::User)),
            ["-netdev", "user,id=net0", "-device", "virtio-net-device,netdev=net0"]
        );
        let tap = NetDevice::Tap { ifname: "tap0".into(), mac: "52:54:00:ab:cd:ef".into() };
        assert_eq!(
            net_args(machine_on(vec![], tap)),
            [
                "-netdev",
                "tap,id=net0,ifname=tap0,script=no,downscript=no",
                "-device",
                "virtio-net-device,netdev=net0,mac=52:54:00:ab:cd:ef"
            ]
        );
        assert!(net_args(machine(vec![])).is_empty());
    }

    #[test]
    fn finding_qemu() {
        let dir = std::env::temp_dir().join(format!("unify-find-qemu-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(find_in(dir.as_os_str()), None);
        let fake = dir.join(QEMU);
        std::fs::write(&fake, "").unwrap();
        assert_eq!(find_in(dir.as_os_str()), None, "not executable");
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut path = OsString::from("/nonexistent:");
        path.push(dir.as_os_str());
        assert_eq!(find_in(&path), Some(fake));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
