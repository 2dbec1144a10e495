//! Inputs the `pattern_ops` fuzz target once failed on, replayed through
//! `zmq_patterns::fuzzing::pattern_ops`.

/// A relaxed REQ whose resend blocked after abandoning a half-received reply: the driver
/// wrongly expected the old reply to go on (the pattern mirrors libzmq here).
const RELAXED_REQ_BLOCKED_RESEND: &[u8] = &[
    176, 0, 0, 0, 0, 138, 230, 66, 39, 65, 247, 10, 183, 10, 28, 10, 183, 10, 34, 34, 42, 34, 183,
    33, 0, 4, 183, 10, 28, 10, 183, 10, 34, 34, 42, 34, 183, 33, 0, 4, 1, 16, 44, 20, 0, 0, 121,
    121, 121, 121, 121, 121, 121, 34, 42, 34, 34, 49, 174, 34, 0, 247, 133, 0, 32, 18, 255, 36, 4,
    34, 42, 34, 34, 0, 247, 133, 0, 32, 18, 255, 32, 18, 255, 36, 4, 34, 42, 34, 34, 0, 34, 49,
    255, 21, 0, 36, 255, 255, 1, 42, 255, 255, 255, 255, 49, 49, 49, 49, 49, 49, 49, 49, 0, 115,
    177, 59, 174, 49, 49, 49, 49, 49, 49, 49, 49, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 28, 10, 183, 10, 34, 34, 42, 34, 183, 33, 0, 4, 1, 16, 44,
    20, 0, 0, 34, 42, 34, 4, 1, 14, 0, 0, 34, 10, 183, 10, 28, 10, 40, 10, 34, 34, 42, 34, 183, 33,
    0, 4, 1, 16, 44, 20, 0, 0, 34, 42, 34, 34, 48, 174, 34, 0, 247, 133, 0, 32, 18, 255, 36, 4, 34,
    42, 34, 34, 0, 4, 1, 16, 0, 0, 34, 42, 34, 34, 34, 50, 174, 246,
];

#[test]
fn relaxed_req_blocked_resend() {
    zmq_patterns::fuzzing::pattern_ops(RELAXED_REQ_BLOCKED_RESEND);
}

#[test]
fn empty_and_tiny_inputs() {
    zmq_patterns::fuzzing::pattern_ops(&[]);
    for t in 0..7u8 {
        for op in 0..=255u8 {
            zmq_patterns::fuzzing::pattern_ops(&[t, 0, 0xff, op, op, op, op]);
        }
    }
}

/// `subscription_trie`: an XSUB with `XSUB_VERBOSE_UNSUBSCRIBE` forwards a cancel while it
/// still counts the topic, so its publishers drop it; the driver's model once expected
/// otherwise.
const XSUB_VERBOSE_UNSUBSCRIBE_BURST: &[u8] = &[1, 3, 205, 248, 0, 90, 0, 224, 130, 146, 196, 51];

#[test]
fn xsub_verbose_unsubscribe_burst() {
    zmq_patterns::fuzzing::subscription_trie(XSUB_VERBOSE_UNSUBSCRIBE_BURST);
}

#[test]
fn subscription_trie_tiny_inputs() {
    zmq_patterns::fuzzing::subscription_trie(&[]);
    for first in [0u8, 1] {
        for t in 0..4u8 {
            for op in 0..=255u8 {
                zmq_patterns::fuzzing::subscription_trie(&[first, t, op, op, op, op, op]);
                zmq_patterns::fuzzing::subscription_trie(&[first, t, 0, 0, op, 0, op, op]);
            }
        }
    }
}
