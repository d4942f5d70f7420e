//! Small helpers over host syscalls: errno conversion, EINTR retry, stat conversion.

use libos::abi::Stat;
use libos::Errno;

/// A host syscall made directly, without libc: no errno (so no TLS) is touched.
/// Returns the kernel's value: a result, or `-errno`.
///
/// # Safety
/// The arguments must be valid for syscall `nr` (pointers to live buffers of the sizes
/// the syscall reads or writes).
pub unsafe fn raw_syscall4(nr: i64, a0: u64, a1: u64, a2: u64, a3: u64) -> isize {
    // SAFETY: forwarded; the caller vouches for the arguments.
    unsafe { raw_syscall6(nr, a0, a1, a2, a3, 0, 0) }
}

/// [`raw_syscall4`] with six arguments.
///
/// # Safety
/// As for [`raw_syscall4`].
pub unsafe fn raw_syscall6(nr: i64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; `syscall` clobbers rcx and r11.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a0, in("rsi") a1, in("rdx") a2, in("r10") a3, in("r8") a4, in("r9") a5,
            lateout("rcx") _, lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

/// A raw host syscall's value as a result, retrying on EINTR.
pub fn raw_retry(mut f: impl FnMut() -> isize) -> Result<usize, Errno> {
    loop {
        let r = f();
        if r >= 0 {
            return Ok(r as usize);
        }
        match Errno::from_number(-r as i32) {
            Some(Errno::EINTR) => continue,
            Some(e) => return Err(e),
            None => return Err(Errno::EIO),
        }
    }
}

/// The host's errno as an [`Errno`] (EIO if it is a number unify does not know).
pub fn last_errno() -> Errno {
    let n = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
    Errno::from_number(n).unwrap_or(Errno::EIO)
}

/// A host call's return value, or its errno.
pub fn check(r: isize) -> Result<usize, Errno> {
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(r as usize)
    }
}

/// `fstat` on a host fd, in the guest's layout.
pub fn fstat(fd: i32) -> Result<Stat, Errno> {
    // SAFETY: all-zero is a valid `libc::stat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer.
    check(unsafe { libc::fstat(fd, &mut st) } as isize)?;
    Ok(Stat {
        st_dev: st.st_dev,
        st_ino: st.st_ino,
        st_nlink: st.st_nlink,
        st_mode: st.st_mode,
        st_uid: st.st_uid,
        st_gid: st.st_gid,
        pad0: 0,
        st_rdev: st.st_rdev,
        st_size: st.st_size,
        st_blksize: st.st_blksize,
        st_blocks: st.st_blocks,
        st_atime: st.st_atime,
        st_atime_nsec: st.st_atime_nsec,
        st_mtime: st.st_mtime,
        st_mtime_nsec: st.st_mtime_nsec,
        st_ctime: st.st_ctime,
        st_ctime_nsec: st.st_ctime_nsec,
        reserved: [0; 3],
    })
}
