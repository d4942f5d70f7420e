//! eventfd and eventfd2: flags and their errnos, 8-byte reads and writes (short
//! buffers EINVAL, u64::MAX EINVAL), counter and semaphore modes, EAGAIN when empty
//! and when full, poll readiness, fstat and /proc/self/fd, a blocking read woken by
//! another thread, and one ended by a signal (EINTR without SA_RESTART, restarted with
//! it).

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use probes::fsutil::{must, section, v};
use probes::net::*;
use probes::sig;

fn rd(fd: i32) -> String {
    let mut b = [0u8; 8];
    let r = read(fd, &mut b);
    if r == 8 {
        format!("Ok({})", u64::from_ne_bytes(b))
    } else {
        v(r)
    }
}

fn wr(fd: i32, val: u64) -> String {
    v(write(fd, &val.to_ne_bytes()))
}

fn pollev(fd: i32) -> String {
    let mut p = [libc::pollfd { fd, events: libc::POLLIN | libc::POLLOUT, revents: 0 }];
    let r = poll(&mut p, 0);
    format!("{} {}", v(r), events(p[0].revents as u32))
}

extern "C" fn on_usr1(_: i32, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

fn main() {
    section("create");
    println!("bad flags: {}", v(eventfd2(0, 0x10)));
    println!(
        "EFD_SEMAPHORE|EFD_NONBLOCK|EFD_CLOEXEC: {}",
        probes::outcome(eventfd2(0, 1 | libc::O_NONBLOCK | libc::O_CLOEXEC))
    );
    let fd = must("eventfd", eventfd(5));
    println!("F_GETFL: {:#o}", fcntl(fd, libc::F_GETFL, 0));
    println!("F_GETFD: {}", v(fcntl(fd, libc::F_GETFD, 0)));
    let (_, st) = probes::sys::fstat(fd);
    println!("fstat mode: {:#o}", st.st_mode);
    println!("link: {:?}", probes::sys::readlink(&format!("/proc/self/fd/{fd}")));

    section("counter");
    println!("poll at 5: {}", pollev(fd));
    println!("read: {}", rd(fd));
    must("F_SETFL", fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK as usize));
    println!("read empty: {}", rd(fd));
    println!("poll at 0: {}", pollev(fd));
    println!("write 3: {}", wr(fd, 3));
    println!("write 4: {}", wr(fd, 4));
    println!("read: {}", rd(fd));
    let mut short = [0u8; 4];
    println!("read 4 bytes: {}", v(read(fd, &mut short)));
    println!("write 4 bytes: {}", v(write(fd, &[1, 0, 0, 0])));
    let mut big = [0u8; 16];
    println!("write 1, read 16 bytes: {} {}", wr(fd, 1), v(read(fd, &mut big)));
    println!("write u64::MAX: {}", wr(fd, u64::MAX));
    println!("write u64::MAX-1: {}", wr(fd, u64::MAX - 1));
    println!("poll full: {}", pollev(fd));
    println!("write 1 when full: {}", wr(fd, 1));
    println!("write 0 when full: {}", wr(fd, 0));
    println!("read: {}", rd(fd));

    section("semaphore");
    let s = must("eventfd2", eventfd2(2, 1 | libc::O_NONBLOCK));
    println!("reads: {} {} {}", rd(s), rd(s), rd(s));
    println!("write 7, read: {} {}", wr(s, 7), rd(s));
    close(s);

    section("blocking");
    must("F_SETFL", fcntl(fd, libc::F_SETFL, 0));
    let writer = std::thread::spawn(move || {
        nap(30);
        write(fd, &9u64.to_ne_bytes())
    });
    println!("blocking read woken by a write: {}", rd(fd));
    println!("writer: {}", v(writer.join().unwrap()));

    section("signals");
    static DONE: AtomicBool = AtomicBool::new(false);
    sig::install(libc::SIGUSR1, on_usr1, libc::SA_SIGINFO, 0);
    let pester = sig::pester(sig::gettid(), libc::SIGUSR1, std::time::Duration::from_millis(20), &DONE);
    println!("blocking read, signal without SA_RESTART: {}", rd(fd));
    DONE.store(true, SeqCst);
    pester.join().unwrap();
    sig::install(libc::SIGUSR1, on_usr1, libc::SA_SIGINFO | libc::SA_RESTART, 0);
    let me = sig::gettid();
    let pid = sig::getpid();
    let t = std::thread::spawn(move || {
        nap(30);
        let _ = sig::tgkill(pid, me, libc::SIGUSR1);
        nap(30);
        write(fd, &4u64.to_ne_bytes())
    });
    println!("blocking read, signal with SA_RESTART, then a write: {}", rd(fd));
    t.join().unwrap();
    close(fd);
}
