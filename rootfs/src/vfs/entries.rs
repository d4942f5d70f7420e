//! Directory entries written, moved and removed by this layer itself, at their slots.
//!
//! fatfs 0.3.6 creates, removes and renames by scanning the whole directory (for the name,
//! for a free 8.3 alias, for free slots), which makes a directory of n entries cost O(n²)
//! to fill or empty. Here each of those costs O(name length): the directory's [`Layout`]
//! answers where free slots are and which 8.3 names are taken, the slots are written at
//! their place in the directory's clusters, and the fatfs `DirEntry` of a new entry (for
//! its `File` or `Dir` handle) is read by continuing fatfs's iteration from the entry just
//! before it.
//!
//! fatfs stays consistent with what is written here:
//! - it never writes to a directory any more: nothing here calls its `create_*`,
//!   `remove` or `rename`, and a directory handle (`Dir`, `DirIter`) only writes the
//!   directory's own entry when something was written through it;
//! - a file's `File` handle writes its entry (size, first cluster, times) where it was
//!   when the handle was made: an entry is moved only after its handle is settled, and the
//!   node gets a new handle for the new place;
//! - what this layer writes is dropped from fatfs's block cache (see `raw`), and clusters
//!   it takes or frees are accounted for beside fatfs's free count (see `clusters`).

use alloc::vec;
use alloc::vec::Vec;

use libos::Errno;

use super::errno::io;
use super::layout::Placed;
use super::state::{known_of, Body, FEntry, State};
use crate::fat::entry::{lfn_checksum, long_entries, set_times, short_text, slots_for, Stamp, DELETED, SLOT};
use crate::fat::short_name::alias;

impl State {
    /// Writes an entry called `name` into directory `dir`: its long-name slots and the 8.3
    /// slot `sfn`, whose name field is set here to a free alias. Grows the directory if it
    /// has no room (ENOSPC if the volume or the directory is full). Returns where the entry
    /// is and fatfs's `DirEntry` for it.
    pub fn put_entry(&mut self, dir: u64, name: &str, mut sfn: [u8; 32]) -> Result<(Placed, FEntry), Errno> {
        let count = slots_for(name);
        let short = alias(name, self.layout(dir)?.taken());
        let start = self.room(dir, count)?;
        sfn[..11].copy_from_slice(&short);
        let mut bytes = Vec::with_capacity(count as usize * SLOT);
        long_entries(&mut bytes, name, lfn_checksum(&short));
        bytes.extend_from_slice(&sfn);
        let placed = Placed { start, count, short };
        let layout = &mut known_of(&mut self.nodes, dir)?.layout;
        for (off, first, n) in layout.extents(&self.raw.geo, start, count) {
            self.raw.write(off, &bytes[first as usize * SLOT..(first + n) as usize * SLOT])?;
        }
        if let Some(marker) = layout.occupy(&placed) {
            let (off, _, _) = layout.extents(&self.raw.geo, marker, 1)[0];
            self.raw.write(off, &[0u8; SLOT])?;
        }
        let entry = self.fetch(dir, &placed)?;
        Ok((placed, entry))
    }

    /// The first slot of a free run of `count` slots in directory `dir`, adding clusters to
    /// it until it has one.
    fn room(&mut self, dir: u64, count: u32) -> Result<u32, Errno> {
        loop {
            let layout = &mut known_of(&mut self.nodes, dir)?.layout;
            if let Some(start) = layout.room(count) {
                return Ok(start);
            }
            if !layout.can_grow() {
                return Err(Errno::ENOSPC);
            }
            let last = layout.chain.last().copied();
            let cluster = self.clusters.alloc(&mut self.raw, last)?;
            layout.grow(cluster);
        }
    }

    /// fatfs's `DirEntry` for the entry at `placed` in directory `dir`: the next one its
    /// iteration finds after the entry before it (or from the start of the directory).
    fn fetch(&mut self, dir: u64, placed: &Placed) -> Result<FEntry, Errno> {
        let Some(Body::Dir { dir: handle, known: Some(known) }) = self.nodes.get_mut(&dir).map(|n| &mut n.body) else {
            return Err(Errno::EIO);
        };
        let mut it = match known.layout.iter_before(placed.start) {
            Some(it) => it.clone(),
            None => handle.iter(),
        };
        let (want, len) = short_text(&placed.short);
        loop {
            // 8.3 names are unique in a directory; not finding it means the volume changed
            // under this layer.
            let e = io(it.next().ok_or(Errno::EIO)?)?;
            if e.short_file_name_as_bytes() == &want[..len] {
                known.layout.after.insert(placed.sfn(), it);
                return Ok(e);
            }
        }
    }

    /// Marks the slots of the entry at `placed` in directory `dir` free.
    pub fn erase_entry(&mut self, dir: u64, placed: &Placed) -> Result<(), Errno> {
        let layout = &mut known_of(&mut self.nodes, dir)?.layout;
        for (off, _, n) in layout.extents(&self.raw.geo, placed.start, placed.count) {
            let mut slots = vec![0u8; n as usize * SLOT];
            self.raw.read(off, &mut slots)?;
            for slot in slots.chunks_exact_mut(SLOT) {
                slot[0] = DELETED;
            }
            self.raw.write(off, &slots)?;
        }
        layout.vacate(placed);
        Ok(())
    }

    /// The 8.3 slot of the entry at `placed` in directory `dir`, and where it is.
    fn short_slot(&mut self, dir: u64, placed: &Placed) -> Result<([u8; 32], u64), Errno> {
        let layout = &known_of(&mut self.nodes, dir)?.layout;
        let (off, _, _) = layout.extents(&self.raw.geo, placed.sfn(), 1)[0];
        let mut sfn = [0u8; 32];
        self.raw.read(off, &mut sfn)?;
        Ok((sfn, off))
    }

    /// Moves node `ino`'s entry to directory `to` under `name`, keeping everything else
    /// its 8.3 entry holds; the node gets handles for the new place. The new entry is
    /// written before the old one goes, as vfat does.
    pub fn move_entry(&mut self, ino: u64, to: u64, name: &str) -> Result<(), Errno> {
        let node = self.node_mut(ino)?;
        node.settle()?;
        let (from, old) = (node.parent, node.entry.ok_or(Errno::EIO)?);
        let (sfn, _) = self.short_slot(from, &old)?;
        let (placed, entry) = self.put_entry(to, name, sfn)?;
        self.erase_entry(from, &old)?;
        let node = self.node_mut(ino)?;
        node.entry = Some(placed);
        match &mut node.body {
            Body::File(f) => *f = entry.to_file(),
            Body::Dir { dir, .. } => *dir = entry.to_dir(),
        }
        Ok(())
    }

    /// Writes directory `dir`'s access date and modification time, as its node has them,
    /// into its entry (the root has none). fatfs's `Dir` handles cannot.
    pub fn write_dir_times(&mut self, dir: u64) -> Result<(), Errno> {
        let node = self.node(dir)?;
        let Some(placed) = node.entry else { return Ok(()) };
        let (parent, atime, mtime) = (node.parent, node.atime, node.mtime);
        let (mut sfn, off) = self.short_slot(parent, &placed)?;
        set_times(&mut sfn, Stamp::of(atime), Stamp::of(mtime));
        self.raw.write(off, &sfn)
    }
}
