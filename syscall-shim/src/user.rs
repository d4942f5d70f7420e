//! Checked access to guest memory.
//!
//! The guest shares the libOS's address space, so a guest pointer is a plain address.
//! Before the libOS touches it, the range is checked against the libOS's own memory map
//! ([`libos::mm::MemoryMap::check`]): a pointer into nothing, or into memory without the
//! needed permission, gives EFAULT instead of a libOS crash. Checks happen when the
//! memory is about to be used, not up front, as in Linux (`read(fd, NULL, 0)` succeeds).

use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};

use alloc::vec::Vec;
use libos::mm::Access;
use libos::{Errno, Kernel};

/// Plain old data: any bit pattern is a valid value and the type has no padding the
/// guest could read uninitialised.
///
/// # Safety
/// Implement only for `#[repr(C)]` types made of integers (and arrays of them) with no
/// implicit padding.
pub unsafe trait Pod: Copy + 'static {}

macro_rules! pod {
    ($($t:ty),* $(,)?) => { $(
        // SAFETY: each of these is an integer, or a #[repr(C)] struct of integers and
        // integer arrays whose fields leave no implicit padding (see libos::abi).
        unsafe impl Pod for $t {}
    )* };
}
pod!(u8, i8, u16, i16, u32, i32, u64, i64, usize, isize);
pod!(
    libos::abi::Timespec,
    libos::abi::Timeval,
    libos::abi::Timezone,
    libos::abi::Stat,
    libos::abi::Utsname,
    libos::abi::Sysinfo,
    libos::abi::Rlimit,
    libos::abi::KernelSigaction,
    libos::abi::StackT,
    libos::abi::Iovec,
    libos::abi::PollFd,
    libos::abi::EpollEvent,
    libos::abi::Msghdr,
    libos::abi::Mmsghdr,
    libos::abi::Winsize,
    libos::abi::Termios,
    libos::abi::Itimerspec,
    libos::abi::Itimerval,
    libos::abi::Sigevent,
    libos::statx::Statx,
    libos::vfs::Statfs,
    libos::locks::Flock,
);
// SAFETY: an array of Pod values is Pod (no padding between elements of a Pod type).
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// A typed guest pointer.
#[derive(Debug)]
pub struct UserPtr<T: Pod> {
    addr: u64,
    _t: PhantomData<*mut T>,
}

impl<T: Pod> Clone for UserPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Pod> Copy for UserPtr<T> {}

impl<T: Pod> UserPtr<T> {
    pub const fn new(addr: u64) -> Self {
        UserPtr { addr, _t: PhantomData }
    }
    pub const fn addr(self) -> u64 {
        self.addr
    }
    pub const fn is_null(self) -> bool {
        self.addr == 0
    }
    /// The pointer `n` elements further on.
    pub fn offset(self, n: usize) -> Result<Self, Errno> {
        let off = (n as u64).checked_mul(size_of::<T>() as u64).ok_or(Errno::EFAULT)?;
        Ok(UserPtr::new(self.addr.checked_add(off).ok_or(Errno::EFAULT)?))
    }

    /// Reads the value (EFAULT if the memory is not readable guest memory).
    pub fn read(self) -> Result<T, Errno> {
        check(self.addr, size_of::<T>() as u64, Access::Read)?;
        // SAFETY: the range was just checked to be mapped readable guest memory in this
        // address space; `T: Pod` accepts any bytes; the read is unaligned-safe.
        Ok(unsafe { core::ptr::read_unaligned(self.addr as *const T) })
    }

    /// Reads the value, or `None` for a null pointer.
    pub fn read_opt(self) -> Result<Option<T>, Errno> {
        if self.is_null() {
            Ok(None)
        } else {
            self.read().map(Some)
        }
    }

    /// Writes the value (EFAULT if the memory is not writable guest memory).
    pub fn write(self, value: T) -> Result<(), Errno> {
        check(self.addr, size_of::<T>() as u64, Access::Write)?;
        // SAFETY: the range was just checked to be mapped writable guest memory; the
        // write is unaligned-safe and `T: Pod` has no padding to leak.
        unsafe { core::ptr::write_unaligned(self.addr as *mut T, value) };
        Ok(())
    }

    /// Writes the value unless the pointer is null.
    pub fn write_opt(self, value: T) -> Result<(), Errno> {
        if self.is_null() {
            Ok(())
        } else {
            self.write(value)
        }
    }
}

fn check(addr: u64, len: u64, access: Access) -> Result<(), Errno> {
    Kernel::get().mm.read().check(addr, len, access)
}

/// A checked view of `len` bytes of guest memory, readable.
///
/// The slice aliases guest memory; the guest cannot run while its own thread is in the
/// libOS, so only another guest thread could change it concurrently — as on Linux, where
/// `write` from a buffer another thread modifies sees some mix of the two.
pub fn slice<'a>(addr: u64, len: usize) -> Result<&'a [u8], Errno> {
    if len == 0 {
        return Ok(&[]);
    }
    check(addr, len as u64, Access::Read)?;
    // SAFETY: `[addr, addr+len)` is mapped readable guest memory (checked above) and
    // stays mapped while this guest thread is inside the syscall.
    Ok(unsafe { core::slice::from_raw_parts(addr as *const u8, len) })
}

/// A checked view of `len` bytes of guest memory, writable.
pub fn slice_mut<'a>(addr: u64, len: usize) -> Result<&'a mut [u8], Errno> {
    if len == 0 {
        return Ok(&mut []);
    }
    check(addr, len as u64, Access::Write)?;
    // SAFETY: `[addr, addr+len)` is mapped writable guest memory (checked above); the
    // libOS holds no other reference into it.
    Ok(unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len) })
}

/// Reads `n` values from a guest array.
pub fn read_array<T: Pod>(ptr: UserPtr<T>, n: usize) -> Result<Vec<T>, Errno> {
    let bytes = n.checked_mul(size_of::<T>()).ok_or(Errno::EINVAL)?;
    check(ptr.addr(), bytes as u64, Access::Read)?;
    let mut out: Vec<T> = Vec::with_capacity(n);
    // SAFETY: the source range is checked readable guest memory; the destination has
    // capacity for `n` values; `T: Pod` makes every byte pattern valid, so setting the
    // length after the copy is sound.
    unsafe {
        core::ptr::copy_nonoverlapping(ptr.addr() as *const u8, out.as_mut_ptr().cast::<u8>(), bytes);
        out.set_len(n);
    }
    Ok(out)
}

/// Writes values to a guest array.
pub fn write_array<T: Pod>(ptr: UserPtr<T>, values: &[T]) -> Result<(), Errno> {
    let bytes = core::mem::size_of_val(values);
    check(ptr.addr(), bytes as u64, Access::Write)?;
    // SAFETY: the destination range is checked writable guest memory and does not
    // overlap `values`, which lives in libOS memory.
    unsafe { core::ptr::copy_nonoverlapping(values.as_ptr().cast::<u8>(), ptr.addr() as *mut u8, bytes) };
    Ok(())
}

/// Reads a NUL-terminated string of at most `max` bytes (ENAMETOOLONG beyond),
/// checking page by page so a string that ends just before unmapped memory works.
pub fn read_cstr(addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut cursor = addr;
    loop {
        let page_left = (4096 - (cursor & 4095)) as usize;
        let chunk = slice(cursor, page_left)?;
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..nul]);
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            return Ok(out);
        }
        out.extend_from_slice(chunk);
        if out.len() > max {
            return Err(Errno::ENAMETOOLONG);
        }
        cursor = cursor.checked_add(page_left as u64).ok_or(Errno::EFAULT)?;
    }
}

/// A zeroed value of a Pod type.
pub fn zeroed<T: Pod>() -> T {
    // SAFETY: all-zero bytes are a valid value of any Pod type.
    unsafe { MaybeUninit::<T>::zeroed().assume_init() }
}

/// The bytes of a Pod value.
pub fn bytes_of<T: Pod>(v: &T) -> &[u8] {
    // SAFETY: `T: Pod` has no padding, so all `size_of::<T>()` bytes are initialised.
    unsafe { core::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }
}
