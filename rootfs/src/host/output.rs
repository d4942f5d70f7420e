//! Where built images go: an anonymous file that disappears with its last descriptor (the
//! image of one run), or a named file that appears only once it is complete.
//!
//! Both start from a file without a name: `O_TMPFILE` in the target directory, or, where
//! the filesystem does not offer it, a uniquely named file that is unlinked (anonymous) or
//! renamed into place (named) at the end, and removed if the build fails. With `O_TMPFILE`
//! nothing is left behind even if the process is killed while building.

use std::ffi::CString;
use std::format;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::prelude::rust_2021::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::image::{BuildError, BuildReport, ImageBuilder};
use crate::FileDevice;

fn host(path: &Path) -> impl FnOnce(io::Error) -> BuildError + '_ {
    move |error| BuildError::Host { path: path.to_path_buf(), error }
}

/// A new file in `dir` with permissions `mode` (less the umask): without a name if the
/// filesystem allows (`None`), else with the returned name.
fn new_file(dir: &Path, mode: u32) -> io::Result<(File, Option<PathBuf>)> {
    let tmpfile = OpenOptions::new().read(true).write(true).mode(mode).custom_flags(libc::O_TMPFILE).open(dir);
    match tmpfile {
        Ok(f) => return Ok((f, None)),
        // Filesystems without O_TMPFILE say EOPNOTSUPP (older kernels EISDIR).
        Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP) | Some(libc::EISDIR)) => {}
        Err(e) => return Err(e),
    }
    loop {
        let path = temp_name(dir);
        match OpenOptions::new().read(true).write(true).create_new(true).mode(mode).open(&path) {
            Ok(f) => return Ok((f, Some(path))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Gives the `O_TMPFILE` file `file` the name `to` (which must not exist).
#[allow(unsafe_code)]
fn link_anonymous(file: &File, to: &Path) -> io::Result<()> {
    let from = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd())).map_err(io::Error::other)?;
    let to = CString::new(to.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: both paths are NUL-terminated strings that live across the call.
    let r =
        unsafe { libc::linkat(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::AT_SYMLINK_FOLLOW) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The directory a file path lives in (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl ImageBuilder {
    /// Whether `header` (the first 512 bytes of a file) is a FAT32 boot sector: the 0x55AA
    /// signature, a plausible BIOS parameter block and the `FAT32` type string. Tells an
    /// image from a program (`\x7fELF`) by content.
    pub fn is_image(header: &[u8]) -> bool {
        let Some(h) = header.get(..512) else { return false };
        let sector = u16::from_le_bytes([h[11], h[12]]);
        h[510..] == [0x55, 0xAA]
            && matches!(sector, 512 | 1024 | 2048 | 4096)
            && h[13].is_power_of_two()
            && &h[82..90] == b"FAT32   "
    }

    /// Builds the image into a file in `dir` that has no name and is private to its owner
    /// (the image of one run: it is gone when the last descriptor closes, even if the
    /// process is killed). Returns the
    /// open file (read-write, positioned at 0) and the report.
    pub fn build_unlinked(&self, dir: &Path) -> Result<(File, BuildReport), BuildError> {
        let size = self.checked_size()?;
        let (file, name) = new_file(dir, 0o600).map_err(host(dir))?;
        if let Some(name) = &name {
            fs::remove_file(name).map_err(host(name))?;
        }
        file.set_len(size).map_err(host(dir))?;
        let dev = FileDevice::from_file(file, false).map_err(host(dir))?;
        let (dev, report) = self.build_on_zeroed(dev)?;
        Ok((dev.into_file(), report))
    }

    /// Builds the image into `path`, which appears only once the image is complete: the
    /// image is built in an unnamed (or temporary) file in the same directory and then
    /// linked (or renamed) into place. A new file gets permissions 0666 less the umask, a
    /// replaced one keeps its own. Unless `replace`, an existing `path` is an error
    /// (`AlreadyExists`) and is never touched. A failed build leaves nothing behind.
    pub fn build_new_file(&self, path: &Path, replace: bool) -> Result<BuildReport, BuildError> {
        let size = self.checked_size()?;
        if !replace && fs::symlink_metadata(path).is_ok() {
            return Err(BuildError::Host { path: path.to_path_buf(), error: io::ErrorKind::AlreadyExists.into() });
        }
        let dir = parent_dir(path);
        let (file, temp) = new_file(dir, 0o666).map_err(host(dir))?;
        if let Ok(old) = fs::metadata(path) {
            // A replaced image keeps its permissions.
            file.set_permissions(old.permissions()).map_err(host(path))?;
        }
        let built = (|| {
            file.set_len(size).map_err(host(path))?;
            let dev = FileDevice::from_file(file, false).map_err(host(path))?;
            let (dev, report) = self.build_on_zeroed(dev)?;
            let file = dev.into_file();
            file.sync_all().map_err(host(path))?;
            Ok((file, report))
        })();
        let (file, report) = match built {
            Ok(done) => done,
            Err(e) => {
                if let Some(temp) = &temp {
                    let _ = fs::remove_file(temp);
                }
                return Err(e);
            }
        };
        let placed = match (&temp, replace) {
            (Some(temp), true) => fs::rename(temp, path),
            (Some(temp), false) => fs::hard_link(temp, path).and_then(|()| fs::remove_file(temp)),
            (None, false) => link_anonymous(&file, path),
            (None, true) => {
                // Link under a temporary name, then rename over `path` (rename replaces
                // atomically; linkat does not).
                let temp = temp_name(dir);
                link_anonymous(&file, &temp).and_then(|()| fs::rename(&temp, path))
            }
        };
        if let Err(error) = placed {
            if let Some(temp) = &temp {
                let _ = fs::remove_file(temp);
            }
            return Err(BuildError::Host { path: path.to_path_buf(), error });
        }
        Ok(report)
    }
}

/// A hidden name in `dir` that is very likely free (whoever uses it creates or links it
/// exclusively, so a clash fails rather than replaces).
fn temp_name(dir: &Path) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    dir.join(format!(".unify-image-{}-{n}-{nanos:x}.tmp", std::process::id()))
}
