//! Bad input: a bound socket facing raw clients that break the protocol.
//!
//! Our bound REP or PULL faces raw clients (`std::net::TcpStream`, and one `UnixStream`)
//! that send garbage, hang up in the middle of the greeting, announce a frame of 2^63 bytes
//! or one over `MAXMSGSIZE`, stall in the handshake, never send anything, or announce an
//! incompatible socket type. Each bad connection must be closed by us (the raw client sees
//! end-of-file or a reset), promptly for a protocol error and after `HANDSHAKE_IVL` for a
//! stall, and the socket must keep serving a well-behaved peer before, during and after:
//! one of ours, and in the last test a libzmq one (pyzmq's bundled libzmq, see
//! `tests/peers/`). Nothing a bad client sends may reach the application.
//!
//! The tests with a libzmq peer need a Python with pyzmq: `cargo xtask tools` installs one
//! into `.tools/`, or set `ZMQ_INTEROP_PYTHON`. Without one they fail and say so.

mod peers;

use std::cell::{Cell, RefCell};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use peers::{show, Libzmq, Msg};
use zmq::SocketType::{self, PULL, PUSH, REP, REQ};

/// How soon a protocol error must close the connection.
const PROMPTLY: Duration = Duration::from_secs(5);
/// The short `HANDSHAKE_IVL` of the stall tests, in ms.
const SHORT_IVL: i32 = 400;
/// How long the well-behaved peer may wait for an answer, in ms.
const GOOD_TIMEOUT_MS: i32 = 5_000;

// ---------------------------------------------------------------------------------------
// ZMTP bytes, written by hand.

/// A ZMTP 3.1 NULL greeting, as libzmq sends it.
fn greeting() -> Vec<u8> {
    let mut g = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
    let mut mechanism = [0u8; 20];
    mechanism[..4].copy_from_slice(b"NULL");
    g.extend_from_slice(&mechanism);
    g.push(0); // as-server
    g.extend_from_slice(&[0; 31]);
    assert_eq!(g.len(), 64);
    g
}

fn frame(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(body.len() + 9);
    if body.len() <= 255 {
        f.push(flags);
        f.push(body.len() as u8);
    } else {
        f.push(flags | 0x02);
        f.extend_from_slice(&(body.len() as u64).to_be_bytes());
    }
    f.extend_from_slice(body);
    f
}

/// A READY command with these properties.
fn ready_with(properties: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = vec![5];
    body.extend_from_slice(b"READY");
    for (name, value) in properties {
        body.push(name.len() as u8);
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(&(value.len() as u32).to_be_bytes());
        body.extend_from_slice(value);
    }
    frame(0x04, &body)
}

fn ready(socket_type: &str) -> Vec<u8> {
    ready_with(&[("Socket-Type", socket_type.as_bytes())])
}

/// A greeting and READY announcing `socket_type`: a complete NULL handshake.
fn handshake(socket_type: &str) -> Vec<u8> {
    [greeting(), ready(socket_type)].concat()
}

/// A long frame header announcing `size` bytes.
fn long_header(flags: u8, size: u64) -> Vec<u8> {
    let mut h = vec![flags | 0x02];
    h.extend_from_slice(&size.to_be_bytes());
    h
}

/// Deterministic pseudo-random bytes (xorshift).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// A raw client.

trait RawStream: Read + Write {
    fn set_timeout(&self, timeout: Duration);
    fn hang_up_writing(&self);
}

impl RawStream for TcpStream {
    fn set_timeout(&self, timeout: Duration) {
        self.set_read_timeout(Some(timeout)).unwrap();
    }
    fn hang_up_writing(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

impl RawStream for UnixStream {
    fn set_timeout(&self, timeout: Duration) {
        self.set_read_timeout(Some(timeout)).unwrap();
    }
    fn hang_up_writing(&self) {
        let _ = self.shutdown(Shutdown::Write);
    }
}

/// A client speaking raw bytes; `what` names it in failure messages.
struct Raw<S: RawStream> {
    stream: S,
    what: String,
    connected: Instant,
    closed: bool,
}

impl Raw<TcpStream> {
    fn tcp(port: u16, what: impl Into<String>) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect the raw client");
        Self::new(stream, what)
    }
}

impl<S: RawStream> Raw<S> {
    fn new(stream: S, what: impl Into<String>) -> Self {
        Self {
            stream,
            what: what.into(),
            connected: Instant::now(),
            closed: false,
        }
    }

    /// Writes `bytes`; a failure means we closed the connection already, which the next
    /// read sees.
    fn send(&mut self, bytes: &[u8]) {
        if self.stream.write_all(bytes).is_err() {
            self.closed = true;
        }
    }

    /// Reads (and drops) what we send until `deadline`; true if the connection ended.
    fn ended_before(&mut self, deadline: Instant) -> bool {
        if self.closed {
            return true;
        }
        let mut buf = [0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.stream.set_timeout(left.max(Duration::from_millis(1)));
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Reset or aborted: closed, with our data unread.
                Err(_) => break,
            }
        }
        self.closed = true;
        true
    }

    /// Asserts that we close the connection within `within` from now; returns the time
    /// since the client connected.
    fn expect_closed(&mut self, within: Duration) -> Duration {
        assert!(
            self.ended_before(Instant::now() + within),
            "{}: the connection is still open after {:?}",
            self.what,
            self.connected.elapsed()
        );
        self.connected.elapsed()
    }

    /// Asserts that the connection stays open for `time`.
    fn expect_open(&mut self, time: Duration) {
        assert!(
            !self.ended_before(Instant::now() + time),
            "{}: closed after {:?}, expected it open",
            self.what,
            self.connected.elapsed()
        );
    }
}

// ---------------------------------------------------------------------------------------
// The server under attack and its well-behaved peer.

/// Our bound REP (answering each request with itself) or PULL, in a thread that reports
/// every message it receives, and one of our REQ or PUSH sockets as a well-behaved peer.
struct Server {
    _ctx: zmq::Context,
    endpoint: String,
    kind: SocketType,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
    received: mpsc::Receiver<Msg>,
    /// Messages received that were not the well-behaved peer's.
    others: RefCell<Vec<Msg>>,
    good: zmq::Socket,
    checks: Cell<usize>,
}

impl Server {
    fn start(kind: SocketType, configure: impl FnOnce(&zmq::Socket)) -> Self {
        Self::start_at(kind, "tcp://127.0.0.1:*", configure)
    }

    fn start_at(kind: SocketType, endpoint: &str, configure: impl FnOnce(&zmq::Socket)) -> Self {
        let ctx = zmq::Context::new();
        let socket = ctx.socket(kind).unwrap();
        socket.set_linger(0).unwrap();
        socket.set_rcvtimeo(20).unwrap();
        socket.set_sndtimeo(GOOD_TIMEOUT_MS).unwrap();
        configure(&socket);
        socket.bind(endpoint).unwrap();
        let endpoint = socket.get_last_endpoint().unwrap().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, received) = mpsc::channel();
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match socket.recv_multipart(0) {
                        Ok(msg) => {
                            if kind == REP {
                                socket.send_multipart(&msg, 0).expect("the REP answers");
                            }
                            let _ = tx.send(msg);
                        }
                        Err(zmq::Error::EAGAIN) => {}
                        Err(e) => panic!("the server's recv failed: {e}"),
                    }
                }
            })
        };
        let good = ctx.socket(if kind == REP { REQ } else { PUSH }).unwrap();
        good.set_linger(0).unwrap();
        good.set_rcvtimeo(GOOD_TIMEOUT_MS).unwrap();
        good.set_sndtimeo(GOOD_TIMEOUT_MS).unwrap();
        good.connect(&endpoint).unwrap();
        let server = Self {
            _ctx: ctx,
            endpoint,
            kind,
            stop,
            thread: Some(thread),
            received,
            others: RefCell::new(Vec::new()),
            good,
            checks: Cell::new(0),
        };
        server.serves("at the start");
        server
    }

    fn port(&self) -> u16 {
        let port = self.endpoint.rsplit(':').next().unwrap();
        port.parse().expect("a tcp endpoint")
    }

    fn raw(&self, what: impl Into<String>) -> Raw<TcpStream> {
        Raw::tcp(self.port(), what)
    }

    /// Asserts that the well-behaved peer is served now.
    fn serves(&self, when: &str) {
        let n = self.checks.get();
        self.checks.set(n + 1);
        let body = format!("good-{n}").into_bytes();
        if let Err(e) = self.good.send(&body, 0) {
            panic!("{when}: the well-behaved peer cannot send: {e}");
        }
        if self.kind == REP {
            match self.good.recv_bytes(0) {
                Ok(reply) => assert_eq!(reply, body, "{when}: the reply"),
                Err(e) => panic!("{when}: the well-behaved peer got no reply: {e}"),
            }
        }
        let deadline = Instant::now() + Duration::from_millis(GOOD_TIMEOUT_MS as u64);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left) {
                Ok(msg) if msg == [body.clone()] => return,
                Ok(msg) => self.others.borrow_mut().push(msg),
                Err(_) => panic!("{when}: the server did not get the well-behaved peer's message"),
            }
        }
    }

    /// Every message received so far that was not the well-behaved peer's.
    fn others(&self) -> Vec<Msg> {
        while let Ok(msg) = self.received.try_recv() {
            self.others.borrow_mut().push(msg);
        }
        self.others.borrow().clone()
    }

    /// Waits (a little) for the messages besides the well-behaved peer's to be `expected`,
    /// and forgets them.
    fn expect_others(&self, expected: &[Msg], what: &str) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.others.borrow().len() < expected.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.received.recv_timeout(left) {
                Ok(msg) => self.others.borrow_mut().push(msg),
                Err(_) => break,
            }
        }
        let others = self.others.take();
        assert!(
            others == expected,
            "{what}: the server received {}, expected {}",
            others
                .iter()
                .map(|m| show(m))
                .collect::<Vec<_>>()
                .join(", "),
            expected
                .iter()
                .map(|m| show(m))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    fn assert_nothing_else(&self, what: &str) {
        let others = self.others();
        assert!(
            others.is_empty(),
            "{what}: the server received {}",
            others
                .iter()
                .map(|m| show(m))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let result = thread.join();
            if result.is_err() && !thread::panicking() {
                panic!("the server's thread failed");
            }
        }
    }
}

/// One bad client against `server`: the well-behaved peer is served after the client sent
/// `bytes` (while the bad connection may still be open) and after we closed it. Returns
/// how long after connecting the connection was closed.
fn bad_client(server: &Server, what: &str, bytes: &[u8], within: Duration) -> Duration {
    let mut raw = server.raw(what);
    raw.send(bytes);
    server.serves(&format!("{what}: during"));
    let elapsed = raw.expect_closed(within);
    server.serves(&format!("{what}: after"));
    elapsed
}

// ---------------------------------------------------------------------------------------
// Tests.

/// Bytes that no ZMTP version accepts are refused at once (the server's HANDSHAKE_IVL is
/// the default 30 s, so the close is not the timer's).
#[test]
fn garbage_is_refused_at_once() {
    let server = Server::start(REP, |_| {});
    let signature = &greeting()[..10];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // A ZMTP 1.0 peer (first byte not 0xFF) whose identity frame has length 0.
        ("zero bytes", vec![0; 1000]),
        // Versioned, version 255 (taken as 3.x), mechanism of 0xFF bytes.
        ("0xFF bytes", vec![0xFF; 1000]),
        (
            "noise after a ZMTP 3.0 signature",
            [signature, &[3, 0], &noise(7, 500)].concat(),
        ),
        ("an unknown mechanism", {
            let mut g = greeting();
            g[12..32].copy_from_slice(b"GARBAGE\0\0\0\0\0\0\0\0\0\0\0\0\0");
            [g, ready("REQ")].concat()
        }),
        (
            "a message before READY",
            [greeting(), frame(0, b"hello")].concat(),
        ),
        (
            "HELLO instead of READY",
            [greeting(), frame(0x04, b"\x05HELLO\x00\x00")].concat(),
        ),
        (
            "READY with a property longer than the command",
            [
                greeting(),
                frame(0x04, b"\x05READY\x0bSocket-Type\x00\x00\x01\x00REQ"),
            ]
            .concat(),
        ),
        (
            "READY with a name running off the end",
            [greeting(), frame(0x04, b"\x05READY\x30Socket")].concat(),
        ),
        (
            "a command named longer than its frame",
            [greeting(), frame(0x04, b"\x40READY")].concat(),
        ),
        (
            "ERROR instead of READY",
            [greeting(), frame(0x04, b"\x05ERROR\x03bad")].concat(),
        ),
    ];
    for (what, bytes) in &cases {
        bad_client(&server, what, bytes, PROMPTLY);
    }
    server.assert_nothing_else("garbage");
}

/// A client that hangs up in the middle of the greeting or handshake is dropped at once.
#[test]
fn truncated_greetings_then_hang_up() {
    let server = Server::start(REP, |_| {});
    let whole = handshake("REQ");
    for len in [0, 1, 5, 9, 10, 11, 12, 30, 63, 64, 66, whole.len() - 1] {
        let what = format!("the first {len} bytes of the handshake, then end-of-file");
        let mut raw = server.raw(&what);
        raw.send(&whole[..len]);
        raw.stream.hang_up_writing();
        raw.expect_closed(PROMPTLY);
        server.serves(&what);
    }
    // The same, closing the socket outright: nothing to observe but the server's health.
    for len in [1, 10, 64, whole.len() - 1] {
        let mut raw = server.raw("truncated");
        raw.send(&whole[..len]);
        drop(raw);
        server.serves(&format!("after {len} bytes and a close"));
    }
    server.assert_nothing_else("truncated greetings");
}

/// After a good handshake and one good message, a frame announcing 2^63 bytes (or more than
/// any buffer can hold) closes the connection; the good message was delivered.
#[test]
fn frames_announcing_2_pow_63_bytes() {
    let server = Server::start(PULL, |_| {});
    let cases = [
        ("a message of 2^63 bytes", long_header(0, 1 << 63)),
        ("a message part of 2^63 bytes", long_header(1, 1 << 63)),
        ("a message of 2^64 - 1 bytes", long_header(0, u64::MAX)),
        ("a command of 2^63 bytes", long_header(0x04, 1 << 63)),
        ("a message of 2^63 + 5 bytes, with a body", {
            [long_header(0, (1 << 63) + 5), b"12345".to_vec()].concat()
        }),
    ];
    for (what, header) in cases {
        let ok = frame(0, what.as_bytes());
        let bytes = [handshake("PUSH"), ok, header].concat();
        bad_client(&server, what, &bytes, PROMPTLY);
        server.expect_others(&[vec![what.as_bytes().to_vec()]], what);
    }
    server.assert_nothing_else("huge frames");
}

/// A frame announcing far more than it sends (but less than `isize::MAX`, with no
/// MAXMSGSIZE) is not an error, but must not make us allocate what it announces: we keep
/// serving, our memory grows with the bytes received, and we close when the client does.
#[test]
fn a_frame_announcing_a_terabyte() {
    let server = Server::start(PULL, |_| {});
    let before = resident_bytes();
    let mut raw = server.raw("a 1 TiB frame");
    raw.send(&[handshake("PUSH"), long_header(0, 1 << 40)].concat());
    let chunk = noise(3, 64 * 1024);
    for _ in 0..16 {
        raw.send(&chunk);
    }
    server.serves("while 1 MiB of a 1 TiB frame is in");
    raw.expect_open(Duration::from_millis(200));
    let grown = resident_bytes().saturating_sub(before);
    assert!(
        grown < 256 << 20,
        "resident memory grew by {grown} bytes for 1 MiB received"
    );
    raw.stream.hang_up_writing();
    raw.expect_closed(PROMPTLY);
    server.serves("after the client hung up");
    server.assert_nothing_else("a 1 TiB frame");
}

/// The resident set of this process, from /proc.
fn resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// With MAXMSGSIZE 1000, a 1000-byte frame is delivered and a larger one (sent or only
/// announced) closes the connection.
#[test]
fn frames_over_maxmsgsize() {
    let server = Server::start(PULL, |s| s.set_maxmsgsize(1000).unwrap());
    server.good.send(vec![7u8; 1000], 0).unwrap();
    server.expect_others(
        &[vec![vec![7u8; 1000]]],
        "the well-behaved peer's 1000 bytes",
    );
    let cases = [
        ("1001 bytes", frame(0, &[1; 1001])),
        ("a 1001-byte part after a good one", {
            [frame(1, b"first part"), frame(0, &[2; 1001])].concat()
        }),
        (
            "a long header announcing 2^40 bytes",
            long_header(0, 1 << 40),
        ),
        ("a 100,000-byte frame", frame(0, &[3; 100_000])),
    ];
    for (what, bad) in cases {
        let ok = frame(0, &[9; 1000]);
        let bytes = [handshake("PUSH"), ok, bad].concat();
        bad_client(&server, what, &bytes, PROMPTLY);
        server.expect_others(&[vec![vec![9u8; 1000]]], what);
    }
    server.assert_nothing_else("MAXMSGSIZE");
}

/// Clients that stall in the greeting or the handshake, or send nothing at all, are closed
/// after HANDSHAKE_IVL, and the socket serves others meanwhile.
#[test]
fn stalled_handshakes_are_closed_after_handshake_ivl() {
    let server = Server::start(REP, |s| s.set_handshake_ivl(SHORT_IVL).unwrap());
    let whole = handshake("REQ");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("nothing sent", Vec::new()),
        ("1 byte of the signature", whole[..1].to_vec()),
        ("the signature", whole[..10].to_vec()),
        ("the signature and major version", whole[..11].to_vec()),
        ("half the greeting", whole[..40].to_vec()),
        ("the greeting", whole[..64].to_vec()),
        (
            "the greeting and half of READY",
            whole[..whole.len() - 5].to_vec(),
        ),
        // ZMTP 1.0 as far as the signature goes: 'G' announces a 71-byte identity.
        ("a short HTTP request", b"GET / HTTP/1.0\r\n\r\n".to_vec()),
    ];
    let mut raws: Vec<Raw<TcpStream>> = cases
        .iter()
        .map(|(what, bytes)| {
            let mut raw = server.raw(*what);
            raw.send(bytes);
            raw
        })
        .collect();
    server.serves("while clients stall");
    for raw in &mut raws {
        let elapsed = raw.expect_closed(PROMPTLY);
        assert!(
            elapsed >= Duration::from_millis(SHORT_IVL as u64 / 2),
            "{}: closed after {elapsed:?}, before HANDSHAKE_IVL ({SHORT_IVL} ms)",
            raw.what
        );
    }
    server.serves("after the stalled clients were closed");
    server.assert_nothing_else("stalls");
}

/// Many clients that connect and never send anything do not get in the way, and are all
/// closed after HANDSHAKE_IVL.
#[test]
fn silent_clients_are_closed_after_handshake_ivl() {
    let server = Server::start(PULL, |s| s.set_handshake_ivl(SHORT_IVL).unwrap());
    let mut raws: Vec<Raw<TcpStream>> = (0..50)
        .map(|i| server.raw(format!("silent client {i}")))
        .collect();
    for i in 0..5 {
        server.serves(&format!("while 50 clients say nothing ({i})"));
    }
    for raw in &mut raws {
        raw.expect_closed(PROMPTLY);
    }
    server.serves("after the silent clients were closed");
    server.assert_nothing_else("silent clients");
}

/// A peer announcing a socket type a REP does not talk to is refused at once; REQ and
/// DEALER are accepted. Real sockets of an incompatible type, ours and libzmq's, get
/// nothing through.
#[test]
fn incompatible_socket_types_are_refused() {
    let server = Server::start(REP, |_| {});
    for ty in [
        "PUB", "SUB", "XPUB", "XSUB", "PUSH", "PULL", "PAIR", "REP", "ROUTER", "STREAM", "req",
        "FOO", "",
    ] {
        let what = format!("Socket-Type {ty:?}");
        bad_client(&server, &what, &handshake(ty), PROMPTLY);
    }
    bad_client(
        &server,
        "no Socket-Type",
        &[greeting(), ready_with(&[])].concat(),
        PROMPTLY,
    );
    bad_client(
        &server,
        "an Identity but no Socket-Type",
        &[greeting(), ready_with(&[("Identity", b"x")])].concat(),
        PROMPTLY,
    );
    for ty in ["REQ", "DEALER"] {
        let mut raw = server.raw(ty);
        raw.send(&handshake(ty));
        raw.expect_open(Duration::from_millis(300));
        server.serves(&format!("with a {ty} connected"));
    }

    let ctx = zmq::Context::new();
    let push = ctx.socket(PUSH).unwrap();
    push.set_linger(0).unwrap();
    push.connect(&server.endpoint).unwrap();
    // Shaped as requests (empty delimiter, body), so a REP that let them in would show them.
    push.send_multipart(["", "from our PUSH"], zmq::DONTWAIT)
        .unwrap();
    let py = Libzmq::start();
    let their_push = py.socket(PUSH);
    py.connect(&their_push, &server.endpoint);
    py.ok(&format!("sendseq {their_push} 1 from-libzmq-push -"));
    thread::sleep(Duration::from_millis(500));
    server.serves("with incompatible sockets trying to connect");
    server.assert_nothing_else("incompatible socket types");
}

/// The same over ipc: garbage is refused, a stall is closed after HANDSHAKE_IVL.
#[test]
fn bad_clients_over_ipc() {
    let path = std::env::temp_dir().join(format!("zmq-bad-input-{}.ipc", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let server = Server::start_at(REP, &format!("ipc://{}", path.display()), |s| {
        s.set_handshake_ivl(SHORT_IVL).unwrap();
    });
    let mut garbage = Raw::new(UnixStream::connect(&path).unwrap(), "ipc garbage");
    garbage.send(&[0xFF; 200]);
    let mut stall = Raw::new(UnixStream::connect(&path).unwrap(), "ipc stall");
    stall.send(&greeting());
    let mut reset = Raw::new(UnixStream::connect(&path).unwrap(), "ipc 2^63");
    reset.send(&[handshake("REQ"), long_header(0, 1 << 63)].concat());
    server.serves("over ipc, during");
    garbage.expect_closed(PROMPTLY);
    reset.expect_closed(PROMPTLY);
    let elapsed = stall.expect_closed(PROMPTLY);
    assert!(elapsed >= Duration::from_millis(SHORT_IVL as u64 / 2));
    server.serves("over ipc, after");
    server.assert_nothing_else("ipc");
    drop(server);
    let _ = std::fs::remove_file(&path);
}

/// A libzmq REQ keeps getting answers from our REP while bad clients come and go.
#[test]
fn a_libzmq_peer_works_alongside_bad_clients() {
    let server = Server::start(REP, |s| s.set_handshake_ivl(SHORT_IVL).unwrap());
    let py = Libzmq::start();
    let req = py.socket(REQ);
    py.connect(&req, &server.endpoint);
    let line = format!("rtloop {req} 300 libzmq- 1 30000");
    py.request(&line);
    let port = server.port();
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut rounds = 0;
            let mut stalled = Vec::new();
            while !stop.load(Ordering::Relaxed) || rounds == 0 {
                for (what, bytes) in [
                    ("garbage", vec![0xFF; 100]),
                    ("2^63", [handshake("REQ"), long_header(0, 1 << 63)].concat()),
                    ("PUB", handshake("PUB")),
                    // Version 3 (noise there could make a legacy ZMTP 1.0 or 2.0 peer,
                    // which then owes no handshake), then noise for a mechanism.
                    (
                        "noise",
                        [&greeting()[..10], &[3, 1], &noise(rounds as u64, 300)].concat(),
                    ),
                ] {
                    let mut raw = Raw::tcp(port, what);
                    raw.send(&bytes);
                    raw.expect_closed(PROMPTLY);
                }
                let mut truncated = Raw::tcp(port, "truncated");
                truncated.send(&greeting()[..20]);
                drop(truncated);
                if stalled.len() < 20 {
                    stalled.push(Raw::tcp(port, "stalled"));
                }
                rounds += 1;
            }
            for mut raw in stalled {
                raw.expect_closed(PROMPTLY);
            }
            rounds
        })
    };
    for i in 0..20 {
        server.serves(&format!("our REQ among bad clients ({i})"));
    }
    let reply = py.reply(&line);
    py.expect_ok(&line, reply);
    stop.store(true, Ordering::Relaxed);
    let rounds = attacker.join().expect("the bad clients' thread failed");
    assert!(rounds > 0);
    server.serves("after the bad clients");
    // The libzmq REQ's 300 requests are the only other messages.
    let others = server.others();
    assert_eq!(others.len(), 300, "messages besides ours");
    for (i, msg) in others.iter().enumerate() {
        assert_eq!(msg, &[format!("libzmq-{i}").into_bytes()], "request {i}");
    }
}

/// A peer cannot pass off an address of its choosing: the `Peer-Address` the socket saw
/// shadows a `Peer-Address` property in the peer's READY.
#[test]
fn a_peer_cannot_spoof_its_address() {
    let ctx = zmq::Context::new();
    let pull = ctx.socket(PULL).unwrap();
    pull.set_rcvtimeo(GOOD_TIMEOUT_MS).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = pull.get_last_endpoint().unwrap().unwrap();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let spoofing = ready_with(&[("Socket-Type", b"PUSH"), ("Peer-Address", b"203.0.113.7")]);
    raw.write_all(&[greeting(), spoofing, frame(0, b"hello")].concat())
        .unwrap();
    let mut msg = pull.recv_msg(0).unwrap();
    assert_eq!(&msg[..], b"hello");
    assert_eq!(msg.gets("Peer-Address"), Some("127.0.0.1"));
    drop(raw);
}
