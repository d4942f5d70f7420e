//! `parse` never panics and never accepts nonsense: truncations, a deterministic
//! mutation loop of well over 20,000 iterations, and proptest.
//!
//! Any panic inside `parse` fails these tests; every `Ok` is checked against
//! [`assert_plan_invariants`] (segments inside the file, sorted, non-overlapping, in the
//! user half, entry executable, …).

mod common;

use common::*;
use proptest::prelude::*;
use unify_loader::parse;

/// The seeds we mutate: the hand-made ELF (small and dense in headers) and every real
/// static binary we could build.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut v = vec![("synthetic", ElfWriter::exec().bytes())];
    for (name, b) in real_static_binaries() {
        v.push((name, b.to_vec()));
    }
    v
}

/// The end of the last byte `parse` must read in an intact file: the program header
/// table and the file bytes of every segment it checks.
fn required_len(bytes: &[u8]) -> usize {
    let elf = goblin::elf::Elf::parse(bytes).unwrap();
    let table_end = elf.header.e_phoff as usize + 56 * elf.header.e_phnum as usize;
    elf.program_headers
        .iter()
        .filter(|p| [PT_LOAD, PT_TLS, PT_DYNAMIC].contains(&p.p_type))
        .map(|p| (p.p_offset + p.p_filesz) as usize)
        .chain([table_end])
        .max()
        .unwrap()
}

#[test]
fn truncations_never_panic_and_fail_until_complete() {
    for (name, full) in seeds() {
        parse(&full).unwrap_or_else(|e| panic!("{name}: the intact file must parse: {e}"));
        let required = required_len(&full);
        // Every length through the headers, then a stride through the rest, plus the edges.
        let mut lengths: Vec<usize> = (0..full.len().min(8192)).collect();
        lengths.extend((8192..full.len()).step_by(509));
        lengths.extend([required.saturating_sub(1), required, full.len() - 1, full.len()]);
        let mut checked = 0;
        for len in lengths {
            let cut = &full[..len.min(full.len())];
            match parse(cut) {
                Ok(plan) => {
                    assert!(len >= required, "{name}: accepted a file cut at {len} < {required}");
                    assert_plan_invariants(&plan, cut);
                }
                Err(e) => {
                    assert!(len < required, "{name}: refused a file cut at {len} >= {required}: {e}");
                    assert!(!e.to_string().contains('\n'));
                }
            }
            checked += 1;
        }
        eprintln!("{name}: {checked} truncations checked (required length {required} of {})", full.len());
    }
}

/// Values that tend to hit edge cases in size and address arithmetic.
fn interesting(rng: &mut XorShift, file_len: u64) -> u64 {
    let choices = [
        0,
        1,
        8,
        56,
        64,
        0x1000,
        0xfff,
        0x10000,
        file_len,
        file_len.wrapping_sub(1),
        file_len.wrapping_add(1),
        0x7fff_ffff_f000,
        0x8000_0000_0000,
        0x0000_7fff_ffff_ffff,
        u64::MAX,
        u64::MAX - 0xfff,
        u32::MAX as u64,
        1 << 63,
        0x400000,
        0x401000,
    ];
    match rng.below(3) {
        0 => choices[rng.below(choices.len() as u64) as usize],
        1 => rng.next(),
        _ => rng.below(file_len.max(1) * 2),
    }
}

/// Writes the low `size` bytes of `value` at `off`, if they fit; records the range.
fn poke(bytes: &mut [u8], off: usize, size: usize, value: u64, touched: &mut Vec<std::ops::Range<usize>>) {
    if let Some(dst) = off.checked_add(size).and_then(|end| bytes.get_mut(off..end)) {
        dst.copy_from_slice(&value.to_le_bytes()[..size]);
        touched.push(off..off + size);
    }
}

fn le_u64(bytes: &[u8], off: usize) -> u64 {
    bytes.get(off..off + 8).map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap()))
}

/// One random mutation of `bytes[..*cut]`; biased towards the ELF header and the
/// program header table, where the parser's decisions are made. Records every changed
/// range in `touched` (so the caller can undo it cheaply) and may lower `*cut`
/// (truncation).
fn mutate(bytes: &mut [u8], cut: &mut usize, rng: &mut XorShift, touched: &mut Vec<std::ops::Range<usize>>) {
    let len = *cut as u64;
    if len == 0 {
        return;
    }
    let phoff = le_u64(bytes, 32);
    let phnum = bytes.get(56..58).map_or(0, |s| u16::from_le_bytes([s[0], s[1]])) as u64;
    match rng.below(8) {
        // A header field set to an interesting value.
        0 => {
            let (off, size) = HEADER_FIELDS[rng.below(HEADER_FIELDS.len() as u64) as usize];
            let v = interesting(rng, len);
            poke(bytes, off, size, v, touched);
        }
        // A program header field set to an interesting value (the most productive).
        1..=3 => {
            if phnum > 0 && phnum < 200 && phoff < len {
                let i = rng.below(phnum);
                let (f, size) = PHDR_FIELDS[rng.below(PHDR_FIELDS.len() as u64) as usize];
                let off = phoff + i * 56 + f as u64;
                let v = if f == 0 && rng.below(2) == 0 {
                    [1u64, 2, 3, 6, 7, 0x6474_e551][rng.below(6) as usize] // change the type
                } else {
                    interesting(rng, len)
                };
                poke(bytes, off as usize, size, v, touched);
            }
        }
        // Flip a bit in the first 4 KiB.
        4 => {
            let i = rng.below(len.min(4096)) as usize;
            bytes[i] ^= 1 << rng.below(8);
            touched.push(i..i + 1);
        }
        // A random byte anywhere (hits dynamic sections, interpreter strings, …).
        5 => {
            let i = rng.below(len) as usize;
            bytes[i] = rng.next() as u8;
            touched.push(i..i + 1);
        }
        // Swap two program headers (changes ordering).
        6 => {
            if (2..200).contains(&phnum) && phoff < len {
                let a = (phoff + rng.below(phnum) * 56) as usize;
                let b = (phoff + rng.below(phnum) * 56) as usize;
                if a + 56 <= bytes.len() && b + 56 <= bytes.len() && a != b {
                    let tmp: Vec<u8> = bytes[a..a + 56].to_vec();
                    bytes.copy_within(b..b + 56, a);
                    bytes[b..b + 56].copy_from_slice(&tmp);
                    touched.push(a..a + 56);
                    touched.push(b..b + 56);
                }
            }
        }
        // Truncate.
        _ => *cut = rng.below(len + 1) as usize,
    }
}

#[test]
fn xorshift_mutations_never_panic() {
    const ITERATIONS: usize = 100_000;
    let pristine = seeds();
    let mut works: Vec<Vec<u8>> = pristine.iter().map(|(_, b)| b.clone()).collect();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut err) = (0usize, 0usize);
    let mut touched = Vec::new();
    for i in 0..ITERATIONS {
        let n = works.len();
        let work = &mut works[i % n];
        let original = &pristine[i % n].1;
        let mut cut = work.len();
        touched.clear();
        for _ in 0..=rng.below(4) {
            mutate(work, &mut cut, &mut rng, &mut touched);
        }
        match parse(&work[..cut]) {
            Ok(plan) => {
                assert_plan_invariants(&plan, &work[..cut]);
                ok += 1;
            }
            Err(e) => {
                let s = e.to_string();
                assert!(!s.is_empty() && !s.contains('\n'), "{s:?}");
                err += 1;
            }
        }
        // Undo from the pristine copy (cheap even for megabyte binaries).
        for r in &touched {
            work[r.clone()].copy_from_slice(&original[r.clone()]);
        }
        if i % 997 == 0 {
            assert!(work == original, "undo left the seed modified");
        }
    }
    eprintln!("{ITERATIONS} mutations: {ok} accepted, {err} refused");
    assert!(ok > 0 && err > 0, "the mutations should exercise both outcomes");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(12345);
    for i in 0..20_000 {
        let len = rng.below(600) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Make most of them get past the identity checks.
        if i % 4 != 0 && len >= 20 {
            b[..4].copy_from_slice(b"\x7fELF");
            b[4] = 2;
            b[5] = 1;
            b[16] = [2, 3][i % 2];
            b[17] = 0;
            b[18] = 62;
            b[19] = 0;
        }
        if let Ok(plan) = parse(&b) {
            assert_plan_invariants(&plan, &b);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary byte writes into the headers of a small real ELF (or the hand-made one
    /// when no compiler is available), plus an optional truncation.
    #[test]
    fn proptest_header_writes_never_panic(
        writes in prop::collection::vec((0usize..1024, any::<u8>()), 1..16),
        wide in prop::option::of((0usize..1024, any::<u64>())),
        cut in prop::option::of(0usize..100_000),
    ) {
        let mut b = small_real_binary().map(<[u8]>::to_vec).unwrap_or_else(|| ElfWriter::exec().bytes());
        for (off, v) in writes {
            if off < b.len() { b[off] = v; }
        }
        if let Some((off, v)) = wide {
            poke(&mut b, off, 8, v, &mut Vec::new());
        }
        if let Some(c) = cut {
            b.truncate(c);
        }
        if let Ok(plan) = parse(&b) {
            assert_plan_invariants(&plan, &b);
        }
    }

    /// Hand-made ELFs with arbitrary program headers.
    #[test]
    fn proptest_arbitrary_program_headers(
        e_type in prop::sample::select(vec![2u16, 3]),
        entry in any::<u64>(),
        phdrs in prop::collection::vec(
            (
                prop::sample::select(vec![1u32, 1, 1, 2, 3, 6, 7, 0x6474_e551]),
                0u32..8,
                prop_oneof![0u64..0x3000, any::<u64>()],
                prop_oneof![0x400000u64..0x410000, 0u64..0x10000, any::<u64>()],
                prop_oneof![0u64..0x3000, any::<u64>()],
                prop_oneof![0u64..0x5000, any::<u64>()],
                prop::sample::select(vec![0u64, 1, 8, 0x1000, 0x20_0000, 3]),
            ),
            0..8,
        ),
    ) {
        let w = ElfWriter {
            e_type,
            machine: 62,
            entry,
            phdrs: phdrs
                .into_iter()
                .map(|(p_type, flags, offset, vaddr, filesz, memsz, align)| Ph {
                    p_type, flags, offset, vaddr, filesz, memsz, align,
                })
                .collect(),
            file_len: 0x3000,
        };
        let b = w.bytes();
        if let Ok(plan) = parse(&b) {
            assert_plan_invariants(&plan, &b);
        }
    }
}
