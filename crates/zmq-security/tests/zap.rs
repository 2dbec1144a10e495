//! ZAP (RFC 27) around the NULL mechanism, and the pause/resume contract of the handshake:
//! while a ZAP request is outstanding no input is read, and the reply resumes with the input
//! buffered meanwhile.

mod common;

use bytes::Bytes;
use common::{config, flatten, zap_allow, zap_always, zap_reply, Pair, Side};
use zmq_security::{FailureClass, HandshakeConfig, HandshakeError, ZapStatus};
use zmtp_codec::{Mechanism, SocketType};

fn null_with_domain(domain: &'static [u8], handler: bool, enforce: bool) -> HandshakeConfig {
    let mut c = config(SocketType::Router, b"me");
    c.zap.domain = Bytes::from_static(domain);
    c.zap.handler = handler;
    c.zap.enforce_domain = enforce;
    c.zap.address = Bytes::from_static(b"192.168.1.2");
    c
}

#[test]
fn null_asks_zap_only_with_a_domain() {
    for (domain, handler, enforce, asks, outcome) in [
        (&b""[..], true, false, false, Ok(())),
        (b"", true, true, false, Ok(())),
        (b"global", true, false, true, Ok(())),
        (b"global", false, false, false, Ok(())),
        (
            b"global",
            false,
            true,
            false,
            Err(HandshakeError::NoZapHandler {
                mechanism: Mechanism::NULL,
            }),
        ),
    ] {
        let mut server = Side::new(null_with_domain(domain, handler, enforce));
        if handler {
            server.zap = Some(zap_allow("anonymous"));
        }
        let mut pair = Pair::from_sides(Side::new(config(SocketType::Dealer, b"")), server, 4096);
        pair.drive();
        assert_eq!(!pair.b.zap_requests.is_empty(), asks);
        match outcome {
            Ok(()) => {
                let est = pair.b.established();
                assert_eq!(est.user_id.is_some(), asks);
            }
            Err(e) => {
                assert_eq!(pair.b.error(), &e);
                assert_eq!(e.monitor_class(), FailureClass::NoDetail);
            }
        }
    }
}

#[test]
fn null_request_frames() {
    let mut server = Side::new(null_with_domain(b"global", true, false));
    server.zap = Some(zap_allow("anonymous"));
    let mut pair = Pair::from_sides(Side::new(config(SocketType::Dealer, b"")), server, 4096);
    pair.drive();
    let frames = pair.b.zap_requests[0].frames();
    assert_eq!(
        frames,
        [
            Bytes::new(),
            Bytes::from_static(b"1.0"),
            Bytes::from_static(b"1"),
            Bytes::from_static(b"global"),
            Bytes::from_static(b"192.168.1.2"),
            Bytes::from_static(b"me"),
            Bytes::from_static(b"NULL"),
        ],
        "seven frames, no credentials"
    );
    let est = pair.b.established();
    assert_eq!(est.peer_metadata.get("User-Id").unwrap(), "anonymous");
}

#[test]
fn ready_waits_for_the_verdict_and_buffered_input_is_kept() {
    // No handler on the side: the request stays outstanding while the client's READY
    // arrives.
    let server = Side::new(null_with_domain(b"global", true, false));
    let mut pair = Pair::from_sides(Side::new(config(SocketType::Dealer, b"")), server, 3);
    pair.drive();
    assert!(pair.b.hs.is_awaiting_zap());
    assert_eq!(pair.b.wire.len(), 64, "no READY before the verdict");
    assert!(
        !pair.b.inbox.is_empty(),
        "the client's READY waits in the input"
    );
    assert!(pair.b.result.is_none() && pair.a.result.is_none());
    // A second poll yields nothing: the request is handed out once.
    assert!(pair.b.hs.poll_zap_request().is_none());

    pair.b.reply_zap(&zap_reply(b"200", b"bob"));
    assert!(pair.b.inbox.is_empty());
    assert_eq!(pair.b.established().user_id.as_deref(), Some(&b"bob"[..]));
    pair.drive();
    assert_eq!(
        pair.a.established().peer_socket_type,
        Some(SocketType::Router)
    );
}

#[test]
fn null_denials() {
    for (status, error_sent) in [(&b"300"[..], false), (b"400", true), (b"500", true)] {
        let mut server = Side::new(null_with_domain(b"global", true, false));
        server.zap = Some(zap_always(zap_reply(status, b"")));
        let mut pair = Pair::from_sides(Side::new(config(SocketType::Dealer, b"")), server, 4096);
        pair.drive();
        let e = pair.b.error();
        assert!(matches!(e, HandshakeError::ZapDenied { .. }));
        assert_eq!(e.monitor_class(), FailureClass::Auth);
        let sent = &pair.b.wire[64..];
        if error_sent {
            let mut expected = b"\x04\x0a\x05ERROR\x03".to_vec();
            expected.extend_from_slice(status);
            assert_eq!(sent, &expected[..]);
            assert_eq!(
                pair.a.error().zap_status(),
                Some(ZapStatus(u16::from(status[0] - b'0') * 100).0)
            );
        } else {
            assert!(sent.is_empty(), "300 closes without ERROR");
            assert!(pair.a.result.is_none());
        }
    }
}

#[test]
fn a_peer_cannot_claim_a_user_id() {
    let mut client = config(SocketType::Dealer, b"");
    client.metadata.insert("User-Id", "root").unwrap();
    client.metadata.insert("X-Other", "kept").unwrap();
    // Without ZAP, the claim is dropped.
    let mut pair = Pair::new(client.clone(), config(SocketType::Router, b""), 4096);
    pair.drive();
    let md = &pair.b.established().peer_metadata;
    assert_eq!(md.get("User-Id"), None);
    assert_eq!(md.get("X-Other").unwrap(), "kept");
    // With ZAP, the handler's user id is the only one.
    let mut server = Side::new(null_with_domain(b"d", true, false));
    server.zap = Some(zap_allow("alice"));
    let mut pair = Pair::from_sides(Side::new(client), server, 4096);
    pair.drive();
    let md = &pair.b.established().peer_metadata;
    let user_ids: Vec<_> = md
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"User-Id"))
        .collect();
    assert_eq!(user_ids.len(), 1);
    assert_eq!(md.get("User-Id").unwrap(), "alice");
}

#[test]
fn a_malformed_reply_fails_without_error() {
    let mut server = Side::new(null_with_domain(b"d", true, false));
    server.zap = Some(zap_always(vec![Bytes::new(); 3]));
    let mut pair = Pair::from_sides(Side::new(config(SocketType::Dealer, b"")), server, 4096);
    pair.drive();
    assert!(matches!(pair.b.error(), HandshakeError::ZapReply(_)));
    assert_eq!(flatten(&pair.b.out).len(), 0);
    assert_eq!(pair.b.wire.len(), 64);
}

#[test]
fn a_reply_after_the_end_is_not_pending() {
    let mut pair = Pair::new(
        config(SocketType::Dealer, b""),
        config(SocketType::Router, b""),
        4096,
    );
    pair.drive();
    let reply = zap_reply(b"200", b"");
    assert_eq!(
        pair.b
            .hs
            .handle_zap_reply(&reply, &mut pair.b.inbox, &mut pair.b.out)
            .unwrap_err(),
        HandshakeError::ZapNotPending
    );
}
