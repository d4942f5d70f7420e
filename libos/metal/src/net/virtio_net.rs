//! The virtio-net card's two queues, driven the way Linux's virtio-net driver drives
//! them: frames are added to a queue without telling the device, and the device is
//! told once per poll ([`NetQueues::kick`]), only if it asked to be (it clears
//! `VRING_USED_F_NO_NOTIFY` when it waits for more); sent frames raise no interrupt
//! (their buffers are taken back at the next poll); received frames interrupt only
//! while the CPU would otherwise not look ([`NetQueues::set_rx_interrupts`]: the idle
//! task turns them on before it halts).
//!
//! Why not `virtio_drivers::device::net::VirtIONetRaw`: it notifies the device for
//! every buffer it adds, and with `VIRTIO_F_EVENT_IDX` (which it always negotiates) its
//! check of the device's `avail_event` is true whenever the device has stopped updating
//! that index — always, for QEMU's receive queue — and it offers no way to turn used-
//! buffer interrupts off. Each notification is a trap to the VMM, which under QEMU
//! also takes its big lock, often held by the thread running the user network; a
//! small HTTP request paid several. The queues themselves are `virtio_drivers`'
//! [`VirtQueue`], without `EVENT_IDX` (the flags in the rings then carry the
//! suppression both ways).

use bitflags::bitflags;
use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::mmio::MmioTransport;
use virtio_drivers::transport::Transport;
use virtio_drivers::Error;

use crate::dma::KernelHal;

/// Descriptors per virtqueue (receive and transmit each).
pub const QUEUE: usize = 64;

const QUEUE_RECEIVE: u16 = 0;
const QUEUE_TRANSMIT: u16 = 1;

bitflags! {
    /// The virtio-net feature bits this driver takes (virtio 1.2, 5.1.3).
    #[derive(Copy, Clone, Debug, Default, Eq, PartialEq)]
    struct Features: u64 {
        const MAC = 1 << 5;
        const MRG_RXBUF = 1 << 15;
        const VERSION_1 = 1 << 32;
    }
}

/// The two queues and the transport.
pub struct NetQueues {
    transport: MmioTransport<'static>,
    rx: VirtQueue<KernelHal, QUEUE>,
    tx: VirtQueue<KernelHal, QUEUE>,
    mac: [u8; 6],
    /// The size of the `virtio_net_hdr` before each frame: 12 bytes, or 10 for a
    /// legacy device without mergeable receive buffers.
    header: usize,
    /// Buffers were added to a queue since the device was last told.
    rx_added: bool,
    tx_added: bool,
}

impl NetQueues {
    /// Initialises the card: features, MAC address, both queues; no interrupts for sent
    /// frames.
    pub fn new(mut transport: MmioTransport<'static>) -> Result<NetQueues, Error> {
        // MRG_RXBUF is not asked for: every receive buffer holds a whole frame.
        let features = transport.begin_init(Features::MAC | Features::VERSION_1);
        let mut mac = [0u8; 6];
        for (i, b) in mac.iter_mut().enumerate() {
            *b = transport.read_config_space::<u8>(i)?;
        }
        let tx = VirtQueue::new(&mut transport, QUEUE_TRANSMIT, false, false)?;
        let rx = VirtQueue::new(&mut transport, QUEUE_RECEIVE, false, false)?;
        transport.finish_init();
        let header = if features.contains(Features::VERSION_1) { 12 } else { 10 };
        let mut queues = NetQueues { transport, rx, tx, mac, header, rx_added: false, tx_added: false };
        queues.tx.set_dev_notify(false);
        queues.rx.set_dev_notify(false);
        Ok(queues)
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Bytes of `virtio_net_hdr` before each frame, sent and received.
    pub fn header_len(&self) -> usize {
        self.header
    }

    /// Hands `buf` to the device to receive a frame into (told at the next [`kick`]).
    ///
    /// # Safety
    /// `buf` must stay where it is, untouched, until [`Self::take_received`] gives its
    /// token back.
    ///
    /// [`kick`]: Self::kick
    pub unsafe fn post(&mut self, buf: &mut [u8]) -> Result<u16, Error> {
        // SAFETY: the caller keeps the buffer for the device until it is used.
        let token = unsafe { self.rx.add(&[], &mut [buf])? };
        self.rx_added = true;
        Ok(token)
    }

    /// Queues `frame` (its header included) to send (told at the next [`kick`]).
    ///
    /// # Safety
    /// `frame` must stay where it is, untouched, until [`Self::take_sent`] gives its
    /// token back.
    ///
    /// [`kick`]: Self::kick
    pub unsafe fn send(&mut self, frame: &[u8]) -> Result<u16, Error> {
        // SAFETY: the caller keeps the buffer for the device until it is used.
        let token = unsafe { self.tx.add(&[frame], &mut [])? };
        self.tx_added = true;
        Ok(token)
    }

    /// Whether a frame can be queued to send.
    pub fn can_send(&self) -> bool {
        self.tx.available_desc() >= 1
    }

    /// Tells the device about buffers added since the last call, on each queue where it
    /// has not said it needs no telling.
    pub fn kick(&mut self) {
        if core::mem::take(&mut self.tx_added) && self.tx.should_notify() {
            self.transport.notify(QUEUE_TRANSMIT);
        }
        if core::mem::take(&mut self.rx_added) && self.rx.should_notify() {
            self.transport.notify(QUEUE_RECEIVE);
        }
    }

    /// The token of the next received frame, if one is there.
    pub fn peek_received(&self) -> Option<u16> {
        self.rx.peek_used()
    }

    /// Takes back the buffer of received frame `token`: the frame's length with its
    /// header.
    ///
    /// # Safety
    /// `buf` must be the buffer posted under `token`.
    pub unsafe fn take_received(&mut self, token: u16, buf: &mut [u8]) -> Result<usize, Error> {
        // SAFETY: the caller passes the buffer that was posted under this token.
        unsafe { self.rx.pop_used(token, &[], &mut [buf]) }.map(|n| n as usize)
    }

    /// The token of the next frame the device has sent, if any.
    pub fn peek_sent(&self) -> Option<u16> {
        self.tx.peek_used()
    }

    /// Takes back the buffer of sent frame `token`.
    ///
    /// # Safety
    /// `frame` must be the buffer queued under `token`.
    pub unsafe fn take_sent(&mut self, token: u16, frame: &[u8]) -> Result<(), Error> {
        // SAFETY: the caller passes the buffer that was queued under this token.
        unsafe { self.tx.pop_used(token, &[frame], &mut []) }.map(|_| ())
    }

    /// Asks for an interrupt when a frame comes, or not (a hint the device may take
    /// late: whoever turns them on looks at the ring afterwards).
    pub fn set_rx_interrupts(&mut self, on: bool) {
        self.rx.set_dev_notify(on);
    }
}
