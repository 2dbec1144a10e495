//! The security mechanisms against a real libzmq, before any runtime exists.
//!
//! Each test runs a libzmq socket (pyzmq's bundled libzmq, which has CURVE, through
//! `libzmq_security_peer.py`) and talks to it over a plain blocking TCP connection driven
//! only by this crate's [`Handshake`] and [`CurveCipher`]: CURVE both ways with messages and
//! an encrypted PING/PONG, PLAIN both ways, ZAP handlers on both sides allowing and
//! denying, and wrong server keys.
//!
//! The tests need a Python with pyzmq: `cargo xtask tools` installs one into `.tools/`, or
//! set `ZMQ_INTEROP_PYTHON`. Without one they fail and say so; they are never skipped.

use std::io::{BufRead, BufReader, ErrorKind, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rand_core::OsRng;
use zmq_security::{
    CryptoFailure, CurveCipher, CurveKeyPair, Established, FailureClass, Handshake,
    HandshakeConfig, HandshakeError, MechanismConfig, ZapReply, ZapRequest, ZapStatus,
};
use zmq_testkit::python_with_curve;
use zmtp_codec::{Command, Decoder, Item, SocketType, Version, WriteBatch};

/// How long any single read may block before the test fails.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A running libzmq peer; closing its stdin tells it to exit.
struct LibzmqPeer {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    port: u16,
}

impl LibzmqPeer {
    /// Starts a bound scenario and reads its port.
    fn bind(args: &[&str]) -> Self {
        let mut peer = Self::spawn(args);
        let line = peer.line();
        peer.port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the libzmq peer printed {line:?}, not a port"));
        peer
    }

    /// Starts a connecting scenario.
    fn spawn(args: &[&str]) -> Self {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libzmq_security_peer.py");
        let mut child = Process::new(python_with_curve())
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the libzmq peer");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Self {
            child,
            stdin,
            stdout,
            port: 0,
        }
    }

    /// The peer's next line of output.
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read the peer");
        line
    }

    fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port)).expect("connect to libzmq")
    }
}

impl Drop for LibzmqPeer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a handshake over a real connection ended.
#[derive(Debug)]
enum Outcome {
    Established(Box<Established>),
    Failed(HandshakeError),
    /// libzmq closed the connection.
    Closed,
}

/// One connection driven by the handshake, then by the decoder and (CURVE) the cipher.
struct Conn {
    stream: TcpStream,
    input: BytesMut,
    out: WriteBatch,
    hs: Handshake,
    decoder: Option<Decoder>,
    cipher: Option<CurveCipher>,
    /// Every byte received, in order.
    received: Vec<u8>,
}

impl Conn {
    fn new(stream: TcpStream, config: HandshakeConfig) -> Self {
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut out = WriteBatch::new(Version::V3_1);
        let hs = Handshake::with_rng(config, &mut OsRng, &mut out).expect("valid configuration");
        Self {
            stream,
            input: BytesMut::with_capacity(64 * 1024),
            out,
            hs,
            decoder: None,
            cipher: None,
            received: Vec::new(),
        }
    }

    fn flush(&mut self) {
        while !self.out.is_empty() {
            let slices: Vec<IoSlice<'_>> = self.out.chunks().map(IoSlice::new).collect();
            match self.stream.write_vectored(&slices) {
                Ok(n) => self.out.advance(n),
                // libzmq may have closed already (after refusing us).
                Err(_) => return,
            }
        }
    }

    /// Reads more input; `false` at end of stream or on reset.
    fn fill(&mut self) -> bool {
        let mut buf = [0u8; 64 * 1024];
        match self.stream.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                self.input.extend_from_slice(&buf[..n]);
                self.received.extend_from_slice(&buf[..n]);
                true
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => false,
            Err(e) => panic!("reading from libzmq failed: {e}"),
        }
    }

    /// Runs the handshake to its end, answering ZAP requests with `zap`.
    fn handshake(&mut self, mut zap: impl FnMut(&ZapRequest) -> Vec<Bytes>) -> Outcome {
        self.flush();
        let mut step = self.hs.handle_input(&mut self.input, &mut self.out);
        loop {
            self.flush();
            match step {
                Ok(Some(mut established)) => {
                    self.decoder = Some(established.decoder.clone());
                    self.cipher = established.cipher.take();
                    return Outcome::Established(Box::new(established));
                }
                Err(e) => {
                    self.flush();
                    return Outcome::Failed(e);
                }
                Ok(None) => {}
            }
            if let Some(request) = self.hs.poll_zap_request() {
                let reply = zap(&request);
                step = self
                    .hs
                    .handle_zap_reply(&reply, &mut self.input, &mut self.out);
                continue;
            }
            if !self.fill() {
                return Outcome::Closed;
            }
            step = self.hs.handle_input(&mut self.input, &mut self.out);
        }
    }

    /// The next traffic item, opened if CURVE; `None` once libzmq has closed.
    fn next_item(&mut self) -> Option<Item> {
        loop {
            let decoder = self.decoder.as_mut().expect("established");
            if let Some(item) = decoder.decode(&mut self.input).expect("decodable traffic") {
                return Some(match self.cipher.as_mut() {
                    Some(cipher) => cipher.open(item).expect("an authentic MESSAGE"),
                    None => item,
                });
            }
            if !self.fill() {
                return None;
            }
        }
    }

    fn send(&mut self, frames: &[&[u8]]) {
        for (i, frame) in frames.iter().enumerate() {
            let more = i + 1 < frames.len();
            match self.cipher.as_mut() {
                Some(cipher) => cipher.seal_data(more, frame, &mut self.out).unwrap(),
                None => self.out.push_data(more, Bytes::copy_from_slice(frame)),
            }
        }
        self.flush();
    }

    fn send_command(&mut self, command: &Command) {
        match self.cipher.as_mut() {
            Some(cipher) => cipher.seal_command(command, &mut self.out).unwrap(),
            None => self.out.push_command(command).unwrap(),
        }
        self.flush();
    }

    fn recv(&mut self) -> Vec<Bytes> {
        let mut frames = Vec::new();
        loop {
            match self.next_item() {
                Some(Item::Data { body, more }) => {
                    frames.push(body.into_bytes());
                    if !more {
                        return frames;
                    }
                }
                other => panic!("expected a message frame, got {other:?}"),
            }
        }
    }
}

fn no_zap(request: &ZapRequest) -> Vec<Bytes> {
    panic!("no ZAP request expected, got {request:?}")
}

fn config(socket_type: SocketType, mechanism: MechanismConfig) -> HandshakeConfig {
    let mut c = HandshakeConfig::new(socket_type);
    c.mechanism = mechanism;
    c
}

fn established(outcome: Outcome) -> Box<Established> {
    match outcome {
        Outcome::Established(e) => e,
        other => panic!("the handshake with libzmq did not complete: {other:?}"),
    }
}

// --- CURVE ---------------------------------------------------------------------------------

fn curve_client(server: &CurveKeyPair, ours: &CurveKeyPair) -> HandshakeConfig {
    config(
        SocketType::Req,
        MechanismConfig::CurveClient {
            keypair: ours.clone(),
            server_key: server.public,
        },
    )
}

#[test]
fn our_curve_client_to_a_libzmq_curve_server() {
    let server = CurveKeyPair::generate(&mut OsRng);
    let ours = CurveKeyPair::generate(&mut OsRng);
    let peer = LibzmqPeer::bind(&["curve-rep", &server.secret.to_z85(), "none"]);
    let mut conn = Conn::new(peer.connect(), curve_client(&server, &ours));
    let est = established(conn.handshake(no_zap));
    assert_eq!(est.version, Version::V3_1);
    assert_eq!(est.peer_socket_type, Some(SocketType::Rep));
    assert!(conn.cipher.is_some());

    // Request and reply, encrypted both ways (libzmq's Stonehouse: no ZAP, so no User-Id).
    conn.send(&[b"", b"hello"]);
    assert_eq!(conn.recv(), [&b""[..], b"user:(none)", b"reply:hello"]);
    // Multipart, empty and large frames.
    let large: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    conn.send(&[b"", b"a", b"", &large]);
    let reply = conn.recv();
    assert_eq!(reply.len(), 5);
    assert_eq!(&reply[4][..6], b"reply:");
    assert_eq!(&reply[4][6..], &large[..]);

    // A PING inside a MESSAGE (the COMMAND bit in the box) gets an encrypted PONG.
    conn.send_command(&Command::Ping {
        ttl: 0,
        context: Bytes::from_static(b"curve-ctx"),
    });
    assert_eq!(
        conn.next_item(),
        Some(Item::Command(Command::Pong {
            context: Bytes::from_static(b"curve-ctx")
        }))
    );
    // And traffic goes on after it.
    conn.send(&[b"", b"after"]);
    assert_eq!(conn.recv(), [&b""[..], b"user:(none)", b"reply:after"]);
}

#[test]
fn libzmq_zap_handler_allows_our_curve_client() {
    let server = CurveKeyPair::generate(&mut OsRng);
    let ours = CurveKeyPair::generate(&mut OsRng);
    let allow = format!("allow:{}", ours.public.to_z85());
    let peer = LibzmqPeer::bind(&["curve-rep", &server.secret.to_z85(), &allow]);
    let mut conn = Conn::new(peer.connect(), curve_client(&server, &ours));
    established(conn.handshake(no_zap));
    conn.send(&[b"", b"who am i"]);
    assert_eq!(
        conn.recv(),
        [&b""[..], b"user:curve-user", b"reply:who am i"],
        "libzmq's ZAP handler saw our long-term key and gave us its user id"
    );
}

#[test]
fn libzmq_zap_handler_denies_our_curve_client() {
    let server = CurveKeyPair::generate(&mut OsRng);
    let ours = CurveKeyPair::generate(&mut OsRng);
    let peer = LibzmqPeer::bind(&["curve-rep", &server.secret.to_z85(), "deny"]);
    let mut conn = Conn::new(peer.connect(), curve_client(&server, &ours));
    match conn.handshake(no_zap) {
        Outcome::Failed(e) => {
            assert_eq!(
                e,
                HandshakeError::PeerError {
                    reason: Bytes::from_static(b"400")
                }
            );
            assert_eq!(e.monitor_class(), FailureClass::Auth);
            assert_eq!(e.zap_status(), Some(400));
        }
        other => panic!("expected ERROR 400 from libzmq, got {other:?}"),
    }
}

#[test]
fn libzmq_refuses_our_curve_client_with_a_wrong_server_key() {
    let server = CurveKeyPair::generate(&mut OsRng);
    let wrong = CurveKeyPair::generate(&mut OsRng);
    let ours = CurveKeyPair::generate(&mut OsRng);
    let peer = LibzmqPeer::bind(&["curve-rep", &server.secret.to_z85(), "none"]);
    let mut conn = Conn::new(peer.connect(), curve_client(&wrong, &ours));
    match conn.handshake(no_zap) {
        // libzmq cannot open our HELLO: it closes without a word, as CurveZMQ says.
        Outcome::Closed => assert_eq!(conn.received.len(), 64, "nothing after its greeting"),
        other => panic!("expected libzmq to close, got {other:?}"),
    }
}

fn accept(listener: &TcpListener) -> TcpStream {
    // Bounded, so a peer that never connects fails the test instead of hanging it.
    listener.set_nonblocking(true).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                return stream;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the libzmq peer did not connect within 30 s"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

#[test]
fn libzmq_curve_client_to_our_curve_server_with_our_zap_handler() {
    let server = CurveKeyPair::generate(&mut OsRng);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut peer = LibzmqPeer::spawn(&["curve-dealer", &port, &server.public.to_z85()]);
    let mut c = config(
        SocketType::Router,
        MechanismConfig::CurveServer {
            keypair: server.clone(),
        },
    );
    c.zap.handler = true;
    c.zap.domain = Bytes::from_static(b"interop");
    c.zap.address = Bytes::from_static(b"127.0.0.1");
    let mut conn = Conn::new(accept(&listener), c);
    let mut client_key = None;
    let est = established(conn.handshake(|request| {
        assert_eq!(request.mechanism, zmtp_codec::Mechanism::CURVE);
        client_key = Some(request.credentials[0].clone());
        ZapReply::allow("libzmq-client").to_frames()
    }));
    assert_eq!(client_key.map(|k| k.len()), Some(32));
    assert_eq!(est.peer_socket_type, Some(SocketType::Dealer));
    assert_eq!(est.peer_routing_id, "libzmq-dealer");
    assert_eq!(est.user_id.as_deref(), Some(&b"libzmq-client"[..]));

    assert_eq!(conn.recv(), [&b"ping"[..], b"two"]);
    conn.send(&[b"echo:ping", b"echo:two"]);
    assert_eq!(conn.recv(), [&b"got"[..], b"echo:ping", b"echo:two"]);
    assert_eq!(peer.line().trim(), "ok [b'echo:ping', b'echo:two']");
}

#[test]
fn our_curve_server_refuses_a_libzmq_client_with_a_wrong_server_key() {
    let server = CurveKeyPair::generate(&mut OsRng);
    let wrong = CurveKeyPair::generate(&mut OsRng);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut peer = LibzmqPeer::spawn(&["curve-dealer", &port, &wrong.public.to_z85()]);
    let c = config(
        SocketType::Router,
        MechanismConfig::CurveServer { keypair: server },
    );
    let mut conn = Conn::new(accept(&listener), c);
    match conn.handshake(no_zap) {
        Outcome::Failed(e) => {
            assert_eq!(e, HandshakeError::Crypto(CryptoFailure::Hello));
            assert_eq!(
                e.zmtp_error_code(),
                Some(zmq_security::protocol_error::ZMTP_CRYPTOGRAPHIC)
            );
        }
        other => panic!("expected a HELLO that does not open, got {other:?}"),
    }
    // We close without a word, as libzmq does; the libzmq client sees the connection drop
    // mid-handshake.
    drop(conn);
    assert!(
        peer.line().starts_with("event 0x800 "),
        "HANDSHAKE_FAILED_NO_DETAIL"
    );
}

#[test]
fn our_zap_handler_denies_a_libzmq_curve_client() {
    let server = CurveKeyPair::generate(&mut OsRng);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut peer = LibzmqPeer::spawn(&["curve-dealer", &port, &server.public.to_z85()]);
    let mut c = config(
        SocketType::Router,
        MechanismConfig::CurveServer { keypair: server },
    );
    c.zap.handler = true;
    let mut conn = Conn::new(accept(&listener), c);
    match conn.handshake(|_| ZapReply::deny(ZapStatus::DENIED, "unknown key").to_frames()) {
        Outcome::Failed(e) => assert_eq!(
            e,
            HandshakeError::ZapDenied {
                status: ZapStatus::DENIED
            }
        ),
        other => panic!("expected our ZAP handler to deny, got {other:?}"),
    }
    assert_eq!(peer.line().trim(), "event 0x4000 400");
}

// --- PLAIN ---------------------------------------------------------------------------------

fn plain_client(user: &'static str, pass: &'static str) -> HandshakeConfig {
    config(
        SocketType::Req,
        MechanismConfig::PlainClient {
            username: Bytes::from_static(user.as_bytes()),
            password: Bytes::from_static(pass.as_bytes()),
        },
    )
}

#[test]
fn our_plain_client_to_a_libzmq_plain_server_allowed_by_its_zap_handler() {
    let peer = LibzmqPeer::bind(&["plain-rep"]);
    let mut conn = Conn::new(peer.connect(), plain_client("admin", "secret"));
    let est = established(conn.handshake(no_zap));
    assert_eq!(est.peer_socket_type, Some(SocketType::Rep));
    assert!(est.cipher.is_none());
    conn.send(&[b"", b"hello"]);
    assert_eq!(conn.recv(), [&b""[..], b"user:admin-id", b"reply:hello"]);
}

#[test]
fn our_plain_client_denied_by_the_libzmq_zap_handler() {
    let peer = LibzmqPeer::bind(&["plain-rep"]);
    let mut conn = Conn::new(peer.connect(), plain_client("admin", "wrong"));
    match conn.handshake(no_zap) {
        Outcome::Failed(e) => {
            assert_eq!(
                e.monitor_class(),
                FailureClass::Auth,
                "{e:?} after {:02x?}",
                &conn.received[64..]
            );
            assert_eq!(e.zap_status(), Some(400));
        }
        other => panic!("expected ERROR 400, got {other:?}"),
    }
}

fn plain_server() -> HandshakeConfig {
    let mut c = config(SocketType::Router, MechanismConfig::PlainServer);
    c.zap.handler = true;
    c.routing_id = Bytes::from_static(b"rust-router");
    c
}

fn check_admin(request: &ZapRequest) -> Vec<Bytes> {
    assert_eq!(request.frames()[5], "rust-router", "our own routing id");
    if request.credentials == [Bytes::from_static(b"admin"), Bytes::from_static(b"secret")] {
        ZapReply::allow("admin-id").to_frames()
    } else {
        ZapReply::deny(ZapStatus::DENIED, "bad password").to_frames()
    }
}

#[test]
fn libzmq_plain_client_to_our_plain_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut peer = LibzmqPeer::spawn(&["plain-dealer", &port, "admin", "secret"]);
    let mut conn = Conn::new(accept(&listener), plain_server());
    let est = established(conn.handshake(check_admin));
    assert_eq!(est.peer_routing_id, "libzmq-dealer");
    assert_eq!(est.peer_metadata.get("User-Id").unwrap(), "admin-id");
    assert_eq!(conn.recv(), [&b"ping"[..], b"two"]);
    conn.send(&[b"echo:ping", b"echo:two"]);
    assert_eq!(conn.recv(), [&b"got"[..], b"echo:ping", b"echo:two"]);
    assert_eq!(peer.line().trim(), "ok [b'echo:ping', b'echo:two']");
}

#[test]
fn our_zap_handler_denies_a_libzmq_plain_client() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut peer = LibzmqPeer::spawn(&["plain-dealer", &port, "admin", "guess"]);
    let mut conn = Conn::new(accept(&listener), plain_server());
    match conn.handshake(check_admin) {
        Outcome::Failed(e) => {
            assert_eq!(
                e,
                HandshakeError::ZapDenied {
                    status: ZapStatus::DENIED
                }
            );
            assert_eq!(e.monitor_class(), FailureClass::Auth);
        }
        other => panic!("expected our ZAP handler to deny, got {other:?}"),
    }
    // The ERROR 400 went out in libzmq 4.3's PLAIN form, so the libzmq client reports
    // HANDSHAKE_FAILED_AUTH(400), exactly as against a libzmq server.
    assert_eq!(peer.line().trim(), "event 0x4000 400");
}
