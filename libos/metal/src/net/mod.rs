//! The guest's network: AF_INET and AF_INET6 sockets over smoltcp, on the virtio-net
//! card and on a loopback interface.
//!
//! # The picture
//!
//! ```text
//!  guest socket fds ──▶ InetSocket (socket.rs: libos::net::Socket + File)
//!                          │   one global lock: NET
//!                          ▼
//!  Net ─ socks: per-socket state (tcp.rs, udp.rs), port tables (ports.rs)
//!      ├ lo:  smoltcp Interface (127.0.0.1/8, ::1, 10.0.2.15) over Loopback (device.rs)
//!      └ eth: smoltcp Interface (10.0.2.15/24 via 10.0.2.2)   over VirtioNet (device.rs)
//! ```
//!
//! The card's address is QEMU's user network's unless the kernel command line says
//! otherwise: a static address or DHCP (config.rs, dhcp.rs). The addresses shown are
//! the default's.
//!
//! Each interface has its own smoltcp `SocketSet`: smoltcp sends every socket of a set
//! out of the interface polled with it, so a socket lives in the set of the interface its
//! traffic takes. A connection or a datagram to one of the guest's own addresses (127/8,
//! ::1, 10.0.2.15) takes `lo`, as Linux routes it; anything else takes `eth` (ENETUNREACH
//! without a card, as Linux without a route). A socket that receives on several
//! interfaces (bound to the wildcard) has one smoltcp socket on each: a listener keeps
//! a pool of listening smoltcp sockets per interface, a UDP socket one smoltcp socket
//! per interface.
//!
//! # Polling, waiting, telling
//!
//! smoltcp does nothing by itself: [`poll`] moves packets between the devices and the
//! sockets and runs its timers. Under TCG a poll costs tens of microseconds (smoltcp
//! looks at every socket of a set), and each trap to QEMU (a notification, an
//! interrupt's acknowledgement) takes QEMU's big lock, often held by the thread running
//! its user network; so the stack is polled when something calls for it, in batches,
//! the way Linux's NAPI and TCP autocorking batch:
//!
//! - **Frames in.** The card interrupts only while the idle task halts (irq.rs,
//!   virtio_net.rs). While guest code runs, frames wait in the ring and are taken at
//!   the thread's next readiness wait (`epoll_wait`, `poll`, `select`:
//!   `Platform::settle_io`, [`poll_if_due`]), at a socket call that would have to wait,
//!   when the CPU goes idle, or at the timer tick.
//! - **Data out.** A send (or a read, which opens the window) on the card's link queues
//!   the data in smoltcp and marks egress due ([`with_sock_try`]); the same points send
//!   it, so a server answering a batch of requests sends every answer in one poll and
//!   tells the card once. Over `lo` a call polls at once (the peer is the guest's own,
//!   and a handshake or a send to it completes inside the call, as on Linux:
//!   [`Net::poll`] keeps polling `lo` while packets wait in its queue).
//! - **Timers.** smoltcp's own next deadline (retransmissions, delayed ACKs,
//!   [`next_poll`]) is worked out when the CPU goes idle and at the timer tick, and fed
//!   to the timer.
//!
//! After each poll, every socket's readiness is computed again (Linux's `tcp_poll` and
//! `udp_poll` rules); a socket whose mask changed, or which got new data or connections,
//! is told through its [`libos::readiness::Pollee`] (epoll, poll and select hear it), and
//! the stack's sequence word [`SEQ`] moves. Blocking socket calls sleep on that word with
//! `Platform::wait_on` (no busy waiting) and try again when it moves; a signal ends the
//! wait (ERESTARTSYS, or EINTR with a timeout, as Linux's `sock_intr_errno`).
//!
//! Locking: one CPU, and kernel code is never preempted, so the lock is never contended;
//! it only keeps the code honest. Nothing blocks with it held, and pollees are told after
//! it is dropped (an observer may take locks of its own).

mod addr;
pub mod config;
mod device;
mod dhcp;
mod irq;
mod ports;
mod socket;
mod tcp;
mod udp;
mod virtio_net;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use libos::file::File;
use libos::{Errno, Platform};
use smoltcp::iface::{Config, Context, Interface, PollIngressSingleResult, PollResult, Route, SocketHandle, SocketSet};
use smoltcp::phy::Device;
use smoltcp::socket::{tcp as stcp, udp as sudp};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address, Ipv4Cidr, Ipv6Address};

pub use dhcp::start;
use spin::Mutex;
use virtio_drivers::transport::mmio::MmioTransport;

use crate::clock;
use crate::platform::PLATFORM;
pub use addr::Link;
use device::{Loopback, VirtioNet};
pub use irq::{interrupt, VECTOR as IRQ_VECTOR};
use ports::PortTable;
use socket::{Shared, Sock};

/// A smoltcp socket: the interface whose set holds it, and its handle there.
pub type Handle = (Link, SocketHandle);

/// The shortest time the idle task waits for smoltcp's next deadline (so that a
/// deadline of "now" that polling cannot satisfy, a full transmit queue, never spins).
const MIN_POLL_DELAY_NS: u64 = 100_000;
/// How often `lo` is polled again in one [`Net::poll`] while packets wait in its queue.
const LO_ROUNDS: usize = 64;
/// The most packets one interface takes in per poll (a flood must not keep the CPU in
/// the kernel, where nothing preempts it).
const MAX_INGRESS: usize = 512;

/// One interface: smoltcp's view of it, its device and the smoltcp sockets it carries.
struct Nic<D> {
    iface: Interface,
    dev: D,
    set: SocketSet<'static>,
}

/// The interfaces.
pub struct Links {
    lo: Nic<Loopback>,
    eth: Option<Nic<VirtioNet>>,
}

impl Links {
    pub fn have_eth(&self) -> bool {
        self.eth.is_some()
    }

    fn set(&self, link: Link) -> &SocketSet<'static> {
        match (link, &self.eth) {
            (Link::Eth, Some(eth)) => &eth.set,
            _ => &self.lo.set,
        }
    }

    fn set_mut(&mut self, link: Link) -> &mut SocketSet<'static> {
        match (link, &mut self.eth) {
            (Link::Eth, Some(eth)) => &mut eth.set,
            _ => &mut self.lo.set,
        }
    }

    /// The interface's context and set (what smoltcp's `connect` needs).
    fn cx_and_set(&mut self, link: Link) -> (&mut Context, &mut SocketSet<'static>) {
        match (link, &mut self.eth) {
            (Link::Eth, Some(eth)) => (eth.iface.context(), &mut eth.set),
            _ => (self.lo.iface.context(), &mut self.lo.set),
        }
    }

    pub fn tcp(&self, h: Handle) -> &stcp::Socket<'static> {
        self.set(h.0).get::<stcp::Socket>(h.1)
    }

    pub fn tcp_mut(&mut self, h: Handle) -> &mut stcp::Socket<'static> {
        self.set_mut(h.0).get_mut::<stcp::Socket>(h.1)
    }

    pub fn udp(&self, h: Handle) -> &sudp::Socket<'static> {
        self.set(h.0).get::<sudp::Socket>(h.1)
    }

    pub fn udp_mut(&mut self, h: Handle) -> &mut sudp::Socket<'static> {
        self.set_mut(h.0).get_mut::<sudp::Socket>(h.1)
    }

    pub fn add(&mut self, link: Link, socket: impl smoltcp::socket::AnySocket<'static>) -> Handle {
        (link, self.set_mut(link).add(socket))
    }

    pub fn remove(&mut self, h: Handle) {
        self.set_mut(h.0).remove(h.1);
    }

    /// Starts a TCP connection on `h` from `local` to `remote`.
    pub fn tcp_connect(
        &mut self,
        h: Handle,
        remote: (IpAddress, u16),
        local: (Option<IpAddress>, u16),
    ) -> Result<(), stcp::ConnectError> {
        let (cx, set) = self.cx_and_set(h.0);
        let local = smoltcp::wire::IpListenEndpoint { addr: local.0, port: local.1 };
        set.get_mut::<stcp::Socket>(h.1).connect(cx, remote, local)
    }
}

/// The whole stack.
pub struct Net {
    pub links: Links,
    /// The guest's sockets, by id.
    pub socks: BTreeMap<u64, Sock>,
    pub tcp_ports: PortTable,
    pub udp_ports: PortTable,
    /// Sockets that listen (their pools are refilled as connections arrive).
    pub listeners: BTreeSet<u64>,
    /// TCP connections the guest closed, finishing their goodbyes.
    pub orphans: Vec<Handle>,
    /// The current call moved data into or out of smoltcp (see [`with_sock_try`]).
    pub moved: bool,
    /// ... on a connection over `lo` (its peer is the guest itself: poll at once).
    pub moved_lo: bool,
    next_id: u64,
    /// The DHCP client, when the card's address comes by DHCP (dhcp.rs).
    dhcp: Option<dhcp::Client>,
}

// SAFETY: the stack is only reached under NET's lock on the one CPU; what is not Send
// in it (the MMIO transport's register pointers) is used by no one else.
unsafe impl Send for Net {}

/// The stack, boxed: smoltcp's interfaces carry their 64 KiB fragmentation and
/// reassembly buffers inline, so a `Net` is too big to pass through a kernel stack;
/// it is built on a stack of its own ([`build`]) and never moved afterwards.
static NET: Mutex<Option<Box<Net>>> = Mutex::new(None);
/// The stack [`build`] runs `Net::new` on.
const BUILD_STACK: usize = 1 << 20;
/// The card found at boot, until the stack is made.
static CARD: Mutex<Option<VirtioNet>> = Mutex::new(None);
/// Whether a card was found at boot.
static HAVE_CARD: AtomicBool = AtomicBool::new(false);
/// Moves whenever a poll changed something; blocked socket calls sleep on it.
pub static SEQ: AtomicU32 = AtomicU32::new(0);
/// When smoltcp wants to be polled next (monotonic ns; u64::MAX: not before an event).
/// Worked out by [`plan`] when the CPU is about to wait (idle) and at the timer tick,
/// not at every poll: a thread that keeps running meets the tick within 10 ms anyway.
static NEXT_POLL: AtomicU64 = AtomicU64::new(u64::MAX);
/// Frames wait for a poll: the card interrupted (irq.rs), or a poll left some behind.
pub static INGRESS_DUE: AtomicBool = AtomicBool::new(false);
/// A guest call queued data to send on the card, or read some (a window to advertise),
/// and left the sending to the next poll ([`with_sock_try`]).
static EGRESS_DUE: AtomicBool = AtomicBool::new(false);

fn now() -> Instant {
    Instant::from_micros((clock::monotonic_ns() / 1000) as i64)
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    crate::random::fill(&mut b);
    u64::from_ne_bytes(b)
}

/// Takes the virtio-net device behind `transport`, whose registers are at physical
/// `regs` and whose interrupt is IOAPIC pin `irq` (called by the virtio probe).
pub fn attach(transport: MmioTransport<'static>, regs: u64, irq: u32) {
    match VirtioNet::new(transport) {
        Ok(card) => {
            let m = card.mac();
            let how = match config::get().mode {
                config::Mode::Static { address, gateway } => config::describe(address, gateway),
                config::Mode::Dhcp { .. } => "by DHCP".into(),
            };
            crate::kprintln!(
                "virtio-net: MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, address {how}",
                m[0],
                m[1],
                m[2],
                m[3],
                m[4],
                m[5],
            );
            HAVE_CARD.store(true, Ordering::SeqCst);
            *CARD.lock() = Some(card);
            if irq::route(irq, regs) {
                crate::kprintln!("virtio-net: interrupt on IOAPIC pin {irq}, vector {:#x}", irq::VECTOR);
            }
        }
        Err(e) => crate::kprintln!("virtio-net: initialisation failed: {e}"),
    }
}

impl Net {
    fn new() -> Net {
        let now = now();
        let card = CARD.lock().take();
        let mut dev = Loopback::default();
        let mut cfg = Config::new(HardwareAddress::Ip);
        cfg.random_seed = random_u64();
        let mut iface = Interface::new(cfg, &mut dev, now);
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv4(Ipv4Address::LOCALHOST), 8));
            let _ = a.push(IpCidr::new(IpAddress::Ipv6(Ipv6Address::LOCALHOST), 128));
        });
        // All of 127.0.0.0/8 is the guest's, as on Linux: accept packets for any of it.
        iface.set_any_ip(true);
        iface.routes_mut().update(|routes| {
            let _ = routes.push(Route {
                cidr: IpCidr::Ipv4(Ipv4Cidr::new(Ipv4Address::new(127, 0, 0, 0), 8)),
                via_router: IpAddress::Ipv4(Ipv4Address::LOCALHOST),
                preferred_until: None,
                expires_at: None,
            });
        });
        let lo = Nic { iface, dev, set: SocketSet::new(Vec::new()) };
        let eth = card.map(|mut dev| {
            let mut cfg = Config::new(HardwareAddress::Ethernet(EthernetAddress(dev.mac())));
            cfg.random_seed = random_u64();
            let iface = Interface::new(cfg, &mut dev, now);
            Nic { iface, dev, set: SocketSet::new(Vec::new()) }
        });
        let mut links = Links { lo, eth };
        // The card's address: static ones are in force from the start, DHCP's come later.
        config::install(&mut links, None, config::address(), config::gateway());
        let dhcp = match (config::get().mode, links.eth.as_mut()) {
            (config::Mode::Dhcp { .. }, Some(eth)) => Some(dhcp::Client::new(&mut eth.set)),
            _ => None,
        };
        Net {
            links,
            socks: BTreeMap::new(),
            tcp_ports: PortTable::default(),
            udp_ports: PortTable::default(),
            listeners: BTreeSet::new(),
            orphans: Vec::new(),
            moved: false,
            moved_lo: false,
            next_id: 1,
            dhcp,
        }
    }

    /// Registers a new guest socket; its id.
    pub fn insert(&mut self, sock: Sock) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.socks.insert(id, sock);
        id
    }

    /// Moves packets, runs timers, refills listeners' pools, lets closed connections go,
    /// and works out who must be told. Returns the pollees to notify and their events.
    fn poll(&mut self) -> Vec<(Arc<Shared>, u16)> {
        INGRESS_DUE.store(false, Ordering::SeqCst);
        EGRESS_DUE.store(false, Ordering::SeqCst);
        // smoltcp's deadline is met by this poll; the next one is worked out by `plan`.
        NEXT_POLL.store(u64::MAX, Ordering::SeqCst);
        let now = now();
        let mut moved = false;
        let mut more = false;
        if let Some(eth) = self.links.eth.as_mut() {
            // The CPU is looking at the ring now: no interrupts until the idle task halts.
            eth.dev.set_rx_interrupts(false);
            moved |= poll_nic(eth, now, Link::Eth, &mut self.socks, &self.listeners, &mut more);
            eth.dev.kick();
        }
        if let Some(dhcp) = &self.dhcp {
            moved |= dhcp.update(&mut self.links);
        }
        for _ in 0..LO_ROUNDS {
            let m = poll_nic(&mut self.links.lo, now, Link::Lo, &mut self.socks, &self.listeners, &mut more);
            moved |= m;
            if !self.links.lo.dev.pending() {
                break;
            }
        }
        self.reap_orphans();
        if let Some(eth) = self.links.eth.as_ref() {
            report(eth.dev.stats());
        }
        let notes = self.observe();
        if more || self.links.lo.dev.pending() {
            // More traffic than this poll carried: the next chance polls again.
            INGRESS_DUE.store(true, Ordering::SeqCst);
        }
        if moved || !notes.is_empty() {
            SEQ.fetch_add(1, Ordering::SeqCst);
        }
        notes
    }

    /// Works out when smoltcp next wants a poll ([`NEXT_POLL`]).
    fn plan(&mut self) {
        let now = now();
        let at = |nic_at: Option<Instant>| {
            nic_at.map_or(u64::MAX, |t| (t.total_micros().max(0) as u64).saturating_mul(1000))
        };
        let mut next = u64::MAX;
        if let Some(eth) = self.links.eth.as_mut() {
            next = next.min(at(eth.iface.poll_at(now, &eth.set)));
        }
        next = next.min(at(self.links.lo.iface.poll_at(now, &self.links.lo.set)));
        if INGRESS_DUE.load(Ordering::SeqCst) || EGRESS_DUE.load(Ordering::SeqCst) {
            next = 0;
        }
        if next != u64::MAX {
            next = next.max(clock::monotonic_ns() + MIN_POLL_DELAY_NS);
        }
        NEXT_POLL.store(next, Ordering::SeqCst);
    }

    /// Drops the smoltcp sockets of closed connections once they have nothing left to
    /// send (their FIN acknowledged, or their RST out).
    fn reap_orphans(&mut self) {
        let links = &mut self.links;
        self.orphans.retain(|&h| {
            let s = links.tcp(h);
            let done = match s.state() {
                stcp::State::Closed => s.remote_endpoint().is_none(),
                stcp::State::TimeWait => true,
                _ => false,
            };
            if done {
                links.remove(h);
            }
            !done
        });
    }

    /// Brings every socket's view up to date; the sockets whose waiters must hear.
    fn observe(&mut self) -> Vec<(Arc<Shared>, u16)> {
        let mut notes = Vec::new();
        for sock in self.socks.values_mut() {
            if let Some(events) = sock.observe(&self.links) {
                notes.push((sock.shared.clone(), events));
            }
        }
        notes
    }
}

/// Logs the card's counters (seen with `unify.verbose`) when they moved, at most every
/// five seconds.
fn report(stats: device::Stats) {
    static LAST: Mutex<(u64, device::Stats)> = Mutex::new((0, device::Stats::ZERO));
    let mut last = LAST.lock();
    let now = clock::monotonic_ns();
    if now >= last.0 + 5_000_000_000 && stats != last.1 {
        crate::kprintln!(
            "virtio-net: {} frames in, {} out, {} lost to a full queue, {} times full",
            stats.received,
            stats.sent,
            stats.dropped,
            stats.busy
        );
        *last = (now, stats);
    }
}

/// Polls one interface: every received packet (refilling listeners' pools after each,
/// so a burst of connection requests never finds the pool empty), at most
/// [`MAX_INGRESS`] of them (`more` says some were left), then what the sockets have to
/// send. Whether anything moved.
fn poll_nic<D: Device>(
    nic: &mut Nic<D>,
    now: Instant,
    link: Link,
    socks: &mut BTreeMap<u64, Sock>,
    listeners: &BTreeSet<u64>,
    more: &mut bool,
) -> bool {
    let mut moved = false;
    let mut left = MAX_INGRESS;
    loop {
        if left == 0 {
            // A flood: the rest waits for the next poll (soon: see `Net::poll`).
            *more = true;
            break;
        }
        left -= 1;
        match nic.iface.poll_ingress_single(now, &mut nic.dev, &mut nic.set) {
            PollIngressSingleResult::None => break,
            PollIngressSingleResult::PacketProcessed => moved = true,
            PollIngressSingleResult::SocketStateChanged => {
                moved = true;
                for id in listeners {
                    if let Some(sock) = socks.get_mut(id) {
                        tcp::refill(sock, link, &mut nic.set);
                    }
                }
            }
        }
    }
    if nic.iface.poll_egress(now, &mut nic.dev, &mut nic.set) == PollResult::SocketStateChanged {
        moved = true;
    }
    moved
}

/// Makes the stack: `Net::new` on a 1 MiB stack of its own, straight into a box.
fn build() -> Box<Net> {
    extern "C" fn make(out: *mut Option<Box<Net>>) {
        // SAFETY: `out` points at the caller's `slot`, alive and unaliased during the call.
        unsafe { out.write(Some(Box::new(Net::new()))) };
    }
    let mut stack = alloc::vec![0u128; BUILD_STACK / 16];
    let top = stack.as_mut_ptr_range().end as u64;
    let mut slot: Option<Box<Net>> = None;
    // SAFETY: switches RSP to the top of `stack` (16-byte aligned, unused, large enough
    // for smoltcp's by-value interfaces) for one C-ABI call, and back: R12 keeps the old
    // RSP (callee-saved, so `make` preserves it; declared clobbered). Kernel code runs
    // with interrupts off and `make` never blocks, so nothing else runs on that stack
    // or sees RSP there; `make` cannot unwind (panic = abort).
    unsafe {
        core::arch::asm!(
            "mov r12, rsp",
            "mov rsp, rax",
            "call rcx",
            "mov rsp, r12",
            in("rax") top,
            in("rcx") make as extern "C" fn(*mut Option<Box<Net>>),
            in("rdi") &raw mut slot,
            out("r12") _,
            clobber_abi("C"),
        );
    }
    drop(stack);
    slot.expect("the network stack was built")
}

/// Runs `f` on the stack (made on first use), then polls it and tells whom it concerns.
pub fn with_net<R>(f: impl FnOnce(&mut Net) -> R) -> R {
    with_net_then(f, |_| true)
}

/// [`with_net`], polling only if `needs_poll` says the result calls for it.
fn with_net_then<R>(f: impl FnOnce(&mut Net) -> R, needs_poll: impl FnOnce(&R) -> bool) -> R {
    let before = SEQ.load(Ordering::SeqCst);
    let (r, notes) = {
        let mut guard = NET.lock();
        let net = guard.get_or_insert_with(build);
        let r = f(net);
        let notes = if needs_poll(&r) { net.poll() } else { Vec::new() };
        (r, notes)
    };
    for (shared, events) in notes {
        shared.pollee.notify(events);
    }
    if SEQ.load(Ordering::SeqCst) != before {
        wake_waiters();
    }
    r
}

/// [`with_net`] for the guest's call on socket `id`: the socket's record of what its
/// waiters know is brought up to date before the poll (see [`Sock::settle`]).
pub fn with_sock<R>(id: u64, f: impl FnOnce(&mut Net) -> R) -> R {
    with_sock_then(id, f, |_| true)
}

/// [`with_sock`] for one try of a call that may have to wait, with the poll after it
/// only where the call needs it. Under TCG a poll costs tens of microseconds (every
/// socket of the card's set is looked at), and a server would pay two or three per
/// request:
///
/// - A try that moved data on the card's link (a send queued, a read took bytes) leaves
///   the sending to the next poll ([`EGRESS_DUE`]): the thread's next readiness wait
///   (epoll, poll, select: [`poll_if_due`]), a try that must wait, the CPU going idle,
///   or the timer tick. A server answering a batch of requests sends all the answers
///   with one poll (Linux's TCP autocorking does the like), and a thread that blocks
///   sends at once.
/// - A try that moved data over `lo` polls at once: the peer is the guest's own and a
///   send to it completes inside the call, as on Linux.
/// - A try that must wait (EAGAIN) and moved nothing changed nothing; if frames came in
///   or data waits to go out, the stack is polled and the call tried once more.
/// - Anything else (an accept, an error, a datagram) polls at once, as before.
pub fn with_sock_try<T>(id: u64, mut f: impl FnMut(&mut Net) -> Result<T, Errno>) -> Result<T, Errno> {
    let mut retried = false;
    loop {
        let (r, moved, moved_lo) = with_sock_then(
            id,
            |net| {
                net.moved = false;
                net.moved_lo = false;
                let r = f(net);
                (r, net.moved, net.moved_lo)
            },
            |(r, moved, moved_lo)| *moved_lo || (!*moved && !matches!(r, Err(Errno::EAGAIN))),
        );
        if moved && !moved_lo {
            EGRESS_DUE.store(true, Ordering::SeqCst);
        }
        if matches!(r, Err(Errno::EAGAIN)) && !moved && !retried && due() {
            retried = true;
            poll();
            continue;
        }
        return r;
    }
}

fn with_sock_then<R>(id: u64, f: impl FnOnce(&mut Net) -> R, needs_poll: impl FnOnce(&R) -> bool) -> R {
    with_net_then(
        |net| {
            let r = f(net);
            if let Some(sock) = net.socks.get_mut(&id) {
                sock.settle(&net.links);
            }
            r
        },
        needs_poll,
    )
}

/// Runs `f` on the stack without polling it: for calls that only look (names, options,
/// `File::poll` — which must not tell pollees: it is asked while epoll walks its lists).
pub fn peek_net<R>(f: impl FnOnce(&mut Net) -> R) -> R {
    let mut guard = NET.lock();
    f(guard.get_or_insert_with(build))
}

/// Says `line` on the guest's stderr, once per distinct line.
pub fn notice(line: &'static str) {
    static SAID: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut said = SAID.lock();
    if said.contains(&line) {
        return;
    }
    said.push(line);
    drop(said);
    PLATFORM.log(line);
}

/// Polls the stack if it exists (a VM whose guest never made a socket polls nothing,
/// and frames for it wait in the card).
pub fn poll() {
    if NET.lock().is_none() {
        return;
    }
    with_net(|_| ());
}

/// Whether the stack has work: frames came, data waits to go out, or smoltcp's own
/// deadline (a retransmission, a delayed ACK) has passed.
fn due() -> bool {
    INGRESS_DUE.load(Ordering::SeqCst)
        || EGRESS_DUE.load(Ordering::SeqCst)
        || NEXT_POLL.load(Ordering::SeqCst) <= clock::monotonic_ns()
        || NET.lock().as_ref().and_then(|net| net.links.eth.as_ref()).is_some_and(|eth| eth.dev.rx_waiting())
}

/// Gets the card ready for the idle task's halt: turns its receive interrupts on. False
/// when the stack has work instead (frames wait, or data to send): poll, don't halt.
pub fn ready_to_halt() -> bool {
    let guard = NET.lock();
    let Some(net) = guard.as_ref() else { return true };
    if INGRESS_DUE.load(Ordering::SeqCst) || EGRESS_DUE.load(Ordering::SeqCst) {
        return false;
    }
    let Some(eth) = net.links.eth.as_ref() else { return true };
    eth.dev.set_rx_interrupts(true);
    // A frame that came before the device saw the change raised no interrupt.
    !eth.dev.rx_waiting()
}

/// Polls the stack if it has work ([`due`]): the idle loop, the timer tick and every
/// readiness wait of the guest (`Platform::settle_io`) call this.
pub fn poll_if_due() {
    if due() {
        poll();
    }
}

/// Works out smoltcp's next deadline for the timer ([`next_poll`]): the idle task calls
/// this before it halts, the timer tick before the guest goes on.
pub fn plan() {
    if let Some(net) = NET.lock().as_mut() {
        net.plan();
    }
}

/// Whether the VM has a network card.
pub fn have_card() -> bool {
    HAVE_CARD.load(Ordering::SeqCst)
}

/// The DNS servers for `/etc/resolv.conf` (none without a card).
pub fn nameservers() -> Vec<Vec<u8>> {
    if !have_card() {
        return Vec::new();
    }
    config::nameservers()
}

/// When smoltcp next wants a poll (monotonic ns), for the idle task's timer.
pub fn next_poll() -> u64 {
    NEXT_POLL.load(Ordering::SeqCst)
}

/// Sleeps until the stack changes after `seq` was read, `deadline` (monotonic ns)
/// passes (ETIMEDOUT), or a signal arrives for the thread (ERESTARTSYS).
pub fn wait(seq: u32, deadline: Option<u64>) -> Result<(), Errno> {
    if PLATFORM.interrupted() {
        return Err(Errno::ERESTARTSYS);
    }
    let timeout = match deadline {
        Some(d) => match d.checked_sub(clock::monotonic_ns()) {
            Some(left) if left > 0 => Some(left),
            _ => return Err(Errno::ETIMEDOUT),
        },
        None => None,
    };
    PLATFORM.wait_on(&SEQ, seq, timeout);
    if PLATFORM.interrupted() {
        return Err(Errno::ERESTARTSYS);
    }
    Ok(())
}

/// Wakes the threads blocked in socket calls (after [`SEQ`] moved).
fn wake_waiters() {
    PLATFORM.wake_all(&SEQ);
}

/// `Platform::socket`: an AF_INET or AF_INET6 socket of type `ty` (flags removed).
pub fn socket(domain: i32, ty: i32, protocol: i32) -> Result<Arc<dyn File>, Errno> {
    socket::InetSocket::open(domain, ty, protocol).map(|s| s as Arc<dyn File>)
}
