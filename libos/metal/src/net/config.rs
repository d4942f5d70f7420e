//! How the card gets its IPv4 address: what the kernel command line asks for, and the
//! address, gateway and DNS servers in force now.
//!
//! | words | meaning |
//! |---|---|
//! | (none) | QEMU's user network: 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3 (static) |
//! | `unify.ip=ADDR/PREFIX` `[unify.gw=ADDR]` | a static address, and the default route |
//! | `unify.dhcp=SECONDS` | DHCP (dhcp.rs); the boot waits up to SECONDS for a lease |
//! | `unify.dns=ADDR[,ADDR...]` | the DNS servers (else the lease's, or 10.0.2.3 by default) |
//!
//! `unify` passes them from `--net` (tools/unify/src/network.rs). With no words the
//! kernel matches a plain `qemu -netdev user`, which is also what unify's default is.
//!
//! The address in force is kept in atomics: addr.rs reads it for every route and bind
//! (without taking the stack's lock), the DHCP client writes it when a lease comes or
//! goes, and `/etc/resolv.conf` names the DNS servers in force when the guest starts.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use smoltcp::wire::{IpAddress, IpCidr, Ipv4Address, Ipv4Cidr};
use spin::Mutex;

/// QEMU's user network: the guest's address, its prefix, the gateway and the DNS server.
pub const USER_ADDRESS: Ipv4Cidr = Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24);
pub const USER_GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
pub const USER_DNS: Ipv4Address = Ipv4Address::new(10, 0, 2, 3);

/// The most DNS servers kept (glibc and musl read three `nameserver` lines).
pub const MAX_DNS: usize = 3;

/// How the address is obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Static {
        address: Ipv4Cidr,
        gateway: Option<Ipv4Address>,
    },
    /// DHCP; the boot waits up to `wait_s` seconds for the first lease.
    Dhcp {
        wait_s: u32,
    },
}

/// Up to [`MAX_DNS`] DNS servers (no heap: the command line is read before there is one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsList {
    list: [Ipv4Address; MAX_DNS],
    len: usize,
}

impl DnsList {
    pub fn as_slice(&self) -> &[Ipv4Address] {
        &self.list[..self.len]
    }
}

/// What the command line asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetConfig {
    pub mode: Mode,
    /// `unify.dns`: these servers whatever a lease says.
    pub dns: Option<DnsList>,
}

impl Default for NetConfig {
    fn default() -> Self {
        let mut list = [Ipv4Address::UNSPECIFIED; MAX_DNS];
        list[0] = USER_DNS;
        NetConfig {
            mode: Mode::Static { address: USER_ADDRESS, gateway: Some(USER_GATEWAY) },
            dns: Some(DnsList { list, len: 1 }),
        }
    }
}

/// The longest DHCP wait `unify.dhcp` takes (seconds).
pub const MAX_DHCP_WAIT_S: u32 = 600;

/// The words of the table above, as they were given (each already checked by the
/// parsers below when the command line was read).
#[derive(Clone, Copy, Debug, Default)]
pub struct Words<'a> {
    pub ip: Option<&'a str>,
    pub gw: Option<&'a str>,
    pub dns: Option<&'a str>,
    pub dhcp: Option<&'a str>,
}

/// An IPv4 address a host can have: not 0.0.0.0, broadcast, multicast or loopback.
pub fn parse_host(s: &str) -> Option<Ipv4Address> {
    let a: Ipv4Address = s.parse().ok()?;
    (!a.is_unspecified() && !a.is_broadcast() && !a.is_multicast() && !a.is_loopback()).then_some(a)
}

/// `ADDR/PREFIX` with a prefix of 1 to 32.
pub fn parse_cidr(s: &str) -> Option<Ipv4Cidr> {
    let (a, p) = s.split_once('/')?;
    let prefix: u8 = p.parse().ok().filter(|p| (1..=32).contains(p))?;
    Some(Ipv4Cidr::new(parse_host(a)?, prefix))
}

/// `ADDR[,ADDR...]`, at most [`MAX_DNS`].
pub fn parse_dns(s: &str) -> Option<DnsList> {
    let mut d = DnsList { list: [Ipv4Address::UNSPECIFIED; MAX_DNS], len: 0 };
    for a in s.split(',') {
        if d.len == MAX_DNS {
            return None;
        }
        d.list[d.len] = parse_host(a)?;
        d.len += 1;
    }
    Some(d)
}

/// Seconds, at most [`MAX_DHCP_WAIT_S`].
pub fn parse_wait(s: &str) -> Option<u32> {
    s.parse().ok().filter(|&w| w <= MAX_DHCP_WAIT_S)
}

impl NetConfig {
    /// The configuration `words` ask for; `Err` names the word that does not fit
    /// (each parses alone, but `unify.ip` and `unify.dhcp` exclude each other, and the
    /// gateway must be on the address's subnet).
    pub fn from_words(w: &Words<'_>) -> Result<NetConfig, &'static str> {
        let mut c = NetConfig::default();
        match (w.ip, w.dhcp) {
            (Some(_), Some(_)) => return Err("unify.ip and unify.dhcp exclude each other"),
            (Some(ip), None) => {
                let address = parse_cidr(ip).ok_or("unify.ip wants ADDR/PREFIX")?;
                let gateway = w.gw.map(|g| parse_host(g).ok_or("unify.gw wants an address")).transpose()?;
                if gateway.is_some_and(|g| !address.contains_addr(&g) || g == address.address()) {
                    return Err("unify.gw is not another address of unify.ip's subnet");
                }
                c.mode = Mode::Static { address, gateway };
                c.dns = None;
            }
            (None, Some(wait)) => {
                c.mode = Mode::Dhcp { wait_s: parse_wait(wait).ok_or("unify.dhcp wants seconds to wait (0-600)")? };
                c.dns = None;
            }
            (None, None) if w.gw.is_some() => return Err("unify.gw goes with unify.ip"),
            (None, None) => {}
        }
        if let Some(d) = w.dns {
            c.dns = Some(parse_dns(d).ok_or("unify.dns wants one to three addresses, comma-separated")?);
        }
        Ok(c)
    }
}

/// What the command line asked for (set once at boot, before the card is probed).
static CONFIG: Mutex<Option<NetConfig>> = Mutex::new(None);

/// The card's address in force (0: none), its prefix, and the gateway (0: none).
static ADDRESS: AtomicU32 = AtomicU32::new(0);
static PREFIX: AtomicU8 = AtomicU8::new(0);
static GATEWAY: AtomicU32 = AtomicU32::new(0);
/// The DNS servers in force.
static DNS: Mutex<Vec<Ipv4Address>> = Mutex::new(Vec::new());

/// Records what the command line asked for; a static configuration is in force at once.
pub fn set(config: NetConfig) {
    if let Mode::Static { address, gateway } = config.mode {
        apply(Some((address, gateway)), &[]);
    }
    if let Some(dns) = &config.dns {
        *DNS.lock() = dns.as_slice().to_vec();
    }
    *CONFIG.lock() = Some(config);
}

/// What the command line asked for.
pub fn get() -> NetConfig {
    CONFIG.lock().unwrap_or_default()
}

/// Puts an address (with its gateway) in force, or none, with the DNS servers that came
/// with it (unless `unify.dns` named them).
pub fn apply(lease: Option<(Ipv4Cidr, Option<Ipv4Address>)>, dns: &[Ipv4Address]) {
    let (addr, prefix, gw) = match lease {
        Some((a, g)) => (u32::from(a.address()), a.prefix_len(), g.map_or(0, u32::from)),
        None => (0, 0, 0),
    };
    ADDRESS.store(addr, Ordering::SeqCst);
    PREFIX.store(prefix, Ordering::SeqCst);
    GATEWAY.store(gw, Ordering::SeqCst);
    let fixed = CONFIG.lock().as_ref().is_some_and(|c| c.dns.is_some());
    if !fixed {
        *DNS.lock() = dns.iter().copied().take(MAX_DNS).collect();
    }
}

/// The card's address and prefix, if it has one.
pub fn address() -> Option<Ipv4Cidr> {
    match ADDRESS.load(Ordering::SeqCst) {
        0 => None,
        a => Some(Ipv4Cidr::new(Ipv4Address::from(a), PREFIX.load(Ordering::SeqCst))),
    }
}

/// The default gateway, if there is one.
pub fn gateway() -> Option<Ipv4Address> {
    match GATEWAY.load(Ordering::SeqCst) {
        0 => None,
        g => Some(Ipv4Address::from(g)),
    }
}

/// The DNS servers in force, as `/etc/resolv.conf` names them.
pub fn nameservers() -> Vec<Vec<u8>> {
    DNS.lock().iter().map(|a| alloc::format!("{a}").into_bytes()).collect()
}

/// "10.0.2.15/24 via 10.0.2.2" (for the log).
pub fn describe(address: Ipv4Cidr, gateway: Option<Ipv4Address>) -> String {
    let mut s = alloc::format!("{}/{}", address.address(), address.prefix_len());
    if let Some(g) = gateway {
        let _ = write!(s, " via {g}");
    }
    s
}

/// ", DNS a, b" or "" (for the log).
pub fn describe_dns() -> String {
    let dns = DNS.lock();
    let mut s = String::new();
    for (i, a) in dns.iter().enumerate() {
        let _ = write!(s, "{}{a}", if i == 0 { ", DNS " } else { ", " });
    }
    s
}

/// Gives the card `new` (replacing `old`) with `gateway` as its default route: on `eth`
/// the address and route, on `lo` the address alone (traffic to the guest's own address
/// takes `lo`, as Linux routes it).
pub(super) fn install(
    links: &mut super::Links,
    old: Option<Ipv4Cidr>,
    new: Option<Ipv4Cidr>,
    gateway: Option<Ipv4Address>,
) {
    let Some(eth) = links.eth.as_mut() else { return };
    eth.iface.update_ip_addrs(|a| {
        a.retain(|c| !matches!(c, IpCidr::Ipv4(_)));
        if let Some(n) = new {
            let _ = a.push(IpCidr::Ipv4(n));
        }
    });
    let routes = eth.iface.routes_mut();
    routes.remove_default_ipv4_route();
    if let Some(g) = gateway.filter(|_| new.is_some()) {
        let _ = routes.add_default_ipv4_route(g);
    }
    links.lo.iface.update_ip_addrs(|a| {
        if let Some(o) = old {
            a.retain(|c| *c != IpCidr::new(IpAddress::Ipv4(o.address()), 32));
        }
        if let Some(n) = new {
            let _ = a.push(IpCidr::new(IpAddress::Ipv4(n.address()), 32));
        }
    });
}
