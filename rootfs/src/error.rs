//! Errors: what a volume operation can fail with, and the Linux errno for each.

use core::fmt;

use crate::fio;

/// Why a [`BlockDevice`](crate::BlockDevice) request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoError {
    /// The request reaches past the end of the device.
    OutOfRange,
    /// The device does not accept writes.
    ReadOnly,
    /// The device failed. `errno` is the Linux error number when the platform knows one
    /// (the host's, for a file-backed device), else `EIO`.
    Device {
        /// A Linux errno.
        errno: i32,
    },
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IoError::OutOfRange => f.write_str("block device access past its end"),
            IoError::ReadOnly => f.write_str("block device is read-only"),
            IoError::Device { errno } => write!(f, "block device error (errno {errno})"),
        }
    }
}

/// Linux errno values used here (x86-64 numbering; rootfs does not depend on libos).
pub mod errno {
    /// No such file or directory.
    pub const ENOENT: i32 = 2;
    /// I/O error.
    pub const EIO: i32 = 5;
    /// Device or resource busy.
    pub const EBUSY: i32 = 16;
    /// File exists.
    pub const EEXIST: i32 = 17;
    /// Not a directory.
    pub const ENOTDIR: i32 = 20;
    /// Is a directory.
    pub const EISDIR: i32 = 21;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// File too large.
    pub const EFBIG: i32 = 27;
    /// No space left on device.
    pub const ENOSPC: i32 = 28;
    /// Read-only file system.
    pub const EROFS: i32 = 30;
    /// File name too long.
    pub const ENAMETOOLONG: i32 = 36;
    /// Directory not empty.
    pub const ENOTEMPTY: i32 = 39;
}

/// Why a [`FatVolume`](crate::FatVolume) operation failed. [`FsError::errno`] gives the
/// number Linux's vfat returns in the same situation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsError {
    /// A path component does not exist (`ENOENT`).
    NotFound,
    /// The name is taken (`EEXIST`).
    AlreadyExists,
    /// A directory was needed (`ENOTDIR`).
    NotADirectory,
    /// A file was needed (`EISDIR`).
    IsADirectory,
    /// A directory to remove or replace is not empty (`ENOTEMPTY`).
    DirectoryNotEmpty,
    /// No free cluster left (`ENOSPC`).
    NoSpace,
    /// FAT cannot store this name: an empty name, `..`, a character FAT long names do not
    /// allow (`"*/:<>?\|`, control characters, characters beyond U+FFFF) (`EINVAL`).
    InvalidName,
    /// A name longer than 255 bytes (`ENAMETOOLONG`).
    NameTooLong,
    /// FAT files end at 4 GiB − 1 (`EFBIG`).
    FileTooBig,
    /// An argument that makes no sense here, e.g. moving a directory into itself (`EINVAL`).
    InvalidArgument,
    /// The volume root cannot be removed or renamed (`EBUSY`).
    Busy,
    /// The device refuses writes (`EROFS`).
    ReadOnly,
    /// The image is not a FAT volume fatfs can open (`EIO`).
    Corrupt,
    /// The device failed (`EIO`).
    Io,
}

impl FsError {
    /// The Linux errno for this error.
    pub fn errno(self) -> i32 {
        use errno::*;
        match self {
            FsError::NotFound => ENOENT,
            FsError::AlreadyExists => EEXIST,
            FsError::NotADirectory => ENOTDIR,
            FsError::IsADirectory => EISDIR,
            FsError::DirectoryNotEmpty => ENOTEMPTY,
            FsError::NoSpace => ENOSPC,
            FsError::InvalidName | FsError::InvalidArgument => EINVAL,
            FsError::NameTooLong => ENAMETOOLONG,
            FsError::FileTooBig => EFBIG,
            FsError::Busy => EBUSY,
            FsError::ReadOnly => EROFS,
            FsError::Corrupt | FsError::Io => EIO,
        }
    }

    /// Classifies an error fatfs returned.
    ///
    /// fatfs 0.3.6 reports most conditions as `ErrorKind::Other` with a fixed message, so
    /// this matches those messages (fatfs is pinned to `=0.3.6` for that reason). The
    /// conditions rootfs can check itself (existence, kinds, emptiness, names) are checked
    /// before fatfs is called; this is the fallback.
    pub(crate) fn from_io(e: &fio::Error) -> FsError {
        match e.kind() {
            fio::ErrorKind::NotFound => return FsError::NotFound,
            fio::ErrorKind::AlreadyExists => return FsError::AlreadyExists,
            fio::ErrorKind::PermissionDenied => return FsError::ReadOnly,
            _ => {}
        }
        const TABLE: &[(&str, FsError)] = &[
            ("No space left on device", FsError::NoSpace),
            ("Directory not empty", FsError::DirectoryNotEmpty),
            ("Is a directory", FsError::IsADirectory),
            ("Not a directory", FsError::NotADirectory),
            ("File name too long", FsError::NameTooLong),
            ("File name is empty", FsError::InvalidName),
            ("File name contains unsupported characters", FsError::InvalidName),
        ];
        for &(msg, err) in TABLE {
            if displays_as(e, msg) {
                return err;
            }
        }
        FsError::Io
    }
}

/// Whether `value` formats exactly as `expected`, without allocating.
pub(crate) fn displays_as(value: &impl fmt::Display, expected: &str) -> bool {
    struct Cmp<'a> {
        rest: &'a str,
        ok: bool,
    }
    impl fmt::Write for Cmp<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            match self.rest.strip_prefix(s) {
                Some(rest) if self.ok => self.rest = rest,
                _ => self.ok = false,
            }
            Ok(())
        }
    }
    let mut cmp = Cmp { rest: expected, ok: true };
    let _ = fmt::write(&mut cmp, format_args!("{value}"));
    cmp.ok && cmp.rest.is_empty()
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FsError::NotFound => "no such file or directory",
            FsError::AlreadyExists => "file exists",
            FsError::NotADirectory => "not a directory",
            FsError::IsADirectory => "is a directory",
            FsError::DirectoryNotEmpty => "directory not empty",
            FsError::NoSpace => "no space left on the volume",
            FsError::InvalidName => "name not allowed on FAT",
            FsError::NameTooLong => "file name too long",
            FsError::FileTooBig => "FAT files are limited to 4 GiB - 1",
            FsError::InvalidArgument => "invalid argument",
            FsError::Busy => "the volume root cannot be removed or renamed",
            FsError::ReadOnly => "read-only device",
            FsError::Corrupt => "not a FAT volume (or a damaged one)",
            FsError::Io => "I/O error",
        })
    }
}

impl core::error::Error for FsError {}

impl From<IoError> for FsError {
    fn from(e: IoError) -> FsError {
        match e {
            IoError::ReadOnly => FsError::ReadOnly,
            IoError::OutOfRange | IoError::Device { .. } => FsError::Io,
        }
    }
}
