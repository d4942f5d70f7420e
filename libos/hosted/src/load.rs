//! Placing the program in the guest window: segments, syscall-site rewriting, the
//! stub area, and the initial stack.

use libos::mm::{page_up, MemoryMap, Prot, Vma, VmaKind};
use syscall_shim::rewrite::{self, CodeRegion};
use unify_loader::{ElfKind, LoadPlan};

use crate::entry::unify_syscall_entry;
use crate::layout::{GUEST_LO, PIE_BASE, STUB_AREA_SIZE};
use crate::platform::host_map;
use crate::stats;
use crate::HostedError;

/// What the loaded program looks like in memory.
pub struct LoadedImage {
    pub base: u64,
    pub entry: u64,
    /// Page-aligned end of everything placed (the `brk` heap starts here).
    pub end: u64,
}

/// Loads `plan` from `bytes`, rewriting syscall sites when `rewrite_sites` is set.
pub fn load_image(
    mm: &mut MemoryMap,
    plan: &LoadPlan,
    bytes: &[u8],
    rewrite_sites: bool,
) -> Result<LoadedImage, HostedError> {
    let base = match plan.kind {
        ElfKind::Exec => 0,
        ElfKind::StaticPie => PIE_BASE,
    };
    let start = base + plan.span_start;
    let end = base + plan.span_end;
    let (lo, hi) = mm.window();
    if start < lo || end > hi {
        return Err(HostedError::Layout(format!(
            "the program wants addresses {start:#x}..{end:#x}, outside the guest window"
        )));
    }
    host_map(start, end - start, libc::PROT_READ | libc::PROT_WRITE)
        .map_err(|_| HostedError::Layout("cannot map the program image".into()))?;
    plan.copy_segments(
        bytes,
        base,
        |addr, data| {
            // SAFETY: `[addr, addr+len)` lies inside the span just mapped read-write
            // (the loader validated every segment against the span).
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) }
        },
        |addr, len| {
            // SAFETY: as above.
            unsafe { std::ptr::write_bytes(addr as *mut u8, 0, len as usize) }
        },
    );

    let mut image_end = end;
    if rewrite_sites {
        image_end = rewrite(mm, plan, base, start, end)?;
    }

    // Final protections, region by region (a page two segments share gets both
    // segments' permissions); pages no segment covers stay unmapped.
    let covered =
        plan.page_regions(base).into_iter().map(|r| (r.start, r.end, Prot::from_bits_truncate(r.prot.to_mmap_prot())));
    let mut cursor = start;
    for (s, e, prot) in covered {
        if s > cursor {
            host_map(cursor, s - cursor, libc::PROT_NONE).ok();
        }
        // SAFETY: inside the image span mapped above.
        unsafe { libc::mprotect(s as *mut _, (e - s) as usize, prot.bits() as i32) };
        mm.record(Vma { start: s, end: e, prot, shared: false, kind: VmaKind::Image })
            .map_err(|e| HostedError::Layout(format!("program segments overlap in memory ({})", e.name())))?;
        cursor = e;
    }
    Ok(LoadedImage { base, entry: base + plan.entry, end: image_end })
}

/// Rewrites the syscall sites of the executable segments and maps the stub area after
/// the image. Returns the new end of what was placed.
fn rewrite(mm: &mut MemoryMap, plan: &LoadPlan, base: u64, start: u64, end: u64) -> Result<u64, HostedError> {
    let stub_base = end;
    let regions: Vec<CodeRegion<'_>> = plan
        .segments
        .iter()
        .filter(|s| s.prot.exec && s.filesz > 0)
        .map(|s| CodeRegion {
            addr: base + s.vaddr,
            // SAFETY: the image span is mapped read-write and holds this segment's file
            // bytes (copied above); the views are dropped before the patches are written.
            bytes: unsafe { std::slice::from_raw_parts((base + s.vaddr) as *const u8, s.filesz as usize) },
        })
        .collect();
    let (result, cached) = crate::plan_cache::plan(&regions, stub_base, STUB_AREA_SIZE as usize);
    drop(regions);
    stats::set_sites(result.sites, result.patches.len());
    stats::set_plan_cached(cached);
    if result.patches.is_empty() {
        return Ok(end);
    }
    syscall_shim::site_map::register(&result.resumes);
    let stub_len = page_up(rewrite::ENTRY_SLOT_SIZE + result.stubs.len() as u64).unwrap_or(STUB_AREA_SIZE);
    if stub_base < GUEST_LO || mm.overlaps(stub_base, stub_base + stub_len) {
        return Err(HostedError::Layout("no room for the syscall stubs next to the program".into()));
    }
    host_map(stub_base, stub_len, libc::PROT_READ | libc::PROT_WRITE)
        .map_err(|_| HostedError::Layout("cannot map the syscall stubs".into()))?;
    let entry = unify_syscall_entry as *const () as u64;
    // SAFETY: the stub area was just mapped read-write with room for the slot and the
    // per-site code; the patches lie in the image span, still read-write (protections are set
    // after this returns); both were planned inside those ranges.
    unsafe {
        std::ptr::write(stub_base as *mut u64, entry);
        let code = (stub_base + rewrite::ENTRY_SLOT_SIZE) as *mut u8;
        std::ptr::copy_nonoverlapping(result.stubs.as_ptr(), code, result.stubs.len());
        for patch in &result.patches {
            debug_assert!(patch.addr >= start && patch.addr + patch.bytes.len() as u64 <= end);
            std::ptr::copy_nonoverlapping(patch.bytes.as_ptr(), patch.addr as *mut u8, patch.bytes.len());
        }
        libc::mprotect(stub_base as *mut _, stub_len as usize, libc::PROT_READ | libc::PROT_EXEC);
    }
    mm.record(Vma {
        start: stub_base,
        end: stub_base + stub_len,
        prot: Prot::READ.union(Prot::EXEC),
        shared: false,
        kind: VmaKind::Stubs,
    })
    .map_err(|_| HostedError::Layout("the syscall stubs overlap the program".into()))?;
    Ok(stub_base + stub_len)
}
