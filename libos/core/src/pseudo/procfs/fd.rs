//! `/proc/<pid>/fd/` and `/proc/<pid>/fdinfo/`: one entry per open fd.
//!
//! `fd/N` is a magic link. `readlink` shows what the fd refers to — the file's path
//! (with " (deleted)" once its name is gone), `pipe:[ino]`, `socket:[ino]`, a
//! terminal's `/dev` path, for the console what the platform calls it, an anonymous
//! file's own name (`File::anon_name`: `anon_inode:[eventfd]`), `anon_inode:[unknown]`
//! for anything else — and following it reaches the object itself:
//!
//! - a file in the tree: a new open of the same dentry, as Linux reopens it;
//! - anything else (the console, a pipe): the very file object the fd holds, through a
//!   detached dentry ([`FdObject`]). Opening it shares that object rather than making a
//!   new open file description on it, so `open("/dev/stdout")` writes where fd 1
//!   writes; a pipe end reopened for the other direction is not the other end, as it
//!   would be on Linux. Sockets and anonymous-inode files (eventfd, epoll) cannot be
//!   opened this way: ENXIO, as Linux says for sockets.
//!
//! `fdinfo/N` holds `pos`, `flags` (octal, with `O_CLOEXEC` if the fd has it),
//! `mnt_id` and `ino`, as Linux prints them, then the file's own lines
//! ([`File::fdinfo`]: a pidfd's `Pid:`, a timerfd's clock, count and value).

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::ProcShared;
use crate::abi::{mode as m, Stat};
use crate::file::{oflags, File, OpenFile};
use crate::pseudo::format::{major, minor};
use crate::pseudo::node::{ino_of, Attr, Dir, Entry, GenFile, Listing};
use crate::vfs::file::whence::SEEK_CUR;
use crate::vfs::inode::{FileKind, Inode, Metadata};
use crate::vfs::Dentry;
use crate::{Errno, Kernel};

/// Linux's `name_to_int`: a decimal fd number without leading zeros.
fn parse_fd(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 10 || (name.len() > 1 && name[0] == b'0') {
        return None;
    }
    let mut n: u64 = 0;
    for &b in name {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    i32::try_from(n).ok()
}

/// `/proc/<pid>/fd` at `path`.
pub(super) fn fd_dir(shared: &Arc<ProcShared>, k: &'static Kernel, path: &[u8]) -> Arc<Dir> {
    let attr = shared.sb.attr(path, 0o500).owned_by(k.identity.uid, k.identity.gid);
    let parent = ino_of(&path[..path.iter().rposition(|&b| b == b'/').unwrap_or(0)]);
    Dir::new(attr, parent, FdListing { shared: shared.clone(), k, path: path.to_vec(), info: false })
}

/// `/proc/<pid>/fdinfo` at `path`.
pub(super) fn fdinfo_dir(shared: &Arc<ProcShared>, k: &'static Kernel, path: &[u8]) -> Arc<Dir> {
    let attr = shared.sb.attr(path, 0o555).owned_by(k.identity.uid, k.identity.gid);
    let parent = ino_of(&path[..path.iter().rposition(|&b| b == b'/').unwrap_or(0)]);
    Dir::new(attr, parent, FdListing { shared: shared.clone(), k, path: path.to_vec(), info: true })
}

/// The entries of `fd/` (links) or `fdinfo/` (files): one per open fd, listed at
/// position fd + 2 so a listing resumes correctly while fds come and go.
struct FdListing {
    shared: Arc<ProcShared>,
    k: &'static Kernel,
    path: Vec<u8>,
    info: bool,
}

impl FdListing {
    fn node(&self, fd: i32, open: &OpenFile) -> Arc<dyn Inode> {
        let path = [&self.path[..], b"/", format!("{fd}").as_bytes()].concat();
        let (uid, gid) = (self.k.identity.uid, self.k.identity.gid);
        let k = self.k;
        if self.info {
            let attr = self.shared.sb.file_attr(&path, 0o444).owned_by(uid, gid);
            return GenFile::new(attr, move || fdinfo(k, fd));
        }
        // The link's permission bits show the access mode, as on Linux.
        let mut mode = 0;
        if open.readable() {
            mode |= 0o500;
        }
        if open.writable() {
            mode |= 0o300;
        }
        let attr = Attr { size: 64, ..self.shared.sb.attr(&path, mode) }.owned_by(uid, gid);
        Arc::new(FdLink { attr, shared: self.shared.clone(), k, fd })
    }
}

impl Listing for FdListing {
    fn entries(&self) -> Result<Vec<Entry>, Errno> {
        let open: Vec<(i32, Arc<OpenFile>)> = {
            let fds = self.k.fds.lock();
            fds.open_fds().filter_map(|fd| fds.get(fd).ok().map(|o| (fd, o))).collect()
        };
        Ok(open
            .into_iter()
            .map(|(fd, o)| Entry { pos: fd as u64 + 2, name: format!("{fd}").into_bytes(), node: self.node(fd, &o) })
            .collect())
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let fd = parse_fd(name).ok_or(Errno::ENOENT)?;
        let open = self.k.fds.lock().get(fd).map_err(|_| Errno::ENOENT)?;
        Ok(self.node(fd, &open))
    }
}

/// The open file behind `fd` now (ENOENT once it is closed).
fn file_of(k: &Kernel, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    k.fds.lock().get(fd).map_err(|_| Errno::ENOENT)
}

/// The text of `fdinfo/N`.
fn fdinfo(k: &Kernel, fd: i32) -> Vec<u8> {
    let (open, cloexec) = {
        let fds = k.fds.lock();
        match (fds.get(fd), fds.cloexec(fd)) {
            (Ok(o), Ok(c)) => (o, c),
            _ => return Vec::new(),
        }
    };
    let pos = open.file.seek(0, SEEK_CUR).unwrap_or(0);
    let mut flags = open.flags();
    if cloexec {
        flags |= oflags::O_CLOEXEC;
    }
    let mnt_id = open.file.dentry().map_or(0, |d| d.mount().id());
    let ino = open.file.stat().map_or(0, |st| st.st_ino);
    let mut text = format!("pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt_id}\nino:\t{ino}\n").into_bytes();
    text.extend(open.file.fdinfo());
    text
}

/// `fd/N`.
struct FdLink {
    attr: Attr,
    shared: Arc<ProcShared>,
    k: &'static Kernel,
    fd: i32,
}

impl Inode for FdLink {
    fn kind(&self) -> FileKind {
        FileKind::Symlink
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        Ok(self.attr.metadata(FileKind::Symlink, 1))
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        let open = file_of(self.k, self.fd)?;
        Ok(describe(&self.shared, self.k, &open.file))
    }

    fn jump_target(&self, link: &Arc<Dentry>) -> Result<Option<Arc<Dentry>>, Errno> {
        let file = file_of(self.k, self.fd)?.file.clone();
        if let Some(dentry) = file.dentry() {
            return Ok(Some(dentry));
        }
        let object = Arc::new(FdObject { file, dev: self.attr.dev });
        Ok(Some(Dentry::new_detached(object, link.mount().clone())))
    }
}

/// What `readlink` of `fd/N` says about `file`.
fn describe(shared: &ProcShared, k: &Kernel, file: &Arc<dyn File>) -> Vec<u8> {
    if let Some(d) = file.dentry() {
        let (mut path, deleted) = k.vfs.path_of(&d);
        if deleted {
            path.extend_from_slice(b" (deleted)");
        }
        return path;
    }
    if let Some(name) = shared.console_fd(file).and_then(|fd| shared.platform.console_name(fd)) {
        return name;
    }
    let st = file.stat().unwrap_or_default();
    match st.st_mode & m::S_IFMT {
        m::S_IFIFO => format!("pipe:[{}]", st.st_ino).into_bytes(),
        m::S_IFSOCK => format!("socket:[{}]", st.st_ino).into_bytes(),
        m::S_IFCHR => char_device_path(st.st_rdev),
        // An anonymous-inode file names its kind (`anon_inode:[eventfd]`) where it
        // knows it.
        _ => file.anon_name().unwrap_or_else(|| b"anon_inode:[unknown]".to_vec()),
    }
}

/// The `/dev` path of a character device, as udev names it: terminals, the memory
/// devices, and `/dev/char/MAJOR:MINOR` (the name every device also has) otherwise.
fn char_device_path(rdev: u64) -> Vec<u8> {
    let (ma, mi) = (major(rdev), minor(rdev));
    match (ma, mi) {
        (136..=143, _) => format!("/dev/pts/{}", (ma - 136) * 256 + mi),
        (4, 0..=63) => format!("/dev/tty{mi}"),
        (4, _) => format!("/dev/ttyS{}", mi - 64),
        (5, 0) => "/dev/tty".into(),
        (5, 1) => "/dev/console".into(),
        (5, 2) => "/dev/ptmx".into(),
        (1, 3) => "/dev/null".into(),
        (1, 5) => "/dev/zero".into(),
        (1, 7) => "/dev/full".into(),
        (1, 8) => "/dev/random".into(),
        (1, 9) => "/dev/urandom".into(),
        _ => format!("/dev/char/{ma}:{mi}"),
    }
    .into_bytes()
}

/// The object behind an fd whose file has no name in the tree, as a node: `stat`
/// describes the file and `open` hands out the file itself.
struct FdObject {
    file: Arc<dyn File>,
    /// procfs's device, for the rare file whose `stat` fails.
    dev: u64,
}

impl FdObject {
    fn stat(&self) -> Stat {
        self.file.stat().unwrap_or(Stat { st_dev: self.dev, ..Stat::default() })
    }
}

impl Inode for FdObject {
    /// The file's type; an anonymous-inode file (no type bits) counts as regular.
    fn kind(&self) -> FileKind {
        FileKind::from_mode(self.stat().st_mode).unwrap_or(FileKind::Regular)
    }

    fn metadata(&self) -> Result<Metadata, Errno> {
        let st = self.file.stat()?;
        let time = |sec, nsec| crate::abi::Timespec { tv_sec: sec, tv_nsec: nsec };
        Ok(Metadata {
            kind: self.kind(),
            mode: st.st_mode & 0o7777,
            nlink: st.st_nlink,
            ino: st.st_ino,
            dev: st.st_dev,
            rdev: st.st_rdev,
            size: st.st_size.max(0) as u64,
            blksize: st.st_blksize.max(0) as u32,
            blocks: st.st_blocks.max(0) as u64,
            uid: st.st_uid,
            gid: st.st_gid,
            atime: time(st.st_atime, st.st_atime_nsec),
            mtime: time(st.st_mtime, st.st_mtime_nsec),
            ctime: time(st.st_ctime, st.st_ctime_nsec),
        })
    }

    /// `O_TRUNC` through the link leaves the object as it is: the file is shared, not
    /// reopened, and a stream has nothing to truncate.
    fn truncate(&self, _len: u64) -> Result<(), Errno> {
        Ok(())
    }

    fn open(&self, _dentry: &Arc<Dentry>, _flags: u32) -> Result<Arc<dyn File>, Errno> {
        // A socket, or an anonymous-inode file (whose mode has no type bits).
        if matches!(self.stat().st_mode & m::S_IFMT, m::S_IFSOCK | 0) {
            return Err(Errno::ENXIO);
        }
        Ok(self.file.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_names_are_plain_decimals() {
        assert_eq!(parse_fd(b"0"), Some(0));
        assert_eq!(parse_fd(b"17"), Some(17));
        assert_eq!(parse_fd(b"2147483647"), Some(i32::MAX));
        for bad in [&b""[..], b"00", b"01", b"-1", b"1a", b"2147483648", b"99999999999", b" 1"] {
            assert_eq!(parse_fd(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn character_devices_get_their_dev_names() {
        use crate::vfs::makedev;
        assert_eq!(char_device_path(makedev(136, 3)), b"/dev/pts/3");
        assert_eq!(char_device_path(makedev(137, 1)), b"/dev/pts/257");
        assert_eq!(char_device_path(makedev(4, 1)), b"/dev/tty1");
        assert_eq!(char_device_path(makedev(4, 64)), b"/dev/ttyS0");
        assert_eq!(char_device_path(makedev(5, 1)), b"/dev/console");
        assert_eq!(char_device_path(makedev(1, 3)), b"/dev/null");
        assert_eq!(char_device_path(makedev(10, 200)), b"/dev/char/10:200");
    }
}
