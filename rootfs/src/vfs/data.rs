//! File contents and entry fields through a node's kept fatfs `File`.
//!
//! A read seeks the kept handle (free when it continues where the last one stopped; a
//! seek elsewhere walks the cluster chain from the start, through the FAT cache) and reads
//! whole clusters straight from the device. Every write, truncate and time change settles
//! the entry on the volume before returning, so the volume is consistent between calls.

use alloc::vec;

use libos::abi::Timespec;
use libos::Errno;

use super::errno::{from_io, io};
use super::state::State;
use super::times;
use crate::fio::{Read, Seek, SeekFrom, Write};
use crate::time::unix_to_datetime;
use crate::MAX_FILE_SIZE;

/// Zeros written per step when a file grows by `truncate` or a write past its end.
const ZERO_CHUNK: usize = 64 * 1024;

impl State {
    /// Reads file `ino` at `off`; 0 at or past the end.
    pub fn read(&mut self, ino: u64, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let node = self.node_mut(ino)?;
        let size = node.size;
        let f = node.file_handle()?;
        if off >= size || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(size - off) as usize;
        io(f.seek(SeekFrom::Start(off)))?;
        let mut done = 0;
        while done < want {
            match io(f.read(&mut buf[done..want]))? {
                0 => break,
                n => done += n,
            }
        }
        Ok(done)
    }

    /// Writes `buf` into file `ino` at `off` (zeros fill any gap past the end). Returns
    /// the bytes written: fewer than asked if the volume filled up or the file reached
    /// 4 GiB − 1 part way; ENOSPC or EFBIG if none could be.
    pub fn write(&mut self, ino: u64, off: u64, buf: &[u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            self.file_size(ino)?;
            return Ok(0);
        }
        if off >= MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        self.grow_to(ino, off)?;
        let now = self.now();
        let node = self.node_mut(ino)?;
        let f = node.file_handle()?;
        io(f.seek(SeekFrom::Start(off)))?;
        let mut done = 0;
        let mut failure = None;
        while done < buf.len() {
            match f.write(&buf[done..]) {
                Ok(0) => {
                    failure = Some(Errno::EFBIG);
                    break;
                }
                Ok(n) => done += n,
                Err(e) => {
                    failure = Some(from_io(&e));
                    break;
                }
            }
        }
        node.size = node.size.max(off + done as u64);
        if done > 0 {
            node.touch_modified(now);
            set_modified(node.file_handle()?, now);
        }
        node.settle()?;
        match failure {
            Some(e) if done == 0 => Err(e),
            _ => Ok(done),
        }
    }

    /// `O_APPEND`: writes at the end, in the same locked step that finds it.
    pub fn append(&mut self, ino: u64, buf: &[u8]) -> Result<(usize, u64), Errno> {
        let end = self.file_size(ino)?;
        let n = self.write(ino, end, buf)?;
        Ok((n, end + n as u64))
    }

    /// Sets the size of file `ino`: drops the tail or appends zeros.
    pub fn truncate(&mut self, ino: u64, len: u64) -> Result<(), Errno> {
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let size = self.file_size(ino)?;
        if len > size {
            self.grow_to(ino, len)?;
        }
        let now = self.now();
        let node = self.node_mut(ino)?;
        let f = node.file_handle()?;
        if len < size {
            io(f.seek(SeekFrom::Start(len)))?;
            io(f.truncate())?;
            node.size = len;
        }
        node.touch_modified(now);
        set_modified(node.file_handle()?, now);
        node.settle()
    }

    /// Extends file `ino` with zeros to `len` bytes if it is shorter. On ENOSPC the file
    /// keeps what was written.
    fn grow_to(&mut self, ino: u64, len: u64) -> Result<(), Errno> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        let size = node.size;
        if len <= size {
            return Ok(());
        }
        let f = node.file_handle()?;
        io(f.seek(SeekFrom::Start(size)))?;
        let zeros = vec![0u8; ZERO_CHUNK.min((len - size) as usize)];
        let mut at = size;
        let mut failure = None;
        while at < len {
            let n = (len - at).min(zeros.len() as u64) as usize;
            match f.write(&zeros[..n]) {
                Ok(0) => failure = Some(Errno::EFBIG),
                Ok(k) => at += k as u64,
                Err(e) => failure = Some(from_io(&e)),
            }
            if failure.is_some() {
                break;
            }
        }
        node.size = at;
        if at > size {
            node.touch_modified(now);
            set_modified(node.file_handle()?, now);
        }
        node.settle()?;
        failure.map_or(Ok(()), Err)
    }

    /// The size of file `ino` (EISDIR for a directory).
    pub fn file_size(&mut self, ino: u64) -> Result<u64, Errno> {
        let node = self.node_mut(ino)?;
        node.file_handle()?;
        Ok(node.size)
    }

    /// Sets the access and/or modification time (to FAT's granularity) and makes the
    /// change time now, and writes them to the entry: a file's through its handle, a
    /// directory's directly (fatfs 0.3.6 cannot edit a directory's entry).
    pub fn set_times(&mut self, ino: u64, atime: Option<Timespec>, mtime: Option<Timespec>) -> Result<(), Errno> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        if let Some(t) = atime {
            node.atime = times::atime(t);
        }
        if let Some(t) = mtime {
            node.mtime = times::mtime(t);
        }
        node.touch_changed(now);
        let (a, m) = (node.atime, node.mtime);
        if let Ok(f) = node.file_handle() {
            // fatfs deprecates these in favour of its time provider, which cannot set an
            // arbitrary time on one file.
            #[allow(deprecated)]
            {
                f.set_accessed(unix_to_datetime(a).date);
                f.set_modified(unix_to_datetime(m));
            }
            return node.settle();
        }
        self.write_dir_times(ino)
    }
}

/// Stamps the kept handle's entry with `now` as this layer records it, so the volume
/// holds exactly what `stat` shows.
fn set_modified(f: &mut super::state::FFile, now: Timespec) {
    #[allow(deprecated)]
    f.set_modified(unix_to_datetime(times::mtime(now)));
}
