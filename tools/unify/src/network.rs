//! `--net`: the VM's network card — what QEMU connects it to, and how the guest gets its
//! IPv4 address.
//!
//! ```text
//! --net user[,dhcp][,dns=ADDR]...[,dhcp-wait=SECONDS]       (the default: `user`)
//! --net tap=IFNAME[,ip=ADDR/PREFIX[,gw=ADDR]][,dns=ADDR]...[,dhcp-wait=SECONDS]
//! --net none
//! ```
//!
//! - `user`: QEMU's user network (NAT through QEMU to the host's network; `-p` forwards
//!   host ports to the guest). The guest has QEMU's fixed 10.0.2.15/24, gateway 10.0.2.2
//!   and DNS 10.0.2.3, configured statically (no DHCP round trip at boot); `dhcp` asks
//!   QEMU's DHCP server instead (the same address).
//! - `tap=IFNAME`: an existing TAP interface of the host (`ip tuntap add dev IFNAME mode
//!   tap user $USER`), attached as it is (`script=no`): bridging and routing are the
//!   host's business. The address comes by DHCP unless `ip=` gives a static one (with
//!   `gw=` the default route). The card's MAC is 52:54:00 and three bytes of a hash of
//!   IFNAME: stable for a tap, different between taps.
//! - `none`: no card; the guest has loopback only.
//!
//! `dns=` (up to three) names the DNS servers in `/etc/resolv.conf` instead of the
//! lease's (or 10.0.2.3). With DHCP the boot waits for the first lease up to
//! `dhcp-wait` seconds (default 5; 0 starts the guest at once), then starts the guest
//! anyway, which gets its address when a server answers.
//!
//! The kernel learns the address part from its command line ([`Net::kernel_words`];
//! libos/metal/src/net/config.rs). `unify build --net` stores the value in the image's
//! manifest (`net=`); `unify run IMAGE` uses it unless `--net` is given.

use std::net::Ipv4Addr;

/// How long the boot waits for a DHCP lease unless `dhcp-wait` says (seconds).
pub const DEFAULT_DHCP_WAIT_S: u32 = 5;
/// The longest `dhcp-wait` (the kernel's `unify.dhcp` takes up to this).
const MAX_DHCP_WAIT_S: u32 = 600;
/// The most `dns=` (glibc and musl read three `nameserver` lines).
const MAX_DNS: usize = 3;
/// Linux's IFNAMSIZ less the NUL.
const MAX_IFNAME: usize = 15;

/// What the card is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// QEMU's user network.
    User,
    /// A TAP interface of the host, by name.
    Tap(String),
    /// No card.
    None,
}

/// How the guest gets its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Address {
    /// QEMU's user network's fixed 10.0.2.15/24 via 10.0.2.2 (the kernel's default).
    UserStatic,
    /// `ip=` and `gw=`.
    Static { ip: Ipv4Addr, prefix: u8, gateway: Option<Ipv4Addr> },
    /// DHCP, the boot waiting up to `wait_s` for the first lease.
    Dhcp { wait_s: u32 },
}

/// A `--net` value, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    pub backend: Backend,
    pub address: Address,
    /// `dns=`: the DNS servers, whatever a lease or the default says.
    pub dns: Vec<Ipv4Addr>,
}

impl Default for Net {
    fn default() -> Self {
        Net { backend: Backend::User, address: Address::UserStatic, dns: Vec::new() }
    }
}

/// An address a host can have (not 0.0.0.0, broadcast, multicast or loopback).
fn host_address(s: &str, what: &str) -> Result<Ipv4Addr, String> {
    let a: Ipv4Addr = s.parse().map_err(|_| format!("{what}{s}: not an IPv4 address"))?;
    if a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback() {
        return Err(format!("{what}{s}: not an address a host can have"));
    }
    Ok(a)
}

/// A name Linux takes for an interface (`dev_valid_name`), without what would break
/// QEMU's option syntax (`,` and `=`).
fn interface_name(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("tap= wants the TAP interface's name: tap=IFNAME".into());
    }
    if name.len() > MAX_IFNAME
        || name == "."
        || name == ".."
        || !name.bytes().all(|b| b.is_ascii_graphic() && !b"/:,=".contains(&b))
    {
        return Err(format!("tap={name}: not an interface name (at most {MAX_IFNAME} characters, no / : , =)"));
    }
    Ok(name.to_string())
}

/// Parses a `--net` value (the message says what is wrong, without the option's name).
pub fn parse(spec: &str) -> Result<Net, String> {
    let mut items = spec.split(',');
    let backend = match items.next().unwrap_or("") {
        "user" => Backend::User,
        "none" => Backend::None,
        "tap" => return Err("tap wants the TAP interface's name: tap=IFNAME".into()),
        first => match first.strip_prefix("tap=") {
            Some(name) => Backend::Tap(interface_name(name)?),
            None => return Err(format!("{first:?}: expected user, tap=IFNAME or none")),
        },
    };
    let (mut dhcp, mut ip, mut gw, mut wait, mut dns) = (false, None, None, None, Vec::new());
    let twice = |what: &str| format!("{what} given twice");
    for item in items {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (item, None),
        };
        if backend == Backend::None {
            return Err(format!("none takes no options ({item})"));
        }
        match (key, value) {
            ("dhcp", None) if dhcp => return Err(twice("dhcp")),
            ("dhcp", None) => dhcp = true,
            ("ip" | "gw", Some(_)) if backend == Backend::User => {
                return Err(format!(
                    "{key}= goes with tap=IFNAME (user networking's address is QEMU's 10.0.2.15/24 via 10.0.2.2; \
                     `user,dhcp` asks its DHCP server)"
                ))
            }
            ("ip", Some(_)) if ip.is_some() => return Err(twice("ip=")),
            ("ip", Some(v)) => {
                let (a, p) = v
                    .split_once('/')
                    .ok_or_else(|| format!("ip={v}: expected ADDR/PREFIX, such as 192.168.100.2/24"))?;
                let prefix = p.parse::<u8>().ok().filter(|p| (1..=32).contains(p));
                let prefix = prefix.ok_or_else(|| format!("ip={v}: the prefix is 1 to 32"))?;
                ip = Some((host_address(a, "ip=")?, prefix));
            }
            ("gw", Some(_)) if gw.is_some() => return Err(twice("gw=")),
            ("gw", Some(v)) => gw = Some(host_address(v, "gw=")?),
            ("dns", Some(v)) => {
                if dns.len() == MAX_DNS {
                    return Err(format!("at most {MAX_DNS} dns="));
                }
                dns.push(host_address(v, "dns=")?);
            }
            ("dhcp-wait", Some(_)) if wait.is_some() => return Err(twice("dhcp-wait=")),
            ("dhcp-wait", Some(v)) => {
                let s = v.parse::<u32>().ok().filter(|&s| s <= MAX_DHCP_WAIT_S);
                wait = Some(s.ok_or_else(|| format!("dhcp-wait={v}: seconds, 0 to {MAX_DHCP_WAIT_S}"))?);
            }
            _ => {
                return Err(format!(
                    "unknown option {item:?} (user takes dhcp, dns=, dhcp-wait=; tap=IFNAME takes ip=, gw=, dns=, \
                     dhcp, dhcp-wait=)"
                ))
            }
        }
    }
    let address = match (&backend, ip, dhcp) {
        (_, Some(_), true) => return Err("dhcp and ip= exclude each other".into()),
        (_, Some((ip, prefix)), false) => {
            if let Some(g) = gw {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                if (u32::from(g) ^ u32::from(ip)) & mask != 0 || g == ip {
                    return Err(format!("gw={g}: not another address of {ip}/{prefix}"));
                }
            }
            Address::Static { ip, prefix, gateway: gw }
        }
        (_, None, _) if gw.is_some() => return Err("gw= goes with ip=".into()),
        (Backend::User, None, false) | (Backend::None, _, _) => Address::UserStatic,
        (Backend::User, None, true) | (Backend::Tap(_), None, _) => {
            Address::Dhcp { wait_s: wait.unwrap_or(DEFAULT_DHCP_WAIT_S) }
        }
    };
    if wait.is_some() && !matches!(address, Address::Dhcp { .. }) {
        return Err("dhcp-wait= goes with DHCP".into());
    }
    Ok(Net { backend, address, dns })
}

impl Net {
    /// Whether the VM has a card.
    pub fn has_card(&self) -> bool {
        self.backend != Backend::None
    }

    /// The kernel command line's words for the address (none for user networking's
    /// defaults, which are the kernel's).
    pub fn kernel_words(&self) -> Vec<String> {
        if !self.has_card() {
            return Vec::new();
        }
        let mut words = match self.address {
            Address::UserStatic => Vec::new(),
            Address::Static { ip, prefix, gateway } => {
                let mut w = vec![format!("unify.ip={ip}/{prefix}")];
                w.extend(gateway.map(|g| format!("unify.gw={g}")));
                w
            }
            Address::Dhcp { wait_s } => vec![format!("unify.dhcp={wait_s}")],
        };
        if !self.dns.is_empty() {
            let list: Vec<String> = self.dns.iter().map(Ipv4Addr::to_string).collect();
            words.push(format!("unify.dns={}", list.join(",")));
        }
        words
    }
}

/// The card's MAC on a TAP interface: QEMU's prefix 52:54:00 and three bytes of the
/// name's FNV-1a hash (QEMU would give every VM 52:54:00:12:34:56, which collides as
/// soon as two of them share a bridge).
pub fn tap_mac(ifname: &str) -> String {
    let hash = ifname.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let b = hash.to_be_bytes();
    format!("52:54:00:{:02x}:{:02x}:{:02x}", b[5], b[6], b[7])
}

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
