//! An in-memory connection pair for handshake tests: two [`Handshake`]s whose outputs are
//! carried to each other's input in chunks of at most `max_chunk` bytes, with no sockets.
#![allow(dead_code, unreachable_pub)]

use bytes::{Bytes, BytesMut};
use zmq_security::{Established, Handshake, HandshakeConfig, HandshakeError};
use zmtp_codec::{Decoder, Item, SocketType, Version, WriteBatch};

/// One end of the pair.
pub struct Side {
    pub hs: Handshake,
    /// What this side wants to send.
    pub out: WriteBatch,
    /// What it has received and not consumed.
    pub inbox: BytesMut,
    /// Every byte this side has put on the wire, in order.
    pub wire: Vec<u8>,
    /// Set once the handshake succeeds or fails.
    pub result: Option<Result<Established, HandshakeError>>,
}

impl Side {
    pub fn new(config: HandshakeConfig) -> Self {
        let mut out = WriteBatch::new(Version::V3_1);
        let hs = Handshake::new(config, &mut out).expect("valid configuration");
        Self {
            hs,
            out,
            inbox: BytesMut::new(),
            wire: Vec::new(),
            result: None,
        }
    }

    /// Lets the handshake consume the inbox, unless it has ended.
    fn handle(&mut self) {
        if self.result.is_some() {
            return;
        }
        match self.hs.handle_input(&mut self.inbox, &mut self.out) {
            Ok(None) => {}
            Ok(Some(established)) => self.result = Some(Ok(established)),
            Err(e) => self.result = Some(Err(e)),
        }
    }

    pub fn established(&self) -> &Established {
        match &self.result {
            Some(Ok(established)) => established,
            other => panic!("not established: {other:?}"),
        }
    }

    pub fn error(&self) -> &HandshakeError {
        match &self.result {
            Some(Err(e)) => e,
            other => panic!("did not fail: {other:?}"),
        }
    }

    /// Decodes everything left in the inbox with the established decoder.
    pub fn traffic(&mut self) -> Vec<Item> {
        let mut decoder = self.established().decoder.clone();
        decode_all(&mut decoder, &mut self.inbox)
    }
}

/// Moves up to `max` bytes from `from` to `to`, recording them in `wire`.
fn transfer(from: &mut WriteBatch, to: &mut BytesMut, wire: &mut Vec<u8>, max: usize) -> usize {
    let mut moved = 0;
    let mut chunk = Vec::new();
    for c in from.chunks() {
        let n = c.len().min(max - moved);
        chunk.extend_from_slice(&c[..n]);
        moved += n;
        if moved == max {
            break;
        }
    }
    from.advance(moved);
    to.extend_from_slice(&chunk);
    wire.extend_from_slice(&chunk);
    moved
}

/// Two handshakes connected back to back.
pub struct Pair {
    pub a: Side,
    pub b: Side,
    /// The most bytes carried in one direction per step (at least 1).
    pub max_chunk: usize,
    pub steps: usize,
}

impl Pair {
    pub fn new(a: HandshakeConfig, b: HandshakeConfig, max_chunk: usize) -> Self {
        assert!(max_chunk > 0);
        Self {
            a: Side::new(a),
            b: Side::new(b),
            max_chunk,
            steps: 0,
        }
    }

    /// Carries up to `max_chunk` bytes each way, then lets both sides handle their input.
    /// Returns whether any byte moved.
    pub fn step(&mut self) -> bool {
        self.steps += 1;
        let ab = transfer(
            &mut self.a.out,
            &mut self.b.inbox,
            &mut self.a.wire,
            self.max_chunk,
        );
        let ba = transfer(
            &mut self.b.out,
            &mut self.a.inbox,
            &mut self.b.wire,
            self.max_chunk,
        );
        self.a.handle();
        self.b.handle();
        ab + ba > 0
    }

    /// Steps until no byte moves (both outputs are then empty).
    pub fn drive(&mut self) {
        while self.step() {
            assert!(self.steps < 100_000, "the handshake does not converge");
        }
        assert!(self.a.out.is_empty() && self.b.out.is_empty());
    }
}

/// A configuration with a routing id and no metadata.
pub fn config(socket_type: SocketType, routing_id: &'static [u8]) -> HandshakeConfig {
    let mut config = HandshakeConfig::new(socket_type);
    config.routing_id = Bytes::from_static(routing_id);
    config
}

/// Every socket type that has a ZMTP handshake.
pub fn zmtp_types() -> impl Iterator<Item = SocketType> {
    SocketType::ALL
        .into_iter()
        .filter(|t| *t != SocketType::Stream)
}

/// Decodes every complete item in `input`.
pub fn decode_all(decoder: &mut Decoder, input: &mut BytesMut) -> Vec<Item> {
    let mut items = Vec::new();
    while let Some(item) = decoder.decode(input).expect("decodable traffic") {
        items.push(item);
    }
    items
}

/// The bytes waiting in a batch.
pub fn flatten(out: &WriteBatch) -> Vec<u8> {
    out.chunks().flatten().copied().collect()
}

/// A libzmq 4.3 greeting: padding `00..01` (no identity), ZMTP 3.1, mechanism `NULL`.
pub fn libzmq_greeting() -> Vec<u8> {
    let mut g = b"\xff\0\0\0\0\0\0\0\x01\x7f\x03\x01NULL".to_vec();
    g.resize(64, 0);
    g
}

/// The READY a libzmq DEALER with no identity sends: RFC 37's 43-byte example,
/// `zmtp_ready_dealer` in libzmq's `tests/testutil.hpp`.
pub const LIBZMQ_DEALER_READY: &[u8] =
    b"\x04\x29\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x00";

/// A command frame (short form) with `body` (name included).
pub fn command_frame(body: &[u8]) -> Vec<u8> {
    let mut f = vec![0x04, u8::try_from(body.len()).expect("short command")];
    f.extend_from_slice(body);
    f
}

/// A READY command frame carrying these properties.
pub fn ready_frame(props: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = b"\x05READY".to_vec();
    for (name, value) in props {
        body.push(u8::try_from(name.len()).unwrap());
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(&u32::try_from(value.len()).unwrap().to_be_bytes());
        body.extend_from_slice(value);
    }
    command_frame(&body)
}

/// Feeds `bytes` to a fresh handshake in chunks of `chunk` bytes until it ends; returns its
/// result, what it left in the input, and what it sent.
pub fn feed(
    config: HandshakeConfig,
    bytes: &[u8],
    chunk: usize,
) -> (
    Option<Result<Established, HandshakeError>>,
    BytesMut,
    Vec<u8>,
) {
    let mut out = WriteBatch::new(Version::V3_1);
    let mut hs = Handshake::new(config, &mut out).expect("valid configuration");
    let mut input = BytesMut::new();
    let mut pieces = bytes.chunks(chunk.max(1));
    let result = loop {
        let Some(piece) = pieces.next() else {
            break None;
        };
        input.extend_from_slice(piece);
        match hs.handle_input(&mut input, &mut out) {
            Ok(None) => {}
            Ok(Some(established)) => break Some(Ok(established)),
            Err(e) => break Some(Err(e)),
        }
    };
    for piece in pieces {
        input.extend_from_slice(piece);
    }
    (result, input, flatten(&out))
}
