//! AF_UNIX socket pairs (`socketpair`), as Linux's `net/unix/af_unix.c` behaves for
//! two connected sockets with no name.
//!
//! **Stream** sockets carry bytes: a read takes what is there (all of it with
//! `MSG_WAITALL`), a write moves what fits and, when blocking, waits for room for the
//! rest. **Datagram** and **seqpacket** sockets carry whole messages: a read takes one
//! (the rest of it is lost if the buffer is short: `MSG_TRUNC` in `msg_flags`, the full
//! length returned with the `MSG_TRUNC` flag); a message longer than the send buffer
//! less 32 bytes is EMSGSIZE.
//!
//! **Room.** What a socket has sent and its peer has not read counts against its send
//! buffer (`SO_SNDBUF`, 212,992 bytes as Linux's `wmem_default`; a set value is doubled,
//! at least 4,608): a sender waits while that reaches the buffer (a stream moves at most
//! half a buffer less 64 bytes per step, as Linux's skb sizing does), and the socket is
//! writable for `poll` while at most a quarter is used (Linux's `unix_writable`). A
//! datagram also counts a fixed overhead, standing in for the skb's.
//!
//! **Ends.** `shutdown` sets the socket's own modes and, for stream and seqpacket, the
//! peer's mirrored ones. Closing one end shuts the peer down in both directions (a
//! stream peer reads what is queued, then ECONNRESET once if the closed end left data
//! unread, then end of file); writing then is EPIPE (the syscall layer raises SIGPIPE
//! unless `MSG_NOSIGNAL`). A datagram peer learns on its next send: ECONNREFUSED once,
//! ENOTCONN after.
//!
//! **Ancillary data** ([`super::scm`] parses and delivers it). Files (SCM_RIGHTS) and
//! credentials travel with the bytes they were sent with: a datagram carries its own;
//! a stream send queues its bytes in segments (Linux's skbs, at most half a send buffer
//! each), the files with the first and credentials with every one. A stream read never
//! goes past a segment that brought files (the files go with the read that reaches its
//! first byte, even a partial one), and, when the reader passes credentials
//! (`SO_PASSCRED`), never joins segments whose credentials differ. Credentials are
//! attached when the sender gave them (`SCM_CREDENTIALS`) or either end has
//! `SO_PASSCRED` (the sender's pid, uid and gid); a reader with `SO_PASSCRED` gets an
//! `SCM_CREDENTIALS` message with every read (pid 0 and the overflow ids for data that
//! came without). `MSG_PEEK` hands out copies of the files and leaves them queued. A
//! zero-length stream send carries nothing, its files included; a zero-length datagram
//! carries its files. Files in flight stay open until read or until the socket
//! holding them closes — a socket sent through itself (a cycle) stays open, where
//! Linux's garbage collector would close it.
//!
//! Not here: names (bind/connect to paths or abstract names are ENOSYS), listening
//! sockets, out-of-band data, `SO_PASSPIDFD`/`SCM_PIDFD`, `SO_PEEK_OFF`.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::consts::*;
use super::scm::{Scm, Ucred};
use super::{int_value, put_value, timed_out, timeout_bytes, timeout_value, Received, SendMsg, SockAddr, Socket};
use crate::abi::{mode, Stat};
use crate::file::events::*;
use crate::file::{File, OpenFile};
use crate::readiness::{Pollee, Readiness};
use crate::sync::Mutex;
use crate::wait::WaitQueue;
use crate::{Errno, SysResult};

/// The kinds of socket pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stream,
    Dgram,
    SeqPacket,
}

impl Kind {
    /// The kind for a `socketpair` type (without flag bits).
    pub fn from_type(ty: i32) -> Option<Kind> {
        match ty {
            SOCK_STREAM => Some(Kind::Stream),
            SOCK_DGRAM => Some(Kind::Dgram),
            SOCK_SEQPACKET => Some(Kind::SeqPacket),
            _ => None,
        }
    }

    fn sock_type(self) -> i32 {
        match self {
            Kind::Stream => SOCK_STREAM,
            Kind::Dgram => SOCK_DGRAM,
            Kind::SeqPacket => SOCK_SEQPACKET,
        }
    }

    fn connected(self) -> bool {
        self != Kind::Dgram
    }
}

const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;
const SHUTDOWN_MASK: u8 = 3;
/// `net.core.wmem_default` and `rmem_default`.
pub const DEFAULT_BUF: usize = 212_992;
/// `net.core.wmem_max` / `rmem_max`: the most a set value may ask for.
const MAX_BUF: usize = 212_992;
/// Linux's `SOCK_MIN_SNDBUF` and `SOCK_MIN_RCVBUF` (64-bit).
const MIN_SNDBUF: usize = 4608;
const MIN_RCVBUF: usize = 2304;
/// What a datagram costs its sender besides its bytes (an skb's truesize overhead).
const DGRAM_OVERHEAD: usize = 768;

/// `sizeof(struct sockaddr_un)`.
const SUN_LEN: usize = 110;
/// `SIOCINQ` (= `FIONREAD`) and `SIOCOUTQ` (= `TIOCOUTQ`).
const SIOCINQ: u32 = 0x541b;
const SIOCOUTQ: u32 = 0x5411;

static NEXT_INO: AtomicU64 = AtomicU64::new(10_000);

/// The device number sockets show (`st_dev`, sockfs's).
fn sockfs_dev() -> u64 {
    static DEV: spin::Once<u64> = spin::Once::new();
    *DEV.call_once(crate::vfs::mount::anon_dev)
}

/// What one send step queued (Linux's skb): a datagram, or a stream segment.
struct Packet {
    data: Vec<u8>,
    /// Bytes of a stream segment already read.
    read: usize,
    /// The files and credentials that came with it.
    scm: Scm,
}

impl Packet {
    fn left(&self) -> &[u8] {
        &self.data[self.read..]
    }
}

/// One end's state.
struct Side {
    /// What waits to be read by this end.
    queue: VecDeque<Packet>,
    /// What the queue costs its sender.
    charge: usize,
    shutdown: u8,
    /// A pending error (`SO_ERROR`), taken by the next read or `SO_ERROR`.
    err: Option<Errno>,
    open: bool,
    /// A datagram end whose peer closed: 1 reports ECONNREFUSED, 2 ENOTCONN after.
    peer_lost: u8,
    sndbuf: usize,
    rcvbuf: usize,
    rcvtimeo: Option<u64>,
    sndtimeo: Option<u64>,
    /// `SO_PASSCRED`.
    passcred: bool,
    /// Options Linux keeps but that change nothing for a pair.
    flags: u32,
}

const OPT_REUSEADDR: u32 = 1;
const OPT_KEEPALIVE: u32 = 2;
const OPT_REUSEPORT: u32 = 4;

impl Side {
    fn new() -> Side {
        Side {
            queue: VecDeque::new(),
            charge: 0,
            shutdown: 0,
            err: None,
            open: true,
            peer_lost: 0,
            sndbuf: DEFAULT_BUF,
            rcvbuf: DEFAULT_BUF,
            rcvtimeo: None,
            sndtimeo: None,
            passcred: false,
            flags: 0,
        }
    }

    fn has_data(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The bytes queued (what a stream has to read).
    fn queued_bytes(&self) -> usize {
        self.queue.iter().map(|p| p.left().len()).sum()
    }
}

/// What a stream receive has gathered, kept across its waits.
#[derive(Default)]
struct Gathered {
    got: usize,
    /// With the reader passing credentials: those of the first segment read (`None`
    /// inside: it came without). A read never joins segments whose credentials differ.
    creds: Option<Option<Ucred>>,
    /// The files of the segment that ended the read.
    rights: Vec<Arc<OpenFile>>,
}

struct Pair {
    kind: Kind,
    sides: Mutex<[Side; 2]>,
    /// Each end's blocked readers and writers.
    queues: [WaitQueue; 2],
    /// Each end's pollers.
    pollees: [Pollee; 2],
    /// The creator's pid, uid and gid (`SO_PEERCRED`).
    cred: [u32; 3],
}

/// One end of a socket pair.
pub struct UnixSocket {
    pair: Arc<Pair>,
    me: usize,
    ino: u64,
    uid: u32,
    gid: u32,
}

/// Makes a connected pair of `kind`, created by process `pid` as `uid`/`gid`.
pub fn pair(kind: Kind, pid: u32, uid: u32, gid: u32) -> (Arc<UnixSocket>, Arc<UnixSocket>) {
    let pair = Arc::new(Pair {
        kind,
        sides: Mutex::new([Side::new(), Side::new()]),
        queues: [WaitQueue::new(), WaitQueue::new()],
        pollees: [Pollee::new(), Pollee::new()],
        cred: [pid, uid, gid],
    });
    let end =
        |me| Arc::new(UnixSocket { pair: pair.clone(), me, ino: NEXT_INO.fetch_add(1, Ordering::Relaxed), uid, gid });
    (end(0), end(1))
}

impl UnixSocket {
    fn peer(&self) -> usize {
        1 - self.me
    }

    /// Tells end `who` about a change that concerns `events`.
    fn changed(&self, who: usize, events: u16) {
        self.pair.queues[who].notify();
        self.pair.pollees[who].notify(events);
    }

    fn poll_mask(&self, sides: &[Side; 2]) -> u16 {
        let me = &sides[self.me];
        let peer = &sides[self.peer()];
        let mut mask = 0;
        if me.err.is_some() {
            mask |= POLLERR;
        }
        if me.shutdown & RCV_SHUTDOWN != 0 {
            mask |= POLLRDHUP | POLLIN | POLLRDNORM;
        }
        if me.shutdown == SHUTDOWN_MASK {
            mask |= POLLHUP;
        }
        if me.has_data() {
            mask |= POLLIN | POLLRDNORM;
        }
        // What this end sent and its peer holds unread (freed if the peer is gone).
        let used = if peer.open { peer.charge } else { 0 };
        if used * 4 <= me.sndbuf {
            mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
        }
        mask
    }

    /// The credentials a packet from this end carries: those the sender gave, else this
    /// process's when either end passes credentials (Linux's `maybe_add_creds`).
    fn creds_for(&self, given: Option<Ucred>, me: &Side, peer: &Side) -> Option<Ucred> {
        given.or_else(|| {
            let [pid, uid, gid] = self.pair.cred;
            (me.passcred || peer.passcred).then_some(Ucred { pid, uid, gid })
        })
    }

    /// One attempt at sending from `at` on: `Some(result)` when done. `scm` goes with
    /// the data: its files with the first packet (`rights_sent` says they went).
    fn try_send(&self, data: &[u8], at: &mut usize, scm: &Scm, rights_sent: &mut bool) -> Option<Result<usize, Errno>> {
        let mut sides = self.pair.sides.lock();
        let kind = self.pair.kind;
        let (me, peer) = self.split(&mut sides);
        if me.shutdown & SEND_SHUTDOWN != 0 {
            return Some(if *at > 0 { Ok(*at) } else { Err(Errno::EPIPE) });
        }
        if !peer.open {
            return Some(match kind {
                Kind::Stream | Kind::SeqPacket if *at > 0 => Ok(*at),
                Kind::Stream if data.is_empty() => Ok(0),
                Kind::Stream | Kind::SeqPacket => Err(Errno::EPIPE),
                Kind::Dgram => {
                    me.peer_lost = me.peer_lost.max(1);
                    let e = if me.peer_lost == 1 { Errno::ECONNREFUSED } else { Errno::ENOTCONN };
                    me.peer_lost = 2;
                    Err(e)
                }
            });
        }
        if peer.shutdown & RCV_SHUTDOWN != 0 {
            return Some(if *at > 0 { Ok(*at) } else { Err(Errno::EPIPE) });
        }
        let sndbuf = me.sndbuf;
        let creds = self.creds_for(scm.creds, me, peer);
        let mut take_rights = || if core::mem::replace(rights_sent, true) { Vec::new() } else { scm.rights.clone() };
        match kind {
            Kind::Stream => {
                // Nothing to send sends nothing: not even the files.
                if data.is_empty() {
                    return Some(Ok(0));
                }
                let step = (sndbuf / 2).saturating_sub(64).max(1);
                let mut moved = false;
                while *at < data.len() && peer.charge < sndbuf {
                    let n = (data.len() - *at).min(step);
                    let chunk = &data[*at..*at + n];
                    let rights = take_rights();
                    // Bytes with no files join the last segment if it has none either, the
                    // same credentials and room: reads see no difference, and a stream of
                    // small writes does not become a queue of small segments.
                    match peer.queue.back_mut() {
                        Some(last)
                            if rights.is_empty()
                                && last.scm.rights.is_empty()
                                && last.scm.creds == creds
                                && last.data.len() + n <= step =>
                        {
                            last.data.extend_from_slice(chunk)
                        }
                        _ => peer.queue.push_back(Packet { data: chunk.to_vec(), read: 0, scm: Scm { rights, creds } }),
                    }
                    peer.charge += n;
                    *at += n;
                    moved = true;
                }
                drop(sides);
                if moved {
                    self.changed(self.peer(), POLLIN | POLLRDNORM);
                }
                (*at == data.len()).then_some(Ok(*at))
            }
            Kind::Dgram | Kind::SeqPacket => {
                if data.len() > sndbuf.saturating_sub(32) {
                    return Some(Err(Errno::EMSGSIZE));
                }
                if peer.charge >= sndbuf {
                    return None;
                }
                peer.charge += data.len() + DGRAM_OVERHEAD;
                let rights = take_rights();
                peer.queue.push_back(Packet { data: data.to_vec(), read: 0, scm: Scm { rights, creds } });
                drop(sides);
                self.changed(self.peer(), POLLIN | POLLRDNORM);
                Some(Ok(data.len()))
            }
        }
    }

    /// This end's side and its peer's, both mutable.
    fn split<'a>(&self, sides: &'a mut [Side; 2]) -> (&'a mut Side, &'a mut Side) {
        let (a, b) = sides.split_at_mut(1);
        if self.me == 0 {
            (&mut a[0], &mut b[0])
        } else {
            (&mut b[0], &mut a[0])
        }
    }

    /// One attempt at a stream receive, as Linux's `unix_stream_read_generic` walks its
    /// queue: `Some` when done (what was read is in `g`), `None` to wait for more.
    fn try_recv_stream(&self, bufs: &mut [&mut [u8]], flags: u32, g: &mut Gathered) -> Option<Result<(), Errno>> {
        let want: usize = bufs.iter().map(|b| b.len()).sum();
        let peek = flags & MSG_PEEK != 0;
        // Linux waits for at least one byte even for an empty buffer (then copies none).
        let target = if flags & MSG_WAITALL != 0 { want.max(1) } else { 1 };
        let mut sides = self.pair.sides.lock();
        let (me, _) = self.split(&mut sides);
        let passcred = me.passcred;
        let mut freed = false;
        // A peek walks on through the queue; a read consumes from its head.
        let mut at = 0;
        loop {
            let Some(seg) = me.queue.get_mut(at) else {
                if g.got >= target {
                    break;
                }
                if let Some(e) = me.err.take() {
                    if g.got > 0 {
                        break;
                    }
                    return Some(Err(e));
                }
                if me.shutdown & RCV_SHUTDOWN != 0 {
                    break;
                }
                drop(sides);
                if freed {
                    self.changed(self.peer(), POLLOUT | POLLWRNORM);
                }
                return None;
            };
            match &g.creds {
                Some(first) if *first != seg.scm.creds => break,
                Some(_) => {}
                None if passcred => g.creds = Some(seg.scm.creds),
                None => {}
            }
            let n = seg.left().len().min(want - g.got);
            copy_out(bufs, g.got, seg.left()[..n].iter());
            g.got += n;
            let has_rights = !seg.scm.rights.is_empty();
            if peek {
                if has_rights {
                    g.rights = seg.scm.rights.clone();
                    break;
                }
                at += 1;
                if at == me.queue.len() {
                    break;
                }
                continue;
            }
            seg.read += n;
            me.charge -= n;
            freed |= n > 0;
            if has_rights {
                g.rights = core::mem::take(&mut seg.scm.rights);
            }
            if !seg.left().is_empty() {
                break;
            }
            me.queue.pop_front();
            if has_rights || g.got >= want {
                break;
            }
        }
        drop(sides);
        if freed {
            self.changed(self.peer(), POLLOUT | POLLWRNORM);
        }
        Some(Ok(()))
    }

    /// What a finished stream receive returns: the count and, for a reader passing
    /// credentials or a read that brought files, the ancillary data.
    fn stream_received(&self, g: Gathered) -> Received {
        let passcred = self.pair.sides.lock()[self.me].passcred;
        let seen = match g.creds {
            Some(Some(c)) => c,
            Some(None) => Ucred::NOBODY,
            None => Ucred::ZERO,
        };
        let creds = passcred.then_some(seen);
        let scm = Scm { rights: g.rights, creds };
        Received { scm: (!scm.is_empty()).then_some(scm), ..Received::data(g.got, 0) }
    }

    /// One attempt at receiving a datagram or seqpacket: `Some(result)` when done.
    /// `blocking`: the caller would wait (a datagram socket shut down for reading
    /// reads 0 then, EAGAIN otherwise; a seqpacket 0 either way, as Linux).
    fn try_recv_msg(&self, bufs: &mut [&mut [u8]], flags: u32, blocking: bool) -> Option<Result<Received, Errno>> {
        let want: usize = bufs.iter().map(|b| b.len()).sum();
        let peek = flags & MSG_PEEK != 0;
        let mut sides = self.pair.sides.lock();
        let kind = self.pair.kind;
        let (me, _) = self.split(&mut sides);
        if let Some(e) = me.err.take() {
            return Some(Err(e));
        }
        let passcred = me.passcred;
        let msg = if peek {
            me.queue.front().map(|p| Packet { data: p.data.clone(), read: 0, scm: p.scm.clone() })
        } else {
            me.queue.pop_front()
        };
        let Some(msg) = msg else {
            let eof = me.shutdown & RCV_SHUTDOWN != 0 && (blocking || kind == Kind::SeqPacket);
            return eof.then_some(Ok(Received::data(0, 0)));
        };
        if !peek {
            me.charge -= msg.data.len() + DGRAM_OVERHEAD;
        }
        drop(sides);
        let n = msg.data.len().min(want);
        copy_out(bufs, 0, msg.data[..n].iter());
        if !peek {
            self.changed(self.peer(), POLLOUT | POLLWRNORM);
        }
        // Linux sets no MSG_EOR on a seqpacket's record (measured on 6.18).
        let out_flags = if n < msg.data.len() { MSG_TRUNC } else { 0 };
        let len = if flags & MSG_TRUNC != 0 { msg.data.len() } else { n };
        let creds = passcred.then(|| msg.scm.creds.unwrap_or(Ucred::NOBODY));
        let scm = Scm { rights: msg.scm.rights, creds };
        Some(Ok(Received { scm: (!scm.is_empty()).then_some(scm), ..Received::data(len, out_flags) }))
    }

    fn timeouts(&self) -> (Option<u64>, Option<u64>) {
        let sides = self.pair.sides.lock();
        (sides[self.me].rcvtimeo, sides[self.me].sndtimeo)
    }
}

/// Copies `src` into the buffers, starting `skip` bytes in.
fn copy_out<'a>(bufs: &mut [&mut [u8]], mut skip: usize, src: impl Iterator<Item = &'a u8>) {
    let mut src = src;
    for b in bufs.iter_mut() {
        if skip >= b.len() {
            skip -= b.len();
            continue;
        }
        for slot in b[skip..].iter_mut() {
            match src.next() {
                Some(&v) => *slot = v,
                None => return,
            }
        }
        skip = 0;
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let mut sides = self.pair.sides.lock();
        let kind = self.pair.kind;
        let (me, peer) = self.split(&mut sides);
        me.open = false;
        let unread = core::mem::take(&mut me.queue);
        me.charge = 0;
        if kind.connected() && peer.open {
            peer.shutdown = SHUTDOWN_MASK;
            if !unread.is_empty() {
                peer.err = Some(Errno::ECONNRESET);
            }
        }
        drop(sides);
        // Files in flight to this end close now, with no lock held (one may be a
        // socket of this pair).
        drop(unread);
        self.changed(self.peer(), POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR | POLLRDNORM | POLLWRNORM);
    }
}

impl Socket for UnixSocket {
    fn bind(&self, _addr: &[u8]) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    fn listen(&self, _backlog: i32) -> Result<(), Errno> {
        // A connected socket cannot listen (Linux: EINVAL unless unconnected).
        Err(Errno::EINVAL)
    }

    fn accept(&self, _nonblock: bool) -> Result<(Arc<dyn File>, SockAddr), Errno> {
        Err(Errno::EINVAL)
    }

    /// Linux checks the address first (EINVAL unless an AF_UNIX name of a sensible
    /// length); names are not supported here.
    fn connect(&self, addr: &[u8], _nonblock: bool) -> Result<(), Errno> {
        let family = addr.get(..2).map(|f| i32::from(u16::from_ne_bytes([f[0], f[1]])));
        if family != Some(AF_UNIX) || addr.len() <= 2 || addr.len() > SUN_LEN {
            return Err(Errno::EINVAL);
        }
        Err(Errno::ENOSYS)
    }

    fn shutdown(&self, how: i32) -> Result<(), Errno> {
        if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let mode = (how + 1) as u8;
        let mut sides = self.pair.sides.lock();
        let kind = self.pair.kind;
        let (me, peer) = self.split(&mut sides);
        me.shutdown |= mode;
        let mirrored = kind.connected() && peer.open;
        if mirrored {
            let mut peer_mode = 0;
            if mode & RCV_SHUTDOWN != 0 {
                peer_mode |= SEND_SHUTDOWN;
            }
            if mode & SEND_SHUTDOWN != 0 {
                peer_mode |= RCV_SHUTDOWN;
            }
            peer.shutdown |= peer_mode;
        }
        drop(sides);
        let all = POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLRDNORM | POLLWRNORM;
        self.changed(self.me, all);
        if mirrored {
            self.changed(self.peer(), all);
        }
        Ok(())
    }

    fn sockname(&self) -> Result<SockAddr, Errno> {
        Ok(SockAddr::unix_unnamed())
    }

    fn peername(&self) -> Result<SockAddr, Errno> {
        let sides = self.pair.sides.lock();
        if self.pair.kind == Kind::Dgram && sides[self.me].peer_lost != 0 {
            return Err(Errno::ENOTCONN);
        }
        Ok(SockAddr::unix_unnamed())
    }

    fn sendmsg(&self, msg: &SendMsg<'_>, nonblock: bool) -> SysResult {
        // The syscall layer parses ancillary data for AF_UNIX sockets (its errors come
        // first, as Linux's `scm_send` does): raw control bytes are not taken.
        if msg.scm.is_none() && !msg.control.is_empty() {
            return Err(Errno::EOPNOTSUPP);
        }
        let none = Scm::default();
        let scm = msg.scm.unwrap_or(&none);
        if msg.flags & MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        if msg.addr.is_some_and(|a| !a.is_empty()) {
            return Err(if self.pair.kind.connected() { Errno::EISCONN } else { Errno::ENOSYS });
        }
        let data: Vec<u8>;
        let data: &[u8] = match msg.bufs {
            [one] => one,
            many => {
                data = many.concat();
                &data
            }
        };
        let nonblock = nonblock || msg.flags & MSG_DONTWAIT != 0;
        let mut at = 0;
        let mut rights_sent = false;
        if let Some(r) = self.try_send(data, &mut at, scm, &mut rights_sent) {
            return r;
        }
        if nonblock {
            return if at > 0 { Ok(at) } else { Err(Errno::EAGAIN) };
        }
        let (_, timeout) = self.timeouts();
        let r =
            self.pair.queues[self.me].wait_until_for(timeout, || self.try_send(data, &mut at, scm, &mut rights_sent));
        match r {
            Ok(r) => r,
            Err(_) if at > 0 => Ok(at),
            Err(e) => Err(timed_out(e, timeout)),
        }
    }

    fn recvmsg(
        &self,
        bufs: &mut [&mut [u8]],
        _control: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> Result<Received, Errno> {
        if flags & MSG_OOB != 0 {
            return Err(Errno::EINVAL);
        }
        let nonblock = nonblock || flags & MSG_DONTWAIT != 0;
        let (timeout, _) = self.timeouts();
        if self.pair.kind != Kind::Stream {
            if let Some(r) = self.try_recv_msg(bufs, flags, !nonblock) {
                return r;
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            let r = self.pair.queues[self.me].wait_until_for(timeout, || self.try_recv_msg(bufs, flags, true));
            return r.unwrap_or_else(|e| Err(timed_out(e, timeout)));
        }
        let mut g = Gathered::default();
        let r = match self.try_recv_stream(bufs, flags, &mut g) {
            Some(r) => r,
            None if nonblock => Err(Errno::EAGAIN),
            None => self.pair.queues[self.me]
                .wait_until_for(timeout, || self.try_recv_stream(bufs, flags, &mut g))
                .unwrap_or_else(Err),
        };
        match r {
            Ok(()) => Ok(self.stream_received(g)),
            // A read that got something returns it; the credentials come with it unless
            // a signal ended the wait (Linux drops them then).
            Err(Errno::EAGAIN | Errno::ETIMEDOUT) if g.got > 0 => Ok(self.stream_received(g)),
            Err(_) if g.got > 0 => Ok(Received::data(g.got, 0)),
            Err(e) => Err(timed_out(e, timeout)),
        }
    }

    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut sides = self.pair.sides.lock();
        let me = &mut sides[self.me];
        let flag = |me: &mut Side, bit: u32, on: bool| {
            if on {
                me.flags |= bit;
            } else {
                me.flags &= !bit;
            }
        };
        match name {
            SO_SNDBUF => {
                let v = int_value(value)?.max(0) as usize;
                me.sndbuf = (v.min(MAX_BUF) * 2).max(MIN_SNDBUF);
            }
            SO_RCVBUF => {
                let v = int_value(value)?.max(0) as usize;
                me.rcvbuf = (v.min(MAX_BUF) * 2).max(MIN_RCVBUF);
            }
            SO_REUSEADDR => flag(me, OPT_REUSEADDR, int_value(value)? != 0),
            SO_REUSEPORT => flag(me, OPT_REUSEPORT, int_value(value)? != 0),
            SO_KEEPALIVE => flag(me, OPT_KEEPALIVE, int_value(value)? != 0),
            SO_RCVTIMEO => me.rcvtimeo = timeout_value(value)?,
            SO_SNDTIMEO => me.sndtimeo = timeout_value(value)?,
            SO_PASSCRED => me.passcred = int_value(value)? != 0,
            _ => return Err(Errno::ENOPROTOOPT),
        }
        drop(sides);
        // A bigger buffer may make room.
        self.changed(self.me, POLLOUT | POLLWRNORM);
        Ok(())
    }

    fn getsockopt(&self, level: i32, name: i32, value: &mut [u8]) -> Result<usize, Errno> {
        if level != SOL_SOCKET {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut sides = self.pair.sides.lock();
        let me = &mut sides[self.me];
        let int = |v: i64| (v as i32).to_ne_bytes();
        let bytes: Vec<u8> = match name {
            SO_TYPE => int(self.pair.kind.sock_type() as i64).to_vec(),
            SO_DOMAIN => int(AF_UNIX as i64).to_vec(),
            SO_PROTOCOL => int(0).to_vec(),
            SO_ACCEPTCONN => int(0).to_vec(),
            SO_ERROR => int(me.err.take().map_or(0, |e| e.number() as i64)).to_vec(),
            SO_SNDBUF => int(me.sndbuf as i64).to_vec(),
            SO_RCVBUF => int(me.rcvbuf as i64).to_vec(),
            SO_REUSEADDR => int(i64::from(me.flags & OPT_REUSEADDR != 0)).to_vec(),
            SO_REUSEPORT => int(i64::from(me.flags & OPT_REUSEPORT != 0)).to_vec(),
            SO_KEEPALIVE => int(i64::from(me.flags & OPT_KEEPALIVE != 0)).to_vec(),
            SO_RCVTIMEO => timeout_bytes(me.rcvtimeo).to_vec(),
            SO_SNDTIMEO => timeout_bytes(me.sndtimeo).to_vec(),
            SO_PASSCRED => int(i64::from(me.passcred)).to_vec(),
            SO_PEERCRED => {
                let mut v = Vec::with_capacity(12);
                for c in self.pair.cred {
                    v.extend_from_slice(&c.to_ne_bytes());
                }
                v
            }
            _ => return Err(Errno::ENOPROTOOPT),
        };
        Ok(put_value(value, &bytes))
    }
}

impl File for UnixSocket {
    fn read(&self, buf: &mut [u8], nonblock: bool) -> SysResult {
        crate::net::read_as_recvmsg(self, buf, nonblock)
    }

    fn write(&self, buf: &[u8], nonblock: bool) -> SysResult {
        crate::net::write_as_sendmsg(self, buf, nonblock)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            st_dev: sockfs_dev(),
            st_ino: self.ino,
            st_nlink: 1,
            st_mode: mode::S_IFSOCK | 0o777,
            st_uid: self.uid,
            st_gid: self.gid,
            st_blksize: 4096,
            ..Stat::default()
        })
    }

    fn ioctl(&self, request: u32, _arg: u64, data: &mut [u8]) -> SysResult {
        let sides = self.pair.sides.lock();
        let n = match request {
            // A datagram socket counts its next message, a seqpacket all (Linux's
            // unix_inq_len).
            SIOCINQ => match self.pair.kind {
                Kind::Stream | Kind::SeqPacket => sides[self.me].queued_bytes(),
                Kind::Dgram => sides[self.me].queue.front().map_or(0, |m| m.data.len()),
            },
            SIOCOUTQ => sides[self.peer()].queued_bytes(),
            _ => return Err(Errno::ENOTTY),
        };
        if data.len() < 4 {
            return Err(Errno::EFAULT);
        }
        data[..4].copy_from_slice(&(n.min(i32::MAX as usize) as i32).to_ne_bytes());
        Ok(0)
    }

    fn poll(&self, events: u16) -> u16 {
        let sides = self.pair.sides.lock();
        self.poll_mask(&sides) & events
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Pollee(&self.pair.pollees[self.me])
    }

    fn as_socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }

    fn anon_name(&self) -> Option<Vec<u8>> {
        let mut name = Vec::from(&b"socket:["[..]);
        let mut digits = [0u8; 20];
        let mut n = self.ino;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        name.extend_from_slice(&digits[i..]);
        name.push(b']');
        Some(name)
    }
}

#[cfg(test)]
#[path = "unix_tests.rs"]
mod tests;
