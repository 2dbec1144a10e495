//! The CURVE mechanism (RFC 25 ZMTP-CURVE, RFC 26 CurveZMQ) exactly as libzmq speaks it
//! (`curve_client.cpp`, `curve_client_tools.hpp`, `curve_server.cpp`,
//! `curve_mechanism_base.cpp`).
//!
//! Notation: C, c are the client's long-term public and secret keys; C′, c′ its short-term
//! (per-connection) keys; S, s and S′, s′ the server's. `Box\[X\](A→B)` is NaCl's
//! `crypto_box` of X from A to B (X25519, HSalsa20, XSalsa20-Poly1305: a 16-byte tag, then
//! the ciphertext); `secretbox` is `crypto_secretbox`.
//!
//! | command | bytes | layout |
//! |---|---|---|
//! | HELLO | 200 | `05 HELLO`, version `01 00`, 72 zero bytes, C′, short nonce, Box\[64 zeros\](C′→S) |
//! | WELCOME | 168 | `07 WELCOME`, 16-byte nonce, Box\[S′ + cookie\](S→C′) |
//! | cookie | 96 | 16-byte nonce, secretbox\[C′ + s′\](K), K fresh per WELCOME |
//! | INITIATE | ≥ 257 | `08 INITIATE`, cookie, short nonce, Box\[C + vouch + metadata\](C′→S′) |
//! | vouch | 96 | 16-byte nonce, Box\[C′ + S\](C→S′) |
//! | READY | ≥ 30 | `05 READY`, short nonce, Box\[metadata\](S′→C′) |
//! | MESSAGE | ≥ 33 | `07 MESSAGE`, short nonce, Box\[flags + payload\](sender′→peer′) |
//!
//! Nonces are a 16-byte prefix and an 8-byte big-endian short nonce (`CurveZMQHELLO---`,
//! `CurveZMQINITIATE`, `CurveZMQREADY---`, `CurveZMQMESSAGEC` from the client,
//! `CurveZMQMESSAGES` from the server), or an 8-byte prefix and 16 random bytes
//! (`WELCOME-`, `COOKIE--`, `VOUCH---`). Each side's short nonces start at 1 (client: HELLO
//! 1, INITIATE 2, MESSAGE 3...; server: READY 1, MESSAGE 2...) and a peer's must strictly
//! increase. The short-term keys' box key is precomputed once per connection
//! (`crypto_box_beforenm`).
//!
//! Where we are stricter than libzmq: the vouch must name both C′ and S (libzmq checks C′
//! only), the INITIATE nonce must be above the HELLO nonce (libzmq does not compare them),
//! commands must come in order (libzmq would try to open a READY that comes before WELCOME).
//! A WELCOME of the wrong size is reported as `MALFORMED_COMMAND_WELCOME` (libzmq:
//! `CRYPTOGRAPHIC`).

pub(crate) mod cipher;
pub(crate) mod client;
// The module's own code is safe; `cpufeatures::new!` expands to the CPUID and XGETBV
// reads, which are `unsafe`.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod salsa20_avx2;
pub(crate) mod secretbox;
pub(crate) mod server;

pub use cipher::{CurveCipher, CurveOpener, CurveSealer};

use core::fmt;
use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use crate::keys::KEY_LEN;

/// The Poly1305 tag that starts every box.
pub(crate) const TAG_LEN: usize = 16;

pub(crate) const HELLO_PREFIX: &[u8; 16] = b"CurveZMQHELLO---";
pub(crate) const INITIATE_PREFIX: &[u8; 16] = b"CurveZMQINITIATE";
pub(crate) const READY_PREFIX: &[u8; 16] = b"CurveZMQREADY---";
pub(crate) const MESSAGE_CLIENT_PREFIX: &[u8; 16] = b"CurveZMQMESSAGEC";
pub(crate) const MESSAGE_SERVER_PREFIX: &[u8; 16] = b"CurveZMQMESSAGES";
pub(crate) const WELCOME_PREFIX: &[u8; 8] = b"WELCOME-";
pub(crate) const COOKIE_PREFIX: &[u8; 8] = b"COOKIE--";
pub(crate) const VOUCH_PREFIX: &[u8; 8] = b"VOUCH---";

/// HELLO's body after the command name: version 2, padding 72, C′ 32, nonce 8, box 80.
pub(crate) const HELLO_BODY: usize = 2 + 72 + 32 + 8 + 80;
/// WELCOME's body after the command name: nonce 16, box 144.
pub(crate) const WELCOME_BODY: usize = 16 + 144;
/// A cookie: nonce 16, secretbox 80.
pub(crate) const COOKIE_LEN: usize = 16 + 80;
/// A vouch's box: C′ + S and a tag.
pub(crate) const VOUCH_BOX: usize = 64 + TAG_LEN;
/// The smallest INITIATE body after the name: cookie, nonce 8, box of C, vouch nonce and
/// vouch (128 bytes) and a tag.
pub(crate) const MIN_INITIATE_BODY: usize = COOKIE_LEN + 8 + 128 + TAG_LEN;
/// The smallest READY body after the name: nonce 8 and the tag of an empty box.
pub(crate) const MIN_READY_BODY: usize = 8 + TAG_LEN;

/// A 24-byte nonce of a 16-byte prefix and a big-endian short nonce.
pub(crate) fn short_nonce(prefix: &[u8; 16], n: u64) -> [u8; 24] {
    let mut nonce = [0; 24];
    nonce[..16].copy_from_slice(prefix);
    nonce[16..].copy_from_slice(&n.to_be_bytes());
    nonce
}

/// A 24-byte nonce of an 8-byte prefix and 16 bytes (random, or read from the peer).
pub(crate) fn long_nonce(prefix: &[u8; 8], tail: &[u8]) -> [u8; 24] {
    let mut nonce = [0; 24];
    nonce[..8].copy_from_slice(prefix);
    nonce[8..].copy_from_slice(&tail[..16]);
    nonce
}

/// Reads a big-endian short nonce.
pub(crate) fn read_u64(bytes: &[u8]) -> u64 {
    let mut raw = [0; 8];
    raw.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(raw)
}

/// Secret bytes: zeroized on drop, never printed.
#[derive(Clone)]
pub(crate) struct Secret<const N: usize>(pub(crate) [u8; N]);

impl<const N: usize> Secret<N> {
    pub(crate) fn random(rng: &mut dyn CryptoRngCore) -> Self {
        let mut s = Self([0; N]);
        rng.fill_bytes(&mut s.0);
        s
    }
}

impl<const N: usize> Drop for Secret<N> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The public key of a secret key (scalar multiplication of the base point).
pub(crate) fn public_of(secret: &Secret<KEY_LEN>) -> [u8; KEY_LEN] {
    let secret = x25519_dalek::StaticSecret::from(secret.0);
    x25519_dalek::PublicKey::from(&secret).to_bytes()
}

/// The randomness a CURVE handshake needs, drawn from the caller's RNG when the handshake is
/// created, so that the state machine itself holds no RNG.
#[derive(Debug)]
pub(crate) enum Entropy {
    /// c′, and the vouch's nonce.
    Client {
        short_secret: Secret<KEY_LEN>,
        vouch_nonce: [u8; 16],
    },
    /// s′, the cookie key, and the cookie's and WELCOME's nonces.
    Server {
        short_secret: Secret<KEY_LEN>,
        cookie_key: Secret<KEY_LEN>,
        cookie_nonce: [u8; 16],
        welcome_nonce: [u8; 16],
    },
}

impl Entropy {
    pub(crate) fn client(rng: &mut dyn CryptoRngCore) -> Self {
        let short_secret = Secret::random(rng);
        let mut vouch_nonce = [0; 16];
        rng.fill_bytes(&mut vouch_nonce);
        Self::Client {
            short_secret,
            vouch_nonce,
        }
    }

    pub(crate) fn server(rng: &mut dyn CryptoRngCore) -> Self {
        let short_secret = Secret::random(rng);
        let cookie_key = Secret::random(rng);
        let mut cookie_nonce = [0; 16];
        rng.fill_bytes(&mut cookie_nonce);
        let mut welcome_nonce = [0; 16];
        rng.fill_bytes(&mut welcome_nonce);
        Self::Server {
            short_secret,
            cookie_key,
            cookie_nonce,
            welcome_nonce,
        }
    }
}

/// A box key: XSalsa20-Poly1305 with a precomputed key (`crypto_box_beforenm`'s output, or
/// a `crypto_secretbox` key). The key is zeroized when dropped.
#[derive(Clone)]
pub(crate) struct BoxKey(Secret<KEY_LEN>);

impl BoxKey {
    /// `crypto_box_beforenm(their_public, our_secret)`: X25519, then HSalsa20 with a zero
    /// nonce. `None` if the shared point is all zeros (their key is of low order), which
    /// libsodium refuses too.
    pub(crate) fn precompute(
        their_public: &[u8; KEY_LEN],
        our_secret: &Secret<KEY_LEN>,
    ) -> Option<Self> {
        let secret = x25519_dalek::StaticSecret::from(our_secret.0);
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(*their_public));
        if !shared.was_contributory() {
            return None;
        }
        Some(Self(Secret(secretbox::hsalsa20(
            shared.as_bytes(),
            &[0; 16],
        ))))
    }

    /// A `crypto_secretbox` key.
    pub(crate) fn secret(key: &Secret<KEY_LEN>) -> Self {
        Self(key.clone())
    }

    /// Seals `out[at..]` followed by `src`, which is appended to `out` as it is sealed;
    /// returns the tag (the box is the tag, then `out[at..]`).
    pub(crate) fn seal_appending<B: secretbox::Buffer>(
        &self,
        nonce: &[u8; 24],
        out: &mut B,
        at: usize,
        src: &[u8],
    ) -> [u8; TAG_LEN] {
        secretbox::seal_appending(&self.0 .0, nonce, out, at, src)
    }

    /// Checks `tag` (in constant time) against the ciphertext `src` and appends the
    /// plaintext to `out`; `false`, with `out` as it was, if the box is not authentic.
    pub(crate) fn open_appending<B: secretbox::Buffer>(
        &self,
        nonce: &[u8; 24],
        tag: &[u8],
        src: &[u8],
        out: &mut B,
    ) -> bool {
        let Ok(tag) = <&[u8; TAG_LEN]>::try_from(tag) else {
            return false;
        };
        secretbox::open_appending(&self.0 .0, nonce, tag, src, out)
    }

    /// Checks `tag` (in constant time) and decrypts `buf` in place; `false` if the box is
    /// not authentic, in which case `buf` is left encrypted.
    pub(crate) fn open_in_place(&self, nonce: &[u8; 24], tag: &[u8], buf: &mut [u8]) -> bool {
        let Ok(tag) = <&[u8; TAG_LEN]>::try_from(tag) else {
            return false;
        };
        secretbox::open_in_place(&self.0 .0, nonce, tag, buf)
    }

    /// Seals `plaintext` and appends the box (tag, then ciphertext) to `out`.
    pub(crate) fn seal_to(
        &self,
        nonce: &[u8; 24],
        plaintext: &[u8],
        out: &mut alloc::vec::Vec<u8>,
    ) {
        let start = out.len();
        out.extend_from_slice(&[0; TAG_LEN]);
        let tag = self.seal_appending(nonce, out, start + TAG_LEN, plaintext);
        out[start..start + TAG_LEN].copy_from_slice(&tag);
    }

    /// Opens a box (tag, then ciphertext) into a zeroizing buffer.
    pub(crate) fn open_box(&self, nonce: &[u8; 24], sealed: &[u8]) -> Option<Plaintext> {
        if sealed.len() < TAG_LEN {
            return None;
        }
        let (tag, ct) = sealed.split_at(TAG_LEN);
        let mut plain = Plaintext(alloc::vec::Vec::with_capacity(ct.len()));
        self.open_appending(nonce, tag, ct, &mut plain.0)
            .then_some(plain)
    }
}

impl fmt::Debug for BoxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoxKey(..)")
    }
}

/// An opened box's contents, zeroized when dropped (it may hold keys).
pub(crate) struct Plaintext(pub(crate) alloc::vec::Vec<u8>);

impl Drop for Plaintext {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The NaCl `crypto_box` test vector of the NaCl distribution (`tests/box.c`,
    /// `tests/box2.c`; also in libsodium): Alice's secret key, Bob's public key, the nonce,
    /// and the first bytes of the box.
    #[test]
    fn nacl_box_vector() {
        let alice_sk = Secret([
            0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2,
            0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5,
            0x1d, 0xb9, 0x2c, 0x2a,
        ]);
        let bob_pk = [
            0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61, 0xc2, 0xec, 0xe4,
            0x35, 0x37, 0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14,
            0x6f, 0x88, 0x2b, 0x4f,
        ];
        let nonce = [
            0x69, 0x69, 0x6e, 0xe9, 0x55, 0xb6, 0x2b, 0x73, 0xcd, 0x62, 0xbd, 0xa8, 0x75, 0xfc,
            0x73, 0xd6, 0x82, 0x19, 0xe0, 0x03, 0x6b, 0x7a, 0x0b, 0x37,
        ];
        let message = [
            0xbe, 0x07, 0x5f, 0xc5, 0x3c, 0x81, 0xf2, 0xd5, 0xcf, 0x14, 0x13, 0x16, 0xeb, 0xeb,
            0x0c, 0x7b, 0x52, 0x28, 0xc5, 0x2a, 0x4c, 0x62, 0xcb, 0xd4, 0x4b, 0x66, 0x84, 0x9b,
            0x64, 0x24, 0x4f, 0xfc, 0xe5, 0xec, 0xba, 0xaf, 0x33, 0xbd, 0x75, 0x1a, 0x1a, 0xc7,
            0x28, 0xd4, 0x5e, 0x6c, 0x61, 0x29, 0x6c, 0xdc, 0x3c, 0x01, 0x23, 0x35, 0x61, 0xf4,
            0x1d, 0xb6, 0x6c, 0xce, 0x31, 0x4a, 0xdb, 0x31, 0x0e, 0x3b, 0xe8, 0x25, 0x0c, 0x46,
            0xf0, 0x6d, 0xce, 0xea, 0x3a, 0x7f, 0xa1, 0x34, 0x80, 0x57, 0xe2, 0xf6, 0x55, 0x6a,
            0xd6, 0xb1, 0x31, 0x8a, 0x02, 0x4a, 0x83, 0x8f, 0x21, 0xaf, 0x1f, 0xde, 0x04, 0x89,
            0x77, 0xeb, 0x48, 0xf5, 0x9f, 0xfd, 0x49, 0x24, 0xca, 0x1c, 0x60, 0x90, 0x2e, 0x52,
            0xf0, 0xa0, 0x89, 0xbc, 0x76, 0x89, 0x70, 0x40, 0xe0, 0x82, 0xf9, 0x37, 0x76, 0x38,
            0x48, 0x64, 0x5e, 0x07, 0x05,
        ];
        let expected_start = [
            0xf3, 0xff, 0xc7, 0x70, 0x3f, 0x94, 0x00, 0xe5, 0x2a, 0x7d, 0xfb, 0x4b, 0x3d, 0x33,
            0x05, 0xd9, 0x8e, 0x99, 0x3b, 0x9f, 0x48, 0x68, 0x12, 0x73, 0xc2, 0x96, 0x50, 0xba,
            0x32, 0xfc, 0x76, 0xce,
        ];
        let key = BoxKey::precompute(&bob_pk, &alice_sk).unwrap();
        let mut sealed = alloc::vec::Vec::new();
        key.seal_to(&nonce, &message, &mut sealed);
        assert_eq!(sealed.len(), TAG_LEN + message.len());
        assert_eq!(sealed[..32], expected_start);
        let opened = key.open_box(&nonce, &sealed).unwrap();
        assert_eq!(opened.0, message);
        let mut tampered = sealed.clone();
        tampered[40] ^= 1;
        assert!(key.open_box(&nonce, &tampered).is_none());
    }

    #[test]
    fn low_order_points_are_refused() {
        let sk = Secret([7; 32]);
        assert!(BoxKey::precompute(&[0; 32], &sk).is_none());
        let mut one = [0; 32];
        one[0] = 1;
        assert!(BoxKey::precompute(&one, &sk).is_none());
    }
}
