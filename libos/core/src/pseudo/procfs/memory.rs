//! The process's memory, measured once for `status`, `stat` and `statm`.
//!
//! Sizes come from the memory map; resident sizes from the platform's `mincore`
//! answer for each mapping (what the hardware really holds). The libOS keeps no
//! history, so the peaks Linux reports (`VmPeak`, `VmHWM`) are the current values.

use crate::mm::{VmaKind, PAGE_SIZE};
use crate::Kernel;

/// What the process's mappings add up to, in bytes (addresses for the ranges).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct MemoryUse {
    /// Everything mapped (`VmSize`).
    pub size: u64,
    /// Resident anonymous memory (`RssAnon`).
    pub rss_anon: u64,
    /// Resident pages of the program image (`RssFile`).
    pub rss_file: u64,
    /// Private writable memory other than the stack (`VmData`).
    pub data: u64,
    /// The main thread's stack (`VmStk`).
    pub stack: u64,
    /// The program's executable segments: `[start_code, end_code)`.
    pub code: (u64, u64),
    /// The program's writable segments: `[start_data, end_data)`.
    pub data_segment: (u64, u64),
    /// Where the `brk` heap starts.
    pub brk_start: u64,
    /// The top of the main thread's stack.
    pub stack_top: u64,
}

impl MemoryUse {
    pub fn rss(&self) -> u64 {
        self.rss_anon + self.rss_file
    }

    /// `VmExe`: the executable segments, in bytes.
    pub fn exe(&self) -> u64 {
        self.code.1 - self.code.0
    }
}

/// Pages asked about per `residency` call.
const RESIDENCY_CHUNK: u64 = 16 * 1024;

/// Measures `k`'s address space now.
pub(super) fn measure(k: &Kernel) -> MemoryUse {
    let mm = k.mm.read();
    let mut use_ = MemoryUse { brk_start: mm.current_brk(), ..MemoryUse::default() };
    let mut code: Option<(u64, u64)> = None;
    let mut data: Option<(u64, u64)> = None;
    let widen = |r: &mut Option<(u64, u64)>, s: u64, e: u64| {
        *r = Some(r.map_or((s, e), |(a, b)| (a.min(s), b.max(e))));
    };
    let mut pages = alloc::vec![0u8; RESIDENCY_CHUNK as usize];
    for vma in mm.vmas() {
        use_.size += vma.len();
        let resident = resident_bytes(k, vma.start, vma.end, &mut pages);
        match vma.kind {
            VmaKind::Image => {
                use_.rss_file += resident;
                if vma.prot.executable() {
                    widen(&mut code, vma.start, vma.end);
                } else if vma.prot.writable() {
                    widen(&mut data, vma.start, vma.end);
                }
            }
            VmaKind::Stack => {
                use_.rss_anon += resident;
                use_.stack += vma.len();
                use_.stack_top = use_.stack_top.max(vma.end);
            }
            VmaKind::Heap => {
                use_.rss_anon += resident;
                use_.brk_start = use_.brk_start.min(vma.start);
            }
            VmaKind::File(_) => use_.rss_file += resident,
            VmaKind::Anonymous | VmaKind::Stubs => use_.rss_anon += resident,
        }
        if vma.prot.writable() && !vma.shared && vma.kind != VmaKind::Stack {
            use_.data += vma.len();
        }
    }
    use_.code = code.unwrap_or_default();
    use_.data_segment = data.unwrap_or_default();
    use_
}

/// The bytes of `[start, end)` the platform says are resident.
fn resident_bytes(k: &Kernel, start: u64, end: u64, pages: &mut [u8]) -> u64 {
    let mut resident = 0;
    let mut at = start;
    while at < end {
        let len = (end - at).min(RESIDENCY_CHUNK * PAGE_SIZE);
        let out = &mut pages[..(len / PAGE_SIZE) as usize];
        if k.platform.residency(at, len, out).is_ok() {
            resident += out.iter().filter(|&&b| b & 1 != 0).count() as u64 * PAGE_SIZE;
        }
        at += len;
    }
    resident
}
