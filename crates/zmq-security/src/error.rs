//! Why a handshake failed, and how libzmq would report it to a socket monitor.

use bytes::Bytes;
use core::fmt;
use zmtp_codec::{DecodeError, Mechanism, MetadataError, SocketType, Version};

use crate::protocol_error as code;
use crate::zap::{ZapReplyError, ZapStatus};

/// The largest routing id (`ZMQ_ROUTING_ID`) and the largest identity frame accepted from a
/// ZMTP 1.0 or 2.0 peer: 255 bytes (RFC 23, "Identity"; libzmq `options.cpp`).
pub const MAX_ROUTING_ID: usize = 255;

/// Why a handshake failed. The connection must be closed (after writing whatever the
/// handshake pushed to the output, such as an ERROR command).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer's greeting announces another security mechanism than ours (RFC 23: both
    /// peers must use the same one).
    MechanismMismatch {
        /// Our mechanism.
        ours: Mechanism,
        /// The peer's, as its greeting spelt it.
        theirs: Mechanism,
    },
    /// The peer's `Socket-Type` is not one our socket type may talk to (or no socket type at
    /// all). We pushed an ERROR command before failing.
    IncompatibleSocketType {
        /// Our socket type.
        ours: SocketType,
        /// The peer's `Socket-Type` value as received.
        theirs: Bytes,
    },
    /// The peer's READY has no `Socket-Type` property. We pushed an ERROR command before
    /// failing.
    MissingSocketType,
    /// The peer sent an ERROR command instead of completing the handshake.
    PeerError {
        /// Its reason: a ZAP status code such as `400`, or text.
        reason: Bytes,
    },
    /// The peer sent a command the handshake does not allow at this point.
    UnexpectedCommand {
        /// The command's name.
        name: Bytes,
    },
    /// The peer sent a message frame before the handshake was complete (or, after a CURVE
    /// handshake, a frame that is not a MESSAGE).
    UnexpectedMessage,
    /// The peer speaks ZMTP 1.0 or 2.0, which have no security mechanism, and ours is not
    /// NULL: talking to it would silently drop our security (RFC 23, "downgrade attack").
    DowngradeRefused {
        /// The version the peer speaks.
        version: Version,
    },
    /// The configured routing id is longer than [`MAX_ROUTING_ID`] bytes.
    BadRoutingId {
        /// Its length.
        len: usize,
    },
    /// The configured application metadata sets a property the handshake sends itself
    /// (`Socket-Type` or `Identity`).
    ReservedProperty {
        /// The property name as configured.
        name: Bytes,
    },
    /// The configured socket type does not speak ZMTP (STREAM uses raw TCP).
    UnsupportedSocketType {
        /// The socket type.
        socket_type: SocketType,
    },
    /// The peer's frames could not be decoded, or a frame broke a handshake limit.
    Decode(DecodeError),
    /// The peer's READY carries a malformed property list.
    Metadata(MetadataError),
    /// A PLAIN or CURVE command has the wrong size or layout.
    MalformedCommand {
        /// Which command.
        command: MechanismCommand,
        /// What is wrong with it.
        what: &'static str,
    },
    /// A CURVE box did not open, or opened to the wrong contents
    /// (`ZMTP_CRYPTOGRAPHIC`). Nothing is sent to the peer.
    Crypto(CryptoFailure),
    /// The vouch in the client's INITIATE does not name the client's short-term key and our
    /// long-term key (`ZMTP_KEY_EXCHANGE`): a replayed or spliced INITIATE.
    KeyExchange,
    /// A CURVE short nonce that is not above the peer's previous one
    /// (`ZMTP_INVALID_SEQUENCE`): a replayed, reordered or duplicated command.
    InvalidSequence {
        /// The nonce received.
        nonce: u64,
        /// The peer's previous nonce.
        last: u64,
    },
    /// The ZAP handler's reply broke the protocol (`ZMQ_PROTOCOL_ERROR_ZAP_*`). The
    /// connection is closed without an ERROR command, as libzmq does.
    ZapReply(ZapReplyError),
    /// The ZAP handler refused the peer with status 300, 400 or 500. For 400 and 500 we
    /// pushed an ERROR command with the status as its reason; 300 closes silently
    /// (CurveZMQ's temporary failure).
    ZapDenied {
        /// The handler's status.
        status: ZapStatus,
    },
    /// This mechanism must ask ZAP, and no ZAP handler is available (libzmq:
    /// `HANDSHAKE_FAILED_NO_DETAIL` with `EFAULT`).
    NoZapHandler {
        /// Our mechanism.
        mechanism: Mechanism,
    },
    /// [`Handshake::handle_zap_reply`](crate::Handshake::handle_zap_reply) was called while
    /// no ZAP request was outstanding. The handshake is unchanged.
    ZapNotPending,
    /// A PLAIN user name or password longer than 255 bytes.
    BadCredentials {
        /// `"username"` or `"password"`.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A PLAIN server with `ZAP_ENFORCE_DOMAIN` needs a `ZAP_DOMAIN` (libzmq asserts).
    ZapDomainRequired,
    /// CURVE needs randomness: create the handshake with
    /// [`Handshake::with_rng`](crate::Handshake::with_rng).
    RandomnessRequired,
    /// Our CURVE short nonce would wrap around (after 2^64 - 1 commands); the connection
    /// must be closed rather than reuse a nonce.
    NonceExhausted,
    /// [`Handshake::handle_input`](crate::Handshake::handle_input) was called after the
    /// handshake had already succeeded or failed.
    Finished,
    /// A state the handshake cannot be in; a bug in this crate or a codec it does not
    /// understand.
    Internal {
        /// What went wrong.
        what: &'static str,
    },
}

/// A PLAIN or CURVE command, as named by a [`HandshakeError::MalformedCommand`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MechanismCommand {
    /// HELLO.
    Hello,
    /// WELCOME.
    Welcome,
    /// INITIATE.
    Initiate,
    /// READY.
    Ready,
    /// MESSAGE.
    Message,
}

impl MechanismCommand {
    /// The command name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hello => "HELLO",
            Self::Welcome => "WELCOME",
            Self::Initiate => "INITIATE",
            Self::Ready => "READY",
            Self::Message => "MESSAGE",
        }
    }

    /// Its `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_*` code.
    pub const fn malformed_code(self) -> u32 {
        match self {
            Self::Hello => code::ZMTP_MALFORMED_COMMAND_HELLO,
            Self::Welcome => code::ZMTP_MALFORMED_COMMAND_WELCOME,
            Self::Initiate => code::ZMTP_MALFORMED_COMMAND_INITIATE,
            Self::Ready => code::ZMTP_MALFORMED_COMMAND_READY,
            Self::Message => code::ZMTP_MALFORMED_COMMAND_MESSAGE,
        }
    }
}

/// Which CURVE box failed (all are `ZMTP_CRYPTOGRAPHIC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CryptoFailure {
    /// Our configured server key is not a usable Curve25519 point (a low-order point):
    /// no HELLO can be made.
    ServerKey,
    /// The client's HELLO box does not open with our secret key: the client was given a
    /// wrong server key, or the HELLO was altered.
    Hello,
    /// The server's WELCOME box does not open: the server does not hold the secret key of
    /// our `ZMQ_CURVE_SERVERKEY`, or the WELCOME was altered.
    Welcome,
    /// The cookie in INITIATE does not open with this connection's cookie key, or names
    /// another connection's keys.
    Cookie,
    /// The INITIATE box does not open.
    Initiate,
    /// The vouch inside INITIATE does not open with the client's long-term key.
    Vouch,
    /// The READY box does not open.
    Ready,
    /// A MESSAGE box does not open: traffic was altered or is not from this peer.
    Message,
}

impl CryptoFailure {
    fn describe(self) -> &'static str {
        match self {
            Self::ServerKey => {
                "the configured CURVE server key is not a usable Curve25519 public key; \
                 check ZMQ_CURVE_SERVERKEY"
            }
            Self::Hello => {
                "the client's CURVE HELLO does not open with our secret key: the client was \
                 given a wrong server key (ZMQ_CURVE_SERVERKEY), or the HELLO was altered"
            }
            Self::Welcome => {
                "the server's CURVE WELCOME does not open: the server does not hold the \
                 secret key of our ZMQ_CURVE_SERVERKEY, or the WELCOME was altered"
            }
            Self::Cookie => {
                "the cookie in the client's CURVE INITIATE is not the one we sent on this \
                 connection: a replayed or altered INITIATE"
            }
            Self::Initiate => "the client's CURVE INITIATE box does not open: it was altered",
            Self::Vouch => {
                "the vouch in the client's CURVE INITIATE does not open with the key it \
                 claims: the client does not hold that key's secret, or it was altered"
            }
            Self::Ready => "the server's CURVE READY box does not open: it was altered",
            Self::Message => {
                "a CURVE MESSAGE box does not open: the traffic was altered or is not from \
                 this peer"
            }
        }
    }
}

/// Which libzmq monitor event reports a failed handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`, whose value is
    /// [`HandshakeError::zmtp_error_code`].
    Protocol,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`, whose value is the ZAP status code
    /// ([`HandshakeError::zap_status`]).
    Auth,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL`, whose value is an errno chosen by the engine.
    NoDetail,
}

/// The ZAP status code an ERROR reason stands for: exactly three characters, `300`, `400`
/// or `500` (libzmq `mechanism_base_t::handle_error_reason`).
pub(crate) fn zap_status_of(reason: &[u8]) -> Option<u16> {
    match reason {
        [d @ b'3'..=b'5', b'0', b'0'] => Some(u16::from(d - b'0') * 100),
        _ => None,
    }
}

impl HandshakeError {
    /// Which monitor event reports this failure.
    ///
    /// libzmq raises no handshake event at all for some of these failures (an incompatible
    /// socket type, a refused downgrade, an undecodable frame, a non-ZAP ERROR reason); we
    /// report them as protocol failures so every failed handshake is visible. Failures of
    /// our own configuration and misuse of the API are [`FailureClass::NoDetail`].
    pub fn monitor_class(&self) -> FailureClass {
        match self {
            Self::PeerError { reason } if zap_status_of(reason).is_some() => FailureClass::Auth,
            Self::MechanismMismatch { .. }
            | Self::IncompatibleSocketType { .. }
            | Self::MissingSocketType
            | Self::PeerError { .. }
            | Self::UnexpectedCommand { .. }
            | Self::UnexpectedMessage
            | Self::DowngradeRefused { .. }
            | Self::Decode(_)
            | Self::Metadata(_)
            | Self::MalformedCommand { .. }
            | Self::Crypto(_)
            | Self::KeyExchange
            | Self::InvalidSequence { .. }
            | Self::ZapReply(_) => FailureClass::Protocol,
            Self::ZapDenied { .. } => FailureClass::Auth,
            Self::BadRoutingId { .. }
            | Self::ReservedProperty { .. }
            | Self::UnsupportedSocketType { .. }
            | Self::NoZapHandler { .. }
            | Self::ZapNotPending
            | Self::BadCredentials { .. }
            | Self::ZapDomainRequired
            | Self::RandomnessRequired
            | Self::NonceExhausted
            | Self::Finished
            | Self::Internal { .. } => FailureClass::NoDetail,
        }
    }

    /// The `ZMQ_PROTOCOL_ERROR_*` value of the `HANDSHAKE_FAILED_PROTOCOL` event, for
    /// failures of [`FailureClass::Protocol`]; `None` for the other classes.
    ///
    /// The codes follow libzmq where it raises the event (mechanism mismatch, unexpected
    /// command, malformed ERROR, invalid metadata, which in libzmq's PLAIN and CURVE clients
    /// includes an incompatible `Socket-Type`). Where libzmq raises none: a refused
    /// downgrade is a mechanism mismatch (a ZMTP 1.0/2.0 peer has only NULL), a non-ZAP
    /// ERROR reason and undecodable frames are `ZMTP_UNSPECIFIED`.
    pub fn zmtp_error_code(&self) -> Option<u32> {
        if self.monitor_class() != FailureClass::Protocol {
            return None;
        }
        Some(match self {
            Self::MechanismMismatch { .. } | Self::DowngradeRefused { .. } => {
                code::ZMTP_MECHANISM_MISMATCH
            }
            Self::IncompatibleSocketType { .. } | Self::MissingSocketType | Self::Metadata(_) => {
                code::ZMTP_INVALID_METADATA
            }
            Self::UnexpectedCommand { .. } | Self::UnexpectedMessage => {
                code::ZMTP_UNEXPECTED_COMMAND
            }
            Self::MalformedCommand { command, .. } => command.malformed_code(),
            Self::Crypto(_) => code::ZMTP_CRYPTOGRAPHIC,
            Self::KeyExchange => code::ZMTP_KEY_EXCHANGE,
            Self::InvalidSequence { .. } => code::ZMTP_INVALID_SEQUENCE,
            Self::ZapReply(e) => e.code(),
            Self::Decode(DecodeError::Command(e)) => match e {
                zmtp_codec::CommandError::BadErrorReason => code::ZMTP_MALFORMED_COMMAND_ERROR,
                _ => code::ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            },
            _ => code::ZMTP_UNSPECIFIED,
        })
    }

    /// The ZAP status code (300, 400 or 500) of a [`FailureClass::Auth`] failure: the value
    /// of the `HANDSHAKE_FAILED_AUTH` event.
    pub fn zap_status(&self) -> Option<u16> {
        match self {
            Self::PeerError { reason } => zap_status_of(reason),
            Self::ZapDenied { status } => Some(status.0),
            _ => None,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MechanismMismatch { ours, theirs } => write!(
                f,
                "the peer uses the {theirs} security mechanism and we use {ours}; configure \
                 both sides with the same mechanism"
            ),
            Self::IncompatibleSocketType { ours, theirs } => write!(
                f,
                "a {ours} socket cannot talk to a peer of socket type \"{}\"; connect it to a \
                 socket type of its own pattern",
                theirs.escape_ascii()
            ),
            Self::MissingSocketType => f.write_str(
                "the peer's READY has no Socket-Type property, so it is not a conforming \
                 ZMTP 3 peer; check what is listening on that endpoint",
            ),
            Self::PeerError { reason } => match zap_status_of(reason) {
                Some(status) => write!(
                    f,
                    "the peer refused us with ZAP status {status}; check our credentials and \
                     the peer's ZAP handler"
                ),
                None => write!(
                    f,
                    "the peer refused the handshake: \"{}\"; fix what it names before \
                     reconnecting",
                    reason.escape_ascii()
                ),
            },
            Self::UnexpectedCommand { name } => write!(
                f,
                "the peer sent a {} command where the handshake allows none; it breaks the \
                 protocol or expects another security mechanism",
                name.escape_ascii()
            ),
            Self::UnexpectedMessage => f.write_str(
                "the peer sent a message frame where none is allowed (before completing the \
                 handshake, or unencrypted after a CURVE handshake), so it is not a \
                 conforming ZMTP peer",
            ),
            Self::DowngradeRefused { version } => write!(
                f,
                "the peer speaks {version}, which has no security mechanisms; refusing it \
                 protects against a downgrade attack: upgrade the peer, or use NULL"
            ),
            Self::BadRoutingId { len } => write!(
                f,
                "a routing id of {len} bytes is too long; it may have at most \
                 {MAX_ROUTING_ID} bytes"
            ),
            Self::ReservedProperty { name } => write!(
                f,
                "the application metadata sets \"{}\", which the handshake sends itself; \
                 remove it (name application properties X-...)",
                name.escape_ascii()
            ),
            Self::UnsupportedSocketType { socket_type } => write!(
                f,
                "{socket_type} sockets speak raw TCP, not ZMTP, and have no handshake"
            ),
            Self::Decode(e) => write!(f, "malformed handshake input: {e}"),
            Self::Metadata(e) => write!(f, "malformed READY from the peer: {e}"),
            Self::MalformedCommand { command, what } => write!(
                f,
                "malformed {} command from the peer: {what}",
                command.name()
            ),
            Self::Crypto(failure) => f.write_str(failure.describe()),
            Self::KeyExchange => f.write_str(
                "the vouch in the client's CURVE INITIATE names other keys than this \
                 connection's: a replayed or spliced INITIATE",
            ),
            Self::InvalidSequence { nonce, last } => write!(
                f,
                "the peer's CURVE nonce {nonce} is not above its previous nonce {last}: a \
                 replayed or reordered command"
            ),
            Self::ZapReply(e) => write!(f, "{e}; fix the ZAP handler"),
            Self::ZapDenied { status } => {
                write!(f, "the ZAP handler refused the peer with status {status}")
            }
            Self::NoZapHandler { mechanism } => write!(
                f,
                "{mechanism} here requires a ZAP handler and none is bound at \
                 inproc://zeromq.zap.01; start one, or turn ZAP_ENFORCE_DOMAIN off"
            ),
            Self::ZapNotPending => {
                f.write_str("a ZAP reply arrived while the handshake had asked nothing")
            }
            Self::BadCredentials { field, len } => write!(
                f,
                "a PLAIN {field} of {len} bytes is too long; it may have at most 255 bytes"
            ),
            Self::ZapDomainRequired => {
                f.write_str("a PLAIN server with ZAP_ENFORCE_DOMAIN needs a ZAP_DOMAIN; set one")
            }
            Self::RandomnessRequired => f.write_str(
                "CURVE needs a source of randomness: create the handshake with \
                 Handshake::with_rng",
            ),
            Self::NonceExhausted => {
                f.write_str("the CURVE nonce counter is exhausted; the connection must be closed")
            }
            Self::Finished => f.write_str(
                "the handshake has already ended: decode further input with \
                 Established::decoder, or close the connection after an error",
            ),
            Self::Internal { what } => write!(
                f,
                "internal error in the handshake ({what}); this is a bug, please report it"
            ),
        }
    }
}

impl core::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            Self::Metadata(e) => Some(e),
            Self::ZapReply(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for HandshakeError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<MetadataError> for HandshakeError {
    fn from(e: MetadataError) -> Self {
        Self::Metadata(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zap_status_codes() {
        assert_eq!(zap_status_of(b"300"), Some(300));
        assert_eq!(zap_status_of(b"400"), Some(400));
        assert_eq!(zap_status_of(b"500"), Some(500));
        for other in [&b"200"[..], b"600", b"40", b"4000", b"401", b"", b"abc"] {
            assert_eq!(zap_status_of(other), None, "{other:?}");
        }
    }

    #[test]
    fn classes_and_codes() {
        let auth = HandshakeError::PeerError {
            reason: Bytes::from_static(b"400"),
        };
        assert_eq!(auth.monitor_class(), FailureClass::Auth);
        assert_eq!(auth.zap_status(), Some(400));
        assert_eq!(auth.zmtp_error_code(), None);

        let text = HandshakeError::PeerError {
            reason: Bytes::from_static(b"go away"),
        };
        assert_eq!(text.monitor_class(), FailureClass::Protocol);
        assert_eq!(text.zmtp_error_code(), Some(code::ZMTP_UNSPECIFIED));
        assert_eq!(text.zap_status(), None);

        let cases = [
            (
                HandshakeError::MechanismMismatch {
                    ours: Mechanism::NULL,
                    theirs: Mechanism::PLAIN,
                },
                Some(0x1100_0002),
            ),
            (
                HandshakeError::DowngradeRefused {
                    version: Version::V2_0,
                },
                Some(0x1100_0002),
            ),
            (HandshakeError::MissingSocketType, Some(0x1000_0018)),
            (
                HandshakeError::IncompatibleSocketType {
                    ours: SocketType::Pub,
                    theirs: Bytes::from_static(b"PUSH"),
                },
                Some(0x1000_0018),
            ),
            (
                HandshakeError::Metadata(MetadataError::TooManyProperties),
                Some(0x1000_0018),
            ),
            (
                HandshakeError::UnexpectedCommand {
                    name: Bytes::from_static(b"HELLO"),
                },
                Some(0x1000_0001),
            ),
            (HandshakeError::UnexpectedMessage, Some(0x1000_0001)),
            (
                HandshakeError::Decode(DecodeError::Command(
                    zmtp_codec::CommandError::BadErrorReason,
                )),
                Some(0x1000_0015),
            ),
            (
                HandshakeError::Decode(DecodeError::Command(zmtp_codec::CommandError::BadName)),
                Some(0x1000_0011),
            ),
            (
                HandshakeError::Decode(DecodeError::ZeroLengthV1Frame),
                Some(0x1000_0000),
            ),
            (HandshakeError::BadRoutingId { len: 256 }, None),
            (HandshakeError::Finished, None),
        ];
        for (error, expected) in cases {
            assert_eq!(error.zmtp_error_code(), expected, "{error:?}");
            let class = if expected.is_some() {
                FailureClass::Protocol
            } else {
                FailureClass::NoDetail
            };
            assert_eq!(error.monitor_class(), class, "{error:?}");
            assert!(!alloc::format!("{error}").is_empty());
        }
    }
}
