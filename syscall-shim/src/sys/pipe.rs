//! Pipes: pipe, pipe2, and the pipe-size fcntls.

use alloc::sync::Arc;

use libos::file::{oflags, OpenFile};
use libos::pipe::PipeEnd;
use libos::time::ClockId;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

/// `O_NOTIFICATION_PIPE` (= `O_EXCL`): a pipe for kernel watch-queue notifications.
const O_NOTIFICATION_PIPE: u32 = 0o200;

pub fn pipe(ctx: &mut Ctx, a: &Args) -> SysResult {
    pipe_common(ctx, a.raw(0), 0)
}

pub fn pipe2(ctx: &mut Ctx, a: &Args) -> SysResult {
    pipe_common(ctx, a.raw(0), a.uint(1))
}

/// Makes a pipe and installs its ends as the two lowest free fds (read end first);
/// `O_DIRECT` makes the write end packet-mode. If the fd pair cannot be stored, both
/// fds are closed again and the call is EFAULT, as on Linux.
fn pipe_common(ctx: &Ctx, fds_addr: u64, flags: u32) -> SysResult {
    let known = oflags::O_CLOEXEC | oflags::O_NONBLOCK | oflags::O_DIRECT | O_NOTIFICATION_PIPE;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & O_NOTIFICATION_PIPE != 0 {
        // What a kernel built without watch queues says.
        return Err(Errno::ENOPKG);
    }
    let k = ctx.kernel;
    let now = k.platform.now(ClockId::Realtime);
    let (r, w) = PipeEnd::pair(now, k.identity.uid, k.identity.gid, flags & oflags::O_DIRECT != 0);
    let nonblock = flags & oflags::O_NONBLOCK;
    let r = OpenFile::new(r, oflags::O_RDONLY | nonblock);
    let w = OpenFile::new(w, oflags::O_WRONLY | nonblock | (flags & oflags::O_DIRECT));
    let cloexec = flags & oflags::O_CLOEXEC != 0;
    let (rfd, wfd) = {
        let mut fds = k.fds.lock();
        let rfd = fds.insert(r, cloexec)?;
        match fds.insert(w, cloexec) {
            Ok(wfd) => (rfd, wfd),
            Err(e) => {
                let _ = fds.remove(rfd);
                return Err(e);
            }
        }
    };
    if a_pair(fds_addr).write([rfd, wfd]).is_err() {
        let mut fds = k.fds.lock();
        let closed = (fds.remove(rfd), fds.remove(wfd));
        drop(fds);
        drop(closed);
        return Err(Errno::EFAULT);
    }
    Ok(0)
}

fn a_pair(addr: u64) -> crate::user::UserPtr<[i32; 2]> {
    crate::user::UserPtr::new(addr)
}

/// The pipe behind a description (`F_GETPIPE_SZ`/`F_SETPIPE_SZ` on anything else is
/// EBADF).
fn pipe_of(open: &Arc<OpenFile>) -> Result<&PipeEnd, Errno> {
    (*open.file).as_any().downcast_ref::<PipeEnd>().ok_or(Errno::EBADF)
}

/// `F_GETPIPE_SZ`.
pub fn get_size(open: &Arc<OpenFile>) -> SysResult {
    Ok(pipe_of(open)?.pipe().capacity())
}

/// `F_SETPIPE_SZ` (the argument is an `unsigned int`); growing past
/// `/proc/sys/fs/pipe-max-size` needs root.
pub fn set_size(ctx: &Ctx, open: &Arc<OpenFile>, arg: u64) -> SysResult {
    let privileged = ctx.kernel.identity.uid == 0;
    pipe_of(open)?.pipe().set_capacity(arg as u32, privileged)
}
