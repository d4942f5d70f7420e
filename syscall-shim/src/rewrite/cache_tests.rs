use super::super::{plan, CodeRegion};
use super::*;

const TEXT: u64 = 0x40_1000;
const STUBS: u64 = 0x30_0000;

/// mov eax, 39 ; syscall ; ret ; then a site with no room: syscall ; jmp $
const CODE: [u8; 12] = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3, 0x0f, 0x05, 0xeb, 0xfe];

#[test]
fn a_stored_plan_comes_back_identical() {
    let regions = [CodeRegion { addr: TEXT, bytes: &CODE }];
    let made = plan(&regions, STUBS, 4096);
    assert_eq!((made.sites, made.patches.len(), made.skipped.len()), (2, 1, 1));
    let stored = encode(&made, &regions).unwrap();
    let back = decode(&stored, &regions).unwrap();
    assert_eq!(back.patches, made.patches);
    assert_eq!(back.stubs, made.stubs);
    assert_eq!(back.sites, made.sites);
    assert_eq!(back.skipped, made.skipped);
}

#[test]
fn a_plan_for_other_bytes_is_refused() {
    let regions = [CodeRegion { addr: TEXT, bytes: &CODE }];
    let stored = encode(&plan(&regions, STUBS, 4096), &regions).unwrap();
    let mut changed = CODE;
    changed[1] = 60;
    assert!(decode(&stored, &[CodeRegion { addr: TEXT, bytes: &changed }]).is_none());
    assert!(decode(&stored, &[CodeRegion { addr: TEXT + 16, bytes: &CODE }]).is_none());
}

#[test]
fn damaged_entries_are_refused() {
    let regions = [CodeRegion { addr: TEXT, bytes: &CODE }];
    let stored = encode(&plan(&regions, STUBS, 4096), &regions).unwrap();
    for len in 0..stored.len() {
        assert!(decode(&stored[..len], &regions).is_none(), "truncated to {len}");
    }
    let mut longer = stored.clone();
    longer.push(0);
    assert!(decode(&longer, &regions).is_none());
}

#[test]
fn keys_depend_on_bytes_place_and_stub_area() {
    let regions = [CodeRegion { addr: TEXT, bytes: &CODE }];
    let k = key(&regions, STUBS, 4096);
    assert_eq!(k, key(&regions, STUBS, 4096));
    assert_ne!(k, key(&regions, STUBS + 4096, 4096));
    assert_ne!(k, key(&regions, STUBS, 8192));
    assert_ne!(k, key(&[CodeRegion { addr: TEXT + 16, bytes: &CODE }], STUBS, 4096));
    assert_ne!(k, key(&[CodeRegion { addr: TEXT, bytes: &CODE[..11] }], STUBS, 4096));
}
