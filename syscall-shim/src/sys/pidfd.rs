//! pidfd_open, pidfd_send_signal and pidfd_getfd: the rules are `libos::pidfd`'s; this
//! decodes the arguments, reads the caller's `siginfo` and installs new fds (always
//! close-on-exec, as Linux makes them).

use libos::file::OpenFile;
use libos::pidfd::{self, send_flags};
use libos::siginfo::SigInfo;
use libos::{Errno, SysResult};

use alloc::sync::Arc;

use crate::args::Args;
use crate::table::Ctx;

fn install(ctx: &Ctx, open: Arc<OpenFile>) -> SysResult {
    ctx.kernel.fds.lock().insert(open, true).map(|fd| fd as usize)
}

pub fn pidfd_open(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = pidfd::open(ctx.kernel, a.int(0), a.uint(1))?;
    install(ctx, open)
}

/// Linux's order: the flags, the pidfd (EBADF), the `siginfo` (EFAULT, then its checks),
/// the target (ESRCH), the signal number (EINVAL).
pub fn pidfd_send_signal(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (fd, sig, flags) = (a.int(0), a.int(1), a.uint(3));
    if flags & !send_flags::ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let chosen = pidfd::scope_of_flags(flags)?;
    let (target, own_scope) = pidfd::signal_target(ctx.kernel, &ctx.thread.shared, fd)?;
    let scope = chosen.unwrap_or(own_scope);
    let given = a.ptr::<SigInfo>(2).read_opt()?;
    let info = pidfd::signal_info(ctx.kernel, ctx.thread.tid, &target, scope, sig, given)?;
    pidfd::send_signal(ctx.kernel, &target, scope, sig, info)?;
    Ok(0)
}

pub fn pidfd_getfd(ctx: &mut Ctx, a: &Args) -> SysResult {
    let open = pidfd::getfd(ctx.kernel, a.int(0), a.int(1), a.uint(2))?;
    install(ctx, open)
}
