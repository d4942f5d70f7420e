//! Signals sent by the process to itself: kill, tkill, tgkill (what `raise` and
//! `abort` use). Default actions are carried out; delivery to a guest handler is not
//! implemented yet and says so.

use core::sync::atomic::AtomicBool;

use libos::signal::{check_signal, SIG_DFL, SIG_IGN};
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::warn;

static HANDLER_WARNED: AtomicBool = AtomicBool::new(false);

/// Signals whose default action is to do nothing.
fn ignored_by_default(sig: i32) -> bool {
    // SIGCHLD, SIGCONT, SIGURG, SIGWINCH
    matches!(sig, 17 | 18 | 23 | 28)
}

/// Acts on `sig` sent to this process.
fn send_to_self(ctx: &mut Ctx, sig: i32) -> SysResult {
    if sig == 0 {
        return Ok(0);
    }
    check_signal(sig)?;
    let action = ctx.kernel.signals.lock().get(sig).copied().unwrap_or_default();
    let blocked = ctx.thread.sigmask & (1u64 << (sig - 1)) != 0;
    match action.handler {
        SIG_IGN => Ok(0),
        SIG_DFL if ignored_by_default(sig) => Ok(0),
        SIG_DFL if !blocked || sig == 9 || sig == 19 => ctx.kernel.platform.exit_by_signal(sig as u32),
        _ => {
            warn::once(
                ctx.kernel,
                &HANDLER_WARNED,
                format_args!("delivering signals to guest handlers (or leaving them pending) is not implemented yet; kill to self returns ENOSYS"),
            );
            Err(Errno::ENOSYS)
        }
    }
}

/// ESRCH unless `pid` is this process (or its group, 0).
fn check_target(ctx: &Ctx, pid: i32) -> Result<(), Errno> {
    let me = ctx.kernel.identity.pid as i32;
    if pid == me || pid == 0 || pid == -me {
        Ok(())
    } else if pid == -1 {
        // "every process we may signal": only this one exists for the guest.
        Ok(())
    } else {
        Err(Errno::ESRCH)
    }
}

/// ESRCH unless `tid` is a live thread of this process. A signal for another thread
/// is acted on as one for the process: its default action ends the whole process.
fn check_thread(ctx: &Ctx, tid: u32) -> Result<(), Errno> {
    if tid == ctx.thread.tid || ctx.kernel.threads.get(tid).is_some() {
        Ok(())
    } else {
        Err(Errno::ESRCH)
    }
}

pub fn kill(ctx: &mut Ctx, a: &Args) -> SysResult {
    check_target(ctx, a.int(0))?;
    send_to_self(ctx, a.int(1))
}

pub fn tkill(ctx: &mut Ctx, a: &Args) -> SysResult {
    let tid = a.int(0);
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    check_thread(ctx, tid as u32)?;
    send_to_self(ctx, a.int(1))
}

pub fn tgkill(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (tgid, tid) = (a.int(0), a.int(1));
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    if tgid as u32 != ctx.kernel.identity.pid {
        return Err(Errno::ESRCH);
    }
    check_thread(ctx, tid as u32)?;
    send_to_self(ctx, a.int(2))
}
