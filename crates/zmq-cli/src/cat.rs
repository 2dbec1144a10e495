//! `zmq cat`: a socket on the command line.
//!
//! Sending types send each line of standard input as a message, its frames split on the
//! separator; receiving types print each message as a line, its frames joined by it. A
//! frame that is not printable text is shown as `0x` and hex digits, and such a frame on
//! input is sent as those bytes, so ROUTER routing ids can be read and written.
//!
//! STREAM is a raw TCP (or ipc) server or client instead: bytes in and out as they are,
//! with peers coming and going reported on stderr.

use std::io::{self, BufRead, Write};
use std::os::fd::AsRawFd;
use std::process::ExitCode;

use clap::Args;
use zmq::endpoint::{Direction, Endpoint, EndpointError};

/// Exit status when `--timeout` passes with nothing received.
const TIMED_OUT: u8 = 2;

/// Run a socket: send stdin lines as messages, print received messages as lines.
///
/// PUSH and PUB send; PULL and SUB print (SUB takes --subscribe, everything without it);
/// REQ sends each line and prints the reply; REP answers each
/// request with the next line of stdin (or the request itself with --echo); PAIR, DEALER
/// and ROUTER do both at once.
///
/// STREAM is a raw TCP or ipc server (--bind) or client (--connect), as nc is: what peers
/// send is written to stdout as it comes, stdin goes to every connected peer as it comes,
/// and peers connecting and disconnecting are reported on stderr with their routing ids.
/// --echo sends what a peer sends back to it; --count N exits after N connections ended.
/// A client exits when its server closes the connection.
///
/// Security: CURVE with --curve-server SECRET on one side and --curve-serverkey PUBLIC on
/// the other (`zmq keygen` makes keys); PLAIN with --plain-server on one side and
/// --plain-user/--plain-password on the other. Which side binds does not matter.
///
/// Examples:
///   zmq cat pull --bind 'tcp://*:5555'
///   seq 3 | zmq cat push --connect tcp://localhost:5555
///   zmq cat rep --bind ipc:///tmp/echo --echo
///   echo hello | zmq cat req --connect ipc:///tmp/echo
///   zmq cat sub --connect tcp://localhost:5558 --subscribe weather --subscribe news
///   zmq cat rep --bind 'tcp://*:5556' --echo --curve-server "$SECRET"
///   echo hi | zmq cat req --connect tcp://localhost:5556 --curve-serverkey "$PUBLIC"
///   zmq cat pull --bind 'tcp://*:5557' --plain-server --allow-user alice:wonderland
///   echo hi | zmq cat push --connect tcp://localhost:5557 --plain-user alice --plain-password wonderland
///   zmq cat stream --bind 'tcp://*:7777' --echo
///   printf 'GET / HTTP/1.0\r\n\r\n' | zmq cat stream --connect tcp://example.com:80
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub(crate) struct CatArgs {
    /// Socket type, in any case: PAIR, REQ, REP, DEALER, ROUTER, PUSH, PULL, PUB, SUB or
    /// STREAM.
    #[arg(value_name = "TYPE")]
    socket_type: String,
    /// Bind to an endpoint (repeatable), e.g. tcp://*:5555, ipc:///tmp/x, inproc://x.
    #[arg(long, value_name = "EP")]
    bind: Vec<String>,
    /// Connect to an endpoint (repeatable), e.g. tcp://localhost:5555.
    #[arg(long, value_name = "EP")]
    connect: Vec<String>,
    /// REP: answer each request with the request itself instead of reading stdin.
    /// STREAM: send what each peer sends back to it.
    #[arg(long)]
    echo: bool,
    /// SUB: receive messages starting with this prefix (repeatable; none means every
    /// message). A publisher drops what it sends before a subscriber's subscriptions reach
    /// it, so start subscribers first.
    #[arg(long, value_name = "PREFIX")]
    subscribe: Vec<String>,
    /// Exit after this many messages (received, or sent by PUSH and PUB); for STREAM,
    /// after this many connections ended.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// The text between frames of a message, on input and output.
    #[arg(long, value_name = "S", default_value = "|")]
    separator: String,
    /// Exit with status 2 when nothing arrives for this many milliseconds.
    #[arg(long, value_name = "MS")]
    timeout: Option<i32>,
    /// How long unsent messages may hold the exit (ZMQ_LINGER); by default until they are
    /// sent, as libzmq.
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    linger: Option<i32>,
    /// CURVE server with this secret key (Z85). Its public key, which clients need, is
    /// printed to stderr. Any client that knows it is accepted, unless --allow-key is given.
    #[arg(
        long,
        value_name = "SECRET",
        allow_hyphen_values = true,
        help_heading = "Security"
    )]
    curve_server: Option<String>,
    /// CURVE server: accept only the client with this public key (Z85; repeatable). The
    /// client's key becomes its messages' User-Id.
    #[arg(
        long,
        value_name = "PUBLIC",
        allow_hyphen_values = true,
        requires = "curve_server",
        help_heading = "Security"
    )]
    allow_key: Vec<String>,
    /// CURVE client of the server with this public key (Z85). This socket's own key pair
    /// is generated, unless --curve-secretkey gives it.
    #[arg(
        long,
        value_name = "PUBLIC",
        allow_hyphen_values = true,
        conflicts_with_all = ["curve_server", "plain_server", "plain_user"],
        help_heading = "Security"
    )]
    curve_serverkey: Option<String>,
    /// CURVE client: this socket's public key (Z85); derived from --curve-secretkey when
    /// omitted.
    #[arg(
        long,
        value_name = "PUBLIC",
        allow_hyphen_values = true,
        requires = "curve_secretkey",
        help_heading = "Security"
    )]
    curve_publickey: Option<String>,
    /// CURVE client: this socket's secret key (Z85).
    #[arg(
        long,
        value_name = "SECRET",
        allow_hyphen_values = true,
        requires = "curve_serverkey",
        help_heading = "Security"
    )]
    curve_secretkey: Option<String>,
    /// PLAIN client: the user name (with --plain-password).
    #[arg(
        long,
        value_name = "USER",
        allow_hyphen_values = true,
        requires = "plain_password",
        conflicts_with_all = ["curve_server", "plain_server"],
        help_heading = "Security"
    )]
    plain_user: Option<String>,
    /// PLAIN client: the password.
    #[arg(
        long,
        value_name = "PASSWORD",
        allow_hyphen_values = true,
        requires = "plain_user",
        help_heading = "Security"
    )]
    plain_password: Option<String>,
    /// PLAIN server. It accepts the credentials --allow-user lists; without --allow-user,
    /// any user name and password (PLAIN sends them in clear text; it identifies, it does
    /// not protect: use CURVE for that). The user name becomes the messages' User-Id.
    #[arg(long, conflicts_with = "curve_server", help_heading = "Security")]
    plain_server: bool,
    /// PLAIN server: accept this user name and password, given as USER:PASSWORD
    /// (repeatable).
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        allow_hyphen_values = true,
        requires = "plain_server",
        help_heading = "Security"
    )]
    allow_user: Vec<String>,
}

/// What a socket type does at the command line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Send,
    Receive,
    Request,
    Reply,
    Both,
    /// STREAM: raw bytes.
    Raw,
}

pub(crate) fn run(args: &CatArgs) -> Result<ExitCode, String> {
    let (socket_type, role) = match args.socket_type.to_ascii_uppercase().as_str() {
        "PUSH" => (zmq::PUSH, Role::Send),
        "PULL" => (zmq::PULL, Role::Receive),
        "PUB" => (zmq::PUB, Role::Send),
        "SUB" => (zmq::SUB, Role::Receive),
        "REQ" => (zmq::REQ, Role::Request),
        "REP" => (zmq::REP, Role::Reply),
        "PAIR" => (zmq::PAIR, Role::Both),
        "DEALER" => (zmq::DEALER, Role::Both),
        "ROUTER" => (zmq::ROUTER, Role::Both),
        "STREAM" => (zmq::STREAM, Role::Raw),
        other => {
            return Err(format!(
                "unknown or unsupported socket type {other:?}; use PAIR, REQ, REP, DEALER, ROUTER, PUSH, PULL, PUB, SUB or STREAM"
            ))
        }
    };
    if args.bind.is_empty() && args.connect.is_empty() {
        return Err("give at least one --bind or --connect endpoint".into());
    }
    if args.separator.is_empty() {
        return Err("the separator may not be empty".into());
    }
    let ctx = zmq::Context::new();
    let socket = ctx
        .socket(socket_type)
        .map_err(|e| format!("cannot create a {} socket: {e}", args.socket_type))?;
    secure(&ctx, &socket, args)?;
    if socket_type == zmq::SUB {
        let everything = [String::new()];
        let prefixes = if args.subscribe.is_empty() {
            &everything[..]
        } else {
            &args.subscribe[..]
        };
        for prefix in prefixes {
            socket
                .set_subscribe(prefix.as_bytes())
                .map_err(|e| format!("--subscribe {prefix:?}: {e}"))?;
        }
    } else if !args.subscribe.is_empty() {
        return Err("--subscribe is for SUB sockets".into());
    }
    if let Some(ms) = args.timeout {
        socket
            .set_rcvtimeo(ms)
            .map_err(|e| format!("--timeout {ms}: {e}"))?;
    }
    if let Some(ms) = args.linger {
        socket
            .set_linger(ms)
            .map_err(|e| format!("--linger {ms}: {e}"))?;
    }
    for ep in &args.bind {
        check_endpoint(ep, Direction::Bind).map_err(|e| format!("cannot bind {ep}: {e}"))?;
        socket
            .bind(ep)
            .map_err(|e| format!("cannot bind {ep}: {e}"))?;
    }
    // A STREAM's connects, by routing id: stdin goes to them before they are up.
    let mut connects = Vec::new();
    for ep in &args.connect {
        check_endpoint(ep, Direction::Connect)
            .map_err(|e| format!("cannot connect to {ep}: {e}"))?;
        socket
            .connect(ep)
            .map_err(|e| format!("cannot connect to {ep}: {e}"))?;
        if role == Role::Raw {
            connects.push(socket.get_identity().map_err(|e| e.to_string())?);
        }
    }
    let mut cat = Cat {
        socket: &socket,
        args,
        out: io::stdout().lock(),
        done: 0,
    };
    let outcome = match role {
        Role::Send => cat.send_lines(),
        Role::Receive => cat.receive(),
        Role::Request => cat.request(),
        Role::Reply => cat.reply(),
        Role::Both => cat.both(),
        Role::Raw => cat.raw(connects),
    };
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(Stop::TimedOut) => {
            eprintln!(
                "zmq: nothing arrived within {} ms",
                args.timeout.unwrap_or(0)
            );
            Ok(ExitCode::from(TIMED_OUT))
        }
        Err(Stop::Failed(e)) => Err(e),
    }
}

enum Stop {
    TimedOut,
    Failed(String),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Self::Failed(format!("cannot write to stdout: {e}"))
    }
}

struct Cat<'a> {
    socket: &'a zmq::Socket,
    args: &'a CatArgs,
    out: io::StdoutLock<'static>,
    /// Messages counted toward --count.
    done: u64,
}

impl Cat<'_> {
    fn finished(&self) -> bool {
        self.args.count.is_some_and(|n| self.done >= n)
    }

    fn send_line(&self, line: &str) -> Result<(), Stop> {
        let frames: Vec<Vec<u8>> = line
            .split(self.args.separator.as_str())
            .map(decode_frame)
            .collect();
        self.socket
            .send_multipart(frames, 0)
            .map_err(|e| Stop::Failed(format!("cannot send: {e}")))
    }

    fn receive_one(&mut self) -> Result<Vec<Vec<u8>>, Stop> {
        match self.socket.recv_multipart(0) {
            Ok(frames) => Ok(frames),
            Err(zmq::Error::EAGAIN) => Err(Stop::TimedOut),
            Err(e) => Err(Stop::Failed(format!("cannot receive: {e}"))),
        }
    }

    fn print(&mut self, frames: &[Vec<u8>]) -> Result<(), Stop> {
        let text: Vec<String> = frames.iter().map(|f| encode_frame(f)).collect();
        writeln!(self.out, "{}", text.join(&self.args.separator))?;
        self.out.flush()?;
        Ok(())
    }

    fn send_lines(&mut self) -> Result<(), Stop> {
        for line in io::stdin().lock().lines() {
            let line = line.map_err(|e| Stop::Failed(format!("cannot read stdin: {e}")))?;
            self.send_line(&line)?;
            self.done += 1;
            if self.finished() {
                break;
            }
        }
        Ok(())
    }

    fn receive(&mut self) -> Result<(), Stop> {
        while !self.finished() {
            let frames = self.receive_one()?;
            self.print(&frames)?;
            self.done += 1;
        }
        Ok(())
    }

    fn request(&mut self) -> Result<(), Stop> {
        for line in io::stdin().lock().lines() {
            let line = line.map_err(|e| Stop::Failed(format!("cannot read stdin: {e}")))?;
            self.send_line(&line)?;
            let reply = self.receive_one()?;
            self.print(&reply)?;
            self.done += 1;
            if self.finished() {
                break;
            }
        }
        Ok(())
    }

    fn reply(&mut self) -> Result<(), Stop> {
        let stdin = io::stdin();
        let mut lines = stdin.lock().lines();
        while !self.finished() {
            let request = self.receive_one()?;
            self.print(&request)?;
            if self.args.echo {
                self.socket
                    .send_multipart(request, 0)
                    .map_err(|e| Stop::Failed(format!("cannot send: {e}")))?;
            } else {
                let Some(line) = lines.next() else {
                    return Ok(());
                };
                let line = line.map_err(|e| Stop::Failed(format!("cannot read stdin: {e}")))?;
                self.send_line(&line)?;
            }
            self.done += 1;
        }
        Ok(())
    }

    /// PAIR, DEALER, ROUTER: send lines and print messages as both come.
    fn both(&mut self) -> Result<(), Stop> {
        let stdin = io::stdin();
        let stdin_fd = stdin.as_raw_fd();
        let mut lines = stdin.lock().lines();
        let mut stdin_open = true;
        let timeout = self.args.timeout.map_or(-1, i64::from);
        while !self.finished() {
            let mut items = vec![self.socket.as_poll_item(zmq::POLLIN)];
            if stdin_open {
                items.push(zmq::PollItem::from_fd(stdin_fd, zmq::POLLIN));
            }
            let ready = zmq::poll(&mut items, timeout)
                .map_err(|e| Stop::Failed(format!("cannot poll: {e}")))?;
            if ready == 0 {
                return Err(Stop::TimedOut);
            }
            let socket_ready = items[0].is_readable();
            let stdin_ready = stdin_open && (items[1].is_readable() || items[1].is_error());
            drop(items);
            if socket_ready {
                let frames = self.receive_one()?;
                self.print(&frames)?;
                self.done += 1;
            }
            if stdin_ready {
                match lines.next() {
                    Some(line) => {
                        let line =
                            line.map_err(|e| Stop::Failed(format!("cannot read stdin: {e}")))?;
                        self.send_line(&line)?;
                    }
                    None => stdin_open = false,
                }
            }
        }
        Ok(())
    }
}

impl Cat<'_> {
    /// STREAM: raw bytes between the peers and stdin/stdout.
    fn raw(&mut self, connects: Vec<Vec<u8>>) -> Result<(), Stop> {
        use std::collections::BTreeSet;
        use std::io::Read;
        let failed = |what: &str, e: zmq::Error| Stop::Failed(format!("cannot {what}: {e}"));
        let stdin = io::stdin();
        let stdin_fd = stdin.as_raw_fd();
        let mut stdin = stdin.lock();
        let mut stdin_open = true;
        let mut input = vec![0u8; 64 * 1024];
        // Peers whose connection is up, from the notifications.
        let mut connected: BTreeSet<Vec<u8>> = BTreeSet::new();
        let client = self.args.bind.is_empty();
        let timeout = self.args.timeout.map_or(-1, i64::from);
        while !self.finished() {
            let mut items = vec![self.socket.as_poll_item(zmq::POLLIN)];
            if stdin_open {
                items.push(zmq::PollItem::from_fd(stdin_fd, zmq::POLLIN));
            }
            let ready = zmq::poll(&mut items, timeout).map_err(|e| failed("poll", e))?;
            if ready == 0 {
                return Err(Stop::TimedOut);
            }
            let socket_ready = items[0].is_readable();
            let stdin_ready = stdin_open && (items[1].is_readable() || items[1].is_error());
            drop(items);
            if socket_ready {
                let (id, data) = match self.receive_one()?.as_slice() {
                    [id, data] => (id.clone(), data.clone()),
                    other => {
                        return Err(Stop::Failed(format!(
                            "a STREAM message has 2 frames, not {}",
                            other.len()
                        )))
                    }
                };
                let name = format!("0x{}", crate::to_hex(&id));
                if !data.is_empty() {
                    self.out.write_all(&data)?;
                    self.out.flush()?;
                    if self.args.echo {
                        self.send_raw(&id, &data)?;
                    }
                } else if connected.insert(id.clone()) {
                    eprintln!("zmq: peer {name} connected");
                } else {
                    connected.remove(&id);
                    eprintln!("zmq: peer {name} disconnected");
                    self.done += 1;
                    if client && connected.is_empty() {
                        return Ok(());
                    }
                }
            }
            if stdin_ready {
                let n = stdin
                    .read(&mut input)
                    .map_err(|e| Stop::Failed(format!("cannot read stdin: {e}")))?;
                if n == 0 {
                    stdin_open = false;
                    continue;
                }
                let peers: BTreeSet<&Vec<u8>> = connected.iter().chain(&connects).collect();
                for id in peers {
                    self.send_raw(id, &input[..n])?;
                }
            }
        }
        Ok(())
    }

    /// Sends bytes to a STREAM peer; one that has just gone is skipped.
    fn send_raw(&self, id: &[u8], data: &[u8]) -> Result<(), Stop> {
        match self.socket.send_multipart([id, data], 0) {
            Ok(()) | Err(zmq::Error::EHOSTUNREACH) => Ok(()),
            Err(e) => Err(Stop::Failed(format!("cannot send: {e}"))),
        }
    }
}

/// Reads a Z85 CURVE key given to `flag`.
fn key(flag: &str, text: &str) -> Result<[u8; 32], String> {
    zmq::z85_decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| format!("{flag}: a CURVE key is 40 characters of Z85 (see `zmq keygen`)"))
}

/// Applies the security flags: the socket's mechanism and role, and for servers that
/// restrict their peers, the context's authorizer.
fn secure(ctx: &zmq::Context, socket: &zmq::Socket, args: &CatArgs) -> Result<(), String> {
    let failed = |what: &str, e: zmq::Error| format!("{what}: {e}");
    if let Some(secret) = &args.curve_server {
        let pair = zmq::CurveKeyPair::from_secret_key(&key("--curve-server", secret)?);
        socket
            .set_curve_server(true)
            .and_then(|()| socket.set_curve_secretkey(&pair.secret_key))
            .map_err(|e| failed("--curve-server", e))?;
        let public = zmq::z85_encode(&pair.public_key).map_err(|e| e.to_string())?;
        eprintln!("zmq: CURVE server public key (for --curve-serverkey): {public}");
        if !args.allow_key.is_empty() {
            let allowed = args
                .allow_key
                .iter()
                .map(|k| key("--allow-key", k))
                .collect::<Result<Vec<_>, _>>()?;
            ctx.set_authorizer(move |request| match &request.credentials {
                zmq::Credentials::Curve { public_key } if allowed.contains(public_key) => {
                    zmq::AuthDecision::allow(zmq::z85_encode(public_key).unwrap_or_default())
                }
                _ => zmq::AuthDecision::deny("the client's key is not in --allow-key"),
            })
            .map_err(|e| failed("--allow-key", e))?;
        }
    }
    if let Some(server) = &args.curve_serverkey {
        let server = key("--curve-serverkey", server)?;
        let pair = match &args.curve_secretkey {
            Some(secret) => {
                let mut pair =
                    zmq::CurveKeyPair::from_secret_key(&key("--curve-secretkey", secret)?);
                if let Some(public) = &args.curve_publickey {
                    pair.public_key = key("--curve-publickey", public)?;
                }
                pair
            }
            None => zmq::CurveKeyPair::new().map_err(|e| failed("--curve-serverkey", e))?,
        };
        socket
            .set_curve_serverkey(&server)
            .and_then(|()| socket.set_curve_publickey(&pair.public_key))
            .and_then(|()| socket.set_curve_secretkey(&pair.secret_key))
            .map_err(|e| failed("--curve-serverkey", e))?;
    }
    if let (Some(user), Some(password)) = (&args.plain_user, &args.plain_password) {
        socket
            .set_plain_username(Some(user))
            .and_then(|()| socket.set_plain_password(Some(password)))
            .map_err(|e| failed("--plain-user/--plain-password (1 to 255 bytes each)", e))?;
    }
    if args.plain_server {
        socket
            .set_plain_server(true)
            .map_err(|e| failed("--plain-server", e))?;
        let allowed = args
            .allow_user
            .iter()
            .map(|entry| {
                entry
                    .split_once(':')
                    .map(|(u, p)| (u.as_bytes().to_vec(), p.as_bytes().to_vec()))
                    .ok_or_else(|| format!("--allow-user {entry}: give USER:PASSWORD"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if allowed.is_empty() {
            eprintln!(
                "zmq: --plain-server without --allow-user accepts any user name and password"
            );
        }
        ctx.set_authorizer(move |request| match &request.credentials {
            zmq::Credentials::Plain { username, password }
                if allowed.is_empty()
                    || allowed.iter().any(|(u, p)| u == username && p == password) =>
            {
                zmq::AuthDecision::allow(String::from_utf8_lossy(username))
            }
            _ => zmq::AuthDecision::deny("the credentials are not in --allow-user"),
        })
        .map_err(|e| failed("--plain-server", e))?;
    }
    Ok(())
}

/// Checks an endpoint's syntax, for an error that says exactly what is wrong.
fn check_endpoint(endpoint: &str, direction: Direction) -> Result<(), EndpointError> {
    Endpoint::parse(endpoint, direction).map(|_| ())
}

/// A frame as text: itself if it is printable UTF-8, else `0x` and its hex digits.
fn encode_frame(frame: &[u8]) -> String {
    match std::str::from_utf8(frame) {
        Ok(s) if !s.chars().any(char::is_control) && !s.starts_with("0x") => s.to_owned(),
        _ => format!("0x{}", crate::to_hex(frame)),
    }
}

/// A frame from text: `0x` and hex digits are those bytes; anything else is the text.
fn decode_frame(text: &str) -> Vec<u8> {
    text.strip_prefix("0x")
        .and_then(|hex| crate::parse_hex(hex).ok())
        .unwrap_or_else(|| text.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_as_text() {
        assert_eq!(encode_frame(b"hello"), "hello");
        assert_eq!(encode_frame(b"\x00\x80\x00\x00\x01"), "0x0080000001");
        assert_eq!(encode_frame(b""), "");
        assert_eq!(
            encode_frame(b"0xab"),
            "0x30786162",
            "text that looks like hex is hexed"
        );
        assert_eq!(decode_frame("0x0080000001"), b"\x00\x80\x00\x00\x01");
        assert_eq!(decode_frame("0xzz"), b"0xzz");
        assert_eq!(decode_frame("plain"), b"plain");
        for f in [&b"x"[..], b"\x01\x02", b"0x12", b""] {
            assert_eq!(decode_frame(&encode_frame(f)), f);
        }
    }
}
