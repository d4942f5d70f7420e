//! Who holds which local port: what makes `bind` answer EADDRINUSE, and where
//! ephemeral ports come from (smoltcp leaves both to its user).
//!
//! One table per protocol. A binding is an address (`None`: the wildcard) and a port,
//! with the socket's `SO_REUSEADDR`/`SO_REUSEPORT` settings. Two bindings of one port
//! conflict when their addresses overlap (equal, or either is the wildcard), as in
//! Linux's `inet_csk_bind_conflict`, unless both set `SO_REUSEPORT`, or both set
//! `SO_REUSEADDR` and (TCP) neither is listening. Sockets accepted from a listener
//! share its port without a binding of their own.
//!
//! Ephemeral ports come from Linux's default `ip_local_port_range`, 32768–60999, in
//! turn from a random start, skipping those in use.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use libos::Errno;
use smoltcp::wire::IpAddress;

const EPHEMERAL_LO: u16 = 32768;
const EPHEMERAL_HI: u16 = 60999;

/// One socket's hold on a port.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    /// The socket (its id in the stack).
    pub owner: u64,
    /// The bound address; `None` for the wildcard (0.0.0.0 or ::).
    pub addr: Option<IpAddress>,
    pub reuseaddr: bool,
    pub reuseport: bool,
    /// A TCP socket that listens (SO_REUSEADDR does not share its port).
    pub listening: bool,
}

/// The bindings of one protocol.
#[derive(Default)]
pub struct PortTable {
    ports: BTreeMap<u16, Vec<Binding>>,
    next: u16,
}

fn overlap(a: Option<IpAddress>, b: Option<IpAddress>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

fn conflict(old: &Binding, new: &Binding) -> bool {
    if old.owner == new.owner || !overlap(old.addr, new.addr) {
        return false;
    }
    if old.reuseport && new.reuseport {
        return false;
    }
    // SO_REUSEADDR shares a port between sockets that both ask, unless one listens.
    let shared = old.reuseaddr && new.reuseaddr && !old.listening && !new.listening;
    !shared
}

impl PortTable {
    /// Binds `b` to `port`, or to a free ephemeral port when `port` is 0; the port.
    pub fn bind(&mut self, port: u16, b: Binding) -> Result<u16, Errno> {
        if port != 0 {
            let list = self.ports.entry(port).or_default();
            if list.iter().any(|old| conflict(old, &b)) {
                if list.is_empty() {
                    self.ports.remove(&port);
                }
                return Err(Errno::EADDRINUSE);
            }
            list.push(b);
            return Ok(port);
        }
        let span = u32::from(EPHEMERAL_HI - EPHEMERAL_LO) + 1;
        if self.next == 0 {
            let mut seed = [0u8; 2];
            crate::random::fill(&mut seed);
            self.next = EPHEMERAL_LO + (u32::from(u16::from_ne_bytes(seed)) % span) as u16;
        }
        for _ in 0..span {
            let candidate = self.next;
            self.next = if self.next >= EPHEMERAL_HI { EPHEMERAL_LO } else { self.next + 1 };
            if let alloc::collections::btree_map::Entry::Vacant(slot) = self.ports.entry(candidate) {
                slot.insert(alloc::vec![b]);
                return Ok(candidate);
            }
        }
        Err(Errno::EADDRINUSE)
    }

    /// Whether `owner` could bind `port` with the given settings now (for `listen`,
    /// which turns a binding into a listening one: Linux checks again there).
    pub fn can_listen(&self, port: u16, b: &Binding) -> bool {
        self.ports.get(&port).is_none_or(|list| !list.iter().any(|old| old.owner != b.owner && conflict(old, b)))
    }

    /// Updates `owner`'s binding of `port` (its flags).
    pub fn update(&mut self, port: u16, owner: u64, f: impl FnOnce(&mut Binding)) {
        if let Some(b) = self.ports.get_mut(&port).and_then(|l| l.iter_mut().find(|b| b.owner == owner)) {
            f(b);
        }
    }

    /// Drops `owner`'s binding of `port`.
    pub fn release(&mut self, port: u16, owner: u64) {
        if let Some(list) = self.ports.get_mut(&port) {
            list.retain(|b| b.owner != owner);
            if list.is_empty() {
                self.ports.remove(&port);
            }
        }
    }

    /// Whether anything is bound to `port` at an address covering `addr`.
    pub fn bound(&self, port: u16, addr: IpAddress) -> bool {
        self.ports.get(&port).is_some_and(|l| l.iter().any(|b| overlap(b.addr, Some(addr))))
    }
}
