//! Files of hundreds of MiB: streamed into an image file and read back.
#![cfg(feature = "std")]

mod common;

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::time::Instant;

use common::TempDir;
use unify_rootfs::{FatVolume, FileDevice, ImageBuilder};

const MIB: u64 = 1024 * 1024;

/// The byte at `off` of the test file: mostly zeros (a sparse host file), with a 64 KiB
/// marker of non-zero bytes at the start of every 16 MiB stretch.
fn byte_at(off: u64) -> u8 {
    if off % (16 * MIB) < 65_536 {
        ((off / 7) % 251) as u8 + 1
    } else {
        0
    }
}

fn make_sparse(path: &std::path::Path, len: u64) {
    let mut f = File::create(path).unwrap();
    f.set_len(len).unwrap();
    let mut at = 0;
    while at < len {
        let marker: Vec<u8> = (at..(at + 65_536).min(len)).map(byte_at).collect();
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&marker).unwrap();
        at += 16 * MIB;
    }
}

fn round_trip(len: u64) {
    let tmp = TempDir::new("big");
    let host = tmp.path().join("big.bin");
    make_sparse(&host, len);
    let image = tmp.path().join("big.fat");

    let t = Instant::now();
    let mut b = ImageBuilder::new(None);
    b.add_file("/data/big.bin", host.clone()).unwrap();
    b.add_file("/data/small.txt", b"small".to_vec()).unwrap();
    let report = b.build_to_file(&image).unwrap();
    let built = t.elapsed();
    assert_eq!(report.bytes, len + 5);
    assert!(report.size >= len + len / 4 + 32 * MIB);

    let t = Instant::now();
    let vol = FatVolume::open(FileDevice::open(&image).unwrap()).unwrap();
    assert_eq!(vol.stat("/data/big.bin").unwrap().size, len);
    let mut off = 0u64;
    vol.read_stream("/data/big.bin", 0, &mut |chunk| {
        for (i, &b) in chunk.iter().enumerate() {
            if b != byte_at(off + i as u64) {
                panic!("byte {} is {b}, want {}", off + i as u64, byte_at(off + i as u64));
            }
        }
        off += chunk.len() as u64;
        Ok(())
    })
    .unwrap();
    assert_eq!(off, len);
    let streamed = t.elapsed();

    // Random access near the end (walks the cluster chain from the start).
    let t = Instant::now();
    for at in [len - 1, len - 16 * MIB + 3, len / 2, 12_345] {
        let mut buf = [0u8; 4096];
        let n = vol.read_at("/data/big.bin", at, &mut buf).unwrap();
        assert_eq!(n as u64, (len - at).min(4096));
        for (i, &b) in buf[..n].iter().enumerate() {
            assert_eq!(b, byte_at(at + i as u64));
        }
    }
    let random = t.elapsed();

    // Appending to the big file at run time still works.
    vol.write_at("/data/big.bin", len, b"tail").unwrap();
    assert_eq!(vol.stat("/data/big.bin").unwrap().size, len + 4);
    drop(vol);
    let vol = FatVolume::open(FileDevice::open_read_only(&image).unwrap()).unwrap();
    let mut tail = [0u8; 4];
    vol.read_at("/data/big.bin", len, &mut tail).unwrap();
    assert_eq!(&tail, b"tail");
    assert_eq!(vol.read_file("/data/small.txt").unwrap(), b"small");
    eprintln!(
        "{} MiB: image {} MiB built in {built:?}, read back in {streamed:?}, 4 random reads {random:?}",
        len / MIB,
        report.size / MIB
    );
}

/// 300 MiB: run with `cargo test --release` (it is ignored in debug builds, where it is slow).
#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds; run with --release")]
fn a_300_mib_file() {
    round_trip(300 * MIB + 12_345);
}

/// The same path with a file that still spans many clusters, for debug builds.
#[test]
fn a_40_mib_file() {
    round_trip(40 * MIB + 777);
}
