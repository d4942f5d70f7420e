//! `unify_loader::parse` must never panic, and every plan it accepts must keep its
//! promises: segments inside the file, sorted, non-overlapping, below the user limit,
//! with the entry point in an executable segment.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(plan) = unify_loader::parse(data) else {
        return;
    };
    for s in &plan.segments {
        assert!(s.filesz <= s.memsz);
        assert!(s.file_bytes(data).is_some(), "segment outside the file");
        assert!(s.vaddr + s.memsz <= unify_loader::USER_END);
    }
    for w in plan.segments.windows(2) {
        assert!(
            w[0].vaddr + w[0].memsz <= w[1].vaddr,
            "overlapping segments"
        );
    }
    assert!(plan
        .segments
        .iter()
        .any(|s| s.prot.exec && s.contains(plan.entry)));
    // The consumers of a plan must not panic either.
    let base = if plan.is_pie() {
        unify_loader::DEFAULT_PIE_BASE
    } else {
        0
    };
    let (mut written, mut zeroed) = (0u64, 0u64);
    plan.copy_segments(
        data,
        base,
        |_, d| written += d.len() as u64,
        |_, l| zeroed += l,
    );
    assert!(written <= data.len() as u64 * plan.segments.len() as u64);
    assert!(zeroed < unify_loader::PAGE_SIZE * plan.segments.len() as u64);
    let _ = plan.page_regions(base);
    let _ = unify_loader::stack::auxv_for(&plan, base);
});
