//! The guest's filesystem namespace on the hosted platform.

use std::sync::Arc;

use libos::time::ClockId;
use libos::vfs::{Clock, MountFlags, TmpFs, Vfs};
use libos::Platform;

/// The namespace the guest starts in: a tmpfs root with `/tmp`.
pub fn build(platform: &'static dyn Platform) -> Vfs {
    let clock: Clock = Arc::new(move || platform.now(ClockId::Realtime));
    let vfs = Vfs::new(TmpFs::new(clock.clone()), MountFlags::default(), b"rootfs", clock.clone());
    vfs.mount(b"/tmp", TmpFs::new(clock), MountFlags::default(), b"tmpfs").expect("/tmp can be mounted on a new root");
    vfs
}
