//! The guest's fds 0–2: the host's own stdin, stdout and stderr, passed through.
//!
//! Terminal requests go to the host fd with a libOS-side buffer (never a guest
//! pointer), so a guest sees exactly what a native process on the same terminal or pipe
//! would: `TCGETS` works on a tty and gives ENOTTY on a pipe.

use libos::abi::Stat;
use libos::file::{events, File};
use libos::{Errno, SysResult};

use crate::entry::ensure_host_tls;
use crate::host;

/// A host fd.
pub struct HostFd(pub i32);

/// A read or write that may block (a terminal, a pipe): a signal for the calling
/// thread ends it with ERESTARTSYS (restarted after an `SA_RESTART` handler, EINTR
/// otherwise, as Linux's tty and pipe code do); a host EINTR of no concern to the guest
/// is retried.
fn blocking_call(nr: i64, args: [u64; 6]) -> SysResult {
    loop {
        let r = crate::signals::interruptible(nr, args);
        if r >= 0 {
            return Ok(r as usize);
        }
        match Errno::from_number(-r as i32) {
            Some(Errno::EINTR) if crate::signals::interrupted() => return Err(Errno::ERESTARTSYS),
            Some(Errno::EINTR) => continue,
            Some(e) => return Err(e),
            None => return Err(Errno::EIO),
        }
    }
}

impl File for HostFd {
    // Reads, writes and seeks are raw host syscalls: no errno, so no TLS (see `entry`).

    fn read(&self, buf: &mut [u8], _nonblock: bool) -> SysResult {
        // `buf` is a valid writable buffer of its length.
        blocking_call(libc::SYS_read, [self.0 as u64, buf.as_mut_ptr() as u64, buf.len() as u64, 0, 0, 0])
    }

    fn write(&self, buf: &[u8], _nonblock: bool) -> SysResult {
        // `buf` is a valid readable buffer of its length.
        blocking_call(libc::SYS_write, [self.0 as u64, buf.as_ptr() as u64, buf.len() as u64, 0, 0, 0])
    }

    fn pread(&self, buf: &mut [u8], offset: u64) -> SysResult {
        let (fd, ptr, len) = (self.0 as u64, buf.as_mut_ptr() as u64, buf.len() as u64);
        // SAFETY: as for `read`.
        host::raw_retry(|| unsafe { host::raw_syscall4(libc::SYS_pread64, fd, ptr, len, offset) })
    }

    fn pwrite(&self, buf: &[u8], offset: u64) -> SysResult {
        let (fd, ptr, len) = (self.0 as u64, buf.as_ptr() as u64, buf.len() as u64);
        // SAFETY: as for `write`.
        host::raw_retry(|| unsafe { host::raw_syscall4(libc::SYS_pwrite64, fd, ptr, len, offset) })
    }

    fn seek(&self, offset: i64, whence: u32) -> Result<u64, Errno> {
        let fd = self.0 as u64;
        // SAFETY: lseek takes no pointers.
        let r = host::raw_retry(|| unsafe { host::raw_syscall4(libc::SYS_lseek, fd, offset as u64, whence.into(), 0) });
        r.map(|v| v as u64)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        ensure_host_tls();
        host::fstat(self.0)
    }

    fn ioctl(&self, request: u32, _arg: u64, data: &mut [u8]) -> SysResult {
        ensure_host_tls();
        if data.is_empty() {
            // Requests whose argument layout the shim does not know never reach the
            // host: a guest pointer is not a host pointer the kernel may trust.
            return Err(Errno::ENOTTY);
        }
        // SAFETY: `data` is a libOS buffer sized for `request` by the shim's table.
        let r = unsafe { libc::ioctl(self.0, request as _, data.as_mut_ptr()) };
        host::check(r as isize)
    }

    fn poll(&self, wanted: u16) -> u16 {
        ensure_host_tls();
        let mut pfd = libc::pollfd { fd: self.0, events: wanted as i16, revents: 0 };
        // SAFETY: one valid pollfd; zero timeout.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n <= 0 {
            return 0;
        }
        pfd.revents as u16 & (wanted | events::POLLERR | events::POLLHUP | events::POLLNVAL)
    }

    fn set_nonblocking(&self, on: bool) -> Result<(), Errno> {
        ensure_host_tls();
        // SAFETY: fcntl with integer arguments only.
        let flags = host::check(unsafe { libc::fcntl(self.0, libc::F_GETFL) } as isize)? as i32;
        let new = if on { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK };
        // SAFETY: as above.
        host::check(unsafe { libc::fcntl(self.0, libc::F_SETFL, new) } as isize).map(|_| ())
    }
}
