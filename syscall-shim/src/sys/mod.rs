//! Syscall handlers, one file per family. Each decodes its typed arguments, reaches
//! guest memory through [`crate::user`], and calls the libOS.

pub mod ident;
pub mod io;
pub mod mm;
pub mod process;
pub mod random;
pub mod signal;
pub mod time;
