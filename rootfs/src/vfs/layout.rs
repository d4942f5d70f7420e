//! Where a directory's entries are on the volume: its cluster chain, which of its 32-byte
//! slots are free, the 8.3 names its entries have, and for each entry a fatfs iterator
//! that stands just past it.
//!
//! Read once, with the directory's listing, in one pass over its clusters; then kept up to
//! date by this layer, which is the only writer of directories. With it, creating an entry
//! costs no scan: the 8.3 alias is checked against the set of names, the slots come from
//! the free runs (`free_runs`), and the fatfs `DirEntry` for the new entry (which gives the
//! fatfs `File` that reads and writes its data) is read by continuing, from the entry just
//! before the new one, the fatfs iteration that passed it.
//!
//! Slot `i` of a directory is byte `32 × (i mod n)` of its cluster `i div n` (`n` slots per
//! cluster). Slots are free if their first byte is 0xE5 (a removed entry) or if they come
//! after the end marker (the first slot whose first byte is 0), as FAT defines. An entry is
//! the slots fatfs gives it: from just past the previous entry or free slot up to its 8.3
//! slot, long-name slots included.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use libos::Errno;

use super::free_runs::FreeRuns;
use super::raw::RawVolume;
use super::state::FIter;
use crate::fat::entry::{ATTR, ATTR_LFN, ATTR_VOLUME_ID, DELETED, SLOT};
use crate::fat::geometry::Geometry;
use crate::fat::short_name::NameSet;

/// A FAT directory holds at most 65,536 slots (2 MiB; vfat's `FAT_MAX_DIR_ENTRIES`).
pub(super) const MAX_DIR_SLOTS: u32 = 65_536;

/// Where an entry is in its directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Placed {
    /// Its first slot (of its long name, if it has one).
    pub start: u32,
    /// Its slots, the 8.3 slot last.
    pub count: u32,
    /// Its 8.3 name.
    pub short: [u8; 11],
}

impl Placed {
    /// The slot of the 8.3 entry.
    pub fn sfn(&self) -> u32 {
        self.start + self.count - 1
    }
}

/// An entry found on the volume (including `.` and `..`).
pub(super) struct Found {
    pub placed: Placed,
    /// Its 8.3 slot.
    pub entry: [u8; 32],
}

/// The slots of one directory.
pub(super) struct Layout {
    pub chain: Vec<u32>,
    per_cluster: u32,
    free: FreeRuns,
    /// The 8.3 names of the entries (not of the volume label).
    taken: NameSet,
    /// The end marker: no slot from here on has been used.
    end: u32,
    /// Whether every slot from `end` on is zero. If not (left so by another system), an
    /// entry written at the end is followed by a new end marker.
    zero_tail: bool,
    /// For each entry, by its 8.3 slot, a fatfs iterator whose next entry is the one after.
    pub after: BTreeMap<u32, FIter>,
}

impl Layout {
    /// A directory just made in `cluster` (zeroed, with `.` and `..` in its first slots).
    pub fn new_dir(cluster: u32, geo: &Geometry) -> Layout {
        let per_cluster = (geo.cluster_size / SLOT as u64) as u32;
        let mut free = FreeRuns::new();
        free.release(2, per_cluster - 2);
        Layout {
            chain: alloc::vec![cluster],
            per_cluster,
            free,
            taken: NameSet::default(),
            end: 2,
            zero_tail: true,
            after: BTreeMap::new(),
        }
    }

    /// Reads the directory whose clusters are `chain`: its layout, and its entries in order.
    pub fn read(raw: &RawVolume, chain: Vec<u32>) -> Result<(Layout, Vec<Found>), Errno> {
        let per_cluster = (raw.geo.cluster_size / SLOT as u64) as u32;
        let mut free = FreeRuns::new();
        let mut taken = NameSet::default();
        let mut found = Vec::new();
        let mut end = None;
        let mut zero_tail = true;
        // The first slot of the entry being read, and the free run being read.
        let mut begin = 0u32;
        let mut run: Option<u32> = None;
        for (k, &cluster) in chain.iter().enumerate() {
            let data = raw.read_cluster(cluster)?;
            for (j, slot) in data.chunks_exact(SLOT).enumerate() {
                let i = k as u32 * per_cluster + j as u32;
                if end.is_some() {
                    zero_tail &= slot.iter().all(|&b| b == 0);
                    continue;
                }
                let is_free = match (slot[0], slot[ATTR]) {
                    (0, _) => {
                        end = Some(i);
                        true
                    }
                    (DELETED, _) => {
                        begin = i + 1;
                        true
                    }
                    (_, attr) if attr & ATTR_LFN == ATTR_LFN => false,
                    (_, attr) if attr & ATTR_VOLUME_ID != 0 => {
                        begin = i + 1;
                        false
                    }
                    _ => {
                        let mut entry = [0u8; 32];
                        entry.copy_from_slice(slot);
                        let mut short = [0u8; 11];
                        short.copy_from_slice(&slot[..11]);
                        taken.insert(short);
                        found.push(Found { placed: Placed { start: begin, count: i - begin + 1, short }, entry });
                        begin = i + 1;
                        false
                    }
                };
                match (is_free, run) {
                    (true, None) => run = Some(i),
                    (false, Some(s)) => {
                        free.release(s, i - s);
                        run = None;
                    }
                    _ => {}
                }
            }
        }
        let capacity = chain.len() as u32 * per_cluster;
        let end = end.unwrap_or(capacity);
        if let Some(s) = run {
            free.release(s, capacity - s);
        }
        let layout = Layout { chain, per_cluster, free, taken, end, zero_tail, after: BTreeMap::new() };
        Ok((layout, found))
    }

    /// Slots the directory's clusters hold.
    pub fn capacity(&self) -> u32 {
        self.chain.len() as u32 * self.per_cluster
    }

    /// Whether another cluster would still keep the directory within FAT's limit.
    pub fn can_grow(&self) -> bool {
        self.capacity() + self.per_cluster <= MAX_DIR_SLOTS
    }

    /// Adds `cluster` (zeroed, linked after the last one) to the directory.
    pub fn grow(&mut self, cluster: u32) {
        let old = self.capacity();
        self.chain.push(cluster);
        self.free.release(old, self.per_cluster);
    }

    /// Where `n` new slots can go: the first free run long enough.
    pub fn room(&self, n: u32) -> Option<u32> {
        self.free.first_fit(n)
    }

    /// The 8.3 names of the entries.
    pub fn taken(&self) -> &NameSet {
        &self.taken
    }

    /// Records the entry just written at `p`. Returns the slot where a new end marker must
    /// be written, if any.
    pub fn occupy(&mut self, p: &Placed) -> Option<u32> {
        self.free.take(p.start, p.count);
        self.taken.insert(p.short);
        let past = p.start + p.count;
        let marker = (past > self.end && !self.zero_tail && past < self.capacity()).then_some(past);
        self.end = self.end.max(past);
        marker
    }

    /// Records that the entry at `p` is gone.
    pub fn vacate(&mut self, p: &Placed) {
        self.free.release(p.start, p.count);
        self.taken.remove(&p.short);
        self.after.remove(&p.sfn());
    }

    /// The iterator standing just past the last entry before slot `slot`, if any.
    pub fn iter_before(&self, slot: u32) -> Option<&FIter> {
        self.after.range(..slot).next_back().map(|(_, it)| it)
    }

    /// The device extents of slots `start..start + n`: `(offset, first slot, slots)` for
    /// each piece within one cluster.
    pub fn extents(&self, geo: &Geometry, start: u32, n: u32) -> Vec<(u64, u32, u32)> {
        let mut out = Vec::new();
        let mut i = start;
        while i < start + n {
            let within = i % self.per_cluster;
            let k = (self.per_cluster - within).min(start + n - i);
            let cluster = self.chain[(i / self.per_cluster) as usize];
            out.push((geo.cluster_offset(cluster) + u64::from(within) * SLOT as u64, i - start, k));
            i += k;
        }
        out
    }
}
