//! memfds: creation rules, what they look like, and every seal.

use alloc::sync::Arc;
use alloc::vec;

use super::flags::*;
use super::seals::*;
use super::*;
use crate::abi::mode;
use crate::vfs::path::absolute_path;

fn clock() -> Clock {
    Arc::new(|| Timespec { tv_sec: 1, tv_nsec: 0 })
}

fn memfd(flags: u32) -> (Arc<dyn File>, Arc<dyn Inode>) {
    let f = create(&clock(), b"test", flags).unwrap();
    let inode = f.dentry().unwrap().inode().clone();
    (f, inode)
}

#[test]
fn names_and_flags_are_checked_as_linux() {
    assert!(create(&clock(), &[b'a'; 249], 0).is_ok());
    assert_eq!(create(&clock(), &[b'a'; 250], 0).err(), Some(Errno::EINVAL));
    assert_eq!(create(&clock(), b"x", 0x100).err(), Some(Errno::EINVAL));
    assert_eq!(create(&clock(), b"x", MFD_EXEC | MFD_NOEXEC_SEAL).err(), Some(Errno::EINVAL));
    assert_eq!(create(&clock(), b"x", MFD_HUGETLB).err(), Some(Errno::EINVAL));
}

#[test]
fn a_memfd_is_an_unnamed_regular_file() {
    let (f, _) = memfd(MFD_CLOEXEC);
    let st = f.stat().unwrap();
    assert_eq!(st.st_mode, mode::S_IFREG | 0o777);
    assert_eq!((st.st_nlink, st.st_size), (0, 0));
    let d = f.dentry().unwrap();
    assert!(d.is_unlinked());
    let root = shm(&clock()).root.clone();
    assert_eq!(absolute_path(&root, &d), (b"/memfd:test".to_vec(), true));
    assert_eq!(f.write(b"data", false), Ok(4));
    assert_eq!(f.stat().unwrap().st_size, 4);
    let mut buf = [0u8; 8];
    assert_eq!(f.pread(&mut buf, 0), Ok(4));
}

#[test]
fn initial_seals_follow_the_flags() {
    let (_f, n) = memfd(0);
    assert_eq!(seals_of(&n), Some(F_SEAL_SEAL));
    assert_eq!(add_seals(&n, F_SEAL_WRITE, || false), Err(Errno::EPERM));
    let (_f, n) = memfd(MFD_ALLOW_SEALING);
    assert_eq!(seals_of(&n), Some(0));
    let (f, n) = memfd(MFD_NOEXEC_SEAL);
    assert_eq!(seals_of(&n), Some(F_SEAL_EXEC));
    assert_eq!(f.stat().unwrap().st_mode & 0o777, 0o666);
    assert_eq!(n.set_mode(0o777), Err(Errno::EPERM));
    assert_eq!(n.set_mode(0o644), Ok(()));
}

#[test]
fn grow_and_shrink_seals_refuse_size_changes() {
    let (f, n) = memfd(MFD_ALLOW_SEALING);
    f.pwrite(&vec![1u8; 4096 + 10], 0).unwrap();
    add_seals(&n, F_SEAL_GROW | F_SEAL_SHRINK, || false).unwrap();
    assert_eq!(n.truncate(5000), Err(Errno::EPERM));
    assert_eq!(n.truncate(10), Err(Errno::EPERM));
    assert_eq!(n.truncate(4106), Ok(()));
    // Page by page: the part up to the end of the first page goes in, then it stops.
    assert_eq!(f.pwrite(&[2u8; 8192], 4000), Ok(96));
    assert_eq!(f.pwrite(&[2u8; 4], 4104), Err(Errno::EPERM));
    assert_eq!(f.pwrite(&[2u8; 2], 4104), Ok(2));
    assert_eq!(n.append(b"x").err(), Some(Errno::EPERM));
}

#[test]
fn write_seals_refuse_writes_and_write_needs_no_writable_mapping() {
    let (f, n) = memfd(MFD_ALLOW_SEALING);
    f.write(b"abc", false).unwrap();
    assert_eq!(add_seals(&n, F_SEAL_WRITE, || true), Err(Errno::EBUSY));
    assert_eq!(seals_of(&n), Some(0));
    add_seals(&n, F_SEAL_FUTURE_WRITE, || true).unwrap();
    assert_eq!(f.pwrite(b"x", 0), Err(Errno::EPERM));
    // The storage underneath (what a mapping's write-back uses) is not sealed.
    assert_eq!(storage(&n).write_at(0, b"Z"), Ok(1));
    add_seals(&n, F_SEAL_WRITE, || false).unwrap();
    add_seals(&n, F_SEAL_SEAL, || false).unwrap();
    assert_eq!(add_seals(&n, F_SEAL_GROW, || false), Err(Errno::EPERM));
    assert_eq!(seals_of(&n), Some(F_SEAL_FUTURE_WRITE | F_SEAL_WRITE | F_SEAL_SEAL));
}

#[test]
fn the_exec_seal_on_an_executable_memfd_seals_everything_else() {
    let (_f, n) = memfd(MFD_ALLOW_SEALING);
    add_seals(&n, F_SEAL_EXEC, || false).unwrap();
    assert_eq!(seals_of(&n), Some(F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
}

#[test]
fn tmpfs_files_report_a_sealed_seal_and_other_nodes_none() {
    let fs = TmpFs::new(clock());
    let file = fs.root().create(b"f", FileKind::Regular, 0o644, 0).unwrap();
    assert_eq!(seals_of(&file), Some(F_SEAL_SEAL));
    assert_eq!(add_seals(&file, F_SEAL_WRITE, || false), Err(Errno::EPERM));
    let dir = fs.root().create(b"d", FileKind::Directory, 0o755, 0).unwrap();
    assert_eq!(seals_of(&dir), None);
    assert_eq!(add_seals(&dir, F_SEAL_WRITE, || false), Err(Errno::EINVAL));
}
