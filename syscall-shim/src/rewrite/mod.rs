//! Load-time rewriting of `syscall` sites into jumps to per-site stubs.
//!
//! A `syscall` instruction is two bytes; a jump that reaches the libOS is five. So each
//! site is rewritten together with whole neighbouring instructions into one
//! `jmp rel32` to a stub placed within ±2 GiB of the guest's code:
//!
//! ```text
//! site:  [pre…] syscall [post…]        →   jmp stub ; int3…
//! stub:  [pre…]                             (relocated by iced-x86's block encoder)
//!        lea  rcx, [rip+resume]             the return address, where `syscall` puts it
//!        jmp  [rip+entry_slot]              the platform's syscall entry
//! resume:[post…]                            (relocated)
//!        jmp  site_end
//! ```
//!
//! Nothing is pushed on the guest's stack: a leaf function that keeps live data below
//! RSP (the red zone) is safe, and so is code that runs with no stack at all (musl's
//! detached threads unmap their own stack and then call `exit`). RCX is the one register
//! the stub changes, and `syscall` itself leaves the return address there.
//!
//! A site is rewritten only when the decoder proves it: the bytes decode as `syscall`
//! in a linear sweep of an executable segment; the neighbours moved into the stub are
//! plain instructions (no branch, call or return); and no direct branch anywhere in
//! the code targets a byte inside the rewritten window other than its first. Every
//! other site is left alone and reaches the libOS through the platform's slow path
//! (Syscall User Dispatch on the hosted platform).

pub mod cache;
mod scan;
mod stub;
#[cfg(test)]
mod tests;

use std::vec::Vec;

pub use scan::{scan, Candidate, CodeRegion};
pub use stub::{build_stub, Window};

/// Size of the pointer slot at the start of the stub area.
pub const ENTRY_SLOT_SIZE: u64 = 16;

/// One rewritten site: `bytes` go at `addr` in the guest's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub addr: u64,
    pub bytes: Vec<u8>,
}

/// Why a site was left for the slow path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// No run of movable neighbours makes five bytes.
    NoRoom,
    /// A branch targets the inside of every possible window.
    BranchTarget,
    /// The stub area is full, or out of reach of the site.
    NoStubSpace,
}

/// The outcome of planning a whole program.
#[derive(Debug, Default)]
pub struct Plan {
    pub patches: Vec<Patch>,
    /// Code to copy to `stub_base + ENTRY_SLOT_SIZE`.
    pub stubs: Vec<u8>,
    /// Every `syscall` found.
    pub sites: usize,
    /// Sites left for the slow path, with the reason.
    pub skipped: Vec<(u64, Skip)>,
    /// For each rewritten site, in address order: where its `syscall` was, and where
    /// the stub's entry returns to (see [`crate::site_map`]).
    pub resumes: Vec<(u64, u64)>,
}

/// Plans the rewrite of every `syscall` in `regions`.
///
/// `stub_base` is where the stub area will be mapped (its first eight bytes hold the
/// address of the platform's entry); `capacity` is its size in bytes.
pub fn plan(regions: &[CodeRegion<'_>], stub_base: u64, capacity: usize) -> Plan {
    let scanned = scan(regions);
    let mut plan = Plan { sites: scanned.candidates.len(), ..Plan::default() };
    let entry_slot = stub_base;
    for cand in &scanned.candidates {
        let Some(window) = stub::choose_window(cand, &scanned.branch_targets) else {
            let reason = if cand.has_room() { Skip::BranchTarget } else { Skip::NoRoom };
            plan.skipped.push((cand.site, reason));
            continue;
        };
        let stub_addr = stub_base + ENTRY_SLOT_SIZE + plan.stubs.len() as u64;
        let room = capacity.saturating_sub(ENTRY_SLOT_SIZE as usize);
        let built = build_stub(&window, stub_addr, entry_slot).zip(stub::site_patch(&window, stub_addr));
        match built {
            Some(((code, resume), patch)) if plan.stubs.len() + code.len() <= room => {
                plan.patches.push(patch);
                plan.stubs.extend_from_slice(&code);
                plan.resumes.push((window.site, resume));
            }
            _ => plan.skipped.push((cand.site, Skip::NoStubSpace)),
        }
    }
    plan
}
