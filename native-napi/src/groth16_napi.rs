//! The Groth16 prover for JavaScript: groth16LoadZkey(bytes) → handle (the
//! parsed key stays in memory), groth16Prove(handle, wtns, threads?) → Promise of
//! snarkjs's JSON (the proof runs on libuv's pool, off the JS thread),
//! groth16Free(handle), groth16KeyInfo(handle). groth16Msm and groth16FieldOp
//! expose the arithmetic for the property tests against @noble/curves.
use crate::groth16::curve::{Affine, CurveParams, G1Params, G2Params};
use crate::groth16::error::Groth16Error;
use crate::groth16::field::Field;
use crate::groth16::fq::Fq;
use crate::groth16::fq2::Fq2;
use crate::groth16::fr::Fr;
use crate::groth16::prover::Precomputed;
use crate::groth16::zkey::ProvingKey;
use crate::groth16::{binfile::limbs_le, json, msm, prover, wtns, zkey};
use crate::js::{check, Args, JsError, JsResult, Out};
use crate::napi::*;
use crate::js_function;
use std::collections::HashMap;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::{Arc, Mutex, OnceLock};

/// A loaded key, and its fixed-base tables once the first proof has built them (on a
/// worker thread, not at load, so loading never blocks the JS thread for long).
struct Loaded {
    key: ProvingKey,
    budget: usize,
    tables: OnceLock<Precomputed>,
}

struct Registry {
    next: u32,
    keys: HashMap<u32, Arc<Loaded>>,
}

fn registry() -> &'static Mutex<Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Registry { next: 1, keys: HashMap::new() }))
}

fn lock() -> std::sync::MutexGuard<'static, Registry> {
    // A panic while holding the lock cannot leave the map half-updated; keep going.
    registry().lock().unwrap_or_else(|e| e.into_inner())
}

/// The message JS sees: what kind of input was wrong, then the parser's detail.
fn describe(e: &Groth16Error) -> String {
    match e {
        Groth16Error::Zkey(m) => format!("not a snarkjs Groth16 BN254 .zkey: {m}"),
        Groth16Error::Wtns(m) => format!("not a snarkjs .wtns: {m}"),
        Groth16Error::Mismatch(m) => format!("the witness does not fit the proving key: {m}"),
        other => other.message().to_string(),
    }
}

fn key_of(a: &Args, i: usize) -> JsResult<(u32, Arc<Loaded>)> {
    let h = a.arg_int(i, "handle", 1, u32::MAX as i64)? as u32;
    let key = lock().keys.get(&h).cloned();
    key.map(|k| (h, k)).ok_or_else(|| JsError::Sys { code: "CLOSED", message: format!("{}: no proving key with handle {h} (freed or never loaded)", a.name) })
}

fn load_zkey(a: &Args) -> JsResult<napi_value> {
    let bytes = a.buffer_value(a.get(0)?, "zkey")?;
    let budget = match a.get(1)? {
        None => 0,
        Some(v) => a.int_value(Some(v), "tableBytes", 0, 1 << 40)? as usize,
    };
    let key = zkey::parse_zkey(&bytes).map_err(|e| JsError::Sys { code: e.code(), message: format!("groth16LoadZkey: {}", describe(&e)) })?;
    let mut r = lock();
    let h = r.next;
    r.next = r.next.checked_add(1).unwrap_or(1);
    r.keys.insert(h, Arc::new(Loaded { key, budget, tables: OnceLock::new() }));
    drop(r);
    Out(a.env).int(h as i64)
}
js_function!(js_groth16_load_zkey, "groth16LoadZkey", load_zkey);

fn free(a: &Args) -> JsResult<napi_value> {
    let h = a.arg_int(0, "handle", 1, u32::MAX as i64)? as u32;
    // A proof in flight holds its own Arc, so freeing never pulls the key from under it.
    let removed = lock().keys.remove(&h).is_some();
    Out(a.env).boolean(removed)
}
js_function!(js_groth16_free, "groth16Free", free);

fn key_info(a: &Args) -> JsResult<napi_value> {
    let (_, l) = key_of(a, 0)?;
    let k = &l.key;
    let o = Out(a.env);
    o.object(&[
        ("tableBudgetBytes", o.int(l.budget as i64)?),
        ("tableBytes", o.int(l.tables.get().map_or(0, |t| t.bytes()) as i64)?),
        ("nVars", o.int(k.n_vars as i64)?),
        ("nPublic", o.int(k.n_public as i64)?),
        ("domainSize", o.int(k.domain_size as i64)?),
        ("memoryBytes", o.int(k.memory_bytes() as i64)?),
    ])
}
js_function!(js_groth16_key_info, "groth16KeyInfo", key_info);

fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

struct ProveJob {
    key: Arc<Loaded>,
    wtns: Vec<u8>,
    threads: usize,
    result: Option<Result<String, Groth16Error>>,
    deferred: napi_deferred,
    work: napi_async_work,
}

/// Runs on a libuv pool thread: no N-API calls here.
unsafe extern "C" fn prove_execute(_env: napi_env, data: *mut c_void) {
    let job = &mut *(data as *mut ProveJob);
    let out = catch_unwind(AssertUnwindSafe(|| {
        let w = wtns::parse_wtns(&job.wtns)?;
        let l = &job.key;
        let tables = l.tables.get_or_init(|| Precomputed::build(&l.key, l.budget, job.threads));
        let p = prover::prove(&l.key, tables, &w, job.threads)?;
        Ok(json::proof_json(&p.a, &p.b, &p.c, &p.public))
    }));
    job.result = Some(out.unwrap_or_else(|_| Err(Groth16Error::Argument("internal error in the native prover (a Rust panic was caught)".into()))));
}

unsafe fn make_error(env: napi_env, code: &str, message: &str) -> napi_value {
    let o = Out(env);
    let mut err = null_mut();
    if let (Ok(c), Ok(m)) = (o.string(code), o.string(message)) {
        napi_create_error(env, c, m, &mut err);
    }
    err
}

/// Back on the JS thread: settle the promise and free the job.
unsafe extern "C" fn prove_complete(env: napi_env, status: napi_status, data: *mut c_void) {
    let job = Box::from_raw(data as *mut ProveJob);
    let _ = catch_unwind(AssertUnwindSafe(|| {
        match (status, &job.result) {
            (NAPI_OK, Some(Ok(s))) => match Out(env).string(s) {
                Ok(v) => {
                    napi_resolve_deferred(env, job.deferred, v);
                }
                Err(_) => {
                    napi_reject_deferred(env, job.deferred, make_error(env, "ENAPI", "groth16Prove: cannot create the result string"));
                }
            },
            (NAPI_OK, Some(Err(e))) => {
                napi_reject_deferred(env, job.deferred, make_error(env, e.code(), &format!("groth16Prove: {}", describe(e))));
            }
            _ => {
                napi_reject_deferred(env, job.deferred, make_error(env, "CANCELLED", "groth16Prove: the proof was cancelled"));
            }
        }
        napi_delete_async_work(env, job.work);
    }));
}

fn prove(a: &Args) -> JsResult<napi_value> {
    let (_, key) = key_of(a, 0)?;
    let wtns = a.buffer_value(a.get(1)?, "wtns")?;
    let threads = match a.get(2)? {
        None => default_threads(),
        Some(v) => a.int_value(Some(v), "threads", 1, 256)? as usize,
    };
    let env = a.env;
    let mut deferred = null_mut();
    let mut promise = null_mut();
    check(env, unsafe { napi_create_promise(env, &mut deferred, &mut promise) })?;
    let name = Out(env).string("edge_agent_groth16_prove")?;
    let job = Box::into_raw(Box::new(ProveJob { key, wtns, threads, result: None, deferred, work: null_mut() }));
    let mut work = null_mut();
    let st = unsafe { napi_create_async_work(env, null_mut(), name, prove_execute, Some(prove_complete), job.cast(), &mut work) };
    if st != NAPI_OK {
        // Not queued: reclaim the job; the promise is dropped unsettled, the throw says why.
        drop(unsafe { Box::from_raw(job) });
        return check(env, st).map(|_| promise);
    }
    unsafe { (*job).work = work };
    let st = unsafe { napi_queue_async_work(env, work) };
    if st != NAPI_OK {
        unsafe {
            napi_delete_async_work(env, work);
            drop(Box::from_raw(job));
        }
        check(env, st)?;
    }
    Ok(promise)
}
js_function!(js_groth16_prove, "groth16Prove", prove);

// ---- test hooks: plain (non-Montgomery) little-endian 32-byte integers ----

fn plain_fq(b: &[u8], what: &str) -> JsResult<Fq> {
    Fq::from_canonical(limbs_le(b)).ok_or_else(|| JsError::Range(format!("{what} is not below the base field prime")))
}

fn put(out: &mut Vec<u8>, v: &[u64; 4]) {
    for l in v {
        out.extend_from_slice(&l.to_le_bytes());
    }
}

trait Codec: CurveParams {
    const SIZE: usize;
    fn decode(b: &[u8]) -> JsResult<Self::F>;
    fn encode(v: &Self::F, out: &mut Vec<u8>);
}
impl Codec for G1Params {
    const SIZE: usize = 32;
    fn decode(b: &[u8]) -> JsResult<Fq> {
        plain_fq(b, "a coordinate")
    }
    fn encode(v: &Fq, out: &mut Vec<u8>) {
        put(out, &v.to_canonical());
    }
}
impl Codec for G2Params {
    const SIZE: usize = 64;
    fn decode(b: &[u8]) -> JsResult<Fq2> {
        Ok(Fq2::new(plain_fq(&b[..32], "a coordinate")?, plain_fq(&b[32..], "a coordinate")?))
    }
    fn encode(v: &Fq2, out: &mut Vec<u8>) {
        put(out, &v.c0.to_canonical());
        put(out, &v.c1.to_canonical());
    }
}

fn msm_of<C: Codec>(points: &[u8], scalars: &[u8], threads: usize) -> JsResult<Vec<u8>> {
    let ps = 2 * C::SIZE;
    if !points.len().is_multiple_of(ps) || !scalars.len().is_multiple_of(32) || points.len() / ps != scalars.len() / 32 {
        return Err(JsError::Range(format!("groth16Msm: {} point bytes and {} scalar bytes do not make n points of {ps} and n scalars of 32", points.len(), scalars.len())));
    }
    let mut bases = Vec::new();
    for chunk in points.chunks(ps) {
        if chunk.iter().all(|&b| b == 0) {
            bases.push(Affine::<C>::identity());
            continue;
        }
        let p = Affine::<C>::new(C::decode(&chunk[..C::SIZE])?, C::decode(&chunk[C::SIZE..])?);
        if !p.is_on_curve() {
            return Err(JsError::Range("groth16Msm: a point is not on the curve".into()));
        }
        bases.push(p);
    }
    let ks: Vec<[u64; 4]> = scalars.chunks(32).map(limbs_le).collect();
    let r = msm::msm(&bases, &ks, threads).to_affine();
    let mut out = Vec::new();
    if r.infinity {
        out.resize(ps, 0);
    } else {
        C::encode(&r.x, &mut out);
        C::encode(&r.y, &mut out);
    }
    Ok(out)
}

fn msm_js(a: &Args) -> JsResult<napi_value> {
    let group = a.arg_string(0, "group")?;
    let points = a.buffer_value(a.get(1)?, "points")?;
    let scalars = a.buffer_value(a.get(2)?, "scalars")?;
    let threads = a.arg_int(3, "threads", 1, 64)? as usize;
    let out = match group.as_str() {
        "g1" => msm_of::<G1Params>(&points, &scalars, threads)?,
        "g2" => msm_of::<G2Params>(&points, &scalars, threads)?,
        _ => return Err(JsError::Range(format!("groth16Msm: group must be 'g1' or 'g2', got '{group}'"))),
    };
    Out(a.env).buffer(&out)
}
js_function!(js_groth16_msm, "groth16Msm", msm_js);

fn op<F: Field>(name: &str, x: F, y: F) -> JsResult<F> {
    Ok(match name {
        "add" => x.add(&y),
        "sub" => x.sub(&y),
        "mul" => x.mul(&y),
        "square" => x.square(),
        "neg" => x.neg(),
        "inv" => x.inv().ok_or_else(|| JsError::Range("groth16FieldOp: zero has no inverse".into()))?,
        _ => return Err(JsError::Range(format!("groth16FieldOp: unknown op '{name}'"))),
    })
}

fn field_op(a: &Args) -> JsResult<napi_value> {
    let field = a.arg_string(0, "field")?;
    let name = a.arg_string(1, "op")?;
    let x = a.buffer_value(a.get(2)?, "a")?;
    let y = a.buffer_value(a.get(3)?, "b")?;
    if x.len() != 32 || y.len() != 32 {
        return Err(JsError::Range("groth16FieldOp: operands are 32-byte little-endian integers".into()));
    }
    let mut out = Vec::new();
    match field.as_str() {
        "fq" => put(&mut out, &op(&name, plain_fq(&x, "a")?, plain_fq(&y, "b")?)?.to_canonical()),
        "fr" => {
            let f = |b: &[u8]| Fr::from_canonical(limbs_le(b)).ok_or_else(|| JsError::Range("an operand is not below the scalar field prime".into()));
            put(&mut out, &op(&name, f(&x)?, f(&y)?)?.to_canonical())
        }
        _ => return Err(JsError::Range(format!("groth16FieldOp: field must be 'fq' or 'fr', got '{field}'"))),
    }
    Out(a.env).buffer(&out)
}
js_function!(js_groth16_field_op, "groth16FieldOp", field_op);

