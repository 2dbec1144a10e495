//! ZMTP commands: a length-prefixed name, then a body (RFC 23, "command").
//!
//! The traffic commands (SUBSCRIBE, CANCEL, PING, PONG, JOIN, LEAVE; RFC 37) and ERROR are
//! parsed here. The handshake commands keep their bodies opaque, because their layout
//! belongs to the mechanism: a NULL or PLAIN READY body is a property list (read it with
//! [`Metadata::parse`](crate::Metadata::parse)), a CURVE READY body is a box. A command with
//! a name this crate does not know is [`Command::Unknown`], not an error: libzmq ignores
//! such commands after the handshake.

use bytes::{BufMut, Bytes};
use core::fmt;

use crate::limits::{MAX_COMMAND_NAME, MAX_ERROR_REASON, MAX_GROUP_NAME, MAX_PING_CONTEXT};

/// A decoded or to-be-encoded command.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// READY: the body is a property list for NULL and PLAIN, a box for CURVE.
    Ready(Bytes),
    /// ERROR: a fatal handshake failure with a reason of up to 255 bytes.
    Error {
        /// Why the peer refused; libzmq sends ZAP status codes such as `400`.
        reason: Bytes,
    },
    /// SUBSCRIBE (RFC 37): subscribe to messages starting with the topic.
    Subscribe(Bytes),
    /// CANCEL (RFC 37): remove one subscription to the topic.
    Cancel(Bytes),
    /// PING (RFC 37): a heartbeat asking for a PONG.
    Ping {
        /// How long the peer may go without traffic before timing us out, in deciseconds.
        ttl: u16,
        /// Up to 16 bytes to be echoed in the PONG. A longer context from a peer is kept
        /// whole; [`Command::pong_for`] truncates it as libzmq does.
        context: Bytes,
    },
    /// PONG (RFC 37): the answer to a PING, echoing its context.
    Pong {
        /// The echoed context.
        context: Bytes,
    },
    /// JOIN (RFC 48): a DISH joins a group.
    Join(Bytes),
    /// LEAVE (RFC 48): a DISH leaves a group.
    Leave(Bytes),
    /// HELLO: the first handshake command of PLAIN and CURVE (opaque body).
    Hello(Bytes),
    /// WELCOME: the server's answer to HELLO (opaque body).
    Welcome(Bytes),
    /// INITIATE: the client's metadata (PLAIN) or vouch and metadata (CURVE), opaque here.
    Initiate(Bytes),
    /// MESSAGE: a CURVE-encrypted frame (opaque body).
    Message(Bytes),
    /// Any other command: kept as received.
    Unknown {
        /// The command name (1 to 255 bytes).
        name: Bytes,
        /// The bytes after the name.
        body: Bytes,
    },
}

/// Why a command frame could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// The frame is empty or the name runs past its end.
    BadName,
    /// ERROR whose reason length runs past the end of the frame.
    BadErrorReason,
    /// PING shorter than its 2-byte TTL.
    BadPing,
    /// A field too long to encode.
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The most the wire allows.
        max: usize,
    },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadName => {
                f.write_str("malformed command: the name length runs past the end of the frame")
            }
            Self::BadErrorReason => f.write_str(
                "malformed ERROR command: the reason length runs past the end of the frame",
            ),
            Self::BadPing => f.write_str("malformed PING command: it lacks the 2-byte TTL"),
            Self::TooLong { field, len, max } => {
                write!(
                    f,
                    "{field} of {len} bytes exceeds the {max}-byte limit of the wire"
                )
            }
        }
    }
}

impl core::error::Error for CommandError {}

impl Command {
    /// Parses the body of a command frame (name and data). The returned parts are
    /// zero-copy slices of `frame`.
    pub fn parse(frame: &Bytes) -> Result<Self, CommandError> {
        let name_len = usize::from(*frame.first().ok_or(CommandError::BadName)?);
        if name_len == 0 || frame.len() < 1 + name_len {
            return Err(CommandError::BadName);
        }
        let name = &frame[1..=name_len];
        let body = frame.slice(1 + name_len..);
        Ok(match name {
            b"READY" => Self::Ready(body),
            b"ERROR" => {
                let len = usize::from(*body.first().ok_or(CommandError::BadErrorReason)?);
                if body.len() < 1 + len {
                    return Err(CommandError::BadErrorReason);
                }
                Self::Error {
                    reason: body.slice(1..=len),
                }
            }
            b"SUBSCRIBE" => Self::Subscribe(body),
            b"CANCEL" => Self::Cancel(body),
            b"PING" => {
                if body.len() < 2 {
                    return Err(CommandError::BadPing);
                }
                Self::Ping {
                    ttl: u16::from_be_bytes([body[0], body[1]]),
                    context: body.slice(2..),
                }
            }
            b"PONG" => Self::Pong { context: body },
            b"JOIN" => Self::Join(body),
            b"LEAVE" => Self::Leave(body),
            b"HELLO" => Self::Hello(body),
            b"WELCOME" => Self::Welcome(body),
            b"INITIATE" => Self::Initiate(body),
            b"MESSAGE" => Self::Message(body),
            _ => Self::Unknown {
                name: frame.slice(1..=name_len),
                body,
            },
        })
    }

    /// The PONG answering this command if it is a PING: its context, cut to 16 bytes as
    /// libzmq does.
    pub fn pong_for(&self) -> Option<Self> {
        match self {
            Self::Ping { context, .. } => Some(Self::Pong {
                context: context.slice(..context.len().min(MAX_PING_CONTEXT)),
            }),
            _ => None,
        }
    }

    /// The command name.
    pub fn name(&self) -> &[u8] {
        match self {
            Self::Ready(_) => b"READY",
            Self::Error { .. } => b"ERROR",
            Self::Subscribe(_) => b"SUBSCRIBE",
            Self::Cancel(_) => b"CANCEL",
            Self::Ping { .. } => b"PING",
            Self::Pong { .. } => b"PONG",
            Self::Join(_) => b"JOIN",
            Self::Leave(_) => b"LEAVE",
            Self::Hello(_) => b"HELLO",
            Self::Welcome(_) => b"WELCOME",
            Self::Initiate(_) => b"INITIATE",
            Self::Message(_) => b"MESSAGE",
            Self::Unknown { name, .. } => name,
        }
    }

    /// Checks that every field fits the wire, so that encoding cannot fail.
    pub fn validate(&self) -> Result<(), CommandError> {
        let check = |field, len, max| {
            if len > max {
                Err(CommandError::TooLong { field, len, max })
            } else {
                Ok(())
            }
        };
        match self {
            Self::Error { reason } => check("ERROR reason", reason.len(), MAX_ERROR_REASON),
            Self::Ping { context, .. } => check("PING context", context.len(), MAX_PING_CONTEXT),
            Self::Pong { context } => check("PONG context", context.len(), MAX_PING_CONTEXT),
            Self::Join(group) | Self::Leave(group) => check("group", group.len(), MAX_GROUP_NAME),
            Self::Unknown { name, .. } => {
                if name.is_empty() {
                    Err(CommandError::BadName)
                } else {
                    check("command name", name.len(), MAX_COMMAND_NAME)
                }
            }
            _ => Ok(()),
        }
    }

    /// The size of the encoded command body (name and data, without the frame header).
    pub fn encoded_len(&self) -> usize {
        let data = match self {
            Self::Error { reason } => 1 + reason.len(),
            Self::Ping { context, .. } => 2 + context.len(),
            Self::Pong { context } => context.len(),
            Self::Ready(b)
            | Self::Subscribe(b)
            | Self::Cancel(b)
            | Self::Join(b)
            | Self::Leave(b)
            | Self::Hello(b)
            | Self::Welcome(b)
            | Self::Initiate(b)
            | Self::Message(b)
            | Self::Unknown { body: b, .. } => b.len(),
        };
        1 + self.name().len() + data
    }

    /// Appends the command body (name and data) to `out`, after checking it with
    /// [`Command::validate`].
    pub fn encode(&self, out: &mut impl BufMut) -> Result<(), CommandError> {
        self.validate()?;
        let name = self.name();
        out.put_u8(name.len() as u8);
        out.put_slice(name);
        match self {
            Self::Error { reason } => {
                out.put_u8(reason.len() as u8);
                out.put_slice(reason);
            }
            Self::Ping { ttl, context } => {
                out.put_u16(*ttl);
                out.put_slice(context);
            }
            Self::Pong { context } => out.put_slice(context),
            Self::Ready(b)
            | Self::Subscribe(b)
            | Self::Cancel(b)
            | Self::Join(b)
            | Self::Leave(b)
            | Self::Hello(b)
            | Self::Welcome(b)
            | Self::Initiate(b)
            | Self::Message(b)
            | Self::Unknown { body: b, .. } => out.put_slice(b),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn round_trip(cmd: &Command) -> Vec<u8> {
        let mut out = Vec::new();
        cmd.encode(&mut out).unwrap();
        assert_eq!(out.len(), cmd.encoded_len());
        assert_eq!(&Command::parse(&Bytes::from(out.clone())).unwrap(), cmd);
        out
    }

    #[test]
    fn libzmq_subscribe_bytes() {
        let out = round_trip(&Command::Subscribe(Bytes::from_static(b"A")));
        assert_eq!(out, b"\x09SUBSCRIBEA");
    }

    #[test]
    fn ping_pong() {
        let ping = Command::Ping {
            ttl: 300,
            context: Bytes::from_static(b"ctx"),
        };
        assert_eq!(round_trip(&ping), b"\x04PING\x01\x2cctx");
        assert_eq!(
            ping.pong_for(),
            Some(Command::Pong {
                context: Bytes::from_static(b"ctx")
            })
        );
        let long =
            Command::parse(&Bytes::from_static(b"\x04PING\x00\x00012345678901234567")).unwrap();
        match long.pong_for() {
            Some(Command::Pong { context }) => assert_eq!(&context[..], b"0123456789012345"),
            other => panic!("{other:?}"),
        }
        assert!(long.validate().is_err());
        assert_eq!(
            Command::parse(&Bytes::from_static(b"\x04PING\x00")),
            Err(CommandError::BadPing)
        );
    }

    #[test]
    fn error_reason() {
        let out = round_trip(&Command::Error {
            reason: Bytes::from_static(b"400"),
        });
        assert_eq!(out, b"\x05ERROR\x03400");
        assert_eq!(
            Command::parse(&Bytes::from_static(b"\x05ERROR\x05ab")),
            Err(CommandError::BadErrorReason)
        );
        assert_eq!(
            Command::parse(&Bytes::from_static(b"\x05ERROR")),
            Err(CommandError::BadErrorReason)
        );
    }

    #[test]
    fn unknown_is_an_item() {
        let cmd = Command::parse(&Bytes::from_static(b"\x03FOObar")).unwrap();
        assert_eq!(
            cmd,
            Command::Unknown {
                name: Bytes::from_static(b"FOO"),
                body: Bytes::from_static(b"bar")
            }
        );
        round_trip(&cmd);
    }

    #[test]
    fn bad_names() {
        for frame in [&b""[..], b"\x00", b"\x06READY", b"\xff"] {
            assert_eq!(
                Command::parse(&Bytes::copy_from_slice(frame)),
                Err(CommandError::BadName)
            );
        }
    }
}
