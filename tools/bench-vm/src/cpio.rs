//! A writer for the cpio "newc" format, the one Linux unpacks as an initramfs
//! (`Documentation/driver-api/early-userspace/buffer-format.rst`).
//!
//! Each entry is a 110-byte ASCII header (`070701` and thirteen 8-digit hex fields), the
//! NUL-terminated name, padding to 4 bytes, the data, padding to 4 bytes. The archive ends
//! with an entry named `TRAILER!!!`. Linux takes the archive uncompressed as well as
//! compressed, so none is applied here (the initramfs of a static binary is small).

/// An archive under construction, in memory.
#[derive(Default)]
pub struct Cpio {
    out: Vec<u8>,
    next_ino: u32,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;

impl Cpio {
    pub fn new() -> Cpio {
        Cpio { out: Vec::new(), next_ino: 1 }
    }

    /// A directory (`name` without a leading `/`, e.g. `bench-vm`).
    pub fn dir(&mut self, name: &str) {
        self.entry(name, S_IFDIR | 0o755, &[]);
    }

    /// A regular file with mode `perm` (e.g. 0o755).
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, S_IFREG | (perm & 0o7777), data);
    }

    /// Closes the archive and returns its bytes (padded to 512, as cpio(1) does).
    pub fn finish(mut self) -> Vec<u8> {
        self.header("TRAILER!!!", 0, 0, 0, 1);
        let pad = (512 - self.out.len() % 512) % 512;
        self.out.resize(self.out.len() + pad, 0);
        self.out
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        let ino = self.next_ino;
        self.next_ino += 1;
        let nlink = if mode & S_IFDIR != 0 { 2 } else { 1 };
        let size = u32::try_from(data.len()).expect("a cpio entry is at most 4 GiB");
        self.header(name, ino, mode, size, nlink);
        self.out.extend_from_slice(data);
        self.pad4();
    }

    fn header(&mut self, name: &str, ino: u32, mode: u32, size: u32, nlink: u32) {
        assert!(!name.is_empty() && !name.contains('\0'), "bad cpio name {name:?}");
        let namesize = name.len() as u32 + 1;
        // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
        let fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, namesize, 0];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad4();
    }

    fn pad4(&mut self) {
        let pad = (4 - self.out.len() % 4) % 4;
        self.out.resize(self.out.len() + pad, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> u32 {
        u32::from_str_radix(std::str::from_utf8(b).unwrap(), 16).unwrap()
    }

    /// Walks an archive the way the kernel's unpacker does: (name, mode, data) per entry.
    fn parse(mut a: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
        let mut out = Vec::new();
        let total = a.len();
        loop {
            let at = total - a.len();
            assert_eq!(at % 4, 0, "entry at {at} not 4-aligned");
            assert_eq!(&a[..6], b"070701");
            let field = |i: usize| hex(&a[6 + 8 * i..14 + 8 * i]);
            let (mode, size, namesize) = (field(1), field(6) as usize, field(11) as usize);
            let name = std::str::from_utf8(&a[110..110 + namesize - 1]).unwrap().to_string();
            assert_eq!(a[110 + namesize - 1], 0);
            let data_at = (110 + namesize).div_ceil(4) * 4;
            let data = a[data_at..data_at + size].to_vec();
            a = &a[(data_at + size).div_ceil(4) * 4..];
            if name == "TRAILER!!!" {
                assert!(a.iter().all(|&b| b == 0));
                return out;
            }
            out.push((name, mode, data));
        }
    }

    #[test]
    fn round_trip() {
        let mut c = Cpio::new();
        c.dir("bench-vm");
        c.file("bench-vm/argv", 0o644, b"/init\0");
        c.file("init", 0o755, b"\x7fELF12345");
        c.file("empty", 0o644, b"");
        let bytes = c.finish();
        assert_eq!(bytes.len() % 512, 0);
        let entries = parse(&bytes);
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0], ("bench-vm".into(), 0o040755, vec![]));
        assert_eq!(entries[1], ("bench-vm/argv".into(), 0o100644, b"/init\0".to_vec()));
        assert_eq!(entries[2], ("init".into(), 0o100755, b"\x7fELF12345".to_vec()));
        assert_eq!(entries[3], ("empty".into(), 0o100644, vec![]));
    }

    #[test]
    fn header_layout() {
        let mut c = Cpio::new();
        c.file("a", 0o755, b"xy");
        let b = c.finish();
        // 110-byte header + "a\0" = 112 (aligned), then "xy" padded to 4.
        let fields = [
            "00000001", "000081ED", "00000000", "00000000", "00000001", "00000000", "00000002", "00000000", "00000000",
            "00000000", "00000000", "00000002", "00000000",
        ];
        assert_eq!(&b[..110], format!("070701{}", fields.concat()).as_bytes());
        assert_eq!(&b[110..116], b"a\0xy\0\0");
    }
}
