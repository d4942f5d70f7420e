//! The initial process stack: `argc`, `argv`, `envp`, the auxiliary vector, and the
//! strings they point to, laid out as Linux's `create_elf_tables` does.
//!
//! A static program's `_start` finds everything it knows about its environment on the
//! stack. From the initial `RSP` upwards (ascending addresses):
//!
//! ```text
//!  sp ──▶ argc                                  8 bytes, sp is 16-byte aligned
//!         argv[0] … argv[argc-1], NULL           pointers into the string area
//!         envp[0] … envp[envc-1], NULL
//!         auxv: (type, value) pairs … (AT_NULL, 0)
//!         padding (zeros) up to a 16-byte boundary
//!         16 random bytes                        ◀── AT_RANDOM (stack-protector canary, hash seeds)
//!         platform string "x86_64\0"             ◀── AT_PLATFORM
//!         padding (zeros) to a 16-byte boundary
//!         argv strings, then envp strings        each NUL-terminated, argv[0] lowest
//!         execfn "\0"-terminated                 ◀── AT_EXECFN
//!         8 zero bytes                           end marker
//!  stack_top
//! ```
//!
//! Linux additionally moves the tables down by a random multiple of 16 (stack
//! randomisation); here `sp` is deterministic, which makes runs reproducible, and the
//! caller may randomise `stack_top` instead. Everything Linux computes from the stack
//! address (the pointers in `argv`, `envp` and the three auxv entries that point into
//! the stack) is computed here from `stack_top`, so the returned bytes are only valid at
//! that address.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::{LoadPlan, PAGE_SIZE};

/// One auxiliary vector entry: `(a_type, a_val)`. See [`auxv`] for the types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuxEntry(pub u64, pub u64);

/// Auxiliary vector entry types (`AT_*` from `<elf.h>` / `linux/auxvec.h`).
pub mod auxv {
    /// End of the vector.
    pub const AT_NULL: u64 = 0;
    /// Address of the program headers in memory.
    pub const AT_PHDR: u64 = 3;
    /// Size of one program header.
    pub const AT_PHENT: u64 = 4;
    /// Number of program headers.
    pub const AT_PHNUM: u64 = 5;
    /// Page size.
    pub const AT_PAGESZ: u64 = 6;
    /// Load address of the interpreter (0: there is none).
    pub const AT_BASE: u64 = 7;
    /// Flags (unused, 0).
    pub const AT_FLAGS: u64 = 8;
    /// The program's entry point (relocated).
    pub const AT_ENTRY: u64 = 9;
    /// Real user id.
    pub const AT_UID: u64 = 11;
    /// Effective user id.
    pub const AT_EUID: u64 = 12;
    /// Real group id.
    pub const AT_GID: u64 = 13;
    /// Effective group id.
    pub const AT_EGID: u64 = 14;
    /// Pointer to the platform string (`"x86_64"`).
    pub const AT_PLATFORM: u64 = 15;
    /// CPU feature bits (`CPUID.1:EDX` on x86).
    pub const AT_HWCAP: u64 = 16;
    /// Clock ticks per second for `times()` (100).
    pub const AT_CLKTCK: u64 = 17;
    /// Non-zero for set-uid style secure mode.
    pub const AT_SECURE: u64 = 23;
    /// Pointer to the base platform string.
    pub const AT_BASE_PLATFORM: u64 = 24;
    /// Pointer to 16 random bytes.
    pub const AT_RANDOM: u64 = 25;
    /// More CPU feature bits (on x86: ring-3 `MONITOR`/`MWAIT`, `FSGSBASE`).
    pub const AT_HWCAP2: u64 = 26;
    /// Pointer to the file name the program was executed as.
    pub const AT_EXECFN: u64 = 31;
    /// Address of the vDSO's ELF header (unify provides no vDSO).
    pub const AT_SYSINFO_EHDR: u64 = 33;
    /// Minimal signal stack size the kernel's signal frames need.
    pub const AT_MINSIGSTKSZ: u64 = 51;
}

/// The default limit on the size of the initial stack image (2 MiB): what Linux
/// allows for arguments and environment with the usual 8 MiB stack rlimit (a quarter
/// of it).
pub const MAX_STACK_BYTES: u64 = 2 * 1024 * 1024;

/// The longest single argument or environment string, including its NUL (Linux's
/// `MAX_ARG_STRLEN`, 32 pages). Longer ones make `execve` fail with `E2BIG`.
pub const MAX_ARG_STRLEN: u64 = 32 * PAGE_SIZE;

/// What goes onto the initial stack.
#[derive(Debug, Clone, Copy)]
pub struct StackParams<'a> {
    /// The arguments, `argv[0]` first. Without NUL terminators (they are added).
    pub argv: &'a [&'a [u8]],
    /// The environment (`"KEY=value"`), without NUL terminators.
    pub envp: &'a [&'a [u8]],
    /// The path the program was executed as (`AT_EXECFN`), without NUL.
    pub execfn: &'a [u8],
    /// The platform string for `AT_PLATFORM`, normally `b"x86_64"`. When empty, no
    /// `AT_PLATFORM` entry is emitted (as Linux does on platforms without one).
    pub platform: &'a [u8],
    /// The 16 bytes `AT_RANDOM` points to. Fill them from a real random source: libc
    /// uses them for the stack-protector canary and pointer mangling.
    pub random: [u8; 16],
    /// Auxiliary entries from the caller, in order, *without* `AT_RANDOM`, `AT_EXECFN`,
    /// `AT_PLATFORM` and `AT_NULL`, which the builder adds because they point into the
    /// stack (or end it). Start from [`auxv_for`] and append `AT_UID`, `AT_HWCAP`, ….
    pub auxv: &'a [AuxEntry],
}

/// The built stack image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialStack {
    /// The bytes to copy to `[stack_top - bytes.len(), stack_top)`.
    pub bytes: Vec<u8>,
    /// The initial `RSP`: `stack_top - bytes.len()`, 16-byte aligned, pointing at `argc`.
    pub sp: u64,
}

/// Why [`build`] could not lay the stack out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StackError {
    /// The image would exceed the limit (`E2BIG`, "Argument list too long").
    TooLarge {
        /// How many bytes the image needs (saturated at `u64::MAX`).
        needed: u64,
        /// The limit in force.
        limit: u64,
    },
    /// One argument or environment string is longer than [`MAX_ARG_STRLEN`] (`E2BIG`).
    StringTooLong,
    /// A string contains a NUL byte, which would cut it short in C (`EINVAL`).
    NulInString,
    /// The caller's auxv contains an entry the builder owns: `AT_NULL`, `AT_RANDOM`,
    /// `AT_EXECFN` or `AT_PLATFORM` (`EINVAL`); carries its type.
    ReservedAuxEntry(u64),
    /// `stack_top` is too low to hold the image (`EFAULT`).
    BadStackTop,
}

impl StackError {
    /// The errno an `execve` failing this way returns (`E2BIG` = 7, `EINVAL` = 22,
    /// `EFAULT` = 14).
    pub fn errno(&self) -> i32 {
        match self {
            StackError::TooLarge { .. } | StackError::StringTooLong => 7,
            StackError::NulInString | StackError::ReservedAuxEntry(_) => 22,
            StackError::BadStackTop => 14,
        }
    }
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackError::TooLarge { needed, limit } => {
                write!(f, "argument list too long: the initial stack needs {needed} bytes, the limit is {limit}")
            }
            StackError::StringTooLong => {
                write!(f, "argument list too long: one argument or environment string exceeds {MAX_ARG_STRLEN} bytes")
            }
            StackError::NulInString => f.write_str("an argument or environment string contains a NUL byte"),
            StackError::ReservedAuxEntry(t) => {
                write!(f, "auxv entry type {t} is added by the stack builder and must not be passed in")
            }
            StackError::BadStackTop => f.write_str("the stack top is too low for the initial stack"),
        }
    }
}

impl core::error::Error for StackError {}

/// The auxv entries that come from the ELF file: `AT_PHDR` (`base + phdr_vaddr`),
/// `AT_PHENT`, `AT_PHNUM`, `AT_PAGESZ`, `AT_BASE` (0: no interpreter), `AT_FLAGS` (0)
/// and `AT_ENTRY` (`base + entry`). `base` is the load base (0 for `ET_EXEC`).
///
/// The caller appends the process's own: `AT_UID`, `AT_EUID`, `AT_GID`, `AT_EGID`,
/// `AT_HWCAP`, `AT_HWCAP2`, `AT_CLKTCK`, `AT_SECURE`, `AT_MINSIGSTKSZ`, ….
pub fn auxv_for(plan: &LoadPlan, base: u64) -> Vec<AuxEntry> {
    use auxv::*;
    vec![
        AuxEntry(AT_PHDR, base.wrapping_add(plan.phdr_vaddr)),
        AuxEntry(AT_PHENT, u64::from(plan.phent)),
        AuxEntry(AT_PHNUM, u64::from(plan.phnum)),
        AuxEntry(AT_PAGESZ, PAGE_SIZE),
        AuxEntry(AT_BASE, 0),
        AuxEntry(AT_FLAGS, 0),
        AuxEntry(AT_ENTRY, plan.entry_at(base)),
    ]
}

/// Builds the initial stack for a program whose stack ends (exclusive) at `stack_top`,
/// with the default limit [`MAX_STACK_BYTES`].
///
/// ```
/// use unify_loader::stack::{build, AuxEntry, StackParams, auxv::AT_PAGESZ};
/// let stack = build(0x7fff_0000_0000, &StackParams {
///     argv: &[b"prog", b"--flag"],
///     envp: &[b"HOME=/"],
///     execfn: b"/prog",
///     platform: b"x86_64",
///     random: [7; 16],
///     auxv: &[AuxEntry(AT_PAGESZ, 4096)],
/// }).unwrap();
/// assert_eq!(stack.sp % 16, 0);
/// assert_eq!(stack.sp + stack.bytes.len() as u64, 0x7fff_0000_0000);
/// assert_eq!(&stack.bytes[..8], &2u64.to_le_bytes()); // argc
/// ```
pub fn build(stack_top: u64, params: &StackParams) -> Result<InitialStack, StackError> {
    build_with_limit(stack_top, params, MAX_STACK_BYTES)
}

/// [`build`] with an explicit size limit in bytes (e.g. a quarter of `RLIMIT_STACK`).
pub fn build_with_limit(stack_top: u64, params: &StackParams, limit: u64) -> Result<InitialStack, StackError> {
    use auxv::*;
    for e in params.auxv {
        if matches!(e.0, AT_NULL | AT_RANDOM | AT_EXECFN | AT_PLATFORM) {
            return Err(StackError::ReservedAuxEntry(e.0));
        }
    }
    let too_large = |needed: u64| StackError::TooLarge { needed, limit };

    // Sizes first, all checked against the limit before anything is allocated.
    let string_size = |s: &[u8]| -> Result<u64, StackError> {
        if s.contains(&0) {
            return Err(StackError::NulInString);
        }
        let n = (s.len() as u64).saturating_add(1);
        if n > MAX_ARG_STRLEN {
            return Err(StackError::StringTooLong);
        }
        Ok(n)
    };
    let mut strings_len: u64 = 0;
    for s in params.argv.iter().chain(params.envp) {
        strings_len = strings_len.saturating_add(string_size(s)?);
        if strings_len > limit {
            return Err(too_large(strings_len));
        }
    }
    let execfn_len = string_size(params.execfn)?;
    let platform_len = if params.platform.is_empty() { 0 } else { string_size(params.platform)? };

    // Walk down from the top exactly as create_elf_tables does; every step is checked.
    let down = |p: u64, n: u64| p.checked_sub(n).ok_or(StackError::BadStackTop);
    let mut p = down(stack_top, 8)?; // end marker
    p = down(p, execfn_len)?;
    let execfn_addr = p;
    p = down(p, strings_len)?;
    let strings_addr = p;
    p &= !15;
    let platform_addr = if platform_len > 0 {
        p = down(p, platform_len)?;
        Some(p)
    } else {
        None
    };
    p = down(p, 16)?;
    let random_addr = p;

    let argc = params.argv.len() as u64;
    let envc = params.envp.len() as u64;
    let aux_pairs = (params.auxv.len() as u64)
        .saturating_add(2) // AT_RANDOM, AT_EXECFN
        .saturating_add(u64::from(platform_addr.is_some()))
        .saturating_add(1); // AT_NULL
    let words = 1u64 // argc
        .saturating_add(argc.saturating_add(1))
        .saturating_add(envc.saturating_add(1))
        .saturating_add(aux_pairs.saturating_mul(2));
    let table_bytes = words.saturating_mul(8);
    let needed = (stack_top - p).saturating_add(table_bytes);
    if needed > limit {
        return Err(too_large(needed));
    }
    let sp = down(p, table_bytes)? & !15;
    let total = stack_top - sp;
    if total > limit {
        return Err(too_large(total));
    }
    let len = usize::try_from(total).map_err(|_| too_large(total))?;

    // Now fill the image. `off(addr)` is the index of a stack address in `bytes`;
    // every address below lies in [sp, stack_top), so the subtraction cannot wrap.
    let mut bytes = vec![0u8; len];
    let off = |addr: u64| (addr - sp) as usize;
    let put = |bytes: &mut [u8], addr: u64, data: &[u8]| {
        let start = off(addr);
        if let Some(dst) = bytes.get_mut(start..start.saturating_add(data.len())) {
            dst.copy_from_slice(data);
        }
    };

    put(&mut bytes, execfn_addr, params.execfn); // NUL: already zero
    let mut cursor = strings_addr;
    let mut argv_ptrs = Vec::with_capacity(params.argv.len());
    for s in params.argv {
        argv_ptrs.push(cursor);
        put(&mut bytes, cursor, s);
        cursor += s.len() as u64 + 1;
    }
    let mut envp_ptrs = Vec::with_capacity(params.envp.len());
    for s in params.envp {
        envp_ptrs.push(cursor);
        put(&mut bytes, cursor, s);
        cursor += s.len() as u64 + 1;
    }
    if let Some(addr) = platform_addr {
        put(&mut bytes, addr, params.platform);
    }
    put(&mut bytes, random_addr, &params.random);

    // The word table, from sp upwards.
    let mut w = sp;
    let mut word = |bytes: &mut [u8], v: u64| {
        put(bytes, w, &v.to_le_bytes());
        w += 8;
    };
    word(&mut bytes, argc);
    for &a in &argv_ptrs {
        word(&mut bytes, a);
    }
    word(&mut bytes, 0);
    for &e in &envp_ptrs {
        word(&mut bytes, e);
    }
    word(&mut bytes, 0);
    for e in params.auxv {
        word(&mut bytes, e.0);
        word(&mut bytes, e.1);
    }
    word(&mut bytes, AT_RANDOM);
    word(&mut bytes, random_addr);
    word(&mut bytes, AT_EXECFN);
    word(&mut bytes, execfn_addr);
    if let Some(addr) = platform_addr {
        word(&mut bytes, AT_PLATFORM);
        word(&mut bytes, addr);
    }
    word(&mut bytes, AT_NULL);
    word(&mut bytes, 0);

    Ok(InitialStack { bytes, sp })
}
