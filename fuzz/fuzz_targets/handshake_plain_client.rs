//! The handshake of our PLAIN client against a PLAIN server.
//!
//! Raw peer bytes, or a genuine peer's bytes with fuzzed changes, with deterministic
//! randomness: see `zmq_security::fuzzing::handshake_mechanism`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmq_security::fuzzing::{handshake_mechanism, Target};

fuzz_target!(|data: &[u8]| {
    let _ = handshake_mechanism(Target::PlainClient, data);
});
