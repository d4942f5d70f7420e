//! The fd table: numbering, limits and `FD_CLOEXEC`, with Linux's errors.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::file::oflags::O_RDWR;
use crate::testing::MemFile;

fn open() -> Arc<OpenFile> {
    OpenFile::new(MemFile::new(b""), O_RDWR)
}

#[test]
fn insert_takes_the_lowest_free_fd() {
    let mut t = FdTable::new();
    assert_eq!(t.insert(open(), false), Ok(0));
    assert_eq!(t.insert(open(), false), Ok(1));
    assert_eq!(t.insert(open(), false), Ok(2));
    t.remove(1).unwrap();
    assert_eq!(t.insert(open(), false), Ok(1));
    t.remove(0).unwrap();
    t.remove(2).unwrap();
    assert_eq!(t.insert(open(), false), Ok(0));
    assert_eq!(t.insert(open(), false), Ok(2));
    assert_eq!(t.insert(open(), false), Ok(3));
    assert_eq!(t.open_fds().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
}

#[test]
fn insert_from_starts_at_min() {
    // F_DUPFD: the lowest free fd >= arg.
    let mut t = FdTable::new();
    assert_eq!(t.insert_from(10, open(), false), Ok(10));
    assert_eq!(t.insert_from(10, open(), false), Ok(11));
    assert_eq!(t.insert_from(5, open(), false), Ok(5));
    assert_eq!(t.insert(open(), false), Ok(0));
    assert_eq!(t.open_fds().collect::<Vec<_>>(), vec![0, 5, 10, 11]);
    // F_DUPFD with arg >= RLIMIT_NOFILE is EINVAL.
    assert_eq!(t.insert_from(DEFAULT_MAX_FDS, open(), false), Err(Errno::EINVAL));
    assert_eq!(t.insert_from(DEFAULT_MAX_FDS - 1, open(), false), Ok(DEFAULT_MAX_FDS as i32 - 1));
}

#[test]
fn emfile_at_the_limit() {
    let mut t = FdTable::new();
    t.set_max_fds(3);
    for fd in 0..3 {
        assert_eq!(t.insert(open(), false), Ok(fd));
    }
    assert_eq!(t.insert(open(), false).map(|_| ()), Err(Errno::EMFILE));
    assert_eq!(t.insert_from(1, open(), false).map(|_| ()), Err(Errno::EMFILE));
    t.remove(1).unwrap();
    assert_eq!(t.insert_from(2, open(), false).map(|_| ()), Err(Errno::EMFILE));
    assert_eq!(t.insert_from(1, open(), false), Ok(1));
}

#[test]
fn a_lowered_limit_leaves_open_fds_alone() {
    let mut t = FdTable::new();
    assert_eq!(t.insert_at(50, open(), false).map(|o| o.is_none()), Ok(true));
    t.set_max_fds(10);
    assert!(t.get(50).is_ok());
    assert_eq!(t.insert_at(50, open(), false).map(|_| ()), Err(Errno::EBADF));
    assert_eq!(t.remove(50).map(|_| ()), Ok(()));
}

#[test]
fn insert_at_replaces() {
    // dup2: returns what was there so the caller closes it.
    let mut t = FdTable::new();
    let a = open();
    let b = open();
    assert!(t.insert_at(7, a.clone(), false).unwrap().is_none());
    let old = t.insert_at(7, b.clone(), true).unwrap().expect("fd 7 was open");
    assert!(Arc::ptr_eq(&old, &a));
    assert!(Arc::ptr_eq(&t.get(7).unwrap(), &b));
    // The new entry's FD_CLOEXEC is the one given, not the old one's.
    assert_eq!(t.cloexec(7), Ok(true));
    assert!(t.insert_at(7, a, false).unwrap().is_some());
    assert_eq!(t.cloexec(7), Ok(false));
    assert_eq!(t.open_fds().collect::<Vec<_>>(), vec![7]);
    // Slots below a high fd stay free.
    assert_eq!(t.insert(open(), false), Ok(0));
}

#[test]
fn insert_at_bad_numbers() {
    let mut t = FdTable::new();
    // dup2 to a negative fd or one at or above RLIMIT_NOFILE is EBADF.
    assert_eq!(t.insert_at(-1, open(), false).map(|_| ()), Err(Errno::EBADF));
    assert_eq!(t.insert_at(i32::MIN, open(), false).map(|_| ()), Err(Errno::EBADF));
    assert_eq!(t.insert_at(DEFAULT_MAX_FDS as i32, open(), false).map(|_| ()), Err(Errno::EBADF));
    assert_eq!(t.insert_at(DEFAULT_MAX_FDS as i32 - 1, open(), false).map(|o| o.is_none()), Ok(true));
}

#[test]
fn ebadf_cases() {
    let mut t = FdTable::new();
    t.insert(open(), false).unwrap();
    for fd in [-1, 1, 1000, 5000, i32::MAX, i32::MIN] {
        assert_eq!(t.get(fd).map(|_| ()), Err(Errno::EBADF), "get {fd}");
        assert_eq!(t.remove(fd).map(|_| ()), Err(Errno::EBADF), "remove {fd}");
        assert_eq!(t.cloexec(fd), Err(Errno::EBADF), "cloexec {fd}");
        assert_eq!(t.set_cloexec(fd, true), Err(Errno::EBADF), "set_cloexec {fd}");
    }
    // A closed fd is bad too, and closing twice fails the second time.
    assert!(t.remove(0).is_ok());
    assert_eq!(t.remove(0).map(|_| ()), Err(Errno::EBADF));
    assert_eq!(t.get(0).map(|_| ()), Err(Errno::EBADF));
}

#[test]
fn cloexec_flags() {
    let mut t = FdTable::new();
    let a = t.insert(open(), true).unwrap();
    let b = t.insert(open(), false).unwrap();
    assert_eq!(t.cloexec(a), Ok(true));
    assert_eq!(t.cloexec(b), Ok(false));
    t.set_cloexec(a, false).unwrap();
    t.set_cloexec(b, true).unwrap();
    assert_eq!(t.cloexec(a), Ok(false));
    assert_eq!(t.cloexec(b), Ok(true));
    // A reused slot does not inherit the old flag.
    t.remove(b).unwrap();
    assert_eq!(t.insert(open(), false), Ok(b));
    assert_eq!(t.cloexec(b), Ok(false));
}

#[test]
fn dup_shares_the_open_file_description() {
    let mut t = FdTable::new();
    let fd = t.insert(open(), false).unwrap();
    let dup = t.insert_from(0, t.get(fd).unwrap(), true).unwrap();
    assert_eq!(dup, 1);
    t.get(fd).unwrap().set_flags(crate::file::oflags::O_NONBLOCK).unwrap();
    assert!(t.get(dup).unwrap().nonblocking());
    // ... but not FD_CLOEXEC, which is per fd.
    assert_eq!((t.cloexec(fd), t.cloexec(dup)), (Ok(false), Ok(true)));
}
