//! Choosing the window around a site and building its stub.

use std::vec::Vec;

use iced_x86::{BlockEncoder, BlockEncoderOptions, Code, Instruction, InstructionBlock, MemoryOperand, Register};

use super::scan::{is_movable, Candidate};
use super::Patch;

/// Bytes a `jmp rel32` takes.
const JMP_LEN: u64 = 5;

/// The instructions a rewrite replaces: `pre`, the `syscall` at `site`, then `post`.
#[derive(Debug, Clone)]
pub struct Window {
    pub start: u64,
    pub site: u64,
    pub end: u64,
    pub pre: Vec<Instruction>,
    pub post: Vec<Instruction>,
}

/// Whether any direct branch lands strictly inside `(start, end)`.
fn targeted_inside(targets: &[u64], start: u64, end: u64) -> bool {
    let from = targets.partition_point(|&t| t <= start);
    targets.get(from).is_some_and(|&t| t < end)
}

/// Picks the window for a site: the syscall plus the following instructions if they
/// make room, else the preceding ones; `None` when neither is provably safe.
pub fn choose_window(cand: &Candidate, targets: &[u64]) -> Option<Window> {
    let site_end = cand.site + 2;
    // Forward: syscall first, so a branch to the syscall itself still works.
    let mut post = Vec::new();
    let mut end = site_end;
    for i in &cand.after {
        if end - cand.site >= JMP_LEN || !is_movable(i) {
            break;
        }
        post.push(*i);
        end = i.next_ip();
    }
    if end - cand.site >= JMP_LEN && !targeted_inside(targets, cand.site, end) {
        return Some(Window { start: cand.site, site: cand.site, end, pre: Vec::new(), post });
    }
    // Backward: the neighbours before the syscall move with it.
    let mut pre: Vec<Instruction> = Vec::new();
    let mut start = cand.site;
    for i in cand.before.iter().rev() {
        if site_end - start >= JMP_LEN || !is_movable(i) || i.next_ip() != start {
            break;
        }
        pre.insert(0, *i);
        start = i.ip();
    }
    if site_end - start >= JMP_LEN && !targeted_inside(targets, start, site_end) {
        return Some(Window { start, site: cand.site, end: site_end, pre, post: Vec::new() });
    }
    None
}

/// Encodes `instrs` to run at `addr` (iced's block encoder relocates RIP-relative
/// operands); `None` if an operand cannot reach from there.
fn encode(instrs: &[Instruction], addr: u64, options: u32) -> Option<iced_x86::BlockEncoderResult> {
    let block = InstructionBlock::new(instrs, addr);
    BlockEncoder::encode(64, block, BlockEncoderOptions::DONT_FIX_BRANCHES | options).ok()
}

/// Encodes the stub for `w` to run at `stub_addr`; `entry_slot` holds the address of
/// the platform's syscall entry. Returns the code and the address the entry returns
/// to; `None` if an operand cannot reach from there.
///
/// The stub hands the entry its return address in RCX, which `syscall` clobbers anyway
/// (it leaves the return address there), and jumps: nothing is pushed on the guest's
/// stack. A thread may have just unmapped that stack (musl's detached threads unmap
/// their own stack, then call `exit` with no stack at all), and leaf functions keep
/// live data below RSP (the red zone).
pub fn build_stub(w: &Window, stub_addr: u64, entry_slot: u64) -> Option<(Vec<u8>, u64)> {
    // The pre-instructions are not branches, so their size does not depend on where
    // the rest goes: encoded alone, they give the offset of what follows.
    let pre_len = if w.pre.is_empty() { 0 } else { encode(&w.pre, stub_addr, 0)?.code_buffer.len() as u64 };
    let resume = stub_addr + pre_len + LEA_RIP_LEN + JMP_RIP_LEN;
    let mut instrs: Vec<Instruction> = w.pre.clone();
    instrs.push(
        Instruction::with2(
            Code::Lea_r64_m,
            Register::RCX,
            MemoryOperand::with_base_displ(Register::RIP, resume as i64),
        )
        .ok()?,
    );
    instrs.push(
        Instruction::with1(Code::Jmp_rm64, MemoryOperand::with_base_displ(Register::RIP, entry_slot as i64)).ok()?,
    );
    let resume_index = instrs.len();
    instrs.extend_from_slice(&w.post);
    instrs.push(Instruction::with_branch(Code::Jmp_rel32_64, w.end).ok()?);
    let encoded = encode(&instrs, stub_addr, BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS)?;
    // The return address must be where the instruction after the jump landed.
    let landed = *encoded.new_instruction_offsets.get(resume_index)?;
    (u64::from(landed) == resume - stub_addr).then_some((encoded.code_buffer, resume))
}

/// `lea rcx, [rip+disp32]` and `jmp [rip+disp32]`: fixed sizes.
const LEA_RIP_LEN: u64 = 7;
const JMP_RIP_LEN: u64 = 6;
const _: () = assert!(LEA_RIP_LEN + JMP_RIP_LEN == crate::site_map::RESTART_BACKUP);

/// The bytes that replace the window: `jmp stub` then `int3` filler.
/// `None` when the stub is out of `rel32` reach.
pub fn site_patch(w: &Window, stub_addr: u64) -> Option<Patch> {
    let rel = i32::try_from(stub_addr as i64 - (w.start + JMP_LEN) as i64).ok()?;
    let mut bytes = Vec::with_capacity((w.end - w.start) as usize);
    bytes.push(0xe9);
    bytes.extend_from_slice(&rel.to_le_bytes());
    bytes.resize((w.end - w.start) as usize, 0xcc);
    Some(Patch { addr: w.start, bytes })
}
