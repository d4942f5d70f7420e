//! The file-object trait. Every kind of open file (console, pipe, regular file, socket,
//! /proc entry) implements [`File`]; the defaults give the errno Linux gives for an
//! object that does not support the operation.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::abi::Stat;
pub use crate::vfs::inode::AsAny;
use crate::{Errno, SysResult};

/// `poll` event bits.
pub mod events {
    pub const POLLIN: u16 = 0x001;
    pub const POLLPRI: u16 = 0x002;
    pub const POLLOUT: u16 = 0x004;
    pub const POLLERR: u16 = 0x008;
    pub const POLLHUP: u16 = 0x010;
    pub const POLLNVAL: u16 = 0x020;
    pub const POLLRDNORM: u16 = 0x040;
    pub const POLLRDBAND: u16 = 0x080;
    pub const POLLWRNORM: u16 = 0x100;
    pub const POLLWRBAND: u16 = 0x200;
    pub const POLLMSG: u16 = 0x400;
    pub const POLLRDHUP: u16 = 0x2000;
}

/// `open` flags that live on the open file description.
pub mod oflags {
    pub const O_ACCMODE: u32 = 0o3;
    pub const O_RDONLY: u32 = 0o0;
    pub const O_WRONLY: u32 = 0o1;
    pub const O_RDWR: u32 = 0o2;
    pub const O_APPEND: u32 = 0o2000;
    pub const O_NONBLOCK: u32 = 0o4000;
    pub const O_DSYNC: u32 = 0o10000;
    pub const O_ASYNC: u32 = 0o20000;
    pub const O_DIRECT: u32 = 0o40000;
    pub const O_LARGEFILE: u32 = 0o100000;
    pub const O_NOATIME: u32 = 0o1000000;
    pub const O_CLOEXEC: u32 = 0o2000000;
    /// The flags `F_SETFL` may change.
    pub const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
}

/// An object an fd can refer to.
///
/// [`AsAny`] lets the syscall layer find the concrete type behind a description when a
/// request only makes sense for one kind of file (`F_SETPIPE_SZ` for a pipe); call it
/// through the trait object (`(*open.file).as_any()`).
pub trait File: AsAny + Send + Sync {
    /// Reads at the file's own position (or from the stream).
    fn read(&self, _buf: &mut [u8], _nonblock: bool) -> SysResult {
        Err(Errno::EINVAL)
    }
    /// Writes at the file's own position (or to the stream).
    fn write(&self, _buf: &[u8], _nonblock: bool) -> SysResult {
        Err(Errno::EINVAL)
    }
    /// Writes at the end, on a description opened with `O_APPEND`. A file with a size
    /// makes "find the end, write there, move the position past it" one step; for a
    /// stream, appending is writing.
    fn append(&self, buf: &[u8], nonblock: bool) -> SysResult {
        self.write(buf, nonblock)
    }
    /// Reads at `offset` without moving the position.
    fn pread(&self, _buf: &mut [u8], _offset: u64) -> SysResult {
        Err(Errno::ESPIPE)
    }
    /// Writes at `offset` without moving the position.
    fn pwrite(&self, _buf: &[u8], _offset: u64) -> SysResult {
        Err(Errno::ESPIPE)
    }
    /// Moves the position (`whence` is SEEK_SET/CUR/END/DATA/HOLE).
    fn seek(&self, _offset: i64, _whence: u32) -> Result<u64, Errno> {
        Err(Errno::ESPIPE)
    }
    /// `fstat`.
    fn stat(&self) -> Result<Stat, Errno>;
    /// A device-specific request; `data` is the argument buffer the shim prepared for
    /// the requests it knows the size of (empty otherwise, with `arg` raw).
    fn ioctl(&self, _request: u32, _arg: u64, _data: &mut [u8]) -> SysResult {
        Err(Errno::ENOTTY)
    }
    /// Which of `events` are ready now (never blocks).
    fn poll(&self, events: u16) -> u16 {
        events & (events::POLLIN | events::POLLOUT | events::POLLRDNORM | events::POLLWRNORM)
    }
    /// How waiters learn that [`File::poll`]'s answer may have changed (see
    /// [`crate::readiness`]). Default: it changes without notice, and waits re-check
    /// it with a back-off.
    fn readiness(&self) -> crate::readiness::Readiness<'_> {
        crate::readiness::Readiness::Unannounced
    }
    /// Whether epoll takes this file (Linux: whether its file has a `poll` method;
    /// `epoll_ctl` gives EPERM for regular files and directories).
    fn supports_epoll(&self) -> bool {
        true
    }
    /// The socket interface of a socket (ENOTSOCK for everything else).
    fn as_socket(&self) -> Option<&dyn crate::net::Socket> {
        None
    }
    /// Told when `O_NONBLOCK` changes on a description that refers to this file.
    fn set_nonblocking(&self, _on: bool) -> Result<(), Errno> {
        Ok(())
    }
    /// Told when `O_DIRECT` changes on a description that refers to this file (a pipe
    /// switches to packet mode).
    fn set_direct(&self, _on: bool) -> Result<(), Errno> {
        Ok(())
    }
    /// `getdents64`: fills `buf` with `linux_dirent64` records (a directory only).
    fn getdents64(&self, _buf: &mut [u8]) -> SysResult {
        Err(Errno::ENOTDIR)
    }
    /// `fstatfs` of a file outside the VFS tree (files in the tree answer through their
    /// dentry's mount). Default: the anonymous-inode filesystem Linux reports for
    /// eventfds and epoll fds.
    fn statfs(&self) -> Result<crate::vfs::Statfs, Errno> {
        Ok(crate::vfs::Statfs {
            f_type: crate::vfs::inode::magic::ANON_INODE_FS_MAGIC,
            f_bsize: 4096,
            f_namelen: 255,
            f_frsize: 4096,
            ..Default::default()
        })
    }
    /// The name this file was opened through, for a file in the VFS tree (`fchdir`,
    /// `fstatfs`, `f*` metadata calls, `*at` directory fds, `/proc/self/fd`).
    fn dentry(&self) -> Option<Arc<crate::vfs::Dentry>> {
        None
    }
    /// What `/proc/self/fd/N` reads for a file that has no name in the tree
    /// (`pipe:[1234]`, `anon_inode:[eventfd]`); `None` for a file in the tree, whose
    /// link is the path of its [`File::dentry`].
    fn anon_name(&self) -> Option<alloc::vec::Vec<u8>> {
        None
    }
    /// The lines `/proc/self/fdinfo/N` shows after the ones every file has (a pidfd's
    /// `Pid:`, a timerfd's clock, count and value); each ends with a newline.
    fn fdinfo(&self) -> alloc::vec::Vec<u8> {
        alloc::vec::Vec::new()
    }
}

/// An open file description: the file plus the flags `dup`'d fds share.
pub struct OpenFile {
    pub file: Arc<dyn File>,
    flags: AtomicU32,
    /// Took OFD or `flock` locks at some point: they go when this description does.
    has_locks: AtomicBool,
}

impl OpenFile {
    pub fn new(file: Arc<dyn File>, flags: u32) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            file,
            flags: AtomicU32::new(flags & !oflags::O_CLOEXEC),
            has_locks: AtomicBool::new(false),
        })
    }

    /// Identifies this description while it is open (what OFD and `flock` locks are
    /// owned by).
    pub fn id(&self) -> usize {
        self as *const OpenFile as usize
    }

    /// Records that this description holds locks ([`crate::locks`]) to release when it
    /// is closed.
    pub(crate) fn note_locks(&self) {
        self.has_locks.store(true, Ordering::Relaxed);
    }

    /// The status flags and access mode (`F_GETFL`).
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// `F_SETFL`: only the changeable flags move.
    pub fn set_flags(&self, new: u32) -> Result<(), Errno> {
        let old = self.flags();
        let merged = (old & !oflags::SETFL_MASK) | (new & oflags::SETFL_MASK);
        if (old ^ merged) & oflags::O_NONBLOCK != 0 {
            self.file.set_nonblocking(merged & oflags::O_NONBLOCK != 0)?;
        }
        if (old ^ merged) & oflags::O_DIRECT != 0 {
            self.file.set_direct(merged & oflags::O_DIRECT != 0)?;
        }
        self.flags.store(merged, Ordering::Relaxed);
        Ok(())
    }

    pub fn nonblocking(&self) -> bool {
        self.flags() & oflags::O_NONBLOCK != 0
    }

    pub fn readable(&self) -> bool {
        matches!(self.flags() & oflags::O_ACCMODE, oflags::O_RDONLY | oflags::O_RDWR)
    }

    pub fn writable(&self) -> bool {
        matches!(self.flags() & oflags::O_ACCMODE, oflags::O_WRONLY | oflags::O_RDWR)
    }

    /// `read(2)`: EBADF on a description not open for reading.
    pub fn read(&self, buf: &mut [u8]) -> SysResult {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        self.file.read(buf, self.nonblocking())
    }

    /// `write(2)`: EBADF on a description not open for writing.
    pub fn write(&self, buf: &[u8]) -> SysResult {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if self.flags() & oflags::O_APPEND != 0 {
            return self.file.append(buf, self.nonblocking());
        }
        self.file.write(buf, self.nonblocking())
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        if self.has_locks.load(Ordering::Relaxed) {
            crate::locks::description_closed(self);
        }
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
