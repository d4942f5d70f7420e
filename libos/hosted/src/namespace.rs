//! The guest's filesystem namespace on the hosted platform: the root image mounted at
//! `/`, with the pseudo-filesystems over it.
//!
//! The image file is mapped shared into the host half of the address space, so fatfs
//! reads and writes it with `memcpy` (no host syscall per sector) and whatever the
//! guest writes is in the host's page cache for the file at once: a kept image holds
//! it for the next run even if this process is killed. `sync`, `fsync` and exit add
//! an `msync` for durability on the host's disk.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use libos::pseudo::PseudoMounts;
use libos::time::ClockId;
use libos::vfs::{At, Clock, MountFlags, Vfs};
use libos::{Errno, Platform};
use unify_rootfs::{errno::EIO, FatFs, ImageBuilder, IoError, Manifest, MountOptions, SliceDevice, MANIFEST_PATH};

use crate::host::raw_syscall4;
use crate::HostedError;

/// Maps the whole image file shared, for the life of the process.
fn map_image(image: &File) -> Result<&'static mut [u8], HostedError> {
    let len = image.metadata().map_err(|e| HostedError::Read("the root filesystem image".into(), e))?.len();
    let len = usize::try_from(len).map_err(|_| HostedError::Layout("the root filesystem image is too large".into()))?;
    if len == 0 {
        return Err(HostedError::Layout("the root filesystem image is empty".into()));
    }
    // SAFETY: a new shared mapping of the image file, chosen by the kernel (outside the
    // guest window, which is reserved later and never overlaps existing mappings).
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            image.as_raw_fd(),
            0,
        )
    };
    if map == libc::MAP_FAILED {
        return Err(HostedError::Read("the root filesystem image".into(), std::io::Error::last_os_error()));
    }
    // SAFETY: the mapping is `len` bytes, readable and writable, never unmapped, and
    // reached only through the one device made from this slice.
    Ok(unsafe { std::slice::from_raw_parts_mut(map.cast::<u8>(), len) })
}

/// The root filesystem: the FAT image, through a device over its mapping whose flush is
/// an `msync` (a raw syscall: the libOS may run with the guest's TLS loaded).
fn mount_root(image: &File, clock: Clock, uid: u32, gid: u32) -> Result<Arc<FatFs>, HostedError> {
    let bytes = map_image(image)?;
    let (addr, len) = (bytes.as_ptr() as u64, bytes.len() as u64);
    let flush = Box::new(move || {
        // SAFETY: msync of the mapping made above, which lives as long as the process.
        let r = unsafe { raw_syscall4(libc::SYS_msync, addr, len, libc::MS_SYNC as u64, 0) };
        if r < 0 {
            Err(IoError::Device { errno: EIO })
        } else {
            Ok(())
        }
    });
    let device = SliceDevice::with_flush(bytes, flush);
    FatFs::mount(device, clock, MountOptions::new(uid, gid))
        .map_err(|e: Errno| HostedError::Layout(format!("the root filesystem image does not mount: {}", e.name())))
}

/// Mounts read-only the directories the image's manifest marks so (`-v …:ro`). A
/// read-only file volume is not enforced (the VFS binds directories only); that is
/// said once on stderr.
fn bind_read_only_volumes(vfs: &Vfs, platform: &'static dyn Platform) {
    let Ok(file) = vfs.open(&At::Cwd, MANIFEST_PATH.as_bytes(), libos::file::oflags::O_RDONLY, 0) else { return };
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = file.read(&mut buf, false) {
        text.extend_from_slice(&buf[..n]);
    }
    let Ok(manifest) = Manifest::parse(&text) else { return };
    for (key, path) in &manifest.extra {
        if key != ImageBuilder::READ_ONLY_KEY {
            continue;
        }
        if let Err(e) = vfs.bind_read_only(path) {
            platform.log(&format!(
                "unify: {} stays writable: it cannot be mounted read-only ({})",
                String::from_utf8_lossy(path),
                e.name()
            ));
        }
    }
}

/// The namespace the guest starts in: the image at `/`, the pseudo-filesystems
/// (`/dev`, `/proc`, `/sys`, `/tmp`, `/etc`), the working directory `cwd`, and what
/// procfs needs once the kernel exists.
pub fn build(platform: &'static dyn Platform, image: &File, cwd: &[u8]) -> Result<(Vfs, PseudoMounts), HostedError> {
    let clock: Clock = Arc::new(move || platform.now(ClockId::Realtime));
    let host = platform.host_info();
    let root = mount_root(image, clock.clone(), host.uid, host.gid)?;
    let vfs = Vfs::new(root, MountFlags::default(), b"/dev/vda", clock.clone());
    let pseudo = libos::pseudo::mount_all(&vfs, platform, clock)
        .map_err(|e| HostedError::Layout(format!("cannot mount the pseudo-filesystems: {}", e.name())))?;
    bind_read_only_volumes(&vfs, platform);
    if !cwd.is_empty() {
        vfs.chdir(&libos::vfs::At::Cwd, cwd).map_err(|e| {
            HostedError::Layout(format!("working directory {}: {}", String::from_utf8_lossy(cwd), e.name()))
        })?;
    }
    Ok((vfs, pseudo))
}
