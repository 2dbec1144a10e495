//! The ZMTP 3.x frame decoder (data frames and commands), fed in chunks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmtp_codec::fuzzing::frames(zmtp_codec::frame::FrameFormat::V3, data);
});
