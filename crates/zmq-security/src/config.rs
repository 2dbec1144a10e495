//! What a connection's handshake is configured with: our socket type, routing id, metadata,
//! security mechanism and ZAP settings.

use bytes::Bytes;
use core::fmt;
use zmtp_codec::{Mechanism, Metadata, SocketType};

use crate::keys::{CurveKeyPair, CurvePublicKey};

/// The security mechanism a socket is configured for, with its role and credentials.
///
/// The role comes from the options alone, as in libzmq, never from which side bound or
/// connected (the greeting's as-server bit is always sent as 0 and ignored):
///
/// | libzmq options | variant |
/// |---|---|
/// | none | [`Null`](Self::Null) |
/// | `ZMQ_PLAIN_USERNAME` + `ZMQ_PLAIN_PASSWORD` | [`PlainClient`](Self::PlainClient) |
/// | `ZMQ_PLAIN_SERVER=1` | [`PlainServer`](Self::PlainServer) |
/// | `ZMQ_CURVE_SERVERKEY` + `ZMQ_CURVE_PUBLICKEY` + `ZMQ_CURVE_SECRETKEY` | [`CurveClient`](Self::CurveClient) |
/// | `ZMQ_CURVE_SERVER=1` + `ZMQ_CURVE_SECRETKEY` | [`CurveServer`](Self::CurveServer) |
///
/// `Debug` never shows a password or a secret key.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MechanismConfig {
    /// NULL (RFC 23): no authentication and no encryption. Both peers send READY at once.
    #[default]
    Null,
    /// PLAIN client (RFC 24): sends a user name and password in clear text.
    PlainClient {
        /// `ZMQ_PLAIN_USERNAME`, at most 255 bytes.
        username: Bytes,
        /// `ZMQ_PLAIN_PASSWORD`, at most 255 bytes.
        password: Bytes,
    },
    /// PLAIN server (RFC 24): asks the ZAP handler about each client's credentials; without
    /// a handler every client is refused, as in libzmq.
    PlainServer,
    /// CURVE client (RFC 25/26): knows the server's long-term public key.
    CurveClient {
        /// Our long-term key pair (`ZMQ_CURVE_PUBLICKEY`, `ZMQ_CURVE_SECRETKEY`).
        keypair: CurveKeyPair,
        /// The server's long-term public key (`ZMQ_CURVE_SERVERKEY`).
        server_key: CurvePublicKey,
    },
    /// CURVE server (RFC 25/26).
    CurveServer {
        /// Our long-term key pair. Only its secret half is used, as in libzmq; our public
        /// key, which the client's vouch must name, is derived from it.
        keypair: CurveKeyPair,
    },
    /// A mechanism name with no implementation, so tests can announce it in a greeting and
    /// reach the mismatch and downgrade checks.
    #[cfg(test)]
    #[doc(hidden)]
    TestOnly(Mechanism),
}

impl MechanismConfig {
    /// The mechanism name this configuration announces in the greeting.
    pub const fn mechanism(&self) -> Mechanism {
        match self {
            Self::Null => Mechanism::NULL,
            Self::PlainClient { .. } | Self::PlainServer => Mechanism::PLAIN,
            Self::CurveClient { .. } | Self::CurveServer { .. } => Mechanism::CURVE,
            #[cfg(test)]
            Self::TestOnly(mechanism) => *mechanism,
        }
    }

    /// Whether this is the server role of PLAIN or CURVE (the side that asks ZAP). NULL is
    /// symmetric: either side asks ZAP when it has a domain.
    pub const fn is_server(&self) -> bool {
        matches!(self, Self::PlainServer | Self::CurveServer { .. })
    }
}

impl fmt::Debug for MechanismConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("Null"),
            Self::PlainClient { username, .. } => f
                .debug_struct("PlainClient")
                .field("username", username)
                .field("password", &"..")
                .finish(),
            Self::PlainServer => f.write_str("PlainServer"),
            Self::CurveClient {
                keypair,
                server_key,
            } => f
                .debug_struct("CurveClient")
                .field("keypair", keypair)
                .field("server_key", server_key)
                .finish(),
            Self::CurveServer { keypair } => f
                .debug_struct("CurveServer")
                .field("keypair", keypair)
                .finish(),
            #[cfg(test)]
            Self::TestOnly(m) => f.debug_tuple("TestOnly").field(m).finish(),
        }
    }
}

/// How the handshake uses ZAP (RFC 27): the socket's `ZMQ_ZAP_DOMAIN` and
/// `ZMQ_ZAP_ENFORCE_DOMAIN`, whether a handler exists, and the peer's address for the
/// request.
///
/// Which mechanism asks when is libzmq's table (see [`crate::zap`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZapConfig {
    /// `ZMQ_ZAP_DOMAIN`, frame 3 of the request. Empty by default.
    pub domain: Bytes,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN` (draft option 93, off by default).
    pub enforce_domain: bool,
    /// Whether a ZAP handler is available: something bound at `inproc://zeromq.zap.01`, or
    /// an in-process authorizer. libzmq checks this when it would ask (`zap_connect`); the
    /// engine checks it when the connection starts.
    pub handler: bool,
    /// The peer's address, frame 4 of the request (libzmq: the IP address as text; empty
    /// for inproc).
    pub address: Bytes,
}

impl ZapConfig {
    /// No domain, not enforced, no handler, no address.
    pub const fn new() -> Self {
        Self {
            domain: Bytes::new(),
            enforce_domain: false,
            handler: false,
            address: Bytes::new(),
        }
    }
}

/// Everything a [`Handshake`](crate::Handshake) needs to know about our side.
///
/// Build it with [`HandshakeConfig::new`] and set the public fields; more fields may be
/// added, hence `#[non_exhaustive]`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeConfig {
    /// Our socket type, announced as `Socket-Type` in READY (ZMTP 3.x) or as the socket-type
    /// byte of the greeting (ZMTP 1.0 and 2.0 peers).
    pub socket_type: SocketType,
    /// Our routing id (`ZMQ_ROUTING_ID`), at most 255 bytes, possibly empty.
    ///
    /// Sent as the `Identity` property only by REQ, DEALER and ROUTER (as libzmq does), and
    /// as the identity frame to ZMTP 1.0 and 2.0 peers whatever the socket type. It is also
    /// the identity frame of our ZAP requests.
    pub routing_id: Bytes,
    /// Application properties (`ZMQ_METADATA`, conventionally named `X-...`), appended to
    /// our READY (or INITIATE) after `Socket-Type` and `Identity`. They may not set those
    /// two names.
    pub metadata: Metadata,
    /// The security mechanism.
    pub mechanism: MechanismConfig,
    /// ZAP settings.
    pub zap: ZapConfig,
}

impl HandshakeConfig {
    /// A NULL-mechanism configuration for `socket_type`, with an empty routing id, no
    /// application metadata and no ZAP.
    pub const fn new(socket_type: SocketType) -> Self {
        Self {
            socket_type,
            routing_id: Bytes::new(),
            metadata: Metadata::new(),
            mechanism: MechanismConfig::Null,
            zap: ZapConfig::new(),
        }
    }
}
