//! bench-vm's library: the Linux VM that its benchmark (issue 5) boots, for other
//! benchmarks to reuse (tools/bench-http runs its HTTP server in one, issue 6).
//!
//! - [`debian`]: Debian's cloud kernel, fetched with apt once and cached;
//! - [`linuxvm`]: the launcher: one static program in an initramfs, booted under QEMU
//!   with unify's flags ([`linuxvm::LinuxVm::prepare`], [`linuxvm::LinuxVm::spawn`]), with
//!   QEMU's user network and a forwarded port for a server ([`linuxvm::user_net`]);
//! - [`serial`]: a child's output read by a thread that timestamps it (the console);
//! - [`guest`]: the C programs that run inside the VM (hello, the wrapper init);
//! - [`cpio`]: the initramfs writer.
//!
//! See README.md ("Reusing the launcher").

pub mod cpio;
pub mod debian;
pub mod guest;
pub mod linuxvm;
pub mod serial;
