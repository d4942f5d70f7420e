//! `MemoryMap` against Linux's semantics, with a [`FakePlatform`] recording what reaches
//! the platform. The expectations were checked against Linux 6.18 where Linux decides.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::testing::{FakePlatform, Op, XorShift};

const P: u64 = PAGE_SIZE;
const LO: u64 = 0x10_0000;
const HI: u64 = 0x10_0000_0000;
const BASE: u64 = 0x8_0000_0000;
const A: u64 = 0x4000_0000;

const PRIVATE: u32 = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
const SHARED: u32 = MapFlags::SHARED | MapFlags::ANONYMOUS;
const FIXED: u32 = PRIVATE | MapFlags::FIXED;
const NOREPLACE: u32 = PRIVATE | MapFlags::FIXED_NOREPLACE;

const R: u32 = 1;
const RW: u32 = 3;

const MADV_WILLNEED: i32 = 3;
const MADV_DONTNEED: i32 = 4;
const MADV_FREE: i32 = 8;
const MADV_REMOVE: i32 = 9;
const MADV_DONTNEED_LOCKED: i32 = 24;
const MADV_HWPOISON: i32 = 100;
const MADV_SOFT_OFFLINE: i32 = 101;

fn setup() -> (MemoryMap, FakePlatform) {
    (MemoryMap::new(LO, HI, BASE), FakePlatform::new())
}

fn mmap(mm: &mut MemoryMap, p: &FakePlatform, addr: u64, len: u64, prot: u32, flags: u32) -> Result<u64, Errno> {
    mm.mmap_anonymous(p, addr, len, prot, MapFlags(flags))
}

/// Maps `[addr, addr+len)` at a fixed address and forgets the platform calls it made.
fn map_at(mm: &mut MemoryMap, p: &FakePlatform, addr: u64, len: u64, prot: u32) {
    assert_eq!(mmap(mm, p, addr, len, prot, FIXED), Ok(addr));
    p.take_ops();
}

/// The mappings as `(start, end, prot)`.
fn layout(mm: &MemoryMap) -> Vec<(u64, u64, Prot)> {
    mm.vmas().map(|v| (v.start, v.end, v.prot)).collect()
}

/// The structural invariants every operation must keep.
fn assert_well_formed(mm: &MemoryMap) {
    let mut prev: Option<&Vma> = None;
    for (key, vma) in &mm.vmas {
        assert_eq!(*key, vma.start, "keyed by start: {vma:?}");
        assert!(is_page_aligned(vma.start) && is_page_aligned(vma.end), "aligned: {vma:?}");
        assert!(vma.start < vma.end, "non-empty: {vma:?}");
        assert!(vma.start >= mm.lo && vma.end <= mm.hi, "inside the window: {vma:?}");
        if let Some(prev) = prev {
            assert!(prev.end <= vma.start, "sorted and disjoint: {prev:?} {vma:?}");
            assert!(!prev.mergeable_with(vma), "equal neighbours are merged: {prev:?} {vma:?}");
        }
        prev = Some(vma);
    }
}

fn record(mm: &mut MemoryMap, start: u64, end: u64, prot: Prot, kind: VmaKind) -> Result<(), Errno> {
    mm.record(Vma { start, end, prot, shared: false, kind })
}

// ---------------------------------------------------------------- helpers of mod.rs

#[test]
fn page_arithmetic() {
    assert_eq!(page_up(0), Some(0));
    assert_eq!(page_up(1), Some(P));
    assert_eq!(page_up(P), Some(P));
    assert_eq!(page_up(u64::MAX), None);
    assert_eq!(page_up(u64::MAX - P + 1), Some(u64::MAX - P + 1));
    assert_eq!(page_down(P + 1), P);
    assert!(is_page_aligned(0) && is_page_aligned(3 * P) && !is_page_aligned(P - 1));
    assert_eq!(Prot::from_bits_truncate(0xff), Prot(7));
    assert!(Prot::RW.readable() && Prot::RW.writable() && !Prot::RW.executable());
    assert!(Prot::RW.contains(Prot::READ) && !Prot::READ.contains(Prot::RW));
    assert_eq!(Prot::READ.union(Prot::EXEC).bits(), 5);
}

// ---------------------------------------------------------------- mmap

#[test]
fn mmap_places_top_down_below_mmap_base() {
    let (mut mm, p) = setup();
    assert_eq!(mmap(&mut mm, &p, 0, P, R, PRIVATE), Ok(BASE - P));
    assert_eq!(mmap(&mut mm, &p, 0, 2 * P, R, PRIVATE), Ok(BASE - 3 * P));
    // A length that is not a page multiple takes whole pages.
    assert_eq!(mmap(&mut mm, &p, 0, 1, RW, PRIVATE), Ok(BASE - 4 * P));
    assert_eq!(
        p.take_ops(),
        vec![
            Op::Map { addr: BASE - P, len: P, prot: Prot::READ },
            Op::Map { addr: BASE - 3 * P, len: 2 * P, prot: Prot::READ },
            Op::Map { addr: BASE - 4 * P, len: P, prot: Prot::RW },
        ]
    );
    // The two read-only mappings touch and merge; the read-write one stays apart.
    assert_eq!(layout(&mm), vec![(BASE - 4 * P, BASE - 3 * P, Prot::RW), (BASE - 3 * P, BASE, Prot::READ)]);
    assert_well_formed(&mm);
}

#[test]
fn mmap_takes_the_highest_hole_that_fits() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, BASE - P, P, R);
    map_at(&mut mm, &p, BASE - 4 * P, 2 * P, R);
    // A one-page hole at BASE-2P: a page fits there, two pages go below.
    assert_eq!(mmap(&mut mm, &p, 0, 2 * P, RW, PRIVATE), Ok(BASE - 6 * P));
    assert_eq!(mmap(&mut mm, &p, 0, P, RW, PRIVATE), Ok(BASE - 2 * P));
    assert_well_formed(&mm);
}

#[test]
fn mmap_ignores_mappings_above_mmap_base() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, BASE, P, R);
    map_at(&mut mm, &p, BASE - 2 * P, 3 * P, R); // straddles the base
    assert_eq!(mmap(&mut mm, &p, 0, P, RW, PRIVATE), Ok(BASE - 3 * P));
}

#[test]
fn mmap_honours_a_free_hint() {
    let (mut mm, p) = setup();
    assert_eq!(mmap(&mut mm, &p, A, 2 * P, R, PRIVATE), Ok(A));
    assert_eq!(p.take_ops(), vec![Op::Map { addr: A, len: 2 * P, prot: Prot::READ }]);
    // Anywhere in the window, above mmap_base too.
    assert_eq!(mmap(&mut mm, &p, BASE + 16 * P, P, R, PRIVATE), Ok(BASE + 16 * P));
    // Linux rounds an unaligned hint down (round_hint_to_min: `hint &= PAGE_MASK`).
    assert_eq!(mmap(&mut mm, &p, A + 8 * P + 0x123, P, R, PRIVATE), Ok(A + 8 * P));
}

#[test]
fn mmap_hint_taken_or_outside_the_window_falls_back_to_top_down() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, R);
    assert_eq!(mmap(&mut mm, &p, A + P, P, R, PRIVATE), Ok(BASE - P));
    assert_eq!(mmap(&mut mm, &p, A - P, 2 * P, R, PRIVATE), Ok(BASE - 3 * P));
    assert_eq!(mmap(&mut mm, &p, HI, P, R, PRIVATE), Ok(BASE - 4 * P));
    assert_eq!(mmap(&mut mm, &p, HI - P, 2 * P, R, PRIVATE), Ok(BASE - 6 * P));
    assert_eq!(mmap(&mut mm, &p, LO - P, P, R, PRIVATE), Ok(BASE - 7 * P));
    assert_eq!(mmap(&mut mm, &p, u64::MAX - 5, P, R, PRIVATE), Ok(BASE - 8 * P));
    // Nothing was replaced.
    assert_eq!(mm.vmas().next().map(|v| (v.start, v.end)), Some((A, A + 2 * P)));
}

#[test]
fn mmap_fixed_replaces_and_the_platform_sees_the_unmap() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 4 * P, RW);
    assert_eq!(mmap(&mut mm, &p, A + P, P, R, FIXED), Ok(A + P));
    assert_eq!(
        p.take_ops(),
        vec![Op::Unmap { addr: A + P, len: P }, Op::Map { addr: A + P, len: P, prot: Prot::READ }]
    );
    assert_eq!(
        layout(&mm),
        vec![(A, A + P, Prot::RW), (A + P, A + 2 * P, Prot::READ), (A + 2 * P, A + 4 * P, Prot::RW)]
    );
    // Over several mappings and a hole: one unmap per piece, then one map.
    map_at(&mut mm, &p, A + 6 * P, P, R);
    assert_eq!(mmap(&mut mm, &p, A + P, 6 * P, RW, FIXED), Ok(A + P));
    assert_eq!(
        p.take_ops(),
        vec![
            Op::Unmap { addr: A + P, len: P },
            Op::Unmap { addr: A + 2 * P, len: 2 * P },
            Op::Unmap { addr: A + 6 * P, len: P },
            Op::Map { addr: A + P, len: 6 * P, prot: Prot::RW },
        ]
    );
    // Everything read-write now, and merged.
    assert_eq!(layout(&mm), vec![(A, A + 7 * P, Prot::RW)]);
    assert_well_formed(&mm);
}

#[test]
fn mmap_fixed_replaces_recorded_mappings_too() {
    let (mut mm, p) = setup();
    record(&mut mm, A, A + 2 * P, Prot::READ.union(Prot::EXEC), VmaKind::Image).unwrap();
    assert_eq!(mmap(&mut mm, &p, A + P, P, RW, FIXED), Ok(A + P));
    assert_eq!(p.take_ops(), vec![Op::Unmap { addr: A + P, len: P }, Op::Map { addr: A + P, len: P, prot: Prot::RW }]);
    let kinds: Vec<VmaKind> = mm.vmas().map(|v| v.kind.clone()).collect();
    assert_eq!(kinds, vec![VmaKind::Image, VmaKind::Anonymous]);
}

#[test]
fn mmap_fixed_noreplace() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, R);
    assert_eq!(mmap(&mut mm, &p, A + P, P, RW, NOREPLACE), Err(Errno::EEXIST));
    assert_eq!(mmap(&mut mm, &p, A - P, 2 * P, RW, NOREPLACE), Err(Errno::EEXIST));
    assert_eq!(p.take_ops(), vec![]);
    assert_eq!(layout(&mm), vec![(A, A + 2 * P, Prot::READ)]);
    // Right next to it is free, and the address is exact (never a hint).
    assert_eq!(mmap(&mut mm, &p, A + 2 * P, P, R, NOREPLACE), Ok(A + 2 * P));
    assert_eq!(layout(&mm), vec![(A, A + 3 * P, Prot::READ)]);
    assert_eq!(mmap(&mut mm, &p, A + 8 * P + 1, P, R, NOREPLACE), Err(Errno::EINVAL));
}

#[test]
fn mmap_argument_errors() {
    let (mut mm, p) = setup();
    // Zero length.
    assert_eq!(mmap(&mut mm, &p, 0, 0, R, PRIVATE), Err(Errno::EINVAL));
    assert_eq!(mmap(&mut mm, &p, A, 0, R, FIXED), Err(Errno::EINVAL));
    // Map types other than SHARED and PRIVATE.
    for ty in [0, 4, 0xf] {
        assert_eq!(mmap(&mut mm, &p, 0, P, R, ty | MapFlags::ANONYMOUS), Err(Errno::EINVAL), "type {ty}");
    }
    // Unaligned fixed address.
    assert_eq!(mmap(&mut mm, &p, A + 1, P, R, FIXED), Err(Errno::EINVAL));
    // A length that overflows when rounded to pages.
    assert_eq!(mmap(&mut mm, &p, 0, u64::MAX, R, PRIVATE), Err(Errno::ENOMEM));
    // No huge-page pool.
    assert_eq!(mmap(&mut mm, &p, 0, P, R, PRIVATE | MapFlags::HUGETLB), Err(Errno::ENOMEM));
    assert_eq!(p.take_ops(), vec![]);
    assert!(mm.vmas().next().is_none());
}

#[test]
fn mmap_shared_validate_of_anonymous_memory_is_einval() {
    // Linux validates MAP_SHARED_VALIDATE flags for file mappings only; for anonymous
    // memory the map type itself is invalid (do_mmap: `default: return -EINVAL`), with
    // or without unknown flags.
    let (mut mm, p) = setup();
    let sv = MapFlags::SHARED_VALIDATE | MapFlags::ANONYMOUS;
    assert_eq!(mmap(&mut mm, &p, 0, P, R, sv), Err(Errno::EINVAL));
    assert_eq!(mmap(&mut mm, &p, 0, P, R, sv | 0x40_0000), Err(Errno::EINVAL));
    assert_eq!(mmap(&mut mm, &p, 0, P, R, sv | MapFlags::SYNC), Err(Errno::EINVAL));
    // Plain MAP_SHARED ignores flags it does not know.
    assert_eq!(mmap(&mut mm, &p, 0, P, R, SHARED | 0x40_0000), Ok(BASE - P));
}

#[test]
fn mmap_outside_the_window_is_enomem() {
    let (mut mm, p) = setup();
    assert_eq!(mmap(&mut mm, &p, LO - P, P, R, FIXED), Err(Errno::ENOMEM));
    assert_eq!(mmap(&mut mm, &p, HI - P, 2 * P, R, FIXED), Err(Errno::ENOMEM));
    assert_eq!(mmap(&mut mm, &p, HI, P, R, NOREPLACE), Err(Errno::ENOMEM));
    assert_eq!(mmap(&mut mm, &p, page_down(u64::MAX), 2 * P, R, FIXED), Err(Errno::ENOMEM));
    // Bigger than the window.
    assert_eq!(mmap(&mut mm, &p, 0, HI - LO + P, R, PRIVATE), Err(Errno::ENOMEM));
    assert_eq!(p.take_ops(), vec![]);
    // The edges themselves are fine.
    assert_eq!(mmap(&mut mm, &p, LO, P, R, FIXED), Ok(LO));
    assert_eq!(mmap(&mut mm, &p, HI - P, P, R, FIXED), Ok(HI - P));
}

#[test]
fn mmap_fills_the_window_then_enomem() {
    let (mut mm, p) = (MemoryMap::new(LO, LO + 4 * P, LO + 4 * P), FakePlatform::new());
    assert_eq!(mmap(&mut mm, &p, 0, 3 * P, R, PRIVATE), Ok(LO + P));
    assert_eq!(mmap(&mut mm, &p, 0, 2 * P, R, PRIVATE), Err(Errno::ENOMEM));
    assert_eq!(mmap(&mut mm, &p, 0, P, R, PRIVATE), Ok(LO));
    assert_eq!(mmap(&mut mm, &p, 0, P, R, PRIVATE), Err(Errno::ENOMEM));
}

#[test]
fn mmap_32bit_lands_below_2gib() {
    let (mut mm, p) = setup();
    for hint in [0, BASE - 64 * P, A] {
        let addr = mmap(&mut mm, &p, hint, 4 * P, R, PRIVATE | MapFlags::MAP_32BIT).unwrap();
        assert!(addr + 4 * P <= 0x8000_0000, "{addr:#x}");
        assert!(addr >= LO);
    }
    // With no room below 2 GiB there is no fallback.
    let (mut small, p) = (MemoryMap::new(0x8000_0000, HI, BASE), FakePlatform::new());
    assert_eq!(mmap(&mut small, &p, 0, P, R, PRIVATE | MapFlags::MAP_32BIT), Err(Errno::ENOMEM));
}

#[test]
fn mmap_records_sharing_and_does_not_merge_across_it() {
    let (mut mm, p) = setup();
    assert_eq!(mmap(&mut mm, &p, A, P, RW, PRIVATE), Ok(A));
    assert_eq!(mmap(&mut mm, &p, A + P, P, RW, SHARED), Ok(A + P));
    let v: Vec<(u64, bool)> = mm.vmas().map(|v| (v.start, v.shared)).collect();
    assert_eq!(v, vec![(A, false), (A + P, true)]);
    assert_well_formed(&mm);
}

#[test]
fn mmap_keeps_only_rwx_of_prot() {
    // Linux's mmap does not reject unknown PROT bits on x86-64.
    let (mut mm, p) = setup();
    assert_eq!(mmap(&mut mm, &p, A, P, 0xf5, PRIVATE), Ok(A));
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::READ.union(Prot::EXEC))]);
}

#[test]
fn mmap_platform_failure_is_reported_and_not_recorded() {
    let (mut mm, p) = setup();
    p.fail_map.store(true, core::sync::atomic::Ordering::Relaxed);
    assert_eq!(mmap(&mut mm, &p, 0, P, R, PRIVATE), Err(Errno::ENOMEM));
    assert!(mm.vmas().next().is_none());
}

// ---------------------------------------------------------------- munmap

#[test]
fn munmap_splits() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 4 * P, RW);
    assert_eq!(mm.munmap(&p, A + P, P), Ok(()));
    assert_eq!(p.take_ops(), vec![Op::Unmap { addr: A + P, len: P }]);
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::RW), (A + 2 * P, A + 4 * P, Prot::RW)]);
    // A length that is not a page multiple takes whole pages.
    assert_eq!(mm.munmap(&p, A + 3 * P, 1), Ok(()));
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::RW), (A + 2 * P, A + 3 * P, Prot::RW)]);
    assert_well_formed(&mm);
}

#[test]
fn munmap_across_mappings_and_holes() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, R);
    map_at(&mut mm, &p, A + 2 * P, 2 * P, RW);
    map_at(&mut mm, &p, A + 6 * P, 2 * P, R);
    assert_eq!(mm.munmap(&p, A + P, 6 * P), Ok(()));
    assert_eq!(
        p.take_ops(),
        vec![
            Op::Unmap { addr: A + P, len: P },
            Op::Unmap { addr: A + 2 * P, len: 2 * P },
            Op::Unmap { addr: A + 6 * P, len: P },
        ]
    );
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::READ), (A + 7 * P, A + 8 * P, Prot::READ)]);
}

#[test]
fn munmap_of_nothing_is_fine() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, P, R);
    assert_eq!(mm.munmap(&p, A + P, 16 * P), Ok(()));
    assert_eq!(mm.munmap(&p, HI, P), Ok(()));
    assert_eq!(mm.munmap(&p, HI - P, 4 * P), Ok(()));
    assert_eq!(mm.munmap(&p, 0, P), Ok(()));
    assert_eq!(p.take_ops(), vec![]);
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::READ)]);
}

#[test]
fn munmap_argument_errors() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, R);
    assert_eq!(mm.munmap(&p, A + 1, P), Err(Errno::EINVAL));
    assert_eq!(mm.munmap(&p, A, 0), Err(Errno::EINVAL));
    assert_eq!(mm.munmap(&p, A, u64::MAX), Err(Errno::EINVAL));
    assert_eq!(mm.munmap(&p, A, u64::MAX - A - 10), Err(Errno::EINVAL));
    assert_eq!(p.take_ops(), vec![]);
    assert_eq!(layout(&mm), vec![(A, A + 2 * P, Prot::READ)]);
}

// ---------------------------------------------------------------- mprotect

#[test]
fn mprotect_splits_and_merges() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 4 * P, R);
    assert_eq!(mm.mprotect(&p, A + P, P, RW), Ok(()));
    assert_eq!(p.take_ops(), vec![Op::Protect { addr: A + P, len: P, prot: Prot::RW }]);
    assert_eq!(
        layout(&mm),
        vec![(A, A + P, Prot::READ), (A + P, A + 2 * P, Prot::RW), (A + 2 * P, A + 4 * P, Prot::READ)]
    );
    assert_well_formed(&mm);
    // Back again: one mapping.
    assert_eq!(mm.mprotect(&p, A + P, P, R), Ok(()));
    assert_eq!(layout(&mm), vec![(A, A + 4 * P, Prot::READ)]);
    // Same protection: nothing splits.
    assert_eq!(mm.mprotect(&p, A + P, 2 * P, R), Ok(()));
    assert_eq!(layout(&mm), vec![(A, A + 4 * P, Prot::READ)]);
    assert_well_formed(&mm);
}

#[test]
fn mprotect_across_mappings_joins_them() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, P, R);
    map_at(&mut mm, &p, A + P, P, RW);
    map_at(&mut mm, &p, A + 2 * P, P, 0);
    map_at(&mut mm, &p, A + 3 * P, P, R);
    assert_eq!(mm.mprotect(&p, A + P, 2 * P, R), Ok(()));
    assert_eq!(p.take_ops(), vec![Op::Protect { addr: A + P, len: 2 * P, prot: Prot::READ }]);
    assert_eq!(layout(&mm), vec![(A, A + 4 * P, Prot::READ)]);
    // A length that is not a page multiple covers whole pages.
    assert_eq!(mm.mprotect(&p, A, P + 1, 0), Ok(()));
    assert_eq!(layout(&mm), vec![(A, A + 2 * P, Prot::NONE), (A + 2 * P, A + 4 * P, Prot::READ)]);
}

#[test]
fn mprotect_over_a_hole_is_enomem() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, P, R);
    map_at(&mut mm, &p, A + 2 * P, P, R);
    assert_eq!(mm.mprotect(&p, A, 3 * P, RW), Err(Errno::ENOMEM));
    assert_eq!(mm.mprotect(&p, A + 2 * P, 2 * P, RW), Err(Errno::ENOMEM));
    assert_eq!(mm.mprotect(&p, A - P, 2 * P, RW), Err(Errno::ENOMEM));
    assert_eq!(mm.mprotect(&p, A + 8 * P, P, RW), Err(Errno::ENOMEM));
    assert_eq!(mm.mprotect(&p, A, u64::MAX - A, RW), Err(Errno::ENOMEM));
    assert_eq!(p.take_ops(), vec![]);
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::READ), (A + 2 * P, A + 3 * P, Prot::READ)]);
}

#[test]
fn mprotect_argument_checks() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, P, R);
    assert_eq!(mm.mprotect(&p, A + 1, P, RW), Err(Errno::EINVAL));
    assert_eq!(mm.mprotect(&p, A, P, 0x10), Err(Errno::EINVAL));
    assert_eq!(mm.mprotect(&p, A, P, 0x8000_0000), Err(Errno::EINVAL));
    // PROT_SEM is accepted (and means nothing here).
    assert_eq!(mm.mprotect(&p, A, P, R | 0x8), Ok(()));
    // Length 0 succeeds anywhere, before prot is looked at (Linux checks `!len` first).
    assert_eq!(mm.mprotect(&p, A + 64 * P, 0, RW), Ok(()));
    assert_eq!(mm.mprotect(&p, A, 0, 0x100), Ok(()));
    // ... but not before the alignment check.
    assert_eq!(mm.mprotect(&p, A + 1, 0, RW), Err(Errno::EINVAL));
    assert_eq!(p.take_ops(), vec![Op::Protect { addr: A, len: P, prot: Prot::READ }]);
}

#[test]
fn image_segments_never_merge() {
    let (mut mm, p) = setup();
    record(&mut mm, A, A + P, Prot::READ, VmaKind::Image).unwrap();
    record(&mut mm, A + P, A + 2 * P, Prot::RW, VmaKind::Image).unwrap();
    assert_eq!(mm.mprotect(&p, A + P, P, R), Ok(()));
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::READ), (A + P, A + 2 * P, Prot::READ)]);
    // Different kinds do not merge either.
    record(&mut mm, A + 2 * P, A + 3 * P, Prot::READ, VmaKind::Stubs).unwrap();
    map_at(&mut mm, &p, A + 3 * P, P, R);
    assert_eq!(mm.vmas().count(), 4);
    assert_well_formed(&mm);
}

// ---------------------------------------------------------------- mremap

fn mremap(
    mm: &mut MemoryMap,
    p: &FakePlatform,
    old: u64,
    old_len: u64,
    new_len: u64,
    flags: u32,
    new: u64,
) -> Result<u64, Errno> {
    mm.mremap(p, old, old_len, new_len, MremapFlags(flags), new)
}

const MAYMOVE: u32 = MremapFlags::MAYMOVE;
const RFIXED: u32 = MremapFlags::FIXED;

#[test]
fn mremap_shrinks_in_place() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 4 * P, RW);
    assert_eq!(mremap(&mut mm, &p, A, 4 * P, P, 0, 0), Ok(A));
    assert_eq!(p.take_ops(), vec![Op::Unmap { addr: A + P, len: 3 * P }]);
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::RW)]);
    // Same size: nothing happens.
    assert_eq!(mremap(&mut mm, &p, A, P, P, 0, 0), Ok(A));
    assert_eq!(p.take_ops(), vec![]);
}

#[test]
fn mremap_shrink_may_span_mappings_and_holes() {
    // Linux only looks up the mapping at the old address when shrinking, then unmaps
    // the tail, whatever it holds.
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, R);
    map_at(&mut mm, &p, A + 2 * P, P, RW);
    assert_eq!(mremap(&mut mm, &p, A, 6 * P, P, 0, 0), Ok(A));
    assert_eq!(p.take_ops(), vec![Op::Unmap { addr: A + P, len: P }, Op::Unmap { addr: A + 2 * P, len: P }]);
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::READ)]);
    assert_eq!(mremap(&mut mm, &p, A, 3 * P, 3 * P, 0, 0), Ok(A));
}

#[test]
fn mremap_grows_in_place_when_free() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, RW);
    assert_eq!(mremap(&mut mm, &p, A, 2 * P, 4 * P, 0, 0), Ok(A));
    assert_eq!(p.take_ops(), vec![Op::Map { addr: A + 2 * P, len: 2 * P, prot: Prot::RW }]);
    assert_eq!(layout(&mm), vec![(A, A + 4 * P, Prot::RW)]);
    assert_well_formed(&mm);
}

#[test]
fn mremap_grow_blocked_needs_maymove() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, RW);
    map_at(&mut mm, &p, A + 3 * P, P, R);
    assert_eq!(mremap(&mut mm, &p, A, 2 * P, 4 * P, 0, 0), Err(Errno::ENOMEM));
    // The end of the window blocks too.
    map_at(&mut mm, &p, HI - P, P, R);
    assert_eq!(mremap(&mut mm, &p, HI - P, P, 2 * P, 0, 0), Err(Errno::ENOMEM));
    assert_eq!(p.take_ops(), vec![]);

    let new = mremap(&mut mm, &p, A, 2 * P, 4 * P, MAYMOVE, 0).unwrap();
    assert_eq!(new, BASE - 4 * P);
    assert_eq!(
        p.take_ops(),
        vec![Op::Map { addr: new, len: 4 * P, prot: Prot::RW }, Op::Move { old: A, new, len: 2 * P }]
    );
    assert_eq!(
        layout(&mm),
        vec![(A + 3 * P, A + 4 * P, Prot::READ), (new, new + 4 * P, Prot::RW), (HI - P, HI, Prot::READ)]
    );
    assert_well_formed(&mm);
}

#[test]
fn mremap_grow_of_a_middle_part_moves_it() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 4 * P, RW);
    // The old range does not end where the mapping does: it cannot grow in place.
    assert_eq!(mremap(&mut mm, &p, A + P, P, 2 * P, 0, 0), Err(Errno::ENOMEM));
    let new = mremap(&mut mm, &p, A + P, P, 2 * P, MAYMOVE, 0).unwrap();
    assert_eq!(new, BASE - 2 * P);
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::RW), (A + 2 * P, A + 4 * P, Prot::RW), (new, new + 2 * P, Prot::RW)]);
}

#[test]
fn mremap_fixed_moves_to_the_address_replacing_what_is_there() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, RW);
    map_at(&mut mm, &p, A + 16 * P, 4 * P, R);
    assert_eq!(mremap(&mut mm, &p, A, 2 * P, 3 * P, MAYMOVE | RFIXED, A + 17 * P), Ok(A + 17 * P));
    assert_eq!(
        p.take_ops(),
        vec![
            Op::Unmap { addr: A + 17 * P, len: 3 * P },
            Op::Map { addr: A + 17 * P, len: 3 * P, prot: Prot::RW },
            Op::Move { old: A, new: A + 17 * P, len: 2 * P },
        ]
    );
    assert_eq!(layout(&mm), vec![(A + 16 * P, A + 17 * P, Prot::READ), (A + 17 * P, A + 20 * P, Prot::RW)]);
    // Moving to a smaller size: the rest of the old range goes.
    assert_eq!(mremap(&mut mm, &p, A + 17 * P, 3 * P, P, MAYMOVE | RFIXED, A), Ok(A));
    assert_eq!(layout(&mm), vec![(A, A + P, Prot::RW), (A + 16 * P, A + 17 * P, Prot::READ)]);
    assert_well_formed(&mm);
}

#[test]
fn mremap_fixed_shrink_may_span_mappings() {
    // Linux unmaps the tail of the old range before looking at what remains.
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, R);
    map_at(&mut mm, &p, A + 2 * P, 2 * P, RW);
    assert_eq!(mremap(&mut mm, &p, A, 4 * P, P, MAYMOVE | RFIXED, A + 16 * P), Ok(A + 16 * P));
    assert_eq!(layout(&mm), vec![(A + 16 * P, A + 17 * P, Prot::READ)]);
    assert_well_formed(&mm);
}

#[test]
fn mremap_errors() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, R);
    map_at(&mut mm, &p, A + 2 * P, 2 * P, RW);
    // FIXED without MAYMOVE; unknown flags; unaligned old address; zero new length.
    assert_eq!(mremap(&mut mm, &p, A, P, P, RFIXED, A + 16 * P), Err(Errno::EINVAL));
    assert_eq!(mremap(&mut mm, &p, A, P, 2 * P, MAYMOVE | 8, 0), Err(Errno::EINVAL));
    assert_eq!(mremap(&mut mm, &p, A + 1, P, 2 * P, MAYMOVE, 0), Err(Errno::EINVAL));
    assert_eq!(mremap(&mut mm, &p, A, P, 0, MAYMOVE, 0), Err(Errno::EINVAL));
    // A private mapping cannot be duplicated with old_len 0.
    assert_eq!(mremap(&mut mm, &p, A, 0, P, MAYMOVE, 0), Err(Errno::EINVAL));
    // Nothing mapped at the old address.
    assert_eq!(mremap(&mut mm, &p, A + 8 * P, P, 2 * P, MAYMOVE, 0), Err(Errno::EFAULT));
    assert_eq!(mremap(&mut mm, &p, A - P, P, P, 0, 0), Err(Errno::EFAULT));
    // Growing a range that runs past its mapping.
    assert_eq!(mremap(&mut mm, &p, A, 3 * P, 4 * P, MAYMOVE, 0), Err(Errno::EFAULT));
    // FIXED with the new range overlapping the old one.
    assert_eq!(mremap(&mut mm, &p, A, 2 * P, 2 * P, MAYMOVE | RFIXED, A + P), Err(Errno::EINVAL));
    assert_eq!(mremap(&mut mm, &p, A + P, P, 2 * P, MAYMOVE | RFIXED, A), Err(Errno::EINVAL));
    // FIXED to an unaligned address, or out of the window.
    assert_eq!(mremap(&mut mm, &p, A, P, P, MAYMOVE | RFIXED, A + 16 * P + 1), Err(Errno::EINVAL));
    assert_eq!(mremap(&mut mm, &p, A, P, P, MAYMOVE | RFIXED, HI), Err(Errno::ENOMEM));
    assert_eq!(p.take_ops(), vec![]);
    assert_eq!(layout(&mm), vec![(A, A + 2 * P, Prot::READ), (A + 2 * P, A + 4 * P, Prot::RW)]);
}

#[test]
fn mremap_of_the_heap_makes_anonymous_memory() {
    let (mut mm, p) = setup();
    mm.set_brk_start(A);
    assert_eq!(mm.brk(&p, A + 2 * P), A + 2 * P);
    let new = mremap(&mut mm, &p, A, 2 * P, 8 * P, MAYMOVE | RFIXED, A + 64 * P).unwrap();
    assert_eq!(mm.vmas().map(|v| v.kind.clone()).collect::<Vec<_>>(), vec![VmaKind::Anonymous]);
    assert_eq!(new, A + 64 * P);
}

// ---------------------------------------------------------------- madvise

#[test]
fn madvise_dontneed_discards_private_memory_only() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, RW);
    assert_eq!(mmap(&mut mm, &p, A + 2 * P, 2 * P, RW, SHARED | MapFlags::FIXED), Ok(A + 2 * P));
    map_at(&mut mm, &p, A + 4 * P, 2 * P, R);
    p.take_ops();
    assert_eq!(mm.madvise(&p, A + P, 4 * P, MADV_DONTNEED), Ok(()));
    // Shared anonymous memory keeps its contents (Linux: it lives in shmem).
    assert_eq!(p.take_ops(), vec![Op::Discard { addr: A + P, len: P }, Op::Discard { addr: A + 4 * P, len: P }]);
    // MADV_DONTNEED_LOCKED (Linux 5.18) is the same on unlocked memory.
    assert_eq!(mm.madvise(&p, A, P + 1, MADV_DONTNEED_LOCKED), Ok(()));
    assert_eq!(p.take_ops(), vec![Op::Discard { addr: A, len: 2 * P }]);
    // The mappings themselves are untouched.
    assert_eq!(mm.vmas().count(), 3);
}

#[test]
fn madvise_free() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, RW);
    assert_eq!(mm.madvise(&p, A, 2 * P, MADV_FREE), Ok(()));
    assert_eq!(p.take_ops(), vec![Op::Discard { addr: A, len: 2 * P }]);
    // MADV_FREE needs private anonymous memory (Linux: EINVAL on shmem).
    assert_eq!(mmap(&mut mm, &p, A + 2 * P, P, RW, SHARED | MapFlags::FIXED), Ok(A + 2 * P));
    p.take_ops();
    assert_eq!(mm.madvise(&p, A + 2 * P, P, MADV_FREE), Err(Errno::EINVAL));
    assert_eq!(mm.madvise(&p, A, 3 * P, MADV_FREE), Err(Errno::EINVAL));
}

#[test]
fn madvise_with_holes_is_enomem_but_acts_on_what_is_mapped() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, P, RW);
    map_at(&mut mm, &p, A + 2 * P, P, RW);
    assert_eq!(mm.madvise(&p, A, 4 * P, MADV_DONTNEED), Err(Errno::ENOMEM));
    assert_eq!(p.take_ops(), vec![Op::Discard { addr: A, len: P }, Op::Discard { addr: A + 2 * P, len: P }]);
    assert_eq!(mm.madvise(&p, A + 8 * P, P, MADV_WILLNEED), Err(Errno::ENOMEM));
    assert_eq!(mm.madvise(&p, A, 2 * P, MADV_WILLNEED), Err(Errno::ENOMEM));
    assert_eq!(mm.madvise(&p, A, P, MADV_WILLNEED), Ok(()));
    assert_eq!(p.take_ops(), vec![]);
}

#[test]
fn madvise_argument_checks() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, 2 * P, RW);
    for advice in [-1, 5, 6, 7, 26, 99, 1000] {
        assert_eq!(mm.madvise(&p, A, P, advice), Err(Errno::EINVAL), "advice {advice}");
    }
    for advice in [0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25] {
        assert_eq!(mm.madvise(&p, A, 2 * P, advice), Ok(()), "advice {advice}");
    }
    assert_eq!(mm.madvise(&p, A + 1, P, MADV_DONTNEED), Err(Errno::EINVAL));
    assert_eq!(mm.madvise(&p, A, u64::MAX, MADV_DONTNEED), Err(Errno::EINVAL));
    // Length 0 is a no-op, even where nothing is mapped.
    assert_eq!(mm.madvise(&p, A + 64 * P, 0, MADV_DONTNEED), Ok(()));
    // Poisoning needs CAP_SYS_ADMIN.
    assert_eq!(mm.madvise(&p, A, P, MADV_HWPOISON), Err(Errno::EPERM));
    assert_eq!(mm.madvise(&p, A, P, MADV_SOFT_OFFLINE), Err(Errno::EPERM));
    // MADV_REMOVE needs a shared mapping.
    assert_eq!(mm.madvise(&p, A, P, MADV_REMOVE), Err(Errno::EINVAL));
    assert_eq!(mm.madvise(&p, A + 8 * P, P, MADV_REMOVE), Err(Errno::ENOMEM));
    assert_eq!(p.take_ops(), vec![]);
}

// ---------------------------------------------------------------- brk

const B: u64 = 0x60_0000;

#[test]
fn brk_grows_and_shrinks() {
    let (mut mm, p) = setup();
    mm.set_brk_start(B);
    assert_eq!(mm.brk(&p, 0), B);
    assert_eq!(mm.current_brk(), B);
    assert_eq!(mm.brk(&p, B + 100), B + 100);
    assert_eq!(p.take_ops(), vec![Op::Map { addr: B, len: P, prot: Prot::RW }]);
    // Within the same page: no platform work.
    assert_eq!(mm.brk(&p, B + P), B + P);
    assert_eq!(p.take_ops(), vec![]);
    assert_eq!(mm.brk(&p, B + 3 * P), B + 3 * P);
    assert_eq!(p.take_ops(), vec![Op::Map { addr: B + P, len: 2 * P, prot: Prot::RW }]);
    let heap: Vec<(u64, u64, VmaKind)> = mm.vmas().map(|v| (v.start, v.end, v.kind.clone())).collect();
    assert_eq!(heap, vec![(B, B + 3 * P, VmaKind::Heap)]);
    assert_eq!(mm.check(B, 3 * P, Access::Write), Ok(()));
    // Shrinking releases whole pages above the new break.
    assert_eq!(mm.brk(&p, B + P + 1), B + P + 1);
    assert_eq!(p.take_ops(), vec![Op::Unmap { addr: B + 2 * P, len: P }]);
    assert_eq!(mm.brk(&p, B), B);
    assert_eq!(p.take_ops(), vec![Op::Unmap { addr: B, len: 2 * P }]);
    assert!(mm.vmas().next().is_none());
    assert_well_formed(&mm);
}

#[test]
fn brk_below_start_returns_the_current_break() {
    let (mut mm, p) = setup();
    mm.set_brk_start(B);
    assert_eq!(mm.brk(&p, B + 2 * P), B + 2 * P);
    p.take_ops();
    assert_eq!(mm.brk(&p, B - 1), B + 2 * P);
    assert_eq!(mm.brk(&p, 0), B + 2 * P);
    assert_eq!(p.take_ops(), vec![]);
}

#[test]
fn brk_before_it_is_set_up_returns_zero() {
    let (mut mm, p) = setup();
    assert_eq!(mm.brk(&p, B), 0);
    assert_eq!(p.take_ops(), vec![]);
}

#[test]
fn brk_refuses_to_grow_into_a_mapping() {
    let (mut mm, p) = setup();
    mm.set_brk_start(B);
    map_at(&mut mm, &p, B + 4 * P, P, R);
    assert_eq!(mm.brk(&p, B + 8 * P), B);
    // Linux keeps a page free between the break and the next mapping
    // (`newbrk + PAGE_SIZE > vm_start_gap(next)` fails).
    assert_eq!(mm.brk(&p, B + 4 * P), B);
    assert_eq!(mm.brk(&p, B + 3 * P + 1), B);
    assert_eq!(p.take_ops(), vec![]);
    assert_eq!(mm.brk(&p, B + 3 * P), B + 3 * P);
    assert_eq!(layout(&mm), vec![(B, B + 3 * P, Prot::RW), (B + 4 * P, B + 5 * P, Prot::READ)]);
}

#[test]
fn brk_returns_the_old_break_when_the_platform_fails() {
    let (mut mm, p) = setup();
    mm.set_brk_start(B);
    p.fail_map.store(true, core::sync::atomic::Ordering::Relaxed);
    assert_eq!(mm.brk(&p, B + P), B);
    assert!(mm.vmas().next().is_none());
}

// ---------------------------------------------------------------- check

#[test]
fn check_permissions() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, P, R);
    map_at(&mut mm, &p, A + P, P, RW);
    map_at(&mut mm, &p, A + 2 * P, P, 0);
    map_at(&mut mm, &p, A + 3 * P, P, 2); // write-only
    map_at(&mut mm, &p, A + 4 * P, P, 4); // exec-only
    assert_eq!(mm.check(A, P, Access::Read), Ok(()));
    assert_eq!(mm.check(A, P, Access::Write), Err(Errno::EFAULT));
    assert_eq!(mm.check(A + P + 5, 10, Access::Write), Ok(()));
    assert_eq!(mm.check(A + 2 * P, 1, Access::Read), Err(Errno::EFAULT));
    assert_eq!(mm.check(A + 2 * P, 1, Access::Write), Err(Errno::EFAULT));
    assert_eq!(mm.check(A + 3 * P, P, Access::Write), Ok(()));
    // x86-64 has no write-only pages: Linux's write(2) reads from a PROT_WRITE buffer.
    assert_eq!(mm.check(A + 3 * P, P, Access::Read), Ok(()));
    // Execute-only memory is another matter: with protection keys Linux makes it
    // unreadable, so the libOS treats it as unreadable everywhere.
    assert_eq!(mm.check(A + 4 * P, P, Access::Read), Err(Errno::EFAULT));
    assert_eq!(mm.check(A + 4 * P, P, Access::Write), Err(Errno::EFAULT));
}

#[test]
fn check_zero_length_is_always_fine() {
    let (mm, _) = setup();
    assert_eq!(mm.check(0, 0, Access::Read), Ok(()));
    assert_eq!(mm.check(A, 0, Access::Write), Ok(()));
    assert_eq!(mm.check(u64::MAX, 0, Access::Write), Ok(()));
}

#[test]
fn check_spans_adjacent_mappings() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, P, R);
    map_at(&mut mm, &p, A + P, P, RW);
    record(&mut mm, A + 2 * P, A + 3 * P, Prot::READ, VmaKind::Image).unwrap();
    assert_eq!(mm.check(A + 10, 3 * P - 20, Access::Read), Ok(()));
    assert_eq!(mm.check(A, 3 * P, Access::Read), Ok(()));
    assert_eq!(mm.check(A + P - 1, 2, Access::Write), Err(Errno::EFAULT));
    assert_eq!(mm.check(A + 2 * P - 1, 2, Access::Write), Err(Errno::EFAULT));
}

#[test]
fn check_holes_and_edges_fault() {
    let (mut mm, p) = setup();
    map_at(&mut mm, &p, A, P, RW);
    map_at(&mut mm, &p, A + 2 * P, P, RW);
    assert_eq!(mm.check(A, 3 * P, Access::Read), Err(Errno::EFAULT));
    assert_eq!(mm.check(A + P, 1, Access::Read), Err(Errno::EFAULT));
    assert_eq!(mm.check(A - 1, 2, Access::Read), Err(Errno::EFAULT));
    assert_eq!(mm.check(A + 3 * P - 1, 2, Access::Read), Err(Errno::EFAULT));
    assert_eq!(mm.check(A + 3 * P - 1, 1, Access::Read), Ok(()));
    assert_eq!(mm.check(0, 1, Access::Read), Err(Errno::EFAULT));
    // addr + len overflows.
    assert_eq!(mm.check(A, u64::MAX, Access::Read), Err(Errno::EFAULT));
    assert_eq!(mm.check(u64::MAX, 1, Access::Read), Err(Errno::EFAULT));
    // Ending exactly at the top of the address space is not an overflow, just unmapped.
    assert_eq!(mm.check(u64::MAX - 1, 1, Access::Read), Err(Errno::EFAULT));
}

// ---------------------------------------------------------------- record

#[test]
fn record_checks_its_argument() {
    let (mut mm, p) = setup();
    assert_eq!(record(&mut mm, A, A + 2 * P, Prot::READ, VmaKind::Image), Ok(()));
    assert_eq!(record(&mut mm, A + P, A + 3 * P, Prot::READ, VmaKind::Stack), Err(Errno::EEXIST));
    assert_eq!(record(&mut mm, A - P, A + P, Prot::READ, VmaKind::Stack), Err(Errno::EEXIST));
    assert_eq!(record(&mut mm, A - 4 * P, A + 4 * P, Prot::READ, VmaKind::Stack), Err(Errno::EEXIST));
    assert_eq!(record(&mut mm, A + 2 * P, A + 3 * P, Prot::READ, VmaKind::Image), Ok(()));
    assert_eq!(record(&mut mm, A + 5 * P, A + 5 * P, Prot::READ, VmaKind::Image), Err(Errno::EINVAL));
    assert_eq!(record(&mut mm, A + 5 * P + 1, A + 6 * P, Prot::READ, VmaKind::Image), Err(Errno::EINVAL));
    assert_eq!(record(&mut mm, LO - P, LO, Prot::READ, VmaKind::Image), Err(Errno::ENOMEM));
    assert_eq!(record(&mut mm, HI - P, HI + P, Prot::READ, VmaKind::Image), Err(Errno::ENOMEM));
    // The platform backed these already: nothing reaches it.
    assert_eq!(p.take_ops(), vec![]);
    assert!(mm.overlaps(A + P, A + P + 1));
    assert!(!mm.overlaps(A + 3 * P, A + 4 * P));
    assert_eq!(mm.window(), (LO, HI));
}

// ---------------------------------------------------------------- randomized model

const MODEL_LO: u64 = 0x100_0000;
const MODEL_PAGES: u64 = 192;
const MODEL_HI: u64 = MODEL_LO + MODEL_PAGES * P;

/// What Linux would hold, page by page: protection and sharing.
type Model = BTreeMap<u64, (Prot, bool)>;

fn pages(start: u64, end: u64) -> impl Iterator<Item = u64> {
    (start..end).step_by(P as usize)
}

fn all_free(model: &Model, start: u64, len: u64) -> bool {
    start >= MODEL_LO && start + len <= MODEL_HI && model.range(start..start + len).next().is_none()
}

/// Where top-down placement puts `len` bytes: the highest free range ending at or
/// below `top`.
fn top_down(model: &Model, len: u64, top: u64) -> Option<u64> {
    let mut end = top.min(MODEL_HI);
    while end >= MODEL_LO + len {
        if all_free(model, end - len, len) {
            return Some(end - len);
        }
        end -= P;
    }
    None
}

/// The run of equal pages around `page` (a VMA, since equal neighbours merge).
fn run(model: &Model, page: u64) -> Option<(u64, u64)> {
    let attrs = *model.get(&page)?;
    let mut start = page;
    while start > MODEL_LO && model.get(&(start - P)) == Some(&attrs) {
        start -= P;
    }
    let mut end = page + P;
    while model.get(&end) == Some(&attrs) {
        end += P;
    }
    Some((start, end))
}

/// The platform's side, page by page: protection and a content id (fresh for every
/// page the platform zero-fills, carried along by moves).
#[derive(Default)]
struct Backing {
    pages: BTreeMap<u64, (Prot, u64)>,
    next_id: u64,
}

impl Backing {
    fn fresh(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn contents(&self, start: u64, len: u64) -> Vec<Option<u64>> {
        pages(start, start + len).map(|pg| self.pages.get(&pg).map(|v| v.1)).collect()
    }

    /// Applies what reached the platform, checking that each call makes sense there.
    fn apply(&mut self, ops: Vec<Op>) {
        for op in ops {
            match op {
                Op::Map { addr, len, prot } => {
                    for pg in pages(addr, addr + len) {
                        let id = self.fresh();
                        assert!(self.pages.insert(pg, (prot, id)).is_none(), "{op:?} over a mapped page {pg:#x}");
                    }
                }
                Op::Unmap { addr, len } => {
                    for pg in pages(addr, addr + len) {
                        assert!(self.pages.remove(&pg).is_some(), "{op:?} of an unmapped page {pg:#x}");
                    }
                }
                Op::Protect { addr, len, prot } => {
                    for pg in pages(addr, addr + len) {
                        let page = self.pages.get_mut(&pg);
                        page.unwrap_or_else(|| panic!("{op:?} of an unmapped page {pg:#x}")).0 = prot;
                    }
                }
                Op::Move { old, new, len } => {
                    for i in (0..len).step_by(P as usize) {
                        let (_, id) =
                            self.pages.remove(&(old + i)).unwrap_or_else(|| panic!("{op:?}: source not mapped"));
                        let target = self.pages.get_mut(&(new + i));
                        target.unwrap_or_else(|| panic!("{op:?}: target not mapped first")).1 = id;
                    }
                }
                Op::Discard { addr, len } => {
                    for pg in pages(addr, addr + len) {
                        let id = self.fresh();
                        let page = self.pages.get_mut(&pg);
                        page.unwrap_or_else(|| panic!("{op:?} of an unmapped page {pg:#x}")).1 = id;
                    }
                }
                Op::Sleep { .. } | Op::ShmMap { .. } => unreachable!(),
            }
        }
    }
}

fn check_against_model(mm: &MemoryMap, model: &Model, backing: &Backing, rng: &mut XorShift, step: usize) {
    assert_well_formed(mm);
    let mut from_vmas = Model::new();
    for vma in mm.vmas() {
        assert_eq!(vma.kind, VmaKind::Anonymous);
        for pg in pages(vma.start, vma.end) {
            from_vmas.insert(pg, (vma.prot, vma.shared));
        }
    }
    assert_eq!(&from_vmas, model, "step {step}: bookkeeping differs from the model");
    let model_prot: BTreeMap<u64, Prot> = model.iter().map(|(k, v)| (*k, v.0)).collect();
    let backing_prot: BTreeMap<u64, Prot> = backing.pages.iter().map(|(k, v)| (*k, v.0)).collect();
    assert_eq!(backing_prot, model_prot, "step {step}: the platform differs from the model");
    for _ in 0..8 {
        let addr = MODEL_LO - 2 * P + rng.below((MODEL_PAGES + 4) * P);
        let len = rng.below(6 * P);
        let access = if rng.below(2) == 0 { Access::Read } else { Access::Write };
        let expected = len == 0
            || pages(page_down(addr), page_up(addr + len).unwrap()).all(|pg| {
                model.get(&pg).is_some_and(|(prot, _)| match access {
                    // x86-64 page tables have no write-only pages.
                    Access::Read => prot.readable() || prot.writable(),
                    Access::Write => prot.writable(),
                })
            });
        let got = mm.check(addr, len, access);
        assert_eq!(got.is_ok(), expected, "step {step}: check({addr:#x}, {len:#x}, {access:?})");
        if let Err(e) = got {
            assert_eq!(e, Errno::EFAULT);
        }
    }
}

#[test]
fn randomized_against_a_page_model() {
    let p = FakePlatform::new();
    let mut mm = MemoryMap::new(MODEL_LO, MODEL_HI, MODEL_HI);
    let mut model = Model::new();
    let mut backing = Backing::default();
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut outcomes = [0usize; 8];

    for step in 0..4000 {
        let prot = Prot::from_bits_truncate(rng.below(8) as u32);
        let shared = rng.below(4) == 0;
        let flags = if shared { SHARED } else { PRIVATE };
        // Lengths of 1-8 pages, sometimes not a page multiple.
        let npages = 1 + rng.below(8);
        let len = npages * P - if rng.below(4) == 0 { rng.below(P - 1) + 1 } else { 0 };
        let addr = MODEL_LO + rng.below(MODEL_PAGES) * P;
        let kind = rng.below(100);
        // What mremap must carry over: (where, the content ids that must end up there).
        let mut carried = None;
        match kind {
            0..=24 => {
                let hint = if rng.below(2) == 0 { 0 } else { addr + rng.below(P) };
                let expected = if hint != 0 && all_free(&model, page_down(hint), npages * P) {
                    Some(page_down(hint))
                } else {
                    top_down(&model, npages * P, MODEL_HI)
                };
                let got = mmap(&mut mm, &p, hint, len, prot.bits(), flags);
                assert_eq!(got.ok(), expected, "step {step}: mmap({hint:#x}, {len:#x})");
                match got {
                    Ok(at) => {
                        pages(at, at + npages * P).for_each(|pg| {
                            model.insert(pg, (prot, shared));
                        });
                        outcomes[0] += 1;
                    }
                    Err(e) => assert_eq!(e, Errno::ENOMEM),
                }
            }
            25..=39 => {
                let noreplace = rng.below(3) == 0;
                let f = flags | if noreplace { MapFlags::FIXED_NOREPLACE } else { MapFlags::FIXED };
                let end = addr + npages * P;
                let got = mmap(&mut mm, &p, addr, len, prot.bits(), f);
                if end > MODEL_HI {
                    assert_eq!(got, Err(Errno::ENOMEM), "step {step}");
                } else if noreplace && model.range(addr..end).next().is_some() {
                    assert_eq!(got, Err(Errno::EEXIST), "step {step}");
                } else {
                    assert_eq!(got, Ok(addr), "step {step}");
                    pages(addr, end).for_each(|pg| {
                        model.insert(pg, (prot, shared));
                    });
                    outcomes[1] += 1;
                }
            }
            40..=64 => {
                // Up to twice as long as a mapping, to keep the window from filling up.
                let addr = addr - 4 * P + rng.below(8) * P;
                let len = len + rng.below(npages) * P;
                let end = addr + page_up(len).unwrap();
                assert_eq!(mm.munmap(&p, addr, len), Ok(()), "step {step}");
                let gone: Vec<u64> = model.range(addr..end).map(|(k, _)| *k).collect();
                gone.iter().for_each(|pg| {
                    model.remove(pg);
                });
                outcomes[2] += 1;
            }
            65..=84 => {
                let end = addr + npages * P;
                let covered = pages(addr, end).all(|pg| model.contains_key(&pg));
                let got = mm.mprotect(&p, addr, len, prot.bits());
                if covered {
                    assert_eq!(got, Ok(()), "step {step}");
                    pages(addr, end).for_each(|pg| model.get_mut(&pg).unwrap().0 = prot);
                    outcomes[3] += 1;
                } else {
                    assert_eq!(got, Err(Errno::ENOMEM), "step {step}");
                }
            }
            85..=94 => {
                // mremap of a mapped page, growing or shrinking, maybe moving.
                let old = match model.keys().nth(rng.below(model.len().max(1) as u64) as usize) {
                    Some(&pg) => pg,
                    None => continue,
                };
                let (_, run_end) = run(&model, old).unwrap();
                // Half the time the old range ends where its mapping does, so that it
                // may grow in place.
                let old_len = if rng.below(2) == 0 { run_end - old } else { (1 + rng.below(4)) * P };
                // From 1 page to 4 pages more than before.
                let new_len = (old_len + npages * P).saturating_sub(4 * P).max(P);
                let len = new_len - if rng.below(4) == 0 { rng.below(P - 1) + 1 } else { 0 };
                let maymove = rng.below(2) == 0;
                let got = mremap(&mut mm, &p, old, old_len, len, if maymove { MAYMOVE } else { 0 }, 0);
                let attrs = model[&old];
                let old_end = old + old_len;
                if new_len <= old_len {
                    assert_eq!(got, Ok(old), "step {step}: shrink");
                    carried = Some((old, backing.contents(old, new_len)));
                    let gone: Vec<u64> = model.range(old + new_len..old_end).map(|(k, _)| *k).collect();
                    gone.iter().for_each(|pg| {
                        model.remove(pg);
                    });
                    outcomes[4] += 1;
                } else if old_end > run_end {
                    assert_eq!(got, Err(Errno::EFAULT), "step {step}: past the mapping");
                } else if old_end == run_end && all_free(&model, old_end, new_len - old_len) {
                    assert_eq!(got, Ok(old), "step {step}: grow in place");
                    carried = Some((old, backing.contents(old, old_len)));
                    pages(old_end, old + new_len).for_each(|pg| {
                        model.insert(pg, attrs);
                    });
                    outcomes[5] += 1;
                } else if !maymove {
                    assert_eq!(got, Err(Errno::ENOMEM), "step {step}: cannot move");
                } else {
                    let expected = top_down(&model, new_len, MODEL_HI);
                    assert_eq!(got.ok(), expected, "step {step}: move");
                    if let Some(new) = expected {
                        carried = Some((new, backing.contents(old, old_len)));
                        pages(old, old_end).for_each(|pg| {
                            model.remove(&pg);
                        });
                        pages(new, new + new_len).for_each(|pg| {
                            model.insert(pg, attrs);
                        });
                        outcomes[6] += 1;
                    }
                }
            }
            _ => {
                let end = addr + npages * P;
                let covered = pages(addr, end).all(|pg| model.contains_key(&pg));
                let got = mm.madvise(&p, addr, len, MADV_DONTNEED);
                assert_eq!(got, if covered { Ok(()) } else { Err(Errno::ENOMEM) }, "step {step}");
                let mut discarded: Vec<u64> = Vec::new();
                for op in p.ops() {
                    match op {
                        Op::Discard { addr, len } => discarded.extend(pages(addr, addr + len)),
                        other => panic!("step {step}: madvise did {other:?}"),
                    }
                }
                let private: Vec<u64> = model.range(addr..end).filter(|(_, a)| !a.1).map(|(k, _)| *k).collect();
                assert_eq!(discarded, private, "step {step}: DONTNEED discards private pages only");
                outcomes[7] += 1;
            }
        }
        backing.apply(p.take_ops());
        if let Some((at, before)) = carried {
            assert_eq!(backing.contents(at, before.len() as u64 * P), before, "step {step}: mremap lost contents");
        }
        check_against_model(&mm, &model, &backing, &mut rng, step);
    }
    // Every kind of operation succeeded a fair number of times.
    assert!(outcomes.iter().all(|&n| n >= 10), "{outcomes:?}");
}
