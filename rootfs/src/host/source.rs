//! Reading a [`FileSource`]'s bytes.

use std::boxed::Box;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::prelude::rust_2021::*;

use super::image::FileSource;

/// Reads ranges of a file one after the other.
struct Extents {
    file: File,
    extents: std::vec::IntoIter<(u64, u64)>,
    current: (u64, u64),
}

impl Read for Extents {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.1 == 0 {
            match self.extents.next() {
                Some(e) => self.current = e,
                None => return Ok(0),
            }
        }
        let want = buf.len().min(usize::try_from(self.current.1).unwrap_or(usize::MAX));
        let n = self.file.read_at(&mut buf[..want], self.current.0)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file ends before its extents"));
        }
        self.current = (self.current.0 + n as u64, self.current.1 - n as u64);
        Ok(n)
    }
}

/// A reader over a source's bytes, and the host file it reads (for messages).
pub(super) type Opened<'a> = (Box<dyn Read + 'a>, Option<PathBuf>);

/// Opens `source` for reading; a host file that cannot be opened comes back with its path.
pub(super) fn open(source: &FileSource) -> Result<Opened<'_>, (PathBuf, io::Error)> {
    match source {
        FileSource::Bytes(bytes) => Ok((Box::new(&bytes[..]), None)),
        FileSource::Host(path) => {
            let file = File::open(path).map_err(|e| (path.clone(), e))?;
            Ok((Box::new(file), Some(path.clone())))
        }
        FileSource::HostExtents { path, extents } => {
            let file = File::open(path).map_err(|e| (path.clone(), e))?;
            let reader = Extents { file, extents: extents.clone().into_iter(), current: (0, 0) };
            Ok((Box::new(reader), Some(path.clone())))
        }
    }
}
