//! memfd_create: an anonymous regular file (write, read back, ftruncate, lseek), a
//! MAP_SHARED mapping that sees writes and whose stores reach read(), seals
//! (F_ADD_SEALS / F_GET_SEALS: WRITE, SHRINK, GROW, SEAL; EPERM once sealed; EBUSY for
//! F_SEAL_WRITE while a writable shared mapping exists), a memfd without
//! MFD_ALLOW_SEALING, and the errnos of bad flags and names.

use probes::fsutil::{ftype, must, o, section, v};
use probes::sys;

use libc::{
    F_ADD_SEALS, F_GET_SEALS, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, MAP_PRIVATE, MAP_SHARED,
    MFD_ALLOW_SEALING, MFD_CLOEXEC, PROT_READ, PROT_WRITE, SEEK_END, SEEK_SET,
};

const PAGE: usize = 4096;

/// Reads one byte of a mapping made by [`sys::mmap`].
fn peek(addr: usize, off: usize) -> u8 {
    // SAFETY: callers pass the address of a live mapping of at least `off + 1` bytes.
    unsafe { std::ptr::read_volatile((addr + off) as *const u8) }
}

/// Writes one byte of a writable mapping made by [`sys::mmap`].
fn poke(addr: usize, off: usize, b: u8) {
    // SAFETY: callers pass the address of a live writable mapping of at least `off + 1` bytes.
    unsafe { std::ptr::write_volatile((addr + off) as *mut u8, b) }
}

fn seals(fd: i32) -> String {
    let r = sys::fcntl(fd, F_GET_SEALS, 0);
    if r < 0 {
        return v(r);
    }
    let mut names = Vec::new();
    for (bit, name) in
        [(F_SEAL_SEAL, "SEAL"), (F_SEAL_SHRINK, "SHRINK"), (F_SEAL_GROW, "GROW"), (F_SEAL_WRITE, "WRITE")]
    {
        if r as i32 & bit != 0 {
            names.push(name);
        }
    }
    format!("[{}]", names.join(","))
}

fn main() {
    section("memfd_create");
    let fd = sys::memfd_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    println!("memfd_create: {}", if fd >= 0 { "ok".to_string() } else { v(fd) });
    let fd = must("memfd", fd);
    let (r, st) = sys::fstat(fd);
    println!("fstat: {}, {}, size {}", v(r), ftype(st.st_mode), st.st_size);
    println!("FD_CLOEXEC: {}", v(sys::fcntl(fd, libc::F_GETFD, 0)));
    println!("write: {}", v(sys::write(fd, b"memfd contents")));
    println!("lseek SEEK_END: {}", v(sys::lseek(fd, 0, SEEK_END)));
    let mut buf = [0u8; 32];
    let n = sys::pread(fd, &mut buf, 0);
    println!("pread: {} {:?}", v(n), String::from_utf8_lossy(&buf[..n.max(0) as usize]));
    println!("ftruncate to 2 pages: {}, size {}", v(sys::ftruncate(fd, 2 * PAGE as i64)), sys::fstat(fd).1.st_size);
    println!("seals: {}", seals(fd));

    section("shared mapping");
    let m = sys::mmap(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    println!("mmap MAP_SHARED: {}", if m >= 0 { "ok".to_string() } else { v(m) });
    if m >= 0 {
        let m = m as usize;
        println!("mapping shows the data: {}", peek(m, 0) == b'm' && peek(m, 13) == b's');
        println!("and zeros after it: {}", peek(m, 100) == 0 && peek(m, 2 * PAGE - 1) == 0);
        poke(m, 0, b'M');
        poke(m, PAGE + 1, b'!');
        let mut b2 = [0u8; 2];
        sys::pread(fd, &mut b2, PAGE as i64);
        println!(
            "stores are seen by read: {} {}",
            {
                let mut b1 = [0u8; 1];
                sys::pread(fd, &mut b1, 0);
                b1[0] == b'M'
            },
            b2[1] == b'!'
        );
        sys::pwrite(fd, b"W", 5);
        println!("writes are seen in the mapping: {}", peek(m, 5) == b'W');
        println!(
            "F_SEAL_WRITE with a writable shared mapping: {}",
            v(sys::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE as usize))
        );
        // SAFETY: the mapping was made above and is not used after this.
        unsafe { sys::munmap(m, 2 * PAGE) };
    }
    let p = sys::mmap(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if p >= 0 {
        let p = p as usize;
        poke(p, 1, b'P');
        let mut b1 = [0u8; 1];
        sys::pread(fd, &mut b1, 1);
        println!("MAP_PRIVATE stores stay private: {}", b1[0] != b'P');
        // SAFETY: as above.
        unsafe { sys::munmap(p, PAGE) };
    }

    section("seals");
    println!("F_ADD_SEALS WRITE: {}, seals {}", v(sys::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE as usize)), seals(fd));
    println!("write: {}", v(sys::write(fd, b"x")));
    println!("pwrite: {}", v(sys::pwrite(fd, b"x", 0)));
    println!("mmap MAP_SHARED writable: {}", o(sys::mmap(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)));
    let ro = sys::mmap(PAGE, PROT_READ, MAP_SHARED, fd, 0);
    println!("mmap MAP_SHARED read-only: {}", if ro >= 0 { "ok".to_string() } else { v(ro) });
    if ro >= 0 {
        // SAFETY: the read-only mapping just made, unused afterwards.
        unsafe { sys::munmap(ro as usize, PAGE) };
    }
    println!("ftruncate still allowed (no SHRINK/GROW seal): {}", v(sys::ftruncate(fd, 3 * PAGE as i64)));
    println!(
        "F_ADD_SEALS SHRINK|GROW: {}, seals {}",
        v(sys::fcntl(fd, F_ADD_SEALS, (F_SEAL_SHRINK | F_SEAL_GROW) as usize)),
        seals(fd)
    );
    println!("ftruncate smaller: {}", v(sys::ftruncate(fd, PAGE as i64)));
    println!("ftruncate larger: {}", v(sys::ftruncate(fd, 4 * PAGE as i64)));
    println!("ftruncate same size: {}", v(sys::ftruncate(fd, 3 * PAGE as i64)));
    println!("read still works: {}", v(sys::pread(fd, &mut buf[..4], 0)));
    println!("F_ADD_SEALS SEAL: {}, seals {}", v(sys::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL as usize)), seals(fd));
    println!("F_ADD_SEALS after SEAL: {}", v(sys::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE as usize)));
    println!("F_ADD_SEALS unknown bit: {}", v(sys::fcntl(fd, F_ADD_SEALS, 0x1000)));
    sys::close(fd);

    section("without MFD_ALLOW_SEALING");
    let fd = must("memfd", sys::memfd_create("plain", 0));
    println!("FD_CLOEXEC: {}", v(sys::fcntl(fd, libc::F_GETFD, 0)));
    println!("seals: {}", seals(fd));
    println!("F_ADD_SEALS: {}", v(sys::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE as usize)));
    println!("lseek SEEK_SET 10 on empty: {}", v(sys::lseek(fd, 10, SEEK_SET)));
    println!("write there: {}, size {}", v(sys::write(fd, b"z")), sys::fstat(fd).1.st_size);
    sys::close(fd);

    section("errors");
    println!("unknown flag: {}", v(sys::memfd_create("x", 0x100)));
    println!("name of 250 bytes: {}", v(sys::memfd_create(&"n".repeat(250), 0)));
    let same = sys::memfd_create("same", 0);
    let same2 = sys::memfd_create("same", 0);
    println!("the same name twice: {} {}", same >= 0, same2 >= 0);
    sys::close(same as i32);
    sys::close(same2 as i32);
}
