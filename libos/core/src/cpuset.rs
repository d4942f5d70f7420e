//! CPU sets as `sched_getaffinity` and `sched_setaffinity` carry them.

/// The most CPUs unify models (1024, glibc's `CPU_SETSIZE`).
pub const MAX_CPUS: usize = 1024;

/// A set of CPUs, with the size in bytes of the kernel's own mask (`cpumask_size()`:
/// what `sched_getaffinity` returns and the most `sched_setaffinity` reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSet {
    pub words: [u64; MAX_CPUS / 64],
    /// Bytes of `words` the kernel's mask covers: a multiple of 8, at most 128.
    pub size: usize,
}

impl CpuSet {
    /// The set of the CPUs in `mask` (CPUs 0–63), in a one-word kernel mask.
    pub fn from_mask(mask: u64) -> CpuSet {
        let mut words = [0; MAX_CPUS / 64];
        words[0] = mask;
        CpuSet { words, size: 8 }
    }

    /// An empty set the size of `like`'s kernel mask.
    pub fn empty(size: usize) -> CpuSet {
        CpuSet { words: [0; MAX_CPUS / 64], size: size.min(MAX_CPUS / 8) }
    }

    /// The mask's bytes as the kernel lays them out (little-endian words).
    pub fn bytes(&self) -> [u8; MAX_CPUS / 8] {
        let mut out = [0u8; MAX_CPUS / 8];
        for (chunk, w) in out.chunks_exact_mut(8).zip(self.words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Sets the mask from `bytes` (zero-extended).
    pub fn set_bytes(&mut self, bytes: &[u8]) {
        let mut all = [0u8; MAX_CPUS / 8];
        let n = bytes.len().min(all.len());
        all[..n].copy_from_slice(&bytes[..n]);
        for (w, chunk) in self.words.iter_mut().zip(all.chunks_exact(8)) {
            *w = u64::from_le_bytes(chunk.try_into().expect("chunks of 8"));
        }
    }

    /// One more than the highest CPU in the set (a lower bound of Linux's `nr_cpu_ids`).
    pub fn span(&self) -> usize {
        self.words.iter().rposition(|&w| w != 0).map_or(0, |i| i * 64 + 64 - self.words[i].leading_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_span() {
        let mut s = CpuSet::empty(32);
        assert_eq!(s.span(), 0);
        s.set_bytes(&[0b101, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(s.words[0], 0b101);
        assert_eq!(s.words[1], 1);
        assert_eq!(s.span(), 65);
        assert_eq!(&s.bytes()[..9], &[0b101, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(CpuSet::from_mask(0b11).span(), 2);
        assert_eq!(CpuSet::empty(4096).size, 128);
    }
}
