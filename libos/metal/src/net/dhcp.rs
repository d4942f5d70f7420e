//! The card's address by DHCP (`unify.dhcp=SECONDS`): smoltcp's DHCPv4 client socket in
//! `eth`'s set, polled with everything else.
//!
//! - **At boot** ([`start`]): the stack is made at once (not at the guest's first socket
//!   call), and the boot waits for the first lease up to SECONDS, so that a program that
//!   connects somewhere first thing finds an address, a route and the DNS servers in
//!   `/etc/resolv.conf` (generated when the guest starts). Without a lease by then the
//!   guest starts anyway, with one line on its stderr: its sockets on `eth` give
//!   ENETUNREACH (no address, as on Linux) until a lease comes, and `/etc/resolv.conf`
//!   stays without servers (unless `unify.dns` named them).
//! - **Afterwards**: the socket is polled from the stack's poll path (the idle loop, the
//!   timer tick, the card's interrupt, socket calls), and smoltcp's deadlines — the next
//!   DISCOVER, the renewal at T1, rebinding at T2, the lease's end — join the idle task's
//!   timer through `next_poll`, so renewal needs no thread of its own. Each change
//!   (a new lease, a new address, a lease lost) is put in force by [`Client::update`]:
//!   the address on `eth` and `lo`, the default route, the DNS servers.
//!
//! smoltcp sends a DISCOVER every 10 s by default; here every [`DISCOVER_EVERY`], so that
//! a first broadcast lost (a bridge still learning, a server starting) costs little of
//! the boot's wait.

use alloc::vec::Vec;

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4::{self, Event, RetryConfig};
use smoltcp::time::Duration;
use smoltcp::wire::Ipv4Address;

use super::config::{self, Mode};
use super::Links;
use crate::clock;

/// How often a DISCOVER goes out while no server has answered.
const DISCOVER_EVERY: Duration = Duration::from_secs(2);

/// The DHCP client: its socket in `eth`'s set.
pub struct Client {
    handle: SocketHandle,
    /// When it started (monotonic ns), for the log.
    started: u64,
}

impl Client {
    /// Adds the client's socket to `set` (`eth`'s).
    pub fn new(set: &mut SocketSet<'static>) -> Client {
        let mut socket = dhcpv4::Socket::new();
        let mut retry = RetryConfig::default();
        retry.discover_timeout = DISCOVER_EVERY;
        socket.set_retry_config(retry);
        Client { handle: set.add(socket), started: clock::monotonic_ns() }
    }

    /// After a poll: puts in force what the client learnt (a lease, or its loss).
    /// Whether anything changed.
    pub fn update(&self, links: &mut Links) -> bool {
        let Some(eth) = links.eth.as_mut() else { return false };
        let lease = match eth.set.get_mut::<dhcpv4::Socket>(self.handle).poll() {
            None => return false,
            Some(Event::Configured(c)) => {
                let dns: Vec<Ipv4Address> = c.dns_servers.iter().copied().collect();
                Some((c.address, c.router, dns, c.server.address))
            }
            // The client starts by saying it has nothing: no news unless a lease is lost.
            Some(Event::Deconfigured) if config::address().is_none() => return false,
            Some(Event::Deconfigured) => None,
        };
        let old = config::address();
        match lease {
            Some((address, router, dns, server)) => {
                config::install(links, old, Some(address), router);
                config::apply(Some((address, router)), &dns);
                crate::kprintln!(
                    "dhcp: {}{} (from {server}, {} ms after the client started)",
                    config::describe(address, router),
                    config::describe_dns(),
                    clock::monotonic_ns().saturating_sub(self.started) / 1_000_000
                );
            }
            None => {
                config::install(links, old, None, None);
                config::apply(None, &[]);
                crate::kprintln!("dhcp: the lease is gone; no IPv4 address on eth until a server answers");
            }
        }
        true
    }
}

/// At boot, after the devices are probed: with DHCP asked for and a card, makes the
/// stack (which starts the client) and waits up to the configured time for a lease.
/// Returns the line to show on the guest's stderr when no lease came in time (none
/// with a wait of 0: the guest was meant to start at once).
pub fn start() -> Option<&'static str> {
    let Mode::Dhcp { wait_s } = config::get().mode else { return None };
    if !super::have_card() {
        return None;
    }
    super::with_net(|_| ());
    let deadline = clock::monotonic_ns().saturating_add(u64::from(wait_s) * 1_000_000_000);
    loop {
        super::poll();
        if config::address().is_some() {
            return None;
        }
        if clock::monotonic_ns() >= deadline {
            break;
        }
        // The card's interrupt, smoltcp's next deadline or the next tick ends the halt.
        super::plan();
        if !super::ready_to_halt() {
            continue;
        }
        crate::idle::arm_timer();
        crate::sched::halt();
    }
    crate::kprintln!("dhcp: no lease after {wait_s} s; the guest starts without an IPv4 address on eth");
    if wait_s == 0 {
        return None; // not waiting was asked for: no news
    }
    Some("unify: no DHCP lease yet: the guest starts without an IPv4 address (its sockets reach the network once a server answers)")
}
