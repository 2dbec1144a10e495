//! Replays the committed fuzz inputs of this crate's targets (`fuzz/seeds/` and
//! `fuzz/regressions/`) through the functions the targets call, so plain `cargo test`
//! guards against regressions.

use std::path::Path;

#[test]
fn replay_socks_reply() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join("socks_reply")) else {
            continue;
        };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            zmq_transport::fuzzing::socks_negotiate(&data);
            count += 1;
        }
    }
    assert!(count > 0, "no seeds for fuzz target socks_reply");
}
