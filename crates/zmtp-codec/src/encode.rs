//! The encoder: frames into a caller-owned buffer, and a batch for vectored writes.
//!
//! [`Encoder`] writes one frame or command at a time into any [`BufMut`]. [`WriteBatch`]
//! collects many of them for one write: small frames are copied into a shared buffer,
//! while a frame body of [`DEFAULT_LARGE_FRAME`] bytes or more stays a separate chunk, so
//! that a vectored write sends it without copying.

use alloc::collections::VecDeque;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use core::fmt;

use crate::command::{Command, CommandError};
use crate::frame::{FrameFlags, FrameFormat, FrameHeader, MAX_HEADER_SIZE};
use crate::greeting::Version;
use crate::limits::DEFAULT_LARGE_FRAME;
use crate::msg::Payload;

/// Why something could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// Commands do not exist in ZMTP 1.0 and 2.0.
    NoCommands {
        /// The version of the connection.
        version: Version,
    },
    /// The command has a field that does not fit the wire.
    Command(CommandError),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCommands { version } => {
                write!(
                    f,
                    "{version} has no commands; only ZMTP/3.x peers accept them"
                )
            }
            Self::Command(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Command(e) => Some(e),
            Self::NoCommands { .. } => None,
        }
    }
}

impl From<CommandError> for EncodeError {
    fn from(e: CommandError) -> Self {
        Self::Command(e)
    }
}

/// Writes frames in the format of one protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoder {
    version: Version,
}

impl Encoder {
    /// An encoder for a peer speaking `version`.
    pub const fn new(version: Version) -> Self {
        Self { version }
    }

    /// The version written.
    pub const fn version(&self) -> Version {
        self.version
    }

    /// The header of a data frame of `len` bytes.
    pub fn data_header(&self, more: bool, len: usize) -> FrameHeader {
        let flags = if more {
            FrameFlags::MORE
        } else {
            FrameFlags::NONE
        };
        FrameHeader::new(self.version.frame_format(), flags, len)
    }

    /// Appends a data frame to `out`.
    pub fn data(&self, more: bool, body: &[u8], out: &mut impl BufMut) {
        if body.len() <= usize::from(u8::MAX) && self.version.frame_format() != FrameFormat::V1 {
            // The short header of ZMTP 2.0 and 3.x, the form of most frames, byte by byte
            // (as `FrameHeader::new` builds it, without building it).
            out.put_u8(if more { FrameFlags::MORE.bits() } else { 0 });
            out.put_u8(body.len() as u8);
        } else {
            out.put_slice(self.data_header(more, body.len()).as_bytes());
        }
        crate::copy::put(out, body);
    }

    /// Appends a command frame to `out`. Nothing is written on error.
    pub fn command(&self, command: &Command, out: &mut impl BufMut) -> Result<(), EncodeError> {
        if !self.version.has_commands() {
            return Err(EncodeError::NoCommands {
                version: self.version,
            });
        }
        command.validate()?;
        let header = FrameHeader::new(FrameFormat::V3, FrameFlags::COMMAND, command.encoded_len());
        out.put_slice(header.as_bytes());
        command.encode(out)?;
        Ok(())
    }

    /// Appends a subscription (`subscribe`) or its cancellation in the form this version
    /// uses: a SUBSCRIBE or CANCEL command for ZMTP 3.1, a data frame starting with `\x01`
    /// or `\x00` for older versions (RFC 29, RFC 37).
    pub fn subscription(&self, subscribe: bool, topic: &[u8], out: &mut impl BufMut) {
        if self.version.subscription_commands() {
            let name: &[u8] = if subscribe { b"SUBSCRIBE" } else { b"CANCEL" };
            let len = 1 + name.len() + topic.len();
            out.put_slice(FrameHeader::new(FrameFormat::V3, FrameFlags::COMMAND, len).as_bytes());
            out.put_u8(name.len() as u8);
            out.put_slice(name);
        } else {
            out.put_slice(self.data_header(false, 1 + topic.len()).as_bytes());
            out.put_u8(u8::from(subscribe));
        }
        out.put_slice(topic);
    }
}

/// Outgoing bytes of one connection, batched for few, vectored writes.
///
/// Push frames in order, then write [`WriteBatch::chunks`] to the socket (with one vectored
/// write) and report what was written with [`WriteBatch::advance`].
#[derive(Clone, Debug)]
pub struct WriteBatch {
    encoder: Encoder,
    /// Chunks complete and ready, oldest first; the first may be partly written.
    ready: VecDeque<Bytes>,
    /// Small frames being gathered, after everything in `ready`.
    tail: BytesMut,
    large: usize,
    len: usize,
}

impl WriteBatch {
    /// An empty batch for a peer speaking `version`.
    pub fn new(version: Version) -> Self {
        Self {
            encoder: Encoder::new(version),
            ready: VecDeque::new(),
            tail: BytesMut::new(),
            large: DEFAULT_LARGE_FRAME,
            len: 0,
        }
    }

    /// Sets the size from which a frame body is kept as its own chunk instead of being
    /// copied.
    pub fn set_large_frame(&mut self, bytes: usize) {
        self.large = bytes.max(1);
    }

    /// Switches the version of the frames pushed from now on (after the greeting tells
    /// which one the peer speaks).
    pub fn set_version(&mut self, version: Version) {
        self.encoder = Encoder::new(version);
    }

    /// The encoder in use.
    pub const fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Appends raw bytes, such as a stage of the greeting.
    pub fn push_raw(&mut self, bytes: &[u8]) {
        self.tail.put_slice(bytes);
        self.len += bytes.len();
    }

    /// Appends raw bytes with no framing (a STREAM socket's data). Large ones are not
    /// copied.
    pub fn push_bytes(&mut self, bytes: impl Into<Payload>) {
        let bytes = bytes.into();
        if bytes.len() >= self.large {
            self.len += bytes.len();
            if !self.tail.is_empty() {
                self.ready.push_back(self.tail.split().freeze());
            }
            self.ready.push_back(bytes.into_bytes());
        } else {
            self.push_raw(&bytes);
        }
    }

    /// Appends a data frame. A large body is not copied.
    pub fn push_data(&mut self, more: bool, body: impl Into<Payload>) {
        let body = body.into();
        if self.copies(body.len()) {
            self.push_data_copy(more, &body);
        } else {
            let header = self.encoder.data_header(more, body.len());
            self.tail.put_slice(header.as_bytes());
            self.len += header.as_bytes().len() + body.len();
            self.ready.push_back(self.tail.split().freeze());
            self.ready.push_back(body.into_bytes());
        }
    }

    /// Whether [`WriteBatch::push_data`] copies a body of `len` bytes into the batch (it keeps
    /// larger ones as chunks of their own): the caller may then copy it with
    /// [`WriteBatch::push_data_copy`] and keep the body, to drop where it chooses.
    pub const fn copies(&self, len: usize) -> bool {
        len < self.large
    }

    /// Appends a data frame whose body is copied, whatever its size.
    pub fn push_data_copy(&mut self, more: bool, body: &[u8]) {
        self.tail.reserve(MAX_HEADER_SIZE + body.len());
        let before = self.tail.len();
        self.encoder.data(more, body, &mut self.tail);
        self.len += self.tail.len() - before;
    }

    /// Appends what `write` puts at the end of the batch's last chunk (a frame sealed in
    /// place, say), and returns what `write` returns. Whatever `write` appended, even when
    /// it reports a failure, is counted as waiting to be written.
    pub fn push_with<R>(&mut self, write: impl FnOnce(&mut BytesMut) -> R) -> R {
        let before = self.tail.len();
        let result = write(&mut self.tail);
        self.len += self.tail.len() - before;
        result
    }

    /// Appends a command frame. Nothing is appended on error.
    pub fn push_command(&mut self, command: &Command) -> Result<(), EncodeError> {
        let before = self.tail.len();
        self.encoder.command(command, &mut self.tail)?;
        self.len += self.tail.len() - before;
        Ok(())
    }

    /// Appends a subscription or its cancellation, in the form the peer's version uses.
    pub fn push_subscription(&mut self, subscribe: bool, topic: &[u8]) {
        let before = self.tail.len();
        self.encoder.subscription(subscribe, topic, &mut self.tail);
        self.len += self.tail.len() - before;
    }

    /// Bytes waiting to be written.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing waits to be written.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The waiting bytes as chunks, in order, for a vectored write.
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.ready
            .iter()
            .map(|b| &b[..])
            .chain(core::iter::once(&self.tail[..]))
            .filter(|c| !c.is_empty())
    }

    /// Marks the first `n` waiting bytes as written. `n` is capped at [`WriteBatch::len`].
    pub fn advance(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(front) = self.ready.front_mut() else {
                self.tail.advance(n);
                break;
            };
            if n < front.len() {
                front.advance(n);
                break;
            }
            n -= front.len();
            self.ready.pop_front();
        }
        if self.len == 0 {
            // Reuse the tail's allocation from its start for the next batch.
            self.tail.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn data_frames_carry_the_header_of_their_version_and_size() {
        let body = alloc::vec![5u8; 300];
        for version in [Version::V1_0, Version::V2_0, Version::V3_0, Version::V3_1] {
            let encoder = Encoder::new(version);
            for len in [0, 1, 38, 39, 254, 255, 256, 300] {
                for more in [false, true] {
                    let mut out = Vec::new();
                    encoder.data(more, &body[..len], &mut out);
                    let mut expected = encoder.data_header(more, len).as_bytes().to_vec();
                    expected.extend_from_slice(&body[..len]);
                    assert_eq!(out, expected, "{version:?}, {len} bytes, more {more}");
                }
            }
        }
    }

    fn flatten(batch: &WriteBatch) -> Vec<u8> {
        batch.chunks().flatten().copied().collect()
    }

    #[test]
    fn raw_bytes_keep_their_order_and_large_ones_are_not_copied() {
        let mut batch = WriteBatch::new(Version::V3_1);
        batch.set_large_frame(4);
        let large = Bytes::from_static(b"LARGE BODY");
        batch.push_bytes(Bytes::from_static(b"ab"));
        batch.push_bytes(large.clone());
        batch.push_bytes(Bytes::from_static(b"c"));
        assert_eq!(flatten(&batch), b"abLARGE BODYc");
        assert_eq!(batch.len(), 13);
        let chunk = batch.chunks().nth(1).unwrap();
        assert_eq!(
            chunk.as_ptr(),
            large.as_ptr(),
            "the large body is its own chunk"
        );
        batch.advance(5);
        assert_eq!(flatten(&batch), b"GE BODYc");
    }

    #[test]
    fn subscriptions_by_version() {
        let mut out = Vec::new();
        Encoder::new(Version::V3_1).subscription(true, b"A", &mut out);
        assert_eq!(out, b"\x04\x0b\x09SUBSCRIBEA");
        out.clear();
        Encoder::new(Version::V3_0).subscription(true, b"A", &mut out);
        assert_eq!(out, b"\x00\x02\x01A");
        out.clear();
        Encoder::new(Version::V2_0).subscription(false, b"A", &mut out);
        assert_eq!(out, b"\x00\x02\x00A");
    }

    #[test]
    fn no_commands_before_3() {
        let mut out = Vec::new();
        assert_eq!(
            Encoder::new(Version::V2_0).command(&Command::Ready(Bytes::new()), &mut out),
            Err(EncodeError::NoCommands {
                version: Version::V2_0
            })
        );
        assert!(out.is_empty());
    }

    #[test]
    fn large_bodies_are_separate_chunks() {
        let mut batch = WriteBatch::new(Version::V3_1);
        batch.set_large_frame(16);
        batch.push_data(true, Bytes::from_static(b"small"));
        let big = Bytes::from(alloc::vec![7u8; 300]);
        batch.push_data(false, big.clone());
        batch.push_data(false, Bytes::from_static(b"after"));
        let chunks: Vec<&[u8]> = batch.chunks().collect();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0], b"\x01\x05small\x02\0\0\0\0\0\0\x01\x2c");
        assert_eq!(
            chunks[1].as_ptr(),
            big.as_ptr(),
            "the large body is not copied"
        );
        assert_eq!(chunks[2], b"\x00\x05after");
        assert_eq!(batch.len(), 7 + 9 + 300 + 7);
    }

    #[test]
    fn advance_across_chunks() {
        let mut batch = WriteBatch::new(Version::V3_1);
        batch.set_large_frame(4);
        batch.push_raw(b"ab");
        batch.push_data(false, Bytes::from_static(b"wxyz"));
        batch.push_raw(b"cd");
        let all = flatten(&batch);
        for n in 0..=all.len() {
            let mut b = batch.clone();
            b.advance(n);
            assert_eq!(flatten(&b), &all[n..]);
            assert_eq!(b.len(), all.len() - n);
        }
        batch.advance(usize::MAX);
        assert!(batch.is_empty());
        assert_eq!(batch.chunks().count(), 0);
    }
}
