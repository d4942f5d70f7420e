//! Raw syscall registers and their decoding into typed arguments.

use crate::user::{Pod, UserPtr};

/// The six argument registers of a syscall (rdi, rsi, rdx, r10, r8, r9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Args(pub [u64; 6]);

impl Args {
    pub fn raw(&self, i: usize) -> u64 {
        self.0[i]
    }
    /// An `int` argument (the low 32 bits, sign-extended: Linux ignores the upper half).
    pub fn int(&self, i: usize) -> i32 {
        self.0[i] as u32 as i32
    }
    /// An `unsigned int` argument.
    pub fn uint(&self, i: usize) -> u32 {
        self.0[i] as u32
    }
    /// A file descriptor.
    pub fn fd(&self, i: usize) -> i32 {
        self.int(i)
    }
    /// A `size_t`/`unsigned long` argument.
    pub fn usize(&self, i: usize) -> usize {
        self.0[i] as usize
    }
    /// A `long`/`off_t` argument.
    pub fn long(&self, i: usize) -> i64 {
        self.0[i] as i64
    }
    /// A typed guest pointer.
    pub fn ptr<T: Pod>(&self, i: usize) -> UserPtr<T> {
        UserPtr::new(self.0[i])
    }
}
