//! UDP sockets: Linux's datagram-socket behaviour on top of smoltcp's UDP.
//!
//! A bound socket has one smoltcp UDP socket on each interface its address receives
//! on (both for the wildcard); a datagram leaves through the smoltcp socket of the
//! interface its destination is routed to, from the socket's address or, for the
//! wildcard, the address Linux would pick (the destination itself for the guest's own
//! addresses, 10.0.2.15 on the card).
//!
//! A connected socket only takes datagrams from its peer (others are dropped, as
//! Linux's `udp_lib_lookup` never finds it for them). smoltcp delivers no ICMP errors
//! to UDP sockets, so the one a connected socket can get over `lo` — port unreachable,
//! ECONNREFUSED on its next call — is worked out at send time: a datagram to a local
//! port nobody is bound to gets it, as the ICMP error of Linux's loopback would.

use alloc::vec;
use alloc::vec::Vec;

use libos::file::events::*;
use libos::net::consts::*;
use libos::net::Received;
use libos::Errno;
use smoltcp::socket::udp::{PacketBuffer, PacketMetadata, Socket as UdpSocket, UdpMetadata};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

use super::addr::{self, Link};
use super::socket::{Proto, RCV_SHUTDOWN, SEND_SHUTDOWN};
use super::{Handle, Links, Net};

/// Datagrams and payload bytes each smoltcp socket buffers, each way.
const RX_PACKETS: usize = 64;
const RX_BYTES: usize = 256 * 1024;
const TX_PACKETS: usize = 32;
const TX_BYTES: usize = 192 * 1024;
/// The largest UDP payload over IPv4 and over IPv6.
const MAX_V4: usize = 65_507;
const MAX_V6: usize = 65_527;

/// A UDP socket's state beyond smoltcp's.
pub struct Udp {
    /// One smoltcp socket per interface it receives on (once bound).
    handles: Vec<Handle>,
    /// The peer of a connected socket.
    peer: Option<(IpAddress, u16)>,
    shut: u8,
}

fn new_socket() -> UdpSocket<'static> {
    UdpSocket::new(
        PacketBuffer::new(vec![PacketMetadata::EMPTY; RX_PACKETS], vec![0u8; RX_BYTES]),
        PacketBuffer::new(vec![PacketMetadata::EMPTY; TX_PACKETS], vec![0u8; TX_BYTES]),
    )
}

fn from_peer(meta: &UdpMetadata, peer: Option<(IpAddress, u16)>) -> bool {
    peer.is_none_or(|(a, p)| meta.endpoint.addr == a && meta.endpoint.port == p)
}

impl Udp {
    pub fn new() -> Udp {
        Udp { handles: Vec::new(), peer: None, shut: 0 }
    }

    /// Linux's `udp_poll`: the mask, and the bytes queued.
    pub fn readiness(&self, links: &Links, err: bool) -> (u16, usize) {
        let mut mask = 0;
        let mut queued = 0;
        let mut writable = self.handles.is_empty();
        for &h in &self.handles {
            let s = links.udp(h);
            queued += s.recv_queue();
            if s.can_recv() {
                mask |= POLLIN | POLLRDNORM;
            }
            writable |= s.can_send();
        }
        if err {
            mask |= POLLERR;
        }
        if writable {
            mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
        }
        if self.shut & RCV_SHUTDOWN != 0 {
            mask |= POLLIN | POLLRDNORM | POLLRDHUP;
        }
        if self.shut == RCV_SHUTDOWN | SEND_SHUTDOWN {
            mask |= POLLHUP;
        }
        (mask, queued)
    }

    pub fn close(&mut self, links: &mut Links) {
        for h in self.handles.drain(..) {
            links.remove(h);
        }
    }
}

impl Net {
    fn udp_state(&mut self, id: u64) -> &mut Udp {
        match &mut self.sock(id).proto {
            Proto::Udp(u) => u,
            Proto::Tcp(_) => unreachable!("a UDP call on a TCP socket"),
        }
    }

    /// Opens the smoltcp sockets of a UDP socket just bound.
    pub fn udp_open(&mut self, id: u64) -> Result<(), Errno> {
        let have_eth = self.links.have_eth();
        let local = self.sock(id).local.expect("bound");
        let ep = IpListenEndpoint { addr: local.addr, port: local.port };
        let mut handles = Vec::new();
        for &link in addr::links_for(local.addr, have_eth) {
            let mut s = new_socket();
            if s.bind(ep).is_err() {
                for h in handles {
                    self.links.remove(h);
                }
                return Err(Errno::EINVAL);
            }
            handles.push(self.links.add(link, s));
        }
        self.udp_state(id).handles = handles;
        Ok(())
    }

    /// `connect` on a UDP socket: AF_UNSPEC dissolves the association; otherwise the
    /// peer is set (binding an ephemeral port first) and the name shows the address
    /// datagrams to it come from.
    pub fn udp_connect(&mut self, id: u64, bytes: &[u8]) -> Result<(), Errno> {
        if bytes.len() < 2 {
            return Err(Errno::EINVAL);
        }
        let have_eth = self.links.have_eth();
        if addr::family_of(bytes) == Some(AF_UNSPEC) {
            self.udp_state(id).peer = None;
            let bound = self.udp_ports_addr(id);
            if let Some(local) = self.sock(id).local.as_mut() {
                local.addr = bound;
            }
            return Ok(());
        }
        let family = self.sock(id).family;
        let ep = addr::parse(family, bytes)?;
        let dest = addr::or_loopback(ep.addr, family);
        let link = addr::route(dest, have_eth)?;
        self.autobind(id)?;
        let sock = self.sock(id);
        if let Some(local) = sock.local.as_mut() {
            if local.addr.is_none() {
                local.addr = Some(match link {
                    Link::Lo => addr::lo_source(dest),
                    Link::Eth => addr::eth_source(),
                });
            }
        }
        self.udp_state(id).peer = Some((dest, ep.port));
        Ok(())
    }

    /// The address the socket is bound to in the port table (`None`: the wildcard).
    fn udp_ports_addr(&self, id: u64) -> Option<IpAddress> {
        let sock = self.socks.get(&id)?;
        let Proto::Udp(u) = &sock.proto else { return None };
        let h = *u.handles.first()?;
        self.links.udp(h).endpoint().addr
    }

    /// One try at sending a datagram (to `dest`, or the peer): its length; EAGAIN when
    /// the socket's buffer is full.
    pub fn udp_send(&mut self, id: u64, data: &[u8], dest: Option<&[u8]>) -> Result<usize, Errno> {
        let have_eth = self.links.have_eth();
        let sock = self.sock(id);
        let family = sock.family;
        let Proto::Udp(u) = &sock.proto else { return Err(Errno::EOPNOTSUPP) };
        let (to, port) = match dest {
            Some(bytes) => {
                // Linux's udp_sendmsg reads an AF_UNSPEC address as AF_INET.
                let ep = if family == AF_INET && addr::family_of(bytes) == Some(AF_UNSPEC) {
                    let mut b = bytes.to_vec();
                    b[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
                    addr::parse(family, &b)?
                } else {
                    addr::parse(family, bytes)?
                };
                if ep.port == 0 {
                    return Err(Errno::EINVAL);
                }
                (addr::or_loopback(ep.addr, family), ep.port)
            }
            None => u.peer.ok_or(Errno::EDESTADDRREQ)?,
        };
        if u.shut & SEND_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        let max = if matches!(to, IpAddress::Ipv6(_)) { MAX_V6 } else { MAX_V4 };
        if data.len() > max {
            return Err(Errno::EMSGSIZE);
        }
        if family == AF_INET6 && sock.opts.v6only && matches!(to, IpAddress::Ipv4(_)) {
            return Err(Errno::ENETUNREACH);
        }
        let link = addr::route(to, have_eth)?;
        self.autobind(id)?;
        let bound = self.udp_ports_addr(id);
        let Proto::Udp(u) = &self.sock(id).proto else { return Err(Errno::EOPNOTSUPP) };
        let connected = u.peer.is_some();
        let Some(&h) = u.handles.iter().find(|h| h.0 == link) else {
            // Bound to an address that cannot reach `to` (Linux's route lookup: EINVAL).
            return Err(Errno::EINVAL);
        };
        let from = bound.or(match link {
            Link::Lo => Some(addr::lo_source(to)),
            Link::Eth => Some(addr::eth_source()),
        });
        let meta = UdpMetadata { endpoint: IpEndpoint::new(to, port), local_address: from, meta: Default::default() };
        match self.links.udp_mut(h).send_slice(data, meta) {
            Ok(()) => {}
            Err(smoltcp::socket::udp::SendError::BufferFull) => return Err(Errno::EAGAIN),
            Err(smoltcp::socket::udp::SendError::Unaddressable) => return Err(Errno::EINVAL),
        }
        if link == Link::Lo && connected && !self.udp_ports.bound(port, to) {
            self.sock(id).err = Some(Errno::ECONNREFUSED);
        }
        Ok(data.len())
    }

    /// One try at receiving a datagram into `bufs`: EAGAIN when none is queued; the
    /// pending error first.
    pub fn udp_recv(&mut self, id: u64, bufs: &mut [&mut [u8]], flags: u32) -> Result<Received, Errno> {
        let links = &mut self.links;
        let sock = self.socks.get_mut(&id).ok_or(Errno::EBADF)?;
        let family = sock.family;
        let Proto::Udp(u) = &mut sock.proto else { return Err(Errno::EOPNOTSUPP) };
        if flags & MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        if let Some(e) = sock.err.take() {
            return Err(e);
        }
        let peek = flags & MSG_PEEK != 0;
        for &h in &u.handles {
            let s = links.udp_mut(h);
            // Datagrams from others than a connected socket's peer are dropped.
            while let Ok((_, meta)) = s.peek() {
                if from_peer(meta, u.peer) {
                    break;
                }
                let _ = s.recv();
            }
            let got = if peek { s.peek().map(|(d, m)| (d, *m)) } else { s.recv() };
            let Ok((payload, meta)) = got else { continue };
            let copied = scatter(bufs, payload);
            let truncated = copied < payload.len();
            let len = if flags & MSG_TRUNC != 0 { payload.len() } else { copied };
            let from = addr::to_sockaddr(family, Some(meta.endpoint.addr), meta.endpoint.port);
            return Ok(Received {
                len,
                addr: Some(from),
                control_len: 0,
                flags: if truncated { MSG_TRUNC } else { 0 },
                scm: None,
            });
        }
        if u.shut & RCV_SHUTDOWN != 0 {
            return Ok(Received::data(0, 0));
        }
        Err(Errno::EAGAIN)
    }

    /// `shutdown` on a UDP socket: ENOTCONN unless connected (the modes are set anyway).
    pub fn udp_shutdown(&mut self, id: u64, mode: u8) -> Result<(), Errno> {
        let u = self.udp_state(id);
        u.shut |= mode;
        if u.peer.is_none() {
            return Err(Errno::ENOTCONN);
        }
        Ok(())
    }

    pub fn udp_peer(&mut self, id: u64) -> Option<(IpAddress, u16)> {
        match &self.socks.get(&id)?.proto {
            Proto::Udp(u) => u.peer,
            Proto::Tcp(_) => None,
        }
    }

    /// `SIOCINQ` on a UDP socket: the length of the next datagram.
    pub fn udp_next_len(&mut self, id: u64) -> usize {
        let links = &mut self.links;
        let Some(Proto::Udp(u)) = self.socks.get(&id).map(|s| &s.proto) else { return 0 };
        for &h in &u.handles {
            if let Ok((d, _)) = links.udp_mut(h).peek() {
                return d.len();
            }
        }
        0
    }
}

/// Copies `data` into `bufs` in order; the bytes copied.
fn scatter(bufs: &mut [&mut [u8]], data: &[u8]) -> usize {
    let mut at = 0;
    for b in bufs.iter_mut() {
        if at == data.len() {
            break;
        }
        let k = b.len().min(data.len() - at);
        b[..k].copy_from_slice(&data[at..at + k]);
        at += k;
    }
    at
}
