//! The socket options passed through to host sockets: an allow-list of plain values
//! (integers, `struct linger`, `struct ip_mreq`, names, `struct tcp_info`), none of
//! which holds a pointer, copied through libOS buffers. Anything else is ENOPROTOOPT,
//! said once on stderr. The timeouts (`SO_RCVTIMEO`, `SO_SNDTIMEO`) are kept by the
//! libOS instead: host sockets are non-blocking, and the libOS does the waiting.

/// `SO_RCVTIMEO`/`SO_SNDTIMEO` in their old and new (`SO_*TIMEO_NEW`, the same layout
/// on 64-bit) numbers.
pub const SO_RCVTIMEO: [i32; 2] = [20, 66];
pub const SO_SNDTIMEO: [i32; 2] = [21, 67];

const SOL_SOCKET: &[i32] = &[
    1,  // SO_DEBUG
    2,  // SO_REUSEADDR
    3,  // SO_TYPE
    4,  // SO_ERROR
    5,  // SO_DONTROUTE
    6,  // SO_BROADCAST
    7,  // SO_SNDBUF
    8,  // SO_RCVBUF
    9,  // SO_KEEPALIVE
    10, // SO_OOBINLINE
    11, // SO_NO_CHECK
    12, // SO_PRIORITY
    13, // SO_LINGER
    15, // SO_REUSEPORT
    17, // SO_PEERCRED
    18, // SO_RCVLOWAT
    19, // SO_SNDLOWAT
    25, // SO_BINDTODEVICE
    29, // SO_TIMESTAMP
    30, // SO_ACCEPTCONN
    32, // SO_SNDBUFFORCE
    33, // SO_RCVBUFFORCE
    35, // SO_TIMESTAMPNS
    36, // SO_MARK
    38, // SO_PROTOCOL
    39, // SO_DOMAIN
    40, // SO_RXQ_OVFL
    46, // SO_BUSY_POLL
    49, // SO_INCOMING_CPU
    57, // SO_COOKIE
];
const IPPROTO_IP: &[i32] = &[1, 2, 4, 8, 10, 11, 12, 13, 14, 15, 19, 24, 32, 33, 34, 35, 36, 49, 51];
const IPPROTO_IPV6: &[i32] = &[16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 49, 50, 51, 66, 67];
const IPPROTO_TCP: &[i32] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 18, 23, 25, 30];
const IPPROTO_UDP: &[i32] = &[1, 103, 104];

/// Whether option `name` of `level` goes to the host.
pub fn allowed(level: i32, name: i32) -> bool {
    let list = match level {
        libc::SOL_SOCKET => SOL_SOCKET,
        libc::IPPROTO_IP => IPPROTO_IP,
        libc::IPPROTO_IPV6 => IPPROTO_IPV6,
        libc::IPPROTO_TCP => IPPROTO_TCP,
        libc::IPPROTO_UDP => IPPROTO_UDP,
        _ => return false,
    };
    list.contains(&name)
}

/// Says once per option that it is not passed through.
pub fn refuse(level: i32, name: i32) {
    static SEEN: spin::Mutex<Vec<(i32, i32)>> = spin::Mutex::new(Vec::new());
    let mut seen = SEEN.lock();
    if seen.contains(&(level, name)) {
        return;
    }
    seen.push((level, name));
    drop(seen);
    let line = format!("unify: socket option level {level} name {name} is not supported for sockets; ENOPROTOOPT");
    libos::Kernel::get().platform.log(&line);
}
