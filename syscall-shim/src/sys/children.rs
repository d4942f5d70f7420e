//! wait4 and waitid. The guest never has children (new processes are ENOSYS, see
//! `libos::clone`), so after Linux's argument checks both answer ECHILD, as Linux's
//! `do_wait` does for a process without any; `waitid` still fills the parts of the
//! `siginfo` Linux writes even then (zeros), and gives EFAULT when it cannot.

use libos::pidfd;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user::UserPtr;

/// `wait` option bits.
mod opt {
    pub const WNOHANG: u32 = 1;
    pub const WUNTRACED: u32 = 2;
    pub const WSTOPPED: u32 = 2;
    pub const WEXITED: u32 = 4;
    pub const WCONTINUED: u32 = 8;
    pub const WNOWAIT: u32 = 0x0100_0000;
    pub const WNOTHREAD: u32 = 0x2000_0000;
    pub const WALL: u32 = 0x4000_0000;
    pub const WCLONE: u32 = 0x8000_0000;
}

/// `waitid` id types.
mod idtype {
    pub const P_ALL: i32 = 0;
    pub const P_PID: i32 = 1;
    pub const P_PGID: i32 = 2;
    pub const P_PIDFD: i32 = 3;
}

pub fn wait4(_ctx: &mut Ctx, a: &Args) -> SysResult {
    use opt::*;
    let (pid, options) = (a.int(0), a.uint(2));
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WCLONE | WALL) != 0 {
        return Err(Errno::EINVAL);
    }
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    Err(Errno::ECHILD)
}

pub fn waitid(ctx: &mut Ctx, a: &Args) -> SysResult {
    use opt::*;
    let (which, id, options) = (a.int(0), a.int(1), a.uint(3));
    if options & !(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL) != 0 {
        return Err(Errno::EINVAL);
    }
    if options & (WEXITED | WSTOPPED | WCONTINUED) == 0 {
        return Err(Errno::EINVAL);
    }
    match which {
        idtype::P_ALL => {}
        idtype::P_PID if id > 0 => {}
        idtype::P_PGID | idtype::P_PIDFD if id >= 0 => {
            if which == idtype::P_PIDFD {
                pidfd::pidfd_pid(ctx.kernel, id)?;
            }
        }
        _ => return Err(Errno::EINVAL),
    }
    // Linux writes si_signo, si_errno and si_code, then si_pid, si_uid and si_status
    // (all 0 here), leaving the padding between them alone.
    let info = a.raw(2);
    if info != 0 {
        UserPtr::<[u32; 3]>::new(info).write([0; 3])?;
        UserPtr::<[u32; 3]>::new(info.checked_add(16).ok_or(Errno::EFAULT)?).write([0; 3])?;
    }
    Err(Errno::ECHILD)
}
