//! The CURVE client: HELLO, then WELCOME in, INITIATE out, READY in.

use alloc::vec::Vec;
use bytes::Bytes;
use zmtp_codec::{Command, Metadata, WriteBatch};

use super::cipher::CurveCipher;
use super::{
    long_nonce, public_of, read_u64, short_nonce, BoxKey, Entropy, Secret, COOKIE_LEN,
    HELLO_PREFIX, INITIATE_PREFIX, MIN_READY_BODY, READY_PREFIX, VOUCH_PREFIX, WELCOME_BODY,
    WELCOME_PREFIX,
};
use crate::error::{CryptoFailure, MechanismCommand};
use crate::handshake::Step;
use crate::keys::{CurveKeyPair, CurvePublicKey, KEY_LEN};
use crate::mechanism::{establish, push, unexpected, Ctx};
use crate::HandshakeError;

/// The client's steps.
#[derive(Debug)]
#[allow(clippy::enum_variant_names)] // the house style names typestates `Expect*`
pub(crate) enum ClientState {
    /// HELLO is sent; WELCOME (or ERROR) is awaited.
    ExpectWelcome(ExpectWelcome),
    /// INITIATE is sent; READY (or ERROR) is awaited.
    ExpectReady(ExpectReady),
}

#[derive(Debug)]
pub(crate) struct ExpectWelcome {
    /// C and c.
    keypair: CurveKeyPair,
    /// S.
    server_key: CurvePublicKey,
    /// c′.
    short_secret: Secret<KEY_LEN>,
    /// C′.
    short_public: [u8; KEY_LEN],
    /// Box key of C′ and S (HELLO and WELCOME).
    hello_key: BoxKey,
    vouch_nonce: [u8; 16],
}

#[derive(Debug)]
pub(crate) struct ExpectReady {
    /// Box key of C′ and S′: INITIATE, READY and MESSAGE.
    key: BoxKey,
}

impl ClientState {
    /// Makes C′ and sends HELLO (short nonce 1).
    pub(crate) fn start(
        keypair: &CurveKeyPair,
        server_key: &CurvePublicKey,
        entropy: Option<Entropy>,
        out: &mut WriteBatch,
    ) -> Result<Self, HandshakeError> {
        let Some(Entropy::Client {
            short_secret,
            vouch_nonce,
        }) = entropy
        else {
            return Err(HandshakeError::RandomnessRequired);
        };
        let short_public = public_of(&short_secret);
        let hello_key = BoxKey::precompute(server_key.as_bytes(), &short_secret)
            .ok_or(HandshakeError::Crypto(CryptoFailure::ServerKey))?;

        let mut body = Vec::with_capacity(super::HELLO_BODY);
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&[0; 72]);
        body.extend_from_slice(&short_public);
        body.extend_from_slice(&1u64.to_be_bytes());
        hello_key.seal_to(&short_nonce(HELLO_PREFIX, 1), &[0; 64], &mut body);
        push(out, &Command::Hello(Bytes::from(body)))?;

        Ok(Self::ExpectWelcome(ExpectWelcome {
            keypair: keypair.clone(),
            server_key: *server_key,
            short_secret,
            short_public,
            hello_key,
            vouch_nonce,
        }))
    }

    pub(crate) fn on_command(
        self,
        command: Command,
        ctx: &mut Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<Step<Self>, HandshakeError> {
        match (self, command) {
            (Self::ExpectWelcome(state), Command::Welcome(body)) => state
                .welcome(&body, ctx, out)
                .map(|s| Step::Wait(Self::ExpectReady(s))),
            (Self::ExpectReady(state), Command::Ready(body)) => {
                state.ready(&body, ctx).map(Step::Done)
            }
            (_, Command::Error { reason }) => Err(HandshakeError::PeerError { reason }),
            (_, other) => Err(unexpected(&other)),
        }
    }
}

impl ExpectWelcome {
    /// Opens WELCOME (S′ and the cookie), then sends INITIATE (short nonce 2) with the
    /// vouch and our properties.
    fn welcome(
        self,
        body: &[u8],
        ctx: &Ctx<'_>,
        out: &mut WriteBatch,
    ) -> Result<ExpectReady, HandshakeError> {
        if body.len() != WELCOME_BODY {
            return Err(HandshakeError::MalformedCommand {
                command: MechanismCommand::Welcome,
                what: "a CURVE WELCOME is 168 bytes",
            });
        }
        let opened = self
            .hello_key
            .open_box(&long_nonce(WELCOME_PREFIX, &body[..16]), &body[16..])
            .ok_or(HandshakeError::Crypto(CryptoFailure::Welcome))?;
        let mut server_short = [0; KEY_LEN];
        server_short.copy_from_slice(&opened.0[..KEY_LEN]);
        let cookie = &opened.0[KEY_LEN..KEY_LEN + COOKIE_LEN];
        let key = BoxKey::precompute(&server_short, &self.short_secret)
            .ok_or(HandshakeError::Crypto(CryptoFailure::Welcome))?;

        // vouch = nonce + Box[C′ + S](C→S′)
        let long_term = Secret(*self.keypair.secret.expose_secret());
        let vouch_key = BoxKey::precompute(&server_short, &long_term)
            .ok_or(HandshakeError::Crypto(CryptoFailure::Welcome))?;
        let mut vouch_plain = [0; 64];
        vouch_plain[..32].copy_from_slice(&self.short_public);
        vouch_plain[32..].copy_from_slice(self.server_key.as_bytes());

        // Box[C + vouch + metadata](C′→S′)
        let properties = &ctx.ours.properties;
        let mut plain = super::Plaintext(Vec::with_capacity(128 + properties.len()));
        plain.0.extend_from_slice(self.keypair.public.as_bytes());
        plain.0.extend_from_slice(&self.vouch_nonce);
        vouch_key.seal_to(
            &long_nonce(VOUCH_PREFIX, &self.vouch_nonce),
            &vouch_plain,
            &mut plain.0,
        );
        plain.0.extend_from_slice(properties);

        let mut initiate = Vec::with_capacity(COOKIE_LEN + 8 + 16 + plain.0.len());
        initiate.extend_from_slice(cookie);
        initiate.extend_from_slice(&2u64.to_be_bytes());
        key.seal_to(&short_nonce(INITIATE_PREFIX, 2), &plain.0, &mut initiate);
        push(out, &Command::Initiate(Bytes::from(initiate)))?;
        Ok(ExpectReady { key })
    }
}

impl ExpectReady {
    /// Opens READY and finishes: our next short nonce is 3, the server's last is READY's.
    fn ready(
        self,
        body: &[u8],
        ctx: &Ctx<'_>,
    ) -> Result<alloc::boxed::Box<crate::Established>, HandshakeError> {
        if body.len() < MIN_READY_BODY {
            return Err(HandshakeError::MalformedCommand {
                command: MechanismCommand::Ready,
                what: "a CURVE READY has at least 30 bytes",
            });
        }
        let nonce = read_u64(body);
        let opened = self
            .key
            .open_box(&short_nonce(READY_PREFIX, nonce), &body[8..])
            .ok_or(HandshakeError::Crypto(CryptoFailure::Ready))?;
        let metadata = Metadata::parse(&Bytes::copy_from_slice(&opened.0))?;
        let cipher = CurveCipher::client(self.key, 3, nonce);
        // No ERROR on a refused socket type: the server has finished its handshake.
        establish(ctx, metadata, None, Some(cipher), None)
    }
}
