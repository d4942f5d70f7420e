//! A FAT volume as a `libos::vfs` filesystem, with Linux vfat's behaviour: what the libOS
//! mounts at `/`.
//!
//! ```text
//!   libos::vfs ──▶ FatFs (FileSystem) ─ root ─▶ FatInode (Inode) = mount + inode number
//!                     │                             │ every call: lock, then
//!                     ▼                             ▼
//!                   Volume: spin::Mutex<State> ── State: the leaked fatfs FileSystem,
//!                                                  nodes by inode number, each with its
//!                                                  kept fatfs File / Dir and, for a
//!                                                  directory, its Listing (names → entries)
//!                                                  and Layout (entries → slots, free slots)
//! ```
//!
//! - **Handles are kept.** fatfs 0.3.6 opens everything by walking from the root and
//!   scanning directories. Here its `FileSystem` is leaked to `'static` at mount, so fatfs
//!   `File`s and `Dir`s can live in the nodes: a read continues on the handle where the
//!   last one stopped, and a directory is read from the volume once, into a `Listing`
//!   that answers lookups through a hash of the case-folded name and that this layer keeps
//!   up to date as it changes the directory (nothing else writes the volume).
//! - **Directory entries are written here, not by fatfs** (`entries`, with `layout`,
//!   `free_runs` and `clusters`): fatfs scans the whole directory to create, remove or
//!   rename, which makes large directories quadratic; here each costs O(name length), and
//!   fatfs is kept coherent with what is written behind it (see `entries`).
//! - **One lock.** fatfs is single-threaded; the filesystem and every object that refers
//!   to it live in `state::State` behind the mount's one `spin::Mutex`.
//! - **Nodes live as long as their entries.** A node gets its inode number from a counter
//!   when its directory is first listed and keeps it while the entry exists (renames
//!   included), which is what `stat`, `getdents64` and the VFS's dentry cache need.
//! - **vfat's rules** for names (`names.rs`), modes and owners (`mode.rs`) and times
//!   (`times.rs`); `statfs` says `msdos` (`MSDOS_SUPER_MAGIC`) with vfat's `f_namelen` of
//!   1530 (255 UTF-16 units × 6 bytes, what Linux reports).

mod clock;
mod clusters;
mod data;
mod detach;
mod entries;
mod errno;
mod free_runs;
mod layout;
mod listing;
mod mode;
mod names;
mod node;
mod raw;
mod state;
mod superblock;
mod times;
mod tree;

use alloc::boxed::Box;
use alloc::sync::Arc;

use fatfs::FsOptions;
use libos::vfs::inode::magic::MSDOS_SUPER_MAGIC;
use libos::vfs::mount::anon_dev;
use libos::vfs::{Clock, FileSystem, Inode, Statfs};
use libos::Errno;

use crate::blockio::{BlockIo, Stale, DEFAULT_CACHE_BLOCKS};
use crate::BlockDevice;

use clock::FatClock;
use detach::{Detachable, SharedDevice};
use errno::io;
use state::{State, ROOT_INO};

pub use node::FatInode;

/// What `statfs` reports as the longest name: vfat's 255 UTF-16 units times
/// `NLS_MAX_CHARSET_SIZE` (6).
pub const VFAT_NAMELEN: i64 = 255 * 6;

/// How a FAT volume is presented, as the options of a Linux vfat mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountOptions {
    /// Owner of every file (vfat's `uid=`, by default the mounter's).
    pub uid: u32,
    /// Group of every file (`gid=`).
    pub gid: u32,
    /// Permission bits files do not have (`fmask=`, by default the mounter's umask).
    pub fmask: u32,
    /// Permission bits directories do not have (`dmask=`).
    pub dmask: u32,
    /// The device number every node reports (`st_dev`).
    pub dev: u64,
    /// Metadata cache of the device adapter, in 4 KiB blocks.
    pub cache_blocks: usize,
}

impl MountOptions {
    /// Files and directories owned by `uid:gid`, masks of a `022` umask (so both show
    /// `0755`), and a new anonymous device number.
    pub fn new(uid: u32, gid: u32) -> MountOptions {
        MountOptions { uid, gid, fmask: 0o022, dmask: 0o022, dev: anon_dev(), cache_blocks: DEFAULT_CACHE_BLOCKS }
    }
}

/// One mount: the locked fatfs state and what every node needs to know.
pub(crate) struct Volume {
    state: spin::Mutex<State>,
    device: Arc<Detachable>,
    opts: MountOptions,
    cluster_size: u32,
    /// Where the FSInfo sector is.
    fs_info: u64,
}

fn device_errno(e: crate::IoError) -> Errno {
    errno::from_fs(e.into())
}

impl Volume {
    fn flush_device(&self) -> Result<(), Errno> {
        self.device.flush().map_err(device_errno)
    }

    /// `syncfs`: drops what unlinked files no longer in use still hold, records the free
    /// cluster count and flushes the device. (Every other change is on the device when its
    /// call returns.)
    fn sync(&self) -> Result<(), Errno> {
        let free = {
            let mut st = self.state.lock();
            st.prune()?;
            st.cluster_counts()?.1
        };
        match superblock::write_free_count(&*self.device, self.fs_info, free) {
            // A read-only device keeps what it has, as a read-only mount would.
            Ok(()) | Err(crate::IoError::ReadOnly) => {}
            Err(e) => return Err(device_errno(e)),
        }
        self.flush_device()
    }
}

impl Drop for Volume {
    /// The unmount: the last inode object and the `FatFs` are gone.
    fn drop(&mut self) {
        // Errors cannot be reported from here; the volume stays marked dirty then, and
        // the next mount recounts.
        if self.sync().is_ok() {
            let _ = superblock::mark_clean(&*self.device).and_then(|()| self.device.flush());
        }
        // The fatfs filesystem is leaked; the device need not be (see `detach`).
        self.device.detach();
    }
}

/// A mounted FAT volume: the `libos::vfs::FileSystem` the libOS mounts at `/`.
pub struct FatFs {
    vol: Arc<Volume>,
    root: Arc<FatInode>,
}

impl FatFs {
    /// Mounts the FAT volume on `device`, taking the time for new timestamps from `clock`.
    /// EIO if the device holds no FAT32 volume fatfs can open; EROFS if it refuses writes.
    ///
    /// The fatfs filesystem is leaked (about the size of the metadata cache, 1 MiB by
    /// default) so that its handles can be kept: mount once per process. When the `FatFs`
    /// and every inode it handed out are gone, the volume is unmounted (free count and
    /// clean flag written, device flushed) and the device released.
    pub fn mount(
        device: impl BlockDevice + Send + Sync + 'static,
        clock: Clock,
        opts: MountOptions,
    ) -> Result<Arc<FatFs>, Errno> {
        let device: SharedDevice = Arc::new(device);
        let device = Arc::new(Detachable::new(device));
        let time: &'static FatClock = Box::leak(Box::new(FatClock(clock.clone())));
        let stale = Arc::new(Stale::default());
        let disk = BlockIo::with_invalidation(device.clone(), opts.cache_blocks, stale.clone());
        let fs =
            fatfs::FileSystem::new(disk, FsOptions::new().time_provider(time)).map_err(|e| {
                match errno::from_io(&e) {
                    Errno::EROFS => Errno::EROFS,
                    _ => Errno::EIO,
                }
            })?;
        if fs.fat_type() != fatfs::FatType::Fat32 {
            return Err(Errno::EIO);
        }
        // Counts the free clusters now if FSInfo does not say: from here on fatfs only
        // adjusts its count (see `clusters`).
        io(fs.stats())?;
        let fs: &'static state::Fs = Box::leak(Box::new(fs));
        let cluster_size = fs.cluster_size();
        let raw = raw::RawVolume::new(device.clone(), stale)?;
        let fs_info = raw.geo.fs_info_offset;
        let state = State::new(fs, raw, clock);
        let vol = Arc::new(Volume { state: spin::Mutex::new(state), device, opts, cluster_size, fs_info });
        let root = vol.state.lock().handle(&vol, ROOT_INO)?;
        Ok(Arc::new(FatFs { vol, root }))
    }

    /// The mount's options.
    pub fn options(&self) -> &MountOptions {
        &self.vol.opts
    }
}

impl FileSystem for FatFs {
    fn root(&self) -> Arc<dyn Inode> {
        self.root.clone()
    }

    fn fs_type(&self) -> &'static str {
        "vfat"
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        let (total, free) = {
            let mut st = self.vol.state.lock();
            let _ = st.prune();
            st.cluster_counts()?
        };
        let dev = self.vol.opts.dev;
        let bsize = i64::from(self.vol.cluster_size);
        Ok(Statfs {
            f_type: MSDOS_SUPER_MAGIC,
            f_bsize: bsize,
            f_blocks: u64::from(total),
            f_bfree: u64::from(free),
            f_bavail: u64::from(free),
            f_files: 0,
            f_ffree: 0,
            f_fsid: [dev as u32 as i32, (dev >> 32) as u32 as i32],
            f_namelen: VFAT_NAMELEN,
            f_frsize: bsize,
            ..Statfs::default()
        })
    }

    fn sync(&self) -> Result<(), Errno> {
        self.vol.sync()
    }

    /// The process is ending and the `FatFs` will not be dropped: what the drop of the
    /// volume would do, now (synced, marked clean, flushed).
    fn unmount(&self) -> Result<(), Errno> {
        self.vol.sync()?;
        match superblock::mark_clean(&*self.vol.device) {
            Ok(()) | Err(crate::IoError::ReadOnly) => {}
            Err(e) => return Err(device_errno(e)),
        }
        self.vol.flush_device()
    }
}

impl core::fmt::Debug for FatFs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FatFs").field("opts", &self.vol.opts).field("cluster_size", &self.vol.cluster_size).finish()
    }
}
