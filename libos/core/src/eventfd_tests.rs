//! The eventfd counter: reads, writes, semaphore mode, limits, poll and notifications.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::readiness::Observer;

fn rd(e: &EventFd) -> Result<u64, Errno> {
    let mut b = [0u8; 8];
    e.read(&mut b, true)?;
    Ok(u64::from_ne_bytes(b))
}

fn wr(e: &EventFd, v: u64) -> SysResult {
    e.write(&v.to_ne_bytes(), true)
}

#[test]
fn a_read_takes_the_count() {
    let e = EventFd::new(5, false);
    assert_eq!(rd(&e), Ok(5));
    assert_eq!(rd(&e), Err(Errno::EAGAIN));
    assert_eq!(wr(&e, 3), Ok(8));
    assert_eq!(wr(&e, 4), Ok(8));
    assert_eq!(rd(&e), Ok(7));
}

#[test]
fn semaphore_mode_takes_one() {
    let e = EventFd::new(2, true);
    assert_eq!(rd(&e), Ok(1));
    assert_eq!(rd(&e), Ok(1));
    assert_eq!(rd(&e), Err(Errno::EAGAIN));
}

#[test]
fn short_buffers_and_the_maximum_are_einval() {
    let e = EventFd::new(0, false);
    assert_eq!(e.read(&mut [0u8; 7], true), Err(Errno::EINVAL));
    assert_eq!(e.write(&[0u8; 7], true), Err(Errno::EINVAL));
    assert_eq!(wr(&e, u64::MAX), Err(Errno::EINVAL));
    let mut big = [0u8; 16];
    assert_eq!(wr(&e, 1), Ok(8));
    assert_eq!(e.read(&mut big, true), Ok(8));
}

#[test]
fn the_count_stops_short_of_the_maximum() {
    let e = EventFd::new(0, false);
    assert_eq!(wr(&e, u64::MAX - 1), Ok(8));
    assert_eq!(e.poll(POLLIN | POLLOUT), POLLIN);
    assert_eq!(wr(&e, 1), Err(Errno::EAGAIN));
    assert_eq!(wr(&e, 0), Ok(8));
    assert_eq!(rd(&e), Ok(u64::MAX - 1));
    assert_eq!(e.poll(POLLIN | POLLOUT), POLLOUT);
}

#[derive(Default)]
struct Seen(AtomicU32);

impl Observer for Seen {
    fn on_events(&self, events: u16) {
        self.0.fetch_or(u32::from(events), Ordering::SeqCst);
    }
}

#[test]
fn writes_announce_input_and_reads_room() {
    let e = EventFd::new(0, false);
    let seen = Arc::new(Seen::default());
    let Readiness::Pollee(p) = e.readiness() else { panic!("an eventfd has a pollee") };
    p.register(Arc::downgrade(&(seen.clone() as Arc<dyn Observer>)), 0);
    wr(&e, 1).unwrap();
    assert_eq!(seen.0.swap(0, Ordering::SeqCst) as u16 & POLLIN, POLLIN);
    rd(&e).unwrap();
    assert_eq!(seen.0.swap(0, Ordering::SeqCst) as u16 & POLLOUT, POLLOUT);
    wr(&e, 0).unwrap();
    assert_eq!(seen.0.load(Ordering::SeqCst), 0, "adding 0 changes nothing");
}

#[test]
fn it_is_an_anonymous_inode() {
    let e = EventFd::new(0, false);
    assert_eq!(e.anon_name().unwrap(), b"anon_inode:[eventfd]");
    assert_eq!(e.stat().unwrap().st_mode, 0o600);
}
