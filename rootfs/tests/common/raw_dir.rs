//! A FAT32 volume changed and read behind the filesystem, as another system would: a
//! directory filled with many 8.3 entries (written after its last one, with clusters taken
//! from the FAT as a formatter would, and the FSInfo free count marked unknown), a slot
//! written anywhere, and the free clusters counted in the FAT.

use unify_rootfs::{BlockDevice, MemDevice};

struct Geometry {
    cluster_size: u64,
    fat_offset: u64,
    fat_bytes: u64,
    fats: u64,
    data_offset: u64,
    root_cluster: u32,
    fs_info: u64,
}

fn read(dev: &MemDevice, off: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    dev.read_at(off, &mut buf).unwrap();
    buf
}

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

impl Geometry {
    fn read(dev: &MemDevice) -> Geometry {
        let boot = read(dev, 0, 512);
        let bps = u16_at(&boot, 0x0b);
        let reserved = u16_at(&boot, 0x0e);
        let fats = u64::from(boot[0x10]);
        let fat_sectors = u64::from(u32_at(&boot, 0x24));
        Geometry {
            cluster_size: bps * u64::from(boot[0x0d]),
            fat_offset: reserved * bps,
            fat_bytes: fat_sectors * bps,
            fats,
            data_offset: (reserved + fats * fat_sectors) * bps,
            root_cluster: u32_at(&boot, 0x2c),
            fs_info: u16_at(&boot, 0x30) * bps,
        }
    }

    fn cluster_offset(&self, c: u32) -> u64 {
        self.data_offset + u64::from(c - 2) * self.cluster_size
    }

    fn next(&self, dev: &MemDevice, c: u32) -> Option<u32> {
        let v = u32_at(&read(dev, self.fat_offset + 4 * u64::from(c), 4), 0) & 0x0fff_ffff;
        (2..0x0fff_fff8).contains(&v).then_some(v)
    }

    fn set(&self, dev: &MemDevice, c: u32, v: u32) {
        for fat in 0..self.fats {
            dev.write_at(self.fat_offset + fat * self.fat_bytes + 4 * u64::from(c), &v.to_le_bytes()).unwrap();
        }
    }

    fn chain(&self, dev: &MemDevice, first: u32) -> Vec<u32> {
        let mut out = vec![first];
        while let Some(n) = self.next(dev, *out.last().unwrap()) {
            out.push(n);
        }
        out
    }

    /// A free cluster at or after `from`.
    fn free_from(&self, dev: &MemDevice, from: u32) -> u32 {
        let fat = read(dev, self.fat_offset, self.fat_bytes as usize);
        (from..).find(|&c| u32_at(&fat, 4 * c as usize) & 0x0fff_ffff == 0).unwrap()
    }
}

/// The first cluster of directory `/dir83` (an 8.3 name in upper case, in the root).
fn dir_cluster(dev: &MemDevice, g: &Geometry, dir83: &str) -> u32 {
    let mut want = [b' '; 11];
    want[..dir83.len()].copy_from_slice(dir83.as_bytes());
    for c in g.chain(dev, g.root_cluster) {
        let data = read(dev, g.cluster_offset(c), g.cluster_size as usize);
        for slot in data.chunks(32) {
            if slot[0] == 0 {
                break;
            }
            if slot[11] != 0x0f && slot[..11] == want {
                return ((u16_at(slot, 0x14) << 16) | u16_at(slot, 0x1a)) as u32;
            }
        }
    }
    panic!("directory {dir83} not found in the root");
}

/// Writes `slot` (32 bytes) as slot `i` of the first cluster of directory `/dir83`.
pub fn write_slot(dev: &MemDevice, dir83: &str, i: usize, slot: &[u8; 32]) {
    let g = Geometry::read(dev);
    let first = dir_cluster(dev, &g, dir83);
    dev.write_at(g.cluster_offset(first) + 32 * i as u64, slot).unwrap();
}

/// The free clusters the FAT shows, counted entry by entry, and the count the FSInfo
/// sector records.
pub fn free_clusters(dev: &MemDevice) -> (u32, u32) {
    let g = Geometry::read(dev);
    let boot = read(dev, 0, 512);
    let total = ((u32_at(&boot, 32) as u64 - g.data_offset / u16_at(&boot, 0x0b)) / u64::from(boot[0x0d]))
        .min(g.fat_bytes / 4 - 2);
    let fat = read(dev, g.fat_offset, g.fat_bytes as usize);
    let counted = (2..total as u32 + 2).filter(|&c| u32_at(&fat, 4 * c as usize) & 0x0fff_ffff == 0).count();
    (counted as u32, u32_at(&read(dev, g.fs_info + 488, 4), 0))
}

/// Appends an entry for an empty file called `base.ext` (8.3, shown in lower case) for
/// each of `names` to the directory `/dir83` (an 8.3 name in upper case, in the root).
pub fn append_files(dev: &MemDevice, dir83: &str, names: &[(String, String)]) {
    let g = Geometry::read(dev);
    let first = dir_cluster(dev, &g, dir83);
    let mut chain = g.chain(dev, first);
    // The position of the end marker.
    let per_cluster = (g.cluster_size / 32) as usize;
    let last = *chain.last().unwrap();
    let used = read(dev, g.cluster_offset(last), g.cluster_size as usize).chunks(32).position(|s| s[0] == 0);
    let mut slot = (chain.len() - 1) * per_cluster + used.unwrap_or(per_cluster);
    let needed = (slot + names.len()).div_ceil(per_cluster) + 1;
    let mut search = 3;
    while chain.len() < needed {
        let c = g.free_from(dev, search);
        search = c + 1;
        g.set(dev, *chain.last().unwrap(), c);
        g.set(dev, c, 0x0fff_ffff);
        dev.write_at(g.cluster_offset(c), &vec![0u8; g.cluster_size as usize]).unwrap();
        chain.push(c);
    }
    for (base, ext) in names {
        let mut e = [0u8; 32];
        e[..11].fill(b' ');
        e[..base.len()].copy_from_slice(base.to_uppercase().as_bytes());
        e[8..8 + ext.len()].copy_from_slice(ext.to_uppercase().as_bytes());
        e[11] = 0x20; // archive
        e[12] = 0x08 | 0x10; // base and extension shown in lower case
        e[0x10..0x12].copy_from_slice(&0x5b6eu16.to_le_bytes()); // 2025-11-14
        e[0x18..0x1a].copy_from_slice(&0x5b6eu16.to_le_bytes());
        let c = chain[slot / per_cluster];
        dev.write_at(g.cluster_offset(c) + (slot % per_cluster) as u64 * 32, &e).unwrap();
        slot += 1;
    }
    // The free count and the next-free hint are now unknown.
    dev.write_at(g.fs_info + 488, &[0xff; 8]).unwrap();
}
