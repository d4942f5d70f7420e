//! Heap behaviour through glibc's malloc (brk for small, mmap for large, mremap for
//! realloc growth): large zeroed Vecs touched sparsely, many small allocations, aligned
//! allocations. Prints checksums, which only depend on the data written.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::collections::{BTreeMap, HashMap};

const MIB: usize = 1 << 20;
const STEP: usize = 64 * 1024;

fn large_vecs() {
    let mut size = MIB;
    while size <= 512 * MIB {
        let mut v = vec![0u8; size];
        let mut touched = 0usize;
        for i in (0..size).step_by(STEP) {
            v[i] = ((i / STEP) as u8) ^ 0x5a;
            touched += 1;
        }
        v[size - 1] = 0xa5;
        let sum: u64 = v.iter().step_by(STEP).map(|&b| b as u64).sum::<u64>() + v[size - 1] as u64;
        let zero_elsewhere = v[1] == 0 && v[size / 2 + 1] == 0 && v[size - 2] == 0;
        println!(
            "vec {:>3} MiB: touched {touched} spots, sum {sum}, zero elsewhere: {zero_elsewhere}",
            size / MIB
        );
        size *= 2;
    }
}

fn growth() {
    // Pushing grows by realloc: small (brk heap), then mmap'd chunks moved by mremap.
    let mut v: Vec<u64> = Vec::new();
    let mut reallocs = 0;
    let mut cap = v.capacity();
    for i in 0..(8 * MIB as u64) {
        v.push(i.wrapping_mul(2654435761));
        if v.capacity() != cap {
            cap = v.capacity();
            reallocs += 1;
        }
    }
    let sum = v.iter().fold(0u64, |a, &x| a.wrapping_add(x));
    println!(
        "growth: len {}, capacity changes {reallocs}, checksum {sum}",
        v.len()
    );
    v.truncate(1000);
    v.shrink_to_fit();
    let sum = v.iter().fold(0u64, |a, &x| a.wrapping_add(x));
    println!("shrunk: len {}, checksum {sum}", v.len());
}

fn small_allocs() {
    let n = 200_000usize;
    let mut boxes: Vec<Option<Box<[u8]>>> = (0..n)
        .map(|i| Some(vec![(i % 251) as u8; (i * 7) % 500 + 1].into_boxed_slice()))
        .collect();
    // Free every other one, then allocate different sizes into the holes.
    for (i, b) in boxes.iter_mut().enumerate() {
        if i % 2 == 0 {
            *b = None;
        }
    }
    for (i, b) in boxes.iter_mut().enumerate() {
        if b.is_none() {
            *b = Some(vec![(i % 13) as u8; (i * 13) % 300 + 1].into_boxed_slice());
        }
    }
    let mut sum = 0u64;
    let mut bytes = 0usize;
    for b in boxes.iter().flatten() {
        bytes += b.len();
        sum = sum.wrapping_add(b.iter().map(|&x| x as u64).sum::<u64>());
    }
    println!(
        "small: {} boxes, {bytes} bytes, checksum {sum}",
        boxes.len()
    );

    let mut tree = BTreeMap::new();
    let mut map = HashMap::new();
    for i in 0..50_000u64 {
        let key = format!("key-{:08}", i.wrapping_mul(7919) % 1_000_003);
        tree.insert(key.clone(), i);
        map.insert(key, i * 3);
    }
    let tree_sum: u64 = tree
        .iter()
        .take(1000)
        .map(|(k, v)| k.len() as u64 + v)
        .sum();
    // HashMap iteration order is random: use an order-independent sum.
    let map_sum: u64 = map.values().sum();
    println!(
        "maps: {} / {} entries, first-1000 sum {tree_sum}, value sum {map_sum}",
        tree.len(),
        map.len()
    );
}

fn aligned() {
    for &(size, align) in &[
        (24usize, 64usize),
        (4096, 4096),
        (MIB, 2 * MIB),
        (3 * MIB, 64 * 1024),
    ] {
        let layout = Layout::from_size_align(size, align).unwrap();
        // SAFETY: the layout has non-zero size; the pointer is checked and freed with the
        // same layout.
        unsafe {
            let p = alloc_zeroed(layout);
            assert!(!p.is_null());
            let ok = (p as usize).is_multiple_of(align);
            let zero = *p == 0 && *p.add(size - 1) == 0;
            *p.add(size - 1) = 1;
            dealloc(p, layout);
            println!("aligned alloc {size} @ {align}: aligned {ok}, zeroed {zero}");
        }
    }
}

fn main() {
    large_vecs();
    growth();
    small_allocs();
    aligned();
    // Reuse after everything was freed.
    let v = vec![7u8; 32 * MIB];
    println!(
        "reuse 32 MiB filled: sum {}",
        v.iter().map(|&b| b as u64).sum::<u64>()
    );
}
