//! Process and thread lifetime: exit, exit_group, arch_prctl, set_tid_address,
//! robust lists.

use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

/// Where the trampoline finds the guest's FS base when it returns to the guest; the
/// platform reads `Thread::fs_base` after every syscall.
mod arch {
    pub const ARCH_SET_GS: i32 = 0x1001;
    pub const ARCH_SET_FS: i32 = 0x1002;
    pub const ARCH_GET_FS: i32 = 0x1003;
    pub const ARCH_GET_GS: i32 = 0x1004;
}

/// The end of the canonical lower half: FS/GS bases at or beyond it are refused (EPERM).
const USER_ADDR_MAX: u64 = 0x0000_7fff_ffff_f000;

pub fn exit(ctx: &mut Ctx, a: &Args) -> SysResult {
    ctx.kernel.platform.exit_process(a.int(0) & 0xff)
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
    ctx.thread.robust_list = (a.raw(0), a.raw(1));
    Ok(0)
}

pub fn get_robust_list(ctx: &mut Ctx, a: &Args) -> SysResult {
    let pid = a.int(0);
    if pid != 0 && pid as u32 != ctx.thread.tid {
        return Err(Errno::ESRCH);
    }
    a.ptr::<u64>(1).write(ctx.thread.robust_list.0)?;
    a.ptr::<u64>(2).write(ROBUST_LIST_HEAD_SIZE as u64)?;
    Ok(0)
}
