//! virtio-mmio discovery; the first virtio-blk device becomes the root filesystem's.
//!
//! QEMU's microvm describes each virtio-mmio transport that has a device plugged in on the
//! kernel command line, as Linux expects: `virtio_mmio.device=512@0xfeb00e00:12`
//! (SIZE@BASE:IRQ) — but only with ACPI off (`-M microvm,acpi=off`); with ACPI on it lists
//! them in the DSDT only, which this kernel does not read. Each is probed through `virtio-drivers`; for a block device the
//! kernel reads sector 0 and logs its first bytes, which is what the boot tests check.
//! The drivers are polled (interrupts are not enabled yet).

use crate::disk::VirtioDisk;
use crate::dma::KernelHal;
use crate::kprintln;
use core::ptr::NonNull;
use virtio_drivers::device::blk::{VirtIOBlk, SECTOR_SIZE};
use virtio_drivers::device::rng::VirtIORng;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};

/// One `virtio_mmio.device=` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmioDevice {
    pub base: u64,
    pub size: u64,
    pub irq: u32,
}

/// Parses Linux's `SIZE@BASE:IRQ[:ID]`: SIZE takes a K/M/G suffix; numbers are decimal or
/// 0x-prefixed hexadecimal.
pub fn parse_mmio_device(value: &str) -> Option<MmioDevice> {
    let (size, rest) = value.split_once('@')?;
    let (base, rest) = rest.split_once(':')?;
    let irq = rest.split(':').next()?;
    let size = match size.as_bytes().last()? {
        b'k' | b'K' => parse_number(&size[..size.len() - 1])?.checked_mul(1 << 10)?,
        b'm' | b'M' => parse_number(&size[..size.len() - 1])?.checked_mul(1 << 20)?,
        b'g' | b'G' => parse_number(&size[..size.len() - 1])?.checked_mul(1 << 30)?,
        _ => parse_number(size)?,
    };
    let dev = MmioDevice { base: parse_number(base)?, size, irq: u32::try_from(parse_number(irq)?).ok()? };
    (dev.size != 0 && dev.base.checked_add(dev.size).is_some()).then_some(dev)
}

fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Probes every transport; reads sector 0 of each block device and returns the first
/// one (the root filesystem). `acpi` says whether the loader passed an ACPI RSDP (then
/// microvm describes its transports there instead).
pub fn probe_all(devices: impl Iterator<Item = MmioDevice>, acpi: bool) -> Option<VirtioDisk> {
    let mut found = 0;
    let mut root = None;
    for dev in devices {
        found += 1;
        if dev.base.saturating_add(dev.size) > crate::memory::MAPPED_LIMIT {
            kprintln!("virtio-mmio: {:#x}: above the direct-mapped 4 GiB, skipped", dev.base);
            continue;
        }
        let Some(header) = NonNull::new(crate::paging::phys_to_virt(dev.base) as *mut VirtIOHeader) else { continue };
        // SAFETY: the VMM describes a virtio-mmio region at this address and size; it is
        // direct-mapped, and this is the only transport created over it.
        let transport = match unsafe { MmioTransport::new(header, dev.size as usize) } {
            Ok(t) => t,
            Err(e) => {
                kprintln!("virtio-mmio: {:#x} (irq {}): {e}", dev.base, dev.irq);
                continue;
            }
        };
        let kind = transport.device_type();
        kprintln!("virtio-mmio: {:#x} (irq {}): {kind:?} device, version {:?}", dev.base, dev.irq, transport.version());
        if kind == DeviceType::Block && root.is_none() {
            root = open_block(transport);
        } else if kind == DeviceType::Network {
            crate::net::attach(transport, dev.base, dev.irq);
        } else if kind == DeviceType::EntropySource {
            match VirtIORng::<KernelHal, _>::new(transport) {
                Ok(rng) => crate::random::set_device(rng),
                Err(e) => kprintln!("virtio-rng: initialisation failed: {e}"),
            }
        }
    }
    if found == 0 {
        let hint = if acpi { " (with ACPI on, microvm lists them only in ACPI: use -M microvm,acpi=off)" } else { "" };
        kprintln!("virtio-mmio: no transports on the command line{hint}");
    }
    root
}

/// Starts a block device and logs its size and the start of sector 0.
fn open_block(transport: MmioTransport<'static>) -> Option<VirtioDisk> {
    let mut blk = match VirtIOBlk::<KernelHal, _>::new(transport) {
        Ok(blk) => blk,
        Err(e) => {
            kprintln!("virtio-blk: initialisation failed: {e}");
            return None;
        }
    };
    let capacity = blk.capacity();
    kprintln!("virtio-blk: {capacity} sectors ({} KiB)", capacity * SECTOR_SIZE as u64 / 1024);
    let mut sector = [0u8; SECTOR_SIZE];
    if let Err(e) = blk.read_blocks(0, &mut sector) {
        kprintln!("virtio-blk: reading sector 0 failed: {e}");
        return None;
    }
    crate::kprint!("virtio-blk: sector 0:");
    for b in &sector[..16] {
        crate::kprint!(" {b:02x}");
    }
    kprintln!(" ... {:02x} {:02x}", sector[510], sector[511]);
    Some(VirtioDisk::new(blk))
}
