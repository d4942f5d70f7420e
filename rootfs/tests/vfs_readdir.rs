//! Listing a large FAT directory through `getdents64`: every entry once, with cookies that
//! stay valid while the directory changes.

mod common;

use std::collections::HashSet;
use std::time::Instant;

use common::fat::*;
use libos::vfs::oflags::*;

/// Entries in the big directory: 8.3 entries without long names, written into the image
/// directly (`common::raw_dir`) as another system would write them; the test then works
/// through the filesystem: listing, lookups, an unlink, a create.
const ENTRIES: usize = 5000;

fn name(i: usize) -> String {
    format!("f{i:05}.txt")
}

/// A volume with `/big` holding [`ENTRIES`] empty files.
fn big_directory() -> Fat {
    let fx = Fat::new();
    fx.mkdir("/big");
    let dev = fx.dev.clone();
    drop(fx);
    let names: Vec<(String, String)> = (0..ENTRIES).map(|i| (format!("f{i:05}"), "txt".to_string())).collect();
    common::raw_dir::append_files(&dev, "BIG", &names);
    Fat::on(dev)
}

#[test]
fn five_thousand_entries_each_once_across_an_unlink() {
    let fx = big_directory();
    let t = Instant::now();
    fx.open("/big/one more", O_WRONLY | O_CREAT | O_EXCL).unwrap();
    fx.vfs.unlink(CWD, b"/big/one more").unwrap();
    eprintln!("a create and an unlink in a directory of {ENTRIES}: {:?}", t.elapsed());

    let t = Instant::now();
    let dir = fx.open("/big", O_RDONLY | O_DIRECTORY).unwrap();
    let mut buf = vec![0u8; 4096];
    let mut seen: Vec<String> = Vec::new();
    // Read about half, with a small buffer so the position is a cookie many times over.
    while seen.len() < ENTRIES / 2 {
        let n = dir.file.getdents64(&mut buf).unwrap();
        assert!(n > 0);
        seen.extend(parse_dirents(&buf[..n]).into_iter().map(|d| String::from_utf8(d.name).unwrap()));
    }
    // Remove one entry already listed and one not yet listed, and add one.
    let listed = name(10);
    let ahead = name(ENTRIES - 10);
    assert!(seen.contains(&listed) && !seen.contains(&ahead));
    fx.vfs.unlink(CWD, format!("/big/{listed}").as_bytes()).unwrap();
    fx.vfs.unlink(CWD, format!("/big/{ahead}").as_bytes()).unwrap();
    fx.write_file("/big/added later", b"");
    loop {
        let n = dir.file.getdents64(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.extend(parse_dirents(&buf[..n]).into_iter().map(|d| String::from_utf8(d.name).unwrap()));
    }
    eprintln!("listing {ENTRIES} entries: {:?}", t.elapsed());

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no entry is listed twice");
    assert!(!seen.contains(&ahead), "an entry removed before it was reached is not listed");
    assert!(seen.contains(&listed), "it was listed before it went");
    assert!(seen.contains(&"added later".to_string()));
    for i in (0..ENTRIES).filter(|&i| i != ENTRIES - 10) {
        assert!(unique.contains(&name(i)), "{}", name(i));
    }
    assert_eq!(seen.len(), ENTRIES + 2 + 1 - 1);

    // A fresh mount lists what is on the volume, in its order.
    let fx = fx.remount();
    let t = Instant::now();
    let names = fx.names("/big");
    eprintln!("listing {} entries after a remount: {:?}", names.len(), t.elapsed());
    assert_eq!(names.len(), ENTRIES - 1);
    let t = Instant::now();
    for i in (0..ENTRIES).step_by(7).filter(|&i| i != 10 && i != ENTRIES - 10) {
        fx.stat(&format!("/big/{}", name(i).to_uppercase())).unwrap();
    }
    eprintln!("{} lookups: {:?}", ENTRIES / 7, t.elapsed());
    fx.unmount_and_check();
}

#[test]
fn a_listing_resumed_at_any_cookie_continues_there() {
    let fx = Fat::new();
    fx.mkdir("/d");
    for i in 0..40 {
        fx.write_file(&format!("/d/{}", name(i)), b"");
    }
    let dir = fx.open("/d", O_RDONLY | O_DIRECTORY).unwrap();
    let all = list_dir(&dir);
    assert_eq!(all.len(), 42);
    assert_eq!((all[0].name.as_slice(), all[1].name.as_slice()), (&b"."[..], &b".."[..]));
    for (k, entry) in all.iter().enumerate() {
        dir.file.seek(entry.off, libos::vfs::file::whence::SEEK_SET).unwrap();
        let rest = list_dir(&dir);
        assert_eq!(rest, all[k + 1..], "resumed after {:?}", String::from_utf8_lossy(&entry.name));
    }
}
