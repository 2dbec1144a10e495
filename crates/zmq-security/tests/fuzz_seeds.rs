//! Replays the committed inputs of the `handshake_null` fuzz target (`fuzz/seeds/` and
//! `fuzz/regressions/`) through the function the target calls, so plain `cargo test`
//! guards against regressions, and checks that each seed reaches the path it is named for.

use std::path::Path;

use zmq_security::{fuzzing, HandshakeError};
use zmtp_codec::Version;

/// How a handshake ended, as the fuzz entry point reports it.
type Outcome = Result<Version, HandshakeError>;

/// What the seed of this name must lead to.
fn expected(name: &str) -> Option<fn(&Outcome) -> bool> {
    Some(match name {
        "libzmq_dealer" | "libzmq_dealer_bytewise" | "ready_metadata" => {
            |r| r == &Ok(Version::V3_1)
        }
        "zmtp30_push" => |r| r == &Ok(Version::V3_0),
        "zmtp20" => |r| r == &Ok(Version::V2_0),
        "zmtp10_versioned" | "zmtp10_unversioned_short" | "zmtp10_unversioned_long" => {
            |r| r == &Ok(Version::V1_0)
        }
        "error_400" | "error_text" => |r| matches!(r, Err(HandshakeError::PeerError { .. })),
        "error_malformed" | "oversized_command" => |r| matches!(r, Err(HandshakeError::Decode(_))),
        "hello_before_ready" => |r| matches!(r, Err(HandshakeError::UnexpectedCommand { .. })),
        "data_before_ready" => |r| r == &Err(HandshakeError::UnexpectedMessage),
        "mechanism_plain" | "garbage_after_signature" => {
            |r| matches!(r, Err(HandshakeError::MechanismMismatch { .. }))
        }
        "incompatible_type" => |r| matches!(r, Err(HandshakeError::IncompatibleSocketType { .. })),
        "missing_socket_type" => |r| r == &Err(HandshakeError::MissingSocketType),
        _ => return None,
    })
}

#[test]
fn replay_handshake_null() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join("handshake_null")) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = fuzzing::handshake_null(&data);
            let name = path.file_name().unwrap().to_string_lossy();
            if let (Some(check), "seeds") = (expected(&name), dir) {
                let outcome = outcome.unwrap_or_else(|| panic!("seed {name} ran out of input"));
                assert!(check(&outcome), "seed {name} led to {outcome:?}");
            }
            count += 1;
        }
    }
    assert!(count >= 18, "the handshake_null seeds are missing");
}

#[test]
fn short_and_empty_inputs() {
    for data in [
        &b""[..],
        b"\x01",
        b"\x01\x05",
        b"\x01\x05\x00",
        b"\x00\x00\x00\xff",
    ] {
        let _ = fuzzing::handshake_null(data);
    }
}
