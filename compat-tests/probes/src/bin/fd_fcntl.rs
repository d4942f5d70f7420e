//! fcntl's descriptor and status flags: F_GETFD / F_SETFD, F_GETFL / F_SETFL (access
//! mode reported, O_APPEND and O_NONBLOCK toggled and obeyed, the access mode and
//! creation flags not changeable), and the errnos (unknown command, bad fd).

use probes::fsutil::{must, section, v};
use probes::sys;

use libc::{
    FD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, O_ACCMODE, O_APPEND, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_RDWR,
    O_TRUNC, O_WRONLY, SEEK_SET,
};

fn flags(fd: i32) -> String {
    let r = sys::fcntl(fd, F_GETFL, 0);
    if r < 0 {
        return v(r);
    }
    let f = r as i32;
    let acc = match f & O_ACCMODE {
        O_RDONLY => "O_RDONLY",
        O_WRONLY => "O_WRONLY",
        O_RDWR => "O_RDWR",
        _ => "?",
    };
    let mut s = acc.to_string();
    for (bit, name) in [
        (O_APPEND, "O_APPEND"),
        (O_NONBLOCK, "O_NONBLOCK"),
        (O_CREAT, "O_CREAT"),
        (O_TRUNC, "O_TRUNC"),
        (O_EXCL, "O_EXCL"),
    ] {
        if f & bit != 0 {
            s.push('|');
            s.push_str(name);
        }
    }
    s
}

fn main() {
    std::fs::write("f", "0123456789").unwrap();

    section("F_GETFL");
    for (name, fl) in
        [("O_RDONLY", O_RDONLY), ("O_WRONLY", O_WRONLY), ("O_RDWR", O_RDWR), ("O_RDWR|O_APPEND", O_RDWR | O_APPEND)]
    {
        let fd = must(name, sys::open("f", fl, 0));
        println!("opened {name}: {}", flags(fd));
        sys::close(fd);
    }
    let fd = must("creat flags", sys::open("f", O_RDWR | O_CREAT | O_TRUNC, 0o644));
    println!("opened O_RDWR|O_CREAT|O_TRUNC: {} (creation flags are not kept)", flags(fd));
    sys::write(fd, b"0123456789");

    section("F_SETFL");
    println!("set O_APPEND: {}, now {}", v(sys::fcntl(fd, F_SETFL, O_APPEND as usize)), flags(fd));
    sys::lseek(fd, 0, SEEK_SET);
    sys::write(fd, b"A");
    println!("write after seek to 0 appends: {:?}", std::fs::read_to_string("f").unwrap_or_default());
    println!("clear O_APPEND: {}, now {}", v(sys::fcntl(fd, F_SETFL, 0)), flags(fd));
    sys::lseek(fd, 0, SEEK_SET);
    sys::write(fd, b"B");
    println!("write after seek to 0 overwrites: {:?}", std::fs::read_to_string("f").unwrap_or_default());
    println!("set O_NONBLOCK: {}, now {}", v(sys::fcntl(fd, F_SETFL, O_NONBLOCK as usize)), flags(fd));
    println!("regular files ignore O_NONBLOCK: read {}", v(sys::read(fd, &mut [0u8; 4])));
    println!(
        "try to change the access mode to O_RDONLY: {}, now {}",
        v(sys::fcntl(fd, F_SETFL, O_RDONLY as usize)),
        flags(fd)
    );
    println!(
        "try O_WRONLY|O_CREAT|O_TRUNC: {}, now {}",
        v(sys::fcntl(fd, F_SETFL, (O_WRONLY | O_CREAT | O_TRUNC) as usize)),
        flags(fd)
    );
    println!("  size untouched: {}", std::fs::metadata("f").map(|m| m.len()).unwrap_or(0));
    println!("F_SETFL on a bad fd: {}", v(sys::fcntl(999, F_SETFL, 0)));
    println!("F_GETFL on a bad fd: {}", v(sys::fcntl(999, F_GETFL, 0)));

    section("F_GETFD / F_SETFD");
    println!("F_GETFD: {}", v(sys::fcntl(fd, F_GETFD, 0)));
    println!(
        "F_SETFD FD_CLOEXEC: {}, F_GETFD {}",
        v(sys::fcntl(fd, F_SETFD, FD_CLOEXEC as usize)),
        v(sys::fcntl(fd, F_GETFD, 0))
    );
    println!(
        "F_SETFD with other bits (only FD_CLOEXEC kept): {}, F_GETFD {}",
        v(sys::fcntl(fd, F_SETFD, 0xff)),
        v(sys::fcntl(fd, F_GETFD, 0))
    );
    println!("F_SETFD 0: {}, F_GETFD {}", v(sys::fcntl(fd, F_SETFD, 0)), v(sys::fcntl(fd, F_GETFD, 0)));
    println!("F_GETFD on a bad fd: {}", v(sys::fcntl(999, F_GETFD, 0)));

    section("other commands");
    println!("unknown command 9999: {}", v(sys::fcntl(fd, 9999, 0)));
    println!("F_GETPIPE_SZ on a file: {}", v(sys::fcntl(fd, libc::F_GETPIPE_SZ, 0)));
    let p = must("O_PATH", sys::open("f", libc::O_PATH, 0));
    println!("O_PATH fd: F_GETFL has O_PATH: {}", sys::fcntl(p, F_GETFL, 0) as i32 & libc::O_PATH != 0);
    println!("O_PATH fd: F_GETFD {}", v(sys::fcntl(p, F_GETFD, 0)));
    sys::close(p);
    sys::close(fd);
}
