//! [`FatVolume`]: a mounted FAT volume with the operations the VFS calls, by path.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use fatfs::{FatType, FileSystem, FormatVolumeOptions, FsOptions};

use crate::blockio::{BlockIo, DEFAULT_CACHE_BLOCKS};
use crate::fio::{Read, Seek, SeekFrom, Write};
use crate::path::{components, same_name, validate_name, Ino};
use crate::time::{date_to_unix, datetime_to_unix, unix_to_datetime, FAT_EPOCH};
use crate::{BlockDevice, FsError};

/// Largest FAT file: 4 GiB − 1.
pub const MAX_FILE_SIZE: u64 = u32::MAX as u64;

/// Smallest device [`format`] accepts: FAT32 needs 65,525 clusters, so 512-byte clusters
/// and room for the FATs.
pub const MIN_VOLUME_SIZE: u64 = 33 * 1024 * 1024;

/// Bytes moved per step by [`FatVolume::read_stream`] and [`FatVolume::write_stream`].
const STREAM_CHUNK: usize = 256 * 1024;

pub(crate) type Disk<D> = BlockIo<Arc<D>>;
pub(crate) type Fs<D> = FileSystem<Disk<D>>;
pub(crate) type FDir<'a, D> = fatfs::Dir<'a, Disk<D>>;
pub(crate) type FEntry<'a, D> = fatfs::DirEntry<'a, Disk<D>>;
pub(crate) type FFile<'a, D> = fatfs::File<'a, Disk<D>>;

fn io<T>(r: Result<T, crate::fio::Error>) -> Result<T, FsError> {
    r.map_err(|e| FsError::from_io(&e))
}

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
}

/// What `stat` reports. Times are Unix seconds (UTC); FAT keeps the modification time to
/// 2 s and the access time to the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// File or directory.
    pub kind: FileKind,
    /// Length in bytes; 0 for directories.
    pub size: u64,
    /// Last modification.
    pub mtime: i64,
    /// Last access (midnight of that day).
    pub atime: i64,
    /// Creation.
    pub created: i64,
    /// The FAT read-only attribute.
    pub read_only: bool,
    /// A stable number for the path (see [`crate::path::ino_of`]); 1 for the root.
    pub ino: u64,
}

/// One entry of [`FatVolume::read_dir`] (`.` and `..` are not listed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The long name (or the short name when there is no long one).
    pub name: String,
    /// File or directory.
    pub kind: FileKind,
    /// Length in bytes; 0 for directories.
    pub size: u64,
    /// Inode number, as [`Metadata::ino`] would give for this entry's path.
    pub ino: u64,
    /// Last modification, Unix seconds.
    pub mtime: i64,
}

/// What `statfs` needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatFs {
    /// Data clusters on the volume.
    pub total_clusters: u32,
    /// Clusters not in use.
    pub free_clusters: u32,
    /// Bytes per cluster (the natural I/O size).
    pub cluster_size: u32,
}

/// How to open a volume.
#[derive(Clone, Copy, Debug)]
pub struct VolumeOptions {
    /// The current time in Unix seconds, for the timestamps FAT records. Default: the host
    /// clock with the `std` feature, else 0 (stored as 1980-01-01, FAT's earliest date).
    pub clock: fn() -> i64,
    /// Metadata cache size in 4 KiB blocks (0 disables it). Default 256 (1 MiB).
    pub cache_blocks: usize,
}

fn default_clock() -> i64 {
    #[cfg(feature = "std")]
    {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(_) => 0,
        }
    }
    #[cfg(not(feature = "std"))]
    {
        0
    }
}

impl Default for VolumeOptions {
    fn default() -> Self {
        VolumeOptions { clock: default_clock, cache_blocks: DEFAULT_CACHE_BLOCKS }
    }
}

/// fatfs's time source, backed by a plain function (so it is `Sync`: see `Mounted`).
#[derive(Debug)]
struct Clock(fn() -> i64);

impl fatfs::TimeProvider for Clock {
    fn get_current_date(&self) -> fatfs::Date {
        unix_to_datetime((self.0)()).date
    }
    fn get_current_date_time(&self) -> fatfs::DateTime {
        unix_to_datetime((self.0)())
    }
}

/// The mounted fatfs filesystem.
struct Mounted<D: BlockDevice>(Fs<D>);

// SAFETY: `FileSystem` is not `Send` only because its options hold `&'static dyn
// TimeProvider` and `&'static dyn OemCpConverter` (trait objects without a `Sync` bound).
// Everything else in it is owned data (`RefCell<Disk<D>>`, `Cell`s, integers), and
// `Disk<D>` = `BlockIo<Arc<D>>` is `Send` when `D: Send + Sync`. Moving a shared reference
// to another thread is sound when the referent is `Sync`. Both referents are chosen by
// `FatVolume::open_with` and nothing else: the time provider is a leaked `Clock`, which is
// `Sync` (a `fn` pointer; checked by `assert_sync` below), and the OEM converter is fatfs's
// default, a `static` (statics must be `Sync`). The filesystem is only ever used behind the
// `spin::Mutex` in `FatVolume`, one thread at a time, so its `RefCell`s and `Cell`s are never
// touched concurrently.
#[allow(unsafe_code)]
unsafe impl<D: BlockDevice + Send + Sync> Send for Mounted<D> {}

const fn assert_sync<T: Sync>() {}
const _: () = assert_sync::<Clock>();

/// A FAT volume on a [`BlockDevice`], safe to share between threads.
///
/// Every operation takes the one lock around the whole filesystem, so operations are
/// atomic with respect to each other (fatfs itself is single-threaded). Paths are relative
/// to the volume root, `/`-separated; see [`components`] for what is accepted. Names are
/// matched as FAT does: ignoring case, and by long name or 8.3 alias.
///
/// Files are opened afresh by each call (fatfs's `File` borrows the filesystem, so it
/// cannot outlive the lock guard). A handle cache would go here: keeping per open file the
/// directory entry location and the cluster reached at the last offset, so that `read_at`
/// continuing where the last call stopped does not walk the cluster chain from the start
/// (it costs one FAT lookup per cluster skipped, from the cache). That needs a way to keep
/// fatfs objects across calls: a `'static` filesystem (the root volume lives as long as the
/// process) or a fatfs with owned handles.
///
/// Dropping the volume unmounts it (writes the FSInfo sector and clears the dirty flag);
/// [`FatVolume::unmount`] does the same and reports errors.
pub struct FatVolume<D: BlockDevice> {
    dev: Arc<D>,
    fs: spin::Mutex<Mounted<D>>,
}

/// How to format a device.
#[derive(Clone, Copy, Debug, Default)]
pub struct FormatOptions {
    /// Bytes per cluster (a power of two from 512 to 32768). Default: the largest of 512 to
    /// 4096 that leaves FAT32 its minimum cluster count.
    pub cluster_size: Option<u32>,
    /// The volume label (padded with spaces). Default `NO NAME`.
    pub volume_label: Option<[u8; 11]>,
    /// The volume serial number.
    pub volume_id: Option<u32>,
}

/// The cluster size [`format`] picks for a device of `len` bytes.
pub fn default_cluster_size(len: u64) -> u32 {
    // FAT32 needs at least 65,525 clusters; keep 1.5 % spare for the FATs and reserved
    // sectors. 4 KiB clusters match the page size (and future file-backed mmap).
    for cs in [4096u32, 2048, 1024] {
        if len / u64::from(cs) >= 66_600 {
            return cs;
        }
    }
    512
}

/// Formats `dev` as one FAT32 volume filling the device (no partition table).
pub fn format<D: BlockDevice + ?Sized>(dev: &D, opts: &FormatOptions) -> Result<(), FsError> {
    let len = dev.len();
    if len < MIN_VOLUME_SIZE {
        return Err(FsError::InvalidArgument);
    }
    let mut o = FormatVolumeOptions::new()
        .fat_type(FatType::Fat32)
        .bytes_per_cluster(opts.cluster_size.unwrap_or_else(|| default_cluster_size(len)));
    if let Some(label) = opts.volume_label {
        o = o.volume_label(label);
    }
    if let Some(id) = opts.volume_id {
        o = o.volume_id(id);
    }
    fatfs::format_volume(BlockIo::new(dev, 0), o).map_err(|e| {
        if crate::blockio::is_device_error(&e) {
            FsError::from_io(&e)
        } else {
            // fatfs refuses a geometry it cannot build with a generic error.
            FsError::InvalidArgument
        }
    })?;
    // fatfs falls back to FAT16 or FAT12 when the cluster size gives too few clusters for
    // FAT32; we promise FAT32.
    let fs = FileSystem::new(BlockIo::new(dev, 0), FsOptions::new()).map_err(|e| FsError::from_io(&e))?;
    if fs.fat_type() != FatType::Fat32 {
        return Err(FsError::InvalidArgument);
    }
    Ok(())
}

/// Reads until `buf` is full or the file ends.
fn read_full<R: Read>(f: &mut R, buf: &mut [u8]) -> Result<usize, FsError> {
    let mut done = 0;
    while done < buf.len() {
        match io(f.read(&mut buf[done..]))? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

/// Appends `len` zero bytes at the file's position.
fn write_zeros<W: Write>(f: &mut W, mut len: u64) -> Result<(), FsError> {
    let zeros = vec![0u8; STREAM_CHUNK];
    while len > 0 {
        let n = len.min(zeros.len() as u64) as usize;
        io(f.write_all(&zeros[..n]))?;
        len -= n as u64;
    }
    Ok(())
}

/// The entry called `name` in `dir`, compared as fatfs does (ignoring case, long name or
/// 8.3 alias).
pub(crate) fn lookup<'a, D: BlockDevice>(dir: &FDir<'a, D>, name: &str) -> Result<Option<FEntry<'a, D>>, FsError> {
    for e in dir.iter() {
        let e = io(e)?;
        if same_name(&e.file_name(), name) || same_name(&e.short_file_name(), name) {
            return Ok(Some(e));
        }
    }
    Ok(None)
}

/// The directory `comps` names.
pub(crate) fn walk_dir<'a, D: BlockDevice>(fs: &'a Fs<D>, comps: &[&str]) -> Result<FDir<'a, D>, FsError> {
    let mut dir = fs.root_dir();
    for name in comps {
        dir = match lookup(&dir, name)? {
            None => return Err(FsError::NotFound),
            Some(e) if !e.is_dir() => return Err(FsError::NotADirectory),
            Some(e) => e.to_dir(),
        };
    }
    Ok(dir)
}

fn is_dot(e: &FEntry<'_, impl BlockDevice>) -> bool {
    let n = e.short_file_name_as_bytes();
    n == b"." || n == b".."
}

fn dir_is_empty<D: BlockDevice>(dir: &FDir<'_, D>) -> Result<bool, FsError> {
    for e in dir.iter() {
        if !is_dot(&io(e)?) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn kind_of(e: &FEntry<'_, impl BlockDevice>) -> FileKind {
    if e.is_dir() {
        FileKind::Dir
    } else {
        FileKind::File
    }
}

fn metadata_of(e: &FEntry<'_, impl BlockDevice>, ino: u64) -> Metadata {
    let kind = kind_of(e);
    Metadata {
        kind,
        size: if kind == FileKind::Dir { 0 } else { e.len() },
        mtime: datetime_to_unix(e.modified()),
        atime: date_to_unix(e.accessed()),
        created: datetime_to_unix(e.created()),
        read_only: e.attributes().contains(fatfs::FileAttributes::READ_ONLY),
        ino,
    }
}

/// A path split into its parent's names and its last name; `None` for the root.
fn split_last<'p>(comps: &'p [&'p str]) -> Option<(&'p [&'p str], &'p str)> {
    comps.split_last().map(|(last, parent)| (parent, *last))
}

/// The regular file `comps` names, or why not.
fn file_entry<'a, D: BlockDevice>(fs: &'a Fs<D>, comps: &[&str]) -> Result<FEntry<'a, D>, FsError> {
    let (parent, name) = split_last(comps).ok_or(FsError::IsADirectory)?;
    let e = lookup(&walk_dir(fs, parent)?, name)?.ok_or(FsError::NotFound)?;
    if e.is_dir() {
        return Err(FsError::IsADirectory);
    }
    Ok(e)
}

/// Writes everything `source` produces into `f` at `off`, growing the file (with zeros
/// first if `off` is past its end). Returns the bytes written; stops short (without error)
/// at the 4 GiB limit or, if something was written, at the first error.
pub(crate) fn write_into<D: BlockDevice>(
    f: &mut FFile<'_, D>,
    size: u64,
    off: u64,
    source: &mut dyn FnMut(&mut [u8]) -> Result<usize, FsError>,
    buf: &mut [u8],
) -> Result<u64, FsError> {
    if off >= MAX_FILE_SIZE {
        return Err(FsError::FileTooBig);
    }
    if off > size {
        io(f.seek(SeekFrom::End(0)))?;
        write_zeros(f, off - size)?;
    }
    io(f.seek(SeekFrom::Start(off)))?;
    let mut done: u64 = 0;
    loop {
        let room = MAX_FILE_SIZE - (off + done);
        let want = (buf.len() as u64).min(room) as usize;
        if want == 0 {
            break;
        }
        let n = source(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        let mut at = 0;
        while at < n {
            match f.write(&buf[at..n]) {
                Ok(0) => return if done > 0 { Ok(done) } else { Err(FsError::FileTooBig) },
                Ok(k) => {
                    at += k;
                    done += k as u64;
                }
                Err(_) if done > 0 => return Ok(done),
                Err(e) => return Err(FsError::from_io(&e)),
            }
        }
    }
    io(f.flush())?;
    Ok(done)
}

impl<D: BlockDevice> FatVolume<D> {
    /// Mounts the FAT volume on `dev` with default options.
    pub fn open(dev: D) -> Result<FatVolume<D>, FsError> {
        FatVolume::open_with(dev, VolumeOptions::default())
    }

    /// Mounts the FAT volume on `dev`. FAT12, FAT16 and FAT32 are accepted.
    pub fn open_with(dev: D, opts: VolumeOptions) -> Result<FatVolume<D>, FsError> {
        let dev = Arc::new(dev);
        // One `Clock` per mount, leaked: fatfs wants a `&'static` time provider. It is the
        // size of a pointer.
        let clock: &'static Clock = Box::leak(Box::new(Clock(opts.clock)));
        let disk = BlockIo::new(Arc::clone(&dev), opts.cache_blocks);
        let fs =
            FileSystem::new(disk, FsOptions::new().time_provider(clock)).map_err(|e| match FsError::from_io(&e) {
                FsError::ReadOnly => FsError::ReadOnly,
                _ => FsError::Corrupt,
            })?;
        Ok(FatVolume { dev, fs: spin::Mutex::new(Mounted(fs)) })
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.dev
    }

    /// Runs `f` on the filesystem under the lock.
    pub(crate) fn with_fs<R, E>(&self, f: impl FnOnce(&Fs<D>) -> Result<R, E>) -> Result<R, E> {
        let guard = self.fs.lock();
        f(&guard.0)
    }

    /// What `path` is.
    pub fn stat(&self, path: &str) -> Result<Metadata, FsError> {
        let comps = components(path)?;
        self.with_fs(|fs| {
            let Some((parent, name)) = split_last(&comps) else {
                return Ok(Metadata {
                    kind: FileKind::Dir,
                    size: 0,
                    mtime: FAT_EPOCH,
                    atime: FAT_EPOCH,
                    created: FAT_EPOCH,
                    read_only: false,
                    ino: 1,
                });
            };
            let e = lookup(&walk_dir(fs, parent)?, name)?.ok_or(FsError::NotFound)?;
            Ok(metadata_of(&e, Ino::of(&comps).get()))
        })
    }

    /// The entries of directory `path`, in on-disk order, without `.` and `..`.
    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let comps = components(path)?;
        let base = Ino::of(&comps);
        self.with_fs(|fs| {
            let dir = walk_dir(fs, &comps)?;
            let mut out = Vec::new();
            for e in dir.iter() {
                let e = io(e)?;
                if is_dot(&e) {
                    continue;
                }
                let name = e.file_name();
                let m = metadata_of(&e, base.child(&name).get());
                out.push(DirEntry { name, kind: m.kind, size: m.size, ino: m.ino, mtime: m.mtime });
            }
            Ok(out)
        })
    }

    /// Reads from file `path` at `off` into `buf`; returns the bytes read (0 at or past the
    /// end).
    pub fn read_at(&self, path: &str, off: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let comps = components(path)?;
        self.with_fs(|fs| {
            let e = file_entry(fs, &comps)?;
            if off >= e.len() || buf.is_empty() {
                return Ok(0);
            }
            let mut f = e.to_file();
            io(f.seek(SeekFrom::Start(off)))?;
            read_full(&mut f, buf)
        })
    }

    /// Reads the whole of file `path`.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let mut out = Vec::new();
        self.read_stream(path, 0, &mut |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// Passes file `path` from `off` to its end to `sink`, in chunks, with one open file (so
    /// a long file is read in linear time). Returns the bytes passed.
    pub fn read_stream(
        &self,
        path: &str,
        off: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), FsError>,
    ) -> Result<u64, FsError> {
        let comps = components(path)?;
        self.with_fs(|fs| {
            let e = file_entry(fs, &comps)?;
            if off >= e.len() {
                return Ok(0);
            }
            let mut f = e.to_file();
            io(f.seek(SeekFrom::Start(off)))?;
            let mut buf = vec![0u8; STREAM_CHUNK];
            let mut total = 0;
            loop {
                let n = read_full(&mut f, &mut buf)?;
                if n == 0 {
                    return Ok(total);
                }
                sink(&buf[..n])?;
                total += n as u64;
            }
        })
    }

    /// Writes `buf` into file `path` at `off`, extending the file (with zeros between its
    /// old end and `off`). Returns the bytes written: all of them, or fewer if the volume
    /// filled up or the file reached 4 GiB − 1 after some were written (as Linux's `write`
    /// does); `NoSpace` / `FileTooBig` if none could be.
    pub fn write_at(&self, path: &str, off: u64, buf: &[u8]) -> Result<usize, FsError> {
        let mut rest = buf;
        let mut scratch = vec![0u8; buf.len().min(STREAM_CHUNK)];
        let n = self.write_stream_with(path, off, &mut scratch, &mut |out| {
            let n = out.len().min(rest.len());
            out[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            Ok(n)
        })?;
        Ok(n as usize)
    }

    /// Writes what `source` produces (until it returns 0) into file `path` at `off`, with
    /// one open file, so a long file is written in linear time. Returns the bytes written,
    /// with [`FatVolume::write_at`]'s rule for running out of space.
    pub fn write_stream(
        &self,
        path: &str,
        off: u64,
        source: &mut dyn FnMut(&mut [u8]) -> Result<usize, FsError>,
    ) -> Result<u64, FsError> {
        let mut buf = vec![0u8; STREAM_CHUNK];
        self.write_stream_with(path, off, &mut buf, source)
    }

    fn write_stream_with(
        &self,
        path: &str,
        off: u64,
        buf: &mut [u8],
        source: &mut dyn FnMut(&mut [u8]) -> Result<usize, FsError>,
    ) -> Result<u64, FsError> {
        let comps = components(path)?;
        self.with_fs(|fs| {
            let e = file_entry(fs, &comps)?;
            let size = e.len();
            let mut f = e.to_file();
            if buf.is_empty() {
                return Ok(0);
            }
            write_into(&mut f, size, off, source, buf)
        })
    }

    /// Creates an empty file. If the name is taken: `AlreadyExists` when `exclusive`
    /// (`O_CREAT|O_EXCL`), `IsADirectory` for a directory, else success (`O_CREAT` on an
    /// existing file).
    pub fn create_file(&self, path: &str, exclusive: bool) -> Result<(), FsError> {
        let comps = components(path)?;
        self.with_fs(|fs| {
            let Some((parent, name)) = split_last(&comps) else {
                return Err(if exclusive { FsError::AlreadyExists } else { FsError::IsADirectory });
            };
            let dir = walk_dir(fs, parent)?;
            match lookup(&dir, name)? {
                Some(_) if exclusive => Err(FsError::AlreadyExists),
                Some(e) if e.is_dir() => Err(FsError::IsADirectory),
                Some(_) => Ok(()),
                None => {
                    validate_name(name)?;
                    io(dir.create_file(name)).map(drop)
                }
            }
        })
    }

    /// Creates a directory (`AlreadyExists` if the name is taken).
    pub fn create_dir(&self, path: &str) -> Result<(), FsError> {
        let comps = components(path)?;
        self.with_fs(|fs| {
            let (parent, name) = split_last(&comps).ok_or(FsError::AlreadyExists)?;
            let dir = walk_dir(fs, parent)?;
            if lookup(&dir, name)?.is_some() {
                return Err(FsError::AlreadyExists);
            }
            validate_name(name)?;
            io(dir.create_dir(name)).map(drop)
        })
    }

    /// Removes a file or an empty directory (`DirectoryNotEmpty` otherwise).
    ///
    /// FAT frees a file's clusters at once: the VFS must keep a removed file that is still
    /// open alive itself if it wants Linux's semantics.
    pub fn remove(&self, path: &str) -> Result<(), FsError> {
        self.remove_kind(path, None)
    }

    /// `unlink`: removes a file; `IsADirectory` for a directory.
    pub fn remove_file(&self, path: &str) -> Result<(), FsError> {
        self.remove_kind(path, Some(FileKind::File))
    }

    /// `rmdir`: removes an empty directory; `NotADirectory` for a file.
    pub fn remove_dir(&self, path: &str) -> Result<(), FsError> {
        self.remove_kind(path, Some(FileKind::Dir))
    }

    fn remove_kind(&self, path: &str, want: Option<FileKind>) -> Result<(), FsError> {
        let comps = components(path)?;
        self.with_fs(|fs| {
            let (parent, name) = split_last(&comps).ok_or(FsError::Busy)?;
            let dir = walk_dir(fs, parent)?;
            let e = lookup(&dir, name)?.ok_or(FsError::NotFound)?;
            match (want, kind_of(&e)) {
                (Some(FileKind::File), FileKind::Dir) => return Err(FsError::IsADirectory),
                (Some(FileKind::Dir), FileKind::File) => return Err(FsError::NotADirectory),
                _ => {}
            }
            if e.is_dir() && !dir_is_empty(&e.to_dir())? {
                return Err(FsError::DirectoryNotEmpty);
            }
            io(dir.remove(name))
        })
    }

    /// Renames `from` to `to`, as Linux's `rename`: an existing `to` is replaced if it is a
    /// file and `from` is a file, or an empty directory and `from` is a directory
    /// (`IsADirectory`, `NotADirectory`, `DirectoryNotEmpty` otherwise); moving a directory
    /// below itself is `InvalidArgument`; renaming to another spelling of the same name
    /// (FAT ignores case) changes the stored name.
    ///
    /// Not atomic: a replaced `to` is removed first, then `from` is renamed. fatfs does not
    /// update the `..` entry of a directory moved to another parent; nothing here reads `..`
    /// entries (the VFS resolves `..` by path), but `fsck.fat` will report them.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), FsError> {
        let fc = components(from)?;
        let tc = components(to)?;
        self.with_fs(|fs| {
            let (sp, sname) = split_last(&fc).ok_or(FsError::Busy)?;
            let (dp, dname) = split_last(&tc).ok_or(FsError::Busy)?;
            let sdir = walk_dir(fs, sp)?;
            let src = lookup(&sdir, sname)?.ok_or(FsError::NotFound)?;
            let ddir = walk_dir(fs, dp)?;
            let below = |a: &[&str], b: &[&str]| a.len() <= b.len() && a.iter().zip(b).all(|(x, y)| same_name(x, y));
            if src.is_dir() && tc.len() > fc.len() && below(&fc, &tc) {
                return Err(FsError::InvalidArgument);
            }
            let same_parent = sp.len() == dp.len() && below(sp, dp);
            match lookup(&ddir, dname)? {
                Some(dst) if same_parent && dst.short_file_name_as_bytes() == src.short_file_name_as_bytes() => {
                    // The same entry: a no-op, or a change of case.
                    if dst.file_name() == dname {
                        return Ok(());
                    }
                    validate_name(dname)?;
                    let tmp = temp_name(&sdir)?;
                    io(sdir.rename(sname, &sdir, &tmp))?;
                    io(sdir.rename(&tmp, &sdir, dname))
                }
                Some(dst) => {
                    match (src.is_dir(), dst.is_dir()) {
                        (true, false) => return Err(FsError::NotADirectory),
                        (false, true) => return Err(FsError::IsADirectory),
                        (true, true) if !dir_is_empty(&dst.to_dir())? => return Err(FsError::DirectoryNotEmpty),
                        _ => {}
                    }
                    io(ddir.remove(dname))?;
                    io(sdir.rename(sname, &ddir, dname))
                }
                None => {
                    validate_name(dname)?;
                    io(sdir.rename(sname, &ddir, dname))
                }
            }
        })
    }

    /// Sets the length of file `path`: drops the tail, or appends zeros.
    pub fn truncate(&self, path: &str, len: u64) -> Result<(), FsError> {
        let comps = components(path)?;
        if len > MAX_FILE_SIZE {
            return Err(FsError::FileTooBig);
        }
        self.with_fs(|fs| {
            let e = file_entry(fs, &comps)?;
            let size = e.len();
            let mut f = e.to_file();
            if len < size {
                io(f.seek(SeekFrom::Start(len)))?;
                io(f.truncate())?;
            } else if len > size {
                io(f.seek(SeekFrom::End(0)))?;
                write_zeros(&mut f, len - size)?;
            }
            io(f.flush())
        })
    }

    /// Sets the access and/or modification time of file `path` (Unix seconds; FAT keeps
    /// the access date and the modification time to 2 s). Directories keep theirs: fatfs
    /// cannot edit a directory's entry, so for them this succeeds and does nothing.
    pub fn set_times(&self, path: &str, atime: Option<i64>, mtime: Option<i64>) -> Result<(), FsError> {
        let comps = components(path)?;
        self.with_fs(|fs| {
            let Some((parent, name)) = split_last(&comps) else { return Ok(()) };
            let e = lookup(&walk_dir(fs, parent)?, name)?.ok_or(FsError::NotFound)?;
            if e.is_dir() {
                return Ok(());
            }
            let mut f = e.to_file();
            set_file_times(&mut f, atime, mtime);
            io(f.flush())
        })
    }

    /// Cluster counts for `statfs`.
    pub fn statfs(&self) -> Result<StatFs, FsError> {
        self.with_fs(|fs| {
            let s = io(fs.stats())?;
            Ok(StatFs {
                total_clusters: s.total_clusters(),
                free_clusters: s.free_clusters(),
                cluster_size: s.cluster_size(),
            })
        })
    }

    /// Makes everything written so far durable (`fsync`): every operation has already
    /// handed its writes to the device (see the adapter), so this flushes the device. The
    /// FSInfo sector (free-cluster hint) is written at unmount; a volume never unmounted
    /// keeps its dirty flag and its free count is recomputed at the next mount.
    pub fn flush(&self) -> Result<(), FsError> {
        let _guard = self.fs.lock();
        self.dev.flush().map_err(FsError::from)
    }

    /// Unmounts cleanly (FSInfo written, dirty flag cleared) and gives the device back.
    pub fn unmount(self) -> Result<D, FsError> {
        let Mounted(fs) = self.fs.into_inner();
        io(fs.unmount())?;
        // The filesystem and with it the adapter's clone of the `Arc` are gone.
        Arc::try_unwrap(self.dev).map_err(|_| FsError::Busy)
    }
}

/// Sets a file entry's times (written when `f` is flushed or dropped).
pub(crate) fn set_file_times<D: BlockDevice>(f: &mut FFile<'_, D>, atime: Option<i64>, mtime: Option<i64>) {
    // fatfs marks these deprecated in favour of a custom time provider, which cannot set
    // an arbitrary past time for one file.
    #[allow(deprecated)]
    {
        if let Some(t) = atime {
            f.set_accessed(unix_to_datetime(t).date);
        }
        if let Some(t) = mtime {
            f.set_modified(unix_to_datetime(t));
        }
    }
}

/// A name not used in `dir`, for two-step renames.
fn temp_name<D: BlockDevice>(dir: &FDir<'_, D>) -> Result<String, FsError> {
    for i in 0..u32::MAX {
        let name = alloc::format!(".unify-rename-{i}");
        if lookup(dir, &name)?.is_none() {
            return Ok(name);
        }
    }
    Err(FsError::AlreadyExists)
}
