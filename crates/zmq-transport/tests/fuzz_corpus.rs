//! Replays the committed fuzz inputs of this crate's targets (`fuzz/seeds/` and
//! `fuzz/regressions/`) through the functions the targets call, so plain `cargo test`
//! guards against regressions.

use std::path::Path;

/// Runs `f` on every committed input of `target`; returns how many there were.
fn replay(target: &str, f: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            f(&data);
            count += 1;
        }
    }
    count
}

#[test]
fn replay_socks_reply() {
    let count = replay("socks_reply", zmq_transport::fuzzing::socks_negotiate);
    assert!(count > 0, "no seeds for fuzz target socks_reply");
}

#[test]
fn replay_pipe_ops() {
    let count = replay("pipe_ops", zmq_transport::fuzzing::pipe_ops);
    assert!(count >= 5, "the pipe_ops seeds are missing");
}

#[test]
fn replay_read_splits() {
    let count = replay("read_splits", zmq_transport::fuzzing::read_splits);
    assert!(count >= 5, "the read_splits seeds are missing");
}

/// The pipe model on many pseudo-random operation sequences (a fixed generator, so a
/// failure repeats), beyond the committed seeds.
#[test]
fn pipe_ops_on_random_sequences() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..3000 {
        zmq_transport::fuzzing::pipe_ops(&random_bytes(&mut state, 400));
    }
}

/// The read space's model on many pseudo-random operation sequences (a fixed generator).
#[test]
fn read_splits_on_random_sequences() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..100 {
        zmq_transport::fuzzing::read_splits(&random_bytes(&mut state, 600));
    }
}

/// Up to `max` bytes from the xorshift generator `state`.
fn random_bytes(state: &mut u64, max: u64) -> Vec<u8> {
    let len = (*state % max) as usize;
    (0..len)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            (*state >> 24) as u8
        })
        .collect()
}
