//! An in-memory connection pair for handshake tests: two [`Handshake`]s whose outputs are
//! carried to each other's input in chunks of at most `max_chunk` bytes, with no sockets,
//! and, where configured, a ZAP handler answering each side's requests at once.
#![allow(dead_code, unreachable_pub)]

use bytes::{Bytes, BytesMut};
use zmq_security::fuzzing::TestRng;
use zmq_security::{
    CurveKeyPair, CurveSecretKey, Established, Handshake, HandshakeConfig, HandshakeError,
    MechanismConfig, ZapReply, ZapRequest,
};
use zmtp_codec::{Decoder, Item, SocketType, Version, WriteBatch};

/// A ZAP handler: the request in, the reply's frames out.
pub type ZapHandler = Box<dyn FnMut(&ZapRequest) -> Vec<Bytes>>;

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
    /// Answers ZAP requests at once; without one they stay in `zap_requests`, unanswered.
    pub zap: Option<ZapHandler>,
    /// Every ZAP request this side made.
    pub zap_requests: Vec<ZapRequest>,
}

impl Side {
    pub fn new(config: HandshakeConfig) -> Self {
        Self::with_seed(config, 1)
    }

    pub fn with_seed(config: HandshakeConfig, seed: u64) -> Self {
        let mut out = WriteBatch::new(Version::V3_1);
        let hs = Handshake::with_rng(config, &mut TestRng::new(seed), &mut out)
            .expect("valid configuration");
        Self {
            hs,
            out,
            inbox: BytesMut::new(),
            wire: Vec::new(),
            result: None,
            zap: None,
            zap_requests: Vec::new(),
        }
    }

    /// Lets the handshake consume the inbox (and answers its ZAP requests), unless it has
    /// ended.
    pub fn handle(&mut self) {
        if self.result.is_some() {
            return;
        }
        let mut step = self.hs.handle_input(&mut self.inbox, &mut self.out);
        loop {
            match step {
                Ok(None) => {}
                Ok(Some(established)) => {
                    self.result = Some(Ok(established));
                    return;
                }
                Err(e) => {
                    self.result = Some(Err(e));
                    return;
                }
            }
            let Some(request) = self.hs.poll_zap_request() else {
                return;
            };
            assert!(self.hs.is_awaiting_zap());
            self.zap_requests.push(request.clone());
            let Some(handler) = self.zap.as_mut() else {
                return;
            };
            let reply = handler(&request);
            step = self
                .hs
                .handle_zap_reply(&reply, &mut self.inbox, &mut self.out);
        }
    }

    /// Answers the outstanding ZAP request with `reply` (for sides without a handler).
    pub fn reply_zap(&mut self, reply: &[Bytes]) {
        assert!(self.result.is_none());
        match self
            .hs
            .handle_zap_reply(reply, &mut self.inbox, &mut self.out)
        {
            Ok(None) => {}
            Ok(Some(e)) => self.result = Some(Ok(e)),
            Err(e) => self.result = Some(Err(e)),
        }
    }

    pub fn established(&self) -> &Established {
        match &self.result {
            Some(Ok(established)) => established,
            other => panic!("not established: {other:?}"),
        }
    }

    pub fn established_mut(&mut self) -> &mut Established {
        match &mut self.result {
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

    /// Decodes and opens (with the CURVE cipher) everything left in the inbox.
    pub fn curve_traffic(&mut self) -> Result<Vec<Item>, HandshakeError> {
        let mut decoder = self.established().decoder.clone();
        let mut items = Vec::new();
        while let Some(item) = decoder.decode(&mut self.inbox).expect("decodable traffic") {
            let cipher = self
                .established_mut()
                .cipher
                .as_mut()
                .expect("a CURVE cipher");
            items.push(cipher.open(item)?);
        }
        Ok(items)
    }
}

/// Moves up to `max` bytes from `from` to `to`, recording them in `wire`.
pub fn transfer(from: &mut WriteBatch, to: &mut BytesMut, wire: &mut Vec<u8>, max: usize) -> usize {
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

/// Alters bytes in flight: `(from a to b?, offset of the chunk in the sender's wire,
/// chunk)`.
pub type Tamper = Box<dyn FnMut(bool, usize, &mut Vec<u8>)>;

/// Two handshakes connected back to back.
pub struct Pair {
    pub a: Side,
    pub b: Side,
    /// The most bytes carried in one direction per step (at least 1).
    pub max_chunk: usize,
    pub steps: usize,
    /// Alters bytes in flight (the senders' `wire` keeps what they sent).
    pub tamper: Option<Tamper>,
}

impl Pair {
    pub fn new(a: HandshakeConfig, b: HandshakeConfig, max_chunk: usize) -> Self {
        Self::from_sides(Side::with_seed(a, 1), Side::with_seed(b, 2), max_chunk)
    }

    pub fn from_sides(a: Side, b: Side, max_chunk: usize) -> Self {
        assert!(max_chunk > 0);
        Self {
            a,
            b,
            max_chunk,
            steps: 0,
            tamper: None,
        }
    }

    /// Carries `from`'s output to `to`, through the tamper hook.
    fn carry(&mut self, a_to_b: bool) -> usize {
        let (from, to) = if a_to_b {
            (&mut self.a, &mut self.b)
        } else {
            (&mut self.b, &mut self.a)
        };
        let offset = from.wire.len();
        let mut chunk = BytesMut::new();
        let moved = transfer(&mut from.out, &mut chunk, &mut from.wire, self.max_chunk);
        let mut chunk = chunk.to_vec();
        if let Some(tamper) = self.tamper.as_mut() {
            tamper(a_to_b, offset, &mut chunk);
        }
        to.inbox.extend_from_slice(&chunk);
        moved
    }

    /// Carries up to `max_chunk` bytes each way, then lets both sides handle their input.
    /// Returns whether any byte moved.
    pub fn step(&mut self) -> bool {
        self.steps += 1;
        let ab = self.carry(true);
        let ba = self.carry(false);
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

/// A configuration with a mechanism.
pub fn with_mechanism(socket_type: SocketType, mechanism: MechanismConfig) -> HandshakeConfig {
    let mut config = HandshakeConfig::new(socket_type);
    config.mechanism = mechanism;
    config
}

/// A tamper hook that flips bit 0 of the byte at `at` of one direction's wire.
pub fn flip(a_to_b: bool, at: usize) -> Tamper {
    Box::new(move |dir, offset, chunk| {
        if dir == a_to_b && (offset..offset + chunk.len()).contains(&at) {
            chunk[at - offset] ^= 1;
        }
    })
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
    libzmq_greeting_for(b"NULL")
}

/// A libzmq 4.3 greeting announcing `mechanism`.
pub fn libzmq_greeting_for(mechanism: &[u8]) -> Vec<u8> {
    let mut g = b"\xff\0\0\0\0\0\0\0\x01\x7f\x03\x01".to_vec();
    g.extend_from_slice(mechanism);
    g.resize(64, 0);
    g
}

/// The READY a libzmq DEALER with no identity sends: RFC 37's 43-byte example,
/// `zmtp_ready_dealer` in libzmq's `tests/testutil.hpp`.
pub const LIBZMQ_DEALER_READY: &[u8] =
    b"\x04\x29\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x00";

/// A command frame with `body` (name included), short or long as libzmq writes it.
pub fn command_frame(body: &[u8]) -> Vec<u8> {
    let mut f = if body.len() <= 255 {
        vec![0x04, body.len() as u8]
    } else {
        let mut f = vec![0x06];
        f.extend_from_slice(&(body.len() as u64).to_be_bytes());
        f
    };
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
    let mut hs =
        Handshake::with_rng(config, &mut TestRng::new(1), &mut out).expect("valid configuration");
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

/// A ZAP reply with this status, user id and no metadata.
pub fn zap_reply(status: &'static [u8], user_id: &'static [u8]) -> Vec<Bytes> {
    vec![
        Bytes::new(),
        Bytes::from_static(b"1.0"),
        Bytes::from_static(b"1"),
        Bytes::from_static(status),
        Bytes::from_static(b"text"),
        Bytes::from_static(user_id),
        Bytes::new(),
    ]
}

/// A ZAP handler that answers every request with `reply`.
pub fn zap_always(reply: Vec<Bytes>) -> ZapHandler {
    Box::new(move |_| reply.clone())
}

/// A ZAP handler that allows with `ZapReply::allow(user)`.
pub fn zap_allow(user: &'static str) -> ZapHandler {
    Box::new(move |_| ZapReply::allow(user).to_frames())
}

/// The server and client key pairs of libzmq's CURVE examples.
pub fn server_keys() -> CurveKeyPair {
    CurveKeyPair::from_secret(
        CurveSecretKey::from_z85(b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7").unwrap(),
    )
}

pub fn client_keys() -> CurveKeyPair {
    CurveKeyPair::from_secret(
        CurveSecretKey::from_z85(b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs").unwrap(),
    )
}

pub fn curve_client(server: &CurveKeyPair) -> MechanismConfig {
    MechanismConfig::CurveClient {
        keypair: client_keys(),
        server_key: server.public,
    }
}

pub fn curve_server() -> MechanismConfig {
    MechanismConfig::CurveServer {
        keypair: server_keys(),
    }
}

pub fn plain_client(user: &'static str, pass: &'static str) -> MechanismConfig {
    MechanismConfig::PlainClient {
        username: Bytes::from_static(user.as_bytes()),
        password: Bytes::from_static(pass.as_bytes()),
    }
}
