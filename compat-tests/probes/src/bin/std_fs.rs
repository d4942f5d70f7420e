//! Rust's std::fs as applications use it, in a copy of the `basic` fixture: a recursive
//! read_dir of what the runner put there (names, sizes, checksums, sorted), reads
//! (read_to_string, BufReader lines, invalid UTF-8), fs::copy, fs::rename,
//! create_dir_all / remove_dir_all, File::set_len, OpenOptions combinations, Seek,
//! canonicalize, current_dir / set_current_dir, and the io::Error kinds of misuse.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use probes::fsutil::{io_o, ioe};

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

fn walk(dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = match fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(Result::ok).collect(),
        Err(e) => return out.push(format!("{}: {}", dir.display(), ioe(&e))),
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let ty = e.file_type().expect("file_type");
        let shown = path.strip_prefix(".").unwrap_or(&path).display().to_string();
        if ty.is_dir() {
            out.push(format!("{shown}/"));
            walk(&path, out);
        } else {
            let data = fs::read(&path).unwrap_or_default();
            let len = e.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
            out.push(format!("{shown} {len} bytes, read {} fnv {:016x}", data.len(), fnv(&data)));
        }
    }
}

fn fixture() {
    println!("== the fixture as copied in");
    let mut lines = Vec::new();
    walk(Path::new("."), &mut lines);
    for l in lines {
        println!("{l}");
    }
}

fn reads() {
    println!("== reads");
    println!("read_to_string: {:?}", fs::read_to_string("hello.txt").map_err(|e| ioe(&e)));
    println!("empty file: {:?}", fs::read("empty.txt").map(|d| d.len()).map_err(|e| ioe(&e)));
    let f = File::open("lines.txt").expect("lines.txt");
    for (i, line) in BufReader::new(f).lines().enumerate() {
        println!("line {i}: {:?}", line.map_err(|e| format!("{:?}", e.kind())));
    }
    println!("binary as a string: {:?}", fs::read_to_string("data/binary.bin").map_err(|e| format!("{:?}", e.kind())));
    let mut f = File::open("data/numbers.csv").expect("numbers");
    println!("seek to end-5: {:?}", f.seek(SeekFrom::End(-5)).map_err(|e| ioe(&e)));
    let mut tail = String::new();
    f.read_to_string(&mut tail).expect("tail");
    println!("tail: {tail:?}");
    println!("seek to 10: {:?}", f.seek(SeekFrom::Start(10)).map_err(|e| ioe(&e)));
    println!("seek +5: {:?}", f.seek(SeekFrom::Current(5)).map_err(|e| ioe(&e)));
    println!("seek before 0: {}", io_o(&f.seek(SeekFrom::Current(-100))));
    let mut chunk = [0u8; 8];
    f.read_exact(&mut chunk).expect("read_exact");
    println!("read_exact 8: {:?}", String::from_utf8_lossy(&chunk));
    println!("read_exact past the end: {:?}", {
        f.seek(SeekFrom::End(-2)).unwrap();
        f.read_exact(&mut chunk).map_err(|e| format!("{:?}", e.kind()))
    });
}

fn writes() {
    println!("== copy, rename, directories");
    println!("copy: {:?}", fs::copy("data/numbers.csv", "copy.csv").map_err(|e| ioe(&e)));
    println!("copy is equal: {}", fs::read("copy.csv").ok() == fs::read("data/numbers.csv").ok());
    println!("copy a missing file: {}", io_o(&fs::copy("missing", "x")));
    println!("copy a directory: {}", io_o(&fs::copy("nested", "x")));
    println!("rename: {}", io_o(&fs::rename("copy.csv", "nested/moved.csv")));
    println!("old exists, new exists: {} {}", Path::new("copy.csv").exists(), Path::new("nested/moved.csv").exists());
    println!("create_dir_all: {}", io_o(&fs::create_dir_all("made/a/b/c")));
    println!("create_dir_all again: {}", io_o(&fs::create_dir_all("made/a/b/c")));
    println!("create_dir existing: {:?}", fs::create_dir("made").map_err(|e| format!("{:?}", e.kind())));
    fs::write("made/a/b/c/file", "x").unwrap();
    fs::write("made/a/top", "y").unwrap();
    println!("remove_dir non-empty: {:?}", fs::remove_dir("made").map_err(|e| format!("{:?}", e.kind())));
    println!("remove_dir_all: {}", io_o(&fs::remove_dir_all("made")));
    println!("gone: {}", !Path::new("made").exists());
    println!("remove_file on a directory: {}", io_o(&fs::remove_file("nested")));
    println!("remove_dir on a file: {}", io_o(&fs::remove_dir("hello.txt")));
    println!("read_dir on a file: {}", io_o(&fs::read_dir("hello.txt")));
    println!("metadata missing: {:?}", fs::metadata("missing").map(|_| ()).map_err(|e| format!("{:?}", e.kind())));
    let m = fs::metadata("nested").unwrap();
    println!("metadata dir: is_dir {} is_file {}", m.is_dir(), m.is_file());
    println!(
        "symlink_metadata file: is_file {}",
        fs::symlink_metadata("hello.txt").map(|m| m.is_file()).unwrap_or(false)
    );
}

fn files() {
    println!("== File and OpenOptions");
    let f = File::create("sized").unwrap();
    println!("set_len 10000: {}, len {}", io_o(&f.set_len(10_000)), f.metadata().map(|m| m.len()).unwrap_or(0));
    println!("set_len 10: {}, len {}", io_o(&f.set_len(10)), f.metadata().map(|m| m.len()).unwrap_or(0));
    println!("sync_all: {}, sync_data: {}", io_o(&f.sync_all()), io_o(&f.sync_data()));
    drop(f);
    println!("contents are zeros: {}", fs::read("sized").map(|d| d.iter().all(|&b| b == 0)).unwrap_or(false));
    println!(
        "create_new on existing: {:?}",
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open("sized")
            .map(|_| ())
            .map_err(|e| format!("{:?}", e.kind()))
    );
    println!(
        "write without create on missing: {:?}",
        OpenOptions::new().write(true).open("nope").map(|_| ()).map_err(|e| format!("{:?}", e.kind()))
    );
    println!(
        "create without write: {:?}",
        OpenOptions::new().create(true).truncate(false).open("nope").map(|_| ()).map_err(|e| format!("{:?}", e.kind()))
    );
    {
        let mut a = OpenOptions::new().append(true).open("hello.txt").unwrap();
        a.write_all(b"appended\n").unwrap();
    }
    println!("append: {:?}", fs::read_to_string("hello.txt").unwrap_or_default());
    {
        let mut t = OpenOptions::new().write(true).truncate(true).open("hello.txt").unwrap();
        t.write_all(b"truncated").unwrap();
    }
    println!("truncate: {:?}", fs::read_to_string("hello.txt").unwrap_or_default());
    {
        let mut rw = OpenOptions::new().read(true).write(true).open("hello.txt").unwrap();
        rw.seek(SeekFrom::Start(2)).unwrap();
        rw.write_all(b"UN").unwrap();
        rw.seek(SeekFrom::Start(0)).unwrap();
        let mut s = String::new();
        rw.read_to_string(&mut s).unwrap();
        println!("read+write: {s:?}");
    }
    {
        let mut w = BufWriter::new(File::create("buffered").unwrap());
        for i in 0..20_000 {
            writeln!(w, "line {i}").unwrap();
        }
    }
    let count = BufReader::new(File::open("buffered").unwrap()).lines().count();
    println!(
        "BufWriter 20000 lines, BufReader counts {count}, size {}",
        fs::metadata("buffered").map(|m| m.len()).unwrap_or(0)
    );
    let mut d = File::open("nested").expect("open a directory");
    println!("read from a directory File: {}", io_o(&d.read(&mut [0u8; 4])));
    println!(
        "fs::write then read: {:?}",
        fs::write("w", "written").and_then(|_| fs::read_to_string("w")).map_err(|e| ioe(&e))
    );
}

fn dirs() {
    println!("== current_dir");
    let start = std::env::current_dir().expect("current_dir");
    println!("set_current_dir nested/a: {}", io_o(&std::env::set_current_dir("nested/a")));
    println!("relative read: {:?}", fs::read_to_string("b/deep.txt").map_err(|e| ioe(&e)));
    let cwd = std::env::current_dir().unwrap();
    println!("current_dir: {:?}", cwd.strip_prefix(&start).map(|p| p.display().to_string()).unwrap_or_default());
    let canon = fs::canonicalize("b/../b/./deep.txt").unwrap_or_default();
    println!("canonicalize: {:?}", canon.strip_prefix(&start).map(|p| p.display().to_string()).unwrap_or_default());
    println!("canonicalize missing: {}", io_o(&fs::canonicalize("missing")));
    println!("set_current_dir missing: {}", io_o(&std::env::set_current_dir("missing")));
    println!("set_current_dir a file: {}", io_o(&std::env::set_current_dir("sibling.md")));
    println!("set_current_dir ../..: {}", io_o(&std::env::set_current_dir("../..")));
    println!("back at the start: {}", std::env::current_dir().ok() == Some(start));
}

fn main() {
    fixture();
    reads();
    writes();
    files();
    dirs();
    println!("== the directory afterwards");
    let mut lines = Vec::new();
    walk(Path::new("."), &mut lines);
    for l in lines {
        println!("{l}");
    }
}
