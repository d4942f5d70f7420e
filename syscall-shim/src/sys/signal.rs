//! Signal state: rt_sigaction, rt_sigprocmask, sigaltstack.

use libos::abi::{KernelSigaction, StackT};
use libos::signal::{apply_mask, validate_altstack, SS_DISABLE, SS_ONSTACK};
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

const SIGSET_SIZE: usize = 8;

pub fn rt_sigaction(ctx: &mut Ctx, a: &Args) -> SysResult {
    if a.usize(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let new = a.ptr::<KernelSigaction>(1).read_opt()?;
    let old = ctx.kernel.signals.lock().exchange(a.int(0), new)?;
    a.ptr::<KernelSigaction>(2).write_opt(old)?;
    Ok(0)
}

pub fn rt_sigprocmask(ctx: &mut Ctx, a: &Args) -> SysResult {
    if a.usize(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = ctx.thread.sigmask;
    if let Some(set) = a.ptr::<u64>(1).read_opt()? {
        ctx.thread.sigmask = apply_mask(old, a.int(0), set)?;
    }
    a.ptr::<u64>(2).write_opt(old)?;
    Ok(0)
}

pub fn sigaltstack(ctx: &mut Ctx, a: &Args) -> SysResult {
    let current = ctx.thread.altstack;
    // No signal is being handled on it yet (delivery comes with faults and threads).
    let on_it = false;
    if let Some(ss) = a.ptr::<StackT>(0).read_opt()? {
        ctx.thread.altstack = validate_altstack(&ss, on_it)?;
    }
    let mut old = current;
    if old.ss_flags & SS_DISABLE == 0 && on_it {
        old.ss_flags |= SS_ONSTACK;
    }
    a.ptr::<StackT>(1).write_opt(old)?;
    Ok(0)
}
