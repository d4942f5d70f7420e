//! Reading a FAT32 volume's whole tree directly, in one pass over each directory (fatfs
//! looks a path up from the root for every file, which makes large directories quadratic).
//! Used to rebuild a kept image around new content.

use std::collections::HashSet;
use std::prelude::rust_2021::*;
use std::{format, vec};

use crate::fat::entry::{lfn_checksum, ATTR_DIRECTORY, ATTR_LFN, ATTR_VOLUME_ID, SLOT};
use crate::fat::geometry::Geometry;
use crate::time::datetime_to_unix;
use crate::{BlockDevice, FsError};

const FAT_BAD: u32 = 0x0FFF_FFF7;

/// A file or directory found on the volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    /// `/a/b`.
    pub(super) path: String,
    pub(super) dir: bool,
    pub(super) size: u64,
    /// Modification time, Unix seconds.
    pub(super) mtime: i64,
    /// Where a file's bytes are on the device: `(offset, length)`, in order.
    pub(super) extents: Vec<(u64, u64)>,
}

struct Fat {
    entries: Vec<u8>,
    clusters: u32,
}

impl Fat {
    /// The clusters of the chain starting at `first`; a chain that leaves the volume, loops
    /// or runs into a free or bad cluster is corrupt.
    fn chain(&self, first: u32) -> Result<Vec<u32>, FsError> {
        let mut out = Vec::new();
        let mut c = first;
        loop {
            if c < 2 || c >= self.clusters + 2 || out.len() > self.clusters as usize {
                return Err(FsError::Corrupt);
            }
            out.push(c);
            let at = c as usize * 4;
            let next = u32::from_le_bytes([
                self.entries[at],
                self.entries[at + 1],
                self.entries[at + 2],
                self.entries[at + 3],
            ]) & 0x0FFF_FFFF;
            match next {
                n if n > FAT_BAD => return Ok(out),
                0 | FAT_BAD => return Err(FsError::Corrupt),
                n => c = n,
            }
        }
    }
}

/// Runs of consecutive clusters as device extents, cut at `len` bytes.
fn extents(geo: &Geometry, chain: &[u32], mut len: u64) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &c in chain {
        if len == 0 {
            break;
        }
        let n = len.min(geo.cluster_size);
        let off = geo.cluster_offset(c);
        match out.last_mut() {
            Some((start, l)) if *start + *l == off => *l += n,
            _ => out.push((off, n)),
        }
        len -= n;
    }
    out
}

/// A long name being put together from its entries (last part first).
#[derive(Default)]
struct LongName {
    units: Vec<u16>,
    checksum: u8,
    /// The ordinal the next entry must have; 0 when complete or broken.
    expect: u8,
    valid: bool,
}

impl LongName {
    fn add(&mut self, e: &[u8]) {
        let ord = e[0] & 0x1F;
        if e[0] & 0x40 != 0 {
            *self = LongName { units: vec![0xFFFF; usize::from(ord) * 13], checksum: e[13], expect: ord, valid: true };
        }
        if !self.valid || ord == 0 || ord != self.expect || e[13] != self.checksum {
            self.valid = false;
            return;
        }
        let slots = (1..11).step_by(2).chain((14..26).step_by(2)).chain((28..32).step_by(2));
        for (k, slot) in slots.enumerate() {
            self.units[(usize::from(ord) - 1) * 13 + k] = u16::from_le_bytes([e[slot], e[slot + 1]]);
        }
        self.expect = ord - 1;
    }

    /// The name, if the sequence is complete and belongs to the 8.3 name `short`.
    fn take(&mut self, short: &[u8; 11]) -> Option<String> {
        let done = self.valid && self.expect == 0 && self.checksum == lfn_checksum(short);
        self.valid = false;
        if !done {
            return None;
        }
        let end = self.units.iter().position(|&u| u == 0 || u == 0xFFFF).unwrap_or(self.units.len());
        String::from_utf16(&self.units[..end]).ok().filter(|n| !n.is_empty())
    }
}

/// The name fatfs shows for an 8.3 entry without a long name.
fn short_display(name: &[u8; 11], flags: u8) -> String {
    let part = |bytes: &[u8], lower: bool| -> String {
        let text: String = bytes.iter().map(|&b| if b.is_ascii() { char::from(b) } else { '_' }).collect();
        let text = text.trim_end().to_string();
        if lower {
            text.to_ascii_lowercase()
        } else {
            text
        }
    };
    let base = part(&name[..8], flags & 0x08 != 0);
    let ext = part(&name[8..], flags & 0x10 != 0);
    if ext.is_empty() {
        base
    } else {
        format!("{base}.{ext}")
    }
}

fn le16(e: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([e[at], e[at + 1]])
}

/// Every file and directory on the volume, parents before children.
pub(super) fn read_tree<D: BlockDevice>(dev: &D) -> Result<Vec<Found>, FsError> {
    let geo = Geometry::read(dev)?;
    let mut entries = vec![0u8; (geo.total_clusters as usize + 2) * 4];
    dev.read_at(geo.fat_offset, &mut entries)?;
    let fat = Fat { entries, clusters: geo.total_clusters };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut pending = vec![(String::new(), geo.root_cluster)];
    while let Some((dir, first)) = pending.pop() {
        if !seen.insert(first) {
            return Err(FsError::Corrupt);
        }
        let chain = fat.chain(first)?;
        let mut data = vec![0u8; chain.len() * geo.cluster_size as usize];
        let mut at = 0;
        for (off, len) in extents(&geo, &chain, data.len() as u64) {
            dev.read_at(off, &mut data[at..at + len as usize])?;
            at += len as usize;
        }
        let mut long = LongName::default();
        for e in data.chunks_exact(SLOT) {
            match (e[0], e[11]) {
                (0, _) => break,
                (0xE5, _) => long.valid = false,
                (_, ATTR_LFN) => long.add(e),
                (_, attr) if attr & ATTR_VOLUME_ID != 0 => long.valid = false,
                _ => {
                    let mut short = [0u8; 11];
                    short.copy_from_slice(&e[..11]);
                    let name = long.take(&short);
                    if short[0] == 0x05 {
                        short[0] = 0xE5;
                    }
                    if &short == b".          " || &short == b"..         " {
                        continue;
                    }
                    let name = name.unwrap_or_else(|| short_display(&short, e[12]));
                    let path = format!("{dir}/{name}");
                    let cluster = u32::from(le16(e, 20)) << 16 | u32::from(le16(e, 26));
                    let (date, time) = (le16(e, 24), le16(e, 22));
                    let mtime = datetime_to_unix(fatfs::DateTime {
                        date: fatfs::Date { year: 1980 + (date >> 9), month: (date >> 5) & 0xF, day: date & 0x1F },
                        time: fatfs::Time {
                            hour: time >> 11,
                            min: (time >> 5) & 0x3F,
                            sec: (time & 0x1F) * 2,
                            millis: 0,
                        },
                    });
                    if e[11] & ATTR_DIRECTORY != 0 {
                        out.push(Found { path: path.clone(), dir: true, size: 0, mtime, extents: Vec::new() });
                        pending.push((path, cluster));
                    } else {
                        let size = u64::from(u32::from_le_bytes([e[28], e[29], e[30], e[31]]));
                        let extents = if size == 0 { Vec::new() } else { extents(&geo, &fat.chain(cluster)?, size) };
                        if extents.iter().map(|x| x.1).sum::<u64>() != size {
                            return Err(FsError::Corrupt);
                        }
                        out.push(Found { path, dir: false, size, mtime, extents });
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_show_as_fatfs_shows_them() {
        assert_eq!(short_display(b"README  TXT", 0), "README.TXT");
        assert_eq!(short_display(b"README  TXT", 0x08), "readme.TXT");
        assert_eq!(short_display(b"README  TXT", 0x18), "readme.txt");
        assert_eq!(short_display(b"MAKEFILE   ", 0), "MAKEFILE");
    }

    #[test]
    fn long_names_need_the_whole_sequence_and_the_checksum() {
        let short = *b"LONGNA~1TXT";
        let mut out = Vec::new();
        crate::fat::entry::long_entries(&mut out, "a long name.txt", lfn_checksum(&short));
        let mut long = LongName::default();
        for e in out.chunks_exact(32) {
            long.add(e);
        }
        assert_eq!(long.take(&short).as_deref(), Some("a long name.txt"));
        // The wrong 8.3 entry: not its long name.
        for e in out.chunks_exact(32) {
            long.add(e);
        }
        assert_eq!(long.take(b"OTHER   TXT"), None);
        // A part missing.
        for e in out.chunks_exact(32).skip(1) {
            long.add(e);
        }
        assert_eq!(long.take(&short), None);
    }
}
