//! CURVE key pairs: the `zmq` crate's [`CurveKeyPair`], and libzmq's `zmq_curve_keypair`
//! and `zmq_curve_public` as [`curve_keypair`] and [`curve_public`].

use std::fmt;

use rand_core::{OsRng, RngCore};
use zeroize::Zeroize;
use zmq_security::{CurvePublicKey, CurveSecretKey};

use crate::error::{Error, Result};

/// A CURVE key pair, in binary form (use [`z85_encode`](crate::z85_encode) for the text
/// form), as in the `zmq` crate: give the secret key to the socket that owns the pair and
/// the public key to its peers.
///
/// The secret key is zeroed when the pair is dropped, and `Debug` does not show it.
#[derive(Clone)]
pub struct CurveKeyPair {
    /// The public key.
    pub public_key: [u8; 32],
    /// The secret key.
    pub secret_key: [u8; 32],
}

impl CurveKeyPair {
    /// A new random key pair, from the operating system's random generator
    /// (`zmq_curve_keypair`). Fails with `EFAULT` only if that generator fails.
    pub fn new() -> Result<Self> {
        let mut secret = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut secret)
            .map_err(|_| Error::EFAULT)?;
        let pair = Self::from_secret_key(&secret);
        secret.zeroize();
        Ok(pair)
    }

    /// The key pair of a secret key, its public half derived from it (`zmq_curve_public`).
    pub fn from_secret_key(secret_key: &[u8; 32]) -> Self {
        let secret = CurveSecretKey::from_bytes(*secret_key);
        Self {
            public_key: *secret.public_key().as_bytes(),
            secret_key: *secret_key,
        }
    }
}

impl fmt::Debug for CurveKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurveKeyPair")
            .field(
                "public_key",
                &CurvePublicKey::from_bytes(self.public_key).to_z85(),
            )
            .field("secret_key", &"..")
            .finish()
    }
}

impl Drop for CurveKeyPair {
    fn drop(&mut self) {
        self.secret_key.zeroize();
    }
}

/// A new random key pair as Z85 text, `(public, secret)`, 40 characters each: libzmq's
/// `zmq_curve_keypair`. (An addition: the `zmq` crate has only [`CurveKeyPair::new`].)
pub fn curve_keypair() -> Result<(String, String)> {
    let pair = CurveKeyPair::new()?;
    let secret = CurveSecretKey::from_bytes(pair.secret_key);
    Ok((
        CurvePublicKey::from_bytes(pair.public_key).to_z85(),
        secret.to_z85(),
    ))
}

/// The public key, as Z85 text, of a secret key given as 40 characters of Z85: libzmq's
/// `zmq_curve_public`. `EINVAL` if `secret_key` is not a Z85 key. (An addition to the
/// `zmq` crate's API.)
pub fn curve_public(secret_key: &str) -> Result<String> {
    let secret = CurveSecretKey::from_z85(secret_key.as_bytes()).map_err(|_| Error::EINVAL)?;
    Ok(secret.public_key().to_z85())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libzmq_test_keys() {
        // libzmq's tests/testutil_security.cpp pair.
        assert_eq!(
            curve_public("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs").unwrap(),
            "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
        );
        assert_eq!(curve_public("short"), Err(Error::EINVAL));
        let (public, secret) = curve_keypair().unwrap();
        assert_eq!((public.len(), secret.len()), (40, 40));
        assert_eq!(curve_public(&secret).unwrap(), public);
        let pair = CurveKeyPair::new().unwrap();
        assert_eq!(
            CurveKeyPair::from_secret_key(&pair.secret_key).public_key,
            pair.public_key
        );
        assert_ne!(pair.public_key, CurveKeyPair::new().unwrap().public_key);
        assert!(!format!("{pair:?}").contains(&format!("{:?}", pair.secret_key)));
    }
}
