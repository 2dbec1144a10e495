//! Frame flags and frame headers for ZMTP 3.x, 2.0 and 1.0.
//!
//! | version | header | size field |
//! |---|---|---|
//! | 3.x (RFC 23) | flags, then size | 1 byte, or 8 bytes big-endian with LONG |
//! | 2.0 (RFC 15) | flags, then size | the same, without the COMMAND bit |
//! | 1.0 (RFC 13) | size, then flags | 1 byte, or `0xFF` + 8 bytes; counts the flags byte |

use bytes::BufMut;
use core::fmt;

/// The flags byte of a ZMTP 3.x frame.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameFlags(u8);

impl FrameFlags {
    /// More frames of the same message follow (bit 0).
    pub const MORE: Self = Self(0x01);
    /// The size is 8 bytes, not 1 (bit 1).
    pub const LONG: Self = Self(0x02);
    /// The frame is a command, not message data (bit 2; ZMTP 3.x only).
    pub const COMMAND: Self = Self(0x04);
    /// No flag set.
    pub const NONE: Self = Self(0);

    /// The flags of a raw byte. Reserved bits 3-7 are kept, not rejected, as libzmq does.
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    /// The raw byte.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags with those of `other` added.
    #[must_use]
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether MORE is set.
    pub const fn more(self) -> bool {
        self.contains(Self::MORE)
    }

    /// Whether COMMAND is set.
    pub const fn command(self) -> bool {
        self.contains(Self::COMMAND)
    }
}

impl fmt::Debug for FrameFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FrameFlags({:#04x}", self.0)?;
        for (flag, name) in [
            (Self::MORE, "MORE"),
            (Self::LONG, "LONG"),
            (Self::COMMAND, "COMMAND"),
        ] {
            if self.contains(flag) {
                write!(f, " {name}")?;
            }
        }
        f.write_str(")")
    }
}

/// The frame layout a connection uses, fixed by the greeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameFormat {
    /// ZMTP 1.0: size (counting the flags byte) before the flags; MORE only.
    V1,
    /// ZMTP 2.0: flags before the size; MORE and LONG, no commands.
    V2,
    /// ZMTP 3.0 and 3.1: flags before the size; MORE, LONG and COMMAND.
    V3,
}

/// The largest header any format writes: a flags byte and an 8-byte size, or for ZMTP 1.0
/// `0xFF`, an 8-byte size and the flags byte.
pub const MAX_HEADER_SIZE: usize = 10;

/// A frame header, built on the stack so a large body can follow it in a vectored write.
#[derive(Clone, Copy)]
pub struct FrameHeader {
    bytes: [u8; MAX_HEADER_SIZE],
    len: u8,
}

impl FrameHeader {
    /// The header of a frame with `body_len` bytes of body.
    ///
    /// Short sizes are used up to 255 bytes, as libzmq does. COMMAND is written only for
    /// [`FrameFormat::V3`]; callers never pass it for older formats (they have no commands).
    pub fn new(format: FrameFormat, flags: FrameFlags, body_len: usize) -> Self {
        let mut bytes = [0u8; MAX_HEADER_SIZE];
        let mut out = &mut bytes[..];
        match format {
            FrameFormat::V1 => {
                let size = body_len as u64 + 1;
                if size < 0xFF {
                    out.put_u8(size as u8);
                } else {
                    out.put_u8(0xFF);
                    out.put_u64(size);
                }
                out.put_u8(flags.bits() & FrameFlags::MORE.bits());
            }
            FrameFormat::V2 | FrameFormat::V3 => {
                let mask = if format == FrameFormat::V3 {
                    0x05
                } else {
                    0x01
                };
                let flags = flags.bits() & mask;
                if body_len <= 0xFF {
                    out.put_u8(flags);
                    out.put_u8(body_len as u8);
                } else {
                    out.put_u8(flags | FrameFlags::LONG.bits());
                    out.put_u64(body_len as u64);
                }
            }
        }
        let len = (MAX_HEADER_SIZE - out.len()) as u8;
        Self { bytes, len }
    }

    /// The header bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Debug for FrameHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FrameHeader({:02x?})", self.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let h = |fmt, flags, len| FrameHeader::new(fmt, flags, len).as_bytes().to_vec();
        assert_eq!(h(FrameFormat::V3, FrameFlags::NONE, 1), [0x00, 0x01]);
        assert_eq!(h(FrameFormat::V3, FrameFlags::MORE, 255), [0x01, 0xFF]);
        assert_eq!(
            h(FrameFormat::V3, FrameFlags::COMMAND, 256),
            [0x06, 0, 0, 0, 0, 0, 0, 1, 0]
        );
        // ZMTP 2.0 has no COMMAND bit.
        assert_eq!(h(FrameFormat::V2, FrameFlags::COMMAND, 3), [0x00, 0x03]);
        // ZMTP 1.0 counts the flags byte in the size.
        assert_eq!(h(FrameFormat::V1, FrameFlags::MORE, 0), [0x01, 0x01]);
        assert_eq!(h(FrameFormat::V1, FrameFlags::NONE, 253), [0xFE, 0x00]);
        assert_eq!(
            h(FrameFormat::V1, FrameFlags::NONE, 254),
            [0xFF, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0x00]
        );
    }
}
