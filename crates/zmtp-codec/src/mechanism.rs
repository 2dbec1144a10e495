//! Security mechanism names as they appear in the greeting.

use core::fmt;

use crate::limits::MECHANISM_SIZE;

/// A security mechanism name: up to 20 ASCII characters, NUL-padded on the wire.
///
/// Peers compare all 20 bytes exactly (RFC 23, "mechanism"); two names are equal only if
/// they are byte-for-byte equal, padding included. A name read from a peer is kept as it
/// arrived, even if it breaks the character rules, so it can be reported.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mechanism([u8; MECHANISM_SIZE]);

impl Mechanism {
    /// `NULL`: no security (RFC 23).
    pub const NULL: Self = Self::from_static("NULL");
    /// `PLAIN`: clear-text user name and password (RFC 24).
    pub const PLAIN: Self = Self::from_static("PLAIN");
    /// `CURVE`: CurveZMQ encryption and authentication (RFC 25, 26).
    pub const CURVE: Self = Self::from_static("CURVE");
    /// `GSSAPI`: Kerberos through GSS-API (RFC 38).
    pub const GSSAPI: Self = Self::from_static("GSSAPI");

    const fn from_static(name: &str) -> Self {
        let bytes = name.as_bytes();
        let mut out = [0u8; MECHANISM_SIZE];
        let mut i = 0;
        while i < bytes.len() {
            out[i] = bytes[i];
            i += 1;
        }
        Self(out)
    }

    /// A mechanism of the given name.
    ///
    /// The name must be 1 to 20 characters from `A-Z 0-9 - _ . +` (RFC 23,
    /// `mechanism-char`); `None` otherwise.
    pub fn new(name: &str) -> Option<Self> {
        let bytes = name.as_bytes();
        let valid_char =
            |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit() || b"-_.+".contains(c);
        if bytes.is_empty() || bytes.len() > MECHANISM_SIZE || !bytes.iter().all(valid_char) {
            return None;
        }
        let mut out = [0u8; MECHANISM_SIZE];
        out[..bytes.len()].copy_from_slice(bytes);
        Some(Self(out))
    }

    /// The mechanism exactly as it appears in a greeting (20 bytes).
    pub const fn from_wire(bytes: [u8; MECHANISM_SIZE]) -> Self {
        Self(bytes)
    }

    /// The 20 bytes this name takes in a greeting.
    pub const fn as_wire(&self) -> &[u8; MECHANISM_SIZE] {
        &self.0
    }

    /// The name without its NUL padding.
    pub fn name(&self) -> &[u8] {
        let end = self.0.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        &self.0[..end]
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.name() {
            if b.is_ascii_graphic() {
                fmt::Write::write_char(f, b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mechanism({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Mechanism::NULL.name(), b"NULL");
        assert_eq!(Mechanism::new("CURVE"), Some(Mechanism::CURVE));
        assert_eq!(Mechanism::new("curve"), None);
        assert_eq!(Mechanism::new(""), None);
        assert_eq!(Mechanism::new("ABCDEFGHIJKLMNOPQRSTU"), None);
        assert!(Mechanism::new("ABCDEFGHIJKLMNOPQRST").is_some());
        assert_eq!(alloc::format!("{}", Mechanism::PLAIN), "PLAIN");
        let odd = Mechanism::from_wire(*b"A\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(alloc::format!("{odd}"), "A\\x01");
    }
}
