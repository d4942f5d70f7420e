//! Timers: `alarm`, `setitimer`/`getitimer` and the POSIX timers. The rules live in
//! [`libos::timers`]; here the arguments are read and the results written, in Linux's
//! order (the new value is read before anything is checked; the old one is written
//! after the timer changed, so an EFAULT there leaves it changed, as on Linux).

use libos::abi::{Itimerspec, Itimerval, Sigevent};
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

pub fn alarm(ctx: &mut Ctx, a: &Args) -> SysResult {
    Ok(ctx.kernel.alarm(a.uint(0)) as usize)
}

pub fn getitimer(ctx: &mut Ctx, a: &Args) -> SysResult {
    let value = ctx.kernel.getitimer(a.int(0))?;
    a.ptr::<Itimerval>(1).write(value)?;
    Ok(0)
}

/// A NULL new value disarms (a misfeature Linux still accepts, with a warning).
pub fn setitimer(ctx: &mut Ctx, a: &Args) -> SysResult {
    let new = a.ptr::<Itimerval>(1).read_opt()?.unwrap_or_default();
    let old = ctx.kernel.setitimer(a.int(0), new)?;
    a.ptr::<Itimerval>(2).write_opt(old)?;
    Ok(0)
}

/// The id is written last; if that fails the timer is deleted again (its id stays
/// used up, as on Linux).
pub fn timer_create(ctx: &mut Ctx, a: &Args) -> SysResult {
    let event = a.ptr::<Sigevent>(1).read_opt()?;
    let id = ctx.kernel.timer_create(a.int(0), event)?;
    if let Err(e) = a.ptr::<i32>(2).write(id) {
        let _ = ctx.kernel.timer_delete(id);
        return Err(e);
    }
    Ok(0)
}

pub fn timer_settime(ctx: &mut Ctx, a: &Args) -> SysResult {
    let new = a.ptr::<Itimerspec>(2);
    if new.is_null() {
        return Err(Errno::EINVAL);
    }
    let old = ctx.kernel.timer_settime(a.int(0), a.int(1), new.read()?)?;
    a.ptr::<Itimerspec>(3).write_opt(old)?;
    Ok(0)
}

pub fn timer_gettime(ctx: &mut Ctx, a: &Args) -> SysResult {
    let value = ctx.kernel.timer_gettime(a.int(0))?;
    a.ptr::<Itimerspec>(1).write(value)?;
    Ok(0)
}

pub fn timer_getoverrun(ctx: &mut Ctx, a: &Args) -> SysResult {
    Ok(ctx.kernel.timer_getoverrun(a.int(0))? as usize)
}

pub fn timer_delete(ctx: &mut Ctx, a: &Args) -> SysResult {
    ctx.kernel.timer_delete(a.int(0))?;
    Ok(0)
}
