//! Reading the program file: only the part the loader needs (headers and segments),
//! not the symbols and debug information that often make up most of a Rust binary.

use std::io;

/// How much of the file to read first to find the program headers.
const PREFIX: usize = 64 * 1024;

/// Reads the program through `read_at(offset, buf) -> bytes read` (0 at the end):
/// a prefix, then up to what `unify_loader::needed_len` says the loader uses (the
/// whole file when the prefix does not tell, so the loader can name the problem).
pub fn read_program(mut read_at: impl FnMut(u64, &mut [u8]) -> io::Result<usize>) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; PREFIX];
    let got = fill(&mut read_at, 0, &mut bytes)?;
    bytes.truncate(got);
    if got < PREFIX {
        return Ok(bytes);
    }
    let wanted = match unify_loader::needed_len(&bytes) {
        Some(n) => usize::try_from(n).map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?,
        None => usize::MAX,
    };
    let mut offset = bytes.len();
    while offset < wanted {
        let chunk = (wanted - offset).min(16 << 20);
        bytes.resize(offset + chunk, 0);
        let n = fill(&mut read_at, offset as u64, &mut bytes[offset..])?;
        offset += n;
        bytes.truncate(offset);
        if n < chunk {
            break;
        }
    }
    Ok(bytes)
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn fill(
    read_at: &mut impl FnMut(u64, &mut [u8]) -> io::Result<usize>,
    offset: u64,
    buf: &mut [u8],
) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match read_at(offset + done as u64, &mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
