//! Z85 encoding (RFC 32), with the signatures of the `zmq` crate.

use std::{error, ffi, fmt, string};

use zmtp_codec::z85::{self, Z85Error};

/// Why [`z85_encode`] failed.
#[derive(Debug)]
pub enum EncodeError {
    /// The input is not a multiple of 4 bytes long.
    BadLength,
    /// Kept for source compatibility with the `zmq` crate; never returned, because Z85 text
    /// is always ASCII.
    FromUtf8Error(string::FromUtf8Error),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLength => f.write_str("Invalid data length. Should be multiple of 4."),
            Self::FromUtf8Error(e) => write!(f, "UTF8 conversion error: {e}"),
        }
    }
}

impl error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match self {
            Self::BadLength => None,
            Self::FromUtf8Error(e) => Some(e),
        }
    }
}

/// Why [`z85_decode`] failed.
#[derive(Debug)]
pub enum DecodeError {
    /// The input is not a multiple of 5 characters long.
    BadLength,
    /// The input holds a NUL byte.
    NulError(ffi::NulError),
    /// The input holds a character outside the Z85 alphabet, or a group above 2^32-1.
    ///
    /// The `zmq` crate returns garbage bytes for such input (libzmq does not check); this
    /// variant is the one addition to its error type.
    Invalid(Z85Error),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLength => f.write_str("Invalid data length. Should be multiple of 5."),
            Self::NulError(e) => write!(f, "Nul byte error: {e}"),
            Self::Invalid(e) => write!(f, "invalid Z85 text: {e}"),
        }
    }
}

impl error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match self {
            Self::BadLength => None,
            Self::NulError(e) => Some(e),
            Self::Invalid(e) => Some(e),
        }
    }
}

/// Encodes binary data (a multiple of 4 bytes, such as a 32-byte CURVE key) as Z85 text.
pub fn z85_encode(data: &[u8]) -> Result<String, EncodeError> {
    z85::encode(data).map_err(|_| EncodeError::BadLength)
}

/// Decodes Z85 text (a multiple of 5 characters) into binary data.
pub fn z85_decode(data: &str) -> Result<Vec<u8>, DecodeError> {
    if !data.len().is_multiple_of(5) {
        return Err(DecodeError::BadLength);
    }
    if data.contains('\0') {
        // The same error the `zmq` crate returns, made the same way.
        return Err(DecodeError::NulError(
            ffi::CString::new(data).expect_err("data holds a NUL byte"),
        ));
    }
    z85::decode(data.as_bytes()).map_err(DecodeError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_the_zmq_crate() {
        assert_eq!(
            z85_encode(b"\x86\x4f\xd2\x6f\xb5\x59\xf7\x5b").unwrap(),
            "HelloWorld"
        );
        assert!(matches!(z85_encode(b"abc"), Err(EncodeError::BadLength)));
        assert_eq!(
            z85_decode("HelloWorld").unwrap(),
            b"\x86\x4f\xd2\x6f\xb5\x59\xf7\x5b"
        );
        assert!(matches!(z85_decode("Hello!"), Err(DecodeError::BadLength)));
        assert!(matches!(
            z85_decode("Hell\0"),
            Err(DecodeError::NulError(_))
        ));
        assert!(matches!(z85_decode("Hell\""), Err(DecodeError::Invalid(_))));
    }
}
