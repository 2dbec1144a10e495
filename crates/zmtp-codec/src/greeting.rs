//! The greeting: ours to send, and an incremental reader of the peer's.
//!
//! libzmq sends its greeting in stages and waits on the peer between them, so a peer that
//! waited for a whole 64-byte greeting before sending its own would deadlock. The reader
//! here reports each stage as soon as the bytes for it are in, and tells the caller what to
//! send next (RFC 23, "Version Negotiation"; libzmq `zmtp_engine.cpp`):
//!
//! 1. Send our 10-byte signature at once ([`Greeting::signature`]).
//! 2. When the peer's 10-byte signature is in, send our major version byte
//!    ([`Progress::SendVersion`], [`Greeting::version_major`]). If the peer's first byte is
//!    not `0xFF`, or bit 0 of its byte 9 is clear, it is an unversioned ZMTP 1.0 peer
//!    ([`Progress::Unversioned`]).
//! 3. When the peer's version byte is in, send the rest: for a ZMTP 3.x peer bytes 11-63
//!    of our greeting, for a ZMTP 1.0 or 2.0 peer our socket-type byte
//!    ([`Progress::SendRest`]).
//! 4. When the peer's whole greeting is in (64 bytes, or 12 for ZMTP 1.0 and 2.0), the
//!    reader consumes it and reports it ([`Progress::Done`]).
//!
//! The padding of the signature is never validated: libzmq fills it with its identity
//! length plus one, so its padding is `00 00 00 00 00 00 00 01`.

use bytes::{Buf, BytesMut};
use core::fmt;

use crate::frame::FrameFormat;
use crate::limits::{GREETING_SIZE, MECHANISM_SIZE, SIGNATURE_SIZE, V2_GREETING_SIZE};
use crate::mechanism::Mechanism;

/// Our greeting: ZMTP 3.1 with a mechanism and the as-server flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Greeting {
    /// The security mechanism we speak.
    pub mechanism: Mechanism,
    /// Whether we act as the server of the mechanism. libzmq always sends 0 and ignores
    /// the peer's value; roles come from configuration.
    pub as_server: bool,
    /// The length of the identity we would send a ZMTP 1.0 peer. The signature's padding
    /// is this length plus one, as in libzmq, which makes our signature the start of a
    /// valid ZMTP 1.0 identity frame.
    pub v1_identity_len: u8,
}

/// Where the version byte sits in a greeting.
const VERSION_MAJOR: usize = 10;
/// Where the minor version (3.x) or socket type (1.0 and 2.0) sits.
const VERSION_MINOR: usize = 11;
/// Where the mechanism name starts.
const MECHANISM_AT: usize = 12;
/// Where the as-server byte sits.
const AS_SERVER_AT: usize = MECHANISM_AT + MECHANISM_SIZE;

impl Greeting {
    /// The major version we announce.
    pub const MAJOR: u8 = 3;
    /// The minor version we announce (ZMTP 3.1, RFC 37).
    pub const MINOR: u8 = 1;

    /// A greeting for `mechanism`, with an empty ZMTP 1.0 identity.
    pub const fn new(mechanism: Mechanism, as_server: bool) -> Self {
        Self {
            mechanism,
            as_server,
            v1_identity_len: 0,
        }
    }

    /// All 64 bytes.
    pub fn to_bytes(&self) -> [u8; GREETING_SIZE] {
        let mut out = [0u8; GREETING_SIZE];
        out[0] = 0xFF;
        out[1..9].copy_from_slice(&(u64::from(self.v1_identity_len) + 1).to_be_bytes());
        out[9] = 0x7F;
        out[VERSION_MAJOR] = Self::MAJOR;
        out[VERSION_MINOR] = Self::MINOR;
        out[MECHANISM_AT..AS_SERVER_AT].copy_from_slice(self.mechanism.as_wire());
        out[AS_SERVER_AT] = u8::from(self.as_server);
        out
    }

    /// The first stage: the 10-byte signature, sent at once.
    pub fn signature(&self) -> [u8; SIGNATURE_SIZE] {
        let mut out = [0u8; SIGNATURE_SIZE];
        out.copy_from_slice(&self.to_bytes()[..SIGNATURE_SIZE]);
        out
    }

    /// The second stage: the major version byte, sent once the peer's signature is in.
    pub const fn version_major(&self) -> [u8; 1] {
        [Self::MAJOR]
    }

    /// The third stage for a ZMTP 3.x peer: bytes 11 to 63 (minor version, mechanism,
    /// as-server, filler).
    pub fn rest(&self) -> [u8; GREETING_SIZE - VERSION_MINOR] {
        let mut out = [0u8; GREETING_SIZE - VERSION_MINOR];
        out.copy_from_slice(&self.to_bytes()[VERSION_MINOR..]);
        out
    }
}

/// The protocol a peer speaks, decided by its greeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// ZMTP 1.0 (RFC 13): no greeting, or a revision-0 one; no mechanisms.
    V1_0,
    /// ZMTP 2.0 (RFC 15): a 12-byte greeting; no mechanisms, no commands.
    V2_0,
    /// ZMTP 3.0 (RFC 23): subscriptions travel as `\x01`/`\x00` data frames.
    V3_0,
    /// ZMTP 3.1 (RFC 37) and any later version: subscriptions travel as commands.
    V3_1,
}

impl Version {
    /// The frame layout of this version.
    pub const fn frame_format(self) -> FrameFormat {
        match self {
            Self::V1_0 => FrameFormat::V1,
            Self::V2_0 => FrameFormat::V2,
            Self::V3_0 | Self::V3_1 => FrameFormat::V3,
        }
    }

    /// Whether frames may carry commands (ZMTP 3.x).
    pub const fn has_commands(self) -> bool {
        matches!(self, Self::V3_0 | Self::V3_1)
    }

    /// Whether subscriptions are sent as SUBSCRIBE and CANCEL commands (ZMTP 3.1) rather
    /// than as data frames.
    pub const fn subscription_commands(self) -> bool {
        matches!(self, Self::V3_1)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V1_0 => "ZMTP/1.0",
            Self::V2_0 => "ZMTP/2.0",
            Self::V3_0 => "ZMTP/3.0",
            Self::V3_1 => "ZMTP/3.1",
        })
    }
}

/// The peer's greeting, once read whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerGreeting {
    /// The protocol to speak with this peer.
    pub version: Version,
    /// The version byte as sent (0 for ZMTP 1.0 with a revision, 1 for 2.0, 3 for 3.x).
    pub major: u8,
    /// The minor version as sent (ZMTP 3.x only; 0 otherwise).
    pub minor: u8,
    /// The peer's mechanism (ZMTP 3.x); ZMTP 1.0 and 2.0 peers have only NULL.
    pub mechanism: Mechanism,
    /// The peer's as-server flag (ZMTP 3.x); libzmq ignores it, and so should engines.
    pub as_server: bool,
    /// The socket-type byte of a ZMTP 1.0 (versioned) or 2.0 greeting.
    pub socket_type: Option<u8>,
}

/// What the caller of [`GreetingReader::poll`] must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Wait for more input, then poll again.
    NeedMore,
    /// The peer's signature is in: send [`Greeting::version_major`] now, then poll again.
    SendVersion,
    /// The peer's version byte is in: send the rest of our greeting now, then poll again.
    SendRest(Rest),
    /// The peer's greeting is complete and was consumed from the input.
    Done(PeerGreeting),
    /// The peer speaks ZMTP 1.0 without a greeting. Nothing was consumed: the buffered
    /// bytes are the start of its identity frame, to be read with a
    /// [`FrameFormat::V1`] decoder. Complete our own identity frame by sending
    /// `v1_identity_len` bytes of identity (our signature was its header).
    Unversioned,
}

/// Which rest of the greeting the peer expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rest {
    /// A ZMTP 3.x peer: send [`Greeting::rest`] (53 bytes).
    V3,
    /// A ZMTP 1.0 or 2.0 peer: send our socket-type byte (libzmq's numeric value); the
    /// connection then speaks ZMTP 2.0 (or 1.0) and starts with an identity frame.
    SocketType,
}

/// Reading the greeting went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GreetingError {
    /// [`GreetingReader::poll`] was called after it reported [`Progress::Done`] or
    /// [`Progress::Unversioned`].
    AlreadyDone,
}

impl fmt::Display for GreetingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyDone => f.write_str(
                "the greeting was already read; decode frames with a Decoder from here on",
            ),
        }
    }
}

impl core::error::Error for GreetingError {}

/// Reads a peer's greeting in stages (see the [module docs](self)).
#[derive(Clone, Debug, Default)]
pub struct GreetingReader {
    stage: Stage,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Stage {
    #[default]
    Signature,
    Version,
    Rest(usize),
    Finished,
}

impl GreetingReader {
    /// A reader waiting for the first byte.
    pub const fn new() -> Self {
        Self {
            stage: Stage::Signature,
        }
    }

    /// Examines the buffered input and reports the next step. It reports each step once;
    /// call it again after acting on anything but [`Progress::NeedMore`]. Input is consumed
    /// only with [`Progress::Done`], and then only the greeting's bytes.
    pub fn poll(&mut self, input: &mut BytesMut) -> Result<Progress, GreetingError> {
        match self.stage {
            Stage::Signature => {
                let Some(&first) = input.first() else {
                    return Ok(Progress::NeedMore);
                };
                if first != 0xFF {
                    self.stage = Stage::Finished;
                    return Ok(Progress::Unversioned);
                }
                let Some(&last) = input.get(SIGNATURE_SIZE - 1) else {
                    return Ok(Progress::NeedMore);
                };
                // Bit 0 of byte 9 is the flags byte of a ZMTP 1.0 long identity frame when
                // clear; a versioned signature ends in 0x7F.
                if last & 0x01 == 0 {
                    self.stage = Stage::Finished;
                    return Ok(Progress::Unversioned);
                }
                self.stage = Stage::Version;
                Ok(Progress::SendVersion)
            }
            Stage::Version => {
                let Some(&major) = input.get(VERSION_MAJOR) else {
                    return Ok(Progress::NeedMore);
                };
                if major <= 1 {
                    self.stage = Stage::Rest(V2_GREETING_SIZE);
                    Ok(Progress::SendRest(Rest::SocketType))
                } else {
                    self.stage = Stage::Rest(GREETING_SIZE);
                    Ok(Progress::SendRest(Rest::V3))
                }
            }
            Stage::Rest(size) => {
                if input.len() < size {
                    return Ok(Progress::NeedMore);
                }
                let greeting = parse_whole(&input[..size]);
                input.advance(size);
                self.stage = Stage::Finished;
                Ok(Progress::Done(greeting))
            }
            Stage::Finished => Err(GreetingError::AlreadyDone),
        }
    }
}

/// Interprets a complete greeting of 12 (major 0 or 1) or 64 bytes.
fn parse_whole(bytes: &[u8]) -> PeerGreeting {
    let major = bytes[VERSION_MAJOR];
    if major <= 1 {
        return PeerGreeting {
            version: if major == 0 {
                Version::V1_0
            } else {
                Version::V2_0
            },
            major,
            minor: 0,
            mechanism: Mechanism::NULL,
            as_server: false,
            socket_type: Some(bytes[VERSION_MINOR]),
        };
    }
    let minor = bytes[VERSION_MINOR];
    let mut mechanism = [0u8; MECHANISM_SIZE];
    mechanism.copy_from_slice(&bytes[MECHANISM_AT..AS_SERVER_AT]);
    PeerGreeting {
        // As libzmq: 3.0 only for exactly 3.0; 2.x and anything above 3.0 speak 3.1.
        version: if major == 3 && minor == 0 {
            Version::V3_0
        } else {
            Version::V3_1
        },
        major,
        minor,
        mechanism: Mechanism::from_wire(mechanism),
        as_server: bytes[AS_SERVER_AT] & 0x01 == 1,
        socket_type: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> alloc::vec::Vec<Progress> {
        let mut reader = GreetingReader::new();
        let mut buf = BytesMut::from(input);
        let mut out = alloc::vec::Vec::new();
        loop {
            match reader.poll(&mut buf) {
                Ok(Progress::NeedMore) => {
                    out.push(Progress::NeedMore);
                    return out;
                }
                Ok(p) => out.push(p),
                Err(GreetingError::AlreadyDone) => return out,
            }
        }
    }

    #[test]
    fn our_greeting_bytes() {
        let g = Greeting::new(Mechanism::NULL, false).to_bytes();
        assert_eq!(&g[..12], b"\xff\0\0\0\0\0\0\0\x01\x7f\x03\x01");
        assert_eq!(&g[12..16], b"NULL");
        assert!(g[16..].iter().all(|&b| b == 0));
        let g = Greeting::new(Mechanism::CURVE, true).to_bytes();
        assert_eq!(g[32], 1);
    }

    #[test]
    fn stages_of_a_libzmq_peer() {
        // libzmq's own greeting, with its non-zero padding, fed in stages.
        let peer = Greeting::new(Mechanism::PLAIN, false).to_bytes();
        let mut reader = GreetingReader::new();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&peer[..9]);
        assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
        buf.extend_from_slice(&peer[9..10]);
        assert_eq!(reader.poll(&mut buf), Ok(Progress::SendVersion));
        assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
        buf.extend_from_slice(&peer[10..11]);
        assert_eq!(reader.poll(&mut buf), Ok(Progress::SendRest(Rest::V3)));
        buf.extend_from_slice(&peer[11..63]);
        assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
        buf.extend_from_slice(&peer[63..]);
        buf.extend_from_slice(b"\x04\x06\x05READY");
        let Ok(Progress::Done(g)) = reader.poll(&mut buf) else {
            panic!("greeting not done")
        };
        assert_eq!(g.version, Version::V3_1);
        assert_eq!(g.mechanism, Mechanism::PLAIN);
        assert_eq!(
            &buf[..],
            b"\x04\x06\x05READY",
            "only the greeting is consumed"
        );
        assert_eq!(reader.poll(&mut buf), Err(GreetingError::AlreadyDone));
    }

    #[test]
    fn padding_is_never_validated() {
        let mut peer = Greeting::new(Mechanism::NULL, false).to_bytes();
        peer[1..9].copy_from_slice(b"\xde\xad\xbe\xef\x01\x02\x03\x04");
        peer[11] = 0;
        let p = run(&peer);
        assert!(matches!(
            p[2],
            Progress::Done(PeerGreeting {
                version: Version::V3_0,
                ..
            })
        ));
    }

    #[test]
    fn versions() {
        let mut peer = Greeting::new(Mechanism::NULL, false).to_bytes();
        for (major, minor, version) in [
            (3, 0, Version::V3_0),
            (3, 1, Version::V3_1),
            (3, 7, Version::V3_1),
            (4, 0, Version::V3_1),
            (2, 0, Version::V3_1),
        ] {
            peer[10] = major;
            peer[11] = minor;
            match run(&peer)[2] {
                Progress::Done(g) => {
                    assert_eq!((g.version, g.major, g.minor), (version, major, minor));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn zmtp_2_and_versioned_1() {
        for (rev, version) in [(1, Version::V2_0), (0, Version::V1_0)] {
            let peer = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, rev, 5, 0x00, 0x00];
            let p = run(&peer);
            assert_eq!(p[0], Progress::SendVersion);
            assert_eq!(p[1], Progress::SendRest(Rest::SocketType));
            match p[2] {
                Progress::Done(g) => {
                    assert_eq!(g.version, version);
                    assert_eq!(g.socket_type, Some(5));
                    assert_eq!(g.mechanism, Mechanism::NULL);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn unversioned_1_0() {
        // Short identity frame: length 1 (flags only), flags 0.
        assert_eq!(run(b"\x01\x00"), [Progress::Unversioned]);
        // Long identity frame: bit 0 of byte 9 (its flags byte) is clear.
        assert_eq!(run(b"\xff\0\0\0\0\0\0\0\x01\x00"), [Progress::Unversioned]);
        let mut reader = GreetingReader::new();
        let mut buf = BytesMut::from(&b"\x01\x00"[..]);
        assert_eq!(reader.poll(&mut buf), Ok(Progress::Unversioned));
        assert_eq!(buf.len(), 2, "nothing is consumed");
    }
}
