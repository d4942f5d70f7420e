//! Scheduling: sched_yield, CPU affinity, policy queries, getcpu, membarrier.
//!
//! A `pid` argument names a thread (0: the caller), as on Linux; the process id names
//! the first thread.

use core::sync::atomic::AtomicBool;

use libos::cpuset::CpuSet;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user;
use crate::warn;

pub fn sched_yield(ctx: &mut Ctx, _: &Args) -> SysResult {
    ctx.kernel.platform.yield_now();
    Ok(0)
}

/// The platform's handle for thread `pid` (`None`: the caller); ESRCH for a tid that is
/// not a live thread of this process.
fn target(ctx: &Ctx, pid: i32) -> Result<Option<u64>, Errno> {
    if pid == 0 || pid as u32 == ctx.thread.tid {
        return Ok(None);
    }
    let tid = u32::try_from(pid).map_err(|_| Errno::ESRCH)?;
    let thread = ctx.kernel.threads.get(tid).ok_or(Errno::ESRCH)?;
    // A thread being started has a tid before the platform has recorded its handle.
    loop {
        if let Some(id) = thread.platform_id() {
            return Ok(Some(id));
        }
        ctx.kernel.platform.yield_now();
    }
}

pub fn sched_getaffinity(ctx: &mut Ctx, a: &Args) -> SysResult {
    let len = a.usize(1);
    // Linux: EINVAL for a buffer too small for nr_cpu_ids or not made of longs.
    let own = ctx.kernel.platform.affinity(None)?;
    if len.saturating_mul(8) < own.span() || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let thread = target(ctx, a.int(0))?;
    let set = if thread.is_none() { own } else { ctx.kernel.platform.affinity(thread)? };
    let n = len.min(set.size);
    user::slice_mut(a.raw(2), n)?.copy_from_slice(&set.bytes()[..n]);
    Ok(n)
}

pub fn sched_setaffinity(ctx: &mut Ctx, a: &Args) -> SysResult {
    // Shorter masks are zero-extended, longer ones cut to the kernel's size.
    let size = ctx.kernel.platform.affinity(None)?.size;
    let len = a.usize(1).min(size);
    let mut set = CpuSet::empty(size);
    set.set_bytes(user::slice(a.raw(2), len)?);
    let thread = target(ctx, a.int(0))?;
    ctx.kernel.platform.set_affinity(thread, &set)?;
    Ok(0)
}

/// `SCHED_OTHER`: the only policy unify's threads have.
const SCHED_OTHER: usize = 0;

pub fn sched_getscheduler(ctx: &mut Ctx, a: &Args) -> SysResult {
    let pid = a.int(0);
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    target(ctx, pid)?;
    Ok(SCHED_OTHER)
}

pub fn sched_getparam(ctx: &mut Ctx, a: &Args) -> SysResult {
    let pid = a.int(0);
    if a.raw(1) == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    target(ctx, pid)?;
    // struct sched_param { int sched_priority; }: 0 for SCHED_OTHER.
    a.ptr::<i32>(1).write(0)?;
    Ok(0)
}

pub fn getcpu(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (cpu, node) = ctx.kernel.platform.current_cpu();
    // Linux tries both and reports EFAULT if either failed.
    let r1 = a.ptr::<u32>(0).write_opt(cpu);
    let r2 = a.ptr::<u32>(1).write_opt(node);
    r1.and(r2)?;
    Ok(0)
}

/// `membarrier` commands.
mod cmd {
    pub const QUERY: i32 = 0;
    pub const GLOBAL: i32 = 1;
    pub const PRIVATE_EXPEDITED: i32 = 1 << 3;
    pub const REGISTER_PRIVATE_EXPEDITED: i32 = 1 << 4;
    pub const PRIVATE_EXPEDITED_RSEQ: i32 = 1 << 7;
    pub const FLAG_CPU: u32 = 1;
    /// What unify offers, as `MEMBARRIER_CMD_QUERY` reports it.
    pub const SUPPORTED: i32 = GLOBAL | PRIVATE_EXPEDITED | REGISTER_PRIVATE_EXPEDITED;
}

static MEMBARRIER_WARNED: AtomicBool = AtomicBool::new(false);

pub fn membarrier(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (command, flags) = (a.int(0), a.uint(1));
    let flags_ok = if command == cmd::PRIVATE_EXPEDITED_RSEQ { flags & !cmd::FLAG_CPU == 0 } else { flags == 0 };
    if !flags_ok {
        return Err(Errno::EINVAL);
    }
    let k = ctx.kernel;
    match command {
        cmd::QUERY => Ok(cmd::SUPPORTED as usize),
        cmd::GLOBAL => k.platform.membarrier(true).map(|()| 0),
        cmd::REGISTER_PRIVATE_EXPEDITED => {
            k.threads.register_membarrier_private();
            Ok(0)
        }
        cmd::PRIVATE_EXPEDITED if !k.threads.membarrier_private_registered() => Err(Errno::EPERM),
        cmd::PRIVATE_EXPEDITED => k.platform.membarrier(false).map(|()| 0),
        _ => {
            // A command a kernel does not have gives EINVAL; QUERY does not list these.
            warn::once(
                k,
                &MEMBARRIER_WARNED,
                format_args!("membarrier command {command} is not offered (QUERY lists what is); returning EINVAL"),
            );
            Err(Errno::EINVAL)
        }
    }
}
