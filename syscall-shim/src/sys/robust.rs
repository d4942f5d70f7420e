//! Robust futexes at thread exit (Linux's `exit_robust_list`): every lock on the
//! thread's robust list that it still holds is marked `FUTEX_OWNER_DIED`, and a waiter
//! is woken, so the next locker gets `EOWNERDEAD` instead of waiting for ever.
//!
//! ```text
//! struct robust_list_head { struct robust_list *next; long futex_offset; struct robust_list *list_op_pending; };
//! ```
//! Each entry is a `struct robust_list` (one `next` pointer) inside the lock; the futex
//! word is `futex_offset` bytes from it. Bit 0 of a pointer marks a PI lock.

use core::sync::atomic::Ordering;

use libos::futex::word::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
use libos::mm::Access;

use crate::sys::futex::{user_word, wake_one_shared};
use crate::table::Ctx;
use crate::user::UserPtr;

/// Linux's `ROBUST_LIST_LIMIT`: a longer (or circular) list is not followed further.
const ROBUST_LIST_LIMIT: usize = 2048;

fn read_ptr(addr: u64) -> Option<u64> {
    UserPtr::<u64>::new(addr).read().ok()
}

/// Releases the robust locks the exiting thread holds.
pub fn exit_robust_list(ctx: &Ctx) {
    let (head, _) = ctx.thread.robust_list;
    if head == 0 {
        return;
    }
    let (Some(first), Some(offset), Some(pending)) =
        (read_ptr(head), read_ptr(head.wrapping_add(8)), read_ptr(head.wrapping_add(16)))
    else {
        return;
    };
    let (pending, pending_pi) = (pending & !1, pending & 1 != 0);
    let (mut entry, mut pi) = (first & !1, first & 1 != 0);
    let mut limit = ROBUST_LIST_LIMIT;
    while entry != head {
        let next = read_ptr(entry);
        if entry != pending && !owner_died(ctx, entry.wrapping_add(offset), pi, false) {
            return;
        }
        let Some(next) = next else { return };
        (entry, pi) = (next & !1, next & 1 != 0);
        limit -= 1;
        if limit == 0 {
            break;
        }
    }
    if pending != 0 {
        owner_died(ctx, pending.wrapping_add(offset), pending_pi, true);
    }
}

/// Linux's `handle_futex_death` for the word at `addr`; false if it cannot be reached.
fn owner_died(ctx: &Ctx, addr: u64, pi: bool, pending_op: bool) -> bool {
    let Ok(word) = user_word(addr, Access::Write) else { return false };
    loop {
        let old = word.load(Ordering::SeqCst);
        // An unlock was in progress and had released the lock: a waiter may have missed
        // the wake the unlocker never got to make.
        if pending_op && !pi && old == 0 {
            wake_one_shared(ctx.kernel, addr);
            return true;
        }
        if old & FUTEX_TID_MASK != ctx.thread.tid {
            return true;
        }
        let new = (old & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if word.compare_exchange(old, new, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            continue;
        }
        if !pi && old & FUTEX_WAITERS != 0 {
            wake_one_shared(ctx.kernel, addr);
        }
        return true;
    }
}
