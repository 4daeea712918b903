//! The thin layer between N-API and the addon's functions: argument reading
//! that validates and names what is wrong, value creation, and the entry
//! wrapper that turns every Err and every panic into a thrown JS error, so
//! nothing ever unwinds into Node.

use crate::napi::*;
use crate::sys;
use std::ffi::CString;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;

/// Why a call failed; becomes a TypeError, RangeError or an Error with `code`.
pub enum JsError {
    Type(String),
    Range(String),
    Sys { code: &'static str, message: String },
    /// A JS exception is already pending (thrown by a nested call): leave it.
    Pending,
}

pub type JsResult<T> = Result<T, JsError>;

impl JsError {
    /// An OS failure, named by its errno: the message reads "<what>: <strerror> (EPERM)".
    pub fn os(what: &str, e: i32) -> Self {
        let name = sys::errno_name(e);
        let text = std::io::Error::from_raw_os_error(e).to_string();
        let text = text.split(" (os error").next().unwrap_or(&text).to_string();
        JsError::Sys { code: name, message: format!("{what}: {text} ({name})") }
    }
    pub fn last_os(what: &str) -> Self {
        Self::os(what, sys::errno())
    }
}

fn c(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

unsafe fn throw(env: napi_env, err: JsError) {
    let mut pending = false;
    napi_is_exception_pending(env, &mut pending);
    if pending {
        return;
    }
    match err {
        JsError::Type(m) => {
            let code = c("ERR_INVALID_ARG_TYPE");
            napi_throw_type_error(env, code.as_ptr(), c(&m).as_ptr());
        }
        JsError::Range(m) => {
            let code = c("ERR_OUT_OF_RANGE");
            napi_throw_range_error(env, code.as_ptr(), c(&m).as_ptr());
        }
        JsError::Sys { code, message } => {
            napi_throw_error(env, c(code).as_ptr(), c(&message).as_ptr());
        }
        JsError::Pending => {
            napi_throw_error(env, null_mut(), c("native call failed").as_ptr());
        }
    }
}

/// Runs one addon function for N-API: panics and errors become JS exceptions.
///
/// # Safety
/// `env` and `info` must be the ones Node passed to the current callback.
pub unsafe fn entry(env: napi_env, info: napi_callback_info, name: &'static str, f: fn(&Args) -> JsResult<napi_value>) -> napi_value {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let args = Args::new(env, info, name)?;
        f(&args)
    }));
    match result {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            throw(env, e);
            null_mut()
        }
        Err(_) => {
            throw(env, JsError::Sys { code: "EPANIC", message: format!("{name}: internal error in the native addon (a Rust panic was caught)") });
            null_mut()
        }
    }
}

/// Declares the `extern "C"` N-API callback for an addon function.
#[macro_export]
macro_rules! js_function {
    ($wrapper:ident, $name:literal, $body:path) => {
        /// # Safety
        /// Only Node calls it, on the env's JS thread, with that call's callback info.
        pub unsafe extern "C" fn $wrapper(env: $crate::napi::napi_env, info: $crate::napi::napi_callback_info) -> $crate::napi::napi_value {
            $crate::js::entry(env, info, $name, $body)
        }
    };
}

/// Status check for N-API calls: a pending exception stays, anything else is reported.
pub fn check(env: napi_env, status: napi_status) -> JsResult<()> {
    if status == NAPI_OK {
        return Ok(());
    }
    let mut pending = false;
    unsafe { napi_is_exception_pending(env, &mut pending) };
    if pending {
        Err(JsError::Pending)
    } else {
        Err(JsError::Sys { code: "ENAPI", message: format!("N-API call failed with status {status}") })
    }
}

fn type_name(t: napi_valuetype) -> &'static str {
    match t {
        0 => "undefined",
        1 => "null",
        2 => "boolean",
        3 => "number",
        4 => "string",
        5 => "symbol",
        6 => "object",
        7 => "function",
        8 => "external",
        9 => "bigint",
        _ => "unknown",
    }
}

/// The arguments of one call, and the env to build results in.
pub struct Args {
    pub env: napi_env,
    pub name: &'static str,
    argv: [napi_value; 8],
    argc: usize,
}

impl Args {
    unsafe fn new(env: napi_env, info: napi_callback_info, name: &'static str) -> JsResult<Args> {
        let mut argv = [null_mut(); 8];
        let mut argc = argv.len();
        check(env, napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), null_mut(), null_mut()))?;
        Ok(Args { env, name, argv, argc: argc.min(8) })
    }

    /// The i-th argument, or None when missing or undefined.
    pub fn get(&self, i: usize) -> JsResult<Option<napi_value>> {
        if i >= self.argc {
            return Ok(None);
        }
        let v = self.argv[i];
        Ok(if self.type_of(v)? == NAPI_UNDEFINED { None } else { Some(v) })
    }

    pub fn type_of(&self, v: napi_value) -> JsResult<napi_valuetype> {
        let mut t = 0;
        check(self.env, unsafe { napi_typeof(self.env, v, &mut t) })?;
        Ok(t)
    }

    fn expect(&self, v: Option<napi_value>, what: &str, want: napi_valuetype, want_name: &str) -> JsResult<napi_value> {
        match v {
            None => Err(JsError::Type(format!("{}: {what} must be a {want_name}, got undefined", self.name))),
            Some(v) => {
                let t = self.type_of(v)?;
                if t == want {
                    Ok(v)
                } else {
                    Err(JsError::Type(format!("{}: {what} must be a {want_name}, got {}", self.name, type_name(t))))
                }
            }
        }
    }

    pub fn string_value(&self, v: Option<napi_value>, what: &str) -> JsResult<String> {
        let v = self.expect(v, what, NAPI_STRING, "string")?;
        let mut len = 0usize;
        check(self.env, unsafe { napi_get_value_string_utf8(self.env, v, null_mut(), 0, &mut len) })?;
        let mut buf = vec![0u8; len + 1];
        let mut got = 0usize;
        check(self.env, unsafe { napi_get_value_string_utf8(self.env, v, buf.as_mut_ptr().cast(), buf.len(), &mut got) })?;
        buf.truncate(got);
        String::from_utf8(buf).map_err(|_| JsError::Type(format!("{}: {what} is not valid UTF-8", self.name)))
    }

    pub fn number_value(&self, v: Option<napi_value>, what: &str) -> JsResult<f64> {
        let v = self.expect(v, what, NAPI_NUMBER, "number")?;
        let mut d = 0f64;
        check(self.env, unsafe { napi_get_value_double(self.env, v, &mut d) })?;
        Ok(d)
    }

    /// An integer in [min, max]: a TypeError for non-numbers, a RangeError otherwise.
    pub fn int_value(&self, v: Option<napi_value>, what: &str, min: i64, max: i64) -> JsResult<i64> {
        let d = self.number_value(v, what)?;
        if !(d.fract() == 0.0 && d >= min as f64 && d <= max as f64) {
            return Err(JsError::Range(format!("{}: {what} must be an integer in {min}..{max}, got {d}", self.name)));
        }
        Ok(d as i64)
    }

    pub fn bool_value(&self, v: Option<napi_value>, what: &str) -> JsResult<bool> {
        let v = self.expect(v, what, NAPI_BOOLEAN, "boolean")?;
        let mut b = false;
        check(self.env, unsafe { napi_get_value_bool(self.env, v, &mut b) })?;
        Ok(b)
    }

    pub fn function_value(&self, v: Option<napi_value>, what: &str) -> JsResult<napi_value> {
        self.expect(v, what, NAPI_FUNCTION, "function")
    }

    pub fn object_value(&self, v: Option<napi_value>, what: &str) -> JsResult<napi_value> {
        self.expect(v, what, NAPI_OBJECT, "object")
    }

    /// The bytes of a Buffer (or any Uint8Array view Node counts as a buffer), copied.
    pub fn buffer_value(&self, v: Option<napi_value>, what: &str) -> JsResult<Vec<u8>> {
        let Some(v) = v else {
            return Err(JsError::Type(format!("{}: {what} must be a Buffer, got undefined", self.name)));
        };
        let mut is = false;
        check(self.env, unsafe { napi_is_buffer(self.env, v, &mut is) })?;
        if !is {
            let t = self.type_of(v)?;
            return Err(JsError::Type(format!("{}: {what} must be a Buffer, got {}", self.name, type_name(t))));
        }
        let mut data: *mut c_void = null_mut();
        let mut len = 0usize;
        check(self.env, unsafe { napi_get_buffer_info(self.env, v, &mut data, &mut len) })?;
        if len == 0 || data.is_null() {
            return Ok(Vec::new());
        }
        Ok(unsafe { std::slice::from_raw_parts(data as *const u8, len) }.to_vec())
    }

    /// A property of an object, None when absent or undefined.
    pub fn prop(&self, obj: napi_value, name: &str) -> JsResult<Option<napi_value>> {
        let key = c(name);
        let mut v = null_mut();
        check(self.env, unsafe { napi_get_named_property(self.env, obj, key.as_ptr(), &mut v) })?;
        Ok(if self.type_of(v)? == NAPI_UNDEFINED { None } else { Some(v) })
    }

    pub fn arg_string(&self, i: usize, what: &str) -> JsResult<String> {
        self.string_value(self.get(i)?, what)
    }
    pub fn arg_int(&self, i: usize, what: &str, min: i64, max: i64) -> JsResult<i64> {
        self.int_value(self.get(i)?, what, min, max)
    }
}

/// Builders for result values.
pub struct Out(pub napi_env);

impl Out {
    pub fn undefined(&self) -> JsResult<napi_value> {
        let mut v = null_mut();
        check(self.0, unsafe { napi_get_undefined(self.0, &mut v) })?;
        Ok(v)
    }
    pub fn boolean(&self, b: bool) -> JsResult<napi_value> {
        let mut v = null_mut();
        check(self.0, unsafe { napi_get_boolean(self.0, b, &mut v) })?;
        Ok(v)
    }
    pub fn number(&self, d: f64) -> JsResult<napi_value> {
        let mut v = null_mut();
        check(self.0, unsafe { napi_create_double(self.0, d, &mut v) })?;
        Ok(v)
    }
    pub fn int(&self, i: i64) -> JsResult<napi_value> {
        let mut v = null_mut();
        check(self.0, unsafe { napi_create_int64(self.0, i, &mut v) })?;
        Ok(v)
    }
    pub fn string(&self, s: &str) -> JsResult<napi_value> {
        let mut v = null_mut();
        check(self.0, unsafe { napi_create_string_utf8(self.0, s.as_ptr().cast(), s.len(), &mut v) })?;
        Ok(v)
    }
    pub fn buffer(&self, bytes: &[u8]) -> JsResult<napi_value> {
        let mut v = null_mut();
        let mut data = null_mut();
        check(self.0, unsafe { napi_create_buffer_copy(self.0, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut v) })?;
        Ok(v)
    }
    pub fn object(&self, fields: &[(&str, napi_value)]) -> JsResult<napi_value> {
        let mut o = null_mut();
        check(self.0, unsafe { napi_create_object(self.0, &mut o) })?;
        for (k, v) in fields {
            let key = c(k);
            check(self.0, unsafe { napi_set_named_property(self.0, o, key.as_ptr(), *v) })?;
        }
        Ok(o)
    }
    pub fn array(&self, items: &[napi_value]) -> JsResult<napi_value> {
        let mut a = null_mut();
        check(self.0, unsafe { napi_create_array_with_length(self.0, items.len(), &mut a) })?;
        for (i, v) in items.iter().enumerate() {
            check(self.0, unsafe { napi_set_element(self.0, a, i as u32, *v) })?;
        }
        Ok(a)
    }
    /// [sec, nsec] as two exact JS numbers.
    pub fn timespec(&self, ts: sys::timespec) -> JsResult<napi_value> {
        let s = self.int(ts.tv_sec as i64)?;
        let n = self.int(ts.tv_nsec as i64)?;
        self.array(&[s, n])
    }
}
