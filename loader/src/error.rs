//! Why a file cannot be loaded, in one line a user can act on.

use alloc::string::String;
use core::fmt;

/// How to get a static build, appended to every "dynamically linked" message.
const BUILD_STATIC_HINT: &str = "build it statically: RUSTFLAGS='-C target-feature=+crt-static' \
     cargo build --target x86_64-unknown-linux-gnu, or musl-gcc -static";

/// The reasons [`parse`](crate::parse) refuses a file.
///
/// `Display` renders each as a single line with no trailing period, meant to follow the
/// file name: `unify: ./server: dynamically linked (interpreter …); build it statically: …`.
/// The variants carry just enough data to say what is wrong; the program header index in
/// [`SegmentTruncated`](LoadError::SegmentTruncated) is the one `readelf -l` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The file does not start with `\x7fELF`.
    NotElf,
    /// A 32-bit ELF (`ELFCLASS32`), e.g. an i386 or x32 program.
    Not64Bit,
    /// Built for another architecture; carries `e_machine`.
    WrongMachine(u16),
    /// A big-endian ELF (`ELFDATA2MSB`).
    WrongEndian,
    /// Neither `ET_EXEC` nor `ET_DYN` (an object file, a core dump, …); carries `e_type`.
    NotExecutable(u16),
    /// The program needs a dynamic linker or shared libraries, which unify does not
    /// provide. `interpreter` is the `PT_INTERP` path, or empty when the file names no
    /// interpreter but its dynamic section lists `DT_NEEDED` libraries.
    DynamicallyLinked {
        /// The requested program interpreter, e.g. `/lib64/ld-linux-x86-64.so.2`.
        interpreter: String,
    },
    /// A header the loader needs lies (partly) past the end of the file.
    Truncated {
        /// What was cut off, e.g. `"ELF header"` or `"program header table"`.
        what: &'static str,
    },
    /// The file bytes of a segment lie (partly) past the end of the file.
    SegmentTruncated {
        /// Index of the segment in the program header table (as `readelf -l` counts).
        index: u16,
    },
    /// The ELF header is self-inconsistent or uses a feature unify does not support.
    BadHeader(&'static str),
    /// Two `PT_LOAD` segments claim the same bytes of memory.
    OverlappingSegments,
    /// A segment (or the entry point) is malformed; says why.
    BadSegment(&'static str),
    /// There is no `PT_LOAD` segment with a non-zero memory size.
    NoLoadableSegments,
}

impl LoadError {
    /// The errno Linux's `execve` returns for the same file: `ENOEXEC` (8) for most
    /// malformed or foreign files, `ENOENT` (2) when the interpreter of a dynamically
    /// linked program is missing (which, under unify, it always is), `EINVAL` (22) for
    /// segments that cannot be mapped.
    pub fn errno(&self) -> i32 {
        const ENOENT: i32 = 2;
        const ENOEXEC: i32 = 8;
        const EINVAL: i32 = 22;
        match self {
            LoadError::DynamicallyLinked { .. } => ENOENT,
            LoadError::OverlappingSegments | LoadError::BadSegment(_) => EINVAL,
            _ => ENOEXEC,
        }
    }
}

/// A readable name for the common `e_machine` values.
fn machine_name(machine: u16) -> &'static str {
    match machine {
        0 => "none",
        2 => "SPARC",
        3 => "i386",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "s390",
        40 => "ARM",
        43 => "SPARC V9",
        50 => "IA-64",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        247 => "BPF",
        258 => "LoongArch",
        _ => "unknown",
    }
}

/// A readable name for the `e_type` values that are not executables.
fn type_name(e_type: u16) -> &'static str {
    match e_type {
        0 => "no file type",
        1 => "a relocatable object file (.o)",
        4 => "a core dump",
        0xfe00..=0xfeff => "an OS-specific file type",
        0xff00..=0xffff => "a processor-specific file type",
        _ => "an unknown file type",
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotElf => f.write_str("not an ELF executable (bad magic)"),
            LoadError::Not64Bit => f.write_str("is a 32-bit ELF; unify runs x86-64 (64-bit) programs only"),
            LoadError::WrongMachine(m) => write!(f, "built for machine {m} ({}), not x86-64", machine_name(*m)),
            LoadError::WrongEndian => f.write_str("is a big-endian ELF; unify runs little-endian x86-64 programs only"),
            LoadError::NotExecutable(t) => write!(
                f,
                "not an executable: ELF type {t} is {}; unify runs ET_EXEC and static-pie programs",
                type_name(*t)
            ),
            LoadError::DynamicallyLinked { interpreter } if interpreter.is_empty() => {
                write!(f, "dynamically linked (needs shared libraries); {BUILD_STATIC_HINT}")
            }
            LoadError::DynamicallyLinked { interpreter } => {
                write!(f, "dynamically linked (interpreter {}); {BUILD_STATIC_HINT}", interpreter.escape_debug())
            }
            LoadError::Truncated { what } => {
                write!(f, "truncated: the {what} extends past the end of the file")
            }
            LoadError::SegmentTruncated { index } => {
                write!(f, "truncated: segment {index} extends past the end of the file")
            }
            LoadError::BadHeader(why) => write!(f, "bad ELF header: {why}"),
            LoadError::OverlappingSegments => {
                f.write_str("bad program headers: two loadable segments overlap in memory")
            }
            LoadError::BadSegment(why) => write!(f, "bad segment: {why}"),
            LoadError::NoLoadableSegments => {
                f.write_str("has no loadable (PT_LOAD) segments, so there is nothing to run")
            }
        }
    }
}

impl core::error::Error for LoadError {}
