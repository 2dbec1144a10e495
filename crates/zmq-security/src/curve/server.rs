//! The CURVE server: HELLO in, WELCOME out, INITIATE in, (ZAP), READY out.

use alloc::boxed::Box;
use alloc::vec::Vec;
use bytes::Bytes;
use subtle::ConstantTimeEq;
use zmtp_codec::{Command, Mechanism, Metadata, WriteBatch};

use super::cipher::CurveCipher;
use super::{
    long_nonce, public_of, read_u64, short_nonce, BoxKey, Entropy, Secret, COOKIE_LEN,
    COOKIE_PREFIX, HELLO_BODY, HELLO_PREFIX, INITIATE_PREFIX, MIN_INITIATE_BODY, READY_PREFIX,
    TAG_LEN, VOUCH_BOX, VOUCH_PREFIX, WELCOME_PREFIX,
};
use crate::error::{CryptoFailure, MechanismCommand};
use crate::handshake::{Established, Step};
use crate::keys::{CurveKeyPair, KEY_LEN};
use crate::mechanism::{check_peer, establish, push, unexpected, zap_outcome, Ctx, ErrorForm};
use crate::zap::{Decision, Grant, ZapReply};
use crate::HandshakeError;

/// The server's steps.
#[derive(Debug)]
#[allow(clippy::enum_variant_names)] // the house style names typestates `Expect*`
pub(crate) enum ServerState {
    /// Waiting for HELLO.
    ExpectHello(ExpectHello),
    /// WELCOME is sent; INITIATE is awaited.
    ExpectInitiate(ExpectInitiate),
    /// INITIATE checked out; the client's key went to ZAP.
    ExpectZapReply(Box<ExpectZapReply>),
}

#[derive(Debug)]
pub(crate) struct ExpectHello {
    /// s, and S derived from it (what the vouch must name).
    secret: Secret<KEY_LEN>,
    public: [u8; KEY_LEN],
    short_secret: Secret<KEY_LEN>,
    cookie_key: Secret<KEY_LEN>,
    cookie_nonce: [u8; 16],
    welcome_nonce: [u8; 16],
}

#[derive(Debug)]
pub(crate) struct ExpectInitiate {
    public: [u8; KEY_LEN],
    /// C′, from HELLO.
    client_short: [u8; KEY_LEN],
    /// s′.
    short_secret: Secret<KEY_LEN>,
    /// K, this connection's cookie key; dropped (zeroized) with this state.
    cookie_key: Secret<KEY_LEN>,
    /// The client's HELLO nonce: INITIATE's must be above it.
    hello_nonce: u64,
}

/// What a valid INITIATE established.
struct Initiated {
    /// Box key of C′ and S′.
    key: BoxKey,
    /// C.
    client_key: [u8; KEY_LEN],
    /// INITIATE's short nonce.
    nonce: u64,
    metadata: Metadata,
}

#[derive(Debug)]
pub(crate) struct ExpectZapReply {
    key: BoxKey,
    peer_nonce: u64,
    metadata: Metadata,
}

impl ServerState {
    pub(crate) fn start(
        keypair: &CurveKeyPair,
        entropy: Option<Entropy>,
    ) -> Result<Self, HandshakeError> {
        let Some(Entropy::Server {
            short_secret,
            cookie_key,
            cookie_nonce,
            welcome_nonce,
        }) = entropy
        else {
            return Err(HandshakeError::RandomnessRequired);
        };
        let secret = Secret(*keypair.secret.expose_secret());
        // libzmq uses only the secret key; S, which the vouch must name, is derived.
        let public = public_of(&secret);
        Ok(Self::ExpectHello(ExpectHello {
            secret,
            public,
            short_secret,
            cookie_key,
            cookie_nonce,
            welcome_nonce,
        }))
    }

    pub(crate) fn awaiting_zap(&self) -> bool {
        matches!(self, Self::ExpectZapReply(_))
    }

    pub(crate) fn on_command(
        self,
        command: Command,
        ctx: &mut Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        match (self, command) {
            (Self::ExpectHello(state), Command::Hello(body)) => state
                .hello(&body, out)
                .map(|s| Step::Wait(Self::ExpectInitiate(s))),
            (Self::ExpectInitiate(state), Command::Initiate(body)) => {
                let Initiated {
                    key,
                    client_key,
                    nonce,
                    metadata,
                } = state.initiate(&body, ctx, out)?;
                match ctx.zap_decision() {
                    Decision::Ask => {
                        // The credential is the client's long-term key C.
                        ctx.ask_zap(
                            Mechanism::CURVE,
                            alloc::vec![Bytes::copy_from_slice(&client_key)],
                        );
                        Ok(Step::Wait(Self::ExpectZapReply(Box::new(ExpectZapReply {
                            key,
                            peer_nonce: nonce,
                            metadata,
                        }))))
                    }
                    // Stonehouse: encryption, and any client that knows S.
                    Decision::Skip => ready(ctx, key, nonce, metadata, None, out).map(Step::Done),
                    Decision::Refuse => Err(HandshakeError::NoZapHandler {
                        mechanism: Mechanism::CURVE,
                    }),
                }
            }
            // A client never sends ERROR in CURVE; libzmq calls any other command
            // unexpected.
            (_, other) => Err(unexpected(&other)),
        }
    }

    pub(crate) fn on_zap_reply(
        self,
        reply: ZapReply,
        ctx: &mut Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        let Self::ExpectZapReply(state) = self else {
            return Err(HandshakeError::Internal {
                what: "a ZAP reply reached a CURVE state that asked nothing",
            });
        };
        let grant = zap_outcome(reply, out, ErrorForm::Standard)?;
        let ExpectZapReply {
            key,
            peer_nonce,
            metadata,
        } = *state;
        ready(ctx, key, peer_nonce, metadata, Some(grant), out).map(Step::Done)
    }
}

/// Sends READY (short nonce 1) and finishes: our next short nonce is 2, the client's last is
/// INITIATE's.
fn ready(
    ctx: &Ctx<'_>,
    key: BoxKey,
    peer_nonce: u64,
    metadata: Metadata,
    grant: Option<Grant>,
    out: &mut WriteBatch,
) -> Result<Box<Established>, HandshakeError> {
    let mut body = Vec::with_capacity(8 + TAG_LEN + ctx.ours.properties.len());
    body.extend_from_slice(&1u64.to_be_bytes());
    key.seal_to(
        &short_nonce(READY_PREFIX, 1),
        &ctx.ours.properties,
        &mut body,
    );
    let cipher = CurveCipher::server(key, 2, peer_nonce);
    // The socket type was checked at INITIATE, before ZAP was asked.
    let established = establish(ctx, metadata, grant, Some(cipher), None)?;
    push(out, &Command::Ready(Bytes::from(body)))?;
    Ok(established)
}

impl ExpectHello {
    /// Checks HELLO (its size, version and box), then sends WELCOME with S′ and a cookie
    /// sealed with this connection's fresh cookie key.
    fn hello(self, body: &[u8], out: &mut WriteBatch) -> Result<ExpectInitiate, HandshakeError> {
        let malformed = |what| HandshakeError::MalformedCommand {
            command: MechanismCommand::Hello,
            what,
        };
        if body.len() != HELLO_BODY {
            return Err(malformed("a CURVE HELLO is 200 bytes"));
        }
        if body[..2] != [1, 0] {
            return Err(malformed("only CurveZMQ version 1.0 is known"));
        }
        // The 72 bytes of padding are not checked, as libzmq does not.
        let mut client_short = [0; KEY_LEN];
        client_short.copy_from_slice(&body[74..106]);
        let hello_nonce = read_u64(&body[106..]);
        let hello_key = BoxKey::precompute(&client_short, &self.secret)
            .ok_or(HandshakeError::Crypto(CryptoFailure::Hello))?;
        // The box holds 64 zero bytes; like libzmq we only check that it opens.
        hello_key
            .open_box(&short_nonce(HELLO_PREFIX, hello_nonce), &body[114..])
            .ok_or(HandshakeError::Crypto(CryptoFailure::Hello))?;

        // cookie = nonce + secretbox[C′ + s′](K)
        let mut cookie_plain = super::Plaintext(Vec::with_capacity(64));
        cookie_plain.0.extend_from_slice(&client_short);
        cookie_plain.0.extend_from_slice(&self.short_secret.0);
        let mut welcome_plain = super::Plaintext(Vec::with_capacity(32 + COOKIE_LEN));
        welcome_plain
            .0
            .extend_from_slice(&public_of(&self.short_secret));
        welcome_plain.0.extend_from_slice(&self.cookie_nonce);
        BoxKey::secret(&self.cookie_key).seal_to(
            &long_nonce(COOKIE_PREFIX, &self.cookie_nonce),
            &cookie_plain.0,
            &mut welcome_plain.0,
        );

        // WELCOME = nonce + Box[S′ + cookie](S→C′)
        let mut welcome = Vec::with_capacity(super::WELCOME_BODY);
        welcome.extend_from_slice(&self.welcome_nonce);
        hello_key.seal_to(
            &long_nonce(WELCOME_PREFIX, &self.welcome_nonce),
            &welcome_plain.0,
            &mut welcome,
        );
        push(out, &Command::Welcome(Bytes::from(welcome)))?;
        Ok(ExpectInitiate {
            public: self.public,
            client_short,
            short_secret: self.short_secret,
            cookie_key: self.cookie_key,
            hello_nonce,
        })
    }
}

impl ExpectInitiate {
    /// Checks INITIATE: the cookie (ours, for this connection's C′ and s′), the nonce, the
    /// box, the vouch (C′ and S, from C), and the client's properties.
    fn initiate(
        self,
        body: &[u8],
        ctx: &Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<Initiated, HandshakeError> {
        if body.len() < MIN_INITIATE_BODY {
            return Err(HandshakeError::MalformedCommand {
                command: MechanismCommand::Initiate,
                what: "a CURVE INITIATE has at least 257 bytes",
            });
        }
        let cookie = BoxKey::secret(&self.cookie_key)
            .open_box(
                &long_nonce(COOKIE_PREFIX, &body[..16]),
                &body[16..COOKIE_LEN],
            )
            .ok_or(HandshakeError::Crypto(CryptoFailure::Cookie))?;
        let same_client = cookie.0[..32].ct_eq(&self.client_short);
        let same_secret = cookie.0[32..64].ct_eq(&self.short_secret.0);
        if !bool::from(same_client & same_secret) {
            return Err(HandshakeError::Crypto(CryptoFailure::Cookie));
        }

        let nonce = read_u64(&body[COOKIE_LEN..]);
        if nonce <= self.hello_nonce {
            return Err(HandshakeError::InvalidSequence {
                nonce,
                last: self.hello_nonce,
            });
        }
        let key = BoxKey::precompute(&self.client_short, &self.short_secret)
            .ok_or(HandshakeError::Crypto(CryptoFailure::Initiate))?;
        let plain = key
            .open_box(
                &short_nonce(INITIATE_PREFIX, nonce),
                &body[COOKIE_LEN + 8..],
            )
            .ok_or(HandshakeError::Crypto(CryptoFailure::Initiate))?;

        // C + vouch nonce + vouch box + metadata
        let mut client_key = [0; KEY_LEN];
        client_key.copy_from_slice(&plain.0[..32]);
        let vouch = BoxKey::precompute(&client_key, &self.short_secret)
            .and_then(|vouch_key| {
                vouch_key.open_box(
                    &long_nonce(VOUCH_PREFIX, &plain.0[32..48]),
                    &plain.0[48..48 + VOUCH_BOX],
                )
            })
            .ok_or(HandshakeError::Crypto(CryptoFailure::Vouch))?;
        let names_client = vouch.0[..32].ct_eq(&self.client_short);
        let names_us = vouch.0[32..64].ct_eq(&self.public);
        if !bool::from(names_client & names_us) {
            return Err(HandshakeError::KeyExchange);
        }

        let metadata = Metadata::parse(&Bytes::copy_from_slice(&plain.0[128..]))?;
        // Check the socket type before asking ZAP (libzmq asks first); a refused peer gets
        // ERROR, as with NULL, since it is still in its handshake.
        check_peer(ctx, &metadata, Some(out))?;
        Ok(Initiated {
            key,
            client_key,
            nonce,
            metadata,
        })
    }
}
