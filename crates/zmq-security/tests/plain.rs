//! PLAIN (RFC 24) in memory: client and server, libzmq's exact frames, ZAP verdicts, and
//! peers that break the protocol.

mod common;

use bytes::Bytes;
use common::{
    command_frame, flatten, libzmq_greeting_for, plain_client, with_mechanism, zap_allow,
    zap_always, zap_reply, Pair, Side,
};
use zmq_security::{
    protocol_error, FailureClass, Handshake, HandshakeConfig, HandshakeError, MechanismCommand,
    MechanismConfig, ZapStatus,
};
use zmtp_codec::metadata::USER_ID;
use zmtp_codec::{Mechanism, SocketType, Version, WriteBatch};

const CHUNKS: [usize; 7] = [1, 2, 3, 7, 64, 65, 4096];

fn client() -> HandshakeConfig {
    let mut c = with_mechanism(SocketType::Dealer, plain_client("admin", "secret"));
    c.routing_id = Bytes::from_static(b"client-id");
    c
}

fn server(handler: bool) -> HandshakeConfig {
    let mut c = with_mechanism(SocketType::Router, MechanismConfig::PlainServer);
    c.routing_id = Bytes::from_static(b"server-id");
    c.zap.handler = handler;
    c.zap.domain = Bytes::from_static(b"global");
    c.zap.address = Bytes::from_static(b"127.0.0.1");
    c
}

fn pair(handler: Option<common::ZapHandler>, chunk: usize) -> Pair {
    let mut server = Side::new(server(handler.is_some()));
    server.zap = handler;
    Pair::from_sides(Side::new(client()), server, chunk)
}

#[test]
fn plain_handshake_with_zap_allowing() {
    for chunk in CHUNKS {
        let mut pair = pair(Some(zap_allow("admin-user")), chunk);
        pair.drive();
        let at_server = pair.b.established();
        assert_eq!(at_server.version, Version::V3_1);
        assert_eq!(at_server.peer_socket_type, Some(SocketType::Dealer));
        assert_eq!(at_server.peer_routing_id, "client-id");
        assert_eq!(at_server.user_id.as_deref(), Some(&b"admin-user"[..]));
        let props: Vec<(&[u8], &[u8])> = at_server
            .peer_metadata
            .iter()
            .map(|(n, v)| (&n[..], &v[..]))
            .collect();
        assert_eq!(
            props,
            [
                (&b"User-Id"[..], &b"admin-user"[..]),
                (b"Socket-Type", b"DEALER"),
                (b"Identity", b"client-id"),
            ]
        );
        assert!(at_server.cipher.is_none());
        let at_client = pair.a.established();
        assert_eq!(at_client.peer_socket_type, Some(SocketType::Router));
        assert_eq!(at_client.user_id, None);
        assert_eq!(at_client.peer_metadata.get(USER_ID), None);

        // libzmq's request: "", "1.0", "1", domain, address, OUR routing id, "PLAIN", user,
        // password.
        let [request] = &pair.b.zap_requests[..] else {
            panic!("one request: {:?}", pair.b.zap_requests);
        };
        let frames = request.frames();
        assert_eq!(
            frames.iter().map(|f| &f[..]).collect::<Vec<_>>(),
            [
                &b""[..],
                b"1.0",
                b"1",
                b"global",
                b"127.0.0.1",
                b"server-id",
                b"PLAIN",
                b"admin",
                b"secret"
            ]
        );
        assert!(pair.a.zap_requests.is_empty(), "clients never ask ZAP");
    }
}

#[test]
fn libzmq_plain_frames() {
    let mut pair = pair(Some(zap_allow("u")), 4096);
    pair.drive();
    // After each 64-byte greeting (mechanism PLAIN), libzmq's exact frames.
    assert_eq!(&pair.a.wire[12..17], b"PLAIN");
    let mut hello = command_frame(b"\x05HELLO\x05admin\x06secret");
    // INITIATE: the DEALER's properties.
    let initiate = command_frame(
        b"\x08INITIATE\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x09client-id",
    );
    hello.extend_from_slice(&initiate);
    assert_eq!(&pair.a.wire[64..], &hello[..]);
    let mut welcome = command_frame(b"\x07WELCOME");
    assert_eq!(welcome, b"\x04\x08\x07WELCOME");
    welcome.extend_from_slice(&command_frame(
        b"\x05READY\x0bSocket-Type\x00\x00\x00\x06ROUTER\x08Identity\x00\x00\x00\x09server-id",
    ));
    assert_eq!(&pair.b.wire[64..], &welcome[..]);
}

#[test]
fn zap_denial_sends_the_status_as_error() {
    for (status, code) in [(&b"400"[..], 400), (b"500", 500)] {
        for chunk in [1, 4096] {
            let mut pair = pair(Some(zap_always(zap_reply(status, b""))), chunk);
            pair.drive();
            let server = pair.b.error();
            assert_eq!(
                server,
                &HandshakeError::ZapDenied {
                    status: ZapStatus(code)
                }
            );
            assert_eq!(server.monitor_class(), FailureClass::Auth);
            assert_eq!(server.zap_status(), Some(code));
            // The server sent ERROR instead of WELCOME, in libzmq 4.3's PLAIN form.
            let mut expected = b"\x04\x09\x5eRROR\x03".to_vec();
            expected.extend_from_slice(status);
            assert_eq!(&pair.b.wire[64..], &expected[..]);
            // The client sees libzmq's HANDSHAKE_FAILED_AUTH.
            let client = pair.a.error();
            assert_eq!(client.monitor_class(), FailureClass::Auth);
            assert_eq!(client.zap_status(), Some(code));
        }
    }
}

#[test]
fn zap_300_closes_silently() {
    let mut pair = pair(Some(zap_always(zap_reply(b"300", b""))), 7);
    pair.drive();
    assert_eq!(
        pair.b.error(),
        &HandshakeError::ZapDenied {
            status: ZapStatus::TEMPORARY
        }
    );
    assert_eq!(pair.b.error().zap_status(), Some(300));
    assert_eq!(pair.b.wire.len(), 64, "nothing after the greeting");
    // The client simply waits: the engine's handshake timer (or the close) ends it.
    assert!(pair.a.result.is_none());
}

#[test]
fn malformed_zap_replies_close_without_error() {
    let bad: [(Vec<&'static [u8]>, u32); 6] = [
        (
            vec![b"", b"1.0", b"1", b"200", b"OK", b""],
            protocol_error::ZAP_MALFORMED_REPLY,
        ),
        (
            vec![b"", b"1.0", b"1", b"200", b"OK", b"", b"", b""],
            protocol_error::ZAP_MALFORMED_REPLY,
        ),
        (
            vec![b"x", b"1.0", b"1", b"200", b"OK", b"", b""],
            protocol_error::ZAP_UNSPECIFIED,
        ),
        (
            vec![b"", b"1.1", b"1", b"200", b"OK", b"", b""],
            protocol_error::ZAP_BAD_VERSION,
        ),
        (
            vec![b"", b"1.0", b"7", b"200", b"OK", b"", b""],
            protocol_error::ZAP_BAD_REQUEST_ID,
        ),
        (
            vec![b"", b"1.0", b"1", b"404", b"OK", b"", b""],
            protocol_error::ZAP_INVALID_STATUS_CODE,
        ),
    ];
    for (frames, code) in bad {
        let reply: Vec<Bytes> = frames.into_iter().map(Bytes::from_static).collect();
        let mut pair = pair(Some(zap_always(reply)), 4096);
        pair.drive();
        let e = pair.b.error();
        assert!(matches!(e, HandshakeError::ZapReply(_)), "{e:?}");
        assert_eq!(e.monitor_class(), FailureClass::Protocol);
        assert_eq!(e.zmtp_error_code(), Some(code));
        assert_eq!(pair.b.wire.len(), 64, "no WELCOME and no ERROR");
    }
    let mut reply = zap_reply(b"200", b"u");
    reply[6] = Bytes::from_static(b"\x05X-Bad\x00\x00\x00\x09short");
    let mut pair = pair(Some(zap_always(reply)), 4096);
    pair.drive();
    assert_eq!(
        pair.b.error().zmtp_error_code(),
        Some(protocol_error::ZAP_INVALID_METADATA)
    );
}

#[test]
fn zap_metadata_is_merged_first() {
    let mut reply = zap_reply(b"200", b"alice");
    reply[6] =
        Bytes::from_static(b"\x06X-Role\x00\x00\x00\x05admin\x0bSocket-Type\x00\x00\x00\x03PUB");
    let mut pair = pair(Some(zap_always(reply)), 4096);
    pair.drive();
    let md = &pair.b.established().peer_metadata;
    assert_eq!(md.get("User-Id").unwrap(), "alice");
    assert_eq!(md.get("X-Role").unwrap(), "admin");
    // ZAP's properties win, as in libzmq's map; the peer's socket type was checked from
    // its own INITIATE.
    assert_eq!(md.get("Socket-Type").unwrap(), "PUB");
    assert_eq!(
        pair.b.established().peer_socket_type,
        Some(SocketType::Dealer)
    );
}

#[test]
fn without_a_zap_handler_plain_is_refused() {
    let mut pair = Pair::new(client(), server(false), 4096);
    pair.drive();
    let e = pair.b.error();
    assert_eq!(
        e,
        &HandshakeError::NoZapHandler {
            mechanism: Mechanism::PLAIN
        }
    );
    assert_eq!(e.monitor_class(), FailureClass::NoDetail);
    assert!(pair.a.result.is_none(), "the client waits for WELCOME");
}

#[test]
fn configuration_checks() {
    let mut out = WriteBatch::new(Version::V3_1);
    let long = Bytes::from(vec![b'x'; 256]);
    for (username, password, field) in [
        (long.clone(), Bytes::new(), "username"),
        (Bytes::new(), long.clone(), "password"),
    ] {
        let c = with_mechanism(
            SocketType::Req,
            MechanismConfig::PlainClient { username, password },
        );
        assert_eq!(
            Handshake::new(c, &mut out).unwrap_err(),
            HandshakeError::BadCredentials { field, len: 256 }
        );
    }
    // libzmq asserts for a PLAIN server enforcing an empty domain.
    let mut c = server(true);
    c.zap.domain = Bytes::new();
    c.zap.enforce_domain = true;
    let e = Handshake::new(c, &mut out).unwrap_err();
    assert_eq!(e, HandshakeError::ZapDomainRequired);
    assert_eq!(e.monitor_class(), FailureClass::NoDetail);
    assert!(out.is_empty());
    // 255 bytes each are fine.
    let c = with_mechanism(
        SocketType::Req,
        MechanismConfig::PlainClient {
            username: Bytes::from(vec![b'u'; 255]),
            password: Bytes::from(vec![b'p'; 255]),
        },
    );
    assert!(Handshake::new(c, &mut out).is_ok());
}

#[test]
fn debug_hides_the_password() {
    let text = format!("{:?}", client());
    assert!(text.contains("admin"));
    assert!(!text.contains("secret"), "{text}");
    let mut pair = pair(Some(zap_allow("u")), 4096);
    pair.drive();
    let request = format!("{:?}", pair.b.zap_requests[0]);
    assert!(!request.contains("secret"), "{request}");
}

// --- scripted peers ----------------------------------------------------------------------

/// Feeds a PLAIN greeting and `frames` to a fresh handshake; returns its result and output.
fn scripted(
    config: HandshakeConfig,
    frames: &[u8],
    zap: Option<Vec<Bytes>>,
) -> (Option<Result<(), HandshakeError>>, Vec<u8>) {
    let mut side = Side::new(config);
    if let Some(reply) = zap {
        side.zap = Some(zap_always(reply));
    }
    side.inbox.extend_from_slice(&libzmq_greeting_for(b"PLAIN"));
    side.inbox.extend_from_slice(frames);
    side.handle();
    let result = side.result.map(|r| r.map(|_| ()));
    (result, flatten(&side.out))
}

#[test]
fn malformed_hello() {
    for body in [
        &b"\x05HELLO"[..],
        b"\x05HELLO\x05adm",
        b"\x05HELLO\x05admin",
        b"\x05HELLO\x05admin\x06secre",
        b"\x05HELLO\x05admin\x06secret!",
    ] {
        let (result, _) = scripted(
            server(true),
            &command_frame(body),
            Some(zap_reply(b"200", b"")),
        );
        let e = result.unwrap().unwrap_err();
        assert!(
            matches!(
                e,
                HandshakeError::MalformedCommand {
                    command: MechanismCommand::Hello,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.zmtp_error_code(),
            Some(protocol_error::ZMTP_MALFORMED_COMMAND_HELLO)
        );
    }
}

#[test]
fn commands_out_of_order() {
    // A server that gets INITIATE (or anything) before HELLO.
    for frame in [
        command_frame(b"\x08INITIATE"),
        command_frame(b"\x05READY"),
        command_frame(b"\x05ERROR\x03400"),
    ] {
        let (result, _) = scripted(server(true), &frame, Some(zap_reply(b"200", b"")));
        let e = result.unwrap().unwrap_err();
        assert!(
            matches!(e, HandshakeError::UnexpectedCommand { .. }),
            "{e:?}"
        );
        assert_eq!(
            e.zmtp_error_code(),
            Some(protocol_error::ZMTP_UNEXPECTED_COMMAND)
        );
    }
    // A client that gets READY before WELCOME, or a WELCOME with a body.
    let (result, _) = scripted(client(), &command_frame(b"\x05READY"), None);
    assert!(matches!(
        result.unwrap().unwrap_err(),
        HandshakeError::UnexpectedCommand { .. }
    ));
    let (result, _) = scripted(client(), &command_frame(b"\x07WELCOMEx"), None);
    let e = result.unwrap().unwrap_err();
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_MALFORMED_COMMAND_WELCOME)
    );
    // A message frame during the handshake.
    let (result, _) = scripted(client(), b"\x00\x01x", None);
    assert_eq!(
        result.unwrap().unwrap_err(),
        HandshakeError::UnexpectedMessage
    );
}

#[test]
fn two_clients_or_two_servers() {
    // libzmq's "client set as server" case: both send HELLO, each refuses the other's.
    let mut pair = Pair::new(client(), client(), 4096);
    pair.drive();
    assert!(matches!(
        pair.a.error(),
        HandshakeError::UnexpectedCommand { .. }
    ));
    // Two servers both wait for a HELLO that never comes.
    let mut pair = Pair::new(server(true), server(true), 4096);
    pair.drive();
    assert!(pair.a.result.is_none() && pair.b.result.is_none());
}

#[test]
fn mechanism_mismatch_with_null_and_curve() {
    let mut pair = Pair::new(client(), common::config(SocketType::Router, b""), 4096);
    pair.drive();
    let e = pair.a.error();
    assert_eq!(
        e,
        &HandshakeError::MechanismMismatch {
            ours: Mechanism::PLAIN,
            theirs: Mechanism::NULL
        }
    );
    assert_eq!(
        e.zmtp_error_code(),
        Some(protocol_error::ZMTP_MECHANISM_MISMATCH)
    );
    let curve = with_mechanism(SocketType::Router, common::curve_server());
    let mut pair = Pair::new(client(), curve, 4096);
    pair.drive();
    assert!(matches!(
        pair.b.error(),
        HandshakeError::MechanismMismatch { .. }
    ));
}

#[test]
fn incompatible_socket_types() {
    let mut c = client();
    c.socket_type = SocketType::Push;
    let mut srv = Side::new(server(true));
    srv.zap = Some(zap_allow("u"));
    let mut pair = Pair::from_sides(Side::new(c), srv, 4096);
    pair.drive();
    // The server refuses the INITIATE with ERROR (the client is still in its handshake).
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
fn oversized_metadata_is_refused_at_its_header() {
    let mut c = client();
    c.metadata
        .insert("X-Big", Bytes::from(vec![b'x'; 70_000]))
        .unwrap();
    let mut srv = Side::new(server(true));
    srv.zap = Some(zap_allow("u"));
    let mut pair = Pair::from_sides(Side::new(c), srv, 4096);
    while pair.b.result.is_none() && pair.step() {}
    assert!(matches!(
        pair.b.error(),
        HandshakeError::Decode(zmtp_codec::DecodeError::FrameTooLarge { command: true, .. })
    ));
    // Metadata up to the limit passes.
    let mut c = client();
    c.metadata
        .insert("X-Big", Bytes::from(vec![b'x'; 60_000]))
        .unwrap();
    let mut srv = Side::new(server(true));
    srv.zap = Some(zap_allow("u"));
    let mut pair = Pair::from_sides(Side::new(c), srv, 4096);
    pair.drive();
    assert_eq!(
        pair.b
            .established()
            .peer_metadata
            .get("X-Big")
            .unwrap()
            .len(),
        60_000
    );
}

#[test]
fn a_peer_that_stops_mid_handshake_leaves_us_waiting() {
    // The server got HELLO and answered WELCOME; the client never sends INITIATE.
    let hello = command_frame(b"\x05HELLO\x01u\x01p");
    let (result, out) = scripted(server(true), &hello, Some(zap_reply(b"200", b"u")));
    assert!(result.is_none(), "still waiting");
    assert!(out.ends_with(b"\x04\x08\x07WELCOME"));
    // The client got WELCOME and sent INITIATE; no READY comes.
    let (result, out) = scripted(client(), b"\x04\x08\x07WELCOME", None);
    assert!(result.is_none());
    assert!(out.windows(9).any(|w| w == b"\x08INITIATE"));
}

#[test]
fn zap_reply_when_none_is_pending() {
    let mut side = Side::new(client());
    let reply = zap_reply(b"200", b"");
    assert_eq!(
        side.hs
            .handle_zap_reply(&reply, &mut side.inbox, &mut side.out)
            .unwrap_err(),
        HandshakeError::ZapNotPending
    );
    // The handshake goes on as before.
    side.inbox.extend_from_slice(&libzmq_greeting_for(b"PLAIN"));
    side.handle();
    assert!(side.result.is_none());
    assert!(flatten(&side.out).windows(6).any(|w| w == b"\x05HELLO"));
}
