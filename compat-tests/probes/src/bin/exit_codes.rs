//! Exits with the status given in argv[1].
//!
//! `exit_codes N` uses `std::process::exit` (libc `exit` → `exit_group`);
//! `exit_codes N raw` ends the only thread with the plain `exit` syscall (60), which
//! must end the process with that status too.

use probes::{flush, nr, syscall};

fn main() {
    let mut args = std::env::args().skip(1);
    let code: i32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let raw = args.next().as_deref() == Some("raw");
    println!(
        "exiting with {code}{}",
        if raw { " via raw exit" } else { "" }
    );
    if raw {
        flush();
        // SAFETY: `exit` never returns; stdout was flushed, nothing else needs to run.
        unsafe {
            syscall!(nr::EXIT, code as isize);
        }
        unreachable!("exit returned");
    }
    std::process::exit(code);
}
