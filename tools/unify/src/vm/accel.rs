//! `--accel auto|kvm|tcg`: which accelerator QEMU runs the VM with.
//!
//! `auto` takes KVM only where KVM can run the unify kernel, and otherwise TCG with one
//! notice line. The probe must be cheap (it runs before every VM) and must not be fooled
//! by the one case known to matter: a **PVM** host (paravirtual KVM, the `kvm_pvm`
//! module, as on the development machine of DESIGN.md), whose `/dev/kvm` opens and
//! answers every ioctl like a real one, but runs guests in a ring-3 sandbox: the unify
//! kernel's ring-0 code (x87/SSE set-up, `lgdt`, ...) ends in an emulation failure. So:
//!
//! 1. `/dev/kvm` must open read-write and answer `KVM_GET_API_VERSION` with 12;
//! 2. the `kvm_pvm` module must not be loaded (`/sys/module/kvm_pvm`);
//! 3. if this Linux is itself a guest (`hypervisor` in `/proc/cpuinfo`), the CPU must
//!    offer virtualization to it (`vmx` or `svm`): a real, nested KVM needs them, and a
//!    `/dev/kvm` without them is a paravirtual one.
//!
//! Booting the kernel once with a self-test and caching the answer would be exact, but
//! costs a QEMU start (tens of milliseconds) per new machine state and a cache to keep
//! right across module changes; the three checks above read two small files.

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use clap::ValueEnum;

use crate::fail::Failure;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Accel {
    /// KVM where it can run the VM, else TCG (with a notice).
    Auto,
    /// KVM (hardware virtualization); fails if /dev/kvm cannot be used.
    Kvm,
    /// TCG (QEMU's emulator): works everywhere, slower.
    Tcg,
}

/// What QEMU gets: `-accel kvm` or `-accel tcg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    Kvm,
    Tcg,
}

impl Chosen {
    pub fn qemu_name(self) -> &'static str {
        match self {
            Chosen::Kvm => "kvm",
            Chosen::Tcg => "tcg",
        }
    }
}

/// `KVM_GET_API_VERSION` (`_IO(KVMIO, 0x00)`) and the only version there has ever been.
const KVM_GET_API_VERSION: libc::c_ulong = 0xae00;
const KVM_API_VERSION: libc::c_int = 12;

/// Picks the accelerator. `auto` falling back to TCG returns the notice to print.
pub fn choose(requested: Accel) -> Result<(Chosen, Option<String>), Failure> {
    match requested {
        Accel::Tcg => Ok((Chosen::Tcg, None)),
        Accel::Kvm => match open_kvm() {
            Ok(()) => Ok((Chosen::Kvm, None)),
            Err(why) => Err(Failure::refused(format!("--accel kvm: {why}"))),
        },
        Accel::Auto => match kvm_can_run_the_kernel() {
            Ok(()) => Ok((Chosen::Kvm, None)),
            Err(why) => Ok((Chosen::Tcg, Some(format!("{why}; running the VM under TCG (slower)")))),
        },
    }
}

/// Why KVM cannot run the unify kernel here, if it cannot.
fn kvm_can_run_the_kernel() -> Result<(), String> {
    open_kvm()?;
    if Path::new("/sys/module/kvm_pvm").exists() {
        return Err("KVM cannot run the unify kernel here: /dev/kvm is PVM (paravirtual KVM), which cannot run \
                    ring-0 guest code"
            .into());
    }
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags = cpu_flags(&cpuinfo);
    if flags.contains(&"hypervisor") && !flags.contains(&"vmx") && !flags.contains(&"svm") {
        return Err("KVM cannot run the unify kernel here: this machine is a VM without nested virtualization \
             (no vmx/svm), so its /dev/kvm is paravirtual"
            .into());
    }
    Ok(())
}

/// Opens `/dev/kvm` and checks its API version.
fn open_kvm() -> Result<(), String> {
    let kvm = OpenOptions::new().read(true).write(true).custom_flags(libc::O_CLOEXEC).open("/dev/kvm").map_err(
        |e| match e.kind() {
            std::io::ErrorKind::NotFound => "/dev/kvm does not exist".to_string(),
            std::io::ErrorKind::PermissionDenied => {
                "/dev/kvm: permission denied (a member of its group, usually kvm, may use it)".to_string()
            }
            _ => format!("/dev/kvm: {e}"),
        },
    )?;
    // SAFETY: KVM_GET_API_VERSION takes no argument and touches no memory of ours.
    let version = unsafe { libc::ioctl(kvm.as_raw_fd(), KVM_GET_API_VERSION as _, 0) };
    if version != KVM_API_VERSION {
        return Err(format!("/dev/kvm answers API version {version}, not {KVM_API_VERSION}"));
    }
    Ok(())
}

/// The flags of the first CPU in `/proc/cpuinfo`.
fn cpu_flags(cpuinfo: &str) -> Vec<&str> {
    cpuinfo
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == "flags").then(|| value.split_whitespace().collect())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_of_the_first_cpu() {
        let text = "processor\t: 0\nflags\t\t: fpu vme hypervisor lm\nbugs\t: x\n\nprocessor\t: 1\nflags\t: vmx\n";
        assert_eq!(cpu_flags(text), ["fpu", "vme", "hypervisor", "lm"]);
        assert!(cpu_flags("").is_empty());
    }

    #[test]
    fn tcg_needs_no_probe() {
        assert_eq!(choose(Accel::Tcg).unwrap(), (Chosen::Tcg, None));
    }
}
