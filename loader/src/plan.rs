//! [`parse`]: from untrusted ELF bytes to a validated [`LoadPlan`].
//!
//! The checks follow Linux's `load_elf_binary` (`fs/binfmt_elf.c`) where Linux has an
//! opinion, and are stricter where a library OS without a dynamic linker needs them to
//! be. In order:
//!
//! 1. **Identity.** `\x7fELF` magic, `ELFCLASS64`, `ELFDATA2LSB`, `EM_X86_64`, and
//!    `e_type` `ET_EXEC` or `ET_DYN`.
//! 2. **Program header table.** `e_phentsize` is 56 (an `Elf64_Phdr`), the table is at
//!    most 64 KiB (Linux's limit, which also bounds what we allocate) and lies inside the
//!    file.
//! 3. **Static linking.** A `PT_INTERP` means the program wants a dynamic linker; a
//!    `PT_DYNAMIC` whose entries include `DT_NEEDED` means it wants shared libraries.
//!    Either is refused as [`LoadError::DynamicallyLinked`]. A static-pie *does* carry a
//!    `PT_DYNAMIC` (its own relocations, applied by its start-up code), but never a
//!    `DT_NEEDED`, so the dynamic section itself is no reason to refuse.
//! 4. **Segments.** For every `PT_LOAD`: `p_filesz <= p_memsz`; the file bytes lie in
//!    the file; the memory lies below [`USER_END`](crate::USER_END) (and, for `ET_EXEC`,
//!    at or above [`MIN_EXEC_ADDR`](crate::MIN_EXEC_ADDR)); `p_align` is 0, 1 or a power
//!    of two and `p_vaddr ≡ p_offset (mod p_align)`. Segments are sorted by address and
//!    their byte ranges `[p_vaddr, p_vaddr + p_memsz)` must not overlap. They *may* share
//!    a page — linkers routinely end `.text` and begin `.data` in one page — in which
//!    case that page needs the union of both protections ([`LoadPlan::page_regions`]).
//! 5. **Entry point** inside an executable segment.

use alloc::string::String;
use alloc::vec::Vec;

use goblin::elf::dynamic::{DT_NEEDED, DT_NULL};
use goblin::elf64::header::{
    Header, EI_CLASS, EI_DATA, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ELFMAG, EM_X86_64, ET_DYN, ET_EXEC,
    SIZEOF_EHDR, SIZEOF_IDENT,
};
use goblin::elf64::program_header::{
    ProgramHeader, PF_R, PF_W, PF_X, PT_DYNAMIC, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR, PT_TLS, SIZEOF_PHDR,
};

use crate::bytes::{slice, u16_at, u32_at, u64_at};
use crate::{page_down, page_up, LoadError, MIN_EXEC_ADDR, PAGE_SIZE, USER_END};

/// The largest program header table accepted, in bytes (Linux's `load_elf_phdrs` limit).
/// 64 KiB holds 1170 headers; real programs have about ten.
const MAX_PHDR_TABLE: u64 = 65536;

/// `e_phnum` value announcing extended numbering (the real count lives in section 0).
/// Only needed by files with 65535+ program headers, which we refuse anyway.
const PN_XNUM: u16 = 0xffff;

/// How many bytes of a `PT_INTERP` path are reported in an error at most.
const MAX_INTERP_LEN: u64 = 4096;

/// Size of one `Elf64_Dyn` entry (`d_tag`, `d_val`).
const SIZEOF_DYN: u64 = 16;

/// Which of the two runnable ELF kinds a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfKind {
    /// `ET_EXEC`: fixed addresses, load base 0.
    Exec,
    /// `ET_DYN` without `PT_INTERP`: position independent, loaded at a base the caller
    /// chooses, relocates itself at start-up.
    StaticPie,
}

/// Memory protection of a segment, from its `p_flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prot {
    /// `PF_R`: readable.
    pub read: bool,
    /// `PF_W`: writable.
    pub write: bool,
    /// `PF_X`: executable.
    pub exec: bool,
}

impl Prot {
    /// Decodes ELF `p_flags` (`PF_R`, `PF_W`, `PF_X`; other bits are ignored).
    pub fn from_flags(p_flags: u32) -> Self {
        Prot { read: p_flags & PF_R != 0, write: p_flags & PF_W != 0, exec: p_flags & PF_X != 0 }
    }

    /// Both protections at once: what a page shared by two segments needs.
    pub fn union(self, other: Prot) -> Prot {
        Prot { read: self.read || other.read, write: self.write || other.write, exec: self.exec || other.exec }
    }

    /// The equivalent `PROT_*` bits for `mmap`/`mprotect` (`PROT_READ` = 1,
    /// `PROT_WRITE` = 2, `PROT_EXEC` = 4).
    pub fn to_mmap_prot(self) -> u32 {
        (self.read as u32) | (self.write as u32) << 1 | (self.exec as u32) << 2
    }
}

/// One validated segment (`PT_LOAD`, or the `PT_TLS` template).
///
/// Addresses are *unrelocated*: add the load base for [`ElfKind::StaticPie`]. For every
/// segment in a [`LoadPlan`] returned by [`parse`], `file_offset + filesz` is within the
/// file, `filesz <= memsz`, and `vaddr + memsz <= USER_END`, so the arithmetic in the
/// helpers below cannot overflow.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Address of the first byte in memory (`p_vaddr`).
    pub vaddr: u64,
    /// Size in memory (`p_memsz`); bytes past `filesz` are zero (`.bss`).
    pub memsz: u64,
    /// Where the file-backed bytes start in the file (`p_offset`).
    pub file_offset: u64,
    /// How many bytes come from the file (`p_filesz`).
    pub filesz: u64,
    /// Requested protection (`p_flags`).
    pub prot: Prot,
}

impl Segment {
    /// One past the last byte in memory (`vaddr + memsz`).
    pub fn end(&self) -> u64 {
        self.vaddr.saturating_add(self.memsz)
    }

    /// The page-aligned range `[start, end)` this segment touches.
    pub fn page_range(&self) -> (u64, u64) {
        let end = page_up(self.end()).unwrap_or(page_down(u64::MAX));
        (page_down(self.vaddr), end)
    }

    /// The file-backed bytes of this segment, or `None` if `file` is too short (it is
    /// not the file the plan was parsed from).
    pub fn file_bytes<'f>(&self, file: &'f [u8]) -> Option<&'f [u8]> {
        slice(file, self.file_offset, self.filesz)
    }

    /// The zero-initialised tail `[vaddr + filesz, vaddr + memsz)`, as `(addr, len)`,
    /// unrelocated; `len` is 0 when the segment has no `.bss`.
    pub fn bss(&self) -> (u64, u64) {
        let start = self.vaddr.saturating_add(self.filesz);
        (start, self.memsz.saturating_sub(self.filesz))
    }

    /// Whether `addr` lies in `[vaddr, vaddr + memsz)`.
    pub fn contains(&self, addr: u64) -> bool {
        self.vaddr <= addr && addr < self.end()
    }

    /// Whether `[addr, addr + len)` lies entirely in `[vaddr, vaddr + memsz)`.
    pub fn contains_range(&self, addr: u64, len: u64) -> bool {
        match addr.checked_add(len) {
            Some(end) => self.vaddr <= addr && end <= self.end(),
            None => false,
        }
    }
}

/// A page-granular piece of the program's memory image, as returned by
/// [`LoadPlan::page_regions`]: what to map, with which protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRegion {
    /// First byte (page-aligned, relocated).
    pub start: u64,
    /// One past the last byte (page-aligned, relocated).
    pub end: u64,
    /// Protection: the union over every segment that touches these pages.
    pub prot: Prot,
}

/// Everything a platform needs to place a validated static program in memory.
///
/// All addresses are unrelocated; for [`ElfKind::StaticPie`] add the chosen load base
/// (see [`LoadPlan::fits_at`]), for [`ElfKind::Exec`] the base is 0.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Fixed-address or position-independent.
    pub kind: ElfKind,
    /// The entry point (`e_entry`); lies inside an executable segment.
    pub entry: u64,
    /// The `PT_LOAD` segments with a non-zero `p_memsz`, in ascending `vaddr` order,
    /// validated and with non-overlapping byte ranges (they may share a page).
    pub segments: Vec<Segment>,
    /// Where the program header table is in memory, for `AT_PHDR` (libc finds its
    /// `PT_TLS` through it). Taken from `PT_PHDR` when that lies inside a loaded segment,
    /// else computed from the `PT_LOAD` whose file bytes contain the table. If neither
    /// exists this is 0, which is what Linux passes too.
    pub phdr_vaddr: u64,
    /// Size of one program header (`e_phentsize`, always 56), for `AT_PHENT`.
    pub phent: u16,
    /// Number of program headers (`e_phnum`), for `AT_PHNUM`.
    pub phnum: u16,
    /// Page-aligned lowest address covered by the segments.
    pub span_start: u64,
    /// Page-aligned end of the highest segment (exclusive).
    pub span_end: u64,
    /// Whether `PT_GNU_STACK` asks for an executable stack. Without `PT_GNU_STACK` this is
    /// `false`, as on x86-64 Linux since 5.8.
    pub stack_executable: bool,
    /// The `PT_TLS` template (informational: the program's libc sets its TLS up itself,
    /// finding it through `AT_PHDR`). Validated like a load segment.
    pub tls: Option<Segment>,
    /// The largest `p_align` of the `PT_LOAD` segments, at least [`PAGE_SIZE`]. A
    /// static-pie's load base should be a multiple of it (Linux aligns to it), so that
    /// large-page alignment the linker asked for is kept.
    pub max_align: u64,
}

impl LoadPlan {
    /// Whether the program is position independent (a static-pie): it then needs a
    /// load base.
    pub fn is_pie(&self) -> bool {
        self.kind == ElfKind::StaticPie
    }

    /// The entry point after relocation by `base`.
    pub fn entry_at(&self, base: u64) -> u64 {
        base.wrapping_add(self.entry)
    }

    /// Whether the program can be loaded at `base`: `base` is page-aligned, the whole
    /// relocated span stays below [`USER_END`](crate::USER_END), and for
    /// [`ElfKind::Exec`] `base` is 0.
    pub fn fits_at(&self, base: u64) -> bool {
        match self.kind {
            ElfKind::Exec => base == 0,
            ElfKind::StaticPie => {
                base % PAGE_SIZE == 0 && base.checked_add(self.span_end).is_some_and(|end| end <= USER_END)
            }
        }
    }

    /// Size of the memory image in bytes (`span_end - span_start`).
    pub fn span_len(&self) -> u64 {
        self.span_end - self.span_start
    }

    /// Copies each segment's file-backed bytes into place.
    ///
    /// For every segment, in ascending address order, calls `write(base + vaddr, data)`
    /// with its `filesz` bytes from `bytes` (skipped when `filesz` is 0), then, when it
    /// has a `.bss` (`memsz > filesz`), `zero(addr, len)` for the `.bss` bytes that fall
    /// into the last file-backed page: `[base + vaddr + filesz, min(page end, base +
    /// vaddr + memsz))`. That is the part of `.bss` which shares a page with file data;
    /// a loader that maps file pages directly (as Linux does) must clear it, and a loader
    /// that copies into fresh zeroed memory may ignore the call. The whole pages of
    /// `.bss` beyond it are never reported: the caller's fresh mapping provides them.
    /// Nothing outside a segment's own byte range is ever zeroed, so segments that share
    /// a page do not clobber each other.
    ///
    /// `bytes` must be the slice given to [`parse`]; if it is shorter, segments it does
    /// not contain are skipped. `base` must be 0 for [`ElfKind::Exec`] and satisfy
    /// [`fits_at`](Self::fits_at) for a static-pie (addresses wrap otherwise, but
    /// nothing panics).
    pub fn copy_segments(
        &self,
        bytes: &[u8],
        base: u64,
        mut write: impl FnMut(u64, &[u8]),
        mut zero: impl FnMut(u64, u64),
    ) {
        for seg in &self.segments {
            if seg.filesz > 0 {
                if let Some(data) = seg.file_bytes(bytes) {
                    write(base.wrapping_add(seg.vaddr), data);
                }
            }
            let (bss_start, bss_len) = seg.bss();
            if bss_len > 0 {
                let page_end = page_up(bss_start).unwrap_or(u64::MAX);
                let len = (page_end - bss_start).min(bss_len);
                if len > 0 {
                    zero(base.wrapping_add(bss_start), len);
                }
            }
        }
    }

    /// The memory image as page-aligned, non-overlapping, ascending regions, each with
    /// the protection it needs, relocated by `base`.
    ///
    /// Every segment contributes its [`page_range`](Segment::page_range). Where two
    /// segments share a page (the end of one and the start of the next), that page
    /// becomes its own region with the union of both protections, exactly what Linux's
    /// successive `mmap`s achieve only by luck of ordering. Gaps between segments are
    /// not covered.
    pub fn page_regions(&self, base: u64) -> Vec<PageRegion> {
        let mut regions: Vec<PageRegion> = Vec::with_capacity(self.segments.len() + 2);
        for seg in &self.segments {
            let (start, end) = seg.page_range();
            let mut start = start;
            if let Some(last) = regions.last_mut() {
                if last.end > start {
                    // The previous region reaches into this segment's first page(s).
                    // Byte ranges never overlap, so this is the previous segment's last
                    // page; split it off and give it both protections.
                    let shared_end = last.end.min(end);
                    let merged = last.prot.union(seg.prot);
                    if last.start < start {
                        let tail = PageRegion { start, end: last.end, prot: merged };
                        last.end = start;
                        regions.push(tail);
                    } else {
                        last.prot = merged;
                    }
                    start = shared_end;
                }
            }
            if start < end {
                regions.push(PageRegion { start, end, prot: seg.prot });
            }
        }
        for r in &mut regions {
            r.start = base.wrapping_add(r.start);
            r.end = base.wrapping_add(r.end);
        }
        regions
    }
}

/// Parses and validates a static x86-64 ELF executable.
///
/// Returns the [`LoadPlan`] for an `ET_EXEC` or a static-pie, or the reason the file
/// cannot run under unify. Never panics, whatever `bytes` holds; allocates at most the
/// program header table (64 KiB) and the segment list.
///
/// ```
/// let err = unify_loader::parse(b"#!/bin/sh\necho hi\n").unwrap_err();
/// assert_eq!(err.to_string(), "not an ELF executable (bad magic)");
/// ```
pub fn parse(bytes: &[u8]) -> Result<LoadPlan, LoadError> {
    let header = parse_header(bytes)?;
    let phdrs = parse_program_headers(bytes, &header)?;

    // A PT_INTERP names a dynamic linker, whatever the file type says.
    if let Some(interp) = phdrs.iter().find(|p| p.p_type == PT_INTERP) {
        return Err(LoadError::DynamicallyLinked { interpreter: read_interpreter(bytes, interp) });
    }
    for dynamic in phdrs.iter().filter(|p| p.p_type == PT_DYNAMIC) {
        if needs_shared_libraries(bytes, dynamic)? {
            return Err(LoadError::DynamicallyLinked { interpreter: String::new() });
        }
    }
    let kind = match header.e_type {
        ET_EXEC => ElfKind::Exec,
        _ => ElfKind::StaticPie,
    };

    let mut segments = Vec::new();
    let mut max_align = PAGE_SIZE;
    let mut tls = None;
    let mut stack_executable = false;
    for (index, ph) in phdrs.iter().enumerate() {
        // `parse_program_headers` caps the count far below u16::MAX.
        let index = u16::try_from(index).unwrap_or(u16::MAX);
        match ph.p_type {
            PT_LOAD => {
                let seg = check_segment(bytes, ph, index)?;
                if ph.p_align > 1 {
                    if !ph.p_align.is_power_of_two() {
                        return Err(LoadError::BadSegment("a PT_LOAD's p_align is not a power of two"));
                    }
                    if ph.p_vaddr % ph.p_align != ph.p_offset % ph.p_align {
                        return Err(LoadError::BadSegment(
                            "a PT_LOAD's p_vaddr and p_offset are not congruent modulo p_align",
                        ));
                    }
                    max_align = max_align.max(ph.p_align);
                }
                if seg.memsz == 0 {
                    continue; // maps nothing (Linux skips it too)
                }
                if kind == ElfKind::Exec && page_down(seg.vaddr) < MIN_EXEC_ADDR {
                    return Err(LoadError::BadSegment("a fixed-address segment maps below 0x10000 (vm.mmap_min_addr)"));
                }
                segments.push(seg);
            }
            PT_TLS => {
                if tls.is_some() {
                    return Err(LoadError::BadSegment("more than one PT_TLS"));
                }
                if ph.p_align > 1 && !ph.p_align.is_power_of_two() {
                    return Err(LoadError::BadSegment("the PT_TLS alignment is not a power of two"));
                }
                tls = Some(check_segment(bytes, ph, index)?);
            }
            PT_GNU_STACK => stack_executable = ph.p_flags & PF_X != 0,
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(LoadError::NoLoadableSegments);
    }

    // Sort (stable, so equal addresses keep file order) and reject real overlap.
    segments.sort_by_key(|s| s.vaddr);
    if segments.windows(2).any(|w| w[0].end() > w[1].vaddr) {
        return Err(LoadError::OverlappingSegments);
    }
    let span_start = page_down(segments[0].vaddr);
    let last_end = segments.iter().map(Segment::end).max().unwrap_or(0);
    // `check_segment` keeps every end <= USER_END, which is page-aligned.
    let span_end = page_up(last_end).unwrap_or(USER_END);

    let entry = header.e_entry;
    if !segments.iter().any(|s| s.prot.exec && s.contains(entry)) {
        return Err(LoadError::BadSegment(if entry == 0 {
            "there is no entry point (e_entry is 0); is this a shared library?"
        } else {
            "the entry point (e_entry) is not inside an executable segment"
        }));
    }

    let phdr_vaddr = find_phdr_vaddr(&header, &phdrs, &segments);

    Ok(LoadPlan {
        kind,
        entry,
        segments,
        phdr_vaddr,
        phent: header.e_phentsize,
        phnum: header.e_phnum,
        span_start,
        span_end,
        stack_executable,
        tls,
        max_align,
    })
}

/// How many leading bytes of the file [`parse`] and the segment copy read, judged
/// from `prefix` (the file's first bytes): the headers and every program header's
/// file range. `None` when `prefix` does not hold the ELF and program headers (or
/// they are bad): read the whole file and let [`parse`] say what is wrong.
///
/// A platform reading the program from storage uses this to skip what only
/// debuggers read (symbols and DWARF, often most of a Rust binary's size).
///
/// ```
/// let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
/// let needed = unify_loader::needed_len(&elf[..elf.len().min(64 * 1024)]);
/// if let Some(n) = needed {
///     assert!(n as usize <= elf.len());
/// }
/// ```
pub fn needed_len(prefix: &[u8]) -> Option<u64> {
    let header = parse_header(prefix).ok()?;
    let phdrs = parse_program_headers(prefix, &header).ok()?;
    let table_end = header.e_phoff + u64::from(header.e_phnum) * SIZEOF_PHDR as u64;
    let mut end = table_end.max(SIZEOF_EHDR as u64);
    for ph in &phdrs {
        end = end.max(ph.p_offset.checked_add(ph.p_filesz)?);
    }
    Some(end)
}

/// Decodes and checks the ELF header: identity, class, byte order, machine and type.
fn parse_header(bytes: &[u8]) -> Result<Header, LoadError> {
    if bytes.get(..ELFMAG.len()) != Some(&ELFMAG[..]) {
        return Err(LoadError::NotElf);
    }
    match bytes.get(EI_CLASS) {
        None => return Err(LoadError::Truncated { what: "ELF header" }),
        Some(&ELFCLASS64) => {}
        Some(&ELFCLASS32) => return Err(LoadError::Not64Bit),
        Some(_) => return Err(LoadError::BadHeader("unknown ELF class (EI_CLASS)")),
    }
    match bytes.get(EI_DATA) {
        None => return Err(LoadError::Truncated { what: "ELF header" }),
        Some(&ELFDATA2LSB) => {}
        Some(&ELFDATA2MSB) => return Err(LoadError::WrongEndian),
        Some(_) => return Err(LoadError::BadHeader("unknown byte order (EI_DATA)")),
    }
    let header = decode_header(bytes).ok_or(LoadError::Truncated { what: "ELF header" })?;
    if header.e_machine != EM_X86_64 {
        return Err(LoadError::WrongMachine(header.e_machine));
    }
    if header.e_type != ET_EXEC && header.e_type != ET_DYN {
        return Err(LoadError::NotExecutable(header.e_type));
    }
    Ok(header)
}

/// Reads the 64-byte `Elf64_Ehdr` field by field (no alignment assumptions).
fn decode_header(b: &[u8]) -> Option<Header> {
    let ident = slice(b, 0, SIZEOF_EHDR as u64)?;
    let mut e_ident = [0u8; SIZEOF_IDENT];
    e_ident.copy_from_slice(ident.get(..SIZEOF_IDENT)?);
    Some(Header {
        e_ident,
        e_type: u16_at(b, 16)?,
        e_machine: u16_at(b, 18)?,
        e_version: u32_at(b, 20)?,
        e_entry: u64_at(b, 24)?,
        e_phoff: u64_at(b, 32)?,
        e_shoff: u64_at(b, 40)?,
        e_flags: u32_at(b, 48)?,
        e_ehsize: u16_at(b, 52)?,
        e_phentsize: u16_at(b, 54)?,
        e_phnum: u16_at(b, 56)?,
        e_shentsize: u16_at(b, 58)?,
        e_shnum: u16_at(b, 60)?,
        e_shstrndx: u16_at(b, 62)?,
    })
}

/// Checks the program header table's geometry and decodes it.
fn parse_program_headers(bytes: &[u8], h: &Header) -> Result<Vec<ProgramHeader>, LoadError> {
    if h.e_phnum == 0 {
        return Err(LoadError::NoLoadableSegments);
    }
    if h.e_phnum == PN_XNUM {
        return Err(LoadError::BadHeader("extended program header numbering (PN_XNUM) is not supported"));
    }
    if usize::from(h.e_phentsize) != SIZEOF_PHDR {
        return Err(LoadError::BadHeader("e_phentsize is not 56, the size of an Elf64_Phdr"));
    }
    let table_len = u64::from(h.e_phnum) * SIZEOF_PHDR as u64; // < 2^22, no overflow
    if table_len > MAX_PHDR_TABLE {
        return Err(LoadError::BadHeader("the program header table is larger than 64 KiB"));
    }
    let table = slice(bytes, h.e_phoff, table_len).ok_or(LoadError::Truncated { what: "program header table" })?;
    let phdrs = table.chunks_exact(SIZEOF_PHDR).filter_map(decode_phdr).collect::<Vec<_>>();
    // Every chunk is exactly SIZEOF_PHDR bytes, so decoding cannot fail; be explicit
    // rather than trusting that.
    if phdrs.len() != usize::from(h.e_phnum) {
        return Err(LoadError::Truncated { what: "program header table" });
    }
    Ok(phdrs)
}

/// Reads one 56-byte `Elf64_Phdr`.
fn decode_phdr(b: &[u8]) -> Option<ProgramHeader> {
    Some(ProgramHeader {
        p_type: u32_at(b, 0)?,
        p_flags: u32_at(b, 4)?,
        p_offset: u64_at(b, 8)?,
        p_vaddr: u64_at(b, 16)?,
        p_paddr: u64_at(b, 24)?,
        p_filesz: u64_at(b, 32)?,
        p_memsz: u64_at(b, 40)?,
        p_align: u64_at(b, 48)?,
    })
}

/// The checks shared by `PT_LOAD` and `PT_TLS`: sizes, file range, address range.
fn check_segment(bytes: &[u8], ph: &ProgramHeader, index: u16) -> Result<Segment, LoadError> {
    if ph.p_filesz > ph.p_memsz {
        return Err(LoadError::BadSegment("a segment's file size (p_filesz) exceeds its memory size (p_memsz)"));
    }
    if slice(bytes, ph.p_offset, ph.p_filesz).is_none() {
        return Err(LoadError::SegmentTruncated { index });
    }
    match ph.p_vaddr.checked_add(ph.p_memsz) {
        Some(end) if end <= USER_END => {}
        _ => {
            return Err(LoadError::BadSegment(
                "a segment lies beyond the user half of the address space (0x8000_0000_0000)",
            ))
        }
    }
    Ok(Segment {
        vaddr: ph.p_vaddr,
        memsz: ph.p_memsz,
        file_offset: ph.p_offset,
        filesz: ph.p_filesz,
        prot: Prot::from_flags(ph.p_flags),
    })
}

/// The `PT_INTERP` path, for the error message (lossy UTF-8, up to the first NUL, at
/// most 4 KiB); `"(unreadable)"` when it lies outside the file.
fn read_interpreter(bytes: &[u8], ph: &ProgramHeader) -> String {
    match slice(bytes, ph.p_offset, ph.p_filesz.min(MAX_INTERP_LEN)) {
        Some(raw) => {
            let path = raw.split(|&b| b == 0).next().unwrap_or(&[]);
            String::from_utf8_lossy(path).into_owned()
        }
        None => String::from("(unreadable)"),
    }
}

/// Whether a `PT_DYNAMIC` lists a `DT_NEEDED` library before its `DT_NULL`.
fn needs_shared_libraries(bytes: &[u8], ph: &ProgramHeader) -> Result<bool, LoadError> {
    let table = slice(bytes, ph.p_offset, ph.p_filesz).ok_or(LoadError::Truncated { what: "dynamic section" })?;
    for entry in table.chunks_exact(SIZEOF_DYN as usize) {
        match u64_at(entry, 0) {
            Some(DT_NULL) | None => break,
            Some(DT_NEEDED) => return Ok(true),
            Some(_) => {}
        }
    }
    Ok(false)
}

/// Where the program header table lives in memory (see [`LoadPlan::phdr_vaddr`]).
fn find_phdr_vaddr(h: &Header, phdrs: &[ProgramHeader], segments: &[Segment]) -> u64 {
    let table_len = u64::from(h.e_phnum) * SIZEOF_PHDR as u64;
    if let Some(p) = phdrs.iter().find(|p| p.p_type == PT_PHDR) {
        if segments.iter().any(|s| s.contains_range(p.p_vaddr, table_len)) {
            return p.p_vaddr;
        }
    }
    // Linux's rule: the PT_LOAD whose file bytes contain the table.
    for s in segments {
        let Some(file_end) = s.file_offset.checked_add(s.filesz) else {
            continue;
        };
        let Some(table_end) = h.e_phoff.checked_add(table_len) else {
            continue;
        };
        if s.file_offset <= h.e_phoff && table_end <= file_end {
            return s.vaddr + (h.e_phoff - s.file_offset);
        }
    }
    0
}
