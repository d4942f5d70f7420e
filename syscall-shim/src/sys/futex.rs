//! futex: the arguments are read and validated here and in [`libos::futex`], in Linux's
//! order; the operation is the platform's ([`libos::Platform::futex`]).
//!
//! A futex word is reached by the platform at its guest address. Words inside the
//! guest's address window go to the platform as they are: whether they are mapped is
//! found out when they are touched, exactly as Linux does (a private wake on unmapped
//! memory touches nothing and wakes nobody; a wait reads the word: EFAULT). An address
//! outside the window is never handed over (on the hosted platform it would be the
//! libOS's own memory); it is answered as unmapped memory: a wait or a shared wake gets
//! EFAULT, a private wake wakes nobody (beyond user space: EFAULT, as Linux). A requeue or `FUTEX_WAKE_OP` naming such an
//! address gets EFAULT (Linux would accept a private requeue target there, whose
//! waiters nobody could ever wake).

use core::sync::atomic::{AtomicBool, AtomicU32};

use libos::abi::Timespec;
use libos::clone::USER_ADDR_MAX;
use libos::futex::{self, op::FUTEX_BITSET_MATCH_ANY, FutexArgs, FutexOp};
use libos::mm::Access;
use libos::{Errno, Kernel, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::{user, warn};

static PI_WARNED: AtomicBool = AtomicBool::new(false);

/// The guest's address window, read once from the memory map (it never changes).
static WINDOW: spin::Once<(u64, u64)> = spin::Once::new();

fn in_window(kernel: &Kernel, addr: u64) -> bool {
    let (lo, hi) = *WINDOW.call_once(|| kernel.mm.read().window());
    (lo..hi).contains(&addr) && addr <= hi - 4
}

pub fn futex(ctx: &mut Ctx, a: &Args) -> SysResult {
    let op = a.uint(1);
    let timeout = if futex::takes_timeout(op) { a.ptr::<Timespec>(3).read_opt()? } else { None };
    let args = FutexArgs {
        uaddr: a.raw(0),
        op,
        val: a.uint(2),
        timeout,
        val2: a.raw(3) as u32,
        uaddr2: a.raw(4),
        val3: a.uint(5),
    };
    let fop = match futex::decode(&args) {
        Ok(fop) => fop,
        Err(Errno::ENOSYS) if futex::is_pi(op) => {
            warn::once(
                ctx.kernel,
                &PI_WARNED,
                format_args!("futex priority-inheritance operations are not implemented; returning ENOSYS"),
            );
            return Err(Errno::ENOSYS);
        }
        Err(e) => return Err(e),
    };
    run(ctx.kernel, &fop)
}

/// Checks the words' alignment and place, then hands the operation to the platform.
pub(crate) fn run(kernel: &Kernel, fop: &FutexOp) -> SysResult {
    let (addrs, n) = fop.addresses();
    for &addr in &addrs[..n] {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        if !in_window(kernel, addr) {
            return outside_window(fop, addr);
        }
    }
    kernel.platform.futex(fop)
}

/// What Linux answers for a word in unmapped memory (see the module docs); a word
/// beyond user space fails Linux's `access_ok` first: EFAULT whatever the operation.
fn outside_window(fop: &FutexOp, addr: u64) -> SysResult {
    match *fop {
        FutexOp::Wake { private: true, .. } if addr <= USER_ADDR_MAX - 4 => Ok(0),
        _ => Err(Errno::EFAULT),
    }
}

/// Wakes one waiter on the shared futex at `addr`, as Linux does for
/// `CLONE_CHILD_CLEARTID` and dead robust-lock owners; errors are ignored there too.
pub(crate) fn wake_one_shared(kernel: &Kernel, addr: u64) {
    let _ = run(kernel, &FutexOp::Wake { addr, count: 1, bitset: FUTEX_BITSET_MATCH_ANY, private: false });
}

/// The futex word at `addr`, checked for `access` (EINVAL unaligned, EFAULT unmapped),
/// for the libOS's own atomic accesses (robust lists).
pub(crate) fn user_word(addr: u64, access: Access) -> Result<&'static AtomicU32, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let bytes = match access {
        Access::Read => user::slice(addr, 4)?.as_ptr(),
        Access::Write => user::slice_mut(addr, 4)?.as_mut_ptr().cast_const(),
    };
    // SAFETY: four checked, aligned bytes of guest memory; futex words are accessed
    // atomically by the guest too.
    Ok(unsafe { &*(bytes as *const AtomicU32) })
}
