//! fatfs and volume errors as `libos::Errno`.

use libos::Errno;

use crate::{fio, FsError};

/// The errno for a volume error (its Linux number; EIO if libos has no such number).
pub(super) fn from_fs(e: FsError) -> Errno {
    Errno::from_number(e.errno()).unwrap_or(Errno::EIO)
}

/// The errno for an error fatfs returned (see `FsError::from_io`).
pub(super) fn from_io(e: &fio::Error) -> Errno {
    from_fs(FsError::from_io(e))
}

/// `r` with a fatfs error turned into its errno.
pub(super) fn io<T>(r: Result<T, fio::Error>) -> Result<T, Errno> {
    r.map_err(|e| from_io(&e))
}
