//! Socket-type state machines driven by arbitrary attach, detach, send, recv, activation
//! and option operations, against queues that check the `Peers` contract.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmq_patterns::fuzzing::pattern_ops(data);
});
