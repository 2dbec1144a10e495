//! Command parsing, and re-encoding of what parses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmtp_codec::fuzzing::command(data);
});
