//! STREAM sockets end to end: plain TCP (and Unix) clients and servers talking to ours,
//! after libzmq's `test_stream*.cpp` and `test_connect_rid.cpp`, and against a real libzmq
//! (pyzmq's bundled libzmq 4.3.5): its STREAM both ways, and its DEALER spoken to in raw
//! ZMTP bytes by our STREAM, as `test_stream.cpp` does.
//!
//! Every blocking call has a timeout and every wait a deadline, so a bug fails a test
//! instead of hanging it; nothing depends on how reads happen to be split into chunks.

mod peers;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use peers::{assert_msg, Libzmq};
use zmq::{Context, Error, Socket, SNDMORE};

/// The most a blocking call of a test may take.
const TIMEOUT_MS: i32 = 10_000;
const TIMEOUT: Duration = Duration::from_millis(TIMEOUT_MS as u64);

fn stream(ctx: &Context) -> Socket {
    let s = ctx.socket(zmq::STREAM).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s.set_linger(1000).unwrap();
    s
}

/// A STREAM bound to a loopback port, and the port.
fn server(ctx: &Context) -> (Socket, u16) {
    let s = stream(ctx);
    s.bind("tcp://127.0.0.1:*").unwrap();
    let port = port_of(&s);
    (s, port)
}

fn port_of(s: &Socket) -> u16 {
    let ep = s.get_last_endpoint().unwrap().unwrap();
    ep.rsplit(':').next().unwrap().parse().unwrap()
}

fn client(port: u16) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c.set_write_timeout(Some(TIMEOUT)).unwrap();
    c
}

/// One message, which must be `[routing id, data]`.
fn recv(s: &Socket) -> (Vec<u8>, Vec<u8>) {
    let m = s
        .recv_multipart(0)
        .unwrap_or_else(|e| panic!("STREAM received nothing: {e}"));
    assert_eq!(m.len(), 2, "a STREAM message is [id, data]: {m:?}");
    let mut m = m.into_iter();
    (m.next().unwrap(), m.next().unwrap())
}

/// A connect or disconnect notification: `[id, ""]`; returns the id.
fn notification(s: &Socket) -> Vec<u8> {
    let (id, data) = recv(s);
    assert!(
        data.is_empty(),
        "expected a notification, got {:?}",
        String::from_utf8_lossy(&data)
    );
    id
}

fn send(s: &Socket, id: &[u8], data: &[u8]) {
    s.send(id, SNDMORE).unwrap();
    s.send(data, 0).unwrap();
}

/// Receives data from `id` until `n` bytes came (reads split it however they fell).
fn recv_n(s: &Socket, id: &[u8], n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        let (from, data) = recv(s);
        assert_eq!(from, id, "data from another peer");
        assert!(
            !data.is_empty(),
            "{id:?} disconnected after {} bytes",
            got.len()
        );
        got.extend_from_slice(&data);
    }
    assert_eq!(got.len(), n, "more than expected from {id:?}");
    got
}

/// Reads from a plain client until `n` bytes came.
fn read_n(c: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    c.read_exact(&mut buf).unwrap();
    buf
}

/// Reads until the end of the stream, which must come.
fn read_to_eof(c: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    c.read_to_end(&mut got)
        .unwrap_or_else(|e| panic!("no end of stream after {} bytes: {e}", got.len()));
    got
}

/// Bytes that differ per `seed`.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + seed) % 251) as u8).collect()
}

#[test]
fn http_like_request_and_response_with_a_plain_tcp_client() {
    let ctx = Context::new();
    let (s, port) = server(&ctx);
    let mut c = client(port);
    let id = notification(&s);
    assert_eq!(id.len(), 5, "a generated routing id is 5 bytes");
    assert_eq!(id[0], 0);
    c.write_all(b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    // The request may come in several chunks: gather it up to the blank line.
    let mut request = Vec::new();
    let mut peer_address = None;
    while !request.ends_with(b"\r\n\r\n") {
        let mut id_frame = zmq::Message::new();
        s.recv(&mut id_frame, 0).unwrap();
        assert_eq!(&id_frame[..], &id[..]);
        assert!(s.get_rcvmore().unwrap());
        let mut data = s.recv_msg(0).unwrap();
        assert!(!s.get_rcvmore().unwrap());
        peer_address = data.gets("Peer-Address").map(str::to_owned);
        request.extend_from_slice(&data);
    }
    assert!(request.starts_with(b"GET /index.html HTTP/1.0\r\n"));
    assert_eq!(peer_address.as_deref(), Some("127.0.0.1"));
    let body = b"Hello, World!";
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    send(&s, &id, response.as_bytes());
    send(&s, &id, body);
    // Close the connection: what was sent before goes out first.
    send(&s, &id, b"");
    let got = read_to_eof(&mut c);
    assert_eq!(got, [response.as_bytes(), body].concat());
    // The peer is gone: its id no longer routes.
    assert_eq!(s.send(&id[..], SNDMORE).unwrap_err(), Error::EHOSTUNREACH);
}

#[test]
fn connect_and_disconnect_are_notified() {
    let ctx = Context::new();
    let (s, port) = server(&ctx);
    let mut c = client(port);
    let id = notification(&s);
    c.write_all(b"bye").unwrap();
    assert_eq!(recv_n(&s, &id, 3), b"bye");
    drop(c);
    assert_eq!(notification(&s), id, "the disconnect names the same peer");
    // A half-close ends the connection as libzmq's does.
    let c = client(port);
    let id2 = notification(&s);
    assert_ne!(id2, id);
    c.shutdown(Shutdown::Write).unwrap();
    assert_eq!(notification(&s), id2);
}

#[test]
fn data_larger_than_64_kib_arrives_intact_both_ways() {
    let ctx = Context::new();
    let (s, port) = server(&ctx);
    let mut c = client(port);
    let id = notification(&s);
    let up = pattern(3 << 20, 1);
    let writer = {
        let mut c = c.try_clone().unwrap();
        let up = up.clone();
        std::thread::spawn(move || c.write_all(&up).unwrap())
    };
    assert!(recv_n(&s, &id, up.len()) == up, "client to STREAM");
    writer.join().unwrap();
    let down = pattern(3 << 20, 2);
    send(&s, &id, &down);
    assert!(read_n(&mut c, down.len()) == down, "STREAM to client");
}

#[test]
fn many_clients_have_distinct_ids_and_get_their_own_replies() {
    const CLIENTS: usize = 30;
    let ctx = Context::new();
    let (s, port) = server(&ctx);
    let mut clients: Vec<TcpStream> = (0..CLIENTS).map(|_| client(port)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.write_all(format!("client {i:02};").as_bytes()).unwrap();
    }
    // Gather each peer's text; notifications come first for each.
    let mut texts: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut connected = BTreeSet::new();
    let deadline = Instant::now() + TIMEOUT;
    while texts.values().filter(|t| t.ends_with(b";")).count() < CLIENTS {
        assert!(Instant::now() < deadline, "only {texts:?} arrived");
        let (id, data) = recv(&s);
        if data.is_empty() {
            assert!(connected.insert(id.clone()), "two connects for one peer");
        } else {
            assert!(
                connected.contains(&id),
                "data before the connect notification"
            );
            texts.entry(id).or_default().extend_from_slice(&data);
        }
    }
    assert_eq!(connected.len(), CLIENTS, "distinct ids");
    for (id, text) in &texts {
        let mut reply = b"you are ".to_vec();
        reply.extend_from_slice(text);
        send(&s, id, &reply);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let want = format!("you are client {i:02};");
        assert_eq!(read_n(c, want.len()), want.as_bytes());
    }
}

#[test]
fn connecting_out_to_a_plain_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ctx = Context::new();
    let s = stream(&ctx);
    s.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    // As libzmq: the routing id of the connect's peer is there at once.
    let id = s.get_identity().unwrap();
    assert_eq!(id.len(), 5);
    assert_eq!(id[0], 0);
    // Data sent before the connection is up waits for it.
    send(&s, &id, b"early ");
    let (mut server_side, _) = listener.accept().unwrap();
    server_side.set_read_timeout(Some(TIMEOUT)).unwrap();
    assert_eq!(notification(&s), id, "the connect notification");
    send(&s, &id, b"hello");
    assert_eq!(read_n(&mut server_side, 11), b"early hello");
    server_side.write_all(b"world").unwrap();
    assert_eq!(recv_n(&s, &id, 5), b"world");
    // The listener's side hangs up: notified; the connect reconnects under the same id.
    drop(server_side);
    assert_eq!(notification(&s), id, "the disconnect notification");
    let (mut again, _) = listener.accept().unwrap();
    again.set_read_timeout(Some(TIMEOUT)).unwrap();
    assert_eq!(notification(&s), id, "reconnected");
    send(&s, &id, b"again");
    assert_eq!(read_n(&mut again, 5), b"again");
    // Closing it with an empty frame ends the connect: no reconnecting.
    send(&s, &id, b"");
    let mut rest = Vec::new();
    again.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_millis(500);
    while Instant::now() < deadline {
        match listener.accept() {
            Ok(_) => panic!("the closed connect reconnected"),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
    assert_eq!(s.send(&id[..], SNDMORE).unwrap_err(), Error::EHOSTUNREACH);
}

#[test]
fn stream_notify_off_delivers_data_only() {
    let ctx = Context::new();
    let s = stream(&ctx);
    assert!(s.is_stream_notify().unwrap(), "on by default");
    s.set_stream_notify(false).unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let port = port_of(&s);
    let mut c1 = client(port);
    c1.write_all(b"x").unwrap();
    let (id1, data) = recv(&s);
    assert_eq!(data, b"x", "no connect notification");
    drop(c1);
    let mut c2 = client(port);
    c2.write_all(b"y").unwrap();
    let (id2, data) = recv(&s);
    assert_eq!(
        data, b"y",
        "no disconnect notification for the first client"
    );
    assert_ne!(id1, id2);
    // Only STREAM has the option, as in libzmq.
    let dealer = ctx.socket(zmq::DEALER).unwrap();
    assert_eq!(dealer.set_stream_notify(false), Err(Error::EINVAL));
}

#[test]
fn unknown_routing_id_is_host_unreachable() {
    let ctx = Context::new();
    let (s, port) = server(&ctx);
    assert_eq!(s.send("nobody", SNDMORE), Err(Error::EHOSTUNREACH));
    // The data frame the application sends after it anyway is ignored.
    s.send("lost", 0).unwrap();
    let mut c = client(port);
    let id = notification(&s);
    send(&s, &id, b"ok");
    assert_eq!(read_n(&mut c, 2), b"ok");
    // POLLOUT is always set on a STREAM, as in libzmq.
    assert!(s.get_events().unwrap().contains(zmq::POLLOUT));
}

#[test]
fn connect_routing_id_names_the_peer_stream_to_stream() {
    // test_connect_rid, STREAM to STREAM.
    let ctx = Context::new();
    let (srv, port) = server(&ctx);
    let cli = stream(&ctx);
    cli.set_connect_routing_id(b"conn1").unwrap();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    cli.connect(&endpoint).unwrap();
    assert_eq!(notification(&cli), b"conn1");
    let sid = notification(&srv);
    send(&cli, b"conn1", b"hello");
    assert_eq!(recv_n(&srv, &sid, 5), b"hello");
    send(&srv, &sid, b"world");
    assert_eq!(recv_n(&cli, b"conn1", 5), b"world");
    // The same id again: refused (libzmq asserts), and the option stays set.
    cli.set_connect_routing_id(b"conn1").unwrap();
    assert_eq!(cli.connect(&endpoint), Err(Error::EINVAL));
    cli.set_connect_rid(b"conn2").unwrap();
    cli.connect(&endpoint).unwrap();
    assert_eq!(notification(&cli), b"conn2");
}

#[test]
fn connect_routing_id_names_the_peer_router_to_router() {
    // test_connect_rid, ROUTER to ROUTER: the connecting ROUTER addresses its peer by the
    // id it chose, not by the peer's own.
    let ctx = Context::new();
    let bound = ctx.socket(zmq::ROUTER).unwrap();
    bound.set_rcvtimeo(TIMEOUT_MS).unwrap();
    bound.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = bound.get_last_endpoint().unwrap().unwrap();
    let connecting = ctx.socket(zmq::ROUTER).unwrap();
    connecting.set_rcvtimeo(TIMEOUT_MS).unwrap();
    connecting.set_router_mandatory(true).unwrap();
    connecting.set_connect_routing_id(b"conn1").unwrap();
    connecting.connect(&endpoint).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match connecting.send_multipart(["conn1", "hello"], 0) {
            Ok(()) => break,
            Err(Error::EHOSTUNREACH) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("the ROUTER never knew conn1: {e}"),
        }
    }
    let m = bound.recv_multipart(0).unwrap();
    assert_eq!(m[1], b"hello");
    bound.send_multipart([&m[0][..], b"back"], 0).unwrap();
    assert_eq!(
        connecting.recv_multipart(0).unwrap(),
        [b"conn1".to_vec(), b"back".to_vec()]
    );
}

#[test]
fn stream_to_stream_dialogue_and_disconnect() {
    // test_stream_disconnect: data frames sent with SNDMORE, the client hangs up with an
    // empty frame, the server is notified.
    let ctx = Context::new();
    let (srv, port) = server(&ctx);
    let cli = stream(&ctx);
    cli.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let sid = notification(&srv);
    let cid = notification(&cli);
    assert_eq!(cli.get_identity().unwrap(), cid);
    cli.send(&cid[..], SNDMORE).unwrap();
    cli.send("i can haz cheez burger?", SNDMORE).unwrap();
    assert_eq!(recv_n(&srv, &sid, 23), b"i can haz cheez burger?");
    srv.send(&sid[..], SNDMORE).unwrap();
    srv.send("y u no disonnect?", SNDMORE).unwrap();
    assert_eq!(recv_n(&cli, &cid, 17), b"y u no disonnect?");
    send(&cli, &cid, b"");
    assert_eq!(notification(&srv), sid);
}

#[test]
fn ipc_works_too() {
    let ctx = Context::new();
    let s = stream(&ctx);
    s.bind("ipc://*").unwrap();
    let ep = s.get_last_endpoint().unwrap().unwrap();
    let path = ep.strip_prefix("ipc://").unwrap();
    let mut c = UnixStream::connect(path).unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let id = notification(&s);
    c.write_all(b"over ipc").unwrap();
    assert_eq!(recv_n(&s, &id, 8), b"over ipc");
    send(&s, &id, b"back");
    assert_eq!(read_n(&mut c, 4), b"back");
}

#[test]
fn a_socket_that_does_not_receive_stops_reading_its_peers() {
    // Backpressure: with a small RCVHWM, a client that writes without end is stopped by
    // TCP flow control, not buffered in memory; everything it wrote arrives afterwards.
    const LIMIT: usize = 64 << 20;
    let ctx = Context::new();
    let s = stream(&ctx);
    s.set_rcvhwm(2).unwrap();
    s.set_rcvbuf(64 * 1024).unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let mut c = client(port_of(&s));
    let id = notification(&s);
    c.set_nonblocking(true).unwrap();
    let chunk = vec![b'z'; 64 * 1024];
    let mut written = 0;
    let mut stalled_since = None;
    loop {
        match c.write(&chunk) {
            Ok(n) => {
                written += n;
                stalled_since = None;
                assert!(written < LIMIT, "{written} bytes taken without reading");
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_millis(300) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("write: {e}"),
        }
    }
    assert!(recv_n(&s, &id, written).iter().all(|&b| b == b'z'));
}

#[test]
fn closing_one_peer_leaves_the_others_alone() {
    let ctx = Context::new();
    let (s, port) = server(&ctx);
    let mut a = client(port);
    let ida = notification(&s);
    let mut b = client(port);
    let idb = notification(&s);
    send(&s, &ida, b"");
    assert!(read_to_eof(&mut a).is_empty());
    b.write_all(b"still here").unwrap();
    assert_eq!(recv_n(&s, &idb, 10), b"still here");
    send(&s, &idb, b"yes");
    assert_eq!(read_n(&mut b, 3), b"yes");
}

// ---------------------------------------------------------------------------------------
// Against libzmq.

/// A libzmq STREAM and ours, each side binding in turn: notifications, data both ways,
/// and a close by each side's empty frame.
#[test]
fn libzmq_stream_and_ours_talk_both_ways() {
    for libzmq_binds in [false, true] {
        let py = Libzmq::start();
        let ctx = Context::new();
        let ours = stream(&ctx);
        let theirs = py.socket(zmq::STREAM);
        if libzmq_binds {
            let ep = py.bind(&theirs, "tcp://127.0.0.1:*");
            ours.connect(&ep).unwrap();
        } else {
            ours.bind("tcp://127.0.0.1:*").unwrap();
            py.connect(&theirs, &ours.get_last_endpoint().unwrap().unwrap());
        }
        let id = notification(&ours);
        let m = py.recv(&theirs);
        assert_eq!(m.len(), 2);
        assert_msg(&m[1..], &[Vec::new()], "libzmq's connect notification");
        let lid = m[0].clone();
        py.send(&theirs, &[lid.clone(), b"from libzmq".to_vec()]);
        assert_eq!(recv_n(&ours, &id, 11), b"from libzmq");
        send(&ours, &id, b"from rust");
        let mut got = Vec::new();
        while got.len() < 9 {
            let m = py.recv(&theirs);
            assert_eq!(m[0], lid);
            got.extend_from_slice(&m[1]);
        }
        assert_eq!(got, b"from rust");
        if libzmq_binds {
            // libzmq closes: we are notified.
            py.send(&theirs, &[lid, Vec::new()]);
            assert_eq!(notification(&ours), id);
        } else {
            // We close: libzmq is notified.
            send(&ours, &id, b"");
            assert_msg(
                &py.recv(&theirs),
                &[lid, Vec::new()],
                "libzmq's disconnect notification",
            );
        }
    }
}

/// Our STREAM speaks ZMTP 3.0 by hand to a libzmq DEALER, as `test_stream.cpp` does:
/// greeting, READY as a ROUTER, then a message each way.
#[test]
fn our_stream_speaks_raw_zmtp_to_a_libzmq_dealer() {
    for libzmq_binds in [false, true] {
        let py = Libzmq::start();
        let ctx = Context::new();
        let ours = stream(&ctx);
        let dealer = py.socket(zmq::DEALER);
        py.set_bytes(&dealer, "ROUTING_ID", b"dealer");
        if libzmq_binds {
            let ep = py.bind(&dealer, "tcp://127.0.0.1:*");
            ours.connect(&ep).unwrap();
        } else {
            ours.bind("tcp://127.0.0.1:*").unwrap();
            py.connect(&dealer, &ours.get_last_endpoint().unwrap().unwrap());
        }
        let id = notification(&ours);
        let mut wire = Wire::new(&ours, &id);
        // The DEALER's signature; ours in full.
        let signature = wire.take(10);
        assert_eq!(signature[0], 0xff);
        assert_eq!(signature[9], 0x7f);
        let mut greeting = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0];
        greeting.extend_from_slice(b"NULL");
        greeting.resize(64, 0);
        send(&ours, &id, &greeting);
        // The rest of its greeting: version 3, NULL, not a server.
        let rest = wire.take(54);
        assert_eq!(rest[0], 3, "major version");
        assert_eq!(&rest[2..6], b"NULL");
        assert_eq!(rest[22], 0, "as-server");
        // Its READY: a short command frame.
        let header = wire.take(2);
        assert_eq!(header[0], 0x04, "a short command");
        let ready = wire.take(usize::from(header[1]));
        assert!(ready.starts_with(b"\x05READY"));
        let ready_text = String::from_utf8_lossy(&ready);
        assert!(ready_text.contains("Socket-Type") && ready_text.contains("DEALER"));
        assert!(ready_text.contains("Identity") && ready_text.contains("dealer"));
        // Ours, as a ROUTER.
        let mut our_ready = b"\x05READY\x0bSocket-Type\x00\x00\x00\x06ROUTER".to_vec();
        our_ready.extend_from_slice(b"\x08Identity\x00\x00\x00\x00");
        let mut frame = vec![0x04, our_ready.len() as u8];
        frame.extend_from_slice(&our_ready);
        send(&ours, &id, &frame);
        // A message from the DEALER: one data frame.
        py.send(&dealer, &[b"Hello".to_vec()]);
        assert_eq!(wire.take(2), [0x00, 5]);
        assert_eq!(wire.take(5), b"Hello");
        // One to it: two frames, an empty one and "World".
        send(&ours, &id, b"\x01\x00\x00\x05World");
        assert_msg(
            &py.recv(&dealer),
            &[Vec::new(), b"World".to_vec()],
            "the DEALER's message",
        );
    }
}

/// The bytes one peer of our STREAM sent, taken as they are needed.
struct Wire<'a> {
    socket: &'a Socket,
    id: Vec<u8>,
    buf: Vec<u8>,
}

impl<'a> Wire<'a> {
    fn new(socket: &'a Socket, id: &[u8]) -> Self {
        Self {
            socket,
            id: id.to_vec(),
            buf: Vec::new(),
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            let (from, data) = recv(self.socket);
            assert_eq!(from, self.id);
            assert!(!data.is_empty(), "the peer disconnected");
            self.buf.extend_from_slice(&data);
        }
        self.buf.drain(..n).collect()
    }
}
