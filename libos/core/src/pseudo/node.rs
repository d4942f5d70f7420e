//! The nodes every pseudo-filesystem is made of.
//!
//! A pseudo-filesystem has no storage: its directories list what exists right now (the
//! open fds, the CPUs) and its files are text generated from the kernel's state. Four
//! kinds of node cover `/dev`, `/proc`, `/sys` and the cgroup root:
//!
//! - [`Dir`]: a directory whose entries come from a [`Listing`], asked afresh at every
//!   lookup and listing, so entries come and go with the state they describe.
//! - [`GenFile`]: a regular file whose bytes a [`Content`] generates when it is opened.
//!   The open file ([`SnapshotFile`]) keeps that snapshot, as Linux's `seq_file` does for
//!   small files, so a reader that reads in pieces sees one consistent text. Writes, for
//!   the few files that take them (`/proc/self/comm`), go to the content one `write` at
//!   a time; opening any other file for writing is EACCES.
//! - [`Link`]: a symlink whose text may be computed (`/proc/self` → the pid).
//! - device nodes and magic links, defined by the filesystems that have them.
//!
//! Nodes are built on demand and thrown away; what makes two of them the same node is
//! the inode number, which [`ino_of`] derives from the node's path inside its
//! filesystem, so the dentry cache recognises a node however often it is rebuilt.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::abi::{Stat, Timespec};
use crate::file::File;
use crate::vfs::file::whence::{SEEK_CUR, SEEK_SET};
use crate::vfs::inode::{emit_dots, DirEntry, FileKind, FileSystem, Inode, Metadata, Statfs};
use crate::vfs::{Dentry, NAME_MAX};
use crate::{Errno, SysResult};

/// The inode number of the node at `path` (relative to its filesystem's root, which is
/// `b""` and gets 1): a 64-bit FNV-1a hash, stable for as long as the path names the
/// node.
pub(crate) fn ino_of(path: &[u8]) -> u64 {
    if path.is_empty() {
        return 1;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in path {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // 0 is "no inode" to readdir users and 1 is the root.
    if h < 2 {
        h + 2
    } else {
        h
    }
}

/// What every node of one pseudo-filesystem shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Superblock {
    pub dev: u64,
    /// The time every node reports (when the filesystem was mounted).
    pub time: Timespec,
    pub blksize: u32,
    /// What `stat` says a generated file's size is: 0 in procfs, 4096 in sysfs.
    pub file_size: u64,
}

impl Superblock {
    /// The attributes of the node at `path` with permission bits `mode`, owned by root.
    pub fn attr(&self, path: &[u8], mode: u32) -> Attr {
        Attr {
            dev: self.dev,
            ino: ino_of(path),
            mode,
            uid: 0,
            gid: 0,
            size: 0,
            rdev: 0,
            blksize: self.blksize,
            time: self.time,
        }
    }

    /// The same for a generated file: its size is the filesystem's file size.
    pub fn file_attr(&self, path: &[u8], mode: u32) -> Attr {
        Attr { size: self.file_size, ..self.attr(path, mode) }
    }
}

/// What `stat` reports about one pseudo node, except its kind and link count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attr {
    pub dev: u64,
    pub ino: u64,
    /// Permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub rdev: u64,
    pub blksize: u32,
    pub time: Timespec,
}

impl Attr {
    /// The same attributes owned by `uid`/`gid`.
    pub fn owned_by(self, uid: u32, gid: u32) -> Attr {
        Attr { uid, gid, ..self }
    }

    pub fn metadata(&self, kind: FileKind, nlink: u64) -> Metadata {
        Metadata {
            kind,
            mode: self.mode,
            nlink,
            ino: self.ino,
            dev: self.dev,
            rdev: self.rdev,
            size: self.size,
            blksize: self.blksize,
            blocks: 0,
            uid: self.uid,
            gid: self.gid,
            atime: self.time,
            mtime: self.time,
            ctime: self.time,
        }
    }
}

/// A filesystem made of pseudo nodes: its root, the name the mount table gives it and
/// the magic number `statfs` reports.
pub(crate) struct PseudoFs {
    pub root: Arc<dyn Inode>,
    pub fs_type: &'static str,
    pub magic: i64,
}

impl FileSystem for PseudoFs {
    fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }

    fn fs_type(&self) -> &'static str {
        self.fs_type
    }

    /// Linux's pseudo-filesystems report no blocks and no inodes, only the magic.
    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(Statfs {
            f_type: self.magic,
            f_bsize: 4096,
            f_namelen: NAME_MAX as i64,
            f_frsize: 4096,
            ..Statfs::default()
        })
    }
}

// ---------------------------------------------------------------- directories

/// One entry of a [`Listing`].
pub(crate) struct Entry {
    /// Where the listing resumes after this entry minus one: entries come in strictly
    /// increasing `pos`, from 2 on (0 and 1 are `.` and `..`).
    pub pos: u64,
    pub name: Vec<u8>,
    pub node: Arc<dyn Inode>,
}

/// What a [`Dir`] holds right now.
pub(crate) trait Listing: Send + Sync {
    /// The entries, in increasing `pos`.
    fn entries(&self) -> Result<Vec<Entry>, Errno>;

    /// The entry called `name` (ENOENT if none). Override when one entry can be made
    /// without making them all.
    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.entries()?.into_iter().find(|e| e.name == name).map(|e| e.node).ok_or(Errno::ENOENT)
    }
}

/// A fixed set of entries, listed in the order given.
pub(crate) struct Fixed(pub Vec<(Vec<u8>, Arc<dyn Inode>)>);

impl Listing for Fixed {
    fn entries(&self) -> Result<Vec<Entry>, Errno> {
        Ok(self
            .0
            .iter()
            .zip(2..)
            .map(|((name, node), pos)| Entry { pos, name: name.clone(), node: node.clone() })
            .collect())
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, node)| node.clone()).ok_or(Errno::ENOENT)
    }
}

/// A directory of a pseudo-filesystem. Nothing can be made or removed in it: the
/// [`Inode`] defaults refuse (EACCES for files, EPERM for the rest, as Linux's proc
/// and sysfs do for an unprivileged process).
pub(crate) struct Dir {
    attr: Attr,
    /// The inode number `..` lists (the directory's own for a filesystem's root).
    parent_ino: u64,
    listing: Box<dyn Listing>,
}

impl Dir {
    pub fn new(attr: Attr, parent_ino: u64, listing: impl Listing + 'static) -> Arc<Dir> {
        Arc::new(Dir { attr, parent_ino, listing: Box::new(listing) })
    }
}

impl Inode for Dir {
    fn kind(&self) -> FileKind {
        FileKind::Directory
    }

    /// The link count is 2 plus the subdirectories, as Linux counts it.
    fn metadata(&self) -> Result<Metadata, Errno> {
        let subdirs = self.listing.entries()?.iter().filter(|e| e.node.kind() == FileKind::Directory).count();
        Ok(self.attr.metadata(FileKind::Directory, 2 + subdirs as u64))
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.listing.lookup(name)
    }

    fn read_dir(&self, offset: u64, sink: &mut dyn FnMut(DirEntry<'_>) -> bool) -> Result<(), Errno> {
        if !emit_dots(offset, self.attr.ino, self.parent_ino, sink) {
            return Ok(());
        }
        for entry in self.listing.entries()?.into_iter().filter(|e| e.pos >= offset) {
            let ino = entry.node.metadata().map_or(0, |m| m.ino);
            let kind = entry.node.kind();
            if !sink(DirEntry { ino, kind, name: &entry.name, next: entry.pos + 1 }) {
                break;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- generated files

/// The text of a [`GenFile`].
pub(crate) trait Content: Send + Sync {
    /// The file's bytes now.
    fn generate(&self) -> Result<Vec<u8>, Errno>;

    /// Whether the file takes writes (else opening it for writing is EACCES).
    fn writable(&self) -> bool {
        false
    }

    /// One `write` of `data`, whole: what Linux's proc and sysfs handlers do, whatever
    /// the file position. Returns the count the caller sees.
    fn write(&self, _data: &[u8]) -> SysResult {
        Err(Errno::EINVAL)
    }
}

/// A read-only text made by a closure.
impl<F: Fn() -> Vec<u8> + Send + Sync> Content for F {
    fn generate(&self) -> Result<Vec<u8>, Errno> {
        Ok(self())
    }
}

/// A regular file whose bytes are generated when it is opened.
pub(crate) struct GenFile {
    attr: Attr,
    content: Arc<dyn Content>,
}

impl GenFile {
    pub fn new(attr: Attr, content: impl Content + 'static) -> Arc<GenFile> {
        Arc::new(GenFile { attr, content: Arc::new(content) })
    }
}

impl Inode for GenFile {
    fn kind(&self) -> FileKind {
        FileKind::Regular
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        Ok(self.attr.metadata(FileKind::Regular, 1))
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> SysResult {
        Ok(copy_at(&self.content.generate()?, offset, buf))
    }

    /// `O_TRUNC` on a file that takes writes changes nothing (procfs ignores the size).
    fn truncate(&self, _len: u64) -> Result<(), Errno> {
        if self.content.writable() {
            Ok(())
        } else {
            Err(Errno::EACCES)
        }
    }

    fn open(&self, dentry: &Arc<Dentry>, flags: u32) -> Result<Arc<dyn File>, Errno> {
        use crate::file::oflags::{O_ACCMODE, O_RDWR, O_WRONLY};
        let acc = flags & O_ACCMODE;
        if matches!(acc, O_WRONLY | O_RDWR) && !self.content.writable() {
            return Err(Errno::EACCES);
        }
        let data = if acc == O_WRONLY { Vec::new() } else { self.content.generate()? };
        Ok(Arc::new(SnapshotFile {
            dentry: dentry.clone(),
            content: self.content.clone(),
            data,
            pos: spin::Mutex::new(0),
        }))
    }
}

/// Copies what lies at `offset` in `data` into `buf`; 0 at or past the end.
fn copy_at(data: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let Ok(start) = usize::try_from(offset) else { return 0 };
    let Some(rest) = data.get(start..) else { return 0 };
    let n = rest.len().min(buf.len());
    buf[..n].copy_from_slice(&rest[..n]);
    n
}

/// An open [`GenFile`]: the text as it was at `open`, and a position in it.
pub(crate) struct SnapshotFile {
    dentry: Arc<Dentry>,
    content: Arc<dyn Content>,
    data: Vec<u8>,
    pos: spin::Mutex<u64>,
}

impl File for SnapshotFile {
    fn read(&self, buf: &mut [u8], _nonblock: bool) -> SysResult {
        let mut pos = self.pos.lock();
        let n = copy_at(&self.data, *pos, buf);
        *pos += n as u64;
        Ok(n)
    }

    fn pread(&self, buf: &mut [u8], offset: u64) -> SysResult {
        Ok(copy_at(&self.data, offset, buf))
    }

    fn write(&self, buf: &[u8], _nonblock: bool) -> SysResult {
        self.content.write(buf)
    }

    fn pwrite(&self, buf: &[u8], _offset: u64) -> SysResult {
        self.content.write(buf)
    }

    /// `seq_lseek`: `SEEK_SET` and `SEEK_CUR` only; EINVAL for the others and for a
    /// negative result.
    fn seek(&self, offset: i64, whence: u32) -> Result<u64, Errno> {
        let mut pos = self.pos.lock();
        let new = match whence {
            SEEK_SET => Some(offset),
            SEEK_CUR => (*pos as i64).checked_add(offset),
            _ => None,
        };
        let new = new.filter(|&p| p >= 0).ok_or(Errno::EINVAL)?;
        *pos = new as u64;
        Ok(new as u64)
    }

    fn readiness(&self) -> crate::readiness::Readiness<'_> {
        crate::readiness::Readiness::Static
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.dentry.inode().metadata()?.to_stat())
    }

    fn dentry(&self) -> Option<Arc<Dentry>> {
        Some(self.dentry.clone())
    }
}

// ---------------------------------------------------------------- symlinks

/// A symlink whose text may be computed when it is read.
pub(crate) struct Link {
    attr: Attr,
    target: Box<dyn Fn() -> Result<Vec<u8>, Errno> + Send + Sync>,
}

impl Link {
    /// A symlink to `target`; its size is the target's length, as for any symlink.
    pub fn fixed(attr: Attr, target: &[u8]) -> Arc<Link> {
        let text = target.to_vec();
        let attr = Attr { size: text.len() as u64, ..attr };
        Arc::new(Link { attr, target: Box::new(move || Ok(text.clone())) })
    }

    /// A symlink whose target `target` computes each time it is read.
    pub fn computed(attr: Attr, target: impl Fn() -> Result<Vec<u8>, Errno> + Send + Sync + 'static) -> Arc<Link> {
        Arc::new(Link { attr, target: Box::new(target) })
    }
}

impl Inode for Link {
    fn kind(&self) -> FileKind {
        FileKind::Symlink
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        Ok(self.attr.metadata(FileKind::Symlink, 1))
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        (self.target)()
    }
}

// ---------------------------------------------------------------- fixed trees

/// A named node of a fixed tree: what [`Fixed`] lists.
pub(crate) type Named = (Vec<u8>, Arc<dyn Inode>);

/// The last component of `path`.
fn last_name(path: &str) -> Vec<u8> {
    path.rsplit('/').next().unwrap_or(path).as_bytes().to_vec()
}

/// A file at `path` of one line: what `value` makes, then a newline (how sysctl and
/// sysfs files read).
pub(crate) fn line_file(
    sb: &Superblock,
    path: &str,
    mode: u32,
    value: impl Fn() -> Vec<u8> + Send + Sync + 'static,
) -> Named {
    let node = GenFile::new(sb.file_attr(path.as_bytes(), mode), move || {
        let mut line = value();
        line.push(b'\n');
        line
    });
    (last_name(path), node)
}

/// A directory at `path` holding `entries`.
pub(crate) fn fixed_dir(sb: &Superblock, path: &str, mode: u32, entries: Vec<Named>) -> Named {
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
    let node = Dir::new(sb.attr(path.as_bytes(), mode), ino_of(parent.as_bytes()), Fixed(entries));
    (last_name(path), node)
}

/// The text of a number, for [`line_file`].
pub(crate) fn number(n: u64) -> impl Fn() -> Vec<u8> + Send + Sync + 'static {
    move || alloc::format!("{n}").into_bytes()
}

/// A fixed text, for [`line_file`].
pub(crate) fn fixed_text(t: &[u8]) -> impl Fn() -> Vec<u8> + Send + Sync + 'static {
    let t = t.to_vec();
    move || t.clone()
}
