//! The initial stack, decoded the way a program's `_start` reads it.

mod common;

use common::*;
use unify_loader::stack::{auxv::*, build, build_with_limit, AuxEntry, StackError, StackParams, MAX_ARG_STRLEN};

const TOP: u64 = 0x7fff_ffff_e000;
const RANDOM: [u8; 16] = *b"0123456789abcdef";

fn params<'a>(argv: &'a [&'a [u8]], envp: &'a [&'a [u8]], auxv: &'a [AuxEntry]) -> StackParams<'a> {
    StackParams { argv, envp, execfn: b"/bin/prog", platform: b"x86_64", random: RANDOM, auxv }
}

#[test]
fn layout_matches_linux() {
    let argv: &[&[u8]] = &[b"/bin/prog", b"hello", b"", b"w\xc3\xb6rld"];
    let envp: &[&[u8]] = &[b"HOME=/root", b"PATH=/bin:/usr/bin"];
    let aux = [AuxEntry(AT_PAGESZ, 4096), AuxEntry(AT_UID, 1000), AuxEntry(AT_HWCAP, 0x178bfbff)];
    let st = build(TOP, &params(argv, envp, &aux)).unwrap();
    let sp = st.sp;

    // Placement and alignment.
    assert_eq!(sp % 16, 0, "RSP must be 16-byte aligned at _start");
    assert_eq!(sp + st.bytes.len() as u64, TOP);

    let d = decode_stack(&st.bytes, sp);
    assert_eq!(d.argc, 4);
    assert_eq!(d.argv, argv.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
    assert_eq!(d.envp, envp.iter().map(|a| a.to_vec()).collect::<Vec<_>>());

    // auxv: the caller's entries in order, then RANDOM, EXECFN, PLATFORM, NULL.
    let keys: Vec<u64> = d.auxv.iter().map(|e| e.0).collect();
    assert_eq!(keys, vec![AT_PAGESZ, AT_UID, AT_HWCAP, AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_NULL]);
    assert_eq!(d.aux(AT_UID), Some(1000));
    assert_eq!(d.aux(AT_HWCAP), Some(0x178bfbff));
    assert_eq!(d.auxv.last(), Some(&(AT_NULL, 0)));

    let random = d.aux(AT_RANDOM).unwrap();
    let o = (random - sp) as usize;
    assert_eq!(&st.bytes[o..o + 16], &RANDOM);
    let execfn = d.aux(AT_EXECFN).unwrap();
    assert_eq!(read_cstr(&st.bytes, sp, execfn), b"/bin/prog");
    let platform = d.aux(AT_PLATFORM).unwrap();
    assert_eq!(read_cstr(&st.bytes, sp, platform), b"x86_64");

    // Top down, as create_elf_tables: 8 zero bytes, execfn, the strings (argv[0] lowest,
    // envp after argv), then platform, then the random bytes below it.
    assert_eq!(&st.bytes[st.bytes.len() - 8..], &[0; 8]);
    assert_eq!(execfn + b"/bin/prog\0".len() as u64, TOP - 8);
    let mut p = d.argv_ptrs[0];
    for (ptr, s) in d.argv_ptrs.iter().chain(&d.envp_ptrs).zip(argv.iter().chain(envp)) {
        assert_eq!(*ptr, p, "strings are contiguous, argv then envp");
        p += s.len() as u64 + 1;
    }
    assert_eq!(p, execfn, "execfn directly above the last environment string");
    assert!(platform < d.argv_ptrs[0] && platform + 7 <= d.argv_ptrs[0] & !15);
    assert_eq!(random + 16, platform, "random bytes directly below the platform string");
    assert!(d.end_of_auxv <= random, "the tables end below the random bytes");
    assert!(random - d.end_of_auxv < 16, "only alignment padding between them");
    // All pointers lie inside the image.
    for a in d.argv_ptrs.iter().chain(&d.envp_ptrs).chain([&random, &execfn, &platform]) {
        assert!(*a >= sp && *a < TOP);
    }
}

#[test]
fn empty_argv_envp_and_platform() {
    let st = build(TOP, &StackParams { argv: &[], envp: &[], execfn: b"", platform: b"", random: [0; 16], auxv: &[] })
        .unwrap();
    assert_eq!(st.sp % 16, 0);
    let d = decode_stack(&st.bytes, st.sp);
    assert_eq!(d.argc, 0);
    assert!(d.argv.is_empty() && d.envp.is_empty());
    let keys: Vec<u64> = d.auxv.iter().map(|e| e.0).collect();
    assert_eq!(keys, vec![AT_RANDOM, AT_EXECFN, AT_NULL], "no AT_PLATFORM without a platform");
    assert_eq!(read_cstr(&st.bytes, st.sp, d.aux(AT_EXECFN).unwrap()), b"");
}

#[test]
fn alignment_for_every_shape() {
    // Vary string lengths, counts, auxv size and a misaligned stack top.
    let strings: Vec<Vec<u8>> = (0..40).map(|i| vec![b'a' + (i % 26) as u8; i]).collect();
    for top_misalign in [0u64, 1, 8, 15] {
        for argc in 0..6 {
            for envc in 0..6 {
                for naux in 0..4 {
                    let argv: Vec<&[u8]> = strings[argc..argc * 2].iter().map(Vec::as_slice).collect();
                    let envp: Vec<&[u8]> = strings[envc * 3..envc * 4].iter().map(Vec::as_slice).collect();
                    let aux: Vec<AuxEntry> = (0..naux).map(|i| AuxEntry(100 + i, i)).collect();
                    let top = TOP - top_misalign;
                    let st = build(top, &params(&argv, &envp, &aux)).unwrap();
                    assert_eq!(st.sp % 16, 0);
                    assert_eq!(st.sp + st.bytes.len() as u64, top);
                    let d = decode_stack(&st.bytes, st.sp);
                    assert_eq!(d.argc as usize, argv.len());
                    assert_eq!(d.argv, argv.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
                    assert_eq!(d.envp, envp.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
                    assert_eq!(d.auxv.len() as u64, naux + 4);
                    assert!(st.bytes.len() < 2000, "no waste");
                }
            }
        }
    }
}

#[test]
fn errors() {
    // Reserved auxv entries are refused (AT_NULL would end the vector early).
    for key in [AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM] {
        let aux = [AuxEntry(key, 1)];
        assert_eq!(build(TOP, &params(&[], &[], &aux)).unwrap_err(), StackError::ReservedAuxEntry(key));
    }
    // Interior NUL.
    let e = build(TOP, &params(&[b"a\0b"], &[], &[])).unwrap_err();
    assert_eq!(e, StackError::NulInString);
    assert_eq!(e.errno(), 22);
    // One string too long (E2BIG), even though the total would fit a bigger limit.
    let long = vec![b'x'; MAX_ARG_STRLEN as usize];
    let e = build(TOP, &params(&[&long], &[], &[])).unwrap_err();
    assert_eq!(e, StackError::StringTooLong);
    assert_eq!(e.errno(), 7);
    let just_fits = vec![b'x'; MAX_ARG_STRLEN as usize - 1];
    assert!(build(TOP, &params(&[&just_fits], &[], &[])).is_ok());
    // Too many strings in total (E2BIG), checked before allocating.
    let chunk = vec![b'y'; 100_000];
    let many: Vec<&[u8]> = (0..30).map(|_| chunk.as_slice()).collect();
    let e = build(TOP, &params(&many, &[], &[])).unwrap_err();
    assert!(matches!(e, StackError::TooLarge { limit: 0x20_0000, .. }), "{e:?}");
    assert_eq!(e.errno(), 7);
    assert!(!e.to_string().contains('\n'));
    // A custom limit, and a limit that only the pointer tables exceed.
    assert!(matches!(build_with_limit(TOP, &params(&[b"a"], &[], &[]), 64), Err(StackError::TooLarge { .. })));
    let tiny: Vec<&[u8]> = vec![b""; 10_000];
    assert!(matches!(build_with_limit(TOP, &params(&tiny, &[], &[]), 40_000), Err(StackError::TooLarge { .. })));
    // Stack top too low.
    assert_eq!(build(100, &params(&[b"prog"], &[], &[])).unwrap_err(), StackError::BadStackTop);
    assert_eq!(build(0, &params(&[], &[], &[])).unwrap_err(), StackError::BadStackTop);
    // A stack top at the very end of the address space still works.
    let st = build(u64::MAX, &params(&[b"prog"], &[], &[])).unwrap();
    assert_eq!(st.sp % 16, 0);
    assert_eq!(st.sp + st.bytes.len() as u64, u64::MAX);
}

#[test]
fn with_auxv_for_a_real_plan() {
    let Some(bytes) = small_real_binary() else {
        return;
    };
    let plan = unify_loader::parse(bytes).unwrap();
    let base = if plan.is_pie() { unify_loader::DEFAULT_PIE_BASE } else { 0 };
    let mut aux = unify_loader::stack::auxv_for(&plan, base);
    aux.extend([AuxEntry(AT_UID, 0), AuxEntry(AT_CLKTCK, 100), AuxEntry(AT_SECURE, 0), AuxEntry(AT_MINSIGSTKSZ, 2048)]);
    let st = build(TOP, &params(&[b"prog"], &[b"A=1"], &aux)).unwrap();
    let d = decode_stack(&st.bytes, st.sp);
    assert_eq!(d.aux(AT_ENTRY), Some(base + plan.entry));
    assert_eq!(d.aux(AT_PHDR), Some(base + plan.phdr_vaddr));
    assert_eq!(d.aux(AT_PHNUM), Some(u64::from(plan.phnum)));
    assert_eq!(d.aux(AT_CLKTCK), Some(100));
    assert_eq!(d.auxv.len(), aux.len() + 4);
}
