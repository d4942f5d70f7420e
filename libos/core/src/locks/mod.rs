//! Advisory file locks: POSIX record locks (`F_SETLK`), open-file-description locks
//! (`F_OFD_SETLK`) and `flock`, with Linux's ownership rules.
//!
//! | kind        | owner                     | released when                                   |
//! |-------------|---------------------------|-------------------------------------------------|
//! | POSIX       | the process               | *any* fd of the process on that file is closed  |
//! | OFD         | the open file description | the description's last fd is closed             |
//! | `flock`     | the open file description | the description's last fd is closed, `LOCK_UN`  |
//!
//! POSIX and OFD locks share one range list per file and conflict with each other
//! (a process's POSIX locks conflict with its own OFD locks: different owners);
//! `flock` locks are separate, as on Linux. A process never conflicts with its own
//! POSIX locks, so with one process the only conflicts are between descriptions — a
//! wait for one of those (`F_SETLKW`, `flock` without `LOCK_NB`) blocks until another
//! thread releases it, and blocks for ever if none will, as on Linux.
//!
//! Locks are kept per node, keyed by `(st_dev, st_ino)`, in one table; every release
//! notifies one wait queue and blocked requests re-try.

pub mod range;
#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

pub use range::{LockKind, Owner, RangeLock, RangeLocks, OFFSET_MAX};

use crate::file::OpenFile;
use crate::wait::WaitQueue;
use crate::Errno;

/// A node's identity: `(st_dev, st_ino)`.
pub type NodeKey = (u64, u64);

/// `struct flock` on x86-64, as `fcntl`'s lock commands read and write it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flock {
    /// `F_RDLCK`, `F_WRLCK` or `F_UNLCK`.
    pub l_type: i16,
    /// `SEEK_SET`, `SEEK_CUR` or `SEEK_END`: what `l_start` is relative to.
    pub l_whence: i16,
    pub pad0: u32,
    pub l_start: i64,
    /// 0: to the end of the file, however far it grows; negative: the bytes before.
    pub l_len: i64,
    pub l_pid: i32,
    pub pad1: u32,
}

/// `l_type` values.
pub const F_RDLCK: i16 = 0;
pub const F_WRLCK: i16 = 1;
pub const F_UNLCK: i16 = 2;

#[derive(Default)]
struct NodeLocks {
    ranges: RangeLocks,
    /// `flock` holders: (description, kind).
    flocks: Vec<(usize, LockKind)>,
}

impl NodeLocks {
    fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.flocks.is_empty()
    }

    fn process_locks(&self) -> usize {
        self.ranges.iter().filter(|l| l.owner == Owner::Process).count()
    }
}

static LOCKS: spin::Mutex<BTreeMap<NodeKey, NodeLocks>> = spin::Mutex::new(BTreeMap::new());
/// Notified whenever a lock goes away or is downgraded.
static RELEASED: WaitQueue = WaitQueue::new();
/// How many POSIX locks the process holds: closing an fd looks for them only if any.
static PROCESS_LOCKS: AtomicUsize = AtomicUsize::new(0);

/// The node an open file is on.
pub fn key_of(open: &OpenFile) -> Result<NodeKey, Errno> {
    let st = open.file.stat()?;
    Ok((st.st_dev, st.st_ino))
}

/// The owner an open file description stands for.
fn description(open: &OpenFile) -> Owner {
    Owner::Description(open.id())
}

/// Runs `f` on the locks of `key`, dropping the entry if it ends up empty and keeping
/// the process-lock count.
fn with_node<T>(key: NodeKey, f: impl FnOnce(&mut NodeLocks) -> T) -> T {
    let mut table = LOCKS.lock();
    let node = table.entry(key).or_default();
    let before = node.process_locks();
    let out = f(node);
    let after = node.process_locks();
    if node.is_empty() {
        table.remove(&key);
    }
    if after > before {
        PROCESS_LOCKS.fetch_add(after - before, Ordering::Relaxed);
    } else {
        PROCESS_LOCKS.fetch_sub(before - after, Ordering::Relaxed);
    }
    out
}

/// `F_SETLK`/`F_SETLKW` (`ofd == false`) and `F_OFD_SETLK`/`F_OFD_SETLKW`: sets or
/// (with `kind == None`) removes the lock over `[start, end]` on `key` through `open`.
/// A conflict is EAGAIN, or a wait with `wait`.
pub fn set_range(
    open: &OpenFile,
    key: NodeKey,
    ofd: bool,
    kind: Option<LockKind>,
    start: u64,
    end: u64,
    wait: bool,
) -> Result<(), Errno> {
    let owner = if ofd { description(open) } else { Owner::Process };
    RELEASED.wait_until(|| {
        let outcome = with_node(key, |node| {
            if let Some(k) = kind {
                if node.ranges.conflict(owner, k, start, end).is_some() {
                    return None;
                }
            }
            Some(node.ranges.set(owner, kind, start, end))
        });
        match outcome {
            None if wait => None,
            None => Some(Err(Errno::EAGAIN)),
            Some(released) => {
                if released {
                    RELEASED.notify();
                }
                if ofd && kind.is_some() {
                    open.note_locks();
                }
                Some(Ok(()))
            }
        }
    })?
}

/// `F_GETLK` / `F_OFD_GETLK`: the first lock that a `kind` lock over `[start, end]`
/// through `open` would conflict with, if any.
pub fn test_range(open: &OpenFile, key: NodeKey, ofd: bool, kind: LockKind, start: u64, end: u64) -> Option<RangeLock> {
    let owner = if ofd { description(open) } else { Owner::Process };
    LOCKS.lock().get(&key).and_then(|n| n.ranges.conflict(owner, kind, start, end))
}

/// `flock`: takes (`Some`) or drops (`None`) `open`'s lock on `key`. Changing the type
/// of a held lock first drops it (another waiter may get in between), as Linux does.
/// A conflict is EWOULDBLOCK, or a wait with `wait`.
pub fn flock(open: &OpenFile, key: NodeKey, kind: Option<LockKind>, wait: bool) -> Result<(), Errno> {
    let id = open.id();
    RELEASED.wait_until(|| {
        let (outcome, released) = with_node(key, |node| {
            let mut released = false;
            if let Some(i) = node.flocks.iter().position(|&(d, _)| d == id) {
                if Some(node.flocks[i].1) == kind {
                    return (Some(()), false);
                }
                node.flocks.remove(i);
                released = true;
            }
            let Some(kind) = kind else { return (Some(()), released) };
            let conflict =
                node.flocks.iter().any(|&(d, k)| d != id && (kind == LockKind::Write || k == LockKind::Write));
            if conflict {
                return (None, released);
            }
            node.flocks.push((id, kind));
            (Some(()), released)
        });
        if released {
            RELEASED.notify();
        }
        match outcome {
            Some(()) => {
                if kind.is_some() {
                    open.note_locks();
                }
                Some(Ok(()))
            }
            None if wait => None,
            None => Some(Err(Errno::EWOULDBLOCK)),
        }
    })?
}

/// An fd of the process was closed: its POSIX locks on that file all go (even if
/// other fds still refer to the file), as on Linux.
pub fn fd_closed(open: &OpenFile) {
    if PROCESS_LOCKS.load(Ordering::Relaxed) == 0 {
        return;
    }
    let Ok(key) = key_of(open) else { return };
    if with_node(key, |node| node.ranges.remove_owner(Owner::Process)) {
        RELEASED.notify();
    }
}

/// An open file description that took OFD or `flock` locks is gone: so are they.
pub(crate) fn description_closed(open: &OpenFile) {
    let owner = description(open);
    let id = open.id();
    let mut removed = false;
    {
        let mut table = LOCKS.lock();
        table.retain(|_, node| {
            removed |= node.ranges.remove_owner(owner);
            let before = node.flocks.len();
            node.flocks.retain(|&(d, _)| d != id);
            removed |= node.flocks.len() != before;
            !node.is_empty()
        });
    }
    if removed {
        RELEASED.notify();
    }
}

/// The locks held on `key` (POSIX/OFD ranges, then `flock`s), for `/proc/locks` and
/// tests.
pub fn held(key: NodeKey) -> (Vec<RangeLock>, Vec<(usize, LockKind)>) {
    LOCKS.lock().get(&key).map(|n| (n.ranges.iter().copied().collect(), n.flocks.clone())).unwrap_or_default()
}
