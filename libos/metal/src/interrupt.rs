//! Interrupt and exception entry (the stubs are in src/vectors.s).
//!
//! src/traps.rs handles what concerns the guest: the timer and device interrupts,
//! demand paging, and exceptions in guest code (which become signals). Anything else —
//! an exception in kernel code, an unexpected vector — is a kernel bug: it is reported
//! with its registers on the kernel log and the VM exits with the kernel-failure status
//! (src/exit.rs). The path is a full save/restore (general registers, FPU state, iretq),
//! so a handled vector resumes the interrupted code exactly.

use crate::console;
use crate::cpu;
use crate::exit;
use core::arch::global_asm;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

global_asm!(include_str!("vectors.s"), options(att_syntax));

/// The registers as the entry path saved them (the order is src/vectors.s's pushes,
/// reversed, then what the CPU pushed).
#[repr(C)]
#[derive(Debug)]
pub struct InterruptFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Set once the kernel is on its way out after a fault or panic: a second fault while
/// reporting must not report again (it would reuse the same IST stack, src/gdt.rs).
static DYING: AtomicBool = AtomicBool::new(false);

/// Called by `isr_common` for every vector.
#[no_mangle]
extern "C" fn interrupt_dispatch(frame: &mut InterruptFrame) {
    if crate::traps::handle(frame) {
        return;
    }
    fatal(frame)
}

/// The mnemonic and name of an exception vector.
fn exception_name(vector: u64) -> (&'static str, &'static str) {
    match vector {
        0 => ("#DE", "divide error"),
        1 => ("#DB", "debug"),
        2 => ("NMI", "non-maskable interrupt"),
        3 => ("#BP", "breakpoint"),
        4 => ("#OF", "overflow"),
        5 => ("#BR", "bound range exceeded"),
        6 => ("#UD", "invalid opcode"),
        7 => ("#NM", "device not available"),
        8 => ("#DF", "double fault"),
        9 => ("#MF", "coprocessor segment overrun"),
        10 => ("#TS", "invalid TSS"),
        11 => ("#NP", "segment not present"),
        12 => ("#SS", "stack-segment fault"),
        13 => ("#GP", "general protection fault"),
        14 => ("#PF", "page fault"),
        16 => ("#MF", "x87 floating-point error"),
        17 => ("#AC", "alignment check"),
        18 => ("#MC", "machine check"),
        19 => ("#XM", "SIMD floating-point exception"),
        20 => ("#VE", "virtualization exception"),
        21 => ("#CP", "control protection"),
        28 => ("#HV", "hypervisor injection"),
        29 => ("#VC", "VMM communication"),
        30 => ("#SX", "security exception"),
        15 | 22..=27 | 31 => ("#??", "reserved exception"),
        _ => ("IRQ", "unexpected interrupt"),
    }
}

/// The page-fault error code in words.
struct PageFaultCode(u64);

impl fmt::Display for PageFaultCode {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let c = self.0;
        f.write_str(if c & 1 != 0 { "protection" } else { "not-present" })?;
        f.write_str(if c & 0x10 != 0 {
            " instruction-fetch"
        } else if c & 2 != 0 {
            " write"
        } else {
            " read"
        })?;
        f.write_str(if c & 4 != 0 { " user" } else { " supervisor" })?;
        if c & 8 != 0 {
            f.write_str(" reserved-bit")?;
        }
        Ok(())
    }
}

fn report(w: &mut impl Write, frame: &InterruptFrame) -> fmt::Result {
    let (mnemonic, name) = exception_name(frame.vector);
    let cr = cpu::control_regs();
    write!(
        w,
        "unify-kernel: exception {mnemonic} {name} (vector {}), error code {:#x}",
        frame.vector, frame.error_code
    )?;
    if frame.vector == 14 {
        write!(w, " [{}]", PageFaultCode(frame.error_code))?;
    }
    writeln!(w)?;
    if frame.vector == 14 {
        writeln!(w, "  faulting address cr2={:#018x}", cr.cr2)?;
    }
    writeln!(w, "  rip={:#018x} cs={:#06x} rflags={:#010x}", frame.rip, frame.cs, frame.rflags)?;
    writeln!(w, "  rsp={:#018x} ss={:#06x}", frame.rsp, frame.ss)?;
    let gprs = [
        ("rax", frame.rax),
        ("rbx", frame.rbx),
        ("rcx", frame.rcx),
        ("rdx", frame.rdx),
        ("rsi", frame.rsi),
        ("rdi", frame.rdi),
        ("rbp", frame.rbp),
        ("r8 ", frame.r8),
        ("r9 ", frame.r9),
        ("r10", frame.r10),
        ("r11", frame.r11),
        ("r12", frame.r12),
        ("r13", frame.r13),
        ("r14", frame.r14),
        ("r15", frame.r15),
    ];
    for row in gprs.chunks(3) {
        w.write_str(" ")?;
        for (name, value) in row {
            write!(w, " {name}={value:#018x}")?;
        }
        writeln!(w)?;
    }
    writeln!(w, "  cr0={:#010x} cr3={:#010x} cr4={:#010x}", cr.cr0, cr.cr3, cr.cr4)
}

/// Reports the vector with its registers and ends the VM with the kernel-failure status.
fn fatal(frame: &InterruptFrame) -> ! {
    let mut w = console::emergency();
    if DYING.swap(true, Ordering::SeqCst) {
        let _ = writeln!(w, "unify-kernel: vector {} at rip={:#x} while already failing", frame.vector, frame.rip);
        exit::leave(exit::KERNEL_FAILURE);
    }
    let _ = writeln!(w);
    let _ = report(&mut w, frame);
    exit::exit_on_fault(exit::KERNEL_FAILURE, "kernel exception")
}

/// Marks the kernel as failing; returns false if it already was (a nested failure).
pub fn begin_dying() -> bool {
    !DYING.swap(true, Ordering::SeqCst)
}
