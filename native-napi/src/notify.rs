//! sd_notify(3): one datagram of "KEY=value" lines to $NOTIFY_SOCKET, a path or
//! an abstract name written with a leading '@'. Non-blocking: a full socket
//! queue is an EAGAIN error rather than a stall of Node's main thread.

use crate::js::{Args, JsError, JsResult, Out};
use crate::napi::napi_value;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

fn io_err(what: &str, e: std::io::Error) -> JsError {
    match e.raw_os_error() {
        Some(n) => JsError::os(what, n),
        None => JsError::Sys { code: "EINVAL", message: format!("{what}: {e} (EINVAL)") },
    }
}

fn sd_notify(a: &Args) -> JsResult<napi_value> {
    let state = a.arg_string(0, "state")?;
    if state.is_empty() {
        return Err(JsError::Range("sdNotify: state must be a non-empty string".into()));
    }
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return Out(a.env).boolean(false);
    };
    let target = target.to_string_lossy().into_owned();
    let addr = if let Some(name) = target.strip_prefix('@') {
        SocketAddr::from_abstract_name(name.as_bytes())
    } else if target.starts_with('/') {
        SocketAddr::from_pathname(&target)
    } else {
        return Err(JsError::Sys {
            code: "EAFNOSUPPORT",
            message: format!("sdNotify: NOTIFY_SOCKET must be an absolute path or an @abstract name, got {target:?} (EAFNOSUPPORT)"),
        });
    }
    .map_err(|e| io_err(&format!("sdNotify: NOTIFY_SOCKET {target:?}"), e))?;
    let sock = UnixDatagram::unbound().map_err(|e| io_err("sdNotify: socket", e))?;
    sock.set_nonblocking(true).map_err(|e| io_err("sdNotify: socket", e))?;
    let sent = sock.send_to_addr(state.as_bytes(), &addr).map_err(|e| io_err(&format!("sdNotify: send to {target:?}"), e))?;
    if sent != state.len() {
        return Err(JsError::Sys { code: "EMSGSIZE", message: format!("sdNotify: sent {sent} of {} bytes (EMSGSIZE)", state.len()) });
    }
    Out(a.env).boolean(true)
}
crate::js_function!(js_sd_notify, "sdNotify", sd_notify);
