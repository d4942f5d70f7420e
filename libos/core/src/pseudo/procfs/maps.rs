//! `/proc/<pid>/maps`: one line per mapping, in Linux's exact format
//! (`%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu`, then the name padded to column 73).
//!
//! The program's segments are named by its path (with its device and inode if the
//! file is in the guest's tree); their offsets are their distance from the first
//! segment, which is the file offset for the usual linker layouts (the memory map
//! does not record the segments' file offsets). The `brk` heap is `[heap]`, the main
//! stack `[stack]`; anonymous memory and the libOS's syscall stubs have no name. The
//! platform's own mappings (the host's `[vvar]`/`[vdso]` lent to the guest,
//! `[vsyscall]`) follow.

use alloc::vec::Vec;
use core::fmt::Write;

use crate::mm::{Prot, VmaKind};
use crate::pseudo::format::{major, minor};
use crate::vfs::At;
use crate::Kernel;

/// The column the name starts at: Linux pads the header to `25 + 6 * 8 - 1` bytes and
/// adds one space.
const NAME_COLUMN: usize = 25 + 6 * 8;

/// One line of `maps`.
#[derive(Clone, Copy)]
struct MapLine<'a> {
    start: u64,
    end: u64,
    prot: Prot,
    shared: bool,
    offset: u64,
    dev: u64,
    ino: u64,
    name: &'a [u8],
}

fn push_line(out: &mut Vec<u8>, l: &MapLine<'_>) {
    let mut head = alloc::string::String::new();
    let flag = |on: bool, c: char| if on { c } else { '-' };
    let _ = write!(
        head,
        "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
        l.start,
        l.end,
        flag(l.prot.readable(), 'r'),
        flag(l.prot.writable(), 'w'),
        flag(l.prot.executable(), 'x'),
        if l.shared { 's' } else { 'p' },
        l.offset,
        major(l.dev),
        minor(l.dev),
        l.ino,
    );
    out.extend_from_slice(head.as_bytes());
    if !l.name.is_empty() {
        let pad = (NAME_COLUMN - 1).saturating_sub(head.len());
        out.extend(core::iter::repeat_n(b' ', pad + 1));
        out.extend_from_slice(l.name);
    }
    out.push(b'\n');
}

/// The text of `maps`.
pub(super) fn maps(k: &'static Kernel) -> Vec<u8> {
    let (exe_dev, exe_ino) =
        k.vfs.lookup(&At::Cwd, &k.exe_path, true).and_then(|d| d.inode().metadata()).map_or((0, 0), |m| (m.dev, m.ino));
    let mut out = Vec::new();
    let mut file_names: Vec<Vec<u8>> = Vec::new();
    {
        let mm = k.mm.read();
        // The mapped files' paths, gathered first so the lines can borrow them.
        for vma in mm.vmas() {
            if let VmaKind::File(f) = &vma.kind {
                let (mut path, deleted) = k.vfs.path_of(f.dentry());
                if deleted {
                    path.extend_from_slice(b" (deleted)");
                }
                file_names.push(path);
            }
        }
        let mut next_file = file_names.iter();
        let image_base = mm.vmas().find(|v| v.kind == VmaKind::Image).map_or(0, |v| v.start);
        for vma in mm.vmas() {
            let mut line = MapLine {
                start: vma.start,
                end: vma.end,
                prot: vma.prot,
                shared: vma.shared,
                offset: 0,
                dev: 0,
                ino: 0,
                name: b"",
            };
            match vma.kind {
                VmaKind::Image => {
                    line.offset = vma.start - image_base;
                    line.dev = exe_dev;
                    line.ino = exe_ino;
                    line.name = &k.exe_path;
                }
                VmaKind::Heap => line.name = b"[heap]",
                VmaKind::Stack => line.name = b"[stack]",
                VmaKind::File(ref f) => {
                    line.offset = f.offset_at(vma.start);
                    if let Ok(md) = f.dentry().inode().metadata() {
                        line.dev = md.dev;
                        line.ino = md.ino;
                    }
                    line.name = next_file.next().map_or(b"", |n| n.as_slice());
                }
                VmaKind::Anonymous | VmaKind::Stubs => {}
            }
            push_line(&mut out, &line);
        }
    }
    for f in k.platform.foreign_mappings() {
        let line = MapLine {
            start: f.start,
            end: f.end,
            prot: f.prot,
            shared: false,
            offset: 0,
            dev: 0,
            ino: 0,
            name: &f.name,
        };
        push_line(&mut out, &line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(l: MapLine<'_>) -> alloc::string::String {
        let mut out = Vec::new();
        push_line(&mut out, &l);
        alloc::string::String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines_match_linux_byte_for_byte() {
        // Lines copied from a Linux 6.18 /proc/self/maps.
        let named = MapLine {
            start: 0x5610_8b42_7000,
            end: 0x5610_8b42_c000,
            prot: Prot::from_bits_truncate(5),
            shared: false,
            offset: 0x2000,
            dev: crate::vfs::makedev(0xfe, 0),
            ino: 247_030,
            name: b"/usr/bin/cat",
        };
        assert_eq!(
            line(named),
            "56108b427000-56108b42c000 r-xp 00002000 fe:00 247030                     /usr/bin/cat\n"
        );
        let anon = MapLine {
            start: 0x7f7c_a504_c000,
            end: 0x7f7c_a506_e000,
            prot: Prot::RW,
            shared: false,
            offset: 0,
            dev: 0,
            ino: 0,
            name: b"",
        };
        assert_eq!(line(anon), "7f7ca504c000-7f7ca506e000 rw-p 00000000 00:00 0 \n");
        let heap = MapLine { name: b"[heap]", start: 0x5610_8d5c_8000, end: 0x5610_8d5e_9000, ..anon };
        assert_eq!(line(heap), "56108d5c8000-56108d5e9000 rw-p 00000000 00:00 0                          [heap]\n");
        let low = MapLine { start: 0x40_0000, end: 0x40_1000, prot: Prot::READ, name: b"/p", ..anon };
        assert_eq!(line(low), "00400000-00401000 r--p 00000000 00:00 0                                  /p\n");
    }
}
