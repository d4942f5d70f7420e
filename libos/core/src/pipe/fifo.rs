//! Named FIFOs: a node of type FIFO in any filesystem opens onto one pipe shared by
//! every open of that node, as Linux's `fifo_open` does.
//!
//! The pipe exists while some end of it is open; the registry holds it weakly, keyed
//! by the node's `(st_dev, st_ino)`, so the data of a FIFO nobody has open is gone (as
//! on Linux) and the next open starts a fresh pipe.
//!
//! Opening blocks as on Linux: for reading, until a writer is there; for writing, until
//! a reader is; `O_RDWR` never blocks. With `O_NONBLOCK` a reader opens at once and a
//! writer without a reader gets ENXIO.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};

use super::{Pipe, PipeEnd};
use crate::file::{oflags, File};
use crate::vfs::Dentry;
use crate::Errno;

static FIFOS: spin::Mutex<BTreeMap<(u64, u64), Weak<Pipe>>> = spin::Mutex::new(BTreeMap::new());

/// The pipe of the FIFO node `(dev, ino)`, made now if nobody has it open.
fn pipe_of(key: (u64, u64), meta: &crate::vfs::Metadata) -> Arc<Pipe> {
    let mut fifos = FIFOS.lock();
    if let Some(p) = fifos.get(&key).and_then(Weak::upgrade) {
        return p;
    }
    fifos.retain(|_, w| w.strong_count() > 0);
    let pipe = Arc::new(Pipe::new(meta.ctime, meta.uid, meta.gid));
    fifos.insert(key, Arc::downgrade(&pipe));
    pipe
}

/// `open` of the FIFO `d` with open flags `flags`.
pub fn open(d: &Arc<Dentry>, flags: u32) -> Result<Arc<dyn File>, Errno> {
    let meta = d.inode().metadata()?;
    let pipe = pipe_of((meta.dev, meta.ino), &meta);
    let nonblock = flags & oflags::O_NONBLOCK != 0;
    let end = match flags & oflags::O_ACCMODE {
        oflags::O_RDONLY => {
            let quiet = nonblock && pipe.state.lock().writers == 0;
            let end = PipeEnd::attach(pipe.clone(), true, false, Some(d.clone()), quiet);
            if !nonblock {
                // Wait for a writer: one that is there, or the next to open.
                let start = pipe.state.lock().w_counter;
                pipe.writable.wait_until(|| {
                    let st = pipe.state.lock();
                    (st.writers > 0 || st.w_counter != start).then_some(())
                })?;
            }
            end
        }
        oflags::O_WRONLY => {
            if nonblock && pipe.state.lock().readers == 0 {
                return Err(Errno::ENXIO);
            }
            let end = PipeEnd::attach(pipe.clone(), false, true, Some(d.clone()), false);
            if !nonblock {
                let start = pipe.state.lock().r_counter;
                pipe.readable.wait_until(|| {
                    let st = pipe.state.lock();
                    (st.readers > 0 || st.r_counter != start).then_some(())
                })?;
            }
            end
        }
        oflags::O_RDWR => PipeEnd::attach(pipe, true, true, Some(d.clone()), false),
        _ => return Err(Errno::EINVAL),
    };
    Ok(end)
}
