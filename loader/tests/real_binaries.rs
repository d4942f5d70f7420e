//! `parse` on real programs built by the system's compilers at test time, cross-checked
//! against goblin's full ELF parser as an independent oracle.

mod common;

use std::collections::BTreeMap;

use common::*;
use unify_loader::stack::{auxv::*, auxv_for};
use unify_loader::{parse, ElfKind, LoadError, PAGE_SIZE};

/// Checks a plan against goblin's own reading of the same file.
fn cross_check(name: &str, bytes: &[u8], plan: &unify_loader::LoadPlan) {
    let elf = goblin::elf::Elf::parse(bytes).expect("goblin parses real binary");
    assert_eq!(plan.entry, elf.header.e_entry, "{name}");
    assert_eq!(plan.phnum, elf.header.e_phnum, "{name}");
    let mut loads: Vec<_> = elf
        .program_headers
        .iter()
        .filter(|p| p.p_type == goblin::elf::program_header::PT_LOAD && p.p_memsz > 0)
        .collect();
    loads.sort_by_key(|p| p.p_vaddr);
    assert_eq!(loads.len(), plan.segments.len(), "{name}");
    for (p, s) in loads.iter().zip(&plan.segments) {
        assert_eq!(
            (p.p_vaddr, p.p_memsz, p.p_offset, p.p_filesz),
            (s.vaddr, s.memsz, s.file_offset, s.filesz),
            "{name}"
        );
        assert_eq!((p.is_read(), p.is_write(), p.is_executable()), (s.prot.read, s.prot.write, s.prot.exec), "{name}");
    }
    // AT_PHDR must point at a copy of the program header table.
    let phoff = elf.header.e_phoff;
    let table = &bytes[phoff as usize..phoff as usize + 56 * plan.phnum as usize];
    let mut image = BTreeMap::new();
    plan.copy_segments(
        bytes,
        0,
        |addr, data| {
            image.insert(addr, data.to_vec());
        },
        |_, _| {},
    );
    let (start, data) = image.range(..=plan.phdr_vaddr).next_back().expect("phdr_vaddr inside a copied segment");
    let off = (plan.phdr_vaddr - start) as usize;
    assert_eq!(&data[off..off + table.len()], table, "{name}: AT_PHDR does not point at the program headers");
    // PT_TLS agrees.
    let tls = elf.program_headers.iter().find(|p| p.p_type == goblin::elf::program_header::PT_TLS);
    assert_eq!(
        tls.map(|t| (t.p_vaddr, t.p_memsz, t.p_filesz)),
        plan.tls.as_ref().map(|t| (t.vaddr, t.memsz, t.filesz)),
        "{name}"
    );
}

#[test]
fn real_static_binaries_parse() {
    let bins = real_static_binaries();
    if bins.is_empty() {
        eprintln!("note: no compiler produced a static binary; nothing to check");
        return;
    }
    for (name, bytes) in bins {
        let plan = parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_plan_invariants(&plan, bytes);
        cross_check(name, bytes, &plan);
        assert!(!plan.stack_executable, "{name}: modern toolchains mark the stack non-executable");
        eprintln!(
            "{name}: {:?}, {} segments, span {:#x}..{:#x}",
            plan.kind,
            plan.segments.len(),
            plan.span_start,
            plan.span_end
        );
    }
}

/// The prefix `needed_len` asks for is enough: parsing it gives the same plan and
/// the same segment bytes as parsing the whole file.
#[test]
fn needed_len_prefix_parses_like_the_whole_file() {
    for (name, bytes) in real_static_binaries() {
        let n = unify_loader::needed_len(&bytes[..bytes.len().min(4096)]).expect(name) as usize;
        assert!(n <= bytes.len(), "{name}");
        let whole = parse(bytes).unwrap();
        let prefix = parse(&bytes[..n]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(format!("{whole:?}"), format!("{prefix:?}"), "{name}");
        for seg in &whole.segments {
            assert_eq!(seg.file_bytes(bytes), seg.file_bytes(&bytes[..n]), "{name}");
        }
    }
    assert_eq!(unify_loader::needed_len(b"#!/bin/sh"), None);
}

#[test]
fn static_exec_is_exec() {
    let Some(bytes) = c_static() else { return };
    let plan = parse(bytes).unwrap();
    assert_eq!(plan.kind, ElfKind::Exec);
    assert!(!plan.is_pie());
    assert!(plan.fits_at(0));
    assert!(!plan.fits_at(0x1000));
    assert!(plan.tls.is_some(), "the C program has a __thread variable");
}

#[test]
fn static_pie_is_static_pie() {
    for (name, bin) in [("cc -static-pie", c_static_pie()), ("rustc crt-static", rust_crt_static())] {
        let Some(bytes) = bin else { continue };
        let elf = goblin::elf::Elf::parse(bytes).unwrap();
        assert!(elf.dynamic.is_some(), "{name}: a static-pie has PT_DYNAMIC");
        let plan = parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(plan.kind, ElfKind::StaticPie, "{name}");
        assert!(plan.is_pie());
        assert_eq!(plan.span_start, 0, "{name}: a PIE is linked at 0");
        assert!(plan.fits_at(unify_loader::DEFAULT_PIE_BASE));
        assert!(!plan.fits_at(unify_loader::DEFAULT_PIE_BASE + 1));
        assert!(!plan.fits_at(unify_loader::USER_END - PAGE_SIZE));
    }
}

#[test]
fn copy_segments_places_file_bytes_and_reports_bss_tail() {
    for (name, bytes) in real_static_binaries() {
        let plan = parse(bytes).unwrap();
        let base = if plan.is_pie() { unify_loader::DEFAULT_PIE_BASE } else { 0 };
        let mut writes = Vec::new();
        let mut zeros = Vec::new();
        plan.copy_segments(bytes, base, |a, d| writes.push((a, d.len())), |a, l| zeros.push((a, l)));
        let with_file: Vec<_> = plan.segments.iter().filter(|s| s.filesz > 0).collect();
        assert_eq!(writes.len(), with_file.len(), "{name}");
        for ((a, len), s) in writes.iter().zip(&with_file) {
            assert_eq!((*a, *len as u64), (base + s.vaddr, s.filesz));
        }
        for (a, l) in &zeros {
            let s = plan
                .segments
                .iter()
                .find(|s| base + s.vaddr + s.filesz == *a)
                .expect("zero starts at a segment's file end");
            assert!(*l > 0 && *l <= s.memsz - s.filesz);
            assert!((a + l) % PAGE_SIZE == 0 || a + l == base + s.vaddr + s.memsz, "stops at page end or segment end");
            assert_eq!(a / PAGE_SIZE, (a + l - 1) / PAGE_SIZE, "stays within one page");
        }
        assert!(!zeros.is_empty(), "{name}: the data segment has .bss sharing a page with data");
    }
}

#[test]
fn auxv_for_real_binaries() {
    for (name, bytes) in real_static_binaries() {
        let plan = parse(bytes).unwrap();
        let base = if plan.is_pie() { 0x5555_0000_0000 } else { 0 };
        let aux: BTreeMap<u64, u64> = auxv_for(&plan, base).into_iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(aux[&AT_PHDR], base + plan.phdr_vaddr, "{name}");
        assert_eq!(aux[&AT_PHENT], 56);
        assert_eq!(aux[&AT_PHNUM], u64::from(plan.phnum));
        assert_eq!(aux[&AT_PAGESZ], 4096);
        assert_eq!(aux[&AT_BASE], 0);
        assert_eq!(aux[&AT_FLAGS], 0);
        assert_eq!(aux[&AT_ENTRY], base + plan.entry);
        assert_eq!(aux.len(), 7);
    }
}

fn assert_dynamic(bytes: &[u8], what: &str) {
    match parse(bytes) {
        Err(e @ LoadError::DynamicallyLinked { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("build it statically"), "{msg}");
            assert!(!msg.contains('\n'));
            eprintln!("{what}: {msg}");
        }
        other => panic!("{what}: expected DynamicallyLinked, got {other:?}"),
    }
}

#[test]
fn bin_ls_is_dynamically_linked() {
    let Ok(bytes) = std::fs::read("/bin/ls") else {
        eprintln!("note: no /bin/ls here; skipping");
        return;
    };
    assert_dynamic(&bytes, "/bin/ls");
    if let Err(LoadError::DynamicallyLinked { interpreter }) = parse(&bytes) {
        assert!(interpreter.contains("ld-linux"), "{interpreter}");
    }
}

#[test]
fn dynamically_linked_c_program() {
    if let Some(b) = c_dynamic() {
        assert_dynamic(b, "cc (dynamic)");
    }
}

#[test]
fn shared_library_needing_libc_is_refused() {
    // A shared library has no PT_INTERP but lists DT_NEEDED.
    for path in ["/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"] {
        if let Ok(bytes) = std::fs::read(path) {
            let elf = goblin::elf::Elf::parse(&bytes).unwrap();
            if elf.interpreter.is_none() && !elf.libraries.is_empty() {
                assert_eq!(parse(&bytes).unwrap_err(), LoadError::DynamicallyLinked { interpreter: String::new() });
                return;
            }
        }
    }
    eprintln!("note: no suitable shared library found; skipping");
}

#[test]
fn text_file_is_not_elf() {
    let text = b"Hello, this is a plain text file.\nIt is not a program.\n";
    assert_eq!(parse(text).unwrap_err(), LoadError::NotElf);
    assert_eq!(parse(b"").unwrap_err(), LoadError::NotElf);
    assert_eq!(parse(b"\x7fEL").unwrap_err(), LoadError::NotElf);
    assert_eq!(parse(b"#!/bin/sh\n").unwrap_err().to_string(), "not an ELF executable (bad magic)");
    if let Ok(src) = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")) {
        assert_eq!(parse(&src).unwrap_err(), LoadError::NotElf);
    }
}

#[test]
fn object_file_is_not_executable() {
    // An ET_REL made by the compiler, if there is one.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("unify-loader-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("obj.c");
    std::fs::write(&src, "int f(void) { return 1; }\n").unwrap();
    let obj = dir.join("obj.o");
    let ok = std::process::Command::new("cc")
        .args(["-c", "-o"])
        .arg(&obj)
        .arg(&src)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("note: cc -c failed; skipping");
        return;
    }
    let bytes = std::fs::read(&obj).unwrap();
    let err = parse(&bytes).unwrap_err();
    assert_eq!(err, LoadError::NotExecutable(1));
    assert!(err.to_string().contains("relocatable object"), "{err}");
}
