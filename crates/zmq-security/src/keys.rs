//! CURVE keys: Curve25519 public and secret keys, in binary or Z85 form (RFC 26, RFC 32).
//!
//! Secret keys are zeroized when dropped, compared in constant time, and never printed.

use alloc::string::String;
use core::fmt;
use rand_core::CryptoRngCore;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;
use zmtp_codec::z85;

/// The size of a CURVE key in bytes (RFC 26: Curve25519 keys are 32 octets).
pub const KEY_LEN: usize = 32;

/// The size of a CURVE key in Z85 text (RFC 32: 32 bytes are 40 characters).
pub const Z85_KEY_LEN: usize = 40;

/// Why a key could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// A binary key must be 32 bytes, a Z85 key 40 characters (41 with a trailing NUL, as
    /// libzmq's `zmq_setsockopt` accepts).
    Length {
        /// The length given.
        len: usize,
    },
    /// The text is not Z85.
    Z85(z85::Z85Error),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length { len } => write!(
                f,
                "a CURVE key is {KEY_LEN} bytes, or {Z85_KEY_LEN} characters of Z85 text, not \
                 {len}"
            ),
            Self::Z85(e) => write!(f, "the CURVE key is not valid Z85: {e}"),
        }
    }
}

impl core::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Z85(e) => Some(e),
            Self::Length { .. } => None,
        }
    }
}

/// Decodes a 40-character Z85 key (or 41 with a trailing NUL) into `out`.
fn decode_z85(text: &[u8], out: &mut [u8; KEY_LEN]) -> Result<(), KeyError> {
    let text = match text {
        [rest @ .., 0] if rest.len() == Z85_KEY_LEN => rest,
        _ => text,
    };
    if text.len() != Z85_KEY_LEN {
        return Err(KeyError::Length { len: text.len() });
    }
    let mut bytes = z85::decode(text).map_err(KeyError::Z85)?;
    out.copy_from_slice(&bytes);
    bytes.zeroize();
    Ok(())
}

/// A Curve25519 public key: a server's `ZMQ_CURVE_SERVERKEY`, a socket's
/// `ZMQ_CURVE_PUBLICKEY`, or the client key a ZAP handler is asked about.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurvePublicKey([u8; KEY_LEN]);

impl CurvePublicKey {
    /// The key of these 32 bytes.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The key of a 32-byte slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        <[u8; KEY_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| KeyError::Length { len: bytes.len() })
    }

    /// Reads a key in Z85: 40 characters, or 41 ending in a NUL.
    pub fn from_z85(text: &[u8]) -> Result<Self, KeyError> {
        let mut key = [0; KEY_LEN];
        decode_z85(text, &mut key)?;
        Ok(Self(key))
    }

    /// The key as a binary option value (32 bytes), or as 40 or 41 bytes of Z85, the forms
    /// `zmq_setsockopt` accepts.
    pub fn from_option(value: &[u8]) -> Result<Self, KeyError> {
        if value.len() == KEY_LEN {
            Self::from_slice(value)
        } else {
            Self::from_z85(value)
        }
    }

    /// The key's 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key in Z85 (40 characters).
    pub fn to_z85(&self) -> String {
        let mut text = String::with_capacity(Z85_KEY_LEN);
        // 32 is a multiple of 4, so encoding cannot fail.
        let _ = z85::encode_into(&self.0, &mut text);
        text
    }
}

impl fmt::Debug for CurvePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CurvePublicKey({})", self.to_z85())
    }
}

impl fmt::Display for CurvePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_z85())
    }
}

/// A Curve25519 secret key (`ZMQ_CURVE_SECRETKEY`).
///
/// Zeroized on drop; equality is constant-time; `Debug` does not show it.
#[derive(Clone)]
pub struct CurveSecretKey([u8; KEY_LEN]);

impl CurveSecretKey {
    /// The key of these 32 bytes.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The key of a 32-byte slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        <[u8; KEY_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| KeyError::Length { len: bytes.len() })
    }

    /// Reads a key in Z85: 40 characters, or 41 ending in a NUL.
    pub fn from_z85(text: &[u8]) -> Result<Self, KeyError> {
        let mut key = Self([0; KEY_LEN]);
        decode_z85(text, &mut key.0)?;
        Ok(key)
    }

    /// The key as a binary option value (32 bytes), or as 40 or 41 bytes of Z85.
    pub fn from_option(value: &[u8]) -> Result<Self, KeyError> {
        if value.len() == KEY_LEN {
            Self::from_slice(value)
        } else {
            Self::from_z85(value)
        }
    }

    /// A new random key (`crypto_box_keypair`'s secret half).
    pub fn generate(rng: &mut dyn CryptoRngCore) -> Self {
        let mut key = Self([0; KEY_LEN]);
        rng.fill_bytes(&mut key.0);
        key
    }

    /// The public key of this secret key (`zmq_curve_public`): Curve25519 scalar
    /// multiplication of the base point, with the usual clamping.
    pub fn public_key(&self) -> CurvePublicKey {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        CurvePublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes())
    }

    /// The key's 32 bytes: handle with care.
    pub const fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key in Z85 (40 characters): handle with care.
    pub fn to_z85(&self) -> String {
        let mut text = String::with_capacity(Z85_KEY_LEN);
        let _ = z85::encode_into(&self.0, &mut text);
        text
    }
}

impl Drop for CurveSecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PartialEq for CurveSecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for CurveSecretKey {}

impl fmt::Debug for CurveSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CurveSecretKey(..)")
    }
}

/// A long-term CURVE key pair: `ZMQ_CURVE_PUBLICKEY` and `ZMQ_CURVE_SECRETKEY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurveKeyPair {
    /// The public half, given to peers (and, for a server, to its clients as their
    /// `ZMQ_CURVE_SERVERKEY`).
    pub public: CurvePublicKey,
    /// The secret half.
    pub secret: CurveSecretKey,
}

impl CurveKeyPair {
    /// A new random key pair (`zmq_curve_keypair`).
    pub fn generate(rng: &mut dyn CryptoRngCore) -> Self {
        Self::from_secret(CurveSecretKey::generate(rng))
    }

    /// The key pair of a secret key, its public half derived (`zmq_curve_public`).
    pub fn from_secret(secret: CurveSecretKey) -> Self {
        Self {
            public: secret.public_key(),
            secret,
        }
    }

    /// A key pair as configured, halves taken as given: libzmq does not check that
    /// `ZMQ_CURVE_PUBLICKEY` belongs to `ZMQ_CURVE_SECRETKEY` (a mismatch fails the
    /// handshake at the server's vouch check).
    pub const fn new(public: CurvePublicKey, secret: CurveSecretKey) -> Self {
        Self { public, secret }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_26_test_keys() {
        // The test keys of libzmq's `tests/testutil_security.cpp` (and CZMQ's zcert).
        let public = CurvePublicKey::from_z85(b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID").unwrap();
        let secret = CurveSecretKey::from_z85(b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs").unwrap();
        assert_eq!(secret.public_key(), public);
        assert_eq!(public.to_z85(), "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
        let mut nul = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID".to_vec();
        nul.push(0);
        assert_eq!(CurvePublicKey::from_option(&nul).unwrap(), public);
        assert_eq!(
            CurvePublicKey::from_option(public.as_bytes()).unwrap(),
            public
        );
        assert_eq!(
            CurvePublicKey::from_z85(b"short"),
            Err(KeyError::Length { len: 5 })
        );
        assert!(matches!(
            CurveSecretKey::from_z85(&[b' '; 40]),
            Err(KeyError::Z85(_))
        ));
        assert_eq!(alloc::format!("{secret:?}"), "CurveSecretKey(..)");
        assert!(!alloc::format!("{public:?}").is_empty());
    }
}
