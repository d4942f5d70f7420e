//! Physical memory: which RAM is free for the heap.
//!
//! The free RAM is the memory map's RAM below the direct-mapped limit (4 GiB, set up
//! by src/paging.rs), less everything the boot left in it: the kernel image, the boot
//! information, the memory map itself, the command line, the modules. No allocation
//! happens here: this runs before the heap exists.

use crate::pvh::{MemmapEntry, StartInfo, MEMMAP_RAM};

/// The part of physical memory the direct map covers (src/paging.rs).
pub const MAPPED_LIMIT: u64 = 1 << 32;

const PAGE: u64 = 4096;

/// A physical address range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

impl Range {
    /// `[start, start + len)`, saturating.
    pub fn from_len(start: u64, len: u64) -> Range {
        Range { start, end: start.saturating_add(len) }
    }

    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// The most ranges `reserved_ranges` returns: image, start info, memmap, cmdline,
/// module list, page 0, and up to 10 modules.
const MAX_RESERVED: usize = 16;

/// What must not be handed to the heap.
pub struct Reserved {
    ranges: [Range; MAX_RESERVED],
    len: usize,
}

impl Reserved {
    fn push(&mut self, r: Range) {
        if r.len() > 0 && self.len < MAX_RESERVED {
            self.ranges[self.len] = r;
            self.len += 1;
        }
    }

    fn sorted(&self) -> ([Range; MAX_RESERVED], usize) {
        let mut out = self.ranges;
        let n = self.len;
        out[..n].sort_unstable_by_key(|r| r.start);
        (out, n)
    }
}

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// The kernel image as loaded, including .bss (from the linker script's symbols).
pub fn kernel_image() -> Range {
    // Only the symbols' addresses are taken, nothing is read through them.
    let (start, end) = (&raw const __kernel_start as u64, &raw const __kernel_end as u64);
    Range { start, end }
}

/// Everything the boot left in RAM that must stay intact.
pub fn reserved_ranges(info: &StartInfo) -> Reserved {
    let mut r = Reserved { ranges: [Range { start: 0, end: 0 }; MAX_RESERVED], len: 0 };
    r.push(Range { start: 0, end: PAGE }); // keep address 0 unmapped-in-spirit: never allocate it
    r.push(kernel_image());
    r.push(Range::from_len(info.paddr(), info.size()));
    let (p, n) = info.memmap_range();
    r.push(Range::from_len(p, n));
    let (p, n) = info.cmdline_range();
    r.push(Range::from_len(p, n));
    let (p, n) = info.modlist_range();
    r.push(Range::from_len(p, n));
    for m in info.modules() {
        r.push(Range::from_len(m.paddr, m.size));
    }
    r
}

/// The largest page-aligned span of free RAM below `MAPPED_LIMIT`.
pub fn largest_free(memmap: &[MemmapEntry], reserved: &Reserved) -> Option<Range> {
    let (sorted, n) = reserved.sorted();
    let mut best: Option<Range> = None;
    let mut consider = |start: u64, end: u64| {
        let start = start.next_multiple_of(PAGE);
        let end = end & !(PAGE - 1);
        if end > start && best.is_none_or(|b| end - start > b.len()) {
            best = Some(Range { start, end });
        }
    };
    for e in memmap.iter().filter(|e| e.kind == MEMMAP_RAM) {
        let (a, b) = (e.addr, e.end().min(MAPPED_LIMIT));
        if a >= b {
            continue;
        }
        let mut cur = a;
        for res in sorted[..n].iter().filter(|r| r.end > a && r.start < b) {
            if res.start > cur {
                consider(cur, res.start);
            }
            cur = cur.max(res.end);
        }
        if cur < b {
            consider(cur, b);
        }
    }
    best
}
