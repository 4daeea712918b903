//! Timestamped UDP/IPv4 sockets for PTP (ports 319 and 320): the JS functions.
//! Each open socket has one thread (reader.rs) that owns all socket I/O: it
//! sends what udpSend queues, reads datagrams and TX stamps, and hands them to
//! JS through a threadsafe function. Node's main thread only validates, queues
//! and writes the eventfd that wakes that thread (or closes it).

use crate::js::{check, Args, JsError, JsResult, Out};
use crate::napi::*;
use crate::reader::{sockaddr, Event, Outgoing, Reader, Shared, Tsfn};
use crate::sys::*;
use crate::tsinfo;
use crate::txids::TxIds;
use std::collections::{BTreeMap, VecDeque};
use std::mem::size_of;
use std::net::Ipv4Addr;
use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Events waiting for the JS thread, per socket; beyond this datagrams are dropped (and counted).
const QUEUE_LIMIT: usize = 4096;
/// Datagrams udpSend may queue for the socket's thread; beyond this it throws EAGAIN.
const SEND_QUEUE_LIMIT: usize = 1024;
/// The largest UDP/IPv4 payload (65535 - 20 - 8); larger is EMSGSIZE at once.
const MAX_PAYLOAD: usize = 65507;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Hardware,
    Software,
    None,
}

struct Socket {
    fd: c_int,
    wake: c_int,
    thread: Option<JoinHandle<()>>,
    tsfn: Tsfn,
    shared: Arc<Shared>,
    /// The id the next accepted udpSend gets (ids count from 0, failed sends included).
    next_id: u32,
    env: usize,
}

static SOCKETS: Mutex<BTreeMap<u32, Socket>> = Mutex::new(BTreeMap::new());
static NEXT_HANDLE: AtomicU32 = AtomicU32::new(1);

fn sockets() -> std::sync::MutexGuard<'static, BTreeMap<u32, Socket>> {
    SOCKETS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Closes an fd on drop unless released: keeps error paths in udpOpen leak-free.
struct Fd(c_int);
impl Fd {
    fn release(mut self) -> c_int {
        std::mem::replace(&mut self.0, -1)
    }
}
impl Drop for Fd {
    fn drop(&mut self) {
        if self.0 >= 0 {
            unsafe { close(self.0) };
        }
    }
}

fn setopt<T>(fd: c_int, level: c_int, name: c_int, value: &T, what: &str) -> JsResult<()> {
    let r = unsafe { setsockopt(fd, level, name, (value as *const T).cast(), size_of::<T>() as socklen_t) };
    if r < 0 {
        return Err(JsError::last_os(what));
    }
    Ok(())
}

fn parse_ipv4(fn_name: &str, what: &str, s: &str) -> JsResult<Ipv4Addr> {
    s.parse::<Ipv4Addr>()
        .map_err(|_| JsError::Range(format!("{fn_name}: {what} must be an IPv4 address in dotted form (e.g. '0.0.0.0'), got {s:?}")))
}

// ------------------------------------------------------------- JS-thread side

/// Runs on Node's thread for each queued event: calls onMessage, onTxTimestamp or onSendError.
unsafe extern "C" fn call_js(env: napi_env, _cb: napi_value, context: *mut c_void, data: *mut c_void) {
    if data.is_null() {
        return;
    }
    let ev = Box::from_raw(data as *mut Event);
    if env.is_null() || context.is_null() {
        return;
    }
    let shared = &*(context as *const Shared);
    if shared.closed.load(Ordering::Acquire) {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| -> JsResult<()> {
        let o = Out(env);
        let (r, args) = match *ev {
            Event::Message { data, from, port, stamp } => {
                let (s, n) = stamp.map(|t| (t.tv_sec as i64, t.tv_nsec as i64)).unwrap_or((-1, -1));
                (shared.on_message, vec![o.buffer(&data)?, o.string(&from.to_string())?, o.int(port as i64)?, o.int(s)?, o.int(n)?])
            }
            Event::Tx { id, stamp } => (shared.on_tx, vec![o.int(id as i64)?, o.int(stamp.tv_sec as i64)?, o.int(stamp.tv_nsec as i64)?]),
            Event::SendError { id, code, message } => {
                if shared.on_send_error.is_null() {
                    return Ok(()); // counted in sendErrors; nobody listens
                }
                (shared.on_send_error, vec![o.int(id as i64)?, o.string(code)?, o.string(&message)?])
            }
        };
        let mut f = null_mut();
        check(env, napi_get_reference_value(env, r, &mut f))?;
        let recv = o.undefined()?;
        let mut result = null_mut();
        let status = napi_call_function(env, recv, f, args.len(), args.as_ptr(), &mut result);
        if status != NAPI_OK {
            // A throwing callback is an uncaught exception, as with any Node event handler.
            let mut pending = false;
            napi_is_exception_pending(env, &mut pending);
            if pending {
                let mut err = null_mut();
                napi_get_and_clear_last_exception(env, &mut err);
                napi_fatal_exception(env, err);
            }
        }
        Ok(())
    }));
}

/// The threadsafe function is gone: drop the callback references and our share.
unsafe extern "C" fn finalize(env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    if data.is_null() {
        return;
    }
    let shared = Arc::from_raw(data as *const Shared);
    if !env.is_null() {
        napi_delete_reference(env, shared.on_message);
        napi_delete_reference(env, shared.on_tx);
        if !shared.on_send_error.is_null() {
            napi_delete_reference(env, shared.on_send_error);
        }
    }
}

/// Stops the reader (dropping queued sends) and closes the fds; `release` hands the threadsafe function
/// back to Node (not during environment teardown, where Node disposes of it).
fn shutdown(mut s: Socket, release: bool) {
    s.shared.closed.store(true, Ordering::Release);
    let one: u64 = 1;
    unsafe { write(s.wake, (&one as *const u64).cast(), 8) };
    if let Some(t) = s.thread.take() {
        let _ = t.join();
    }
    s.shared.outbox().clear();
    unsafe {
        close(s.fd);
        close(s.wake);
    }
    if release {
        unsafe { napi_release_threadsafe_function(s.tsfn.0, NAPI_TSFN_RELEASE) };
    }
}

/// Environment teardown (process exit, worker end) with the socket still open.
unsafe extern "C" fn cleanup_hook(arg: *mut c_void) {
    let handle = arg as usize as u32;
    let s = sockets().remove(&handle);
    if let Some(s) = s {
        let _ = catch_unwind(AssertUnwindSafe(|| shutdown(s, false)));
    }
}

struct OpenOptions {
    address: Ipv4Addr,
    port: u16,
    interface: Option<String>,
    group: Option<Ipv4Addr>,
    loopback: Option<bool>,
    ttl: Option<i64>,
    reuse: bool,
    mode: Mode,
}

fn read_options(a: &Args) -> JsResult<OpenOptions> {
    let o = a.object_value(a.get(0)?, "options")?;
    let address = a.string_value(a.prop(o, "address")?, "options.address")?;
    let address = parse_ipv4(a.name, "options.address", &address)?;
    let port = a.int_value(a.prop(o, "port")?, "options.port", 0, 65535)? as u16;
    let interface = match a.prop(o, "interface")? {
        Some(v) => {
            let name = a.string_value(Some(v), "options.interface")?;
            tsinfo::check_ifname(a.name, &name)?;
            Some(name)
        }
        None => None,
    };
    let group = match a.prop(o, "multicastGroup")? {
        Some(v) => {
            let g = parse_ipv4(a.name, "options.multicastGroup", &a.string_value(Some(v), "options.multicastGroup")?)?;
            if !g.is_multicast() {
                return Err(JsError::Range(format!("{}: options.multicastGroup must be an IPv4 multicast address (224.0.0.0/4), got {g}", a.name)));
            }
            Some(g)
        }
        None => None,
    };
    let loopback = match a.prop(o, "multicastLoop")? {
        Some(v) => Some(a.bool_value(Some(v), "options.multicastLoop")?),
        None => None,
    };
    let ttl = match a.prop(o, "multicastTtl")? {
        Some(v) => Some(a.int_value(Some(v), "options.multicastTtl", 0, 255)?),
        None => None,
    };
    let reuse = match a.prop(o, "reuseAddress")? {
        Some(v) => a.bool_value(Some(v), "options.reuseAddress")?,
        None => false,
    };
    let mode = match a.string_value(a.prop(o, "timestamping")?, "options.timestamping")?.as_str() {
        "hardware" => Mode::Hardware,
        "software" => Mode::Software,
        "none" => Mode::None,
        other => {
            return Err(JsError::Range(format!("{}: options.timestamping must be 'hardware', 'software' or 'none', got {other:?}", a.name)))
        }
    };
    if mode == Mode::Hardware && interface.is_none() {
        return Err(JsError::Range(format!("{}: timestamping 'hardware' needs options.interface (the NIC whose clock stamps)", a.name)));
    }
    Ok(OpenOptions { address, port, interface, group, loopback, ttl, reuse, mode })
}

fn udp_open(a: &Args) -> JsResult<napi_value> {
    let opts = read_options(a)?;
    let on_message = a.function_value(a.get(1)?, "onMessage")?;
    let on_tx = a.function_value(a.get(2)?, "onTxTimestamp")?;
    let on_send_error = match a.get(3)? {
        Some(v) => Some(a.function_value(Some(v), "onSendError")?),
        None => None,
    };
    let what = |step: &str| format!("udpOpen: {step} ({}:{})", opts.address, opts.port);

    let fd = Fd(unsafe { socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) });
    if fd.0 < 0 {
        return Err(JsError::last_os("udpOpen: socket"));
    }
    if opts.reuse {
        setopt(fd.0, SOL_SOCKET, SO_REUSEADDR, &(1 as c_int), &what("SO_REUSEADDR"))?;
    }
    let mut ifindex = 0;
    if let Some(name) = &opts.interface {
        ifindex = tsinfo::ifindex(a.name, name)?;
        let r = unsafe { setsockopt(fd.0, SOL_SOCKET, SO_BINDTODEVICE, name.as_ptr().cast(), name.len() as socklen_t) };
        if r < 0 {
            return Err(JsError::last_os(&what(&format!("SO_BINDTODEVICE {name:?}"))));
        }
        let m = ip_mreqn { imr_multiaddr: 0, imr_address: 0, imr_ifindex: ifindex as c_int };
        setopt(fd.0, SOL_IP, IP_MULTICAST_IF, &m, &what(&format!("IP_MULTICAST_IF {name:?}")))?;
    }
    if let Some(ttl) = opts.ttl {
        setopt(fd.0, SOL_IP, IP_MULTICAST_TTL, &(ttl as c_int), &what("IP_MULTICAST_TTL"))?;
    }
    if let Some(l) = opts.loopback {
        setopt(fd.0, SOL_IP, IP_MULTICAST_LOOP, &(l as c_int), &what("IP_MULTICAST_LOOP"))?;
    }
    let flags = match opts.mode {
        Mode::Hardware => {
            let name = opts.interface.as_deref().unwrap_or("");
            let info = tsinfo::query(a.name, name)?;
            if !info.hardware() {
                return Err(JsError::Sys {
                    code: "EOPNOTSUPP",
                    message: format!("udpOpen: interface {name:?} offers no hardware timestamping; use 'software' (EOPNOTSUPP)"),
                });
            }
            tsinfo::enable_hardware(a.name, name, &info)?;
            SOF_TIMESTAMPING_RAW_HARDWARE | SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE
        }
        Mode::Software => SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE,
        Mode::None => 0,
    };
    if flags != 0 {
        let flags = (flags | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY) as c_int;
        setopt(fd.0, SOL_SOCKET, SO_TIMESTAMPING, &flags, &what("SO_TIMESTAMPING"))?;
    }
    let addr = sockaddr(opts.address, opts.port);
    if unsafe { bind(fd.0, &addr, size_of::<sockaddr_in>() as socklen_t) } < 0 {
        return Err(JsError::last_os(&what("bind")));
    }
    if let Some(g) = opts.group {
        let m = ip_mreqn { imr_multiaddr: u32::from_ne_bytes(g.octets()), imr_address: 0, imr_ifindex: ifindex as c_int };
        setopt(fd.0, SOL_IP, IP_ADD_MEMBERSHIP, &m, &what(&format!("IP_ADD_MEMBERSHIP {g}")))?;
    }
    let mut bound = sockaddr(Ipv4Addr::UNSPECIFIED, 0);
    let mut blen = size_of::<sockaddr_in>() as socklen_t;
    if unsafe { getsockname(fd.0, &mut bound, &mut blen) } < 0 {
        return Err(JsError::last_os(&what("getsockname")));
    }
    let wake = Fd(unsafe { eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) });
    if wake.0 < 0 {
        return Err(JsError::last_os("udpOpen: eventfd"));
    }

    let env = a.env;
    let mut msg_ref = null_mut();
    check(env, unsafe { napi_create_reference(env, on_message, 1, &mut msg_ref) })?;
    let mut tx_ref = null_mut();
    if let Err(e) = check(env, unsafe { napi_create_reference(env, on_tx, 1, &mut tx_ref) }) {
        unsafe { napi_delete_reference(env, msg_ref) };
        return Err(e);
    }
    let mut err_ref = null_mut();
    if let Some(f) = on_send_error {
        if let Err(e) = check(env, unsafe { napi_create_reference(env, f, 1, &mut err_ref) }) {
            unsafe {
                napi_delete_reference(env, msg_ref);
                napi_delete_reference(env, tx_ref);
            }
            return Err(e);
        }
    }
    let shared = Arc::new(Shared {
        closed: AtomicBool::new(false),
        dropped: AtomicU64::new(0),
        send_errors: AtomicU64::new(0),
        outbox: Mutex::new(VecDeque::new()),
        on_message: msg_ref,
        on_tx: tx_ref,
        on_send_error: err_ref,
    });
    let ctx = Arc::into_raw(shared.clone()) as *mut c_void;
    let name = Out(env).string("edge-agent-native-udp")?;
    let mut tsfn = null_mut();
    let status = unsafe {
        napi_create_threadsafe_function(env, null_mut(), null_mut(), name, QUEUE_LIMIT, 1, ctx, Some(finalize), ctx, Some(call_js), &mut tsfn)
    };
    if status != NAPI_OK {
        unsafe {
            drop(Arc::from_raw(ctx as *const Shared));
            napi_delete_reference(env, msg_ref);
            napi_delete_reference(env, tx_ref);
            if !err_ref.is_null() {
                napi_delete_reference(env, err_ref);
            }
        }
        return check(env, status).map(|_| null_mut());
    }
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    let mut reader = Reader {
        fd: fd.0,
        wake: wake.0,
        hardware: opts.mode == Mode::Hardware,
        stamping: opts.mode != Mode::None,
        tsfn: Tsfn(tsfn),
        shared: shared.clone(),
        ids: TxIds::new(),
    };
    let thread = std::thread::Builder::new().name(format!("ea-udp-{handle}")).spawn(move || {
        let _ = catch_unwind(AssertUnwindSafe(|| reader.run()));
    });
    let thread = match thread {
        Ok(t) => t,
        Err(e) => {
            unsafe { napi_release_threadsafe_function(tsfn, NAPI_TSFN_RELEASE) };
            return Err(JsError::Sys { code: "EAGAIN", message: format!("udpOpen: cannot start the reader thread: {e} (EAGAIN)") });
        }
    };
    let socket = Socket { fd: fd.release(), wake: wake.release(), thread: Some(thread), tsfn: Tsfn(tsfn), shared, next_id: 0, env: env as usize };
    sockets().insert(handle, socket);
    unsafe { napi_add_env_cleanup_hook(env, cleanup_hook, handle as usize as *mut c_void) };
    let o = Out(env);
    o.object(&[("handle", o.int(handle as i64)?), ("port", o.int(u16::from_be(bound.sin_port) as i64)?)])
}
crate::js_function!(js_udp_open, "udpOpen", udp_open);

fn handle_arg(a: &Args) -> JsResult<u32> {
    Ok(a.arg_int(0, "handle", 1, u32::MAX as i64)? as u32)
}

fn not_open(a: &Args, h: u32) -> JsError {
    JsError::Sys { code: "EBADF", message: format!("{}: socket handle {h} is not open (EBADF)", a.name) }
}

/// Queues one datagram for the socket's thread and wakes it; the send itself
/// happens there (see reader.rs for why). OS failures of that send reach JS
/// through onSendError with this id; ids count every queued datagram.
fn udp_send(a: &Args) -> JsResult<napi_value> {
    let h = handle_arg(a)?;
    let data = a.buffer_value(a.get(1)?, "data")?;
    let address = parse_ipv4(a.name, "address", &a.arg_string(2, "address")?)?;
    let port = a.arg_int(3, "port", 1, 65535)? as u16;
    if data.len() > MAX_PAYLOAD {
        return Err(JsError::Sys {
            code: "EMSGSIZE",
            message: format!("udpSend: to {address}:{port}: {} bytes exceed the UDP/IPv4 maximum of {MAX_PAYLOAD} (EMSGSIZE)", data.len()),
        });
    }
    let mut map = sockets();
    let s = match map.get_mut(&h) {
        Some(s) if s.env == a.env as usize => s,
        _ => return Err(not_open(a, h)),
    };
    let id = s.next_id;
    {
        let mut outbox = s.shared.outbox();
        if outbox.len() >= SEND_QUEUE_LIMIT {
            return Err(JsError::Sys {
                code: "EAGAIN",
                message: format!("udpSend: to {address}:{port}: {SEND_QUEUE_LIMIT} datagrams already wait for the socket's thread (EAGAIN)"),
            });
        }
        outbox.push_back(Outgoing { id, data, to: sockaddr(address, port) });
    }
    s.next_id = s.next_id.wrapping_add(1);
    let one: u64 = 1;
    unsafe { write(s.wake, (&one as *const u64).cast(), 8) };
    drop(map);
    Out(a.env).int(id as i64)
}
crate::js_function!(js_udp_send, "udpSend", udp_send);

fn udp_close(a: &Args) -> JsResult<napi_value> {
    let h = handle_arg(a)?;
    let s = {
        let mut map = sockets();
        match map.get(&h) {
            Some(s) if s.env == a.env as usize => map.remove(&h),
            _ => None,
        }
    };
    if let Some(s) = s {
        unsafe { napi_remove_env_cleanup_hook(a.env, cleanup_hook, h as usize as *mut c_void) };
        shutdown(s, true);
    }
    Out(a.env).undefined()
}
crate::js_function!(js_udp_close, "udpClose", udp_close);

fn udp_stats(a: &Args) -> JsResult<napi_value> {
    let h = handle_arg(a)?;
    let (dropped, sent, queued, errors) = match sockets().get(&h) {
        Some(s) if s.env == a.env as usize => {
            let sh = &s.shared;
            (sh.dropped.load(Ordering::Relaxed), s.next_id, sh.outbox().len(), sh.send_errors.load(Ordering::Relaxed))
        }
        _ => return Err(not_open(a, h)),
    };
    let o = Out(a.env);
    o.object(&[
        ("dropped", o.number(dropped as f64)?),
        ("sent", o.int(sent as i64)?),
        ("queued", o.int(queued as i64)?),
        ("sendErrors", o.number(errors as f64)?),
    ])
}
crate::js_function!(js_udp_stats, "udpStats", udp_stats);
