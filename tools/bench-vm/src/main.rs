//! bench-vm: unify's VM beside a Linux VM booting the same static binary (issue 5).
//!
//! A benchmark, not a test: it prints figures. In one run, with the rounds of all sides
//! interleaved so that other load on the machine shifts them alike:
//! - native: the program started directly (stdout a pipe);
//! - the Linux VM: QEMU (`-M microvm,acpi=off -accel tcg ...`, unify's flags) booting
//!   Debian's `linux-image-cloud-amd64` with the program as the initramfs's `/init`, once
//!   as the bzImage and once as the ELF vmlinux through its PVH note;
//! - the unify VM: `unify run --platform vm PROGRAM`;
//! - unify-kernel alone (no program: its banner is the first write), a floor for the
//!   unify VM while `unify run --platform vm` is being built;
//!
//! each timed from just before the spawn to the first byte of the program's line
//! (`hello, world`; on a VM's serial console, after whatever the kernel printed) and to the
//! exit of the process (the program, QEMU, unify). Then the smallest `-m` each VM runs
//! hello in, the sizes, the ratios and the exact command lines. See README.md.

mod measure;
mod netcheck;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use bench_vm::linuxvm::{Init, KernelImage, LinuxVm, Spec};
use bench_vm::{debian, guest};
use measure::{KernelAlone, LinuxSide, Native, Round, Side, Stats, UnifySide};

#[derive(Parser, Debug)]
#[command(about = "unify's VM against a Linux VM (Debian's cloud kernel) booting the same static hello under QEMU")]
struct Args {
    /// Timed rounds per side (after one untimed warm-up round).
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// The unify binary (default: target/release/unify in the workspace).
    #[arg(long, value_name = "PATH")]
    unify: Option<PathBuf>,
    /// unify-kernel, for its size and the kernel-alone boot
    /// (default: libos/metal/target/x86_64-unknown-linux-gnu/release/unify-kernel).
    #[arg(long, value_name = "PATH")]
    unify_kernel: Option<PathBuf>,
    /// The `unify run` flag that sets the VM's memory, given as `FLAG NM`.
    #[arg(long, value_name = "FLAG", default_value = "--memory")]
    unify_mem_flag: String,
    /// The program instead of the built-in hello (a static binary that writes --line).
    #[arg(long, value_name = "PATH")]
    hello: Option<PathBuf>,
    /// The text the program writes (its first byte is the "first write").
    #[arg(long, default_value = guest::HELLO_LINE)]
    line: String,
    /// The VMs' memory for the timed runs, in MiB (QEMU -m).
    #[arg(long, default_value_t = 128)]
    mem: u32,
    /// Seconds one run may take before it counts as failed (and is killed).
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// PID 1 of the Linux VM: the program itself (its exit panics the kernel, which ends
    /// QEMU), or bench-vm's small init that runs it and reboots.
    #[arg(long, value_enum, default_value = "direct")]
    linux_init: LinuxInit,
    /// Skip the smallest-memory search.
    #[arg(long)]
    no_min_mem: bool,
    /// Skip the Linux VM booted through the PVH note of the unpacked vmlinux.
    #[arg(long)]
    no_pvh: bool,
    /// Where the kernel package, the guests and the initramfs images are kept
    /// (default: target/bench-vm in the workspace).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Ask apt again which kernel linux-image-cloud-amd64 means, and fetch it.
    #[arg(long)]
    refresh_kernel: bool,
    /// Only the network check: run SERVER (argv: SERVER 8080) in the Linux VM with
    /// user networking, wait for --ready on the console, GET / through a forwarded port.
    #[arg(long, value_name = "SERVER")]
    net_check: Option<PathBuf>,
    /// The server's ready line for --net-check.
    #[arg(long, default_value = "listening")]
    ready: String,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LinuxInit {
    Direct,
    Wrapper,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-vm: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn run(args: Args) -> Result<(), String> {
    let began = Instant::now();
    let root = workspace();
    let cache = args.cache.clone().unwrap_or_else(|| root.join("target/bench-vm"));
    let timeout = Duration::from_secs(args.timeout);
    let kernel = debian::kernel(&cache, args.refresh_kernel)?;

    if let Some(server) = &args.net_check {
        netcheck::run(&kernel, &cache, server, &args.ready, args.mem.max(256), timeout)?;
        println!("total: {:.1} s", began.elapsed().as_secs_f64());
        return Ok(());
    }

    let hello = match &args.hello {
        Some(p) => p.clone(),
        None => guest::build(&cache, "hello", guest::HELLO_C)?,
    };
    let unify = args.unify.clone().unwrap_or_else(|| root.join("target/release/unify"));
    let unify_kernel = args
        .unify_kernel
        .clone()
        .unwrap_or_else(|| root.join("libos/metal/target/x86_64-unknown-linux-gnu/release/unify-kernel"));

    eprintln!("bench-vm: {} ({}), hello {}", kernel.package, kernel.bzimage.display(), hello.display());
    report_config(&kernel);

    let init = match args.linux_init {
        LinuxInit::Direct => Init::Direct,
        LinuxInit::Wrapper => Init::Wrapper { net: false },
    };
    let spec = |image| Spec { program: &hello, args: vec![], init, image, extra_qemu: vec![] };
    let mut sides: Vec<Box<dyn Side>> = vec![Box::new(Native { program: hello.clone(), line: args.line.clone() })];
    let bz = LinuxVm::prepare(&kernel, &cache, spec(KernelImage::BzImage))?;
    let initramfs_size = file_size(&bz.initramfs);
    sides.push(Box::new(LinuxSide {
        label: "linux VM (bzImage)".into(),
        vm: bz,
        mem_mib: args.mem,
        line: args.line.clone(),
    }));
    let mut pvh_size = None;
    if !args.no_pvh {
        match LinuxVm::prepare(&kernel, &cache, spec(KernelImage::Pvh)) {
            Ok(vm) => {
                pvh_size = file_size(&vm.kernel);
                sides.push(Box::new(LinuxSide {
                    label: "linux VM (PVH vmlinux)".into(),
                    vm,
                    mem_mib: args.mem,
                    line: args.line.clone(),
                }));
            }
            Err(e) => eprintln!("bench-vm: linux VM (PVH vmlinux): skipped: {e}"),
        }
    }
    if unify.is_file() {
        sides.push(Box::new(UnifySide {
            unify: unify.clone(),
            program: hello.clone(),
            line: args.line.clone(),
            mem_flag: args.unify_mem_flag.clone(),
        }));
    } else {
        println!("unify VM: skipped: no {} (cargo build --release -p unify)", unify.display());
    }
    if unify_kernel.is_file() {
        sides.push(Box::new(KernelAlone { kernel: unify_kernel.clone(), mem_mib: args.mem }));
    } else {
        println!(
            "unify-kernel alone: skipped: no {} (cd libos/metal && cargo build --release)",
            unify_kernel.display()
        );
    }

    // Warm-up: one untimed round each; a side that fails it is reported and left out.
    let mut failed: Vec<(String, String)> = Vec::new();
    sides.retain_mut(|s| match s.round(timeout) {
        Ok(_) => true,
        Err(e) => {
            println!("{}: failed: {e}", s.name());
            failed.push((s.name(), e));
            false
        }
    });

    let mut rounds: Vec<Vec<Round>> = vec![Vec::new(); sides.len()];
    let mut errors: Vec<Vec<String>> = vec![Vec::new(); sides.len()];
    for r in 0..args.rounds {
        eprintln!("bench-vm: round {}/{}", r + 1, args.rounds);
        // A different side goes first each round.
        for k in 0..sides.len() {
            let i = (k + r) % sides.len();
            match sides[i].round(timeout) {
                Ok(round) => rounds[i].push(round),
                Err(e) => errors[i].push(e),
            }
        }
    }

    // None: not searched; Some(Err): the side failed at --mem when given a size.
    let mut min_mem: Vec<Option<Result<Option<u32>, String>>> = vec![None; sides.len()];
    if !args.no_min_mem {
        for (i, side) in sides.iter_mut().enumerate() {
            match side.run_in(args.mem, timeout) {
                None => continue,
                Some(Err(e)) => min_mem[i] = Some(Err(format!("fails with -m {}M given: {e}", args.mem))),
                Some(Ok(_)) => {
                    eprintln!("bench-vm: smallest -m for {}", side.name());
                    let found = measure::smallest(2, 512, |m| side.run_in(m, timeout).is_some_and(|r| r.is_ok()));
                    min_mem[i] = Some(Ok(found));
                }
            }
        }
    }

    // The report.
    let names: Vec<String> = sides.iter().map(|s| s.name()).collect();
    let first: Vec<Option<Stats>> =
        rounds.iter().map(|v| measure::stats(v.iter().map(|r| r.first_write).collect())).collect();
    let exit: Vec<Option<Stats>> = rounds.iter().map(|v| measure::stats(v.iter().map(|r| r.exit).collect())).collect();
    println!();
    println!(
        "hello (static {}, writes {:?}), QEMU TCG, -m {}M; {} rounds, interleaved; times from the spawn, in ms",
        if args.hello.is_some() { "binary".to_string() } else { format!("{} -O2", guest::compiler()) },
        args.line,
        args.mem,
        args.rounds
    );
    println!("{:<26} {:>21}   {:>21}", "", "first write", "exit");
    println!("{:<26} {:>10} {:>10}   {:>10} {:>10}   rounds ok", "side", "median", "min", "median", "min");
    for (i, name) in names.iter().enumerate() {
        let cell = |s: Option<Stats>| match s {
            Some(s) => format!("{:>10} {:>10}", fmt_ms(s.median), fmt_ms(s.min)),
            None => format!("{:>10} {:>10}", "-", "-"),
        };
        println!("{:<26} {}   {}   {}/{}", name, cell(first[i]), cell(exit[i]), rounds[i].len(), args.rounds);
        if let Some(e) = errors[i].first() {
            println!("{:<26} ({} failed rounds; first: {e})", "", errors[i].len());
        }
    }
    for (name, e) in &failed {
        println!("{name:<26} failed: {e}");
    }

    let find = |n: &str| names.iter().position(|x| x == n);
    let native = find("native");
    let linux = find("linux VM (bzImage)");
    let pvh = find("linux VM (PVH vmlinux)");
    let unify_vm = find("unify VM");
    let alone = find("unify-kernel alone");
    println!();
    println!("ratios of medians (first write, exit):");
    let ratio = |a: Option<usize>, b: Option<usize>, what: &str| {
        if let (Some(a), Some(b)) = (a, b) {
            if let (Some(fa), Some(fb), Some(ea), Some(eb)) = (first[a], first[b], exit[a], exit[b]) {
                println!(
                    "  {:<58} {:>9.1}x {:>9.1}x",
                    format!("{} / {}{what}", names[a], names[b]),
                    fa.median.as_secs_f64() / fb.median.as_secs_f64(),
                    ea.median.as_secs_f64() / eb.median.as_secs_f64()
                );
            }
        }
    };
    ratio(linux, unify_vm, " (unify's speed-up)");
    ratio(pvh, unify_vm, " (unify's speed-up)");
    ratio(linux, alone, " (floor)");
    ratio(pvh, alone, " (floor)");
    ratio(unify_vm, native, "");
    ratio(linux, native, "");
    ratio(pvh, native, "");
    ratio(alone, native, "");
    ratio(linux, pvh, "");

    if !args.no_min_mem {
        println!();
        println!("smallest -m at which hello runs (bisection over 2..512 MiB; success = the line seen, status 0):");
        for (i, name) in names.iter().enumerate() {
            match &min_mem[i] {
                Some(Ok(Some(m))) => println!("  {name:<26} {m} MiB"),
                Some(Ok(None)) => println!("  {name:<26} does not run even in 512 MiB"),
                Some(Err(e)) => println!("  {name:<26} {e}"),
                None => {}
            }
        }
    }

    println!();
    println!("sizes (bytes):");
    let hello_size = file_size(&hello);
    println!("  {:<52} {:>12}", "hello (native binary)", opt(hello_size));
    let bz_size = file_size(&kernel.bzimage);
    println!("  {:<52} {:>12}", format!("linux bzImage ({})", kernel.release), opt(bz_size));
    println!("  {:<52} {:>12}", "linux initramfs (newc, uncompressed)", opt(initramfs_size));
    if let (Some(b), Some(i)) = (bz_size, initramfs_size) {
        println!("  {:<52} {:>12}", "linux VM total (bzImage + initramfs)", b + i);
    }
    if pvh_size.is_some() {
        println!("  {:<52} {:>12}", "linux vmlinux (PVH ELF, from the bzImage)", opt(pvh_size));
    }
    let tmp = cache.join("tmp");
    let _ = std::fs::create_dir_all(&tmp);
    let kernel_sizes = measure::sizes(&unify_kernel, &tmp);
    match kernel_sizes {
        Some((size, stripped)) => {
            println!("  {:<52} {:>12}", "unify-kernel", size);
            println!("  {:<52} {:>12}", "unify-kernel stripped (strip -o)", opt(stripped));
        }
        None => println!("  {:<52} {:>12}", "unify-kernel", "-"),
    }
    let image = unify_image(&unify, &hello, &tmp);
    match &image {
        Ok((size, allocated)) => {
            println!("  {:<52} {:>12}  (a sparse FAT32 file)", "unify image (unify build hello)", size);
            println!("  {:<52} {:>12}", "unify image, allocated on disk", allocated);
        }
        Err(e) => println!("  {:<52} {:>12}  ({e})", "unify image (unify build hello)", "-"),
    }
    if let (Some((k, s)), Ok((_, alloc)), Some(b), Some(i)) = (kernel_sizes, &image, bz_size, initramfs_size) {
        let unify_total = s.unwrap_or(k) + alloc;
        println!("  {:<52} {:>12}", "unify VM total (stripped kernel + image allocated)", unify_total);
        println!("  linux VM total / unify VM total: {:.1}x", (b + i) as f64 / unify_total as f64);
    }

    println!();
    println!("targets (issue 5, TCG):");
    let target = |what: &str, verdict: Option<bool>, detail: String| {
        let v = match verdict {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "n/a",
        };
        println!("{}", format!("  {what:<46} {v:<8} {detail}").trim_end());
    };
    let uf = unify_vm.and_then(|u| first[u]);
    target(
        "unify boot-to-first-write <= 50 ms",
        uf.map(|s| s.median <= Duration::from_millis(50)),
        uf.map(|s| format!("median {} ms", fmt_ms(s.median))).unwrap_or_else(|| "(unify VM did not run)".into()),
    );
    let lf = linux.and_then(|l| first[l]);
    target(
        "unify >= 5x faster than the Linux VM",
        uf.zip(lf).map(|(u, l)| l.median.as_secs_f64() >= 5.0 * u.median.as_secs_f64()),
        uf.zip(lf)
            .map(|(u, l)| format!("{:.1}x (first write, bzImage)", l.median.as_secs_f64() / u.median.as_secs_f64()))
            .unwrap_or_default(),
    );
    let um = unify_vm.and_then(|u| min_mem[u].clone()).and_then(|r| r.ok()).flatten();
    target(
        "hello runs in 16 MiB (unify VM)",
        um.map(|m| m <= 16),
        um.map(|m| format!("smallest {m} MiB")).unwrap_or_default(),
    );
    target(
        "unify-kernel <= 2 MiB",
        kernel_sizes.map(|(s, st)| st.unwrap_or(s) <= 2 << 20),
        kernel_sizes
            .map(|(s, st)| format!("{s} bytes, stripped {}", opt(st)))
            .unwrap_or_else(|| "(no unify-kernel)".into()),
    );

    println!();
    println!("commands:");
    for s in &sides {
        println!("  {}: {}", s.name(), s.command());
    }
    println!();
    println!("total: {:.1} s", began.elapsed().as_secs_f64());
    Ok(())
}

/// The kernel options the Linux VM depends on, as this kernel has them.
fn report_config(kernel: &debian::LinuxKernel) {
    let opts = [
        "CONFIG_PVH",
        "CONFIG_BLK_DEV_INITRD",
        "CONFIG_SERIAL_8250_CONSOLE",
        "CONFIG_VIRTIO_MMIO",
        "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES",
        "CONFIG_VIRTIO_NET",
        "CONFIG_KERNEL_LZ4",
        "CONFIG_KERNEL_GZIP",
        "CONFIG_KERNEL_ZSTD",
    ];
    let have: Vec<String> =
        opts.iter().filter_map(|o| kernel.config_value(o).map(|v| format!("{}={v}", &o["CONFIG_".len()..]))).collect();
    eprintln!("bench-vm: kernel config: {}", have.join(" "));
}

/// `unify build -o IMG HELLO`: the image's size and the bytes allocated for it.
fn unify_image(unify: &Path, hello: &Path, tmp: &Path) -> Result<(u64, u64), String> {
    use std::os::unix::fs::MetadataExt;
    if !unify.is_file() {
        return Err(format!("no {}", unify.display()));
    }
    let img = tmp.join("hello.img");
    let out = std::process::Command::new(unify)
        .args(["build", "--force", "-o"])
        .arg(&img)
        .arg(hello)
        .output()
        .map_err(|e| format!("{}: {e}", unify.display()))?;
    if !out.status.success() {
        return Err(format!("unify build: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let m = std::fs::metadata(&img).map_err(|e| e.to_string())?;
    let r = (m.len(), m.blocks() * 512);
    let _ = std::fs::remove_file(&img);
    Ok(r)
}

fn file_size(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

fn opt(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}
