//! Path resolution with Linux's rules.
//!
//! A path is a sequence of components separated by one or more `/`. Resolution walks
//! them one by one from a starting directory: the root for an absolute path, else the
//! working directory or the directory fd of an `*at` call.
//!
//! - `.` stays, `..` climbs. `..` at the root stays at the root; `..` at the root of a
//!   mount steps to the dentry the mount covers first, so it lands in the parent mount.
//!   Stepping onto a mount point continues at the mounted root.
//! - Every component but the last must be a directory (ENOTDIR) that exists (ENOENT).
//! - A component longer than [`NAME_MAX`] bytes is ENAMETOOLONG when the walk reaches
//!   it; a whole path of [`PATH_MAX`] bytes or more is ENAMETOOLONG before anything.
//!   An empty path is ENOENT (`AT_EMPTY_PATH` is the caller's business).
//! - A symlink met in the middle is always followed: its target replaces it, resolved
//!   from the link's directory (from the root if absolute). The last component is
//!   followed only when asked (`stat` yes, `lstat` no) — or when the path ends in `/`,
//!   which always follows. One resolution follows at most [`MAX_SYMLINKS`] links in
//!   total; the next one is ELOOP.
//! - A *magic link* (`/proc/self/exe`, `/proc/self/cwd`, `/proc/self/fd/N`: an inode
//!   whose [`Inode::jump_target`](super::Inode::jump_target) names a dentry) is followed
//!   by moving to that dentry, not by resolving the text `readlink` shows, as Linux's
//!   `nd_jump_link` does: the walk reaches the object itself even when its name has
//!   gone or was never in the tree. It counts against the same budget.
//! - A trailing `/` means "this must be a directory": ENOTDIR if the last component
//!   names something else.
//!
//! Operations that make or remove a name (`mkdir`, `unlink`, `rename`, `open` with
//! `O_CREAT`) do not resolve the last component: they walk to its *parent* and get the
//! last component back unresolved, classified as a name, `.`, `..` or "the path was
//! only slashes" ([`Last`]), because Linux gives each of these its own errno.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::dentry::Dentry;
use super::{MAX_SYMLINKS, NAME_MAX, PATH_MAX};
use crate::Errno;

/// The last component of a path, unresolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Last {
    /// An ordinary name (not yet checked against [`NAME_MAX`]).
    Name(Vec<u8>),
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// The path had no components at all: `/`, `//`.
    Root,
}

/// The parent directory of a path's last component, and that component.
#[derive(Debug)]
pub struct ParentOf {
    /// The directory the last component is in (for [`Last::Root`], the root itself).
    pub dir: Arc<Dentry>,
    pub last: Last,
    /// The path ended in `/` after its last component.
    pub trailing_slash: bool,
}

/// Checks a whole path as the syscall layer hands it over: ENOENT if empty,
/// ENAMETOOLONG if `PATH_MAX` bytes or longer.
pub fn check_path(path: &[u8]) -> Result<(), Errno> {
    if path.is_empty() {
        Err(Errno::ENOENT)
    } else if path.len() >= PATH_MAX {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(())
    }
}

/// ENAMETOOLONG for a component longer than `NAME_MAX`.
pub fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.len() > NAME_MAX {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(())
    }
}

/// The child `name` of `dir` without crossing a mount on it: what `unlink`, `rmdir`
/// and `rename` look at (the mount point itself, so they can say EBUSY).
pub fn lookup_child(dir: &Arc<Dentry>, name: &[u8]) -> Result<Arc<Dentry>, Errno> {
    check_name(name)?;
    if let Some(cached) = dir.cached(name) {
        if cached.is_mountpoint() {
            return Ok(cached);
        }
    }
    let inode = dir.inode().lookup(name)?;
    Ok(dir.child(name, inode))
}

/// The root of whatever is mounted on `d` (the topmost, if mounts are stacked), or `d`.
pub fn cross_mounts(mut d: Arc<Dentry>) -> Arc<Dentry> {
    while let Some(root) = d.mounted() {
        d = root;
    }
    d
}

/// The absolute path of `d` as seen from `root`, and whether `d`'s name was removed
/// (Linux then appends " (deleted)" in `/proc/self/fd`, and `getcwd` fails).
pub fn absolute_path(root: &Arc<Dentry>, d: &Arc<Dentry>) -> (Vec<u8>, bool) {
    let deleted = d.is_unlinked();
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut cur = d.clone();
    loop {
        if Arc::ptr_eq(&cur, root) {
            break;
        }
        if let Some(covered) = cur.covers() {
            cur = covered.clone();
            continue;
        }
        match cur.parent() {
            Some(parent) => {
                names.push(cur.name());
                cur = parent;
            }
            // A root that is not ours: what is left of the path is all we know.
            None => break,
        }
    }
    let mut path = Vec::new();
    for name in names.iter().rev() {
        path.push(b'/');
        path.extend_from_slice(name);
    }
    if path.is_empty() {
        path.push(b'/');
    }
    (path, deleted)
}

/// Where following a symlink leads.
#[derive(Debug)]
pub enum LinkTarget {
    /// An ordinary symlink's text, to be resolved from the link's directory.
    Path(Vec<u8>),
    /// A magic link's object: the walk continues there.
    Jump(Arc<Dentry>),
}

/// One path resolution: the root it resolves against and the symlinks it has followed.
///
/// A `Walker` lives for one system call, so the symlink budget is shared by every
/// piece of it (an `open` with `O_CREAT` that follows a link to a missing file walks
/// twice on one budget).
pub struct Walker {
    root: Arc<Dentry>,
    links: u32,
}

impl Walker {
    pub fn new(root: Arc<Dentry>) -> Walker {
        Walker { root, links: 0 }
    }

    /// Symlinks followed so far.
    pub fn links_followed(&self) -> u32 {
        self.links
    }

    /// `..` of `d`.
    pub fn dotdot(&self, d: &Arc<Dentry>) -> Arc<Dentry> {
        let mut cur = d.clone();
        loop {
            if Arc::ptr_eq(&cur, &self.root) {
                return cur;
            }
            if let Some(covered) = cur.covers() {
                cur = covered.clone();
                continue;
            }
            return match cur.parent() {
                Some(parent) => cross_mounts(parent),
                None => cur,
            };
        }
    }

    /// Follows the symlink `link`: counts it against the budget (ELOOP past
    /// `MAX_SYMLINKS`) and returns where it leads: a magic link's object, or the text
    /// of an ordinary one (ENOENT if empty).
    pub fn follow(&mut self, link: &Arc<Dentry>) -> Result<LinkTarget, Errno> {
        if self.links >= MAX_SYMLINKS {
            return Err(Errno::ELOOP);
        }
        self.links += 1;
        if let Some(object) = link.inode().jump_target(link)? {
            return Ok(LinkTarget::Jump(object));
        }
        let target = link.inode().readlink()?;
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        Ok(LinkTarget::Path(target))
    }

    /// One step from directory `dir` through component `name` (`.`, `..` or a name),
    /// crossing onto mounted roots; symlinks are returned, not followed.
    fn step(&self, dir: &Arc<Dentry>, name: &[u8]) -> Result<Arc<Dentry>, Errno> {
        match name {
            b"." => Ok(dir.clone()),
            b".." => Ok(self.dotdot(dir)),
            _ => lookup_child(dir, name).map(cross_mounts),
        }
    }

    /// Walks every component of `path` but the last, starting at `start` if `path` is
    /// relative, and returns the directory the last component is in.
    pub fn parent(&mut self, start: &Arc<Dentry>, path: &[u8]) -> Result<ParentOf, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let mut dir = if path[0] == b'/' {
            self.root.clone()
        } else if !start.is_dir() {
            return Err(Errno::ENOTDIR);
        } else {
            start.clone()
        };
        // The remaining path: borrowed until a symlink's target is spliced in.
        let mut owned: Vec<u8>;
        let mut rest: &[u8] = path;
        loop {
            let begin = rest.iter().position(|&b| b != b'/').unwrap_or(rest.len());
            if begin == rest.len() {
                // Only slashes: the path named the directory itself.
                return Ok(ParentOf { dir, last: Last::Root, trailing_slash: false });
            }
            let end = rest[begin..].iter().position(|&b| b == b'/').map_or(rest.len(), |i| begin + i);
            let name = &rest[begin..end];
            let after = rest[end..].iter().position(|&b| b != b'/').map_or(rest.len(), |i| end + i);
            if after == rest.len() {
                let last = match name {
                    b"." => Last::Dot,
                    b".." => Last::DotDot,
                    _ => Last::Name(name.to_vec()),
                };
                return Ok(ParentOf { dir, last, trailing_slash: end < rest.len() });
            }
            let next = self.step(&dir, name)?;
            match next.kind() {
                super::FileKind::Directory => {
                    dir = next;
                    rest = &rest[end..];
                }
                super::FileKind::Symlink => match self.follow(&next)? {
                    LinkTarget::Jump(object) if object.is_dir() => {
                        dir = object;
                        rest = &rest[end..];
                    }
                    LinkTarget::Jump(_) => return Err(Errno::ENOTDIR),
                    LinkTarget::Path(mut spliced) => {
                        spliced.extend_from_slice(&rest[end..]);
                        if spliced[0] == b'/' {
                            dir = self.root.clone();
                        }
                        owned = spliced;
                        rest = &owned;
                    }
                },
                _ => return Err(Errno::ENOTDIR),
            }
        }
    }

    /// Resolves `path` completely. The last component is followed if it is a symlink
    /// and `follow` is set or the path ends in `/`.
    pub fn resolve(&mut self, start: &Arc<Dentry>, path: &[u8], follow: bool) -> Result<Arc<Dentry>, Errno> {
        let mut start = start.clone();
        let mut owned: Vec<u8>;
        let mut path = path;
        loop {
            let p = self.parent(&start, path)?;
            let mut node = match &p.last {
                Last::Root | Last::Dot => p.dir.clone(),
                Last::DotDot => self.dotdot(&p.dir),
                Last::Name(name) => lookup_child(&p.dir, name).map(cross_mounts)?,
            };
            if node.kind() == super::FileKind::Symlink && (follow || p.trailing_slash) {
                match self.follow(&node)? {
                    // The object is the answer; it is not followed again.
                    LinkTarget::Jump(object) => node = object,
                    LinkTarget::Path(mut target) => {
                        if p.trailing_slash {
                            target.push(b'/');
                        }
                        start = p.dir;
                        owned = target;
                        path = &owned;
                        continue;
                    }
                }
            }
            if p.trailing_slash && !node.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Ok(node);
        }
    }
}
