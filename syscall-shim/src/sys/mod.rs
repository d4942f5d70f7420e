//! Syscall handlers, one file per family. Each decodes its typed arguments, reaches
//! guest memory through [`crate::user`], and calls the libOS.

pub mod attrs;
pub mod children;
pub mod clone;
pub mod copy;
pub mod cwd;
pub mod dirops;
pub mod epoll;
pub mod eventfd;
pub mod futex;
pub mod ident;
pub mod io;
pub mod kill;
pub mod lock;
pub mod memfd;
pub mod mm;
pub mod mmap_file;
pub mod open;
pub mod path;
pub mod pidfd;
pub mod pipe;
pub mod poll;
pub mod process;
pub mod random;
pub mod robust;
pub mod rusage;
pub mod sched;
pub mod signal;
pub mod socket;
pub mod sockmsg;
pub mod splice;
pub mod stat;
pub mod time;
pub mod timer;
pub mod timerfd;
