//! eventfd and eventfd2. The counter itself is `libos::eventfd::EventFd`.

use libos::eventfd::{EventFd, EFD_SEMAPHORE};
use libos::file::{oflags, OpenFile};
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

pub fn eventfd(ctx: &mut Ctx, a: &Args) -> SysResult {
    create(ctx, a.uint(0), 0)
}

pub fn eventfd2(ctx: &mut Ctx, a: &Args) -> SysResult {
    create(ctx, a.uint(0), a.uint(1))
}

/// Flags: `EFD_SEMAPHORE`, `EFD_NONBLOCK` (= `O_NONBLOCK`), `EFD_CLOEXEC`
/// (= `O_CLOEXEC`); anything else is EINVAL.
fn create(ctx: &mut Ctx, initial: u32, flags: u32) -> SysResult {
    if flags & !(EFD_SEMAPHORE | oflags::O_NONBLOCK | oflags::O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let efd = EventFd::new(initial, flags & EFD_SEMAPHORE != 0);
    let open = OpenFile::new(efd, oflags::O_RDWR | (flags & oflags::O_NONBLOCK));
    ctx.kernel.fds.lock().insert(open, flags & oflags::O_CLOEXEC != 0).map(|fd| fd as usize)
}
