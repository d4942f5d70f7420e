/*
 * The ways between guest code and the kernel (src/tcb.rs has the block's layout).
 *
 * syscall_entry (LSTAR): the guest runs in ring 0 too, so `syscall` changes neither
 * privilege nor stack; FMASK has cleared IF, DF, TF and AC. RCX holds the return
 * address and R11 the guest's RFLAGS. The entry saves every register in the thread's
 * block (GS:0) without touching the guest's stack (its red zone is live), then calls
 * metal_syscall(block) on the thread's kernel stack. That never returns: the way back
 * is resume_guest, which reloads the block and ends in `iretq` (SYSRET would drop to
 * ring 3).
 *
 * context_switch: the cooperative switch between kernel stacks (callee-saved registers
 * on the old stack, its RSP stored at *from).
 */
    .set OFF_SELF, 0
    .set OFF_KSTACK, 8
    .set R8, 16
    .set R9, 24
    .set R10, 32
    .set R11, 40
    .set R12, 48
    .set R13, 56
    .set R14, 64
    .set R15, 72
    .set RDI, 80
    .set RSI, 88
    .set RBP, 96
    .set RBX, 104
    .set RDX, 112
    .set RAX, 120
    .set RCX, 128
    .set RSP, 136
    .set RIP, 144
    .set RFLAGS, 152
    .set IRET, 160
    .set FX, 256
    .set KERNEL_CS, 0x08
    .set KERNEL_DS, 0x10

    .section .text
    .balign 16
    .globl syscall_entry
syscall_entry:
    mov %rsp, %gs:RSP
    mov %gs:OFF_SELF, %rsp
    mov %r8, R8(%rsp)
    mov %r9, R9(%rsp)
    mov %r10, R10(%rsp)
    mov %r11, R11(%rsp)
    mov %r12, R12(%rsp)
    mov %r13, R13(%rsp)
    mov %r14, R14(%rsp)
    mov %r15, R15(%rsp)
    mov %rdi, RDI(%rsp)
    mov %rsi, RSI(%rsp)
    mov %rbp, RBP(%rsp)
    mov %rbx, RBX(%rsp)
    mov %rdx, RDX(%rsp)
    mov %rax, RAX(%rsp)
    mov %rcx, RCX(%rsp)
    mov %rcx, RIP(%rsp)
    mov %r11, RFLAGS(%rsp)
    cmpb $0, fpu_xsave(%rip)
    je 1f
    mov $7, %eax                /* x87, SSE, AVX (src/fpu.rs) */
    xor %edx, %edx
    xsave64 FX(%rsp)
    jmp 2f
1:  fxsave64 FX(%rsp)
2:
    mov %rsp, %rdi
    mov OFF_KSTACK(%rsp), %rsp
    xor %ebp, %ebp
    call metal_syscall
    ud2

    .balign 16
    .globl resume_guest
resume_guest:
    mov %rdi, %rsp
    cmpb $0, fpu_xsave(%rip)
    je 1f
    mov $7, %eax
    xor %edx, %edx
    xrstor64 FX(%rsp)
    jmp 2f
1:  fxrstor64 FX(%rsp)
2:
    mov RIP(%rsp), %rax
    mov %rax, IRET(%rsp)
    movq $KERNEL_CS, IRET+8(%rsp)
    mov RFLAGS(%rsp), %rax
    and $~0x100, %rax           /* never resume single-stepping by accident (TF) */
    or $0x200, %rax             /* guest code always runs with interrupts on */
    mov %rax, IRET+16(%rsp)
    mov RSP(%rsp), %rax
    mov %rax, IRET+24(%rsp)
    movq $KERNEL_DS, IRET+32(%rsp)
    mov R8(%rsp), %r8
    mov R9(%rsp), %r9
    mov R10(%rsp), %r10
    mov R11(%rsp), %r11
    mov R12(%rsp), %r12
    mov R13(%rsp), %r13
    mov R14(%rsp), %r14
    mov R15(%rsp), %r15
    mov RDI(%rsp), %rdi
    mov RSI(%rsp), %rsi
    mov RBP(%rsp), %rbp
    mov RBX(%rsp), %rbx
    mov RDX(%rsp), %rdx
    mov RAX(%rsp), %rax
    mov RCX(%rsp), %rcx
    lea IRET(%rsp), %rsp
    iretq

/* context_switch(from: *mut u64, to: u64) */
    .balign 16
    .globl context_switch
context_switch:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

/* Where a new task's first context_switch lands: RBX holds its argument, R12 the
 * function (which never returns). */
    .balign 16
    .globl task_trampoline
task_trampoline:
    mov %rbx, %rdi
    xor %ebp, %ebp
    call *%r12
    ud2

/* call_on_stack(arg, f, stack_top): runs f(arg) on another stack; f never returns. */
    .balign 16
    .globl call_on_stack
call_on_stack:
    mov %rdx, %rsp
    xor %ebp, %ebp
    call *%rsi
    ud2
