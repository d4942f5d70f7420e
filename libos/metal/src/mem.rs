//! The memory routines the compiler calls (`memcpy`, `memmove`, `memset`, `memcmp`,
//! `bcmp`). The precompiled `compiler_builtins` of a `-linux-gnu` target expects libc to
//! provide them; a freestanding kernel has none. They are written with `rep movsb` /
//! `rep stosb` (fast on every CPU with ERMSB, and short) and plain loops, never with
//! anything the compiler could turn back into a call to themselves.
//!
//! The direction flag is clear everywhere in the kernel (the boot code and the interrupt
//! entry execute `cld`), as the ABI requires.

use core::arch::asm;

/// # Safety
/// `dest` and `src` are valid for `n` bytes and do not overlap.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract; rep movsb copies exactly n bytes forward.
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _, options(nostack, preserves_flags));
    }
    dest
}

/// # Safety
/// `dest` and `src` are valid for `n` bytes; they may overlap.
#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize).wrapping_sub(src as usize) >= n {
        // dest is below src, or past its end: a forward copy never reads what it wrote.
        // SAFETY: as for memcpy; forward order is safe for this overlap.
        unsafe { memcpy(dest, src, n) };
    } else if n > 0 {
        // dest lies inside [src, src + n): copy backwards, from the last byte.
        // SAFETY: the caller's contract; with DF set, rep movsb walks down from the
        // last byte, and DF is cleared again before returning.
        unsafe {
            asm!(
                "std", "rep movsb", "cld",
                inout("rcx") n => _, inout("rdi") dest.add(n - 1) => _, inout("rsi") src.add(n - 1) => _,
                options(nostack),
            );
        }
    }
    dest
}

/// # Safety
/// `dest` is valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract; rep stosb stores the low byte of c n times.
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _, in("al") c as u8, options(nostack, preserves_flags));
    }
    dest
}

/// # Safety
/// `a` and `b` are valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n, within both buffers by the caller's contract.
        let (x, y) = unsafe { (a.add(i).read(), b.add(i).read()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// # Safety
/// `a` and `b` are valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}
