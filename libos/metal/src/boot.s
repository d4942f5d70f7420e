/*
 * PVH entry: QEMU (or any PVH loader) jumps to pvh_start32 in 32-bit protected mode,
 * paging off, interrupts off, flat 4 GiB CS/DS, with EBX = physical address of the
 * hvm_start_info structure (src/pvh.rs).
 *
 * From here to Rust: zero .bss, identity-map the first 4 GiB with 2 MiB pages (all of
 * the RAM microvm gives below 4 GiB plus its MMIO: virtio-mmio, IOAPIC, LAPIC), enable
 * SSE (the precompiled core uses it), enter long mode and call kernel_main(start_info)
 * on the boot stack.
 */

    .section .note.Xen, "a", @note
    .balign 4
    .long 4                     /* namesz: "Xen\0" */
    .long 8                     /* descsz */
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .quad pvh_start32           /* QEMU reads a 64-bit value from a 64-bit ELF */
    .balign 4

    .set CR0_PE, 1 << 0
    .set CR0_MP, 1 << 1
    .set CR0_EM, 1 << 2
    .set CR0_TS, 1 << 3
    .set CR0_NE, 1 << 5
    .set CR0_PG, 1 << 31
    .set CR4_PAE, 1 << 5
    .set CR4_OSFXSR, 1 << 9
    .set CR4_OSXMMEXCPT, 1 << 10
    .set MSR_EFER, 0xc0000080
    .set EFER_LME, 1 << 8
    .set PTE_PRESENT_WRITABLE, 0x3
    .set PDE_2MIB, 0x83         /* present, writable, page size */
    .set DEBUG_EXIT_PORT, 0xf4
    .set COM1, 0x3f8

    .section .text.boot, "ax", @progbits
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi              /* keep the hvm_start_info address */

    /* The time of entry, for the boot-time figure the kernel logs (in .data: the
     * .bss is cleared below). */
    rdtsc
    mov %eax, boot_entry_tsc
    mov %edx, boot_entry_tsc + 4

    /* Long mode must exist (CPUID 0x80000001 EDX bit 29); otherwise say so and exit. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode

    /* Zero .bss (page tables, stacks, statics): the ELF loader should have, but the
     * PVH protocol does not promise it. 4 bytes at a time (the linker script aligns
     * both ends to 16). */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl

    /* PML4[0] -> PDPT; PDPT[0..4] -> the four page directories. */
    mov $boot_pdpt + PTE_PRESENT_WRITABLE, %eax
    mov %eax, boot_pml4
    mov $boot_pd + PTE_PRESENT_WRITABLE, %eax
    mov %eax, boot_pdpt
    add $0x1000, %eax
    mov %eax, boot_pdpt + 8
    add $0x1000, %eax
    mov %eax, boot_pdpt + 16
    add $0x1000, %eax
    mov %eax, boot_pdpt + 24

    /* 2048 PDEs of 2 MiB each: physical 0 .. 4 GiB (high dwords stay zero). */
    mov $boot_pd, %edi
    mov $PDE_2MIB, %eax
    mov $2048, %ecx
1:  mov %eax, (%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 1b

    /* PAE for long mode; OSFXSR|OSXMMEXCPT so SSE instructions work. */
    mov %cr4, %eax
    or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4

    mov $boot_pml4, %eax
    mov %eax, %cr3

    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr

    /* Paging on (which activates long mode); coprocessor present, no emulation. */
    mov %cr0, %eax
    and $~(CR0_EM | CR0_TS), %eax
    or $(CR0_PG | CR0_PE | CR0_MP | CR0_NE), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode_entry

no_long_mode:
    mov $no_long_mode_msg, %esi
2:  lodsb
    test %al, %al
    jz 3f
    mov $COM1, %dx
    out %al, %dx
    jmp 2b
3:  mov $125, %eax              /* the kernel-failure status (src/exit.rs) */
    mov $DEBUG_EXIT_PORT, %dx
    out %eax, %dx
4:  hlt
    jmp 4b

    .code64
long_mode_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs

    fninit
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov %esi, %edi              /* kernel_main(start_info_paddr) */
    call kernel_main
5:  hlt                         /* kernel_main never returns */
    jmp 5b

    .section .rodata
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9b000000ffff    /* 0x08: 64-bit code, ring 0 (accessed) */
    .quad 0x00cf93000000ffff    /* 0x10: data, ring 0 (accessed) */
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
no_long_mode_msg:
    .asciz "unify-kernel: this CPU has no long mode (x86-64)\n"

    .section .data
    .balign 8
    .globl boot_entry_tsc
boot_entry_tsc:
    .quad 0

    .section .bss
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4096 * 4
    .balign 16
boot_stack:
    .skip 128 * 1024
boot_stack_top:
