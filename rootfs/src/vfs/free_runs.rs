//! The free 32-byte slots of one directory, as runs, so that a new entry's slots are found
//! without reading the directory.
//!
//! Runs are kept whole (two free runs never touch) in a map by start, and indexed by
//! length class: an entry needs at most 21 slots, so runs of 1 to 20 slots have a class
//! each and longer runs share the last. The first run that fits `n` slots — the lowest,
//! as vfat and fatfs choose — is the lowest start among the classes from `n` up: a lookup
//! in each of at most 21 ordered sets.

use alloc::collections::{BTreeMap, BTreeSet};

use crate::fat::entry::MAX_ENTRY_SLOTS;

const CLASSES: usize = MAX_ENTRY_SLOTS as usize;

/// Free slots of a directory.
pub(super) struct FreeRuns {
    /// Start → length.
    runs: BTreeMap<u32, u32>,
    /// Starts of the runs of each length class (`len.min(CLASSES) - 1`).
    by_class: [BTreeSet<u32>; CLASSES],
}

fn class(len: u32) -> usize {
    (len as usize).min(CLASSES) - 1
}

impl FreeRuns {
    pub fn new() -> FreeRuns {
        FreeRuns { runs: BTreeMap::new(), by_class: core::array::from_fn(|_| BTreeSet::new()) }
    }

    fn insert(&mut self, start: u32, len: u32) {
        self.runs.insert(start, len);
        self.by_class[class(len)].insert(start);
    }

    fn remove(&mut self, start: u32) -> u32 {
        let len = self.runs.remove(&start).unwrap_or(0);
        if len > 0 {
            self.by_class[class(len)].remove(&start);
        }
        len
    }

    /// The start of the first run of at least `n` (1 to 21) slots.
    pub fn first_fit(&self, n: u32) -> Option<u32> {
        debug_assert!((1..=MAX_ENTRY_SLOTS).contains(&n));
        self.by_class[class(n)..].iter().filter_map(|set| set.first().copied()).min()
    }

    /// Takes slots `start..start + n`, which lie in one free run.
    pub fn take(&mut self, start: u32, n: u32) {
        let Some((&run, &len)) = self.runs.range(..=start).next_back() else { return };
        debug_assert!(start + n <= run + len, "slots {start}+{n} not within the free run {run}+{len}");
        self.remove(run);
        if start > run {
            self.insert(run, start - run);
        }
        if start + n < run + len {
            self.insert(start + n, run + len - start - n);
        }
    }

    /// Gives back slots `start..start + n`, joining them to the runs they touch.
    pub fn release(&mut self, start: u32, n: u32) {
        let (mut start, mut len) = (start, n);
        if let Some((&prev, &plen)) = self.runs.range(..start).next_back() {
            debug_assert!(prev + plen <= start, "slots {start}+{n} are already free");
            if prev + plen == start {
                self.remove(prev);
                (start, len) = (prev, plen + len);
            }
        }
        if let Some(&next) = self.runs.range(start + len..).next().map(|(s, _)| s) {
            if next == start + len {
                len += self.remove(next);
            }
        }
        self.insert(start, len);
    }

    /// The runs, in order: `(start, length)`.
    #[cfg(test)]
    pub fn runs(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.runs.iter().map(|(&s, &l)| (s, l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn runs(f: &FreeRuns) -> Vec<(u32, u32)> {
        f.runs().collect()
    }

    #[test]
    fn first_fit_takes_the_lowest_run_that_is_long_enough() {
        let mut f = FreeRuns::new();
        f.release(2, 1);
        f.release(10, 3);
        f.release(20, 100);
        assert_eq!(f.first_fit(1), Some(2));
        assert_eq!(f.first_fit(2), Some(10));
        assert_eq!(f.first_fit(3), Some(10));
        assert_eq!(f.first_fit(4), Some(20));
        assert_eq!(f.first_fit(21), Some(20));
        f.take(10, 2);
        assert_eq!(runs(&f), [(2, 1), (12, 1), (20, 100)]);
        assert_eq!(f.first_fit(2), Some(20));
        f.take(20, 21);
        assert_eq!(runs(&f), [(2, 1), (12, 1), (41, 79)]);
    }

    #[test]
    fn released_slots_join_their_neighbours() {
        let mut f = FreeRuns::new();
        f.release(0, 2);
        f.release(5, 2);
        f.release(2, 3);
        assert_eq!(runs(&f), [(0, 7)]);
        f.take(3, 1);
        assert_eq!(runs(&f), [(0, 3), (4, 3)]);
        f.release(3, 1);
        assert_eq!(runs(&f), [(0, 7)]);
        assert_eq!(f.first_fit(8), None);
    }

    #[test]
    fn many_short_runs_stay_indexed() {
        let mut f = FreeRuns::new();
        for i in 0..1000 {
            f.release(i * 3, 2);
        }
        assert_eq!(f.first_fit(3), None);
        f.release(2, 1);
        assert_eq!(f.first_fit(3), Some(0));
        assert_eq!(f.first_fit(5), Some(0));
        assert_eq!(f.first_fit(6), None);
    }
}
