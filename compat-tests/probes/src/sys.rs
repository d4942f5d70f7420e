//! Safe wrappers over the raw file-related system calls the filesystem probes make.
//! Each issues exactly the named syscall (not libc's choice: glibc's `open` is `openat`,
//! its `stat` is `newfstatat` or `statx`) and returns the kernel's raw result, `-errno`
//! on failure: format it with [`crate::outcome`] / [`crate::outcome_val`].
//!
//! Every pointer handed to the kernel is a live Rust buffer of the size the call
//! expects, so the wrappers are safe; the few that can invalidate memory (`munmap`)
//! stay `unsafe`.

use std::ffi::CString;

use libc::c_long;

/// A path as a C string (paths in the probes never contain NUL).
pub fn cs(path: &str) -> CString {
    CString::new(path).expect("path without NUL")
}

pub const AT_FDCWD: i32 = libc::AT_FDCWD;

fn call(n: c_long, args: [usize; 6]) -> isize {
    // SAFETY: only the wrappers below call this, each with pointers to live buffers of
    // the size the kernel reads or writes for that syscall (or with no pointer).
    unsafe { crate::syscall6(n as usize, args[0], args[1], args[2], args[3], args[4], args[5]) }
}

fn p<T>(x: &T) -> usize {
    x as *const T as usize
}

fn pm<T>(x: &mut T) -> usize {
    x as *mut T as usize
}

fn path_call(n: c_long, path: &str, rest: [usize; 5]) -> isize {
    let c = cs(path);
    call(n, [c.as_ptr() as usize, rest[0], rest[1], rest[2], rest[3], rest[4]])
}

fn at_call(n: c_long, dirfd: i32, path: &str, rest: [usize; 4]) -> isize {
    let c = cs(path);
    call(n, [dirfd as isize as usize, c.as_ptr() as usize, rest[0], rest[1], rest[2], rest[3]])
}

// ---- open / close ----

pub fn open(path: &str, flags: i32, mode: u32) -> isize {
    path_call(libc::SYS_open, path, [flags as usize, mode as usize, 0, 0, 0])
}
pub fn openat(dirfd: i32, path: &str, flags: i32, mode: u32) -> isize {
    at_call(libc::SYS_openat, dirfd, path, [flags as usize, mode as usize, 0, 0])
}
pub fn creat(path: &str, mode: u32) -> isize {
    path_call(libc::SYS_creat, path, [mode as usize, 0, 0, 0, 0])
}
pub fn openat2(dirfd: i32, path: &str, how: &libc::open_how) -> isize {
    at_call(libc::SYS_openat2, dirfd, path, [p(how), std::mem::size_of::<libc::open_how>(), 0, 0])
}
pub fn close(fd: i32) -> isize {
    call(libc::SYS_close, [fd as usize, 0, 0, 0, 0, 0])
}
pub fn close_range(first: u32, last: u32, flags: u32) -> isize {
    call(libc::SYS_close_range, [first as usize, last as usize, flags as usize, 0, 0, 0])
}

// ---- data ----

pub fn read(fd: i32, buf: &mut [u8]) -> isize {
    call(libc::SYS_read, [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0])
}
pub fn write(fd: i32, buf: &[u8]) -> isize {
    call(libc::SYS_write, [fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0])
}
pub fn pread(fd: i32, buf: &mut [u8], off: i64) -> isize {
    call(libc::SYS_pread64, [fd as usize, buf.as_mut_ptr() as usize, buf.len(), off as usize, 0, 0])
}
pub fn pwrite(fd: i32, buf: &[u8], off: i64) -> isize {
    call(libc::SYS_pwrite64, [fd as usize, buf.as_ptr() as usize, buf.len(), off as usize, 0, 0])
}

fn iovecs_mut(bufs: &mut [&mut [u8]]) -> Vec<libc::iovec> {
    bufs.iter_mut().map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() }).collect()
}
fn iovecs(bufs: &[&[u8]]) -> Vec<libc::iovec> {
    bufs.iter().map(|b| libc::iovec { iov_base: b.as_ptr() as *mut _, iov_len: b.len() }).collect()
}

pub fn readv(fd: i32, bufs: &mut [&mut [u8]]) -> isize {
    let iov = iovecs_mut(bufs);
    call(libc::SYS_readv, [fd as usize, iov.as_ptr() as usize, iov.len(), 0, 0, 0])
}
pub fn writev(fd: i32, bufs: &[&[u8]]) -> isize {
    let iov = iovecs(bufs);
    call(libc::SYS_writev, [fd as usize, iov.as_ptr() as usize, iov.len(), 0, 0, 0])
}
/// preadv(fd, iov, n, pos_l, pos_h): the offset is split in two registers on every ABI.
pub fn preadv(fd: i32, bufs: &mut [&mut [u8]], off: i64) -> isize {
    let iov = iovecs_mut(bufs);
    call(libc::SYS_preadv, [fd as usize, iov.as_ptr() as usize, iov.len(), off as usize, 0, 0])
}
pub fn pwritev(fd: i32, bufs: &[&[u8]], off: i64) -> isize {
    let iov = iovecs(bufs);
    call(libc::SYS_pwritev, [fd as usize, iov.as_ptr() as usize, iov.len(), off as usize, 0, 0])
}
pub fn lseek(fd: i32, off: i64, whence: i32) -> isize {
    call(libc::SYS_lseek, [fd as usize, off as usize, whence as usize, 0, 0, 0])
}
pub fn sendfile(out_fd: i32, in_fd: i32, off: Option<&mut i64>, count: usize) -> isize {
    let off = off.map_or(0, pm);
    call(libc::SYS_sendfile, [out_fd as usize, in_fd as usize, off, count, 0, 0])
}
pub fn copy_file_range(
    fd_in: i32,
    off_in: Option<&mut i64>,
    fd_out: i32,
    off_out: Option<&mut i64>,
    len: usize,
) -> isize {
    let (a, b) = (off_in.map_or(0, pm), off_out.map_or(0, pm));
    call(libc::SYS_copy_file_range, [fd_in as usize, a, fd_out as usize, b, len, 0])
}

// ---- metadata ----

pub fn zeroed_stat() -> libc::stat {
    // SAFETY: `struct stat` is plain integers: all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}
pub fn stat(path: &str) -> (isize, libc::stat) {
    let mut st = zeroed_stat();
    let r = path_call(libc::SYS_stat, path, [pm(&mut st), 0, 0, 0, 0]);
    (r, st)
}
pub fn lstat(path: &str) -> (isize, libc::stat) {
    let mut st = zeroed_stat();
    let r = path_call(libc::SYS_lstat, path, [pm(&mut st), 0, 0, 0, 0]);
    (r, st)
}
pub fn fstat(fd: i32) -> (isize, libc::stat) {
    let mut st = zeroed_stat();
    let r = call(libc::SYS_fstat, [fd as usize, pm(&mut st), 0, 0, 0, 0]);
    (r, st)
}
pub fn fstatat(dirfd: i32, path: &str, flags: i32) -> (isize, libc::stat) {
    let mut st = zeroed_stat();
    let r = at_call(libc::SYS_newfstatat, dirfd, path, [pm(&mut st), flags as usize, 0, 0]);
    (r, st)
}
pub fn statx(dirfd: i32, path: &str, flags: i32, mask: u32) -> (isize, libc::statx) {
    // SAFETY: `struct statx` is plain integers: all-zero is a valid value.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    let r = at_call(libc::SYS_statx, dirfd, path, [flags as usize, mask as usize, pm(&mut stx), 0]);
    (r, stx)
}
pub fn statfs(path: &str) -> isize {
    // SAFETY: `struct statfs` is plain integers: all-zero is a valid value.
    let mut sf: libc::statfs = unsafe { std::mem::zeroed() };
    path_call(libc::SYS_statfs, path, [pm(&mut sf), 0, 0, 0, 0])
}
pub fn fstatfs(fd: i32) -> isize {
    // SAFETY: as above.
    let mut sf: libc::statfs = unsafe { std::mem::zeroed() };
    call(libc::SYS_fstatfs, [fd as usize, pm(&mut sf), 0, 0, 0, 0])
}
pub fn getdents64(fd: i32, buf: &mut [u8]) -> isize {
    call(libc::SYS_getdents64, [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0])
}
pub fn readlink(path: &str) -> Result<String, crate::Errno> {
    let mut buf = vec![0u8; 4096];
    let r = path_call(libc::SYS_readlink, path, [buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0]);
    crate::check(r).map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
}
pub fn readlinkat(dirfd: i32, path: &str) -> Result<String, crate::Errno> {
    let mut buf = vec![0u8; 4096];
    let r = at_call(libc::SYS_readlinkat, dirfd, path, [buf.as_mut_ptr() as usize, buf.len(), 0, 0]);
    crate::check(r).map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
}
pub fn access(path: &str, mode: i32) -> isize {
    path_call(libc::SYS_access, path, [mode as usize, 0, 0, 0, 0])
}
pub fn faccessat(dirfd: i32, path: &str, mode: i32) -> isize {
    at_call(libc::SYS_faccessat, dirfd, path, [mode as usize, 0, 0, 0])
}
pub fn faccessat2(dirfd: i32, path: &str, mode: i32, flags: i32) -> isize {
    at_call(libc::SYS_faccessat2, dirfd, path, [mode as usize, flags as usize, 0, 0])
}
pub fn utimensat(dirfd: i32, path: &str, times: &[libc::timespec; 2], flags: i32) -> isize {
    at_call(libc::SYS_utimensat, dirfd, path, [times.as_ptr() as usize, flags as usize, 0, 0])
}
pub fn chmod(path: &str, mode: u32) -> isize {
    path_call(libc::SYS_chmod, path, [mode as usize, 0, 0, 0, 0])
}
pub fn fchmod(fd: i32, mode: u32) -> isize {
    call(libc::SYS_fchmod, [fd as usize, mode as usize, 0, 0, 0, 0])
}
pub fn fchmodat(dirfd: i32, path: &str, mode: u32) -> isize {
    at_call(libc::SYS_fchmodat, dirfd, path, [mode as usize, 0, 0, 0])
}
pub fn umask(mask: u32) -> isize {
    call(libc::SYS_umask, [mask as usize, 0, 0, 0, 0, 0])
}

// ---- namespace ----

pub fn mkdir(path: &str, mode: u32) -> isize {
    path_call(libc::SYS_mkdir, path, [mode as usize, 0, 0, 0, 0])
}
pub fn mkdirat(dirfd: i32, path: &str, mode: u32) -> isize {
    at_call(libc::SYS_mkdirat, dirfd, path, [mode as usize, 0, 0, 0])
}
pub fn rmdir(path: &str) -> isize {
    path_call(libc::SYS_rmdir, path, [0; 5])
}
pub fn unlink(path: &str) -> isize {
    path_call(libc::SYS_unlink, path, [0; 5])
}
pub fn unlinkat(dirfd: i32, path: &str, flags: i32) -> isize {
    at_call(libc::SYS_unlinkat, dirfd, path, [flags as usize, 0, 0, 0])
}
pub fn rename(old: &str, new: &str) -> isize {
    let n = cs(new);
    path_call(libc::SYS_rename, old, [n.as_ptr() as usize, 0, 0, 0, 0])
}
pub fn renameat(olddir: i32, old: &str, newdir: i32, new: &str) -> isize {
    let n = cs(new);
    at_call(libc::SYS_renameat, olddir, old, [newdir as isize as usize, n.as_ptr() as usize, 0, 0])
}
pub fn renameat2(olddir: i32, old: &str, newdir: i32, new: &str, flags: u32) -> isize {
    let n = cs(new);
    at_call(libc::SYS_renameat2, olddir, old, [newdir as isize as usize, n.as_ptr() as usize, flags as usize, 0])
}
pub fn symlink(target: &str, link: &str) -> isize {
    let l = cs(link);
    path_call(libc::SYS_symlink, target, [l.as_ptr() as usize, 0, 0, 0, 0])
}
pub fn symlinkat(target: &str, dirfd: i32, link: &str) -> isize {
    let (t, l) = (cs(target), cs(link));
    call(libc::SYS_symlinkat, [t.as_ptr() as usize, dirfd as isize as usize, l.as_ptr() as usize, 0, 0, 0])
}
pub fn link(old: &str, new: &str) -> isize {
    let n = cs(new);
    path_call(libc::SYS_link, old, [n.as_ptr() as usize, 0, 0, 0, 0])
}
pub fn linkat(olddir: i32, old: &str, newdir: i32, new: &str, flags: i32) -> isize {
    let n = cs(new);
    at_call(libc::SYS_linkat, olddir, old, [newdir as isize as usize, n.as_ptr() as usize, flags as usize, 0])
}
pub fn chdir(path: &str) -> isize {
    path_call(libc::SYS_chdir, path, [0; 5])
}
pub fn fchdir(fd: i32) -> isize {
    call(libc::SYS_fchdir, [fd as usize, 0, 0, 0, 0, 0])
}
pub fn getcwd() -> Result<String, crate::Errno> {
    let mut buf = vec![0u8; 4096];
    let r = call(libc::SYS_getcwd, [buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0, 0]);
    // The raw syscall returns the length including the NUL.
    crate::check(r).map(|n| String::from_utf8_lossy(&buf[..n.saturating_sub(1)]).into_owned())
}
/// getcwd into a buffer of `size` bytes (to see ERANGE).
pub fn getcwd_sized(size: usize) -> isize {
    let mut buf = vec![0u8; size.max(1)];
    call(libc::SYS_getcwd, [buf.as_mut_ptr() as usize, size, 0, 0, 0, 0])
}

// ---- sizes and syncing ----

pub fn truncate(path: &str, len: i64) -> isize {
    path_call(libc::SYS_truncate, path, [len as usize, 0, 0, 0, 0])
}
pub fn ftruncate(fd: i32, len: i64) -> isize {
    call(libc::SYS_ftruncate, [fd as usize, len as usize, 0, 0, 0, 0])
}
pub fn fsync(fd: i32) -> isize {
    call(libc::SYS_fsync, [fd as usize, 0, 0, 0, 0, 0])
}
pub fn fdatasync(fd: i32) -> isize {
    call(libc::SYS_fdatasync, [fd as usize, 0, 0, 0, 0, 0])
}
pub fn sync() -> isize {
    call(libc::SYS_sync, [0; 6])
}
pub fn syncfs(fd: i32) -> isize {
    call(libc::SYS_syncfs, [fd as usize, 0, 0, 0, 0, 0])
}
pub fn fallocate(fd: i32, mode: i32, off: i64, len: i64) -> isize {
    call(libc::SYS_fallocate, [fd as usize, mode as usize, off as usize, len as usize, 0, 0])
}

// ---- descriptors ----

pub fn dup(fd: i32) -> isize {
    call(libc::SYS_dup, [fd as usize, 0, 0, 0, 0, 0])
}
pub fn dup2(old: i32, new: i32) -> isize {
    call(libc::SYS_dup2, [old as usize, new as usize, 0, 0, 0, 0])
}
pub fn dup3(old: i32, new: i32, flags: i32) -> isize {
    call(libc::SYS_dup3, [old as usize, new as usize, flags as usize, 0, 0, 0])
}
/// fcntl with an integer argument (or none).
pub fn fcntl(fd: i32, cmd: i32, arg: usize) -> isize {
    call(libc::SYS_fcntl, [fd as usize, cmd as usize, arg, 0, 0, 0])
}
/// fcntl with a `struct flock` (F_GETLK, F_SETLK, F_OFD_*).
pub fn fcntl_lock(fd: i32, cmd: i32, lock: &mut libc::flock) -> isize {
    call(libc::SYS_fcntl, [fd as usize, cmd as usize, pm(lock), 0, 0, 0])
}
pub fn flock(fd: i32, op: i32) -> isize {
    call(libc::SYS_flock, [fd as usize, op as usize, 0, 0, 0, 0])
}
pub fn pipe() -> (isize, [i32; 2]) {
    let mut fds = [-1i32; 2];
    let r = call(libc::SYS_pipe, [pm(&mut fds), 0, 0, 0, 0, 0]);
    (r, fds)
}
pub fn pipe2(flags: i32) -> (isize, [i32; 2]) {
    let mut fds = [-1i32; 2];
    let r = call(libc::SYS_pipe2, [pm(&mut fds), flags as usize, 0, 0, 0, 0]);
    (r, fds)
}
/// An ioctl whose argument is a pointer to an int the kernel fills (FIONREAD).
pub fn ioctl_get_int(fd: i32, req: u64) -> (isize, i32) {
    let mut v = -1i32;
    let r = call(libc::SYS_ioctl, [fd as usize, req as usize, pm(&mut v), 0, 0, 0]);
    (r, v)
}
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> isize {
    call(libc::SYS_poll, [fds.as_mut_ptr() as usize, fds.len(), timeout_ms as usize, 0, 0, 0])
}
pub fn memfd_create(name: &str, flags: u32) -> isize {
    path_call(libc::SYS_memfd_create, name, [flags as usize, 0, 0, 0, 0])
}
pub fn getpid() -> isize {
    call(libc::SYS_getpid, [0; 6])
}

// ---- memory ----

/// A new mapping chosen by the kernel (never MAP_FIXED, so no existing memory changes).
pub fn mmap(len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> isize {
    assert_eq!(flags & libc::MAP_FIXED, 0, "mmap wrapper never replaces mappings");
    call(libc::SYS_mmap, [0, len, prot as usize, flags as usize, fd as isize as usize, off as usize])
}
pub fn msync(addr: usize, len: usize, flags: i32) -> isize {
    call(libc::SYS_msync, [addr, len, flags as usize, 0, 0, 0])
}
/// # Safety
///
/// `addr..addr+len` must be a mapping this program made with [`mmap`] and no longer uses.
pub unsafe fn munmap(addr: usize, len: usize) -> isize {
    // SAFETY: the caller guarantees nothing live is in the range.
    unsafe { crate::syscall6(libc::SYS_munmap as usize, addr, len, 0, 0, 0, 0) }
}
