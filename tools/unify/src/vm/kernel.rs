//! The unify kernel QEMU boots: the one built into this binary (`build.rs`), handed to
//! QEMU as a sealed memfd.
//!
//! QEMU wants a path for `-kernel`. A memfd inherited by QEMU is one: `/proc/self/fd/N`
//! in QEMU's own process names it (QEMU 7.2 reads it like any file). That is chosen over
//! a content-addressed file under `~/.cache/unify`: nothing is written to disk or left
//! behind, a read-only or full home directory does not matter, no two runs race to
//! create the file, and the seals guarantee QEMU reads exactly the bytes built in. The
//! cost is one copy of the kernel (under 1 MB, well under a millisecond) per run.
//!
//! The hidden option `--kernel FILE` boots another kernel file instead (for kernel
//! development: no rebuild of unify needed).

use std::ffi::CStr;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::fail::Failure;

/// unify-kernel, as `build.rs` built it from `libos/metal`.
pub static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/unify-kernel"));

/// The kernel to boot, open (close-on-exec; `qemu.rs` lets QEMU inherit it).
pub fn open(path: Option<&Path>) -> Result<OwnedFd, Failure> {
    match path {
        Some(p) => {
            File::open(p).map(OwnedFd::from).map_err(|e| Failure::failed(format!("--kernel {}: {e}", p.display())))
        }
        None => sealed_memfd(c"unify-kernel", EMBEDDED)
            .map_err(|e| Failure::failed(format!("cannot hand the kernel to QEMU (memfd): {e}"))),
    }
}

/// The run's own manifest (one run of a kept image with `-e`, `-w` or arguments), for
/// QEMU's fw_cfg (the kernel's `unify.manifest=fw_cfg`).
pub fn manifest_fd(text: &[u8]) -> Result<OwnedFd, Failure> {
    sealed_memfd(c"unify-manifest", text)
        .map_err(|e| Failure::failed(format!("cannot hand the run's manifest to QEMU (memfd): {e}")))
}

/// A memfd holding `bytes`, sealed against any change.
fn sealed_memfd(name: &CStr, bytes: &[u8]) -> std::io::Result<OwnedFd> {
    // SAFETY: `name` is a NUL-terminated string; memfd_create touches nothing else.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: memfd_create just returned this descriptor and nothing else owns it.
    let mut file = unsafe { File::from_raw_fd(fd) };
    file.write_all(bytes)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: F_ADD_SEALS takes an integer argument and touches no memory of ours.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(OwnedFd::from(file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom};

    #[test]
    fn the_embedded_kernel_is_a_pvh_elf() {
        assert!(EMBEDDED.starts_with(b"\x7fELF\x02\x01"), "not a 64-bit little-endian ELF");
        // The PVH entry note (libos/metal/src/boot.s) is named "Xen".
        assert!(EMBEDDED.windows(4).any(|w| w == b"Xen\0"));
    }

    #[test]
    fn the_memfd_holds_the_bytes_and_is_sealed() {
        let fd = sealed_memfd(c"test", b"kernel bytes").unwrap();
        let mut file = File::from(fd);
        file.seek(SeekFrom::Start(0)).unwrap();
        let mut back = Vec::new();
        file.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"kernel bytes");
        assert!(file.write_all(b"x").is_err(), "F_SEAL_WRITE");
    }
}
