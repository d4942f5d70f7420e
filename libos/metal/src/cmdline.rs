//! The kernel command line (`-append`): what the kernel reads from it.
//!
//! - `unify.selftest=NAME`: make the kernel fail on purpose (src/selftest.rs), for the
//!   tests of the fault paths.
//! - `unify.exit=N`: the status to exit with when there is nothing else to do (0..=255;
//!   default 0). Until the kernel runs a guest, this is how the tests check the exit path.
//! - `virtio_mmio.device=SIZE@BASE:IRQ`: QEMU's microvm appends one per virtio-mmio
//!   transport; counted now, used by the virtio drivers later.
//!
//! Other words belong to someone else (the VMM, a Linux-style `console=`) and are
//! ignored; an unknown `unify.` word is an error, so a typo cannot pass silently.

/// A value that did not parse, or an unknown `unify.` key.
#[derive(Debug)]
pub struct BadArg<'a>(pub &'a str);

/// What the command line asks for.
#[derive(Debug, Default)]
pub struct BootArgs<'a> {
    pub selftest: Option<&'a str>,
    pub exit_status: u8,
    pub virtio_mmio_devices: usize,
}

/// Parses the words of `cmdline`.
pub fn parse(cmdline: &str) -> Result<BootArgs<'_>, BadArg<'_>> {
    let mut args = BootArgs::default();
    for word in cmdline.split_ascii_whitespace() {
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        match key {
            "unify.selftest" => args.selftest = Some(value),
            "unify.exit" => args.exit_status = value.parse().map_err(|_| BadArg(word))?,
            "virtio_mmio.device" => args.virtio_mmio_devices += 1,
            k if k.starts_with("unify.") => return Err(BadArg(word)),
            _ => {}
        }
    }
    Ok(args)
}
