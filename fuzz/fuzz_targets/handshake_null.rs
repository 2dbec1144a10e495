//! A NULL handshake driven by arbitrary peer bytes in arbitrary chunks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = zmq_security::fuzzing::handshake_null(data);
});
