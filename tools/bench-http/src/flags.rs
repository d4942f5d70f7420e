//! The two VMs' QEMU command lines side by side: which options they share and which
//! differ, and why they differ.

/// One option: the flag and its value, if it has one.
pub type Opt = (String, Option<String>);

/// A QEMU argv (without the program) as options: a `-flag` with the value that follows
/// it, if the next word is not itself a flag.
pub fn options(args: &[String]) -> Vec<Opt> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].clone();
        let value = args.get(i + 1).filter(|v| !v.starts_with('-')).cloned();
        i += 1 + usize::from(value.is_some());
        out.push((flag, value));
    }
    out
}

/// The options of `a` and `b`: (in both, only in `a`, only in `b`), each in its line's order.
pub fn compare(a: &[String], b: &[String]) -> (Vec<Opt>, Vec<Opt>, Vec<Opt>) {
    let (oa, ob) = (options(a), options(b));
    let both = oa.iter().filter(|o| ob.contains(o)).cloned().collect();
    let only_a = oa.iter().filter(|o| !ob.contains(o)).cloned().collect();
    let only_b = ob.iter().filter(|o| !oa.contains(o)).cloned().collect();
    (both, only_a, only_b)
}

/// Options as one line, shell-quoted.
pub fn line(opts: &[Opt]) -> String {
    let words: Vec<String> = opts.iter().flat_map(|(f, v)| std::iter::once(f.clone()).chain(v.clone())).collect();
    bench_vm::linuxvm::shell_line("", &words).trim_start().to_string()
}

/// Why the lines differ (what the report prints under the comparison).
pub const WHY: &[&str] = &[
    "-M microvm,acpi=off vs -M microvm: Debian's kernel has virtio_mmio and virtio_net as modules \
     and no VIRTIO_MMIO_CMDLINE_DEVICES, so it finds the network card's virtio-mmio transport only \
     in the ACPI DSDT: its machine keeps ACPI on. microvm then declares a hardware-reduced platform \
     (no PIT), and Linux is given the TSC rate on its command line (tsc_early_khz=, not a QEMU flag), \
     without which its calibration hangs about every other boot under TCG. unify's kernel finds the \
     devices without ACPI.",
    "-kernel, -append: each VM's own kernel (unify-kernel through its PVH note, passed as an fd; \
     Debian's bzImage) and command line.",
    "-initrd vs -drive + virtio-blk-device: the Linux VM's program comes from an initramfs (with an \
     init that loads virtio_net and sets eth0 to 10.0.2.15/24), unify's from its FAT32 root image on \
     a virtio-blk disk.",
    "-serial stdio vs -chardev socket + -serial + isa-serial: Linux has one console; unify relays the \
     program's stdin/stdout/stderr and its kernel log over three serial ports.",
    "-device isa-debug-exit: how unify's kernel ends QEMU with the program's exit status.",
    "-device virtio-rng-device: unify's entropy for getrandom; Linux seeds its own (RDRAND of -cpu max, \
     jitter) and loads no virtio_rng here.",
    "-netdev user: only the id (net0, n0) and each side's own host port differ; both forward \
     tcp:127.0.0.1:PORT to guest port 8080 with QEMU's user network and a virtio-net-device on \
     microvm's virtio-mmio bus.",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_and_comparison() {
        let a = words("-M microvm,acpi=off -accel tcg -nographic -m 256M -device isa-debug-exit");
        let b = words("-M microvm -accel tcg -nographic -m 256M -initrd x.cpio");
        assert_eq!(options(&a)[2], ("-nographic".to_string(), None));
        let (both, only_a, only_b) = compare(&a, &b);
        assert_eq!(line(&both), "-accel tcg -nographic -m 256M");
        assert_eq!(line(&only_a), "-M microvm,acpi=off -device isa-debug-exit");
        assert_eq!(line(&only_b), "-M microvm -initrd x.cpio");
    }
}
