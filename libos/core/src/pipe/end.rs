//! The file object of one end of a pipe.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use super::{pipefs_dev, Pipe, PIPE_BUF};
use crate::abi::{mode, Stat};
use crate::file::File;
use crate::vfs::{inode::magic, Dentry, Statfs};
use crate::{Errno, SysResult};

/// `ioctl(FIONREAD)`.
const FIONREAD: u32 = 0x541b;
/// `ST_VALID`, the `f_flags` Linux reports for pipefs.
const ST_VALID: i64 = 0x20;

/// An open end of a pipe: what one open file description of it refers to. The pipe
/// counts its readers and writers by these: dropping the last writer is the readers'
/// end of file, dropping the last reader the writers' EPIPE.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    read: bool,
    write: bool,
    /// Packet mode (`O_DIRECT` on this description).
    packet: AtomicBool,
    /// The writer-open count this end saw when it was opened (see [`Pipe::poll`]).
    w_seen: u32,
    /// The FIFO this end was opened through; `None` for `pipe(2)`.
    dentry: Option<Arc<Dentry>>,
}

impl PipeEnd {
    /// The read and write ends of a new anonymous pipe, made at `now` by `uid`/`gid`;
    /// `packet` for `pipe2(O_DIRECT)`.
    pub fn pair(now: crate::abi::Timespec, uid: u32, gid: u32, packet: bool) -> (Arc<PipeEnd>, Arc<PipeEnd>) {
        let pipe = Arc::new(Pipe::new(now, uid, gid));
        let r = PipeEnd::attach(pipe.clone(), true, false, None, false);
        let w = PipeEnd::attach(pipe, false, true, None, false);
        w.packet.store(packet, Ordering::Relaxed);
        (r, w)
    }

    /// A new end of `pipe`. `quiet_hup` is a FIFO reader opened without a writer
    /// around: it reports `POLLHUP` only after a writer has come and gone.
    pub(crate) fn attach(
        pipe: Arc<Pipe>,
        read: bool,
        write: bool,
        dentry: Option<Arc<Dentry>>,
        quiet_hup: bool,
    ) -> Arc<PipeEnd> {
        let (_, w_counter) = pipe.attach(read, write);
        let w_seen = if quiet_hup { w_counter } else { 0 };
        Arc::new(PipeEnd { pipe, read, write, packet: AtomicBool::new(false), w_seen, dentry })
    }

    /// The pipe this end belongs to.
    pub fn pipe(&self) -> &Arc<Pipe> {
        &self.pipe
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.pipe.detach(self.read, self.write);
    }
}

impl File for PipeEnd {
    fn read(&self, buf: &mut [u8], nonblock: bool) -> SysResult {
        self.pipe.read(buf, nonblock)
    }

    fn write(&self, buf: &[u8], nonblock: bool) -> SysResult {
        self.pipe.write(buf, nonblock, self.packet.load(Ordering::Relaxed))
    }

    /// A FIFO shows its node; an anonymous pipe a pipefs inode: `S_IFIFO | 0600`, one
    /// link, its own inode number, the creator's ids and the creation time.
    fn stat(&self) -> Result<Stat, Errno> {
        if let Some(d) = &self.dentry {
            return Ok(d.inode().metadata()?.to_stat());
        }
        let p = &self.pipe;
        Ok(Stat {
            st_dev: pipefs_dev(),
            st_ino: p.ino,
            st_nlink: 1,
            st_mode: mode::S_IFIFO | 0o600,
            st_uid: p.uid,
            st_gid: p.gid,
            st_blksize: PIPE_BUF as i64,
            st_atime: p.created.tv_sec,
            st_atime_nsec: p.created.tv_nsec,
            st_mtime: p.created.tv_sec,
            st_mtime_nsec: p.created.tv_nsec,
            st_ctime: p.created.tv_sec,
            st_ctime_nsec: p.created.tv_nsec,
            ..Stat::default()
        })
    }

    /// `FIONREAD`: the bytes in the pipe (on either end).
    fn ioctl(&self, request: u32, _arg: u64, data: &mut [u8]) -> SysResult {
        if request == FIONREAD && data.len() >= 4 {
            let n = self.pipe.available().min(i32::MAX as usize) as i32;
            data[..4].copy_from_slice(&n.to_ne_bytes());
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn poll(&self, events: u16) -> u16 {
        self.pipe.poll(self.read, self.write, self.w_seen) & events
    }

    fn readiness(&self) -> crate::readiness::Readiness<'_> {
        crate::readiness::Readiness::Pollee(self.pipe.pollee())
    }

    fn set_direct(&self, on: bool) -> Result<(), Errno> {
        self.packet.store(on, Ordering::Relaxed);
        Ok(())
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        let dev = pipefs_dev();
        Ok(Statfs {
            f_type: magic::PIPEFS_MAGIC,
            f_bsize: PIPE_BUF as i64,
            f_namelen: crate::vfs::NAME_MAX as i64,
            f_frsize: PIPE_BUF as i64,
            f_flags: ST_VALID,
            f_fsid: [dev as u32 as i32, (dev >> 32) as u32 as i32],
            ..Statfs::default()
        })
    }

    fn dentry(&self) -> Option<Arc<Dentry>> {
        self.dentry.clone()
    }

    fn anon_name(&self) -> Option<Vec<u8>> {
        if self.dentry.is_some() {
            return None;
        }
        let mut name = Vec::from(&b"pipe:["[..]);
        push_decimal(&mut name, self.pipe.ino);
        name.push(b']');
        Some(name)
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}
