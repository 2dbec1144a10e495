//! The ZMTP 1.0 frame decoder, fed in chunks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmtp_codec::fuzzing::frames(zmtp_codec::frame::FrameFormat::V1, data);
});
