//! Interrupts and exceptions that concern the guest: the timer tick (preemption),
//! page faults (demand paging, or the guest's SIGSEGV), and the other exceptions of
//! guest code, which become the guest's signals as Linux's traps.c makes them.
//!
//! A vector that interrupted guest code leaves the IST stack it arrived on before
//! anything that may switch tasks: the guest's state is copied into its thread block
//! and the work continues on the thread's kernel stack (`call_on_stack`), so the IST
//! stack is free again for the next interrupt whoever runs then.

use libos::siginfo::{code, signal_name, SigInfo};
use libos::signal::{SIG_DFL, SIG_IGN};
use libos::sigsend::SignalTarget;
use libos::Kernel;
use syscall_shim::delivery::deliver_pending;

use crate::guest_memory::{self, FaultKind};
use crate::interrupt::InterruptFrame;
use crate::sched::{self, Task};
use crate::{apic, cpu};

#[allow(improper_ctypes)] // the assembly only passes the task pointer on
extern "C" {
    fn call_on_stack(arg: *mut Task, f: extern "C" fn(*mut Task) -> !, stack_top: u64) -> !;
    static __kernel_start: u8;
    static __kernel_end: u8;
}

const SIGTRAP: u32 = 5;
const SIGBUS: u32 = 7;
const SIGFPE: u32 = 8;
const SIGILL: u32 = 4;
const SIGKILL: u32 = 9;
const SIGSEGV: u32 = 11;

/// Whether `frame` interrupted guest code of a guest thread (not the kernel, nor the
/// idle task halted in it).
fn from_guest(frame: &InterruptFrame) -> bool {
    let (start, end) = (&raw const __kernel_start as u64, &raw const __kernel_end as u64);
    !(start..end).contains(&frame.rip) && !sched::idle_running()
}

/// Handles `frame`'s vector if it is one of these; false: the caller reports it as a
/// kernel failure.
pub fn handle(frame: &mut InterruptFrame) -> bool {
    match frame.vector {
        v if v == u64::from(apic::TIMER_VECTOR) => {
            apic::eoi();
            if from_guest(frame) {
                leave_ist(frame, crate::syscall::preempted);
            }
            true // the idle task looks at what is due when its halt ends
        }
        v if v == u64::from(crate::net::IRQ_VECTOR) => {
            // Marks ingress due and masks the card's pin (src/net/irq.rs); guest code
            // goes on, and the frames are taken at its next wait, socket call or tick.
            crate::net::interrupt();
            true // the idle task polls the network when its halt ends
        }
        v if v == u64::from(apic::SPURIOUS_VECTOR) => true,
        v if v == u64::from(crate::ioapic::SERIAL_VECTOR) => {
            // Input arrived: take it now (reading the data clears the UART's request).
            apic::eoi();
            if from_guest(frame) {
                leave_ist(frame, crate::syscall::preempted);
            }
            true // the idle task polls when its halt ends
        }
        14 => {
            let cr2 = cpu::control_regs().cr2;
            match guest_memory::handle_fault(cr2, frame.error_code) {
                Ok(()) => true,
                Err(kind) if from_guest(frame) => {
                    fault(frame, cr2, Some(kind));
                }
                Err(FaultKind::OutOfMemory) => {
                    // The libOS touching guest memory (a read into a guest buffer) and
                    // no frame left: what Linux's OOM killer would do.
                    crate::stdio::log_line(
                        "unify: the VM ran out of memory; the guest was killed (give it more with -m)",
                    );
                    crate::exit::killed(SIGKILL)
                }
                Err(kind) => {
                    crate::kprintln_always!(
                        "traps: kernel fault at {cr2:#x}: {kind:?}; {}; heap {:?}",
                        guest_memory::describe(cr2),
                        crate::heap::usage()
                    );
                    false
                }
            }
        }
        0..=31 if from_guest(frame) => fault(frame, 0, None),
        // A vector the kernel never programs, from guest code: an `int N` instruction
        // (the gates are ring 0's, so the CPU lets the ring-0 guest through). On Linux
        // the gate refuses ring 3 with #GP: SIGSEGV (int 0x80 would be the 32-bit
        // syscall entry, which 64-bit programs do not use).
        _ if from_guest(frame) => {
            frame.vector = 13;
            frame.error_code = 0;
            fault(frame, 0, None)
        }
        _ => false,
    }
}

/// Copies the interrupted guest state into the running task's block and continues
/// with `then(task)` on its kernel stack.
fn leave_ist(frame: &InterruptFrame, then: extern "C" fn(*mut Task) -> !) -> ! {
    let task = sched::current();
    // SAFETY: the running task; `frame` is the entry path's save area, and below it
    // lies the 64-byte aligned FPU area src/vectors.s stored (AREA_SIZE ≤ 1024 bytes).
    unsafe {
        let t = &mut *task;
        let r = &mut t.tcb.regs;
        (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15) =
            (frame.r8, frame.r9, frame.r10, frame.r11, frame.r12, frame.r13, frame.r14, frame.r15);
        (r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx) =
            (frame.rdi, frame.rsi, frame.rbp, frame.rbx, frame.rdx, frame.rax, frame.rcx);
        (r.rsp, r.rip, r.eflags) = (frame.rsp, frame.rip, frame.rflags);
        let area = ((frame as *const InterruptFrame as usize - 1024) & !63) as *const u8;
        core::ptr::copy_nonoverlapping(area, t.tcb.fx.as_mut_ptr(), crate::fpu::AREA_SIZE);
        call_on_stack(task, then, t.tcb.kstack_top)
    }
}

/// A fault in guest code: recorded, then turned into a signal on the kernel stack.
fn fault(frame: &InterruptFrame, cr2: u64, kind: Option<FaultKind>) -> ! {
    // SAFETY: the running task (a guest thread: `from_guest` held).
    let task = unsafe { &mut *sched::current() };
    task.fault = Some(Fault { trapno: frame.vector, err: frame.error_code, cr2, kind });
    leave_ist(frame, fault_tail)
}

/// What the exception handler recorded for the fault tail.
#[derive(Clone, Copy, Debug)]
pub struct Fault {
    trapno: u64,
    err: u64,
    cr2: u64,
    kind: Option<FaultKind>,
}

/// Linux's signal, si_code and si_addr for an exception in user code.
fn signal_for(f: &Fault, rip: u64) -> (u32, i32, u64) {
    match f.trapno {
        0 => (SIGFPE, code::FPE_INTDIV, rip),
        1 => (SIGTRAP, code::TRAP_BRKPT + 1, rip), // TRAP_TRACE
        3 => (SIGTRAP, code::SI_KERNEL, 0),
        6 => (SIGILL, code::ILL_ILLOPN, rip),
        12 => (SIGBUS, code::SI_KERNEL, 0),
        14 => match f.kind {
            Some(FaultKind::Unmapped) => (SIGSEGV, code::SEGV_MAPERR, f.cr2),
            Some(FaultKind::PastEnd) => (SIGBUS, code::BUS_ADRERR, f.cr2),
            _ => (SIGSEGV, code::SEGV_ACCERR, f.cr2),
        },
        16 | 19 => (SIGFPE, 0, rip),
        17 => (SIGBUS, 1, 0), // BUS_ADRALN
        _ => (SIGSEGV, code::SI_KERNEL, 0),
    }
}

extern "C" fn fault_tail(task: *mut Task) -> ! {
    // SAFETY: the running task.
    let task = unsafe { &mut *task };
    let f = task.fault.take().expect("fault recorded");
    let kernel = Kernel::get();
    let rip = task.tcb.regs.rip;
    if f.kind == Some(FaultKind::OutOfMemory) {
        kernel.platform.log("unify: the VM ran out of memory; the guest was killed (give it more with -m)");
        kernel.platform.exit_by_signal(SIGKILL);
    }
    let (sig, si_code, addr) = signal_for(&f, rip);
    let thread = task.thread.as_mut().expect("guest thread");
    let action = kernel.signals.lock().get(sig as i32).copied().unwrap_or_default();
    let blocked = thread.sigmask() & (1u64 << (sig - 1)) != 0;
    if action.handler == SIG_DFL || action.handler == SIG_IGN || blocked {
        // Linux's force_sig_fault: a blocked or ignored fault signal is unblocked and
        // reset to its default, which ends the process.
        let shown = if f.trapno == 14 { f.cr2 } else { addr };
        let line = alloc::format!(
            "unify: the guest was killed by {} at address {shown:#x}, instruction pointer {rip:#x}",
            signal_name(sig)
        );
        kernel.platform.log(&line);
        kernel.platform.exit_by_signal(sig);
    }
    let _ = kernel.send_signal(SignalTarget::Thread(thread.tid), SigInfo::fault(sig, si_code, addr));
    let mut ctx = task.tcb.context();
    (ctx.err, ctx.trapno, ctx.cr2) = (f.err, f.trapno, f.cr2);
    deliver_pending(kernel, thread, &mut ctx, None);
    task.tcb.set_context(&ctx);
    crate::syscall::leave_kernel(task, None)
}
