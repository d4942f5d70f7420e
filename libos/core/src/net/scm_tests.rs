//! Ancillary data: the cmsg walk, what a send may carry, and how a receive's control
//! buffer fills (checked against Linux 6.18 by the unix_rights probe).

extern crate std;

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::eventfd::EventFd;
use crate::file::oflags::O_RDWR;
use crate::testing::{kernel_on, FakePlatform};

fn msg(level: i32, ty: i32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(cmsg_len(data.len()) as u64).to_ne_bytes());
    out.extend_from_slice(&level.to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(data);
    out.resize(cmsg_space(data.len()), 0);
    out
}

fn rights(fds: &[i32]) -> Vec<u8> {
    let data: Vec<u8> = fds.iter().flat_map(|fd| fd.to_ne_bytes()).collect();
    msg(SOL_SOCKET, SCM_RIGHTS, &data)
}

fn creds(c: Ucred) -> Vec<u8> {
    msg(SOL_SOCKET, SCM_CREDENTIALS, &c.to_bytes())
}

fn eventfd() -> Arc<OpenFile> {
    OpenFile::new(EventFd::new(0, false), O_RDWR)
}

#[test]
fn the_walk_follows_cmsg_nxthdr() {
    assert_eq!((cmsg_len(4), cmsg_space(4), cmsg_space(12)), (20, 24, 32));
    let two = [msg(1, 1, &[1, 2, 3, 4]), msg(6, 9, &[5])].concat();
    let got: Vec<_> = cmsgs(&two).collect::<Result<_, _>>().unwrap();
    assert_eq!(got, [Cmsg { level: 1, ty: 1, data: &[1, 2, 3, 4] }, Cmsg { level: 6, ty: 9, data: &[5] }]);
    assert_eq!(cmsgs(&[0u8; 15]).count(), 0, "too short for a header");
    let tail = [msg(1, 1, &[]), vec![0xff; 15]].concat();
    assert_eq!(cmsgs(&tail).count(), 1, "a tail shorter than a header is not a message");
    let mut bad = msg(1, 1, &[0; 4]);
    bad[..8].copy_from_slice(&15u64.to_ne_bytes());
    assert_eq!(cmsgs(&bad).collect::<Vec<_>>(), [Err(Errno::EINVAL)], "shorter than its header");
    bad[..8].copy_from_slice(&25u64.to_ne_bytes());
    assert_eq!(cmsgs(&bad).collect::<Vec<_>>(), [Err(Errno::EINVAL)], "past the buffer");
    bad[..8].copy_from_slice(&u64::MAX.to_ne_bytes());
    assert_eq!(cmsgs(&bad).collect::<Vec<_>>(), [Err(Errno::EINVAL)]);
}

#[test]
fn rights_take_open_files() {
    let (_, k) = kernel_on(FakePlatform::new());
    let open = eventfd();
    let fd = k.fds.lock().insert(open.clone(), false).unwrap();
    let scm = parse(&k, &rights(&[fd, 1, fd])).unwrap();
    assert_eq!(scm.rights.len(), 3);
    assert!(Arc::ptr_eq(&scm.rights[0], &open) && Arc::ptr_eq(&scm.rights[2], &open));
    assert_eq!(scm.creds, None);
    let two = parse(&k, &[rights(&[fd]), rights(&[1])].concat()).unwrap();
    assert_eq!(two.rights.len(), 2, "SCM_RIGHTS messages add up");
    assert!(parse(&k, &rights(&[])).unwrap().is_empty());
    assert!(parse(&k, &msg(6, SCM_RIGHTS, &fd.to_ne_bytes())).unwrap().is_empty(), "another level is skipped");
    assert!(parse(&k, &[]).unwrap().is_empty());

    assert_eq!(parse(&k, &rights(&[fd, 99])).err(), Some(Errno::EBADF));
    assert_eq!(parse(&k, &rights(&[-1])).err(), Some(Errno::EBADF));
    assert_eq!(parse(&k, &rights(&[fd; SCM_MAX_FD])).unwrap().rights.len(), SCM_MAX_FD);
    assert_eq!(parse(&k, &rights(&[fd; SCM_MAX_FD + 1])).err(), Some(Errno::EINVAL));
    let over = [rights(&[fd; 200]), rights(&[fd; 200])].concat();
    assert_eq!(parse(&k, &over).err(), Some(Errno::EINVAL), "the limit is per message");
    assert_eq!(parse(&k, &msg(SOL_SOCKET, 77, &[])).err(), Some(Errno::EINVAL));
    assert_eq!(parse(&k, &msg(SOL_SOCKET, 3, &[])).err(), Some(Errno::EINVAL), "SCM_SECURITY is not sent");
}

#[test]
fn credentials_are_checked() {
    let (_, mut k) = kernel_on(FakePlatform::new());
    let me = k.identity;
    let mine = Ucred { pid: me.pid, uid: me.uid, gid: me.gid };
    assert_eq!(parse(&k, &creds(mine)).unwrap().creds, Some(mine));
    let wrong_len = msg(SOL_SOCKET, SCM_CREDENTIALS, &[0; 16]);
    assert_eq!(parse(&k, &wrong_len).err(), Some(Errno::EINVAL));
    assert_eq!(parse(&k, &creds(Ucred { uid: u32::MAX, ..mine })).err(), Some(Errno::EINVAL));
    assert_eq!(parse(&k, &creds(Ucred { gid: u32::MAX, ..mine })).err(), Some(Errno::EINVAL));
    // The fake platform's guest is unprivileged: only its own ids.
    assert_ne!(me.uid, 0);
    assert_eq!(parse(&k, &creds(Ucred { uid: 0, ..mine })).err(), Some(Errno::EPERM));
    let t = k.threads.add().unwrap();
    assert_eq!(parse(&k, &creds(Ucred { pid: t.tid, ..mine })).err(), Some(Errno::EPERM));

    k.identity.uid = 0;
    let root = Ucred { pid: me.pid, uid: 0, gid: me.gid };
    assert_eq!(parse(&k, &creds(Ucred { uid: 1234, gid: 5678, ..root })).unwrap().creds.map(|c| c.uid), Some(1234));
    assert_eq!(parse(&k, &creds(Ucred { pid: t.tid, ..root })).unwrap().creds.map(|c| c.pid), Some(t.tid));
    assert_eq!(parse(&k, &creds(Ucred { pid: 0, ..root })).err(), Some(Errno::ESRCH));
    assert_eq!(parse(&k, &creds(Ucred { pid: me.pid + 1000, ..root })).err(), Some(Errno::ESRCH));
}

fn fds_of(control: &[u8]) -> Vec<i32> {
    cmsgs(control)
        .filter_map(|c| c.ok())
        .filter(|c| c.ty == SCM_RIGHTS)
        .flat_map(|c| c.data.chunks_exact(4).map(|w| i32::from_ne_bytes(w.try_into().unwrap())).collect::<Vec<_>>())
        .collect()
}

#[test]
fn a_receive_fills_the_control_buffer_as_linux() {
    let (_, k) = kernel_on(FakePlatform::new());
    let file = eventfd();
    let three = || Scm { rights: vec![file.clone(), file.clone(), file.clone()], creds: None };
    let open_fds = |k: &Kernel| k.fds.lock().open_fds().count();
    let before = open_fds(&k);
    // (room, fds that fit, bytes used, MSG_CTRUNC)
    for (room, fit, used, cut) in
        [(64, 3, 32, 0), (24, 2, 24, MSG_CTRUNC), (20, 1, 20, MSG_CTRUNC), (16, 0, 0, MSG_CTRUNC)]
    {
        let mut buf = vec![0u8; room];
        let mut out = ControlOut::new(&mut buf, true);
        deliver(&k, three(), &mut out, false);
        assert_eq!((out.len(), out.flags), (used, cut), "room {room}");
        let fds = fds_of(&buf[..used]);
        assert_eq!(fds.len(), fit, "room {room}");
        for fd in fds {
            assert!(!k.fds.lock().cloexec(fd).unwrap());
            k.fds.lock().remove(fd).unwrap();
        }
    }
    assert_eq!(open_fds(&k), before);
    assert_eq!(Arc::strong_count(&file), 1, "the files that did not fit are closed");

    let mut buf = [0u8; 64];
    let mut out = ControlOut::new(&mut buf, false);
    deliver(&k, three(), &mut out, false);
    assert_eq!((out.len(), out.flags), (0, MSG_CTRUNC), "an unwritable buffer loses the files");
    let mut out = ControlOut::new(&mut buf, false);
    deliver(&k, Scm { rights: Vec::new(), creds: Some(Ucred::ZERO) }, &mut out, false);
    assert_eq!((out.len(), out.flags), (0, 0), "and the credentials silently");

    let mut buf = [0u8; 64];
    let mut out = ControlOut::new(&mut buf, true);
    deliver(&k, Scm { rights: vec![file.clone()], creds: Some(Ucred { pid: 7, uid: 8, gid: 9 }) }, &mut out, true);
    assert_eq!((out.len(), out.flags), (cmsg_space(12) + cmsg_space(4), 0));
    let used = out.len();
    let all: Vec<_> = cmsgs(&buf[..used]).collect::<Result<_, _>>().unwrap();
    assert_eq!((all[0].ty, Ucred::from_bytes(all[0].data)), (SCM_CREDENTIALS, Ucred { pid: 7, uid: 8, gid: 9 }));
    let fd = fds_of(&buf[..used])[0];
    assert!(k.fds.lock().cloexec(fd).unwrap(), "MSG_CMSG_CLOEXEC");

    let mut short = [0u8; 20];
    let mut out = ControlOut::new(&mut short, true);
    deliver(&k, Scm { rights: vec![file.clone()], creds: Some(Ucred::NOBODY) }, &mut out, false);
    assert_eq!((out.len(), out.flags), (20, MSG_CTRUNC), "credentials cut, no room for the file");
    assert_eq!(u64::from_ne_bytes(short[..8].try_into().unwrap()), 20);
}
