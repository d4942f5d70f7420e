//! `poll`/`ppoll` and the wait behind `select`/`pselect6`.
//!
//! Readiness is asked of each file ([`crate::file::File::poll`]); platform files
//! (host sockets, the console) are asked of the platform, all in one go
//! ([`crate::Platform::wait_io`] with a zero timeout). While nothing is ready the call
//! sleeps once, until one of these ends it (see [`crate::readiness`]):
//!
//! - a libOS file it watches notifies its pollee (a [`Waker`] is registered on each);
//! - a platform file becomes ready (the platform waits on its handle);
//! - a file that announces nothing of its own calls [`readiness_changed`], or the
//!   back-off for such files (50 µs doubling to 10 ms) runs out — only when the set
//!   holds one;
//! - the timeout, or a signal for the thread (ERESTARTNOHAND: EINTR once a handler ran,
//!   as Linux's poll).

use alloc::collections::BTreeSet;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use crate::abi::PollFd;
use crate::file::events::{POLLERR, POLLHUP, POLLNVAL};
use crate::file::OpenFile;
use crate::kernel::Kernel;
use crate::platform::IoWait;
use crate::readiness::{Observer, Readiness, Registrations, Waker, ANYTHING};
use crate::time::ClockId;
use crate::{Errno, SysResult};

const MIN_BACKOFF_NS: u64 = 50_000;
const MAX_BACKOFF_NS: u64 = 10_000_000;

/// Wakes waits that include files which announce no changes of their own: call after
/// a change that can make such a file ready.
pub fn readiness_changed() {
    crate::readiness::readiness_changed();
}

/// One fd of a wait: the events wanted (POLLERR and POLLHUP are always reported) and,
/// after the wait, those found ([`POLLNVAL`] for an fd that is not open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollItem {
    pub fd: i32,
    pub events: u16,
    pub revents: u16,
}

/// `poll`: fills in `revents` and returns how many entries have any; waits up to
/// `timeout_ns` (`None` = forever) while none does.
pub fn poll(kernel: &Kernel, fds: &mut [PollFd], timeout_ns: Option<u64>) -> SysResult {
    let mut items: Vec<PollItem> =
        fds.iter().map(|p| PollItem { fd: p.fd, events: p.events as u16, revents: 0 }).collect();
    let ready = wait(kernel, &mut items, POLLERR | POLLHUP, timeout_ns)?;
    for (p, it) in fds.iter_mut().zip(&items) {
        p.revents = it.revents as i16;
    }
    Ok(ready)
}

/// Waits until one of `items` has events (negative fds are skipped), up to
/// `timeout_ns`; returns how many have. `implicit` events count for every item
/// besides its own (`poll` reports POLLERR and POLLHUP always; `select` asks for
/// exactly what its sets mean). ERESTARTNOHAND when a signal ends the wait.
pub fn wait(kernel: &Kernel, items: &mut [PollItem], implicit: u16, timeout_ns: Option<u64>) -> SysResult {
    let platform = kernel.platform;
    let deadline = timeout_ns.map(|t| now_ns(kernel).saturating_add(t));
    let waker = Waker::new();
    let observer: Weak<dyn Observer> = Arc::downgrade(&(waker.clone() as Arc<dyn Observer>));
    let _waiting = waker.queue.enter();
    let mut regs = Registrations::new();
    let mut seen = BTreeSet::new();
    let mut backoff = MIN_BACKOFF_NS;
    loop {
        platform.settle_io();
        let seq = waker.queue.seq();
        let scan = scan(kernel, items, implicit, &mut regs, &mut seen, &observer);
        let mut io = scan.io;
        if !io.is_empty() {
            // Every platform file at once, without waiting.
            let looked = platform.wait_io(waker.queue.word(), seq, &mut io, Some(0));
            if looked.is_ok() {
                for (w, &i) in io.iter().zip(&scan.io_items) {
                    if let Some(it) = items.get_mut(i) {
                        let wanted = it.events | implicit;
                        it.revents = w.revents & (wanted | POLLNVAL);
                    }
                }
            }
        }
        let ready = items.iter().filter(|it| it.revents != 0).count();
        if ready > 0 {
            return Ok(ready);
        }
        let remaining = match deadline {
            Some(d) => match d.checked_sub(now_ns(kernel)) {
                Some(r) if r > 0 => Some(r),
                _ => return Ok(0),
            },
            None => None,
        };
        if platform.interrupted() {
            return Err(Errno::ERESTARTNOHAND);
        }
        let sleep = if scan.unannounced { Some(remaining.map_or(backoff, |r| r.min(backoff))) } else { remaining };
        for w in io.iter_mut() {
            w.revents = 0;
        }
        if platform.wait_io(waker.queue.word(), seq, &mut io, sleep) == Err(Errno::EINTR) {
            return Err(Errno::ERESTARTNOHAND);
        }
        backoff = (backoff * 2).min(MAX_BACKOFF_NS);
    }
}

/// What one pass over the fds found besides their events.
struct Scan {
    /// Platform handles to ask (and wait on).
    io: Vec<IoWait>,
    /// For each of `io`, the item it answers for (`usize::MAX`: only waited on, the
    /// file itself answers in the next pass).
    io_items: Vec<usize>,
    /// A file in the set announces nothing.
    unannounced: bool,
}

fn scan(
    kernel: &Kernel,
    items: &mut [PollItem],
    implicit: u16,
    regs: &mut Registrations,
    seen: &mut BTreeSet<usize>,
    observer: &Weak<dyn Observer>,
) -> Scan {
    let mut out = Scan { io: Vec::new(), io_items: Vec::new(), unannounced: false };
    let table = kernel.fds.lock();
    let files: Vec<Option<Arc<OpenFile>>> =
        items.iter().map(|it| if it.fd < 0 { None } else { table.get(it.fd).ok() }).collect();
    drop(table);
    for (i, (it, open)) in items.iter_mut().zip(files).enumerate() {
        it.revents = 0;
        if it.fd < 0 {
            continue;
        }
        let Some(open) = open else {
            it.revents = POLLNVAL;
            continue;
        };
        let wanted = it.events | implicit;
        let readiness = open.file.readiness();
        if let Readiness::Platform(handle) = readiness {
            out.io.push(IoWait { handle, events: wanted, revents: 0 });
            out.io_items.push(i);
            continue;
        }
        if seen.insert(Arc::as_ptr(&open) as *const () as usize) {
            match readiness {
                Readiness::Pollee(_) | Readiness::Both(..) => regs.add_file(&open, observer.clone()),
                Readiness::Unannounced => regs.add_static(&ANYTHING, observer.clone()),
                _ => {}
            }
        }
        match readiness {
            Readiness::Both(_, handle) => {
                out.io.push(IoWait { handle, events: wanted, revents: 0 });
                out.io_items.push(usize::MAX);
            }
            Readiness::Unannounced => out.unannounced = true,
            _ => {}
        }
        it.revents = open.file.poll(wanted) & wanted;
    }
    out
}

fn now_ns(kernel: &Kernel) -> u64 {
    kernel.platform.now(ClockId::Monotonic).to_nanos().unwrap_or(0)
}

#[cfg(test)]
#[path = "poll_tests.rs"]
mod tests;
