//! Checked little-endian reads from an untrusted byte slice.
//!
//! Every read returns `None` instead of panicking when the requested bytes are not all
//! inside the slice, including when `offset + len` would overflow. Offsets are `u64`
//! because that is what ELF fields are; they are converted to `usize` with a check, so a
//! 64-bit offset never truncates on a narrower host.

/// `bytes[offset .. offset + len]`, or `None` if any of it is outside `bytes`.
pub(crate) fn slice(bytes: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let len = usize::try_from(len).ok()?;
    let end = start.checked_add(len)?;
    bytes.get(start..end)
}

/// `N` bytes at `offset`, or `None` if they are not all inside `bytes`.
fn array<const N: usize>(bytes: &[u8], offset: u64) -> Option<[u8; N]> {
    slice(bytes, offset, N as u64)?.try_into().ok()
}

/// A little-endian `u16` at `offset`.
pub(crate) fn u16_at(bytes: &[u8], offset: u64) -> Option<u16> {
    array(bytes, offset).map(u16::from_le_bytes)
}

/// A little-endian `u32` at `offset`.
pub(crate) fn u32_at(bytes: &[u8], offset: u64) -> Option<u32> {
    array(bytes, offset).map(u32::from_le_bytes)
}

/// A little-endian `u64` at `offset`.
pub(crate) fn u64_at(bytes: &[u8], offset: u64) -> Option<u64> {
    array(bytes, offset).map(u64::from_le_bytes)
}
