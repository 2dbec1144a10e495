//! CURVE traffic: every ZMTP frame, message or command, travels as one MESSAGE.
//!
//! MESSAGE = `07 MESSAGE`, an 8-byte short nonce, then Box\[flags + payload\](sender′→peer′)
//! with the connection's precomputed key. Inside the box the flags byte carries MORE in
//! bit 0 and COMMAND in bit 1 (libzmq's `msg_t` flags), so that PING, PONG, SUBSCRIBE and
//! CANCEL travel encrypted.
//!
//! libzmq sends each MESSAGE as a ZMTP *data* frame with no flags (its `msg_t` for the box
//! is new, so the COMMAND and MORE bits of the frame are clear), and ORs the outer frame's
//! flags into the opened message. We send exactly that (a flagged outer frame would turn a
//! libzmq peer's message into a command), and accept MESSAGE as a data or a command frame,
//! taking the flags from inside the box only.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use core::fmt;
use zmtp_codec::frame::{FrameFlags, FrameFormat, FrameHeader, MAX_HEADER_SIZE};
use zmtp_codec::{Command, DecodeError, Item, WriteBatch};

use super::{read_u64, short_nonce, BoxKey, MESSAGE_CLIENT_PREFIX, MESSAGE_SERVER_PREFIX, TAG_LEN};
use crate::error::{CryptoFailure, MechanismCommand};
use crate::HandshakeError;

/// The MESSAGE command name, as it starts the frame.
const MESSAGE: &[u8] = b"\x07MESSAGE";

/// MORE inside the box (bit 0).
const BOX_MORE: u8 = 0x01;
/// COMMAND inside the box (bit 1).
const BOX_COMMAND: u8 = 0x02;

/// The bytes a MESSAGE adds to a frame's payload: name 8, nonce 8, tag 16, flags 1.
const OVERHEAD: usize = MESSAGE.len() + 8 + TAG_LEN + 1;

/// Seals and opens one CURVE connection's traffic; [`Established::cipher`] after a CURVE
/// handshake.
///
/// It is two independent halves, so that reading and writing can be driven apart: take
/// them with [`CurveCipher::split`]. It cannot be cloned: two copies would seal with the same
/// nonces.
///
/// [`Established::cipher`]: crate::Established::cipher
#[derive(Debug)]
pub struct CurveCipher {
    sealer: CurveSealer,
    opener: CurveOpener,
}

impl CurveCipher {
    /// The client's cipher: seals with `CurveZMQMESSAGEC`, opens `CurveZMQMESSAGES`.
    pub(crate) fn client(key: BoxKey, next_nonce: u64, peer_nonce: u64) -> Self {
        Self::new(
            key,
            MESSAGE_CLIENT_PREFIX,
            MESSAGE_SERVER_PREFIX,
            next_nonce,
            peer_nonce,
        )
    }

    /// The server's cipher: seals with `CurveZMQMESSAGES`, opens `CurveZMQMESSAGEC`.
    pub(crate) fn server(key: BoxKey, next_nonce: u64, peer_nonce: u64) -> Self {
        Self::new(
            key,
            MESSAGE_SERVER_PREFIX,
            MESSAGE_CLIENT_PREFIX,
            next_nonce,
            peer_nonce,
        )
    }

    fn new(
        key: BoxKey,
        ours: &'static [u8; 16],
        theirs: &'static [u8; 16],
        next_nonce: u64,
        peer_nonce: u64,
    ) -> Self {
        Self {
            sealer: CurveSealer {
                key: key.clone(),
                prefix: ours,
                next: Some(next_nonce),
            },
            opener: CurveOpener {
                key,
                prefix: theirs,
                last: peer_nonce,
            },
        }
    }

    /// The sealing half and the opening half.
    pub fn split(self) -> (CurveSealer, CurveOpener) {
        (self.sealer, self.opener)
    }

    /// The sealing half.
    pub fn sealer(&mut self) -> &mut CurveSealer {
        &mut self.sealer
    }

    /// The opening half.
    pub fn opener(&mut self) -> &mut CurveOpener {
        &mut self.opener
    }

    /// [`CurveSealer::seal_data`].
    pub fn seal_data(
        &mut self,
        more: bool,
        payload: &[u8],
        out: &mut WriteBatch,
    ) -> Result<(), HandshakeError> {
        self.sealer.seal_data(more, payload, out)
    }

    /// [`CurveSealer::seal_command`].
    pub fn seal_command(
        &mut self,
        command: &Command,
        out: &mut WriteBatch,
    ) -> Result<(), HandshakeError> {
        self.sealer.seal_command(command, out)
    }

    /// [`CurveSealer::seal_subscription`].
    pub fn seal_subscription(
        &mut self,
        subscribe: bool,
        topic: &[u8],
        out: &mut WriteBatch,
    ) -> Result<(), HandshakeError> {
        self.sealer.seal_subscription(subscribe, topic, out)
    }

    /// [`CurveOpener::open`].
    pub fn open(&mut self, item: Item) -> Result<Item, HandshakeError> {
        self.opener.open(item)
    }
}

/// The sealing half of a [`CurveCipher`]: turns each outgoing frame into a MESSAGE.
pub struct CurveSealer {
    key: BoxKey,
    prefix: &'static [u8; 16],
    /// The next short nonce; `None` once all are used.
    next: Option<u64>,
}

impl CurveSealer {
    /// The bytes a MESSAGE adds to a frame's payload (its body; the ZMTP frame header comes
    /// on top): name 8, short nonce 8, tag 16, flags 1.
    pub const OVERHEAD: usize = OVERHEAD;

    /// The size of the ZMTP frame (header included) that carries a `payload_len`-byte
    /// payload.
    pub fn sealed_frame_len(payload_len: usize) -> usize {
        let body = OVERHEAD + payload_len;
        FrameHeader::new(FrameFormat::V3, FrameFlags::NONE, body)
            .as_bytes()
            .len()
            + body
    }

    /// The short nonce the next MESSAGE will carry.
    pub const fn next_nonce(&self) -> Option<u64> {
        self.next
    }

    /// Appends to `out` a whole ZMTP frame carrying `payload` with `flags` (MORE and
    /// COMMAND; others are dropped) in a MESSAGE, encrypting in place in `out`.
    pub fn seal_frame(
        &mut self,
        flags: FrameFlags,
        payload: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), HandshakeError> {
        self.seal_appending(flags, payload.len(), out, payload, |_| {})
    }

    /// Seals one data frame (`more`: more frames of the message follow) into `out`.
    pub fn seal_data(
        &mut self,
        more: bool,
        payload: &[u8],
        out: &mut WriteBatch,
    ) -> Result<(), HandshakeError> {
        let flags = if more {
            FrameFlags::MORE
        } else {
            FrameFlags::NONE
        };
        // Sealed in place at the end of the batch: one copy of the payload.
        out.push_with(|tail| self.seal_frame(flags, payload, tail))
    }

    /// Seals a command (PING, PONG, SUBSCRIBE, CANCEL, JOIN, LEAVE...) into `out`.
    pub fn seal_command(
        &mut self,
        command: &Command,
        out: &mut WriteBatch,
    ) -> Result<(), HandshakeError> {
        command
            .validate()
            .map_err(|e| HandshakeError::Decode(DecodeError::Command(e)))?;
        out.push_with(|tail| {
            self.seal_appending(
                FrameFlags::COMMAND,
                command.encoded_len(),
                tail,
                &[],
                |buf| {
                    // Validated above, so encoding cannot fail.
                    let _ = command.encode(buf);
                },
            )
        })
    }

    /// Seals a subscription (or its cancellation) in the form the peer's version uses, as
    /// libzmq's CURVE encoder does: a SUBSCRIBE or CANCEL command for ZMTP 3.1, a data frame
    /// starting with `01` or `00` for ZMTP 3.0.
    pub fn seal_subscription(
        &mut self,
        subscribe: bool,
        topic: &[u8],
        out: &mut WriteBatch,
    ) -> Result<(), HandshakeError> {
        if out.encoder().version().subscription_commands() {
            let topic = Bytes::copy_from_slice(topic);
            let command = if subscribe {
                Command::Subscribe(topic)
            } else {
                Command::Cancel(topic)
            };
            self.seal_command(&command, out)
        } else {
            out.push_with(|tail| {
                self.seal_appending(FrameFlags::NONE, 1 + topic.len(), tail, &[], |buf| {
                    buf.put_u8(u8::from(subscribe));
                    buf.put_slice(topic);
                })
            })
        }
    }

    /// Appends the frame header, MESSAGE, the nonce, room for the tag, the flags byte and
    /// the payload (what `write` writes, then `src`, appended as it is sealed: the payload
    /// of a data frame is copied, encrypted and authenticated a piece at a time), and
    /// fills in the tag.
    fn seal_appending(
        &mut self,
        flags: FrameFlags,
        payload_len: usize,
        out: &mut BytesMut,
        src: &[u8],
        write: impl FnOnce(&mut BytesMut),
    ) -> Result<(), HandshakeError> {
        let nonce = self.next.ok_or(HandshakeError::NonceExhausted)?;
        self.next = nonce.checked_add(1);
        let body_len = OVERHEAD + payload_len;
        out.reserve(MAX_HEADER_SIZE + body_len);
        // A data frame without flags, as libzmq sends it.
        out.put_slice(FrameHeader::new(FrameFormat::V3, FrameFlags::NONE, body_len).as_bytes());
        out.put_slice(MESSAGE);
        out.put_u64(nonce);
        let tag_at = out.len();
        out.put_bytes(0, TAG_LEN);
        let plain_at = out.len();
        let mut box_flags = 0;
        if flags.more() {
            box_flags |= BOX_MORE;
        }
        if flags.command() {
            box_flags |= BOX_COMMAND;
        }
        out.put_u8(box_flags);
        write(out);
        debug_assert_eq!(out.len() - plain_at + src.len(), 1 + payload_len);
        let tag = self
            .key
            .seal_appending(&short_nonce(self.prefix, nonce), out, plain_at, src);
        out[tag_at..plain_at].copy_from_slice(&tag);
        Ok(())
    }
}

impl fmt::Debug for CurveSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurveSealer")
            .field("prefix", &core::str::from_utf8(self.prefix).unwrap_or("?"))
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The opening half of a [`CurveCipher`]: turns each incoming MESSAGE back into the frame
/// it carries.
pub struct CurveOpener {
    key: BoxKey,
    prefix: &'static [u8; 16],
    /// The peer's last short nonce; the next must be above it.
    last: u64,
}

impl CurveOpener {
    /// The peer's last short nonce.
    pub const fn last_nonce(&self) -> u64 {
        self.last
    }

    /// Opens an item the traffic decoder produced: a MESSAGE (as a data frame, as libzmq
    /// sends it, or as a command frame) becomes the frame it carries, classified with
    /// [`Item::from_frame`]. Anything else is an error, as in libzmq: after a CURVE
    /// handshake every frame is a MESSAGE.
    ///
    /// The payload is decrypted in place when the frame's buffer is not shared, else in one
    /// copy.
    pub fn open(&mut self, item: Item) -> Result<Item, HandshakeError> {
        let body = match item {
            Item::Data { body, .. } => {
                if body.len() < MESSAGE.len() || body[..MESSAGE.len()] != *MESSAGE {
                    return Err(HandshakeError::UnexpectedMessage);
                }
                // A copy only when inline (a MESSAGE of at most five bytes of content).
                let mut body = body.into_bytes();
                body.advance(MESSAGE.len());
                body
            }
            Item::Command(Command::Message(body)) => body,
            Item::Command(other) => {
                return Err(HandshakeError::UnexpectedCommand {
                    name: Bytes::copy_from_slice(other.name()),
                })
            }
        };
        self.open_body(body)
    }

    /// Opens the body of a MESSAGE (after its name): nonce, tag, encrypted flags and
    /// payload.
    pub fn open_body(&mut self, body: Bytes) -> Result<Item, HandshakeError> {
        if body.len() < 8 + TAG_LEN + 1 {
            return Err(HandshakeError::MalformedCommand {
                command: MechanismCommand::Message,
                what: "a CURVE MESSAGE has at least 33 bytes",
            });
        }
        let nonce = read_u64(&body);
        if nonce <= self.last {
            return Err(HandshakeError::InvalidSequence {
                nonce,
                last: self.last,
            });
        }
        let nonce_bytes = short_nonce(self.prefix, nonce);
        let opened = match body.try_into_mut() {
            // A body of its own is decrypted where it lies.
            Ok(mut unique) => {
                unique.advance(8);
                let mut plain = unique.split_off(TAG_LEN);
                self.key
                    .open_in_place(&nonce_bytes, &unique, &mut plain)
                    .then_some(plain)
            }
            // A body shared with the buffer it was read into (or a recycled one) is copied
            // out as it is opened, a piece at a time.
            Err(shared) => {
                let (tag, sealed) = shared[8..].split_at(TAG_LEN);
                let mut plain = BytesMut::with_capacity(sealed.len());
                self.key
                    .open_appending(&nonce_bytes, tag, sealed, &mut plain)
                    .then_some(plain)
            }
        };
        let Some(mut plain) = opened else {
            return Err(HandshakeError::Crypto(CryptoFailure::Message));
        };
        self.last = nonce;
        let box_flags = plain[0];
        plain.advance(1);
        let mut flags = FrameFlags::NONE;
        if box_flags & BOX_MORE != 0 {
            flags = flags.with(FrameFlags::MORE);
        }
        if box_flags & BOX_COMMAND != 0 {
            flags = flags.with(FrameFlags::COMMAND);
        }
        Item::from_frame(flags, plain.freeze())
            .map_err(|e| HandshakeError::Decode(DecodeError::Command(e)))
    }
}

impl fmt::Debug for CurveOpener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurveOpener")
            .field("prefix", &core::str::from_utf8(self.prefix).unwrap_or("?"))
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::Secret;
    use zmtp_codec::Version;

    fn pair(next: u64) -> (CurveCipher, CurveCipher) {
        let key = BoxKey::secret(&Secret([7; 32]));
        (
            CurveCipher::client(key.clone(), next, 1),
            CurveCipher::server(key, 2, next.saturating_sub(1)),
        )
    }

    #[test]
    fn the_last_nonce_is_used_once() {
        let (mut client, mut server) = pair(u64::MAX);
        let mut out = WriteBatch::new(Version::V3_1);
        client.seal_data(false, b"last", &mut out).unwrap();
        let len = out.len();
        assert_eq!(
            client.seal_data(false, b"never", &mut out),
            Err(HandshakeError::NonceExhausted)
        );
        assert_eq!(out.len(), len, "nothing is written without a nonce");
        assert_eq!(client.sealer().next_nonce(), None);
        let mut input = BytesMut::from(
            &out.chunks()
                .flatten()
                .copied()
                .collect::<alloc::vec::Vec<u8>>()[..],
        );
        let item = zmtp_codec::Decoder::new(FrameFormat::V3)
            .decode(&mut input)
            .unwrap()
            .unwrap();
        assert_eq!(
            server.open(item).unwrap(),
            Item::Data {
                body: Bytes::from_static(b"last").into(),
                more: false
            }
        );
    }

    #[test]
    fn box_flags_map_to_frame_flags() {
        let (mut client, mut server) = pair(3);
        let mut wire = BytesMut::new();
        for flags in [
            FrameFlags::NONE,
            FrameFlags::MORE,
            FrameFlags::COMMAND,
            FrameFlags::MORE.with(FrameFlags::COMMAND),
            // LONG and reserved bits are not carried.
            FrameFlags::from_bits(0xfa),
        ] {
            client
                .sealer()
                .seal_frame(flags, b"\x04PING\x00\x00", &mut wire)
                .unwrap();
        }
        let mut decoder = zmtp_codec::Decoder::new(FrameFormat::V3);
        let mut got = alloc::vec::Vec::new();
        while let Some(item) = decoder.decode(&mut wire).unwrap() {
            got.push(server.open(item).unwrap());
        }
        let ping = Item::Command(Command::Ping {
            ttl: 0,
            context: Bytes::new(),
        });
        let data = |more| Item::Data {
            body: Bytes::from_static(b"\x04PING\x00\x00").into(),
            more,
        };
        assert_eq!(
            got,
            [data(false), data(true), ping.clone(), ping, data(false)]
        );
    }
}
