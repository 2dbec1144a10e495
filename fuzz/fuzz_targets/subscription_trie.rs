//! The subscription tries against map models (add, remove, match, walk, removal of a
//! peer), and PUB/XPUB/SUB/XSUB driven by arbitrary operations against their models; no
//! input may panic or recurse deeply.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmq_patterns::fuzzing::subscription_trie(data);
});
