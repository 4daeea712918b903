//! The per-socket thread. It is the only thread that touches the socket after
//! udpOpen: it sleeps in poll() on the socket and an eventfd, sends the
//! datagrams udpSend queued (woken by the eventfd), reads each software TX
//! stamp right after its send, and hands received datagrams, TX stamps and
//! failed sends to JS through the threadsafe function.
//!
//! Why sends are here and not on Node's thread: queueing a TX stamp on the
//! error queue wakes whoever sleeps on the socket, and with software stamps
//! that happens inside the driver's xmit, before the packet leaves (veth hands
//! it to the peer only afterwards). A reader asleep in poll() while another
//! thread sends makes every datagram leave microseconds after its stamp; one
//! thread that sends while awake (like ptp4l's loop) has nobody to wake.

use crate::napi::*;
use crate::sys::*;
use crate::txids::TxIds;
use std::collections::VecDeque;
use std::mem::size_of;
use std::net::Ipv4Addr;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Tsfn(pub napi_threadsafe_function);
unsafe impl Send for Tsfn {}
unsafe impl Sync for Tsfn {}

/// One datagram udpSend accepted, waiting for the thread.
pub struct Outgoing {
    pub id: u32,
    pub data: Vec<u8>,
    pub to: sockaddr_in,
}

/// What the reader thread, udpSend/udpStats and the JS-side callback share.
pub struct Shared {
    pub closed: AtomicBool,
    pub dropped: AtomicU64,
    pub send_errors: AtomicU64,
    pub outbox: Mutex<VecDeque<Outgoing>>,
    /// References to the callbacks; touched on the JS thread only. on_send_error may be null.
    pub on_message: napi_ref,
    pub on_tx: napi_ref,
    pub on_send_error: napi_ref,
}
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    pub fn outbox(&self) -> MutexGuard<'_, VecDeque<Outgoing>> {
        self.outbox.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub enum Event {
    Message { data: Vec<u8>, from: Ipv4Addr, port: u16, stamp: Option<timespec> },
    Tx { id: u32, stamp: timespec },
    SendError { id: u32, code: &'static str, message: String },
}

pub fn sockaddr(addr: Ipv4Addr, port: u16) -> sockaddr_in {
    sockaddr_in { sin_family: AF_INET as u16, sin_port: port.to_be(), sin_addr: u32::from_ne_bytes(addr.octets()), sin_zero: [0; 8] }
}

fn cmsg_align(n: usize) -> usize {
    (n + size_of::<usize>() - 1) & !(size_of::<usize>() - 1)
}

/// Walks the control messages of one recvmsg: the chosen SCM_TIMESTAMPING stamp
/// (index 2, raw hardware, in hardware mode; index 0, software, otherwise) and
/// the OPT_ID key of an error-queue timestamp notification.
fn parse_cmsgs(control: &[u8], len: usize, hardware: bool) -> (Option<timespec>, Option<u32>) {
    let mut stamp = None;
    let mut key = None;
    let len = len.min(control.len());
    let hdr = size_of::<cmsghdr>();
    let mut off = 0usize;
    while off + hdr <= len {
        let h: cmsghdr = unsafe { std::ptr::read_unaligned(control.as_ptr().add(off).cast()) };
        if h.cmsg_len < hdr || off + h.cmsg_len > len {
            break;
        }
        let data = off + cmsg_align(hdr);
        let data_len = h.cmsg_len - cmsg_align(hdr);
        if h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_TIMESTAMPING && data_len >= 3 * size_of::<timespec>() {
            let i = if hardware { 2 } else { 0 };
            let ts: timespec = unsafe { std::ptr::read_unaligned(control.as_ptr().add(data + i * size_of::<timespec>()).cast()) };
            if ts.tv_sec != 0 || ts.tv_nsec != 0 {
                stamp = Some(ts);
            }
        } else if h.cmsg_level == SOL_IP && h.cmsg_type == IP_RECVERR && data_len >= size_of::<sock_extended_err>() {
            let ee: sock_extended_err = unsafe { std::ptr::read_unaligned(control.as_ptr().add(data).cast()) };
            if ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING {
                key = Some(ee.ee_data);
            }
        }
        off += cmsg_align(h.cmsg_len);
    }
    (stamp, key)
}

/// Queues one event for JS; false once the threadsafe function is closing.
fn deliver(tsfn: &Tsfn, shared: &Shared, ev: Event) -> bool {
    let p = Box::into_raw(Box::new(ev));
    let status = unsafe { napi_call_threadsafe_function(tsfn.0, p.cast(), NAPI_TSFN_NONBLOCKING) };
    if status == NAPI_OK {
        return true;
    }
    drop(unsafe { Box::from_raw(p) });
    if status == NAPI_QUEUE_FULL {
        shared.dropped.fetch_add(1, Ordering::Relaxed);
        return true;
    }
    false
}

pub struct Reader {
    pub fd: c_int,
    pub wake: c_int,
    pub hardware: bool,
    /// TX stamps requested (software or hardware mode).
    pub stamping: bool,
    pub tsfn: Tsfn,
    pub shared: Arc<Shared>,
    pub ids: TxIds,
}

impl Reader {
    fn recv(&self, buf: &mut [u8], control: &mut [u8], flags: c_int) -> Result<(usize, usize, sockaddr_in), i32> {
        let mut from = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
        let mut iov = iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        let mut msg = msghdr {
            msg_name: (&mut from as *mut sockaddr_in).cast(),
            msg_namelen: size_of::<sockaddr_in>() as socklen_t,
            msg_iov: &mut iov,
            msg_iovlen: 1,
            msg_control: control.as_mut_ptr().cast(),
            msg_controllen: control.len(),
            msg_flags: 0,
        };
        let n = unsafe { recvmsg(self.fd, &mut msg, flags | MSG_DONTWAIT) };
        if n < 0 {
            return Err(errno());
        }
        Ok((n as usize, msg.msg_controllen, from))
    }

    /// Drains the error queue: each entry is a TX timestamp (OPT_TSONLY, no
    /// payload). `just_sent` is the id of a datagram sent a moment ago whose
    /// software stamp may be among them (see TxIds::realign). Returns
    /// (thread may go on, any entry read).
    fn drain_errqueue(&mut self, buf: &mut [u8], control: &mut [u8], mut just_sent: Option<u32>) -> (bool, bool) {
        let mut any = false;
        loop {
            match self.recv(buf, control, MSG_ERRQUEUE) {
                Ok((_, clen, _)) => {
                    any = true;
                    let (Some(stamp), Some(key)) = parse_cmsgs(control, clen, self.hardware) else { continue };
                    let id = match self.ids.take(key) {
                        Some(id) => Some(id),
                        None => just_sent.and_then(|id| self.ids.realign(key, id)),
                    };
                    if id.is_some() && id == just_sent {
                        just_sent = None;
                    }
                    // A stamp whose mapping was forgotten (PENDING_LIMIT) has no id to report.
                    let Some(id) = id else { continue };
                    if !deliver(&self.tsfn, &self.shared, Event::Tx { id, stamp }) {
                        return (false, any);
                    }
                }
                Err(EINTR) => continue,
                Err(_) => break,
            }
        }
        (true, any)
    }

    /// POLLERR: stamps (hardware ones arrive here), or a pending socket error.
    fn on_pollerr(&mut self, buf: &mut [u8], control: &mut [u8]) -> bool {
        let (go_on, any) = self.drain_errqueue(buf, control, None);
        if !any {
            // POLLERR without queued stamps is a pending socket error: read it to clear it.
            let mut err: c_int = 0;
            let mut len = size_of::<c_int>() as socklen_t;
            unsafe { getsockopt(self.fd, SOL_SOCKET, SO_ERROR, (&mut err as *mut c_int).cast(), &mut len) };
        }
        go_on
    }

    /// Sends what udpSend queued, one datagram at a time (the lock is never
    /// held across sendto, so udpSend never waits for the network).
    fn drain_outbox(&mut self, buf: &mut [u8], control: &mut [u8]) -> bool {
        loop {
            if self.shared.closed.load(Ordering::Acquire) {
                return false;
            }
            let Some(out) = self.shared.outbox().pop_front() else { return true };
            let n = loop {
                let n = unsafe {
                    sendto(self.fd, out.data.as_ptr().cast(), out.data.len(), MSG_DONTWAIT, &out.to, size_of::<sockaddr_in>() as socklen_t)
                };
                if n >= 0 || errno() != EINTR {
                    break n;
                }
            };
            if n < 0 {
                let e = errno();
                self.shared.send_errors.fetch_add(1, Ordering::Relaxed);
                let to = Ipv4Addr::from(out.to.sin_addr.to_ne_bytes());
                let what = format!("udpSend: to {to}:{}", u16::from_be(out.to.sin_port));
                let (code, message) = match crate::js::JsError::os(&what, e) {
                    crate::js::JsError::Sys { code, message } => (code, message),
                    _ => ("EUNKNOWN", what),
                };
                if !deliver(&self.tsfn, &self.shared, Event::SendError { id: out.id, code, message }) {
                    return false;
                }
                continue;
            }
            if self.stamping {
                self.ids.sent(out.id);
                // Software stamps are normally queued by the time sendto returns.
                let just_sent = if self.hardware { None } else { Some(out.id) };
                if !self.drain_errqueue(buf, control, just_sent).0 {
                    return false;
                }
            }
        }
    }

    fn drain_rx(&self, buf: &mut [u8], control: &mut [u8]) -> bool {
        loop {
            match self.recv(buf, control, 0) {
                Ok((n, clen, from)) => {
                    let (stamp, _) = parse_cmsgs(control, clen, self.hardware);
                    let ev = Event::Message {
                        data: buf[..n.min(buf.len())].to_vec(),
                        from: Ipv4Addr::from(from.sin_addr.to_ne_bytes()),
                        port: u16::from_be(from.sin_port),
                        stamp,
                    };
                    if !deliver(&self.tsfn, &self.shared, ev) {
                        return false;
                    }
                }
                Err(EINTR) => continue,
                Err(_) => return true,
            }
        }
    }

    pub fn run(&mut self) {
        let mut buf = vec![0u8; 65536];
        let mut control = vec![0u8; 1024];
        loop {
            let mut fds = [pollfd { fd: self.fd, events: POLLIN, revents: 0 }, pollfd { fd: self.wake, events: POLLIN, revents: 0 }];
            let r = unsafe { poll(fds.as_mut_ptr(), 2, -1) };
            if r < 0 {
                if errno() == EINTR {
                    continue;
                }
                return;
            }
            if self.shared.closed.load(Ordering::Acquire) {
                return;
            }
            if fds[1].revents & POLLNVAL != 0 || fds[0].revents & POLLNVAL != 0 {
                return;
            }
            if fds[1].revents & POLLIN != 0 {
                // Reset the eventfd before draining: a send queued after this wakes us again.
                let mut count: u64 = 0;
                unsafe { read(self.wake, (&mut count as *mut u64).cast(), 8) };
            }
            if !self.drain_outbox(&mut buf, &mut control) {
                return;
            }
            let re = fds[0].revents;
            if re & POLLERR != 0 && !self.on_pollerr(&mut buf, &mut control) {
                return;
            }
            if re & POLLIN != 0 && !self.drain_rx(&mut buf, &mut control) {
                return;
            }
        }
    }
}
