//! Signal state and waiting: rt_sigaction, rt_sigprocmask, sigaltstack, rt_sigpending,
//! rt_sigreturn, rt_sigsuspend, pause, rt_sigtimedwait.

use libos::abi::{KernelSigaction, StackT, Timespec};
use libos::file::OpenFile;
use libos::siginfo::SigInfo;
use libos::signal::{apply_mask, validate_altstack, UNBLOCKABLE};
use libos::signalfd::SignalFd;
use libos::time::ClockId;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::sigframe::{altstack_status, restore_frame};
use crate::table::Ctx;

const SIGSET_SIZE: usize = 8;
const SIGSEGV: u32 = 11;
/// How long one sleep of a signal wait lasts before it looks again (a signal ends it
/// at once; this only bounds a wait whose wake-up the platform could not deliver).
const WAIT_SLICE_NS: u64 = 1_000_000_000;

pub fn rt_sigaction(ctx: &mut Ctx, a: &Args) -> SysResult {
    if a.usize(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let new = a.ptr::<KernelSigaction>(1).read_opt()?;
    let old = ctx.kernel.signals.lock().exchange(a.int(0), new)?;
    if let Some(act) = new {
        // A signal whose action becomes "ignore" (SIG_IGN, or SIG_DFL for a signal
        // ignored by default) is dropped where it is pending.
        let sig = a.int(0) as u32;
        if libos::sigsend::ignores(&act, sig) {
            ctx.kernel.sigpending.lock().discard(sig);
            ctx.thread.shared.pending.lock().discard(sig);
        }
    }
    a.ptr::<KernelSigaction>(2).write_opt(old)?;
    Ok(0)
}

pub fn rt_sigprocmask(ctx: &mut Ctx, a: &Args) -> SysResult {
    if a.usize(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = ctx.thread.sigmask();
    if let Some(set) = a.ptr::<u64>(1).read_opt()? {
        let new = apply_mask(old, a.int(0), set)?;
        ctx.thread.set_sigmask(ctx.kernel, new);
    }
    a.ptr::<u64>(2).write_opt(old)?;
    Ok(0)
}

/// The guest's stack pointer at this syscall, if the platform can tell.
fn guest_sp(ctx: &Ctx) -> Option<u64> {
    ctx.kernel.platform.syscall_context().map(|c| c.regs.rsp)
}

pub fn sigaltstack(ctx: &mut Ctx, a: &Args) -> SysResult {
    let current = ctx.thread.altstack;
    let sp = guest_sp(ctx);
    let status = sp.map_or(current, |sp| altstack_status(&current, sp));
    let on_it = status.ss_flags & libos::signal::SS_ONSTACK != 0;
    if let Some(ss) = a.ptr::<StackT>(0).read_opt()? {
        ctx.thread.altstack = validate_altstack(&ss, on_it)?;
    }
    a.ptr::<StackT>(1).write_opt(status)?;
    Ok(0)
}

pub fn rt_sigpending(ctx: &mut Ctx, a: &Args) -> SysResult {
    let size = a.usize(1);
    if size > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let set = ctx.kernel.pending_for(ctx.thread) & ctx.thread.sigmask();
    crate::user::slice_mut(a.raw(0), size)?.copy_from_slice(&set.to_le_bytes()[..size]);
    Ok(0)
}

/// `rt_sigreturn`: the guest's handler returned through its restorer; the frame it
/// ran on gives back the interrupted registers, mask and alternate stack. A frame
/// the guest cannot read ends it with SIGSEGV, as Linux's `signal_fault` does.
pub fn rt_sigreturn(ctx: &mut Ctx, _a: &Args) -> SysResult {
    let platform = ctx.kernel.platform;
    let Some(current) = platform.syscall_context() else {
        return Err(Errno::ENOSYS);
    };
    match restore_frame(ctx.kernel, ctx.thread, current.regs.rsp, current.regs.eflags) {
        Ok(restored) => {
            platform.resume_with(&restored);
            // As Linux, the "result" is the restored RAX.
            Ok(restored.regs.rax as usize)
        }
        Err(_) => {
            platform.log("unify: rt_sigreturn found no readable signal frame; ending with SIGSEGV");
            platform.exit_by_signal(SIGSEGV)
        }
    }
}

/// Sleeps until a signal the thread does not block is pending; then ERESTARTNOHAND:
/// EINTR once its handler ran.
fn wait_for_any_signal(ctx: &mut Ctx) -> SysResult {
    while !ctx.kernel.signal_deliverable(ctx.thread) {
        let _ = ctx.kernel.platform.sleep(WAIT_SLICE_NS);
    }
    ctx.thread.shared.set_hint();
    Err(Errno::ERESTARTNOHAND)
}

pub fn pause(ctx: &mut Ctx, _a: &Args) -> SysResult {
    wait_for_any_signal(ctx)
}

/// `rt_sigsuspend`: waits with a temporary mask; the frame of the signal that ends
/// it records the mask from before, which rt_sigreturn then restores.
pub fn rt_sigsuspend(ctx: &mut Ctx, a: &Args) -> SysResult {
    if a.usize(1) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask = a.ptr::<u64>(0).read()?;
    let old = ctx.thread.sigmask();
    ctx.thread.set_sigmask(ctx.kernel, mask);
    ctx.thread.saved_sigmask = Some(old);
    wait_for_any_signal(ctx)
}

/// `rt_sigtimedwait`: takes a pending signal of `set` (blocked ones included), or
/// waits for one until the timeout (EAGAIN). A signal outside `set` that the thread
/// does not block ends the wait with EINTR (its handler runs).
pub fn rt_sigtimedwait(ctx: &mut Ctx, a: &Args) -> SysResult {
    if a.usize(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let set = a.ptr::<u64>(0).read()? & !UNBLOCKABLE;
    let timeout = match a.ptr::<Timespec>(2).read_opt()? {
        Some(t) => Some(t.to_nanos().ok_or(Errno::EINVAL)?),
        None => None,
    };
    let platform = ctx.kernel.platform;
    let start = platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0);
    // While waiting, the signals of `set` wake the thread as unblocked ones would.
    ctx.thread.shared.set_waiting_for(set);
    let outcome = loop {
        if let Some(info) = ctx.kernel.take_signal_in(&ctx.thread.shared, set) {
            break Ok(info);
        }
        if ctx.kernel.signal_deliverable(ctx.thread) {
            ctx.thread.shared.set_hint();
            break Err(Errno::EINTR);
        }
        let waited = platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0).saturating_sub(start);
        let left = match timeout {
            Some(t) if waited >= t => break Err(Errno::EAGAIN),
            Some(t) => t - waited,
            None => WAIT_SLICE_NS,
        };
        let _ = platform.sleep(left.min(WAIT_SLICE_NS));
    };
    ctx.thread.shared.set_waiting_for(0);
    let info: SigInfo = outcome?;
    a.ptr::<SigInfo>(1).write_opt(info)?;
    Ok(info.signo() as usize)
}

const SFD_NONBLOCK: u32 = libos::file::oflags::O_NONBLOCK;
const SFD_CLOEXEC: u32 = 0o2000000;

/// `signalfd4`: a new signalfd (`fd` = -1) or a new mask for an existing one.
pub fn signalfd4(ctx: &mut Ctx, a: &Args) -> SysResult {
    let flags = a.uint(3);
    if flags & !(SFD_NONBLOCK | SFD_CLOEXEC) != 0 || a.usize(2) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask = a.ptr::<u64>(1).read()?;
    let fd = a.int(0);
    if fd != -1 {
        let open = ctx.kernel.fds.lock().get(fd)?;
        let sfd = (*open.file).as_any().downcast_ref::<SignalFd>().ok_or(Errno::EINVAL)?;
        sfd.set_mask(mask);
        return Ok(fd as usize);
    }
    let open = OpenFile::new(SignalFd::new(mask), libos::file::oflags::O_RDWR | (flags & SFD_NONBLOCK));
    ctx.kernel.fds.lock().insert(open, flags & SFD_CLOEXEC != 0).map(|fd| fd as usize)
}

/// `signalfd`: `signalfd4` without flags.
pub fn signalfd(ctx: &mut Ctx, a: &Args) -> SysResult {
    let args = Args([a.raw(0), a.raw(1), a.raw(2), 0, 0, 0]);
    signalfd4(ctx, &args)
}
