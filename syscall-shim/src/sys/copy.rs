//! Copying between fds inside the kernel: sendfile and copy_file_range.
//!
//! Both move data in 64 KiB pieces through a libOS buffer: `pread` from the source
//! file at its offset, then a write to the destination (through its description, so a
//! pipe or the console blocks or refuses as a `write` would). The checks and their
//! order are Linux's (`do_sendfile`, `vfs_copy_file_range`).

use alloc::sync::Arc;
use alloc::vec;

use libos::file::OpenFile;
use libos::pipe::PipeEnd;
use libos::vfs::oflags;
use libos::vfs::FileKind;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;

/// Linux's `MAX_RW_COUNT`.
const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// The largest file offset (`MAX_LFS_FILESIZE`).
const MAX_OFFSET: u64 = i64::MAX as u64;
const CHUNK: usize = 64 * 1024;
const SEEK_SET: u32 = 0;
const SEEK_CUR: u32 = 1;

fn open_file(ctx: &Ctx, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    ctx.kernel.fds.lock().get(fd)
}

/// The kind of node behind a description, if it is in the tree.
fn kind(open: &OpenFile) -> Option<FileKind> {
    open.file.dentry().map(|d| d.kind())
}

fn is_pipe(open: &OpenFile) -> bool {
    (*open.file).as_any().is::<PipeEnd>()
}

/// The description's position (0 for a file without one).
fn position(open: &OpenFile) -> u64 {
    open.file.seek(0, SEEK_CUR).unwrap_or(0)
}

/// `sendfile(out_fd, in_fd, offset, count)`: `count` bytes (at most `MAX_RW_COUNT`)
/// from the regular file `in_fd`, at `*offset` (then advanced) or at its position
/// (then moved), written to `out_fd` as `write` would. EBADF for a source not open for
/// reading or a destination not open for writing; ESPIPE for an offset on a source
/// without positions; EINVAL for a source that is not a regular file (a pipe) or an
/// `O_APPEND` destination; EOVERFLOW for a range past the largest offset.
pub fn sendfile(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (out_fd, in_fd, offset_ptr, count) = (a.fd(0), a.fd(1), a.ptr::<i64>(2), a.raw(3));
    let explicit = offset_ptr.read_opt()?;
    let input = open_file(ctx, in_fd)?;
    if !input.readable() || input.flags() & oflags::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let regular = kind(&input) == Some(FileKind::Regular);
    let pos = match explicit {
        Some(_) if !regular => return Err(Errno::ESPIPE),
        Some(p) => p,
        None => position(&input) as i64,
    };
    // rw_verify_area: a negative count, offset or end is EINVAL.
    if (count as i64) < 0 || pos < 0 || pos.checked_add(count as i64).is_none() {
        return Err(Errno::EINVAL);
    }
    let pos = pos as u64;
    let mut count = count.min(MAX_RW_COUNT);
    let output = open_file(ctx, out_fd)?;
    if !output.writable() {
        return Err(Errno::EBADF);
    }
    let mut overflow = false;
    if pos + count > MAX_OFFSET {
        if pos >= MAX_OFFSET {
            return Err(Errno::EOVERFLOW);
        }
        overflow = true;
        count = MAX_OFFSET - pos;
    }
    if !is_pipe(&output) && output.flags() & oflags::O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    if !regular {
        return Err(Errno::EINVAL);
    }
    let (done, result) = transfer(&input, pos, &output, None, count);
    let new_pos = pos + done;
    match explicit {
        Some(_) => offset_ptr.write(new_pos as i64)?,
        None => {
            input.file.seek(new_pos as i64, SEEK_SET)?;
        }
    }
    match result {
        Err(e) if done == 0 => Err(super::io::broken_pipe(ctx, e)),
        _ if overflow && done == count => Err(Errno::EOVERFLOW),
        _ => Ok(done as usize),
    }
}

/// Copies up to `count` bytes from `input` at `pos` to `output` (at `out_pos` with
/// `pwrite`, or through its description with `None`). Returns what was copied and how
/// the copy ended: `Ok` at the end of the source or when done, the error that stopped
/// it otherwise (the caller reports it only if nothing was copied).
fn transfer(
    input: &OpenFile,
    pos: u64,
    output: &OpenFile,
    out_pos: Option<u64>,
    count: u64,
) -> (u64, Result<(), Errno>) {
    let mut buf = vec![0u8; (count as usize).clamp(1, CHUNK)];
    let mut done = 0u64;
    while done < count {
        let want = ((count - done) as usize).min(buf.len());
        let got = match input.file.pread(&mut buf[..want], pos + done) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => return (done, Err(e)),
        };
        let wrote = match out_pos {
            Some(o) => output.file.pwrite(&buf[..got], o + done),
            None => output.write(&buf[..got]),
        };
        match wrote {
            Ok(n) => {
                done += n as u64;
                if n < got {
                    break;
                }
            }
            Err(e) => return (done, Err(e)),
        }
    }
    (done, Ok(()))
}

/// `copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)` between two regular
/// files of one filesystem (EXDEV otherwise, which libcs and Rust's std answer by
/// copying themselves). Offsets given are read and advanced; otherwise the files'
/// positions are used and moved.
pub fn copy_file_range(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (fd_in, off_in, fd_out, off_out, len, flags) =
        (a.fd(0), a.ptr::<i64>(1), a.fd(2), a.ptr::<i64>(3), a.raw(4), a.uint(5));
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let input = open_file(ctx, fd_in)?;
    let output = open_file(ctx, fd_out)?;
    let pos_in = match off_in.read_opt()? {
        Some(p) => p,
        None => position(&input) as i64,
    };
    let pos_out = match off_out.read_opt()? {
        Some(p) => p,
        None => position(&output) as i64,
    };
    // generic_file_rw_checks
    let (kind_in, kind_out) = (kind(&input), kind(&output));
    if kind_in == Some(FileKind::Directory) || kind_out == Some(FileKind::Directory) {
        return Err(Errno::EISDIR);
    }
    if kind_in != Some(FileKind::Regular) || kind_out != Some(FileKind::Regular) {
        return Err(Errno::EINVAL);
    }
    if !input.readable() || !output.writable() || output.flags() & oflags::O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    let (st_in, st_out) = (input.file.stat()?, output.file.stat()?);
    if st_in.st_dev != st_out.st_dev {
        return Err(Errno::EXDEV);
    }
    // The offsets are compared unsigned, as the kernel's sums are: a negative one wraps.
    let (u_in, u_out) = (pos_in as u64, pos_out as u64);
    if u_in.checked_add(len).is_none() || u_out.checked_add(len).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    let size_in = st_in.st_size;
    let mut count = if pos_in >= size_in { 0 } else { len.min((size_in - pos_in) as u64) };
    if pos_out >= 0 {
        if u_out >= MAX_OFFSET {
            return Err(Errno::EFBIG);
        }
        count = count.min(MAX_OFFSET - u_out);
    }
    if st_in.st_ino == st_out.st_ino && u_out + count > u_in && u_out < u_in + count {
        return Err(Errno::EINVAL);
    }
    if pos_in < 0 || pos_out < 0 {
        return Err(Errno::EINVAL);
    }
    let count = count.min(MAX_RW_COUNT);
    if count == 0 {
        return Ok(0);
    }
    let (done, result) = transfer(&input, u_in, &output, Some(u_out), count);
    if done == 0 {
        result?;
        return Ok(0);
    }
    let (new_in, new_out) = ((u_in + done) as i64, (u_out + done) as i64);
    if off_in.is_null() {
        input.file.seek(new_in, SEEK_SET)?;
    } else {
        off_in.write(new_in)?;
    }
    if off_out.is_null() {
        output.file.seek(new_out, SEEK_SET)?;
    } else {
        off_out.write(new_out)?;
    }
    Ok(done as usize)
}
