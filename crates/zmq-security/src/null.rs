//! The NULL mechanism (RFC 23 "The NULL Security Mechanism"; libzmq `null_mechanism.cpp`).
//!
//! NULL is symmetric: each side sends READY as soon as the greetings are exchanged, without
//! waiting for the other's, then waits for the peer's READY (or ERROR). The READY body is a
//! property list: `Socket-Type`, `Identity` (REQ, DEALER and ROUTER only), then the
//! application metadata.
//!
//! With a `ZAP_DOMAIN` set, a side asks ZAP (mechanism `NULL`, no credentials) before its
//! READY goes out, as libzmq does; the peer's READY waits in the input meanwhile. Without
//! a handler it goes on, unless `ZAP_ENFORCE_DOMAIN` is set.

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};
use zmtp_codec::metadata::{IDENTITY, SOCKET_TYPE};
use zmtp_codec::{Command, Mechanism, Metadata, SocketType, WriteBatch};

use crate::handshake::Step;
use crate::mechanism::{establish, push, unexpected, zap_outcome, Ctx, ErrorForm, MechanismState};
use crate::zap::{Decision, Grant, ZapReply};
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

/// Starts NULL after the greeting: asks ZAP first if libzmq would (a `ZAP_DOMAIN` is set),
/// else sends our READY at once.
pub(crate) fn start(
    ctx: &mut Ctx<'_>,
    out: &mut WriteBatch,
) -> Result<MechanismState, HandshakeError> {
    match ctx.zap_decision() {
        Decision::Skip => Ok(MechanismState::Null(ExpectReady::start(ctx, None, out)?)),
        Decision::Ask => {
            ctx.ask_zap(Mechanism::NULL, Vec::new());
            Ok(MechanismState::NullZap(ExpectZapReply))
        }
        Decision::Refuse => Err(HandshakeError::NoZapHandler {
            mechanism: Mechanism::NULL,
        }),
    }
}

/// NULL with a ZAP domain: our READY waits for the handler's verdict (libzmq
/// `null_mechanism_t::next_handshake_command`). The peer's READY stays in the input until
/// then.
#[derive(Debug)]
pub(crate) struct ExpectZapReply;

impl ExpectZapReply {
    /// 200: our READY goes out; 300: silent failure; 400 and 500: ERROR, then failure.
    pub(crate) fn on_zap_reply(
        self,
        reply: ZapReply,
        ctx: &mut Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<ExpectReady, HandshakeError> {
        let grant = zap_outcome(reply, out, ErrorForm::Standard)?;
        ExpectReady::start(ctx, Some(grant), out)
    }
}

/// NULL after the greeting: our READY is sent, the peer's is awaited.
#[derive(Debug)]
pub(crate) struct ExpectReady {
    grant: Option<Grant>,
}

impl ExpectReady {
    /// Sends our READY (its body from [`ready_body`]) and waits for the peer's.
    pub(crate) fn start(
        ctx: &Ctx<'_>,
        grant: Option<Grant>,
        out: &mut WriteBatch,
    ) -> Result<Self, HandshakeError> {
        push(out, &Command::Ready(ctx.ours.properties.clone()))?;
        Ok(Self { grant })
    }

    /// Handles the peer's next command, which must be READY or ERROR.
    pub(crate) fn on_command(
        self,
        command: Command,
        ctx: &mut Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        match command {
            Command::Ready(body) => {
                let metadata = Metadata::parse(&body)?;
                // RFC 37: a peer refusing the socket type SHOULD send ERROR (libzmq does
                // not).
                establish(ctx, metadata, self.grant, None, Some(out)).map(Step::Done)
            }
            Command::Error { reason } => Err(HandshakeError::PeerError { reason }),
            other => Err(unexpected(&other)),
        }
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
