//! What a connection's handshake is configured with: our socket type, routing id, metadata
//! and security mechanism.

use bytes::Bytes;
use zmtp_codec::{Mechanism, Metadata, SocketType};

/// The security mechanism a socket is configured for, with its credentials.
///
/// Only NULL exists so far; PLAIN and CURVE (with their credentials and roles) will be added
/// as variants, hence `#[non_exhaustive]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MechanismConfig {
    /// NULL (RFC 23): no authentication and no encryption. Both peers send READY at once.
    #[default]
    Null,
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
            #[cfg(test)]
            Self::TestOnly(mechanism) => *mechanism,
        }
    }
}

/// Everything a [`Handshake`](crate::Handshake) needs to know about our side.
///
/// Build it with [`HandshakeConfig::new`] and set the public fields; more fields (such as a
/// ZAP domain) will be added, hence `#[non_exhaustive]`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeConfig {
    /// Our socket type, announced as `Socket-Type` in READY (ZMTP 3.x) or as the socket-type
    /// byte of the greeting (ZMTP 1.0 and 2.0 peers).
    pub socket_type: SocketType,
    /// Our routing id (`ZMQ_ROUTING_ID`), at most 255 bytes, possibly empty.
    ///
    /// Sent as the `Identity` property only by REQ, DEALER and ROUTER (as libzmq does), and
    /// as the identity frame to ZMTP 1.0 and 2.0 peers whatever the socket type.
    pub routing_id: Bytes,
    /// Application properties (`ZMQ_METADATA`, conventionally named `X-...`), appended to
    /// our READY after `Socket-Type` and `Identity`. They may not set those two names.
    pub metadata: Metadata,
    /// The security mechanism.
    pub mechanism: MechanismConfig,
}

impl HandshakeConfig {
    /// A NULL-mechanism configuration for `socket_type`, with an empty routing id and no
    /// application metadata.
    pub const fn new(socket_type: SocketType) -> Self {
        Self {
            socket_type,
            routing_id: Bytes::new(),
            metadata: Metadata::new(),
            mechanism: MechanismConfig::Null,
        }
    }
}
