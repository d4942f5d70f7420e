//! The unify library OS: the Linux personality shared by every platform.
//!
//! This crate holds the state a Linux kernel keeps for one process — its memory map,
//! file-descriptor table, signal actions, limits and identity — and the semantics of the
//! operations on it, with Linux's error numbers. It has no platform code: everything
//! that touches hardware or the host goes through [`platform::Platform`], implemented by
//! `libos-hosted` (one Linux process) and `libos-metal` (a VM).
//!
//! Raw syscall registers never reach this crate: `syscall-shim` decodes them into typed
//! arguments, checks guest pointers, and calls the functions here.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

pub mod abi;
pub mod clone;
pub mod context;
pub mod cpuset;
pub mod epoll;
pub mod errno;
pub mod eventfd;
pub mod fd;
pub mod file;
pub mod futex;
pub mod futex_table;
pub mod ident;
pub mod kernel;
pub mod limits;
pub mod locks;
pub mod memfd;
pub mod mm;
pub mod net;
pub mod pidfd;
pub mod pipe;
pub mod platform;
pub mod poll;
pub mod pseudo;
pub mod readiness;
pub mod rusage;
pub mod siginfo;
pub mod signal;
pub mod signalfd;
pub mod sigqueue;
pub mod sigsend;
pub mod statx;
pub mod sync;
pub mod thread;
pub mod time;
pub mod timerfd;
pub mod timers;
pub mod vfs;
pub mod wait;

#[cfg(test)]
pub(crate) mod testing;

pub use errno::{Errno, SysResult};
pub use kernel::{Kernel, ProcessSetup};
pub use platform::Platform;
pub use thread::Thread;
