//! ZAP, the ZeroMQ Authentication Protocol (RFC 27), as libzmq speaks it
//! (`zap_client.cpp`): the request a handshake emits, the reply it accepts, and when a
//! mechanism asks at all.
//!
//! The handshake never talks to a handler itself. It emits a [`ZapRequest`]
//! ([`Handshake::poll_zap_request`](crate::Handshake::poll_zap_request)), waits, and takes
//! the handler's reply as its frames
//! ([`Handshake::handle_zap_reply`](crate::Handshake::handle_zap_reply)). The runtime
//! carries the request to whatever is bound at `inproc://zeromq.zap.01`, or to an in-process
//! authorizer that builds the reply with [`ZapReply::to_frames`].

use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;
use zmtp_codec::{Mechanism, Metadata, MetadataError};

use crate::config::ZapConfig;
use crate::protocol_error as code;

/// The ZAP version, frame 1 of requests and replies.
pub const VERSION: &[u8] = b"1.0";

/// The request id libzmq always sends, and requires back (frame 2).
pub const REQUEST_ID: &[u8] = b"1";

/// The number of frames of a valid reply.
pub const REPLY_FRAMES: usize = 7;

/// A ZAP status code (RFC 27): an open newtype, so that any 3-digit code a handler sends can
/// be reported; libzmq accepts only the four named ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ZapStatus(pub u16);

impl ZapStatus {
    /// `200`: the peer is authenticated.
    pub const OK: Self = Self(200);
    /// `300`: temporary failure; the connection is closed without an ERROR command.
    pub const TEMPORARY: Self = Self(300);
    /// `400`: authentication failure; the peer gets ERROR `400`.
    pub const DENIED: Self = Self(400);
    /// `500`: internal error of the handler; the peer gets ERROR `500`.
    pub const INTERNAL: Self = Self(500);

    /// The three ASCII digits.
    pub fn to_ascii(self) -> [u8; 3] {
        let n = self.0 % 1000;
        [
            b'0' + (n / 100) as u8,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        ]
    }
}

impl fmt::Display for ZapStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a handshake asks the ZAP handler: libzmq's request, frame for frame.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZapRequest {
    /// `ZMQ_ZAP_DOMAIN` (possibly empty, as libzmq sends it).
    pub domain: Bytes,
    /// The peer's address as the runtime gave it ([`ZapConfig::address`]).
    pub address: Bytes,
    /// Our own socket's `ZMQ_ROUTING_ID` (not the peer's: libzmq's behaviour).
    pub identity: Bytes,
    /// The mechanism: `NULL`, `PLAIN` or `CURVE`.
    pub mechanism: Mechanism,
    /// The credentials: none for NULL; user name and password for PLAIN; the client's
    /// 32-byte long-term public key for CURVE.
    pub credentials: Vec<Bytes>,
}

impl ZapRequest {
    /// The request's frames, as libzmq sends them: `""`, `"1.0"`, `"1"`, domain, address,
    /// identity, mechanism, then each credential. Every frame but the last has MORE set.
    pub fn frames(&self) -> Vec<Bytes> {
        let mut frames = Vec::with_capacity(7 + self.credentials.len());
        frames.push(Bytes::new());
        frames.push(Bytes::from_static(VERSION));
        frames.push(Bytes::from_static(REQUEST_ID));
        frames.push(self.domain.clone());
        frames.push(self.address.clone());
        frames.push(self.identity.clone());
        frames.push(Bytes::copy_from_slice(self.mechanism.name()));
        frames.extend(self.credentials.iter().cloned());
        frames
    }
}

impl fmt::Debug for ZapRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The PLAIN password is a secret: show only how many credentials there are.
        f.debug_struct("ZapRequest")
            .field("domain", &self.domain)
            .field("address", &self.address)
            .field("identity", &self.identity)
            .field("mechanism", &self.mechanism)
            .field("credentials", &self.credentials.len())
            .finish()
    }
}

/// A ZAP reply that passed libzmq's checks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZapReply {
    /// 200, 300, 400 or 500.
    pub status: ZapStatus,
    /// The handler's explanation (not sent to the peer).
    pub status_text: Bytes,
    /// The user id, which becomes the `User-Id` property of the connection on 200.
    pub user_id: Bytes,
    /// Properties to attach to the connection on 200.
    pub metadata: Metadata,
}

impl ZapReply {
    /// A reply allowing the peer as `user_id`.
    pub fn allow(user_id: impl Into<Bytes>) -> Self {
        Self {
            status: ZapStatus::OK,
            status_text: Bytes::from_static(b"OK"),
            user_id: user_id.into(),
            metadata: Metadata::new(),
        }
    }

    /// A reply refusing the peer with `status` (300, 400 or 500).
    pub fn deny(status: ZapStatus, text: impl Into<Bytes>) -> Self {
        Self {
            status,
            status_text: text.into(),
            user_id: Bytes::new(),
            metadata: Metadata::new(),
        }
    }

    /// Checks a reply's frames exactly as libzmq does (`zap_client.cpp`): 7 frames, an empty
    /// delimiter, version `1.0`, request id `1`, a status of `[2-5]00`, and metadata that
    /// parses as a property list.
    pub fn parse(frames: &[Bytes]) -> Result<Self, ZapReplyError> {
        let [delimiter, version, id, status, text, user_id, metadata] = frames else {
            return Err(ZapReplyError::FrameCount { got: frames.len() });
        };
        if !delimiter.is_empty() {
            return Err(ZapReplyError::Delimiter);
        }
        if version[..] != *VERSION {
            return Err(ZapReplyError::Version(version.clone()));
        }
        if id[..] != *REQUEST_ID {
            return Err(ZapReplyError::RequestId(id.clone()));
        }
        let status = match status[..] {
            [d @ b'2'..=b'5', b'0', b'0'] => ZapStatus(u16::from(d - b'0') * 100),
            _ => return Err(ZapReplyError::Status(status.clone())),
        };
        let metadata = Metadata::parse(metadata).map_err(ZapReplyError::Metadata)?;
        Ok(Self {
            status,
            status_text: text.clone(),
            user_id: user_id.clone(),
            metadata,
        })
    }

    /// The reply's 7 frames, as a handler sends them.
    pub fn to_frames(&self) -> Vec<Bytes> {
        let mut metadata = Vec::with_capacity(self.metadata.encoded_len());
        self.metadata.encode(&mut metadata);
        alloc::vec![
            Bytes::new(),
            Bytes::from_static(VERSION),
            Bytes::from_static(REQUEST_ID),
            Bytes::copy_from_slice(&self.status.to_ascii()),
            self.status_text.clone(),
            self.user_id.clone(),
            Bytes::from(metadata),
        ]
    }
}

/// Why a ZAP reply was refused. Each maps to one of libzmq's `ZMQ_PROTOCOL_ERROR_ZAP_*`
/// codes; the connection is closed without an ERROR command, as libzmq does.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZapReplyError {
    /// Not exactly 7 frames (`ZAP_MALFORMED_REPLY`).
    FrameCount {
        /// How many frames the reply had.
        got: usize,
    },
    /// Frame 0 is not empty (`ZAP_UNSPECIFIED`, as libzmq reports it).
    Delimiter,
    /// The version is not `1.0` (`ZAP_BAD_VERSION`).
    Version(Bytes),
    /// The request id is not `1` (`ZAP_BAD_REQUEST_ID`).
    RequestId(Bytes),
    /// The status is not 200, 300, 400 or 500 (`ZAP_INVALID_STATUS_CODE`).
    Status(Bytes),
    /// The metadata frame is not a property list (`ZAP_INVALID_METADATA`).
    Metadata(MetadataError),
}

impl ZapReplyError {
    /// The libzmq `ZMQ_PROTOCOL_ERROR_ZAP_*` code.
    pub const fn code(&self) -> u32 {
        match self {
            Self::FrameCount { .. } => code::ZAP_MALFORMED_REPLY,
            Self::Delimiter => code::ZAP_UNSPECIFIED,
            Self::Version(_) => code::ZAP_BAD_VERSION,
            Self::RequestId(_) => code::ZAP_BAD_REQUEST_ID,
            Self::Status(_) => code::ZAP_INVALID_STATUS_CODE,
            Self::Metadata(_) => code::ZAP_INVALID_METADATA,
        }
    }
}

impl fmt::Display for ZapReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FrameCount { got } => write!(
                f,
                "the ZAP handler's reply has {got} frames, not {REPLY_FRAMES}"
            ),
            Self::Delimiter => {
                f.write_str("the ZAP handler's reply does not start with an empty frame")
            }
            Self::Version(v) => write!(
                f,
                "the ZAP handler's reply has version \"{}\", not \"1.0\"",
                v.escape_ascii()
            ),
            Self::RequestId(id) => write!(
                f,
                "the ZAP handler's reply has request id \"{}\", not \"1\"",
                id.escape_ascii()
            ),
            Self::Status(s) => write!(
                f,
                "the ZAP handler's reply has status \"{}\", not 200, 300, 400 or 500",
                s.escape_ascii()
            ),
            Self::Metadata(e) => write!(f, "the ZAP handler's reply metadata is invalid: {e}"),
        }
    }
}

impl core::error::Error for ZapReplyError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Metadata(e) => Some(e),
            _ => None,
        }
    }
}

/// What a mechanism does about ZAP at the point where libzmq would ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Ask the handler and wait for its reply.
    Ask,
    /// Go on without asking.
    Skip,
    /// Fail: ZAP is required and no handler is there (libzmq's
    /// `HANDSHAKE_FAILED_NO_DETAIL(EFAULT)`).
    Refuse,
}

/// libzmq's choice per mechanism (libzmq-notes §1.10, the `ZAP_ENFORCE_DOMAIN` table):
///
/// | mechanism | asks ZAP | no handler |
/// |---|---|---|
/// | NULL | only with a domain | accept, or refuse when enforcing |
/// | PLAIN server | always | refuse |
/// | CURVE server | enforcing: only with a domain; else whenever a handler exists | accept (Stonehouse), or refuse when enforcing with a domain |
pub(crate) fn decide(mechanism: Mechanism, zap: &ZapConfig) -> Decision {
    let domain = !zap.domain.is_empty();
    if mechanism == Mechanism::NULL {
        if !domain {
            Decision::Skip
        } else if zap.handler {
            Decision::Ask
        } else if zap.enforce_domain {
            Decision::Refuse
        } else {
            Decision::Skip
        }
    } else if mechanism == Mechanism::PLAIN {
        if zap.handler {
            Decision::Ask
        } else {
            Decision::Refuse
        }
    } else if domain || !zap.enforce_domain {
        // CURVE (curve_server.cpp: `zap_required () || !options.zap_enforce_domain`).
        if zap.handler {
            Decision::Ask
        } else if !zap.enforce_domain {
            Decision::Skip
        } else {
            Decision::Refuse
        }
    } else {
        Decision::Skip
    }
}

/// What a 200 reply grants: the user id and the handler's properties.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) user_id: Bytes,
    pub(crate) metadata: Metadata,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(frames: &[&'static [u8]]) -> Vec<Bytes> {
        frames.iter().map(|f| Bytes::from_static(f)).collect()
    }

    #[test]
    fn libzmq_reply_checks() {
        let ok =
            ZapReply::parse(&reply(&[b"", b"1.0", b"1", b"200", b"OK", b"admin", b""])).unwrap();
        assert_eq!(ok.status, ZapStatus::OK);
        assert_eq!(ok.user_id, "admin");
        for (frames, code) in [
            (
                &[&b""[..], b"1.0", b"1", b"200", b"OK", b"admin"][..],
                code::ZAP_MALFORMED_REPLY,
            ),
            (
                &[b"", b"1.0", b"1", b"200", b"OK", b"admin", b"", b""],
                code::ZAP_MALFORMED_REPLY,
            ),
            (
                &[b"x", b"1.0", b"1", b"200", b"OK", b"", b""],
                code::ZAP_UNSPECIFIED,
            ),
            (
                &[b"", b"2.0", b"1", b"200", b"OK", b"", b""],
                code::ZAP_BAD_VERSION,
            ),
            (
                &[b"", b"1.0", b"2", b"200", b"OK", b"", b""],
                code::ZAP_BAD_REQUEST_ID,
            ),
            (
                &[b"", b"1.0", b"1", b"201", b"OK", b"", b""],
                code::ZAP_INVALID_STATUS_CODE,
            ),
            (
                &[b"", b"1.0", b"1", b"600", b"OK", b"", b""],
                code::ZAP_INVALID_STATUS_CODE,
            ),
            (
                &[b"", b"1.0", b"1", b"20", b"OK", b"", b""],
                code::ZAP_INVALID_STATUS_CODE,
            ),
            (
                &[b"", b"1.0", b"1", b"200", b"OK", b"", b"\x01"],
                code::ZAP_INVALID_METADATA,
            ),
        ] {
            let e = ZapReply::parse(&reply(frames)).unwrap_err();
            assert_eq!(e.code(), code, "{frames:?}");
            assert!(!alloc::format!("{e}").is_empty());
        }
    }

    #[test]
    fn reply_frames_round_trip() {
        let mut r = ZapReply::deny(ZapStatus::DENIED, "no");
        r.metadata.insert("X-Why", "because").unwrap();
        let frames = r.to_frames();
        assert_eq!(frames[3], "400");
        assert_eq!(ZapReply::parse(&frames).unwrap(), r);
        assert_eq!(ZapStatus(500).to_ascii(), *b"500");
    }

    #[test]
    fn enforce_domain_table() {
        let cfg = |domain: &'static [u8], enforce, handler| ZapConfig {
            domain: Bytes::from_static(domain),
            enforce_domain: enforce,
            handler,
            address: Bytes::new(),
        };
        use Decision::*;
        // (domain, enforce, handler) -> NULL, PLAIN, CURVE
        let table = [
            ((&b""[..], false, false), [Skip, Refuse, Skip]),
            ((b"", false, true), [Skip, Ask, Ask]),
            ((b"", true, false), [Skip, Refuse, Skip]),
            ((b"", true, true), [Skip, Ask, Skip]),
            ((b"d", false, false), [Skip, Refuse, Skip]),
            ((b"d", false, true), [Ask, Ask, Ask]),
            ((b"d", true, false), [Refuse, Refuse, Refuse]),
            ((b"d", true, true), [Ask, Ask, Ask]),
        ];
        for ((domain, enforce, handler), expected) in table {
            let c = cfg(domain, enforce, handler);
            let got = [
                decide(Mechanism::NULL, &c),
                decide(Mechanism::PLAIN, &c),
                decide(Mechanism::CURVE, &c),
            ];
            assert_eq!(got, expected, "{c:?}");
        }
    }
}
