//! The memory map through raw syscalls: mmap / munmap / mprotect / mremap / madvise /
//! mincore / brk, their error cases, and a deterministic churn loop that checks the
//! contents of every mapping it keeps.
//!
//! Addresses are never printed, only relations ("returned the requested address: true").

use probes::*;

// --- thin wrappers over the raw calls --------------------------------------------------
// All of them only ever touch mappings this probe created itself (or deliberately
// unmapped / invalid ranges), so they cannot invalidate memory that Rust code uses.

fn mmap(addr: usize, len: usize, prot: usize, flags: usize, fd: isize, off: usize) -> isize {
    // SAFETY: creating a mapping never invalidates existing Rust memory unless MAP_FIXED
    // is used, and this probe uses MAP_FIXED only over its own mappings.
    unsafe { syscall!(nr::MMAP, addr, len, prot, flags, fd, off) }
}

fn anon(len: usize) -> usize {
    let r = mmap(
        0,
        len,
        PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS,
        -1,
        0,
    );
    check(r).unwrap_or_else(|e| panic!("mmap {len} bytes: {e}"))
}

fn munmap(addr: usize, len: usize) -> isize {
    // SAFETY: only the probe's own mappings or unmapped ranges are passed.
    unsafe { syscall!(nr::MUNMAP, addr, len) }
}

fn mprotect(addr: usize, len: usize, prot: usize) -> isize {
    // SAFETY: only the probe's own mappings or unmapped ranges are passed.
    unsafe { syscall!(nr::MPROTECT, addr, len, prot) }
}

fn mremap(old: usize, old_len: usize, new_len: usize, flags: usize, new: usize) -> isize {
    // SAFETY: only the probe's own mappings are moved / resized.
    unsafe { syscall!(nr::MREMAP, old, old_len, new_len, flags, new) }
}

fn madvise(addr: usize, len: usize, advice: usize) -> isize {
    // SAFETY: only the probe's own mappings (or unmapped ranges) are passed; dropping
    // their contents is what is being tested.
    unsafe { syscall!(nr::MADVISE, addr, len, advice) }
}

fn brk(addr: usize) -> usize {
    // SAFETY: the break is only ever moved above its current value and back again,
    // with no allocation in between (see `brk_section`).
    unsafe { syscall!(nr::BRK, addr) as usize }
}

fn peek(addr: usize) -> u8 {
    // SAFETY: callers pass an address inside a live readable mapping of this probe.
    unsafe { std::ptr::read_volatile(addr as *const u8) }
}

fn poke(addr: usize, v: u8) {
    // SAFETY: callers pass an address inside a live writable mapping of this probe.
    unsafe { std::ptr::write_volatile(addr as *mut u8, v) }
}

const MREMAP_MAYMOVE: usize = 1;
const MREMAP_FIXED: usize = 2;

const MADV_NORMAL: usize = 0;
const MADV_RANDOM: usize = 1;
const MADV_SEQUENTIAL: usize = 2;
const MADV_WILLNEED: usize = 3;
const MADV_DONTNEED: usize = 4;
const MADV_FREE: usize = 8;

fn basic() {
    println!("== mmap");
    let p = mmap(
        0,
        PAGE,
        PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS,
        -1,
        0,
    );
    println!("anon private 1 page: {}", outcome(p));
    let p = p as usize;
    println!("page aligned: {}", p.is_multiple_of(PAGE));
    println!(
        "fresh page zero: {}",
        peek(p) == 0 && peek(p + PAGE - 1) == 0
    );
    poke(p + 100, 42);
    println!("write/read back: {}", peek(p + 100) == 42);
    println!("munmap: {}", outcome(munmap(p, PAGE)));

    let s = mmap(
        0,
        2 * PAGE,
        PROT_READ | PROT_WRITE,
        MAP_SHARED | MAP_ANONYMOUS,
        -1,
        0,
    );
    println!("anon shared 2 pages: {}", outcome(s));
    poke(s as usize + PAGE, 9);
    println!("shared write/read back: {}", peek(s as usize + PAGE) == 9);
    munmap(s as usize, 2 * PAGE);

    let n = mmap(0, 3 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    println!("PROT_NONE 3 pages: {}", outcome(n));
    munmap(n as usize, 3 * PAGE);

    let odd = mmap(
        0,
        10,
        PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS,
        -1,
        0,
    );
    println!("length 10 (rounded up): {}", outcome(odd));
    poke(odd as usize + PAGE - 1, 1);
    println!(
        "rest of page usable: {}",
        peek(odd as usize + PAGE - 1) == 1
    );
    munmap(odd as usize, 10);

    let anon_flags = MAP_PRIVATE | MAP_ANONYMOUS;
    println!(
        "length 0: {}",
        outcome(mmap(0, 0, PROT_READ, anon_flags, -1, 0))
    );
    println!(
        "neither PRIVATE nor SHARED: {}",
        outcome(mmap(0, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0))
    );
    println!(
        "unaligned offset: {}",
        outcome(mmap(0, PAGE, PROT_READ, anon_flags, -1, 100))
    );
    println!(
        "MAP_FIXED unaligned address: {}",
        outcome(mmap(
            0x1000_0123,
            PAGE,
            PROT_READ,
            anon_flags | MAP_FIXED,
            -1,
            0
        ))
    );
    println!(
        "file mapping of fd -1: {}",
        outcome(mmap(0, PAGE, PROT_READ, MAP_PRIVATE, -1, 0))
    );
    println!(
        "file mapping of fd 999: {}",
        outcome(mmap(0, PAGE, PROT_READ, MAP_PRIVATE, 999, 0))
    );
    println!(
        "length usize::MAX: {}",
        outcome(mmap(0, usize::MAX, PROT_READ, anon_flags, -1, 0))
    );
    println!(
        "length 2^50: {}",
        outcome(mmap(
            0,
            1 << 50,
            PROT_READ,
            anon_flags | MAP_NORESERVE,
            -1,
            0
        ))
    );
}

fn fixed() {
    println!("== MAP_FIXED / MAP_FIXED_NOREPLACE");
    let base = anon(16 * PAGE);
    for i in 0..16 {
        poke(base + i * PAGE, i as u8 + 1);
    }
    let page = |i: usize| base + i * PAGE;
    let anon_rw = (PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);

    let r = mmap(page(5), PAGE, anon_rw.0, anon_rw.1 | MAP_FIXED, -1, 0);
    println!("MAP_FIXED over own page: {}", outcome(r));
    println!("returned the requested address: {}", r as usize == page(5));
    println!("replaced page is zero: {}", peek(page(5)) == 0);
    println!(
        "neighbours kept: {}",
        peek(page(4)) == 5 && peek(page(6)) == 7
    );

    let r = mmap(
        page(7),
        PAGE,
        anon_rw.0,
        anon_rw.1 | MAP_FIXED_NOREPLACE,
        -1,
        0,
    );
    println!("MAP_FIXED_NOREPLACE over mapped page: {}", outcome(r));
    println!("page kept: {}", peek(page(7)) == 8);

    println!(
        "munmap one page in the middle: {}",
        outcome(munmap(page(8), PAGE))
    );
    let r = mmap(
        page(8),
        PAGE,
        anon_rw.0,
        anon_rw.1 | MAP_FIXED_NOREPLACE,
        -1,
        0,
    );
    println!("MAP_FIXED_NOREPLACE into the hole: {}", outcome(r));
    println!("returned the requested address: {}", r as usize == page(8));
    println!("munmap it again: {}", outcome(munmap(page(8), PAGE)));
    let r = mmap(
        page(8),
        2 * PAGE,
        anon_rw.0,
        anon_rw.1 | MAP_FIXED_NOREPLACE,
        -1,
        0,
    );
    println!("MAP_FIXED_NOREPLACE partly overlapping: {}", outcome(r));

    // Hint without MAP_FIXED at a free address: allowed anywhere, must not clobber.
    let r = mmap(page(9), PAGE, anon_rw.0, anon_rw.1, -1, 0);
    println!("hint at a mapped address: {}", outcome(r));
    println!(
        "hinted mapping did not clobber: {}",
        peek(page(9)) == 10 && r as usize != page(9)
    );
    munmap(r as usize, PAGE);
    munmap(base, 16 * PAGE);
}

fn unmap_protect() {
    println!("== munmap / mprotect / mincore");
    let base = anon(8 * PAGE);
    let page = |i: usize| base + i * PAGE;
    for i in 0..8 {
        poke(page(i), 0x10 + i as u8);
    }
    println!(
        "munmap of an unmapped page: {}",
        outcome(munmap(unmapped_page(), PAGE))
    );
    println!("munmap unaligned: {}", outcome(munmap(page(1) + 1, PAGE)));
    println!("munmap length 0: {}", outcome(munmap(page(1), 0)));
    println!("munmap page 4 (split): {}", outcome(munmap(page(4), PAGE)));
    println!(
        "both sides kept: {}",
        peek(page(3)) == 0x13 && peek(page(5)) == 0x15
    );
    println!(
        "mprotect across the hole: {}",
        outcome(mprotect(page(3), 3 * PAGE, PROT_READ))
    );
    println!(
        "mprotect unmapped: {}",
        outcome(mprotect(unmapped_page(), PAGE, PROT_READ))
    );
    println!(
        "mprotect unaligned: {}",
        outcome(mprotect(page(1) + 8, PAGE, PROT_READ))
    );
    println!(
        "mprotect bad prot bits: {}",
        outcome(mprotect(page(1), PAGE, 0x40))
    );
    println!(
        "mprotect length 0: {}",
        outcome(mprotect(page(1), 0, PROT_READ))
    );
    println!(
        "mprotect page 1 read-only: {}",
        outcome(mprotect(page(1), PAGE, PROT_READ))
    );
    println!("read-only page readable: {}", peek(page(1)) == 0x11);
    println!(
        "mprotect pages 0-2 PROT_NONE: {}",
        outcome(mprotect(page(0), 3 * PAGE, PROT_NONE))
    );
    println!(
        "mprotect back RW: {}",
        outcome(mprotect(page(0), 3 * PAGE, PROT_READ | PROT_WRITE))
    );
    println!(
        "contents survive PROT_NONE: {}",
        peek(page(0)) == 0x10 && peek(page(1)) == 0x11 && peek(page(2)) == 0x12
    );

    let mut vec = [0u8; 2];
    // SAFETY: the kernel writes one byte per page into `vec`, which has room for 2.
    let r = unsafe { syscall!(nr::MINCORE, page(0), 2 * PAGE, vec.as_mut_ptr()) };
    println!(
        "mincore on touched pages: {}, resident: {}",
        outcome(r),
        vec[0] & 1 == 1 && vec[1] & 1 == 1
    );
    // SAFETY: as above; the call fails before writing anything.
    let r = unsafe { syscall!(nr::MINCORE, page(4), PAGE, vec.as_mut_ptr()) };
    println!("mincore on the hole: {}", outcome(r));
    // SAFETY: as above.
    let r = unsafe { syscall!(nr::MINCORE, page(0) + 1, PAGE, vec.as_mut_ptr()) };
    println!("mincore unaligned: {}", outcome(r));

    // W^X: write code, flip to R|X, run it.
    let code = anon(PAGE);
    // mov eax, 0x2a ; ret
    for (i, b) in [0xb8u8, 0x2a, 0, 0, 0, 0xc3].iter().enumerate() {
        poke(code + i, *b);
    }
    println!(
        "mprotect code page R|X: {}",
        outcome(mprotect(code, PAGE, PROT_READ | PROT_EXEC))
    );
    // SAFETY: the page holds a complete `mov eax, 42; ret` sequence and is executable.
    let f: extern "C" fn() -> u32 = unsafe { std::mem::transmute(code) };
    println!("generated code returns 42: {}", f() == 42);
    munmap(code, PAGE);

    println!(
        "munmap the rest (spanning the hole): {}",
        outcome(munmap(base, 8 * PAGE))
    );
    println!(
        "mprotect after munmap: {}",
        outcome(mprotect(base, PAGE, PROT_READ))
    );
}

fn remap() {
    println!("== mremap");
    let a = anon(PAGE);
    poke(a, 0x61);
    poke(a + PAGE - 1, 0x62);
    let r = mremap(a, PAGE, 64 * PAGE, MREMAP_MAYMOVE, 0);
    println!("grow 1 -> 64 pages (MAYMOVE): {}", outcome(r));
    let a = r as usize;
    println!(
        "contents kept: {}",
        peek(a) == 0x61 && peek(a + PAGE - 1) == 0x62
    );
    println!("new tail zero: {}", peek(a + 63 * PAGE) == 0);
    poke(a + 63 * PAGE + 5, 3);
    println!("new tail writable: {}", peek(a + 63 * PAGE + 5) == 3);
    let r = mremap(a, 64 * PAGE, 2 * PAGE, 0, 0);
    println!(
        "shrink 64 -> 2 pages: {}, same address: {}",
        outcome(r),
        r as usize == a
    );
    println!(
        "shrunk-away pages unmapped: {}",
        outcome(mprotect(a + 2 * PAGE, PAGE, PROT_READ))
    );
    println!(
        "new_len 0: {}",
        outcome(mremap(a, 2 * PAGE, 0, MREMAP_MAYMOVE, 0))
    );
    println!(
        "unaligned old address: {}",
        outcome(mremap(a + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0))
    );
    println!(
        "invalid flags: {}",
        outcome(mremap(a, PAGE, 2 * PAGE, 0x100, 0))
    );
    println!(
        "FIXED without MAYMOVE: {}",
        outcome(mremap(a, PAGE, PAGE, MREMAP_FIXED, a + PAGE))
    );
    println!(
        "unmapped old address: {}",
        outcome(mremap(unmapped_page(), PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0))
    );
    munmap(a, 2 * PAGE);

    let b = anon(3 * PAGE);
    println!(
        "grow first page of a 3-page mapping in place: {}",
        outcome(mremap(b, PAGE, 2 * PAGE, 0, 0))
    );
    poke(b, 0x77);
    let target = anon(4 * PAGE);
    let r = mremap(b, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    println!("move to a fixed address (MAYMOVE|FIXED): {}", outcome(r));
    println!("returned the requested address: {}", r as usize == target);
    println!("contents moved: {}", peek(target) == 0x77);
    println!(
        "old range unmapped: {}",
        outcome(mprotect(b, PAGE, PROT_READ))
    );
    println!(
        "rest of the target kept: {}",
        outcome(mprotect(target + 3 * PAGE, PAGE, PROT_READ))
    );
    munmap(target, 4 * PAGE);
}

fn advise() {
    println!("== madvise");
    let a = anon(4 * PAGE);
    for i in 0..4 {
        poke(a + i * PAGE, 0xee);
    }
    for (name, adv) in [
        ("NORMAL", MADV_NORMAL),
        ("RANDOM", MADV_RANDOM),
        ("SEQUENTIAL", MADV_SEQUENTIAL),
        ("WILLNEED", MADV_WILLNEED),
    ] {
        println!("MADV_{name}: {}", outcome(madvise(a, 4 * PAGE, adv)));
    }
    println!("contents kept after hints: {}", peek(a) == 0xee);
    println!(
        "MADV_DONTNEED page 1: {}",
        outcome(madvise(a + PAGE, PAGE, MADV_DONTNEED))
    );
    println!("private page reads zero: {}", peek(a + PAGE) == 0);
    println!(
        "other pages kept: {}",
        peek(a) == 0xee && peek(a + 2 * PAGE) == 0xee
    );
    println!(
        "MADV_FREE page 2: {}",
        outcome(madvise(a + 2 * PAGE, PAGE, MADV_FREE))
    );
    println!(
        "unaligned: {}",
        outcome(madvise(a + 1, PAGE, MADV_DONTNEED))
    );
    println!("invalid advice: {}", outcome(madvise(a, PAGE, 999)));
    println!("length 0: {}", outcome(madvise(a, 0, MADV_DONTNEED)));
    println!(
        "unmapped range: {}",
        outcome(madvise(unmapped_page(), PAGE, MADV_WILLNEED))
    );
    munmap(a, 4 * PAGE);

    let s = mmap(
        0,
        PAGE,
        PROT_READ | PROT_WRITE,
        MAP_SHARED | MAP_ANONYMOUS,
        -1,
        0,
    ) as usize;
    poke(s, 0x33);
    println!(
        "MADV_DONTNEED on shared anon: {}",
        outcome(madvise(s, PAGE, MADV_DONTNEED))
    );
    println!("shared anon keeps its data: {}", peek(s) == 0x33);
    munmap(s, PAGE);
}

fn brk_section() {
    println!("== brk");
    // No allocation may happen between moving the break up and back: glibc's malloc
    // keeps its own idea of the break and would move it under our feet. Results are
    // recorded in a fixed array and printed after the break is restored.
    let mut res = [false; 8];
    let cur = brk(0);
    res[0] = cur != 0 && cur == brk(0);
    let up = brk(cur + (1 << 20));
    res[1] = up == cur + (1 << 20);
    if res[1] {
        poke(cur, 1);
        poke(cur + (1 << 20) - 1, 2);
        res[2] = peek(cur) == 1 && peek(cur + (1 << 20) - 1) == 2;
    }
    res[3] = brk(cur + (1 << 20) + 1) == cur + (1 << 20) + 1;
    res[4] = brk(cur + (64 << 20)) == cur + (64 << 20);
    res[5] = brk(1) == cur + (64 << 20);
    res[6] = brk(1 << 60) == cur + (64 << 20);
    res[7] = brk(cur) == cur;
    // Shrinking unmapped the pages above the break.
    let gone = mprotect((cur + PAGE - 1) & !(PAGE - 1), PAGE, PROT_READ);
    println!("brk(0) stable: {}", res[0]);
    println!("grow by 1 MiB returns the new break: {}", res[1]);
    println!("new heap readable and writable: {}", res[2]);
    println!("unaligned break returned exactly: {}", res[3]);
    println!("grow by 64 MiB: {}", res[4]);
    println!("brk(1) fails and returns the current break: {}", res[5]);
    println!("brk(2^60) fails and returns the current break: {}", res[6]);
    println!("shrink back: {}", res[7]);
    println!("pages above the shrunk break unmapped: {}", outcome(gone));
}

fn reserve() {
    println!("== reservations");
    let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    let r = mmap(0, 8 << 30, PROT_NONE, flags, -1, 0);
    println!("reserve 8 GiB PROT_NONE: {}", outcome(r));
    let base = r as usize;
    let mid = base + (4 << 30);
    println!(
        "commit 1 MiB in the middle: {}",
        outcome(mprotect(mid, 1 << 20, PROT_READ | PROT_WRITE))
    );
    let mut ok = true;
    for off in (0..(1 << 20)).step_by(PAGE) {
        poke(mid + off, (off / PAGE) as u8);
    }
    for off in (0..(1 << 20)).step_by(PAGE) {
        ok &= peek(mid + off) == (off / PAGE) as u8;
    }
    println!("committed pages hold data: {ok}");
    println!("munmap the reservation: {}", outcome(munmap(base, 8 << 30)));
}

/// A small deterministic PRNG (no randomness in the output).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

#[derive(Clone, Copy)]
struct Slot {
    addr: usize,
    pages: usize,
    tag: u8,
}

fn churn() {
    println!("== churn");
    let mut rng = Lcg(0x5eed);
    let mut slots: [Option<Slot>; 64] = [None; 64];
    let (mut maps, mut unmaps, mut remaps, mut protects, mut advises) = (0, 0, 0, 0, 0);
    let mut mismatches = 0;
    let mut checksum = 0u64;
    let mut errors = 0;

    let verify = |s: &Slot, checksum: &mut u64| -> bool {
        let mut ok = true;
        for i in 0..s.pages {
            let v = peek(s.addr + i * PAGE);
            *checksum = checksum.wrapping_mul(31).wrapping_add(v as u64);
            ok &= v == s.tag.wrapping_add(i as u8);
        }
        ok
    };
    let fill = |s: &Slot| {
        for i in 0..s.pages {
            poke(s.addr + i * PAGE, s.tag.wrapping_add(i as u8));
        }
    };

    const OPS: usize = 4000;
    for iter in 0..OPS {
        let idx = rng.next() % slots.len();
        match slots[idx] {
            None => {
                let pages = rng.next() % 16 + 1;
                let r = mmap(
                    0,
                    pages * PAGE,
                    PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS,
                    -1,
                    0,
                );
                if check(r).is_err() {
                    errors += 1;
                    continue;
                }
                let s = Slot {
                    addr: r as usize,
                    pages,
                    tag: iter as u8,
                };
                fill(&s);
                slots[idx] = Some(s);
                maps += 1;
            }
            Some(mut s) => match rng.next() % 4 {
                0 => {
                    if !verify(&s, &mut checksum) {
                        mismatches += 1;
                    }
                    if check(munmap(s.addr, s.pages * PAGE)).is_err() {
                        errors += 1;
                    }
                    slots[idx] = None;
                    unmaps += 1;
                }
                1 => {
                    let new_pages = rng.next() % 32 + 1;
                    let r = mremap(s.addr, s.pages * PAGE, new_pages * PAGE, MREMAP_MAYMOVE, 0);
                    if check(r).is_err() {
                        errors += 1;
                        continue;
                    }
                    let kept = Slot {
                        addr: r as usize,
                        pages: s.pages.min(new_pages),
                        tag: s.tag,
                    };
                    if !verify(&kept, &mut checksum) {
                        mismatches += 1;
                    }
                    s.addr = r as usize;
                    s.pages = new_pages;
                    fill(&s);
                    slots[idx] = Some(s);
                    remaps += 1;
                }
                2 => {
                    let len = s.pages * PAGE;
                    if check(mprotect(s.addr, len, PROT_READ)).is_err() {
                        errors += 1;
                    }
                    if !verify(&s, &mut checksum) {
                        mismatches += 1;
                    }
                    if check(mprotect(s.addr, len, PROT_READ | PROT_WRITE)).is_err() {
                        errors += 1;
                    }
                    protects += 1;
                }
                _ => {
                    let page = rng.next() % s.pages;
                    if check(madvise(s.addr + page * PAGE, PAGE, MADV_DONTNEED)).is_err() {
                        errors += 1;
                    }
                    if peek(s.addr + page * PAGE) != 0 {
                        mismatches += 1;
                    }
                    poke(s.addr + page * PAGE, s.tag.wrapping_add(page as u8));
                    advises += 1;
                }
            },
        }
    }
    for s in slots.iter().flatten() {
        if !verify(s, &mut checksum) {
            mismatches += 1;
        }
        munmap(s.addr, s.pages * PAGE);
    }
    println!("{OPS} ops: {maps} mmaps, {unmaps} munmaps, {remaps} mremaps, {protects} mprotects, {advises} madvises");
    println!("errors {errors}, mismatches {mismatches}, checksum {checksum}");
}

fn main() {
    basic();
    fixed();
    unmap_protect();
    remap();
    advise();
    brk_section();
    reserve();
    churn();
}
