//! unify's Linux x86-64 syscall ABI.
//!
//! A guest `syscall` reaches [`dispatch::dispatch`] by one of the entry paths (a
//! rewritten site or the Syscall User Dispatch trap on the hosted platform; `LSTAR` in a
//! VM). Dispatch looks the number up in the single [`table`], hands the handler typed
//! arguments, and encodes `Result<usize, Errno>` into RAX. Guest pointers are reached
//! only through [`user`]'s checked accessors.
#![no_std]

extern crate alloc;
#[cfg(feature = "rewrite")]
extern crate std;

pub mod args;
pub mod delivery;
pub mod dispatch;
pub mod names;
#[cfg(feature = "rewrite")]
pub mod rewrite;
pub mod sigframe;
pub mod site_map;
pub mod sys;
pub mod table;
pub mod trace;
pub mod user;
pub mod warn;

pub use dispatch::{dispatch, set_trace};
