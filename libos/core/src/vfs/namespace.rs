//! The process's view of the filesystem tree and the path operations on it.
//!
//! [`Vfs`] holds what Linux splits between the mount namespace and `fs_struct`: the
//! mounts, the root, the working directory and the umask (a libOS instance runs one
//! process, so they live together). Each method is one system call's worth of work
//! after decoding: paths are bytes without the NUL, flags are the raw `u32`s, a
//! directory fd is [`At::Dir`] with the fd's dentry, and every refusal is the errno
//! Linux gives, checked in the order Linux checks (which errno wins matters when
//! several apply: `mkdir` of an existing name on a read-only mount is EEXIST, `unlink`
//! of a missing one there is EROFS).
//!
//! The guest runs as root: permission bits never refuse anything except `access`
//! with `X_OK` on a file no one may execute.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::dentry::Dentry;
use super::file::InodeFile;
use super::inode::{FileKind, FileSystem, Metadata, Statfs};
use super::mount::{Mount, MountFlags, MountInfo, Placeholder};
use super::oflags::*;
use super::path::{absolute_path, check_path, cross_mounts, lookup_child, Last, LinkTarget, ParentOf, Walker};
use super::rename_flags::*;
use super::utime::{UTIME_NOW, UTIME_OMIT};
use super::{access, Clock, PATH_MAX};
use crate::abi::{mode as m, Stat, Timespec};
use crate::file::File;
use crate::Errno;

/// Where a relative path starts: the `dirfd` of an `*at` call, resolved.
///
/// The syscall layer looks the fd up only for a relative path (Linux ignores `dirfd`,
/// even an invalid one, when the path is absolute) and passes its dentry
/// ([`File::dentry`]); a file that is not a directory is ENOTDIR here, when a relative
/// path is walked from it.
#[derive(Debug, Clone)]
pub enum At {
    /// `AT_FDCWD`.
    Cwd,
    Dir(Arc<Dentry>),
}

/// One process's filesystem namespace.
pub struct Vfs {
    root: Arc<Dentry>,
    cwd: spin::Mutex<Arc<Dentry>>,
    umask: AtomicU32,
    clock: Clock,
    mounts: spin::Mutex<Vec<MountEntry>>,
    next_mount_id: AtomicU32,
    /// Held across a rename, so that "is the source an ancestor of the target's
    /// directory" stays true until the filesystem has moved it (Linux's
    /// `s_vfs_rename_mutex`).
    rename_lock: spin::Mutex<()>,
}

struct MountEntry {
    mount: Arc<Mount>,
    root: Arc<Dentry>,
    parent_id: u32,
}

/// The default umask of a new process.
pub const DEFAULT_UMASK: u32 = 0o022;

/// Which `utimensat` time a [`Timespec`] sets (`tv_nsec` may be `UTIME_NOW` or
/// `UTIME_OMIT`); EINVAL for a `tv_nsec` that is neither and not in `0..1e9`.
fn decode_time(t: Timespec, now: Timespec) -> Result<Option<Timespec>, Errno> {
    match t.tv_nsec {
        UTIME_OMIT => Ok(None),
        UTIME_NOW => Ok(Some(now)),
        0..=999_999_999 => Ok(Some(t)),
        _ => Err(Errno::EINVAL),
    }
}

impl Vfs {
    /// A namespace with `root_fs` mounted at `/`, which is also the working directory.
    pub fn new(root_fs: Arc<dyn FileSystem>, flags: MountFlags, source: &[u8], clock: Clock) -> Vfs {
        let mount = Mount::new(1, root_fs.clone(), flags, source);
        let root = Dentry::new_root(root_fs.root(), mount.clone(), None);
        Vfs {
            cwd: spin::Mutex::new(root.clone()),
            umask: AtomicU32::new(DEFAULT_UMASK),
            clock,
            mounts: spin::Mutex::new(alloc::vec![MountEntry { mount, root: root.clone(), parent_id: 1 }]),
            next_mount_id: AtomicU32::new(2),
            rename_lock: spin::Mutex::new(()),
            root,
        }
    }

    // ---------------------------------------------------------------- mounts

    /// Mounts `fs` on the directory `path` (resolved from the working directory,
    /// following symlinks). If `path` does not exist but its parent does, the mount
    /// point is made up (see `mount.rs`); a mount on an existing mount stacks on top.
    /// ENOTDIR if `path` is not a directory; EBUSY for `/`.
    pub fn mount(&self, path: &[u8], fs: Arc<dyn FileSystem>, flags: MountFlags, source: &[u8]) -> Result<(), Errno> {
        check_path(path)?;
        let mut walker = self.walker();
        let start = self.start(&At::Cwd, path);
        let point = match walker.resolve(&start, path, true) {
            Ok(d) if !d.is_dir() => return Err(Errno::ENOTDIR),
            Ok(d) if Arc::ptr_eq(&d, &self.root) => return Err(Errno::EBUSY),
            Ok(d) => d,
            Err(Errno::ENOENT) => {
                let p = walker.parent(&start, path)?;
                match p.last {
                    Last::Name(name) => {
                        super::path::check_name(&name)?;
                        p.dir.child(&name, Placeholder::inode())
                    }
                    _ => return Err(Errno::ENOENT),
                }
            }
            Err(e) => return Err(e),
        };
        let id = self.next_mount_id.fetch_add(1, Ordering::Relaxed);
        let mount = Mount::new(id, fs.clone(), flags, source);
        let root = Dentry::new_root(fs.root(), mount.clone(), Some(point.clone()));
        let parent_id = point.mount().id();
        point.set_mounted(root.clone());
        self.mounts.lock().push(MountEntry { mount, root, parent_id });
        Ok(())
    }

    /// Mounts the directory `path` over itself read-only (`mount --bind -o ro`): every
    /// change below it is EROFS, reads are unchanged. ENOTDIR for a non-directory.
    pub fn bind_read_only(&self, path: &[u8]) -> Result<(), Errno> {
        let d = self.lookup(&At::Cwd, path, true)?;
        if !d.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let fs = super::subtree::Subtree::new(d.mount().fs().clone(), d.inode().clone());
        let source = d.mount().source().to_vec();
        self.mount(path, fs, MountFlags { read_only: true, ..d.mount().flags() }, &source)
    }

    /// The mounts, in the order they were made (for `/proc/self/mountinfo`).
    pub fn mounts(&self) -> Vec<MountInfo> {
        let entries: Vec<(Arc<Mount>, Arc<Dentry>, u32)> =
            self.mounts.lock().iter().map(|e| (e.mount.clone(), e.root.clone(), e.parent_id)).collect();
        entries
            .into_iter()
            .map(|(mount, root, parent_id)| MountInfo {
                id: mount.id(),
                parent_id,
                mount_point: absolute_path(&self.root, &root).0,
                fs_type: mount.fs().fs_type(),
                source: mount.source().to_vec(),
                flags: mount.flags(),
                dev: root.inode().metadata().map_or(0, |md| md.dev),
            })
            .collect()
    }

    /// The root directory (the root of the `/` mount).
    pub fn root(&self) -> Arc<Dentry> {
        self.root.clone()
    }

    // ---------------------------------------------------------------- cwd, umask

    /// The working directory.
    pub fn cwd(&self) -> Arc<Dentry> {
        self.cwd.lock().clone()
    }

    /// `chdir`: ENOENT, ENOTDIR.
    pub fn chdir(&self, at: &At, path: &[u8]) -> Result<(), Errno> {
        let d = self.lookup(at, path, true)?;
        self.fchdir(&d)
    }

    /// `fchdir` on an open file's dentry: ENOTDIR unless a directory.
    pub fn fchdir(&self, d: &Arc<Dentry>) -> Result<(), Errno> {
        if !d.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        *self.cwd.lock() = d.clone();
        Ok(())
    }

    /// `getcwd`: the absolute path of the working directory, without a NUL. ENOENT if
    /// the directory was removed. (ERANGE for a short buffer is the caller's.)
    pub fn getcwd(&self) -> Result<Vec<u8>, Errno> {
        let (path, deleted) = absolute_path(&self.root, &self.cwd());
        if deleted {
            return Err(Errno::ENOENT);
        }
        Ok(path)
    }

    /// The absolute path of `d` and whether its name was removed: what
    /// `/proc/self/fd/N` and `/proc/self/cwd` read as (with " (deleted)" appended by
    /// the caller when removed).
    pub fn path_of(&self, d: &Arc<Dentry>) -> (Vec<u8>, bool) {
        absolute_path(&self.root, d)
    }

    pub fn umask(&self) -> u32 {
        self.umask.load(Ordering::Relaxed)
    }

    /// `umask`: sets the mask (only `0o777` counts) and returns the old one.
    pub fn set_umask(&self, mask: u32) -> u32 {
        self.umask.swap(mask & 0o777, Ordering::Relaxed)
    }

    // ---------------------------------------------------------------- lookups

    fn walker(&self) -> Walker {
        Walker::new(self.root.clone())
    }

    fn start(&self, at: &At, path: &[u8]) -> Arc<Dentry> {
        if path.first() == Some(&b'/') {
            return self.root.clone();
        }
        match at {
            At::Cwd => self.cwd(),
            At::Dir(d) => d.clone(),
        }
    }

    /// Resolves `path` to the dentry it names, following a final symlink if `follow`
    /// (a path ending in `/` always follows).
    pub fn lookup(&self, at: &At, path: &[u8], follow: bool) -> Result<Arc<Dentry>, Errno> {
        check_path(path)?;
        self.walker().resolve(&self.start(at, path), path, follow)
    }

    /// Resolves all of `path` but its last component (for operations that make or
    /// remove names).
    pub fn lookup_parent(&self, at: &At, path: &[u8]) -> Result<ParentOf, Errno> {
        check_path(path)?;
        self.walker().parent(&self.start(at, path), path)
    }

    /// Linux's `filename_create`: the directory and the name a new node will get.
    /// EEXIST if the last component is `.`, `..`, `/` or an existing name (a dangling
    /// symlink included); ENOENT for a trailing `/` on a missing name unless a directory
    /// is being made; then EROFS.
    fn prepare_create(&self, at: &At, path: &[u8], making_dir: bool) -> Result<(Arc<Dentry>, Vec<u8>), Errno> {
        let p = self.lookup_parent(at, path)?;
        let Last::Name(name) = p.last else {
            return Err(Errno::EEXIST);
        };
        match lookup_child(&p.dir, &name) {
            Ok(_) => return Err(Errno::EEXIST),
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
        if p.trailing_slash && !making_dir {
            return Err(Errno::ENOENT);
        }
        p.dir.mount().check_writable()?;
        Ok((p.dir, name))
    }

    // ---------------------------------------------------------------- open

    /// `openat`: resolves, creates or truncates as `flags` say and returns the file
    /// object. The caller wraps it as `OpenFile::new(file, oflags::status_flags(flags))`
    /// and installs it with `O_CLOEXEC`.
    ///
    /// - `O_PATH` keeps only `O_DIRECTORY` and `O_NOFOLLOW` (with which it opens a
    ///   symlink itself); the file only names its node.
    /// - `O_CREAT`: EISDIR for `.`, `..`, `/` or a trailing `/`; EEXIST with `O_EXCL`
    ///   if the name exists (symlinks are not followed then); a symlink to a missing
    ///   file creates the target; the new file gets `mode & 0o7777 & !umask`.
    ///   `O_CREAT | O_DIRECTORY` is EINVAL (Linux ≥ 6.4).
    /// - `O_NOFOLLOW` on a symlink: ELOOP. `O_DIRECTORY` on a non-directory: ENOTDIR.
    /// - A directory opened for writing or with `O_TRUNC`: EISDIR.
    /// - `O_TRUNC` empties a regular file (whatever the access mode, as Linux does).
    /// - Writing on a read-only mount: EROFS (not for device nodes).
    /// - `O_TMPFILE`: EINVAL without write access or with `O_CREAT`, then ENOTDIR/
    ///   ENOENT for the directory, then EOPNOTSUPP (no unnamed files yet).
    pub fn open(&self, at: &At, path: &[u8], flags: u32, mode: u32) -> Result<Arc<dyn File>, Errno> {
        check_path(path)?;
        let acc = flags & O_ACCMODE;
        let wants_write = acc != O_RDONLY || flags & O_TRUNC != 0;
        let follow = flags & O_NOFOLLOW == 0;
        let start = self.start(at, path);
        let mut walker = self.walker();

        if flags & O_TMPFILE_BIT != 0 {
            if flags & (O_TMPFILE | O_CREAT) != O_TMPFILE || acc == O_RDONLY {
                return Err(Errno::EINVAL);
            }
            let dir = walker.resolve(&start, path, true)?;
            if !dir.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Err(Errno::EOPNOTSUPP);
        }
        if flags & O_PATH != 0 {
            let d = walker.resolve(&start, path, follow)?;
            if flags & O_DIRECTORY != 0 && !d.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Ok(InodeFile::new_path(d));
        }
        if flags & O_CREAT != 0 && flags & O_DIRECTORY != 0 {
            return Err(Errno::EINVAL);
        }

        let (d, created) = if flags & O_CREAT != 0 {
            self.open_create(&mut walker, start, path, flags, mode)?
        } else {
            (walker.resolve(&start, path, follow)?, false)
        };
        let kind = d.kind();
        match kind {
            _ if flags & O_DIRECTORY != 0 && kind != FileKind::Directory => return Err(Errno::ENOTDIR),
            FileKind::Symlink => return Err(Errno::ELOOP),
            FileKind::Directory if wants_write => return Err(Errno::EISDIR),
            FileKind::Regular | FileKind::Directory if wants_write => d.mount().check_writable()?,
            _ => {}
        }
        if kind == FileKind::Fifo && d.parent().is_some() {
            // Whatever filesystem it is on, a named FIFO opens onto its shared pipe. (A
            // pipe reached through /proc/self/fd has no name: its inode hands out the
            // pipe end itself, as Linux reopens the pipe without waiting for a peer.)
            return crate::pipe::fifo::open(&d, flags);
        }
        let file = d.inode().open(&d, flags)?;
        if flags & O_TRUNC != 0 && kind == FileKind::Regular && !created {
            crate::mm::filemap::truncate(d.inode(), 0)?;
        }
        Ok(file)
    }

    /// The `O_CREAT` half of `open`: finds or makes the last component, following
    /// symlinks to missing targets. Returns the dentry and whether it was made.
    fn open_create(
        &self,
        walker: &mut Walker,
        start: Arc<Dentry>,
        path: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<(Arc<Dentry>, bool), Errno> {
        let mut start = start;
        let mut owned: Vec<u8>;
        let mut path = path;
        loop {
            let p = walker.parent(&start, path)?;
            let Last::Name(name) = p.last else {
                return Err(Errno::EISDIR);
            };
            if p.trailing_slash {
                return Err(Errno::EISDIR);
            }
            let found = loop {
                match lookup_child(&p.dir, &name) {
                    Ok(d) => break d,
                    Err(Errno::ENOENT) => {
                        p.dir.mount().check_writable()?;
                        let perm = mode & 0o7777 & !self.umask();
                        match p.dir.inode().create(&name, FileKind::Regular, perm, 0) {
                            Ok(inode) => return Ok((p.dir.child(&name, inode), true)),
                            // Someone else made it first: without O_EXCL, open theirs.
                            Err(Errno::EEXIST) if flags & O_EXCL == 0 => continue,
                            Err(e) => return Err(e),
                        }
                    }
                    Err(e) => return Err(e),
                }
            };
            if flags & O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            let found = if found.kind() == FileKind::Symlink {
                if flags & O_NOFOLLOW != 0 {
                    return Err(Errno::ELOOP);
                }
                match walker.follow(&found)? {
                    LinkTarget::Jump(object) => object,
                    LinkTarget::Path(target) => {
                        owned = target;
                        path = &owned;
                        start = p.dir;
                        continue;
                    }
                }
            } else {
                cross_mounts(found)
            };
            if found.is_dir() {
                return Err(Errno::EISDIR);
            }
            return Ok((found, false));
        }
    }

    // ---------------------------------------------------------------- names

    /// `mkdirat`: the new directory gets `mode & 0o1777 & !umask`. EEXIST, ENOENT,
    /// ENOTDIR, ENAMETOOLONG, EROFS.
    pub fn mkdir(&self, at: &At, path: &[u8], mode: u32) -> Result<(), Errno> {
        let (dir, name) = self.prepare_create(at, path, true)?;
        let perm = mode & 0o1777 & !self.umask();
        dir.inode().create(&name, FileKind::Directory, perm, 0)?;
        Ok(())
    }

    /// `mknodat`: a regular file (type 0 or `S_IFREG`), FIFO, socket or device node.
    /// EPERM for `S_IFDIR`, EINVAL for anything else — both before the path is looked
    /// at.
    pub fn mknod(&self, at: &At, path: &[u8], mode: u32, dev: u64) -> Result<(), Errno> {
        let kind = match mode & m::S_IFMT {
            0 => FileKind::Regular,
            m::S_IFDIR => return Err(Errno::EPERM),
            t => match FileKind::from_mode(t) {
                Some(k) if k != FileKind::Symlink => k,
                _ => return Err(Errno::EINVAL),
            },
        };
        let (dir, name) = self.prepare_create(at, path, false)?;
        let rdev = if matches!(kind, FileKind::CharDevice | FileKind::BlockDevice) { dev } else { 0 };
        dir.inode().create(&name, kind, mode & 0o7777 & !self.umask(), rdev)?;
        Ok(())
    }

    /// `rmdir`: EINVAL for `.`, ENOTEMPTY for `..`, EBUSY for `/` and mount points,
    /// EROFS, ENOENT, ENOTDIR (a symlink is not followed), ENOTEMPTY.
    pub fn rmdir(&self, at: &At, path: &[u8]) -> Result<(), Errno> {
        let p = self.lookup_parent(at, path)?;
        let name = match p.last {
            Last::Name(name) => name,
            Last::Dot => return Err(Errno::EINVAL),
            Last::DotDot => return Err(Errno::ENOTEMPTY),
            Last::Root => return Err(Errno::EBUSY),
        };
        p.dir.mount().check_writable()?;
        let victim = lookup_child(&p.dir, &name)?;
        if !victim.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if victim.is_mountpoint() {
            return Err(Errno::EBUSY);
        }
        p.dir.inode().rmdir(&name)?;
        victim.detach();
        Ok(())
    }

    /// `unlinkat` without `AT_REMOVEDIR`: EISDIR for a directory (and for `.`, `..`,
    /// `/`), EROFS, ENOENT; a trailing `/` is EISDIR on a directory, else ENOTDIR.
    pub fn unlink(&self, at: &At, path: &[u8]) -> Result<(), Errno> {
        let p = self.lookup_parent(at, path)?;
        let Last::Name(name) = p.last else {
            return Err(Errno::EISDIR);
        };
        p.dir.mount().check_writable()?;
        let victim = lookup_child(&p.dir, &name)?;
        if victim.is_dir() {
            return Err(Errno::EISDIR);
        }
        if p.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        if victim.is_mountpoint() {
            return Err(Errno::EBUSY);
        }
        p.dir.inode().unlink(&name)?;
        victim.detach();
        Ok(())
    }

    /// `renameat2`. In Linux's order: EINVAL for unknown or conflicting flags; EXDEV
    /// across mounts; EBUSY for `.`, `..`, `/` (EEXIST as the target with
    /// `RENAME_NOREPLACE`); EROFS; ENOENT for a missing source; EEXIST
    /// (`RENAME_NOREPLACE`) or ENOENT (`RENAME_EXCHANGE`) for the target; ENOTDIR for a
    /// trailing `/` on a non-directory; EINVAL for moving a directory under itself and
    /// ENOTEMPTY for replacing an ancestor of the source; success without change for two
    /// names of one node; ENOTDIR/EISDIR for a directory/non-directory mismatch; EBUSY
    /// for a mount point; then the filesystem (ENOTEMPTY, EINVAL for a flag it lacks).
    pub fn rename(&self, old_at: &At, old_path: &[u8], new_at: &At, new_path: &[u8], flags: u32) -> Result<(), Errno> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
            || (flags & RENAME_EXCHANGE != 0 && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0)
        {
            return Err(Errno::EINVAL);
        }
        let exchange = flags & RENAME_EXCHANGE != 0;
        let op = self.lookup_parent(old_at, old_path)?;
        let np = self.lookup_parent(new_at, new_path)?;
        if !op.dir.same_mount(&np.dir) {
            return Err(Errno::EXDEV);
        }
        let Last::Name(old_name) = &op.last else {
            return Err(Errno::EBUSY);
        };
        let Last::Name(new_name) = &np.last else {
            return Err(if flags & RENAME_NOREPLACE != 0 { Errno::EEXIST } else { Errno::EBUSY });
        };
        op.dir.mount().check_writable()?;

        let _guard = self.rename_lock.lock();
        let old = lookup_child(&op.dir, old_name)?;
        let new = match lookup_child(&np.dir, new_name) {
            Ok(d) if flags & RENAME_NOREPLACE != 0 => {
                drop(d);
                return Err(Errno::EEXIST);
            }
            Ok(d) => Some(d),
            Err(Errno::ENOENT) if !exchange => None,
            Err(e) => return Err(e),
        };
        if exchange && np.trailing_slash && !new.as_ref().is_some_and(|n| n.is_dir()) {
            return Err(Errno::ENOTDIR);
        }
        if !old.is_dir() && (op.trailing_slash || (!exchange && np.trailing_slash)) {
            return Err(Errno::ENOTDIR);
        }
        if old.is_ancestor_of(&np.dir) {
            return Err(Errno::EINVAL);
        }
        if let Some(new) = &new {
            if new.is_ancestor_of(&op.dir) {
                return Err(if exchange { Errno::EINVAL } else { Errno::ENOTEMPTY });
            }
            if super::inode::same_node(old.inode(), new.inode()) {
                return Ok(());
            }
            if !exchange {
                match (old.is_dir(), new.is_dir()) {
                    (true, false) => return Err(Errno::ENOTDIR),
                    (false, true) => return Err(Errno::EISDIR),
                    _ => {}
                }
            }
            if new.is_mountpoint() {
                return Err(Errno::EBUSY);
            }
        }
        if old.is_mountpoint() {
            return Err(Errno::EBUSY);
        }

        op.dir.inode().rename(old_name, np.dir.inode(), new_name, flags)?;

        match new {
            Some(new) if exchange => {
                new.move_to(&op.dir, old_name);
                old.move_to(&np.dir, new_name);
            }
            Some(new) => {
                new.detach();
                old.move_to(&np.dir, new_name);
            }
            None => old.move_to(&np.dir, new_name),
        }
        Ok(())
    }

    /// `linkat` of an already resolved `old` (the caller resolves it with
    /// [`Vfs::lookup`], following the last symlink only with `AT_SYMLINK_FOLLOW`, or
    /// takes an fd's dentry for `AT_EMPTY_PATH`). EEXIST, ENOENT (trailing `/`), EROFS,
    /// EXDEV, EPERM for a directory; the filesystem may say EPERM (no hard links).
    pub fn link(&self, old: &Arc<Dentry>, new_at: &At, new_path: &[u8]) -> Result<(), Errno> {
        let (dir, name) = self.prepare_create(new_at, new_path, false)?;
        if !old.same_mount(&dir) {
            return Err(Errno::EXDEV);
        }
        if old.is_dir() {
            return Err(Errno::EPERM);
        }
        dir.inode().link(&name, old.inode())
    }

    /// `symlinkat`: ENOENT for an empty target, ENAMETOOLONG for one of `PATH_MAX`
    /// bytes or more, then as `mkdir` (EEXIST, ENOENT for a trailing `/`, EROFS); EPERM
    /// from a filesystem without symlinks.
    pub fn symlink(&self, target: &[u8], at: &At, path: &[u8]) -> Result<(), Errno> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let (dir, name) = self.prepare_create(at, path, false)?;
        dir.inode().symlink(&name, target)?;
        Ok(())
    }

    /// `readlinkat`: the target of the symlink `path` (not followed); EINVAL for
    /// anything else. (Truncating to the caller's buffer is the caller's.)
    pub fn readlink(&self, at: &At, path: &[u8]) -> Result<Vec<u8>, Errno> {
        self.lookup(at, path, false)?.inode().readlink()
    }

    // ---------------------------------------------------------------- metadata

    /// `newfstatat`/`stat`/`lstat`.
    pub fn stat(&self, at: &At, path: &[u8], follow: bool) -> Result<Stat, Errno> {
        Ok(self.metadata(at, path, follow)?.to_stat())
    }

    /// What `statx` needs.
    pub fn metadata(&self, at: &At, path: &[u8], follow: bool) -> Result<Metadata, Errno> {
        self.lookup(at, path, follow)?.inode().metadata()
    }

    /// `faccessat2` for root: EINVAL for bits beyond `R_OK|W_OK|X_OK`; ENOENT etc. from
    /// the lookup; EROFS for `W_OK` on a read-only mount (files and directories);
    /// EACCES for `X_OK` on a non-directory with no execute bit.
    pub fn access(&self, at: &At, path: &[u8], mode: u32, follow: bool) -> Result<(), Errno> {
        if mode & !(access::R_OK | access::W_OK | access::X_OK) != 0 {
            return Err(Errno::EINVAL);
        }
        let d = self.lookup(at, path, follow)?;
        self.access_dentry(&d, mode)
    }

    /// `faccessat2` with `AT_EMPTY_PATH`: the checks of [`Vfs::access`] on a resolved
    /// node.
    pub fn access_dentry(&self, d: &Arc<Dentry>, mode: u32) -> Result<(), Errno> {
        if mode & !(access::R_OK | access::W_OK | access::X_OK) != 0 {
            return Err(Errno::EINVAL);
        }
        let md = d.inode().metadata()?;
        if mode & access::W_OK != 0 && matches!(md.kind, FileKind::Regular | FileKind::Directory | FileKind::Symlink) {
            d.mount().check_writable()?;
        }
        if mode & access::X_OK != 0 && md.kind != FileKind::Directory && md.mode & 0o111 == 0 {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    /// `truncate`: EINVAL for a negative length, then the lookup (following symlinks),
    /// then as [`Vfs::truncate_dentry`].
    pub fn truncate(&self, at: &At, path: &[u8], len: i64) -> Result<(), Errno> {
        let len = u64::try_from(len).map_err(|_| Errno::EINVAL)?;
        let d = self.lookup(at, path, true)?;
        self.truncate_dentry(&d, len)
    }

    /// Sets the size of the node of `d`: EISDIR for a directory, EINVAL for other
    /// non-regular files, EROFS. (`ftruncate` checks first that the fd is open for
    /// writing: EINVAL otherwise.)
    pub fn truncate_dentry(&self, d: &Arc<Dentry>, len: u64) -> Result<(), Errno> {
        match d.kind() {
            FileKind::Directory => return Err(Errno::EISDIR),
            FileKind::Regular => {}
            _ => return Err(Errno::EINVAL),
        }
        d.mount().check_writable()?;
        crate::mm::filemap::truncate(d.inode(), len)
    }

    /// `utimensat` on a path: `times` is `[atime, mtime]` as the guest passed them
    /// (`None` for a NULL pointer: both now). EINVAL for a bad `tv_nsec` before the
    /// lookup.
    pub fn utimens(&self, at: &At, path: &[u8], times: Option<[Timespec; 2]>, follow: bool) -> Result<(), Errno> {
        if let Some(ts) = times {
            for t in ts {
                decode_time(t, Timespec::ZERO)?;
            }
        }
        let d = self.lookup(at, path, follow)?;
        self.utimens_dentry(&d, times)
    }

    /// `utimensat` on a resolved node (`futimens`): both `UTIME_OMIT` changes nothing;
    /// EROFS.
    pub fn utimens_dentry(&self, d: &Arc<Dentry>, times: Option<[Timespec; 2]>) -> Result<(), Errno> {
        let now = (self.clock)();
        let (atime, mtime) = match times {
            None => (Some(now), Some(now)),
            Some([a, mt]) => (decode_time(a, now)?, decode_time(mt, now)?),
        };
        if atime.is_none() && mtime.is_none() {
            return Ok(());
        }
        d.mount().check_writable()?;
        d.inode().set_times(atime, mtime)
    }

    /// `fchmodat`: with `follow == false` (`AT_SYMLINK_NOFOLLOW`) a symlink is
    /// EOPNOTSUPP, as Linux's `fchmodat2` says.
    pub fn chmod(&self, at: &At, path: &[u8], mode: u32, follow: bool) -> Result<(), Errno> {
        let d = self.lookup(at, path, follow)?;
        self.chmod_dentry(&d, mode)
    }

    /// `fchmod`: keeps `mode & 0o7777`; EROFS.
    pub fn chmod_dentry(&self, d: &Arc<Dentry>, mode: u32) -> Result<(), Errno> {
        if d.kind() == FileKind::Symlink {
            return Err(Errno::EOPNOTSUPP);
        }
        d.mount().check_writable()?;
        d.inode().set_mode(mode & 0o7777)
    }

    /// `fchownat`: `u32::MAX` (`-1`) leaves an id unchanged.
    pub fn chown(&self, at: &At, path: &[u8], uid: u32, gid: u32, follow: bool) -> Result<(), Errno> {
        let d = self.lookup(at, path, follow)?;
        self.chown_dentry(&d, uid, gid)
    }

    /// `fchown`: EROFS; the filesystem clears set-uid/set-gid bits as Linux does.
    pub fn chown_dentry(&self, d: &Arc<Dentry>, uid: u32, gid: u32) -> Result<(), Errno> {
        d.mount().check_writable()?;
        let keep = |id: u32| (id != u32::MAX).then_some(id);
        d.inode().set_owner(keep(uid), keep(gid))
    }

    /// `statfs` of the filesystem `path` is on (following symlinks).
    pub fn statfs(&self, at: &At, path: &[u8]) -> Result<Statfs, Errno> {
        let d = self.lookup(at, path, true)?;
        self.statfs_dentry(&d)
    }

    /// `fstatfs`: the filesystem's numbers with the mount's `f_flags`.
    pub fn statfs_dentry(&self, d: &Arc<Dentry>) -> Result<Statfs, Errno> {
        let mount = d.mount();
        let mut st = mount.fs().statfs()?;
        st.f_flags = mount.flags().statfs_flags();
        Ok(st)
    }

    /// `sync`/`syncfs` of the filesystem `d` is on.
    pub fn sync_fs(&self, d: &Arc<Dentry>) -> Result<(), Errno> {
        d.mount().fs().sync()
    }

    /// The process is ending: every filesystem is left as an unmount leaves it, the
    /// last mounted first.
    pub fn unmount_all(&self) -> Result<(), Errno> {
        let mounts: Vec<Arc<Mount>> = self.mounts.lock().iter().rev().map(|e| e.mount.clone()).collect();
        let mut result = Ok(());
        for mount in mounts {
            result = result.and(mount.fs().unmount());
        }
        result
    }

    /// `sync`: every mounted filesystem.
    pub fn sync_all(&self) -> Result<(), Errno> {
        let mounts: Vec<Arc<Mount>> = self.mounts.lock().iter().map(|e| e.mount.clone()).collect();
        for mount in mounts {
            mount.fs().sync()?;
        }
        Ok(())
    }
}
