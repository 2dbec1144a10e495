//! CURVE (RFC 25/26) in memory: our client and server, an independent client written here
//! from libzmq's byte layouts, tampered boxes, replayed and reordered nonces, ZAP, and the
//! traffic cipher.

mod common;

use bytes::{Bytes, BytesMut};
use common::{
    client_keys, command_frame, curve_client, curve_server, flip, libzmq_greeting_for, server_keys,
    with_mechanism, zap_allow, zap_always, zap_reply, Pair, Side,
};
use crypto_secretbox::aead::generic_array::GenericArray;
use crypto_secretbox::aead::{AeadInPlace, KeyInit};
use crypto_secretbox::{Kdf, XSalsa20Poly1305};
use zmq_security::fuzzing::TestRng;
use zmq_security::{
    protocol_error, CryptoFailure, CurveKeyPair, CurvePublicKey, FailureClass, Handshake,
    HandshakeConfig, HandshakeError, MechanismCommand, MechanismConfig, ZapStatus,
};
use zmtp_codec::frame::FrameFormat;
use zmtp_codec::{Command, Decoder, Item, Mechanism, SocketType, Version, WriteBatch};

const CHUNKS: [usize; 7] = [1, 2, 3, 7, 64, 65, 4096];

fn client() -> HandshakeConfig {
    let mut c = with_mechanism(SocketType::Dealer, curve_client(&server_keys()));
    c.routing_id = Bytes::from_static(b"client-id");
    c
}

fn server() -> HandshakeConfig {
    let mut c = with_mechanism(SocketType::Router, curve_server());
    c.routing_id = Bytes::from_static(b"server-id");
    c
}

fn drive(pair: &mut Pair) {
    while pair.step() {
        assert!(pair.steps < 100_000);
    }
}

/// Seals a few frames of every kind from one side's cipher into its output.
fn push_traffic(side: &mut Side) {
    let mut cipher = side.established_mut().cipher.take().expect("cipher");
    cipher.seal_data(true, b"", &mut side.out).unwrap();
    cipher.seal_data(false, b"hello", &mut side.out).unwrap();
    cipher.seal_data(false, &[7u8; 300], &mut side.out).unwrap();
    cipher
        .seal_subscription(true, b"topic", &mut side.out)
        .unwrap();
    cipher
        .seal_command(
            &Command::Ping {
                ttl: 10,
                context: Bytes::from_static(b"ctx"),
            },
            &mut side.out,
        )
        .unwrap();
    side.established_mut().cipher = Some(cipher);
}

fn expected_traffic() -> Vec<Item> {
    vec![
        Item::Data {
            body: Bytes::new().into(),
            more: true,
        },
        Item::Data {
            body: Bytes::from_static(b"hello").into(),
            more: false,
        },
        Item::Data {
            body: Bytes::from(vec![7u8; 300]).into(),
            more: false,
        },
        Item::Command(Command::Subscribe(Bytes::from_static(b"topic"))),
        Item::Command(Command::Ping {
            ttl: 10,
            context: Bytes::from_static(b"ctx"),
        }),
    ]
}

#[test]
fn curve_pair_in_every_chunking_with_traffic_both_ways() {
    for chunk in CHUNKS {
        let mut pair = Pair::new(client(), server(), chunk);
        drive(&mut pair);
        for (side, theirs, id) in [
            (&pair.a, SocketType::Router, &b"server-id"[..]),
            (&pair.b, SocketType::Dealer, b"client-id"),
        ] {
            let est = side.established();
            assert_eq!(est.version, Version::V3_1);
            assert_eq!(est.peer_socket_type, Some(theirs));
            assert_eq!(est.peer_routing_id, id);
            assert!(est.cipher.is_some());
            assert_eq!(est.user_id, None, "Stonehouse: no ZAP");
        }
        push_traffic(&mut pair.a);
        push_traffic(&mut pair.b);
        drive(&mut pair);
        assert_eq!(pair.a.curve_traffic().unwrap(), expected_traffic());
        assert_eq!(pair.b.curve_traffic().unwrap(), expected_traffic());
    }
}

/// The frames a side put on the wire after its greeting.
fn frames_after_greeting(wire: &[u8]) -> Vec<(u8, Bytes)> {
    let mut input = BytesMut::from(&wire[64..]);
    let mut frames = Vec::new();
    while !input.is_empty() {
        let flags = input[0];
        let mut d = Decoder::new(FrameFormat::V3);
        match d.decode(&mut input).unwrap().unwrap() {
            Item::Command(c) => {
                let mut body = Vec::new();
                c.encode(&mut body).unwrap();
                frames.push((flags, Bytes::from(body)));
            }
            Item::Data { body, .. } => frames.push((flags, body.into_bytes())),
        }
    }
    frames
}

#[test]
fn libzmq_command_sizes_and_nonces() {
    let mut pair = Pair::new(client(), server(), 4096);
    drive(&mut pair);
    push_traffic(&mut pair.a);
    push_traffic(&mut pair.b);
    drive(&mut pair);
    assert_eq!(&pair.a.wire[12..17], b"CURVE");
    let props = 1 + 11 + 4 + 6 + 1 + 8 + 4 + 9; // Socket-Type DEALER, Identity client-id
    let client = frames_after_greeting(&pair.a.wire);
    let (flags, hello) = &client[0];
    assert_eq!(*flags, 0x04);
    assert_eq!(hello.len(), 200);
    assert_eq!(&hello[..8], b"\x05HELLO\x01\x00");
    assert_eq!(&hello[8..80], &[0u8; 72][..], "72 bytes of padding");
    assert_eq!(&hello[112..120], &1u64.to_be_bytes(), "HELLO's nonce is 1");
    let (flags, initiate) = &client[1];
    assert_eq!(*flags, 0x06, "a long command frame");
    assert_eq!(initiate.len(), 257 + props);
    assert_eq!(&initiate[..9], b"\x08INITIATE");
    assert_eq!(
        &initiate[105..113],
        &2u64.to_be_bytes(),
        "INITIATE's nonce is 2"
    );
    // Traffic: one MESSAGE per frame, as data frames without flags (as libzmq), nonces
    // from 3.
    for (i, (flags, message)) in client[2..].iter().enumerate() {
        assert_eq!(flags & 0x05, 0, "no MORE, no COMMAND outside the box");
        assert_eq!(&message[..8], b"\x07MESSAGE");
        assert_eq!(&message[8..16], &(3 + i as u64).to_be_bytes());
    }
    assert_eq!(client[2].1.len(), 33, "an empty frame is 33 bytes");
    assert_eq!(client[3].1.len(), 33 + 5);

    let server = frames_after_greeting(&pair.b.wire);
    let (flags, welcome) = &server[0];
    assert_eq!(*flags, 0x04);
    assert_eq!(welcome.len(), 168);
    assert_eq!(&welcome[..8], b"\x07WELCOME");
    let (_, ready) = &server[1];
    let server_props = 1 + 11 + 4 + 6 + 1 + 8 + 4 + 9;
    assert_eq!(ready.len(), 30 + server_props);
    assert_eq!(&ready[..6], b"\x05READY");
    assert_eq!(&ready[6..14], &1u64.to_be_bytes(), "READY's nonce is 1");
    for (i, (_, message)) in server[2..].iter().enumerate() {
        assert_eq!(&message[8..16], &(2 + i as u64).to_be_bytes());
    }
}

#[test]
fn deterministic_randomness_gives_identical_wires() {
    let run = |seed_a, seed_b| {
        let mut pair = Pair::from_sides(
            Side::with_seed(client(), seed_a),
            Side::with_seed(server(), seed_b),
            64,
        );
        drive(&mut pair);
        (pair.a.wire, pair.b.wire)
    };
    assert_eq!(run(5, 6), run(5, 6));
    let (a1, b1) = run(5, 6);
    let (a2, b2) = run(7, 8);
    assert_ne!(a1[64..], a2[64..], "fresh short-term keys");
    assert_ne!(b1[64..], b2[64..], "fresh cookie key and nonces");
}

#[test]
fn without_randomness_curve_is_refused() {
    let e = Handshake::new(client(), &mut WriteBatch::new(Version::V3_1)).unwrap_err();
    assert_eq!(e, HandshakeError::RandomnessRequired);
    assert_eq!(e.monitor_class(), FailureClass::NoDetail);
}

// --- tampering in flight -----------------------------------------------------------------

/// Where things are on the wire (checked against the bytes).
const HELLO_BOX: usize = 64 + 2 + 120;
const INITIATE_AT: usize = 64 + 2 + 200;
const INITIATE_BODY: usize = INITIATE_AT + 9;
const WELCOME_BOX: usize = 64 + 2 + 24;
const READY_AT: usize = 64 + 2 + 168;

fn tampered(a_to_b: bool, at: usize) -> Pair {
    let mut pair = Pair::new(client(), server(), 4096);
    pair.tamper = Some(flip(a_to_b, at));
    drive(&mut pair);
    assert_eq!(
        pair.a.wire[INITIATE_AT - 202..INITIATE_AT - 200],
        [0x04, 0xc8]
    );
    pair
}

fn assert_crypto(e: &HandshakeError, failure: CryptoFailure) {
    assert_eq!(e, &HandshakeError::Crypto(failure));
    assert_eq!(e.monitor_class(), FailureClass::Protocol);
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_CRYPTOGRAPHIC)
    );
    assert!(!e.to_string().is_empty());
}

#[test]
fn tampered_hello_box() {
    for at in [HELLO_BOX, HELLO_BOX + 40, HELLO_BOX + 79, 64 + 2 + 80] {
        let pair = tampered(true, at);
        assert_crypto(pair.b.error(), CryptoFailure::Hello);
        assert_eq!(pair.b.wire.len(), 64, "no WELCOME");
        assert!(
            pair.a.result.is_none(),
            "the client waits; the engine's timer ends it"
        );
    }
    // The HELLO nonce is part of the box's nonce.
    let pair = tampered(true, 64 + 2 + 119);
    assert_crypto(pair.b.error(), CryptoFailure::Hello);
}

#[test]
fn tampered_hello_header() {
    // The version.
    let pair = tampered(true, 64 + 2 + 6);
    let e = pair.b.error();
    assert!(matches!(
        e,
        HandshakeError::MalformedCommand {
            command: MechanismCommand::Hello,
            ..
        }
    ));
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_MALFORMED_COMMAND_HELLO)
    );
    // The padding is not checked, as libzmq does not.
    let pair = tampered(true, 64 + 2 + 20);
    assert!(pair.b.result.as_ref().unwrap().is_ok());
}

#[test]
fn tampered_welcome() {
    for at in [WELCOME_BOX - 16, WELCOME_BOX, WELCOME_BOX + 143] {
        let pair = tampered(false, at);
        assert_crypto(pair.a.error(), CryptoFailure::Welcome);
    }
}

#[test]
fn tampered_initiate() {
    // The cookie (its nonce, its box).
    for at in [INITIATE_BODY + 9, INITIATE_BODY + 30, INITIATE_BODY + 104] {
        let pair = tampered(true, at);
        assert_crypto(pair.b.error(), CryptoFailure::Cookie);
    }
    // The box (C, vouch, metadata inside).
    for at in [
        INITIATE_BODY + 113,
        INITIATE_BODY + 200,
        INITIATE_BODY + 260,
    ] {
        let pair = tampered(true, at);
        assert_crypto(pair.b.error(), CryptoFailure::Initiate);
    }
    // The nonce's low bit: 2 becomes 3, which is still above HELLO's but breaks the box.
    let pair = tampered(true, INITIATE_BODY + 112);
    assert_crypto(pair.b.error(), CryptoFailure::Initiate);
    // The client got nothing back: it waits.
    let pair = tampered(true, INITIATE_BODY + 200);
    assert!(pair.a.result.is_none());
}

#[test]
fn initiate_nonce_must_follow_hello() {
    // 2 becomes 0: not above HELLO's 1.
    let mut pair = Pair::new(client(), server(), 4096);
    pair.tamper = Some(Box::new(|a_to_b, offset, chunk| {
        let at = INITIATE_BODY + 112;
        if a_to_b && (offset..offset + chunk.len()).contains(&at) {
            chunk[at - offset] = 0;
        }
    }));
    drive(&mut pair);
    let e = pair.b.error();
    assert_eq!(e, &HandshakeError::InvalidSequence { nonce: 0, last: 1 });
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_INVALID_SEQUENCE)
    );
}

#[test]
fn tampered_ready() {
    for at in [READY_AT + 2 + 6, READY_AT + 2 + 14, READY_AT + 2 + 40] {
        let pair = tampered(false, at);
        assert_crypto(pair.a.error(), CryptoFailure::Ready);
    }
}

#[test]
fn wrong_server_key() {
    let stranger = CurveKeyPair::generate(&mut TestRng::new(99));
    let mut c = client();
    c.mechanism = curve_client(&stranger);
    let mut pair = Pair::new(c, server(), 4096);
    drive(&mut pair);
    let e = pair.b.error();
    assert_crypto(e, CryptoFailure::Hello);
    assert!(e.to_string().contains("wrong server key"));
    // libzmq sends nothing back either: the client sees the connection close.
    assert_eq!(pair.b.wire.len(), 64);
    assert!(pair.a.result.is_none());
}

#[test]
fn a_low_order_server_key_is_refused_before_hello() {
    let mut c = client();
    c.mechanism = MechanismConfig::CurveClient {
        keypair: client_keys(),
        server_key: CurvePublicKey::from_bytes([0; 32]),
    };
    let mut pair = Pair::new(c, server(), 4096);
    drive(&mut pair);
    assert_crypto(pair.a.error(), CryptoFailure::ServerKey);
}

// --- the traffic cipher --------------------------------------------------------------------

/// An established pair and the client's sealed frames as wire items for the server.
fn established() -> Pair {
    let mut pair = Pair::new(client(), server(), 4096);
    drive(&mut pair);
    pair
}

fn sealed_by_client(pair: &mut Pair, payloads: &[&[u8]]) -> Vec<Item> {
    let mut cipher = pair.a.established_mut().cipher.take().unwrap();
    let mut out = WriteBatch::new(Version::V3_1);
    for p in payloads {
        cipher.seal_data(false, p, &mut out).unwrap();
    }
    pair.a.established_mut().cipher = Some(cipher);
    let mut input = BytesMut::from(&common::flatten(&out)[..]);
    common::decode_all(&mut Decoder::new(FrameFormat::V3), &mut input)
}

fn open_at_server(pair: &mut Pair, item: Item) -> Result<Item, HandshakeError> {
    pair.b.established_mut().cipher.as_mut().unwrap().open(item)
}

fn data(body: &'static [u8]) -> Item {
    Item::Data {
        body: Bytes::from_static(body).into(),
        more: false,
    }
}

#[test]
fn replayed_and_reordered_messages() {
    let mut pair = established();
    let items = sealed_by_client(&mut pair, &[b"one", b"two", b"three"]);
    assert_eq!(
        open_at_server(&mut pair, items[0].clone()).unwrap(),
        data(b"one")
    );
    // Replayed.
    let e = open_at_server(&mut pair, items[0].clone()).unwrap_err();
    assert_eq!(e, HandshakeError::InvalidSequence { nonce: 3, last: 3 });
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_INVALID_SEQUENCE)
    );
    // Out of order: the third first, then the second is too old.
    assert_eq!(
        open_at_server(&mut pair, items[2].clone()).unwrap(),
        data(b"three")
    );
    assert_eq!(
        open_at_server(&mut pair, items[1].clone()).unwrap_err(),
        HandshakeError::InvalidSequence { nonce: 4, last: 5 }
    );
}

#[test]
fn tampered_messages() {
    let mut pair = established();
    let items = sealed_by_client(&mut pair, &[b"payload"]);
    let Item::Data { body, .. } = &items[0] else {
        panic!("MESSAGE travels as a data frame");
    };
    for at in 16..body.len() {
        let mut altered = body.to_vec();
        altered[at] ^= 0x80;
        let item = Item::Data {
            body: Bytes::from(altered).into(),
            more: false,
        };
        let e = open_at_server(&mut pair, item).unwrap_err();
        assert_eq!(
            e,
            HandshakeError::Crypto(CryptoFailure::Message),
            "byte {at}"
        );
    }
    // Nothing was accepted, so the original still opens.
    assert_eq!(
        open_at_server(&mut pair, items[0].clone()).unwrap(),
        data(b"payload")
    );
    // The client's own cipher does not open what it sealed (other nonce prefix, and its
    // opener expects the server's).
    let e = pair
        .a
        .established_mut()
        .cipher
        .as_mut()
        .unwrap()
        .open(items[0].clone())
        .unwrap_err();
    assert_eq!(e, HandshakeError::Crypto(CryptoFailure::Message));
}

#[test]
fn malformed_and_foreign_frames() {
    let mut pair = established();
    // Too short for a MESSAGE.
    let short = Item::Data {
        body: Bytes::from_static(b"\x07MESSAGE\0\0\0\0\0\0\0\x09too short").into(),
        more: false,
    };
    let e = open_at_server(&mut pair, short).unwrap_err();
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_MALFORMED_COMMAND_MESSAGE)
    );
    // A plain data frame, or a plain command, after a CURVE handshake.
    assert_eq!(
        open_at_server(&mut pair, data(b"hello")).unwrap_err(),
        HandshakeError::UnexpectedMessage
    );
    let ping = Item::Command(Command::Ping {
        ttl: 0,
        context: Bytes::new(),
    });
    let e = open_at_server(&mut pair, ping).unwrap_err();
    assert!(matches!(e, HandshakeError::UnexpectedCommand { .. }));
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_UNEXPECTED_COMMAND)
    );
    // A MESSAGE sent as a command frame (RFC 25's wording) is accepted too.
    let items = sealed_by_client(&mut pair, &[b"as a command"]);
    let Item::Data { body, .. } = &items[0] else {
        panic!()
    };
    let as_command = Item::Command(Command::parse(&body.clone().into_bytes()).unwrap());
    assert_eq!(
        open_at_server(&mut pair, as_command).unwrap(),
        data(b"as a command")
    );
}

#[test]
fn zmtp_3_0_subscriptions_are_data_frames_in_the_box() {
    let mut pair = established();
    let mut cipher = pair.a.established_mut().cipher.take().unwrap();
    let mut out = WriteBatch::new(Version::V3_0);
    cipher.seal_subscription(true, b"A", &mut out).unwrap();
    cipher.seal_subscription(false, b"B", &mut out).unwrap();
    let mut input = BytesMut::from(&common::flatten(&out)[..]);
    let items = common::decode_all(&mut Decoder::new(FrameFormat::V3), &mut input);
    let opened: Vec<Item> = items
        .into_iter()
        .map(|i| open_at_server(&mut pair, i).unwrap())
        .collect();
    assert_eq!(opened, [data(b"\x01A"), data(b"\x00B")]);
}

#[test]
fn split_halves_work_independently() {
    let mut pair = established();
    let client = pair.a.established_mut().cipher.take().unwrap();
    let server = pair.b.established_mut().cipher.take().unwrap();
    let (mut client_tx, mut client_rx) = client.split();
    let (mut server_tx, mut server_rx) = server.split();
    assert_eq!(client_tx.next_nonce(), Some(3));
    assert_eq!(server_tx.next_nonce(), Some(2));
    assert_eq!(server_rx.last_nonce(), 2, "the client's INITIATE nonce");
    assert_eq!(client_rx.last_nonce(), 1, "the server's READY nonce");

    let mut wire = BytesMut::new();
    client_tx
        .seal_frame(zmtp_codec::FrameFlags::MORE, b"up", &mut wire)
        .unwrap();
    assert_eq!(wire.len(), zmq_security::CurveSealer::sealed_frame_len(2));
    let item = Decoder::new(FrameFormat::V3)
        .decode(&mut wire)
        .unwrap()
        .unwrap();
    assert_eq!(
        server_rx.open(item).unwrap(),
        Item::Data {
            body: Bytes::from_static(b"up").into(),
            more: true
        }
    );
    let big = vec![9u8; 100_000];
    server_tx
        .seal_frame(zmtp_codec::FrameFlags::NONE, &big, &mut wire)
        .unwrap();
    let item = Decoder::new(FrameFormat::V3)
        .decode(&mut wire)
        .unwrap()
        .unwrap();
    assert_eq!(
        client_rx.open(item).unwrap(),
        Item::Data {
            body: Bytes::from(big).into(),
            more: false
        }
    );
}

#[test]
fn opening_decrypts_in_place_when_the_buffer_is_not_shared() {
    let mut pair = established();
    // Longer than a payload held inline, which is copied out whatever its buffer.
    let content = b"decrypted in place, where the frame lies";
    let items = sealed_by_client(&mut pair, &[content]);
    let Item::Data { body, .. } = &items[0] else {
        panic!()
    };
    // A uniquely owned frame body is decrypted where it lies.
    let unique = Bytes::from(body.to_vec());
    let at = unique.as_ptr() as usize;
    let opened = open_at_server(
        &mut pair,
        Item::Data {
            body: unique.into(),
            more: false,
        },
    )
    .unwrap();
    let Item::Data { body, .. } = opened else {
        panic!()
    };
    assert_eq!(body, &content[..]);
    let offset = body.as_ptr() as usize - at;
    assert_eq!(offset, 8 + 8 + 16 + 1, "the payload was not copied");
}

// --- ZAP with CURVE ------------------------------------------------------------------------

fn zap_server(handler: Option<common::ZapHandler>, domain: &'static [u8]) -> Side {
    let mut c = server();
    c.zap.handler = handler.is_some();
    c.zap.domain = Bytes::from_static(domain);
    c.zap.address = Bytes::from_static(b"10.0.0.1");
    let mut side = Side::new(c);
    side.zap = handler;
    side
}

#[test]
fn zap_allows_with_the_client_key_as_credential() {
    for chunk in [1, 4096] {
        let mut pair = Pair::from_sides(
            Side::new(client()),
            zap_server(Some(zap_allow("alice")), b"dom"),
            chunk,
        );
        drive(&mut pair);
        let frames = pair.b.zap_requests[0].frames();
        assert_eq!(frames.len(), 8);
        assert_eq!(
            &frames[..7],
            &[
                Bytes::new(),
                Bytes::from_static(b"1.0"),
                Bytes::from_static(b"1"),
                Bytes::from_static(b"dom"),
                Bytes::from_static(b"10.0.0.1"),
                Bytes::from_static(b"server-id"),
                Bytes::from_static(b"CURVE"),
            ]
        );
        assert_eq!(&frames[7][..], client_keys().public.as_bytes());
        let est = pair.b.established();
        assert_eq!(est.user_id.as_deref(), Some(&b"alice"[..]));
        assert_eq!(est.peer_metadata.get("User-Id").unwrap(), "alice");
        push_traffic(&mut pair.a);
        drive(&mut pair);
        assert_eq!(pair.b.curve_traffic().unwrap(), expected_traffic());
    }
}

#[test]
fn zap_denies() {
    for (status, code) in [(&b"400"[..], 400u16), (b"500", 500)] {
        let mut pair = Pair::from_sides(
            Side::new(client()),
            zap_server(Some(zap_always(zap_reply(status, b""))), b""),
            4096,
        );
        drive(&mut pair);
        assert_eq!(
            pair.b.error(),
            &HandshakeError::ZapDenied {
                status: ZapStatus(code)
            }
        );
        let e = pair.a.error();
        assert_eq!(
            e,
            &HandshakeError::PeerError {
                reason: Bytes::copy_from_slice(status)
            }
        );
        assert_eq!(e.monitor_class(), FailureClass::Auth);
        assert_eq!(e.zap_status(), Some(code));
    }
    let mut pair = Pair::from_sides(
        Side::new(client()),
        zap_server(Some(zap_always(zap_reply(b"300", b""))), b""),
        4096,
    );
    drive(&mut pair);
    assert_eq!(pair.b.error().zap_status(), Some(300));
    assert!(pair.a.result.is_none(), "300 closes silently");
}

#[test]
fn zap_enforce_domain_table_for_curve() {
    // (domain, enforce, handler) -> asked, outcome
    for (domain, enforce, handler, asks, ok) in [
        (&b""[..], false, false, false, true),
        (b"", false, true, true, true),
        (b"", true, true, false, true),
        (b"", true, false, false, true),
        (b"d", true, false, false, false),
        (b"d", true, true, true, true),
        (b"d", false, false, false, true),
    ] {
        let mut c = server();
        c.zap.domain = Bytes::from_static(domain);
        c.zap.enforce_domain = enforce;
        c.zap.handler = handler;
        let mut side = Side::new(c);
        if handler {
            side.zap = Some(zap_allow("u"));
        }
        let mut pair = Pair::from_sides(Side::new(client()), side, 4096);
        drive(&mut pair);
        assert_eq!(
            !pair.b.zap_requests.is_empty(),
            asks,
            "{domain:?} {enforce} {handler}"
        );
        if ok {
            assert!(pair.b.result.as_ref().unwrap().is_ok());
        } else {
            assert_eq!(
                pair.b.error(),
                &HandshakeError::NoZapHandler {
                    mechanism: Mechanism::CURVE
                }
            );
        }
    }
}

#[test]
fn incompatible_socket_type_is_refused_at_initiate() {
    let mut c = client();
    c.socket_type = SocketType::Sub;
    let mut pair = Pair::new(c, server(), 4096);
    drive(&mut pair);
    assert!(matches!(
        pair.b.error(),
        HandshakeError::IncompatibleSocketType { .. }
    ));
    assert_eq!(
        pair.a.error(),
        &HandshakeError::PeerError {
            reason: Bytes::from_static(b"incompatible Socket-Type")
        }
    );
}

#[test]
fn oversized_metadata() {
    let mut c = client();
    c.metadata
        .insert("X-Big", Bytes::from(vec![1u8; 70_000]))
        .unwrap();
    let mut pair = Pair::new(c, server(), 4096);
    drive(&mut pair);
    assert!(matches!(
        pair.b.error(),
        HandshakeError::Decode(zmtp_codec::DecodeError::FrameTooLarge { command: true, .. })
    ));
    let mut c = client();
    c.metadata
        .insert("X-Big", Bytes::from(vec![1u8; 50_000]))
        .unwrap();
    let mut pair = Pair::new(c, server(), 4096);
    drive(&mut pair);
    assert_eq!(
        pair.b
            .established()
            .peer_metadata
            .get("X-Big")
            .unwrap()
            .len(),
        50_000
    );
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let side = Side::new(server());
    let text = format!("{:?}", side.hs);
    let secret = server_keys().secret.to_z85();
    assert!(!text.contains(&secret));
    let mut pair = established();
    let cipher = pair.a.established_mut().cipher.take().unwrap();
    let text = format!("{cipher:?}");
    assert!(text.contains("CurveZMQMESSAGEC"), "{text}");
}

// --- an independent client, written from libzmq's layouts -----------------------------------

/// NaCl's `crypto_box_beforenm`.
fn beforenm(public: &[u8; 32], secret: &[u8; 32]) -> XSalsa20Poly1305 {
    let shared = x25519_dalek::StaticSecret::from(*secret)
        .diffie_hellman(&x25519_dalek::PublicKey::from(*public));
    let key = XSalsa20Poly1305::kdf(
        GenericArray::from_slice(shared.as_bytes()),
        &GenericArray::default(),
    );
    XSalsa20Poly1305::new(&key)
}

fn seal(key: &XSalsa20Poly1305, nonce: &[u8], plain: &[u8]) -> Vec<u8> {
    let mut buf = plain.to_vec();
    let tag = key
        .encrypt_in_place_detached(GenericArray::from_slice(nonce), b"", &mut buf)
        .unwrap();
    [tag.as_slice(), &buf].concat()
}

fn open(key: &XSalsa20Poly1305, nonce: &[u8], sealed: &[u8]) -> Vec<u8> {
    let mut buf = sealed[16..].to_vec();
    key.decrypt_in_place_detached(
        GenericArray::from_slice(nonce),
        b"",
        &mut buf,
        GenericArray::from_slice(&sealed[..16]),
    )
    .expect("opens");
    buf
}

fn nonce(prefix: &[u8], tail: &[u8]) -> Vec<u8> {
    [prefix, tail].concat()
}

struct RawClient {
    long: CurveKeyPair,
    short_secret: [u8; 32],
    short_public: [u8; 32],
    server: [u8; 32],
}

impl RawClient {
    fn new() -> Self {
        let short = CurveKeyPair::generate(&mut TestRng::new(42));
        Self {
            long: client_keys(),
            short_secret: *short.secret.expose_secret(),
            short_public: *short.public.as_bytes(),
            server: *server_keys().public.as_bytes(),
        }
    }

    fn hello(&self, version: [u8; 2], nonce_n: u64) -> Vec<u8> {
        let key = beforenm(&self.server, &self.short_secret);
        let mut h = b"\x05HELLO".to_vec();
        h.extend_from_slice(&version);
        h.extend_from_slice(&[0; 72]);
        h.extend_from_slice(&self.short_public);
        h.extend_from_slice(&nonce_n.to_be_bytes());
        h.extend_from_slice(&seal(
            &key,
            &nonce(b"CurveZMQHELLO---", &nonce_n.to_be_bytes()),
            &[0; 64],
        ));
        assert_eq!(h.len(), 200);
        h
    }

    /// S′ and the cookie from the server's WELCOME command (name included).
    fn welcome(&self, welcome: &[u8]) -> ([u8; 32], Vec<u8>) {
        assert_eq!(welcome.len(), 168);
        let key = beforenm(&self.server, &self.short_secret);
        let plain = open(&key, &nonce(b"WELCOME-", &welcome[8..24]), &welcome[24..]);
        (plain[..32].try_into().unwrap(), plain[32..].to_vec())
    }

    fn initiate(
        &self,
        server_short: &[u8; 32],
        cookie: &[u8],
        nonce_n: u64,
        vouch_plain: &[u8],
        vouch_secret: &[u8; 32],
        metadata: &[u8],
    ) -> Vec<u8> {
        let vouch_nonce = [3u8; 16];
        let vouch = seal(
            &beforenm(server_short, vouch_secret),
            &nonce(b"VOUCH---", &vouch_nonce),
            vouch_plain,
        );
        let mut plain = self.long.public.as_bytes().to_vec();
        plain.extend_from_slice(&vouch_nonce);
        plain.extend_from_slice(&vouch);
        plain.extend_from_slice(metadata);
        let key = beforenm(server_short, &self.short_secret);
        let mut i = b"\x08INITIATE".to_vec();
        i.extend_from_slice(cookie);
        i.extend_from_slice(&nonce_n.to_be_bytes());
        i.extend_from_slice(&seal(
            &key,
            &nonce(b"CurveZMQINITIATE", &nonce_n.to_be_bytes()),
            &plain,
        ));
        i
    }

    fn good_vouch(&self) -> Vec<u8> {
        [&self.short_public[..], &self.server[..]].concat()
    }
}

const DEALER_PROPS: &[u8] = b"\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x00";

/// Runs our server against the raw client: HELLO, then INITIATE built by `initiate` from
/// the WELCOME. Returns the server's result and everything it sent after its greeting.
fn raw_exchange(
    hello: Vec<u8>,
    initiate: impl FnOnce(&RawClient, [u8; 32], Vec<u8>) -> Vec<u8>,
) -> (Option<Result<(), HandshakeError>>, Vec<Item>) {
    let raw = RawClient::new();
    let mut side = Side::new(server());
    side.inbox.extend_from_slice(&libzmq_greeting_for(b"CURVE"));
    side.inbox.extend_from_slice(&command_frame(&hello));
    side.handle();
    let sent = common::flatten(&side.out);
    let mut input = BytesMut::from(&sent[64..]);
    let mut items = common::decode_all(&mut Decoder::new(FrameFormat::V3), &mut input);
    if let Some(Item::Command(Command::Welcome(body))) = items.first() {
        let welcome = [&b"\x07WELCOME"[..], body].concat();
        let (server_short, cookie) = raw.welcome(&welcome);
        let before = common::flatten(&side.out).len();
        side.inbox
            .extend_from_slice(&command_frame(&initiate(&raw, server_short, cookie)));
        side.handle();
        let sent = common::flatten(&side.out);
        let mut input = BytesMut::from(&sent[before..]);
        items.extend(common::decode_all(
            &mut Decoder::new(FrameFormat::V3),
            &mut input,
        ));
    }
    (side.result.map(|r| r.map(|_| ())), items)
}

#[test]
fn our_server_accepts_an_independent_client() {
    let raw = RawClient::new();
    let (result, items) = raw_exchange(raw.hello([1, 0], 1), |raw, s, cookie| {
        raw.initiate(
            &s,
            &cookie,
            2,
            &raw.good_vouch(),
            raw.long.secret.expose_secret(),
            DEALER_PROPS,
        )
    });
    assert_eq!(result, Some(Ok(())));
    assert!(matches!(items[1], Item::Command(Command::Ready(_))));
}

#[test]
fn a_vouch_for_other_keys_is_a_key_exchange_failure() {
    let raw = RawClient::new();
    let stranger = [9u8; 32];
    for vouch in [
        [&stranger[..], &raw.server[..]].concat(),
        [&raw.short_public[..], &stranger[..]].concat(),
    ] {
        let (result, items) = raw_exchange(raw.hello([1, 0], 1), |raw, s, cookie| {
            raw.initiate(
                &s,
                &cookie,
                2,
                &vouch,
                raw.long.secret.expose_secret(),
                DEALER_PROPS,
            )
        });
        let e = result.unwrap().unwrap_err();
        assert_eq!(e, HandshakeError::KeyExchange);
        assert_eq!(e.zmtp_error_code(), Some(protocol_error::ZMTP_KEY_EXCHANGE));
        assert_eq!(items.len(), 1, "no READY");
    }
}

#[test]
fn a_vouch_not_from_the_claimed_key_does_not_open() {
    let raw = RawClient::new();
    let impostor = CurveKeyPair::generate(&mut TestRng::new(7));
    let (result, _) = raw_exchange(raw.hello([1, 0], 1), |raw, s, cookie| {
        raw.initiate(
            &s,
            &cookie,
            2,
            &raw.good_vouch(),
            impostor.secret.expose_secret(),
            DEALER_PROPS,
        )
    });
    assert_eq!(
        result.unwrap().unwrap_err(),
        HandshakeError::Crypto(CryptoFailure::Vouch)
    );
}

#[test]
fn raw_protocol_violations() {
    let raw = RawClient::new();
    // HELLO of another version or size.
    let (result, _) = raw_exchange(raw.hello([2, 0], 1), |_, _, _| unreachable!());
    assert_eq!(
        result.unwrap().unwrap_err().zmtp_error_code(),
        Some(protocol_error::ZMTP_MALFORMED_COMMAND_HELLO)
    );
    let mut short = raw.hello([1, 0], 1);
    short.pop();
    let (result, _) = raw_exchange(short, |_, _, _| unreachable!());
    assert_eq!(
        result.unwrap().unwrap_err().zmtp_error_code(),
        Some(protocol_error::ZMTP_MALFORMED_COMMAND_HELLO)
    );
    // INITIATE under 257 bytes.
    let (result, _) = raw_exchange(raw.hello([1, 0], 1), |raw, s, cookie| {
        let mut i = raw.initiate(
            &s,
            &cookie,
            2,
            &raw.good_vouch(),
            raw.long.secret.expose_secret(),
            b"",
        );
        i.truncate(256);
        i
    });
    assert_eq!(
        result.unwrap().unwrap_err().zmtp_error_code(),
        Some(protocol_error::ZMTP_MALFORMED_COMMAND_INITIATE)
    );
    // An INITIATE nonce equal to HELLO's (a replay of the same short nonce).
    let (result, _) = raw_exchange(raw.hello([1, 0], 5), |raw, s, cookie| {
        raw.initiate(
            &s,
            &cookie,
            5,
            &raw.good_vouch(),
            raw.long.secret.expose_secret(),
            DEALER_PROPS,
        )
    });
    assert_eq!(
        result.unwrap().unwrap_err(),
        HandshakeError::InvalidSequence { nonce: 5, last: 5 }
    );
    // Malformed metadata inside a valid box.
    let (result, _) = raw_exchange(raw.hello([1, 0], 1), |raw, s, cookie| {
        raw.initiate(
            &s,
            &cookie,
            2,
            &raw.good_vouch(),
            raw.long.secret.expose_secret(),
            b"\x05X-Bad",
        )
    });
    assert_eq!(
        result.unwrap().unwrap_err().zmtp_error_code(),
        Some(protocol_error::ZMTP_INVALID_METADATA)
    );
    // INITIATE before HELLO, or HELLO twice.
    let mut side = Side::new(server());
    side.inbox.extend_from_slice(&libzmq_greeting_for(b"CURVE"));
    side.inbox
        .extend_from_slice(&command_frame(&raw.hello([1, 0], 1)));
    side.inbox
        .extend_from_slice(&command_frame(&raw.hello([1, 0], 2)));
    side.handle();
    assert!(matches!(
        side.error(),
        HandshakeError::UnexpectedCommand { .. }
    ));
}

#[test]
fn a_cookie_from_another_connection_is_refused() {
    // Record a whole client's handshake against one server, then replay the client's bytes
    // to a server with another cookie key: its INITIATE carries the old cookie.
    let mut first = Pair::from_sides(
        Side::with_seed(client(), 1),
        Side::with_seed(server(), 2),
        4096,
    );
    drive(&mut first);
    assert!(first.b.result.as_ref().unwrap().is_ok());
    let mut replay = Side::with_seed(server(), 3);
    replay.inbox.extend_from_slice(&first.a.wire);
    replay.handle();
    assert_crypto(replay.error(), CryptoFailure::Cookie);
}
