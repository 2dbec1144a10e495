//! A scripted ZMTP peer for the facade's tests: a plain `TcpStream` or `UnixStream` that
//! speaks ZMTP 1.0 (unversioned and versioned), 2.0, 3.0 or 3.1 with the NULL mechanism,
//! byte by byte, so a test sees exactly what our sockets put on the wire.
//!
//! Each test file includes this module and uses part of it.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a raw peer waits for bytes it must get.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// The protocol a raw peer speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wire {
    /// ZMTP 1.0 with no greeting: the identity frame comes first.
    V1Unversioned,
    /// ZMTP 1.0 after a greeting with revision 0.
    V1,
    /// ZMTP 2.0 (RFC 15): revision 1.
    V2,
    /// ZMTP 3.0 (RFC 23): minor version 0.
    V30,
    /// ZMTP 3.1 (RFC 37): minor version 1.
    V31,
}

impl Wire {
    fn has_commands(self) -> bool {
        matches!(self, Self::V30 | Self::V31)
    }
}

/// One frame as read off the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawFrame {
    pub(crate) command: bool,
    pub(crate) more: bool,
    pub(crate) body: Vec<u8>,
}

impl RawFrame {
    /// The command's name and data, if this is a command.
    pub(crate) fn command(&self) -> Option<(&[u8], &[u8])> {
        if !self.command || self.body.is_empty() {
            return None;
        }
        let len = usize::from(self.body[0]);
        (self.body.len() > len).then(|| (&self.body[1..=len], &self.body[1 + len..]))
    }

    /// A PING's TTL and context.
    pub(crate) fn ping(&self) -> Option<(u16, Vec<u8>)> {
        match self.command()? {
            (b"PING", data) if data.len() >= 2 => {
                Some((u16::from_be_bytes([data[0], data[1]]), data[2..].to_vec()))
            }
            _ => None,
        }
    }

    /// A PONG's context.
    pub(crate) fn pong(&self) -> Option<Vec<u8>> {
        match self.command()? {
            (b"PONG", data) => Some(data.to_vec()),
            _ => None,
        }
    }
}

/// The byte stream under a raw peer.
pub(crate) trait Stream: Read + Write + Send {
    fn set_timeout(&self, timeout: Option<Duration>);
}

impl Stream for TcpStream {
    fn set_timeout(&self, timeout: Option<Duration>) {
        self.set_read_timeout(timeout).unwrap();
    }
}

impl Stream for UnixStream {
    fn set_timeout(&self, timeout: Option<Duration>) {
        self.set_read_timeout(timeout).unwrap();
    }
}

/// Where raw peers accept our sockets' connections: a TCP port or an ipc path (removed
/// when dropped).
pub(crate) enum RawListener {
    Tcp(TcpListener),
    Ipc(UnixListener, PathBuf),
}

impl RawListener {
    pub(crate) fn tcp() -> Self {
        Self::Tcp(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    pub(crate) fn ipc() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("zmq-raw-{}-{n}.ipc", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Self::Ipc(UnixListener::bind(&path).unwrap(), path)
    }

    /// The endpoint our sockets connect to.
    pub(crate) fn endpoint(&self) -> String {
        match self {
            Self::Tcp(l) => format!("tcp://{}", l.local_addr().unwrap()),
            Self::Ipc(_, path) => format!("ipc://{}", path.display()),
        }
    }

    /// The next connection, within [`WAIT`].
    pub(crate) fn accept(&self, wire: Wire) -> RawPeer {
        let deadline = Instant::now() + WAIT;
        let stream: Box<dyn Stream> = loop {
            let accepted = match self {
                Self::Tcp(l) => {
                    l.set_nonblocking(true).unwrap();
                    l.accept().map(|(s, _)| {
                        s.set_nonblocking(false).unwrap();
                        s.set_nodelay(true).unwrap();
                        Box::new(s) as Box<dyn Stream>
                    })
                }
                Self::Ipc(l, _) => {
                    l.set_nonblocking(true).unwrap();
                    l.accept().map(|(s, _)| {
                        s.set_nonblocking(false).unwrap();
                        Box::new(s) as Box<dyn Stream>
                    })
                }
            };
            match accepted {
                Ok(s) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no connection came in {WAIT:?}");
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        RawPeer::new(stream, wire)
    }
}

impl Drop for RawListener {
    fn drop(&mut self) {
        if let Self::Ipc(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A scripted peer over one connection.
pub(crate) struct RawPeer {
    stream: Box<dyn Stream>,
    wire: Wire,
    input: Vec<u8>,
}

impl RawPeer {
    pub(crate) fn new(stream: Box<dyn Stream>, wire: Wire) -> Self {
        Self {
            stream,
            wire,
            input: Vec::new(),
        }
    }

    /// Connects to the TCP endpoint `tcp://host:port` of one of our sockets.
    pub(crate) fn connect(endpoint: &str, wire: Wire) -> Self {
        let addr = endpoint
            .strip_prefix("tcp://")
            .unwrap_or_else(|| panic!("not a tcp endpoint: {endpoint}"));
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        Self::new(Box::new(s), wire)
    }

    pub(crate) fn wire(&self) -> Wire {
        self.wire
    }

    pub(crate) fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads until `n` bytes are buffered, or `deadline`; whether they are.
    fn fill(&mut self, n: usize, deadline: Instant) -> bool {
        let mut chunk = [0u8; 4096];
        while self.input.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.stream.set_timeout(Some(left));
            match self.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(k) => self.input.extend_from_slice(&chunk[..k]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return false
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Exactly `n` bytes, within [`WAIT`].
    pub(crate) fn read_exact(&mut self, n: usize) -> Vec<u8> {
        assert!(
            self.fill(n, Instant::now() + WAIT),
            "expected {n} bytes, got {} in {WAIT:?}: {:02x?}",
            self.input.len(),
            self.input
        );
        self.input.drain(..n).collect()
    }

    /// Runs the greeting and the handshake of `self.wire`, announcing `socket_type` (its
    /// name; the byte for ZMTP 1.0 and 2.0 greetings is derived) and `identity`. Checks
    /// what our side sends, and returns our socket type byte (ZMTP 1.0 versioned and 2.0)
    /// or name (ZMTP 3.x) as bytes, and our identity (ZMTP 1.0 and 2.0).
    pub(crate) fn handshake(&mut self, socket_type: &str, identity: &[u8]) -> Vec<u8> {
        match self.wire {
            Wire::V1Unversioned => {
                // Our identity frame, ZMTP 1.0: length (flags included), flags, body.
                let mut frame = vec![identity.len() as u8 + 1, 0];
                frame.extend_from_slice(identity);
                self.send_raw(&frame);
                // Our socket's signature is the long header of its identity frame.
                let sig = self.read_exact(10);
                assert_eq!(sig[0], 0xFF, "our signature: {sig:02x?}");
                assert_eq!(sig[9], 0x7F, "our signature: {sig:02x?}");
                let len = u64::from_be_bytes(sig[1..9].try_into().unwrap()) as usize;
                self.read_exact(len - 1);
                Vec::new()
            }
            Wire::V1 | Wire::V2 => {
                let revision = if self.wire == Wire::V1 { 0 } else { 1 };
                let mut greeting = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, revision];
                greeting.push(type_byte(socket_type));
                self.send_raw(&greeting);
                let ours = self.read_exact(12);
                assert_eq!(ours[0], 0xFF);
                assert_eq!(ours[9] & 1, 1, "our signature is versioned");
                assert_eq!(ours[10], 3, "we announce major version 3");
                // Both then send identity frames in the agreed framing.
                self.send_frame(false, false, identity);
                let id = self.recv_frame().expect("our identity frame");
                assert!(!id.command);
                vec![ours[11]]
            }
            Wire::V30 | Wire::V31 => {
                let minor = if self.wire == Wire::V30 { 0 } else { 1 };
                let mut greeting = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, minor];
                let mut mechanism = [0u8; 20];
                mechanism[..4].copy_from_slice(b"NULL");
                greeting.extend_from_slice(&mechanism);
                greeting.extend_from_slice(&[0; 32]);
                self.send_raw(&greeting);
                let ours = self.read_exact(64);
                assert_eq!(&ours[10..12], &[3, 1], "we announce ZMTP 3.1");
                assert_eq!(&ours[12..16], b"NULL");
                let mut ready = vec![5];
                ready.extend_from_slice(b"READY");
                for (name, value) in [
                    ("Socket-Type", socket_type.as_bytes()),
                    ("Identity", identity),
                ] {
                    ready.push(name.len() as u8);
                    ready.extend_from_slice(name.as_bytes());
                    ready.extend_from_slice(&(value.len() as u32).to_be_bytes());
                    ready.extend_from_slice(value);
                }
                self.send_frame(true, false, &ready);
                let theirs = self.recv_frame().expect("our READY");
                let (name, props) = theirs.command().expect("a command");
                assert_eq!(name, b"READY");
                property(props, "Socket-Type").expect("our Socket-Type")
            }
        }
    }

    /// Sends one frame in this peer's framing (`command` only for ZMTP 3.x).
    pub(crate) fn send_frame(&mut self, command: bool, more: bool, body: &[u8]) {
        let bytes = encode_frame(self.wire, command, more, body);
        self.send_raw(&bytes);
    }

    /// Sends a multipart message.
    pub(crate) fn send_msg(&mut self, frames: &[&[u8]]) {
        let mut bytes = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            bytes.extend(encode_frame(self.wire, false, i + 1 < frames.len(), f));
        }
        self.send_raw(&bytes);
    }

    /// Sends a PING with this TTL (deciseconds) and context.
    pub(crate) fn send_ping(&mut self, ttl: u16, context: &[u8]) {
        let mut body = vec![4];
        body.extend_from_slice(b"PING");
        body.extend_from_slice(&ttl.to_be_bytes());
        body.extend_from_slice(context);
        self.send_frame(true, false, &body);
    }

    /// Sends a PONG with this context.
    pub(crate) fn send_pong(&mut self, context: &[u8]) {
        let mut body = vec![4];
        body.extend_from_slice(b"PONG");
        body.extend_from_slice(context);
        self.send_frame(true, false, &body);
    }

    /// The next frame, within [`WAIT`]; `None` if the connection closed first.
    pub(crate) fn recv_frame(&mut self) -> Option<RawFrame> {
        self.recv_frame_until(Instant::now() + WAIT)
    }

    /// The next frame before `deadline`; `None` if none came (or the connection closed).
    pub(crate) fn recv_frame_until(&mut self, deadline: Instant) -> Option<RawFrame> {
        match self.wire {
            Wire::V1Unversioned | Wire::V1 => {
                if !self.fill(1, deadline) {
                    return None;
                }
                let (len, header) = if self.input[0] == 0xFF {
                    if !self.fill(9, deadline) {
                        return None;
                    }
                    (
                        u64::from_be_bytes(self.input[1..9].try_into().unwrap()) as usize,
                        9,
                    )
                } else {
                    (usize::from(self.input[0]), 1)
                };
                assert!(len >= 1, "a ZMTP 1.0 frame length counts its flags byte");
                if !self.fill(header + len, deadline) {
                    return None;
                }
                let flags = self.input[header];
                let body = self.input[header + 1..header + len].to_vec();
                self.input.drain(..header + len);
                Some(RawFrame {
                    command: false,
                    more: flags & 1 != 0,
                    body,
                })
            }
            Wire::V2 | Wire::V30 | Wire::V31 => {
                if !self.fill(2, deadline) {
                    return None;
                }
                let flags = self.input[0];
                let (len, header) = if flags & 2 != 0 {
                    if !self.fill(9, deadline) {
                        return None;
                    }
                    (
                        u64::from_be_bytes(self.input[1..9].try_into().unwrap()) as usize,
                        9,
                    )
                } else {
                    (usize::from(self.input[1]), 2)
                };
                if !self.fill(header + len, deadline) {
                    return None;
                }
                let body = self.input[header..header + len].to_vec();
                self.input.drain(..header + len);
                Some(RawFrame {
                    // ZMTP 2.0 has no command bit.
                    command: self.wire.has_commands() && flags & 4 != 0,
                    more: flags & 1 != 0,
                    body,
                })
            }
        }
    }

    /// The next message (data frames; commands in between are skipped), within [`WAIT`].
    pub(crate) fn recv_msg(&mut self) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + WAIT;
        let mut msg = Vec::new();
        loop {
            let frame = self
                .recv_frame_until(deadline)
                .unwrap_or_else(|| panic!("no message came in {WAIT:?} (so far {msg:?})"));
            if frame.command {
                continue;
            }
            msg.push(frame.body);
            if !frame.more {
                return msg;
            }
        }
    }

    /// Waits until the connection is closed by our side, within `within`; how long that
    /// took. Whatever arrives meanwhile is dropped.
    pub(crate) fn expect_closed(&mut self, within: Duration) -> Duration {
        let start = Instant::now();
        let deadline = start + within;
        let mut chunk = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the connection is still open after {within:?}"
            );
            self.stream.set_timeout(Some(left));
            match self.stream.read(&mut chunk) {
                Ok(0) => return start.elapsed(),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A reset is a close too.
                Err(_) => return start.elapsed(),
            }
        }
    }
}

/// A frame in `wire`'s framing.
pub(crate) fn encode_frame(wire: Wire, command: bool, more: bool, body: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(body.len() + 10);
    match wire {
        Wire::V1Unversioned | Wire::V1 => {
            let len = body.len() + 1;
            if len < 255 {
                f.push(len as u8);
            } else {
                f.push(0xFF);
                f.extend_from_slice(&(len as u64).to_be_bytes());
            }
            f.push(u8::from(more));
        }
        Wire::V2 | Wire::V30 | Wire::V31 => {
            let mut flags = u8::from(more);
            if command {
                assert!(wire.has_commands(), "ZMTP {wire:?} has no commands");
                flags |= 4;
            }
            if body.len() <= 255 {
                f.push(flags);
                f.push(body.len() as u8);
            } else {
                f.push(flags | 2);
                f.extend_from_slice(&(body.len() as u64).to_be_bytes());
            }
        }
    }
    f.extend_from_slice(body);
    f
}

/// libzmq's numeric socket types, as ZMTP 1.0 and 2.0 greetings carry them.
pub(crate) fn type_byte(name: &str) -> u8 {
    match name {
        "PAIR" => 0,
        "PUB" => 1,
        "SUB" => 2,
        "REQ" => 3,
        "REP" => 4,
        "DEALER" => 5,
        "ROUTER" => 6,
        "PULL" => 7,
        "PUSH" => 8,
        "XPUB" => 9,
        "XSUB" => 10,
        _ => panic!("no ZMTP 2.0 type byte for {name}"),
    }
}

/// The value of property `name` in a READY's property list.
pub(crate) fn property(mut props: &[u8], name: &str) -> Option<Vec<u8>> {
    while !props.is_empty() {
        let n = usize::from(props[0]);
        let key = &props[1..=n];
        let len = u32::from_be_bytes(props[1 + n..5 + n].try_into().unwrap()) as usize;
        let value = &props[5 + n..5 + n + len];
        if key.eq_ignore_ascii_case(name.as_bytes()) {
            return Some(value.to_vec());
        }
        props = &props[5 + n + len..];
    }
    None
}
