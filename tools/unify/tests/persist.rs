//! What a program writes in a kept image (`--image`) is there the next run, the image
//! stays a clean FAT32 volume, and filling it gives ENOSPC without damage.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use unify_rootfs::{FatVolume, FileDevice, FileKind};

/// unify with the hosted platform as the default (`UNIFY_PLATFORM`): these tests are
/// about what the guest writes into a kept image; the VM platform's own are in vm.rs.
fn unify() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_unify"));
    c.env("UNIFY_PLATFORM", "hosted");
    c
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("unify-persist-tests-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `state` guest (tests/guests/state.c), built static with the system compiler.
fn state_program(dir: &Path) -> PathBuf {
    guest_program(dir, "state")
}

/// tests/guests/NAME.c, built static with the system compiler.
fn guest_program(dir: &Path, name: &str) -> PathBuf {
    support::guest_program(dir, name)
}

fn text(out: &Output) -> String {
    assert!(out.status.success(), "status {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file of the volume, read back in full through fatfs (which checks the
/// cluster chains as it goes); returns the paths.
fn read_everything(image: &Path) -> Vec<String> {
    let vol = FatVolume::open(FileDevice::open_read_only(image).unwrap()).expect("the image still mounts");
    let mut seen = Vec::new();
    let mut dirs = vec![String::from("/")];
    while let Some(dir) = dirs.pop() {
        for e in vol.read_dir(&dir).unwrap() {
            let path = format!("{}/{}", dir.trim_end_matches('/'), e.name);
            match e.kind {
                FileKind::Dir => dirs.push(path.clone()),
                _ => {
                    let data = vol.read_file(&path).unwrap();
                    assert_eq!(data.len() as u64, e.size, "{path}");
                }
            }
            seen.push(path);
        }
    }
    seen.sort();
    seen
}

/// `fsck.fat -n` finds nothing to fix (skipped when dosfstools is not installed).
fn assert_fsck_clean(image: &Path) {
    let Ok(out) = Command::new("fsck.fat").arg("-n").arg(image).output() else {
        eprintln!("note: fsck.fat not installed; skipping the fsck check");
        return;
    };
    assert!(
        out.status.success(),
        "fsck.fat -n: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn what_a_program_writes_is_there_next_run() {
    let dir = scratch("state");
    let prog = state_program(&dir);
    let image = dir.join("kept.img");
    let first = unify()
        .args(["run", "--platform", "hosted", "--image"])
        .arg(&image)
        .arg("--")
        .arg(&prog)
        .arg("write")
        .output()
        .unwrap();
    assert_eq!(text(&first), "written\n");

    let second = unify().args(["run", "--platform", "hosted"]).arg(&image).arg("check").output().unwrap();
    let listing = text(&second);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 4, "{listing}");
    assert!(lines[0].starts_with("/data/A Long Name With Spaces.txt 19 "), "{listing}");
    assert_eq!(lines[1], "/data/sub/");
    assert!(lines[2].starts_with("/data/sub/big.bin 2097152 "), "{listing}");
    assert!(lines[3].starts_with("/data/sub/renamed.txt 11 "), "{listing}");

    // The same state through an independent reader, and a third run agrees with the second.
    let files = read_everything(&image);
    assert!(files.contains(&"/data/sub/renamed.txt".to_string()), "{files:?}");
    assert!(!files.iter().any(|f| f.ends_with("a.txt") || f.ends_with("b.txt")), "{files:?}");
    assert_fsck_clean(&image);
    let third = unify().args(["run", "--platform", "hosted"]).arg(&image).arg("check").output().unwrap();
    assert_eq!(text(&third), listing);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn filling_the_image_gives_enospc_and_leaves_it_consistent() {
    let dir = scratch("fill");
    let prog = state_program(&dir);
    let image = dir.join("small.img");
    let out = unify()
        .args(["run", "--platform", "hosted", "--size", "40M", "--image"])
        .arg(&image)
        .args(["-w", "/data", "--"])
        .arg(&prog)
        .arg("fill")
        .output()
        .unwrap();
    let report = text(&out);
    assert!(report.contains("full: ENOSPC\n"), "{report}");
    assert!(report.contains("size matches writes: yes\n"), "{report}");
    assert!(report.contains("after delete: written\n"), "{report}");
    let files = read_everything(&image);
    assert!(files.contains(&"/data/after.txt".to_string()), "{files:?}");
    assert!(!files.contains(&"/data/fill".to_string()), "{files:?}");
    assert_fsck_clean(&image);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn read_only_volumes_refuse_changes() {
    let dir = scratch("ro");
    let prog = guest_program(&dir, "readonly");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("f"), "hi\n").unwrap();
    let out = unify()
        .args(["run", "--platform", "hosted", "-v"])
        .arg(format!("{}:/data:ro", data.display()))
        .args(["-w", "/rw", "--"])
        .arg(&prog)
        .output()
        .unwrap();
    assert_eq!(
        text(&out),
        "read: 3 hi\nwrite: Read-only file system\ncreate: Read-only file system\n\
         unlink: Read-only file system\nwritable dir: ok\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
