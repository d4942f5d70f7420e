//! The PVH boot information (`hvm_start_info`, Xen's `arch-x86/hvm/start_info.h`),
//! which the loader hands over in EBX: the memory map, the command line, modules
//! (an initrd) and the ACPI RSDP.

use core::mem::size_of;

const MAGIC: u32 = 0x336e_c578; // "xEn3" with the high bit of each byte flipped

#[repr(C)]
#[derive(Clone, Copy)]
struct RawStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    // version >= 1
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

/// One memory-map entry (E820 types).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MemmapEntry {
    pub addr: u64,
    pub size: u64,
    pub kind: u32,
    reserved: u32,
}

/// The memory-map entry type of usable RAM.
pub const MEMMAP_RAM: u32 = 1;

impl MemmapEntry {
    /// The type's E820 name.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            1 => "ram",
            2 => "reserved",
            3 => "acpi",
            4 => "acpi-nvs",
            5 => "unusable",
            6 => "disabled",
            7 => "pmem",
            _ => "unknown",
        }
    }

    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.addr.saturating_add(self.size)
    }
}

/// One module (e.g. an initrd).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Module {
    pub paddr: u64,
    pub size: u64,
    pub cmdline_paddr: u64,
    reserved: u64,
}

/// The boot information, checked and copied out of the loader's memory.
pub struct StartInfo {
    raw: RawStartInfo,
    paddr: u64,
}

/// Why the boot information cannot be used.
pub enum StartInfoError {
    Null,
    BadMagic(u32),
    NoMemoryMap { version: u32 },
}

impl core::fmt::Display for StartInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            StartInfoError::Null => f.write_str("address 0 or above 4 GiB"),
            StartInfoError::BadMagic(m) => write!(f, "magic {m:#x}, not {MAGIC:#x}"),
            StartInfoError::NoMemoryMap { version } => write!(f, "version {version} carries no memory map"),
        }
    }
}

/// The direct map covers the first 4 GiB (src/paging.rs); everything the loader hands over must
/// lie there (QEMU puts it below 1 MiB).
const MAPPED_LIMIT: u64 = 1 << 32;

fn mapped(paddr: u64, len: u64) -> bool {
    paddr != 0 && paddr.checked_add(len).is_some_and(|end| end <= MAPPED_LIMIT)
}

impl StartInfo {
    /// Reads the `hvm_start_info` at physical address `paddr`.
    ///
    /// # Safety
    /// `paddr` must be the value the PVH loader left in EBX, before anything could have
    /// overwritten that memory (the heap is placed around it, src/memory.rs).
    pub unsafe fn read(paddr: u64) -> Result<StartInfo, StartInfoError> {
        if !mapped(paddr, size_of::<RawStartInfo>() as u64) {
            return Err(StartInfoError::Null);
        }
        // SAFETY: direct-mapped (checked above) and written by the loader; read
        // unaligned because nothing promises its alignment.
        let raw = unsafe { core::ptr::read_unaligned(crate::paging::phys_to_virt(paddr) as *const RawStartInfo) };
        if raw.magic != MAGIC {
            return Err(StartInfoError::BadMagic(raw.magic));
        }
        if raw.version < 1 || raw.memmap_entries == 0 {
            return Err(StartInfoError::NoMemoryMap { version: raw.version });
        }
        Ok(StartInfo { raw, paddr })
    }

    /// Where the structure itself lies.
    pub fn paddr(&self) -> u64 {
        self.paddr
    }

    /// The structure's size in bytes.
    pub fn size(&self) -> u64 {
        size_of::<RawStartInfo>() as u64
    }

    /// The memory map, in the loader's memory (QEMU's may end with empty entries).
    pub fn memmap(&self) -> &'static [MemmapEntry] {
        let n = self.raw.memmap_entries as usize;
        let len = (n * size_of::<MemmapEntry>()) as u64;
        if !mapped(self.raw.memmap_paddr, len) || self.raw.memmap_paddr % 8 != 0 {
            return &[];
        }
        // SAFETY: direct-mapped, aligned (checked), written by the loader, and never
        // reused: the heap excludes it (src/memory.rs).
        unsafe {
            core::slice::from_raw_parts(crate::paging::phys_to_virt(self.raw.memmap_paddr) as *const MemmapEntry, n)
        }
    }

    /// Where the memory map lies and its size, to keep the heap off it.
    pub fn memmap_range(&self) -> (u64, u64) {
        (self.raw.memmap_paddr, u64::from(self.raw.memmap_entries) * size_of::<MemmapEntry>() as u64)
    }

    /// The modules (an initrd), in the loader's memory.
    pub fn modules(&self) -> &'static [Module] {
        let n = self.raw.nr_modules as usize;
        let len = (n * size_of::<Module>()) as u64;
        if n == 0 || !mapped(self.raw.modlist_paddr, len) || self.raw.modlist_paddr % 8 != 0 {
            return &[];
        }
        // SAFETY: as for `memmap`.
        unsafe { core::slice::from_raw_parts(crate::paging::phys_to_virt(self.raw.modlist_paddr) as *const Module, n) }
    }

    /// Where the module list lies and its size.
    pub fn modlist_range(&self) -> (u64, u64) {
        (self.raw.modlist_paddr, u64::from(self.raw.nr_modules) * size_of::<Module>() as u64)
    }

    /// The kernel command line (`-append`), or "" if there is none or it is not UTF-8.
    pub fn cmdline(&self) -> &'static str {
        let bytes = self.cmdline_bytes();
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// Where the command line lies and its length including the NUL.
    pub fn cmdline_range(&self) -> (u64, u64) {
        (self.raw.cmdline_paddr, self.cmdline_bytes().len() as u64 + 1)
    }

    fn cmdline_bytes(&self) -> &'static [u8] {
        let p = self.raw.cmdline_paddr;
        if !mapped(p, 1) {
            return &[];
        }
        // The longest command line we accept: Linux's COMMAND_LINE_SIZE on x86.
        const MAX: u64 = 2048;
        let limit = MAX.min(MAPPED_LIMIT - p);
        let mut len = 0;
        // SAFETY: each byte read lies below MAPPED_LIMIT (limit), direct-mapped; the
        // loader NUL-terminates the string.
        while len < limit && unsafe { *(crate::paging::phys_to_virt(p + len) as *const u8) } != 0 {
            len += 1;
        }
        // SAFETY: `len` bytes from `p` were just read; nothing writes them later.
        unsafe { core::slice::from_raw_parts(crate::paging::phys_to_virt(p) as *const u8, len as usize) }
    }

    /// The ACPI RSDP address (0 if the loader gave none).
    pub fn rsdp(&self) -> u64 {
        self.raw.rsdp_paddr
    }
}
