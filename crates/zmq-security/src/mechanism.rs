//! What the mechanisms share: the context a step runs in, the dispatch enum over every
//! mechanism's states, and the end of a handshake (checking the peer's properties, merging
//! what ZAP granted, building [`Established`]).

use alloc::boxed::Box;
use bytes::{BufMut, Bytes, BytesMut};
use zmtp_codec::frame::FrameFormat;
use zmtp_codec::metadata::{IDENTITY, USER_ID};
use zmtp_codec::{
    Command, DecodeError, Decoder, Item, Mechanism, Metadata, SocketType, Version, WriteBatch,
};

use crate::config::{MechanismConfig, ZapConfig};
use crate::curve::{self, CurveCipher, Entropy};
use crate::handshake::{Established, Step};
use crate::zap::{self, Decision, Grant, ZapReply, ZapRequest, ZapStatus};
use crate::{null, plain, HandshakeError};

/// Our side of the connection, fixed when the handshake is created.
#[derive(Debug)]
pub(crate) struct Ours {
    pub(crate) socket_type: SocketType,
    pub(crate) routing_id: Bytes,
    pub(crate) mechanism: MechanismConfig,
    pub(crate) zap: ZapConfig,
    /// Our property list (`Socket-Type`, `Identity`, application metadata): the body of a
    /// NULL or PLAIN READY, of a PLAIN INITIATE, and the plaintext metadata of a CURVE
    /// INITIATE or READY. Built once.
    pub(crate) properties: Bytes,
}

/// What a mechanism step may touch besides its own state.
pub(crate) struct Ctx<'a> {
    pub(crate) ours: &'a Ours,
    /// The version the peer speaks (3.0 or later).
    pub(crate) version: Version,
    /// Where a step leaves the ZAP request it wants sent.
    pub(crate) zap_request: &'a mut Option<ZapRequest>,
}

impl Ctx<'_> {
    /// Emits a ZAP request for `mechanism` with these credentials.
    pub(crate) fn ask_zap(&mut self, mechanism: Mechanism, credentials: alloc::vec::Vec<Bytes>) {
        *self.zap_request = Some(ZapRequest {
            domain: self.ours.zap.domain.clone(),
            address: self.ours.zap.address.clone(),
            identity: self.ours.routing_id.clone(),
            mechanism,
            credentials,
        });
    }

    /// libzmq's ZAP decision for our mechanism at this point.
    pub(crate) fn zap_decision(&self) -> Decision {
        zap::decide(self.ours.mechanism.mechanism(), &self.ours.zap)
    }
}

/// Pushes a command of the handshake into `out`.
pub(crate) fn push(out: &mut WriteBatch, command: &Command) -> Result<(), HandshakeError> {
    out.push_command(command)
        .map_err(|_| HandshakeError::Internal {
            what: "a handshake command could not be encoded",
        })
}

/// Pushes an ERROR command with `reason`.
pub(crate) fn push_error(out: &mut WriteBatch, reason: &[u8]) -> Result<(), HandshakeError> {
    push(
        out,
        &Command::Error {
            reason: Bytes::copy_from_slice(reason),
        },
    )
}

/// How a mechanism spells its ERROR command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorForm {
    /// `05 ERROR`, as RFC 23 and libzmq's NULL and CURVE.
    Standard,
    /// libzmq 4.3's PLAIN server form (see [`plain`]).
    Libzmq43Plain,
}

/// What a ZAP reply means for the handshake: a 200 grants; 300 fails silently; 400 and 500
/// fail after an ERROR whose reason is the status, as libzmq does.
pub(crate) fn zap_outcome(
    reply: ZapReply,
    out: &mut WriteBatch,
    form: ErrorForm,
) -> Result<Grant, HandshakeError> {
    match reply.status {
        ZapStatus::OK => Ok(Grant {
            user_id: reply.user_id,
            metadata: reply.metadata,
        }),
        ZapStatus::TEMPORARY => Err(HandshakeError::ZapDenied {
            status: reply.status,
        }),
        status => {
            match form {
                ErrorForm::Standard => push_error(out, &status.to_ascii())?,
                ErrorForm::Libzmq43Plain => plain::push_libzmq_error(out, &status.to_ascii()),
            }
            Err(HandshakeError::ZapDenied { status })
        }
    }
}

/// The ERROR reason for a refused peer socket type.
pub(crate) fn refusal_reason(e: &HandshakeError) -> &'static [u8] {
    if e == &HandshakeError::MissingSocketType {
        null::REASON_MISSING
    } else {
        null::REASON_INCOMPATIBLE
    }
}

/// Checks the peer's properties and builds what the handshake hands over.
///
/// With `refuse` set, a refused socket type makes us push an ERROR first (as for NULL,
/// where RFC 37 says the refusing peer SHOULD); it is not set where the peer has already
/// left its handshake (a PLAIN or CURVE client reading READY), since an ERROR would then
/// break the peer's traffic phase.
pub(crate) fn establish(
    ctx: &Ctx<'_>,
    properties: Metadata,
    grant: Option<Grant>,
    cipher: Option<CurveCipher>,
    refuse: Option<&mut WriteBatch>,
) -> Result<Box<Established>, HandshakeError> {
    let peer = check_peer(ctx, &properties, refuse)?;
    let peer_routing_id = properties.get(IDENTITY).cloned().unwrap_or_default();
    let user_id = grant.as_ref().map(|g| g.user_id.clone());
    let peer_metadata = merge(grant.as_ref(), properties)?;
    Ok(Box::new(Established {
        version: ctx.version,
        peer_socket_type: Some(peer),
        peer_routing_id,
        peer_metadata,
        decoder: Decoder::new(FrameFormat::V3),
        user_id,
        cipher,
    }))
}

/// The peer's socket type from its properties, if ours accepts it. With `refuse` set, a
/// refusal pushes an ERROR command first.
pub(crate) fn check_peer(
    ctx: &Ctx<'_>,
    properties: &Metadata,
    refuse: Option<&mut WriteBatch>,
) -> Result<SocketType, HandshakeError> {
    null::check_socket_type(ctx.ours.socket_type, properties).or_else(|e| {
        if let Some(out) = refuse {
            push_error(out, refusal_reason(&e))?;
        }
        Err(e)
    })
}

/// The connection's properties: what ZAP granted, then the peer's own.
///
/// ZAP's come first so that lookups find them, as libzmq's map keeps the first value it is
/// given: `User-Id`, then the handler's metadata, then the peer's properties. A `User-Id`
/// the peer claims itself is dropped: only ZAP may set it (libzmq would show the peer's
/// own when no ZAP ran).
fn merge(grant: Option<&Grant>, peer: Metadata) -> Result<Metadata, HandshakeError> {
    let claims_user_id = peer.get(USER_ID).is_some();
    let Some(grant) = grant else {
        if !claims_user_id {
            return Ok(peer);
        }
        let mut buf = BytesMut::with_capacity(peer.encoded_len());
        put_peer_properties(&mut buf, &peer);
        return Ok(Metadata::parse(&buf.freeze())?);
    };
    let mut buf = BytesMut::with_capacity(
        1 + USER_ID.len()
            + 4
            + grant.user_id.len()
            + grant.metadata.encoded_len()
            + peer.encoded_len(),
    );
    put_property(&mut buf, USER_ID.as_bytes(), &grant.user_id);
    grant.metadata.encode(&mut buf);
    put_peer_properties(&mut buf, &peer);
    Ok(Metadata::parse(&buf.freeze())?)
}

fn put_peer_properties(buf: &mut BytesMut, peer: &Metadata) {
    for (name, value) in peer.iter() {
        if !name.eq_ignore_ascii_case(USER_ID.as_bytes()) {
            put_property(buf, name, value);
        }
    }
}

/// Appends one property. Names and values here came from 1- and 4-byte length fields (or
/// are our constant), so both lengths fit.
fn put_property(buf: &mut BytesMut, name: &[u8], value: &[u8]) {
    buf.put_u8(name.len() as u8);
    buf.put_slice(name);
    buf.put_u32(value.len() as u32);
    buf.put_slice(value);
}

/// Reads the next handshake command from `input`: `None` if it is not all there yet.
///
/// A message frame is refused at its header (the decoder allows message frames of 0
/// bytes only), so a peer cannot make us buffer data before the handshake is done.
pub(crate) fn next_command(
    decoder: &mut Decoder,
    input: &mut BytesMut,
) -> Result<Option<Command>, HandshakeError> {
    match decoder.decode(input) {
        Ok(Some(Item::Command(command))) => Ok(Some(command)),
        Ok(Some(Item::Data { .. })) | Err(DecodeError::FrameTooLarge { command: false, .. }) => {
            Err(HandshakeError::UnexpectedMessage)
        }
        Ok(None) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The command a state did not expect.
pub(crate) fn unexpected(command: &Command) -> HandshakeError {
    HandshakeError::UnexpectedCommand {
        name: Bytes::copy_from_slice(command.name()),
    }
}

/// A mechanism's handshake after the greeting: one state type per step.
#[derive(Debug)]
pub(crate) enum MechanismState {
    NullZap(null::ExpectZapReply),
    Null(null::ExpectReady),
    PlainClient(plain::ClientState),
    PlainServer(plain::ServerState),
    CurveClient(curve::client::ClientState),
    CurveServer(curve::server::ServerState),
}

impl MechanismState {
    /// Starts the mechanism once the greetings are exchanged: sends what it sends first.
    pub(crate) fn start(
        ctx: &mut Ctx<'_>,
        entropy: Option<Entropy>,
        out: &mut WriteBatch,
    ) -> Result<Self, HandshakeError> {
        Ok(match &ctx.ours.mechanism {
            MechanismConfig::Null => null::start(ctx, out)?,
            MechanismConfig::PlainClient { username, password } => {
                Self::PlainClient(plain::ClientState::start(username, password, out)?)
            }
            MechanismConfig::PlainServer => Self::PlainServer(plain::ServerState::start()),
            MechanismConfig::CurveClient {
                keypair,
                server_key,
            } => Self::CurveClient(curve::client::ClientState::start(
                keypair, server_key, entropy, out,
            )?),
            MechanismConfig::CurveServer { keypair } => {
                Self::CurveServer(curve::server::ServerState::start(keypair, entropy)?)
            }
            #[cfg(test)]
            MechanismConfig::TestOnly(_) => {
                return Err(HandshakeError::Internal {
                    what: "a test-only mechanism has no handshake",
                })
            }
        })
    }

    /// Whether this is the PLAIN client (which must read libzmq 4.3's ERROR form).
    pub(crate) fn is_plain_client(&self) -> bool {
        matches!(self, Self::PlainClient(_))
    }

    /// Whether the state waits for a ZAP reply (and reads no input meanwhile).
    pub(crate) fn awaiting_zap(&self) -> bool {
        match self {
            Self::NullZap(_) => true,
            Self::PlainServer(s) => s.awaiting_zap(),
            Self::CurveServer(s) => s.awaiting_zap(),
            Self::Null(_) | Self::PlainClient(_) | Self::CurveClient(_) => false,
        }
    }

    /// Handles one command from the peer.
    pub(crate) fn on_command(
        self,
        command: Command,
        ctx: &mut Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        Ok(match self {
            Self::NullZap(_) => {
                return Err(HandshakeError::Internal {
                    what: "input was read while waiting for ZAP",
                })
            }
            Self::Null(s) => s.on_command(command, ctx, out)?.map(Self::Null),
            Self::PlainClient(s) => s.on_command(command, ctx, out)?.map(Self::PlainClient),
            Self::PlainServer(s) => s.on_command(command, ctx, out)?.map(Self::PlainServer),
            Self::CurveClient(s) => s.on_command(command, ctx, out)?.map(Self::CurveClient),
            Self::CurveServer(s) => s.on_command(command, ctx, out)?.map(Self::CurveServer),
        })
    }

    /// Handles a validated ZAP reply.
    pub(crate) fn on_zap_reply(
        self,
        reply: ZapReply,
        ctx: &mut Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        Ok(match self {
            Self::NullZap(s) => Step::Wait(Self::Null(s.on_zap_reply(reply, ctx, out)?)),
            Self::PlainServer(s) => s.on_zap_reply(reply, out)?.map(Self::PlainServer),
            Self::CurveServer(s) => s.on_zap_reply(reply, ctx, out)?.map(Self::CurveServer),
            Self::Null(_) | Self::PlainClient(_) | Self::CurveClient(_) => {
                return Err(HandshakeError::Internal {
                    what: "a ZAP reply reached a state that asked nothing",
                })
            }
        })
    }
}
