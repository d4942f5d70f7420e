//! The memory routines the compiler calls (`memcpy`, `memmove`, `memset`, `memcmp`,
//! `bcmp`). The precompiled `compiler_builtins` of a `-linux-gnu` target expects libc to
//! provide them; a freestanding kernel has none. They are written with `rep movsq` /
//! `rep stosq` and their byte forms (short, and fast both under KVM and under TCG) and plain loops, never with
//! anything the compiler could turn back into a call to themselves.
//!
//! The direction flag is clear everywhere in the kernel (the boot code and the interrupt
//! entry execute `cld`), as the ABI requires.

use core::arch::asm;

/// # Safety
/// `dest` and `src` are valid for `n` bytes and do not overlap.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // Eight bytes at a time, then the rest: under QEMU's TCG every iteration of a
    // string instruction costs the same whatever its width, so `rep movsq` copies
    // eight times faster there than `rep movsb` (with KVM both are fast).
    // SAFETY: the caller's contract; the two copies cover exactly n bytes, forward.
    unsafe {
        asm!(
            "rep movsq", "mov rcx, {rest}", "rep movsb",
            rest = in(reg) n % 8,
            inout("rcx") n / 8 => _, inout("rdi") dest => _, inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
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
    // Eight bytes at a time, then the rest (see memcpy).
    let byte = u64::from(c as u8);
    // SAFETY: the caller's contract; the two stores cover exactly n bytes.
    unsafe {
        asm!(
            "rep stosq", "mov rcx, {rest}", "rep stosb",
            rest = in(reg) n % 8,
            inout("rcx") n / 8 => _, inout("rdi") dest => _, in("rax") byte * 0x0101_0101_0101_0101,
            options(nostack, preserves_flags),
        );
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
