//! The codec against a real libzmq, before any runtime exists.
//!
//! Each test runs a libzmq socket (pyzmq's bundled libzmq, through `libzmq_peer.py`) and
//! talks to it over a plain blocking TCP connection using only this crate: the greeting in
//! stages, the NULL handshake, and message and command frames both ways.
//!
//! The tests need a Python with pyzmq: `cargo xtask tools` installs one into `.tools/`, or
//! set `ZMQ_INTEROP_PYTHON`. Without one they fail and say so; they are never skipped.

use std::io::{BufRead, BufReader, ErrorKind, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command as Process, Stdio};
use std::time::Duration;

use zmq_testkit::python;
use zmtp_codec::bytes::{Bytes, BytesMut};
use zmtp_codec::greeting::{Progress, Rest};
use zmtp_codec::metadata::{IDENTITY, SOCKET_TYPE};
use zmtp_codec::{
    Command, Decoder, Greeting, GreetingReader, Item, Mechanism, Metadata, PeerGreeting,
    SocketType, Version, WriteBatch,
};

/// How long any single read may block before the test fails.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A running libzmq peer; closing its stdin tells it to exit.
struct LibzmqPeer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
}

impl LibzmqPeer {
    /// Starts a scenario; bound scenarios report their port, connecting ones get `port`.
    fn start(scenario: &str, port: Option<u16>) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libzmq_peer.py");
        let mut cmd = Process::new(python());
        cmd.arg(script).arg(scenario);
        if let Some(port) = port {
            cmd.arg(port.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the libzmq peer");
        let stdin = child.stdin.take();
        let port = match port {
            Some(port) => port,
            None => {
                let mut line = String::new();
                let stdout = child.stdout.take().expect("piped stdout");
                BufReader::new(stdout)
                    .read_line(&mut line)
                    .expect("read the peer's port");
                line.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("the libzmq peer printed {line:?}, not a port"))
            }
        };
        Self { child, stdin, port }
    }

    fn connect(&self) -> Conn {
        Conn::new(TcpStream::connect(("127.0.0.1", self.port)).expect("connect to libzmq"))
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

/// One ZMTP connection driven by the codec alone.
struct Conn {
    stream: TcpStream,
    input: BytesMut,
    decoder: Decoder,
    batch: WriteBatch,
}

impl Conn {
    fn new(stream: TcpStream) -> Self {
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            stream,
            input: BytesMut::with_capacity(64 * 1024),
            decoder: Decoder::new(zmtp_codec::frame::FrameFormat::V3),
            batch: WriteBatch::new(Version::V3_1),
        }
    }

    fn flush(&mut self) {
        while !self.batch.is_empty() {
            let slices: Vec<IoSlice<'_>> = self.batch.chunks().map(IoSlice::new).collect();
            let n = self
                .stream
                .write_vectored(&slices)
                .expect("write to libzmq");
            self.batch.advance(n);
        }
    }

    /// Reads more input; `false` at end of stream or on reset.
    fn fill(&mut self) -> bool {
        let mut buf = [0u8; 16 * 1024];
        match self.stream.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                self.input.extend_from_slice(&buf[..n]);
                true
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => false,
            Err(e) => panic!("reading from libzmq failed: {e}"),
        }
    }

    /// Exchanges greetings. `staged` sends ours stage by stage, as libzmq does; otherwise
    /// all 64 bytes go at once. Returns the peer's greeting and its raw signature.
    fn greet(&mut self, ours: [u8; 64], staged: bool) -> (PeerGreeting, [u8; 10]) {
        self.batch
            .push_raw(if staged { &ours[..10] } else { &ours[..] });
        self.flush();
        let mut reader = GreetingReader::new();
        let mut signature = [0u8; 10];
        loop {
            match reader.poll(&mut self.input).unwrap() {
                Progress::NeedMore => assert!(self.fill(), "libzmq hung up during the greeting"),
                Progress::SendVersion => {
                    signature.copy_from_slice(&self.input[..10]);
                    if staged {
                        self.batch.push_raw(&ours[10..11]);
                        self.flush();
                    }
                }
                Progress::SendRest(Rest::V3) => {
                    if staged {
                        self.batch.push_raw(&ours[11..]);
                        self.flush();
                    }
                }
                Progress::Done(peer) => {
                    self.decoder = Decoder::new(peer.version.frame_format());
                    return (peer, signature);
                }
                other => panic!("libzmq is a ZMTP 3.x peer, yet the reader said {other:?}"),
            }
        }
    }

    /// Sends our READY and returns the properties of the peer's.
    fn null_handshake(&mut self, ours: SocketType, identity: Option<&[u8]>) -> Metadata {
        let mut props = Metadata::new();
        props.insert(SOCKET_TYPE, ours.name()).unwrap();
        if let Some(id) = identity {
            props.insert(IDENTITY, Bytes::copy_from_slice(id)).unwrap();
        }
        let mut body = Vec::new();
        props.encode(&mut body);
        self.batch
            .push_command(&Command::Ready(body.into()))
            .unwrap();
        self.flush();
        match self.next_item() {
            Some(Item::Command(Command::Ready(body))) => Metadata::parse(&body).unwrap(),
            other => panic!("expected libzmq's READY, got {other:?}"),
        }
    }

    /// The next frame, or `None` once libzmq has closed the connection.
    fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.decoder.decode(&mut self.input).unwrap() {
                return Some(item);
            }
            if !self.fill() {
                return None;
            }
        }
    }

    fn send(&mut self, frames: &[&[u8]]) {
        for (i, frame) in frames.iter().enumerate() {
            self.batch
                .push_data(i + 1 < frames.len(), Bytes::copy_from_slice(frame));
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

fn greeting() -> [u8; 64] {
    Greeting::new(Mechanism::NULL, false).to_bytes()
}

#[test]
fn req_to_libzmq_rep_with_a_staged_greeting() {
    let peer = LibzmqPeer::start("rep", None);
    let mut conn = peer.connect();
    let (greeting, signature) = conn.greet(greeting(), true);
    // libzmq's padding is its identity length plus one, never all zeros.
    assert_eq!(signature, *b"\xff\0\0\0\0\0\0\0\x01\x7f");
    assert_eq!(greeting.version, Version::V3_1);
    assert_eq!((greeting.major, greeting.minor), (3, 1));
    assert_eq!(greeting.mechanism, Mechanism::NULL);
    assert!(!greeting.as_server, "libzmq always sends as-server 0");

    let props = conn.null_handshake(SocketType::Req, Some(b""));
    assert_eq!(props.get(SOCKET_TYPE).unwrap(), "REP");
    assert_eq!(
        props.get(IDENTITY),
        None,
        "libzmq sends Identity only from REQ, DEALER, ROUTER"
    );

    conn.send(&[b"", b"hello"]);
    assert_eq!(conn.recv(), [&b""[..], b"reply:hello"]);
    conn.send(&[b"", b"a", b"", b"c"]);
    assert_eq!(conn.recv(), [&b""[..], b"reply:a", b"reply:", b"reply:c"]);

    // libzmq answers a PING with a PONG echoing the context.
    conn.batch
        .push_command(&Command::Ping {
            ttl: 0,
            context: Bytes::from_static(b"ctx-123"),
        })
        .unwrap();
    conn.flush();
    assert_eq!(
        conn.next_item(),
        Some(Item::Command(Command::Pong {
            context: Bytes::from_static(b"ctx-123")
        }))
    );
    // A context above 16 bytes (which we never send) is cut to 16 by libzmq, as by
    // `Command::pong_for`.
    let long = b"\x04\x1a\x04PING\x00\x0a0123456789abcdefghij";
    conn.batch.push_raw(long);
    conn.flush();
    let ping = Command::parse(&Bytes::from_static(&long[2..])).unwrap();
    assert_eq!(
        conn.next_item(),
        Some(Item::Command(ping.pong_for().unwrap()))
    );
}

#[test]
fn dealer_with_identity_to_libzmq_router_with_a_whole_greeting() {
    let peer = LibzmqPeer::start("router", None);
    let mut conn = peer.connect();
    let (greeting, _) = conn.greet(greeting(), false);
    assert_eq!(greeting.version, Version::V3_1);

    let props = conn.null_handshake(SocketType::Dealer, Some(b"rust-dealer"));
    assert_eq!(props.get(SOCKET_TYPE).unwrap(), "ROUTER");
    assert_eq!(
        props.get(IDENTITY).unwrap(),
        "",
        "ROUTER sends an empty Identity"
    );

    conn.send(&[b"", b"ping"]);
    assert_eq!(conn.recv(), [&b""[..], b"rust-dealer", b"4", b"ping"]);

    // Short, long-form and large (separately written) frames in one message.
    let medium = vec![b'm'; 300];
    let large: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    conn.send(&[b"", b"s", &medium, &large, b""]);
    let total = (1 + medium.len() + large.len()).to_string();
    assert_eq!(
        conn.recv(),
        [
            &b""[..],
            b"rust-dealer",
            total.as_bytes(),
            b"s",
            &medium,
            &large,
            b""
        ]
    );
}

#[test]
fn sub_to_libzmq_pub_with_both_subscription_forms() {
    let peer = LibzmqPeer::start("pub", None);

    // ZMTP 3.1: the subscription is a SUBSCRIBE command.
    let mut conn = peer.connect();
    conn.greet(greeting(), true);
    let props = conn.null_handshake(SocketType::Sub, None);
    assert_eq!(props.get(SOCKET_TYPE).unwrap(), "PUB");
    conn.batch.push_subscription(true, b"A");
    conn.flush();
    for _ in 0..5 {
        let msg = conn.recv();
        assert_eq!(msg[0], "A-topic", "PUB filters by prefix at its side");
    }

    // Announcing ZMTP 3.0, libzmq downgrades to it, and the subscription is a data frame.
    let mut conn = peer.connect();
    let mut ours = greeting();
    ours[11] = 0;
    let (theirs, _) = conn.greet(ours, false);
    assert_eq!(
        (theirs.major, theirs.minor),
        (3, 1),
        "libzmq still announces 3.1"
    );
    conn.batch.set_version(Version::V3_0);
    conn.null_handshake(SocketType::Sub, None);
    conn.batch.push_subscription(true, b"B");
    conn.flush();
    for _ in 0..5 {
        assert_eq!(conn.recv()[0], "B-topic");
    }
}

#[test]
fn pull_bound_while_libzmq_push_connects() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _peer = LibzmqPeer::start("push-connect", Some(port));
    let (stream, _) = listener.accept().unwrap();
    let mut conn = Conn::new(stream);
    let (greeting, _) = conn.greet(greeting(), true);
    assert_eq!(greeting.version, Version::V3_1);
    let props = conn.null_handshake(SocketType::Pull, None);
    assert_eq!(props.get(SOCKET_TYPE).unwrap(), "PUSH");
    assert_eq!(conn.recv(), [&b"one"[..]]);
    assert_eq!(conn.recv(), [&b"two"[..], b"", &[b'x'; 300][..]]);
    assert_eq!(conn.recv(), [&b"three"[..]]);
}

#[test]
fn libzmq_refuses_an_incompatible_socket_type() {
    let peer = LibzmqPeer::start("rep", None);
    let mut conn = peer.connect();
    conn.greet(greeting(), true);
    // PUSH may not talk to REP: libzmq closes the connection without an ERROR command.
    let mut props = Metadata::new();
    props.insert(SOCKET_TYPE, "PUSH").unwrap();
    let mut body = Vec::new();
    props.encode(&mut body);
    conn.batch
        .push_command(&Command::Ready(body.into()))
        .unwrap();
    conn.flush();
    loop {
        match conn.next_item() {
            None => break,
            Some(Item::Command(Command::Ready(_))) => {}
            Some(other) => panic!("expected the connection to close, got {other:?}"),
        }
    }
}
