//! Byte-range locks of one file (POSIX `F_SETLK` and open-file-description
//! `F_OFD_SETLK` locks), with Linux's rules for who conflicts and how one owner's
//! locks split and merge.
//!
//! Ranges are inclusive `[start, end]`; a lock "to the end of the file and beyond"
//! ends at [`OFFSET_MAX`]. An owner's own locks never conflict with each other: a new
//! lock first cuts the owner's existing locks out of its range (splitting a lock that
//! covers it on both sides), then joins neighbours of the same type that touch it —
//! exactly what Linux's `posix_lock_inode` leaves behind.

use alloc::vec::Vec;

/// The largest file offset (`OFFSET_MAX`, `LLONG_MAX`).
pub const OFFSET_MAX: u64 = i64::MAX as u64;

/// Read (shared) or write (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    Read,
    Write,
}

/// Who holds a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// The process (classic POSIX locks): one owner, whatever fd set them.
    Process,
    /// An open file description (OFD locks, `flock`), by its identity.
    Description(usize),
}

/// One held lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeLock {
    pub owner: Owner,
    pub kind: LockKind,
    pub start: u64,
    pub end: u64,
}

impl RangeLock {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start <= end && start <= self.end
    }
}

/// The range locks of one file, in the order they were set.
#[derive(Debug, Default, Clone)]
pub struct RangeLocks {
    locks: Vec<RangeLock>,
}

impl RangeLocks {
    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &RangeLock> {
        self.locks.iter()
    }

    /// The first lock of another owner that a `kind` lock of `owner` over
    /// `[start, end]` would conflict with (two read locks never conflict).
    pub fn conflict(&self, owner: Owner, kind: LockKind, start: u64, end: u64) -> Option<RangeLock> {
        self.locks
            .iter()
            .find(|l| {
                l.owner != owner && l.overlaps(start, end) && (kind == LockKind::Write || l.kind == LockKind::Write)
            })
            .copied()
    }

    /// Sets (`Some(kind)`) or removes (`None`) `owner`'s lock over `[start, end]`,
    /// assuming no conflict (check [`RangeLocks::conflict`] first). Returns whether
    /// anything another owner could be waiting for was released or downgraded.
    pub fn set(&mut self, owner: Owner, kind: Option<LockKind>, start: u64, end: u64) -> bool {
        let mut released = false;
        let mut kept = Vec::with_capacity(self.locks.len() + 1);
        for l in self.locks.drain(..) {
            if l.owner != owner || !l.overlaps(start, end) {
                kept.push(l);
                continue;
            }
            // Anything other than keeping a write lock as it was frees something.
            if !(l.kind == LockKind::Write && kind == Some(LockKind::Write)) {
                released = true;
            }
            if l.start < start {
                kept.push(RangeLock { end: start - 1, ..l });
            }
            if l.end > end {
                kept.push(RangeLock { start: end + 1, ..l });
            }
        }
        self.locks = kept;
        if let Some(kind) = kind {
            let (mut start, mut end) = (start, end);
            // Join the owner's same-type locks that touch the new one.
            self.locks.retain(|l| {
                let touches = l.owner == owner
                    && l.kind == kind
                    && (l.end.checked_add(1) == Some(start) || end.checked_add(1) == Some(l.start));
                if touches {
                    start = start.min(l.start);
                    end = end.max(l.end);
                }
                !touches
            });
            self.locks.push(RangeLock { owner, kind, start, end });
        }
        released
    }

    /// Drops every lock of `owner`; returns whether there was any.
    pub fn remove_owner(&mut self, owner: Owner) -> bool {
        let before = self.locks.len();
        self.locks.retain(|l| l.owner != owner);
        self.locks.len() != before
    }

    /// The locks `owner` holds, sorted by start.
    pub fn of(&self, owner: Owner) -> Vec<RangeLock> {
        let mut v: Vec<RangeLock> = self.locks.iter().filter(|l| l.owner == owner).copied().collect();
        v.sort_by_key(|l| l.start);
        v
    }
}
