//! exit(2) of one thread versus exit_group(2), with the process's status:
//! - `group`: the main thread ends alone with exit(0); a worker goes on, prints, and
//!   ends the process with exit_group(3): status 3.
//! - `leader`: the main thread ends alone with exit(5); the workers end alone with
//!   exit(9), exit(10), exit(11) in turn: the process reports the last one's, 11.
//! - `worker`: a worker ends alone with exit(7) while the main thread goes on and
//!   returns from main: status 0.

use std::thread;
use std::time::Duration;

use probes::*;

const SYS_EXIT_GROUP: usize = 231;

fn exit_thread(status: usize) -> ! {
    flush();
    // SAFETY: ends only the calling thread.
    unsafe { syscall!(nr::EXIT, status) };
    unreachable!("exit returned")
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "group" => {
            thread::spawn(|| {
                thread::sleep(Duration::from_millis(50));
                println!("worker: still running after the main thread's exit(0)");
                flush();
                // SAFETY: ends the whole process.
                unsafe { syscall!(SYS_EXIT_GROUP, 3usize) };
            });
            println!("main: exit(0) of the main thread only");
            exit_thread(0);
        }
        "leader" => {
            for i in 0..3u64 {
                thread::spawn(move || {
                    thread::sleep(Duration::from_millis(30 + 30 * i));
                    println!("worker {i}: exit({})", 9 + i);
                    exit_thread(9 + i as usize);
                });
            }
            println!("main: exit(5) of the main thread only");
            exit_thread(5);
        }
        "worker" => {
            // A thread that ends with exit(2) is still joined (CLONE_CHILD_CLEARTID
            // wakes the joiner); std then reports that it ended without a result.
            let h = thread::spawn(|| exit_thread(7));
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || h.join()));
            println!("main: joining a worker that called exit(7) directly returned: {}", r.is_ok());
            println!("main: still running, returns from main");
        }
        _ => {
            eprintln!("usage: thread_exit group|leader|worker");
            std::process::exit(2);
        }
    }
}
