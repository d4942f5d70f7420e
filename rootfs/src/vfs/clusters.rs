//! Clusters this layer takes and gives back itself: those of directories, which it grows
//! and removes behind fatfs (files' clusters stay fatfs's business).
//!
//! fatfs keeps two things about free clusters in memory. Its next-free hint is only where
//! its search starts: it reads the FAT entry of every cluster it considers, and sees this
//! layer's changes because they are dropped from its block cache (see `raw`). Its free
//! count, once known, is only ever adjusted by its own allocations and frees, so the
//! mount makes it known at once (fatfs counts the FAT if FSInfo has no valid count) and
//! this layer keeps the difference its own changes make: the volume's free count is
//! fatfs's plus [`Clusters::delta`].

use alloc::vec;

use libos::Errno;

use super::raw::RawVolume;
use crate::fat::{FAT_EOC, FAT_MASK};

/// FAT entries read at a time while looking for a free cluster.
const SCAN_ENTRIES: u32 = 1024;

/// This layer's cluster allocator.
pub(super) struct Clusters {
    /// Where the next search for a free cluster starts.
    hint: u32,
    /// Clusters freed minus clusters taken by this layer.
    delta: i64,
}

impl Clusters {
    pub fn new() -> Clusters {
        Clusters { hint: 2, delta: 0 }
    }

    /// The volume's free clusters, given fatfs's count.
    pub fn free_count(&self, fatfs_count: u32) -> u32 {
        (i64::from(fatfs_count) + self.delta).clamp(0, i64::from(u32::MAX)) as u32
    }

    /// Takes a free cluster for a directory: zeroes it, marks it as the end of a chain and
    /// links it after `prev` (the chain's last cluster), if any. ENOSPC if the volume is
    /// full.
    pub fn alloc(&mut self, raw: &mut RawVolume, prev: Option<u32>) -> Result<u32, Errno> {
        let c = self.find_free(raw)?;
        let zeros = vec![0u8; raw.geo.cluster_size as usize];
        raw.write(raw.geo.cluster_offset(c), &zeros)?;
        raw.set_fat_entry(c, FAT_EOC)?;
        self.delta -= 1;
        self.hint = c + 1;
        if let Some(p) = prev {
            if let Err(e) = raw.set_fat_entry(p, c) {
                // Not linked: give it back rather than lose it.
                let _ = self.free(raw, &[c]);
                return Err(e);
            }
        }
        Ok(c)
    }

    /// Marks the clusters of `chain` free.
    pub fn free(&mut self, raw: &mut RawVolume, chain: &[u32]) -> Result<(), Errno> {
        for &c in chain {
            raw.set_fat_entry(c, 0)?;
            self.delta += 1;
        }
        Ok(())
    }

    /// The first free cluster from the hint on, wrapping around once.
    fn find_free(&self, raw: &RawVolume) -> Result<u32, Errno> {
        let end = raw.geo.total_clusters + 2;
        let hint = if raw.geo.is_cluster(self.hint) { self.hint } else { 2 };
        if let Some(c) = Self::scan(raw, hint, end)? {
            return Ok(c);
        }
        Self::scan(raw, 2, hint)?.ok_or(Errno::ENOSPC)
    }

    /// The first free cluster in `from..to`.
    fn scan(raw: &RawVolume, from: u32, to: u32) -> Result<Option<u32>, Errno> {
        let mut buf = vec![0u8; SCAN_ENTRIES as usize * 4];
        let mut at = from;
        while at < to {
            let n = (to - at).min(SCAN_ENTRIES);
            let bytes = &mut buf[..n as usize * 4];
            raw.read(raw.geo.fat_entry_offset(at), bytes)?;
            let free = bytes.chunks_exact(4).position(|e| u32::from_le_bytes([e[0], e[1], e[2], e[3]]) & FAT_MASK == 0);
            if let Some(i) = free {
                return Ok(Some(at + i as u32));
            }
            at += n;
        }
        Ok(None)
    }
}
