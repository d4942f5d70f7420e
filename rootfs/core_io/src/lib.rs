//! A `no_std` stand-in for the parts of `std::io` that `fatfs` 0.3.6 uses.
//!
//! fatfs 0.3.6 built without its `std` feature writes `use core_io as io;` and then uses
//! exactly these items: the traits [`Read`] (`read`, `read_exact`), [`Write`] (`write`,
//! `write_all`, `flush`) and [`Seek`] (`seek`), [`SeekFrom`], [`Error`] (`new` with a
//! `&'static str`, `kind`, `Display`), [`ErrorKind`] (`NotFound`, `AlreadyExists`,
//! `InvalidInput`, `UnexpectedEof`, `Other`), [`Result`], [`prelude`] and [`Cursor`] (reading
//! a byte array). The traits must also be implemented for `&mut T`, because fatfs passes
//! `&mut disk` where it wants a reader or writer.
//!
//! The crates.io `core_io` copies a whole std::io per compiler version and its build script
//! refuses any compiler newer than the ones it knows, so it cannot be built today. This crate
//! replaces it through `[patch.crates-io]` in the workspace `Cargo.toml`. It is deliberately
//! small: no `BufRead`, no `Bytes`/`Take`/`Chain`, no boxed custom errors, no vectored I/O.
//! Add an item only when a dependency needs it, and keep its behaviour identical to std's.

#![no_std]
#![forbid(unsafe_code)]

use core::fmt;

/// `core_io::Result<T>`, as `std::io::Result<T>`.
pub type Result<T> = core::result::Result<T, Error>;

/// The kinds of error fatfs produces or inspects (a subset of `std::io::ErrorKind`, with the
/// same names and meanings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An entity was not found.
    NotFound,
    /// The operation lacked the necessary privileges.
    PermissionDenied,
    /// An entity already exists.
    AlreadyExists,
    /// A parameter was incorrect.
    InvalidInput,
    /// Data not valid for the operation were encountered.
    InvalidData,
    /// A write returned `Ok(0)`.
    WriteZero,
    /// The operation was interrupted and can be retried.
    Interrupted,
    /// The operation needs more space than the device has.
    StorageFull,
    /// A read ended before the requested amount of data was read.
    UnexpectedEof,
    /// The operation is not supported.
    Unsupported,
    /// Anything else. fatfs reports most of its own conditions (a full volume, a non-empty
    /// directory, a bad name) with this kind and a message.
    Other,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "entity not found",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::AlreadyExists => "entity already exists",
            ErrorKind::InvalidInput => "invalid input parameter",
            ErrorKind::InvalidData => "invalid data",
            ErrorKind::WriteZero => "write zero",
            ErrorKind::Interrupted => "operation interrupted",
            ErrorKind::StorageFull => "no storage space",
            ErrorKind::UnexpectedEof => "unexpected end of file",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Other => "other error",
        }
    }
}

/// An I/O error: a kind plus a static message.
///
/// Unlike `std::io::Error` there is no boxed payload (so no allocation and no `alloc`
/// dependency); fatfs only ever passes string literals.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    msg: &'static str,
}

impl Error {
    /// An error of `kind` described by `msg`.
    pub const fn new(kind: ErrorKind, msg: &'static str) -> Error {
        Error { kind, msg }
    }

    /// An error of kind [`ErrorKind::Other`], as `std::io::Error::other`.
    pub const fn other(msg: &'static str) -> Error {
        Error { kind: ErrorKind::Other, msg }
    }

    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message given to [`Error::new`] (or the kind's description).
    pub fn message(&self) -> &'static str {
        self.msg
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error { kind, msg: kind.as_str() }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error").field("kind", &self.kind).field("message", &self.msg).finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.msg)
    }
}

impl core::error::Error for Error {}

/// Where to seek to, as `std::io::SeekFrom`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeekFrom {
    /// An absolute offset.
    Start(u64),
    /// Relative to the end.
    End(i64),
    /// Relative to the current position.
    Current(i64),
}

/// A source of bytes, as `std::io::Read`.
pub trait Read {
    /// Reads some bytes into `buf`; `Ok(0)` means end of data (or an empty `buf`).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize>;

    /// Fills `buf` completely, retrying on [`ErrorKind::Interrupted`]; fails with
    /// [`ErrorKind::UnexpectedEof`] if the data ends first (the contents of `buf` are then
    /// unspecified, as in std).
    fn read_exact(&mut self, mut buf: &mut [u8]) -> Result<()> {
        while !buf.is_empty() {
            match self.read(buf) {
                Ok(0) => break,
                Ok(n) => buf = &mut buf[n..],
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if buf.is_empty() {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::UnexpectedEof, "failed to fill whole buffer"))
        }
    }
}

/// A sink of bytes, as `std::io::Write`.
pub trait Write {
    /// Writes some bytes from `buf`, returning how many.
    fn write(&mut self, buf: &[u8]) -> Result<usize>;

    /// Pushes buffered data to the underlying device.
    fn flush(&mut self) -> Result<()>;

    /// Writes all of `buf`, retrying on [`ErrorKind::Interrupted`]; a write of 0 bytes
    /// fails with [`ErrorKind::WriteZero`].
    fn write_all(&mut self, mut buf: &[u8]) -> Result<()> {
        while !buf.is_empty() {
            match self.write(buf) {
                Ok(0) => return Err(Error::new(ErrorKind::WriteZero, "failed to write whole buffer")),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// A cursor that can move, as `std::io::Seek`.
pub trait Seek {
    /// Moves the cursor and returns the new position from the start.
    fn seek(&mut self, pos: SeekFrom) -> Result<u64>;
}

impl<R: Read + ?Sized> Read for &mut R {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        (**self).read(buf)
    }
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        (**self).read_exact(buf)
    }
}

impl<W: Write + ?Sized> Write for &mut W {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        (**self).write(buf)
    }
    fn flush(&mut self) -> Result<()> {
        (**self).flush()
    }
    fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        (**self).write_all(buf)
    }
}

impl<S: Seek + ?Sized> Seek for &mut S {
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        (**self).seek(pos)
    }
}

impl Read for &[u8] {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = buf.len().min(self.len());
        let (head, tail) = self.split_at(n);
        buf[..n].copy_from_slice(head);
        *self = tail;
        Ok(n)
    }
}

/// An in-memory buffer with a position, as `std::io::Cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor<T> {
    inner: T,
    pos: u64,
}

impl<T> Cursor<T> {
    /// A cursor at position 0 over `inner`.
    pub const fn new(inner: T) -> Cursor<T> {
        Cursor { inner, pos: 0 }
    }
    /// The current position.
    pub fn position(&self) -> u64 {
        self.pos
    }
    /// Moves to `pos` (which may lie past the end).
    pub fn set_position(&mut self, pos: u64) {
        self.pos = pos;
    }
    /// The wrapped buffer.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }
    /// The wrapped buffer, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }
    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsRef<[u8]>> Cursor<T> {
    fn remaining(&self) -> &[u8] {
        let data = self.inner.as_ref();
        let start = usize::try_from(self.pos).unwrap_or(usize::MAX).min(data.len());
        &data[start..]
    }
}

impl<T: AsRef<[u8]>> Read for Cursor<T> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = self.remaining().read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<T: AsRef<[u8]>> Seek for Cursor<T> {
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        let (base, delta) = match pos {
            SeekFrom::Start(n) => {
                self.pos = n;
                return Ok(n);
            }
            SeekFrom::End(d) => (self.inner.as_ref().len() as u64, d),
            SeekFrom::Current(d) => (self.pos, d),
        };
        match base.checked_add_signed(delta) {
            Some(n) => {
                self.pos = n;
                Ok(n)
            }
            None => Err(Error::new(ErrorKind::InvalidInput, "invalid seek to a negative or overflowing position")),
        }
    }
}

impl Write for Cursor<&mut [u8]> {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        let len = self.inner.len();
        let start = usize::try_from(self.pos).unwrap_or(usize::MAX).min(len);
        let n = buf.len().min(len - start);
        self.inner[start..start + n].copy_from_slice(&buf[..n]);
        self.pos += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

/// `use core_io::prelude::*;` brings the three traits into scope, as `std::io::prelude`.
pub mod prelude {
    pub use super::{Read, Seek, Write};
}
