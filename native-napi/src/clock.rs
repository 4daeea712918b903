//! System clocks and PTP hardware clocks (/dev/ptpN): reading them, and for a
//! PHC adjusting frequency and stepping through clock_adjtime. Only PHC fds
//! opened here are accepted, so a stray number can never touch another fd or
//! the system clock.

use crate::js::{Args, JsError, JsResult, Out};
use crate::napi::napi_value;
use crate::sys::*;
use std::os::raw::c_int;
use std::sync::Mutex;

static PHC_FDS: Mutex<Vec<c_int>> = Mutex::new(Vec::new());

fn fd_to_clockid(fd: c_int) -> c_int {
    ((!fd) << 3) | 3
}

fn gettime(what: &str, clock: c_int) -> JsResult<timespec> {
    let mut ts = timespec::default();
    if unsafe { clock_gettime(clock, &mut ts) } != 0 {
        return Err(JsError::last_os(what));
    }
    Ok(ts)
}

fn clock_gettime_js(a: &Args) -> JsResult<napi_value> {
    let v = a.get(0)?;
    let clock = match v {
        Some(v) if a.type_of(v)? == crate::napi::NAPI_STRING => match a.string_value(Some(v), "which")?.as_str() {
            "realtime" => CLOCK_REALTIME,
            "monotonic" => CLOCK_MONOTONIC,
            "tai" => CLOCK_TAI,
            other => {
                return Err(JsError::Range(format!("clockGettime: which must be 'realtime', 'monotonic', 'tai' or a clock id, got {other:?}")))
            }
        },
        _ => a.int_value(v, "which", i32::MIN as i64, i32::MAX as i64)? as c_int,
    };
    let ts = gettime("clockGettime", clock)?;
    Out(a.env).timespec(ts)
}
crate::js_function!(js_clock_gettime, "clockGettime", clock_gettime_js);

/// The fd argument, which must be a PHC this addon opened and has not closed.
fn phc_fd(a: &Args) -> JsResult<c_int> {
    let fd = a.arg_int(0, "fd", 0, i32::MAX as i64)? as c_int;
    let open = PHC_FDS.lock().map(|l| l.contains(&fd)).unwrap_or(false);
    if !open {
        return Err(JsError::Sys { code: "EBADF", message: format!("{}: fd {fd} is not a PHC opened by phcOpen (EBADF)", a.name) });
    }
    Ok(fd)
}

fn phc_open(a: &Args) -> JsResult<napi_value> {
    let path = a.arg_string(0, "path")?;
    if path.is_empty() || path.contains('\0') {
        return Err(JsError::Range(format!("phcOpen: path must be a non-empty string without NUL, got {path:?}")));
    }
    let cpath = cstring(&path).ok_or_else(|| JsError::Range("phcOpen: bad path".into()))?;
    let fd = unsafe { open(cpath.as_ptr(), O_RDWR | O_CLOEXEC) };
    if fd < 0 {
        return Err(JsError::last_os(&format!("phcOpen: {path}")));
    }
    // A file that is not a clock fails here rather than on first use.
    if let Err(e) = gettime(&format!("phcOpen: {path} is not a PTP clock"), fd_to_clockid(fd)) {
        unsafe { close(fd) };
        return Err(e);
    }
    if let Ok(mut l) = PHC_FDS.lock() {
        l.push(fd);
    }
    Out(a.env).int(fd as i64)
}
crate::js_function!(js_phc_open, "phcOpen", phc_open);

fn phc_gettime(a: &Args) -> JsResult<napi_value> {
    let fd = phc_fd(a)?;
    let ts = gettime("phcGettime", fd_to_clockid(fd))?;
    Out(a.env).timespec(ts)
}
crate::js_function!(js_phc_gettime, "phcGettime", phc_gettime);

/// Frequency limit in ppb: keeps ppb * 65.536 inside a 32-bit long, and is far
/// beyond what any PHC accepts (the kernel then answers ERANGE).
const MAX_PPB: f64 = 32_000_000.0;

fn adjtime(what: &str, fd: c_int, tx: &mut timex) -> JsResult<()> {
    if unsafe { clock_adjtime(fd_to_clockid(fd), tx) } < 0 {
        return Err(JsError::last_os(what));
    }
    Ok(())
}

fn phc_adjust_frequency(a: &Args) -> JsResult<napi_value> {
    let fd = phc_fd(a)?;
    let ppb = a.number_value(a.get(1)?, "ppb")?;
    if !(ppb.is_finite() && ppb.abs() <= MAX_PPB) {
        return Err(JsError::Range(format!("phcAdjustFrequency: ppb must be a finite number within ±{MAX_PPB}, got {ppb}")));
    }
    // timex.freq is in ppm with a 16-bit fraction: ppb * 2^16 / 1000.
    let mut tx = timex { modes: ADJ_FREQUENCY, freq: (ppb * 65.536).round() as std::os::raw::c_long, ..Default::default() };
    adjtime("phcAdjustFrequency", fd, &mut tx)?;
    Out(a.env).undefined()
}
crate::js_function!(js_phc_adjust_frequency, "phcAdjustFrequency", phc_adjust_frequency);

fn phc_frequency(a: &Args) -> JsResult<napi_value> {
    let fd = phc_fd(a)?;
    let mut tx = timex::default();
    adjtime("phcFrequency", fd, &mut tx)?;
    Out(a.env).number(tx.freq as f64 / 65.536)
}
crate::js_function!(js_phc_frequency, "phcFrequency", phc_frequency);

fn phc_step(a: &Args) -> JsResult<napi_value> {
    let fd = phc_fd(a)?;
    let sec = a.arg_int(1, "sec", -(1i64 << 31) + 1, (1i64 << 31) - 1)?;
    let nsec = a.arg_int(2, "nsec", -999_999_999, 999_999_999)?;
    // ADJ_SETOFFSET wants tv_usec (nanoseconds with ADJ_NANO) in [0, 1e9).
    let total = sec as i128 * 1_000_000_000 + nsec as i128;
    let s = total.div_euclid(1_000_000_000) as std::os::raw::c_long;
    let ns = total.rem_euclid(1_000_000_000) as std::os::raw::c_long;
    let mut tx = timex { modes: ADJ_SETOFFSET | ADJ_NANO, time: timeval { tv_sec: s, tv_usec: ns }, ..Default::default() };
    adjtime("phcStep", fd, &mut tx)?;
    Out(a.env).undefined()
}
crate::js_function!(js_phc_step, "phcStep", phc_step);

fn phc_close(a: &Args) -> JsResult<napi_value> {
    let fd = a.arg_int(0, "fd", 0, i32::MAX as i64)? as c_int;
    // Closing twice (or an fd never opened here) is a no-op: nothing else is ever closed.
    let was_open = match PHC_FDS.lock() {
        Ok(mut l) => match l.iter().position(|&f| f == fd) {
            Some(i) => {
                l.swap_remove(i);
                true
            }
            None => false,
        },
        Err(_) => false,
    };
    if was_open {
        unsafe { close(fd) };
    }
    Out(a.env).boolean(was_open)
}
crate::js_function!(js_phc_close, "phcClose", phc_close);
