//! The syscall path of the VM: `syscall` enters through LSTAR (src/switch.s saves the
//! guest's registers in its thread block), the shim dispatches, and the way back
//! delivers pending signals and returns to the guest with `iretq`.

use core::sync::atomic::Ordering;

use libos::Kernel;
use syscall_shim::delivery::{deliver_pending, SyscallRestart};

use crate::platform::TIMERS_CHANGED;
use crate::sched::{self, Task};
use crate::tcb::{resume_guest, Tcb};
use crate::{clock, cpu, stdio};

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_FMASK: u32 = 0xc000_0084;
const EFER_SCE: u64 = 1 << 0;
/// RFLAGS bits `syscall` clears: TF, IF, DF, IOPL, NT, AC (as Linux does).
const FMASK: u64 = 0x4_7700;
/// The length of the `syscall` instruction, for restarting one.
const SYSCALL_LEN: u64 = 2;

extern "C" {
    fn syscall_entry();
}

/// Points `syscall` at the entry: kernel CS and SS on entry, LSTAR, FMASK.
///
/// # Safety
/// Once, on the boot CPU, after the GDT (whose selectors STAR names) is loaded.
pub unsafe fn init() {
    // SAFETY: these MSRs exist on every x86-64 CPU; the values are the kernel's own
    // selectors (0x08 code, 0x10 data follows it) and entry point.
    unsafe {
        cpu::wrmsr(cpu::MSR_EFER, cpu::rdmsr(cpu::MSR_EFER) | EFER_SCE);
        cpu::wrmsr(MSR_STAR, (u64::from(crate::gdt::KERNEL_CS)) << 32);
        cpu::wrmsr(MSR_LSTAR, syscall_entry as *const () as u64);
        cpu::wrmsr(MSR_FMASK, FMASK);
    }
}

/// Serves one syscall of the running thread (called by src/switch.s on its kernel
/// stack); never returns: the guest resumes through `resume_guest`.
#[no_mangle]
extern "C" fn metal_syscall(tcb: *mut Tcb) -> ! {
    // SAFETY: the block is the running task's (GS:0), and Task starts with it.
    let task = unsafe { &mut *(tcb as *mut Task) };
    let regs = task.tcb.regs;
    let nr = regs.rax;
    let args = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
    task.replaced = false;
    let thread = task.thread.as_mut().expect("a syscall from the idle task");
    let ret = syscall_shim::dispatch(thread, nr, args);
    let syscall = if task.replaced {
        None
    } else {
        task.tcb.regs.rax = ret;
        Some(nr)
    };
    leave_kernel(task, syscall)
}

/// A new thread's first run (Task::new's entry): straight to its guest registers.
pub extern "C" fn thread_start(task: *mut Task) -> ! {
    // SAFETY: the scheduler passes the task it switched to, which is running.
    let task = unsafe { &mut *task };
    leave_kernel(task, None)
}

/// The way back to guest code for `task`, the running task, from a syscall (`syscall`:
/// its number, the result already in RAX) or from an interrupt or fault (`None`):
/// the timers, signals, and the FS base, then `iretq`.
pub fn leave_kernel(task: &mut Task, syscall: Option<u64>) -> ! {
    if TIMERS_CHANGED.swap(false, Ordering::SeqCst) {
        crate::idle::run_timers();
    }
    let thread = task.thread.as_mut().expect("guest thread");
    if thread.fs_base != task.tcb.fs_base {
        task.tcb.fs_base = thread.fs_base;
        sched::set_fs_base(thread.fs_base);
    }
    let rax = task.tcb.regs.rax as i64;
    let restart = syscall.is_some() && (-514..=-512).contains(&rax);
    if thread.shared.hinted() || restart {
        let mut ctx = task.tcb.context();
        let how = syscall.map(|nr| SyscallRestart { nr, backup: SYSCALL_LEN });
        deliver_pending(Kernel::get(), thread, &mut ctx, how);
        task.tcb.set_context(&ctx);
    }
    crate::idle::arm_timer();
    // SAFETY: the block holds complete guest state; this is its thread's CPU.
    unsafe { resume_guest(&raw mut task.tcb) }
}

/// Work for the timer tick of a thread preempted in guest code: devices, expired
/// sleepers and timers, then another task's turn if one is ready.
pub extern "C" fn preempted(task: *mut Task) -> ! {
    stdio::poll();
    crate::net::poll();
    crate::net::plan();
    sched::expire(clock::monotonic_ns());
    crate::idle::run_timers();
    sched::yield_now();
    // SAFETY: the running task again (yield_now returns when it is scheduled).
    leave_kernel(unsafe { &mut *task }, None)
}
