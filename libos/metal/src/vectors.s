/*
 * The 256 interrupt entry stubs and the common path (src/interrupt.rs).
 *
 * Every vector enters on an IST stack (src/gdt.rs). Stub N is 16-byte aligned at
 * isr_stubs + 16 * N; it pushes a zero error code for the vectors where the CPU pushes
 * none, then N, and joins isr_common, which saves the general registers (building an
 * InterruptFrame), saves the FPU/SSE/AVX state (src/fpu.rs; the Rust handler may use
 * SSE) in a 64-byte aligned area below the frame, calls
 * interrupt_dispatch(&mut InterruptFrame) and returns with iretq, so a handled vector
 * resumes the interrupted code exactly.
 */

    .section .text
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vector, 0
    .rept 256
    .balign 16
    /* #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX push an error code. */
    .if (vector == 8) || (vector == 10) || (vector == 11) || (vector == 12) || (vector == 13) || (vector == 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    .else
    pushq $0
    .endif
    pushq $vector
    jmp isr_common
    .set vector, vector + 1
    .endr
    .balign 16
    .globl isr_stubs_end
isr_stubs_end:

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi              /* &mut InterruptFrame */
    mov %rsp, %rbp              /* callee-saved: the frame, to come back to */
    sub $1024, %rsp             /* the FPU save area, 64-byte aligned below the frame */
    and $-64, %rsp
    cmpb $0, fpu_xsave(%rip)
    je 1f
    mov $7, %eax                /* x87, SSE, AVX (src/fpu.rs) */
    xor %edx, %edx
    xsave64 (%rsp)
    jmp 2f
1:  fxsave64 (%rsp)
2:  cld
    call interrupt_dispatch
    cmpb $0, fpu_xsave(%rip)
    je 3f
    mov $7, %eax
    xor %edx, %edx
    xrstor64 (%rsp)
    jmp 4f
3:  fxrstor64 (%rsp)
4:  mov %rbp, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp               /* vector and error code */
    iretq
