//! `-p HOST:GUEST[/udp]`: the guest's ports as the host sees them.
//!
//! A guest that binds port GUEST (TCP by default, UDP with `/udp`) gets host port HOST,
//! and every address it reads back shows GUEST again: its own (`getsockname`) always,
//! a peer's (`accept`, `getpeername`, `recvfrom`) when the peer is on a loopback
//! address and uses a mapped host port (the guest talking to itself). Where the guest
//! sends to a loopback address at a mapped guest port (`connect`, `sendto`), the host
//! port is used, so the guest reaches its own server as in a VM. Unmapped ports pass
//! through unchanged.

use std::sync::OnceLock;

/// One `-p` mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMap {
    pub host: u16,
    pub guest: u16,
    pub udp: bool,
}

static MAP: OnceLock<Vec<PortMap>> = OnceLock::new();

/// Sets the mappings for the run (once).
pub fn set(maps: Vec<PortMap>) {
    let _ = MAP.set(maps);
}

fn maps() -> &'static [PortMap] {
    MAP.get().map_or(&[], |m| m.as_slice())
}

/// The port of an AF_INET or AF_INET6 address (bytes 2..4, network order).
fn port(addr: &[u8]) -> Option<u16> {
    let family = u16::from_ne_bytes([*addr.first()?, *addr.get(1)?]);
    if (family as i32 != libc::AF_INET && family as i32 != libc::AF_INET6) || addr.len() < 4 {
        return None;
    }
    Some(u16::from_be_bytes([addr[2], addr[3]]))
}

fn set_port(addr: &mut [u8], p: u16) {
    addr[2..4].copy_from_slice(&p.to_be_bytes());
}

/// Whether the address is 127.0.0.0/8, ::1 or ::ffff:127.x.x.x.
fn loopback(addr: &[u8]) -> bool {
    let family = u16::from_ne_bytes([addr[0], addr[1]]) as i32;
    if family == libc::AF_INET {
        return addr.get(4) == Some(&127);
    }
    let Some(ip) = addr.get(8..24) else { return false };
    let v4_mapped = ip[..10].iter().all(|&b| b == 0) && ip[10] == 0xff && ip[11] == 0xff && ip[12] == 127;
    let one = ip[..15].iter().all(|&b| b == 0) && ip[15] == 1;
    v4_mapped || one
}

/// A name the guest binds: the mapped host port.
pub fn bind_to_host(addr: &mut [u8], udp: bool) {
    if let Some(p) = port(addr) {
        if let Some(m) = maps().iter().find(|m| m.udp == udp && m.guest == p) {
            set_port(addr, m.host);
        }
    }
}

/// A destination: the mapped host port when it is the guest's own (loopback).
pub fn dest_to_host(addr: &mut [u8], udp: bool) {
    if port(addr).is_some() && loopback(addr) {
        bind_to_host(addr, udp);
    }
}

/// The socket's own name as the host reports it: the guest's port.
pub fn local_to_guest(addr: &mut [u8], udp: bool) {
    if let Some(p) = port(addr) {
        if let Some(m) = maps().iter().find(|m| m.udp == udp && m.host == p) {
            set_port(addr, m.guest);
        }
    }
}

/// A peer's address as the host reports it: the guest's port when the peer is the
/// guest itself (loopback at a mapped host port).
pub fn peer_to_guest(addr: &mut [u8], udp: bool) {
    if port(addr).is_some() && loopback(addr) {
        local_to_guest(addr, udp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4], p: u16) -> Vec<u8> {
        let mut v = vec![0u8; 16];
        v[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        v[2..4].copy_from_slice(&p.to_be_bytes());
        v[4..8].copy_from_slice(&a);
        v
    }

    #[test]
    fn ports_map_both_ways() {
        set(vec![PortMap { host: 18080, guest: 8080, udp: false }]);
        let mut a = v4([0, 0, 0, 0], 8080);
        bind_to_host(&mut a, false);
        assert_eq!(port(&a), Some(18080));
        local_to_guest(&mut a, false);
        assert_eq!(port(&a), Some(8080));
        let mut udp = v4([0, 0, 0, 0], 8080);
        bind_to_host(&mut udp, true);
        assert_eq!(port(&udp), Some(8080), "TCP mappings leave UDP alone");
        let mut remote = v4([10, 0, 0, 1], 8080);
        dest_to_host(&mut remote, false);
        assert_eq!(port(&remote), Some(8080), "only loopback destinations are the guest's own");
        let mut local = v4([127, 0, 0, 1], 8080);
        dest_to_host(&mut local, false);
        assert_eq!(port(&local), Some(18080));
        peer_to_guest(&mut local, false);
        assert_eq!(port(&local), Some(8080));
    }
}
