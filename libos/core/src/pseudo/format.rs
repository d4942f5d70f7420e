//! Text formats several pseudo files share.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// The CPUs of `mask` as a Linux CPU list (`/sys/devices/system/cpu/online`,
/// `Cpus_allowed_list`): ranges joined by commas, `0-3,6`. Empty for an empty mask.
pub(crate) fn cpu_list(mask: u64) -> String {
    let mut out = String::new();
    let mut cpu = 0u32;
    while cpu < 64 {
        if mask & (1 << cpu) == 0 {
            cpu += 1;
            continue;
        }
        let first = cpu;
        while cpu < 64 && mask & (1 << cpu) != 0 {
            cpu += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        let last = cpu - 1;
        if first == last {
            let _ = write!(out, "{first}");
        } else {
            let _ = write!(out, "{first}-{last}");
        }
    }
    out
}

/// How many CPU ids a machine with CPU mask `mask` has (`nr_cpu_ids`): one past the
/// highest CPU (at least 1).
pub(crate) fn nr_cpu_ids(mask: u64) -> u32 {
    (64 - mask.leading_zeros()).max(1)
}

/// `mask` as Linux's `%*pb` prints a bitmap of `nr_cpu_ids` bits (`Cpus_allowed`): hex
/// in 32-bit groups separated by commas, most significant first; the first group has
/// only as many digits as its bits need.
pub(crate) fn cpu_bitmap(mask: u64) -> String {
    let bits = nr_cpu_ids(mask);
    let mut out = String::new();
    let groups = bits.div_ceil(32);
    for g in (0..groups).rev() {
        let chunk = (mask >> (32 * g)) as u32;
        if g == groups - 1 {
            let top_bits = bits - 32 * g;
            let digits = top_bits.div_ceil(4) as usize;
            let _ = write!(out, "{chunk:0digits$x}");
        } else {
            let _ = write!(out, ",{chunk:08x}");
        }
    }
    out
}

/// The major number of a device number encoded as `makedev` does.
pub(crate) const fn major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32
}

/// The minor number of a device number encoded as `makedev` does.
pub(crate) const fn minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32
}

/// A path as the mount table prints it: space, tab, newline and backslash become
/// `\040`, `\011`, `\012` and `\134` (Linux's `mangle`).
pub(crate) fn escape_mount_path(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for &b in path {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => {
                out.push(b'\\');
                out.push(b'0' + (b >> 6));
                out.push(b'0' + ((b >> 3) & 7));
                out.push(b'0' + (b & 7));
            }
            _ => out.push(b),
        }
    }
    out
}

/// Bytes as a `String`, for building text with `write!` (the pseudo files are ASCII
/// except for names, which are copied as bytes).
pub(crate) fn text(build: impl FnOnce(&mut String)) -> Vec<u8> {
    let mut s = String::new();
    build(&mut s);
    s.into_bytes()
}

/// A random version-4 UUID in its text form (`/proc/sys/kernel/random/uuid`).
pub(crate) fn uuid_v4(random: [u8; 16]) -> String {
    let mut b = random;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfs::makedev;

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_list(0), "");
        assert_eq!(cpu_list(1), "0");
        assert_eq!(cpu_list(0b1111), "0-3");
        assert_eq!(cpu_list(0b1011_0101), "0,2,4-5,7");
        assert_eq!(cpu_list(u64::MAX), "0-63");
        assert_eq!(cpu_list(1 << 63 | 1 << 62), "62-63");
    }

    #[test]
    fn cpu_bitmaps_as_linux_prints_them() {
        assert_eq!(cpu_bitmap(0b11), "3");
        assert_eq!(cpu_bitmap(0b1111), "f");
        assert_eq!(cpu_bitmap(0xff), "ff");
        assert_eq!(cpu_bitmap(0b1_0000), "10");
        assert_eq!(cpu_bitmap(0xffff_ffff), "ffffffff");
        assert_eq!(cpu_bitmap(0x1_ffff_ffff), "1,ffffffff");
        assert_eq!(cpu_bitmap(u64::MAX), "ffffffff,ffffffff");
    }

    #[test]
    fn device_numbers_round_trip() {
        for (ma, mi) in [(0, 0), (1, 3), (136, 0), (254, 0), (259, 300), (4095, 1 << 19), (1 << 12, 5)] {
            let dev = makedev(ma, mi);
            assert_eq!((major(dev), minor(dev)), (ma, mi));
        }
    }

    #[test]
    fn mount_paths_are_escaped() {
        assert_eq!(escape_mount_path(b"/a b\t\\c\n"), b"/a\\040b\\011\\134c\\012");
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid_v4([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let u = uuid_v4([0; 16]);
        assert_eq!(u, "00000000-0000-4000-8000-000000000000");
    }
}
