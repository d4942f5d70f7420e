//! Paths inside a volume and the names FAT accepts.

use alloc::vec::Vec;

use crate::FsError;

/// Longest name, in bytes, as Linux's `NAME_MAX`. (FAT's own limit is 255 UTF-16 units,
/// which every name of at most 255 UTF-8 bytes satisfies.)
pub const NAME_MAX: usize = 255;

/// Splits a volume path into its names. `/` separates; empty names and `.` are skipped, so
/// `""`, `"/"` and `"/."` all name the root. `..` is refused with [`FsError::InvalidArgument`]:
/// the VFS resolves it (it knows about mount points), this layer does not. A name longer than
/// [`NAME_MAX`] gives [`FsError::NameTooLong`].
pub fn components(path: &str) -> Result<Vec<&str>, FsError> {
    let mut out = Vec::new();
    for name in path.split('/') {
        match name {
            "" | "." => {}
            ".." => return Err(FsError::InvalidArgument),
            _ if name.len() > NAME_MAX => return Err(FsError::NameTooLong),
            _ => out.push(name),
        }
    }
    Ok(out)
}

/// Checks that FAT can store `name` as a long file name, with the rules fatfs 0.3.6 applies
/// (so that the error is ours, with the right errno, rather than fatfs's `Other`).
pub fn validate_name(name: &str) -> Result<(), FsError> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(FsError::InvalidName);
    }
    if name.len() > NAME_MAX {
        return Err(FsError::NameTooLong);
    }
    let ok = name.chars().all(|c| {
        c.is_ascii_alphanumeric() || ('\u{80}'..='\u{FFFF}').contains(&c) || "$%'-_@~`!(){}. +,;=[]^#&".contains(c)
    });
    if ok {
        Ok(())
    } else {
        Err(FsError::InvalidName)
    }
}

/// Whether two names are the same on FAT (which ignores case, as fatfs compares them: by
/// Unicode upper case).
pub fn same_name(a: &str, b: &str) -> bool {
    (a.len() == b.len() && a.eq_ignore_ascii_case(b))
        || a.chars().flat_map(char::to_uppercase).eq(b.chars().flat_map(char::to_uppercase))
}

/// Stable inode numbers for paths: FNV-1a over the upper-cased names, so that two
/// spellings of one path that differ in case get the same number. The root is 1, like vfat's.
///
/// FAT has no inode numbers and fatfs does not expose where an entry lives on disk, so this
/// is what `st_ino` and `d_ino` can be. It changes when a file is renamed (vfat's changes
/// too once the inode leaves the cache), and a path spelled with an 8.3 alias gets another
/// number than its long name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ino(u64);

impl Ino {
    const ROOT_HASH: u64 = 0xcbf2_9ce4_8422_2325;

    /// The hash state of a path.
    pub fn of(components: &[&str]) -> Ino {
        let mut h = Ino(Ino::ROOT_HASH);
        for name in components {
            h = h.child(name);
        }
        h
    }

    /// The state for the entry `name` inside this directory.
    pub fn child(self, name: &str) -> Ino {
        let mut h = self.0;
        for c in core::iter::once('/').chain(name.chars().flat_map(char::to_uppercase)) {
            let mut buf = [0; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        Ino(h)
    }

    /// The inode number.
    pub fn get(self) -> u64 {
        match self.0 {
            Ino::ROOT_HASH => 1,
            // Keep clear of 0 ("no inode" to some programs) and the root's 1.
            h @ 0..=1 => h + 2,
            h => h,
        }
    }
}

/// The inode number of a path (see [`Ino`]).
pub fn ino_of(components: &[&str]) -> u64 {
    Ino::of(components).get()
}
