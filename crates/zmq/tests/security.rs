//! PLAIN, CURVE and ZAP end to end: through the runtime and the facade, between our own
//! sockets, and against a real libzmq (pyzmq's bundled libzmq 4.3.5).
//!
//! Between our sockets: CURVE over tcp and ipc whichever side binds (the role comes from
//! the options), and not at all over inproc (no handshake there, as in libzmq); PLAIN and
//! CURVE with a ZAP handler socket bound at `inproc://zeromq.zap.01` (REP and ROUTER),
//! allowing with a user id and denying, and with the in-process authorizer; a wrong server
//! key, refused while the client keeps reconnecting; libzmq's `ZAP_DOMAIN` and
//! `ZAP_ENFORCE_DOMAIN` table; `MAXMSGSIZE` under CURVE; the options themselves.
//!
//! Against libzmq (`tests/peers/libzmq_security_peer.py`): CURVE and PLAIN with us as
//! client and as server, ZAP handlers on both sides allowing and denying (the refused side
//! sees libzmq's monitor events, which proves our ERROR reached it), wrong server keys both
//! ways, and NULL with a ZAP domain. Heartbeats and publish-subscribe under CURVE, with
//! libzmq too, are in `heartbeat.rs`.
//!
//! The libzmq tests need a Python with pyzmq (`cargo xtask tools`, or `ZMQ_INTEROP_PYTHON`);
//! without one they fail and say so.

mod common;
mod peers;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{bind_file as bind, endpoint_file as endpoint, socket, Transport};
use peers::{assert_msg, hex, show, unhex_msg, Libzmq, Msg, TIMEOUT_MS};
use zmq::SocketType::{self, DEALER, PULL, PUSH, REP, REQ, ROUTER};
use zmq::{AuthDecision, AuthRequest, Credentials, CurveKeyPair, Mechanism};

/// How long a peer that must be refused is given to get through anyway, in ms. A refusal
/// cannot be seen sooner than this; a wrong acceptance is seen as soon as it happens.
const REFUSED_MS: i32 = 600;

/// libzmq's `ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC`.
const ZMTP_CRYPTOGRAPHIC: u32 = 0x1100_0001;

// ---------------------------------------------------------------------------------------
// Security options (endpoints and sockets: `common`).

fn curve_server(s: &zmq::Socket, keys: &CurveKeyPair) {
    s.set_curve_server(true).unwrap();
    s.set_curve_secretkey(&keys.secret_key).unwrap();
}

/// Makes `s` a CURVE client of the server whose public key is `server`, with a new key
/// pair, which it returns.
fn curve_client(s: &zmq::Socket, server: &[u8; 32]) -> CurveKeyPair {
    let keys = CurveKeyPair::new().unwrap();
    s.set_curve_serverkey(server).unwrap();
    s.set_curve_publickey(&keys.public_key).unwrap();
    s.set_curve_secretkey(&keys.secret_key).unwrap();
    keys
}

fn plain_client(s: &zmq::Socket, user: &str, password: &str) {
    s.set_plain_username(Some(user)).unwrap();
    s.set_plain_password(Some(password)).unwrap();
}

fn frames(parts: &[&[u8]]) -> Msg {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// A REQ sends a request and the REP answers: returns the request as the REP received it
/// (with its properties).
fn request_reply(req: &zmq::Socket, rep: &zmq::Socket, request: &[Vec<u8>]) -> zmq::Message {
    req.send_multipart(request, 0).unwrap();
    let first = rep
        .recv_msg(0)
        .unwrap_or_else(|e| panic!("the server received nothing ({e})"));
    let mut got = vec![first.to_vec()];
    while rep.get_rcvmore().unwrap() {
        got.push(rep.recv_bytes(0).unwrap());
    }
    assert_msg(&got, request, "the request");
    let reply: Msg = request.iter().rev().cloned().collect();
    rep.send_multipart(&reply, 0).unwrap();
    assert_msg(&req.recv_multipart(0).unwrap(), &reply, "the reply");
    first
}

/// Whether a REQ's request gets through to the REP within `REFUSED_MS`; a request that
/// does is answered.
fn gets_through(req: &zmq::Socket, rep: &zmq::Socket) -> bool {
    gets_through_within(req, rep, REFUSED_MS)
}

/// Whether a REQ's request gets through to the REP within `ms`; a request that does is
/// answered. Expected refusals wait `REFUSED_MS`, expected successes `TIMEOUT_MS`, so
/// that neither verdict depends on the machine's speed.
fn gets_through_within(req: &zmq::Socket, rep: &zmq::Socket, ms: i32) -> bool {
    match req.send("knock", zmq::DONTWAIT) {
        Ok(()) => {}
        // The connect was given up after its handshake was rejected (as libzmq): the REQ
        // has no peer left to send to.
        Err(zmq::Error::EAGAIN) => return false,
        Err(e) => panic!("send: {e}"),
    }
    rep.set_rcvtimeo(ms).unwrap();
    let got = rep.recv_bytes(0);
    rep.set_rcvtimeo(TIMEOUT_MS).unwrap();
    match got {
        Ok(body) => {
            assert_eq!(body, b"knock");
            rep.send("come in", 0).unwrap();
            assert_eq!(req.recv_bytes(0).unwrap(), b"come in");
            true
        }
        Err(zmq::Error::EAGAIN) => false,
        Err(e) => panic!("recv: {e}"),
    }
}

/// Waits up to `TIMEOUT_MS` for `cond`; fails with `what` if it never holds.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn big(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

// ---------------------------------------------------------------------------------------
// A ZAP handler socket of ours.

type Decide = dyn Fn(&[Vec<u8>]) -> (&'static str, String) + Send;

/// A REP or ROUTER bound at `inproc://zeromq.zap.01`, answering on a thread of its own
/// with `decide(request) -> (status, user id)`, where the request is ZAP's frames from the
/// version on. It records every request.
struct ZapHandler {
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Msg>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ZapHandler {
    fn start(
        ctx: &zmq::Context,
        ty: SocketType,
        decide: impl Fn(&[Vec<u8>]) -> (&'static str, String) + Send + 'static,
    ) -> Self {
        let decide: Box<Decide> = Box::new(decide);
        let s = ctx.socket(ty).unwrap();
        s.set_linger(0).unwrap();
        s.set_rcvtimeo(20).unwrap();
        s.bind("inproc://zeromq.zap.01").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let stop = Arc::clone(&stop);
            let requests = Arc::clone(&requests);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut got = match s.recv_multipart(0) {
                        Ok(got) => got,
                        Err(zmq::Error::EAGAIN) => continue,
                        Err(e) => panic!("the ZAP handler's recv failed: {e}"),
                    };
                    // A ROUTER sees the routing id and the empty delimiter first; a REP
                    // strips them.
                    let envelope: Msg = if ty == ROUTER {
                        assert!(got.len() > 2 && got[1].is_empty(), "{}", show(&got));
                        got.drain(..2).collect()
                    } else {
                        Vec::new()
                    };
                    requests.lock().unwrap().push(got.clone());
                    let (status, user_id) = decide(&got);
                    let mut reply = envelope;
                    reply.extend(frames(&[
                        &got[0],
                        &got[1],
                        status.as_bytes(),
                        b"status text",
                        user_id.as_bytes(),
                        b"",
                    ]));
                    s.send_multipart(reply, 0).unwrap();
                }
            })
        };
        Self {
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// Allows every request, with user id `user`.
    fn allow_all(ctx: &zmq::Context, user: &'static str) -> Self {
        Self::start(ctx, REP, move |_| ("200", user.to_owned()))
    }

    /// Denies every request with 400.
    fn deny_all(ctx: &zmq::Context) -> Self {
        Self::start(ctx, REP, |_| ("400", String::new()))
    }

    fn requests(&self) -> Vec<Msg> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for ZapHandler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let result = t.join();
            if !thread::panicking() {
                result.unwrap();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// CURVE between our sockets.

#[test]
fn curve_between_our_sockets_whichever_side_binds() {
    for transport in [Transport::Tcp, Transport::Ipc] {
        for server_binds in [true, false] {
            let what = format!("{transport:?}, server binds: {server_binds}");
            let ctx = zmq::Context::new();
            let server_keys = CurveKeyPair::new().unwrap();
            let rep = socket(&ctx, REP);
            curve_server(&rep, &server_keys);
            let req = socket(&ctx, REQ);
            curve_client(&req, &server_keys.public_key);
            assert_eq!(rep.get_mechanism().unwrap(), Mechanism::ZMQ_CURVE);
            assert_eq!(req.get_mechanism().unwrap(), Mechanism::ZMQ_CURVE);
            assert!(rep.is_curve_server().unwrap() && !req.is_curve_server().unwrap());
            let _file = if server_binds {
                let (ep, file) = bind(&rep, transport);
                req.connect(&ep).unwrap();
                file
            } else {
                let (ep, file) = bind(&req, transport);
                rep.connect(&ep).unwrap();
                file
            };
            // Empty frames, a frame of one byte, a 1 MiB frame, both ways.
            let request = frames(&[b"", b"x", b"", &big(1 << 20, 3), b""]);
            let mut received = request_reply(&req, &rep, &request);
            // No ZAP handler: CURVE accepts any client that knows the server's key
            // (Stonehouse), and so no User-Id.
            assert_eq!(received.gets("User-Id"), None, "{what}");
            if transport == Transport::Tcp {
                assert_eq!(received.gets("Peer-Address"), Some("127.0.0.1"), "{what}");
            }
            assert_eq!(received.gets("Socket-Type"), Some("REQ"), "{what}");
            for i in 0..100u8 {
                let body = big(usize::from(i) * 37, i);
                req.send(&body[..], 0).unwrap();
                assert_eq!(rep.recv_bytes(0).unwrap(), body, "{what}");
                rep.send(&body[..], 0).unwrap();
                assert_eq!(req.recv_bytes(0).unwrap(), body, "{what}");
            }
        }
    }
}

#[test]
fn curve_dealer_and_router_keep_routing_ids() {
    let ctx = zmq::Context::new();
    let keys = CurveKeyPair::new().unwrap();
    let router = socket(&ctx, ROUTER);
    curve_server(&router, &keys);
    let (ep, _file) = bind(&router, Transport::Tcp);
    let dealer = socket(&ctx, DEALER);
    dealer.set_identity(b"dealer-1").unwrap();
    curve_client(&dealer, &keys.public_key);
    dealer.connect(&ep).unwrap();
    dealer.send_multipart(["a", "b"], 0).unwrap();
    assert_eq!(
        router.recv_multipart(0).unwrap(),
        frames(&[b"dealer-1", b"a", b"b"])
    );
    router.send_multipart(["dealer-1", "c"], 0).unwrap();
    assert_eq!(dealer.recv_multipart(0).unwrap(), frames(&[b"c"]));
}

#[test]
fn inproc_has_no_handshake_so_no_mechanism_applies_as_in_libzmq() {
    let ctx = zmq::Context::new();
    let keys = CurveKeyPair::new().unwrap();
    let pull = socket(&ctx, PULL);
    curve_server(&pull, &keys);
    pull.bind("inproc://no-handshake").unwrap();
    // A NULL socket talks to the CURVE server, and a CURVE client with a wrong server
    // key too: libzmq ignores mechanisms on inproc.
    let null = socket(&ctx, PUSH);
    null.connect("inproc://no-handshake").unwrap();
    let wrong = socket(&ctx, PUSH);
    curve_client(&wrong, &CurveKeyPair::new().unwrap().public_key);
    wrong.connect("inproc://no-handshake").unwrap();
    null.send("from null", 0).unwrap();
    wrong.send("from wrong", 0).unwrap();
    let mut got = vec![
        pull.recv_string(0).unwrap().unwrap(),
        pull.recv_string(0).unwrap().unwrap(),
    ];
    got.sort();
    assert_eq!(got, ["from null", "from wrong"]);
}

/// A TCP relay in front of `target` that counts the connections it relays.
struct Relay {
    endpoint: String,
    connections: Arc<AtomicUsize>,
}

impl Relay {
    fn start(target: &str) -> Self {
        let target = target.trim_start_matches("tcp://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&connections);
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let pipe = |mut from: TcpStream, mut to: TcpStream| {
                    thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        while let Ok(n @ 1..) = from.read(&mut buf) {
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Write);
                    });
                };
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Self {
            endpoint,
            connections,
        }
    }
}

#[test]
fn a_wrong_server_key_is_refused_and_the_client_keeps_reconnecting() {
    let ctx = zmq::Context::new();
    let keys = CurveKeyPair::new().unwrap();
    let rep = socket(&ctx, REP);
    curve_server(&rep, &keys);
    let (ep, _file) = bind(&rep, Transport::Tcp);
    let relay = Relay::start(&ep);

    let wrong = socket(&ctx, REQ);
    curve_client(&wrong, &CurveKeyPair::new().unwrap().public_key);
    wrong.connect(&relay.endpoint).unwrap();
    wrong.send("let me in", 0).unwrap();
    rep.set_rcvtimeo(1500).unwrap();
    assert_eq!(rep.recv_bytes(0), Err(zmq::Error::EAGAIN));
    // The server closed each attempt; the client reconnected every RECONNECT_IVL (100 ms),
    // as libzmq does.
    let deadline = Instant::now() + Duration::from_secs(10);
    while relay.connections.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        relay.connections.load(Ordering::SeqCst) >= 3,
        "the client reconnected {} times",
        relay.connections.load(Ordering::SeqCst)
    );
    wrong.set_rcvtimeo(0).unwrap();
    assert_eq!(wrong.recv_bytes(0), Err(zmq::Error::EAGAIN));

    // The server is unharmed: a client with the right key gets through, at once.
    rep.set_rcvtimeo(TIMEOUT_MS).unwrap();
    let right = socket(&ctx, REQ);
    curve_client(&right, &keys.public_key);
    right.connect(&ep).unwrap();
    request_reply(&right, &rep, &frames(&[b"right key"]));
}

#[test]
fn mechanism_mismatches_never_connect() {
    let keys = CurveKeyPair::new().unwrap();
    type Setup = fn(&zmq::Socket, &CurveKeyPair);
    let cases: [(&str, Setup, Setup); 4] = [
        (
            "CURVE client, NULL server",
            |_, _| {},
            |c, k| {
                curve_client(c, &k.public_key);
            },
        ),
        (
            "NULL client, CURVE server",
            |s, k| curve_server(s, k),
            |_, _| {},
        ),
        (
            "PLAIN client, CURVE server",
            |s, k| curve_server(s, k),
            |c, _| plain_client(c, "u", "p"),
        ),
        (
            "CURVE client, CURVE server (two clients)",
            |s, _| {
                s.set_curve_serverkey(&CurveKeyPair::new().unwrap().public_key)
                    .unwrap();
            },
            |c, k| {
                curve_client(c, &k.public_key);
            },
        ),
    ];
    for (what, server_setup, client_setup) in cases {
        let ctx = zmq::Context::new();
        let _zap = ZapHandler::allow_all(&ctx, "anyone");
        let rep = socket(&ctx, REP);
        server_setup(&rep, &keys);
        let (ep, _file) = bind(&rep, Transport::Tcp);
        let req = socket(&ctx, REQ);
        client_setup(&req, &keys);
        req.connect(&ep).unwrap();
        assert!(!gets_through(&req, &rep), "{what}: got through");
    }
}

#[test]
fn maxmsgsize_limits_what_a_curve_message_carries() {
    let ctx = zmq::Context::new();
    let keys = CurveKeyPair::new().unwrap();
    let pull = socket(&ctx, PULL);
    curve_server(&pull, &keys);
    pull.set_maxmsgsize(100).unwrap();
    let (ep, _file) = bind(&pull, Transport::Tcp);
    let push = socket(&ctx, PUSH);
    curve_client(&push, &keys.public_key);
    push.connect(&ep).unwrap();
    // 100 bytes of payload travel in a 133-byte MESSAGE: the limit is on the payload.
    push.send(&big(100, 1)[..], 0).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), big(100, 1));
    // 101 bytes break the limit: the connection is closed and the message lost; the
    // client reconnects and what it sends next arrives.
    push.send(&big(101, 2)[..], 0).unwrap();
    thread::sleep(Duration::from_millis(200));
    push.send("after", 0).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"after");
}

// ---------------------------------------------------------------------------------------
// ZAP handler sockets.

#[test]
fn plain_with_a_zap_handler_socket_allowing_and_denying() {
    for handler_type in [REP, ROUTER] {
        let ctx = zmq::Context::new();
        let zap = ZapHandler::start(&ctx, handler_type, |request| {
            // Version, request id, domain, address, identity, mechanism, user, password.
            if request[5] == b"PLAIN" && request[6] == b"admin" && request[7] == b"secret" {
                ("200", "admin-id".to_owned())
            } else {
                ("400", String::new())
            }
        });
        let rep = socket(&ctx, REP);
        rep.set_plain_server(true).unwrap();
        rep.set_zap_domain("global").unwrap();
        rep.set_identity(b"the-server").unwrap();
        let (ep, _file) = bind(&rep, Transport::Tcp);

        let good = socket(&ctx, REQ);
        plain_client(&good, "admin", "secret");
        good.connect(&ep).unwrap();
        let mut received = request_reply(&good, &rep, &frames(&[b"hello"]));
        assert_eq!(
            received.gets("User-Id"),
            Some("admin-id"),
            "{handler_type:?}"
        );
        let requests = zap.requests();
        assert_eq!(requests.len(), 1, "{handler_type:?}");
        assert_msg(
            &requests[0],
            &frames(&[
                b"1.0",
                b"1",
                b"global",
                b"127.0.0.1",
                // libzmq sends the server's own routing id here, not the client's.
                b"the-server",
                b"PLAIN",
                b"admin",
                b"secret",
            ]),
            "the ZAP request",
        );

        let bad = socket(&ctx, REQ);
        plain_client(&bad, "admin", "wrong");
        bad.connect(&ep).unwrap();
        assert!(
            !gets_through(&bad, &rep),
            "{handler_type:?}: wrong password got in"
        );
        eventually("the handler was asked about the wrong password", || {
            zap.requests().len() >= 2
        });
        // The allowed client is unaffected.
        request_reply(&good, &rep, &frames(&[b"still", b"here"]));
    }
}

#[test]
fn curve_with_a_zap_handler_socket_allowing_one_key() {
    let ctx = zmq::Context::new();
    let allowed = CurveKeyPair::new().unwrap();
    let allowed_key = allowed.public_key.to_vec();
    let zap = ZapHandler::start(&ctx, ROUTER, move |request| {
        if request[5] == b"CURVE" && request[6] == allowed_key {
            ("200", "allowed-client".to_owned())
        } else {
            ("400", String::new())
        }
    });
    let keys = CurveKeyPair::new().unwrap();
    let rep = socket(&ctx, REP);
    curve_server(&rep, &keys);
    let (ep, _file) = bind(&rep, Transport::Ipc);

    let good = socket(&ctx, REQ);
    good.set_curve_serverkey(zmq::z85_encode(&keys.public_key).unwrap().as_bytes())
        .unwrap();
    good.set_curve_publickey(&allowed.public_key).unwrap();
    good.set_curve_secretkey(&allowed.secret_key).unwrap();
    good.connect(&ep).unwrap();
    let mut received = request_reply(&good, &rep, &frames(&[b"hello"]));
    assert_eq!(received.gets("User-Id"), Some("allowed-client"));
    let requests = zap.requests();
    assert_eq!(requests[0][2], b"", "no domain");
    assert_eq!(requests[0][3], b"", "no address over ipc");
    assert_eq!(requests[0][6], allowed.public_key);

    let other = socket(&ctx, REQ);
    curve_client(&other, &keys.public_key);
    other.connect(&ep).unwrap();
    assert!(!gets_through(&other, &rep), "an unknown key got in");
}

#[test]
fn a_silent_zap_handler_is_bounded_by_the_handshake_interval() {
    let ctx = zmq::Context::new();
    // Bound, never answering.
    let handler = ctx.socket(REP).unwrap();
    handler.set_linger(0).unwrap();
    handler.bind("inproc://zeromq.zap.01").unwrap();
    let rep = socket(&ctx, REP);
    rep.set_plain_server(true).unwrap();
    rep.set_handshake_ivl(200).unwrap();
    let (ep, _file) = bind(&rep, Transport::Tcp);
    let relay = Relay::start(&ep);
    let req = socket(&ctx, REQ);
    plain_client(&req, "u", "p");
    req.connect(&relay.endpoint).unwrap();
    req.send("x", 0).unwrap();
    // Each handshake ends after 200 ms, and the client connects again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while relay.connections.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(relay.connections.load(Ordering::SeqCst) >= 2);
    rep.set_rcvtimeo(0).unwrap();
    assert_eq!(rep.recv_bytes(0), Err(zmq::Error::EAGAIN));
    drop(handler);
}

// ---------------------------------------------------------------------------------------
// The in-process authorizer.

#[test]
fn the_authorizer_allows_with_a_user_id_and_denies() {
    let ctx = zmq::Context::new();
    let seen: Arc<Mutex<Vec<AuthRequest>>> = Arc::default();
    let curve_allowed = CurveKeyPair::new().unwrap();
    {
        let seen = Arc::clone(&seen);
        let allowed = curve_allowed.public_key;
        ctx.set_authorizer(move |request| {
            seen.lock().unwrap().push(request.clone());
            match &request.credentials {
                Credentials::Plain { username, password }
                    if username == b"alice" && password == b"wonderland" =>
                {
                    AuthDecision::allow("alice")
                }
                Credentials::Curve { public_key } if *public_key == allowed => {
                    AuthDecision::allow("curve-user")
                }
                _ => AuthDecision::deny("not on the list"),
            }
        })
        .unwrap();
    }

    // PLAIN over tcp.
    let plain = socket(&ctx, REP);
    plain.set_plain_server(true).unwrap();
    plain.set_zap_domain("accounts").unwrap();
    let (ep, _file) = bind(&plain, Transport::Tcp);
    let alice = socket(&ctx, REQ);
    plain_client(&alice, "alice", "wonderland");
    alice.connect(&ep).unwrap();
    let mut got = request_reply(&alice, &plain, &frames(&[b"hi"]));
    assert_eq!(got.gets("User-Id"), Some("alice"));
    {
        let seen = seen.lock().unwrap();
        let request = &seen[0];
        assert_eq!(request.mechanism, Mechanism::ZMQ_PLAIN);
        assert_eq!(
            request.credentials,
            Credentials::Plain {
                username: b"alice".to_vec(),
                password: b"wonderland".to_vec()
            }
        );
        assert_eq!(request.address, "127.0.0.1");
        assert_eq!(request.domain, "accounts");
        // Debug never shows the password.
        assert!(!format!("{request:?}").contains("wonderland"));
    }
    let mallory = socket(&ctx, REQ);
    plain_client(&mallory, "mallory", "guess");
    mallory.connect(&ep).unwrap();
    assert!(!gets_through(&mallory, &plain));

    // CURVE over ipc.
    let keys = CurveKeyPair::new().unwrap();
    let curve = socket(&ctx, REP);
    curve_server(&curve, &keys);
    let (ep, _file2) = bind(&curve, Transport::Ipc);
    let client = socket(&ctx, REQ);
    client.set_curve_serverkey(&keys.public_key).unwrap();
    client
        .set_curve_publickey(&curve_allowed.public_key)
        .unwrap();
    client
        .set_curve_secretkey(&curve_allowed.secret_key)
        .unwrap();
    client.connect(&ep).unwrap();
    let mut got = request_reply(&client, &curve, &frames(&[b"hi"]));
    assert_eq!(got.gets("User-Id"), Some("curve-user"));
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.mechanism == Mechanism::ZMQ_CURVE
            && r.credentials
                == Credentials::Curve {
                    public_key: curve_allowed.public_key
                }));
    let stranger = socket(&ctx, REQ);
    curve_client(&stranger, &keys.public_key);
    stranger.connect(&ep).unwrap();
    assert!(!gets_through(&stranger, &curve));
}

#[test]
fn the_authorizer_takes_precedence_over_a_handler_socket_until_removed() {
    let ctx = zmq::Context::new();
    let zap = ZapHandler::deny_all(&ctx);
    ctx.set_authorizer(|_| AuthDecision::allow("via-authorizer"))
        .unwrap();
    let rep = socket(&ctx, REP);
    rep.set_plain_server(true).unwrap();
    let (ep, _file) = bind(&rep, Transport::Tcp);
    let first = socket(&ctx, REQ);
    plain_client(&first, "u", "p");
    first.connect(&ep).unwrap();
    let mut got = request_reply(&first, &rep, &frames(&[b"one"]));
    assert_eq!(got.gets("User-Id"), Some("via-authorizer"));
    assert!(zap.requests().is_empty());

    ctx.remove_authorizer().unwrap();
    let second = socket(&ctx, REQ);
    plain_client(&second, "u", "p");
    second.connect(&ep).unwrap();
    assert!(
        !gets_through(&second, &rep),
        "the denying handler was not asked"
    );
    eventually("the handler socket was asked", || {
        !zap.requests().is_empty()
    });
}

#[test]
fn an_authorizer_that_panics_refuses_the_peer() {
    let ctx = zmq::Context::new();
    let calls = Arc::new(AtomicUsize::new(0));
    {
        let calls = Arc::clone(&calls);
        ctx.set_authorizer(move |request| {
            calls.fetch_add(1, Ordering::SeqCst);
            if let Credentials::Plain { username, .. } = &request.credentials {
                if username == b"boom" {
                    panic!("the authorizer's own bug");
                }
            }
            AuthDecision::allow("fine")
        })
        .unwrap();
    }
    let rep = socket(&ctx, REP);
    rep.set_plain_server(true).unwrap();
    let (ep, _file) = bind(&rep, Transport::Tcp);
    let boom = socket(&ctx, REQ);
    plain_client(&boom, "boom", "x");
    boom.connect(&ep).unwrap();
    assert!(!gets_through(&boom, &rep));
    eventually("the authorizer was called", || {
        calls.load(Ordering::SeqCst) >= 1
    });
    // The authorizer's thread survived: the next client is allowed.
    let fine = socket(&ctx, REQ);
    plain_client(&fine, "ok", "x");
    fine.connect(&ep).unwrap();
    let mut got = request_reply(&fine, &rep, &frames(&[b"after the panic"]));
    assert_eq!(got.gets("User-Id"), Some("fine"));
}

// ---------------------------------------------------------------------------------------
// ZAP_DOMAIN and ZAP_ENFORCE_DOMAIN: libzmq's table (libzmq-notes 1.10).

#[derive(Clone, Copy, Debug)]
enum Mech {
    Null,
    Plain,
    Curve,
}

#[derive(Clone, Copy, Debug)]
enum Handler {
    None,
    Allow,
    Deny,
}

/// Whether a client gets through to a server of `mech` with this ZAP configuration
/// (waiting as long as `expect_through` needs), and how many requests the handler saw.
fn zap_case(
    mech: Mech,
    domain: &str,
    enforce: bool,
    handler: Handler,
    (expect_through, expect_asked): (bool, bool),
) -> (bool, usize) {
    let ctx = zmq::Context::new();
    let zap = match handler {
        Handler::None => None,
        Handler::Allow => Some(ZapHandler::allow_all(&ctx, "someone")),
        Handler::Deny => Some(ZapHandler::deny_all(&ctx)),
    };
    let keys = CurveKeyPair::new().unwrap();
    let rep = socket(&ctx, REP);
    let req = socket(&ctx, REQ);
    match mech {
        Mech::Null => {}
        Mech::Plain => {
            rep.set_plain_server(true).unwrap();
            plain_client(&req, "u", "p");
        }
        Mech::Curve => {
            curve_server(&rep, &keys);
            curve_client(&req, &keys.public_key);
        }
    }
    rep.set_zap_domain(domain).unwrap();
    rep.set_zap_enforce_domain(enforce).unwrap();
    let (ep, _file) = bind(&rep, Transport::Tcp);
    req.connect(&ep).unwrap();
    let wait = if expect_through {
        TIMEOUT_MS
    } else {
        REFUSED_MS
    };
    let through = gets_through_within(&req, &rep, wait);
    let asked = || zap.as_ref().map_or(0, |z| z.requests().len());
    if expect_asked {
        // A refused client's request may still be on its way to the handler.
        let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
        while asked() == 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
    }
    (through, asked())
}

/// Mechanism, domain, enforce, handler.
type ZapCase = (Mech, &'static str, bool, Handler);

#[test]
fn zap_domain_and_enforce_domain_follow_libzmq() {
    use Handler::{Allow, Deny};
    let none = Handler::None;
    // (mechanism, domain, enforce, handler) -> (gets through, handler asked)
    let table: &[(ZapCase, (bool, bool))] = &[
        // NULL asks only with a domain; without a handler it accepts unless enforcing.
        ((Mech::Null, "", false, Deny), (true, false)),
        ((Mech::Null, "", true, Deny), (true, false)),
        ((Mech::Null, "d", false, Allow), (true, true)),
        ((Mech::Null, "d", false, Deny), (false, true)),
        ((Mech::Null, "d", false, none), (true, false)),
        ((Mech::Null, "d", true, none), (false, false)),
        // PLAIN always asks, and refuses everyone without a handler.
        ((Mech::Plain, "", false, Allow), (true, true)),
        ((Mech::Plain, "", false, none), (false, false)),
        ((Mech::Plain, "d", true, none), (false, false)),
        ((Mech::Plain, "d", true, Deny), (false, true)),
        // CURVE: asks whenever a handler exists, unless enforcing without a domain;
        // without a handler it accepts, unless enforcing with a domain.
        ((Mech::Curve, "", false, Deny), (false, true)),
        ((Mech::Curve, "", false, none), (true, false)),
        ((Mech::Curve, "", true, Deny), (true, false)),
        ((Mech::Curve, "d", true, none), (false, false)),
        ((Mech::Curve, "d", true, Allow), (true, true)),
    ];
    let mut failures = Vec::new();
    for &((mech, domain, enforce, handler), (through, asked)) in table {
        let (got_through, got_asked) = zap_case(mech, domain, enforce, handler, (through, asked));
        if (got_through, got_asked > 0) != (through, asked) {
            failures.push(format!(
                "{mech:?} domain {domain:?} enforce {enforce} handler {handler:?}: got through \
                 {got_through} (expected {through}), handler asked {got_asked} times (expected \
                 {})",
                if asked { "some" } else { "none" }
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_plain_server_enforcing_an_empty_domain_is_refused_at_bind() {
    // libzmq asserts (aborts) in this configuration; we refuse it up front.
    let ctx = zmq::Context::new();
    let rep = socket(&ctx, REP);
    rep.set_plain_server(true).unwrap();
    rep.set_zap_enforce_domain(true).unwrap();
    assert_eq!(rep.bind("tcp://127.0.0.1:*"), Err(zmq::Error::EINVAL));
    assert_eq!(rep.connect("tcp://127.0.0.1:9"), Err(zmq::Error::EINVAL));
    rep.set_zap_domain("d").unwrap();
    rep.bind("tcp://127.0.0.1:*").unwrap();
}

// ---------------------------------------------------------------------------------------
// Options, keys and capabilities.

#[test]
fn security_options_follow_zmq_setsockopt() {
    let ctx = zmq::Context::new();
    let s = ctx.socket(DEALER).unwrap();
    assert_eq!(s.get_mechanism().unwrap(), Mechanism::ZMQ_NULL);
    assert!(!s.is_plain_server().unwrap() && !s.is_curve_server().unwrap());
    assert_eq!(s.get_curve_publickey().unwrap(), vec![0; 32]);
    assert_eq!(s.get_plain_username().unwrap(), Ok(String::new()));
    assert_eq!(s.get_zap_domain().unwrap(), Ok(String::new()));
    assert!(!s.is_zap_enforce_domain().unwrap());

    // PLAIN: the server flag, or credentials for a client.
    s.set_plain_server(true).unwrap();
    assert!(s.is_plain_server().unwrap());
    assert_eq!(s.get_mechanism().unwrap(), Mechanism::ZMQ_PLAIN);
    s.set_plain_username(Some("user")).unwrap();
    assert!(!s.is_plain_server().unwrap(), "a user name makes a client");
    assert_eq!(s.get_mechanism().unwrap(), Mechanism::ZMQ_PLAIN);
    s.set_plain_password(Some("pass")).unwrap();
    assert_eq!(s.get_plain_username().unwrap(), Ok("user".to_owned()));
    assert_eq!(s.get_plain_password().unwrap(), Ok("pass".to_owned()));
    assert_eq!(s.set_plain_username(Some("")), Err(zmq::Error::EINVAL));
    assert_eq!(
        s.set_plain_password(Some(&"x".repeat(256))),
        Err(zmq::Error::EINVAL)
    );
    s.set_plain_username(None).unwrap();
    assert_eq!(s.get_mechanism().unwrap(), Mechanism::ZMQ_NULL);
    s.set_plain_server(true).unwrap();
    s.set_plain_server(false).unwrap();
    assert_eq!(s.get_mechanism().unwrap(), Mechanism::ZMQ_NULL);

    // CURVE keys: 32 bytes, or 40 characters of Z85, or 41 with a NUL.
    let keys = CurveKeyPair::new().unwrap();
    let z85 = zmq::z85_encode(&keys.public_key).unwrap();
    s.set_curve_serverkey(z85.as_bytes()).unwrap();
    assert_eq!(s.get_curve_serverkey().unwrap(), keys.public_key);
    assert_eq!(s.get_mechanism().unwrap(), Mechanism::ZMQ_CURVE);
    assert!(!s.is_curve_server().unwrap());
    let mut nul = z85.clone().into_bytes();
    nul.push(0);
    s.set_curve_publickey(&nul).unwrap();
    assert_eq!(s.get_curve_publickey().unwrap(), keys.public_key);
    s.set_curve_secretkey(&keys.secret_key).unwrap();
    assert_eq!(s.get_curve_secretkey().unwrap(), keys.secret_key);
    for bad in [&b""[..], &[0; 31], &[0; 33], &[b' '; 40], &[b'a'; 39]] {
        assert_eq!(
            s.set_curve_publickey(bad),
            Err(zmq::Error::EINVAL),
            "{bad:?}"
        );
        assert_eq!(
            s.set_curve_secretkey(bad),
            Err(zmq::Error::EINVAL),
            "{bad:?}"
        );
        assert_eq!(
            s.set_curve_serverkey(bad),
            Err(zmq::Error::EINVAL),
            "{bad:?}"
        );
    }
    s.set_curve_server(true).unwrap();
    assert!(s.is_curve_server().unwrap());
    assert!(!s.is_plain_server().unwrap());
    s.set_curve_serverkey(&keys.public_key).unwrap();
    assert!(!s.is_curve_server().unwrap(), "a server key makes a client");
    s.set_curve_server(false).unwrap();
    assert_eq!(s.get_mechanism().unwrap(), Mechanism::ZMQ_NULL);

    s.set_zap_domain("domain").unwrap();
    assert_eq!(s.get_zap_domain().unwrap(), Ok("domain".to_owned()));
    assert_eq!(s.set_zap_domain(&"d".repeat(256)), Err(zmq::Error::EINVAL));
    s.set_zap_enforce_domain(true).unwrap();
    assert!(s.is_zap_enforce_domain().unwrap());
}

#[test]
fn socket_options_carry_security_in_files_without_showing_secrets() {
    let keys = CurveKeyPair::new().unwrap();
    let secret = zmq::z85_encode(&keys.secret_key).unwrap();
    let json = format!(
        r#"{{ "mechanism": "CURVE", "as_server": true, "curve_secretkey": "{secret}",
             "zap_domain": "global", "zap_enforce_domain": true }}"#
    );
    let options: zmq::SocketOptions = serde_json::from_str(&json).unwrap();
    assert_eq!(options.mechanism, Mechanism::ZMQ_CURVE);
    assert_eq!(options.curve_secretkey, keys.secret_key);
    let debug = format!("{options:?}");
    assert!(!debug.contains(&secret), "{debug}");
    assert!(debug.contains("curve_secretkey"), "{debug}");

    let ctx = zmq::Context::new();
    let s = ctx.socket(REP).unwrap();
    s.set_options(&options).unwrap();
    assert!(s.is_curve_server().unwrap());
    assert_eq!(s.get_curve_secretkey().unwrap(), keys.secret_key);
    // Round trip through a file.
    let text = serde_json::to_string(&s.get_options().unwrap()).unwrap();
    assert!(
        text.contains(&secret) && text.contains("\"CURVE\""),
        "{text}"
    );
    let back: zmq::SocketOptions = serde_json::from_str(&text).unwrap();
    assert_eq!(back, options);

    let mut plain = zmq::SocketOptions::default();
    plain.mechanism = Mechanism::ZMQ_PLAIN;
    plain.plain_username = "user".into();
    plain.plain_password = "hunter2".into();
    assert!(!format!("{plain:?}").contains("hunter2"));
    assert!(
        serde_json::from_str::<zmq::SocketOptions>(r#"{ "curve_serverkey": "short" }"#).is_err()
    );
    let mut gssapi = zmq::SocketOptions::default();
    gssapi.mechanism = Mechanism::ZMQ_GSSAPI;
    assert_eq!(s.set_options(&gssapi), Err(zmq::Error::EINVAL));
}

#[test]
fn keys_and_capabilities() {
    assert_eq!(zmq::has("curve"), Some(true));
    let pair = CurveKeyPair::new().unwrap();
    assert_eq!(
        CurveKeyPair::from_secret_key(&pair.secret_key).public_key,
        pair.public_key
    );
    let (public, secret) = zmq::curve_keypair().unwrap();
    assert_eq!(zmq::curve_public(&secret).unwrap(), public);
    assert_eq!(zmq::z85_decode(&public).unwrap().len(), 32);
    assert!(!format!("{pair:?}").contains(&zmq::z85_encode(&pair.secret_key).unwrap()));
}

// ---------------------------------------------------------------------------------------
// Against libzmq.

fn libzmq() -> Libzmq {
    Libzmq::start_script("libzmq_security_peer.py")
}

/// A libzmq socket with these options set (`NAME int N` or `NAME bytes HEX` pairs).
fn libzmq_socket(py: &Libzmq, ty: SocketType, options: &[(&str, Opt<'_>)]) -> String {
    let name = py.socket(ty);
    for (option, value) in options {
        match value {
            Opt::Int(n) => py.ok(&format!("opt {name} {option} int {n}")),
            Opt::Bytes(b) => py.ok(&format!("opt {name} {option} bytes {}", hex(b))),
        };
    }
    name
}

enum Opt<'a> {
    Int(i32),
    Bytes(&'a [u8]),
}

/// The next message a libzmq socket receives, with its property `prop`.
fn libzmq_recv_with(py: &Libzmq, name: &str, prop: &str) -> (Msg, Option<String>) {
    let line = format!("recvmeta {name} {TIMEOUT_MS} {prop}");
    let reply = py.cmd(&line);
    let rest = reply
        .strip_prefix("msg ")
        .unwrap_or_else(|| panic!("libzmq: `{line}`: {reply}\n{}", py.stderr()));
    let (value, frames) = rest.split_once(' ').unwrap_or((rest, ""));
    let value = (value != "-")
        .then(|| String::from_utf8(unhex_msg(value).remove(0)).expect("a text property"));
    (unhex_msg(frames), value)
}

/// Waits for a monitor event of a libzmq socket; its value.
fn libzmq_event(py: &Libzmq, name: &str, event: &str) -> Option<u32> {
    let reply = py.cmd(&format!("waitevent {name} {event} {TIMEOUT_MS}"));
    if reply == "timeout" {
        return None;
    }
    let value = py.expect_ok("waitevent", reply);
    Some(value.parse().expect("an event value"))
}

/// Whether our REQ's request reaches libzmq's REP within `REFUSED_MS` (and is answered).
/// A refused handshake may end the connect's session before the request is sent (as in
/// libzmq, an ERROR from the server ends it): then the request cannot be queued at all.
fn gets_through_to_libzmq(req: &zmq::Socket, py: &Libzmq, rep: &str) -> bool {
    match req.send("knock", zmq::DONTWAIT) {
        Ok(()) => {}
        Err(zmq::Error::EAGAIN) => return false,
        Err(e) => panic!("our REQ's request: {e}"),
    }
    match py.try_recv(rep, REFUSED_MS) {
        Some(msg) => {
            assert_msg(&msg, &frames(&[b"knock"]), "the request");
            py.send(rep, &frames(&[b"come in"]));
            assert_eq!(req.recv_bytes(0).unwrap(), b"come in");
            true
        }
        None => false,
    }
}

#[test]
fn libzmq_curve_server_and_our_clients() {
    for transport in [Transport::Tcp, Transport::Ipc] {
        let py = libzmq();
        let server = CurveKeyPair::new().unwrap();
        let ctx = zmq::Context::new();
        let req = socket(&ctx, REQ);
        let ours = curve_client(&req, &server.public_key);
        py.ok(&format!("zap curve {} our-client", hex(&ours.public_key)));
        let rep = libzmq_socket(
            &py,
            REP,
            &[
                ("CURVE_SERVER", Opt::Int(1)),
                ("CURVE_SECRETKEY", Opt::Bytes(&server.secret_key)),
            ],
        );
        py.ok(&format!("monitor {rep}"));
        let (ep, _file) = endpoint(transport);
        let ep = py.bind(&rep, &ep);
        req.connect(&ep).unwrap();
        let request = frames(&[b"", b"hello", &big(300_000, 9)]);
        req.send_multipart(&request, 0).unwrap();
        let (got, user) = libzmq_recv_with(&py, &rep, "User-Id");
        assert_msg(&got, &request, "libzmq's CURVE server received");
        assert_eq!(user.as_deref(), Some("our-client"), "{transport:?}");
        let reply = frames(&[b"from", b"libzmq", &big(70_000, 1)]);
        py.send(&rep, &reply);
        assert_msg(
            &req.recv_multipart(0).unwrap(),
            &reply,
            "our CURVE client received",
        );
        assert!(libzmq_event(&py, &rep, "HANDSHAKE_SUCCEEDED").is_some());

        // Another client of ours, whose key the handler does not know: refused with 400.
        let stranger = socket(&ctx, REQ);
        curve_client(&stranger, &server.public_key);
        stranger.connect(&ep).unwrap();
        assert!(!gets_through_to_libzmq(&stranger, &py, &rep));
        assert_eq!(
            libzmq_event(&py, &rep, "HANDSHAKE_FAILED_AUTH"),
            Some(400),
            "{transport:?}"
        );
    }
}

#[test]
fn our_curve_server_and_libzmq_clients() {
    for transport in [Transport::Tcp, Transport::Ipc] {
        let py = libzmq();
        let ctx = zmq::Context::new();
        let server = CurveKeyPair::new().unwrap();
        let known = CurveKeyPair::new().unwrap();
        let known_key = known.public_key.to_vec();
        let _zap = ZapHandler::start(&ctx, REP, move |request| {
            if request[5] == b"CURVE" && request[6] == known_key {
                ("200", "libzmq-client".to_owned())
            } else {
                ("400", String::new())
            }
        });
        let rep = socket(&ctx, REP);
        curve_server(&rep, &server);
        let (ep, _file) = bind(&rep, transport);

        let client = libzmq_socket(
            &py,
            REQ,
            &[
                ("CURVE_SERVERKEY", Opt::Bytes(&server.public_key)),
                ("CURVE_PUBLICKEY", Opt::Bytes(&known.public_key)),
                ("CURVE_SECRETKEY", Opt::Bytes(&known.secret_key)),
            ],
        );
        py.connect(&client, &ep);
        let request = frames(&[b"hello", b"", &big(200_000, 5)]);
        py.send(&client, &request);
        let mut first = rep.recv_msg(0).unwrap();
        assert_eq!(
            first.gets("User-Id"),
            Some("libzmq-client"),
            "{transport:?}"
        );
        let mut got = vec![first.to_vec()];
        while rep.get_rcvmore().unwrap() {
            got.push(rep.recv_bytes(0).unwrap());
        }
        assert_msg(&got, &request, "our CURVE server received");
        let reply = frames(&[b"reply", &big(100_000, 2)]);
        rep.send_multipart(&reply, 0).unwrap();
        assert_msg(&py.recv(&client), &reply, "libzmq's CURVE client received");

        // A libzmq client the handler does not know gets our ERROR 400.
        let stranger = CurveKeyPair::new().unwrap();
        let refused = libzmq_socket(
            &py,
            REQ,
            &[
                ("CURVE_SERVERKEY", Opt::Bytes(&server.public_key)),
                ("CURVE_PUBLICKEY", Opt::Bytes(&stranger.public_key)),
                ("CURVE_SECRETKEY", Opt::Bytes(&stranger.secret_key)),
            ],
        );
        py.ok(&format!("monitor {refused}"));
        py.connect(&refused, &ep);
        // In the background: libzmq drops a client's pipe when the server refuses it, and
        // a blocking send could then wait for a pipe that never comes.
        py.ok(&format!("sendseq {refused} 1 let-me-in"));
        assert_eq!(
            libzmq_event(&py, &refused, "HANDSHAKE_FAILED_AUTH"),
            Some(400),
            "{transport:?}: libzmq's client did not see our ERROR 400"
        );
        rep.set_rcvtimeo(REFUSED_MS).unwrap();
        assert_eq!(rep.recv_bytes(0), Err(zmq::Error::EAGAIN));
    }
}

#[test]
fn plain_both_ways_with_libzmq() {
    // libzmq's PLAIN server with its ZAP handler; our clients.
    let py = libzmq();
    py.ok("zap plain admin secret admin-id");
    let rep = libzmq_socket(&py, REP, &[("PLAIN_SERVER", Opt::Int(1))]);
    py.ok(&format!("monitor {rep}"));
    let ep = py.bind(&rep, "tcp://127.0.0.1:*");
    let ctx = zmq::Context::new();
    let req = socket(&ctx, REQ);
    plain_client(&req, "admin", "secret");
    req.connect(&ep).unwrap();
    req.send("hello", 0).unwrap();
    let (got, user) = libzmq_recv_with(&py, &rep, "User-Id");
    assert_msg(&got, &frames(&[b"hello"]), "libzmq's PLAIN server received");
    assert_eq!(user.as_deref(), Some("admin-id"));
    py.send(&rep, &frames(&[b"hi admin"]));
    assert_eq!(req.recv_bytes(0).unwrap(), b"hi admin");
    let wrong = socket(&ctx, REQ);
    plain_client(&wrong, "admin", "guess");
    wrong.connect(&ep).unwrap();
    assert!(!gets_through_to_libzmq(&wrong, &py, &rep));
    assert_eq!(libzmq_event(&py, &rep, "HANDSHAKE_FAILED_AUTH"), Some(400));

    // Our PLAIN server with the in-process authorizer; libzmq's clients.
    ctx.set_authorizer(|request| match &request.credentials {
        Credentials::Plain { username, password } if username == b"bob" && password == b"pw" => {
            AuthDecision::allow("bob-id")
        }
        _ => AuthDecision::deny("wrong credentials"),
    })
    .unwrap();
    let server = socket(&ctx, REP);
    server.set_plain_server(true).unwrap();
    let (ep, _file) = bind(&server, Transport::Ipc);
    let bob = libzmq_socket(
        &py,
        REQ,
        &[
            ("PLAIN_USERNAME", Opt::Bytes(b"bob")),
            ("PLAIN_PASSWORD", Opt::Bytes(b"pw")),
        ],
    );
    py.connect(&bob, &ep);
    py.send(&bob, &frames(&[b"hi", b"there"]));
    let mut first = server.recv_msg(0).unwrap();
    assert_eq!(first.gets("User-Id"), Some("bob-id"));
    assert_eq!(&first[..], b"hi");
    assert_eq!(server.recv_bytes(0).unwrap(), b"there");
    server.send("hello bob", 0).unwrap();
    assert_msg(
        &py.recv(&bob),
        &frames(&[b"hello bob"]),
        "libzmq's PLAIN client",
    );
    let eve = libzmq_socket(
        &py,
        REQ,
        &[
            ("PLAIN_USERNAME", Opt::Bytes(b"eve")),
            ("PLAIN_PASSWORD", Opt::Bytes(b"pw")),
        ],
    );
    py.ok(&format!("monitor {eve}"));
    py.connect(&eve, &ep);
    // In the background: libzmq drops a client's pipe when the server refuses it, and
    // a blocking send could then wait for a pipe that never comes.
    py.ok(&format!("sendseq {eve} 1 let-me-in"));
    assert_eq!(libzmq_event(&py, &eve, "HANDSHAKE_FAILED_AUTH"), Some(400));
}

#[test]
fn wrong_server_keys_are_refused_both_ways_with_libzmq() {
    let py = libzmq();
    let ctx = zmq::Context::new();

    // Our client, libzmq's server: libzmq cannot open our HELLO, each time we reconnect.
    let server = CurveKeyPair::new().unwrap();
    let rep = libzmq_socket(
        &py,
        REP,
        &[
            ("CURVE_SERVER", Opt::Int(1)),
            ("CURVE_SECRETKEY", Opt::Bytes(&server.secret_key)),
        ],
    );
    py.ok(&format!("monitor {rep}"));
    let ep = py.bind(&rep, "tcp://127.0.0.1:*");
    let req = socket(&ctx, REQ);
    curve_client(&req, &CurveKeyPair::new().unwrap().public_key);
    req.connect(&ep).unwrap();
    req.send("x", 0).unwrap();
    for attempt in 0..2 {
        assert_eq!(
            libzmq_event(&py, &rep, "HANDSHAKE_FAILED_PROTOCOL"),
            Some(ZMTP_CRYPTOGRAPHIC),
            "attempt {attempt}"
        );
    }
    assert_eq!(py.try_recv(&rep, 0), None);

    // libzmq's client, our server: we cannot open its HELLO and close, each time.
    let ours = CurveKeyPair::new().unwrap();
    let server_socket = socket(&ctx, PULL);
    curve_server(&server_socket, &ours);
    let (ep, _file) = bind(&server_socket, Transport::Tcp);
    let wrong = CurveKeyPair::new().unwrap();
    let push = libzmq_socket(
        &py,
        PUSH,
        &[
            (
                "CURVE_SERVERKEY",
                Opt::Bytes(&CurveKeyPair::new().unwrap().public_key),
            ),
            ("CURVE_PUBLICKEY", Opt::Bytes(&wrong.public_key)),
            ("CURVE_SECRETKEY", Opt::Bytes(&wrong.secret_key)),
        ],
    );
    py.ok(&format!("monitor {push}"));
    py.connect(&push, &ep);
    py.send(&push, &frames(&[b"never"]));
    for attempt in 0..2 {
        assert!(
            libzmq_event(&py, &push, "HANDSHAKE_FAILED_NO_DETAIL").is_some(),
            "attempt {attempt}: {}",
            py.cmd(&format!("events {push}"))
        );
    }
    server_socket.set_rcvtimeo(0).unwrap();
    assert_eq!(server_socket.recv_bytes(0), Err(zmq::Error::EAGAIN));
    let events = py.cmd(&format!("events {push}"));
    assert!(!events.contains("HANDSHAKE_SUCCEEDED"), "{events}");
}

#[test]
fn null_with_a_zap_domain_both_ways_with_libzmq() {
    let py = libzmq();
    let ctx = zmq::Context::new();

    // libzmq's NULL server with a domain asks its handler, which denies: our client is
    // refused; with "allow" it would get a User-Id.
    py.ok("zap deny");
    let rep = libzmq_socket(&py, REP, &[("ZAP_DOMAIN", Opt::Bytes(b"global"))]);
    py.ok(&format!("monitor {rep}"));
    let ep = py.bind(&rep, "tcp://127.0.0.1:*");
    let req = socket(&ctx, REQ);
    req.connect(&ep).unwrap();
    assert!(!gets_through_to_libzmq(&req, &py, &rep));
    assert_eq!(libzmq_event(&py, &rep, "HANDSHAKE_FAILED_AUTH"), Some(400));
    let last = py.cmd("zaplast");
    let request = unhex_msg(last.strip_prefix("msg ").expect("a ZAP request"));
    assert_eq!(request[2], b"global");
    assert_eq!(request[5], b"NULL");

    // Our NULL server with a domain asks our handler: libzmq's client is allowed, and
    // its messages carry the user id.
    let _zap = ZapHandler::start(&ctx, ROUTER, |request| {
        if request[2] == b"global" && request[5] == b"NULL" {
            ("200", "null-user".to_owned())
        } else {
            ("500", String::new())
        }
    });
    let pull = socket(&ctx, PULL);
    pull.set_zap_domain("global").unwrap();
    let (ep, _file) = bind(&pull, Transport::Tcp);
    let push = libzmq_socket(&py, PUSH, &[]);
    py.connect(&push, &ep);
    py.send(&push, &frames(&[b"null but known"]));
    let mut got = pull.recv_msg(0).unwrap();
    assert_eq!(&got[..], b"null but known");
    assert_eq!(got.gets("User-Id"), Some("null-user"));
}
