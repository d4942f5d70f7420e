//! The guest's filesystem namespace on the hosted platform.

use std::sync::Arc;

use libos::pseudo::PseudoMounts;
use libos::time::ClockId;
use libos::vfs::{Clock, MountFlags, TmpFs, Vfs};
use libos::Platform;

/// The namespace the guest starts in: a tmpfs root with the pseudo-filesystems
/// (`/dev`, `/proc`, `/sys`, `/tmp`, `/etc`), and what procfs needs once the kernel
/// exists.
pub fn build(platform: &'static dyn Platform) -> (Vfs, PseudoMounts) {
    let clock: Clock = Arc::new(move || platform.now(ClockId::Realtime));
    let vfs = Vfs::new(TmpFs::new(clock.clone()), MountFlags::default(), b"rootfs", clock.clone());
    let pseudo = libos::pseudo::mount_all(&vfs, platform, clock).expect("the pseudo-filesystems mount on a new root");
    (vfs, pseudo)
}
