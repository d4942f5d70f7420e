//! Lock conflict rules, range splitting and merging, and release on close.

extern crate std;

use alloc::sync::Arc;
use alloc::vec;

use super::range::{LockKind::*, Owner::*, RangeLock, RangeLocks};
use super::*;
use crate::file::{oflags, OpenFile};
use crate::testing::MemFile;

fn lock(owner: Owner, kind: LockKind, start: u64, end: u64) -> RangeLock {
    RangeLock { owner, kind, start, end }
}

#[test]
fn a_lock_inside_a_range_of_the_other_type_splits_it_in_three() {
    let mut l = RangeLocks::default();
    l.set(Process, Some(Read), 0, 99);
    l.set(Process, Some(Write), 10, 19);
    assert_eq!(
        l.of(Process),
        vec![lock(Process, Read, 0, 9), lock(Process, Write, 10, 19), lock(Process, Read, 20, 99)]
    );
}

#[test]
fn unlocking_the_middle_leaves_two_pieces() {
    let mut l = RangeLocks::default();
    l.set(Process, Some(Write), 0, OFFSET_MAX);
    assert!(l.set(Process, None, 100, 199));
    assert_eq!(l.of(Process), vec![lock(Process, Write, 0, 99), lock(Process, Write, 200, OFFSET_MAX)]);
}

#[test]
fn same_type_locks_that_touch_or_overlap_merge() {
    let mut l = RangeLocks::default();
    l.set(Process, Some(Read), 0, 9);
    l.set(Process, Some(Read), 20, 29);
    l.set(Process, Some(Read), 10, 19);
    assert_eq!(l.of(Process), vec![lock(Process, Read, 0, 29)]);
    l.set(Process, Some(Read), 25, 40);
    assert_eq!(l.of(Process), vec![lock(Process, Read, 0, 40)]);
    // Different types touching do not merge.
    l.set(Process, Some(Write), 41, 50);
    assert_eq!(l.of(Process).len(), 2);
}

#[test]
fn owners_never_conflict_with_themselves_and_readers_share() {
    let mut l = RangeLocks::default();
    l.set(Process, Some(Write), 0, 9);
    assert_eq!(l.conflict(Process, Write, 0, 9), None);
    assert_eq!(l.conflict(Description(1), Read, 5, 5), Some(lock(Process, Write, 0, 9)));
    assert_eq!(l.conflict(Description(1), Read, 10, 20), None);
    let mut r = RangeLocks::default();
    r.set(Description(1), Some(Read), 0, 9);
    assert_eq!(r.conflict(Description(2), Read, 0, 9), None);
    assert!(r.conflict(Description(2), Write, 9, 9).is_some());
    assert!(r.conflict(Process, Write, 0, 0).is_some());
}

#[test]
fn downgrading_reports_a_release_and_keeping_a_write_lock_does_not() {
    let mut l = RangeLocks::default();
    assert!(!l.set(Process, Some(Write), 0, 9));
    assert!(!l.set(Process, Some(Write), 0, 9));
    assert!(l.set(Process, Some(Read), 0, 9));
    assert!(l.remove_owner(Process));
    assert!(l.is_empty());
}

fn open() -> Arc<OpenFile> {
    OpenFile::new(MemFile::new(b""), oflags::O_RDWR)
}

/// A key no other test uses.
fn key(n: u64) -> NodeKey {
    (0xdead_0000 + n, n)
}

#[test]
fn ofd_locks_conflict_between_descriptions_and_go_with_them() {
    let (a, b) = (open(), open());
    let k = key(1);
    set_range(&a, k, true, Some(Write), 0, 9, false).unwrap();
    assert_eq!(set_range(&b, k, true, Some(Read), 5, 5, false), Err(Errno::EAGAIN));
    // POSIX locks of the process conflict with OFD locks too.
    assert_eq!(set_range(&b, k, false, Some(Read), 5, 5, false), Err(Errno::EAGAIN));
    assert_eq!(test_range(&b, k, true, Read, 0, 0).map(|l| l.owner), Some(Owner::Description(a.id())));
    assert_eq!(test_range(&a, k, true, Write, 0, 9), None);
    drop(a);
    assert_eq!(held(k).0, vec![]);
    set_range(&b, k, true, Some(Write), 0, 9, false).unwrap();
}

#[test]
fn closing_any_fd_drops_the_process_posix_locks() {
    let (a, b) = (open(), open());
    let k = key_of(&a).unwrap();
    assert_eq!(k, key_of(&b).unwrap());
    set_range(&a, k, false, Some(Write), 0, 0, false).unwrap();
    // Another description of the same process: no conflict for POSIX locks.
    set_range(&b, k, false, Some(Write), 0, 0, false).unwrap();
    assert_eq!(held(k).0.len(), 1);
    fd_closed(&b);
    assert_eq!(held(k).0, vec![]);
}

#[test]
fn flock_is_per_description_and_conversion_drops_the_old_lock_first() {
    let (a, b) = (open(), open());
    let k = key(2);
    flock(&a, k, Some(Read), false).unwrap();
    flock(&b, k, Some(Read), false).unwrap();
    assert_eq!(flock(&a, k, Some(Write), false), Err(Errno::EWOULDBLOCK));
    // The failed upgrade released a's shared lock.
    assert_eq!(held(k).1, vec![(b.id(), Read)]);
    flock(&b, k, Some(Write), false).unwrap();
    flock(&b, k, Some(Write), false).unwrap();
    flock(&b, k, None, false).unwrap();
    assert_eq!(held(k).1, vec![]);
    flock(&a, k, Some(Write), false).unwrap();
    drop(a);
    assert_eq!(held(k).1, vec![]);
}

#[test]
fn a_blocked_flock_is_granted_when_another_thread_unlocks() {
    let (a, b) = (open(), open());
    let k = key(3);
    flock(&a, k, Some(Write), false).unwrap();
    let waiter = std::thread::spawn(move || {
        flock(&b, k, Some(Write), true).unwrap();
        b
    });
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(held(k).1, vec![(a.id(), Write)]);
    flock(&a, k, None, false).unwrap();
    let b = waiter.join().unwrap();
    assert_eq!(held(k).1, vec![(b.id(), Write)]);
}

#[test]
fn a_blocked_ofd_lock_is_granted_when_the_holder_closes() {
    let (a, b) = (open(), open());
    let k = key(4);
    set_range(&a, k, true, Some(Write), 0, OFFSET_MAX, false).unwrap();
    let waiter = std::thread::spawn(move || set_range(&b, k, true, Some(Read), 100, 200, true));
    std::thread::sleep(std::time::Duration::from_millis(20));
    drop(a);
    assert_eq!(waiter.join().unwrap(), Ok(()));
}
