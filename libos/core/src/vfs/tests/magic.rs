//! Magic links: symlinks whose [`Inode::jump_target`] names an object the walk moves to
//! (what procfs's `/proc/self/fd/N` and `/proc/self/cwd` are), tried on a tiny
//! filesystem whose root holds one magic link `to`, one that fails (`broken`) and an
//! ordinary symlink `text`.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::*;
use crate::abi::mode::{S_IFDIR, S_IFLNK, S_IFMT};
use crate::abi::Timespec;
use crate::vfs::inode::{emit_dots, magic, DirEntry};
use crate::vfs::path::Walker;

/// The text `readlink` shows for every magic link here: a path that does not exist,
/// so a test that reaches the object proves the text was not used.
const SHOWN: &[u8] = b"/nowhere";

struct MagicFs {
    root: Arc<MagicDir>,
}

struct MagicDir {
    to: Arc<MagicLink>,
    broken: Arc<MagicLink>,
    text: Arc<MagicLink>,
}

enum LinkBehaviour {
    /// Jumps to the dentry set by the test.
    Jump(spin::Mutex<Option<Arc<Dentry>>>),
    /// The object is gone.
    Fails,
    /// An ordinary symlink to `/tmp`.
    Text,
}

struct MagicLink {
    ino: u64,
    behaviour: LinkBehaviour,
}

fn meta(kind: FileKind, ino: u64) -> Metadata {
    Metadata {
        kind,
        mode: 0o777,
        nlink: 1,
        ino,
        dev: 99,
        rdev: 0,
        size: 0,
        blksize: 4096,
        blocks: 0,
        uid: 0,
        gid: 0,
        atime: Timespec::ZERO,
        mtime: Timespec::ZERO,
        ctime: Timespec::ZERO,
    }
}

impl FileSystem for MagicFs {
    fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }
    fn fs_type(&self) -> &'static str {
        "magic"
    }
    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(Statfs { f_type: magic::PROC_SUPER_MAGIC, ..Statfs::default() })
    }
}

impl Inode for MagicDir {
    fn kind(&self) -> FileKind {
        FileKind::Directory
    }
    fn metadata(&self) -> Result<Metadata, Errno> {
        Ok(meta(FileKind::Directory, 1))
    }
    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        match name {
            b"to" => Ok(self.to.clone()),
            b"broken" => Ok(self.broken.clone()),
            b"text" => Ok(self.text.clone()),
            _ => Err(Errno::ENOENT),
        }
    }
    fn read_dir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> Result<(), Errno> {
        emit_dots(offset, 1, 1, sink);
        Ok(())
    }
}

impl Inode for MagicLink {
    fn kind(&self) -> FileKind {
        FileKind::Symlink
    }
    fn metadata(&self) -> Result<Metadata, Errno> {
        Ok(meta(FileKind::Symlink, self.ino))
    }
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        Ok(match self.behaviour {
            LinkBehaviour::Text => b"/tmp".to_vec(),
            _ => SHOWN.to_vec(),
        })
    }
    fn jump_target(&self, _link: &Arc<Dentry>) -> Result<Option<Arc<Dentry>>, Errno> {
        match &self.behaviour {
            LinkBehaviour::Jump(target) => Ok(Some(target.lock().clone().expect("the test set a target"))),
            LinkBehaviour::Fails => Err(Errno::ENOENT),
            LinkBehaviour::Text => Ok(None),
        }
    }
}

impl MagicFs {
    /// Points `to` at `target`.
    fn point_at(&self, target: Arc<Dentry>) {
        let LinkBehaviour::Jump(slot) = &self.root.to.behaviour else { unreachable!("`to` jumps") };
        *slot.lock() = Some(target);
    }
}

/// The fixture with the magic filesystem at `/magic`.
fn magic_fx() -> (Fx, Arc<MagicFs>) {
    let fx = Fx::new();
    let link = |ino, behaviour| Arc::new(MagicLink { ino, behaviour });
    let fs = Arc::new(MagicFs {
        root: Arc::new(MagicDir {
            to: link(2, LinkBehaviour::Jump(spin::Mutex::new(None))),
            broken: link(3, LinkBehaviour::Fails),
            text: link(4, LinkBehaviour::Text),
        }),
    });
    fx.vfs.mount(b"/magic", fs.clone(), MountFlags::default(), b"magic").unwrap();
    (fx, fs)
}

#[test]
fn a_magic_link_to_a_directory_is_walked_through() {
    let (fx, fs) = magic_fx();
    fx.write_file("/tmp/f", b"data");
    fs.point_at(fx.lookup("/tmp"));
    // stat follows to the directory, lstat sees the link, readlink shows the text.
    assert_eq!(fx.node("/magic/to"), fx.node("/tmp"));
    assert_eq!(fx.lstat("/magic/to").unwrap().st_mode & S_IFMT, S_IFLNK);
    assert_eq!(fx.vfs.readlink(CWD, b"/magic/to").unwrap(), SHOWN);
    // Walking through it, and `..` from there climbs the object's own parents.
    assert_eq!(fx.read_file("/magic/to/f"), b"data");
    assert_eq!(fx.node("/magic/to/.."), fx.node("/"));
    assert_eq!(fx.node("/magic/to/"), fx.node("/tmp"));
    assert_eq!(fx.names("/magic/to"), ["f"]);
    fx.vfs.chdir(CWD, b"/magic/to").unwrap();
    assert_eq!(fx.vfs.getcwd().unwrap(), b"/tmp");
}

#[test]
fn the_object_is_reached_after_its_name_is_gone() {
    let (fx, fs) = magic_fx();
    fx.write_file("/tmp/f", b"kept");
    let target = fx.lookup("/tmp/f");
    fs.point_at(target.clone());
    fx.vfs.rename(CWD, b"/tmp/f", CWD, b"/tmp/g", 0).unwrap();
    fx.vfs.unlink(CWD, b"/tmp/g").unwrap();
    let st = fx.stat("/magic/to").unwrap();
    assert_eq!(st.st_ino, target.inode().metadata().unwrap().ino);
    assert_eq!(st.st_nlink, 0);
    assert_eq!(fx.read_file("/magic/to"), b"kept");
}

#[test]
fn a_non_directory_object_ends_the_walk() {
    let (fx, fs) = magic_fx();
    fx.write_file("/tmp/f", b"x");
    fs.point_at(fx.lookup("/tmp/f"));
    assert_eq!(err(fx.stat("/magic/to/")), Errno::ENOTDIR);
    assert_eq!(err(fx.stat("/magic/to/x")), Errno::ENOTDIR);
    assert_eq!(err(fx.stat("/magic/to/.")), Errno::ENOTDIR);
    assert_eq!(err(fx.vfs.chdir(CWD, b"/magic/to")), Errno::ENOTDIR);
}

#[test]
fn open_with_o_creat_opens_the_object_and_never_creates() {
    let (fx, fs) = magic_fx();
    fx.write_file("/tmp/f", b"old");
    fs.point_at(fx.lookup("/tmp/f"));
    let f = fx.open("/magic/to", O_WRONLY | O_CREAT | O_TRUNC).unwrap();
    assert_eq!(f.write(b"new"), Ok(3));
    assert_eq!(fx.read_file("/tmp/f"), b"new");
    assert_eq!(err(fx.open("/magic/to", O_WRONLY | O_CREAT | O_EXCL)), Errno::EEXIST);
    assert_eq!(err(fx.open("/magic/to", O_RDONLY | O_NOFOLLOW)), Errno::ELOOP);
    fs.point_at(fx.lookup("/tmp"));
    assert_eq!(err(fx.open("/magic/to", O_WRONLY | O_CREAT)), Errno::EISDIR);
    assert_eq!(fx.names("/magic"), alloc::vec::Vec::<alloc::string::String>::new());
}

#[test]
fn o_path_nofollow_names_the_link_itself() {
    let (fx, fs) = magic_fx();
    fs.point_at(fx.lookup("/tmp"));
    let f = fx.vfs.open(CWD, b"/magic/to", O_PATH | O_NOFOLLOW, 0).unwrap();
    assert_eq!(f.stat().unwrap().st_mode & S_IFMT, S_IFLNK);
    let f = fx.vfs.open(CWD, b"/magic/to", O_PATH, 0).unwrap();
    assert_eq!(f.stat().unwrap().st_mode & S_IFMT, S_IFDIR);
}

#[test]
fn a_failing_magic_link_fails_the_walk() {
    let (fx, _fs) = magic_fx();
    assert_eq!(err(fx.stat("/magic/broken")), Errno::ENOENT);
    assert_eq!(err(fx.stat("/magic/broken/x")), Errno::ENOENT);
    assert_eq!(err(fx.open("/magic/broken", O_RDONLY)), Errno::ENOENT);
    // Not following it (lstat, readlink) never asks for the object.
    assert!(fx.lstat("/magic/broken").is_ok());
    assert_eq!(fx.vfs.readlink(CWD, b"/magic/broken").unwrap(), SHOWN);
}

#[test]
fn an_ordinary_symlink_on_the_same_filesystem_is_resolved_as_text() {
    let (fx, _fs) = magic_fx();
    assert_eq!(fx.node("/magic/text"), fx.node("/tmp"));
}

#[test]
fn a_magic_link_counts_against_the_symlink_budget() {
    let (fx, fs) = magic_fx();
    fs.point_at(fx.lookup("/tmp"));
    let mut walker = Walker::new(fx.vfs.root());
    walker.resolve(&fx.vfs.root(), b"/magic/to", true).unwrap();
    assert_eq!(walker.links_followed(), 1);
    // A chain of 39 ordinary links ending in the magic one is fine; 40 then a magic
    // link is one too many.
    fx.symlink("/magic/to", "/l0");
    for i in 1..40 {
        fx.symlink(&alloc::format!("/l{}", i - 1), &alloc::format!("/l{i}"));
    }
    assert_eq!(fx.node("/l38"), fx.node("/tmp"));
    assert_eq!(err(fx.stat("/l39")), Errno::ELOOP);
}
