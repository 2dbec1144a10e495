//! The connection handshake: greeting, version downgrade, then the security mechanism.

use alloc::boxed::Box;
use bytes::{Bytes, BytesMut};
use rand_core::CryptoRngCore;
use zmtp_codec::frame::FrameFormat;
use zmtp_codec::greeting::{Progress, Rest};
use zmtp_codec::metadata::{IDENTITY, SOCKET_TYPE};
use zmtp_codec::{
    Command, Decoder, Greeting, GreetingReader, Item, Mechanism, Metadata, PeerGreeting,
    SocketType, Version, WriteBatch,
};

use crate::config::{HandshakeConfig, MechanismConfig};
use crate::curve::{CurveCipher, Entropy};
use crate::error::MAX_ROUTING_ID;
use crate::mechanism::{next_command, Ctx, MechanismState, Ours};
use crate::plain::Peek;
use crate::zap::{ZapReply, ZapRequest};
use crate::{null, plain, HandshakeError};

/// A connection handshake as a sans-IO state machine: bytes from the peer in, bytes for the
/// peer out.
///
/// It runs the greeting in libzmq's stages (`zmtp_engine.cpp`), so that neither side ever
/// waits for the other's whole greeting before sending its own:
///
/// 1. [`Handshake::new`] pushes our 10-byte signature at once.
/// 2. As soon as the peer's signature is in, our major version byte follows.
/// 3. As soon as the peer's version byte is in, the rest of our greeting follows (for a
///    ZMTP 1.0 or 2.0 peer, our socket-type byte).
/// 4. When the peer's whole greeting is in, the output switches to the peer's frame format
///    ([`WriteBatch::set_version`]) and:
///    - ZMTP 3.x: both mechanisms must be the same; the mechanism's handshake runs (NULL:
///      our READY goes out at once, then the peer's READY is awaited; PLAIN and CURVE: the
///      client's HELLO goes out, and the exchange of RFC 24 or RFC 25/26 follows, with a
///      ZAP request from the server where libzmq would make one).
///    - ZMTP 2.0 and 1.0 with a revision: only NULL may talk to them (downgrade
///      protection); our identity frame goes out and the peer's is awaited. The peer's
///      socket type is reported, not checked, as libzmq does.
///    - ZMTP 1.0 without a greeting (the peer's first bytes are an identity frame): only
///      NULL; our signature was the header of our identity frame, so its body follows, and
///      the peer's identity frame is read from the bytes already buffered.
///
/// # Call order
///
/// Create the handshake with the connection's [`WriteBatch`] ([`Handshake::new`], or
/// [`Handshake::with_rng`] for CURVE), then each time bytes arrive, append them to the
/// connection's input buffer and call [`Handshake::handle_input`], and write out whatever
/// the batch holds, until it returns [`Established`] or an error. After an error, write
/// what the batch holds (it may end in an ERROR command), then close.
///
/// When ZAP is in play, after each call also take [`Handshake::poll_zap_request`]: if it
/// yields a request, send it to the ZAP handler; the handshake reads no more input until
/// the reply is given to [`Handshake::handle_zap_reply`], which continues where
/// `handle_input` stopped (with the input buffered meanwhile) and returns the same kind of
/// result.
///
/// # Time
///
/// The handshake reads no clock and keeps no timer. A peer that stops mid-handshake, or a
/// ZAP handler that never answers, leaves it waiting: the engine enforces
/// `ZMQ_HANDSHAKE_IVL` and closes the connection, as libzmq does (libzmq has no separate
/// ZAP timeout either). The CURVE cookie key lives only as long as this connection's
/// handshake (libzmq makes one per WELCOME and forgets it after INITIATE), so it needs no
/// expiry of its own.
///
/// ```
/// use zmq_security::{Handshake, HandshakeConfig};
/// use zmtp_codec::bytes::BytesMut;
/// use zmtp_codec::{SocketType, Version, WriteBatch};
///
/// let mut out = WriteBatch::new(Version::V3_1);
/// let mut hs = Handshake::new(HandshakeConfig::new(SocketType::Router), &mut out).unwrap();
/// assert_eq!(out.len(), 10, "the signature goes out at once");
///
/// // What a libzmq DEALER sends: its greeting, then its READY (RFC 37's example).
/// let mut input = BytesMut::new();
/// input.extend_from_slice(b"\xff\0\0\0\0\0\0\0\x01\x7f\x03\x01NULL");
/// input.extend_from_slice(&[0; 48]);
/// input.extend_from_slice(b"\x04\x29\x05READY\x0bSocket-Type\0\0\0\x06DEALER\x08Identity\0\0\0\0");
/// let established = hs.handle_input(&mut input, &mut out).unwrap().unwrap();
/// assert_eq!(established.peer_socket_type, Some(SocketType::Dealer));
/// assert!(input.is_empty());
/// ```
#[derive(Debug)]
pub struct Handshake {
    ours: Ours,
    greeting: Greeting,
    /// CURVE's randomness, drawn at creation, handed to the mechanism when it starts.
    entropy: Option<Entropy>,
    /// A ZAP request waiting for [`Handshake::poll_zap_request`].
    zap_request: Option<ZapRequest>,
    state: State,
}

/// The result of the peer's handshake: who the peer is, and how to read the rest of its
/// stream.
///
/// More fields may be added, hence `#[non_exhaustive]`. It is not `Clone`: the CURVE
/// cipher must not be duplicated (two copies would reuse nonces).
#[derive(Debug)]
#[non_exhaustive]
pub struct Established {
    /// The protocol the peer speaks; the output batch was switched to it.
    pub version: Version,
    /// The peer's socket type: from its READY or INITIATE (ZMTP 3.x, checked against ours),
    /// or from its greeting's socket-type byte (ZMTP 2.0 and versioned 1.0, not checked,
    /// and `None` if the byte names no type). `None` for an unversioned ZMTP 1.0 peer,
    /// which sends none.
    pub peer_socket_type: Option<SocketType>,
    /// The peer's routing id: its `Identity` property (ZMTP 3.x; empty if absent), or its
    /// identity frame (ZMTP 1.0 and 2.0).
    pub peer_routing_id: Bytes,
    /// The connection's properties: after a ZAP 200, `User-Id` and the handler's metadata
    /// first, then every property of the peer's READY (or INITIATE) in order, less any
    /// `User-Id` the peer claims itself. Empty for ZMTP 1.0 and 2.0. Lookups find the first
    /// of a name, so ZAP's values win, as in libzmq.
    pub peer_metadata: Metadata,
    /// A decoder for the rest of the peer's stream, in its frame format, with the codec's
    /// defaults: no message size limit (set `ZMQ_MAXMSGSIZE` with
    /// [`Decoder::set_max_message_size`]) and the handshake command limit.
    pub decoder: Decoder,
    /// The user id a ZAP handler gave with status 200 (also the `User-Id` property); `None`
    /// when no ZAP handler was asked.
    pub user_id: Option<Bytes>,
    /// CURVE only: every frame after the handshake, both ways, is a MESSAGE sealed and
    /// opened with this (see [`CurveCipher`]). `None` for NULL and PLAIN.
    pub cipher: Option<CurveCipher>,
}

impl Established {
    /// Whether the peer speaks ZMTP 1.0 without a greeting. Such a peer sends no
    /// subscriptions, so a publisher subscribes it to everything (libzmq-notes 1.11).
    /// A versioned ZMTP 1.0 peer always names its socket type: a byte that names none is
    /// refused.
    pub fn is_unversioned(&self) -> bool {
        self.version == Version::V1_0 && self.peer_socket_type.is_none()
    }
}

/// What a step of the handshake left to do.
#[derive(Debug)]
pub(crate) enum Step<S> {
    /// Waiting for more input (or a ZAP reply), in state `S`.
    Wait(S),
    /// The handshake is complete (boxed: it is far larger than any state).
    Done(Box<Established>),
}

impl<S> Step<S> {
    pub(crate) fn map<T>(self, f: impl FnOnce(S) -> T) -> Step<T> {
        match self {
            Self::Wait(s) => Step::Wait(f(s)),
            Self::Done(e) => Step::Done(e),
        }
    }
}

#[derive(Debug)]
enum State {
    /// Reading the peer's greeting.
    Greeting(GreetingReader),
    /// ZMTP 1.0 or 2.0: waiting for the peer's identity frame.
    Identity(ExpectIdentity),
    /// ZMTP 3.x: the mechanism's handshake.
    Mechanism(Box<MechanismPhase>),
    /// Succeeded or failed.
    Ended,
}

/// ZMTP 3.x after the greeting: the mechanism's commands.
#[derive(Debug)]
struct MechanismPhase {
    version: Version,
    /// Reads the peer's handshake commands: commands up to the codec's handshake limit, no
    /// message frame at all.
    decoder: Decoder,
    state: MechanismState,
}

impl Handshake {
    /// Starts a handshake; pushes our 10-byte greeting signature into `out` at once.
    ///
    /// Fails if the configuration cannot be sent: a routing id over 255 bytes, application
    /// metadata naming `Socket-Type` or `Identity`, a socket type without ZMTP (STREAM),
    /// PLAIN credentials over 255 bytes, or a PLAIN server enforcing an empty ZAP domain.
    /// CURVE needs randomness: use [`Handshake::with_rng`] (here it fails with
    /// [`HandshakeError::RandomnessRequired`]).
    pub fn new(config: HandshakeConfig, out: &mut WriteBatch) -> Result<Self, HandshakeError> {
        if matches!(config.mechanism.mechanism(), m if m == Mechanism::CURVE) {
            return Err(HandshakeError::RandomnessRequired);
        }
        Self::create(config, None, out)
    }

    /// Starts a handshake as [`Handshake::new`] does, drawing what CURVE needs from `rng`
    /// now: the short-term key (and, for a server, the cookie key and the WELCOME and cookie
    /// nonces; for a client, the vouch nonce). The runtime passes an OS generator; tests and
    /// fuzzing pass a deterministic one. NULL and PLAIN draw nothing.
    pub fn with_rng(
        config: HandshakeConfig,
        rng: &mut dyn CryptoRngCore,
        out: &mut WriteBatch,
    ) -> Result<Self, HandshakeError> {
        let entropy = match &config.mechanism {
            MechanismConfig::CurveClient { .. } => Some(Entropy::client(rng)),
            MechanismConfig::CurveServer { .. } => Some(Entropy::server(rng)),
            _ => None,
        };
        Self::create(config, entropy, out)
    }

    fn create(
        config: HandshakeConfig,
        entropy: Option<Entropy>,
        out: &mut WriteBatch,
    ) -> Result<Self, HandshakeError> {
        let HandshakeConfig {
            socket_type,
            routing_id,
            metadata,
            mechanism,
            zap,
        } = config;
        if socket_type == SocketType::Stream {
            return Err(HandshakeError::UnsupportedSocketType { socket_type });
        }
        let Ok(v1_identity_len) = u8::try_from(routing_id.len()) else {
            return Err(HandshakeError::BadRoutingId {
                len: routing_id.len(),
            });
        };
        if let Some((name, _)) = metadata.iter().find(|(name, _)| {
            name.eq_ignore_ascii_case(SOCKET_TYPE.as_bytes())
                || name.eq_ignore_ascii_case(IDENTITY.as_bytes())
        }) {
            return Err(HandshakeError::ReservedProperty { name: name.clone() });
        }
        match &mechanism {
            MechanismConfig::PlainClient { username, password } => {
                plain::check_credentials(username, password)?;
            }
            // libzmq asserts here (plain_server.cpp); we refuse the configuration.
            MechanismConfig::PlainServer if zap.enforce_domain && zap.domain.is_empty() => {
                return Err(HandshakeError::ZapDomainRequired);
            }
            _ => {}
        }
        let greeting = Greeting {
            v1_identity_len,
            ..Greeting::new(mechanism.mechanism(), false)
        };
        out.push_raw(&greeting.signature());
        Ok(Self {
            ours: Ours {
                properties: null::ready_body(socket_type, &routing_id, &metadata),
                socket_type,
                routing_id,
                mechanism,
                zap,
            },
            greeting,
            entropy,
            zap_request: None,
            state: State::Greeting(GreetingReader::new()),
        })
    }

    /// Consumes handshake bytes from the front of `input`, pushes replies into `out`.
    ///
    /// Returns `Ok(None)` while more input (or a ZAP reply) is needed;
    /// `Ok(Some(Established))` when done — bytes left in `input` belong to the traffic
    /// phase and must be decoded with [`Established::decoder`] (and, for CURVE, opened with
    /// [`Established::cipher`]). Calls `out.set_version(..)` once the peer's version is
    /// known. After an error, `out` may hold an ERROR command for the peer: write it before
    /// closing. Any call after success or failure returns [`HandshakeError::Finished`].
    pub fn handle_input(
        &mut self,
        input: &mut BytesMut,
        out: &mut WriteBatch,
    ) -> Result<Option<Established>, HandshakeError> {
        let state = core::mem::replace(&mut self.state, State::Ended);
        let step = self.run(state, input, out)?;
        Ok(self.settle(step))
    }

    /// The ZAP request the handshake wants answered, once: send its
    /// [`frames`](ZapRequest::frames) to the ZAP handler, then give the reply to
    /// [`Handshake::handle_zap_reply`].
    pub fn poll_zap_request(&mut self) -> Option<ZapRequest> {
        self.zap_request.take()
    }

    /// Whether the handshake waits for a ZAP reply (and reads no input until it has one).
    pub fn is_awaiting_zap(&self) -> bool {
        matches!(&self.state, State::Mechanism(phase) if phase.state.awaiting_zap())
    }

    /// Takes the ZAP handler's reply (its frames, exactly as received) and goes on with the
    /// input buffered meanwhile, returning what [`Handshake::handle_input`] would.
    ///
    /// The reply is checked as libzmq does ([`ZapReply::parse`]); a malformed one fails the
    /// handshake with [`HandshakeError::ZapReply`] and no ERROR to the peer. Status 200
    /// goes on (the user id and metadata are kept for [`Established`]), 300 fails silently,
    /// 400 and 500 push an ERROR with the status and fail with
    /// [`HandshakeError::ZapDenied`]. If no request is outstanding, the handshake is left
    /// as it was and [`HandshakeError::ZapNotPending`] returned.
    pub fn handle_zap_reply(
        &mut self,
        reply: &[Bytes],
        input: &mut BytesMut,
        out: &mut WriteBatch,
    ) -> Result<Option<Established>, HandshakeError> {
        if !self.is_awaiting_zap() {
            return Err(HandshakeError::ZapNotPending);
        }
        let State::Mechanism(mut phase) = core::mem::replace(&mut self.state, State::Ended) else {
            return Err(HandshakeError::Internal {
                what: "a ZAP reply was expected outside the mechanism",
            });
        };
        let reply = ZapReply::parse(reply).map_err(HandshakeError::ZapReply)?;
        let mut ctx = Ctx {
            ours: &self.ours,
            version: phase.version,
            zap_request: &mut self.zap_request,
        };
        match phase.state.on_zap_reply(reply, &mut ctx, out)? {
            Step::Done(established) => Ok(Some(*established)),
            Step::Wait(state) => {
                phase.state = state;
                let step = self.run(State::Mechanism(phase), input, out)?;
                Ok(self.settle(step))
            }
        }
    }

    fn settle(&mut self, step: Step<State>) -> Option<Established> {
        match step {
            Step::Wait(state) => {
                self.state = state;
                None
            }
            Step::Done(established) => Some(*established),
        }
    }

    /// Advances through as many states as the buffered input allows.
    fn run(
        &mut self,
        mut state: State,
        input: &mut BytesMut,
        out: &mut WriteBatch,
    ) -> Result<Step<State>, HandshakeError> {
        loop {
            state = match state {
                State::Greeting(mut reader) => {
                    let progress = reader.poll(input).map_err(|_| HandshakeError::Internal {
                        what: "the greeting reader was polled after it finished",
                    })?;
                    match progress {
                        Progress::NeedMore => return Ok(Step::Wait(State::Greeting(reader))),
                        Progress::SendVersion => {
                            out.push_raw(&self.greeting.version_major());
                            State::Greeting(reader)
                        }
                        Progress::SendRest(Rest::V3) => {
                            out.push_raw(&self.greeting.rest());
                            State::Greeting(reader)
                        }
                        Progress::SendRest(Rest::SocketType) => {
                            out.push_raw(&[self.ours.socket_type.as_u8()]);
                            State::Greeting(reader)
                        }
                        Progress::Done(peer) => self.greeted(&peer, out)?,
                        Progress::Unversioned => self.unversioned(out)?,
                        _ => {
                            return Err(HandshakeError::Internal {
                                what: "the greeting reader reported an unknown step",
                            })
                        }
                    }
                }
                State::Identity(expect) => match expect.handle(input)? {
                    Step::Wait(expect) => return Ok(Step::Wait(State::Identity(expect))),
                    Step::Done(established) => return Ok(Step::Done(established)),
                },
                State::Mechanism(mut phase) => loop {
                    if phase.state.awaiting_zap() {
                        return Ok(Step::Wait(State::Mechanism(phase)));
                    }
                    let command = if phase.state.is_plain_client()
                        && phase.decoder.pending_body().is_none()
                    {
                        // libzmq 4.3's PLAIN servers send a malformed ERROR (see `plain`).
                        match plain::peek_libzmq_error(input) {
                            Peek::Error(reason) => Some(Command::Error { reason }),
                            Peek::NeedMore => None,
                            Peek::Other => next_command(&mut phase.decoder, input)?,
                        }
                    } else {
                        next_command(&mut phase.decoder, input)?
                    };
                    let Some(command) = command else {
                        return Ok(Step::Wait(State::Mechanism(phase)));
                    };
                    let mut ctx = Ctx {
                        ours: &self.ours,
                        version: phase.version,
                        zap_request: &mut self.zap_request,
                    };
                    match phase.state.on_command(command, &mut ctx, out)? {
                        Step::Wait(next) => phase.state = next,
                        Step::Done(established) => return Ok(Step::Done(established)),
                    }
                },
                State::Ended => return Err(HandshakeError::Finished),
            };
        }
    }

    /// The peer's whole greeting is in: switch to its version and start what comes next.
    fn greeted(
        &mut self,
        peer: &PeerGreeting,
        out: &mut WriteBatch,
    ) -> Result<State, HandshakeError> {
        out.set_version(peer.version);
        let ours = self.ours.mechanism.mechanism();
        if !peer.version.has_commands() {
            check_downgrade(ours, peer.version)?;
            // Like libzmq, we do not check a ZMTP 1.0/2.0 peer's type against ours; unlike
            // libzmq, we refuse a type byte that names no socket type at all: such a greeting
            // is noise, and would otherwise escape the handshake timeout.
            let peer_type = match peer.socket_type {
                Some(byte) => Some(SocketType::from_u8(byte).ok_or_else(|| {
                    HandshakeError::IncompatibleSocketType {
                        ours: self.ours.socket_type,
                        theirs: Bytes::from(alloc::format!("type byte {byte:#04x}")),
                    }
                })?),
                None => None,
            };
            out.push_data(false, self.ours.routing_id.clone());
            return Ok(State::Identity(ExpectIdentity::new(
                peer.version,
                peer_type,
            )));
        }
        if peer.mechanism != ours {
            return Err(HandshakeError::MechanismMismatch {
                ours,
                theirs: peer.mechanism,
            });
        }
        let mut decoder = Decoder::new(FrameFormat::V3);
        // Commands keep the codec's handshake limit. No message frame may come before the
        // handshake ends, so any announced message body fails at its header, before it is
        // buffered.
        decoder.set_max_message_size(Some(0));
        let mut ctx = Ctx {
            ours: &self.ours,
            version: peer.version,
            zap_request: &mut self.zap_request,
        };
        let state = MechanismState::start(&mut ctx, self.entropy.take(), out)?;
        Ok(State::Mechanism(Box::new(MechanismPhase {
            version: peer.version,
            decoder,
            state,
        })))
    }

    /// The peer speaks ZMTP 1.0 without a greeting: its buffered bytes are its identity
    /// frame, and our signature was the header of ours.
    fn unversioned(&self, out: &mut WriteBatch) -> Result<State, HandshakeError> {
        out.set_version(Version::V1_0);
        check_downgrade(self.ours.mechanism.mechanism(), Version::V1_0)?;
        // Our signature announced a ZMTP 1.0 frame of `routing_id.len() + 1` bytes (the flags
        // byte, 0x7F, then the body): its body completes it.
        out.push_raw(&self.ours.routing_id);
        Ok(State::Identity(ExpectIdentity::new(Version::V1_0, None)))
    }
}

/// Refuses to talk to a peer of `version` with `mechanism` if that would drop security:
/// ZMTP 1.0 and 2.0 have no mechanisms, so only NULL may use them (RFC 23, "downgrade
/// attack"; libzmq refuses them when ZAP is enabled).
pub(crate) fn check_downgrade(
    mechanism: Mechanism,
    version: Version,
) -> Result<(), HandshakeError> {
    if version.has_commands() || mechanism == Mechanism::NULL {
        Ok(())
    } else {
        Err(HandshakeError::DowngradeRefused { version })
    }
}

/// ZMTP 1.0 and 2.0: waiting for the peer's identity frame, the first frame it sends.
#[derive(Debug)]
struct ExpectIdentity {
    version: Version,
    peer_socket_type: Option<SocketType>,
    decoder: Decoder,
}

impl ExpectIdentity {
    fn new(version: Version, peer_socket_type: Option<SocketType>) -> Self {
        let mut decoder = Decoder::new(version.frame_format());
        // An identity has at most 255 bytes; a larger frame is refused at its header.
        decoder.set_max_message_size(Some(MAX_ROUTING_ID as u64));
        Self {
            version,
            peer_socket_type,
            decoder,
        }
    }

    fn handle(mut self, input: &mut BytesMut) -> Result<Step<Self>, HandshakeError> {
        match self.decoder.decode(input)? {
            None => Ok(Step::Wait(self)),
            // libzmq ignores the MORE flag of the identity frame (and its own unversioned
            // signature sets it: flags 0x7F).
            Some(Item::Data { body, .. }) => Ok(Step::Done(Box::new(Established {
                version: self.version,
                peer_socket_type: self.peer_socket_type,
                peer_routing_id: body.into_bytes(),
                peer_metadata: Metadata::new(),
                decoder: Decoder::new(self.version.frame_format()),
                user_id: None,
                cipher: None,
            }))),
            // ZMTP 1.0 and 2.0 frames have no command flag, so this cannot happen.
            Some(Item::Command(command)) => Err(HandshakeError::UnexpectedCommand {
                name: Bytes::copy_from_slice(command.name()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn flatten(out: &WriteBatch) -> Vec<u8> {
        out.chunks().flatten().copied().collect()
    }

    #[test]
    fn downgrade_check() {
        for version in [Version::V1_0, Version::V2_0, Version::V3_0, Version::V3_1] {
            assert_eq!(check_downgrade(Mechanism::NULL, version), Ok(()));
        }
        for mechanism in [Mechanism::PLAIN, Mechanism::CURVE, Mechanism::GSSAPI] {
            for version in [Version::V1_0, Version::V2_0] {
                assert_eq!(
                    check_downgrade(mechanism, version),
                    Err(HandshakeError::DowngradeRefused { version })
                );
            }
            for version in [Version::V3_0, Version::V3_1] {
                assert_eq!(check_downgrade(mechanism, version), Ok(()));
            }
        }
    }

    fn plain(out: &mut WriteBatch) -> Handshake {
        let mut config = HandshakeConfig::new(SocketType::Dealer);
        config.mechanism = MechanismConfig::TestOnly(Mechanism::PLAIN);
        Handshake::new(config, out).unwrap()
    }

    #[test]
    fn downgrade_refused_for_a_zmtp_2_peer() {
        let mut out = WriteBatch::new(Version::V3_1);
        let mut hs = plain(&mut out);
        let mut input = BytesMut::from(&b"\xff\0\0\0\0\0\0\0\x01\x7f\x01\x06\x00\x00"[..]);
        assert_eq!(
            hs.handle_input(&mut input, &mut out).unwrap_err(),
            HandshakeError::DowngradeRefused {
                version: Version::V2_0
            }
        );
        // We answered the greeting's stages as libzmq does, but sent no identity frame.
        let mut expected = Vec::from(&b"\xff\0\0\0\0\0\0\0\x01\x7f\x03"[..]);
        expected.push(SocketType::Dealer.as_u8());
        assert_eq!(flatten(&out), expected);
        assert!(matches!(
            hs.handle_input(&mut input, &mut out),
            Err(HandshakeError::Finished)
        ));
    }

    #[test]
    fn downgrade_refused_for_versioned_and_unversioned_1_0_peers() {
        let mut out = WriteBatch::new(Version::V3_1);
        let mut hs = plain(&mut out);
        let mut input = BytesMut::from(&b"\xff\0\0\0\0\0\0\0\x01\x7f\x00\x06"[..]);
        assert_eq!(
            hs.handle_input(&mut input, &mut out).unwrap_err(),
            HandshakeError::DowngradeRefused {
                version: Version::V1_0
            }
        );

        let mut out = WriteBatch::new(Version::V3_1);
        let mut hs = plain(&mut out);
        let mut input = BytesMut::from(&b"\x01\x00"[..]);
        assert_eq!(
            hs.handle_input(&mut input, &mut out).unwrap_err(),
            HandshakeError::DowngradeRefused {
                version: Version::V1_0
            }
        );
        assert_eq!(flatten(&out).len(), 10, "only our signature went out");
    }

    #[test]
    fn plain_against_null_is_a_mismatch() {
        let mut out = WriteBatch::new(Version::V3_1);
        let mut hs = plain(&mut out);
        let mut input = BytesMut::from(&Greeting::new(Mechanism::NULL, false).to_bytes()[..]);
        assert_eq!(
            hs.handle_input(&mut input, &mut out).unwrap_err(),
            HandshakeError::MechanismMismatch {
                ours: Mechanism::PLAIN,
                theirs: Mechanism::NULL
            }
        );
        // Our greeting announced PLAIN.
        assert_eq!(&flatten(&out)[12..17], b"PLAIN");
    }
}
