//! unify-kernel: the libOS's VM platform, booted by QEMU (`-M microvm -kernel`) or any
//! VMM that starts a PVH ELF. README.md describes the boot, the consoles, the exit
//! protocol and how to build and run it.
//!
//! With a virtio-blk device holding a unify image, it runs the image's program (src/guest.rs):
//! the guest in ring 0 of the one address space, its syscalls entering through LSTAR
//! (src/syscall.rs), its threads on the scheduler (src/sched.rs), its memory demand-paged
//! (src/guest_memory.rs). Without one it exits with `unify.exit`'s status.

#![no_std]
#![no_main]

extern crate alloc;

mod apic;
mod boot;
mod clock;
mod cmdline;
mod console;
mod cpu;
mod disk;
mod dma;
mod exit;
mod fpu;
mod frames;
mod futex;
mod fw_cfg;
mod gdt;
mod guest;
mod guest_memory;
mod heap;
mod idle;
mod idt;
mod interrupt;
mod ioapic;
mod mem;
mod memory;
mod net;
mod paging;
mod panic;
mod pit;
mod platform;
mod port;
mod pvh;
mod random;
mod sched;
mod selftest;
mod serial;
mod shm;
mod stdio;
mod syscall;
mod tcb;
mod traps;
mod tsc;
mod vdso;
mod virtio;

core::arch::global_asm!(include_str!("switch.s"), options(att_syntax));

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

extern "C" {
    /// The TSC when src/boot.s began.
    static boot_entry_tsc: u64;
}

/// The Rust entry point, called by src/boot.s in long mode on the boot stack with
/// interrupts off and SSE enabled.
#[no_mangle]
extern "C" fn kernel_main(start_info_paddr: u32) -> ! {
    let tsc_main = cpu::rdtsc();
    console::init();

    // SAFETY: once, on the boot CPU, interrupts off; the IDT after the GDT it names.
    unsafe {
        gdt::init();
        idt::init();
    }
    // SAFETY: once, on the boot CPU, interrupts off, running from the kernel image.
    unsafe { paging::init() };

    // SAFETY: the address is the loader's EBX; nothing has been allocated yet.
    let info = match unsafe { pvh::StartInfo::read(u64::from(start_info_paddr)) } {
        Ok(info) => info,
        Err(e) => {
            kprintln!("boot: unusable PVH start info at {start_info_paddr:#x}: {e}");
            exit::exit(exit::KERNEL_FAILURE, "no boot information")
        }
    };
    let cmdline = info.cmdline();
    let args = match cmdline::parse(cmdline) {
        Ok(args) => args,
        Err(cmdline::BadArg(word)) => {
            kprintln!("unify-kernel {} (PVH, x86-64)", env!("CARGO_PKG_VERSION"));
            kprintln!("boot: bad boot argument \"{word}\"");
            exit::exit(exit::KERNEL_FAILURE, "bad boot argument")
        }
    };
    if args.log_com3 {
        // unify runs the VM: COM1 is the guest's stdout from the start.
        console::log_to_com3();
        console::set_quiet(!args.verbose);
    }
    kprintln!("unify-kernel {} (PVH, x86-64)", env!("CARGO_PKG_VERSION"));
    let tsc_banner = cpu::rdtsc();
    kprintln!("boot: command line \"{cmdline}\"");

    init_memory(&info);
    match info.rsdp() {
        0 => kprintln!("acpi: no RSDP from the loader"),
        rsdp => kprintln!("acpi: RSDP at {rsdp:#x} (not read yet)"),
    }
    report_cpu();
    report_consoles();

    let tsc = tsc::frequency();
    match tsc {
        Some((hz, source)) => kprintln!("tsc: {}.{:03} MHz ({source})", hz / 1_000_000, hz / 1000 % 1000),
        None => kprintln!("tsc: frequency unknown (no CPUID leaf gives it and no PIT counts)"),
    }
    if let Some((hz, _)) = tsc {
        // SAFETY: written once by src/boot.s before any Rust code ran.
        let entry = unsafe { boot_entry_tsc };
        let us = |t: u64| (t - entry) * 1_000_000 / hz;
        let (main, banner, now) = (us(tsc_main), us(tsc_banner), us(cpu::rdtsc()));
        kprintln!("boot: from the PVH entry: {main} us to kernel_main, {banner} us to the banner, {now} us to here");
    }

    let tsc_hz = tsc.map_or(1_000_000_000, |(hz, _)| hz);
    clock::init(tsc_hz, args.realtime_ns, args.monotonic_ns);
    apic::init(tsc_hz);
    kprintln!("apic: timer at {} MHz", apic::ticks_per_sec() / 1_000_000);
    kprintln!("fpu: {}", fpu::init());
    sched::init();
    // SAFETY: once, on the boot CPU, after the GDT.
    unsafe { syscall::init() };
    syscall_shim::set_trace(args.trace);

    net::config::set(args.net);
    let disk = virtio::probe_all(args.virtio_mmio_devices(), info.rsdp() != 0);

    if let Some(name) = args.selftest {
        selftest::run(name);
        kprintln!("selftest: no test \"{name}\" (known: {})", selftest::NAMES.join(", "));
        exit::exit(exit::KERNEL_FAILURE, "unknown selftest");
    }
    kprintln!("boot: devices probed");
    // With DHCP: the first lease, waited for up to the configured time (src/net/dhcp.rs).
    let no_lease = net::start();
    let Some(disk) = disk else { exit::exit(args.exit_status, "no guest image") };
    if let Some(kinds) = args.stdio {
        stdio::set_kinds(kinds);
    }
    stdio::init(args.log_com3);
    if let Some(line) = no_lease {
        stdio::log_line(line);
    }
    if let Err(guest::StartError(msg)) = guest::start(disk, args.manifest_from_fw_cfg) {
        stdio::log_line(&alloc::format!("unify: {msg}"));
        exit::exit(exit::CANNOT_START, "the guest could not start")
    }
    if let Some(hz) = tsc.map(|(hz, _)| hz) {
        // SAFETY: written once by src/boot.s before any Rust code ran.
        let us = (cpu::rdtsc() - unsafe { boot_entry_tsc }) * 1_000_000 / hz;
        kprintln!("guest: loaded, {us} us after the PVH entry");
    }
    idle::run()
}

/// Logs the memory map, puts the heap on the largest free RAM span, and checks it works.
fn init_memory(info: &pvh::StartInfo) {
    let memmap = info.memmap();
    for e in memmap.iter().filter(|e| e.size != 0) {
        kprintln!("memory: {:#012x}-{:#012x} {} ({} KiB)", e.addr, e.end(), e.kind_name(), e.size / 1024);
    }
    let image = memory::kernel_image();
    kprintln!("memory: kernel image {:#x}-{:#x} ({} KiB)", image.start, image.end, image.len() / 1024);
    let reserved = memory::reserved_ranges(info);
    let Some(span) = memory::largest_free(memmap, &reserved) else {
        crate::kprintln_always!("memory: no free RAM below 4 GiB for the heap");
        exit::exit(exit::KERNEL_FAILURE, "no memory")
    };
    // SAFETY: `span` is RAM from the memory map, below the direct-mapped 4 GiB, and
    // clear of the kernel image and everything the loader handed over.
    match unsafe { heap::init(span) } {
        Ok(size) => kprintln!("heap: {:#x}-{:#x} ({} KiB usable)", span.start, span.end, size / 1024),
        Err(()) => {
            kprintln!("heap: talc refused {:#x}-{:#x}", span.start, span.end);
            exit::exit(exit::KERNEL_FAILURE, "no heap")
        }
    }
    // A quick check that allocation, growth and freeing work before anything relies on it.
    let mut v: Vec<u64> = (0..1000).collect();
    v.retain(|x| x % 3 == 0);
    let mut m = BTreeMap::new();
    m.insert(String::from("sum"), v.iter().sum::<u64>());
    assert_eq!(m["sum"], 166_833, "heap check");
}

fn report_cpu() {
    let mut brand = [0u8; 48];
    if cpu::max_extended_leaf() >= 0x8000_0004 {
        for (i, leaf) in (0x8000_0002u32..=0x8000_0004).enumerate() {
            let r = cpu::cpuid(leaf, 0);
            for (j, reg) in [r.eax, r.ebx, r.ecx, r.edx].iter().enumerate() {
                brand[i * 16 + j * 4..][..4].copy_from_slice(&reg.to_le_bytes());
            }
        }
    }
    let brand = core::str::from_utf8(&brand).unwrap_or("?").trim_matches(|c: char| c == '\0' || c == ' ');
    // SAFETY: EFER exists on every long-mode CPU.
    let efer = unsafe { cpu::rdmsr(cpu::MSR_EFER) };
    kprintln!("cpu: \"{brand}\", EFER={efer:#x}");
}

fn report_consoles() {
    // SAFETY: only this function touches COM2 until the guest's stderr is wired to it.
    let mut com2 = unsafe { serial::Uart::new(serial::COM2) };
    let com2_state = if com2.present() {
        let _ = com2.init();
        "present"
    } else {
        "absent"
    };
    let log = if console::log_port() == serial::COM3 { "COM3" } else { "COM1" };
    kprintln!("consoles: {log} kernel log; COM2 {com2_state} (the guest's stderr)");
}
