//! edge-agent's Node addon: PTP socket timestamping and the PTP hardware clock
//! on Linux, sd_notify, and a Groth16 prover (groth16/). No external crates: N-API is declared in napi.rs.

// `c_long as i64` is a no-op on 64-bit targets but not on 32-bit arm boards.
#![allow(clippy::unnecessary_cast)]

mod clock;
mod js;
mod napi;
mod notify;
mod reader;
mod sys;
mod tsinfo;
mod txids;
mod udp;
mod groth16;
mod groth16_napi;

use napi::*;
use std::ffi::CString;
use std::ptr::null_mut;

fn version(a: &js::Args) -> js::JsResult<napi_value> {
    js::Out(a.env).string(env!("CARGO_PKG_VERSION"))
}
js_function!(js_version, "version", version);

const EXPORTS: &[(&str, napi_callback)] = &[
    ("version", js_version),
    ("interfaceTimestamping", tsinfo::js_interface_timestamping),
    ("udpOpen", udp::js_udp_open),
    ("udpSend", udp::js_udp_send),
    ("udpClose", udp::js_udp_close),
    ("udpStats", udp::js_udp_stats),
    ("clockGettime", clock::js_clock_gettime),
    ("phcOpen", clock::js_phc_open),
    ("phcGettime", clock::js_phc_gettime),
    ("phcAdjustFrequency", clock::js_phc_adjust_frequency),
    ("phcFrequency", clock::js_phc_frequency),
    ("phcStep", clock::js_phc_step),
    ("phcClose", clock::js_phc_close),
    ("sdNotify", notify::js_sd_notify),
    ("groth16LoadZkey", groth16_napi::js_groth16_load_zkey),
    ("groth16Prove", groth16_napi::js_groth16_prove),
    ("groth16Free", groth16_napi::js_groth16_free),
    ("groth16KeyInfo", groth16_napi::js_groth16_key_info),
    ("groth16Msm", groth16_napi::js_groth16_msm),
    ("groth16FieldOp", groth16_napi::js_groth16_field_op),
];

/// Node calls this once per environment (main thread, each worker) on load.
///
/// # Safety
/// Only Node calls it, with a live env and its exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    for (name, cb) in EXPORTS {
        let cname = CString::new(*name).unwrap_or_default();
        let mut f = null_mut();
        if napi_create_function(env, cname.as_ptr(), name.len(), *cb, null_mut(), &mut f) != NAPI_OK {
            return null_mut();
        }
        if napi_set_named_property(env, exports, cname.as_ptr(), f) != NAPI_OK {
            return null_mut();
        }
    }
    exports
}
