//! The NULL mechanism (RFC 23 "The NULL Security Mechanism"; libzmq `null_mechanism.cpp`).
//!
//! NULL is symmetric: each side sends READY as soon as the greetings are exchanged, without
//! waiting for the other's, then waits for the peer's READY (or ERROR). The READY body is a
//! property list: `Socket-Type`, `Identity` (REQ, DEALER and ROUTER only), then the
//! application metadata.

use alloc::boxed::Box;
use bytes::{BufMut, Bytes, BytesMut};
use zmtp_codec::frame::FrameFormat;
use zmtp_codec::metadata::{IDENTITY, SOCKET_TYPE};
use zmtp_codec::{Command, DecodeError, Decoder, Item, Metadata, SocketType, Version, WriteBatch};

use crate::handshake::{Established, Step};
use crate::HandshakeError;

/// The ERROR reason we send when the peer's `Socket-Type` is not one we accept.
pub(crate) const REASON_INCOMPATIBLE: &[u8] = b"incompatible Socket-Type";
/// The ERROR reason we send when the peer's READY has no `Socket-Type`.
pub(crate) const REASON_MISSING: &[u8] = b"missing Socket-Type";

/// The body of our READY: the properties after the command name.
pub(crate) fn ready_body(
    socket_type: SocketType,
    routing_id: &Bytes,
    metadata: &Metadata,
) -> Bytes {
    let name = socket_type.name().as_bytes();
    let mut body = BytesMut::with_capacity(
        property_len(SOCKET_TYPE, name.len())
            + property_len(IDENTITY, routing_id.len())
            + metadata.encoded_len(),
    );
    put_property(&mut body, SOCKET_TYPE, name);
    if socket_type.sends_identity() {
        put_property(&mut body, IDENTITY, routing_id);
    }
    metadata.encode(&mut body);
    body.freeze()
}

const fn property_len(name: &str, value: usize) -> usize {
    1 + name.len() + 4 + value
}

/// Appends one property. The names are our constants; the values are a socket-type name and
/// a routing id of at most 255 bytes, so both length fields fit.
fn put_property(out: &mut BytesMut, name: &str, value: &[u8]) {
    out.put_u8(name.len() as u8);
    out.put_slice(name.as_bytes());
    out.put_u32(value.len() as u32);
    out.put_slice(value);
}

/// NULL after the greeting: our READY is sent, the peer's is awaited.
#[derive(Debug)]
pub(crate) struct ExpectReady {
    version: Version,
    ours: SocketType,
    decoder: Decoder,
}

impl ExpectReady {
    /// Sends our READY (its body from [`ready_body`]) and waits for the peer's.
    pub(crate) fn start(
        version: Version,
        ours: SocketType,
        ready: &Bytes,
        out: &mut WriteBatch,
    ) -> Result<Self, HandshakeError> {
        out.push_command(&Command::Ready(ready.clone()))
            .map_err(|_| HandshakeError::Internal {
                what: "our READY could not be encoded",
            })?;
        let mut decoder = Decoder::new(FrameFormat::V3);
        // Commands keep the codec's handshake limit. No message frame may come before READY,
        // so any announced message body fails at its header, before it is buffered.
        decoder.set_max_message_size(Some(0));
        Ok(Self {
            version,
            ours,
            decoder,
        })
    }

    /// Reads the peer's next frame, which must be READY or ERROR.
    pub(crate) fn handle(
        mut self,
        input: &mut BytesMut,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        let item = match self.decoder.decode(input) {
            Ok(Some(item)) => item,
            Ok(None) => return Ok(Step::Wait(self)),
            Err(DecodeError::FrameTooLarge { command: false, .. }) => {
                return Err(HandshakeError::UnexpectedMessage)
            }
            Err(e) => return Err(e.into()),
        };
        match item {
            Item::Command(Command::Ready(body)) => self.ready(&body, out),
            Item::Command(Command::Error { reason }) => Err(HandshakeError::PeerError { reason }),
            Item::Command(other) => Err(HandshakeError::UnexpectedCommand {
                name: Bytes::copy_from_slice(other.name()),
            }),
            Item::Data { .. } => Err(HandshakeError::UnexpectedMessage),
        }
    }

    fn ready(self, body: &Bytes, out: &mut WriteBatch) -> Result<Step<Self>, HandshakeError> {
        let metadata = Metadata::parse(body)?;
        let peer = match check_socket_type(self.ours, &metadata) {
            Ok(peer) => peer,
            Err(e) => {
                // RFC 37: a peer refusing the socket type SHOULD send ERROR (libzmq does not).
                let reason = if e == HandshakeError::MissingSocketType {
                    REASON_MISSING
                } else {
                    REASON_INCOMPATIBLE
                };
                out.push_command(&Command::Error {
                    reason: Bytes::from_static(reason),
                })
                .map_err(|_| HandshakeError::Internal {
                    what: "our ERROR could not be encoded",
                })?;
                return Err(e);
            }
        };
        Ok(Step::Done(Box::new(Established {
            version: self.version,
            peer_socket_type: Some(peer),
            peer_routing_id: metadata.get(IDENTITY).cloned().unwrap_or_default(),
            peer_metadata: metadata,
            decoder: Decoder::new(FrameFormat::V3),
        })))
    }
}

/// The peer's socket type from its READY properties, if `ours` accepts it.
///
/// Every `Socket-Type` property must name an accepted type, as libzmq checks each one it
/// parses; the first names the peer's type. Names are matched without regard to case (RFC
/// 37), values exactly (libzmq: `dealer` is not a DEALER).
pub(crate) fn check_socket_type(
    ours: SocketType,
    metadata: &Metadata,
) -> Result<SocketType, HandshakeError> {
    let mut peer = None;
    for (name, value) in metadata.iter() {
        if !name.eq_ignore_ascii_case(SOCKET_TYPE.as_bytes()) {
            continue;
        }
        match SocketType::from_name(value) {
            Some(theirs) if ours.accepts(theirs) => {
                peer.get_or_insert(theirs);
            }
            _ => {
                return Err(HandshakeError::IncompatibleSocketType {
                    ours,
                    theirs: value.clone(),
                })
            }
        }
    }
    peer.ok_or(HandshakeError::MissingSocketType)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_37_dealer_ready_body() {
        let body = ready_body(SocketType::Dealer, &Bytes::new(), &Metadata::new());
        assert_eq!(
            &body[..],
            b"\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x00"
        );
    }

    #[test]
    fn identity_only_for_req_dealer_router() {
        let id = Bytes::from_static(b"me");
        for t in SocketType::ALL {
            let md = Metadata::parse(&ready_body(t, &id, &Metadata::new())).unwrap();
            assert_eq!(md.get(SOCKET_TYPE).unwrap(), t.name());
            assert_eq!(md.get(IDENTITY).is_some(), t.sends_identity(), "{t}");
        }
    }

    #[test]
    fn application_metadata_follows() {
        let mut md = Metadata::new();
        md.insert("X-Hello", "world").unwrap();
        let body = ready_body(SocketType::Pub, &Bytes::new(), &md);
        assert_eq!(
            &body[..],
            b"\x0bSocket-Type\x00\x00\x00\x03PUB\x07X-Hello\x00\x00\x00\x05world"
        );
    }

    #[test]
    fn socket_type_checks() {
        let parse = |b: &'static [u8]| Metadata::parse(&Bytes::from_static(b)).unwrap();
        let dealer = parse(b"\x0bSocket-Type\x00\x00\x00\x06DEALER");
        assert_eq!(
            check_socket_type(SocketType::Router, &dealer),
            Ok(SocketType::Dealer)
        );
        assert!(matches!(
            check_socket_type(SocketType::Pub, &dealer),
            Err(HandshakeError::IncompatibleSocketType { .. })
        ));
        // The property name is case-insensitive, the value is not.
        let lower_name = parse(b"\x0bsocket-type\x00\x00\x00\x06DEALER");
        assert_eq!(
            check_socket_type(SocketType::Router, &lower_name),
            Ok(SocketType::Dealer)
        );
        let lower_value = parse(b"\x0bSocket-Type\x00\x00\x00\x06dealer");
        assert!(check_socket_type(SocketType::Router, &lower_value).is_err());
        // A second, incompatible Socket-Type is refused too.
        let two = parse(b"\x0bSocket-Type\x00\x00\x00\x06DEALER\x0bSocket-Type\x00\x00\x00\x03PUB");
        assert!(check_socket_type(SocketType::Router, &two).is_err());
        assert_eq!(
            check_socket_type(SocketType::Router, &Metadata::new()),
            Err(HandshakeError::MissingSocketType)
        );
    }
}
