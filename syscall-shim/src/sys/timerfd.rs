//! timerfd_create, timerfd_settime and timerfd_gettime. The timer itself is
//! `libos::timerfd::TimerFd`; here the arguments are read and the results written in
//! Linux's order: the new value is read first (EFAULT, also for NULL, before any other
//! check), the old one written only after the timer changed.

use libos::abi::Itimerspec;
use libos::SysResult;

use crate::args::Args;
use crate::table::Ctx;

pub fn timerfd_create(ctx: &mut Ctx, a: &Args) -> SysResult {
    ctx.kernel.timerfd_create(a.int(0), a.uint(1)).map(|fd| fd as usize)
}

pub fn timerfd_settime(ctx: &mut Ctx, a: &Args) -> SysResult {
    let new = a.ptr::<Itimerspec>(2).read()?;
    let old = ctx.kernel.timerfd_settime(a.fd(0), a.int(1), new)?;
    a.ptr::<Itimerspec>(3).write_opt(old)?;
    Ok(0)
}

pub fn timerfd_gettime(ctx: &mut Ctx, a: &Args) -> SysResult {
    let value = ctx.kernel.timerfd_gettime(a.fd(0))?;
    a.ptr::<Itimerspec>(1).write(value)?;
    Ok(0)
}
