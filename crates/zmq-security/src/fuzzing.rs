//! Entry points for the fuzz targets in `fuzz/`, and for replaying their seeds in tests.

use bytes::{Bytes, BytesMut};
use zmtp_codec::{Item, SocketType, Version, WriteBatch};

use crate::{FailureClass, Handshake, HandshakeConfig, HandshakeError};

/// The message size limit the traffic decoder runs with after a handshake.
pub const MAX_MESSAGE: u64 = 64 * 1024;

/// Drives a NULL [`Handshake`] with arbitrary peer bytes in arbitrary chunks.
///
/// The first byte picks the chunk size, the second our socket type, the third the length of
/// our routing id; the rest is what the peer sends. Checks that nothing panics, that input
/// is only consumed, that an established peer is one we accept, that a failure classifies,
/// and that the traffic after the handshake decodes without panicking.
///
/// Returns how the handshake ended: the version of an established peer, an error, or
/// `None` if the input ran out first.
pub fn handshake_null(data: &[u8]) -> Option<Result<Version, HandshakeError>> {
    let (config, chunk, data) = setup(data);
    let ours = config.socket_type;
    let mut out = WriteBatch::new(Version::V3_1);
    let Ok(mut hs) = Handshake::new(config, &mut out) else {
        panic!("the fuzzing configuration is valid");
    };
    let mut input = BytesMut::new();
    let mut pieces = data.chunks(chunk);
    let established = loop {
        let piece = pieces.next()?;
        input.extend_from_slice(piece);
        let before = input.len();
        let result = hs.handle_input(&mut input, &mut out);
        assert!(input.len() <= before, "the handshake only consumes input");
        // Our output is bounded: greeting, READY (small here), an identity or ERROR.
        assert!(out.len() <= 64 + 2 * 300, "unbounded output: {}", out.len());
        match result {
            Ok(None) => {}
            Ok(Some(established)) => break established,
            Err(e) => {
                check_error(&e);
                assert!(matches!(
                    hs.handle_input(&mut input, &mut out),
                    Err(HandshakeError::Finished)
                ));
                return Some(Err(e));
            }
        }
    };
    if established.version.has_commands() {
        let peer = established.peer_socket_type;
        assert!(
            peer.is_some_and(|p| ours.accepts(p)),
            "{ours} accepted {peer:?}"
        );
    } else {
        assert!(established.peer_metadata.is_empty());
        assert!(established.peer_routing_id.len() <= crate::MAX_ROUTING_ID);
    }
    assert!(matches!(
        hs.handle_input(&mut input, &mut out),
        Err(HandshakeError::Finished)
    ));
    let mut decoder = established.decoder;
    decoder.set_max_message_size(Some(MAX_MESSAGE));
    for piece in pieces {
        input.extend_from_slice(piece);
    }
    loop {
        match decoder.decode(&mut input) {
            Ok(Some(Item::Data { body, .. })) => assert!(body.len() as u64 <= MAX_MESSAGE),
            Ok(Some(Item::Command(_))) => {}
            Ok(None) | Err(_) => break,
        }
    }
    Some(Ok(established.version))
}

/// Splits the fuzz input into our configuration, a chunk size and the peer's bytes.
fn setup(data: &[u8]) -> (HandshakeConfig, usize, &[u8]) {
    let (head, rest) = data.split_at(data.len().min(3));
    let byte = |i: usize| head.get(i).copied().unwrap_or(0);
    let chunk = usize::from(byte(0)).max(1);
    let socket_type = match SocketType::from_u8(byte(1) % 21) {
        Some(SocketType::Stream) | None => SocketType::Pair,
        Some(t) => t,
    };
    let id_len = [0, 1, 254, 255][usize::from(byte(2) % 4)];
    let mut config = HandshakeConfig::new(socket_type);
    config.routing_id = Bytes::from(alloc::vec![b'i'; id_len]);
    (config, chunk, rest)
}

fn check_error(e: &HandshakeError) {
    let text = alloc::format!("{e}");
    assert!(!text.is_empty());
    match e.monitor_class() {
        FailureClass::Protocol => assert!(e.zmtp_error_code().is_some()),
        FailureClass::Auth => assert!(e.zap_status().is_some()),
        FailureClass::NoDetail => assert!(e.zmtp_error_code().is_none()),
    }
    assert!(
        !matches!(
            e,
            HandshakeError::Internal { .. }
                | HandshakeError::Finished
                | HandshakeError::BadRoutingId { .. }
        ),
        "a peer caused {e:?}"
    );
}
