//! The two links under the guest's IP stack, as smoltcp [`Device`]s.
//!
//! - [`VirtioNet`]: the virtio-net card (QEMU's `-device virtio-net-device`), an Ethernet
//!   link, over its queues (virtio_net.rs). Receive buffers are posted to the device up
//!   front and handed back to it as soon as smoltcp has read the frame; a frame to send
//!   is written into a buffer of a small free list and queued without waiting for it
//!   (its buffer comes back to the list when the device reports it sent, the next time
//!   the driver is polled). The device hears of both once per poll ([`VirtioNet::kick`]).
//!   When every transmit descriptor is busy, [`Device::transmit`] says so and smoltcp
//!   keeps its data for the next poll.
//! - [`Loopback`]: `lo`, a queue of IP packets (no link header, 64 KiB MTU as Linux's
//!   `lo`), what the guest's sockets on 127.0.0.1 and ::1 talk over.
//!
//! smoltcp asks for a receive token and a transmit token together (the transmit token
//! answers the received packet: an ARP reply, a TCP RST), and uses the transmit token
//! from inside the receive token's closure. So the tokens share the driver through a
//! `RefCell`, and neither keeps it borrowed while smoltcp's closure runs: the received
//! frame's buffer is taken out of the driver first and given back when the token drops.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use virtio_drivers::transport::mmio::MmioTransport;

use super::virtio_net::{NetQueues, QUEUE};

/// One buffer: the virtio-net header (12 bytes) and a full Ethernet frame (1514).
const BUF_LEN: usize = 2048;
/// An Ethernet frame without its FCS: 1500 bytes of IP and the 14-byte header.
const ETHERNET_MTU: usize = 1514;

/// The virtio-net card.
pub struct VirtioNet {
    inner: RefCell<Driver>,
    mac: [u8; 6],
}

struct Driver {
    raw: NetQueues,
    /// Receive buffers the device holds, by the token it named them with.
    posted: Vec<Option<Box<[u8]>>>,
    /// Frames the device is sending, by token, with the length handed over.
    sending: Vec<Option<(Box<[u8]>, usize)>>,
    /// Transmit buffers free for the next frame.
    spare: Vec<Box<[u8]>>,
    stats: Stats,
}

/// What the card has done, for the kernel log.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Stats {
    pub received: u64,
    pub sent: u64,
    /// Frames dropped because the transmit queue was full when they were written.
    pub dropped: u64,
    /// Times smoltcp was told the transmit queue was full.
    pub busy: u64,
}

impl Stats {
    pub const ZERO: Stats = Stats { received: 0, sent: 0, dropped: 0, busy: 0 };
}

// SAFETY: the driver is only used under the network stack's lock (src/net/mod.rs), on
// the one CPU; the MMIO transport's pointers are to the device's own registers.
unsafe impl Send for VirtioNet {}

impl VirtioNet {
    /// Starts the card on `transport`; posts every receive buffer.
    pub fn new(transport: MmioTransport<'static>) -> Result<VirtioNet, virtio_drivers::Error> {
        let raw = NetQueues::new(transport)?;
        let mac = raw.mac();
        let mut driver = Driver {
            raw,
            posted: (0..QUEUE).map(|_| None).collect(),
            sending: (0..QUEUE).map(|_| None).collect(),
            spare: Vec::new(),
            stats: Stats::default(),
        };
        for _ in 0..QUEUE {
            driver.post(vec![0u8; BUF_LEN].into_boxed_slice());
        }
        Ok(VirtioNet { inner: RefCell::new(driver), mac })
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    pub fn stats(&self) -> Stats {
        self.inner.borrow().stats
    }

    /// Whether a received frame waits in the ring.
    pub fn rx_waiting(&self) -> bool {
        self.inner.borrow().raw.peek_received().is_some()
    }

    /// Tells the device about the buffers posted and frames queued since the last call.
    pub fn kick(&self) {
        self.inner.borrow_mut().raw.kick();
    }

    /// Asks the card to interrupt when a frame comes (the idle task, before it halts),
    /// or not to (while the CPU polls anyway).
    pub fn set_rx_interrupts(&self, on: bool) {
        self.inner.borrow_mut().raw.set_rx_interrupts(on);
    }
}

impl Driver {
    /// Hands a receive buffer to the device.
    fn post(&mut self, mut buf: Box<[u8]>) {
        // SAFETY: the buffer is kept in `posted` under the token and not touched until the
        // device reports it used (`receive`), and a boxed slice never moves.
        match unsafe { self.raw.post(&mut buf) } {
            Ok(token) => self.posted[usize::from(token)] = Some(buf),
            Err(e) => crate::kprintln!("virtio-net: a receive buffer was refused: {e}"),
        }
    }

    /// Takes back the buffers of frames the device has sent.
    fn reclaim(&mut self) {
        while let Some(token) = self.raw.peek_sent() {
            let Some((buf, len)) = self.sending.get_mut(usize::from(token)).and_then(Option::take) else {
                crate::kprintln!("virtio-net: the device completed an unknown transmit token {token}");
                return;
            };
            // SAFETY: the same buffer and length as handed to `transmit_begin` for this token.
            let _ = unsafe { self.raw.take_sent(token, &buf[..len]) };
            self.spare.push(buf);
        }
    }
}

/// A received frame; its buffer goes back to the device when the token drops.
pub struct VirtioRx<'a> {
    dev: &'a RefCell<Driver>,
    buf: Option<Box<[u8]>>,
    start: usize,
    len: usize,
}

/// Room for one frame to send.
pub struct VirtioTx<'a> {
    dev: &'a RefCell<Driver>,
}

impl phy::RxToken for VirtioRx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(mut self, f: F) -> R {
        let buf = self.buf.take().expect("a received buffer");
        let r = f(&buf[self.start..self.start + self.len]);
        self.dev.borrow_mut().post(buf);
        r
    }
}

impl Drop for VirtioRx<'_> {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            self.dev.borrow_mut().post(buf);
        }
    }
}

impl phy::TxToken for VirtioTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let (mut buf, header) = {
            let mut d = self.dev.borrow_mut();
            d.reclaim();
            let mut buf = d.spare.pop().unwrap_or_else(|| vec![0u8; BUF_LEN].into_boxed_slice());
            if buf.len() < len + 64 {
                buf = vec![0u8; len + 64].into_boxed_slice();
            }
            // No offloads: the header is all zeros.
            let header = d.raw.header_len();
            buf[..header].fill(0);
            (buf, header)
        };
        let r = f(&mut buf[header..header + len]);
        let total = header + len;
        let mut d = self.dev.borrow_mut();
        // SAFETY: the buffer is kept in `sending` under the token, untouched until the
        // device reports it sent (`reclaim`); a boxed slice never moves.
        match unsafe { d.raw.send(&buf[..total]) } {
            Ok(token) => {
                d.sending[usize::from(token)] = Some((buf, total));
                d.stats.sent += 1;
            }
            Err(_) => {
                d.stats.dropped += 1;
                d.spare.push(buf);
            }
        }
        r
    }
}

impl Device for VirtioNet {
    type RxToken<'a> = VirtioRx<'a>;
    type TxToken<'a> = VirtioTx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(VirtioRx<'_>, VirtioTx<'_>)> {
        let mut d = self.inner.borrow_mut();
        d.reclaim();
        let token = d.raw.peek_received()?;
        let mut buf = d.posted.get_mut(usize::from(token)).and_then(Option::take)?;
        // SAFETY: the buffer posted under this token.
        let done = unsafe { d.raw.take_received(token, &mut buf) };
        let start = d.raw.header_len();
        let len = match done {
            Ok(total) if total >= start => total - start,
            _ => {
                d.post(buf);
                return None;
            }
        };
        d.stats.received += 1;
        drop(d);
        Some((VirtioRx { dev: &self.inner, buf: Some(buf), start, len }, VirtioTx { dev: &self.inner }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<VirtioTx<'_>> {
        let mut d = self.inner.borrow_mut();
        d.reclaim();
        if !d.raw.can_send() {
            d.stats.busy += 1;
            return None;
        }
        drop(d);
        Some(VirtioTx { dev: &self.inner })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = ETHERNET_MTU;
        caps
    }
}

/// `lo`: IP packets sent are received, in order.
#[derive(Default)]
pub struct Loopback {
    queue: VecDeque<Vec<u8>>,
}

impl Loopback {
    /// Whether packets wait to be received.
    pub fn pending(&self) -> bool {
        !self.queue.is_empty()
    }
}

pub struct LoopRx(Vec<u8>);

pub struct LoopTx<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for LoopRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for LoopTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut packet = vec![0u8; len];
        let r = f(&mut packet);
        self.0.push_back(packet);
        r
    }
}

impl Device for Loopback {
    type RxToken<'a> = LoopRx;
    type TxToken<'a> = LoopTx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(LoopRx, LoopTx<'_>)> {
        let packet = self.queue.pop_front()?;
        Some((LoopRx(packet), LoopTx(&mut self.queue)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<LoopTx<'_>> {
        Some(LoopTx(&mut self.queue))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 65535;
        // Nothing corrupts a packet in memory: no checksums either way, as Linux's lo
        // (NETIF_F_LOOPBACK with checksums offloaded).
        caps.checksum = ChecksumCapabilities::ignored();
        caps
    }
}
