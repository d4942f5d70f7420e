//! Ancillary data of AF_UNIX sockets: SCM_RIGHTS (open files) and SCM_CREDENTIALS
//! (pid, uid, gid), as Linux's `net/core/scm.c` reads them from a `sendmsg` and writes
//! them into a `recvmsg`'s control buffer.
//!
//! **Sending** ([`parse`], Linux's `__scm_send`). The control buffer is walked as
//! `CMSG_FIRSTHDR`/`CMSG_NXTHDR` do on x86-64 (16-byte headers, lengths aligned to 8; a
//! tail too short for a header is ignored); each header must pass `CMSG_OK` (a length
//! of at least a header that fits what is left), or the send is EINVAL. Messages of
//! other levels are skipped; at `SOL_SOCKET`, `SCM_RIGHTS` takes its fds (EBADF for one
//! that is not open; more than [`SCM_MAX_FD`] over the message EINVAL; several
//! `SCM_RIGHTS` messages add up) and `SCM_CREDENTIALS` must be exactly one `struct
//! ucred` whose uid and gid are valid (not -1) and which a process may claim: an
//! unprivileged one only its own pid, uid and gid (EPERM), root anything; the pid must
//! name a task (ESRCH). Any other type is EINVAL.
//!
//! **Receiving** ([`deliver`], Linux's `scm_recv_unix`). With `SO_PASSCRED` on the
//! receiving socket an `SCM_CREDENTIALS` message comes first (every message carries
//! credentials then; the socket decides what they are), then the files: each gets a
//! new fd (close-on-exec with `MSG_CMSG_CLOEXEC`) as long as the buffer has room for
//! its number, in one `SCM_RIGHTS` message. What does not fit is cut (`MSG_CTRUNC`):
//! a credentials message is written as far as it goes, files without room are closed.
//! A control buffer the guest cannot write loses the credentials silently and the files
//! with `MSG_CTRUNC`, as Linux's failed `put_user`s do.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::consts::{MSG_CTRUNC, SOL_SOCKET};
use crate::file::OpenFile;
use crate::kernel::Kernel;
use crate::Errno;

pub const SCM_RIGHTS: i32 = 1;
pub const SCM_CREDENTIALS: i32 = 2;
/// The most files one message carries.
pub const SCM_MAX_FD: usize = 253;
/// `sizeof(struct cmsghdr)` on x86-64: `cmsg_len` (8 bytes), level, type.
pub const CMSG_HDR: usize = 16;
/// `sizeof(struct ucred)`.
pub const UCRED_LEN: usize = 12;
/// The uid and gid a receiver sees for credentials nobody attached (Linux's overflow
/// ids, what `from_kuid_munged` gives for an invalid id).
const OVERFLOW_ID: u32 = 65534;
/// An invalid uid or gid (`(uid_t)-1`).
const INVALID_ID: u32 = u32::MAX;

/// `CMSG_ALIGN`.
pub const fn cmsg_align(len: usize) -> usize {
    (len + 7) & !7
}

/// `CMSG_LEN`: a header and `len` bytes of data.
pub const fn cmsg_len(len: usize) -> usize {
    CMSG_HDR + len
}

/// `CMSG_SPACE`: what a message with `len` bytes of data takes, padding included.
pub const fn cmsg_space(len: usize) -> usize {
    CMSG_HDR + cmsg_align(len)
}

/// `struct ucred`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ucred {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Ucred {
    /// What a receiver with `SO_PASSCRED` sees for a message no credentials came with.
    pub const NOBODY: Ucred = Ucred { pid: 0, uid: OVERFLOW_ID, gid: OVERFLOW_ID };
    /// What it sees when a stream read took no data (Linux's zeroed cookie).
    pub const ZERO: Ucred = Ucred { pid: 0, uid: 0, gid: 0 };

    fn from_bytes(b: &[u8]) -> Ucred {
        let word = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Ucred { pid: word(0), uid: word(4), gid: word(8) }
    }

    fn to_bytes(self) -> [u8; UCRED_LEN] {
        let mut out = [0u8; UCRED_LEN];
        out[..4].copy_from_slice(&self.pid.to_ne_bytes());
        out[4..8].copy_from_slice(&self.uid.to_ne_bytes());
        out[8..].copy_from_slice(&self.gid.to_ne_bytes());
        out
    }
}

/// What travels with a message besides its bytes (Linux's `scm_cookie`): on the way
/// in, what the sender attached; on the way out, what the receiver is to get.
#[derive(Clone, Default)]
pub struct Scm {
    /// Open file descriptions in flight (SCM_RIGHTS); they stay open while queued.
    pub rights: Vec<Arc<OpenFile>>,
    /// Credentials: sent with SCM_CREDENTIALS or attached because a side passes them;
    /// received: what the `SCM_CREDENTIALS` message says (`None`: no such message).
    pub creds: Option<Ucred>,
}

impl Scm {
    pub fn is_empty(&self) -> bool {
        self.rights.is_empty() && self.creds.is_none()
    }
}

impl core::fmt::Debug for Scm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scm").field("rights", &self.rights.len()).field("creds", &self.creds).finish()
    }
}

impl PartialEq for Scm {
    fn eq(&self, other: &Scm) -> bool {
        self.creds == other.creds
            && self.rights.len() == other.rights.len()
            && self.rights.iter().zip(&other.rights).all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

impl Eq for Scm {}

/// One control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cmsg<'a> {
    pub level: i32,
    pub ty: i32,
    /// The data after the header, `cmsg_len` minus the header.
    pub data: &'a [u8],
}

/// The control messages of `control`, as `for_each_cmsghdr` walks them; a header that
/// fails `CMSG_OK` ends the walk with EINVAL.
pub fn cmsgs(control: &[u8]) -> impl Iterator<Item = Result<Cmsg<'_>, Errno>> {
    let mut at = Some(0usize).filter(|_| control.len() >= CMSG_HDR);
    core::iter::from_fn(move || {
        let start = at?;
        let hdr = &control[start..start + CMSG_HDR];
        let len = u64::from_ne_bytes(hdr[..8].try_into().unwrap_or_default());
        let level = i32::from_ne_bytes(hdr[8..12].try_into().unwrap_or_default());
        let ty = i32::from_ne_bytes(hdr[12..16].try_into().unwrap_or_default());
        let left = (control.len() - start) as u64;
        if len < CMSG_HDR as u64 || len > left {
            at = None;
            return Some(Err(Errno::EINVAL));
        }
        let len = len as usize;
        let next = start + cmsg_align(len);
        at = Some(next).filter(|n| n.checked_add(CMSG_HDR).is_some_and(|end| end <= control.len()));
        Some(Ok(Cmsg { level, ty, data: &control[start + CMSG_HDR..start + len] }))
    })
}

/// What a `sendmsg`'s control buffer asks an AF_UNIX socket to carry (see the module
/// docs for the rules), with the files taken from `kernel`'s fd table.
pub fn parse(kernel: &Kernel, control: &[u8]) -> Result<Scm, Errno> {
    let mut scm = Scm::default();
    for cmsg in cmsgs(control) {
        let cmsg = cmsg?;
        if cmsg.level != SOL_SOCKET {
            continue;
        }
        match cmsg.ty {
            SCM_RIGHTS => take_rights(kernel, cmsg.data, &mut scm.rights)?,
            SCM_CREDENTIALS => {
                if cmsg.data.len() != UCRED_LEN {
                    return Err(Errno::EINVAL);
                }
                scm.creds = Some(check_creds(kernel, Ucred::from_bytes(cmsg.data))?);
            }
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(scm)
}

/// Linux's `scm_fp_copy`: the files of one SCM_RIGHTS message, added to `rights`.
fn take_rights(kernel: &Kernel, data: &[u8], rights: &mut Vec<Arc<OpenFile>>) -> Result<(), Errno> {
    let n = data.len() / 4;
    if n == 0 {
        return Ok(());
    }
    if n > SCM_MAX_FD || rights.len() + n > SCM_MAX_FD {
        return Err(Errno::EINVAL);
    }
    let fds = kernel.fds.lock();
    for word in data.chunks_exact(4) {
        let fd = i32::from_ne_bytes([word[0], word[1], word[2], word[3]]);
        rights.push(fds.get(fd)?);
    }
    Ok(())
}

/// Linux's `scm_check_creds` and the pid lookup after it.
fn check_creds(kernel: &Kernel, creds: Ucred) -> Result<Ucred, Errno> {
    if creds.uid == INVALID_ID || creds.gid == INVALID_ID {
        return Err(Errno::EINVAL);
    }
    let me = &kernel.identity;
    let root = me.uid == 0;
    let own = creds.pid == me.pid && creds.uid == me.uid && creds.gid == me.gid;
    if !root && !own {
        return Err(Errno::EPERM);
    }
    crate::pidfd::PidRef::find(kernel, creds.pid)?;
    Ok(creds)
}

/// A `recvmsg`'s control buffer as it fills (Linux's `msg_control` and
/// `msg_controllen` moving on with each `put_cmsg`).
pub struct ControlOut<'a> {
    buf: &'a mut [u8],
    used: usize,
    /// Whether the guest can write the buffer at all.
    writable: bool,
    /// `MSG_CTRUNC` when something did not fit.
    pub flags: u32,
}

impl<'a> ControlOut<'a> {
    /// The buffer of a `recvmsg`; `writable` false when its guest memory cannot be
    /// written.
    pub fn new(buf: &'a mut [u8], writable: bool) -> ControlOut<'a> {
        ControlOut { buf, used: 0, writable, flags: 0 }
    }

    /// The bytes written (the `msg_controllen` the call returns).
    pub fn len(&self) -> usize {
        self.used
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    fn room(&self) -> usize {
        self.buf.len() - self.used
    }

    fn header(&mut self, len: usize, level: i32, ty: i32) {
        let at = self.used;
        self.buf[at..at + 8].copy_from_slice(&(len as u64).to_ne_bytes());
        self.buf[at + 8..at + 12].copy_from_slice(&level.to_ne_bytes());
        self.buf[at + 12..at + 16].copy_from_slice(&ty.to_ne_bytes());
    }

    /// Linux's `put_cmsg`: the message, cut to the room left (`MSG_CTRUNC`).
    pub fn put(&mut self, level: i32, ty: i32, data: &[u8]) {
        if !self.writable {
            return;
        }
        let room = self.room();
        if room < CMSG_HDR {
            self.flags |= MSG_CTRUNC;
            return;
        }
        let mut len = cmsg_len(data.len());
        if room < len {
            self.flags |= MSG_CTRUNC;
            len = room;
        }
        self.header(len, level, ty);
        let at = self.used + CMSG_HDR;
        self.buf[at..at + len - CMSG_HDR].copy_from_slice(&data[..len - CMSG_HDR]);
        self.used += cmsg_space(data.len()).min(room);
    }
}

/// Puts what a receive brought into `out` (Linux's `scm_recv_unix`): the credentials
/// message, then the files as new fds in `kernel`'s table — as many as fit and as the
/// table takes; the rest are closed.
pub fn deliver(kernel: &Kernel, scm: Scm, out: &mut ControlOut<'_>, cloexec: bool) {
    if let Some(creds) = scm.creds {
        out.put(SOL_SOCKET, SCM_CREDENTIALS, &creds.to_bytes());
    }
    if scm.rights.is_empty() {
        return;
    }
    let room = out.room();
    let fit = if out.writable && room > CMSG_HDR { (room - CMSG_HDR) / 4 } else { 0 };
    let total = scm.rights.len();
    let mut fds: Vec<i32> = Vec::new();
    {
        let mut table = kernel.fds.lock();
        for open in scm.rights.iter().take(fit) {
            match table.insert(open.clone(), cloexec) {
                Ok(fd) => fds.push(fd),
                Err(_) => break,
            }
        }
    }
    if !fds.is_empty() {
        let data_len = fds.len() * 4;
        out.header(cmsg_len(data_len), SOL_SOCKET, SCM_RIGHTS);
        for (i, fd) in fds.iter().enumerate() {
            let at = out.used + CMSG_HDR + 4 * i;
            out.buf[at..at + 4].copy_from_slice(&fd.to_ne_bytes());
        }
        out.used += cmsg_space(data_len).min(room);
    }
    if fds.len() < total {
        out.flags |= MSG_CTRUNC;
    }
    // Those that did not get an fd close here, with no lock held.
    drop(scm.rights);
}

#[cfg(test)]
#[path = "scm_tests.rs"]
mod tests;
