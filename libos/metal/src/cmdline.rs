//! The kernel command line (`-append`): what the kernel reads from it.
//!
//! - `unify.selftest=NAME`: make the kernel fail on purpose (src/selftest.rs), for the
//!   tests of the fault paths.
//! - `unify.exit=N`: the status to exit with when there is no guest image to run
//!   (0..=255; default 0): how the boot tests check the exit path.
//! - `unify.log=1|3`: the port of the kernel log (default COM1). unify passes 3: COM1
//!   and COM2 are then the guest's stdout and stderr, and COM3 also carries unify's
//!   control lines (src/stdio.rs).
//! - `unify.time=NS`: the wall-clock time at launch, in ns since the epoch.
//! - `unify.monotonic=NS`: the host's monotonic clock at launch; the guest's continues it.
//! - `unify.stdio=KKK`: what unify's stdin, stdout and stderr are — `p` a pipe or file,
//!   `n` /dev/null, `t` a terminal — which fstat on the guest's fds 0–2 reports.
//! - `unify.verbose`: with `unify.log=3`, the whole log (otherwise only the exit record
//!   and failures: each byte to a UART is a trip through the VMM).
//! - `unify.trace`: log every guest syscall (strace style) on the guest's stderr.
//! - `unify.manifest=fw_cfg`: run with the manifest QEMU holds as fw_cfg file
//!   `opt/unify/manifest` (src/fw_cfg.rs) instead of the image's: one run of a kept
//!   image with other arguments, environment or working directory.
//! - `unify.ip=ADDR/PREFIX`, `unify.gw=ADDR`, `unify.dns=ADDR[,ADDR...]`,
//!   `unify.dhcp=SECONDS`: the network card's address, static or by DHCP
//!   (src/net/config.rs; none of them: QEMU's user network, 10.0.2.15/24 via 10.0.2.2).
//! - `virtio_mmio.device=SIZE@BASE:IRQ`: QEMU's microvm appends one per virtio-mmio
//!   transport with a device plugged in (src/virtio.rs). A malformed one is an error.
//!
//! Other words belong to someone else (the VMM, a Linux-style `console=`) and are
//! ignored; an unknown `unify.` word is an error, so a typo cannot pass silently.

use crate::net::config::{self, NetConfig, Words};
use crate::virtio::{parse_mmio_device, MmioDevice};

/// A value that did not parse, or an unknown `unify.` key.
#[derive(Debug)]
pub struct BadArg<'a>(pub &'a str);

/// What the command line asks for.
#[derive(Debug, Default)]
pub struct BootArgs<'a> {
    pub selftest: Option<&'a str>,
    pub exit_status: u8,
    /// `unify.log=3`: the log (and unify's control lines) on COM3.
    pub log_com3: bool,
    /// `unify.time=NS`: the host's CLOCK_REALTIME when it started the VM.
    pub realtime_ns: u64,
    /// `unify.monotonic=NS`: the host's CLOCK_MONOTONIC when it started the VM.
    pub monotonic_ns: u64,
    /// `unify.trace`: strace-style lines for every guest syscall.
    pub trace: bool,
    /// `unify.stdio=KKK`: what unify's fds 0–2 are (src/stdio.rs).
    pub stdio: Option<&'a str>,
    /// `unify.verbose`: the whole log even when it is on COM3 (otherwise only the exit
    /// record and failures are written there).
    pub verbose: bool,
    /// `unify.ip`, `unify.gw`, `unify.dns`, `unify.dhcp`: the card's address.
    pub net: NetConfig,
    /// `unify.manifest=fw_cfg`: the run's manifest is QEMU's fw_cfg file, not the image's.
    pub manifest_from_fw_cfg: bool,
    cmdline: &'a str,
}

const VIRTIO_MMIO: &str = "virtio_mmio.device";

fn words(cmdline: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    cmdline.split_ascii_whitespace().map(|word| {
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        (word, key, value)
    })
}

impl BootArgs<'_> {
    /// The virtio-mmio transports, in command-line order (each checked by `parse`).
    pub fn virtio_mmio_devices(&self) -> impl Iterator<Item = MmioDevice> + '_ {
        words(self.cmdline).filter(|(_, k, _)| *k == VIRTIO_MMIO).filter_map(|(_, _, v)| parse_mmio_device(v))
    }
}

/// Parses the words of `cmdline`.
pub fn parse(cmdline: &str) -> Result<BootArgs<'_>, BadArg<'_>> {
    let mut args = BootArgs { cmdline, ..BootArgs::default() };
    let mut net = Words::default();
    let mut last_net_word = "";
    for (word, key, value) in words(cmdline) {
        match key {
            "unify.selftest" => args.selftest = Some(value),
            "unify.exit" => args.exit_status = value.parse().map_err(|_| BadArg(word))?,
            "unify.log" => match value {
                "1" => args.log_com3 = false,
                "3" => args.log_com3 = true,
                _ => return Err(BadArg(word)),
            },
            "unify.time" => args.realtime_ns = value.parse().map_err(|_| BadArg(word))?,
            "unify.monotonic" => args.monotonic_ns = value.parse().map_err(|_| BadArg(word))?,
            "unify.trace" => args.trace = true,
            "unify.verbose" => args.verbose = true,
            "unify.manifest" if value == "fw_cfg" => args.manifest_from_fw_cfg = true,
            "unify.stdio" if value.len() == 3 && value.bytes().all(|b| b"pnt".contains(&b)) => args.stdio = Some(value),
            "unify.stdio" => return Err(BadArg(word)),
            "unify.ip" if config::parse_cidr(value).is_some() => (net.ip, last_net_word) = (Some(value), word),
            "unify.gw" if config::parse_host(value).is_some() => (net.gw, last_net_word) = (Some(value), word),
            "unify.dns" if config::parse_dns(value).is_some() => (net.dns, last_net_word) = (Some(value), word),
            "unify.dhcp" if config::parse_wait(value).is_some() => (net.dhcp, last_net_word) = (Some(value), word),
            VIRTIO_MMIO => {
                parse_mmio_device(value).ok_or(BadArg(word))?;
            }
            k if k.starts_with("unify.") => return Err(BadArg(word)),
            _ => {}
        }
    }
    // Each word parsed alone; together they may still not fit (ip with dhcp, a gateway
    // off the subnet): the last of them is named.
    args.net = NetConfig::from_words(&net).map_err(|_| BadArg(last_net_word))?;
    Ok(args)
}
