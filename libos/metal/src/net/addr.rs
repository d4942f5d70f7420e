//! Socket addresses between the guest's layout and smoltcp's, and which interface an
//! address belongs to.
//!
//! `struct sockaddr_in` is 16 bytes (family, port in network order, the address, 8
//! bytes of zeros); `struct sockaddr_in6` 28 (family, port, flow label, the address,
//! scope id). An AF_INET6 socket also speaks IPv4 through IPv4-mapped addresses
//! (`::ffff:a.b.c.d`): they become plain IPv4 addresses for smoltcp, and IPv4 peers
//! are shown to the guest that way.

use libos::net::consts::{AF_INET, AF_INET6};
use libos::net::SockAddr;
use libos::Errno;
use smoltcp::wire::{IpAddress, Ipv4Address, Ipv6Address};

/// `sizeof(struct sockaddr_in)`.
pub const SIN_LEN: usize = 16;
/// `sizeof(struct sockaddr_in6)`.
pub const SIN6_LEN: usize = 28;
/// The shortest `sockaddr_in6` Linux takes (RFC 2133's, without the scope id).
const SIN6_LEN_RFC2133: usize = 24;

/// The card's IPv4 address in force (config.rs: static, or the DHCP lease), if any.
fn guest_v4() -> Option<Ipv4Address> {
    super::config::address().map(|c| c.address())
}

/// The source address of traffic that leaves on `eth` (the route chosen by [`route`]
/// says the card has one).
pub fn eth_source() -> IpAddress {
    IpAddress::Ipv4(guest_v4().unwrap_or(Ipv4Address::UNSPECIFIED))
}

/// Whether `eth` reaches `dest`: the card has an address, and `dest` is on its subnet,
/// the limited broadcast, or behind the default gateway.
fn eth_reaches(dest: Ipv4Address) -> bool {
    let Some(cidr) = super::config::address() else { return false };
    cidr.contains_addr(&dest) || dest.is_broadcast() || super::config::gateway().is_some()
}

/// An address and port as a socket names them; `addr` `None` is the wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub addr: Option<IpAddress>,
    pub port: u16,
}

/// The family of the first two bytes, if there are two.
pub fn family_of(bytes: &[u8]) -> Option<i32> {
    (bytes.len() >= 2).then(|| i32::from(u16::from_ne_bytes([bytes[0], bytes[1]])))
}

/// Reads an address given to a socket of `family`: EINVAL if too short, EAFNOSUPPORT
/// for another family (callers deal with AF_UNSPEC first where it means something).
/// The unspecified address becomes the wildcard; an IPv4-mapped one, IPv4.
pub fn parse(family: i32, bytes: &[u8]) -> Result<Endpoint, Errno> {
    let min = if family == AF_INET6 { SIN6_LEN_RFC2133 } else { SIN_LEN };
    if bytes.len() < min {
        return Err(Errno::EINVAL);
    }
    if family_of(bytes) != Some(family) {
        return Err(Errno::EAFNOSUPPORT);
    }
    let port = u16::from_be_bytes([bytes[2], bytes[3]]);
    let addr = if family == AF_INET {
        IpAddress::Ipv4(Ipv4Address::new(bytes[4], bytes[5], bytes[6], bytes[7]))
    } else {
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&bytes[8..24]);
        let v6 = Ipv6Address::from(octets);
        match v6.to_ipv4_mapped() {
            Some(v4) => IpAddress::Ipv4(v4),
            None => IpAddress::Ipv6(v6),
        }
    };
    Ok(Endpoint { addr: (!addr.is_unspecified()).then_some(addr), port })
}

/// The guest's layout of `addr`:`port` for a socket of `family` (`None`: the wildcard).
pub fn to_sockaddr(family: i32, addr: Option<IpAddress>, port: u16) -> SockAddr {
    let mut b = [0u8; SIN6_LEN];
    b[..2].copy_from_slice(&(family as u16).to_ne_bytes());
    b[2..4].copy_from_slice(&port.to_be_bytes());
    if family == AF_INET {
        if let Some(IpAddress::Ipv4(v4)) = addr {
            b[4..8].copy_from_slice(&v4.octets());
        }
        return SockAddr::new(&b[..SIN_LEN]);
    }
    let v6 = match addr {
        Some(IpAddress::Ipv4(v4)) => v4.to_ipv6_mapped(),
        Some(IpAddress::Ipv6(v6)) => v6,
        None => Ipv6Address::UNSPECIFIED,
    };
    b[8..24].copy_from_slice(&v6.octets());
    SockAddr::new(&b[..SIN6_LEN])
}

/// The interfaces: `lo`, and the Ethernet card if there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Link {
    Lo,
    Eth,
}

/// Whether `addr` is one of the guest's own addresses (served by `lo`, as Linux routes
/// traffic to its own addresses through `lo`): 127.0.0.0/8, ::1, and the card's address
/// (10.0.2.15 by default) when the card is there and has one.
pub fn is_local(addr: IpAddress, have_eth: bool) -> bool {
    match addr {
        IpAddress::Ipv4(v4) => v4.is_loopback() || (have_eth && Some(v4) == guest_v4()),
        IpAddress::Ipv6(v6) => v6.is_loopback(),
    }
}

/// The link a packet to `dest` leaves on: ENETUNREACH when nothing routes it (no card,
/// a card without an address yet or without a gateway for `dest`, or IPv6 beyond ::1:
/// the card has no IPv6 address).
pub fn route(dest: IpAddress, have_eth: bool) -> Result<Link, Errno> {
    if is_local(dest, have_eth) {
        return Ok(Link::Lo);
    }
    match dest {
        IpAddress::Ipv4(v4) if have_eth && eth_reaches(v4) => Ok(Link::Eth),
        _ => Err(Errno::ENETUNREACH),
    }
}

/// The links a socket bound to `addr` receives on.
pub fn links_for(addr: Option<IpAddress>, have_eth: bool) -> &'static [Link] {
    match addr {
        None if have_eth => &[Link::Lo, Link::Eth],
        None => &[Link::Lo],
        Some(IpAddress::Ipv4(v4)) if have_eth && Some(v4) == guest_v4() => &[Link::Lo, Link::Eth],
        Some(_) => &[Link::Lo],
    }
}

/// Whether `addr` may be bound (one of ours; EADDRNOTAVAIL otherwise, as Linux without
/// `ip_nonlocal_bind`). All of 127.0.0.0/8 is ours, as on Linux.
pub fn bindable(addr: Option<IpAddress>, have_eth: bool) -> bool {
    addr.is_none_or(|a| is_local(a, have_eth))
}

/// The address a connection to `dest` on `lo` comes from: `dest` itself when it is one
/// of ours that is not 127.0.0.1 (Linux picks the destination as the source there), else
/// the loopback address of its family.
pub fn lo_source(dest: IpAddress) -> IpAddress {
    match dest {
        IpAddress::Ipv4(v4) if Some(v4) == guest_v4() => dest,
        IpAddress::Ipv4(_) => IpAddress::Ipv4(Ipv4Address::LOCALHOST),
        IpAddress::Ipv6(_) => IpAddress::Ipv6(Ipv6Address::LOCALHOST),
    }
}

/// What a connection to the wildcard means: Linux connects to the loopback address.
pub fn or_loopback(addr: Option<IpAddress>, family: i32) -> IpAddress {
    addr.unwrap_or(if family == AF_INET6 {
        IpAddress::Ipv6(Ipv6Address::LOCALHOST)
    } else {
        IpAddress::Ipv4(Ipv4Address::LOCALHOST)
    })
}
