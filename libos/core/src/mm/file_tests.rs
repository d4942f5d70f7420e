//! File mappings: what the VMAs record, and the coherence of shared mappings with the
//! file's reads and writes, on the fake platform (whose memory objects are byte
//! vectors: a "guest write through the mapping" is a write into the object).

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::file::OpenFile;
use crate::testing::{kernel_on, FakePlatform, Op};
use crate::vfs::oflags::{O_CREAT, O_RDWR};
use crate::vfs::{At, Dentry};
use crate::Kernel;

const P: u64 = PAGE_SIZE;
const A: u64 = 0x4000_0000;
const RW: u32 = 3;
const R: u32 = 1;
const SHARED_FIXED: u32 = MapFlags::SHARED | MapFlags::FIXED;
const PRIVATE_FIXED: u32 = MapFlags::PRIVATE | MapFlags::FIXED;

struct Fx {
    p: &'static FakePlatform,
    k: Kernel,
}

impl Fx {
    fn new() -> Fx {
        let (p, k) = kernel_on(FakePlatform::new());
        Fx { p, k }
    }

    /// Opens (creating) `path` read-write, with `data` in it.
    fn file(&self, path: &str, data: &[u8]) -> Arc<OpenFile> {
        let f = self.k.vfs.open(&At::Cwd, path.as_bytes(), O_CREAT | O_RDWR, 0o644).unwrap();
        let open = OpenFile::new(f, O_RDWR);
        open.file.pwrite(data, 0).unwrap();
        open
    }

    fn map(&self, open: &OpenFile, addr: u64, len: u64, prot: u32, flags: u32, offset: u64) -> Result<u64, Errno> {
        let src = FileSource { dentry: dentry(open), offset, may_write: true };
        self.k.mm.write().mmap_file(self.p, addr, len, prot, MapFlags(flags), src)
    }

    /// The memory object behind the shared mapping at `addr` (from the platform calls).
    fn object_at(&self, addr: u64) -> u64 {
        let ops = self.p.ops();
        ops.iter()
            .rev()
            .find_map(|op| match *op {
                Op::ShmMap { id, addr: a, len, .. } if (a..a + len).contains(&addr) => Some(id),
                _ => None,
            })
            .expect("mapped through a memory object")
    }

    fn object(&self, id: u64) -> Vec<u8> {
        self.p.shm.lock().get(&id).cloned().unwrap_or_default()
    }

    /// A guest store through the mapping.
    fn poke(&self, id: u64, offset: u64, data: &[u8]) {
        self.p.shm_write_for_test(id, offset, data);
    }
}

fn dentry(open: &OpenFile) -> Arc<Dentry> {
    open.file.dentry().unwrap()
}

fn read_all(open: &OpenFile) -> Vec<u8> {
    let mut buf = vec![0u8; 64];
    let n = open.file.pread(&mut buf, 0).unwrap();
    buf.truncate(n);
    buf
}

impl FakePlatform {
    fn shm_write_for_test(&self, id: u64, offset: u64, data: &[u8]) {
        use crate::platform::Platform;
        self.shm_write(id, offset, data).unwrap();
    }
}

#[test]
fn a_private_mapping_is_a_copy_of_the_mapped_part() {
    let fx = Fx::new();
    let f = fx.file("/f", b"0123456789");
    assert_eq!(fx.map(&f, A, 2 * P, RW, PRIVATE_FIXED, 0), Ok(A));
    let id = match fx.p.ops().last() {
        Some(&Op::ShmMap { id, offset: 0, addr: A, len, shared: false, .. }) if len == 2 * P => id,
        other => panic!("{other:?}"),
    };
    // The object was released at once: the mapping keeps its pages.
    assert!(fx.object(id).is_empty());
    let vma = fx.k.mm.read().vmas().next().cloned().unwrap();
    let VmaKind::File(fm) = &vma.kind else { panic!("{vma:?}") };
    assert!(!fm.is_shared());
    assert_eq!(fm.offset_at(A + 5), 5);
    assert!(Arc::ptr_eq(fm.dentry(), &dentry(&f)));
}

#[test]
fn shared_mappings_of_one_file_share_one_object_that_follows_writes() {
    let fx = Fx::new();
    let f = fx.file("/f", b"hello");
    fx.map(&f, A, P, RW, SHARED_FIXED, 0).unwrap();
    let id = fx.object_at(A);
    fx.map(&f, A + 4 * P, P, R, SHARED_FIXED, 0).unwrap();
    assert_eq!(fx.object_at(A + 4 * P), id);
    assert_eq!(&fx.object(id)[..6], b"hello\0");
    assert_eq!(fx.object(id).len() as u64, P);
    // write() reaches the mappings.
    f.file.pwrite(b"J", 0).unwrap();
    assert_eq!(&fx.object(id)[..5], b"Jello");
    // The guest's stores are what read() returns, before any msync.
    fx.poke(id, 1, b"EE");
    assert_eq!(read_all(&f), b"JEElo");
}

#[test]
fn size_changes_resize_the_object_and_clear_the_old_tail() {
    let fx = Fx::new();
    let f = fx.file("/f", b"abcdef");
    fx.map(&f, A, 3 * P, RW, SHARED_FIXED, 0).unwrap();
    let id = fx.object_at(A);
    // The guest scribbles past the end of the file, inside the last page.
    fx.poke(id, 10, b"junk");
    f.file.pwrite(b"Z", P + 1).unwrap();
    let obj = fx.object(id);
    assert_eq!(obj.len() as u64, 2 * P);
    assert_eq!(&obj[6..14], &[0u8; 8], "the old tail reads zeros once the file grows over it");
    assert_eq!(obj[P as usize + 1], b'Z');
    let d = dentry(&f);
    fx.k.vfs.truncate_dentry(&d, 3).unwrap();
    let obj = fx.object(id);
    assert_eq!(obj.len() as u64, P);
    assert_eq!(&obj[..6], b"abc\0\0\0");
}

#[test]
fn the_node_catches_up_on_msync_and_when_the_last_mapping_goes() {
    let fx = Fx::new();
    let f = fx.file("/f", b"abcdef");
    let inode = dentry(&f).inode().clone();
    fx.map(&f, A, P, RW, SHARED_FIXED, 0).unwrap();
    let id = fx.object_at(A);
    fx.poke(id, 0, b"X");
    let mut raw = [0u8; 6];
    inode.read_at(0, &mut raw).unwrap();
    assert_eq!(&raw, b"abcdef", "the node lags until a write-back");
    assert_eq!(fx.k.mm.read().msync(A, P, msync_flags::MS_ASYNC), Ok(()));
    inode.read_at(0, &mut raw).unwrap();
    assert_eq!(&raw, b"abcdef", "MS_ASYNC has nothing to do");
    assert_eq!(fx.k.mm.read().msync(A, P, msync_flags::MS_SYNC), Ok(()));
    inode.read_at(0, &mut raw).unwrap();
    assert_eq!(&raw, b"Xbcdef");
    fx.poke(id, 1, b"Y");
    fx.k.mm.write().munmap(fx.p, A, P).unwrap();
    inode.read_at(0, &mut raw).unwrap();
    assert_eq!(&raw, b"XYcdef");
    assert!(fx.object(id).is_empty(), "released with the last mapping");
}

#[test]
fn splitting_and_moving_keep_file_offsets() {
    let fx = Fx::new();
    let f = fx.file("/f", &[7u8; 4 * P as usize]);
    fx.map(&f, A, 4 * P, RW, SHARED_FIXED, 0).unwrap();
    fx.k.mm.write().mprotect(fx.p, A + P, P, R).unwrap();
    let offsets: Vec<(u64, u64)> =
        fx.k.mm
            .read()
            .vmas()
            .map(|v| match &v.kind {
                VmaKind::File(fm) => (v.start, fm.offset_at(v.start)),
                k => panic!("{k:?}"),
            })
            .collect();
    assert_eq!(offsets, vec![(A, 0), (A + P, P), (A + 2 * P, 2 * P)]);
    // Restoring the protection merges the pieces back: same file, contiguous offsets.
    fx.k.mm.write().mprotect(fx.p, A + P, P, RW).unwrap();
    assert_eq!(fx.k.mm.read().vmas().count(), 1);
    let id = fx.object_at(A);
    // Growing in place maps the next pages of the file after the old end.
    assert_eq!(fx.k.mm.write().mremap(fx.p, A, 4 * P, 5 * P, MremapFlags(0), 0), Ok(A));
    assert_eq!(
        fx.p.ops().last(),
        Some(&Op::ShmMap { id, offset: 4 * P, addr: A + 4 * P, len: P, prot: Prot::RW, shared: true })
    );
    // Moving maps the object again at the new place, at the same file offsets.
    let anon = MapFlags(MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED);
    fx.k.mm.write().mmap_anonymous(fx.p, A + 5 * P, P, RW, anon).unwrap();
    let new = fx.k.mm.write().mremap(fx.p, A + 2 * P, 3 * P, 4 * P, MremapFlags(MremapFlags::MAYMOVE), 0).unwrap();
    assert_ne!(new, A + 2 * P);
    match fx.p.ops().last() {
        Some(&Op::Unmap { addr, len }) => assert_eq!((addr, len), (A + 2 * P, 3 * P)),
        other => panic!("{other:?}"),
    }
    let moved = fx.p.ops().into_iter().rev().find_map(|op| match op {
        Op::ShmMap { id: i, offset, addr, len, shared: true, .. } if addr == new => Some((i, offset, len)),
        _ => None,
    });
    assert_eq!(moved, Some((id, 2 * P, 4 * P)));
}

#[test]
fn a_shared_mapping_that_may_not_write_stays_read_only() {
    let fx = Fx::new();
    let f = fx.file("/f", b"x");
    let src = FileSource { dentry: dentry(&f), offset: 0, may_write: false };
    fx.k.mm.write().mmap_file(fx.p, A, P, R, MapFlags(SHARED_FIXED), src).unwrap();
    assert_eq!(fx.k.mm.write().mprotect(fx.p, A, P, RW), Err(Errno::EACCES));
    // A private mapping may always become writable (copy-on-write).
    fx.map(&f, A + P, P, R, PRIVATE_FIXED, 0).unwrap();
    assert_eq!(fx.k.mm.write().mprotect(fx.p, A + P, P, RW), Ok(()));
}

#[test]
fn mmap_file_argument_errors() {
    let fx = Fx::new();
    let f = fx.file("/f", b"x");
    assert_eq!(fx.map(&f, 0, 0, R, MapFlags::PRIVATE, 0), Err(Errno::EINVAL));
    assert_eq!(fx.map(&f, 0, u64::MAX, R, MapFlags::PRIVATE, 0), Err(Errno::ENOMEM));
    assert_eq!(fx.map(&f, 0, P, R, MapFlags::PRIVATE, i64::MAX as u64 & !(P - 1)), Err(Errno::EOVERFLOW));
}

#[test]
fn msync_argument_errors() {
    let fx = Fx::new();
    let mm = fx.k.mm.read();
    assert_eq!(mm.msync(A + 1, P, 0), Err(Errno::EINVAL));
    assert_eq!(mm.msync(A, P, 8), Err(Errno::EINVAL));
    assert_eq!(mm.msync(A, P, msync_flags::MS_SYNC | msync_flags::MS_ASYNC), Err(Errno::EINVAL));
    assert_eq!(mm.msync(A, 0, msync_flags::MS_SYNC), Ok(()));
    assert_eq!(mm.msync(A, P, msync_flags::MS_SYNC), Err(Errno::ENOMEM));
    assert_eq!(mm.msync(A, u64::MAX, 0), Err(Errno::ENOMEM));
}
