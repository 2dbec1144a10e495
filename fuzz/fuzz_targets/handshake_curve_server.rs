//! The handshake of our CURVE server (Stonehouse or ZAP) against a CURVE client, then the
//! traffic cipher.
//!
//! Raw peer bytes, or a genuine peer's bytes with fuzzed changes, with deterministic
//! randomness: see `zmq_security::fuzzing::handshake_mechanism`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmq_security::fuzzing::{handshake_mechanism, Target};

fuzz_target!(|data: &[u8]| {
    let _ = handshake_mechanism(Target::CurveServer, data);
});
