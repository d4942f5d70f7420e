//! Unbounded recursion: Rust's std catches the guard-page fault with its SIGSEGV handler
//! (installed at start-up on an alternate stack), prints
//! "thread '<name>' has overflowed its stack" and "fatal runtime error: stack overflow"
//! on stderr and aborts (SIGABRT).
//!
//! - `main`: on the main thread;
//! - `thread`: in a spawned thread named "deep" (its stack has its own guard page and
//!   alternate signal stack).

use std::hint::black_box;

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = [depth; 32];
    black_box(&frame);
    recurse(black_box(depth + 1)).wrapping_add(frame[7])
}

fn no_core_dump() {
    let zero = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: setrlimit reads one rlimit.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
}

fn main() {
    no_core_dump();
    match std::env::args().nth(1).as_deref() {
        Some("main") => {
            println!("recursing on the main thread");
            println!("unreachable: {}", recurse(0));
        }
        Some("thread") => {
            println!("recursing in thread 'deep'");
            let t = std::thread::Builder::new().name("deep".into()).spawn(|| recurse(0)).unwrap();
            println!("unreachable: {:?}", t.join().is_ok());
        }
        other => {
            eprintln!("usage: stack_overflow main|thread (got {other:?})");
            std::process::exit(2);
        }
    }
}
