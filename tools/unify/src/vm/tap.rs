//! `--net tap=IFNAME`: checks, before QEMU starts, that the interface can be used, so
//! that what is wrong is one line from unify rather than QEMU's messages after a boot
//! that went nowhere.
//!
//! QEMU attaches with `TUNSETIFF` on `/dev/net/tun`. Done here first and undone at once
//! (the descriptor is closed), that call answers what QEMU's would: a TAP interface of
//! another owner without CAP_NET_ADMIN (EPERM), one another process holds (EBUSY), a
//! multi-queue one (EINVAL: QEMU attaches one queue). Before it, `/sys/class/net` tells
//! whether the interface exists and is a TAP one: `TUNSETIFF` on a name that does not
//! exist would *create* a new interface when the caller may (root), as QEMU would too —
//! a fresh tap, down and connected to nothing, which is never what a user who mistyped
//! a name wants.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::fail::Failure;

/// `/sys/class/net/IFNAME/tun_flags`'s IFF_TAP bit (IFF_TUN is 1).
const IFF_TAP: u32 = 0x2;
/// `/sys/class/net/IFNAME/flags`'s IFF_UP.
const IFF_UP: u32 = 0x1;

/// A hexadecimal `0x…` value from a sysfs file.
fn sysfs_hex(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    u32::from_str_radix(text.trim().trim_start_matches("0x"), 16).ok()
}

/// Checks that QEMU will be able to attach to TAP interface `ifname`; a warning line
/// (not an error) when the interface is down. Errors are one line, naming the option.
pub fn check(ifname: &str) -> Result<Option<String>, Failure> {
    let what = format!("--net tap={ifname}");
    let sys = Path::new("/sys/class/net").join(ifname);
    if !sys.exists() {
        return Err(Failure::refused(format!(
            "{what}: no such network interface (make one: ip tuntap add dev {ifname} mode tap user $(id -un); ip \
             link set {ifname} up)"
        )));
    }
    match sysfs_hex(&sys.join("tun_flags")) {
        None => return Err(Failure::refused(format!("{what}: {ifname} is not a TAP interface"))),
        Some(flags) if flags & IFF_TAP == 0 => {
            return Err(Failure::refused(format!("{what}: {ifname} is a TUN interface, not a TAP one (mode tap)")))
        }
        Some(_) => {}
    }
    attach(ifname).map_err(|e| Failure::refused(format!("{what}: {e}")))?;
    let down = sysfs_hex(&sys.join("flags")).is_some_and(|f| f & IFF_UP == 0);
    Ok(down.then(|| format!("{what}: {ifname} is down: the guest's frames go nowhere until `ip link set {ifname} up`")))
}

/// Attaches to the interface as QEMU will, and lets go; why not, as a sentence.
fn attach(ifname: &str) -> Result<(), String> {
    let path = CString::new("/dev/net/tun").unwrap_or_default();
    // SAFETY: a NUL-terminated path; the descriptor returned is owned below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::ENODEV) => "/dev/net/tun is missing (modprobe tun)".into(),
            Some(libc::EACCES) => "cannot open /dev/net/tun: permission denied (run unify as root, or give this user \
                                   read and write access to it)"
                .into(),
            _ => format!("cannot open /dev/net/tun: {e}"),
        });
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    let tun = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: an all-zero ifreq is valid (an empty name, no flags).
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, &src) in req.ifr_name.iter_mut().zip(ifname.as_bytes().iter().take(libc::IFNAMSIZ - 1)) {
        *dst = src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes one ifreq, which `req` is, on our own descriptor.
    if unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETIFF, &mut req) } == 0 {
        return Ok(()); // closing `tun` detaches
    }
    let e = std::io::Error::last_os_error();
    Err(match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => format!(
            "not permitted: the interface belongs to another user (ip tuntap add dev {ifname} mode tap user \
             $(id -un)), or run unify as root"
        ),
        Some(libc::EBUSY) => "in use by another process (another VM?)".into(),
        Some(libc::EINVAL) => "cannot attach (a multi-queue TAP interface? QEMU attaches one queue)".into(),
        _ => format!("cannot attach: {e}"),
    })
}
