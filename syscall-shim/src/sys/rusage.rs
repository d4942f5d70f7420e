//! getrusage: the platform's figures (hosted: the host process's, which include the
//! libOS's own use: the guest's process as the host sees it).

use libos::rusage::RusageWho;
use libos::SysResult;

use crate::args::Args;
use crate::table::Ctx;
use crate::user::{self, UserPtr};

pub fn getrusage(ctx: &mut Ctx, a: &Args) -> SysResult {
    let who = RusageWho::from_raw(a.int(0))?;
    let usage = ctx.kernel.platform.rusage(who).to_words();
    user::write_array(UserPtr::<i64>::new(a.raw(1)), &usage)?;
    Ok(0)
}
