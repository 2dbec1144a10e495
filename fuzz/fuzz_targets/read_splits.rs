//! The engine's read space (`readbuf`) through a socket pair: writes, reads and frame cuts
//! of arbitrary sizes, frames held and dropped, checked against the bytes written. Its
//! reads into uninitialised capacity and its reuse of buffers are the `unsafe` and the
//! sharing this target exists for, so `cargo xtask fuzz` also runs it under AddressSanitizer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmq_transport::fuzzing::read_splits(data);
});
