//! tmpfs itself: file contents against a model, space and inode limits, the inode
//! interface used directly, and the trait defaults a minimal filesystem inherits.

use alloc::sync::Arc;

use super::super::inode::{DirEntry, Metadata};
use super::super::tmpfs::TmpfsLimits;
use super::*;
use crate::testing::XorShift;

const P: u64 = 4096;

#[test]
fn file_contents_match_a_model_under_random_writes_and_truncates() {
    let (clock, _time) = test_clock();
    let fs = TmpFs::new(clock);
    let file = fs.root().create(b"f", FileKind::Regular, 0o644, 0).unwrap();
    let mut model: Vec<u8> = Vec::new();
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    for step in 0..3000 {
        match rng.below(10) {
            0..=4 => {
                // Writes of every size, often across pages, sometimes far out.
                let off = if rng.below(8) == 0 { rng.below(20 * P) } else { rng.below(model.len() as u64 + 100) };
                let max_len = if rng.below(4) == 0 { 3 * P } else { 300 };
                let len = rng.below(max_len) as usize;
                let data: Vec<u8> = (0..len).map(|_| rng.next() as u8 | 1).collect();
                assert_eq!(file.write_at(off, &data), Ok(len));
                if len > 0 {
                    let end = off as usize + len;
                    if model.len() < end {
                        model.resize(end, 0);
                    }
                    model[off as usize..end].copy_from_slice(&data);
                }
            }
            5 => {
                let len = rng.below(model.len() as u64 + 2 * P) as usize;
                file.truncate(len as u64).unwrap();
                model.resize(len, 0);
            }
            6 => {
                // Append.
                let data = [step as u8; 17];
                let (n, end) = file.append(&data).unwrap();
                model.extend_from_slice(&data);
                assert_eq!((n, end), (17, model.len() as u64));
            }
            _ => {
                let off = rng.below(model.len() as u64 + 50);
                let mut buf = vec![0xeeu8; rng.below(2 * P) as usize];
                let n = file.read_at(off, &mut buf).unwrap();
                let want = model.get(off as usize..).map_or(&[][..], |rest| &rest[..rest.len().min(buf.len())]);
                assert_eq!(&buf[..n], want, "step {step}: read at {off}");
            }
        }
        let md = file.metadata().unwrap();
        assert_eq!(md.size, model.len() as u64);
        assert!(md.blocks * 512 <= md.size.div_ceil(P) * P, "no page beyond the end");
    }
    // Holes reported by SEEK_HOLE read as zeros up to the next data.
    let mut off = 0;
    while let Ok(hole) = file.seek_data(off, true) {
        let data = file.seek_data(hole, false).unwrap_or(model.len() as u64);
        assert!(model[hole as usize..data as usize].iter().all(|&b| b == 0));
        if data >= model.len() as u64 {
            break;
        }
        off = data;
    }
    drop(file);
    fs.root().unlink(b"f").unwrap();
    assert_eq!(fs.used_bytes(), 0, "the pages go with the last reference");
}

#[test]
fn a_full_tmpfs_is_enospc_and_frees_space_on_last_close() {
    let (clock, _time) = test_clock();
    let fs = TmpFs::with_limits(clock.clone(), TmpfsLimits { max_bytes: Some(3 * P), max_inodes: None });
    let vfs = Vfs::new(fs.clone(), MountFlags::default(), b"small", clock);
    let f = OpenFile::new(vfs.open(CWD, b"/f", O_CREAT | O_RDWR, 0o644).unwrap(), O_RDWR);
    let big = vec![1u8; 5 * P as usize];
    assert_eq!(f.write(&big), Ok(3 * P as usize), "a short write fills the last page");
    assert_eq!(err(f.write(b"x")), Errno::ENOSPC);
    // Rewriting existing pages needs no space.
    assert_eq!(f.file.pwrite(b"again", 0), Ok(5));
    let sf = vfs.statfs(CWD, b"/").unwrap();
    assert_eq!((sf.f_blocks, sf.f_bfree, sf.f_bavail), (3, 0, 0));
    // Unlinked but open: still counted. Closed: freed.
    vfs.unlink(CWD, b"/f").unwrap();
    assert_eq!(fs.used_bytes(), 3 * P);
    drop(f);
    assert_eq!(fs.used_bytes(), 0);
    assert_eq!(vfs.statfs(CWD, b"/").unwrap().f_bfree, 3);
    // Truncating gives pages back too.
    let g = OpenFile::new(vfs.open(CWD, b"/g", O_CREAT | O_RDWR, 0o644).unwrap(), O_RDWR);
    g.write(&big[..2 * P as usize]).unwrap();
    vfs.truncate(CWD, b"/g", 10).unwrap();
    assert_eq!(fs.used_bytes(), P);
}

#[test]
fn the_inode_limit_is_enospc() {
    let (clock, _time) = test_clock();
    let fs = TmpFs::with_limits(clock.clone(), TmpfsLimits { max_bytes: None, max_inodes: Some(3) });
    let vfs = Vfs::new(fs.clone(), MountFlags::default(), b"", clock);
    vfs.mkdir(CWD, b"/a", 0o755).unwrap();
    vfs.symlink(b"a", CWD, b"/b").unwrap();
    assert_eq!(err(vfs.mkdir(CWD, b"/c", 0o755)), Errno::ENOSPC);
    assert_eq!(err(vfs.open(CWD, b"/c", O_CREAT | O_WRONLY, 0o644)), Errno::ENOSPC);
    let sf = vfs.statfs(CWD, b"/").unwrap();
    assert_eq!((sf.f_files, sf.f_ffree), (3, 0));
    vfs.unlink(CWD, b"/b").unwrap();
    vfs.mkdir(CWD, b"/c", 0o755).unwrap();
    assert_eq!(fs.inode_count(), 3);
}

#[test]
fn nodes_of_another_tmpfs_are_exdev() {
    let (clock, _time) = test_clock();
    let one = TmpFs::new(clock.clone());
    let two = TmpFs::new(clock);
    let f = one.root().create(b"f", FileKind::Regular, 0o644, 0).unwrap();
    assert_eq!(err(two.root().link(b"f", &f)), Errno::EXDEV);
    assert_eq!(err(one.root().rename(b"f", &two.root(), b"g", 0)), Errno::EXDEV);
    // Not a directory: ENOTDIR.
    assert_eq!(err(one.root().rename(b"f", &f, b"g", 0)), Errno::ENOTDIR);
    assert_eq!(err(f.lookup(b"x")), Errno::ENOTDIR);
    assert_eq!(err(f.create(b"x", FileKind::Regular, 0o644, 0)), Errno::ENOTDIR);
    // Symlinks are made by `symlink`, not `create`.
    assert_eq!(err(one.root().create(b"l", FileKind::Symlink, 0o777, 0)), Errno::EINVAL);
}

#[test]
fn the_root_is_its_own_parent_and_sticky() {
    let (clock, _time) = test_clock();
    let fs = TmpFs::new(clock);
    let md = fs.root().metadata().unwrap();
    assert_eq!((md.kind, md.mode, md.nlink, md.ino), (FileKind::Directory, 0o1777, 2, 1));
    let mut names = Vec::new();
    fs.root()
        .read_dir(0, &mut |e| {
            names.push((e.name.to_vec(), e.ino));
            true
        })
        .unwrap();
    assert_eq!(names, [(b".".to_vec(), 1), (b"..".to_vec(), 1)]);
    assert_eq!(fs.fs_type(), "tmpfs");
}

/// A filesystem node that implements only the two required methods.
struct Bare(FileKind);

impl Inode for Bare {
    fn kind(&self) -> FileKind {
        self.0
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        Ok(Metadata {
            kind: self.0,
            mode: 0o644,
            nlink: 1,
            ino: 7,
            dev: 1,
            rdev: 0,
            size: 10,
            blksize: 4096,
            blocks: 0,
            uid: 0,
            gid: 0,
            atime: Timespec::ZERO,
            mtime: Timespec::ZERO,
            ctime: Timespec::ZERO,
        })
    }
}

#[test]
fn trait_defaults_give_linux_errnos() {
    let file: Arc<dyn Inode> = Arc::new(Bare(FileKind::Regular));
    let dir: Arc<dyn Inode> = Arc::new(Bare(FileKind::Directory));
    let fifo: Arc<dyn Inode> = Arc::new(Bare(FileKind::Fifo));
    let mut buf = [0u8; 4];
    let mut sink = |_: DirEntry<'_>| true;
    // Directory operations on a non-directory: ENOTDIR.
    assert_eq!(err(file.lookup(b"x")), Errno::ENOTDIR);
    assert_eq!(err(file.create(b"x", FileKind::Regular, 0, 0)), Errno::ENOTDIR);
    assert_eq!(err(file.unlink(b"x")), Errno::ENOTDIR);
    assert_eq!(err(file.rmdir(b"x")), Errno::ENOTDIR);
    assert_eq!(err(file.symlink(b"x", b"t")), Errno::ENOTDIR);
    assert_eq!(err(file.read_dir(0, &mut sink)), Errno::ENOTDIR);
    assert_eq!(err(file.rename(b"x", &dir, b"y", 0)), Errno::ENOTDIR);
    // A directory of a filesystem without the operation: what Linux's VFS says.
    assert_eq!(err(dir.lookup(b"x")), Errno::ENOENT);
    assert_eq!(err(dir.create(b"x", FileKind::Regular, 0, 0)), Errno::EACCES);
    assert_eq!(err(dir.create(b"x", FileKind::Directory, 0, 0)), Errno::EPERM);
    assert_eq!(err(dir.symlink(b"x", b"t")), Errno::EPERM, "vfat");
    assert_eq!(err(dir.link(b"x", &file)), Errno::EPERM);
    assert_eq!(err(dir.unlink(b"x")), Errno::EPERM);
    assert_eq!(err(dir.rename(b"x", &dir, b"y", 0)), Errno::EPERM);
    assert_eq!(dir.read_dir(0, &mut sink), Ok(()));
    // Data operations.
    assert_eq!(err(dir.read_at(0, &mut buf)), Errno::EISDIR);
    assert_eq!(err(dir.write_at(0, &buf)), Errno::EISDIR);
    assert_eq!(err(dir.truncate(0)), Errno::EISDIR);
    assert_eq!(err(file.read_at(0, &mut buf)), Errno::EINVAL);
    assert_eq!(err(file.truncate(0)), Errno::EPERM);
    assert_eq!(err(fifo.truncate(0)), Errno::EINVAL);
    assert_eq!(err(file.readlink()), Errno::EINVAL);
    assert_eq!(err(dir.readlink()), Errno::EINVAL);
    // SEEK_DATA/HOLE without hole tracking: all data, one hole at the end.
    assert_eq!(file.seek_data(3, false), Ok(3));
    assert_eq!(file.seek_data(3, true), Ok(10));
    assert_eq!(err(file.seek_data(10, false)), Errno::ENXIO);
    assert_eq!(err(file.set_mode(0)), Errno::EPERM);
    assert_eq!(err(file.set_times(None, None)), Errno::EPERM);
    assert_eq!(err(file.set_owner(None, None)), Errno::EPERM);
    assert_eq!(file.sync(), Ok(()));
}

#[test]
fn a_minimal_filesystem_mounts_and_answers() {
    struct BareFs;
    impl FileSystem for BareFs {
        fn root(&self) -> Arc<dyn Inode> {
            Arc::new(Bare(FileKind::Directory))
        }
        fn fs_type(&self) -> &'static str {
            "bare"
        }
        fn statfs(&self) -> Result<Statfs, Errno> {
            Ok(Statfs { f_type: 0x42, ..Statfs::default() })
        }
    }
    let fx = Fx::new();
    fx.vfs.mount(b"/bare", Arc::new(BareFs), MountFlags::default(), b"bare").unwrap();
    assert_eq!(fx.names("/bare"), Vec::<alloc::string::String>::new());
    assert_eq!(err(fx.stat("/bare/x")), Errno::ENOENT);
    assert_eq!(err(fx.open("/bare/x", O_CREAT | O_WRONLY)), Errno::EACCES);
    assert_eq!(err(fx.vfs.mkdir(CWD, b"/bare/x", 0o755)), Errno::EPERM);
    assert_eq!(err(fx.vfs.symlink(b"t", CWD, b"/bare/x")), Errno::EPERM);
    assert_eq!(err(fx.vfs.chmod(CWD, b"/bare", 0o700, true)), Errno::EPERM);
    assert_eq!(fx.vfs.statfs(CWD, b"/bare").unwrap().f_type, 0x42);
    assert_eq!(fx.vfs.mounts()[2].fs_type, "bare");
}
