//! Z85 decoding and encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmtp_codec::fuzzing::z85(data);
});
