//! `poll` over a kernel on the fake platform.

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::file::events::{POLLIN, POLLOUT, POLLPRI};
use crate::testing::{kernel_on, FakePlatform, Op};

fn pfd(fd: i32, events: u16) -> PollFd {
    PollFd { fd, events: events as i16, revents: 0x7fff }
}

fn sleeps(p: &FakePlatform) -> Vec<u64> {
    p.ops()
        .into_iter()
        .map(|op| match op {
            Op::Sleep { ns } => ns,
            other => panic!("poll did {other:?}"),
        })
        .collect()
}

#[test]
fn a_bad_fd_is_pollnval_and_counts_as_ready() {
    let (p, k) = kernel_on(FakePlatform::new());
    let mut fds = [pfd(7, POLLIN), pfd(1, 0)];
    assert_eq!(poll(&k, &mut fds, None), Ok(1));
    assert_eq!(fds[0].revents as u16, POLLNVAL);
    assert_eq!(fds[1].revents, 0);
    assert_eq!(sleeps(p), vec![]);
}

#[test]
fn negative_fds_are_ignored() {
    let (p, k) = kernel_on(FakePlatform::new());
    let mut fds = [pfd(-1, POLLIN | POLLOUT), pfd(i32::MIN, POLLOUT)];
    assert_eq!(poll(&k, &mut fds, Some(0)), Ok(0));
    assert_eq!((fds[0].revents, fds[1].revents), (0, 0));
    assert_eq!(sleeps(p), vec![]);
}

#[test]
fn timeout_zero_returns_at_once() {
    // stdin is empty: not readable.
    let (p, k) = kernel_on(FakePlatform::new());
    let mut fds = [pfd(0, POLLIN)];
    assert_eq!(poll(&k, &mut fds, Some(0)), Ok(0));
    assert_eq!(fds[0].revents, 0);
    assert_eq!(sleeps(p), vec![]);
}

#[test]
fn ready_fds_report_only_what_was_asked() {
    let (p, k) = kernel_on(FakePlatform::with_stdin(b"input"));
    let mut fds = [pfd(0, POLLIN | POLLPRI), pfd(1, POLLIN), pfd(2, POLLOUT), pfd(0, 0)];
    assert_eq!(poll(&k, &mut fds, Some(0)), Ok(2));
    let revents: Vec<u16> = fds.iter().map(|f| f.revents as u16).collect();
    assert_eq!(revents, vec![POLLIN, 0, POLLOUT, 0]);
    assert_eq!(sleeps(p), vec![]);
}

#[test]
fn a_timeout_backs_off_and_ends_on_time() {
    let (p, k) = kernel_on(FakePlatform::new());
    let mut fds = [pfd(0, POLLIN)];
    assert_eq!(poll(&k, &mut fds, Some(1_000_000)), Ok(0));
    // Doubling from 50 µs, the last sleep cut to what is left of the 1 ms.
    assert_eq!(sleeps(p), vec![50_000, 100_000, 200_000, 400_000, 250_000]);
    assert_eq!(p.slept_ns(), 1_000_000);
}

#[test]
fn the_back_off_is_capped_at_10ms() {
    // stdin (a MemFile) announces nothing: it is looked at again with a back-off.
    let (p, k) = kernel_on(FakePlatform::new());
    let mut fds = [pfd(0, POLLIN)];
    assert_eq!(poll(&k, &mut fds, Some(100_000_000)), Ok(0));
    let s = sleeps(p);
    assert_eq!(s.iter().max(), Some(&10_000_000));
    assert_eq!(s.iter().sum::<u64>(), 100_000_000);
}

#[test]
fn files_that_announce_changes_need_no_back_off() {
    let (p, k) = kernel_on(FakePlatform::new());
    let (r, _w) = crate::pipe::PipeEnd::pair(crate::abi::Timespec::ZERO, 0, 0, false);
    let fd = k.fds.lock().insert(crate::file::OpenFile::new(r.clone(), crate::file::oflags::O_RDONLY), false).unwrap();
    let mut fds = [pfd(fd, POLLIN)];
    assert_eq!(poll(&k, &mut fds, Some(100_000_000)), Ok(0));
    assert_eq!(sleeps(p), vec![100_000_000], "one sleep for the whole timeout");
    assert!(!r.pipe().pollee().observed(), "the wait took its registration back");
}

#[test]
fn nothing_to_watch_sleeps_the_whole_timeout() {
    let (p, k) = kernel_on(FakePlatform::new());
    let mut fds: [PollFd; 0] = [];
    assert_eq!(poll(&k, &mut fds, Some(30_000_000)), Ok(0));
    assert_eq!(sleeps(p), vec![30_000_000]);
}
