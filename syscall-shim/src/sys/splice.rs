//! `splice` and `tee`: moving data between a pipe and a file, or between two pipes, in the
//! kernel. Linux moves page references; here the bytes go through a libOS buffer, with
//! the same results: into a pipe no more than fits in its free buffers (waiting for one
//! if it is full), out of a pipe what a `read` would return (waiting for data if it is
//! empty and has writers).

use alloc::sync::Arc;
use alloc::vec;

use libos::file::{oflags, OpenFile};
use libos::pipe::PipeEnd;
use libos::vfs::FileKind;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user::UserPtr;

const SPLICE_F_NONBLOCK: u32 = 2;
/// MOVE, NONBLOCK, MORE, GIFT.
const SPLICE_F_ALL: u32 = 0xf;
const CHUNK: u64 = 64 * 1024;
const MAX_RW_COUNT: u64 = 0x7fff_f000;
const SEEK_SET: u32 = 0;
const SEEK_CUR: u32 = 1;

fn pipe_of(open: &OpenFile) -> Option<&PipeEnd> {
    (*open.file).as_any().downcast_ref::<PipeEnd>()
}

/// Whether `open` can be read or written at an offset (a regular file).
fn positional(open: &OpenFile) -> bool {
    open.file.dentry().is_some_and(|d| d.kind() == FileKind::Regular)
}

/// `splice(fd_in, off_in, fd_out, off_out, len, flags)`.
pub fn splice(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (fd_in, off_in, fd_out, off_out) = (a.fd(0), a.ptr::<i64>(1), a.fd(2), a.ptr::<i64>(3));
    let (len, flags) = (a.raw(4).min(MAX_RW_COUNT), a.uint(5));
    if len == 0 {
        return Ok(0);
    }
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let (input, output) = {
        let fds = ctx.kernel.fds.lock();
        (fds.get(fd_in)?, fds.get(fd_out)?)
    };
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    let nonblock = |o: &OpenFile| flags & SPLICE_F_NONBLOCK != 0 || o.nonblocking();
    match (pipe_of(&input), pipe_of(&output)) {
        (Some(ip), Some(op)) => {
            if !off_in.is_null() || !off_out.is_null() {
                return Err(Errno::ESPIPE);
            }
            if Arc::ptr_eq(ip.pipe(), op.pipe()) {
                return Err(Errno::EINVAL);
            }
            let nb = nonblock(&input) || nonblock(&output);
            let room = op.pipe().wait_room(nb).map_err(|e| super::io::broken_pipe(ctx, e))?;
            let mut buf = vec![0u8; len.min(room as u64) as usize];
            let n = ip.pipe().read(&mut buf, nb)?;
            // It fits unless another writer got in first; then wait for the rest.
            output.file.write(&buf[..n], false).map_err(|e| super::io::broken_pipe(ctx, e))
        }
        (Some(ip), None) => {
            if !off_in.is_null() {
                return Err(Errno::ESPIPE);
            }
            let explicit = off_out.read_opt()?;
            if explicit.is_some() && !positional(&output) {
                return Err(Errno::EINVAL);
            }
            if output.flags() & oflags::O_APPEND != 0 {
                return Err(Errno::EINVAL);
            }
            let mut buf = vec![0u8; len.min(CHUNK) as usize];
            let n = ip.pipe().read(&mut buf, nonblock(&input))?;
            let written = match explicit {
                Some(off) => {
                    let off = u64::try_from(off).map_err(|_| Errno::EINVAL)?;
                    let w = output.file.pwrite(&buf[..n], off)?;
                    store(off_out, off + w as u64)?;
                    w
                }
                None => output.write(&buf[..n]).map_err(|e| super::io::broken_pipe(ctx, e))?,
            };
            Ok(written)
        }
        (None, Some(op)) => {
            if !off_out.is_null() {
                return Err(Errno::ESPIPE);
            }
            let explicit = off_in.read_opt()?;
            if !positional(&input) {
                return Err(Errno::EINVAL);
            }
            let pos = match explicit {
                Some(off) => u64::try_from(off).map_err(|_| Errno::EINVAL)?,
                None => input.file.seek(0, SEEK_CUR)?,
            };
            let room = op.pipe().wait_room(nonblock(&output)).map_err(|e| super::io::broken_pipe(ctx, e))?;
            let mut buf = vec![0u8; len.min(room as u64).min(CHUNK) as usize];
            let n = input.file.pread(&mut buf, pos)?;
            let w = output.file.write(&buf[..n], true).map_err(|e| super::io::broken_pipe(ctx, e))?;
            match explicit {
                Some(_) => store(off_in, pos + w as u64)?,
                None => {
                    input.file.seek((pos + w as u64) as i64, SEEK_SET)?;
                }
            }
            Ok(w)
        }
        (None, None) => Err(Errno::EINVAL),
    }
}

/// `tee(fd_in, fd_out, len, flags)`: copies what is in the pipe `fd_in` (waiting for
/// data) into the pipe `fd_out` (as much as fits in its free buffers) without consuming
/// it. EINVAL unless both are pipes and different ones.
pub fn tee(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (fd_in, fd_out, len, flags) = (a.fd(0), a.fd(1), a.raw(2).min(MAX_RW_COUNT), a.uint(3));
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let (input, output) = {
        let fds = ctx.kernel.fds.lock();
        (fds.get(fd_in)?, fds.get(fd_out)?)
    };
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF);
    }
    let (Some(ip), Some(op)) = (pipe_of(&input), pipe_of(&output)) else { return Err(Errno::EINVAL) };
    if Arc::ptr_eq(ip.pipe(), op.pipe()) {
        return Err(Errno::EINVAL);
    }
    let nb = flags & SPLICE_F_NONBLOCK != 0 || input.nonblocking() || output.nonblocking();
    let mut buf = vec![0u8; len.min(ip.pipe().capacity() as u64) as usize];
    let n = ip.pipe().peek(&mut buf, nb)?;
    if n == 0 {
        return Ok(0);
    }
    let room = op.pipe().wait_room(nb).map_err(|e| super::io::broken_pipe(ctx, e))?;
    output.file.write(&buf[..n.min(room)], true).map_err(|e| super::io::broken_pipe(ctx, e))
}

fn store(ptr: UserPtr<i64>, value: u64) -> Result<(), Errno> {
    ptr.write(value as i64)
}
