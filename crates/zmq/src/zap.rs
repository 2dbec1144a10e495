//! Authentication: the in-process authorizer, an addition to the `zmq` crate and libzmq.
//!
//! A PLAIN or CURVE server (or a NULL socket with a `ZAP_DOMAIN`) asks a ZAP handler
//! (RFC 27) about each peer. As in libzmq, the handler can be a REP or ROUTER socket the
//! application binds at `inproc://zeromq.zap.01` in the same context, answering ZAP's
//! frames. [`Context::set_authorizer`] is the simpler way: a function from an
//! [`AuthRequest`] (mechanism, credentials, the peer's address, the domain) to an
//! [`AuthDecision`]. While an authorizer is set it answers every request of the context,
//! and a socket bound at `inproc://zeromq.zap.01` is not asked.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use zmq_security::{ZapReply, ZapRequest, ZapStatus};
use zmq_transport::Authorizer;
use zmtp_codec::Mechanism as Wire;

use crate::context::Context;
use crate::error::Result;
use crate::Mechanism;

/// What an authorizer is asked about a peer.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthRequest {
    /// The mechanism of the handshake.
    pub mechanism: Mechanism,
    /// What the peer proved it has.
    pub credentials: Credentials,
    /// The peer's IP address as text (tcp); empty for ipc.
    pub address: String,
    /// The server socket's `ZMQ_ZAP_DOMAIN` (possibly empty).
    pub domain: String,
    /// The server socket's own `ZMQ_ROUTING_ID` (what libzmq sends as ZAP's identity
    /// frame; not the peer's).
    pub identity: Vec<u8>,
}

/// A peer's credentials.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// NULL: none (asked only when the server has a `ZAP_DOMAIN`).
    Null,
    /// PLAIN: the user name and password the client sent (bytes: a libzmq client may send
    /// any, and comparing bytes leaves no room for two spellings of one name).
    Plain {
        /// The user name.
        username: Vec<u8>,
        /// The password.
        password: Vec<u8>,
    },
    /// CURVE: the client's long-term public key, which its handshake proved it holds the
    /// secret of.
    Curve {
        /// The key (binary; [`z85_encode`](crate::z85_encode) for text).
        public_key: [u8; 32],
    },
}

/// An authorizer's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthDecision {
    /// Let the peer in. Its messages carry `user_id` as their `User-Id` property
    /// ([`Message::gets`](crate::Message::gets)).
    Allow {
        /// The peer's user id.
        user_id: String,
    },
    /// Refuse the peer: it gets ERROR `400` (ZAP's authentication failure) and the
    /// connection closes; the client (libzmq's or ours) gives that connect up, as it does
    /// after a ZAP handler's refusal.
    /// The reason stays on this side (it is the ZAP status text), for logs and the monitor.
    Deny {
        /// Why.
        reason: String,
    },
}

impl AuthDecision {
    /// [`AuthDecision::Allow`] with this user id.
    pub fn allow(user_id: impl Into<String>) -> Self {
        Self::Allow {
            user_id: user_id.into(),
        }
    }

    /// [`AuthDecision::Deny`] with this reason.
    pub fn deny(reason: impl Into<String>) -> Self {
        Self::Deny {
            reason: reason.into(),
        }
    }
}

impl fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRequest")
            .field("mechanism", &self.mechanism)
            .field("credentials", &self.credentials)
            .field("address", &self.address)
            .field("domain", &self.domain)
            .field("identity", &self.identity)
            .finish()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("Null"),
            // The password is a secret.
            Self::Plain { username, .. } => f
                .debug_struct("Plain")
                .field("username", &String::from_utf8_lossy(username))
                .field("password", &"..")
                .finish(),
            Self::Curve { public_key } => f
                .debug_struct("Curve")
                .field(
                    "public_key",
                    &zmq_security::CurvePublicKey::from_bytes(*public_key).to_z85(),
                )
                .finish(),
        }
    }
}

impl AuthRequest {
    /// The request the handshake made, or `None` if its shape is not one a handshake makes.
    fn from_zap(request: &ZapRequest) -> Option<Self> {
        let (mechanism, credentials) = match (request.mechanism, &request.credentials[..]) {
            (m, []) if m == Wire::NULL => (Mechanism::ZMQ_NULL, Credentials::Null),
            (m, [username, password]) if m == Wire::PLAIN => (
                Mechanism::ZMQ_PLAIN,
                Credentials::Plain {
                    username: username.to_vec(),
                    password: password.to_vec(),
                },
            ),
            (m, [key]) if m == Wire::CURVE => (
                Mechanism::ZMQ_CURVE,
                Credentials::Curve {
                    public_key: <[u8; 32]>::try_from(&key[..]).ok()?,
                },
            ),
            _ => return None,
        };
        Some(Self {
            mechanism,
            credentials,
            address: String::from_utf8_lossy(&request.address).into_owned(),
            domain: String::from_utf8_lossy(&request.domain).into_owned(),
            identity: request.identity.to_vec(),
        })
    }
}

/// A user's function as the transport's [`Authorizer`].
struct Adapter<F>(F);

impl<F> Authorizer for Adapter<F>
where
    F: Fn(&AuthRequest) -> AuthDecision + Send + Sync + 'static,
{
    fn authorize(&self, request: &ZapRequest) -> ZapReply {
        let Some(request) = AuthRequest::from_zap(request) else {
            return ZapReply::deny(ZapStatus::INTERNAL, "a request of an unknown shape");
        };
        match (self.0)(&request) {
            AuthDecision::Allow { user_id } => ZapReply::allow(Bytes::from(user_id)),
            AuthDecision::Deny { reason } => ZapReply::deny(ZapStatus::DENIED, reason),
        }
    }
}

impl Context {
    /// Sets the in-process authorizer: from now on, every ZAP request of this context's
    /// handshakes (a PLAIN or CURVE server's, or a NULL socket's with a `ZAP_DOMAIN`) goes
    /// to `authorizer` instead of to a socket bound at `inproc://zeromq.zap.01`. Replaces an
    /// authorizer set before; handshakes already waiting keep theirs.
    ///
    /// It runs on a thread of its own (one per context), never on an I/O thread, one
    /// request at a time: it may block, for a database say, but meanwhile other
    /// handshakes wait for their turn, and each handshake still ends after its socket's
    /// `ZMQ_HANDSHAKE_IVL`. If it panics, the peer is refused (ZAP status 500).
    ///
    /// This starts the context's I/O threads if no socket has yet (so set
    /// `ZMQ_IO_THREADS` first). `ETERM` if the context is terminating.
    ///
    /// ```
    /// use zmq::{AuthDecision, Credentials};
    ///
    /// let ctx = zmq::Context::new();
    /// ctx.set_authorizer(|request| match &request.credentials {
    ///     Credentials::Plain { username, password } if username == b"admin" && password == b"secret" => {
    ///         AuthDecision::allow("admin")
    ///     }
    ///     _ => AuthDecision::deny("unknown user"),
    /// })
    /// .unwrap();
    ///
    /// let server = ctx.socket(zmq::REP).unwrap();
    /// server.set_plain_server(true).unwrap();
    /// server.bind("tcp://127.0.0.1:*").unwrap();
    /// let endpoint = server.get_last_endpoint().unwrap().unwrap();
    ///
    /// let client = ctx.socket(zmq::REQ).unwrap();
    /// client.set_plain_username(Some("admin")).unwrap();
    /// client.set_plain_password(Some("secret")).unwrap();
    /// client.connect(&endpoint).unwrap();
    /// client.send("hello", 0).unwrap();
    ///
    /// let mut request = server.recv_msg(0).unwrap();
    /// assert_eq!(request.gets("User-Id"), Some("admin"));
    /// ```
    pub fn set_authorizer<F>(&self, authorizer: F) -> Result<()>
    where
        F: Fn(&AuthRequest) -> AuthDecision + Send + Sync + 'static,
    {
        self.runtime()?
            .set_authorizer(Some(Arc::new(Adapter(authorizer))));
        Ok(())
    }

    /// Removes the in-process authorizer: ZAP requests go to the socket bound at
    /// `inproc://zeromq.zap.01` again, if there is one.
    pub fn remove_authorizer(&self) -> Result<()> {
        self.runtime()?.set_authorizer(None);
        Ok(())
    }
}
