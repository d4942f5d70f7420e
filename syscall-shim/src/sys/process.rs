//! Thread and process lifetime: exit, exit_group, arch_prctl, set_tid_address, robust
//! lists.

use libos::thread::ThreadExit;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::sys::futex::wake_one_shared;
use crate::sys::robust::exit_robust_list;
use crate::table::Ctx;
use crate::user::UserPtr;

/// Where the trampoline finds the guest's FS base when it returns to the guest; the
/// platform reads `Thread::fs_base` after every syscall.
mod arch {
    pub const ARCH_SET_GS: i32 = 0x1001;
    pub const ARCH_SET_FS: i32 = 0x1002;
    pub const ARCH_GET_FS: i32 = 0x1003;
    pub const ARCH_GET_GS: i32 = 0x1004;
}

/// The end of the canonical lower half: FS/GS bases at or beyond it are refused (EPERM).
const USER_ADDR_MAX: u64 = libos::clone::USER_ADDR_MAX;

/// Ends the calling thread, as Linux's `do_exit` does for one thread: its robust locks
/// are marked dead, its `clear_child_tid` word is zeroed and a waiter woken (how
/// `pthread_join` learns of it), and the process ends only if it was the last thread.
pub fn exit(ctx: &mut Ctx, a: &Args) -> SysResult {
    let status = a.int(0) & 0xff;
    if let ThreadExit::Last(process_status) = ctx.kernel.threads.exit(ctx.thread.tid, status) {
        // Nobody is left to see robust locks or the tid word (Linux skips both too).
        ctx.kernel.platform.exit_process(process_status);
    }
    exit_robust_list(ctx);
    let ctid = ctx.thread.clear_child_tid;
    if ctid != 0 {
        // Linux ignores a bad pointer here.
        let _ = UserPtr::<u32>::new(ctid).write(0);
        wake_one_shared(ctx.kernel, ctid);
    }
    ctx.kernel.platform.exit_thread(status)
}

/// Ends the process (the platform flushes files first: `Kernel::flush_for_exit`).
pub fn exit_group(ctx: &mut Ctx, a: &Args) -> SysResult {
    ctx.kernel.platform.exit_process(a.int(0) & 0xff)
}

pub fn arch_prctl(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (code, addr) = (a.int(0), a.raw(1));
    match code {
        arch::ARCH_SET_FS => {
            if addr >= USER_ADDR_MAX {
                return Err(Errno::EPERM);
            }
            ctx.thread.fs_base = addr;
            Ok(0)
        }
        arch::ARCH_GET_FS => {
            a.ptr::<u64>(1).write(ctx.thread.fs_base)?;
            Ok(0)
        }
        arch::ARCH_GET_GS => {
            a.ptr::<u64>(1).write(ctx.thread.gs_base)?;
            Ok(0)
        }
        arch::ARCH_SET_GS => {
            // The libOS keeps its per-thread state behind GS on the hosted platform.
            let mut line = alloc::string::String::new();
            let _ = core::fmt::write(
                &mut line,
                format_args!("unify: arch_prctl(ARCH_SET_GS) is not supported; returning EINVAL"),
            );
            ctx.kernel.platform.log(&line);
            Err(Errno::EINVAL)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn set_tid_address(ctx: &mut Ctx, a: &Args) -> SysResult {
    ctx.thread.clear_child_tid = a.raw(0);
    Ok(ctx.thread.tid as usize)
}

/// `sizeof(struct robust_list_head)`.
const ROBUST_LIST_HEAD_SIZE: usize = 24;

pub fn set_robust_list(ctx: &mut Ctx, a: &Args) -> SysResult {
    if a.usize(1) != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    ctx.thread.set_robust_list(a.raw(0), a.raw(1));
    Ok(0)
}

pub fn get_robust_list(ctx: &mut Ctx, a: &Args) -> SysResult {
    let pid = a.int(0);
    let head = if pid == 0 || pid as u32 == ctx.thread.tid {
        ctx.thread.robust_list.0
    } else {
        let other = u32::try_from(pid).ok().and_then(|tid| ctx.kernel.threads.get(tid)).ok_or(Errno::ESRCH)?;
        other.robust_head()
    };
    a.ptr::<u64>(2).write(ROBUST_LIST_HEAD_SIZE as u64)?;
    a.ptr::<u64>(1).write(head)?;
    Ok(0)
}
