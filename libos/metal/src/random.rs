//! Random bytes for the guest (`getrandom`, `/dev/urandom`, AT_RANDOM): from the host
//! through virtio-rng when the VM has the device (unify adds it), else RDRAND when the
//! CPU has it, else a xorshift generator seeded from the TSC and the wall clock. The
//! last is not cryptographic; it is said once in the kernel log.

use alloc::vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use spin::Mutex;
use virtio_drivers::device::rng::VirtIORng;
use virtio_drivers::transport::mmio::MmioTransport;

use crate::cpu::{cpuid, rdtsc};
use crate::dma::KernelHal;

type Device = VirtIORng<KernelHal, MmioTransport<'static>>;

static DEVICE: Mutex<Option<Device>> = Mutex::new(None);

/// Takes the virtio entropy device (src/virtio.rs found it).
pub fn set_device(device: Device) {
    *DEVICE.lock() = Some(device);
}

/// Fills `buf` from the virtio device, through a heap bounce buffer (the device writes
/// physical memory; `buf` may be guest memory). False if there is no device or it fails.
fn from_device(buf: &mut [u8]) -> bool {
    let mut device = DEVICE.lock();
    let Some(rng) = device.as_mut() else { return false };
    let mut bounce = vec![0u8; buf.len().min(4096)];
    let mut done = 0;
    while done < buf.len() {
        let want = (buf.len() - done).min(bounce.len());
        match rng.request_entropy(&mut bounce[..want]) {
            Ok(n) if n > 0 => {
                buf[done..done + n].copy_from_slice(&bounce[..n]);
                done += n;
            }
            _ => return false,
        }
    }
    true
}

static STATE: AtomicU64 = AtomicU64::new(0);
static WARNED: AtomicBool = AtomicBool::new(false);

fn has_rdrand() -> bool {
    cpuid(1, 0).ecx & (1 << 30) != 0
}

fn rdrand() -> Option<u64> {
    for _ in 0..10 {
        let (v, ok): (u64, u8);
        // SAFETY: RDRAND exists (checked by the caller through CPUID); it only writes
        // the output register and CF.
        unsafe { core::arch::asm!("rdrand {}", "setc {}", out(reg) v, out(reg_byte) ok, options(nomem, nostack)) };
        if ok != 0 {
            return Some(v);
        }
    }
    None
}

fn xorshift() -> u64 {
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = rdtsc() ^ crate::clock::realtime_ns().rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    x
}

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    if from_device(buf) {
        return;
    }
    let hw = has_rdrand();
    if !hw && !WARNED.swap(true, Ordering::Relaxed) {
        crate::kprintln!("random: no RDRAND; guest randomness comes from a TSC-seeded generator");
    }
    for chunk in buf.chunks_mut(8) {
        let v = if hw { rdrand().unwrap_or_else(xorshift) } else { xorshift() };
        chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
    }
}
