//! SIGPIPE on a write to a pipe whose read end is closed.
//!
//! - no argument: Rust's std ignores SIGPIPE at start-up, so the write fails with EPIPE and
//!   nothing is pending; then with a handler installed: the handler runs (SI_USER from
//!   this process) and the write still fails with EPIPE;
//! - `blocked`: SIGPIPE reset to SIG_DFL but blocked: EPIPE, and SIGPIPE is left pending
//!   (collected with rt_sigtimedwait);
//! - `default`: SIGPIPE reset to SIG_DFL: the process dies by SIGPIPE (status: signal 13).

use std::io::Write;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering::SeqCst};

use probes::sig::*;
use probes::{outcome_val, sys};

static COUNT: AtomicUsize = AtomicUsize::new(0);
static CODE: AtomicI32 = AtomicI32::new(99);
static PID_OK: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(_sig: i32, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let inf = unsafe { Info::read(info) };
    CODE.store(inf.code, SeqCst);
    PID_OK.store((inf.pid == getpid()) as i32, SeqCst);
    COUNT.fetch_add(1, SeqCst);
}

/// A pipe whose read end is already closed: returns the write end.
fn broken_pipe() -> i32 {
    let (r, [rd, wr]) = sys::pipe();
    assert_eq!(r, 0, "pipe");
    sys::close(rd);
    wr
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    set_mask(0);
    println!("SIGPIPE at start: {}", disposition(SIGPIPE));
    match arg.as_str() {
        "" => {
            let wr = broken_pipe();
            println!("write: {}", outcome_val(sys::write(wr, b"x")));
            println!("pending: {}", mask_names(pending()));
            let mut f = std::fs::File::from(unsafe_owned(wr));
            let e = f.write_all(b"x").unwrap_err();
            println!("std write_all: {:?}", e.kind());

            install(SIGPIPE, record, SA_SIGINFO, 0);
            let wr = broken_pipe();
            println!("with a handler: write {}", outcome_val(sys::write(wr, b"x")));
            println!(
                "handler ran {} time(s), {}, si_pid is getpid: {}",
                COUNT.load(SeqCst),
                si_code_name(CODE.load(SeqCst)),
                PID_OK.load(SeqCst) == 1
            );
            let iov = [b"ab".as_slice(), b"cd".as_slice()];
            println!("writev: {}, handler ran {} time(s)", outcome_val(sys::writev(wr, &iov)), COUNT.load(SeqCst));
            sys::close(wr);
        }
        "blocked" => {
            set_disposition(SIGPIPE, SIG_DFL);
            block(bit(SIGPIPE));
            let wr = broken_pipe();
            println!("SIG_DFL, blocked: write {}", outcome_val(sys::write(wr, b"x")));
            println!("pending: {}", mask_names(pending()));
            let mut info = [0u64; 16];
            let set = bit(SIGPIPE);
            let zero = probes::Timespec::default();
            // SAFETY: an 8-byte set, a 128-byte siginfo buffer and a timespec.
            let r = unsafe {
                probes::syscall6(
                    libc::SYS_rt_sigtimedwait as usize,
                    &set as *const u64 as usize,
                    info.as_mut_ptr() as usize,
                    &zero as *const probes::Timespec as usize,
                    8,
                    0,
                    0,
                )
            };
            // SAFETY: 128 bytes.
            let inf = unsafe { Info::read(info.as_ptr() as *const libc::siginfo_t) };
            println!(
                "rt_sigtimedwait: {}, {}, si_pid is getpid: {}",
                sig_name(r as i32),
                si_code_name(inf.code),
                inf.pid == getpid()
            );
            println!("pending after: {}", mask_names(pending()));
            sys::close(wr);
        }
        "default" => {
            set_disposition(SIGPIPE, SIG_DFL);
            let wr = broken_pipe();
            println!("SIG_DFL: writing (the process dies by SIGPIPE)");
            let r = sys::write(wr, b"x");
            println!("still alive after write: {}", outcome_val(r));
        }
        other => {
            eprintln!("unknown argument {other:?}");
            std::process::exit(2);
        }
    }
}

fn unsafe_owned(fd: i32) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: `fd` is a pipe end this program opened and hands over (closed on drop).
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}
