use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::prelude::rust_2021::*;

use crate::{BlockDevice, IoError};

/// A [`BlockDevice`] over a host file (an image), with `pread`/`pwrite`.
///
/// The length is the file's length when opened; the device does not grow the file.
#[derive(Debug)]
pub struct FileDevice {
    file: File,
    len: u64,
    read_only: bool,
}

fn device_error(e: io::Error) -> IoError {
    IoError::Device { errno: e.raw_os_error().unwrap_or(crate::error::errno::EIO) }
}

impl FileDevice {
    /// Opens an existing image for reading and writing.
    pub fn open(path: impl AsRef<Path>) -> io::Result<FileDevice> {
        FileDevice::from_file(OpenOptions::new().read(true).write(true).open(path)?, false)
    }

    /// Opens an existing image; writes fail with [`IoError::ReadOnly`].
    pub fn open_read_only(path: impl AsRef<Path>) -> io::Result<FileDevice> {
        FileDevice::from_file(File::open(path)?, true)
    }

    /// Creates (or truncates) `path` as a sparse file of `len` bytes.
    pub fn create(path: impl AsRef<Path>, len: u64) -> io::Result<FileDevice> {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)?;
        file.set_len(len)?;
        FileDevice::from_file(file, false)
    }

    /// A device over an open file (`read_only` refuses writes whatever the file allows).
    pub fn from_file(file: File, read_only: bool) -> io::Result<FileDevice> {
        let len = file.metadata()?.len();
        Ok(FileDevice { file, len, read_only })
    }

    /// The file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The file, giving up the device.
    pub fn into_file(self) -> File {
        self.file
    }
}

impl BlockDevice for FileDevice {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), IoError> {
        match off.checked_add(buf.len() as u64) {
            Some(end) if end <= self.len => self.file.read_exact_at(buf, off).map_err(device_error),
            _ => Err(IoError::OutOfRange),
        }
    }

    fn write_at(&self, off: u64, buf: &[u8]) -> Result<(), IoError> {
        if self.read_only {
            return Err(IoError::ReadOnly);
        }
        match off.checked_add(buf.len() as u64) {
            Some(end) if end <= self.len => self.file.write_all_at(buf, off).map_err(device_error),
            _ => Err(IoError::OutOfRange),
        }
    }

    fn flush(&self) -> Result<(), IoError> {
        if self.read_only {
            return Ok(());
        }
        self.file.sync_data().map_err(device_error)
    }
}
