use std::vec;
use std::vec::Vec;

use iced_x86::{Code, Decoder, DecoderOptions};

use super::*;

const TEXT: u64 = 0x40_1000;
const STUBS: u64 = 0x30_0000;

fn decode_all(bytes: &[u8], ip: u64) -> Vec<iced_x86::Instruction> {
    let mut d = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let mut v = Vec::new();
    while d.can_decode() {
        v.push(d.decode());
    }
    v
}

#[test]
fn syscall_before_ret_takes_the_preceding_mov() {
    // mov eax, 39 ; syscall ; ret
    let code = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3];
    let plan = plan(&[CodeRegion { addr: TEXT, bytes: &code }], STUBS, 4096);
    assert_eq!(plan.sites, 1);
    assert_eq!(plan.patches.len(), 1);
    let p = &plan.patches[0];
    assert_eq!(p.addr, TEXT);
    assert_eq!(p.bytes.len(), 7);
    assert_eq!(p.bytes[0], 0xe9);
    assert_eq!(&p.bytes[5..], &[0xcc, 0xcc]);
    let stub = decode_all(&plan.stubs, STUBS + ENTRY_SLOT_SIZE);
    let codes: Vec<Code> = stub.iter().map(|i| i.code()).collect();
    assert_eq!(codes, vec![Code::Mov_r32_imm32, Code::Lea_r64_m, Code::Jmp_rm64, Code::Jmp_rel32_64]);
    assert_eq!(stub[1].op0_register(), iced_x86::Register::RCX);
    assert_eq!(stub[1].ip_rel_memory_address(), stub[3].ip(), "RCX = where the entry returns to");
    assert_eq!(stub[2].ip_rel_memory_address(), STUBS);
    assert_eq!(stub[3].near_branch_target(), TEXT + 7);
}

#[test]
fn syscall_followed_by_cmp_moves_the_cmp() {
    // syscall ; cmp rax, -4095 ; ja +0 ; ret
    let code = [0x0f, 0x05, 0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, 0x77, 0x00, 0xc3];
    let plan = plan(&[CodeRegion { addr: TEXT, bytes: &code }], STUBS, 4096);
    assert_eq!(plan.patches.len(), 1);
    assert_eq!(plan.patches[0].addr, TEXT);
    assert_eq!(plan.patches[0].bytes.len(), 8);
    let stub = decode_all(&plan.stubs, STUBS + ENTRY_SLOT_SIZE);
    assert_eq!(stub[2].code(), Code::Cmp_RAX_imm32);
    assert_eq!(stub[0].ip_rel_memory_address(), stub[2].ip(), "the entry returns to the moved cmp");
    assert_eq!(stub.last().unwrap().near_branch_target(), TEXT + 8);
}

#[test]
fn a_branch_into_the_window_leaves_the_site_alone() {
    // loop: mov eax, 0 ; syscall ; jmp syscall  (the jmp targets the syscall itself)
    // 0: b8 00 00 00 00   5: 0f 05   7: eb fc (jmp -4 → 5)
    let code = [0xb8, 0, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfc];
    let plan = plan(&[CodeRegion { addr: TEXT, bytes: &code }], STUBS, 4096);
    assert_eq!(plan.sites, 1);
    assert!(plan.patches.is_empty());
    assert_eq!(plan.skipped, vec![(TEXT + 5, Skip::BranchTarget)]);
}

#[test]
fn no_movable_neighbours_means_no_room() {
    // ret ; syscall ; ret
    let code = [0xc3, 0x0f, 0x05, 0xc3];
    let plan = plan(&[CodeRegion { addr: TEXT, bytes: &code }], STUBS, 4096);
    assert_eq!(plan.skipped, vec![(TEXT + 1, Skip::NoRoom)]);
}

#[test]
fn rip_relative_neighbours_are_relocated() {
    // syscall ; mov rcx, [rip+0x100] ; ret
    let code = [0x0f, 0x05, 0x48, 0x8b, 0x0d, 0x00, 0x01, 0x00, 0x00, 0xc3];
    let plan = plan(&[CodeRegion { addr: TEXT, bytes: &code }], STUBS, 4096);
    assert_eq!(plan.patches.len(), 1);
    let stub = decode_all(&plan.stubs, STUBS + ENTRY_SLOT_SIZE);
    assert_eq!(stub[2].ip_rel_memory_address(), TEXT + 9 + 0x100);
}

#[test]
fn a_full_stub_area_is_reported() {
    let code = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3];
    let plan = plan(&[CodeRegion { addr: TEXT, bytes: &code }], STUBS, 20);
    assert_eq!(plan.skipped, vec![(TEXT + 5, Skip::NoStubSpace)]);
}
