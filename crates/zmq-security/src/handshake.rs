//! The connection handshake: greeting, version downgrade, then the security mechanism.

use alloc::boxed::Box;
use bytes::{Bytes, BytesMut};
use zmtp_codec::greeting::{Progress, Rest};
use zmtp_codec::metadata::{IDENTITY, SOCKET_TYPE};
use zmtp_codec::{
    Decoder, Greeting, GreetingReader, Item, Mechanism, Metadata, PeerGreeting, SocketType,
    Version, WriteBatch,
};

use crate::config::{HandshakeConfig, MechanismConfig};
use crate::error::MAX_ROUTING_ID;
use crate::{null, HandshakeError};

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
///      our READY goes out at once, then the peer's READY is awaited).
///    - ZMTP 2.0 and 1.0 with a revision: only NULL may talk to them (downgrade
///      protection); our identity frame goes out and the peer's is awaited. The peer's
///      socket type is reported, not checked, as libzmq does.
///    - ZMTP 1.0 without a greeting (the peer's first bytes are an identity frame): only
///      NULL; our signature was the header of our identity frame, so its body follows, and
///      the peer's identity frame is read from the bytes already buffered.
///
/// # Call order
///
/// Create the handshake with the connection's [`WriteBatch`], then each time bytes arrive,
/// append them to the connection's input buffer and call [`Handshake::handle_input`], and
/// write out whatever the batch holds, until it returns [`Established`] or an error. After an
/// error, write what the batch holds (it may end in an ERROR command), then close. The
/// handshake reads no clock: the engine enforces `ZMQ_HANDSHAKE_IVL`.
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
    socket_type: SocketType,
    routing_id: Bytes,
    mechanism: MechanismConfig,
    greeting: Greeting,
    /// The body of our READY, built once.
    ready: Bytes,
    state: State,
}

/// The result of the peer's handshake: who the peer is, and how to read the rest of its
/// stream.
///
/// More fields (such as a ZAP `User-Id`) will be added, hence `#[non_exhaustive]`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Established {
    /// The protocol the peer speaks; the output batch was switched to it.
    pub version: Version,
    /// The peer's socket type: from its READY (ZMTP 3.x, checked against ours), or from its
    /// greeting's socket-type byte (ZMTP 2.0 and versioned 1.0, not checked, and `None` if
    /// the byte names no type). `None` for an unversioned ZMTP 1.0 peer, which sends none.
    pub peer_socket_type: Option<SocketType>,
    /// The peer's routing id: its `Identity` property (ZMTP 3.x; empty if absent), or its
    /// identity frame (ZMTP 1.0 and 2.0).
    pub peer_routing_id: Bytes,
    /// Every property of the peer's READY, in order (empty for ZMTP 1.0 and 2.0).
    pub peer_metadata: Metadata,
    /// A decoder for the rest of the peer's stream, in its frame format, with the codec's
    /// defaults: no message size limit (set `ZMQ_MAXMSGSIZE` with
    /// [`Decoder::set_max_message_size`]) and the handshake command limit.
    pub decoder: Decoder,
}

/// What a step of the handshake left to do.
#[derive(Debug)]
pub(crate) enum Step<S> {
    /// Waiting for more input, in state `S`.
    Wait(S),
    /// The handshake is complete (boxed: it is far larger than any state).
    Done(Box<Established>),
}

#[derive(Debug)]
enum State {
    /// Reading the peer's greeting.
    Greeting(GreetingReader),
    /// ZMTP 1.0 or 2.0: waiting for the peer's identity frame.
    Identity(ExpectIdentity),
    /// ZMTP 3.x: the mechanism's handshake.
    Mechanism(MechanismState),
    /// Succeeded or failed.
    Ended,
}

/// The mechanism handshakes, one state type per step.
#[derive(Debug)]
enum MechanismState {
    Null(null::ExpectReady),
}

impl Handshake {
    /// Starts a handshake; pushes our 10-byte greeting signature into `out` at once.
    ///
    /// Fails if the configuration cannot be sent: a routing id over 255 bytes, application
    /// metadata naming `Socket-Type` or `Identity`, or a socket type without ZMTP (STREAM).
    pub fn new(config: HandshakeConfig, out: &mut WriteBatch) -> Result<Self, HandshakeError> {
        let HandshakeConfig {
            socket_type,
            routing_id,
            metadata,
            mechanism,
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
        let greeting = Greeting {
            v1_identity_len,
            ..Greeting::new(mechanism.mechanism(), false)
        };
        out.push_raw(&greeting.signature());
        Ok(Self {
            ready: null::ready_body(socket_type, &routing_id, &metadata),
            socket_type,
            routing_id,
            mechanism,
            greeting,
            state: State::Greeting(GreetingReader::new()),
        })
    }

    /// Consumes handshake bytes from the front of `input`, pushes replies into `out`.
    ///
    /// Returns `Ok(None)` while more input is needed; `Ok(Some(Established))` when done —
    /// bytes left in `input` belong to the traffic phase and must be decoded with
    /// [`Established::decoder`]. Calls `out.set_version(..)` once the peer's version is
    /// known. After an error, `out` may hold an ERROR command for the peer: write it before
    /// closing. Any call after success or failure returns [`HandshakeError::Finished`].
    pub fn handle_input(
        &mut self,
        input: &mut BytesMut,
        out: &mut WriteBatch,
    ) -> Result<Option<Established>, HandshakeError> {
        let state = core::mem::replace(&mut self.state, State::Ended);
        match self.run(state, input, out)? {
            Step::Wait(state) => {
                self.state = state;
                Ok(None)
            }
            Step::Done(established) => Ok(Some(*established)),
        }
    }

    /// Advances through as many states as the buffered input allows.
    fn run(
        &self,
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
                            out.push_raw(&[self.socket_type.as_u8()]);
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
                State::Mechanism(MechanismState::Null(expect)) => {
                    return Ok(match expect.handle(input, out)? {
                        Step::Wait(expect) => {
                            Step::Wait(State::Mechanism(MechanismState::Null(expect)))
                        }
                        Step::Done(established) => Step::Done(established),
                    })
                }
                State::Ended => return Err(HandshakeError::Finished),
            };
        }
    }

    /// The peer's whole greeting is in: switch to its version and start what comes next.
    fn greeted(&self, peer: &PeerGreeting, out: &mut WriteBatch) -> Result<State, HandshakeError> {
        out.set_version(peer.version);
        let ours = self.mechanism.mechanism();
        if !peer.version.has_commands() {
            check_downgrade(ours, peer.version)?;
            out.push_data(false, self.routing_id.clone());
            return Ok(State::Identity(ExpectIdentity::new(
                peer.version,
                peer.socket_type.and_then(SocketType::from_u8),
            )));
        }
        if peer.mechanism != ours {
            return Err(HandshakeError::MechanismMismatch {
                ours,
                theirs: peer.mechanism,
            });
        }
        match &self.mechanism {
            MechanismConfig::Null => Ok(State::Mechanism(MechanismState::Null(
                null::ExpectReady::start(peer.version, self.socket_type, &self.ready, out)?,
            ))),
            #[cfg(test)]
            MechanismConfig::TestOnly(_) => Err(HandshakeError::Internal {
                what: "a test-only mechanism has no handshake",
            }),
        }
    }

    /// The peer speaks ZMTP 1.0 without a greeting: its buffered bytes are its identity
    /// frame, and our signature was the header of ours.
    fn unversioned(&self, out: &mut WriteBatch) -> Result<State, HandshakeError> {
        out.set_version(Version::V1_0);
        check_downgrade(self.mechanism.mechanism(), Version::V1_0)?;
        // Our signature announced a ZMTP 1.0 frame of `routing_id.len() + 1` bytes (the flags
        // byte, 0x7F, then the body): its body completes it.
        out.push_raw(&self.routing_id);
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
                peer_routing_id: body,
                peer_metadata: Metadata::new(),
                decoder: Decoder::new(self.version.frame_format()),
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
