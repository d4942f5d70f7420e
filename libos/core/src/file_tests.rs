//! Open file descriptions: access modes, `F_SETFL`, and the defaults of [`File`].

use alloc::sync::Arc;
use alloc::vec;
use core::sync::atomic::Ordering as AtomicOrdering;

use super::events::*;
use super::oflags::*;
use super::*;
use crate::abi::mode;
use crate::testing::MemFile;

/// A file that implements only what it must.
struct Bare;

impl File for Bare {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_mode: mode::S_IFREG | 0o644, ..Stat::default() })
    }
}

#[test]
fn o_cloexec_is_not_a_description_flag() {
    let f = OpenFile::new(MemFile::new(b""), O_RDWR | O_CLOEXEC | O_APPEND);
    assert_eq!(f.flags(), O_RDWR | O_APPEND);
}

#[test]
fn f_setfl_changes_only_the_setfl_bits() {
    let f = OpenFile::new(MemFile::new(b""), O_WRONLY | O_DSYNC | O_LARGEFILE);
    // Access mode, O_DSYNC and O_LARGEFILE stay; the changeable flags follow `new`.
    f.set_flags(O_RDWR | O_APPEND | O_NONBLOCK | O_NOATIME | O_CLOEXEC).unwrap();
    assert_eq!(f.flags(), O_WRONLY | O_DSYNC | O_LARGEFILE | O_APPEND | O_NONBLOCK | O_NOATIME);
    assert!(f.nonblocking());
    f.set_flags(0).unwrap();
    assert_eq!(f.flags(), O_WRONLY | O_DSYNC | O_LARGEFILE);
    assert!(!f.nonblocking());
    f.set_flags(O_ASYNC | O_DIRECT).unwrap();
    assert_eq!(f.flags(), O_WRONLY | O_DSYNC | O_LARGEFILE | O_ASYNC | O_DIRECT);
    f.set_flags(!0).unwrap();
    assert_eq!(f.flags(), O_WRONLY | O_DSYNC | O_LARGEFILE | SETFL_MASK);
}

#[test]
fn the_file_hears_about_o_nonblock_changes_only() {
    let file = MemFile::new(b"");
    let f = OpenFile::new(file.clone(), O_RDWR);
    f.set_flags(O_APPEND).unwrap();
    f.set_flags(O_APPEND | O_NONBLOCK).unwrap();
    f.set_flags(O_NONBLOCK).unwrap();
    f.set_flags(0).unwrap();
    assert_eq!(*file.nonblocking_calls.lock(), vec![true, false]);
    // When the file refuses, the flags stay as they were.
    file.refuse_nonblocking.store(true, AtomicOrdering::Relaxed);
    assert_eq!(f.set_flags(O_NONBLOCK | O_APPEND), Err(Errno::EINVAL));
    assert_eq!(f.flags(), O_RDWR);
}

#[test]
fn read_and_write_follow_the_access_mode() {
    let file = MemFile::new(b"hello");
    let mut buf = [0u8; 8];

    let wo = OpenFile::new(file.clone(), O_WRONLY);
    assert!(wo.writable() && !wo.readable());
    assert_eq!(wo.read(&mut buf), Err(Errno::EBADF));
    assert_eq!(wo.write(b"ab"), Ok(2));

    let ro = OpenFile::new(file.clone(), O_RDONLY);
    assert!(ro.readable() && !ro.writable());
    assert_eq!(ro.write(b"cd"), Err(Errno::EBADF));
    assert_eq!(ro.read(&mut buf[..3]), Ok(3));
    assert_eq!(&buf[..3], b"hel");

    let rw = OpenFile::new(file.clone(), O_RDWR);
    assert_eq!(rw.read(&mut buf), Ok(2));
    assert_eq!(&buf[..2], b"lo");
    assert_eq!(rw.read(&mut buf), Ok(0), "end of input");
    assert_eq!(rw.write(b"ef"), Ok(2));
    assert_eq!(file.output(), b"abef".to_vec());

    // Access mode 3 allows neither (Linux uses it for ioctl-only opens).
    let none = OpenFile::new(file, O_ACCMODE);
    assert!(!none.readable() && !none.writable());
    assert_eq!(none.read(&mut buf), Err(Errno::EBADF));
    assert_eq!(none.write(b"x"), Err(Errno::EBADF));
}

#[test]
fn file_defaults_give_linux_errors() {
    let f = Bare;
    let mut buf = [0u8; 4];
    assert_eq!(f.read(&mut buf, false), Err(Errno::EINVAL));
    assert_eq!(f.write(&buf, false), Err(Errno::EINVAL));
    assert_eq!(f.pread(&mut buf, 0), Err(Errno::ESPIPE));
    assert_eq!(f.pwrite(&buf, 0), Err(Errno::ESPIPE));
    assert_eq!(f.seek(0, 0), Err(Errno::ESPIPE));
    assert_eq!(f.ioctl(0x5401, 0, &mut []), Err(Errno::ENOTTY));
    assert_eq!(f.set_nonblocking(true), Ok(()));
    // Always ready for plain reads and writes; never reports what it was not asked.
    assert_eq!(f.poll(POLLIN | POLLOUT | POLLPRI), POLLIN | POLLOUT);
    assert_eq!(f.poll(POLLRDNORM | POLLWRNORM), POLLRDNORM | POLLWRNORM);
    assert_eq!(f.poll(POLLPRI | POLLERR | POLLHUP), 0);
}

#[test]
fn mem_file_is_a_character_device() {
    let console: Arc<dyn File> = MemFile::new(b"x");
    let st = console.stat().unwrap();
    assert_eq!(st.st_mode & mode::S_IFMT, mode::S_IFCHR);
    assert_eq!(console.poll(POLLIN | POLLOUT), POLLIN | POLLOUT);
    let mut b = [0u8; 1];
    console.read(&mut b, false).unwrap();
    assert_eq!(console.poll(POLLIN | POLLOUT), POLLOUT);
}
