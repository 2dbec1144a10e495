//! A pipe's two ends under arbitrary writes, flushes, reads, rollbacks, hiccups and closes,
//! checked against a model; the lock-free frame queue under them is the `unsafe` code this
//! target exists for, so `cargo xtask fuzz` also runs it under AddressSanitizer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmq_transport::fuzzing::pipe_ops(data);
});
