//! From raw registers to a handler and back: the one function every entry path calls.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use libos::{Errno, Kernel, SysResult, Thread};

use crate::args::Args;
use crate::names::{syscall_name, SYSCALL_COUNT};
use crate::table::{self, Ctx};
use crate::trace;

static TRACE: AtomicBool = AtomicBool::new(false);

/// One bit per syscall number: set once its "not implemented" warning was printed.
static WARNED: [AtomicU64; SYSCALL_COUNT.div_ceil(64)] = [const { AtomicU64::new(0) }; SYSCALL_COUNT.div_ceil(64)];

/// Turns the strace-style trace on or off.
pub fn set_trace(on: bool) {
    TRACE.store(on, Ordering::Relaxed);
}

/// Encodes a handler's result the way the kernel returns it in RAX.
#[inline]
pub fn encode(result: SysResult) -> u64 {
    match result {
        Ok(v) => v as u64,
        Err(e) => (-(e.number() as i64)) as u64,
    }
}

/// Handles syscall `nr` with `args` for `thread`; returns the value for RAX.
#[inline]
pub fn dispatch(thread: &mut Thread, nr: u64, args: [u64; 6]) -> u64 {
    let args = Args(args);
    let kernel = Kernel::get();
    let Some(def) = table::lookup(nr) else {
        warn_unimplemented(kernel, nr);
        let result = Err(Errno::ENOSYS);
        if TRACE.load(Ordering::Relaxed) {
            trace::unknown(kernel, thread.tid, nr, &args);
        }
        return encode(result);
    };
    let tracing = TRACE.load(Ordering::Relaxed);
    if tracing && trace::never_returns(def) {
        trace::line(kernel, thread.tid, def, &args, None);
    }
    let mut ctx = Ctx { kernel, thread };
    let result = table::call(def, &mut ctx, &args);
    if tracing {
        trace::line(kernel, ctx.thread.tid, def, &args, Some(result));
    }
    encode(result)
}

/// Reports an unimplemented syscall once per number.
fn warn_unimplemented(kernel: &Kernel, nr: u64) {
    let Ok(idx) = usize::try_from(nr) else { return };
    let bit = 1u64 << (idx % 64);
    if let Some(word) = WARNED.get(idx / 64) {
        if word.fetch_or(bit, Ordering::Relaxed) & bit != 0 {
            return;
        }
    } else if nr != u64::MAX {
        // Numbers past the table: warn every time is too noisy; warn for the first only.
        if WARNED[0].fetch_or(1, Ordering::Relaxed) & 1 != 0 {
            return;
        }
    }
    let mut line = alloc::string::String::new();
    let name = syscall_name(nr).unwrap_or("unknown");
    let _ =
        core::fmt::write(&mut line, format_args!("unify: syscall {name} ({nr}) is not implemented; returning ENOSYS"));
    kernel.platform.log(&line);
}
