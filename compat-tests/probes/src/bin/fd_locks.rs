//! File locks within one process: POSIX record locks (F_SETLK / F_GETLK: a process never
//! conflicts with itself, so F_GETLK reports F_UNLCK; splitting and merging ranges;
//! EBADF for a write lock on a read-only fd; closing any fd of the file drops them),
//! open-file-description locks (F_OFD_SETLK / F_OFD_GETLK: two opens of the same file
//! conflict, and the conflict is reported with l_pid -1), their conflict with POSIX
//! locks, and flock (LOCK_EX twice on different descriptions with LOCK_NB gives
//! EWOULDBLOCK; dups share the lock; upgrade and downgrade).

use probes::fsutil::{must, section, v};
use probes::sys;

use libc::{
    flock, F_GETLK, F_OFD_GETLK, F_OFD_SETLK, F_RDLCK, F_SETLK, F_UNLCK, F_WRLCK, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN,
    O_RDONLY, O_RDWR, SEEK_SET,
};

fn lock(ty: i32, start: i64, len: i64) -> flock {
    // SAFETY: `struct flock` is plain integers: all-zero is a valid value.
    let mut l: flock = unsafe { std::mem::zeroed() };
    l.l_type = ty as i16;
    l.l_whence = SEEK_SET as i16;
    l.l_start = start;
    l.l_len = len;
    l
}

fn type_name(t: i16) -> &'static str {
    match t as i32 {
        F_RDLCK => "F_RDLCK",
        F_WRLCK => "F_WRLCK",
        F_UNLCK => "F_UNLCK",
        _ => "?",
    }
}

/// Runs a GETLK-style command and describes what it reports.
fn query(fd: i32, cmd: i32, ty: i32, start: i64, len: i64) -> String {
    let mut l = lock(ty, start, len);
    let r = sys::fcntl_lock(fd, cmd, &mut l);
    if r < 0 {
        return v(r);
    }
    if l.l_type as i32 == F_UNLCK {
        return "F_UNLCK".to_string();
    }
    let pid = match l.l_pid {
        -1 => "-1".to_string(),
        p if p as isize == sys::getpid() => "this process".to_string(),
        _ => "another process".to_string(),
    };
    format!("{} start {} len {} pid {pid}", type_name(l.l_type), l.l_start, l.l_len)
}

fn set(fd: i32, cmd: i32, ty: i32, start: i64, len: i64) -> String {
    let mut l = lock(ty, start, len);
    v(sys::fcntl_lock(fd, cmd, &mut l))
}

fn posix(a: i32, b: i32, ro: i32) {
    section("POSIX record locks");
    println!("F_SETLK write 0..100 on a: {}", set(a, F_SETLK, F_WRLCK, 0, 100));
    println!("F_GETLK on a (own lock): {}", query(a, F_GETLK, F_WRLCK, 0, 100));
    println!("F_GETLK on b (same process): {}", query(b, F_GETLK, F_WRLCK, 0, 100));
    println!("F_SETLK write 50..150 on b (same process, replaces): {}", set(b, F_SETLK, F_WRLCK, 50, 100));
    println!("F_SETLK read on a read-only fd: {}", set(ro, F_SETLK, F_RDLCK, 0, 10));
    println!("F_SETLK write on a read-only fd: {}", set(ro, F_SETLK, F_WRLCK, 0, 10));
    println!("F_SETLK unlock a middle range: {}", set(a, F_SETLK, F_UNLCK, 20, 10));
    println!("F_SETLK bad type: {}", set(a, F_SETLK, 7, 0, 10));
    println!("F_SETLK negative start: {}", set(a, F_SETLK, F_WRLCK, -5, 10));
    println!("F_SETLK negative length (range before start): {}", set(a, F_SETLK, F_WRLCK, 10, -5));
    println!("F_SETLK length 0 (to EOF and beyond): {}", set(a, F_SETLK, F_WRLCK, 200, 0));
    println!("F_GETLK bad type: {}", query(a, F_GETLK, 7, 0, 10));
    println!("F_SETLK on a bad fd: {}", set(999, F_SETLK, F_WRLCK, 0, 10));
}

fn ofd(path: &str) {
    section("OFD locks");
    let x = must("x", sys::open(path, O_RDWR, 0));
    let y = must("y", sys::open(path, O_RDWR, 0));
    println!("F_OFD_SETLK write 0..100 on x: {}", set(x, F_OFD_SETLK, F_WRLCK, 0, 100));
    println!("F_OFD_GETLK on x (own description): {}", query(x, F_OFD_GETLK, F_WRLCK, 0, 100));
    println!("F_OFD_GETLK on y (other description): {}", query(y, F_OFD_GETLK, F_WRLCK, 50, 10));
    println!("F_OFD_GETLK read on y for 100..200: {}", query(y, F_OFD_GETLK, F_RDLCK, 100, 100));
    println!("F_OFD_SETLK write on y: {}", set(y, F_OFD_SETLK, F_WRLCK, 50, 10));
    println!("F_OFD_SETLK read on y: {}", set(y, F_OFD_SETLK, F_RDLCK, 0, 1));
    println!("F_OFD_SETLK write on y after x's range: {}", set(y, F_OFD_SETLK, F_WRLCK, 100, 10));
    let mut bad = lock(F_WRLCK, 0, 1);
    bad.l_pid = 1;
    println!("F_OFD_SETLK with l_pid set: {}", v(sys::fcntl_lock(x, F_OFD_SETLK, &mut bad)));
    let xd = must("dup x", sys::dup(x));
    println!("a dup of x shares its lock: {}", query(xd, F_OFD_GETLK, F_WRLCK, 0, 100));
    sys::close(xd);
    println!("closing the dup keeps the lock: {}", query(y, F_OFD_GETLK, F_WRLCK, 0, 1));
    println!("unlock on x: {}", set(x, F_OFD_SETLK, F_UNLCK, 0, 100));
    println!("now y can lock 0..100: {}", set(y, F_OFD_SETLK, F_WRLCK, 0, 100));
    sys::close(y);
    println!("closing y released it: {}", query(x, F_OFD_GETLK, F_WRLCK, 0, 100));

    section("OFD and POSIX locks together");
    println!("POSIX write lock 0..10 on x: {}", set(x, F_SETLK, F_WRLCK, 0, 10));
    let z = must("z", sys::open(path, O_RDWR, 0));
    println!("F_OFD_GETLK on z sees it: {}", query(z, F_OFD_GETLK, F_WRLCK, 0, 10));
    println!("F_OFD_SETLK on z conflicts: {}", set(z, F_OFD_SETLK, F_WRLCK, 0, 10));
    sys::close(z);
    println!("closing another fd of the file dropped the POSIX lock: {}", {
        let w = must("w", sys::open(path, O_RDWR, 0));
        let r = query(w, F_OFD_GETLK, F_WRLCK, 0, 10);
        sys::close(w);
        r
    });
    sys::close(x);
}

fn flocks(path: &str) {
    section("flock");
    let p = must("p", sys::open(path, O_RDONLY, 0));
    let q = must("q", sys::open(path, O_RDONLY, 0));
    println!("LOCK_EX on p: {}", v(sys::flock(p, LOCK_EX)));
    println!("LOCK_EX|LOCK_NB on q: {}", v(sys::flock(q, LOCK_EX | LOCK_NB)));
    println!("LOCK_SH|LOCK_NB on q: {}", v(sys::flock(q, LOCK_SH | LOCK_NB)));
    println!("LOCK_EX again on p: {}", v(sys::flock(p, LOCK_EX | LOCK_NB)));
    let pd = must("dup p", sys::dup(p));
    println!("LOCK_EX|LOCK_NB on a dup of p (same description): {}", v(sys::flock(pd, LOCK_EX | LOCK_NB)));
    println!("LOCK_UN through the dup: {}", v(sys::flock(pd, LOCK_UN)));
    println!("q can lock now: {}", v(sys::flock(q, LOCK_EX | LOCK_NB)));
    println!("q downgrades to LOCK_SH: {}", v(sys::flock(q, LOCK_SH | LOCK_NB)));
    println!("p takes LOCK_SH too: {}", v(sys::flock(p, LOCK_SH | LOCK_NB)));
    println!("p cannot upgrade while q shares: {}", v(sys::flock(p, LOCK_EX | LOCK_NB)));
    sys::close(q);
    println!("after q is closed, p upgrades: {}", v(sys::flock(p, LOCK_EX | LOCK_NB)));
    println!("flock bad operation: {}", v(sys::flock(p, 0)));
    println!("flock LOCK_SH|LOCK_EX: {}", v(sys::flock(p, LOCK_SH | LOCK_EX)));
    println!("flock on a bad fd: {}", v(sys::flock(999, LOCK_SH)));
    println!("flock and POSIX locks are independent: {}", {
        let r = set(pd, F_SETLK, F_RDLCK, 0, 10);
        let mut l = lock(F_UNLCK, 0, 10);
        sys::fcntl_lock(pd, F_SETLK, &mut l);
        r
    });
    sys::close(pd);
    sys::close(p);
}

fn main() {
    std::fs::write("locked", vec![b'x'; 300]).unwrap();
    let a = must("a", sys::open("locked", O_RDWR, 0));
    let b = must("b", sys::open("locked", O_RDWR, 0));
    let ro = must("ro", sys::open("locked", O_RDONLY, 0));
    posix(a, b, ro);
    sys::close(a);
    sys::close(b);
    sys::close(ro);
    ofd("locked");
    flocks("locked");
}
