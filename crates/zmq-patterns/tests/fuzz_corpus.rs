//! Replays the committed inputs of the `subscription_trie` fuzz target (`fuzz/seeds/` and
//! `fuzz/regressions/`) through the function the target calls, so plain `cargo test`
//! guards against regressions.

use std::path::Path;

#[test]
fn replay_subscription_trie() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join("subscription_trie")) else {
            continue;
        };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            zmq_patterns::fuzzing::subscription_trie(&data);
            count += 1;
        }
    }
    assert!(count >= 3, "the subscription_trie seeds are missing");
}
