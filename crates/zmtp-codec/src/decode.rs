//! The incremental, zero-copy frame decoder.
//!
//! The caller reads from its socket into a [`BytesMut`] and calls [`Decoder::decode`]
//! until it returns `Ok(None)`. Each item's body is split off the input as a [`Bytes`]
//! that shares the read buffer, so nothing is copied, except a small data frame's body,
//! which is copied into its [`Payload`]. The decoder never allocates for a frame: an
//! announced size only has to pass the configured limit, and the bytes of the body are
//! whatever the caller has read. Use [`Decoder::pending_body`] to size reads of a large
//! frame as its bytes arrive.

use bytes::{Buf, Bytes, BytesMut};
use core::fmt;

use crate::command::{Command, CommandError};
use crate::frame::{FrameFlags, FrameFormat};
use crate::limits::{DEFAULT_HANDSHAKE_COMMAND_SIZE, MAX_REPRESENTABLE_FRAME};
use crate::msg::{Payload, INLINE_MAX};

/// One decoded frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A frame of message data.
    Data {
        /// The frame's bytes: held inline when small, else sharing the read buffer.
        body: Payload,
        /// Whether more frames of the same message follow.
        more: bool,
    },
    /// A command (ZMTP 3.x only).
    Command(Command),
}

impl Item {
    /// The item a frame with these flags and body stands for. Used for frames the codec
    /// did not read itself, such as those unwrapped from a CURVE MESSAGE.
    pub fn from_frame(flags: FrameFlags, body: Bytes) -> Result<Self, CommandError> {
        if flags.command() {
            Command::parse(&body).map(Self::Command)
        } else {
            Ok(Self::Data {
                body: Payload::compact(body),
                more: flags.more(),
            })
        }
    }
}

/// Why the input could not be decoded. The connection must be closed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A frame announced more bytes than allowed.
    FrameTooLarge {
        /// The announced size.
        size: u64,
        /// The limit it broke.
        max: u64,
        /// Whether it was a command frame (limited by the command maximum) or a message
        /// frame (limited by the maximum message size, `ZMQ_MAXMSGSIZE`).
        command: bool,
    },
    /// A ZMTP 1.0 frame with a size of 0 (the size counts the flags byte, so is at
    /// least 1).
    ZeroLengthV1Frame,
    /// A malformed command.
    Command(CommandError),
    /// [`Decoder::decode_body`] was given a body when no frame of its size was pending: a
    /// bug in the caller, not the peer.
    BodyNotPending {
        /// The size of the body given.
        len: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FrameTooLarge {
                size,
                max,
                command: false,
            } => write!(
                f,
                "the peer announced a {size}-byte frame, above the {max}-byte maximum message \
                 size; raise MAXMSGSIZE if such messages are expected"
            ),
            Self::FrameTooLarge {
                size,
                max,
                command: true,
            } => write!(
                f,
                "the peer announced a {size}-byte command, above the {max}-byte command limit"
            ),
            Self::ZeroLengthV1Frame => {
                f.write_str("malformed ZMTP/1.0 frame: its size is 0, leaving no flags byte")
            }
            Self::Command(e) => fmt::Display::fmt(e, f),
            Self::BodyNotPending { len } => write!(
                f,
                "a {len}-byte frame body was handed to the decoder while no frame of that \
                 size was pending (a bug in the engine; please report it)"
            ),
        }
    }
}

impl core::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Command(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CommandError> for DecodeError {
    fn from(e: CommandError) -> Self {
        Self::Command(e)
    }
}

/// Decodes frames of one connection (see the [module docs](self)).
///
/// After an error the connection is broken and must be closed; the decoder does not try to
/// resynchronise.
#[derive(Clone, Debug)]
pub struct Decoder {
    format: FrameFormat,
    max_message: Option<u64>,
    max_command: Option<u64>,
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Header,
    Body { flags: FrameFlags, len: usize },
}

impl Decoder {
    /// A decoder for `format`, with no message size limit (libzmq's default
    /// `ZMQ_MAXMSGSIZE` of -1) and commands limited to
    /// [`DEFAULT_HANDSHAKE_COMMAND_SIZE`].
    pub const fn new(format: FrameFormat) -> Self {
        Self {
            format,
            max_message: None,
            max_command: Some(DEFAULT_HANDSHAKE_COMMAND_SIZE),
            state: State::Header,
        }
    }

    /// Sets the largest message frame accepted (`ZMQ_MAXMSGSIZE`); `None` for no limit
    /// beyond what can be represented.
    pub fn set_max_message_size(&mut self, max: Option<u64>) {
        self.max_message = max;
    }

    /// Sets the largest command frame accepted; `None` for no limit beyond what can be
    /// represented. Raise it after a CURVE handshake, when MESSAGE commands carry whole
    /// message frames.
    pub fn set_max_command_size(&mut self, max: Option<u64>) {
        self.max_command = max;
    }

    /// The frame format this decoder reads.
    pub const fn format(&self) -> FrameFormat {
        self.format
    }

    /// The size of the frame body being waited for, if a header has been read but not its
    /// whole body. An engine can reserve read space for it as its bytes arrive.
    pub const fn pending_body(&self) -> Option<usize> {
        match self.state {
            State::Body { len, .. } => Some(len),
            State::Header => None,
        }
    }

    /// Decodes the next item from the front of `input`, consuming its bytes. Returns
    /// `Ok(None)` when the input holds no complete item; call again with more.
    pub fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Item>, DecodeError> {
        let (flags, len) = match self.state {
            State::Body { flags, len } => (flags, len),
            State::Header => {
                let Some((flags, size, header_len)) = self.parse_header(input)? else {
                    return Ok(None);
                };
                let len = self.check_size(flags, size)?;
                // A small data frame read whole: its header and body consumed at once.
                if !flags.command() && len <= INLINE_MAX && input.len() - header_len >= len {
                    if let Some(body) = Payload::inline(&input[header_len..header_len + len]) {
                        input.advance(header_len + len);
                        return Ok(Some(Item::Data {
                            body,
                            more: flags.more(),
                        }));
                    }
                }
                input.advance(header_len);
                self.state = State::Body { flags, len };
                (flags, len)
            }
        };
        if input.len() < len {
            return Ok(None);
        }
        self.state = State::Header;
        if !flags.command() {
            // A small body is copied out: nothing then shares the read buffer for it.
            if let Some(body) = Payload::inline(&input[..len]) {
                input.advance(len);
                return Ok(Some(Item::Data {
                    body,
                    more: flags.more(),
                }));
            }
        }
        let body = input.split_to(len).freeze();
        Ok(Some(Item::from_frame(flags, body)?))
    }

    /// Completes the pending frame with its whole body, which the caller gathered in a
    /// buffer of its own after [`Decoder::pending_body`] announced it: the item
    /// [`Decoder::decode`] would return had the body come through its input, without
    /// copying the body into that input first.
    pub fn decode_body(&mut self, body: Bytes) -> Result<Item, DecodeError> {
        let State::Body { flags, len } = self.state else {
            return Err(DecodeError::BodyNotPending { len: body.len() });
        };
        if len != body.len() {
            return Err(DecodeError::BodyNotPending { len: body.len() });
        }
        self.state = State::Header;
        Ok(Item::from_frame(flags, body)?)
    }

    /// Reads a frame header from the front of `input` without consuming it: the flags
    /// (commands only in ZMTP 3.x), the body size and the header's length.
    fn parse_header(&self, input: &[u8]) -> Result<Option<(FrameFlags, u64, usize)>, DecodeError> {
        let read_u64 = |at: usize| -> Option<u64> {
            let bytes = input.get(at..at + 8)?;
            let mut raw = [0u8; 8];
            raw.copy_from_slice(bytes);
            Some(u64::from_be_bytes(raw))
        };
        Ok(match self.format {
            FrameFormat::V1 => {
                let Some(&first) = input.first() else {
                    return Ok(None);
                };
                let (size, flags_at) = if first == 0xFF {
                    let Some(size) = read_u64(1) else {
                        return Ok(None);
                    };
                    (size, 9)
                } else {
                    (u64::from(first), 1)
                };
                if size == 0 {
                    return Err(DecodeError::ZeroLengthV1Frame);
                }
                let Some(&flags) = input.get(flags_at) else {
                    return Ok(None);
                };
                let flags = FrameFlags::from_bits(flags & FrameFlags::MORE.bits());
                Some((flags, size - 1, flags_at + 1))
            }
            FrameFormat::V2 | FrameFormat::V3 => {
                let Some(&raw) = input.first() else {
                    return Ok(None);
                };
                let keep = if self.format == FrameFormat::V3 {
                    FrameFlags::MORE.with(FrameFlags::COMMAND)
                } else {
                    FrameFlags::MORE
                };
                let flags = FrameFlags::from_bits(raw & keep.bits());
                if raw & FrameFlags::LONG.bits() != 0 {
                    read_u64(1).map(|size| (flags, size, 9))
                } else {
                    input.get(1).map(|&size| (flags, u64::from(size), 2))
                }
            }
        })
    }

    /// Checks an announced size against the limits, before anything is consumed for it.
    fn check_size(&self, flags: FrameFlags, size: u64) -> Result<usize, DecodeError> {
        let command = flags.command();
        let configured = if command {
            self.max_command
        } else {
            self.max_message
        };
        let max = configured.map_or(MAX_REPRESENTABLE_FRAME, |m| m.min(MAX_REPRESENTABLE_FRAME));
        match usize::try_from(size) {
            Ok(len) if size <= max => Ok(len),
            _ => Err(DecodeError::FrameTooLarge { size, max, command }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(format: FrameFormat, input: &[u8]) -> Result<alloc::vec::Vec<Item>, DecodeError> {
        let mut d = Decoder::new(format);
        let mut buf = BytesMut::from(input);
        let mut out = alloc::vec::Vec::new();
        while let Some(item) = d.decode(&mut buf)? {
            out.push(item);
        }
        Ok(out)
    }

    fn data(body: &'static [u8], more: bool) -> Item {
        Item::Data {
            body: Bytes::from_static(body).into(),
            more,
        }
    }

    #[test]
    fn small_bodies_are_copied_inline_and_large_ones_share_the_input() {
        let mut input = BytesMut::new();
        input.extend_from_slice(b"\x01\x03abc");
        input.extend_from_slice(b"\x00\x64");
        input.extend_from_slice(&[7; 100]);
        let large_at = input.as_ptr() as usize + 2 + 3 + 2;
        let mut decoder = Decoder::new(FrameFormat::V3);
        let Some(Item::Data { body, more }) = decoder.decode(&mut input).unwrap() else {
            panic!("a data frame");
        };
        assert!(body.is_inline() && more);
        assert_eq!(body, &b"abc"[..]);
        let Some(Item::Data { body, more }) = decoder.decode(&mut input).unwrap() else {
            panic!("a data frame");
        };
        assert!(!body.is_inline() && !more);
        assert_eq!(body.as_ptr() as usize, large_at);
        assert!(input.is_empty());
    }

    #[test]
    fn a_body_gathered_apart_completes_its_frame_as_is() {
        let mut decoder = Decoder::new(FrameFormat::V3);
        let mut input = BytesMut::from(&b"\x04\x07\x04PI"[..]);
        // Nothing pending yet: the body is refused, the decoder unchanged.
        assert_eq!(
            decoder.decode_body(Bytes::from_static(b"xyz")),
            Err(DecodeError::BodyNotPending { len: 3 })
        );
        // A command header with part of its body: the rest is gathered apart.
        assert_eq!(decoder.decode(&mut input).unwrap(), None);
        assert_eq!(decoder.pending_body(), Some(7));
        assert_eq!(
            decoder.decode_body(Bytes::from_static(b"ab")),
            Err(DecodeError::BodyNotPending { len: 2 })
        );
        let mut body = input.split();
        body.extend_from_slice(b"NG\x00\x0a");
        assert!(matches!(
            decoder.decode_body(body.freeze()),
            Ok(Item::Command(Command::Ping { ttl: 10, .. }))
        ));
        // A long data frame: its body is passed up in the buffer it was gathered in.
        let mut decoder = Decoder::new(FrameFormat::V3);
        let mut input = BytesMut::from(&b"\x03\0\0\0\0\0\0\x01\0"[..]);
        assert_eq!(decoder.decode(&mut input).unwrap(), None);
        assert_eq!(decoder.pending_body(), Some(256));
        let body = Bytes::from(alloc::vec![9u8; 256]);
        let at = body.as_ptr();
        let Ok(Item::Data { body, more }) = decoder.decode_body(body) else {
            panic!("a data frame");
        };
        assert!(more);
        assert_eq!(body.as_ptr(), at);
        assert_eq!(decoder.pending_body(), None);
        input.extend_from_slice(b"\x00\x01z");
        assert_eq!(decoder.decode(&mut input).unwrap(), Some(data(b"z", false)));
    }

    #[test]
    fn libzmq_subscription_forms() {
        // A 3.0 subscription data frame and a 3.1 SUBSCRIBE command.
        assert_eq!(
            decode_all(FrameFormat::V3, b"\x00\x02\x01A").unwrap(),
            [data(b"\x01A", false)]
        );
        assert_eq!(
            decode_all(FrameFormat::V3, b"\x04\x0b\x09SUBSCRIBEA").unwrap(),
            [Item::Command(Command::Subscribe(Bytes::from_static(b"A")))]
        );
    }

    #[test]
    fn long_form_for_any_size() {
        assert_eq!(
            decode_all(
                FrameFormat::V3,
                b"\x03\0\0\0\0\0\0\0\x01x\x02\0\0\0\0\0\0\0\0"
            )
            .unwrap(),
            [data(b"x", true), data(b"", false)]
        );
    }

    #[test]
    fn reserved_bits_are_ignored() {
        assert_eq!(
            decode_all(FrameFormat::V3, b"\xf9\x01x").unwrap(),
            [data(b"x", true)]
        );
        // ZMTP 2.0 has no commands: bit 2 is reserved.
        assert_eq!(
            decode_all(FrameFormat::V2, b"\x04\x01x").unwrap(),
            [data(b"x", false)]
        );
    }

    #[test]
    fn v1_frames() {
        assert_eq!(
            decode_all(
                FrameFormat::V1,
                b"\x02\x01a\x01\x00\xff\0\0\0\0\0\0\0\x02\x00b"
            )
            .unwrap(),
            [data(b"a", true), data(b"", false), data(b"b", false)]
        );
        assert_eq!(
            decode_all(FrameFormat::V1, b"\x00\x00"),
            Err(DecodeError::ZeroLengthV1Frame)
        );
    }

    #[test]
    fn limits_before_any_body() {
        let mut d = Decoder::new(FrameFormat::V3);
        d.set_max_message_size(Some(4));
        let mut buf = BytesMut::from(&b"\x00\x05"[..]);
        assert_eq!(
            d.decode(&mut buf),
            Err(DecodeError::FrameTooLarge {
                size: 5,
                max: 4,
                command: false
            })
        );
        // 2^63 bytes can never be buffered, whatever the configuration.
        let mut d = Decoder::new(FrameFormat::V3);
        let mut buf = BytesMut::from(&b"\x02\x80\0\0\0\0\0\0\0"[..]);
        assert!(matches!(
            d.decode(&mut buf),
            Err(DecodeError::FrameTooLarge {
                size: 0x8000_0000_0000_0000,
                ..
            })
        ));
        // Commands have their own limit.
        let mut buf = BytesMut::from(&b"\x06\0\0\0\0\0\x01\0\x01"[..]);
        assert!(matches!(
            Decoder::new(FrameFormat::V3).decode(&mut buf),
            Err(DecodeError::FrameTooLarge { command: true, .. })
        ));
    }

    #[test]
    fn waits_for_the_whole_body() {
        let mut d = Decoder::new(FrameFormat::V3);
        let mut buf = BytesMut::from(&b"\x00\x03ab"[..]);
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert_eq!(d.pending_body(), Some(3));
        buf.extend_from_slice(b"c");
        assert_eq!(d.decode(&mut buf), Ok(Some(data(b"abc", false))));
        assert_eq!(d.pending_body(), None);
        assert!(buf.is_empty());
    }

    #[test]
    fn malformed_command() {
        assert_eq!(
            decode_all(FrameFormat::V3, b"\x04\x02\x05R"),
            Err(DecodeError::Command(CommandError::BadName))
        );
    }
}
