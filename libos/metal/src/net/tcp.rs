//! TCP sockets: Linux's stream-socket behaviour on top of smoltcp's TCP.
//!
//! **Listening.** smoltcp's listening socket *becomes* the connection when a SYN comes
//! (one socket, one connection), so a listener keeps a pool of listening smoltcp
//! sockets on each interface it receives on. The pool is refilled after every packet a
//! poll processes ([`refill`]), so a burst of SYNs never finds it empty, as long as
//! fewer than `backlog` + 1 connections wait to be accepted (Linux's accept-queue
//! limit). `accept` takes the oldest pool socket whose handshake is complete and hands
//! it to a new guest socket.
//!
//! **States smoltcp forgets.** When a connection ends, smoltcp's socket goes back to
//! CLOSED and forgets its peer and that a FIN came. Linux keeps both, and they decide
//! what calls answer: so each socket remembers its peer, whether a FIN arrived
//! (`fin_seen`: reads return 0), whether the connection was reset, and the error the
//! transition means, found by comparing smoltcp's state with the one seen at the last
//! poll ([`Tcp::observe`]): SYN-SENT → CLOSED is a refusal (ECONNREFUSED), an open
//! connection → CLOSED a reset (ECONNRESET; EPIPE in CLOSE-WAIT, as Linux's
//! `tcp_reset`).
//!
//! **Connecting.** Linux's socket layer has its own connected state besides TCP's: a
//! non-blocking `connect` stays "connecting" until `connect` is called again, which
//! then says 0 once, and EISCONN after. `connecting` and `connected` keep that.
//!
//! **Urgent data.** smoltcp has none. Between two sockets of the guest (over `lo`) it
//! is carried beside the stream, as Linux delivers it without `SO_OOBINLINE`: the last
//! byte of a `send(MSG_OOB)` is taken out of the stream and handed to the peer with its
//! offset (the mark); the peer's reads stop at the mark, `POLLPRI` (select's exception
//! set) is on until the byte is read with `recv(MSG_OOB)` or reading passes the mark,
//! and `SIOCATMARK` says when the next read starts there. To a peer outside the VM the
//! byte goes inline.
//!
//! **Closing.** The guest's `close` sends a FIN (or a RST when unread data remains, or
//! with `SO_LINGER` at zero, as Linux's `tcp_close`); the smoltcp socket stays in the
//! stack as an orphan until its goodbyes are done, at most a minute.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use libos::file::events::*;
use libos::net::consts::*;
use libos::net::SockAddr;
use libos::Errno;
use smoltcp::iface::SocketSet;
use smoltcp::socket::tcp::{Socket as TcpSocket, SocketBuffer, State};
use smoltcp::time::Duration;
use smoltcp::wire::{IpAddress, IpListenEndpoint};

use super::addr::{self, Endpoint, Link};
use super::socket::{Opts, Proto, Shared, Sock, RCV_SHUTDOWN, SEND_SHUTDOWN};
use super::{Handle, Links, Net};

/// smoltcp's buffers per connection.
const RX_BUF: usize = 64 * 1024;
const TX_BUF: usize = 64 * 1024;
/// Listening smoltcp sockets kept ready per interface.
const SPARE: usize = 2;
/// Linux's `somaxconn`.
const SOMAXCONN: i32 = 4096;
/// How long an orphaned connection may take to close (Linux's `tcp_fin_timeout`).
const ORPHAN_TIMEOUT: Duration = Duration::from_secs(60);
/// Keep-alive probes start after this idle time (Linux's `tcp_keepalive_time`).
const KEEPALIVE_IDLE: Duration = Duration::from_secs(7200);

/// A listener's pool.
pub struct Listener {
    backlog: usize,
    pool: Vec<Handle>,
    endpoint: Endpoint,
    links: &'static [Link],
}

/// A TCP socket's state beyond smoltcp's.
pub struct Tcp {
    /// The connection (connecting, connected or ended).
    conn: Option<Handle>,
    pub listen: Option<Listener>,
    /// smoltcp's state at the last look.
    last: State,
    fin_seen: bool,
    reset: bool,
    shut: u8,
    connecting: bool,
    connected: bool,
    /// The peer, kept after smoltcp forgets it.
    remote: Option<(IpAddress, u16)>,
    /// Bytes queued to send and bytes read, since the connection began: stream offsets,
    /// for urgent data.
    sent: u64,
    read: u64,
    /// Urgent data from a peer in the guest: the byte, and the stream offset it stands
    /// at (the "mark"; the byte itself is not in the stream).
    urgent: Option<(u8, u64)>,
}

/// How a `connect` call went.
pub enum Connect {
    /// Connected (or disconnected, for AF_UNSPEC).
    Done,
    /// A new connection is on its way.
    Started,
    /// One was already on its way.
    Already,
}

fn new_socket(opts: &Opts, link: Link) -> TcpSocket<'static> {
    let mut s = TcpSocket::new(SocketBuffer::new(vec![0u8; RX_BUF]), SocketBuffer::new(vec![0u8; TX_BUF]));
    apply(&mut s, opts);
    if link == Link::Lo {
        // Over lo an ACK costs nothing; delaying it only adds latency (Nagle waits for it).
        s.set_ack_delay(None);
    }
    s
}

fn apply(s: &mut TcpSocket<'static>, opts: &Opts) {
    s.set_nagle_enabled(!opts.nodelay);
    s.set_keep_alive(opts.keepalive.then_some(KEEPALIVE_IDLE));
}

/// Whether a connection in `state` completed its handshake and has not ended (what
/// `getpeername` and `accept` need).
fn synchronized(state: State) -> bool {
    matches!(
        state,
        State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait | State::Closing | State::LastAck
    )
}

/// Tops up listener `sock`'s pool on `link` (whose sockets are in `set`): drops pool
/// sockets whose connection died before `accept`, and adds listening ones while fewer
/// than [`SPARE`] listen and the accept queue has room.
pub fn refill(sock: &mut Sock, link: Link, set: &mut SocketSet<'static>) {
    let opts = sock.opts.clone();
    let Proto::Tcp(t) = &mut sock.proto else { return };
    let Some(l) = t.listen.as_mut() else { return };
    if !l.links.contains(&link) {
        return;
    }
    l.pool.retain(|h| {
        if h.0 != link {
            return true;
        }
        let dead = matches!(set.get::<TcpSocket>(h.1).state(), State::Closed | State::TimeWait);
        if dead {
            set.remove(h.1);
        }
        !dead
    });
    let on_link = || l.pool.iter().filter(|h| h.0 == link);
    let listening = on_link().filter(|h| set.get::<TcpSocket>(h.1).state() == State::Listen).count();
    let waiting = on_link().count() - listening;
    for _ in listening..SPARE {
        // Linux's accept queue holds backlog + 1 connections; past that a SYN finds no
        // listening socket (and is refused, where Linux would drop it).
        if waiting > l.backlog {
            break;
        }
        let mut s = new_socket(&opts, link);
        let ep = IpListenEndpoint { addr: l.endpoint.addr, port: l.endpoint.port };
        if s.listen(ep).is_err() {
            break;
        }
        l.pool.push((link, set.add(s)));
    }
}

impl Tcp {
    pub fn new() -> Tcp {
        Tcp {
            conn: None,
            listen: None,
            last: State::Closed,
            fin_seen: false,
            reset: false,
            shut: 0,
            connecting: false,
            connected: false,
            remote: None,
            sent: 0,
            read: 0,
            urgent: None,
        }
    }

    /// Notes what happened to the connection since the last look: a FIN, a reset, a
    /// refusal (which sets `err`). Whether its TCP state changed (Linux wakes every
    /// waiter then, `sk_state_change`).
    pub fn observe(&mut self, links: &Links, err: &mut Option<Errno>) -> bool {
        let Some(h) = self.conn else { return false };
        let s = links.tcp(h);
        let state = s.state();
        if matches!(state, State::CloseWait | State::LastAck | State::Closing | State::TimeWait) {
            self.fin_seen = true;
        }
        if state == self.last {
            return false;
        }
        match (self.last, state) {
            (State::SynSent, State::Closed) => {
                *err = Some(Errno::ECONNREFUSED);
                self.reset = true;
            }
            (State::SynReceived | State::Established | State::FinWait1 | State::FinWait2, State::Closed) => {
                *err = Some(Errno::ECONNRESET);
                self.reset = true;
            }
            (State::CloseWait, State::Closed) => {
                *err = Some(Errno::EPIPE);
                self.reset = true;
            }
            _ => {}
        }
        if self.remote.is_none() {
            self.remote = s.remote_endpoint().map(|e| (e.addr, e.port));
        }
        self.last = state;
        true
    }

    /// Linux's `tcp_poll`: the mask, and the bytes (or connections) waiting.
    pub fn readiness(&self, links: &Links, err: bool) -> (u16, usize) {
        if let Some(l) = &self.listen {
            let pending = l.pool.iter().filter(|&&h| synchronized(links.tcp(h).state())).count();
            let mask = if pending > 0 { POLLIN | POLLRDNORM } else { 0 };
            return (mask, pending);
        }
        let (state, queued, writable) = match self.conn {
            Some(h) => {
                let s = links.tcp(h);
                let free = s.send_capacity() - s.send_queue();
                (s.state(), s.recv_queue(), free > 0 && free >= s.send_queue() / 2)
            }
            None => (State::Closed, 0, true),
        };
        let mut mask = 0;
        if err {
            mask |= POLLERR;
        }
        let rcv_shut = self.shut & RCV_SHUTDOWN != 0 || self.fin_seen || self.reset;
        let snd_shut = self.shut & SEND_SHUTDOWN != 0 || self.reset;
        if self.shut == RCV_SHUTDOWN | SEND_SHUTDOWN || matches!(state, State::Closed | State::TimeWait) {
            mask |= POLLHUP;
        }
        if rcv_shut {
            mask |= POLLIN | POLLRDNORM | POLLRDHUP;
        }
        if self.urgent.is_some() {
            mask |= POLLPRI;
        }
        if !matches!(state, State::SynSent | State::SynReceived) {
            if queued > 0 {
                mask |= POLLIN | POLLRDNORM;
            }
            if snd_shut || writable {
                mask |= POLLOUT | POLLWRNORM;
            }
        }
        (mask, queued)
    }

    /// The guest let go of the socket.
    pub fn close(&mut self, links: &mut Links, orphans: &mut Vec<Handle>, linger_zero: bool) {
        if let Some(l) = self.listen.take() {
            // Connections not accepted are reset, as Linux's inet_csk_listen_stop.
            for h in l.pool {
                links.tcp_mut(h).abort();
                orphans.push(h);
            }
        }
        if let Some(h) = self.conn.take() {
            let s = links.tcp_mut(h);
            if linger_zero || s.recv_queue() > 0 {
                s.abort();
            } else {
                s.close();
            }
            s.set_timeout(Some(ORPHAN_TIMEOUT));
            orphans.push(h);
        }
    }
}

impl Net {
    fn tcp_state(&mut self, id: u64) -> &mut Tcp {
        match &mut self.sock(id).proto {
            Proto::Tcp(t) => t,
            Proto::Udp(_) => unreachable!("a TCP call on a UDP socket"),
        }
    }

    /// Applies the socket's options to its smoltcp sockets (after `setsockopt`).
    pub fn tcp_apply(&mut self, id: u64) {
        let sock = self.socks.get(&id).expect("a live socket");
        let Proto::Tcp(t) = &sock.proto else { return };
        let opts = sock.opts.clone();
        let handles: Vec<Handle> =
            t.conn.iter().copied().chain(t.listen.iter().flat_map(|l| l.pool.iter().copied())).collect();
        for h in handles {
            apply(self.links.tcp_mut(h), &opts);
        }
    }

    /// `listen`: EINVAL unless unconnected; binds an ephemeral port first if unbound;
    /// EADDRINUSE if another socket shares the port without the right to (Linux checks
    /// again here: `SO_REUSEADDR` does not share with a listener).
    pub fn tcp_listen(&mut self, id: u64, backlog: i32) -> Result<(), Errno> {
        let backlog = if !(0..=SOMAXCONN).contains(&backlog) { SOMAXCONN } else { backlog } as usize;
        let have_eth = self.links.have_eth();
        let t = match &mut self.sock(id).proto {
            Proto::Tcp(t) => t,
            Proto::Udp(_) => return Err(Errno::EOPNOTSUPP),
        };
        if let Some(l) = t.listen.as_mut() {
            l.backlog = backlog;
            return Ok(());
        }
        if t.conn.is_some() {
            return Err(Errno::EINVAL);
        }
        self.autobind(id)?;
        let sock = self.sock(id);
        let local = sock.local.expect("bound");
        let mut b = sock.binding(local.addr, true);
        b.owner = id;
        if !self.tcp_ports.can_listen(local.port, &b) {
            return Err(Errno::EADDRINUSE);
        }
        self.tcp_ports.update(local.port, id, |b| b.listening = true);
        let links = addr::links_for(local.addr, have_eth);
        self.tcp_state(id).listen = Some(Listener { backlog, pool: Vec::new(), endpoint: local, links });
        self.listeners.insert(id);
        for &link in links {
            let sock = self.socks.get_mut(&id).expect("a live socket");
            refill(sock, link, self.links.set_mut(link));
        }
        Ok(())
    }

    /// One try at `accept`: the new socket's id and pollee, and its peer; EAGAIN when
    /// no connection is ready; EINVAL for a socket that does not listen.
    pub fn tcp_accept(&mut self, id: u64) -> Result<(u64, Arc<Shared>, SockAddr), Errno> {
        let links = &self.links;
        let sock = self.socks.get_mut(&id).ok_or(Errno::EBADF)?;
        let Proto::Tcp(t) = &mut sock.proto else { return Err(Errno::EOPNOTSUPP) };
        let Some(l) = t.listen.as_mut() else { return Err(Errno::EINVAL) };
        let Some(i) = l.pool.iter().position(|&h| synchronized(links.tcp(h).state())) else {
            return Err(Errno::EAGAIN);
        };
        let h = l.pool.remove(i);
        let s = links.tcp(h);
        let (state, remote, local) = (s.state(), s.remote_endpoint(), s.local_endpoint());
        let mut conn = Tcp::new();
        conn.conn = Some(h);
        conn.last = state;
        conn.connected = true;
        conn.remote = remote.map(|e| (e.addr, e.port));
        let local = local.map_or(Endpoint { addr: None, port: 0 }, |e| Endpoint { addr: Some(e.addr), port: e.port });
        let new = Sock::accepted(sock, conn, local);
        let family = new.family;
        let shared = new.shared.clone();
        let (peer, port) = remote.map_or((None, 0), |e| (Some(e.addr), e.port));
        let new_id = self.insert(new);
        let sock = self.socks.get_mut(&id).expect("the listener");
        refill(sock, h.0, self.links.set_mut(h.0));
        Ok((new_id, shared, addr::to_sockaddr(family, peer, port)))
    }

    /// `connect`'s first step (Linux's `__inet_stream_connect` up to the wait).
    pub fn tcp_connect(&mut self, id: u64, bytes: &[u8]) -> Result<Connect, Errno> {
        if bytes.len() < 2 {
            return Err(Errno::EINVAL);
        }
        let have_eth = self.links.have_eth();
        if addr::family_of(bytes) == Some(AF_UNSPEC) {
            // Disconnect (Linux's tcp_disconnect): the connection is reset.
            let t = self.tcp_state(id);
            let old = t.conn.take();
            *t = Tcp::new();
            if let Some(h) = old {
                self.links.tcp_mut(h).abort();
                self.orphans.push(h);
            }
            return Ok(Connect::Done);
        }
        let t = self.tcp_state(id);
        if t.connected {
            return Err(Errno::EISCONN);
        }
        if t.connecting {
            return self.tcp_connect_done(id).map(|()| Connect::Done).or_else(|e| match e {
                Errno::EAGAIN => Ok(Connect::Already),
                e => Err(e),
            });
        }
        if t.listen.is_some() {
            return Err(Errno::EISCONN);
        }
        let sock = self.sock(id);
        let family = sock.family;
        let v6only = sock.opts.v6only;
        let ep = addr::parse(family, bytes)?;
        let remote = addr::or_loopback(ep.addr, family);
        if family == AF_INET6 && v6only && matches!(remote, IpAddress::Ipv4(_)) {
            return Err(Errno::ENETUNREACH);
        }
        let link = addr::route(remote, have_eth)?;
        self.autobind(id)?;
        let sock = self.sock(id);
        let local = sock.local.expect("bound");
        let local_addr = match (local.addr, link) {
            (Some(a), _) => Some(a),
            (None, Link::Lo) => Some(addr::lo_source(remote)),
            (None, Link::Eth) => Some(addr::eth_source()),
        };
        let opts = sock.opts.clone();
        if let Some(old) = self.tcp_state(id).conn.take() {
            self.links.remove(old);
        }
        let h = self.links.add(link, new_socket(&opts, link));
        if self.links.tcp_connect(h, (remote, ep.port), (local_addr, local.port)).is_err() {
            self.links.remove(h);
            return Err(if ep.port == 0 { Errno::ECONNREFUSED } else { Errno::EINVAL });
        }
        self.sock(id).local = Some(Endpoint { addr: local_addr, port: local.port });
        let t = self.tcp_state(id);
        *t = Tcp {
            conn: Some(h),
            last: State::SynSent,
            connecting: true,
            remote: Some((remote, ep.port)),
            ..Tcp::new()
        };
        Ok(Connect::Started)
    }

    /// Whether the connection `connect` started is made: Ok, EAGAIN while on its way, or
    /// the error that ended it.
    pub fn tcp_connect_done(&mut self, id: u64) -> Result<(), Errno> {
        let links = &self.links;
        let sock = self.socks.get_mut(&id).ok_or(Errno::EBADF)?;
        let Proto::Tcp(t) = &mut sock.proto else { return Err(Errno::EOPNOTSUPP) };
        t.observe(links, &mut sock.err);
        let state = t.conn.map_or(State::Closed, |h| links.tcp(h).state());
        match state {
            State::SynSent | State::SynReceived => Err(Errno::EAGAIN),
            State::Closed if t.reset || !t.connected => {
                t.connecting = false;
                Err(sock.err.take().unwrap_or(Errno::ECONNABORTED))
            }
            _ => {
                t.connecting = false;
                t.connected = true;
                Ok(())
            }
        }
    }

    /// One try at sending `data`: the bytes queued; EAGAIN when none fit (or while the
    /// connection is being made); EPIPE once the stream cannot send (and the pending
    /// error first, as Linux's `sk_stream_error`).
    pub fn tcp_send(&mut self, id: u64, data: &[u8], oob: bool) -> Result<usize, Errno> {
        if oob && data.len() == 1 {
            if let Some(peer) = self.tcp_lo_peer(id) {
                return self.tcp_send_urgent(id, peer, data[0]);
            }
        }
        if oob && data.len() > 1 {
            // The stream first, then its last byte as urgent data.
            let n = self.tcp_send(id, &data[..data.len() - 1], false)?;
            if n < data.len() - 1 {
                return Ok(n);
            }
            return self.tcp_send(id, &data[n..], true).map(|m| n + m).or(Ok(n));
        }
        let links = &mut self.links;
        let sock = self.socks.get_mut(&id).ok_or(Errno::EBADF)?;
        let Proto::Tcp(t) = &mut sock.proto else { return Err(Errno::EOPNOTSUPP) };
        let state = t.conn.map_or(State::Closed, |h| links.tcp(h).state());
        if !matches!(state, State::Established | State::CloseWait) || t.reset {
            if let Some(e) = sock.err.take() {
                return Err(e);
            }
            if matches!(state, State::SynSent | State::SynReceived) {
                return Err(Errno::EAGAIN);
            }
            return Err(Errno::EPIPE);
        }
        if sock.err.is_some() || t.shut & SEND_SHUTDOWN != 0 {
            return Err(sock.err.take().unwrap_or(Errno::EPIPE));
        }
        if data.is_empty() {
            return Ok(0);
        }
        let h = t.conn.expect("connected");
        match links.tcp_mut(h).send_slice(data) {
            Ok(0) => Err(Errno::EAGAIN),
            Ok(n) => {
                t.sent += n as u64;
                self.moved = true;
                self.moved_lo |= matches!(h.0, Link::Lo);
                Ok(n)
            }
            Err(_) => Err(Errno::EPIPE),
        }
    }

    /// The socket at the other end of `id`'s connection, when it is the guest's own
    /// (over `lo`).
    fn tcp_lo_peer(&self, id: u64) -> Option<u64> {
        let Proto::Tcp(t) = &self.socks.get(&id)?.proto else { return None };
        let h = t.conn.filter(|h| h.0 == Link::Lo)?;
        let me = self.links.tcp(h);
        let (local, remote) = (me.local_endpoint()?, me.remote_endpoint()?);
        self.socks.iter().find_map(|(&other, sock)| {
            let Proto::Tcp(o) = &sock.proto else { return None };
            let s = self.links.tcp(o.conn.filter(|h| h.0 == Link::Lo)?);
            (s.local_endpoint() == Some(remote) && s.remote_endpoint() == Some(local)).then_some(other)
        })
    }

    /// Hands `byte` to the guest's socket `peer` as urgent data at the end of what `id`
    /// has sent.
    fn tcp_send_urgent(&mut self, id: u64, peer: u64, byte: u8) -> Result<usize, Errno> {
        // The usual checks (a closed or shut-down stream), with nothing queued.
        self.tcp_send(id, &[], false)?;
        let Proto::Tcp(t) = &self.sock(id).proto else { return Err(Errno::EOPNOTSUPP) };
        let mark = t.sent;
        if let Proto::Tcp(p) = &mut self.sock(peer).proto {
            p.urgent = Some((byte, mark));
        }
        Ok(1)
    }

    /// `recv(MSG_OOB)`: the urgent byte (taken unless `peek`); EINVAL when there is none.
    pub fn tcp_recv_urgent(&mut self, id: u64, buf: &mut [&mut [u8]], peek: bool) -> Result<usize, Errno> {
        let Proto::Tcp(t) = &mut self.sock(id).proto else { return Err(Errno::EOPNOTSUPP) };
        let Some((byte, _)) = t.urgent else { return Err(Errno::EINVAL) };
        let Some(slot) = buf.iter_mut().find(|b| !b.is_empty()) else { return Ok(0) };
        slot[0] = byte;
        if !peek {
            t.urgent = None;
        }
        Ok(1)
    }

    /// `SIOCATMARK`: whether the next read starts at the urgent mark.
    pub fn tcp_at_mark(&mut self, id: u64) -> usize {
        match &self.sock(id).proto {
            Proto::Tcp(t) => usize::from(t.urgent.is_some_and(|(_, mark)| mark == t.read)),
            Proto::Udp(_) => 0,
        }
    }

    /// One try at receiving into `bufs` from byte `skip` of them: the bytes read (0 at
    /// the end of the stream); EAGAIN when none are there yet.
    pub fn tcp_recv(&mut self, id: u64, bufs: &mut [&mut [u8]], skip: usize, peek: bool) -> Result<usize, Errno> {
        let links = &mut self.links;
        let sock = self.socks.get_mut(&id).ok_or(Errno::EBADF)?;
        let Proto::Tcp(t) = &mut sock.proto else { return Err(Errno::EOPNOTSUPP) };
        if t.listen.is_some() {
            return Err(Errno::ENOTCONN);
        }
        let want: usize = bufs.iter().map(|b| b.len()).sum::<usize>() - skip;
        if want == 0 {
            return Ok(0);
        }
        if let Some(h) = t.conn {
            let s = links.tcp_mut(h);
            if s.recv_queue() > 0 {
                // A read stops at the urgent mark (and goes on past it once there).
                let limit = match t.urgent {
                    Some((_, mark)) if mark > t.read => (mark - t.read) as usize,
                    _ => usize::MAX,
                };
                if peek {
                    return Ok(peek_into(s, bufs, skip, limit));
                }
                let n = recv_into(s, bufs, skip, limit);
                t.read += n as u64;
                self.moved = true;
                self.moved_lo |= matches!(h.0, Link::Lo);
                if t.urgent.is_some_and(|(_, mark)| t.read > mark) {
                    t.urgent = None;
                }
                return Ok(n);
            }
        }
        t.observe(links, &mut sock.err);
        if t.fin_seen {
            return Ok(0);
        }
        if let Some(e) = sock.err.take() {
            return Err(e);
        }
        if t.shut & RCV_SHUTDOWN != 0 || t.reset {
            return Ok(0);
        }
        match t.conn.map(|h| links.tcp(h).state()) {
            None | Some(State::Closed) => Err(Errno::ENOTCONN),
            _ => Err(Errno::EAGAIN),
        }
    }

    /// `shutdown` (Linux's `inet_shutdown`): ENOTCONN on a socket with no connection
    /// (the modes are set all the same); a connection on its way is dropped.
    pub fn tcp_shutdown(&mut self, id: u64, mode: u8) -> Result<(), Errno> {
        let links = &mut self.links;
        let sock = self.socks.get_mut(&id).ok_or(Errno::EBADF)?;
        let Proto::Tcp(t) = &mut sock.proto else { return Err(Errno::EOPNOTSUPP) };
        if t.listen.is_some() {
            // Shutting a listener down for reading stops it (Linux's tcp_disconnect):
            // waiting connections are reset and `accept` says EINVAL from then on.
            if mode & RCV_SHUTDOWN != 0 {
                let l = t.listen.take().expect("listening");
                for h in l.pool {
                    links.tcp_mut(h).abort();
                    self.orphans.push(h);
                }
                self.listeners.remove(&id);
                if let Some(port) = sock.port {
                    self.tcp_ports.update(port, id, |b| b.listening = false);
                }
            }
            return Ok(());
        }
        let state = t.conn.map_or(State::Closed, |h| links.tcp(h).state());
        match state {
            State::Closed | State::TimeWait => {
                t.shut |= mode;
                Err(Errno::ENOTCONN)
            }
            State::SynSent => {
                let h = t.conn.take().expect("a connection");
                links.tcp_mut(h).abort();
                self.orphans.push(h);
                *t = Tcp::new();
                Ok(())
            }
            _ => {
                t.shut |= mode;
                if mode & SEND_SHUTDOWN != 0 {
                    links.tcp_mut(t.conn.expect("a connection")).close();
                }
                Ok(())
            }
        }
    }

    /// The peer of a connection that is made and not over.
    pub fn tcp_peer(&mut self, id: u64) -> Option<(IpAddress, u16)> {
        let links = &self.links;
        let Proto::Tcp(t) = &self.socks.get(&id)?.proto else { return None };
        let h = t.conn?;
        synchronized(links.tcp(h).state()).then_some(t.remote?)
    }

    /// `SIOCINQ` (`input`) or `SIOCOUTQ`: bytes received and not read, or queued to send
    /// and not yet acknowledged. EINVAL on a listening socket, as Linux.
    pub fn tcp_queued(&mut self, id: u64, input: bool) -> Result<usize, Errno> {
        let links = &self.links;
        let Proto::Tcp(t) = &self.socks.get(&id).ok_or(Errno::EBADF)?.proto else { return Ok(0) };
        if t.listen.is_some() {
            return Err(Errno::EINVAL);
        }
        Ok(t.conn.map_or(0, |h| {
            let s = links.tcp(h);
            if input {
                s.recv_queue()
            } else {
                s.send_queue()
            }
        }))
    }
}

/// Copies up to `limit` received bytes into `bufs` from byte `skip` on, taking them.
fn recv_into(s: &mut TcpSocket<'static>, bufs: &mut [&mut [u8]], mut skip: usize, limit: usize) -> usize {
    let mut n = 0;
    for b in bufs.iter_mut() {
        if skip >= b.len() {
            skip -= b.len();
            continue;
        }
        let end = b.len().min(skip.saturating_add(limit - n));
        let room = &mut b[skip..end];
        skip = 0;
        let got = s.recv_slice(room).unwrap_or(0);
        n += got;
        if got < room.len() || n == limit {
            break;
        }
    }
    n
}

/// Copies up to `limit` received bytes into `bufs` from byte `skip` on, leaving them
/// queued.
fn peek_into(s: &mut TcpSocket<'static>, bufs: &mut [&mut [u8]], skip: usize, limit: usize) -> usize {
    let want: usize = bufs.iter().map(|b| b.len()).sum::<usize>() - skip;
    let mut tmp = vec![0u8; want.min(s.recv_queue()).min(limit)];
    let n = s.peek_slice(&mut tmp).unwrap_or(0);
    let mut at = 0;
    let mut skip = skip;
    for b in bufs.iter_mut() {
        if skip >= b.len() {
            skip -= b.len();
            continue;
        }
        let room = &mut b[skip..];
        skip = 0;
        let k = room.len().min(n - at);
        room[..k].copy_from_slice(&tmp[at..at + k]);
        at += k;
        if at == n {
            break;
        }
    }
    n
}
