//! getrandom(2): sizes, flags, error cases. Never prints the bytes, only properties.

use probes::*;

const GRND_NONBLOCK: usize = 1;
const GRND_RANDOM: usize = 2;
const GRND_INSECURE: usize = 4;

fn getrandom(buf: &mut [u8], flags: usize) -> isize {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    unsafe { syscall!(nr::GETRANDOM, buf.as_mut_ptr(), buf.len(), flags) }
}

fn main() {
    let mut a = [0u8; 32];
    let r = getrandom(&mut a, 0);
    println!(
        "getrandom 32 bytes: {}, not all zero: {}",
        outcome_val(r),
        a.iter().any(|&b| b != 0)
    );
    let mut b = [0u8; 32];
    getrandom(&mut b, 0);
    println!("two draws differ: {}", a != b);

    println!("getrandom 0 bytes: {}", outcome_val(getrandom(&mut [], 0)));
    // SAFETY: zero length: nothing is written, NULL is fine.
    let r = unsafe { syscall!(nr::GETRANDOM, 0usize, 0usize, 0usize) };
    println!("getrandom NULL, 0 bytes: {}", outcome_val(r));

    let mut c = [0u8; 32];
    println!(
        "GRND_NONBLOCK: {}",
        outcome_val(getrandom(&mut c, GRND_NONBLOCK))
    );
    let mut d = [0u8; 16];
    let r = getrandom(&mut d, GRND_RANDOM);
    println!(
        "GRND_RANDOM 16 bytes: ok: {}, got at least 1: {}",
        r > 0,
        r >= 1
    );
    let r = getrandom(&mut d, GRND_RANDOM | GRND_NONBLOCK);
    println!(
        "GRND_RANDOM|GRND_NONBLOCK: ok or EAGAIN: {}",
        r > 0 || r == -11
    );
    println!(
        "GRND_INSECURE: {}",
        outcome_val(getrandom(&mut c, GRND_INSECURE))
    );
    println!(
        "GRND_INSECURE|GRND_RANDOM: {}",
        outcome_val(getrandom(&mut c, GRND_INSECURE | GRND_RANDOM))
    );
    println!("invalid flag 0x8: {}", outcome_val(getrandom(&mut c, 0x8)));
    println!(
        "invalid flag 0x100: {}",
        outcome_val(getrandom(&mut c, 0x100))
    );

    let mut big = vec![0u8; 1 << 20];
    let r = getrandom(&mut big, 0);
    let zeros = big.iter().filter(|&&x| x == 0).count();
    println!(
        "getrandom 1 MiB: {}, zero bytes plausible: {}",
        outcome_val(r),
        (2048..6144).contains(&zeros)
    );

    // SAFETY: deliberately bad pointers: the kernel checks them and returns EFAULT.
    let r = unsafe { syscall!(nr::GETRANDOM, 0usize, 16usize, 0usize) };
    println!("NULL buffer: {}", outcome_val(r));
    // SAFETY: as above.
    let r = unsafe { syscall!(nr::GETRANDOM, unmapped_page(), 16usize, 0usize) };
    println!("unmapped buffer: {}", outcome_val(r));
    // SAFETY: as above.
    let r = unsafe { syscall!(nr::GETRANDOM, KERNEL_ADDR, 16usize, 0usize) };
    println!("kernel address: {}", outcome_val(r));

    // std's HashMap keys come from getrandom too.
    let m: std::collections::HashMap<u32, u32> = (0..100).map(|i| (i, i * 2)).collect();
    println!(
        "HashMap works: {}",
        m.get(&7) == Some(&14) && m.len() == 100
    );
}
