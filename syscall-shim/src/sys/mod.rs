//! Syscall handlers, one file per family. Each decodes its typed arguments, reaches
//! guest memory through [`crate::user`], and calls the libOS.

pub mod fs;
pub mod futex;
pub mod ident;
pub mod io;
pub mod kill;
pub mod mm;
pub mod process;
pub mod random;
pub mod signal;
pub mod time;
