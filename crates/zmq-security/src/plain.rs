//! The PLAIN mechanism (RFC 24; libzmq `plain_client.cpp`, `plain_server.cpp`).
//!
//! ```text
//! client                                   server
//!   HELLO  (u8 len, user, u8 len, pass) -->
//!                                          (asks ZAP: "PLAIN", user, pass)
//!                                      <-- WELCOME (empty)         on ZAP 200
//!                                      <-- ERROR "400" / "500"     on ZAP 400 / 500
//!                                          (closes silently)        on ZAP 300
//!   INITIATE (properties)              -->
//!                                      <-- READY (properties)
//! ```
//!
//! The credentials travel in clear text. The server always asks ZAP; without a handler it
//! refuses every client, as libzmq does (`HANDSHAKE_FAILED_NO_DETAIL`, `EFAULT`).
//!
//! # libzmq 4.3's PLAIN ERROR
//!
//! libzmq 4.3.0 to 4.3.5 (and master) spell the PLAIN ERROR prefix `"\x05ERROR"` in C++,
//! where a hex escape takes every hex digit after it: the literal is `5E 'R' 'R' 'O' 'R'`.
//! So a libzmq 4.3 PLAIN server sends ERROR as the 9-byte body `5E RROR 03 "400"` (a name
//! length of 94 that runs past the frame), and a libzmq 4.3 PLAIN client recognises only
//! that form: a well-formed ERROR makes it report `HANDSHAKE_FAILED_PROTOCOL
//! (UNEXPECTED_COMMAND)` instead of `HANDSHAKE_FAILED_AUTH(400)` (checked against pyzmq's
//! libzmq 4.3.5). libzmq 4.2 and older send and expect the well-formed `05 ERROR`; NULL and
//! CURVE are not affected.
//!
//! We follow libzmq 4.3 on the wire as the deployed majority: our PLAIN server sends its
//! ERRORs in libzmq 4.3's form ([`LIBZMQ_43_ERROR`]), and our PLAIN client accepts both
//! forms.

use alloc::boxed::Box;
use alloc::vec;
use bytes::{BufMut, Bytes, BytesMut};
use zmtp_codec::{Command, Mechanism, Metadata, WriteBatch};

use crate::error::MechanismCommand;
use crate::handshake::Step;
use crate::mechanism::{
    check_peer, establish, push, refusal_reason, unexpected, zap_outcome, Ctx, ErrorForm,
};
use crate::zap::{Decision, Grant, ZapReply};
use crate::HandshakeError;

/// The most bytes a user name or password may have (a 1-byte length, RFC 24).
pub const MAX_CREDENTIAL: usize = 255;

/// How libzmq 4.3 begins a PLAIN ERROR command: `"\x05ERROR"` as C reads it (see the
/// [module docs](self)).
pub const LIBZMQ_43_ERROR: &[u8] = b"\x5eRROR";

/// Pushes an ERROR command in libzmq 4.3's PLAIN form: [`LIBZMQ_43_ERROR`], a 1-byte
/// length, the reason (at most 255 bytes; longer reasons are cut).
pub(crate) fn push_libzmq_error(out: &mut WriteBatch, reason: &[u8]) {
    let reason = &reason[..reason.len().min(255)];
    let len = LIBZMQ_43_ERROR.len() + 1 + reason.len();
    out.push_raw(&[0x04, len as u8]);
    out.push_raw(LIBZMQ_43_ERROR);
    out.push_raw(&[reason.len() as u8]);
    out.push_raw(reason);
}

/// What [`peek_libzmq_error`] found at the front of the input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Peek {
    /// Not libzmq 4.3's PLAIN ERROR: decode as usual.
    Other,
    /// Perhaps it: wait for more bytes.
    NeedMore,
    /// It, whole and taken from the input: the reason.
    Error(Bytes),
}

/// Recognises libzmq 4.3's PLAIN ERROR at a frame boundary, which the codec (rightly) calls
/// a malformed command. Called by the PLAIN client before decoding each frame.
pub(crate) fn peek_libzmq_error(input: &mut BytesMut) -> Peek {
    let Some(&flags) = input.first() else {
        return Peek::NeedMore;
    };
    if flags & 0x04 == 0 {
        return Peek::Other;
    }
    let (header, size) = if flags & 0x02 == 0 {
        match input.get(1) {
            Some(&size) => (2, u64::from(size)),
            None => return Peek::NeedMore,
        }
    } else {
        match input.get(1..9) {
            Some(raw) => {
                let mut be = [0; 8];
                be.copy_from_slice(raw);
                (9, u64::from_be_bytes(be))
            }
            None => return Peek::NeedMore,
        }
    };
    let max = (LIBZMQ_43_ERROR.len() + 1 + 255) as u64;
    if size < (LIBZMQ_43_ERROR.len() + 1) as u64 || size > max {
        return Peek::Other;
    }
    let size = size as usize;
    let prefix_end = (header + LIBZMQ_43_ERROR.len()).min(input.len());
    if input[header..prefix_end] != LIBZMQ_43_ERROR[..prefix_end - header] {
        return Peek::Other;
    }
    if input.len() < header + size {
        return Peek::NeedMore;
    }
    let reason_at = header + LIBZMQ_43_ERROR.len();
    let reason_len = usize::from(input[reason_at]);
    if reason_len > size - LIBZMQ_43_ERROR.len() - 1 {
        // Malformed even as libzmq reads it: let the decoder refuse it.
        return Peek::Other;
    }
    let frame = input.split_to(header + size).freeze();
    Peek::Error(frame.slice(reason_at + 1..reason_at + 1 + reason_len))
}

/// Checks that PLAIN credentials fit their 1-byte lengths.
pub(crate) fn check_credentials(username: &[u8], password: &[u8]) -> Result<(), HandshakeError> {
    for (field, value) in [("username", username), ("password", password)] {
        if value.len() > MAX_CREDENTIAL {
            return Err(HandshakeError::BadCredentials {
                field,
                len: value.len(),
            });
        }
    }
    Ok(())
}

/// The body of a PLAIN HELLO: `u8 len, user name, u8 len, password` (after the name).
pub fn hello_body(username: &[u8], password: &[u8]) -> Bytes {
    let mut body = BytesMut::with_capacity(2 + username.len() + password.len());
    // Lengths checked by `check_credentials` when the handshake was created.
    body.put_u8(username.len() as u8);
    body.put_slice(username);
    body.put_u8(password.len() as u8);
    body.put_slice(password);
    body.freeze()
}

/// Reads a HELLO body into user name and password, as `plain_server_t::process_hello`.
fn parse_hello(body: &Bytes) -> Result<(Bytes, Bytes), HandshakeError> {
    let malformed = |what| HandshakeError::MalformedCommand {
        command: MechanismCommand::Hello,
        what,
    };
    let user_len = usize::from(*body.first().ok_or(malformed("no user name"))?);
    let user_end = 1 + user_len;
    if body.len() < user_end {
        return Err(malformed("the user name runs past the end"));
    }
    let pass_len = usize::from(*body.get(user_end).ok_or(malformed("no password"))?);
    if body.len() != user_end + 1 + pass_len {
        return Err(malformed(
            "the password runs past the end, or bytes follow it",
        ));
    }
    Ok((body.slice(1..user_end), body.slice(user_end + 1..)))
}

/// The PLAIN client's steps.
#[derive(Debug)]
#[allow(clippy::enum_variant_names)] // the house style names typestates `Expect*`
pub(crate) enum ClientState {
    /// HELLO is sent; WELCOME (or ERROR) is awaited.
    ExpectWelcome,
    /// INITIATE is sent; READY (or ERROR) is awaited.
    ExpectReady,
}

impl ClientState {
    /// Sends HELLO with our credentials.
    pub(crate) fn start(
        username: &Bytes,
        password: &Bytes,
        out: &mut WriteBatch,
    ) -> Result<Self, HandshakeError> {
        push(out, &Command::Hello(hello_body(username, password)))?;
        Ok(Self::ExpectWelcome)
    }

    pub(crate) fn on_command(
        self,
        command: Command,
        ctx: &mut Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        match (self, command) {
            (Self::ExpectWelcome, Command::Welcome(body)) => {
                if !body.is_empty() {
                    return Err(HandshakeError::MalformedCommand {
                        command: MechanismCommand::Welcome,
                        what: "a PLAIN WELCOME has no body",
                    });
                }
                push(out, &Command::Initiate(ctx.ours.properties.clone()))?;
                Ok(Step::Wait(Self::ExpectReady))
            }
            (Self::ExpectReady, Command::Ready(body)) => {
                let metadata = Metadata::parse(&body)?;
                establish(ctx, metadata, None, None, None).map(Step::Done)
            }
            (_, Command::Error { reason }) => Err(HandshakeError::PeerError { reason }),
            (_, other) => Err(unexpected(&other)),
        }
    }
}

/// The PLAIN server's steps.
#[derive(Debug)]
#[allow(clippy::enum_variant_names)] // the house style names typestates `Expect*`
pub(crate) enum ServerState {
    /// Waiting for the client's HELLO.
    ExpectHello,
    /// The credentials went to ZAP; its reply is awaited.
    ExpectZapReply,
    /// WELCOME is sent; INITIATE is awaited.
    ExpectInitiate(Box<Grant>),
}

impl ServerState {
    pub(crate) const fn start() -> Self {
        Self::ExpectHello
    }

    pub(crate) const fn awaiting_zap(&self) -> bool {
        matches!(self, Self::ExpectZapReply)
    }

    pub(crate) fn on_command(
        self,
        command: Command,
        ctx: &mut Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        match (self, command) {
            (Self::ExpectHello, Command::Hello(body)) => {
                let (username, password) = parse_hello(&body)?;
                match ctx.zap_decision() {
                    Decision::Ask => {
                        ctx.ask_zap(Mechanism::PLAIN, vec![username, password]);
                        Ok(Step::Wait(Self::ExpectZapReply))
                    }
                    // PLAIN without ZAP has nobody to check the password: libzmq refuses.
                    Decision::Skip | Decision::Refuse => Err(HandshakeError::NoZapHandler {
                        mechanism: Mechanism::PLAIN,
                    }),
                }
            }
            (Self::ExpectInitiate(grant), Command::Initiate(body)) => {
                let metadata = Metadata::parse(&body)?;
                if let Err(e) = check_peer(ctx, &metadata, None) {
                    push_libzmq_error(out, refusal_reason(&e));
                    return Err(e);
                }
                let established = establish(ctx, metadata, Some(*grant), None, None)?;
                push(out, &Command::Ready(ctx.ours.properties.clone()))?;
                Ok(Step::Done(established))
            }
            // A client never sends ERROR in PLAIN; libzmq calls any other command
            // unexpected.
            (_, other) => Err(unexpected(&other)),
        }
    }

    pub(crate) fn on_zap_reply(
        self,
        reply: ZapReply,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        let grant = zap_outcome(reply, out, ErrorForm::Libzmq43Plain)?;
        push(out, &Command::Welcome(Bytes::new()))?;
        Ok(Step::Wait(Self::ExpectInitiate(Box::new(grant))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_layout() {
        let body = hello_body(b"admin", b"secret");
        assert_eq!(&body[..], b"\x05admin\x06secret");
        assert_eq!(
            parse_hello(&body).unwrap(),
            (Bytes::from_static(b"admin"), Bytes::from_static(b"secret"))
        );
        assert_eq!(
            parse_hello(&hello_body(b"", b"")).unwrap(),
            (Bytes::new(), Bytes::new())
        );
        for bad in [
            &b""[..],
            b"\x05adm",
            b"\x05admin",
            b"\x05admin\x06secre",
            b"\x05admin\x06secrets",
        ] {
            assert!(matches!(
                parse_hello(&Bytes::from_static(bad)),
                Err(HandshakeError::MalformedCommand {
                    command: MechanismCommand::Hello,
                    ..
                })
            ));
        }
    }

    #[test]
    fn libzmq_43_error_form() {
        let mut out = WriteBatch::new(zmtp_codec::Version::V3_1);
        push_libzmq_error(&mut out, b"400");
        let frame: vec::Vec<u8> = out.chunks().flatten().copied().collect();
        assert_eq!(frame, b"\x04\x09\x5eRROR\x03400");
        let mut input = BytesMut::from(&frame[..]);
        input.extend_from_slice(b"rest");
        for n in 0..frame.len() {
            let mut part = BytesMut::from(&frame[..n]);
            assert_eq!(peek_libzmq_error(&mut part), Peek::NeedMore, "{n}");
        }
        assert_eq!(
            peek_libzmq_error(&mut input),
            Peek::Error(Bytes::from_static(b"400"))
        );
        assert_eq!(&input[..], b"rest");
        for other in [
            &b"\x04\x0a\x05ERROR\x03400"[..],
            b"\x00\x01x",
            b"\x04\x09\x5eRROX\x03400",
            b"\x04\x09\x5eRROR\x04400",
            b"\x04\x03\x5eRR",
        ] {
            let mut input = BytesMut::from(other);
            assert_eq!(peek_libzmq_error(&mut input), Peek::Other, "{other:?}");
        }
        let mut long = BytesMut::from(&b"\x06\0\0\0\0\0\0\0\x09\x5eRROR\x03500"[..]);
        assert_eq!(
            peek_libzmq_error(&mut long),
            Peek::Error(Bytes::from_static(b"500"))
        );
    }

    #[test]
    fn credential_limits() {
        assert!(check_credentials(&[0; 255], &[0; 255]).is_ok());
        assert_eq!(
            check_credentials(&[0; 256], b""),
            Err(HandshakeError::BadCredentials {
                field: "username",
                len: 256
            })
        );
        assert_eq!(
            check_credentials(b"", &[0; 300]),
            Err(HandshakeError::BadCredentials {
                field: "password",
                len: 300
            })
        );
    }
}
