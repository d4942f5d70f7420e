//! `eventfd`: a 64-bit counter read and written as 8-byte values (Linux's
//! `fs/eventfd.c`).
//!
//! A write adds its value (`u64::MAX` itself is EINVAL) and waits, or gives EAGAIN,
//! while the sum would reach `u64::MAX`; a read takes the whole count (or 1 in
//! semaphore mode) and waits, or gives EAGAIN, while it is 0. Buffers shorter than 8
//! bytes are EINVAL. Poll: readable while the count is not 0, writable while one more
//! can be added, POLLERR if the count ever reached `u64::MAX`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::abi::Stat;
use crate::file::events::{POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::file::File;
use crate::readiness::{Pollee, Readiness};
use crate::sync::Mutex;
use crate::wait::WaitQueue;
use crate::{Errno, SysResult};

/// `EFD_SEMAPHORE`.
pub const EFD_SEMAPHORE: u32 = 1;

/// The inode number of the next eventfd (all anonymous inodes share one on Linux; a
/// counter keeps `/proc/self/fdinfo`-style identity without claiming more).
static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// An eventfd.
pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    /// Readers and writers blocked on the count.
    queue: WaitQueue,
    pollee: Pollee,
    ino: u64,
}

impl EventFd {
    pub fn new(initial: u32, semaphore: bool) -> Arc<EventFd> {
        Arc::new(EventFd {
            count: Mutex::new(u64::from(initial)),
            semaphore,
            queue: WaitQueue::new(),
            pollee: Pollee::new(),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The current count (`/proc/self/fdinfo`'s `eventfd-count`).
    pub fn count(&self) -> u64 {
        *self.count.lock()
    }

    fn changed(&self, events: u16) {
        self.queue.notify();
        self.pollee.notify(events);
    }

    fn try_read(&self) -> Option<u64> {
        let mut c = self.count.lock();
        if *c == 0 {
            return None;
        }
        let v = if self.semaphore { 1 } else { *c };
        *c -= v;
        drop(c);
        self.changed(POLLOUT | POLLWRNORM);
        Some(v)
    }

    fn try_write(&self, v: u64) -> bool {
        let mut c = self.count.lock();
        if u64::MAX - *c <= v {
            return false;
        }
        *c += v;
        drop(c);
        if v > 0 {
            self.changed(POLLIN | POLLRDNORM);
        }
        true
    }
}

/// The read of a file that gives one 8-byte count (eventfd's value, a timerfd's
/// expirations): EINVAL for a shorter buffer; what `take` gives, or EAGAIN when
/// `nonblock` and it gives nothing yet, or else a wait on `queue` until it does.
pub(crate) fn read_count(
    buf: &mut [u8],
    nonblock: bool,
    queue: &WaitQueue,
    take: impl Fn() -> Option<u64>,
) -> SysResult {
    if buf.len() < 8 {
        return Err(Errno::EINVAL);
    }
    let v = match take() {
        Some(v) => v,
        None if nonblock => return Err(Errno::EAGAIN),
        None => queue.wait_until(&take)?,
    };
    buf[..8].copy_from_slice(&v.to_ne_bytes());
    Ok(8)
}

impl File for EventFd {
    fn read(&self, buf: &mut [u8], nonblock: bool) -> SysResult {
        read_count(buf, nonblock, &self.queue, || self.try_read())
    }

    fn write(&self, buf: &[u8], nonblock: bool) -> SysResult {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = u64::from_ne_bytes(buf[..8].try_into().map_err(|_| Errno::EINVAL)?);
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        if !self.try_write(v) {
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.queue.wait_until(|| self.try_write(v).then_some(()))?;
        }
        Ok(8)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_ino: self.ino, st_nlink: 1, st_mode: 0o600, st_blksize: 4096, ..Stat::default() })
    }

    fn poll(&self, events: u16) -> u16 {
        let c = *self.count.lock();
        let mut mask = 0;
        if c > 0 {
            mask |= POLLIN | POLLRDNORM;
        }
        if c == u64::MAX {
            mask |= POLLERR;
        }
        if c < u64::MAX - 1 {
            mask |= POLLOUT | POLLWRNORM;
        }
        mask & events
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Pollee(&self.pollee)
    }

    fn anon_name(&self) -> Option<Vec<u8>> {
        Some(b"anon_inode:[eventfd]".to_vec())
    }
}

#[cfg(test)]
#[path = "eventfd_tests.rs"]
mod tests;
