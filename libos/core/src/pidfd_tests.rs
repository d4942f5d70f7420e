//! pidfds against Linux's rules (checked natively on 6.18).

extern crate std;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU16, Ordering};

use super::*;
use crate::file::events::POLLOUT;
use crate::readiness::{pollee_of, Observer};
use crate::testing::{kernel_on, FakePlatform};

const SIGUSR1: i32 = 10;

fn install(k: &Kernel, open: Arc<OpenFile>) -> i32 {
    k.fds.lock().insert(open, true).unwrap()
}

fn blocked_usr1(k: &Kernel) -> crate::thread::Thread {
    let mut t = k.threads.leader();
    t.set_sigmask(k, 1 << (SIGUSR1 - 1));
    t
}

#[test]
fn open_takes_the_own_pid_and_a_thread_only_with_pidfd_thread() {
    let (_, k) = kernel_on(FakePlatform::new());
    let pid = k.identity.pid as i32;
    let open = super::open(&k, pid, 0).unwrap();
    assert_eq!(open.flags(), oflags::O_RDWR);
    assert_eq!(super::open(&k, pid, PIDFD_NONBLOCK | PIDFD_THREAD).unwrap().flags(), 0o4202);
    let t = k.threads.add().unwrap();
    assert_eq!(super::open(&k, t.tid as i32, 0).err(), Some(Errno::ENOENT), "a thread leads no group");
    assert!(super::open(&k, t.tid as i32, PIDFD_THREAD).is_ok());
    assert_eq!(super::open(&k, pid + 1000, 0).err(), Some(Errno::ESRCH));
    for (pid, flags) in [(0, 0), (-1, 0), (pid, 1), (pid, oflags::O_CLOEXEC), (pid + 1000, 1)] {
        assert_eq!(super::open(&k, pid, flags).err(), Some(Errno::EINVAL), "pid {pid} flags {flags:#o}");
    }
    k.threads.exit(t.tid, 0);
    assert_eq!(super::open(&k, t.tid as i32, PIDFD_THREAD).err(), Some(Errno::ESRCH), "an ended thread");
}

#[test]
fn the_file_looks_like_a_pidfs_file() {
    let (_, k) = kernel_on(FakePlatform::new());
    let pid = k.identity.pid as i32;
    let a = super::open(&k, pid, 0).unwrap();
    let b = super::open(&k, pid, PIDFD_THREAD).unwrap();
    let st = a.file.stat().unwrap();
    assert_eq!((st.st_mode, st.st_nlink), (0o700, 1));
    assert_eq!(st.st_ino, b.file.stat().unwrap().st_ino, "one inode per task");
    assert_eq!(a.file.statfs().unwrap().f_type, PIDFS_MAGIC);
    assert_eq!(a.file.anon_name().unwrap(), b"anon_inode:[pidfd]");
    assert_eq!(a.file.fdinfo(), format!("Pid:\t{pid}\nNSpid:\t{pid}\n").into_bytes());
    let mut buf = [0u8; 8];
    assert_eq!(a.read(&mut buf), Err(Errno::EINVAL));
    assert_eq!(a.write(&buf), Err(Errno::EINVAL));
}

struct Heard(AtomicU16);

impl Observer for Heard {
    fn on_events(&self, events: u16) {
        self.0.fetch_or(events, Ordering::SeqCst);
    }
}

#[test]
fn a_thread_pidfd_becomes_readable_when_the_thread_ends() {
    let (_, k) = kernel_on(FakePlatform::new());
    let own = super::open(&k, k.identity.pid as i32, 0).unwrap();
    assert_eq!(own.file.poll(u16::MAX), 0, "the running process");
    assert!(matches!(own.file.readiness(), Readiness::Static));

    let t = k.threads.add().unwrap();
    let open = super::open(&k, t.tid as i32, PIDFD_THREAD).unwrap();
    assert_eq!(open.file.poll(u16::MAX), 0);
    let heard = Arc::new(Heard(AtomicU16::new(0)));
    let observer: Arc<dyn Observer> = heard.clone();
    pollee_of(open.file.readiness()).unwrap().register(Arc::downgrade(&observer), 0);
    k.threads.exit(t.tid, 0);
    assert_eq!(heard.0.load(Ordering::SeqCst), POLLIN | POLLRDNORM | POLLHUP);
    assert_eq!(open.file.poll(POLLIN | POLLOUT | POLLHUP), POLLIN | POLLHUP, "never writable");
    assert_eq!(open.file.fdinfo(), b"Pid:\t-1\nNSpid:\t-1\n");
}

#[test]
fn scopes_come_from_the_pidfd_unless_one_flag_overrides_them() {
    use send_flags::*;
    assert_eq!(scope_of_flags(0), Ok(None));
    assert_eq!(scope_of_flags(PIDFD_SIGNAL_THREAD), Ok(Some(Scope::Thread)));
    assert_eq!(scope_of_flags(PIDFD_SIGNAL_THREAD_GROUP), Ok(Some(Scope::Process)));
    assert_eq!(scope_of_flags(PIDFD_SIGNAL_PROCESS_GROUP), Ok(Some(Scope::ProcessGroup)));
    for bad in [3, 5, 6, 7, 8, 1 << 31] {
        assert_eq!(scope_of_flags(bad), Err(Errno::EINVAL), "flags {bad:#x}");
    }

    let (_, k) = kernel_on(FakePlatform::new());
    let me = k.threads.leader();
    let pid = k.identity.pid as i32;
    let proc_fd = install(&k, super::open(&k, pid, 0).unwrap());
    let thread_fd = install(&k, super::open(&k, pid, PIDFD_THREAD).unwrap());
    let scope = |fd| signal_target(&k, &me.shared, fd).map(|(p, s)| (p.pid, s));
    assert_eq!(scope(proc_fd), Ok((pid as u32, Scope::Process)));
    assert_eq!(scope(thread_fd), Ok((pid as u32, Scope::Thread)));
    assert_eq!(scope(PIDFD_SELF_THREAD), Ok((me.tid, Scope::Thread)));
    assert_eq!(scope(PIDFD_SELF_THREAD_GROUP), Ok((pid as u32, Scope::Process)));
    assert_eq!(scope(0).err(), Some(Errno::EBADF), "the console is no pidfd");
    assert_eq!(scope(999).err(), Some(Errno::EBADF));
    assert_eq!(scope(-20000).err(), Some(Errno::EBADF));

    let other = k.threads.add().unwrap();
    let (p, s) = signal_target(&k, &other, PIDFD_SELF_THREAD).unwrap();
    assert_eq!((p.pid, s, p.leads_group()), (other.tid, Scope::Thread, false));
}

#[test]
fn a_callers_siginfo_must_match_and_may_claim_the_kernel_only_to_itself() {
    let (_, k) = kernel_on(FakePlatform::new());
    let pid = k.identity.pid;
    let me = PidRef::process(&k);
    let mut info = SigInfo::sent(SIGUSR1 as u32, code::SI_USER, 4321, 0);
    assert_eq!(signal_info(&k, pid, &me, Scope::Process, SIGUSR1, Some(info)), Ok(info));
    assert_eq!(signal_info(&k, pid, &me, Scope::Process, 12, Some(info)), Err(Errno::EINVAL));
    assert_eq!(signal_info(&k, pid + 1, &me, Scope::Process, SIGUSR1, Some(info)), Err(Errno::EPERM));
    assert_eq!(signal_info(&k, pid, &me, Scope::ProcessGroup, SIGUSR1, Some(info)), Err(Errno::EPERM));
    info.si_code = code::SI_TKILL;
    assert_eq!(signal_info(&k, pid + 1, &me, Scope::Process, SIGUSR1, Some(info)), Err(Errno::EPERM));
    info.si_code = code::SI_QUEUE;
    assert_eq!(signal_info(&k, pid + 1, &me, Scope::ProcessGroup, SIGUSR1, Some(info)), Ok(info));

    let made = signal_info(&k, pid, &me, Scope::Thread, SIGUSR1, None).unwrap();
    assert_eq!((made.si_code, made.fields[0] as u32), (code::SI_TKILL, pid));
    let made = signal_info(&k, pid, &me, Scope::Process, SIGUSR1, None).unwrap();
    assert_eq!(made.si_code, code::SI_USER);
}

#[test]
fn signals_reach_the_scope_and_gone_tasks_are_esrch() {
    let (_, k) = kernel_on(FakePlatform::new());
    let t = blocked_usr1(&k);
    let me = PidRef::process(&k);
    let info = SigInfo::sent(SIGUSR1 as u32, code::SI_USER, k.identity.pid, 0);
    assert_eq!(send_signal(&k, &me, Scope::Process, 0, info), Ok(()));
    assert_eq!(k.pending_for(&t), 0, "signal 0 only checks");
    assert_eq!(send_signal(&k, &me, Scope::Process, 65, info), Err(Errno::EINVAL));
    send_signal(&k, &me, Scope::Thread, SIGUSR1, info).unwrap();
    assert_eq!(t.shared.pending.lock().mask(), 1 << (SIGUSR1 - 1), "thread scope: the thread's own set");
    k.take_signal_in(&t.shared, 1 << (SIGUSR1 - 1)).unwrap();
    send_signal(&k, &me, Scope::ProcessGroup, SIGUSR1, info).unwrap();
    assert_eq!(k.sigpending.lock().mask(), 1 << (SIGUSR1 - 1), "the process leads its group");

    let other = k.threads.add().unwrap();
    let theirs = PidRef::find(&k, other.tid).unwrap();
    assert_eq!(send_signal(&k, &theirs, Scope::ProcessGroup, 0, info), Err(Errno::ESRCH));
    assert_eq!(send_signal(&k, &theirs, Scope::Thread, 0, info), Ok(()));
    k.threads.exit(other.tid, 0);
    assert_eq!(send_signal(&k, &theirs, Scope::Thread, 0, info), Err(Errno::ESRCH));
    assert_eq!(send_signal(&k, &theirs, Scope::Process, 65, info), Err(Errno::ESRCH), "ESRCH before EINVAL");
}

#[test]
fn getfd_shares_the_description() {
    let (_, k) = kernel_on(FakePlatform::new());
    let pidfd = install(&k, super::open(&k, k.identity.pid as i32, 0).unwrap());
    let console = k.fds.lock().get(1).unwrap();
    assert!(Arc::ptr_eq(&getfd(&k, pidfd, 1, 0).unwrap(), &console));
    assert!(Arc::ptr_eq(&getfd(&k, pidfd, pidfd, 0).unwrap(), &k.fds.lock().get(pidfd).unwrap()));
    assert_eq!(getfd(&k, pidfd, 1, 1).err(), Some(Errno::EINVAL));
    assert_eq!(getfd(&k, 999, 1, 1).err(), Some(Errno::EINVAL), "flags first");
    assert_eq!(getfd(&k, pidfd, 999, 0).err(), Some(Errno::EBADF));
    assert_eq!(getfd(&k, 999, 1, 0).err(), Some(Errno::EBADF));
    assert_eq!(getfd(&k, 1, 1, 0).err(), Some(Errno::EBADF), "not a pidfd");

    let t = k.threads.add().unwrap();
    let tfd = install(&k, super::open(&k, t.tid as i32, PIDFD_THREAD).unwrap());
    assert!(getfd(&k, tfd, 1, 0).is_ok());
    k.threads.exit(t.tid, 0);
    assert_eq!(getfd(&k, tfd, 1, 0).err(), Some(Errno::ESRCH));
    assert_eq!(pidfd_pid(&k, tfd).map(|(p, f)| (p.pid, f)), Ok((t.tid, oflags::O_RDWR | PIDFD_THREAD)));
    assert_eq!(pidfd_pid(&k, 1).err(), Some(Errno::EBADF));
}
