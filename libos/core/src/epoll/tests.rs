//! epoll instances over pipes and eventfds on the fake platform (which has no platform
//! set, so every entry is a libOS one).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::*;
use crate::abi::Timespec;
use crate::eventfd::EventFd;
use crate::file::oflags;
use crate::pipe::PipeEnd;
use crate::testing::{FakePlatform, Op};

fn platform() -> &'static FakePlatform {
    FakePlatform::new().leak()
}

fn pipe() -> (Arc<OpenFile>, Arc<OpenFile>) {
    let (r, w) = PipeEnd::pair(Timespec::ZERO, 0, 0, false);
    (OpenFile::new(r, oflags::O_RDONLY | oflags::O_NONBLOCK), OpenFile::new(w, oflags::O_WRONLY | oflags::O_NONBLOCK))
}

fn ev(events: u32, data: u64) -> Option<EpollEvent> {
    Some(EpollEvent { events, data })
}

/// What a zero-timeout wait reports: (data, events), sorted by data.
fn ready(ep: &Epoll, max: usize) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    ep.wait(&mut out, max, Some(0)).unwrap();
    let mut v: Vec<(u64, u32)> = out.iter().map(|e| ({ e.data }, { e.events })).collect();
    v.sort_unstable();
    v
}

#[test]
fn level_triggered_entries_report_while_ready() {
    let ep = Epoll::new(platform()).unwrap();
    let (r, w) = pipe();
    ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN, 1)).unwrap();
    assert_eq!(ready(&ep, 8), []);
    w.write(b"abc").unwrap();
    assert_eq!(ready(&ep, 8), [(1, EPOLLIN)]);
    assert_eq!(ready(&ep, 8), [(1, EPOLLIN)], "still readable");
    r.read(&mut [0u8; 8]).unwrap();
    assert_eq!(ready(&ep, 8), []);
}

#[test]
fn edge_triggered_entries_report_each_change_once() {
    let ep = Epoll::new(platform()).unwrap();
    let (r, w) = pipe();
    ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN | EPOLLET, 1)).unwrap();
    w.write(b"one").unwrap();
    assert_eq!(ready(&ep, 8), [(1, EPOLLIN)]);
    assert_eq!(ready(&ep, 8), []);
    w.write(b"two").unwrap();
    assert_eq!(ready(&ep, 8), [(1, EPOLLIN)], "new data is a new event");
    r.read(&mut [0u8; 2]).unwrap();
    assert_eq!(ready(&ep, 8), [], "a read is no event for the reader");
}

#[test]
fn one_shot_entries_wait_for_a_modify() {
    let ep = Epoll::new(platform()).unwrap();
    let (r, w) = pipe();
    w.write(b"x").unwrap();
    ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN | EPOLLONESHOT, 1)).unwrap();
    assert_eq!(ready(&ep, 8), [(1, EPOLLIN)]);
    assert_eq!(ready(&ep, 8), []);
    w.write(b"y").unwrap();
    assert_eq!(ready(&ep, 8), []);
    ep.ctl(EPOLL_CTL_MOD, 3, &r, ev(EPOLLIN | EPOLLONESHOT, 2)).unwrap();
    assert_eq!(ready(&ep, 8), [(2, EPOLLIN)]);
}

#[test]
fn ctl_errors() {
    let ep = Epoll::new(platform()).unwrap();
    let (r, _w) = pipe();
    assert_eq!(ep.ctl(EPOLL_CTL_MOD, 3, &r, ev(EPOLLIN, 1)), Err(Errno::ENOENT));
    assert_eq!(ep.ctl(EPOLL_CTL_DEL, 3, &r, None), Err(Errno::ENOENT));
    ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN, 1)).unwrap();
    assert_eq!(ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN, 1)), Err(Errno::EEXIST));
    assert_eq!(ep.ctl(EPOLL_CTL_ADD, 4, &r, ev(EPOLLIN, 1)), Ok(()), "another fd of the same file");
    assert_eq!(ep.ctl(99, 3, &r, ev(EPOLLIN, 1)), Err(Errno::EINVAL));
    ep.ctl(EPOLL_CTL_ADD, 5, &r, ev(EPOLLIN | EPOLLEXCLUSIVE, 1)).unwrap();
    assert_eq!(ep.ctl(EPOLL_CTL_MOD, 5, &r, ev(EPOLLIN, 1)), Err(Errno::EINVAL));
    assert_eq!(ep.ctl(EPOLL_CTL_DEL, 3, &r, None), Ok(()));
}

#[test]
fn loops_and_deep_nesting_are_eloop() {
    let p = platform();
    let eps: Vec<Arc<OpenFile>> = (0..7).map(|_| OpenFile::new(Epoll::new(p).unwrap(), oflags::O_RDWR)).collect();
    let of = |i: usize| Epoll::of(&eps[i]).unwrap();
    of(0).ctl(EPOLL_CTL_ADD, 11, &eps[1], ev(EPOLLIN, 1)).unwrap();
    assert_eq!(of(1).ctl(EPOLL_CTL_ADD, 10, &eps[0], ev(EPOLLIN, 1)), Err(Errno::ELOOP));
    // A chain 1 <- 2 <- 3 <- 4 <- 5: adding 5 to 6 is one level too deep.
    for i in 2..6 {
        of(i).ctl(EPOLL_CTL_ADD, 10 + i as i32 - 1, &eps[i - 1], ev(EPOLLIN, 1)).unwrap();
    }
    assert_eq!(of(6).ctl(EPOLL_CTL_ADD, 15, &eps[5], ev(EPOLLIN, 1)), Err(Errno::ELOOP));
    assert_eq!(of(6).ctl(EPOLL_CTL_ADD, 14, &eps[4], ev(EPOLLIN, 1)), Ok(()));
}

#[test]
fn nested_instances_are_readable_while_an_entry_is_ready() {
    let p = platform();
    let inner = OpenFile::new(Epoll::new(p).unwrap(), oflags::O_RDWR);
    let outer = Epoll::new(p).unwrap();
    let (r, w) = pipe();
    Epoll::of(&inner).unwrap().ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN, 1)).unwrap();
    outer.ctl(EPOLL_CTL_ADD, 4, &inner, ev(EPOLLIN, 9)).unwrap();
    assert_eq!(ready(&outer, 8), []);
    assert_eq!(inner.file.poll(POLLIN), 0);
    w.write(b"x").unwrap();
    assert_eq!(ready(&outer, 8), [(9, EPOLLIN)]);
    assert_eq!(inner.file.poll(POLLIN), POLLIN);
}

#[test]
fn an_entry_goes_with_its_last_fd() {
    let ep = Epoll::new(platform()).unwrap();
    let (r, w) = pipe();
    ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN, 1)).unwrap();
    w.write(b"x").unwrap();
    drop(r);
    assert_eq!(ready(&ep, 8), []);
    assert!(ep.inner.interest.lock().is_empty(), "the dead entry was dropped");
}

#[test]
fn level_triggered_entries_take_turns() {
    let ep = Epoll::new(platform()).unwrap();
    let (r, w) = pipe();
    ep.ctl(EPOLL_CTL_ADD, 4, &w, ev(EPOLLOUT, 2)).unwrap();
    ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN, 1)).unwrap();
    w.write(b"x").unwrap();
    assert_eq!(ready(&ep, 1), [(2, EPOLLOUT)]);
    assert_eq!(ready(&ep, 1), [(1, EPOLLIN)]);
    assert_eq!(ready(&ep, 1), [(2, EPOLLOUT)]);
}

#[test]
fn eventfds_report_every_write_when_edge_triggered() {
    let ep = Epoll::new(platform()).unwrap();
    let e = OpenFile::new(EventFd::new(0, false), oflags::O_RDWR | oflags::O_NONBLOCK);
    ep.ctl(EPOLL_CTL_ADD, 3, &e, ev(EPOLLIN | EPOLLET, 7)).unwrap();
    e.write(&1u64.to_ne_bytes()).unwrap();
    assert_eq!(ready(&ep, 8), [(7, EPOLLIN)]);
    assert_eq!(ready(&ep, 8), []);
    e.write(&1u64.to_ne_bytes()).unwrap();
    assert_eq!(ready(&ep, 8), [(7, EPOLLIN)]);
}

#[test]
fn a_timed_wait_sleeps_once() {
    let p = platform();
    let ep = Epoll::new(p).unwrap();
    let (r, _w) = pipe();
    ep.ctl(EPOLL_CTL_ADD, 3, &r, ev(EPOLLIN, 1)).unwrap();
    let mut out = Vec::new();
    assert_eq!(ep.wait(&mut out, 8, Some(5_000_000)), Ok(0));
    assert_eq!(p.ops(), [Op::Sleep { ns: 5_000_000 }], "no back-off: one sleep for the whole timeout");
}
