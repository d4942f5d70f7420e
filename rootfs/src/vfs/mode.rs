//! Permission bits as Linux's vfat derives them, and its rules for `chmod` and `chown`.
//!
//! FAT stores no modes. vfat shows `0o777` less the mount's `fmask` (files) or `dmask`
//! (directories), less the write bits for a file with the read-only attribute
//! (`fat_make_mode`). `chmod` may only choose between those two forms of a file, and may
//! not change a directory at all (`fat_sanitize_mode`: the read and execute bits must stay,
//! the write bits be all or nothing); anything else is EPERM, as are set-uid, set-gid and
//! sticky bits and an owner other than the mount's (`fat_setattr`).

use libos::vfs::FileKind;
use libos::Errno;

use super::MountOptions;

const RWX_ALL: u32 = 0o777;
const W_ALL: u32 = 0o222;
const RX_ALL: u32 = 0o555;

fn mask(kind: FileKind, opts: &MountOptions) -> u32 {
    if kind == FileKind::Directory {
        opts.dmask
    } else {
        opts.fmask
    }
}

/// Whether the read-only attribute shows in the mode: files only (vfat's `rodir` is off),
/// and only when the mask leaves some write bit to take away.
fn can_hold_read_only(kind: FileKind, opts: &MountOptions) -> bool {
    kind != FileKind::Directory && !mask(kind, opts) & W_ALL != 0
}

/// The permission bits `stat` shows.
pub(super) fn mode_of(kind: FileKind, read_only: bool, opts: &MountOptions) -> u32 {
    let mut mode = RWX_ALL & !mask(kind, opts);
    if read_only && can_hold_read_only(kind, opts) {
        mode &= !W_ALL;
    }
    mode
}

/// The read-only attribute `chmod(requested)` gives a node now showing `current`, or
/// EPERM if vfat cannot represent `requested`.
pub(super) fn chmod(kind: FileKind, current: u32, requested: u32, opts: &MountOptions) -> Result<bool, Errno> {
    if requested & !RWX_ALL != 0 {
        return Err(Errno::EPERM);
    }
    let mask = mask(kind, opts);
    let perm = requested & !mask;
    if perm & RX_ALL != current & RX_ALL {
        return Err(Errno::EPERM);
    }
    let writable = W_ALL & !mask;
    let w = perm & W_ALL;
    let allowed = if can_hold_read_only(kind, opts) { w == 0 || w == writable } else { w == writable };
    if !allowed {
        return Err(Errno::EPERM);
    }
    Ok(w == 0 && writable != 0)
}

/// `chown`: only to the mount's own owner and group.
pub(super) fn chown(uid: Option<u32>, gid: Option<u32>, opts: &MountOptions) -> Result<(), Errno> {
    if uid.is_some_and(|u| u != opts.uid) || gid.is_some_and(|g| g != opts.gid) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> MountOptions {
        MountOptions { dev: 0, ..MountOptions::new(1000, 100) }
    }

    #[test]
    fn modes_follow_the_masks_and_the_read_only_attribute() {
        let o = opts();
        assert_eq!(mode_of(FileKind::Regular, false, &o), 0o755);
        assert_eq!(mode_of(FileKind::Regular, true, &o), 0o555);
        assert_eq!(mode_of(FileKind::Directory, true, &o), 0o755);
    }

    #[test]
    fn chmod_accepts_only_what_vfat_can_store() {
        let o = opts();
        let f = FileKind::Regular;
        assert_eq!(chmod(f, 0o755, 0o755, &o), Ok(false));
        assert_eq!(chmod(f, 0o755, 0o777, &o), Ok(false), "masked by fmask first");
        assert_eq!(chmod(f, 0o755, 0o555, &o), Ok(true));
        assert_eq!(chmod(f, 0o555, 0o755, &o), Ok(false));
        for bad in [0o644, 0o700, 0o775 & 0o644, 0o4755, 0o1755, 0o735] {
            assert_eq!(chmod(f, 0o755, bad, &o), Err(Errno::EPERM), "{bad:o}");
        }
        let d = FileKind::Directory;
        assert_eq!(chmod(d, 0o755, 0o755, &o), Ok(false));
        assert_eq!(chmod(d, 0o755, 0o555, &o), Err(Errno::EPERM));
        assert_eq!(chmod(d, 0o755, 0o700, &o), Err(Errno::EPERM));
    }

    #[test]
    fn chown_only_to_the_mount_owner() {
        let o = opts();
        assert_eq!(chown(Some(1000), Some(100), &o), Ok(()));
        assert_eq!(chown(None, None, &o), Ok(()));
        assert_eq!(chown(Some(0), None, &o), Err(Errno::EPERM));
        assert_eq!(chown(None, Some(0), &o), Err(Errno::EPERM));
    }
}
