//! Shared test helpers: real binaries built at test time, a tiny ELF writer for
//! hand-made edge cases, the invariants every accepted plan must satisfy, and a decoder
//! for built stacks.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use unify_loader::{page_down, ElfKind, LoadPlan, PAGE_SIZE, USER_END};

/// A small C program with data, `.bss` and TLS, so every segment kind shows up.
const C_SOURCE: &str = r#"
#include <stdio.h>
__thread int tls_counter = 3;
static char big_bss[1 << 16];
int data_value = 42;
int main(int argc, char **argv) {
    big_bss[argc] = 1;
    printf("%d %d %d %s\n", argc, data_value, tls_counter + big_bss[argc], argv[0]);
    return 0;
}
"#;

const RUST_SOURCE: &str = r#"
fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("{} args", args.len());
}
"#;

fn tmpdir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("unify-loader-tests");
    std::fs::create_dir_all(&dir).expect("create test tmpdir");
    dir
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

/// Compiles `source` with `tool args… -o OUT SRC` unless an output built from the same
/// source and arguments already exists; returns its bytes, or `None` (with a note) when
/// it can't. `ext` is the source file's extension.
fn compile(tool: &str, args: &[&str], ext: &str, source: &str, out: &str) -> Option<Vec<u8>> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (tool, args, source).hash(&mut h);
    let out = &format!("{out}-{:016x}", h.finish());
    let dir = tmpdir();
    let out_path = dir.join(out);
    if let Ok(bytes) = std::fs::read(&out_path) {
        return Some(bytes);
    }
    if !have(tool) {
        eprintln!("note: `{tool}` not found; skipping the {out} test binary");
        return None;
    }
    let src = dir.join(format!("{out}.{ext}"));
    std::fs::write(&src, source).expect("write test source");
    // Build to a unique name, then rename, so concurrent test threads never see a
    // half-written file.
    let tmp_out = dir.join(format!("{out}.{}.{:?}", std::process::id(), std::thread::current().id()));
    let status = Command::new(tool).args(args).arg("-o").arg(&tmp_out).arg(&src).output();
    match status {
        Ok(o) if o.status.success() => {
            std::fs::rename(&tmp_out, &out_path).expect("rename test binary");
            std::fs::read(&out_path).ok()
        }
        Ok(o) => {
            eprintln!(
                "note: `{tool} {args:?}` failed; skipping the {out} test binary:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("note: could not run `{tool}`: {e}; skipping the {out} test binary");
            None
        }
    }
}

macro_rules! cached {
    ($name:ident, $body:expr) => {
        pub fn $name() -> Option<&'static [u8]> {
            static CELL: OnceLock<Option<Vec<u8>>> = OnceLock::new();
            CELL.get_or_init(|| $body).as_deref()
        }
    };
}

cached!(c_static, compile("cc", &["-static", "-O1"], "c", C_SOURCE, "c-static"));
cached!(c_static_pie, compile("cc", &["-static-pie", "-fPIE", "-O1"], "c", C_SOURCE, "c-static-pie"));
cached!(c_dynamic, compile("cc", &["-O1"], "c", C_SOURCE, "c-dynamic"));
cached!(musl_static, compile("musl-gcc", &["-static", "-O1"], "c", C_SOURCE, "musl-static"));
cached!(
    rust_crt_static,
    compile(
        "rustc",
        &["-C", "target-feature=+crt-static", "--target", "x86_64-unknown-linux-gnu", "-C", "opt-level=1"],
        "rs",
        RUST_SOURCE,
        "rust-crt-static"
    )
);

/// Every real static binary we could build, with a label.
pub fn real_static_binaries() -> Vec<(&'static str, &'static [u8])> {
    let mut v = Vec::new();
    for (name, f) in [
        ("cc -static", c_static as fn() -> Option<&'static [u8]>),
        ("cc -static-pie", c_static_pie),
        ("musl-gcc -static", musl_static),
        ("rustc crt-static", rust_crt_static),
    ] {
        if let Some(b) = f() {
            v.push((name, b));
        }
    }
    v
}

/// The smallest real static binary available, for mutation tests (fast to clone).
pub fn small_real_binary() -> Option<&'static [u8]> {
    real_static_binaries().into_iter().map(|(_, b)| b).min_by_key(|b| b.len())
}

/// Asserts what every `Ok` from `parse` promises.
pub fn assert_plan_invariants(plan: &LoadPlan, file: &[u8]) {
    assert!(!plan.segments.is_empty());
    for s in &plan.segments {
        let file_end = s.file_offset.checked_add(s.filesz).expect("file range overflows");
        assert!(file_end <= file.len() as u64, "segment past end of file: {s:?}");
        assert!(s.filesz <= s.memsz, "{s:?}");
        assert!(s.memsz > 0, "{s:?}");
        let end = s.vaddr.checked_add(s.memsz).expect("memory range overflows");
        assert!(end <= USER_END, "{s:?}");
        if plan.kind == ElfKind::Exec {
            assert!(s.vaddr >= 0x10000, "{s:?}");
        }
        assert!(s.file_bytes(file).is_some());
    }
    for w in plan.segments.windows(2) {
        assert!(w[0].vaddr <= w[1].vaddr, "not sorted");
        assert!(w[0].vaddr + w[0].memsz <= w[1].vaddr, "overlap: {:?} {:?}", w[0], w[1]);
    }
    assert_eq!(plan.span_start % PAGE_SIZE, 0);
    assert_eq!(plan.span_end % PAGE_SIZE, 0);
    assert!(plan.span_start <= plan.segments[0].vaddr);
    assert!(plan.segments.iter().all(|s| s.vaddr + s.memsz <= plan.span_end));
    assert_eq!(plan.span_start, page_down(plan.segments[0].vaddr));
    assert!(plan.span_end <= USER_END);
    assert!(plan.segments.iter().any(|s| s.prot.exec && s.vaddr <= plan.entry && plan.entry < s.vaddr + s.memsz));
    assert_eq!(plan.phent, 56);
    if let Some(t) = &plan.tls {
        assert!(t.filesz <= t.memsz);
        assert!(t.file_offset + t.filesz <= file.len() as u64);
    }
    // Page regions: ascending, page-aligned, non-overlapping, covering every segment.
    let regions = plan.page_regions(0);
    for r in &regions {
        assert!(r.start < r.end && r.start % PAGE_SIZE == 0 && r.end % PAGE_SIZE == 0);
    }
    for w in regions.windows(2) {
        assert!(w[0].end <= w[1].start, "{regions:?}");
    }
    for s in &plan.segments {
        let (a, b) = s.page_range();
        let mut covered = a;
        for r in regions.iter().filter(|r| r.end > a && r.start < b) {
            assert_eq!(r.start, covered, "gap in region cover of {s:?}: {regions:?}");
            assert!(
                (!s.prot.read || r.prot.read) && (!s.prot.write || r.prot.write) && (!s.prot.exec || r.prot.exec),
                "region weaker than segment"
            );
            covered = r.end;
        }
        assert!(covered >= b, "segment not covered: {s:?} {regions:?}");
    }
}

/// One program header for [`ElfWriter`].
#[derive(Clone, Copy, Debug)]
pub struct Ph {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const R: u32 = 4;
pub const W: u32 = 2;
pub const X: u32 = 1;

impl Ph {
    pub fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
        Ph { p_type: PT_LOAD, flags, offset, vaddr, filesz, memsz, align: 0x1000 }
    }
    pub fn other(p_type: u32, flags: u32, offset: u64, vaddr: u64, size: u64) -> Ph {
        Ph { p_type, flags, offset, vaddr, filesz: size, memsz: size, align: 8 }
    }
}

/// Writes a minimal x86-64 ELF: header, program headers at offset 64, and zero bytes up
/// to `file_len`; callers poke payload bytes in afterwards.
pub struct ElfWriter {
    pub e_type: u16,
    pub machine: u16,
    pub entry: u64,
    pub phdrs: Vec<Ph>,
    pub file_len: usize,
}

impl ElfWriter {
    /// A valid two-segment ET_EXEC: text at 0x401000 (file 0x1000), data+bss at 0x402000.
    pub fn exec() -> ElfWriter {
        ElfWriter {
            e_type: 2,
            machine: 62,
            entry: 0x401000,
            phdrs: vec![
                Ph::load(R, 0, 0x400000, 0x1000, 0x1000),
                Ph::load(R | X, 0x1000, 0x401000, 0x100, 0x100),
                Ph::load(R | W, 0x2000, 0x402000, 0x80, 0x3000),
            ],
            file_len: 0x2080,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; self.file_len.max(64 + 56 * self.phdrs.len())];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2; // ELFCLASS64
        b[5] = 1; // little endian
        b[6] = 1; // EV_CURRENT
        b[16..18].copy_from_slice(&self.e_type.to_le_bytes());
        b[18..20].copy_from_slice(&self.machine.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&self.entry.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        b[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        b[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        b[56..58].copy_from_slice(&(self.phdrs.len() as u16).to_le_bytes());
        for (i, p) in self.phdrs.iter().enumerate() {
            let o = 64 + 56 * i;
            b[o..o + 4].copy_from_slice(&p.p_type.to_le_bytes());
            b[o + 4..o + 8].copy_from_slice(&p.flags.to_le_bytes());
            b[o + 8..o + 16].copy_from_slice(&p.offset.to_le_bytes());
            b[o + 16..o + 24].copy_from_slice(&p.vaddr.to_le_bytes());
            b[o + 24..o + 32].copy_from_slice(&p.vaddr.to_le_bytes());
            b[o + 32..o + 40].copy_from_slice(&p.filesz.to_le_bytes());
            b[o + 40..o + 48].copy_from_slice(&p.memsz.to_le_bytes());
            b[o + 48..o + 56].copy_from_slice(&p.align.to_le_bytes());
        }
        b
    }
}

/// Offsets of the ELF header fields and program header fields, for targeted mutation.
pub const HEADER_FIELDS: &[(usize, usize)] = &[(4, 1), (5, 1), (16, 2), (18, 2), (24, 8), (32, 8), (54, 2), (56, 2)];
pub const PHDR_FIELDS: &[(usize, usize)] = &[(0, 4), (4, 4), (8, 8), (16, 8), (32, 8), (40, 8), (48, 8)];

/// A built stack, read back the way a program's `_start` reads it.
#[derive(Debug)]
pub struct DecodedStack {
    pub argc: u64,
    pub argv: Vec<Vec<u8>>,
    pub argv_ptrs: Vec<u64>,
    pub envp: Vec<Vec<u8>>,
    pub envp_ptrs: Vec<u64>,
    pub auxv: Vec<(u64, u64)>,
    /// Address one past the AT_NULL pair.
    pub end_of_auxv: u64,
}

impl DecodedStack {
    pub fn aux(&self, key: u64) -> Option<u64> {
        self.auxv.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }
}

/// Reads memory at a stack address from the image `[sp, sp + bytes.len())`.
pub fn read_u64(bytes: &[u8], sp: u64, addr: u64) -> u64 {
    let o = (addr - sp) as usize;
    u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap())
}

/// Reads a NUL-terminated string at a stack address.
pub fn read_cstr(bytes: &[u8], sp: u64, addr: u64) -> Vec<u8> {
    let o = (addr - sp) as usize;
    let n = bytes[o..].iter().position(|&b| b == 0).expect("string not terminated");
    bytes[o..o + n].to_vec()
}

pub fn decode_stack(bytes: &[u8], sp: u64) -> DecodedStack {
    let mut p = sp;
    let argc = read_u64(bytes, sp, p);
    p += 8;
    let mut argv_ptrs = Vec::new();
    loop {
        let a = read_u64(bytes, sp, p);
        p += 8;
        if a == 0 {
            break;
        }
        argv_ptrs.push(a);
    }
    let mut envp_ptrs = Vec::new();
    loop {
        let a = read_u64(bytes, sp, p);
        p += 8;
        if a == 0 {
            break;
        }
        envp_ptrs.push(a);
    }
    let mut auxv = Vec::new();
    loop {
        let k = read_u64(bytes, sp, p);
        let v = read_u64(bytes, sp, p + 8);
        p += 16;
        auxv.push((k, v));
        if k == 0 {
            break;
        }
    }
    DecodedStack {
        argc,
        argv: argv_ptrs.iter().map(|&a| read_cstr(bytes, sp, a)).collect(),
        envp: envp_ptrs.iter().map(|&a| read_cstr(bytes, sp, a)).collect(),
        argv_ptrs,
        envp_ptrs,
        auxv,
        end_of_auxv: p,
    }
}

/// A tiny deterministic PRNG (xorshift64*), so mutation loops are reproducible.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}
