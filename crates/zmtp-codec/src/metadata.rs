//! Metadata property lists, as carried by READY and INITIATE (RFC 23, "metadata").
//!
//! Each property is a 1-byte name length, the name, a 4-byte big-endian value length, and
//! the value. Names are case-insensitive (RFC 37); lookups here ignore ASCII case, where
//! libzmq's do not.

use bytes::{BufMut, Bytes};
use core::fmt;
use smallvec::SmallVec;

use crate::limits::{MAX_PROPERTIES, MAX_PROPERTY_NAME};

/// The `Socket-Type` property name.
pub const SOCKET_TYPE: &str = "Socket-Type";
/// The `Identity` property name (the peer's routing id; libzmq also calls it `Routing-Id`).
pub const IDENTITY: &str = "Identity";
/// The `Resource` property name (RFC 37; libzmq does not implement it).
pub const RESOURCE: &str = "Resource";
/// The `User-Id` property name, set from a ZAP reply (RFC 27).
pub const USER_ID: &str = "User-Id";

/// A property list: ordered `(name, value)` pairs.
///
/// Values received from a peer are zero-copy slices of the command that carried them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    props: SmallVec<[(Bytes, Bytes); 4]>,
}

/// Why a property list could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// A property runs past the end of the list.
    Truncated {
        /// Byte offset of the property that is cut short.
        offset: usize,
    },
    /// More properties than [`MAX_PROPERTIES`].
    TooManyProperties,
    /// A name to encode is empty or longer than 255 bytes.
    NameLength {
        /// Its length.
        len: usize,
    },
    /// A name to encode has a character outside `A-Z a-z 0-9 - _ . +` (RFC 23, `name-char`).
    NameChar,
    /// A value to encode is longer than `u32::MAX` bytes.
    ValueTooLong {
        /// Its length.
        len: usize,
    },
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { offset } => write!(
                f,
                "malformed metadata: the property at byte {offset} runs past the end of the command"
            ),
            Self::TooManyProperties => write!(
                f,
                "the peer sent more than {MAX_PROPERTIES} metadata properties"
            ),
            Self::NameLength { len } => write!(
                f,
                "a metadata property name must be 1 to {MAX_PROPERTY_NAME} bytes, not {len}"
            ),
            Self::NameChar => {
                f.write_str("a metadata property name may hold only letters, digits and - _ . +")
            }
            Self::ValueTooLong { len } => write!(
                f,
                "a metadata value of {len} bytes does not fit the 4-byte length field"
            ),
        }
    }
}

impl core::error::Error for MetadataError {}

impl Metadata {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            props: SmallVec::new_const(),
        }
    }

    /// Reads a property list that fills `body` entirely.
    ///
    /// Names are not checked against the RFC's character set, as libzmq does not check
    /// them either; a list that ends mid-property is an error.
    pub fn parse(body: &Bytes) -> Result<Self, MetadataError> {
        let mut props = SmallVec::new();
        let mut pos = 0;
        while pos < body.len() {
            if props.len() == MAX_PROPERTIES {
                return Err(MetadataError::TooManyProperties);
            }
            let truncated = MetadataError::Truncated { offset: pos };
            let name_len = usize::from(body[pos]);
            let name_end = pos + 1 + name_len;
            let len_end = name_end + 4;
            let Some(len_bytes) = body.get(name_end..len_end) else {
                return Err(truncated);
            };
            let value_len =
                u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
            let value_end = usize::try_from(value_len)
                .ok()
                .and_then(|v| len_end.checked_add(v))
                .filter(|&end| end <= body.len())
                .ok_or(truncated)?;
            props.push((
                body.slice(pos + 1..name_end),
                body.slice(len_end..value_end),
            ));
            pos = value_end;
        }
        Ok(Self { props })
    }

    /// The value of property `name`, compared without regard to ASCII case.
    ///
    /// If a peer sent a name twice, the first value wins.
    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.props
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Adds a property. The name must be 1 to 255 characters of `A-Z a-z 0-9 - _ . +`.
    pub fn insert(&mut self, name: &str, value: impl Into<Bytes>) -> Result<(), MetadataError> {
        let value = value.into();
        check_name(name.as_bytes())?;
        if u32::try_from(value.len()).is_err() {
            return Err(MetadataError::ValueTooLong { len: value.len() });
        }
        self.props
            .push((Bytes::copy_from_slice(name.as_bytes()), value));
        Ok(())
    }

    /// Appends every property of `other`, in order, as they are (names are not checked
    /// again: they may come from a peer).
    pub fn extend_from(&mut self, other: &Self) {
        self.props.extend(other.props.iter().cloned());
    }

    /// The properties in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.props.iter().map(|(n, v)| (n, v))
    }

    /// The number of properties.
    pub fn len(&self) -> usize {
        self.props.len()
    }

    /// Whether there are no properties.
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }

    /// The size of the encoded list.
    pub fn encoded_len(&self) -> usize {
        self.props
            .iter()
            .map(|(n, v)| 1 + n.len() + 4 + v.len())
            .sum()
    }

    /// Appends the encoded list to `out`.
    pub fn encode(&self, out: &mut impl BufMut) {
        for (name, value) in &self.props {
            // `insert` checked both lengths; `parse` read them from 1- and 4-byte fields.
            out.put_u8(name.len() as u8);
            out.put_slice(name);
            out.put_u32(value.len() as u32);
            out.put_slice(value);
        }
    }
}

fn check_name(name: &[u8]) -> Result<(), MetadataError> {
    if name.is_empty() || name.len() > MAX_PROPERTY_NAME {
        return Err(MetadataError::NameLength { len: name.len() });
    }
    if !name
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || b"-_.+".contains(c))
    {
        return Err(MetadataError::NameChar);
    }
    Ok(())
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.props.iter().map(|(n, v)| (n, v)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn rfc_37_dealer_ready_properties() {
        // The property list of RFC 37's worked example (a DEALER's READY).
        let body = Bytes::from_static(
            b"\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x00",
        );
        let md = Metadata::parse(&body).unwrap();
        assert_eq!(md.len(), 2);
        assert_eq!(md.get("socket-type").unwrap(), "DEALER");
        assert_eq!(md.get("IDENTITY").unwrap(), "");
        assert_eq!(md.encoded_len(), body.len());
        let mut out = Vec::new();
        md.encode(&mut out);
        assert_eq!(out, body);
    }

    #[test]
    fn truncation_is_an_error() {
        for body in [
            &b"\x05Sock"[..],
            b"\x04Name\x00\x00\x00",
            b"\x04Name\x00\x00\x00\x05abc",
            b"\x04Name\x00\x00\x00\x00\x01",
            b"\x01",
        ] {
            assert!(matches!(
                Metadata::parse(&Bytes::copy_from_slice(body)),
                Err(MetadataError::Truncated { .. })
            ));
        }
        assert!(Metadata::parse(&Bytes::new()).unwrap().is_empty());
        let huge = Bytes::from_static(b"\x01A\xff\xff\xff\xff");
        assert!(Metadata::parse(&huge).is_err());
    }

    #[test]
    fn property_count_is_bounded() {
        let mut body = Vec::new();
        for _ in 0..=MAX_PROPERTIES {
            body.extend_from_slice(b"\x01A\x00\x00\x00\x00");
        }
        assert_eq!(
            Metadata::parse(&Bytes::from(body)),
            Err(MetadataError::TooManyProperties)
        );
    }

    #[test]
    fn insert_checks_names() {
        let mut md = Metadata::new();
        assert!(md.insert("X-Hello", "world").is_ok());
        assert_eq!(md.insert("", ""), Err(MetadataError::NameLength { len: 0 }));
        assert_eq!(md.insert("bad name", ""), Err(MetadataError::NameChar));
        let long = "a".repeat(256);
        assert_eq!(
            md.insert(&long, ""),
            Err(MetadataError::NameLength { len: 256 })
        );
        assert_eq!(md.get("x-hello").unwrap(), "world");
    }
}
