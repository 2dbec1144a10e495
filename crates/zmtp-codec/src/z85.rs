//! Z85, the printable encoding of binary keys (RFC 32).
//!
//! Four bytes, read as a big-endian `u32`, become five characters of a base-85 alphabet.
//! CURVE keys (32 bytes) are 40 characters.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Maps a character to its digit, or `0xFF` for characters outside the alphabet.
const DECODE: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Why Z85 encoding or decoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Z85Error {
    /// Binary input must be a multiple of 4 bytes long.
    BinaryLength {
        /// The length given.
        len: usize,
    },
    /// Text input must be a multiple of 5 characters long.
    TextLength {
        /// The length given.
        len: usize,
    },
    /// A character outside the Z85 alphabet.
    InvalidChar {
        /// Its byte offset in the input.
        position: usize,
        /// The byte found.
        byte: u8,
    },
    /// A 5-character group whose value does not fit in 32 bits (above `%nSc0`).
    Overflow {
        /// Byte offset of the group in the input.
        position: usize,
    },
}

impl fmt::Display for Z85Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BinaryLength { len } => write!(
                f,
                "Z85 encodes whole 4-byte groups, but the input is {len} bytes; pad it to a multiple of 4"
            ),
            Self::TextLength { len } => write!(
                f,
                "Z85 text comes in 5-character groups, but the input is {len} characters; check it was not truncated"
            ),
            Self::InvalidChar { position, byte } => write!(
                f,
                "byte 0x{byte:02x} at offset {position} is not a Z85 character"
            ),
            Self::Overflow { position } => write!(
                f,
                "the Z85 group at offset {position} encodes a value above 2^32-1"
            ),
        }
    }
}

impl core::error::Error for Z85Error {}

/// Encodes `data` as Z85 text. Its length must be a multiple of 4.
pub fn encode(data: &[u8]) -> Result<String, Z85Error> {
    let mut out = String::with_capacity(encoded_len(data.len())?);
    encode_into(data, &mut out)?;
    Ok(out)
}

/// The length of the Z85 text for `len` bytes of input.
pub const fn encoded_len(len: usize) -> Result<usize, Z85Error> {
    if !len.is_multiple_of(4) {
        return Err(Z85Error::BinaryLength { len });
    }
    Ok(len / 4 * 5)
}

/// Appends the Z85 text of `data` to `out`. Its length must be a multiple of 4.
pub fn encode_into(data: &[u8], out: &mut String) -> Result<(), Z85Error> {
    encoded_len(data.len())?;
    for group in data.chunks_exact(4) {
        let mut value = u32::from_be_bytes([group[0], group[1], group[2], group[3]]);
        let mut chars = [0u8; 5];
        for c in chars.iter_mut().rev() {
            *c = ALPHABET[(value % 85) as usize];
            value /= 85;
        }
        for c in chars {
            out.push(c as char);
        }
    }
    Ok(())
}

/// Decodes Z85 `text`. Its length must be a multiple of 5.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, Z85Error> {
    if !text.len().is_multiple_of(5) {
        return Err(Z85Error::TextLength { len: text.len() });
    }
    let mut out = Vec::with_capacity(text.len() / 5 * 4);
    for (g, group) in text.chunks_exact(5).enumerate() {
        let mut value: u64 = 0;
        for (i, &c) in group.iter().enumerate() {
            let digit = DECODE[c as usize];
            if digit == 0xFF {
                return Err(Z85Error::InvalidChar {
                    position: g * 5 + i,
                    byte: c,
                });
            }
            value = value * 85 + u64::from(digit);
        }
        let value = u32::try_from(value).map_err(|_| Z85Error::Overflow { position: g * 5 })?;
        out.extend_from_slice(&value.to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_32_test_vector() {
        let bin = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
        assert_eq!(encode(&bin).unwrap(), "HelloWorld");
        assert_eq!(decode(b"HelloWorld").unwrap(), bin);
    }

    #[test]
    fn rfc_32_curve_key_vector() {
        // The client public key of the RFC 32 / zmq_z85_encode example.
        let key = [
            0xBB, 0x88, 0x47, 0x1D, 0x65, 0xE2, 0x65, 0x9B, 0x30, 0xC5, 0x5A, 0x53, 0x21, 0xCE,
            0xBB, 0x5A, 0xAB, 0x2B, 0x70, 0xA3, 0x98, 0x64, 0x5C, 0x26, 0xDC, 0xA2, 0xB2, 0xFC,
            0xB4, 0x3F, 0xC5, 0x18,
        ];
        let text = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
        assert_eq!(encode(&key).unwrap(), text);
        assert_eq!(decode(text.as_bytes()).unwrap(), key);
    }

    #[test]
    fn errors() {
        assert_eq!(encode(&[1, 2, 3]), Err(Z85Error::BinaryLength { len: 3 }));
        assert_eq!(decode(b"abcd"), Err(Z85Error::TextLength { len: 4 }));
        assert_eq!(
            decode(b"abc\"e"),
            Err(Z85Error::InvalidChar {
                position: 3,
                byte: b'"'
            })
        );
        assert_eq!(decode(b"#####"), Err(Z85Error::Overflow { position: 0 }));
        // The largest group, 0xFFFFFFFF, is "%nSc0".
        assert_eq!(decode(b"%nSc0").unwrap(), [0xFF; 4]);
        assert_eq!(decode(b"%nSc1"), Err(Z85Error::Overflow { position: 0 }));
        assert_eq!(encode(&[]).unwrap(), "");
    }
}
