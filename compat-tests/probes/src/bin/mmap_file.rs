//! File-backed mmap of files in the working directory: MAP_PRIVATE (sees the contents,
//! its stores never reach the file), MAP_SHARED (stores reach the file, seen by read()
//! after msync and after munmap + close; write() is seen in the mapping), the zero tail
//! of the last page beyond EOF, offsets, and the errnos (unaligned offset, EACCES for
//! the wrong access mode, ENODEV for a directory or a pipe, EBADF).

use probes::fsutil::{must, o, section, v};
use probes::sys;

use libc::{
    MAP_PRIVATE, MAP_SHARED, MS_ASYNC, MS_INVALIDATE, MS_SYNC, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, PROT_READ,
    PROT_WRITE,
};

const PAGE: usize = 4096;

/// A mapping made by [`sys::mmap`], unmapped on drop.
struct Map {
    addr: usize,
    len: usize,
}

impl Map {
    fn new(len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> Result<Map, String> {
        let r = sys::mmap(len, prot, flags, fd, off);
        if r < 0 {
            Err(v(r))
        } else {
            Ok(Map { addr: r as usize, len })
        }
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: `addr..addr+len` is a live readable mapping owned by self.
        unsafe { std::slice::from_raw_parts(self.addr as *const u8, self.len) }
    }
    fn store(&self, off: usize, data: &[u8]) {
        assert!(off + data.len() <= self.len);
        // SAFETY: the range is inside this writable mapping (callers map with PROT_WRITE).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), (self.addr + off) as *mut u8, data.len()) }
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: the mapping is owned by self and no reference into it outlives self.
        unsafe { sys::munmap(self.addr, self.len) };
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

fn file_bytes(p: &str) -> Vec<u8> {
    std::fs::read(p).unwrap_or_default()
}

fn private() {
    section("MAP_PRIVATE");
    std::fs::write("priv", pattern(3 * PAGE + 100)).unwrap();
    let fd = must("priv", sys::open("priv", O_RDONLY, 0));
    let m = match Map::new(4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) {
        Ok(m) => m,
        Err(e) => return println!("mmap: {e}"),
    };
    println!("mmap a read-only fd PROT_READ|PROT_WRITE MAP_PRIVATE: ok");
    println!("contents match: {}", m.bytes()[..3 * PAGE + 100] == pattern(3 * PAGE + 100)[..]);
    println!("zeros after EOF in the last page: {}", m.bytes()[3 * PAGE + 100..].iter().all(|&b| b == 0));
    m.store(10, b"PRIVATE");
    println!("store visible in the mapping: {}", &m.bytes()[10..17] == b"PRIVATE");
    println!("the file is unchanged: {}", file_bytes("priv") == pattern(3 * PAGE + 100));
    let mut buf = [0u8; 7];
    sys::pread(fd, &mut buf, 10);
    println!("read() sees the file, not the store: {:?}", String::from_utf8_lossy(&buf));
    let off = Map::new(PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE as i64);
    println!(
        "mmap at offset 2 pages: {}",
        match &off {
            Ok(m) => (m.bytes()[0] == pattern(3 * PAGE)[2 * PAGE]).to_string(),
            Err(e) => e.clone(),
        }
    );
    drop(m);
    sys::close(fd);
}

fn shared() {
    section("MAP_SHARED");
    std::fs::write("shared", pattern(2 * PAGE)).unwrap();
    let fd = must("shared", sys::open("shared", O_RDWR, 0));
    let m = match Map::new(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) {
        Ok(m) => m,
        Err(e) => return println!("mmap: {e}"),
    };
    println!("contents match: {}", m.bytes() == &pattern(2 * PAGE)[..]);
    m.store(0, b"SHARED");
    m.store(PAGE + 5, b"second page");
    println!("msync MS_SYNC: {}", v(sys::msync(m.addr, 2 * PAGE, MS_SYNC)));
    let mut buf = [0u8; 11];
    sys::pread(fd, &mut buf[..6], 0);
    println!("read() sees the store: {:?}", String::from_utf8_lossy(&buf[..6]));
    sys::pread(fd, &mut buf, (PAGE + 5) as i64);
    println!("and the one in the second page: {:?}", String::from_utf8_lossy(&buf));
    println!("another open sees it: {}", file_bytes("shared")[..6] == *b"SHARED");
    sys::pwrite(fd, b"WRITTEN", 100);
    println!("write() is seen in the mapping: {:?}", String::from_utf8_lossy(&m.bytes()[100..107]));
    println!("msync MS_ASYNC: {}", v(sys::msync(m.addr, PAGE, MS_ASYNC)));
    println!("msync MS_INVALIDATE: {}", v(sys::msync(m.addr, PAGE, MS_INVALIDATE)));
    println!("msync MS_SYNC|MS_ASYNC: {}", v(sys::msync(m.addr, PAGE, MS_SYNC | MS_ASYNC)));
    println!("msync unaligned: {}", v(sys::msync(m.addr + 1, PAGE, MS_SYNC)));
    m.store(200, b"UNSYNCED");
    drop(m);
    sys::close(fd);
    println!(
        "store without msync reaches the file after munmap + close: {}",
        file_bytes("shared")[200..208] == *b"UNSYNCED"
    );
    println!("size unchanged: {}", file_bytes("shared").len());

    std::fs::write("short", pattern(100)).unwrap();
    let fd = must("short", sys::open("short", O_RDWR, 0));
    if let Ok(m) = Map::new(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) {
        println!("short file: zeros after EOF: {}", m.bytes()[100..].iter().all(|&b| b == 0));
        m.store(200, b"beyond");
        sys::msync(m.addr, PAGE, MS_SYNC);
        println!("a store past EOF does not grow the file: size {}", sys::fstat(fd).1.st_size);
        sys::ftruncate(fd, 300);
        println!("after ftruncate to 300 the mapping shows the grown range as zeros or the store: {}", {
            let b = &m.bytes()[200..206];
            b == b"beyond" || b.iter().all(|&x| x == 0)
        });
    }
    sys::close(fd);
}

fn errors() {
    section("errors");
    std::fs::write("e", pattern(PAGE)).unwrap();
    let ro = must("ro", sys::open("e", O_RDONLY, 0));
    let wo = must("wo", sys::open("e", O_WRONLY, 0));
    println!(
        "MAP_SHARED PROT_WRITE on a read-only fd: {}",
        o(sys::mmap(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0))
    );
    println!("PROT_READ on a write-only fd: {}", o(sys::mmap(PAGE, PROT_READ, MAP_PRIVATE, wo, 0)));
    println!("unaligned offset: {}", o(sys::mmap(PAGE, PROT_READ, MAP_PRIVATE, ro, 100)));
    println!("length 0: {}", o(sys::mmap(0, PROT_READ, MAP_PRIVATE, ro, 0)));
    println!("neither MAP_SHARED nor MAP_PRIVATE: {}", o(sys::mmap(PAGE, PROT_READ, 0, ro, 0)));
    println!("bad fd: {}", o(sys::mmap(PAGE, PROT_READ, MAP_PRIVATE, 999, 0)));
    let d = must("dir", sys::open(".", O_RDONLY, 0));
    println!("a directory: {}", o(sys::mmap(PAGE, PROT_READ, MAP_PRIVATE, d, 0)));
    sys::close(d);
    let (_, p) = sys::pipe();
    println!("a pipe: {}", o(sys::mmap(PAGE, PROT_READ, MAP_PRIVATE, p[0], 0)));
    sys::close(p[0]);
    sys::close(p[1]);
    println!("mapping beyond EOF (whole pages past it) is allowed: {}", {
        let r = Map::new(8 * PAGE, PROT_READ, MAP_PRIVATE, ro, 0);
        r.map(|_| "ok".to_string()).unwrap_or_else(|e| e)
    });
    println!("offset far beyond EOF is allowed: {}", {
        let r = Map::new(PAGE, PROT_READ, MAP_PRIVATE, ro, 100 * PAGE as i64);
        r.map(|_| "ok".to_string()).unwrap_or_else(|e| e)
    });
    let keep = Map::new(PAGE, PROT_READ, MAP_PRIVATE, ro, 0);
    sys::close(ro);
    println!("the mapping outlives its fd: {}", keep.map(|m| m.bytes()[..3] == *b"abc").unwrap_or(false));
    sys::close(wo);
}

fn main() {
    private();
    shared();
    errors();
    let fd = must("created", sys::open("created", O_CREAT | O_RDWR, 0o644));
    sys::ftruncate(fd, PAGE as i64);
    if let Ok(m) = Map::new(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) {
        m.store(0, b"fresh file");
    }
    sys::close(fd);
    println!("a new file filled through a shared mapping: {:?}", String::from_utf8_lossy(&file_bytes("created")[..10]));
}
