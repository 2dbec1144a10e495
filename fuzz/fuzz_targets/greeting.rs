//! The greeting reader, fed in chunks, then frames in the version it detected.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmtp_codec::fuzzing::greeting(data);
});
