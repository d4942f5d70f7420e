//! Sending signals: kill, tkill, tgkill (what `raise`, `abort` and `pthread_kill`
//! use), rt_sigqueueinfo and rt_tgsigqueueinfo. The libOS runs one process, so the
//! only process a guest can reach is its own (and its group, `0` or `-pid`).

use libos::siginfo::{code, SigInfo};
use libos::signal::check_signal;
use libos::sigsend::SignalTarget;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

/// ESRCH unless `pid` names this process (or its group; `-1`, "every process we may
/// signal", reaches only this one here).
fn check_process(ctx: &Ctx, pid: i32) -> Result<(), Errno> {
    let me = ctx.kernel.identity.pid as i32;
    if pid == me || pid == 0 || pid == -me || pid == -1 {
        Ok(())
    } else {
        Err(Errno::ESRCH)
    }
}

/// ESRCH unless `tid` is a live thread of this process.
fn check_thread(ctx: &Ctx, tid: u32) -> Result<(), Errno> {
    if tid == ctx.thread.tid || ctx.kernel.threads.get(tid).is_some() {
        Ok(())
    } else {
        Err(Errno::ESRCH)
    }
}

/// What this process sends with `kill`-style `code`.
fn from_self(ctx: &Ctx, sig: u32, code: i32) -> SigInfo {
    SigInfo::sent(sig, code, ctx.kernel.identity.pid, ctx.kernel.identity.uid)
}

/// Sends `sig` (0: only checks the target) to `target`.
fn send(ctx: &Ctx, target: SignalTarget, sig: i32, code: i32) -> SysResult {
    if sig == 0 {
        return Ok(0);
    }
    check_signal(sig)?;
    ctx.kernel.send_signal(target, from_self(ctx, sig as u32, code))?;
    Ok(0)
}

/// The target of a thread-directed call after its checks.
fn thread_target(ctx: &Ctx, tgid: Option<i32>, tid: i32) -> Result<SignalTarget, Errno> {
    if tid <= 0 || tgid.is_some_and(|g| g <= 0) {
        return Err(Errno::EINVAL);
    }
    if tgid.is_some_and(|g| g as u32 != ctx.kernel.identity.pid) {
        return Err(Errno::ESRCH);
    }
    check_thread(ctx, tid as u32)?;
    Ok(SignalTarget::Thread(tid as u32))
}

pub fn kill(ctx: &mut Ctx, a: &Args) -> SysResult {
    check_process(ctx, a.int(0))?;
    send(ctx, SignalTarget::Process, a.int(1), code::SI_USER)
}

pub fn tkill(ctx: &mut Ctx, a: &Args) -> SysResult {
    let target = thread_target(ctx, None, a.int(0))?;
    send(ctx, target, a.int(1), code::SI_TKILL)
}

pub fn tgkill(ctx: &mut Ctx, a: &Args) -> SysResult {
    let target = thread_target(ctx, Some(a.int(0)), a.int(1))?;
    send(ctx, target, a.int(2), code::SI_TKILL)
}

/// The `siginfo` a guest queues itself: Linux lets a process send to itself any
/// `si_code` but those the kernel alone uses (positive ones, and SI_TKILL when the
/// target is another process): EPERM for those.
fn queued_info(ctx: &Ctx, sig: i32, ptr: &Args, index: usize) -> Result<SigInfo, Errno> {
    check_signal(sig)?;
    let mut info = ptr.ptr::<SigInfo>(index).read()?;
    if info.si_code >= 0 || info.si_code == code::SI_TKILL {
        return Err(Errno::EPERM);
    }
    info.si_signo = sig;
    let _ = ctx;
    Ok(info)
}

pub fn rt_sigqueueinfo(ctx: &mut Ctx, a: &Args) -> SysResult {
    check_process(ctx, a.int(0))?;
    let info = queued_info(ctx, a.int(1), a, 2)?;
    ctx.kernel.send_signal(SignalTarget::Process, info)?;
    Ok(0)
}

pub fn rt_tgsigqueueinfo(ctx: &mut Ctx, a: &Args) -> SysResult {
    let target = thread_target(ctx, Some(a.int(0)), a.int(1))?;
    let info = queued_info(ctx, a.int(2), a, 3)?;
    ctx.kernel.send_signal(target, info)?;
    Ok(0)
}
