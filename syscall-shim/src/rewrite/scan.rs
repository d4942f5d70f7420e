//! Finding `syscall` instructions and the branch targets that constrain rewriting.

use std::vec::Vec;

use iced_x86::{Code, Decoder, DecoderOptions, FlowControl, Instruction, OpKind};

/// An executable range of the loaded program.
#[derive(Debug, Clone, Copy)]
pub struct CodeRegion<'a> {
    pub addr: u64,
    pub bytes: &'a [u8],
}

/// How many neighbours on each side may be moved into a stub.
const MAX_NEIGHBOURS: usize = 3;

/// A `syscall` and the instructions around it, as the sweep decoded them.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub site: u64,
    /// Up to three instructions before the site, nearest last.
    pub before: Vec<Instruction>,
    /// Up to three instructions after the site.
    pub after: Vec<Instruction>,
}

impl Candidate {
    /// Whether movable neighbours could make a five-byte window at all.
    pub fn has_room(&self) -> bool {
        let movable = |i: &Instruction| is_movable(i);
        let after: usize = self.after.iter().take_while(|i| movable(i)).map(|i| i.len()).sum();
        let before: usize = self.before.iter().rev().take_while(|i| movable(i)).map(|i| i.len()).sum();
        2 + after >= 5 || 2 + before >= 5
    }
}

/// Whether an instruction can run at another address with the same effect once the
/// block encoder has fixed its RIP-relative operand: no control flow, not a syscall.
pub fn is_movable(i: &Instruction) -> bool {
    i.flow_control() == FlowControl::Next && i.code() != Code::INVALID && i.code() != Code::Syscall
}

/// What a sweep found.
#[derive(Debug, Default)]
pub struct Scan {
    pub candidates: Vec<Candidate>,
    /// Sorted targets of every direct branch and call.
    pub branch_targets: Vec<u64>,
}

/// Decodes each region linearly, collecting `syscall` sites and direct branch targets.
pub fn scan(regions: &[CodeRegion<'_>]) -> Scan {
    let mut out = Scan::default();
    for region in regions {
        let mut decoder = Decoder::with_ip(64, region.bytes, region.addr, DecoderOptions::NONE);
        let mut recent: Vec<Instruction> = Vec::with_capacity(MAX_NEIGHBOURS + 1);
        let mut instr = Instruction::default();
        while decoder.can_decode() {
            decoder.decode_out(&mut instr);
            // Every direct near branch, call, loop and jrcxz has a NearBranch64 operand.
            if instr.op_count() > 0 && instr.op0_kind() == OpKind::NearBranch64 {
                out.branch_targets.push(instr.near_branch_target());
            }
            if instr.code() == Code::Syscall {
                let after = decode_after(region, instr.next_ip());
                out.candidates.push(Candidate { site: instr.ip(), before: recent.clone(), after });
            }
            if recent.len() == MAX_NEIGHBOURS {
                recent.remove(0);
            }
            recent.push(instr);
        }
    }
    out.branch_targets.sort_unstable();
    out.branch_targets.dedup();
    out
}

fn decode_after(region: &CodeRegion<'_>, ip: u64) -> Vec<Instruction> {
    let offset = (ip - region.addr) as usize;
    let mut decoder = Decoder::with_ip(64, &region.bytes[offset..], ip, DecoderOptions::NONE);
    let mut after = Vec::with_capacity(MAX_NEIGHBOURS);
    while decoder.can_decode() && after.len() < MAX_NEIGHBOURS {
        let i = decoder.decode();
        if i.code() == Code::INVALID {
            break;
        }
        after.push(i);
    }
    after
}
