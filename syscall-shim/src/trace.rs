//! The strace-style trace (`unify run --trace`): one line per syscall on the libOS's
//! log, `name(args) = result`, with buffers and strings decoded where they are readable.
//! Once the program has started a second thread, each line begins with the caller's tid
//! (`[tid 1234] `), as `strace -f` does.

use alloc::string::String;
use core::fmt::Write;

use libos::{Kernel, SysResult};

use crate::args::Args;
use crate::names::syscall_name;
use crate::table::{ArgFmt, Support, SyscallDef};
use crate::user;

const MAX_SHOWN: usize = 32;

/// Whether the syscall ends the thread, so its line is printed before it runs.
pub fn never_returns(def: &SyscallDef) -> bool {
    matches!(def.name, "exit" | "exit_group")
}

/// `[tid N] ` once the process has more than one thread.
fn tid_prefix(out: &mut String, kernel: &Kernel, tid: u32) {
    if kernel.threads.started() > 1 {
        let _ = write!(out, "[tid {tid}] ");
    }
}

/// Prints `name(args) = result` (`= ?` when `result` is `None`) for thread `tid`.
pub fn line(kernel: &Kernel, tid: u32, def: &SyscallDef, args: &Args, result: Option<SysResult>) {
    let mut out = String::new();
    tid_prefix(&mut out, kernel, tid);
    let _ = write!(out, "{}(", def.name);
    for (i, fmt) in def.args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        arg(&mut out, *fmt, args, i, result);
    }
    out.push(')');
    out.push_str(" = ");
    match result {
        None => out.push('?'),
        Some(r) => result_text(&mut out, def, r),
    }
    kernel.platform.log(&out);
}

/// Prints a line for a number with no table row.
pub fn unknown(kernel: &Kernel, tid: u32, nr: u64, args: &Args) {
    let mut out = String::new();
    tid_prefix(&mut out, kernel, tid);
    match syscall_name(nr) {
        Some(name) => {
            let _ = write!(out, "{name}(");
        }
        None => {
            let _ = write!(out, "syscall_{nr}(");
        }
    }
    for (i, a) in args.0.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{a:#x}");
    }
    out.push_str(") = -1 ENOSYS (Function not implemented)");
    kernel.platform.log(&out);
}

fn result_text(out: &mut String, def: &SyscallDef, r: SysResult) {
    match r {
        Ok(v) => {
            let hex = matches!(def.name, "mmap" | "mremap" | "brk");
            if hex {
                let _ = write!(out, "{v:#x}");
            } else {
                let _ = write!(out, "{}", v as i64);
            }
        }
        Err(e) => {
            let _ = write!(out, "-1 {} ({})", e.name(), e.description());
        }
    }
    if let Support::Errno(_, why) = def.support {
        let _ = write!(out, " [{why}]");
    }
}

fn arg(out: &mut String, fmt: ArgFmt, args: &Args, i: usize, result: Option<SysResult>) {
    let raw = args.raw(i);
    match fmt {
        ArgFmt::Int => {
            let _ = write!(out, "{}", raw as i64);
        }
        ArgFmt::UInt => {
            let _ = write!(out, "{raw}");
        }
        ArgFmt::Hex => {
            if raw == 0 {
                out.push_str("NULL");
            } else {
                let _ = write!(out, "{raw:#x}");
            }
        }
        ArgFmt::Str => match user::read_cstr(raw, 4096) {
            Ok(s) => quoted(out, &s, s.len()),
            Err(_) => {
                let _ = write!(out, "{raw:#x}");
            }
        },
        ArgFmt::InBuf(len_idx) => buffer(out, raw, args.usize(len_idx as usize)),
        ArgFmt::OutBuf => match result {
            Some(Ok(n)) => buffer(out, raw, n),
            _ => {
                let _ = write!(out, "{raw:#x}");
            }
        },
    }
}

fn buffer(out: &mut String, addr: u64, len: usize) {
    match user::slice(addr, len.min(MAX_SHOWN)) {
        Ok(bytes) => quoted(out, bytes, len),
        Err(_) => {
            let _ = write!(out, "{addr:#x}");
        }
    }
}

fn quoted(out: &mut String, bytes: &[u8], full_len: usize) {
    out.push('"');
    for &b in bytes.iter().take(MAX_SHOWN) {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    if full_len > MAX_SHOWN {
        out.push_str("...");
    }
}
