//! Identity and machine: ids, uname, sysinfo, limits, prctl.

use libos::abi::{Rlimit, Sysinfo, Utsname};
use libos::time::ClockId;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user;

pub fn getpid(ctx: &mut Ctx, _: &Args) -> SysResult {
    Ok(ctx.kernel.identity.pid as usize)
}

pub fn gettid(ctx: &mut Ctx, _: &Args) -> SysResult {
    Ok(ctx.thread.tid as usize)
}

pub fn getppid(ctx: &mut Ctx, _: &Args) -> SysResult {
    Ok(ctx.kernel.identity.ppid as usize)
}

pub fn getuid(ctx: &mut Ctx, _: &Args) -> SysResult {
    Ok(ctx.kernel.identity.uid as usize)
}

pub fn getgid(ctx: &mut Ctx, _: &Args) -> SysResult {
    Ok(ctx.kernel.identity.gid as usize)
}

/// ESRCH unless `pid` names this process (0 = self).
fn check_self(ctx: &Ctx, pid: i32) -> Result<(), Errno> {
    if pid == 0 || pid as u32 == ctx.kernel.identity.pid {
        Ok(())
    } else if pid < 0 {
        Err(Errno::EINVAL)
    } else {
        Err(Errno::ESRCH)
    }
}

/// `getpgid`/`getsid`: the process is its own group and session leader.
pub fn getpgid(ctx: &mut Ctx, a: &Args) -> SysResult {
    check_self(ctx, a.int(0))?;
    Ok(ctx.kernel.identity.pid as usize)
}

pub fn uname(ctx: &mut Ctx, a: &Args) -> SysResult {
    a.ptr::<Utsname>(0).write(libos::ident::uname(&ctx.kernel.host))?;
    Ok(0)
}

pub fn sysinfo(ctx: &mut Ctx, a: &Args) -> SysResult {
    // Linux rounds a part of a second up (`tp.tv_sec + (tp.tv_nsec ? 1 : 0)`): a system
    // up for 0.3 s reports 1.
    let boot = ctx.kernel.platform.now(ClockId::Boottime);
    let uptime = boot.tv_sec + i64::from(boot.tv_nsec != 0);
    a.ptr::<Sysinfo>(0).write(libos::ident::sysinfo(&ctx.kernel.host, uptime))?;
    Ok(0)
}

pub fn getrlimit(ctx: &mut Ctx, a: &Args) -> SysResult {
    let old = ctx.kernel.limits.lock().exchange(a.uint(0), None)?;
    a.ptr::<Rlimit>(1).write(old)?;
    Ok(0)
}

pub fn setrlimit(ctx: &mut Ctx, a: &Args) -> SysResult {
    let new = a.ptr::<Rlimit>(1).read()?;
    ctx.kernel.limits.lock().exchange(a.uint(0), Some(new))?;
    Ok(0)
}

pub fn prlimit64(ctx: &mut Ctx, a: &Args) -> SysResult {
    check_self(ctx, a.int(0))?;
    let new = a.ptr::<Rlimit>(2).read_opt()?;
    let old = ctx.kernel.limits.lock().exchange(a.uint(1), new)?;
    a.ptr::<Rlimit>(3).write_opt(old)?;
    Ok(0)
}

mod pr {
    pub const PR_GET_DUMPABLE: i32 = 3;
    pub const PR_SET_DUMPABLE: i32 = 4;
    pub const PR_SET_NAME: i32 = 15;
    pub const PR_GET_NAME: i32 = 16;
}

pub fn prctl(ctx: &mut Ctx, a: &Args) -> SysResult {
    match a.int(0) {
        pr::PR_SET_NAME => {
            // Linux copies 16 bytes and NUL-terminates at 15.
            let name = match user::read_cstr(a.raw(1), 15) {
                Ok(n) => n,
                Err(Errno::ENAMETOOLONG) => user::slice(a.raw(1), 15)?.to_vec(),
                Err(e) => return Err(e),
            };
            let mut comm = [0u8; 16];
            comm[..name.len().min(15)].copy_from_slice(&name[..name.len().min(15)]);
            *ctx.kernel.comm.lock() = comm;
            Ok(0)
        }
        pr::PR_GET_NAME => {
            let comm = *ctx.kernel.comm.lock();
            user::slice_mut(a.raw(1), 16)?.copy_from_slice(&comm);
            Ok(0)
        }
        pr::PR_GET_DUMPABLE => Ok(1),
        pr::PR_SET_DUMPABLE => match a.raw(1) {
            0 | 1 => Ok(0),
            _ => Err(Errno::EINVAL),
        },
        option => {
            let mut line = alloc::string::String::new();
            let _ = core::fmt::write(
                &mut line,
                format_args!("unify: prctl option {option} is not supported; returning EINVAL"),
            );
            ctx.kernel.platform.log(&line);
            Err(Errno::EINVAL)
        }
    }
}
