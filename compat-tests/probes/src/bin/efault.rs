//! Bad user pointers must give EFAULT (never a crash), and zero-length accesses through
//! NULL must succeed (the check happens late, as in Linux). Three kinds of bad pointer:
//! NULL, a page that was mapped and unmapped again, and a kernel-half address.
//! The runner feeds some bytes on stdin so that read(0, bad, n) has data to copy.

use probes::*;

#[repr(C)]
struct Iovec {
    base: usize,
    len: usize,
}

fn bad_pointers() -> [(&'static str, usize); 3] {
    [
        ("NULL", 0),
        ("unmapped", unmapped_page()),
        ("kernel", KERNEL_ADDR),
    ]
}

fn main() {
    flush();
    for (name, p) in bad_pointers() {
        // SAFETY: (every call in this block) the pointer is invalid on purpose; the kernel
        // validates it and returns EFAULT without touching our memory.
        unsafe {
            println!(
                "write(1, {name}, 5): {}",
                outcome_val(syscall!(nr::WRITE, 1usize, p, 5usize))
            );
            println!(
                "read(0, {name}, 5): {}",
                outcome_val(syscall!(nr::READ, 0usize, p, 5usize))
            );
            println!("uname({name}): {}", outcome_val(syscall!(nr::UNAME, p)));
            println!(
                "clock_gettime(MONOTONIC, {name}): {}",
                outcome_val(syscall!(nr::CLOCK_GETTIME, CLOCK_MONOTONIC, p))
            );
            println!(
                "gettimeofday({name}): {}",
                outcome_val(syscall!(nr::GETTIMEOFDAY, p, 0usize))
            );
            println!("sysinfo({name}): {}", outcome_val(syscall!(nr::SYSINFO, p)));
            println!(
                "nanosleep({name}): {}",
                outcome_val(syscall!(nr::NANOSLEEP, p, 0usize))
            );
            println!(
                "poll({name}, 1): {}",
                outcome_val(syscall!(nr::POLL, p, 1usize, 0usize))
            );
            println!(
                "writev(1, {name}, 1): {}",
                outcome_val(syscall!(nr::WRITEV, 1usize, p, 1usize))
            );
            let iov = [Iovec { base: p, len: 4 }];
            println!(
                "writev(1, [{{{name}, 4}}], 1): {}",
                outcome_val(syscall!(nr::WRITEV, 1usize, iov.as_ptr(), 1usize))
            );
            println!(
                "getrandom({name}, 8): {}",
                outcome_val(syscall!(nr::GETRANDOM, p, 8usize, 0usize))
            );
            println!(
                "prlimit64(NOFILE, old={name}): {}",
                outcome_val(syscall!(nr::PRLIMIT64, 0usize, 7usize, 0usize, p))
            );
        }
    }

    println!("== zero-length through NULL succeeds");
    // SAFETY: zero-length accesses: nothing is read or written.
    unsafe {
        println!(
            "write(1, NULL, 0): {}",
            outcome_val(syscall!(nr::WRITE, 1usize, 0usize, 0usize))
        );
        println!(
            "read(0, NULL, 0): {}",
            outcome_val(syscall!(nr::READ, 0usize, 0usize, 0usize))
        );
        println!(
            "writev(1, NULL, 0): {}",
            outcome_val(syscall!(nr::WRITEV, 1usize, 0usize, 0usize))
        );
        println!(
            "getrandom(NULL, 0): {}",
            outcome_val(syscall!(nr::GETRANDOM, 0usize, 0usize, 0usize))
        );
        println!(
            "poll(NULL, 0, 0): {}",
            outcome_val(syscall!(nr::POLL, 0usize, 0usize, 0usize))
        );
    }

    println!("== bad fd is reported before the bad pointer");
    // SAFETY: the fd check fails first; nothing is read.
    unsafe {
        println!(
            "write(99, NULL, 5): {}",
            outcome_val(syscall!(nr::WRITE, 99usize, 0usize, 5usize))
        );
    }

    // stdin is still readable after all the failed reads.
    let mut buf = [0u8; 64];
    // SAFETY: the kernel writes at most 64 bytes into `buf`.
    let r = unsafe { syscall!(nr::READ, 0usize, buf.as_mut_ptr(), 64usize) };
    println!("read(0, buf, 64) afterwards: ok: {}", r >= 0);
    println!("still alive");
}
