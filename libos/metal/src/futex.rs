//! Guest futexes in the VM: the libOS's own futex table (`libos::futex_table`), with
//! guest words reached through the libOS's memory map, so an unmapped word is EFAULT.

use core::sync::atomic::AtomicU32;

use libos::futex::FutexOp;
use libos::futex_table::FutexTable;
use libos::mm::Access;
use libos::{Errno, Kernel, SysResult};

use crate::platform::PLATFORM;

static TABLE: FutexTable = FutexTable::new();

/// The guest's futex word at `addr`, if mapped for `access`.
fn word<'a>(addr: u64, access: Access) -> Result<&'a AtomicU32, Errno> {
    Kernel::get().mm.read().check(addr, 4, access)?;
    // SAFETY: a 4-byte aligned (the shim checks alignment first) guest word, mapped
    // (checked above); guest memory stays mapped while this thread is in the libOS,
    // and a page not yet touched is filled in by the page-fault handler.
    Ok(unsafe { &*(addr as *const AtomicU32) })
}

pub fn run(op: &FutexOp) -> SysResult {
    TABLE.run(op, &PLATFORM, &word)
}
