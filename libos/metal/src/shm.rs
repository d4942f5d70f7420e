//! Shareable memory objects: the pages of a mapped file (`Platform::shm_*`, see
//! libos/core/src/mm/filemap.rs), the VM's counterpart of the hosted platform's memfds.
//!
//! An object is a list of frames, allocated when first needed. A shared mapping puts
//! the object's own frames in the guest's page tables (marked [`pte::SHARED`]), so every
//! shared mapping and the object's reads and writes see the same bytes; a private
//! mapping gets a copy of the object's pages as they are when it is made. Shared frames
//! are reference-counted (the object and each mapping hold one) and freed with the last.
//!
//! When an object shrinks (a mapped file truncated), the pages past its new end leave
//! every shared mapping of it and are marked [`pte::BUS`]: touching them is SIGBUS, as
//! on Linux; a mapping made longer than its object gets the same marks from the start.
//! Known difference: a mapping moved by `mremap` is no longer found by a later shrink.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use libos::mm::Prot;
use libos::platform::ShmId;
use libos::Errno;
use spin::Mutex;

use crate::guest_memory::{self, alloc_frame, flags, free_frame, is_none, leaf_creating};
use crate::paging::{self, phys_to_virt, pte, PAGE};

struct Object {
    len: u64,
    /// Page index → frame (0: not allocated yet, reads as zeros).
    pages: Vec<u64>,
    /// Shared mappings made of it: (guest address, object offset, length).
    mappings: Vec<(u64, u64, u64)>,
}

struct Objects {
    next: ShmId,
    live: BTreeMap<ShmId, Object>,
}

static OBJECTS: Mutex<Objects> = Mutex::new(Objects { next: 1, live: BTreeMap::new() });
/// Holders of each shared frame.
static REFS: Mutex<BTreeMap<u64, u32>> = Mutex::new(BTreeMap::new());

fn add_ref(phys: u64) {
    *REFS.lock().entry(phys).or_insert(0) += 1;
}

/// Drops one holder of shared frame `phys`; frees it with the last.
pub fn unref(phys: u64) {
    let last = {
        let mut refs = REFS.lock();
        match refs.get_mut(&phys) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                refs.remove(&phys);
                true
            }
            None => true, // never counted: a lone holder
        }
    };
    if last {
        free_frame(phys);
    }
}

fn page_bytes(phys: u64) -> &'static mut [u8] {
    // SAFETY: a frame of an object, in the direct map; the kernel is the only writer
    // while it serves this call (one CPU, no preemption in the kernel).
    unsafe { core::slice::from_raw_parts_mut(phys_to_virt(phys) as *mut u8, PAGE as usize) }
}

impl Object {
    /// The frame of page `index`, allocated (zeroed) if need be.
    fn frame(&mut self, index: usize) -> Result<u64, Errno> {
        if self.pages[index] == 0 {
            let phys = alloc_frame().ok_or(Errno::ENOMEM)?;
            add_ref(phys);
            self.pages[index] = phys;
        }
        Ok(self.pages[index])
    }
}

pub fn create(len: u64) -> Result<ShmId, Errno> {
    let mut objects = OBJECTS.lock();
    let id = objects.next;
    objects.next += 1;
    objects.live.insert(id, Object { len, pages: vec![0; len.div_ceil(PAGE) as usize], mappings: Vec::new() });
    Ok(id)
}

pub fn resize(id: ShmId, len: u64) -> Result<(), Errno> {
    let mut objects = OBJECTS.lock();
    let obj = objects.live.get_mut(&id).ok_or(Errno::EINVAL)?;
    let pages = len.div_ceil(PAGE) as usize;
    if pages < obj.pages.len() {
        for phys in obj.pages.drain(pages..).filter(|&p| p != 0) {
            unref(phys);
        }
        // Pages past the new end leave the shared mappings: SIGBUS from now on.
        let end = pages as u64 * PAGE;
        for &(addr, offset, mlen) in &obj.mappings {
            let from = end.max(offset);
            if from < offset + mlen {
                mark_past_end(addr + (from - offset), offset + mlen - from);
            }
        }
    } else {
        obj.pages.resize(pages, 0);
    }
    obj.len = len;
    Ok(())
}

fn mark_past_end(addr: u64, len: u64) {
    guest_memory::for_each_frame(addr, addr + len, |va, entry| {
        // SAFETY: a live leaf entry.
        let value = unsafe { entry.replace(pte::BUS) };
        paging::flush(va);
        guest_memory::release_entry(value);
    });
}

pub fn read(id: ShmId, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
    let objects = OBJECTS.lock();
    let obj = objects.live.get(&id).ok_or(Errno::EINVAL)?;
    let mut done = 0;
    while done < buf.len() {
        let at = offset + done as u64;
        let (index, skip) = ((at / PAGE) as usize, (at % PAGE) as usize);
        let n = (PAGE as usize - skip).min(buf.len() - done);
        match obj.pages.get(index) {
            Some(&phys) if phys != 0 => buf[done..done + n].copy_from_slice(&page_bytes(phys)[skip..skip + n]),
            Some(_) => buf[done..done + n].fill(0),
            None => return Err(Errno::EINVAL),
        }
        done += n;
    }
    Ok(())
}

pub fn write(id: ShmId, offset: u64, data: &[u8]) -> Result<(), Errno> {
    let mut objects = OBJECTS.lock();
    let obj = objects.live.get_mut(&id).ok_or(Errno::EINVAL)?;
    let mut done = 0;
    while done < data.len() {
        let at = offset + done as u64;
        let (index, skip) = ((at / PAGE) as usize, (at % PAGE) as usize);
        let n = (PAGE as usize - skip).min(data.len() - done);
        if index >= obj.pages.len() {
            return Err(Errno::EINVAL);
        }
        let phys = obj.frame(index)?;
        page_bytes(phys)[skip..skip + n].copy_from_slice(&data[done..done + n]);
        done += n;
    }
    Ok(())
}

pub fn map(id: ShmId, offset: u64, addr: u64, len: u64, prot: Prot, shared: bool) -> Result<(), Errno> {
    guest_memory::map_anonymous(addr, len, prot)?;
    let mut objects = OBJECTS.lock();
    let obj = objects.live.get_mut(&id).ok_or(Errno::EINVAL)?;
    let mut i = 0;
    while i < len {
        let (va, index) = (addr + i, ((offset + i) / PAGE) as usize);
        let entry = leaf_creating(va).ok_or(Errno::ENOMEM)?;
        let value = if index >= obj.pages.len() {
            pte::BUS
        } else if shared {
            let phys = obj.frame(index)?;
            add_ref(phys);
            let bits = if is_none(prot) { pte::KEPT } else { flags(prot) };
            phys | bits | pte::SHARED
        } else {
            let phys = alloc_frame().ok_or(Errno::ENOMEM)?;
            if obj.pages[index] != 0 {
                page_bytes(phys).copy_from_slice(page_bytes(obj.pages[index]));
            }
            phys | if is_none(prot) { pte::KEPT } else { flags(prot) }
        };
        // SAFETY: a live leaf entry, emptied by map_anonymous above.
        unsafe { *entry = value };
        paging::flush(va);
        i += PAGE;
    }
    if shared {
        obj.mappings.push((addr, offset, len));
    }
    Ok(())
}

pub fn release(id: ShmId) {
    let obj = OBJECTS.lock().live.remove(&id);
    for phys in obj.into_iter().flat_map(|o| o.pages).filter(|&p| p != 0) {
        unref(phys);
    }
}
