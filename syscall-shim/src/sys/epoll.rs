//! epoll: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait,
//! epoll_pwait2. The instance itself is `libos::epoll::Epoll`; this file decodes and
//! checks arguments in Linux's order.

use alloc::sync::Arc;
use alloc::vec::Vec;

use libos::abi::{EpollEvent as RawEvent, Timespec};
use libos::epoll::flags::*;
use libos::epoll::{Epoll, EpollEvent};
use libos::file::{oflags, OpenFile};
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user::UserPtr;

/// Linux's `EP_MAX_EVENTS`: `INT_MAX / sizeof(struct epoll_event)`.
const MAX_EVENTS: i32 = i32::MAX / 12;

pub fn epoll_create(ctx: &mut Ctx, a: &Args) -> SysResult {
    if a.int(0) <= 0 {
        return Err(Errno::EINVAL);
    }
    create(ctx, 0)
}

pub fn epoll_create1(ctx: &mut Ctx, a: &Args) -> SysResult {
    let flags = a.uint(0);
    if flags & !EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    create(ctx, flags)
}

fn create(ctx: &mut Ctx, flags: u32) -> SysResult {
    let ep = Epoll::new(ctx.kernel.platform)?;
    let open = OpenFile::new(ep, oflags::O_RDWR);
    ctx.kernel.fds.lock().insert(open, flags & EPOLL_CLOEXEC != 0).map(|fd| fd as usize)
}

/// `epoll_ctl(epfd, op, fd, event)`.
pub fn epoll_ctl(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (epfd, op, fd) = (a.fd(0), a.int(1), a.fd(2));
    let has_event = op != EPOLL_CTL_DEL;
    let event = if has_event {
        let raw = a.ptr::<RawEvent>(3).read()?;
        Some(EpollEvent { events: raw.events, data: raw.data })
    } else {
        None
    };
    let (ep_open, target) = {
        let fds = ctx.kernel.fds.lock();
        (fds.get(epfd)?, fds.get(fd)?)
    };
    if !target.file.supports_epoll() {
        return Err(Errno::EPERM);
    }
    if Arc::ptr_eq(&ep_open, &target) {
        return Err(Errno::EINVAL);
    }
    let ep = Epoll::of(&ep_open).ok_or(Errno::EINVAL)?;
    if let Some(ev) = event.filter(|e| e.events & EPOLLEXCLUSIVE != 0) {
        if op == EPOLL_CTL_MOD {
            return Err(Errno::EINVAL);
        }
        if op == EPOLL_CTL_ADD && (Epoll::of(&target).is_some() || ev.events & !EXCLUSIVE_OK != 0) {
            return Err(Errno::EINVAL);
        }
    }
    ep.ctl(op, fd, &target, event).map(|()| 0)
}

pub fn epoll_wait(ctx: &mut Ctx, a: &Args) -> SysResult {
    let timeout = ms_timeout(a.int(3));
    wait(ctx, a.fd(0), a.raw(1), a.int(2), timeout)
}

pub fn epoll_pwait(ctx: &mut Ctx, a: &Args) -> SysResult {
    let timeout = ms_timeout(a.int(3));
    let mask = super::poll::read_sigmask(a.raw(4), a.usize(5))?;
    let (epfd, events, max) = (a.fd(0), a.raw(1), a.int(2));
    super::poll::with_sigmask(ctx, mask, interrupted, |ctx| wait(ctx, epfd, events, max, timeout))
}

/// `epoll_pwait2`: the timeout is a timespec (null: none; EINVAL if not normalised).
pub fn epoll_pwait2(ctx: &mut Ctx, a: &Args) -> SysResult {
    let timeout = match a.ptr::<Timespec>(3).read_opt()? {
        Some(ts) => Some(ts.to_nanos().ok_or(Errno::EINVAL)?),
        None => None,
    };
    let mask = super::poll::read_sigmask(a.raw(4), a.usize(5))?;
    let (epfd, events, max) = (a.fd(0), a.raw(1), a.int(2));
    super::poll::with_sigmask(ctx, mask, interrupted, |ctx| wait(ctx, epfd, events, max, timeout))
}

/// epoll waits end with plain EINTR on a signal (Linux's `ep_poll`: never restarted).
fn interrupted(r: &SysResult) -> bool {
    *r == Err(Errno::EINTR)
}

fn ms_timeout(ms: i32) -> Option<u64> {
    (ms >= 0).then(|| ms as u64 * 1_000_000)
}

fn wait(ctx: &mut Ctx, epfd: i32, events: u64, max: i32, timeout: Option<u64>) -> SysResult {
    if max <= 0 || max > MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let open = ctx.kernel.fds.lock().get(epfd)?;
    let ep = Epoll::of(&open).ok_or(Errno::EINVAL)?;
    let max = max as usize;
    let mut out = Vec::with_capacity(max.min(64));
    let n = match ep.wait(&mut out, max, timeout) {
        Err(Errno::ERESTARTNOHAND) => return Err(Errno::EINTR),
        other => other?,
    };
    crate::user::write_array(UserPtr::<RawEvent>::new(events), &out)?;
    Ok(n)
}
