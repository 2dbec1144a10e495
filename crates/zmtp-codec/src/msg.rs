//! Message frames as the layers above pass them around.
//!
//! A message is one or more frames; every frame but the last has `more` set. Patterns
//! route frames, pipes queue them, engines encode them; all share this type so that a
//! frame's bytes are never copied between layers, except small ones (see [`Payload`]).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::hash::{Hash, Hasher};
use core::ops::Deref;
use core::{fmt, slice};

use bytes::{Bytes, BytesMut};

/// Frames of at most this many bytes are held inside their [`Payload`], as libzmq keeps
/// messages up to 33 bytes inside its `msg_t` ("very small messages"). The figure fills
/// the room a [`Bytes`] takes anyway, with a byte for the count, in four whole words
/// after the variant's tag: a payload is 40 bytes either way.
pub const INLINE_MAX: usize = 31;

/// The bytes of one frame: held inline when small, else a shared [`Bytes`].
///
/// A small frame crosses threads (from the caller to the I/O thread, from the I/O thread
/// to the caller) with every message in a stream of them; as a `Bytes` cut from a shared
/// buffer, each would move that buffer's reference count between two cores, one
/// contended atomic operation on each side per message, and as a `Bytes` of its own it
/// would take an allocation freed by the other thread. Inline, it is copied with the
/// frame and nothing is shared.
///
/// Equality, ordering of bytes and hashing are those of the content, whatever the
/// representation.
#[derive(Clone)]
pub struct Payload(Repr);

#[derive(Clone)]
enum Repr {
    Inline(Inline),
    Shared(Bytes),
}

/// An inline payload: its bytes and, in the last byte, their count, held as four words,
/// each built in a register and stored whole.
///
/// Every copy of a frame on its way (built in the caller, stored in a pipe, taken out,
/// handed up through the pattern and the socket) is then made of whole words, and the
/// variant's tag keeps the payload's first word to itself. Laid out byte by byte after
/// the tag (the count at byte 1, the bytes from byte 2), one function stored the count
/// and bytes together and the next loaded the bytes alone, and the bytes were first
/// copied into place a byte at a time and loaded back sixteen at a time: each such load
/// straddled stores of other sizes and waited for them to reach the cache (a failed
/// store-to-load forward), several times per frame on each side. A 1-byte message sent
/// and received on one thread took 54-77 ns to send and 52-75 ns to receive; 30-32 and
/// 43-51 this way (PERFORMANCE.md, "The tenth pass").
#[derive(Clone, Copy)]
struct Inline {
    words: [u64; 4],
}

/// Where an [`Inline`] keeps its count: the last of its 32 bytes.
const INLINE_LEN_AT: usize = INLINE_MAX;

impl Inline {
    const EMPTY: Self = Self { words: [0; 4] };

    /// `data` (at most [`INLINE_MAX`] bytes) and its count.
    #[inline(always)]
    fn new(data: &[u8]) -> Self {
        let n = data.len();
        let part = |i: usize| word(&data[n.min(8 * i)..n.min(8 * i + 8)]);
        // The count takes the last byte, which no byte of `data` reaches.
        let last = part(3) | (n as u64) << (8 * (INLINE_LEN_AT - 24));
        Self {
            words: [
                part(0).to_le(),
                part(1).to_le(),
                part(2).to_le(),
                last.to_le(),
            ],
        }
    }

    #[inline]
    fn len(&self) -> usize {
        usize::from(bytemuck::bytes_of(&self.words)[INLINE_LEN_AT])
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        &bytemuck::bytes_of(&self.words)[..self.len()]
    }

    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        let len = self.len();
        &mut bytemuck::bytes_of_mut(&mut self.words)[..len]
    }
}

/// Up to 8 bytes as a little-endian word, the rest zero, read in at most two loads that
/// may overlap (no byte-by-byte copy through memory).
#[inline(always)]
fn word(data: &[u8]) -> u64 {
    let n = data.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let hi = u32::from_le_bytes([data[n - 4], data[n - 3], data[n - 2], data[n - 1]]);
        u64::from(lo) | u64::from(hi) << (8 * (n - 4))
    } else if n >= 2 {
        let lo = u16::from_le_bytes([data[0], data[1]]);
        let hi = u16::from_le_bytes([data[n - 2], data[n - 1]]);
        u64::from(lo) | u64::from(hi) << (8 * (n - 2))
    } else if n == 1 {
        u64::from(data[0])
    } else {
        0
    }
}

impl Payload {
    /// An empty payload.
    pub const fn new() -> Self {
        Self(Repr::Inline(Inline::EMPTY))
    }

    /// A copy of `data`: inline when it fits, else in a new buffer.
    #[inline]
    pub fn copy_from_slice(data: &[u8]) -> Self {
        Self::inline(data).unwrap_or_else(|| {
            let mut copy = Vec::with_capacity(data.len());
            crate::copy::put(&mut copy, data);
            Self(Repr::Shared(Bytes::from(copy)))
        })
    }

    /// `data` inline, if it fits.
    #[inline]
    pub fn inline(data: &[u8]) -> Option<Self> {
        if data.len() > INLINE_MAX {
            return None;
        }
        Some(Self(Repr::Inline(Inline::new(data))))
    }

    /// `bytes`, copied inline if it is small (its buffer is released at once), else as it
    /// is.
    #[inline]
    pub fn compact(bytes: Bytes) -> Self {
        Self::inline(&bytes).unwrap_or(Self(Repr::Shared(bytes)))
    }

    /// The bytes as a [`Bytes`]; an inline payload is copied into a new buffer.
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline(inline) => Bytes::copy_from_slice(inline.bytes()),
            Repr::Shared(bytes) => bytes,
        }
    }

    /// Whether the bytes are held inline.
    pub const fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline(_))
    }

    /// The number of bytes.
    #[inline]
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Inline(inline) => inline.len(),
            Repr::Shared(bytes) => bytes.len(),
        }
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(inline) => inline.bytes(),
            Repr::Shared(bytes) => bytes,
        }
    }

    /// The bytes, writable, when the payload is inline (nothing else can see them then).
    pub fn inline_mut(&mut self) -> Option<&mut [u8]> {
        match &mut self.0 {
            Repr::Inline(inline) => Some(inline.bytes_mut()),
            Repr::Shared(_) => None,
        }
    }
}

impl Default for Payload {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for Payload {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Payload {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for Payload {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<'a> IntoIterator for &'a Payload {
    type Item = &'a u8;
    type IntoIter = slice::Iter<'a, u8>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As `Bytes` prints: a byte string.
        f.write_str("b\"")?;
        for &b in self.as_slice() {
            if b == b'\n' {
                f.write_str("\\n")?;
            } else if b == b'\r' {
                f.write_str("\\r")?;
            } else if b == b'\t' {
                f.write_str("\\t")?;
            } else if b == b'\\' || b == b'"' {
                write!(f, "\\{}", b as char)?;
            } else if b == 0 {
                f.write_str("\\0")?;
            } else if (0x20..0x7f).contains(&b) {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Payload {}

impl PartialEq<[u8]> for Payload {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for Payload {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl PartialEq<Bytes> for Payload {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_slice() == &other[..]
    }
}

impl PartialEq<Payload> for Bytes {
    fn eq(&self, other: &Payload) -> bool {
        &self[..] == other.as_slice()
    }
}

impl Hash for Payload {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl From<Bytes> for Payload {
    /// Takes the buffer over, as it is (see [`Payload::compact`] to copy a small one).
    fn from(bytes: Bytes) -> Self {
        Self(Repr::Shared(bytes))
    }
}

impl From<BytesMut> for Payload {
    fn from(bytes: BytesMut) -> Self {
        Self::from(bytes.freeze())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from(Bytes::from(bytes))
    }
}

impl From<Box<[u8]>> for Payload {
    fn from(bytes: Box<[u8]>) -> Self {
        Self::from(Bytes::from(bytes))
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Self::from(Bytes::from(text))
    }
}

impl From<&'static [u8]> for Payload {
    fn from(bytes: &'static [u8]) -> Self {
        Self::from(Bytes::from_static(bytes))
    }
}

impl From<&'static str> for Payload {
    fn from(text: &'static str) -> Self {
        Self::from(Bytes::from_static(text.as_bytes()))
    }
}

/// One frame of a message: its bytes, and whether more frames of the same message follow.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Frame {
    /// The frame's bytes.
    pub data: Payload,
    /// Whether more frames of the same message follow.
    pub more: bool,
}

impl Frame {
    /// A frame with these bytes.
    pub fn new(data: impl Into<Payload>, more: bool) -> Self {
        Self {
            data: data.into(),
            more,
        }
    }

    /// The last (or only) frame of a message.
    pub fn last(data: impl Into<Payload>) -> Self {
        Self::new(data, false)
    }

    /// A frame followed by more frames of the same message.
    pub fn more(data: impl Into<Payload>) -> Self {
        Self::new(data, true)
    }

    /// The frame's length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the frame has no bytes (such as the REQ/REP delimiter).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn small_copies_are_inline_and_large_ones_shared() {
        let small = Payload::copy_from_slice(&[7; INLINE_MAX]);
        assert!(small.is_inline());
        assert_eq!(small.as_slice(), &[7; INLINE_MAX][..]);
        let large = Payload::copy_from_slice(&[7; INLINE_MAX + 1]);
        assert!(!large.is_inline());
        assert_eq!(large.len(), INLINE_MAX + 1);
        assert!(Payload::new().is_empty() && Payload::new().is_inline());
    }

    #[test]
    fn compacting_copies_only_small_buffers() {
        let buffer = Bytes::from(alloc::vec![1u8; 100]);
        let small = Payload::compact(buffer.slice(..3));
        assert!(small.is_inline());
        assert_eq!(small, &[1, 1, 1][..]);
        let large = Payload::compact(buffer.slice(..50));
        assert!(!large.is_inline());
        assert_eq!(large.into_bytes().as_ptr(), buffer.as_ptr());
    }

    #[test]
    fn equality_and_hash_follow_the_content() {
        use core::hash::BuildHasher;
        let inline = Payload::copy_from_slice(b"topic");
        let shared = Payload::from(Bytes::from_static(b"topic"));
        assert!(inline.is_inline() && !shared.is_inline());
        assert_eq!(inline, shared);
        let hasher = std::hash::RandomState::new();
        assert_eq!(hasher.hash_one(&inline), hasher.hash_one(&shared));
        assert_eq!(
            format!("{inline:?}"),
            format!("{:?}", Bytes::from_static(b"topic"))
        );
    }

    #[test]
    fn a_payload_is_no_larger_than_a_bytes_and_a_word() {
        assert_eq!(size_of::<Payload>(), size_of::<Bytes>() + 8);
    }

    #[test]
    fn every_inline_length_keeps_its_bytes_and_count() {
        let source: Vec<u8> = (1..=u8::try_from(INLINE_MAX).unwrap()).collect();
        for n in 0..=INLINE_MAX {
            let data = &source[..n];
            let mut payload = Payload::copy_from_slice(data);
            assert!(payload.is_inline());
            assert_eq!(payload.len(), n);
            assert_eq!(payload.as_slice(), data);
            let bytes = payload.inline_mut().unwrap();
            assert_eq!(bytes.len(), n);
            bytes.iter_mut().for_each(|b| *b = !*b);
            let flipped: Vec<u8> = data.iter().map(|b| !b).collect();
            assert_eq!(payload.as_slice(), &flipped[..]);
            assert_eq!(payload.len(), n);
        }
    }

    #[test]
    fn a_partial_word_holds_its_bytes_in_order() {
        let source = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
        for n in 0..=8 {
            let mut expected = [0u8; 8];
            expected[..n].copy_from_slice(&source[..n]);
            assert_eq!(
                word(&source[..n]),
                u64::from_le_bytes(expected),
                "{n} bytes"
            );
        }
    }
}
