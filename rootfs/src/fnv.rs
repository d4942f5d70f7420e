//! FNV-1a, the hasher of this crate's small in-memory indexes (names, 8.3 names, inode
//! numbers): their keys are short, and they need no protection from chosen collisions
//! (every key is already on the volume or made by this crate).

use core::hash::Hasher;

/// FNV-1a over the bytes written.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}
