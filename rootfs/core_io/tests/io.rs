//! The std::io behaviours fatfs relies on.

use core_io::prelude::*;
use core_io::{Cursor, Error, ErrorKind, SeekFrom};

#[test]
fn cursor_reads_and_seeks_like_std() {
    let data = [1u8, 2, 3, 4, 5];
    let mut c = Cursor::new(&data);
    let mut two = [0; 2];
    c.read_exact(&mut two).unwrap();
    assert_eq!(two, [1, 2]);
    assert_eq!(c.seek(SeekFrom::Current(-1)).unwrap(), 1);
    assert_eq!(c.seek(SeekFrom::End(-1)).unwrap(), 4);
    let mut rest = [0; 4];
    assert_eq!(c.read(&mut rest).unwrap(), 1);
    assert_eq!(rest[0], 5);
    assert_eq!(c.read(&mut rest).unwrap(), 0);
    assert_eq!(c.seek(SeekFrom::Start(10)).unwrap(), 10);
    assert_eq!(c.read(&mut rest).unwrap(), 0);
    assert_eq!(c.seek(SeekFrom::Current(-11)).unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn read_exact_reports_eof_and_retries_interrupted() {
    struct Flaky(u32);
    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> core_io::Result<usize> {
            self.0 += 1;
            if self.0 % 2 == 1 {
                return Err(ErrorKind::Interrupted.into());
            }
            if self.0 > 6 {
                return Ok(0);
            }
            buf[0] = self.0 as u8;
            Ok(1)
        }
    }
    let mut buf = [0; 3];
    Flaky(0).read_exact(&mut buf).unwrap();
    assert_eq!(buf, [2, 4, 6]);
    let mut buf = [0; 4];
    assert_eq!(Flaky(0).read_exact(&mut buf).unwrap_err().kind(), ErrorKind::UnexpectedEof);
}

#[test]
fn write_all_through_mut_ref_and_write_zero() {
    let mut store = [0u8; 4];
    let mut c = Cursor::new(&mut store[..]);
    {
        let w: &mut dyn Write = &mut c;
        w.write_all(b"ab").unwrap();
    }
    let mut by_ref = &mut c;
    <&mut Cursor<&mut [u8]> as Write>::write_all(&mut by_ref, b"cd").unwrap();
    assert_eq!(c.write_all(b"e").unwrap_err().kind(), ErrorKind::WriteZero);
    assert_eq!(&store, b"abcd");
}

#[test]
fn errors_keep_kind_and_message() {
    let e = Error::new(ErrorKind::Other, "No space left on device");
    assert_eq!(e.kind(), ErrorKind::Other);
    assert_eq!(e.to_string(), "No space left on device");
    assert_eq!(Error::other("x"), Error::new(ErrorKind::Other, "x"));
    assert_eq!(Error::from(ErrorKind::NotFound).kind(), ErrorKind::NotFound);
}
