//! Replays the committed fuzz inputs (`fuzz/seeds/` and `fuzz/regressions/`) through the
//! same functions the fuzz targets call, so plain `cargo test` guards against regressions.

use std::path::Path;

use zmtp_codec::frame::FrameFormat;
use zmtp_codec::fuzzing;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            run(&data);
            count += 1;
        }
    }
    count
}

/// A fuzz target: its name and the function it calls.
type Target = (&'static str, fn(&[u8]));

#[test]
fn replay_every_target() {
    let targets: [Target; 7] = [
        ("greeting", fuzzing::greeting),
        ("frames_v3", |d| fuzzing::frames(FrameFormat::V3, d)),
        ("frames_v2", |d| fuzzing::frames(FrameFormat::V2, d)),
        ("frames_v1", |d| fuzzing::frames(FrameFormat::V1, d)),
        ("command", fuzzing::command),
        ("metadata", fuzzing::metadata),
        ("z85", fuzzing::z85),
    ];
    for (target, run) in targets {
        assert!(replay(target, run) > 0, "no seeds for fuzz target {target}");
    }
}
