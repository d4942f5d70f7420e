//! QEMU's firmware configuration device (`fw_cfg`, docs/specs/fw_cfg.rst in QEMU):
//! named files the VMM hands the guest (`-fw_cfg name=opt/...,file=...`). unify passes
//! the run's manifest this way when it differs from the image's — one run of a kept
//! image with other arguments, environment or working directory (src/guest.rs).
//!
//! microvm has the device at I/O ports 0x510 (selector), 0x511 (data) and 0x514 (DMA
//! address, big-endian). The file directory and the file are read with one DMA
//! transfer each: byte by byte through the data port, every byte would be a trap to
//! the VMM.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use crate::paging::virt_to_phys;
use crate::port::{inb, outl, outw};

const PORT_SELECTOR: u16 = 0x510;
const PORT_DATA: u16 = 0x511;
const PORT_DMA_HIGH: u16 = 0x514;
const PORT_DMA_LOW: u16 = 0x518;

const KEY_SIGNATURE: u16 = 0x00;
const KEY_ID: u16 = 0x01;
const KEY_FILE_DIR: u16 = 0x19;
/// `KEY_ID`'s bit for the DMA interface.
const ID_DMA: u32 = 1 << 1;

const DMA_ERROR: u32 = 1 << 0;
const DMA_READ: u32 = 1 << 1;
const DMA_SELECT: u32 = 1 << 3;

/// One directory entry: size (BE32), key (BE16), reserved (BE16), name (56 bytes).
const DIR_ENTRY: usize = 64;

/// `FWCfgDmaAccess`, big-endian fields.
#[repr(C, align(16))]
struct DmaAccess {
    control: u32,
    length: u32,
    address: u64,
}

fn select(key: u16) {
    // SAFETY: fw_cfg's selector port; selecting an item has no other effect.
    unsafe { outw(PORT_SELECTOR, key) };
}

fn read_port(len: usize) -> Vec<u8> {
    // SAFETY: fw_cfg's data port: each read gives the selected item's next byte.
    (0..len).map(|_| unsafe { inb(PORT_DATA) }).collect()
}

/// Whether QEMU's fw_cfg is there, with its DMA interface.
fn present() -> bool {
    select(KEY_SIGNATURE);
    if read_port(4) != b"QEMU" {
        return false;
    }
    select(KEY_ID);
    let id = read_port(4);
    u32::from_le_bytes([id[0], id[1], id[2], id[3]]) & ID_DMA != 0
}

/// Reads `len` bytes of item `key` from its start, by DMA.
fn read_item(key: u16, len: usize) -> Option<Vec<u8>> {
    let buf = vec![0u8; len];
    let access = Box::new(DmaAccess {
        control: ((u32::from(key) << 16) | DMA_SELECT | DMA_READ).to_be(),
        length: (len as u32).to_be(),
        address: virt_to_phys(buf.as_ptr() as u64).to_be(),
    });
    let at = virt_to_phys(&*access as *const DmaAccess as u64);
    // SAFETY: the DMA address register (big-endian halves; the low half starts the
    // transfer). `access` and `buf` are heap memory in the direct map, alive until the
    // transfer is over: QEMU completes it before the port write returns.
    unsafe {
        outl(PORT_DMA_HIGH, ((at >> 32) as u32).to_be());
        outl(PORT_DMA_LOW, (at as u32).to_be());
    }
    // SAFETY: QEMU wrote the control word back; read it as the device left it.
    let control = u32::from_be(unsafe { core::ptr::read_volatile(&access.control) });
    // 0 when done; DMA_ERROR stays set on a failure.
    (control & DMA_ERROR == 0).then_some(buf)
}

/// The file `name`, if QEMU was given one.
pub fn read_file(name: &str) -> Option<Vec<u8>> {
    if !present() {
        return None;
    }
    let count = read_item(KEY_FILE_DIR, 4)?;
    let count = u32::from_be_bytes([count[0], count[1], count[2], count[3]]) as usize;
    let dir = read_item(KEY_FILE_DIR, 4 + count * DIR_ENTRY)?;
    dir[4..].chunks_exact(DIR_ENTRY).find_map(|e| {
        let end = e[8..].iter().position(|&b| b == 0).map_or(DIR_ENTRY, |n| 8 + n);
        if &e[8..end] != name.as_bytes() {
            return None;
        }
        let size = u32::from_be_bytes([e[0], e[1], e[2], e[3]]) as usize;
        let key = u16::from_be_bytes([e[4], e[5]]);
        read_item(key, size)
    })
}
