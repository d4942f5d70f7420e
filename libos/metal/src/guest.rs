//! Starting the guest: the image on virtio-blk mounted at `/` with the
//! pseudo-filesystems, the manifest read from it, the program loaded from it into the
//! guest window, its initial stack, the libOS kernel, and its first thread.
//!
//! The same steps as the hosted platform's `run` (libos/hosted/src/lib.rs), with the
//! page tables of src/guest_memory.rs in place of host mappings.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use libos::mm::{MemoryMap, Prot, Vma, VmaKind};
use libos::time::ClockId;
use libos::vfs::{At, Clock, MountFlags, Vfs};
use libos::{Kernel, Platform};
use unify_loader::stack::{self, auxv, AuxEntry, StackParams};
use unify_loader::{ElfKind, LoadPlan};
use unify_rootfs::{FatFs, Manifest, MountOptions, MANIFEST_PATH};

use crate::disk::VirtioDisk;
use crate::paging::GUEST_LO;
use crate::platform::PLATFORM;
use crate::sched::{self, Task};

/// The guest window's top (as on the hosted platform).
const GUEST_HI: u64 = 0x4000_0000_0000;
/// Load address of static-pie programs.
const PIE_BASE: u64 = 0x1000_0000_0000;
/// The initial thread's stack (the vDSO sits above it, src/vdso.rs).
const STACK_TOP: u64 = GUEST_HI - 0x1_0000;
const STACK_SIZE: u64 = 8 << 20;
const _: () = assert!(crate::vdso::VVAR >= STACK_TOP);
/// Where `mmap` without an address starts placing mappings (top-down).
const MMAP_BASE: u64 = STACK_TOP - STACK_SIZE - (1 << 30);
/// How much of the program file to read first to find its program headers.
const PREFIX: usize = 64 * 1024;
/// The manifest key of a read-only volume (rootfs's `ImageBuilder::READ_ONLY_KEY`).
const READ_ONLY_KEY: &str = "readonly";

/// Why the guest could not be started: one line for the user.
pub struct StartError(pub String);

fn err(msg: impl Into<String>) -> StartError {
    StartError(msg.into())
}

/// The fw_cfg file unify passes a one-run manifest in (`unify.manifest=fw_cfg`).
const MANIFEST_FW_CFG: &str = "opt/unify/manifest";

/// Mounts the image, loads the program and makes its first thread ready. The manifest
/// is the image's, or with `manifest_from_fw_cfg` the one QEMU holds for this run.
pub fn start(disk: VirtioDisk, manifest_from_fw_cfg: bool) -> Result<(), StartError> {
    let clock: Clock = Arc::new(|| PLATFORM.now(ClockId::Realtime));
    let root = FatFs::mount(disk, clock.clone(), MountOptions::new(0, 0))
        .map_err(|e| err(format!("the root filesystem image does not mount: {}", e.name())))?;
    let vfs = Vfs::new(root, MountFlags::default(), b"/dev/vda", clock.clone());
    let pseudo = libos::pseudo::mount_all(&vfs, &PLATFORM, clock)
        .map_err(|e| err(format!("cannot mount the pseudo-filesystems: {}", e.name())))?;

    let manifest = if manifest_from_fw_cfg { run_manifest()? } else { read_manifest(&vfs)? };
    for (key, path) in &manifest.extra {
        if key == READ_ONLY_KEY && vfs.bind_read_only(path).is_err() {
            PLATFORM.log(&format!("unify: {} stays writable", String::from_utf8_lossy(path)));
        }
    }
    if !manifest.cwd.is_empty() {
        vfs.chdir(&At::Cwd, manifest.cwd.as_bytes())
            .map_err(|e| err(format!("working directory {}: {}", manifest.cwd, e.name())))?;
    }

    let program = manifest.program.clone();
    let file = vfs
        .open(&At::Cwd, program.as_bytes(), libos::file::oflags::O_RDONLY, 0)
        .map_err(|e| err(format!("{program} (in the image): cannot read: {}", e.name())))?;
    let bytes =
        read_program(&*file).map_err(|e| err(format!("{program} (in the image): cannot read: {}", e.name())))?;
    drop(file);
    let plan = unify_loader::parse(&bytes).map_err(|e| err(format!("{program} (in the image): {e}")))?;

    // The vDSO's two pages sit above the stack, outside what mmap hands out.
    let mut mm = MemoryMap::new(GUEST_LO, crate::vdso::VVAR, MMAP_BASE);
    let (base, entry, end) = load_image(&mut mm, &plan, &bytes)?;
    mm.set_brk_start(end);
    drop(bytes);
    let stack_lo = STACK_TOP - STACK_SIZE;
    PLATFORM.map_anonymous(stack_lo, STACK_SIZE, Prot::RW).map_err(|_| err("cannot map the stack"))?;
    mm.record(Vma { start: stack_lo, end: STACK_TOP, prot: Prot::RW, shared: false, kind: VmaKind::Stack })
        .map_err(|_| err("the stack overlaps the program"))?;
    let sp = build_stack(&manifest, &plan, base)?;

    let exe = program.clone().into_bytes();
    let setup = libos::ProcessSetup {
        exe_path: &exe,
        argv: &manifest.argv,
        env: &manifest.env,
        console_flags: [0, 1, 1], // O_RDONLY, O_WRONLY, O_WRONLY: the ends of pipes
        vfs,
    };
    let kernel = Kernel::install(Kernel::new(&PLATFORM, mm, setup));
    libos::sync::set_yield(sched::yield_now);
    pseudo.attach(kernel);

    let thread = kernel.threads.leader();
    thread.shared.set_platform_id(u64::from(kernel.identity.pid));
    let mut task = Task::new(Some(Box::new(thread)), crate::syscall::thread_start);
    task.tcb.regs.rip = entry;
    task.tcb.regs.rsp = sp;
    sched::add(task);
    Ok(())
}

fn read_all(file: &dyn libos::file::File) -> Result<Vec<u8>, libos::Errno> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = file.pread(&mut buf, out.len() as u64)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn read_manifest(vfs: &Vfs) -> Result<Manifest, StartError> {
    let file = vfs
        .open(&At::Cwd, MANIFEST_PATH.as_bytes(), libos::file::oflags::O_RDONLY, 0)
        .map_err(|e| err(format!("the image has no manifest ({MANIFEST_PATH}: {})", e.name())))?;
    let text = read_all(&*file).map_err(|e| err(format!("{MANIFEST_PATH}: {}", e.name())))?;
    Manifest::parse(&text).map_err(|e| err(format!("{MANIFEST_PATH}: {e}")))
}

/// The manifest unify passed for this run only (fw_cfg file [`MANIFEST_FW_CFG`]).
fn run_manifest() -> Result<Manifest, StartError> {
    let text = crate::fw_cfg::read_file(MANIFEST_FW_CFG)
        .ok_or_else(|| err(format!("the run's manifest is not in QEMU's fw_cfg ({MANIFEST_FW_CFG})")))?;
    Manifest::parse(&text).map_err(|e| err(format!("the run's manifest ({MANIFEST_FW_CFG}): {e}")))
}

/// Reads what the loader needs of the program: a prefix, then up to the end of the
/// last segment (not the symbols and debug information after it).
fn read_program(file: &dyn libos::file::File) -> Result<Vec<u8>, libos::Errno> {
    let mut bytes = vec![0u8; PREFIX];
    let got = fill(file, 0, &mut bytes)?;
    bytes.truncate(got);
    if got < PREFIX {
        return Ok(bytes);
    }
    let wanted = match unify_loader::needed_len(&bytes) {
        Some(n) => usize::try_from(n).map_err(|_| libos::Errno::EFBIG)?,
        None => return read_all(file),
    };
    if wanted > bytes.len() {
        let have = bytes.len();
        bytes.resize(wanted, 0);
        let n = fill(file, have as u64, &mut bytes[have..])?;
        bytes.truncate(have + n);
    }
    Ok(bytes)
}

fn fill(file: &dyn libos::file::File, offset: u64, buf: &mut [u8]) -> Result<usize, libos::Errno> {
    let mut done = 0;
    while done < buf.len() {
        match file.pread(&mut buf[done..], offset + done as u64)? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

/// Places the program's segments; returns its load base, entry point and the end of
/// what was placed (where `brk` starts).
fn load_image(mm: &mut MemoryMap, plan: &LoadPlan, bytes: &[u8]) -> Result<(u64, u64, u64), StartError> {
    let base = match plan.kind {
        ElfKind::Exec => 0,
        ElfKind::StaticPie => PIE_BASE,
    };
    let (start, end) = (base + plan.span_start, base + plan.span_end);
    let (lo, hi) = mm.window();
    if start < lo || end > hi {
        return Err(err(format!("the program wants addresses {start:#x}..{end:#x}, outside the guest window")));
    }
    PLATFORM.map_anonymous(start, end - start, Prot::RW).map_err(|_| err("cannot map the program image"))?;
    crate::guest_memory::populate(start, end - start).map_err(|_| err("no memory for the program image"))?;
    plan.copy_segments(
        bytes,
        base,
        |addr, data| {
            // SAFETY: `[addr, addr+len)` lies in the span just reserved read-write and
            // populated (the loader checked every segment against it).
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) }
        },
        |addr, len| {
            // SAFETY: as above.
            unsafe { core::ptr::write_bytes(addr as *mut u8, 0, len as usize) }
        },
    );
    let mut cursor = start;
    for r in plan.page_regions(base) {
        if r.start > cursor {
            let _ = PLATFORM.unmap(cursor, r.start - cursor);
        }
        let prot = Prot::from_bits_truncate(r.prot.to_mmap_prot());
        let _ = PLATFORM.protect(r.start, r.end - r.start, prot);
        mm.record(Vma { start: r.start, end: r.end, prot, shared: false, kind: VmaKind::Image })
            .map_err(|e| err(format!("program segments overlap in memory ({})", e.name())))?;
        cursor = r.end;
    }
    Ok((base, base + plan.entry, end))
}

/// Writes argv, envp and auxv at the top of the stack; returns the initial RSP.
fn build_stack(manifest: &Manifest, plan: &LoadPlan, base: u64) -> Result<u64, StartError> {
    let mut aux = stack::auxv_for(plan, base);
    if let Some(vdso) = crate::vdso::place() {
        aux.push(AuxEntry(auxv::AT_SYSINFO_EHDR, vdso));
    }
    let hwcap = u64::from(crate::cpu::cpuid(1, 0).edx);
    for (key, value) in [
        (auxv::AT_UID, 0),
        (auxv::AT_EUID, 0),
        (auxv::AT_GID, 0),
        (auxv::AT_EGID, 0),
        (auxv::AT_SECURE, 0),
        (auxv::AT_CLKTCK, 100),
        (auxv::AT_HWCAP, hwcap),
        (auxv::AT_HWCAP2, 0),
    ] {
        aux.push(AuxEntry(key, value));
    }
    let mut random = [0u8; 16];
    PLATFORM.fill_random(&mut random);
    let argv: Vec<&[u8]> = manifest.argv.iter().map(|a| a.as_slice()).collect();
    let envp: Vec<&[u8]> = manifest.env.iter().map(|a| a.as_slice()).collect();
    let execfn = manifest.argv.first().map(|a| a.as_slice()).unwrap_or(b"");
    let params = StackParams { argv: &argv, envp: &envp, execfn, platform: b"x86_64", random, auxv: &aux };
    let built = stack::build(STACK_TOP, &params).map_err(|e| err(format!("cannot build the initial stack: {e:?}")))?;
    let dst = STACK_TOP - built.bytes.len() as u64;
    // SAFETY: `[dst, STACK_TOP)` lies in the stack reserved read-write above (the
    // builder caps its size well below STACK_SIZE); pages are filled on first touch.
    unsafe { core::ptr::copy_nonoverlapping(built.bytes.as_ptr(), dst as *mut u8, built.bytes.len()) };
    Ok(built.sp)
}
