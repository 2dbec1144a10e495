//! The libzmq side of the facade's tests: `libzmq_peer.py` run with pyzmq's bundled
//! libzmq, driven over its stdin and stdout, and helpers for the messages exchanged.
//!
//! Each test file includes this module and uses part of it.
#![allow(dead_code)]

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use zmq::SocketType;

/// How long the libzmq peer may take to answer one command.
pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(90);
/// Receive and send timeout of the sockets in the tests, and of the libzmq peer's waits,
/// in ms.
pub(crate) const TIMEOUT_MS: i32 = 10_000;

/// A multipart message, one vector per frame.
pub(crate) type Msg = Vec<Vec<u8>>;

pub(crate) use zmq_testkit::python;

/// A running `libzmq_peer.py`; it exits when dropped (its stdin closes).
pub(crate) struct Libzmq {
    child: Child,
    stdin: RefCell<Option<ChildStdin>>,
    replies: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    next_name: RefCell<usize>,
}

impl Libzmq {
    pub(crate) fn start() -> Self {
        Self::start_script("libzmq_peer.py")
    }

    /// Starts another peer script of this directory that speaks the same protocol (such
    /// as `libzmq_security_peer.py`, which adds commands).
    pub(crate) fn start_script(name: &str) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/peers")
            .join(name);
        let mut child = Command::new(python())
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the libzmq peer");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, replies) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = line.trim_end_matches('\n').to_owned();
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        let stdin = RefCell::new(child.stdin.take());
        Self {
            child,
            stdin,
            replies,
            stderr,
            next_name: RefCell::new(0),
        }
    }

    /// The peer's process id (to stop and continue it with signals).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends one command without waiting for its reply.
    pub(crate) fn request(&self, line: &str) {
        let mut stdin = self.stdin.borrow_mut();
        let stdin = stdin.as_mut().expect("the peer's stdin is open");
        let written = stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush());
        if let Err(e) = written {
            panic!(
                "cannot write `{}` to the libzmq peer ({e}); its stderr:\n{}",
                short(line),
                self.stderr()
            );
        }
    }

    /// The reply to the oldest command not yet answered.
    pub(crate) fn reply(&self, line: &str) -> String {
        match self.replies.recv_timeout(REPLY_TIMEOUT) {
            Ok(reply) => reply,
            Err(e) => panic!(
                "the libzmq peer gave no reply to `{}` ({e}); its stderr:\n{}",
                short(line),
                self.stderr()
            ),
        }
    }

    pub(crate) fn cmd(&self, line: &str) -> String {
        self.request(line);
        self.reply(line)
    }

    /// Runs a command that must succeed; returns what follows `ok`.
    pub(crate) fn ok(&self, line: &str) -> String {
        let reply = self.cmd(line);
        self.expect_ok(line, reply)
    }

    pub(crate) fn expect_ok(&self, line: &str, reply: String) -> String {
        match reply.strip_prefix("ok") {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => rest.trim().to_owned(),
            _ => panic!(
                "libzmq peer: `{}` failed: {}\nits stderr:\n{}",
                short(line),
                short(&reply),
                self.stderr()
            ),
        }
    }

    /// A new libzmq socket; returns its name.
    pub(crate) fn socket(&self, ty: SocketType) -> String {
        let name = {
            let mut next = self.next_name.borrow_mut();
            *next += 1;
            format!("s{next}")
        };
        self.ok(&format!("new {name} {ty:?}"));
        name
    }

    pub(crate) fn set_bytes(&self, name: &str, option: &str, value: &[u8]) {
        self.ok(&format!("opt {name} {option} bytes {}", hex(value)));
    }

    pub(crate) fn bind(&self, name: &str, endpoint: &str) -> String {
        self.ok(&format!("bind {name} {endpoint}"))
    }

    pub(crate) fn connect(&self, name: &str, endpoint: &str) {
        self.ok(&format!("connect {name} {endpoint}"));
    }

    pub(crate) fn close(&self, name: &str) {
        self.ok(&format!("close {name}"));
    }

    pub(crate) fn send(&self, name: &str, msg: &[Vec<u8>]) {
        self.ok(&format!("send {name} {}", hex_msg(msg)));
    }

    /// Sends, retrying while a ROUTER does not know the peer yet.
    pub(crate) fn send_retry(&self, name: &str, msg: &[Vec<u8>]) {
        self.ok(&format!("sendretry {name} {TIMEOUT_MS} {}", hex_msg(msg)));
    }

    pub(crate) fn try_recv(&self, name: &str, ms: i32) -> Option<Msg> {
        let line = format!("recv {name} {ms}");
        let reply = self.cmd(&line);
        if reply == "timeout" {
            return None;
        }
        match reply.strip_prefix("msg") {
            Some(frames) => Some(unhex_msg(frames)),
            None => panic!("libzmq peer: `{line}` failed: {}", short(&reply)),
        }
    }

    pub(crate) fn recv(&self, name: &str) -> Msg {
        self.try_recv(name, TIMEOUT_MS)
            .unwrap_or_else(|| panic!("libzmq's {name} received nothing in {TIMEOUT_MS} ms"))
    }

    pub(crate) fn echo(&self, name: &str, on: bool) {
        self.ok(&format!("echo {name} {}", if on { "on" } else { "off" }));
    }
}

impl Drop for Libzmq {
    fn drop(&mut self) {
        drop(self.stdin.get_mut().take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Frames larger than this cross the pipe to the peer as files, not in hex.
const FILE_FRAME: usize = 64 * 1024;

/// A frame in the peer's line protocol: hex, `-` for an empty frame, or `@PATH` for a
/// large one, written to a file that the reader removes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    if bytes.is_empty() {
        return "-".to_owned();
    }
    if bytes.len() > FILE_FRAME {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("zmq-test-frame-{}-{n}.bin", std::process::id()));
        std::fs::write(&path, bytes).expect("write a large frame for the libzmq peer");
        return format!("@{}", path.display());
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

pub(crate) fn hex_msg(msg: &[Vec<u8>]) -> String {
    msg.iter().map(|f| hex(f)).collect::<Vec<_>>().join(" ")
}

/// Reads frames written by the peer (see [`hex`]).
pub(crate) fn unhex_msg(words: &str) -> Msg {
    let nibble = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("the libzmq peer wrote {c:?} in hex"),
    };
    words
        .split_ascii_whitespace()
        .map(|word| match word {
            "-" => Vec::new(),
            _ if word.starts_with('@') => {
                let path = &word[1..];
                let frame = std::fs::read(path)
                    .unwrap_or_else(|e| panic!("the libzmq peer's frame file {path}: {e}"));
                let _ = std::fs::remove_file(path);
                frame
            }
            _ => word
                .as_bytes()
                .chunks(2)
                .map(|pair| nibble(pair[0]) << 4 | nibble(pair[1]))
                .collect(),
        })
        .collect()
}

/// At most 200 characters of `s`, for failure messages.
pub(crate) fn short(s: &str) -> String {
    if s.len() <= 200 {
        s.to_owned()
    } else {
        format!("{}... ({} bytes)", &s[..200], s.len())
    }
}

/// A message for failure messages: each frame's length and its first bytes.
pub(crate) fn show(msg: &[Vec<u8>]) -> String {
    let frames: Vec<String> = msg
        .iter()
        .map(|f| {
            let head = &f[..f.len().min(24)];
            let more = if f.len() > head.len() { "..." } else { "" };
            format!("{}:{:?}{more}", f.len(), String::from_utf8_lossy(head))
        })
        .collect();
    format!("[{}]", frames.join(", "))
}

pub(crate) fn assert_msg(got: &[Vec<u8>], want: &[Vec<u8>], what: &str) {
    assert!(
        got == want,
        "{what}: received {}, expected {}",
        show(got),
        show(want)
    );
}
