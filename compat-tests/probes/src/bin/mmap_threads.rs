//! mmap/munmap/mprotect/mremap from 8 threads at once: every mapping a thread gets is
//! its own (its pattern survives the other threads' traffic), and the totals are
//! checked. Under unify the memory map's bookkeeping and the host mappings must change
//! together under concurrency.

use std::thread;

use probes::*;

const THREADS: usize = 8;
const ROUNDS: usize = 2000;

fn map(len: usize) -> usize {
    // SAFETY: a fresh private anonymous mapping.
    let p = unsafe { syscall!(nr::MMAP, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1isize, 0) };
    check(p).expect("mmap")
}

fn worker(t: usize) -> (usize, usize) {
    let mut kept: Vec<(usize, usize, u8)> = Vec::new();
    let mut bad = 0;
    for r in 0..ROUNDS {
        let pages = 1 + (t + r) % 8;
        let len = pages * PAGE;
        let p = map(len);
        let tag = (t * 31 + r) as u8;
        // SAFETY: `p..p+len` was just mapped read-write for this thread only.
        unsafe { std::ptr::write_bytes(p as *mut u8, tag, len) };
        kept.push((p, len, tag));
        if r % 3 == 0 {
            // Check and drop the oldest mapping.
            let (q, qlen, qtag) = kept.remove(0);
            // SAFETY: still mapped by this thread; reading it back.
            let s = unsafe { std::slice::from_raw_parts(q as *const u8, qlen) };
            bad += s.iter().filter(|&&b| b != qtag).count();
            // SAFETY: unmaps this thread's own mapping.
            check(unsafe { syscall!(nr::MUNMAP, q, qlen) }).expect("munmap");
        }
        if r % 5 == 0 {
            if let Some(&(q, qlen, _)) = kept.last() {
                // SAFETY: changes the protection of this thread's own mapping.
                check(unsafe { syscall!(nr::MPROTECT, q, qlen, PROT_READ) }).expect("mprotect");
                // SAFETY: as above, back to read-write.
                check(unsafe { syscall!(nr::MPROTECT, q, qlen, PROT_READ | PROT_WRITE) }).expect("mprotect");
            }
        }
        if r % 7 == 0 {
            if let Some(last) = kept.last_mut() {
                // Grow it, letting the kernel move it.
                // SAFETY: remaps this thread's own mapping; the old address is dropped.
                let n = unsafe { syscall!(nr::MREMAP, last.0, last.1, last.1 * 2, 1usize, 0usize) };
                let n = check(n).expect("mremap");
                // SAFETY: the new second half is fresh zeroed memory of this mapping.
                unsafe { std::ptr::write_bytes((n + last.1) as *mut u8, last.2, last.1) };
                *last = (n, last.1 * 2, last.2);
            }
        }
    }
    let left = kept.len();
    for (q, qlen, qtag) in kept {
        // SAFETY: as above.
        let s = unsafe { std::slice::from_raw_parts(q as *const u8, qlen) };
        bad += s.iter().filter(|&&b| b != qtag).count();
        // SAFETY: as above.
        check(unsafe { syscall!(nr::MUNMAP, q, qlen) }).expect("munmap");
    }
    (bad, left)
}

fn main() {
    let hs: Vec<_> = (0..THREADS).map(|t| thread::spawn(move || worker(t))).collect();
    let results: Vec<(usize, usize)> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    let bad: usize = results.iter().map(|r| r.0).sum();
    let left: usize = results.iter().map(|r| r.1).sum();
    println!("{THREADS} threads x {ROUNDS} rounds of mmap/write/mprotect/mremap/munmap");
    println!("bytes that lost their thread's pattern: {bad}");
    println!("mappings checked at the end: {left}");
}
