//! getrandom.

use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user;

const GRND_NONBLOCK: u32 = 1;
const GRND_RANDOM: u32 = 2;
const GRND_INSECURE: u32 = 4;
/// Linux returns at most this much per call (`MAX_RW_COUNT`-like cap of the random driver).
const MAX_PER_CALL: usize = 0x01ff_ffff;

pub fn getrandom(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (addr, len, flags) = (a.raw(0), a.usize(1), a.uint(2));
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & GRND_INSECURE != 0 && flags & GRND_RANDOM != 0 {
        return Err(Errno::EINVAL);
    }
    let len = len.min(MAX_PER_CALL);
    let buf = user::slice_mut(addr, len)?;
    ctx.kernel.platform.fill_random(buf);
    Ok(len)
}
