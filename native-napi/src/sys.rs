//! The libc functions, constants and kernel structures the addon uses, declared
//! here (std already links libc). Values are Linux's generic ones, the same on
//! x86_64, aarch64 and 32-bit arm; time fields are C `long`, matching the
//! SO_TIMESTAMPING (old) layout the kernel uses for the running ABI.
#![allow(non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_int, c_long, c_short, c_uint, c_ulong, c_void};

pub type socklen_t = u32;

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct timespec {
    pub tv_sec: c_long,
    pub tv_nsec: c_long,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct timeval {
    pub tv_sec: c_long,
    pub tv_usec: c_long,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct sockaddr_in {
    pub sin_family: u16,
    pub sin_port: u16,
    pub sin_addr: u32,
    pub sin_zero: [u8; 8],
}

#[repr(C)]
pub struct iovec {
    pub iov_base: *mut c_void,
    pub iov_len: usize,
}

#[repr(C)]
pub struct msghdr {
    pub msg_name: *mut c_void,
    pub msg_namelen: socklen_t,
    pub msg_iov: *mut iovec,
    pub msg_iovlen: usize,
    pub msg_control: *mut c_void,
    pub msg_controllen: usize,
    pub msg_flags: c_int,
}

#[repr(C)]
pub struct cmsghdr {
    pub cmsg_len: usize,
    pub cmsg_level: c_int,
    pub cmsg_type: c_int,
}

#[repr(C)]
pub struct pollfd {
    pub fd: c_int,
    pub events: c_short,
    pub revents: c_short,
}

#[repr(C)]
pub struct ip_mreqn {
    pub imr_multiaddr: u32,
    pub imr_address: u32,
    pub imr_ifindex: c_int,
}

/// struct ifreq: the name, then a union whose pointer member (ifr_data) is first.
/// Larger than the kernel's (40 bytes on 64-bit), which is harmless.
#[repr(C)]
pub struct ifreq {
    pub ifr_name: [c_char; 16],
    pub ifr_data: *mut c_void,
    pub _pad: [u8; 32],
}

#[repr(C)]
#[derive(Default)]
pub struct ethtool_ts_info {
    pub cmd: u32,
    pub so_timestamping: u32,
    pub phc_index: i32,
    pub tx_types: u32,
    pub tx_reserved: [u32; 3],
    pub rx_filters: u32,
    pub rx_reserved: [u32; 3],
}

#[repr(C)]
#[derive(Default)]
pub struct hwtstamp_config {
    pub flags: c_int,
    pub tx_type: c_int,
    pub rx_filter: c_int,
}

/// struct sock_extended_err (linux/errqueue.h).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct sock_extended_err {
    pub ee_errno: u32,
    pub ee_origin: u8,
    pub ee_type: u8,
    pub ee_code: u8,
    pub ee_pad: u8,
    pub ee_info: u32,
    pub ee_data: u32,
}

/// struct timex (sys/timex.h), including its trailing reserved ints.
#[repr(C)]
#[derive(Default)]
pub struct timex {
    pub modes: c_uint,
    pub offset: c_long,
    pub freq: c_long,
    pub maxerror: c_long,
    pub esterror: c_long,
    pub status: c_int,
    pub constant: c_long,
    pub precision: c_long,
    pub tolerance: c_long,
    pub time: timeval,
    pub tick: c_long,
    pub ppsfreq: c_long,
    pub jitter: c_long,
    pub shift: c_int,
    pub stabil: c_long,
    pub jitcnt: c_long,
    pub calcnt: c_long,
    pub errcnt: c_long,
    pub stbcnt: c_long,
    pub tai: c_int,
    pub _reserved: [c_int; 11],
}

pub const AF_INET: c_int = 2;
pub const SOCK_DGRAM: c_int = 2;
pub const SOCK_NONBLOCK: c_int = 0o4000;
pub const SOCK_CLOEXEC: c_int = 0o2000000;
pub const EFD_NONBLOCK: c_int = 0o4000;
pub const EFD_CLOEXEC: c_int = 0o2000000;
pub const O_RDWR: c_int = 2;
pub const O_CLOEXEC: c_int = 0o2000000;

pub const SOL_SOCKET: c_int = 1;
pub const SOL_IP: c_int = 0;
pub const SO_REUSEADDR: c_int = 2;
pub const SO_ERROR: c_int = 4;
pub const SO_BINDTODEVICE: c_int = 25;
pub const SO_TIMESTAMPING: c_int = 37;
pub const SCM_TIMESTAMPING: c_int = SO_TIMESTAMPING;
pub const IP_RECVERR: c_int = 11;
pub const IP_MULTICAST_IF: c_int = 32;
pub const IP_MULTICAST_TTL: c_int = 33;
pub const IP_MULTICAST_LOOP: c_int = 34;
pub const IP_ADD_MEMBERSHIP: c_int = 35;

pub const SOF_TIMESTAMPING_TX_HARDWARE: u32 = 1 << 0;
pub const SOF_TIMESTAMPING_TX_SOFTWARE: u32 = 1 << 1;
pub const SOF_TIMESTAMPING_RX_HARDWARE: u32 = 1 << 2;
pub const SOF_TIMESTAMPING_RX_SOFTWARE: u32 = 1 << 3;
pub const SOF_TIMESTAMPING_SOFTWARE: u32 = 1 << 4;
pub const SOF_TIMESTAMPING_RAW_HARDWARE: u32 = 1 << 6;
pub const SOF_TIMESTAMPING_OPT_ID: u32 = 1 << 7;
pub const SOF_TIMESTAMPING_OPT_TSONLY: u32 = 1 << 11;
pub const SO_EE_ORIGIN_TIMESTAMPING: u8 = 4;

pub const HWTSTAMP_TX_ON: c_int = 1;
pub const HWTSTAMP_FILTER_ALL: c_int = 1;
pub const HWTSTAMP_FILTER_PTP_V2_L4_EVENT: c_int = 6;
pub const HWTSTAMP_FILTER_PTP_V2_EVENT: c_int = 12;

pub const SIOCETHTOOL: c_ulong = 0x8946;
pub const SIOCSHWTSTAMP: c_ulong = 0x89b0;
pub const ETHTOOL_GET_TS_INFO: u32 = 0x41;

pub const MSG_TRUNC: c_int = 0x20;
pub const MSG_DONTWAIT: c_int = 0x40;
pub const MSG_ERRQUEUE: c_int = 0x2000;
pub const POLLIN: c_short = 0x1;
pub const POLLERR: c_short = 0x8;
pub const POLLHUP: c_short = 0x10;
pub const POLLNVAL: c_short = 0x20;

pub const CLOCK_REALTIME: c_int = 0;
pub const CLOCK_MONOTONIC: c_int = 1;
pub const CLOCK_TAI: c_int = 11;
pub const ADJ_FREQUENCY: c_uint = 0x0002;
pub const ADJ_SETOFFSET: c_uint = 0x0100;
pub const ADJ_NANO: c_uint = 0x2000;

pub const EINTR: i32 = 4;
pub const EAGAIN: i32 = 11;

extern "C" {
    pub fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
    pub fn setsockopt(fd: c_int, level: c_int, name: c_int, value: *const c_void, len: socklen_t) -> c_int;
    pub fn getsockopt(fd: c_int, level: c_int, name: c_int, value: *mut c_void, len: *mut socklen_t) -> c_int;
    pub fn bind(fd: c_int, addr: *const sockaddr_in, len: socklen_t) -> c_int;
    pub fn getsockname(fd: c_int, addr: *mut sockaddr_in, len: *mut socklen_t) -> c_int;
    pub fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> isize;
    pub fn sendto(fd: c_int, buf: *const c_void, len: usize, flags: c_int, addr: *const sockaddr_in, alen: socklen_t) -> isize;
    pub fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
    pub fn poll(fds: *mut pollfd, nfds: c_ulong, timeout: c_int) -> c_int;
    pub fn eventfd(initval: c_uint, flags: c_int) -> c_int;
    pub fn read(fd: c_int, buf: *mut c_void, count: usize) -> isize;
    pub fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
    pub fn open(path: *const c_char, flags: c_int, ...) -> c_int;
    pub fn close(fd: c_int) -> c_int;
    pub fn if_nametoindex(name: *const c_char) -> c_uint;
    pub fn clock_gettime(clock: c_int, ts: *mut timespec) -> c_int;
    pub fn clock_adjtime(clock: c_int, tx: *mut timex) -> c_int;
}

/// errno of the last failed call on this thread.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The symbolic name of a Linux errno, for the JS error's `code`.
pub fn errno_name(e: i32) -> &'static str {
    match e {
        1 => "EPERM",
        2 => "ENOENT",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        25 => "ENOTTY",
        28 => "ENOSPC",
        32 => "EPIPE",
        34 => "ERANGE",
        38 => "ENOSYS",
        88 => "ENOTSOCK",
        89 => "EDESTADDRREQ",
        90 => "EMSGSIZE",
        92 => "ENOPROTOOPT",
        93 => "EPROTONOSUPPORT",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        98 => "EADDRINUSE",
        99 => "EADDRNOTAVAIL",
        100 => "ENETDOWN",
        101 => "ENETUNREACH",
        104 => "ECONNRESET",
        105 => "ENOBUFS",
        107 => "ENOTCONN",
        110 => "ETIMEDOUT",
        111 => "ECONNREFUSED",
        113 => "EHOSTUNREACH",
        _ => "EUNKNOWN",
    }
}

/// The C string form of a name, refusing interior NULs.
pub fn cstring(s: &str) -> Option<std::ffi::CString> {
    std::ffi::CString::new(s).ok()
}
