//! Directory entries as they are on the volume: 32-byte slots, an 8.3 entry for every name,
//! preceded by the long-name entries that hold its long name (13 UTF-16 units each, last
//! part first), exactly as fatfs 0.3.6 writes them.

use alloc::vec::Vec;

use crate::time::unix_to_datetime;

/// Bytes per directory slot.
pub(crate) const SLOT: usize = 32;
/// UTF-16 units per long-name slot.
const LFN_UNITS: usize = 13;
/// The attribute byte of a long-name slot (read-only, hidden, system, volume label).
pub(crate) const ATTR_LFN: u8 = 0x0F;
pub(crate) const ATTR_VOLUME_ID: u8 = 0x08;
pub(crate) const ATTR_DIRECTORY: u8 = 0x10;
pub(crate) const ATTR_ARCHIVE: u8 = 0x20;
/// Offset of the attribute byte in a slot.
pub(crate) const ATTR: usize = 11;
/// The first byte of a free slot that is not the end of the directory.
pub(crate) const DELETED: u8 = 0xE5;
/// The 8.3 names of a directory's first two entries.
pub(crate) const DOT: [u8; 11] = *b".          ";
pub(crate) const DOTDOT: [u8; 11] = *b"..         ";
/// The longest entry: 255 UTF-16 units in 20 long-name slots, and the 8.3 slot.
pub(crate) const MAX_ENTRY_SLOTS: u32 = 21;

const ACCESS_DATE: usize = 18;
const CLUSTER_HI: usize = 20;
const MODIFY_TIME: usize = 22;
const CLUSTER_LO: usize = 26;

/// DOS date and time fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) date: u16,
    pub(crate) time: u16,
}

impl Stamp {
    /// `unix` seconds (clamped to FAT's 1980–2107), to FAT's 2 seconds.
    pub(crate) fn of(unix: i64) -> Stamp {
        let dt = unix_to_datetime(unix);
        let (d, t) = (dt.date, dt.time);
        Stamp {
            date: ((d.year - 1980) << 9) | (d.month << 5) | d.day,
            time: (t.hour << 11) | (t.min << 5) | (t.sec / 2),
        }
    }
}

/// A 32-byte 8.3 entry.
pub(crate) fn short_entry(
    name: &[u8; 11],
    attr: u8,
    cluster: u32,
    size: u32,
    created: Stamp,
    modified: Stamp,
) -> [u8; 32] {
    let mut e = [0u8; 32];
    e[..11].copy_from_slice(name);
    e[ATTR] = attr;
    e[14..16].copy_from_slice(&created.time.to_le_bytes());
    e[16..18].copy_from_slice(&created.date.to_le_bytes());
    e[ACCESS_DATE..ACCESS_DATE + 2].copy_from_slice(&created.date.to_le_bytes());
    set_first_cluster(&mut e, cluster);
    set_modified(&mut e, modified);
    e[28..32].copy_from_slice(&size.to_le_bytes());
    e
}

/// The first cluster an 8.3 entry names (0 for none).
pub(crate) fn first_cluster(e: &[u8]) -> u32 {
    let hi = u16::from_le_bytes([e[CLUSTER_HI], e[CLUSTER_HI + 1]]);
    let lo = u16::from_le_bytes([e[CLUSTER_LO], e[CLUSTER_LO + 1]]);
    (u32::from(hi) << 16) | u32::from(lo)
}

pub(crate) fn set_first_cluster(e: &mut [u8], cluster: u32) {
    e[CLUSTER_HI..CLUSTER_HI + 2].copy_from_slice(&((cluster >> 16) as u16).to_le_bytes());
    e[CLUSTER_LO..CLUSTER_LO + 2].copy_from_slice(&(cluster as u16).to_le_bytes());
}

fn set_modified(e: &mut [u8], modified: Stamp) {
    e[MODIFY_TIME..MODIFY_TIME + 2].copy_from_slice(&modified.time.to_le_bytes());
    e[MODIFY_TIME + 2..MODIFY_TIME + 4].copy_from_slice(&modified.date.to_le_bytes());
}

/// Sets an 8.3 entry's access date (the day of `accessed`) and modification time.
pub(crate) fn set_times(e: &mut [u8], accessed: Stamp, modified: Stamp) {
    e[ACCESS_DATE..ACCESS_DATE + 2].copy_from_slice(&accessed.date.to_le_bytes());
    set_modified(e, modified);
}

/// The checksum of an 8.3 name that its long-name entries carry.
pub(crate) fn lfn_checksum(short: &[u8; 11]) -> u8 {
    short.iter().fold(0u8, |sum, &b| sum.rotate_right(1).wrapping_add(b))
}

/// The slots an entry called `name` takes: its long-name slots and the 8.3 slot.
pub(crate) fn slots_for(name: &str) -> u32 {
    (name.encode_utf16().count().div_ceil(LFN_UNITS) + 1) as u32
}

/// Appends the long-name entries for `name`, last part first, as fatfs writes them.
pub(crate) fn long_entries(out: &mut Vec<u8>, name: &str, checksum: u8) {
    let units: Vec<u16> = name.encode_utf16().collect();
    let parts: Vec<&[u16]> = units.chunks(LFN_UNITS).collect();
    for (k, part) in parts.iter().enumerate().rev() {
        let mut chars = [0xFFFFu16; LFN_UNITS];
        chars[..part.len()].copy_from_slice(part);
        if part.len() < LFN_UNITS {
            chars[part.len()] = 0;
        }
        let mut e = [0u8; 32];
        e[0] = (k + 1) as u8 | if k + 1 == parts.len() { 0x40 } else { 0 };
        e[ATTR] = ATTR_LFN;
        e[13] = checksum;
        let slots = (1..11).step_by(2).chain((14..26).step_by(2)).chain((28..32).step_by(2));
        for (slot, c) in slots.zip(chars) {
            e[slot..slot + 2].copy_from_slice(&c.to_le_bytes());
        }
        out.extend_from_slice(&e);
    }
}

/// An 8.3 name as fatfs shows it (`short_file_name_as_bytes`): base, a dot and the
/// extension if there is one, without padding; a leading 0x05 stands for 0xE5.
pub(crate) fn short_text(name: &[u8; 11]) -> ([u8; 12], usize) {
    let trimmed = |part: &[u8]| part.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    let (base, ext) = (trimmed(&name[..8]), trimmed(&name[8..]));
    let mut out = [b' '; 12];
    out[..base].copy_from_slice(&name[..base]);
    let len = if ext > 0 {
        out[base] = b'.';
        out[base + 1..base + 1 + ext].copy_from_slice(&name[8..8 + ext]);
        base + 1 + ext
    } else {
        base
    };
    if out[0] == 0x05 {
        out[0] = DELETED;
    }
    (out, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfn_checksum_is_the_rotating_sum() {
        // The FAT specification's algorithm, spelled out.
        let mut sum = 0u8;
        for &b in b"FOO     BAR" {
            sum = ((sum & 1) << 7).wrapping_add(sum >> 1).wrapping_add(b);
        }
        assert_eq!(lfn_checksum(b"FOO     BAR"), sum);
    }

    #[test]
    fn slots_count_long_name_parts() {
        assert_eq!(slots_for("a"), 2);
        assert_eq!(slots_for("abcdefghijklm"), 2);
        assert_eq!(slots_for("abcdefghijklmn"), 3);
        assert_eq!(slots_for(&"x".repeat(255)), MAX_ENTRY_SLOTS);
        let mut out = Vec::new();
        long_entries(&mut out, "abcdefghijklmn", 7);
        assert_eq!(out.len(), 2 * SLOT);
        assert_eq!((out[0], out[SLOT]), (0x42, 0x01), "last part first, flagged");
    }

    #[test]
    fn short_text_is_what_fatfs_shows() {
        let text = |n: &[u8; 11]| {
            let (b, len) = short_text(n);
            b[..len].to_vec()
        };
        assert_eq!(text(b"README  TXT"), b"README.TXT");
        assert_eq!(text(b"MAKEFILE   "), b"MAKEFILE");
        assert_eq!(text(b"\x05BC     D  "), b"\xe5BC.D");
    }

    #[test]
    fn entry_fields_round_trip() {
        let s = Stamp::of(1_700_000_000);
        let e = short_entry(b"A          ", ATTR_DIRECTORY, 0x0012_3456, 0, s, s);
        assert_eq!(first_cluster(&e), 0x0012_3456);
        assert_eq!(e[ATTR], ATTR_DIRECTORY);
    }
}
