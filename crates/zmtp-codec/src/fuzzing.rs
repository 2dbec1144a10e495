//! Entry points for the fuzz targets in `fuzz/`, and for replaying their corpora in tests.
//!
//! Each function feeds arbitrary bytes to one decoder, in chunks whose sizes come from the
//! input itself, and checks the invariants that must hold for any input: no panic, items
//! consistent with the bytes consumed, and no frame above the configured limit.

use bytes::BytesMut;

use crate::decode::{Decoder, Item};
use crate::frame::FrameFormat;
use crate::greeting::{GreetingReader, Progress};
use crate::metadata::Metadata;
use crate::msg::{Payload, INLINE_MAX};
use crate::{z85, Command};

/// The message size limit the decoder targets run with.
pub const MAX_MESSAGE: u64 = 64 * 1024;

/// Splits `data` into a chunk-size seed (first byte) and the payload.
fn split(data: &[u8]) -> (usize, &[u8]) {
    match data.split_first() {
        Some((&seed, rest)) => (usize::from(seed).max(1), rest),
        None => (1, data),
    }
}

/// Reads a greeting fed in chunks, then decodes frames in the version it chose.
pub fn greeting(data: &[u8]) {
    let (chunk, data) = split(data);
    let mut reader = GreetingReader::new();
    let mut input = BytesMut::new();
    let mut rest = data;
    let version = loop {
        match reader.poll(&mut input) {
            Ok(Progress::NeedMore) => {
                if rest.is_empty() {
                    return;
                }
                let n = chunk.min(rest.len());
                input.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
            }
            Ok(Progress::Done(g)) => break g.version.frame_format(),
            Ok(Progress::Unversioned) => break FrameFormat::V1,
            Ok(_) => {}
            Err(e) => panic!("the reader misbehaved: {e}"),
        }
    };
    input.extend_from_slice(rest);
    frames_from(version, input);
}

/// Decodes ZMTP frames of `format` fed in chunks.
pub fn frames(format: FrameFormat, data: &[u8]) {
    let (chunk, data) = split(data);
    let mut decoder = new_decoder(format);
    let mut input = BytesMut::new();
    for piece in data.chunks(chunk) {
        input.extend_from_slice(piece);
        if drain(&mut decoder, &mut input).is_err() {
            return;
        }
    }
}

fn frames_from(format: FrameFormat, mut input: BytesMut) {
    let mut decoder = new_decoder(format);
    let _ = drain(&mut decoder, &mut input);
}

fn new_decoder(format: FrameFormat) -> Decoder {
    let mut decoder = Decoder::new(format);
    decoder.set_max_message_size(Some(MAX_MESSAGE));
    decoder
}

fn drain(decoder: &mut Decoder, input: &mut BytesMut) -> Result<(), ()> {
    loop {
        let before = input.len();
        // The small-frame path reads what `decode` would: checked against `decode` run on
        // a copy of the decoder and of the input's first bytes (all a small frame takes).
        let mut shadow = (
            decoder.clone(),
            BytesMut::from(&input[..input.len().min(2 + INLINE_MAX)]),
        );
        let small =
            decoder.decode_small(input, |body, more| (Payload::copy_from_slice(body), more));
        if let Some((body, more)) = small {
            let shadow_before = shadow.1.len();
            let expected = shadow.0.decode(&mut shadow.1);
            assert_eq!(expected, Ok(Some(Item::Data { body, more })));
            assert_eq!(before - input.len(), shadow_before - shadow.1.len());
            assert_eq!(shadow.0.pending_body(), decoder.pending_body());
            continue;
        }
        assert_eq!(
            input.len(),
            before,
            "a declined small frame consumes nothing"
        );
        match decoder.decode(input) {
            Ok(Some(item)) => {
                let body_len = match &item {
                    Item::Data { body, .. } => body.len(),
                    Item::Command(c) => {
                        // Every parsed command re-encodes to the same size or, for fields
                        // a peer may overfill (PING context), is reported as too long.
                        if c.validate().is_ok() {
                            let mut out = alloc::vec::Vec::new();
                            assert!(c.encode(&mut out).is_ok());
                            assert_eq!(out.len(), c.encoded_len());
                        }
                        c.encoded_len()
                    }
                };
                assert!(
                    body_len as u64
                        <= MAX_MESSAGE.max(crate::limits::DEFAULT_HANDSHAKE_COMMAND_SIZE)
                );
                assert!(before - input.len() >= body_len);
            }
            Ok(None) => return Ok(()),
            Err(_) => return Err(()),
        }
    }
}

/// Parses a command body, and checks that what parses and fits the wire re-encodes to a
/// command that parses back the same. (Bytes after an ERROR reason are ignored, as libzmq
/// does, so the encoding may be shorter than the input.)
pub fn command(data: &[u8]) {
    let frame = bytes::Bytes::copy_from_slice(data);
    if let Ok(cmd) = Command::parse(&frame) {
        if cmd.validate().is_ok() {
            let mut out = alloc::vec::Vec::new();
            assert!(cmd.encode(&mut out).is_ok());
            assert!(out.len() <= data.len());
            assert_eq!(Command::parse(&bytes::Bytes::from(out)).as_ref(), Ok(&cmd));
        }
    }
}

/// Parses a property list, and checks that what parses re-encodes to the same bytes.
pub fn metadata(data: &[u8]) {
    let body = bytes::Bytes::copy_from_slice(data);
    if let Ok(md) = Metadata::parse(&body) {
        let mut out = alloc::vec::Vec::new();
        md.encode(&mut out);
        assert_eq!(out, data);
    }
}

/// Decodes Z85 text, and checks that what decodes re-encodes to the same text.
pub fn z85(data: &[u8]) {
    if let Ok(bin) = z85::decode(data) {
        assert_eq!(
            z85::encode(&bin).ok().as_deref().map(str::as_bytes),
            Some(data)
        );
    }
    if let Ok(text) = z85::encode(data) {
        assert_eq!(z85::decode(text.as_bytes()).ok().as_deref(), Some(data));
    }
}
