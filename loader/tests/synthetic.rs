//! Hand-made ELF files, one validation rule at a time.

mod common;

use common::*;
use unify_loader::{parse, ElfKind, LoadError, PageRegion, Prot};

fn err(w: &ElfWriter) -> LoadError {
    parse(&w.bytes()).expect_err("expected an error")
}

#[test]
fn minimal_exec_is_accepted() {
    let w = ElfWriter::exec();
    let bytes = w.bytes();
    let plan = parse(&bytes).unwrap();
    assert_plan_invariants(&plan, &bytes);
    assert_eq!(plan.kind, ElfKind::Exec);
    assert_eq!(plan.entry, 0x401000);
    assert_eq!(plan.segments.len(), 3);
    assert_eq!(plan.phdr_vaddr, 0x400040, "computed from the PT_LOAD covering e_phoff");
    assert_eq!((plan.span_start, plan.span_end), (0x400000, 0x405000));
    assert_eq!(plan.phnum, 3);
    assert!(!plan.stack_executable);
    assert!(plan.tls.is_none());
    assert_eq!(plan.max_align, 0x1000);
    assert_eq!(plan.segments[2].prot, Prot { read: true, write: true, exec: false });
    assert_eq!(plan.segments[2].prot.to_mmap_prot(), 3);
}

#[test]
fn static_pie_with_dynamic_but_no_needed_is_accepted() {
    let mut w = ElfWriter::exec();
    w.e_type = 3;
    w.entry = 0x1000;
    w.phdrs = vec![
        Ph::load(R, 0, 0, 0x1000, 0x1000),
        Ph::load(R | X, 0x1000, 0x1000, 0x100, 0x100),
        Ph::load(R | W, 0x1100, 0x2100, 0x100, 0x200),
        // PT_DYNAMIC with DT_RELA (7) then DT_NULL.
        Ph::other(PT_DYNAMIC, R | W, 0x1100, 0x2100, 0x20 + 0x10),
    ];
    w.file_len = 0x1200;
    let mut bytes = w.bytes();
    bytes[0x1100..0x1108].copy_from_slice(&7u64.to_le_bytes());
    let plan = parse(&bytes).unwrap();
    assert_eq!(plan.kind, ElfKind::StaticPie);
    assert_eq!(plan.phdr_vaddr, 0x40);
    assert_plan_invariants(&plan, &bytes);

    // The same with a DT_NEEDED entry is a dynamically linked program.
    bytes[0x1110..0x1118].copy_from_slice(&1u64.to_le_bytes()); // DT_NEEDED
    assert_eq!(parse(&bytes).unwrap_err(), LoadError::DynamicallyLinked { interpreter: String::new() });
    // …but a DT_NEEDED after DT_NULL does not count.
    bytes[0x1110..0x1118].copy_from_slice(&0u64.to_le_bytes());
    bytes[0x1120..0x1128].copy_from_slice(&1u64.to_le_bytes());
    assert!(parse(&bytes).is_ok());
}

#[test]
fn exec_with_needed_is_dynamically_linked() {
    let mut w = ElfWriter::exec();
    w.phdrs.push(Ph::other(PT_DYNAMIC, R | W, 0x2000, 0x402000, 0x20));
    let mut bytes = w.bytes();
    bytes[0x2000..0x2008].copy_from_slice(&1u64.to_le_bytes()); // DT_NEEDED
    let e = parse(&bytes).unwrap_err();
    assert_eq!(e, LoadError::DynamicallyLinked { interpreter: String::new() });
    assert_eq!(
        e.to_string(),
        "dynamically linked (needs shared libraries); build it statically: \
         RUSTFLAGS='-C target-feature=+crt-static' cargo build --target x86_64-unknown-linux-gnu, \
         or musl-gcc -static"
    );
}

#[test]
fn interp_is_dynamically_linked_for_both_types() {
    for e_type in [2u16, 3] {
        let mut w = ElfWriter::exec();
        w.e_type = e_type;
        w.phdrs.insert(0, Ph::other(PT_INTERP, R, 0x200, 0x400200, 28));
        let mut bytes = w.bytes();
        bytes[0x200..0x200 + 27].copy_from_slice(b"/lib64/ld-linux-x86-64.so.2");
        let e = parse(&bytes).unwrap_err();
        assert_eq!(e, LoadError::DynamicallyLinked { interpreter: "/lib64/ld-linux-x86-64.so.2".into() });
        assert_eq!(
            e.to_string(),
            "dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2); build it statically: \
             RUSTFLAGS='-C target-feature=+crt-static' cargo build --target x86_64-unknown-linux-gnu, \
             or musl-gcc -static"
        );
        assert_eq!(e.errno(), 2);
    }
    // An interpreter path outside the file is still "dynamically linked".
    let mut w = ElfWriter::exec();
    w.phdrs.insert(0, Ph::other(PT_INTERP, R, u64::MAX - 4, 0, 28));
    assert!(matches!(err(&w), LoadError::DynamicallyLinked { .. }));
}

#[test]
fn identity_errors() {
    let good = ElfWriter::exec().bytes();
    let mut b = good.clone();
    b[4] = 1;
    assert_eq!(parse(&b).unwrap_err(), LoadError::Not64Bit);
    assert_eq!(LoadError::Not64Bit.to_string(), "is a 32-bit ELF; unify runs x86-64 (64-bit) programs only");
    b[4] = 9;
    assert!(matches!(parse(&b).unwrap_err(), LoadError::BadHeader(_)));
    let mut b = good.clone();
    b[5] = 2;
    assert_eq!(parse(&b).unwrap_err(), LoadError::WrongEndian);
    let mut w = ElfWriter::exec();
    w.machine = 183;
    assert_eq!(err(&w), LoadError::WrongMachine(183));
    assert_eq!(err(&w).to_string(), "built for machine 183 (AArch64), not x86-64");
    w.machine = 0x1234;
    assert_eq!(err(&w).to_string(), "built for machine 4660 (unknown), not x86-64");
    let mut w = ElfWriter::exec();
    w.e_type = 4;
    assert_eq!(err(&w), LoadError::NotExecutable(4));
    assert!(err(&w).to_string().contains("core dump"));
    // Header cut short after a valid identity.
    assert_eq!(parse(&good[..40]).unwrap_err(), LoadError::Truncated { what: "ELF header" });
    assert_eq!(parse(&good[..4]).unwrap_err(), LoadError::Truncated { what: "ELF header" });
}

#[test]
fn program_header_table_errors() {
    let mut w = ElfWriter::exec();
    w.phdrs.clear();
    assert_eq!(err(&w), LoadError::NoLoadableSegments);

    let good = ElfWriter::exec().bytes();
    let mut b = good.clone();
    b[54..56].copy_from_slice(&32u16.to_le_bytes()); // e_phentsize
    assert!(matches!(parse(&b).unwrap_err(), LoadError::BadHeader(_)));
    let mut b = good.clone();
    b[56..58].copy_from_slice(&0xffffu16.to_le_bytes()); // PN_XNUM
    assert!(matches!(parse(&b).unwrap_err(), LoadError::BadHeader(_)));
    let mut b = good.clone();
    b[56..58].copy_from_slice(&2000u16.to_le_bytes()); // > 64 KiB of headers
    assert!(matches!(parse(&b).unwrap_err(), LoadError::BadHeader(_)));
    let mut b = good.clone();
    b[56..58].copy_from_slice(&1000u16.to_le_bytes()); // fits the limit, not the file
    assert_eq!(parse(&b).unwrap_err(), LoadError::Truncated { what: "program header table" });
    let mut b = good.clone();
    b[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // e_phoff overflows
    assert_eq!(parse(&b).unwrap_err(), LoadError::Truncated { what: "program header table" });

    // Only PT_GNU_STACK, no PT_LOAD.
    let mut w = ElfWriter::exec();
    w.phdrs = vec![Ph::other(PT_GNU_STACK, R | W, 0, 0, 0)];
    assert_eq!(err(&w), LoadError::NoLoadableSegments);
}

#[test]
fn segment_errors() {
    // filesz > memsz
    let mut w = ElfWriter::exec();
    w.phdrs[2].memsz = 0x10;
    assert!(matches!(err(&w), LoadError::BadSegment(_)));

    // File bytes past the end of the file, reported with the phdr index.
    let mut w = ElfWriter::exec();
    w.phdrs[2].filesz = 0x100;
    w.phdrs[2].memsz = 0x100;
    assert_eq!(err(&w), LoadError::SegmentTruncated { index: 2 });
    assert_eq!(err(&w).to_string(), "truncated: segment 2 extends past the end of the file");
    w.phdrs[2].offset = u64::MAX - 0x10; // offset + filesz overflows
    assert_eq!(err(&w), LoadError::SegmentTruncated { index: 2 });

    // Beyond the user half / overflowing address.
    for vaddr in [0x7fff_ffff_f000u64, u64::MAX - 0x7f] {
        let mut w = ElfWriter::exec();
        w.file_len = 0x4000;
        w.phdrs[2].vaddr = vaddr;
        w.phdrs[2].offset = vaddr % 0x1000 + 0x2000;
        assert!(matches!(err(&w), LoadError::BadSegment(_)), "{vaddr:#x}");
    }

    // ET_EXEC below 0x10000.
    let mut w = ElfWriter::exec();
    w.phdrs[0].vaddr = 0x1000;
    assert!(err(&w).to_string().contains("below 0x10000"));

    // Not congruent, and non-power-of-two alignment.
    let mut w = ElfWriter::exec();
    w.phdrs[2].offset = 0x2010;
    w.file_len = 0x3000;
    assert!(err(&w).to_string().contains("congruent"));
    let mut w = ElfWriter::exec();
    w.phdrs[2].align = 0x1800;
    assert!(err(&w).to_string().contains("power of two"));
    // align 0 and 1 mean "no constraint".
    let mut w = ElfWriter::exec();
    w.phdrs[2].align = 0;
    w.phdrs[1].align = 1;
    assert!(parse(&w.bytes()).is_ok());
}

#[test]
fn overlap_rules() {
    // Two segments sharing a page but not a byte: allowed, like real linkers emit.
    let mut w = ElfWriter::exec();
    w.phdrs[1] = Ph::load(R | X, 0x1000, 0x401000, 0x100, 0x100);
    w.phdrs[2] = Ph::load(R | W, 0x1100, 0x401100, 0x80, 0x3000);
    let bytes = w.bytes();
    let plan = parse(&bytes).unwrap();
    assert_plan_invariants(&plan, &bytes);
    let rwx = Prot { read: true, write: true, exec: true };
    let rw = Prot { read: true, write: true, exec: false };
    let r = Prot { read: true, write: false, exec: false };
    assert_eq!(
        plan.page_regions(0),
        vec![
            PageRegion { start: 0x400000, end: 0x401000, prot: r },
            PageRegion { start: 0x401000, end: 0x402000, prot: rwx },
            PageRegion { start: 0x402000, end: 0x405000, prot: rw },
        ]
    );

    // One byte of real overlap: refused.
    w.phdrs[2] = Ph::load(R | W, 0x10ff, 0x4010ff, 0x80, 0x3000);
    assert_eq!(err(&w), LoadError::OverlappingSegments);
    // Identical start addresses: refused.
    w.phdrs[2] = Ph::load(R | W, 0x1000, 0x401000, 0x80, 0x3000);
    assert_eq!(err(&w), LoadError::OverlappingSegments);
    // A big segment swallowing the next ones: refused.
    let mut w = ElfWriter::exec();
    w.phdrs[0].memsz = 0x10000;
    assert_eq!(err(&w), LoadError::OverlappingSegments);
}

#[test]
fn out_of_order_segments_are_sorted() {
    let mut w = ElfWriter::exec();
    w.phdrs.reverse();
    let bytes = w.bytes();
    let plan = parse(&bytes).unwrap();
    assert_plan_invariants(&plan, &bytes);
    let v: Vec<u64> = plan.segments.iter().map(|s| s.vaddr).collect();
    assert_eq!(v, vec![0x400000, 0x401000, 0x402000]);
}

#[test]
fn three_segments_in_one_page() {
    let mut w = ElfWriter::exec();
    w.entry = 0x401000;
    w.phdrs = vec![
        Ph::load(R | X, 0, 0x401000, 0x100, 0x100),
        Ph::load(R, 0x100, 0x401100, 0x100, 0x100),
        Ph::load(R | W, 0x200, 0x401200, 0x100, 0x2000),
    ];
    w.file_len = 0x300;
    let bytes = w.bytes();
    let plan = parse(&bytes).unwrap();
    assert_plan_invariants(&plan, &bytes);
    let rwx = Prot { read: true, write: true, exec: true };
    let rw = Prot { read: true, write: true, exec: false };
    assert_eq!(
        plan.page_regions(0x1000_0000),
        vec![
            PageRegion { start: 0x1040_1000, end: 0x1040_2000, prot: rwx },
            PageRegion { start: 0x1040_2000, end: 0x1040_4000, prot: rw },
        ]
    );
    // The .bss tail that shares the page is reported, clamped to the page.
    let mut zeros = vec![];
    plan.copy_segments(&bytes, 0, |_, _| {}, |a, l| zeros.push((a, l)));
    assert_eq!(zeros, vec![(0x401300, 0xd00)]);
}

#[test]
fn entry_point_rules() {
    let mut w = ElfWriter::exec();
    w.entry = 0x402000; // in the data segment
    assert!(err(&w).to_string().contains("entry point"));
    w.entry = 0x900000; // nowhere
    assert!(matches!(err(&w), LoadError::BadSegment(_)));
    w.entry = 0;
    assert!(err(&w).to_string().contains("shared library"));
    w.entry = 0x4010ff; // last byte of text
    assert!(parse(&w.bytes()).is_ok());
}

#[test]
fn phdr_from_pt_phdr_and_fallbacks() {
    // A PT_PHDR inside a load segment wins.
    let mut w = ElfWriter::exec();
    w.phdrs.insert(0, Ph::other(PT_PHDR, R, 64, 0x400040, 56 * 4));
    let plan = parse(&w.bytes()).unwrap();
    assert_eq!(plan.phdr_vaddr, 0x400040);
    // A PT_PHDR pointing nowhere is ignored, as Linux ignores it.
    w.phdrs[0].vaddr = 0x900000;
    let plan = parse(&w.bytes()).unwrap();
    assert_eq!(plan.phdr_vaddr, 0x400040);
    // Headers not in any segment: 0, as Linux passes.
    let mut w = ElfWriter::exec();
    w.phdrs[0] = Ph::load(R, 0x1000, 0x400000, 0x0, 0x1000);
    let plan = parse(&w.bytes()).unwrap();
    assert_eq!(plan.phdr_vaddr, 0);
}

#[test]
fn tls_and_gnu_stack() {
    let mut w = ElfWriter::exec();
    w.phdrs.push(Ph::other(PT_TLS, R, 0x2000, 0x402000, 0x10));
    w.phdrs.push(Ph::other(PT_GNU_STACK, R | W | X, 0, 0, 0));
    let plan = parse(&w.bytes()).unwrap();
    let t = plan.tls.unwrap();
    assert_eq!((t.vaddr, t.filesz), (0x402000, 0x10));
    assert!(plan.stack_executable);
    // Two PT_TLS: refused. A truncated one: refused with its index.
    w.phdrs.push(Ph::other(PT_TLS, R, 0x2000, 0x402000, 0x10));
    assert!(matches!(err(&w), LoadError::BadSegment(_)));
    w.phdrs.pop();
    w.phdrs[3].filesz = 0x1000;
    w.phdrs[3].memsz = 0x1000;
    assert_eq!(err(&w), LoadError::SegmentTruncated { index: 3 });
}

#[test]
fn zero_sized_load_segments_are_dropped() {
    let mut w = ElfWriter::exec();
    w.phdrs.push(Ph::load(R, 0, 0x1000, 0, 0)); // below 0x10000 but maps nothing
    let plan = parse(&w.bytes()).unwrap();
    assert_eq!(plan.segments.len(), 3);
}

#[test]
fn copy_segments_writes_file_bytes() {
    let w = ElfWriter::exec();
    let mut bytes = w.bytes();
    bytes[0x1000..0x1004].copy_from_slice(&[0xf4, 0x90, 0x90, 0xc3]);
    bytes[0x2000] = 0xaa;
    let plan = parse(&bytes).unwrap();
    let mut writes = vec![];
    let mut zeros = vec![];
    plan.copy_segments(&bytes, 0, |a, d| writes.push((a, d.to_vec())), |a, l| zeros.push((a, l)));
    assert_eq!(writes.len(), 3);
    assert_eq!(writes[0].0, 0x400000);
    assert_eq!(writes[1], (0x401000, bytes[0x1000..0x1100].to_vec()));
    assert_eq!(writes[2], (0x402000, bytes[0x2000..0x2080].to_vec()));
    assert_eq!(zeros, vec![(0x402080, 0x1000 - 0x80)]);
    // A shorter buffer than the parsed file: segments it lacks are skipped, no panic.
    let mut n = 0;
    plan.copy_segments(&bytes[..0x1800], 0, |_, _| n += 1, |_, _| {});
    assert_eq!(n, 2);
}

#[test]
fn every_error_displays_on_one_line() {
    let all = [
        LoadError::NotElf,
        LoadError::Not64Bit,
        LoadError::WrongMachine(3),
        LoadError::WrongEndian,
        LoadError::NotExecutable(1),
        LoadError::DynamicallyLinked { interpreter: "/lib/ld-musl-x86_64.so.1".into() },
        LoadError::DynamicallyLinked { interpreter: "evil\nname".into() },
        LoadError::DynamicallyLinked { interpreter: String::new() },
        LoadError::Truncated { what: "ELF header" },
        LoadError::SegmentTruncated { index: 7 },
        LoadError::BadHeader("x"),
        LoadError::OverlappingSegments,
        LoadError::BadSegment("y"),
        LoadError::NoLoadableSegments,
    ];
    for e in all {
        let s = e.to_string();
        assert!(!s.is_empty() && !s.contains('\n') && !s.ends_with('.'), "{s:?}");
        assert!(e.errno() > 0);
    }
    assert_eq!(
        LoadError::Truncated { what: "ELF header" }.to_string(),
        "truncated: the ELF header extends past the end of the file"
    );
}
