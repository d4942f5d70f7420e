//! The timerfd syscalls on the process's fd table, with Linux's checks in Linux's
//! order (flags and the new value first, then the fd).

use alloc::sync::Arc;

use super::{clock_of, itimerspec, timer_value, TimerFd, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET};
use crate::abi::Itimerspec;
use crate::file::{oflags, OpenFile};
use crate::kernel::Kernel;
use crate::Errno;

/// `timerfd_create` flags: `TFD_NONBLOCK` and `TFD_CLOEXEC` are the `open` flags.
const CREATE_FLAGS: u32 = oflags::O_NONBLOCK | oflags::O_CLOEXEC;
/// `timerfd_settime` flags.
const SETTIME_FLAGS: u32 = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET;

impl Kernel {
    /// `timerfd_create(clock, flags)`: the new fd. EINVAL for unknown flags or a clock
    /// timerfds do not run on; EPERM for an alarm clock without `CAP_WAKE_ALARM` (the
    /// guest has every capability as uid 0, none otherwise).
    pub fn timerfd_create(&self, clock: i32, flags: u32) -> Result<i32, Errno> {
        if flags & !CREATE_FLAGS != 0 {
            return Err(Errno::EINVAL);
        }
        let id = clock_of(clock, self.identity.uid == 0)?;
        let tfd = TimerFd::new(self.platform, clock, id);
        self.timerfds.add(&tfd);
        let open = OpenFile::new(tfd, oflags::O_RDWR | (flags & oflags::O_NONBLOCK));
        self.fds.lock().insert(open, flags & oflags::O_CLOEXEC != 0)
    }

    /// Runs `f` on the timerfd behind `fd`: EBADF if it is not open, EINVAL if it is
    /// something else.
    fn with_timerfd<T>(&self, fd: i32, f: impl FnOnce(&TimerFd) -> T) -> Result<T, Errno> {
        let open: Arc<OpenFile> = self.fds.lock().get(fd)?;
        let tfd = (*open.file).as_any().downcast_ref::<TimerFd>().ok_or(Errno::EINVAL)?;
        Ok(f(tfd))
    }

    /// `timerfd_settime(fd, flags, new)`: the old value.
    pub fn timerfd_settime(&self, fd: i32, flags: i32, new: Itimerspec) -> Result<Itimerspec, Errno> {
        let flags = flags as u32;
        if flags & !SETTIME_FLAGS != 0 {
            return Err(Errno::EINVAL);
        }
        let new = timer_value(new)?;
        self.with_timerfd(fd, |tfd| itimerspec(tfd.set(new, flags)))
    }

    /// `timerfd_gettime(fd)`: the time left and the interval.
    pub fn timerfd_gettime(&self, fd: i32) -> Result<Itimerspec, Errno> {
        self.with_timerfd(fd, |tfd| itimerspec(tfd.get()))
    }
}
