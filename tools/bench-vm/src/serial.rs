//! A child's output stream (a VM's serial console, a process's stdout), read by a thread
//! that timestamps every chunk as it arrives, so a caller can ask *when* some text first
//! appeared, not only whether it did.

use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    bytes: Vec<u8>,
    /// (offset of the chunk's first byte in `bytes`, when the chunk arrived).
    chunks: Vec<(usize, Instant)>,
    eof: bool,
}

/// The timestamped output of one stream; clones share it.
#[derive(Clone)]
pub struct Output {
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl Output {
    /// Starts a thread that reads `stream` to its end.
    pub fn capture<R: Read + Send + 'static>(mut stream: R) -> Output {
        let out = Output { shared: Arc::new((Mutex::new(State::default()), Condvar::new())) };
        let shared = Arc::clone(&out.shared);
        thread::spawn(move || {
            let mut buf = [0u8; 16384];
            loop {
                let n = match stream.read(&mut buf) {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                };
                let now = Instant::now();
                let (lock, cv) = &*shared;
                let mut st = lock.lock().unwrap();
                if n == 0 {
                    st.eof = true;
                    cv.notify_all();
                    return;
                }
                let at = st.bytes.len();
                st.chunks.push((at, now));
                st.bytes.extend_from_slice(&buf[..n]);
                cv.notify_all();
            }
        });
        out
    }

    /// When the first byte of the first occurrence of `needle` arrived; waits for it until
    /// `deadline`. None if the stream ended or the deadline passed without it.
    pub fn wait_for(&self, needle: &[u8], deadline: Instant) -> Option<Instant> {
        let (lock, cv) = &*self.shared;
        let mut st = lock.lock().unwrap();
        loop {
            if let Some(pos) = find(&st.bytes, needle) {
                let i = st.chunks.partition_point(|&(at, _)| at <= pos) - 1;
                return Some(st.chunks[i].1);
            }
            let now = Instant::now();
            if st.eof || now >= deadline {
                return None;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// When the first byte of any output arrived (waiting until `deadline`).
    pub fn first_byte(&self, deadline: Instant) -> Option<Instant> {
        let (lock, cv) = &*self.shared;
        let mut st = lock.lock().unwrap();
        loop {
            if let Some(&(_, t)) = st.chunks.first() {
                return Some(t);
            }
            let now = Instant::now();
            if st.eof || now >= deadline {
                return None;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// Waits until the stream ends (true) or `deadline` passes (false).
    pub fn wait_eof(&self, deadline: Instant) -> bool {
        let (lock, cv) = &*self.shared;
        let mut st = lock.lock().unwrap();
        while !st.eof {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = cv.wait_timeout(st, deadline - now).unwrap().0;
        }
        true
    }

    /// Everything read so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.shared.0.lock().unwrap().bytes.clone()
    }

    /// Everything read so far, lossily as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `deadline` for a timeout from now.
pub fn after(timeout: Duration) -> Instant {
    Instant::now() + timeout
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn times_the_chunk_that_holds_the_needle() {
        let (mut w, r) = UnixStream::pair().unwrap();
        let out = Output::capture(r);
        w.write_all(b"[ 0.1] kernel noise\r\n").unwrap();
        assert!(out.wait_for(b"noise", after(Duration::from_secs(5))).is_some());
        let before = Instant::now();
        w.write_all(b"hello, world\r\n").unwrap();
        let t = out.wait_for(b"hello, world", after(Duration::from_secs(5))).unwrap();
        assert!(t >= before);
        assert!(out.first_byte(after(Duration::ZERO)).unwrap() < before);
        drop(w);
        assert!(out.wait_eof(after(Duration::from_secs(5))));
        assert_eq!(out.wait_for(b"absent", after(Duration::from_secs(5))), None);
        assert!(out.text().ends_with("hello, world\r\n"));
    }
}
