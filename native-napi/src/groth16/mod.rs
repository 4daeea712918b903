//! A Groth16 prover over BN254 that reads snarkjs's .zkey and .wtns and writes
//! snarkjs's proof JSON, with no crates: field arithmetic (field, fq, fr, fq2),
//! curve groups (curve), multi-scalar multiplication (msm), the NTT (ntt), the
//! file formats (binfile, zkey, wtns), and the prover itself (prover, json).
// to_canonical / to_affine take &self on small Copy types on purpose: they are called on
// elements inside slices and structs, and stay borrow-only like the other field methods.
#![allow(clippy::wrong_self_convention)]

pub mod binfile;
pub mod curve;
pub mod error;
pub mod field;
pub mod fq;
pub mod fq2;
pub mod fr;
pub mod json;
pub mod msm;
pub mod ntt;
pub mod prover;
pub mod random;
pub mod wtns;
pub mod zkey;

#[cfg(test)]
mod tests;
