//! A handshake against scripted peers: exact libzmq bytes, ZMTP 2.0 and 1.0 peers, and
//! peers that break the protocol.

mod common;

use bytes::{Bytes, BytesMut};
use common::{
    command_frame, config, decode_all, feed, flatten, libzmq_greeting, ready_frame,
    LIBZMQ_DEALER_READY,
};
use zmq_security::{protocol_error, FailureClass, Handshake, HandshakeConfig, HandshakeError};
use zmtp_codec::frame::FrameFormat;
use zmtp_codec::{
    Command, Decoder, Item, Mechanism, MetadataError, SocketType, Version, WriteBatch,
};

/// Our greeting as libzmq would send it: padding `len(routing id) + 1`, 3.1, NULL.
fn our_greeting(id_len: u8) -> Vec<u8> {
    let mut g = vec![0xff];
    g.extend_from_slice(&(u64::from(id_len) + 1).to_be_bytes());
    g.extend_from_slice(b"\x7f\x03\x01NULL");
    g.resize(64, 0);
    g
}

fn data(body: &'static [u8], more: bool) -> Item {
    Item::Data {
        body: Bytes::from_static(body).into(),
        more,
    }
}

// --- libzmq byte vectors -------------------------------------------------------------------

#[test]
fn libzmq_dealer_into_our_router() {
    let mut peer = libzmq_greeting();
    peer.extend_from_slice(LIBZMQ_DEALER_READY);
    peer.extend_from_slice(b"\x01\x00\x00\x05hello");
    for chunk in 1..=peer.len() {
        let (result, mut rest, sent) = feed(config(SocketType::Router, b""), &peer, chunk);
        let est = result.unwrap().unwrap();
        assert_eq!(est.version, Version::V3_1);
        assert_eq!(est.peer_socket_type, Some(SocketType::Dealer));
        assert_eq!(est.peer_routing_id, "");
        assert_eq!(est.peer_metadata.len(), 2);
        let mut decoder = est.decoder;
        assert_eq!(
            decode_all(&mut decoder, &mut rest),
            [data(b"", true), data(b"hello", false)]
        );
        // What we sent: libzmq's greeting and a ROUTER READY of the same shape.
        let mut expected = our_greeting(0);
        expected.extend_from_slice(&LIBZMQ_DEALER_READY[..2]);
        expected.extend_from_slice(
            b"\x05READY\x0bSocket-Type\x00\x00\x00\x06ROUTER\x08Identity\x00\x00\x00\x00",
        );
        assert_eq!(sent, expected);
    }
}

#[test]
fn our_dealer_sends_exactly_what_libzmq_sends() {
    // Against a libzmq ROUTER, a DEALER with no routing id puts the very bytes of a libzmq
    // DEALER on the wire: greeting with padding 00..01 and 3.1, then RFC 37's READY.
    let mut peer = libzmq_greeting();
    peer.extend_from_slice(&ready_frame(&[
        ("Socket-Type", b"ROUTER"),
        ("Identity", b""),
    ]));
    let (result, _, sent) = feed(config(SocketType::Dealer, b""), &peer, 64);
    assert!(result.unwrap().is_ok());
    let mut expected = libzmq_greeting();
    expected.extend_from_slice(LIBZMQ_DEALER_READY);
    assert_eq!(sent, expected);

    // With a routing id, the padding carries its length plus one, as in libzmq.
    let (_, _, sent) = feed(config(SocketType::Dealer, b"abc"), &peer, 64);
    assert_eq!(&sent[..10], b"\xff\0\0\0\0\0\0\0\x04\x7f");
    assert!(sent.ends_with(b"\x08Identity\x00\x00\x00\x03abc"));
}

#[test]
fn greeting_stages_are_answered_at_once() {
    let mut peer = libzmq_greeting();
    peer.extend_from_slice(LIBZMQ_DEALER_READY);
    let mut out = WriteBatch::new(Version::V3_1);
    let mut hs = Handshake::new(config(SocketType::Rep, b""), &mut out).unwrap();
    assert_eq!(flatten(&out), our_greeting(0)[..10]);
    let mut input = BytesMut::new();
    let mut step = |bytes: &[u8], hs: &mut Handshake, out: &mut WriteBatch| {
        input.extend_from_slice(bytes);
        hs.handle_input(&mut input, out).unwrap()
    };
    assert!(step(&peer[..9], &mut hs, &mut out).is_none());
    assert_eq!(
        out.len(),
        10,
        "nothing more until the peer's signature is in"
    );
    assert!(step(&peer[9..10], &mut hs, &mut out).is_none());
    assert_eq!(
        flatten(&out),
        our_greeting(0)[..11],
        "version byte after signature"
    );
    assert!(step(&peer[10..11], &mut hs, &mut out).is_none());
    assert_eq!(
        flatten(&out),
        our_greeting(0),
        "the rest after the version byte"
    );
    assert!(step(&peer[11..63], &mut hs, &mut out).is_none());
    assert_eq!(out.len(), 64);
    assert!(step(&peer[63..64], &mut hs, &mut out).is_none());
    assert!(out.len() > 64, "READY at once, before the peer's");
    assert!(step(&peer[64..], &mut hs, &mut out).is_some());
}

#[test]
fn zmtp_3_0_and_later_versions() {
    for (major, minor, version) in [
        (3, 0, Version::V3_0),
        (3, 1, Version::V3_1),
        (3, 9, Version::V3_1),
        (4, 0, Version::V3_1),
    ] {
        let mut peer = libzmq_greeting();
        peer[10] = major;
        peer[11] = minor;
        peer.extend_from_slice(LIBZMQ_DEALER_READY);
        let mut out = WriteBatch::new(Version::V3_1);
        let mut hs = Handshake::new(config(SocketType::Dealer, b""), &mut out).unwrap();
        let mut input = BytesMut::from(&peer[..]);
        let est = hs.handle_input(&mut input, &mut out).unwrap().unwrap();
        assert_eq!(est.version, version);
        assert_eq!(
            out.encoder().version(),
            version,
            "the batch follows the peer"
        );
    }
}

// --- ZMTP 2.0 and 1.0 peers -----------------------------------------------------------------

#[test]
fn zmtp_2_0_peer() {
    // A libzmq 3.x ROUTER: signature, revision 1, socket type 6, identity frame "per", then a
    // two-part message in ZMTP 2.0 frames.
    let peer = b"\xff\0\0\0\0\0\0\0\x01\x7f\x01\x06\x00\x03per\x01\x00\x00\x02hi";
    for chunk in 1..=peer.len() {
        let (result, mut rest, sent) = feed(config(SocketType::Dealer, b"us"), peer, chunk);
        let est = result.unwrap().unwrap();
        assert_eq!(est.version, Version::V2_0);
        assert_eq!(est.peer_socket_type, Some(SocketType::Router));
        assert_eq!(est.peer_routing_id, "per");
        assert!(est.peer_metadata.is_empty());
        // Signature (padding 2 + 1), major version 3, our socket type byte, then our identity
        // as a ZMTP 2.0 frame.
        assert_eq!(sent, b"\xff\0\0\0\0\0\0\0\x03\x7f\x03\x05\x00\x02us");
        let mut decoder = est.decoder;
        assert_eq!(decoder.format(), FrameFormat::V2);
        assert_eq!(
            decode_all(&mut decoder, &mut rest),
            [data(b"", true), data(b"hi", false)]
        );
    }
}

#[test]
fn zmtp_2_0_peer_type_is_reported_not_checked() {
    // libzmq does not check the socket type of a ZMTP 1.0/2.0 peer; neither do we.
    let peer = b"\xff\0\0\0\0\0\0\0\x01\x7f\x01\x01\x00\x00";
    let (result, _, _) = feed(config(SocketType::Push, b""), peer, 1);
    let est = result.unwrap().unwrap();
    assert_eq!(est.peer_socket_type, Some(SocketType::Pub));
    // A type byte that names no socket type at all is refused.
    let peer = b"\xff\0\0\0\0\0\0\0\x01\x7f\x01\xee\x00\x00";
    let (e, _) = fail(config(SocketType::Push, b""), peer);
    assert!(
        matches!(&e, HandshakeError::IncompatibleSocketType { theirs, .. } if theirs == "type byte 0xee"),
        "{e:?}"
    );
    assert_eq!(e.monitor_class(), FailureClass::Protocol);
}

#[test]
fn zmtp_2_0_identity_is_limited_to_255_bytes() {
    let mut peer = b"\xff\0\0\0\0\0\0\0\x01\x7f\x01\x06".to_vec();
    peer.extend_from_slice(b"\x02\0\0\0\0\0\0\x01\x00"); // a 256-byte identity frame
    let (result, _, _) = feed(config(SocketType::Dealer, b""), &peer, 5);
    let e = result.unwrap().unwrap_err();
    assert!(matches!(
        e,
        HandshakeError::Decode(zmtp_codec::DecodeError::FrameTooLarge {
            size: 256,
            max: 255,
            command: false
        })
    ));
    assert_eq!(e.zmtp_error_code(), Some(protocol_error::ZMTP_UNSPECIFIED));
    // Exactly 255 bytes is fine, in the long form too.
    let mut peer = b"\xff\0\0\0\0\0\0\0\x01\x7f\x01\x06".to_vec();
    peer.extend_from_slice(b"\x02\0\0\0\0\0\0\0\xff");
    peer.extend_from_slice(&[b'x'; 255]);
    let (result, _, _) = feed(config(SocketType::Dealer, b""), &peer, 64);
    assert_eq!(result.unwrap().unwrap().peer_routing_id.len(), 255);
}

#[test]
fn versioned_zmtp_1_0_peer() {
    // Revision 0: the 12-byte greeting, then ZMTP 1.0 frames (size counts the flags byte).
    let peer = b"\xff\0\0\0\0\0\0\0\x01\x7f\x00\x05\x04\x00per\x03\x00hi";
    for chunk in 1..=peer.len() {
        let (result, mut rest, sent) = feed(config(SocketType::Router, b"us"), peer, chunk);
        let est = result.unwrap().unwrap();
        assert_eq!(est.version, Version::V1_0);
        assert_eq!(est.peer_socket_type, Some(SocketType::Dealer));
        assert_eq!(est.peer_routing_id, "per");
        assert_eq!(sent, b"\xff\0\0\0\0\0\0\0\x03\x7f\x03\x06\x03\x00us");
        let mut decoder = est.decoder;
        assert_eq!(decoder.format(), FrameFormat::V1);
        assert_eq!(decode_all(&mut decoder, &mut rest), [data(b"hi", false)]);
    }
}

#[test]
fn unversioned_zmtp_1_0_peer() {
    // No greeting: the peer's first bytes are its identity frame (short form).
    let peer = b"\x04\x00per\x03\x01hi\x01\x00";
    for chunk in 1..=peer.len() {
        let (result, mut rest, sent) = feed(config(SocketType::Dealer, b"us"), peer, chunk);
        let est = result.unwrap().unwrap();
        assert_eq!(est.version, Version::V1_0);
        assert_eq!(est.peer_socket_type, None);
        assert_eq!(est.peer_routing_id, "per");
        // Our signature was the long-form header of a 3-byte frame (flags 0x7F); exactly
        // the routing id completes it. No version byte is sent.
        assert_eq!(sent, b"\xff\0\0\0\0\0\0\0\x03\x7fus");
        let mut decoder = est.decoder;
        assert_eq!(
            decode_all(&mut decoder, &mut rest),
            [data(b"hi", true), data(b"", false)]
        );
    }
}

#[test]
fn unversioned_zmtp_1_0_peer_long_identity_frame() {
    // A long-form identity frame: 0xFF, size, then flags with bit 0 clear.
    let peer = b"\xff\0\0\0\0\0\0\0\x04\x00per";
    for chunk in 1..=peer.len() {
        let (result, rest, sent) = feed(config(SocketType::Pull, b""), peer, chunk);
        let est = result.unwrap().unwrap();
        assert_eq!(est.version, Version::V1_0);
        assert_eq!(est.peer_routing_id, "per");
        assert!(rest.is_empty());
        // An empty routing id: the signature alone is our whole identity frame.
        assert_eq!(sent, b"\xff\0\0\0\0\0\0\0\x01\x7f");
    }
}

#[test]
fn our_unversioned_signature_is_a_valid_zmtp_1_0_frame() {
    let (_, _, sent) = feed(config(SocketType::Dealer, b"abc"), b"\x01\x00", 2);
    let mut decoder = Decoder::new(FrameFormat::V1);
    let mut buf = BytesMut::from(&sent[..]);
    // libzmq's trick: the signature's flags byte 0x7F has bit 0 (MORE) set.
    assert_eq!(decode_all(&mut decoder, &mut buf), [data(b"abc", true)]);
    assert!(buf.is_empty());
}

// --- peers that break the protocol ----------------------------------------------------------

fn after_greeting(frames: &[u8]) -> Vec<u8> {
    let mut peer = libzmq_greeting();
    peer.extend_from_slice(frames);
    peer
}

fn fail(config: HandshakeConfig, peer: &[u8]) -> (HandshakeError, Vec<u8>) {
    let mut first = None;
    for chunk in [1, 3, 64, 4096] {
        let (result, _, sent) = feed(config.clone(), peer, chunk);
        let e = result.expect("the handshake ended").expect_err("it failed");
        match &first {
            None => first = Some((e, sent)),
            Some((f, s)) => {
                assert_eq!(f, &e, "chunk {chunk}");
                assert_eq!(s, &sent, "chunk {chunk}");
            }
        }
    }
    first.unwrap()
}

fn dealer() -> HandshakeConfig {
    config(SocketType::Dealer, b"")
}

#[test]
fn mechanism_mismatch() {
    let mut peer = libzmq_greeting();
    peer[12..17].copy_from_slice(b"PLAIN");
    let (e, sent) = fail(dealer(), &peer);
    assert_eq!(
        e,
        HandshakeError::MechanismMismatch {
            ours: Mechanism::NULL,
            theirs: Mechanism::PLAIN
        }
    );
    assert_eq!(e.monitor_class(), FailureClass::Protocol);
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_MECHANISM_MISMATCH)
    );
    assert_eq!(sent, our_greeting(0), "our greeting, and no READY");
    // Padding counts: "NULL\0...\x01" is not NULL.
    let mut peer = libzmq_greeting();
    peer[31] = 1;
    assert!(matches!(
        fail(dealer(), &peer).0,
        HandshakeError::MechanismMismatch { .. }
    ));
}

#[test]
fn peer_error_instead_of_ready() {
    let (e, _) = fail(
        dealer(),
        &after_greeting(&command_frame(b"\x05ERROR\x04oops")),
    );
    assert_eq!(
        e,
        HandshakeError::PeerError {
            reason: Bytes::from_static(b"oops")
        }
    );
    assert_eq!(e.monitor_class(), FailureClass::Protocol);
    assert_eq!(e.zmtp_error_code(), Some(protocol_error::ZMTP_UNSPECIFIED));
    assert!(e.to_string().contains("oops"));

    // A ZAP status, as a libzmq NULL server with a ZAP domain sends when denied.
    for (reason, status) in [(&b"300"[..], 300), (b"400", 400), (b"500", 500)] {
        let mut body = b"\x05ERROR\x03".to_vec();
        body.extend_from_slice(reason);
        let (e, _) = fail(dealer(), &after_greeting(&command_frame(&body)));
        assert_eq!(e.monitor_class(), FailureClass::Auth);
        assert_eq!(e.zap_status(), Some(status));
        assert_eq!(e.zmtp_error_code(), None);
    }
}

#[test]
fn malformed_error_command() {
    let (e, _) = fail(
        dealer(),
        &after_greeting(&command_frame(b"\x05ERROR\x09oops")),
    );
    assert_eq!(
        e,
        HandshakeError::Decode(zmtp_codec::DecodeError::Command(
            zmtp_codec::CommandError::BadErrorReason
        ))
    );
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_MALFORMED_COMMAND_ERROR)
    );
}

#[test]
fn data_before_ready() {
    let (e, _) = fail(dealer(), &after_greeting(b"\x00\x02hi"));
    assert_eq!(e, HandshakeError::UnexpectedMessage);
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_UNEXPECTED_COMMAND)
    );
    // An empty message frame, and a huge one refused at its header, not buffered.
    assert_eq!(
        fail(dealer(), &after_greeting(b"\x01\x00")).0,
        HandshakeError::UnexpectedMessage
    );
    assert_eq!(
        fail(
            dealer(),
            &after_greeting(b"\x02\x00\x00\x01\x00\x00\x00\x00\x00")
        )
        .0,
        HandshakeError::UnexpectedMessage
    );
}

#[test]
fn hello_before_ready() {
    let (e, _) = fail(dealer(), &after_greeting(&command_frame(b"\x05HELLO")));
    assert_eq!(
        e,
        HandshakeError::UnexpectedCommand {
            name: Bytes::from_static(b"HELLO")
        }
    );
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_UNEXPECTED_COMMAND)
    );
    // Traffic commands and unknown commands are no better.
    for (body, name) in [
        (&b"\x04PING\x00\x00"[..], &b"PING"[..]),
        (b"\x09SUBSCRIBEx", b"SUBSCRIBE"),
        (b"\x03FOO", b"FOO"),
    ] {
        assert_eq!(
            fail(dealer(), &after_greeting(&command_frame(body))).0,
            HandshakeError::UnexpectedCommand {
                name: Bytes::copy_from_slice(name)
            }
        );
    }
}

#[test]
fn oversized_command() {
    // A command announcing 64 KiB + 1 bytes: refused at its header.
    let (e, _) = fail(
        dealer(),
        &after_greeting(b"\x06\x00\x00\x00\x00\x00\x01\x00\x01"),
    );
    assert_eq!(
        e,
        HandshakeError::Decode(zmtp_codec::DecodeError::FrameTooLarge {
            size: 64 * 1024 + 1,
            max: 64 * 1024,
            command: true
        })
    );
    assert_eq!(e.monitor_class(), FailureClass::Protocol);
}

#[test]
fn garbage_after_the_signature() {
    // A valid signature, then noise: the noise's mechanism is not NULL.
    let mut peer = b"\xff\0\0\0\0\0\0\0\x01\x7f".to_vec();
    peer.extend_from_slice(&[0xab; 54]);
    let (e, sent) = fail(dealer(), &peer);
    assert!(matches!(
        e,
        HandshakeError::MechanismMismatch { theirs, .. } if theirs.as_wire() == &[0xab; 20]
    ));
    assert_eq!(sent.len(), 64);
    // A valid greeting, then noise where commands should be.
    let (e, _) = fail(dealer(), &after_greeting(&[0xff; 16]));
    assert!(matches!(
        e,
        HandshakeError::Decode(zmtp_codec::DecodeError::FrameTooLarge { command: true, .. })
    ));
    let (e, _) = fail(dealer(), &after_greeting(b"\x04\x00"));
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_MALFORMED_COMMAND_UNSPECIFIED)
    );
}

#[test]
fn incompatible_socket_type_sends_error() {
    let peer = after_greeting(LIBZMQ_DEALER_READY);
    let (e, sent) = fail(config(SocketType::Pub, b""), &peer);
    assert_eq!(
        e,
        HandshakeError::IncompatibleSocketType {
            ours: SocketType::Pub,
            theirs: Bytes::from_static(b"DEALER")
        }
    );
    assert!(sent.ends_with(b"\x04\x1f\x05ERROR\x18incompatible Socket-Type"));
    // Socket-type values are case-sensitive, as in libzmq.
    let peer = after_greeting(&ready_frame(&[("Socket-Type", b"dealer")]));
    assert!(matches!(
        fail(config(SocketType::Router, b""), &peer).0,
        HandshakeError::IncompatibleSocketType { .. }
    ));
}

#[test]
fn missing_socket_type_sends_error() {
    let peer = after_greeting(&ready_frame(&[("Identity", b"x")]));
    let (e, sent) = fail(config(SocketType::Router, b""), &peer);
    assert_eq!(e, HandshakeError::MissingSocketType);
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_INVALID_METADATA)
    );
    assert!(sent.ends_with(b"\x04\x1a\x05ERROR\x13missing Socket-Type"));
}

#[test]
fn malformed_ready_metadata() {
    let peer = after_greeting(&command_frame(
        b"\x05READY\x0bSocket-Type\x00\x00\x00\x09DEALER",
    ));
    let (e, sent) = fail(config(SocketType::Router, b""), &peer);
    assert_eq!(
        e,
        HandshakeError::Metadata(MetadataError::Truncated { offset: 0 })
    );
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_INVALID_METADATA)
    );
    assert!(
        !sent.windows(5).any(|w| w == b"ERROR"),
        "no ERROR for a broken peer"
    );
}

#[test]
fn zero_length_v1_frame() {
    let (e, _) = fail(dealer(), b"\x00\x00");
    assert_eq!(
        e,
        HandshakeError::Decode(zmtp_codec::DecodeError::ZeroLengthV1Frame)
    );
}

#[test]
fn error_then_finished() {
    let mut out = WriteBatch::new(Version::V3_1);
    let mut hs = Handshake::new(dealer(), &mut out).unwrap();
    let mut input = BytesMut::from(&after_greeting(b"\x00\x00")[..]);
    assert_eq!(
        hs.handle_input(&mut input, &mut out).unwrap_err(),
        HandshakeError::UnexpectedMessage
    );
    assert_eq!(
        hs.handle_input(&mut input, &mut out).unwrap_err(),
        HandshakeError::Finished
    );
}

// --- configuration --------------------------------------------------------------------------

#[test]
fn configuration_is_validated() {
    let mut out = WriteBatch::new(Version::V3_1);
    let mut c = HandshakeConfig::new(SocketType::Dealer);
    c.routing_id = Bytes::from(vec![1u8; 256]);
    assert_eq!(
        Handshake::new(c, &mut out).unwrap_err(),
        HandshakeError::BadRoutingId { len: 256 }
    );
    assert!(out.is_empty(), "nothing is sent for a bad configuration");

    let mut c = HandshakeConfig::new(SocketType::Dealer);
    c.routing_id = Bytes::from(vec![1u8; 255]);
    assert!(Handshake::new(c, &mut out).is_ok());

    for name in ["Socket-Type", "identity"] {
        let mut c = HandshakeConfig::new(SocketType::Dealer);
        c.metadata.insert(name, "x").unwrap();
        let e = Handshake::new(c, &mut WriteBatch::new(Version::V3_1)).unwrap_err();
        assert!(matches!(e, HandshakeError::ReservedProperty { .. }));
        assert_eq!(e.monitor_class(), FailureClass::NoDetail);
    }

    assert_eq!(
        Handshake::new(
            HandshakeConfig::new(SocketType::Stream),
            &mut WriteBatch::new(Version::V3_1)
        )
        .unwrap_err(),
        HandshakeError::UnsupportedSocketType {
            socket_type: SocketType::Stream
        }
    );
}

#[test]
fn errors_explain_themselves() {
    let e = HandshakeError::MechanismMismatch {
        ours: Mechanism::NULL,
        theirs: Mechanism::CURVE,
    };
    assert_eq!(
        e.to_string(),
        "the peer uses the CURVE security mechanism and we use NULL; configure both sides \
         with the same mechanism"
    );
    let e = HandshakeError::IncompatibleSocketType {
        ours: SocketType::Pub,
        theirs: Bytes::from_static(b"PU\x00SH"),
    };
    assert!(e.to_string().contains("\"PU\\x00SH\""));
    let e = HandshakeError::DowngradeRefused {
        version: Version::V2_0,
    };
    assert!(e.to_string().contains("ZMTP/2.0"));
    let e = HandshakeError::Decode(zmtp_codec::DecodeError::ZeroLengthV1Frame);
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn our_error_follows_our_ready() {
    // After refusing, the ERROR we pushed is a well-formed command for the peer.
    let peer = after_greeting(LIBZMQ_DEALER_READY);
    let (_, sent) = fail(config(SocketType::Push, b""), &peer);
    let mut buf = BytesMut::from(&sent[64..]);
    let mut decoder = Decoder::new(FrameFormat::V3);
    let items = decode_all(&mut decoder, &mut buf);
    assert!(matches!(&items[0], Item::Command(Command::Ready(_))));
    assert_eq!(
        items[1],
        Item::Command(Command::Error {
            reason: Bytes::from_static(b"incompatible Socket-Type")
        })
    );
}
