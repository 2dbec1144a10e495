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

// --- the mechanism targets -----------------------------------------------------------------

use zmq_security::fuzzing::{handshake_mechanism, peer_stream, Target};
use zmq_security::{CryptoFailure, FailureClass};

const MECHANISM_TARGETS: [(&str, Target); 4] = [
    ("handshake_plain_client", Target::PlainClient),
    ("handshake_plain_server", Target::PlainServer),
    ("handshake_curve_client", Target::CurveClient),
    ("handshake_curve_server", Target::CurveServer),
];

/// What a mechanism seed must lead to, by the prefix of its name.
fn mechanism_expected(name: &str) -> Option<fn(&Option<Outcome>) -> bool> {
    let prefix = name.split('_').next()?;
    Some(match prefix {
        "ok" => |r| matches!(r, Some(Ok(_))),
        "auth" => |r| matches!(r, Some(Err(e)) if e.monitor_class() == FailureClass::Auth),
        "crypto" => |r| matches!(r, Some(Err(HandshakeError::Crypto(_)))),
        "malformed" => |r| {
            matches!(
                r,
                Some(Err(
                    HandshakeError::MalformedCommand { .. } | HandshakeError::Decode(_)
                ))
            )
        },
        "zapreply" => |r| matches!(r, Some(Err(HandshakeError::ZapReply(_)))),
        "wait" => |r| r.is_none(),
        _ => return None,
    })
}

#[test]
fn replay_mechanism_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    for (dir_name, target) in MECHANISM_TARGETS {
        let mut count = 0;
        for dir in ["seeds", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(dir_name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = handshake_mechanism(target, &data);
                let name = path.file_name().unwrap().to_string_lossy();
                if let (Some(check), "seeds") = (mechanism_expected(&name), dir) {
                    assert!(check(&outcome), "{dir_name} seed {name} led to {outcome:?}");
                }
                count += 1;
            }
        }
        assert!(count >= 10, "the {dir_name} seeds are missing");
    }
}

#[test]
fn mechanism_targets_reach_their_states() {
    use Target::*;
    // Clean runs complete in every chunking, with and without ZAP.
    for target in [PlainClient, PlainServer, CurveClient, CurveServer] {
        for chunk in [1, 7, 255] {
            for mode in [1, 3] {
                let r = handshake_mechanism(target, &[chunk, mode, 0]);
                assert!(matches!(r, Some(Ok(Version::V3_1))), "{target:?} {r:?}");
            }
        }
        // The recorded peer stream replayed raw completes too.
        let mut raw = vec![13, 0, 0];
        raw.extend_from_slice(&peer_stream(target, [13, 1, 0])[64..]);
        let r = handshake_mechanism(target, &raw);
        assert!(matches!(r, Some(Ok(_))), "{target:?} raw replay: {r:?}");
    }
    // A flipped HELLO box, a flipped WELCOME box.
    let r = handshake_mechanism(CurveServer, &[64, 1, 0, 0, 200, 1]);
    assert_eq!(r, Some(Err(HandshakeError::Crypto(CryptoFailure::Hello))));
    let r = handshake_mechanism(CurveClient, &[64, 1, 0, 0, 100, 1]);
    assert_eq!(r, Some(Err(HandshakeError::Crypto(CryptoFailure::Welcome))));
}

/// The committed seeds of the mechanism targets are exactly what this generator makes, and
/// each reaches the outcome its name says. After changing the generator, rewrite them with
/// `ZMQ_WRITE_SEEDS=1 cargo test -p zmq-security --test fuzz_seeds`.
#[test]
fn mechanism_seeds_are_current() {
    let write = std::env::var_os("ZMQ_WRITE_SEEDS").is_some();
    use Target::*;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    for (dir_name, target) in MECHANISM_TARGETS {
        let dir = root.join(dir_name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut seeds: Vec<(String, Vec<u8>)> = vec![
            ("ok_clean_bytewise".into(), vec![1, 1, 0]),
            ("ok_clean_chunk7".into(), vec![7, 1, 0]),
            ("ok_clean_whole".into(), vec![255, 1, 0]),
            ("ok_zap_allow".into(), vec![64, 3, 0]),
            (
                "garbage_raw".into(),
                b"\x07\x00\x00\x04\x05\x05HELLO\x00\x01\x02garbage".to_vec(),
            ),
        ];
        let is_server = matches!(target, PlainServer | CurveServer);
        if is_server {
            seeds.push(("zapreply_malformed".into(), vec![64, 3, 4, 0xff, 0xff, 0]));
            seeds.push(("auth_zap_400".into(), vec![64, 3, 2]));
            seeds.push(("auth_zap_300".into(), vec![64, 3, 1]));
            seeds.push(("auth_zap_500".into(), vec![64, 3, 3]));
        } else {
            seeds.push(("auth_peer_zap_400".into(), vec![64, 3, 2]));
            seeds.push(("wait_peer_zap_300".into(), vec![64, 3, 1]));
            seeds.push((
                "wait_peer_zapreply_malformed".into(),
                vec![64, 3, 4, 0xff, 0xff, 0],
            ));
        }
        for (name, head) in [
            ("ok_raw_replay", [4096u16 as u8, 0, 0]),
            ("ok_raw_replay_bytewise", [1, 0, 0]),
        ] {
            let mut raw = head.to_vec();
            raw.extend_from_slice(&peer_stream(target, [64, 1, 0])[64..]);
            seeds.push((name.into(), raw));
        }
        match target {
            CurveServer => {
                seeds.push(("crypto_hello_box".into(), vec![64, 1, 0, 0, 200, 1]));
                seeds.push(("malformed_hello_version".into(), vec![64, 1, 0, 0, 72, 1]));
                seeds.push(("crypto_initiate_cookie".into(), vec![64, 1, 0, 1, 30, 1]));
                seeds.push(("crypto_initiate_box".into(), vec![64, 1, 0, 1, 144, 1]));
                seeds.push(("traffic_flip".into(), vec![64, 1, 0, 2, 0x40, 1]));
            }
            CurveClient => {
                seeds.push(("crypto_welcome_box".into(), vec![64, 1, 0, 0, 100, 1]));
                seeds.push(("malformed_welcome_size".into(), vec![64, 1, 0, 0, 65, 0x08]));
                seeds.push(("crypto_ready_box".into(), vec![64, 1, 0, 0, 250, 1]));
                seeds.push(("traffic_flip".into(), vec![64, 1, 0, 1, 0x30, 1]));
            }
            PlainServer => {
                seeds.push((
                    "malformed_hello_user_len".into(),
                    vec![64, 1, 0, 0, 72, 0x40],
                ));
            }
            PlainClient => {
                seeds.push(("malformed_welcome_size".into(), vec![64, 1, 0, 0, 65, 0x08]));
            }
        }
        for (name, data) in seeds {
            let outcome = handshake_mechanism(target, &data);
            if let Some(check) = mechanism_expected(&name) {
                assert!(check(&outcome), "{dir_name} seed {name} led to {outcome:?}");
            }
            let path = dir.join(&name);
            if write {
                std::fs::write(&path, data).unwrap();
            } else {
                assert_eq!(
                    std::fs::read(&path).ok().as_deref(),
                    Some(&data[..]),
                    "fuzz/seeds/{dir_name}/{name} is out of date: rewrite the seeds with \
                     ZMQ_WRITE_SEEDS=1 cargo test -p zmq-security --test fuzz_seeds"
                );
            }
        }
    }
}
