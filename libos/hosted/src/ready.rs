//! Waiting on host fds and libOS wake-ups together ([`Platform::wait_io`] and the
//! platform sets of epoll instances).
//!
//! A libOS wait queue is a word that [`Platform::wake_all`] wakes with a futex. A wait
//! that must also watch host fds sleeps in the host's `ppoll` or `epoll_pwait2`
//! instead, so the word gets a **doorbell**: a host eventfd registered under the word's
//! address, written by every `wake_all` of that word. The host call watches the
//! doorbell with the fds and returns when either moves.
//!
//! - `wait_io` (poll, select) borrows a doorbell from a pool for the duration of the
//!   call; it registers it, then checks the word (a wake-up before the registration
//!   moved it, one after rings the doorbell: none is lost), then calls `ppoll`.
//! - An **I/O set** (the platform half of an epoll instance) is a host epoll instance
//!   with a doorbell of its own in it, registered for the instance's word for as long
//!   as the set lives: one `epoll_pwait2` waits for host sockets and libOS objects.
//!
//! Every blocking call goes through [`signals::interruptible`], so a signal for the
//! thread ends it (EINTR). All host calls here are raw syscalls: no TLS, no errno.
//!
//! [`Platform::wait_io`]: libos::Platform::wait_io
//! [`Platform::wake_all`]: libos::Platform::wake_all

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use libos::platform::{IoEvent, IoHandle, IoSetId, IoSetOp, IoWait};
use libos::Errno;

use crate::host::{raw_syscall4, raw_syscall6};
use crate::signals;

/// Words with doorbells: (word address, eventfd).
static BELLS: spin::Mutex<Vec<(u64, i32)>> = spin::Mutex::new(Vec::new());
/// How many doorbells are registered (`ring` skips the lock when none is).
static BELL_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Idle doorbells for `wait_io`.
static POOL: spin::Mutex<Vec<i32>> = spin::Mutex::new(Vec::new());
/// The key of an I/O set's own doorbell in its host epoll instance.
const BELL_KEY: u64 = u64::MAX;

fn errno(r: isize) -> Errno {
    Errno::from_number(-r as i32).unwrap_or(Errno::EIO)
}

fn new_eventfd() -> Result<i32, Errno> {
    // SAFETY: eventfd2 takes integers only.
    let r = unsafe { raw_syscall4(libc::SYS_eventfd2, 0, (libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) as u64, 0, 0) };
    if r < 0 {
        return Err(errno(r));
    }
    Ok(r as i32)
}

fn close(fd: i32) {
    // SAFETY: closes an fd this module made.
    unsafe { raw_syscall4(libc::SYS_close, fd as u64, 0, 0, 0) };
}

/// Resets a doorbell (it is non-blocking: nothing to read is fine).
fn drain(bell: i32) {
    let mut v = 0u64;
    // SAFETY: reads 8 bytes into `v`.
    unsafe { raw_syscall4(libc::SYS_read, bell as u64, &mut v as *mut u64 as u64, 8, 0) };
}

fn register(word: &AtomicU32, bell: i32) {
    BELLS.lock().push((word.as_ptr() as u64, bell));
    BELL_COUNT.fetch_add(1, Ordering::SeqCst);
}

fn unregister(bell: i32) {
    let mut bells = BELLS.lock();
    if let Some(i) = bells.iter().position(|&(_, b)| b == bell) {
        bells.swap_remove(i);
        BELL_COUNT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Rings the doorbells of `word` (called by `wake_all`); whether it had any. A word
/// with a doorbell has no futex sleeper: its waits (an epoll instance's, one poll
/// call's) all sleep in the host call the doorbell ends.
pub fn ring(word: &AtomicU32) -> bool {
    if BELL_COUNT.load(Ordering::SeqCst) == 0 {
        return false;
    }
    let addr = word.as_ptr() as u64;
    let bells = BELLS.lock();
    let mut rang = false;
    for &(w, bell) in bells.iter() {
        if w == addr {
            let one = 1u64;
            // SAFETY: writes 8 bytes from `one` to an eventfd (never blocks: the count
            // cannot reach its limit one at a time before a reader drains it).
            unsafe { raw_syscall4(libc::SYS_write, bell as u64, &one as *const u64 as u64, 8, 0) };
            rang = true;
        }
    }
    rang
}

fn timespec(ns: u64) -> libc::timespec {
    libc::timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 }
}

/// `ppoll` on `fds` for at most `timeout_ns`, ended early by a signal for the thread.
fn ppoll(fds: &mut [libc::pollfd], timeout_ns: Option<u64>) -> isize {
    let ts = timeout_ns.map(timespec);
    let ts_ptr = ts.as_ref().map_or(0, |t| t as *const libc::timespec as u64);
    // `fds` and `ts` are live for the call.
    signals::interruptible(libc::SYS_ppoll, [fds.as_mut_ptr() as u64, fds.len() as u64, ts_ptr, 0, 8, 0]) as isize
}

/// See [`libos::Platform::wait_io`].
pub fn wait_io(word: &AtomicU32, expected: u32, io: &mut [IoWait], timeout_ns: Option<u64>) -> Result<(), Errno> {
    let mut fds: Vec<libc::pollfd> =
        io.iter().map(|w| libc::pollfd { fd: w.handle.0 as i32, events: w.events as i16, revents: 0 }).collect();
    if timeout_ns == Some(0) {
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: a live array of pollfds and a live zero timeout.
        let r = unsafe {
            raw_syscall4(libc::SYS_ppoll, fds.as_mut_ptr() as u64, fds.len() as u64, &zero as *const _ as u64, 0)
        };
        fill(io, &fds);
        return if r < 0 && errno(r) != Errno::EINTR { Err(errno(r)) } else { Ok(()) };
    }
    let bell = match POOL.lock().pop() {
        Some(b) => b,
        None => new_eventfd()?,
    };
    register(word, bell);
    let r = if word.load(Ordering::SeqCst) != expected {
        0
    } else {
        fds.push(libc::pollfd { fd: bell, events: libc::POLLIN, revents: 0 });
        ppoll(&mut fds, timeout_ns)
    };
    unregister(bell);
    if fds.last().is_some_and(|p| p.fd == bell && p.revents != 0) {
        drain(bell);
    }
    POOL.lock().push(bell);
    fill(io, &fds);
    if r == -(libc::EINTR as isize) && signals::interrupted() {
        return Err(Errno::EINTR);
    }
    if r < 0 && r != -(libc::EINTR as isize) {
        return Err(errno(r));
    }
    Ok(())
}

fn fill(io: &mut [IoWait], fds: &[libc::pollfd]) {
    for (w, p) in io.iter_mut().zip(fds) {
        w.revents = p.revents as u16;
    }
}

/// An I/O set's id: its host epoll fd in the low half, its doorbell in the high half.
fn split(set: IoSetId) -> (i32, i32) {
    (set as u32 as i32, (set >> 32) as u32 as i32)
}

fn epoll_ctl(epfd: i32, op: i32, fd: i32, events: u32, key: u64) -> Result<(), Errno> {
    let mut ev = libc::epoll_event { events, u64: key };
    // SAFETY: `ev` is a live epoll_event.
    let r = unsafe { raw_syscall4(libc::SYS_epoll_ctl, epfd as u64, op as u64, fd as u64, &mut ev as *mut _ as u64) };
    if r < 0 {
        return Err(errno(r));
    }
    Ok(())
}

/// See [`libos::Platform::ioset_create`].
pub fn ioset_create(wake: &AtomicU32) -> Result<IoSetId, Errno> {
    // SAFETY: epoll_create1 takes an integer.
    let epfd = unsafe { raw_syscall4(libc::SYS_epoll_create1, libc::EPOLL_CLOEXEC as u64, 0, 0, 0) };
    if epfd < 0 {
        return Err(errno(epfd));
    }
    let epfd = epfd as i32;
    let bell = match new_eventfd() {
        Ok(b) => b,
        Err(e) => {
            close(epfd);
            return Err(e);
        }
    };
    if let Err(e) = epoll_ctl(epfd, libc::EPOLL_CTL_ADD, bell, libc::EPOLLIN as u32, BELL_KEY) {
        close(bell);
        close(epfd);
        return Err(e);
    }
    register(wake, bell);
    Ok(epfd as u32 as u64 | (u64::from(bell as u32) << 32))
}

/// See [`libos::Platform::ioset_ctl`].
pub fn ioset_ctl(set: IoSetId, op: IoSetOp, handle: IoHandle, events: u32, key: u64) -> Result<(), Errno> {
    let (epfd, _) = split(set);
    let op = match op {
        IoSetOp::Add => libc::EPOLL_CTL_ADD,
        IoSetOp::Modify => libc::EPOLL_CTL_MOD,
        IoSetOp::Remove => libc::EPOLL_CTL_DEL,
    };
    epoll_ctl(epfd, op, handle.0 as i32, events, key)
}

/// See [`libos::Platform::ioset_wait`].
pub fn ioset_wait(set: IoSetId, out: &mut [IoEvent], timeout_ns: Option<u64>) -> Result<usize, Errno> {
    let (epfd, bell) = split(set);
    let mut buf = [libc::epoll_event { events: 0, u64: 0 }; 64];
    let n = out.len().min(buf.len());
    let ts = timeout_ns.map(timespec);
    let ts_ptr = ts.as_ref().map_or(0, |t| t as *const libc::timespec as u64);
    let args = [epfd as u64, buf.as_mut_ptr() as u64, n as u64, ts_ptr, 0, 8];
    // `buf` holds `n` events and `ts` lives across the call.
    let r = if timeout_ns == Some(0) {
        // SAFETY: as above; a zero timeout never blocks.
        unsafe { raw_syscall6(libc::SYS_epoll_pwait2, args[0], args[1], args[2], args[3], 0, 8) as i64 }
    } else {
        signals::interruptible(libc::SYS_epoll_pwait2, args)
    };
    if r < 0 {
        return match Errno::from_number(-r as i32) {
            Some(Errno::EINTR) if signals::interrupted() => Err(Errno::EINTR),
            Some(Errno::EINTR) => Ok(0),
            Some(e) => Err(e),
            None => Err(Errno::EIO),
        };
    }
    let mut k = 0;
    for ev in &buf[..r as usize] {
        let key = ev.u64;
        if key == BELL_KEY {
            drain(bell);
            continue;
        }
        out[k] = IoEvent { key, events: ev.events };
        k += 1;
    }
    Ok(k)
}

/// See [`libos::Platform::ioset_destroy`].
pub fn ioset_destroy(set: IoSetId) {
    let (epfd, bell) = split(set);
    unregister(bell);
    close(bell);
    close(epfd);
}

/// See [`libos::Platform::ioset_handle`].
pub fn ioset_handle(set: IoSetId) -> IoHandle {
    IoHandle(split(set).0 as u32 as u64)
}
