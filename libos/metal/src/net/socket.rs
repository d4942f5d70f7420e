//! The guest's view of a socket: [`InetSocket`], the file an AF_INET or AF_INET6 fd
//! refers to, and [`Sock`], its state inside the stack.
//!
//! An `InetSocket` holds only its id in the stack and its [`Shared`] part (the pollee
//! that epoll, poll and select register on); everything else lives in the stack under
//! its lock, where the poll that changes smoltcp's sockets can look at it. Each call
//! runs its protocol's step under the lock ([`with_sock`], which polls afterwards; calls
//! that only look use `peek_net`, which does not); a step that must wait answers EAGAIN,
//! and a blocking caller then sleeps on the stack's sequence word and tries again
//! ([`InetSocket::blocking`]).
//!
//! Options are Linux's: those that change what the stack does act on it (`TCP_NODELAY`
//! is smoltcp's Nagle switch, `SO_KEEPALIVE` its keep-alive, `SO_LINGER` with a zero
//! time makes `close` reset, `SO_REUSEADDR`/`SO_REUSEPORT` the port table's rules,
//! `SO_RCVTIMEO`/`SO_SNDTIMEO` the waits, `IPV6_V6ONLY` which addresses a v6 socket
//! takes); the rest of the common ones are kept and reported back with Linux's
//! defaults and rules (`SO_RCVBUF` doubled, clamped to `rmem_max`).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use libos::abi::{mode, Stat};
use libos::file::events::*;
use libos::file::File;
use libos::net::consts::*;
use libos::net::{int_value, put_value, timed_out, timeout_bytes, timeout_value, Received, SendMsg, SockAddr, Socket};
use libos::readiness::{Pollee, Readiness};
use libos::{Errno, SysResult};

use super::addr::{self, Endpoint};
use super::ports::Binding;
use super::tcp::Tcp;
use super::udp::Udp;
use super::{peek_net, with_net, with_sock, with_sock_try, Links, Net};
use crate::clock;

pub const IPPROTO_IP: i32 = 0;
pub const IPPROTO_TCP: i32 = 6;
pub const IPPROTO_UDP: i32 = 17;
pub const IPPROTO_IPV6: i32 = 41;
const IPV6_V6ONLY: i32 = 26;
const TCP_NODELAY: i32 = 1;
/// `SO_RCVTIMEO_NEW` and `SO_SNDTIMEO_NEW` (the same layout on 64-bit).
const SO_RCVTIMEO_NEW: i32 = 66;
const SO_SNDTIMEO_NEW: i32 = 67;
/// `net.core.rmem_max` and `wmem_max`.
const BUF_MAX: i32 = 212_992;
const MIN_RCVBUF: i32 = 2304;
const MIN_SNDBUF: i32 = 4608;
/// ioctls on sockets.
const SIOCINQ: u32 = 0x541b;
const SIOCOUTQ: u32 = 0x5411;
const SIOCATMARK: u32 = 0x8905;

/// `shutdown` bits (Linux's `RCV_SHUTDOWN`, `SEND_SHUTDOWN`).
pub const RCV_SHUTDOWN: u8 = 1;
pub const SEND_SHUTDOWN: u8 = 2;

static NEXT_INO: AtomicU64 = AtomicU64::new(20_000);

/// The part of a socket both its file and the stack hold.
pub struct Shared {
    pub pollee: Pollee,
    pub ino: u64,
}

/// Socket options.
#[derive(Clone)]
pub struct Opts {
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub keepalive: bool,
    pub nodelay: bool,
    pub v6only: bool,
    /// `struct linger`: on, seconds.
    pub linger: (i32, i32),
    pub rcvbuf: i32,
    pub sndbuf: i32,
    pub rcvtimeo: Option<u64>,
    pub sndtimeo: Option<u64>,
    /// Integer options kept and reported but not acted on, by (level, name).
    pub kept: BTreeMap<(i32, i32), i32>,
}

/// The protocol's part.
pub enum Proto {
    Tcp(Tcp),
    Udp(Udp),
}

/// A socket's state in the stack.
pub struct Sock {
    pub shared: Arc<Shared>,
    /// AF_INET or AF_INET6.
    pub family: i32,
    pub opts: Opts,
    /// The pending error (`SO_ERROR`), taken by the next call that reports it.
    pub err: Option<Errno>,
    /// The name `getsockname` gives: bound, or chosen by connect, listen or send.
    pub local: Option<Endpoint>,
    /// The port this socket holds in its protocol's table.
    pub port: Option<u16>,
    pub proto: Proto,
    /// What its waiters last heard: the readiness mask and the count of queued bytes
    /// (or pending connections); new data is news even when the mask stays.
    told: (u16, usize),
}

impl Sock {
    fn new(shared: Arc<Shared>, family: i32, proto: Proto) -> Sock {
        let (rcvbuf, sndbuf) = match proto {
            // tcp_rmem[1] and tcp_wmem[1].
            Proto::Tcp(_) => (131_072, 16_384),
            Proto::Udp(_) => (BUF_MAX, BUF_MAX),
        };
        let opts = Opts {
            reuseaddr: false,
            reuseport: false,
            keepalive: false,
            nodelay: false,
            v6only: false,
            linger: (0, 0),
            rcvbuf,
            sndbuf,
            rcvtimeo: None,
            sndtimeo: None,
            kept: BTreeMap::new(),
        };
        Sock { shared, family, opts, err: None, local: None, port: None, proto, told: (0, 0) }
    }

    /// A socket accepted from listener `parent`: same family, the listener's options.
    pub fn accepted(parent: &Sock, tcp: Tcp, local: Endpoint) -> Sock {
        let shared = Arc::new(Shared { pollee: Pollee::new(), ino: NEXT_INO.fetch_add(1, Ordering::Relaxed) });
        let mut s = Sock::new(shared, parent.family, Proto::Tcp(tcp));
        s.opts = parent.opts.clone();
        s.local = Some(local);
        s
    }

    pub fn binding(&self, addr: Option<smoltcp::wire::IpAddress>, listening: bool) -> Binding {
        Binding { owner: 0, addr, reuseaddr: self.opts.reuseaddr, reuseport: self.opts.reuseport, listening }
    }

    /// The readiness mask (all events) and the count of what is queued.
    pub fn readiness(&self, links: &Links) -> (u16, usize) {
        match &self.proto {
            Proto::Tcp(t) => t.readiness(links, self.err.is_some()),
            Proto::Udp(u) => u.readiness(links, self.err.is_some()),
        }
    }

    /// After the guest's own call on the socket: events that went off are forgotten (so
    /// their coming back is news), and the queue is counted anew (so what arrives next
    /// is news even if the call emptied and refilled it within one poll). Events the
    /// call turned on stay untold: the poll after the call tells them, as Linux wakes
    /// a socket's waiters when its own `shutdown` changes it.
    pub fn settle(&mut self, links: &Links) {
        let (mask, count) = self.readiness(links);
        self.told = (self.told.0 & mask, count);
    }

    /// Looks at what the last poll did to the socket; the events its waiters must hear
    /// about, if any (those that came on, and input when more arrived).
    pub fn observe(&mut self, links: &Links) -> Option<u16> {
        let changed = match &mut self.proto {
            Proto::Tcp(t) => t.observe(links, &mut self.err),
            Proto::Udp(_) => false,
        };
        let (mask, count) = self.readiness(links);
        let (told_mask, told_count) = self.told;
        let mut news = if changed { mask } else { mask & !told_mask };
        if count > told_count {
            news |= mask & (POLLIN | POLLRDNORM);
        }
        self.told = (mask, count);
        (news != 0).then_some(news)
    }

    fn is_tcp(&self) -> bool {
        matches!(self.proto, Proto::Tcp(_))
    }
}

/// An AF_INET or AF_INET6 socket.
pub struct InetSocket {
    id: u64,
    family: i32,
    ty: i32,
    shared: Arc<Shared>,
}

impl InetSocket {
    /// `socket(domain, ty, protocol)` for AF_INET and AF_INET6: Linux's checks of the
    /// type and protocol (ESOCKTNOSUPPORT, EPROTONOSUPPORT).
    pub fn open(domain: i32, ty: i32, protocol: i32) -> Result<Arc<InetSocket>, Errno> {
        let proto = match ty {
            SOCK_STREAM if protocol == 0 || protocol == IPPROTO_TCP => Proto::Tcp(Tcp::new()),
            SOCK_DGRAM if protocol == 0 || protocol == IPPROTO_UDP => Proto::Udp(Udp::new()),
            SOCK_STREAM | SOCK_DGRAM => return Err(Errno::EPROTONOSUPPORT),
            _ => {
                if ty == SOCK_RAW {
                    super::notice(
                        "unify: raw sockets are not supported in the VM; socket(SOCK_RAW) gives ESOCKTNOSUPPORT",
                    );
                }
                return Err(Errno::ESOCKTNOSUPPORT);
            }
        };
        let shared = Arc::new(Shared { pollee: Pollee::new(), ino: NEXT_INO.fetch_add(1, Ordering::Relaxed) });
        let sock = Sock::new(shared.clone(), domain, proto);
        let id = peek_net(|net| net.insert(sock));
        Ok(Arc::new(InetSocket { id, family: domain, ty, shared }))
    }

    /// The file for a socket already in the stack (an accepted connection).
    pub fn wrap(id: u64, family: i32, shared: Arc<Shared>) -> Arc<InetSocket> {
        Arc::new(InetSocket { id, family, ty: SOCK_STREAM, shared })
    }

    /// Runs `step` on this socket's state until it does not answer EAGAIN; in between
    /// (unless `nonblock`) sleeps until the stack changes, `timeout` passes (EAGAIN, as
    /// Linux's timed-out socket waits) or a signal comes (ERESTARTSYS; EINTR with a
    /// timeout set).
    fn blocking<T>(
        &self,
        nonblock: bool,
        timeout: Option<u64>,
        mut step: impl FnMut(&mut Net, u64) -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        let deadline = timeout.map(|t| clock::monotonic_ns().saturating_add(t));
        loop {
            let seq = super::SEQ.load(Ordering::SeqCst);
            match with_sock_try(self.id, |net| step(net, self.id)) {
                Err(Errno::EAGAIN) if !nonblock => {}
                r => return r,
            }
            super::wait(seq, deadline).map_err(|e| timed_out(e, timeout))?;
        }
    }

    fn timeouts(&self) -> (Option<u64>, Option<u64>) {
        peek_net(|net| net.socks.get(&self.id).map_or((None, None), |s| (s.opts.rcvtimeo, s.opts.sndtimeo)))
    }
}

impl Drop for InetSocket {
    fn drop(&mut self) {
        let id = self.id;
        with_net(|net| net.close(id));
    }
}

impl Net {
    /// The socket `id` (it exists while its file does).
    pub fn sock(&mut self, id: u64) -> &mut Sock {
        self.socks.get_mut(&id).expect("a live socket")
    }

    /// `bind`: Linux's checks (EINVAL for a short address or a second bind,
    /// EAFNOSUPPORT for another family, EADDRNOTAVAIL for an address not ours,
    /// EADDRINUSE), then the port table; a UDP socket starts receiving at once.
    fn bind(&mut self, id: u64, bytes: &[u8]) -> Result<(), Errno> {
        let have_eth = self.links.have_eth();
        let sock = self.sock(id);
        let family = sock.family;
        // Linux's inet_bind takes AF_UNSPEC for the wildcard, for old programs.
        let ep = if family == AF_INET
            && addr::family_of(bytes) == Some(AF_UNSPEC)
            && bytes.len() >= addr::SIN_LEN
            && bytes[4..8] == [0; 4]
        {
            Endpoint { addr: None, port: u16::from_be_bytes([bytes[2], bytes[3]]) }
        } else {
            addr::parse(family, bytes)?
        };
        if sock.local.is_some() {
            return Err(Errno::EINVAL);
        }
        if family == AF_INET6 && sock.opts.v6only && matches!(ep.addr, Some(smoltcp::wire::IpAddress::Ipv4(_))) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if !addr::bindable(ep.addr, have_eth) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        self.claim(id, ep)
    }

    /// Takes `ep`'s port (0: an ephemeral one) for socket `id` and names it there.
    pub fn claim(&mut self, id: u64, ep: Endpoint) -> Result<(), Errno> {
        let sock = self.socks.get(&id).expect("a live socket");
        let mut b = sock.binding(ep.addr, false);
        b.owner = id;
        let port = if sock.is_tcp() { self.tcp_ports.bind(ep.port, b)? } else { self.udp_ports.bind(ep.port, b)? };
        let sock = self.sock(id);
        sock.local = Some(Endpoint { addr: ep.addr, port });
        sock.port = Some(port);
        if !sock.is_tcp() {
            if let Err(e) = self.udp_open(id) {
                self.udp_ports.release(port, id);
                let sock = self.sock(id);
                sock.local = None;
                sock.port = None;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Takes an ephemeral port on the wildcard address if the socket has none yet.
    pub fn autobind(&mut self, id: u64) -> Result<(), Errno> {
        if self.sock(id).local.is_some() {
            return Ok(());
        }
        self.claim(id, Endpoint { addr: None, port: 0 })
    }

    /// The guest closed its last fd of socket `id`.
    fn close(&mut self, id: u64) {
        let Some(mut sock) = self.socks.remove(&id) else { return };
        self.listeners.remove(&id);
        if let Some(port) = sock.port {
            if sock.is_tcp() {
                self.tcp_ports.release(port, id);
            } else {
                self.udp_ports.release(port, id);
            }
        }
        let linger_zero = sock.opts.linger.0 != 0 && sock.opts.linger.1 == 0;
        match &mut sock.proto {
            Proto::Tcp(t) => t.close(&mut self.links, &mut self.orphans, linger_zero),
            Proto::Udp(u) => u.close(&mut self.links),
        }
    }

    /// `getsockopt` of the options every socket has; `None` for the protocol's own.
    fn get_common(&mut self, id: u64, level: i32, name: i32) -> Result<Option<Vec<u8>>, Errno> {
        let sock = self.sock(id);
        let int = |v: i32| Some(v.to_ne_bytes().to_vec());
        let listening = matches!(&sock.proto, Proto::Tcp(t) if t.listen.is_some());
        if level != SOL_SOCKET {
            return Ok(None);
        }
        Ok(match name {
            SO_TYPE => int(if sock.is_tcp() { SOCK_STREAM } else { SOCK_DGRAM }),
            SO_DOMAIN => int(sock.family),
            SO_PROTOCOL => int(if sock.is_tcp() { IPPROTO_TCP } else { IPPROTO_UDP }),
            SO_ACCEPTCONN => int(i32::from(listening)),
            SO_ERROR => int(sock.err.take().map_or(0, |e| e.number())),
            SO_REUSEADDR => int(i32::from(sock.opts.reuseaddr)),
            SO_REUSEPORT => int(i32::from(sock.opts.reuseport)),
            SO_KEEPALIVE => int(i32::from(sock.opts.keepalive)),
            SO_RCVBUF => int(sock.opts.rcvbuf),
            SO_SNDBUF => int(sock.opts.sndbuf),
            SO_LINGER => {
                let (on, secs) = sock.opts.linger;
                Some([on.to_ne_bytes(), secs.to_ne_bytes()].concat())
            }
            SO_RCVTIMEO | SO_RCVTIMEO_NEW => Some(timeout_bytes(sock.opts.rcvtimeo).to_vec()),
            SO_SNDTIMEO | SO_SNDTIMEO_NEW => Some(timeout_bytes(sock.opts.sndtimeo).to_vec()),
            _ => match kept_default(SOL_SOCKET, name, sock) {
                Some(d) => int(*sock.opts.kept.get(&(SOL_SOCKET, name)).unwrap_or(&d)),
                None => return Err(Errno::ENOPROTOOPT),
            },
        })
    }

    /// `setsockopt` of the options every socket has; `false` for the protocol's own.
    fn set_common(&mut self, id: u64, level: i32, name: i32, value: &[u8]) -> Result<bool, Errno> {
        if level != SOL_SOCKET {
            return Ok(false);
        }
        let sock = self.sock(id);
        match name {
            SO_REUSEADDR | SO_REUSEPORT | SO_KEEPALIVE => {
                let on = int_value(value)? != 0;
                match name {
                    SO_REUSEADDR => sock.opts.reuseaddr = on,
                    SO_REUSEPORT => sock.opts.reuseport = on,
                    _ => sock.opts.keepalive = on,
                }
                let (reuseaddr, reuseport) = (sock.opts.reuseaddr, sock.opts.reuseport);
                if let Some(port) = sock.port {
                    let table = if sock.is_tcp() { &mut self.tcp_ports } else { &mut self.udp_ports };
                    table.update(port, id, |b| {
                        b.reuseaddr = reuseaddr;
                        b.reuseport = reuseport;
                    });
                }
                if name == SO_KEEPALIVE {
                    self.tcp_apply(id);
                }
            }
            SO_RCVBUF => {
                let v = (int_value(value)? as u32).min(BUF_MAX as u32) as i32;
                sock.opts.rcvbuf = (v * 2).max(MIN_RCVBUF);
            }
            SO_SNDBUF => {
                let v = (int_value(value)? as u32).min(BUF_MAX as u32) as i32;
                sock.opts.sndbuf = (v * 2).max(MIN_SNDBUF);
            }
            SO_LINGER => {
                let b: [u8; 8] = value.get(..8).and_then(|b| b.try_into().ok()).ok_or(Errno::EINVAL)?;
                let on = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
                let secs = i32::from_ne_bytes([b[4], b[5], b[6], b[7]]);
                sock.opts.linger = (i32::from(on != 0), secs.max(0));
            }
            SO_RCVTIMEO | SO_RCVTIMEO_NEW => sock.opts.rcvtimeo = timeout_value(value)?,
            SO_SNDTIMEO | SO_SNDTIMEO_NEW => sock.opts.sndtimeo = timeout_value(value)?,
            SO_TYPE | SO_DOMAIN | SO_PROTOCOL | SO_ACCEPTCONN | SO_ERROR | SO_SNDLOWAT | SO_PEERCRED => {
                return Err(Errno::ENOPROTOOPT)
            }
            _ => {
                if kept_default(SOL_SOCKET, name, sock).is_none() {
                    return Err(Errno::ENOPROTOOPT);
                }
                let v = int_value(value)?;
                sock.opts.kept.insert((SOL_SOCKET, name), v);
            }
        }
        Ok(true)
    }

    /// `getsockopt` of the IP, IPv6, TCP and UDP levels.
    fn get_proto(&mut self, id: u64, level: i32, name: i32) -> Result<Vec<u8>, Errno> {
        let sock = self.sock(id);
        check_level(sock, level)?;
        let v = match (level, name) {
            (IPPROTO_IPV6, IPV6_V6ONLY) => i32::from(sock.opts.v6only),
            (IPPROTO_TCP, TCP_NODELAY) => i32::from(sock.opts.nodelay),
            _ => match kept_default(level, name, sock) {
                Some(d) => *sock.opts.kept.get(&(level, name)).unwrap_or(&d),
                None => return Err(Errno::ENOPROTOOPT),
            },
        };
        Ok(v.to_ne_bytes().to_vec())
    }

    fn set_proto(&mut self, id: u64, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        let sock = self.sock(id);
        if check_level(sock, level).is_err() {
            // Linux's ip_setsockopt says ENOPROTOOPT for a level it does not know.
            return Err(Errno::ENOPROTOOPT);
        }
        match (level, name) {
            (IPPROTO_IPV6, IPV6_V6ONLY) => {
                if sock.local.is_some() {
                    return Err(Errno::EINVAL);
                }
                sock.opts.v6only = int_value(value)? != 0;
            }
            (IPPROTO_TCP, TCP_NODELAY) => {
                sock.opts.nodelay = int_value(value)? != 0;
                self.tcp_apply(id);
            }
            _ => {
                if kept_default(level, name, sock).is_none() {
                    return Err(Errno::ENOPROTOOPT);
                }
                let v = int_value(value)?;
                sock.opts.kept.insert((level, name), v);
            }
        }
        Ok(())
    }
}

/// EOPNOTSUPP for a level this socket does not have (Linux's answer to `getsockopt`
/// there: IPv6 options on an AF_INET socket, TCP options on a UDP socket).
fn check_level(sock: &Sock, level: i32) -> Result<(), Errno> {
    let ok = match level {
        IPPROTO_IP => true,
        IPPROTO_IPV6 => sock.family == AF_INET6,
        IPPROTO_TCP => sock.is_tcp(),
        IPPROTO_UDP => !sock.is_tcp(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Errno::EOPNOTSUPP)
    }
}

/// The integer options that are kept without effect, with Linux's default; `None` for
/// an option that does not exist (ENOPROTOOPT).
fn kept_default(level: i32, name: i32, sock: &Sock) -> Option<i32> {
    let tcp = sock.is_tcp();
    Some(match (level, name) {
        (SOL_SOCKET, SO_DEBUG | SO_DONTROUTE | SO_BROADCAST | SO_OOBINLINE | 11 | SO_PRIORITY | SO_PASSCRED) => 0,
        (SOL_SOCKET, SO_RCVLOWAT) => 1,
        (SOL_SOCKET, 29 | 35 | 36 | 40 | 46) => 0, // TIMESTAMP, TIMESTAMPNS, MARK, RXQ_OVFL, BUSY_POLL
        (SOL_SOCKET, 49) => -1,                    // SO_INCOMING_CPU
        (IPPROTO_IP, 1) => 0,                      // IP_TOS
        (IPPROTO_IP, 2) => 64,                     // IP_TTL
        (IPPROTO_IP, 10) => i32::from(tcp),        // IP_MTU_DISCOVER: WANT for TCP, DONT for UDP
        (IPPROTO_IP, 8 | 11 | 13 | 15 | 24) => 0,  // PKTINFO, RECVERR, RECVTOS, FREEBIND, BIND_ADDRESS_NO_PORT
        (IPPROTO_IP, 33) => 1,                     // IP_MULTICAST_TTL
        (IPPROTO_IP, 34) => 1,                     // IP_MULTICAST_LOOP
        (IPPROTO_IPV6, 16) => 64,                  // IPV6_UNICAST_HOPS
        (IPPROTO_IPV6, 18 | 19) => 1,              // IPV6_MULTICAST_HOPS, _LOOP
        (IPPROTO_IPV6, 49 | 67) => 0,              // IPV6_RECVPKTINFO, IPV6_TCLASS
        (IPPROTO_TCP, 2) => 536,                   // TCP_MAXSEG
        (IPPROTO_TCP, 3 | 9 | 10 | 18 | 23 | 25) => 0, // CORK, DEFER_ACCEPT, WINDOW_CLAMP, USER_TIMEOUT, FASTOPEN, NOTSENT_LOWAT
        (IPPROTO_TCP, 4) => 7200,                      // TCP_KEEPIDLE
        (IPPROTO_TCP, 5) => 75,                        // TCP_KEEPINTVL
        (IPPROTO_TCP, 6) => 9,                         // TCP_KEEPCNT
        (IPPROTO_TCP, 7) => 6,                         // TCP_SYNCNT
        (IPPROTO_TCP, 8) => 60,                        // TCP_LINGER2
        (IPPROTO_TCP, 12) => 1,                        // TCP_QUICKACK
        (IPPROTO_UDP, 1 | 103 | 104) => 0,             // UDP_CORK, UDP_SEGMENT, UDP_GRO
        _ => return None,
    })
}

/// The data of a message as one slice (copied only when it comes in pieces).
fn gather<'a>(bufs: &'a [&'a [u8]], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    match bufs {
        [] => &[],
        [one] => one,
        many => {
            *scratch = many.concat();
            scratch
        }
    }
}

impl Socket for InetSocket {
    fn bind(&self, bytes: &[u8]) -> Result<(), Errno> {
        with_sock(self.id, |net| net.bind(self.id, bytes))
    }

    fn listen(&self, backlog: i32) -> Result<(), Errno> {
        with_sock(self.id, |net| net.tcp_listen(self.id, backlog))
    }

    fn accept(&self, nonblock: bool) -> Result<(Arc<dyn File>, SockAddr), Errno> {
        let (timeout, _) = self.timeouts();
        let (id, shared, peer) = self.blocking(nonblock, timeout, |net, id| net.tcp_accept(id))?;
        Ok((InetSocket::wrap(id, self.family, shared), peer))
    }

    fn connect(&self, bytes: &[u8], nonblock: bool) -> Result<(), Errno> {
        if self.ty == SOCK_DGRAM {
            return with_sock(self.id, |net| net.udp_connect(self.id, bytes));
        }
        match with_sock(self.id, |net| net.tcp_connect(self.id, bytes))? {
            super::tcp::Connect::Done => return Ok(()),
            super::tcp::Connect::Started if nonblock => return Err(Errno::EINPROGRESS),
            super::tcp::Connect::Already if nonblock => return Err(Errno::EALREADY),
            _ => {}
        }
        let (_, timeout) = self.timeouts();
        match self.blocking(false, timeout, |net, id| net.tcp_connect_done(id)) {
            // A timed-out connect goes on (Linux: EINPROGRESS).
            Err(Errno::EAGAIN) => Err(Errno::EINPROGRESS),
            r => r,
        }
    }

    fn shutdown(&self, how: i32) -> Result<(), Errno> {
        if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let mode = (how + 1) as u8;
        with_sock(self.id, |net| {
            if self.ty == SOCK_STREAM {
                net.tcp_shutdown(self.id, mode)
            } else {
                net.udp_shutdown(self.id, mode)
            }
        })
    }

    fn sockname(&self) -> Result<SockAddr, Errno> {
        peek_net(|net| {
            let sock = net.sock(self.id);
            let local = sock.local.unwrap_or(Endpoint { addr: None, port: 0 });
            Ok(addr::to_sockaddr(sock.family, local.addr, local.port))
        })
    }

    fn peername(&self) -> Result<SockAddr, Errno> {
        peek_net(|net| {
            let (ip, port) = if self.ty == SOCK_STREAM { net.tcp_peer(self.id) } else { net.udp_peer(self.id) }
                .ok_or(Errno::ENOTCONN)?;
            Ok(addr::to_sockaddr(self.family, Some(ip), port))
        })
    }

    fn sendmsg(&self, msg: &SendMsg<'_>, nonblock: bool) -> SysResult {
        let nonblock = nonblock || msg.flags & MSG_DONTWAIT != 0;
        let mut scratch = Vec::new();
        let data = gather(msg.bufs, &mut scratch);
        let (_, timeout) = self.timeouts();
        if self.ty == SOCK_DGRAM {
            let dest = msg.addr.filter(|a| !a.is_empty());
            return self.blocking(nonblock, timeout, |net, id| net.udp_send(id, data, dest));
        }
        // A stream socket ignores an address (Linux without TCP Fast Open).
        let mut sent = 0;
        let r = self.blocking(nonblock, timeout, |net, id| {
            let n = match net.tcp_send(id, &data[sent..], msg.flags & MSG_OOB != 0) {
                Ok(n) => n,
                Err(e) if sent > 0 && e != Errno::EAGAIN => return Ok(sent),
                Err(e) => return Err(e),
            };
            sent += n;
            // A blocking send returns once everything is queued.
            if sent < data.len() && !nonblock {
                return Err(Errno::EAGAIN);
            }
            Ok(sent)
        });
        match r {
            Err(Errno::EAGAIN) if sent > 0 => Ok(sent),
            Err(_) if sent > 0 && !nonblock => Ok(sent),
            r => r,
        }
    }

    fn recvmsg(
        &self,
        bufs: &mut [&mut [u8]],
        _control: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> Result<Received, Errno> {
        let nonblock = nonblock || flags & MSG_DONTWAIT != 0;
        let (timeout, _) = self.timeouts();
        if self.ty == SOCK_DGRAM {
            return self.blocking(nonblock, timeout, |net, id| net.udp_recv(id, bufs, flags));
        }
        if flags & MSG_OOB != 0 {
            // Urgent data never waits: there is a byte or EINVAL (Linux's tcp_recv_urg).
            let peek = flags & MSG_PEEK != 0;
            let n = with_sock(self.id, |net| net.tcp_recv_urgent(self.id, bufs, peek))?;
            return Ok(Received::data(n, MSG_OOB));
        }
        let want: usize = bufs.iter().map(|b| b.len()).sum();
        let peek = flags & MSG_PEEK != 0;
        let waitall = flags & MSG_WAITALL != 0 && !peek;
        let mut got = 0;
        let r = self.blocking(nonblock, timeout, |net, id| {
            let n = match net.tcp_recv(id, bufs, got, peek) {
                Ok(n) => n,
                Err(e) if got > 0 && e != Errno::EAGAIN => return Ok(got),
                Err(e) => return Err(e),
            };
            if n == 0 && got < want && want > 0 {
                // End of the stream.
                return Ok(got);
            }
            got += n;
            if waitall && got < want {
                return Err(Errno::EAGAIN);
            }
            Ok(got)
        });
        let len = match r {
            Ok(n) => n,
            Err(_) if got > 0 => got,
            Err(e) => return Err(e),
        };
        Ok(Received::data(len, 0))
    }

    fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        with_net(|net| {
            if net.set_common(self.id, level, name, value)? {
                return Ok(());
            }
            net.set_proto(self.id, level, name, value)
        })
    }

    fn getsockopt(&self, level: i32, name: i32, value: &mut [u8]) -> Result<usize, Errno> {
        let bytes = peek_net(|net| match net.get_common(self.id, level, name)? {
            Some(v) => Ok(v),
            None => net.get_proto(self.id, level, name),
        })?;
        Ok(put_value(value, &bytes))
    }
}

impl File for InetSocket {
    fn read(&self, buf: &mut [u8], nonblock: bool) -> SysResult {
        libos::net::read_as_recvmsg(self, buf, nonblock)
    }

    fn write(&self, buf: &[u8], nonblock: bool) -> SysResult {
        libos::net::write_as_sendmsg(self, buf, nonblock)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            st_dev: sockfs_dev(),
            st_ino: self.shared.ino,
            st_nlink: 1,
            st_mode: mode::S_IFSOCK | 0o777,
            st_blksize: 4096,
            ..Stat::default()
        })
    }

    fn ioctl(&self, request: u32, _arg: u64, data: &mut [u8]) -> SysResult {
        let n = peek_net(|net| {
            let id = self.id;
            Ok(match request {
                SIOCINQ => {
                    if self.ty == SOCK_STREAM {
                        net.tcp_queued(id, true)?
                    } else {
                        net.udp_next_len(id)
                    }
                }
                SIOCOUTQ => {
                    if self.ty == SOCK_STREAM {
                        net.tcp_queued(id, false)?
                    } else {
                        0
                    }
                }
                SIOCATMARK => {
                    if self.ty == SOCK_STREAM {
                        net.tcp_at_mark(id)
                    } else {
                        0
                    }
                }
                _ => return Err(Errno::ENOTTY),
            })
        })?;
        if data.len() < 4 {
            return Err(Errno::EFAULT);
        }
        data[..4].copy_from_slice(&(n.min(i32::MAX as usize) as i32).to_ne_bytes());
        Ok(0)
    }

    fn poll(&self, events: u16) -> u16 {
        // No stack poll here: epoll asks while it walks its ready list, and a poll would
        // tell pollees from inside that walk. The idle loop, the ticks and every socket
        // call keep the stack current.
        let mask = peek_net(|net| net.socks.get(&self.id).map_or(POLLNVAL, |s| s.readiness(&net.links).0));
        mask & (events | POLLERR | POLLHUP)
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Pollee(&self.shared.pollee)
    }

    fn as_socket(&self) -> Option<&dyn Socket> {
        Some(self)
    }

    fn anon_name(&self) -> Option<Vec<u8>> {
        Some(format!("socket:[{}]", self.shared.ino).into_bytes())
    }
}

/// The device number sockets show (`st_dev`, sockfs's).
fn sockfs_dev() -> u64 {
    static DEV: spin::Once<u64> = spin::Once::new();
    *DEV.call_once(libos::vfs::mount::anon_dev)
}
