//! Pipes: `pipe`/`pipe2` and named FIFOs.
//!
//! A [`Pipe`] is Linux's pipe, slot for slot. Its data sits in a ring of at most
//! `slots` page-sized buffers (16 by default: 64 KiB, `F_GETPIPE_SZ`), and the rules
//! that programs can observe follow from that layout exactly as on Linux:
//!
//! - A write first tops up the last buffer, but only with the part of the write that
//!   does not fill a whole page (`len % 4096`) and only if all of it fits there; the
//!   rest goes into fresh buffers of up to a page each. A write of at most a page
//!   (`PIPE_BUF`) therefore lands in one buffer: it is atomic, never interleaved with
//!   another writer's data.
//! - The pipe is full when every slot holds a buffer, however little is in each: then a
//!   blocking writer waits and a non-blocking one gets EAGAIN (or its partial count).
//!   `poll` reports `POLLOUT` exactly when a slot is free.
//! - A read takes what is there (up to its length) and never waits for more; it waits
//!   only on an empty pipe with writers left, and an empty pipe without writers is the
//!   end of file. A write with no readers left is EPIPE (the syscall layer turns that
//!   into SIGPIPE).
//! - Packet mode (`O_DIRECT`): each buffer a packet-mode writer fills is one packet; a
//!   read consumes at most one packet and drops what of it did not fit.
//!
//! Blocking uses two [`WaitQueue`]s, one for readers and one for writers: every change
//! notifies the other side, so a reader blocked in one thread is woken by a writer in
//! another. [`crate::poll`] is told about every change too.
//!
//! The two ends are [`PipeEnd`] files (`end.rs`); a FIFO in the filesystem opens onto a
//! pipe shared by everyone who has it open (`fifo.rs`).

mod end;
pub mod fifo;
#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

pub use end::PipeEnd;

use crate::abi::Timespec;
use crate::file::events::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::readiness::Pollee;
use crate::wait::WaitQueue;
use crate::{Errno, SysResult};

/// The events a change concerns: data came (readers), room came (writers), both.
const FOR_READERS: u16 = POLLIN | POLLRDNORM;
const FOR_WRITERS: u16 = POLLOUT | POLLWRNORM;

/// The size of one pipe buffer, and `PIPE_BUF`: writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
/// Buffers in a new pipe (64 KiB).
pub const DEFAULT_SLOTS: usize = 16;
/// `/proc/sys/fs/pipe-max-size`: the largest `F_SETPIPE_SZ` without privilege.
pub const PIPE_MAX_SIZE: usize = 1 << 20;

/// The `st_ino` of the next pipe.
static NEXT_INO: AtomicU64 = AtomicU64::new(4000);

/// The device number of pipefs (where anonymous pipes live).
pub fn pipefs_dev() -> u64 {
    static DEV: spin::Once<u64> = spin::Once::new();
    *DEV.call_once(crate::vfs::mount::anon_dev)
}

/// One page-sized buffer of the ring.
struct Buf {
    data: Vec<u8>,
    /// Bytes already read from the front.
    off: usize,
    /// Written by a packet-mode writer: read whole or not at all.
    packet: bool,
}

impl Buf {
    fn len(&self) -> usize {
        self.data.len() - self.off
    }
}

/// What the pipe's lock protects.
struct State {
    bufs: VecDeque<Buf>,
    slots: usize,
    readers: usize,
    writers: usize,
    /// How many times a reader / writer end was opened: a FIFO opener waits for the
    /// other count to move, and a FIFO reader reports `POLLHUP` only once a writer came
    /// and went since it opened.
    r_counter: u32,
    w_counter: u32,
}

impl State {
    fn full(&self) -> bool {
        self.bufs.len() >= self.slots
    }

    fn bytes(&self) -> usize {
        self.bufs.iter().map(Buf::len).sum()
    }

    /// Copies from the front into `out`, as `pipe_read` does; returns the count.
    fn take(&mut self, out: &mut [u8]) -> usize {
        let mut done = 0;
        while done < out.len() {
            let Some(buf) = self.bufs.front_mut() else { break };
            let n = buf.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&buf.data[buf.off..buf.off + n]);
            done += n;
            buf.off += n;
            let packet = buf.packet;
            if packet || buf.len() == 0 {
                self.bufs.pop_front();
            }
            if packet {
                break;
            }
        }
        done
    }

    /// Copies as much of `data` as the rules allow (see the module docs); `merge` says
    /// whether this is the write's first attempt, the only one allowed to top up the
    /// last buffer. Returns the count taken.
    fn put(&mut self, data: &[u8], merge: bool, packet: bool) -> usize {
        let mut done = 0;
        let partial = data.len() % PIPE_BUF;
        if merge && partial != 0 {
            if let Some(last) = self.bufs.back_mut() {
                if !last.packet && last.data.len() + partial <= PIPE_BUF {
                    last.data.extend_from_slice(&data[..partial]);
                    done = partial;
                }
            }
        }
        while done < data.len() && !self.full() {
            let n = (data.len() - done).min(PIPE_BUF);
            let mut page = Vec::with_capacity(PIPE_BUF);
            page.extend_from_slice(&data[done..done + n]);
            self.bufs.push_back(Buf { data: page, off: 0, packet });
            done += n;
        }
        done
    }
}

/// A pipe: the ring, its ends' counts, and the queues its users wait on.
pub struct Pipe {
    state: spin::Mutex<State>,
    /// Readers wait here for data or for the last writer to go.
    readable: WaitQueue,
    /// Writers (and FIFO openers) wait here for room or for the last reader to go.
    writable: WaitQueue,
    /// Pollers and epoll instances hear about changes here, with the events each
    /// concerns (as Linux's pipe wakes readers with EPOLLIN and writers with EPOLLOUT).
    pollee: Pollee,
    ino: u64,
    /// Creation time: what `fstat` shows for all three times.
    created: Timespec,
    uid: u32,
    gid: u32,
}

impl Pipe {
    /// An empty pipe with no ends yet, created at `now` by `uid`/`gid`.
    pub fn new(now: Timespec, uid: u32, gid: u32) -> Pipe {
        Pipe {
            state: spin::Mutex::new(State {
                bufs: VecDeque::new(),
                slots: DEFAULT_SLOTS,
                readers: 0,
                writers: 0,
                r_counter: 0,
                w_counter: 0,
            }),
            readable: WaitQueue::new(),
            writable: WaitQueue::new(),
            pollee: Pollee::new(),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            created: now,
            uid,
            gid,
        }
    }

    /// The pipefs inode number (`st_ino`, `pipe:[ino]`).
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// Bytes waiting to be read (`FIONREAD`).
    pub fn available(&self) -> usize {
        self.state.lock().bytes()
    }

    /// The capacity in bytes (`F_GETPIPE_SZ`).
    pub fn capacity(&self) -> usize {
        self.state.lock().slots * PIPE_BUF
    }

    /// `F_SETPIPE_SZ`: rounds `size` up to a power-of-two number of pages (at least
    /// one) and returns the new capacity. EINVAL beyond 2 GiB, EPERM above
    /// [`PIPE_MAX_SIZE`] for an unprivileged caller growing the pipe, EBUSY if the data
    /// in the pipe would not fit.
    pub fn set_capacity(&self, size: u32, privileged: bool) -> SysResult {
        let size = size as usize;
        if size > 1 << 31 {
            return Err(Errno::EINVAL);
        }
        let size = size.max(PIPE_BUF).next_power_of_two();
        let slots = size / PIPE_BUF;
        let mut st = self.state.lock();
        if slots > st.slots && size > PIPE_MAX_SIZE && !privileged {
            return Err(Errno::EPERM);
        }
        if st.bufs.len() > slots {
            return Err(Errno::EBUSY);
        }
        st.slots = slots;
        drop(st);
        self.changed(FOR_READERS | FOR_WRITERS);
        Ok(slots * PIPE_BUF)
    }

    /// Wakes both sides, and the pollers interested in `events` (none: 0), after a
    /// change.
    fn changed(&self, events: u16) {
        self.readable.notify();
        self.writable.notify();
        if events != 0 {
            self.pollee.notify(events);
        }
    }

    /// Where the pipe's readiness changes are announced.
    pub fn pollee(&self) -> &Pollee {
        &self.pollee
    }

    /// `read(2)` on a read end.
    pub fn read(&self, out: &mut [u8], nonblock: bool) -> SysResult {
        if out.is_empty() {
            return Ok(0);
        }
        self.readable.wait_until(|| {
            let mut st = self.state.lock();
            let was_full = st.full();
            let n = st.take(out);
            if n > 0 {
                drop(st);
                // Writers hear of room only when there was none, as Linux's pipe_read
                // wakes them (an edge-triggered EPOLLOUT comes back only then).
                self.changed(if was_full { FOR_WRITERS } else { 0 });
                return Some(Ok(n));
            }
            if st.writers == 0 {
                return Some(Ok(0));
            }
            if nonblock {
                return Some(Err(Errno::EAGAIN));
            }
            None
        })?
    }

    /// `write(2)` on a write end; `packet` for a description in packet mode.
    pub fn write(&self, data: &[u8], nonblock: bool, packet: bool) -> SysResult {
        if data.is_empty() {
            return Ok(0);
        }
        let mut done = 0;
        let mut first = true;
        let outcome = self.writable.wait_until(|| {
            let mut st = self.state.lock();
            if st.readers == 0 {
                return Some(if done == 0 { Err(Errno::EPIPE) } else { Ok(done) });
            }
            let n = st.put(&data[done..], first, packet);
            first = false;
            done += n;
            drop(st);
            if n > 0 {
                self.changed(FOR_READERS);
            }
            if done == data.len() {
                return Some(Ok(done));
            }
            if nonblock {
                return Some(if done == 0 { Err(Errno::EAGAIN) } else { Ok(done) });
            }
            None
        });
        match outcome {
            // Interrupted after some bytes went in: the write returns that count.
            Err(_) if done > 0 => Ok(done),
            other => other?,
        }
    }

    /// Copies up to `out.len()` bytes from the front without consuming them (`tee`):
    /// waits for data like [`Pipe::read`], and returns 0 at the end of file.
    pub fn peek(&self, out: &mut [u8], nonblock: bool) -> SysResult {
        self.readable.wait_until(|| {
            let st = self.state.lock();
            let mut done = 0;
            for buf in &st.bufs {
                let n = buf.len().min(out.len() - done);
                out[done..done + n].copy_from_slice(&buf.data[buf.off..buf.off + n]);
                done += n;
                if done == out.len() {
                    break;
                }
            }
            if done > 0 || st.writers == 0 {
                return Some(Ok(done));
            }
            nonblock.then_some(Err(Errno::EAGAIN))
        })?
    }

    /// Waits until the pipe has a free buffer (or, with `nonblock`, EAGAIN if it has
    /// none) and returns how many bytes surely fit: `splice` into a pipe moves no more
    /// than that. EPIPE once there are no readers.
    pub fn wait_room(&self, nonblock: bool) -> SysResult {
        self.writable.wait_until(|| {
            let st = self.state.lock();
            if st.readers == 0 {
                return Some(Err(Errno::EPIPE));
            }
            if !st.full() {
                return Some(Ok((st.slots - st.bufs.len()) * PIPE_BUF));
            }
            nonblock.then_some(Err(Errno::EAGAIN))
        })?
    }

    /// The `poll` events of an end that reads (`read`) and/or writes (`write`);
    /// `w_seen` is the writer count the reading end saw when it was opened.
    pub fn poll(&self, read: bool, write: bool, w_seen: u32) -> u16 {
        use crate::file::events::*;
        let st = self.state.lock();
        let mut mask = 0;
        if read {
            if !st.bufs.is_empty() {
                mask |= POLLIN | POLLRDNORM;
            }
            if st.writers == 0 && st.w_counter != w_seen {
                mask |= POLLHUP;
            }
        }
        if write {
            if !st.full() {
                mask |= POLLOUT | POLLWRNORM;
            }
            if st.readers == 0 {
                mask |= POLLERR;
            }
        }
        mask
    }

    /// Counts a new end in; returns the writers now attached and how many writer opens
    /// there have been.
    fn attach(&self, read: bool, write: bool) -> (usize, u32) {
        let mut st = self.state.lock();
        if read {
            st.readers += 1;
            st.r_counter = st.r_counter.wrapping_add(1);
        }
        if write {
            st.writers += 1;
            st.w_counter = st.w_counter.wrapping_add(1);
        }
        let seen = (st.writers, st.w_counter);
        drop(st);
        self.changed(FOR_READERS | FOR_WRITERS);
        seen
    }

    fn detach(&self, read: bool, write: bool) {
        let mut st = self.state.lock();
        if read {
            st.readers -= 1;
        }
        if write {
            st.writers -= 1;
        }
        drop(st);
        let mut events = 0;
        if read {
            events |= FOR_WRITERS | POLLERR;
        }
        if write {
            events |= FOR_READERS | POLLHUP;
        }
        self.changed(events);
    }
}
