//! Entry points for the fuzz targets in `fuzz/`, and for replaying their seeds in tests.

use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};
use zmtp_codec::{Command, Greeting, Item, SocketType, Version, WriteBatch};

use crate::{
    CurveKeyPair, CurveSecretKey, Established, FailureClass, Handshake, HandshakeConfig,
    HandshakeError, MechanismConfig, ZapReply, ZapStatus,
};

/// The message size limit the traffic decoder runs with after a handshake.
pub const MAX_MESSAGE: u64 = 64 * 1024;

/// Drives a NULL [`Handshake`] with arbitrary peer bytes in arbitrary chunks.
///
/// The first byte picks the chunk size, the second our socket type, the third the length of
/// our routing id; the rest is what the peer sends. Checks that nothing panics, that input
/// is only consumed, that an established peer is one we accept, that a failure classifies,
/// and that the traffic after the handshake decodes without panicking.
///
/// Returns how the handshake ended: the version of an established peer, an error, or
/// `None` if the input ran out first.
pub fn handshake_null(data: &[u8]) -> Option<Result<Version, HandshakeError>> {
    let (config, chunk, data) = setup(data);
    let ours = config.socket_type;
    let mut out = WriteBatch::new(Version::V3_1);
    let Ok(mut hs) = Handshake::new(config, &mut out) else {
        panic!("the fuzzing configuration is valid");
    };
    let mut input = BytesMut::new();
    let mut pieces = data.chunks(chunk);
    let established = loop {
        let piece = pieces.next()?;
        input.extend_from_slice(piece);
        let before = input.len();
        let result = hs.handle_input(&mut input, &mut out);
        assert!(input.len() <= before, "the handshake only consumes input");
        // Our output is bounded: greeting, READY (small here), an identity or ERROR.
        assert!(out.len() <= 64 + 2 * 300, "unbounded output: {}", out.len());
        match result {
            Ok(None) => {}
            Ok(Some(established)) => break established,
            Err(e) => {
                check_error(&e);
                assert!(matches!(
                    hs.handle_input(&mut input, &mut out),
                    Err(HandshakeError::Finished)
                ));
                return Some(Err(e));
            }
        }
    };
    if established.version.has_commands() {
        let peer = established.peer_socket_type;
        assert!(
            peer.is_some_and(|p| ours.accepts(p)),
            "{ours} accepted {peer:?}"
        );
    } else {
        assert!(established.peer_metadata.is_empty());
        assert!(established.peer_routing_id.len() <= crate::MAX_ROUTING_ID);
    }
    assert!(matches!(
        hs.handle_input(&mut input, &mut out),
        Err(HandshakeError::Finished)
    ));
    let mut decoder = established.decoder;
    decoder.set_max_message_size(Some(MAX_MESSAGE));
    for piece in pieces {
        input.extend_from_slice(piece);
    }
    loop {
        match decoder.decode(&mut input) {
            Ok(Some(Item::Data { body, .. })) => assert!(body.len() as u64 <= MAX_MESSAGE),
            Ok(Some(Item::Command(_))) => {}
            Ok(None) | Err(_) => break,
        }
    }
    Some(Ok(established.version))
}

/// Splits the fuzz input into our configuration, a chunk size and the peer's bytes.
fn setup(data: &[u8]) -> (HandshakeConfig, usize, &[u8]) {
    let (head, rest) = data.split_at(data.len().min(3));
    let byte = |i: usize| head.get(i).copied().unwrap_or(0);
    let chunk = usize::from(byte(0)).max(1);
    let socket_type = match SocketType::from_u8(byte(1) % 21) {
        Some(SocketType::Stream) | None => SocketType::Pair,
        Some(t) => t,
    };
    let id_len = [0, 1, 254, 255][usize::from(byte(2) % 4)];
    let mut config = HandshakeConfig::new(socket_type);
    config.routing_id = Bytes::from(alloc::vec![b'i'; id_len]);
    (config, chunk, rest)
}

/// Checks that a failure explains itself and maps to a monitor event.
fn check_error(e: &HandshakeError) {
    let text = alloc::format!("{e}");
    assert!(!text.is_empty());
    match e.monitor_class() {
        FailureClass::Protocol => assert!(e.zmtp_error_code().is_some()),
        FailureClass::Auth => assert!(e.zap_status().is_some()),
        FailureClass::NoDetail => assert!(e.zmtp_error_code().is_none()),
    }
    assert!(
        !matches!(
            e,
            HandshakeError::Internal { .. }
                | HandshakeError::Finished
                | HandshakeError::BadRoutingId { .. }
                | HandshakeError::ZapNotPending
                | HandshakeError::RandomnessRequired
                | HandshakeError::NonceExhausted
        ),
        "a peer caused {e:?}"
    );
}

/// A deterministic, seeded generator for tests and fuzzing (SplitMix64).
///
/// It is **not** a cryptographic generator: it claims `CryptoRng` only so that tests and
/// fuzz targets can drive [`Handshake::with_rng`] reproducibly. Never use it for real
/// connections.
#[derive(Clone, Debug)]
pub struct TestRng(u64);

impl TestRng {
    /// A generator whose output is a function of `seed` alone.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }
}

impl rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for TestRng {}

/// Which side of which mechanism a mechanism fuzz target drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Our PLAIN client against a PLAIN server.
    PlainClient,
    /// Our PLAIN server (asking a scripted ZAP handler) against a PLAIN client.
    PlainServer,
    /// Our CURVE client against a CURVE server.
    CurveClient,
    /// Our CURVE server (Stonehouse or asking ZAP) against a CURVE client.
    CurveServer,
}

/// The fixed long-term keys of the mechanism targets.
fn server_keys() -> CurveKeyPair {
    CurveKeyPair::from_secret(CurveSecretKey::from_bytes([0x11; 32]))
}

fn client_keys() -> CurveKeyPair {
    CurveKeyPair::from_secret(CurveSecretKey::from_bytes([0x22; 32]))
}

/// Our configuration and the genuine peer's, for `target`; `zap` turns a handler on.
fn configs(target: Target, zap: bool) -> (HandshakeConfig, HandshakeConfig) {
    let plain_client = MechanismConfig::PlainClient {
        username: Bytes::from_static(b"admin"),
        password: Bytes::from_static(b"secret"),
    };
    let curve_client = MechanismConfig::CurveClient {
        keypair: client_keys(),
        server_key: server_keys().public,
    };
    let curve_server = MechanismConfig::CurveServer {
        keypair: server_keys(),
    };
    let (client, server) = match target {
        Target::PlainClient | Target::PlainServer => (plain_client, MechanismConfig::PlainServer),
        Target::CurveClient | Target::CurveServer => (curve_client, curve_server),
    };
    let mut c = HandshakeConfig::new(SocketType::Dealer);
    c.routing_id = Bytes::from_static(b"client");
    c.mechanism = client;
    let mut s = HandshakeConfig::new(SocketType::Router);
    s.routing_id = Bytes::from_static(b"server");
    s.mechanism = server;
    // A PLAIN server without a handler refuses everyone: give it one always.
    s.zap.handler = zap || matches!(target, Target::PlainClient | Target::PlainServer);
    s.zap.domain = Bytes::from_static(b"fuzz");
    match target {
        Target::PlainClient | Target::CurveClient => (c, s),
        Target::PlainServer | Target::CurveServer => (s, c),
    }
}

/// The ZAP reply the fuzz input picks: 200, 300, 400, 500, or frames cut from `raw`.
fn zap_reply(selector: u8, raw: &[u8]) -> Vec<Bytes> {
    match selector % 6 {
        0 | 5 => ZapReply::allow("fuzz-user").to_frames(),
        1 => ZapReply::deny(ZapStatus::TEMPORARY, "").to_frames(),
        2 => ZapReply::deny(ZapStatus::DENIED, "").to_frames(),
        3 => ZapReply::deny(ZapStatus::INTERNAL, "").to_frames(),
        _ => raw
            .split(|&b| b == 0xFF)
            .map(Bytes::copy_from_slice)
            .take(10)
            .collect(),
    }
}

/// One handshake under test, with its buffers.
struct Under {
    hs: Handshake,
    out: WriteBatch,
    input: BytesMut,
    result: Option<Result<Established, HandshakeError>>,
}

impl Under {
    fn new(config: HandshakeConfig, seed: u64) -> Self {
        let mut out = WriteBatch::new(Version::V3_1);
        let Ok(hs) = Handshake::with_rng(config, &mut TestRng::new(seed), &mut out) else {
            panic!("the fuzzing configuration is valid");
        };
        Self {
            hs,
            out,
            input: BytesMut::new(),
            result: None,
        }
    }

    /// Feeds `bytes` in `chunk`-sized pieces, answering ZAP with `reply`.
    fn feed(&mut self, bytes: &[u8], chunk: usize, reply: &dyn Fn() -> Vec<Bytes>) {
        for piece in bytes.chunks(chunk.max(1)) {
            if self.result.is_some() {
                // After the handshake, bytes belong to the traffic phase.
                self.input.extend_from_slice(piece);
                continue;
            }
            self.input.extend_from_slice(piece);
            self.step(reply);
        }
        if bytes.is_empty() && self.result.is_none() {
            self.step(reply);
        }
    }

    fn step(&mut self, reply: &dyn Fn() -> Vec<Bytes>) {
        let before = self.input.len();
        let mut result = self.hs.handle_input(&mut self.input, &mut self.out);
        assert!(
            self.input.len() <= before,
            "the handshake only consumes input"
        );
        while let (Ok(None), Some(request)) = (&result, self.hs.poll_zap_request()) {
            assert!(self.hs.is_awaiting_zap());
            assert!(!request.frames().is_empty());
            let _ = alloc::format!("{request:?}");
            let before = self.input.len();
            result = self
                .hs
                .handle_zap_reply(&reply(), &mut self.input, &mut self.out);
            assert!(self.input.len() <= before);
        }
        // Our output is bounded: greeting, HELLO/INITIATE/READY with small metadata, ERROR.
        assert!(
            self.out.len() <= 4096,
            "unbounded output: {}",
            self.out.len()
        );
        match result {
            Ok(None) => {}
            Ok(Some(established)) => self.result = Some(Ok(established)),
            Err(e) => {
                check_error(&e);
                assert!(matches!(
                    self.hs.handle_input(&mut self.input, &mut self.out),
                    Err(HandshakeError::Finished)
                ));
                self.result = Some(Err(e));
            }
        }
    }

    /// Decodes (and opens, for CURVE) whatever traffic is buffered.
    fn traffic(&mut self) {
        let Some(Ok(established)) = self.result.as_mut() else {
            return;
        };
        let mut decoder = established.decoder.clone();
        decoder.set_max_message_size(Some(MAX_MESSAGE));
        loop {
            let Ok(Some(item)) = decoder.decode(&mut self.input) else {
                break;
            };
            let item = match established.cipher.as_mut() {
                Some(cipher) => match cipher.open(item) {
                    Ok(item) => item,
                    Err(e) => {
                        check_error(&e);
                        break;
                    }
                },
                None => item,
            };
            if let Item::Data { body, .. } = item {
                assert!(body.len() as u64 <= MAX_MESSAGE);
            }
        }
    }
}

/// Takes everything `out` holds.
fn drain(out: &mut WriteBatch) -> Vec<u8> {
    let bytes: Vec<u8> = out.chunks().flatten().copied().collect();
    out.advance(bytes.len());
    bytes
}

/// Drives one side of a mechanism (see [`Target`]) with fuzz input, in one of two modes
/// picked by the second byte:
///
/// - even: *raw*. The peer's greeting (announcing the right mechanism) is supplied, then
///   the rest of the input is everything else the peer sends, in chunks of the first byte's
///   size.
/// - odd: *mutated*. A genuine peer (this crate's other role) runs in lockstep, and the rest
///   of the input is a list of `(u16 offset, u8 xor)` changes to the bytes it sends, so the
///   fuzzer reaches every state up to and after the handshake (CURVE traffic included).
///
/// The third byte seeds the deterministic randomness and picks the ZAP reply (200, 300,
/// 400, 500, or frames cut from the input). Checks: no panic, input only consumed, bounded
/// output, every failure classified, traffic after success decodes (and opens) safely.
pub fn handshake_mechanism(target: Target, data: &[u8]) -> Option<Result<Version, HandshakeError>> {
    run(target, data, &mut Vec::new())
}

/// What the genuine peer sends, greeting and traffic included, in a clean mutated-mode run
/// with this head (`[chunk, mode, selector]`, mode odd): the raw-mode seeds replay it after
/// their greeting.
pub fn peer_stream(target: Target, head: [u8; 3]) -> Vec<u8> {
    let mut stream = Vec::new();
    let _ = run(target, &head, &mut stream);
    stream
}

fn run(
    target: Target,
    data: &[u8],
    stream: &mut Vec<u8>,
) -> Option<Result<Version, HandshakeError>> {
    let (head, rest) = data.split_at(data.len().min(3));
    let byte = |i: usize| head.get(i).copied().unwrap_or(0);
    let chunk = usize::from(byte(0)).max(1);
    let mutated = byte(1) & 1 == 1;
    let selector = byte(2);
    let use_zap = byte(1) & 2 == 2;
    let (ours, peer) = configs(target, use_zap);
    let raw_reply = rest.get(..rest.len().min(64)).unwrap_or_default().to_vec();
    let reply = move || zap_reply(selector, &raw_reply);
    let mut under = Under::new(ours, u64::from(selector));

    if !mutated {
        let greeting = Greeting::new(peer.mechanism.mechanism(), false).to_bytes();
        under.feed(&greeting, chunk, &reply);
        under.feed(rest, chunk, &reply);
        under.traffic();
    } else {
        let mutations: Vec<(usize, u8)> = rest
            .chunks_exact(3)
            .map(|m| (usize::from(u16::from_be_bytes([m[0], m[1]])), m[2]))
            .collect();
        let mut peer = Under::new(peer, u64::from(selector) ^ 0x5A5A);
        let mut sent = 0usize;
        for _ in 0..32 {
            let to_peer = drain(&mut under.out);
            let mut to_us = drain(&mut peer.out);
            stream.extend_from_slice(&to_us);
            for (offset, xor) in &mutations {
                if let Some(b) = offset.checked_sub(sent).and_then(|at| to_us.get_mut(at)) {
                    *b ^= xor;
                }
            }
            sent += to_us.len();
            if to_peer.is_empty() && to_us.is_empty() {
                break;
            }
            if peer.result.is_none() {
                // The peer's ZAP handler (when it is the server) answers as ours would.
                peer.feed(&to_peer, 4096, &reply);
            }
            under.feed(&to_us, chunk, &reply);
        }
        // Traffic from the genuine peer, through the same mutations.
        if let (Some(Ok(theirs)), Some(Ok(_))) = (peer.result.as_mut(), under.result.as_ref()) {
            let mut out = WriteBatch::new(theirs.version);
            match theirs.cipher.as_mut() {
                Some(cipher) => {
                    let _ = cipher.seal_data(true, b"", &mut out);
                    let _ = cipher.seal_data(false, b"hello", &mut out);
                    let _ = cipher.seal_command(
                        &Command::Ping {
                            ttl: 1,
                            context: Bytes::new(),
                        },
                        &mut out,
                    );
                    let _ = cipher.seal_subscription(true, b"topic", &mut out);
                }
                None => {
                    out.push_data(false, Bytes::from_static(b"hello"));
                }
            }
            let mut bytes = drain(&mut out);
            stream.extend_from_slice(&bytes);
            for (offset, xor) in &mutations {
                if let Some(b) = offset.checked_sub(sent).and_then(|at| bytes.get_mut(at)) {
                    *b ^= xor;
                }
            }
            under.input.extend_from_slice(&bytes);
            under.traffic();
        }
    }
    match under.result? {
        Ok(established) => {
            assert!(established.peer_socket_type.is_some());
            Some(Ok(established.version))
        }
        Err(e) => Some(Err(e)),
    }
}
