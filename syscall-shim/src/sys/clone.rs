//! clone and clone3: new threads of this process (see [`libos::clone`]).
//!
//! `clone3` is offered with the same meaning as `clone`, rather than ENOSYS: glibc 2.34+
//! tries it first for every thread and would otherwise fall back to `clone` each time.

use core::sync::atomic::AtomicBool;

use libos::clone::{self, CloneArgs, CloneError, Unsupported, CLONE_ARGS_SIZE, CLONE_ARGS_SIZE_VER0};
use libos::mm::PAGE_SIZE;
use libos::thread::ThreadStart;
use libos::{Errno, SysResult};

use crate::args::Args;
use crate::table::Ctx;
use crate::user::{self, UserPtr};
use crate::warn;

static PROCESS_WARNED: AtomicBool = AtomicBool::new(false);
static FLAGS_WARNED: AtomicBool = AtomicBool::new(false);

pub fn clone(ctx: &mut Ctx, a: &Args) -> SysResult {
    // x86-64 order: flags, stack, parent_tid, child_tid, tls.
    spawn(ctx, &CloneArgs::legacy(a.raw(0), a.raw(1), a.raw(2), a.raw(3), a.raw(4)))
}

pub fn clone3(ctx: &mut Ctx, a: &Args) -> SysResult {
    let (ptr, size) = (a.raw(0), a.usize(1));
    if size > PAGE_SIZE as usize {
        return Err(Errno::E2BIG);
    }
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    // A newer structure than unify knows is accepted if what it adds is zero.
    let known = size.min(CLONE_ARGS_SIZE);
    let bytes = user::slice(ptr, size)?;
    if bytes[known..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let mut words = [0u64; CLONE_ARGS_SIZE / 8];
    for (w, chunk) in words.iter_mut().zip(bytes[..known].chunks_exact(8)) {
        *w = u64::from_ne_bytes(chunk.try_into().expect("chunks of 8"));
    }
    let mut args = CloneArgs::from_words(&words);
    args.check_clone3(size)?;
    spawn(ctx, &args)
}

fn spawn(ctx: &mut Ctx, args: &CloneArgs) -> SysResult {
    let spec = match clone::thread_spec(args) {
        Ok(spec) => spec,
        Err(CloneError::Errno(e)) => return Err(e),
        Err(CloneError::Unsupported(Unsupported::Process)) => {
            warn::once(
                ctx.kernel,
                &PROCESS_WARNED,
                format_args!(
                    "clone: creating processes (fork, vfork, posix_spawn) is not implemented yet; returning ENOSYS"
                ),
            );
            return Err(Errno::ENOSYS);
        }
        Err(CloneError::Unsupported(Unsupported::ThreadFlags(f))) => {
            warn::once(
                ctx.kernel,
                &FLAGS_WARNED,
                format_args!("clone: thread flags {f:#x} are not supported (threads share VM, FS, FILES and SIGHAND, without namespaces, ptrace or vfork); returning ENOSYS"),
            );
            return Err(Errno::ENOSYS);
        }
    };
    let shared = ctx.kernel.threads.add()?;
    let tid = shared.tid;
    let child = ctx.thread.child(shared, &spec);
    // Both before either thread runs on, as Linux does; a fault is ignored there too.
    // The memory is shared, so the child finds its tid as Linux's child would.
    for addr in [spec.parent_tid, spec.child_settid].into_iter().flatten() {
        let _ = UserPtr::<u32>::new(addr).write(tid);
    }
    if let Err(e) = ctx.kernel.platform.spawn_thread(ThreadStart { thread: child, stack: spec.stack }) {
        ctx.kernel.threads.abandon(tid);
        return Err(e);
    }
    Ok(tid as usize)
}
