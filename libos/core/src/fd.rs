//! The file-descriptor table.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::file::OpenFile;
use crate::Errno;

/// The default `RLIMIT_NOFILE` soft limit.
pub const DEFAULT_MAX_FDS: usize = 1024;

#[derive(Clone)]
struct FdEntry {
    open: Arc<OpenFile>,
    cloexec: bool,
}

/// A process's fds.
pub struct FdTable {
    entries: Vec<Option<FdEntry>>,
    max_fds: usize,
}

impl Default for FdTable {
    fn default() -> Self {
        FdTable::new()
    }
}

impl FdTable {
    pub fn new() -> FdTable {
        FdTable { entries: Vec::new(), max_fds: DEFAULT_MAX_FDS }
    }

    /// The open file behind `fd`, or EBADF.
    pub fn get(&self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        let idx = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        self.entries.get(idx).and_then(|e| e.as_ref()).map(|e| e.open.clone()).ok_or(Errno::EBADF)
    }

    /// Installs `open` at the lowest free fd ≥ `min` (EMFILE when none is left).
    pub fn insert_from(&mut self, min: usize, open: Arc<OpenFile>, cloexec: bool) -> Result<i32, Errno> {
        if min >= self.max_fds {
            return Err(Errno::EINVAL);
        }
        let free = (min..self.max_fds).find(|&i| self.entries.get(i).is_none_or(|e| e.is_none()));
        let idx = free.ok_or(Errno::EMFILE)?;
        self.place(idx, open, cloexec);
        Ok(idx as i32)
    }

    /// Installs `open` at the lowest free fd.
    pub fn insert(&mut self, open: Arc<OpenFile>, cloexec: bool) -> Result<i32, Errno> {
        self.insert_from(0, open, cloexec)
    }

    /// Installs `open` exactly at `fd`, returning what was there (`dup2`).
    pub fn insert_at(&mut self, fd: i32, open: Arc<OpenFile>, cloexec: bool) -> Result<Option<Arc<OpenFile>>, Errno> {
        let idx = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        if idx >= self.max_fds {
            return Err(Errno::EBADF);
        }
        let old = self.entries.get_mut(idx).and_then(|e| e.take()).map(|e| e.open);
        if let Some(old) = &old {
            crate::locks::fd_closed(old);
        }
        self.place(idx, open, cloexec);
        Ok(old)
    }

    fn place(&mut self, idx: usize, open: Arc<OpenFile>, cloexec: bool) {
        if self.entries.len() <= idx {
            self.entries.resize(idx + 1, None);
        }
        self.entries[idx] = Some(FdEntry { open, cloexec });
    }

    /// Closes `fd`, returning the open file so the caller can drop it outside the lock.
    /// The process's POSIX locks on the file go with it ([`crate::locks::fd_closed`]).
    pub fn remove(&mut self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        let idx = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        let open = self.entries.get_mut(idx).and_then(|e| e.take()).map(|e| e.open).ok_or(Errno::EBADF)?;
        crate::locks::fd_closed(&open);
        Ok(open)
    }

    /// `FD_CLOEXEC` of `fd`.
    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        let idx = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        self.entries.get(idx).and_then(|e| e.as_ref()).map(|e| e.cloexec).ok_or(Errno::EBADF)
    }

    pub fn set_cloexec(&mut self, fd: i32, on: bool) -> Result<(), Errno> {
        let idx = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        let entry = self.entries.get_mut(idx).and_then(|e| e.as_mut()).ok_or(Errno::EBADF)?;
        entry.cloexec = on;
        Ok(())
    }

    /// The soft limit on fd numbers (`RLIMIT_NOFILE`).
    pub fn set_max_fds(&mut self, max: usize) {
        self.max_fds = max;
    }

    /// The fds in use, in order.
    pub fn open_fds(&self) -> impl Iterator<Item = i32> + '_ {
        self.entries.iter().enumerate().filter(|(_, e)| e.is_some()).map(|(i, _)| i as i32)
    }
}

#[cfg(test)]
#[path = "fd_tests.rs"]
mod tests;
