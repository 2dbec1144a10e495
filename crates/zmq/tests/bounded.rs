//! Bounds that hold against peers that misbehave over time: notifications written at each
//! reconnection stop at the receive high-water mark (as libzmq's pipes refuse them), a
//! STREAM connection the application closed ends within its linger even if the peer reads
//! nothing, a STREAM connect is not given up as a failed handshake after an ordinary
//! disconnect, a proxy whose destination refuses its held message does not spin, and
//! the received bodies a thread holds back to drop in a batch are dropped before it waits.
//!
//! Every wait has a deadline; nothing depends on exact timing.

mod common;
mod raw;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::socket;
use raw::{RawPeer, Wire};
use zmq::{Context, Error, Socket, SocketType, DONTWAIT, SNDMORE};

/// The longest any expected event may take on a loaded machine.
const WAIT: Duration = Duration::from_secs(20);
/// The receive high-water mark of the reconnection tests.
const HWM: i32 = 10;
/// Connections a misbehaving server takes and drops: many times the high-water mark.
const CYCLES: usize = 6 * HWM as usize;

/// A plain TCP server in a thread that calls `serve` on each connection it accepts (then
/// drops it) until it has served `cycles`; the count so far is shared. Stops listening at
/// the end, so our connects are refused from then on.
fn churning_server(
    cycles: usize,
    serve: impl Fn(TcpStream) + Send + 'static,
) -> (String, Arc<AtomicUsize>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    let handle = thread::spawn(move || {
        let deadline = Instant::now() + WAIT * 3;
        while count.load(Ordering::SeqCst) < cycles && Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    serve(stream);
                    count.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(2));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    });
    (endpoint, served, handle)
}

/// Waits until the server served `n` connections.
fn wait_served(served: &AtomicUsize, n: usize) {
    let deadline = Instant::now() + WAIT * 3;
    while served.load(Ordering::SeqCst) < n {
        assert!(
            Instant::now() < deadline,
            "only {} connections came, {n} expected",
            served.load(Ordering::SeqCst)
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until the server served `n` connections or no new one came for a second; then
/// makes it stop.
fn wait_settled(served: &AtomicUsize, n: usize) -> usize {
    let deadline = Instant::now() + WAIT * 3;
    let mut last = (served.load(Ordering::SeqCst), Instant::now());
    loop {
        let now = served.load(Ordering::SeqCst);
        if now >= n {
            return now;
        }
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(1) || Instant::now() > deadline {
            // One more connection ends the server's loop.
            served.store(n, Ordering::SeqCst);
            return now;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Every message waiting in `s` now (each counted once, whatever its parts).
fn drain(s: &Socket) -> usize {
    let mut n = 0;
    loop {
        match s.recv_multipart(DONTWAIT) {
            Ok(_) => n += 1,
            Err(Error::EAGAIN) => return n,
            Err(e) => panic!("recv: {e}"),
        }
    }
}

/// A client that reconnects quickly and never receives.
fn reconnecting(ctx: &Context, ty: SocketType) -> Socket {
    let s = socket(ctx, ty);
    s.set_rcvhwm(HWM).unwrap();
    s.set_reconnect_ivl(5).unwrap();
    s.set_reconnect_ivl_max(0).unwrap();
    s
}

#[test]
fn stream_notifications_stop_at_the_receive_high_water_mark() {
    let ctx = Context::new();
    let client = reconnecting(&ctx, SocketType::STREAM);
    // Accepts and closes at once: each connection is two notifications.
    // Once the queue is full the connection is no longer read, so its end goes unnoticed
    // and no reconnection comes: the server stops when connections stop coming.
    let (endpoint, served, server) = churning_server(CYCLES, drop);
    client.connect(&endpoint).unwrap();
    let cycles = wait_settled(&served, CYCLES);
    server.join().unwrap();
    let queued = drain(&client);
    // The mark bounds the pipe; the STREAM socket may hold one more message it has taken
    // from the pipe to route (libzmq's `stream_t` prefetches one likewise).
    assert!(
        queued <= HWM as usize + 1,
        "{queued} notifications queued after {cycles} connections, more than RCVHWM {HWM} + 1"
    );
    assert!(queued > 0, "the notifications below the mark are kept");
}

#[test]
fn hiccup_messages_stop_at_the_receive_high_water_mark() {
    let ctx = Context::new();
    let client = reconnecting(&ctx, SocketType::DEALER);
    client.set_hiccup_msg(b"hiccup").unwrap();
    // Completes the ZMTP handshake as a ROUTER, then closes: each connection is a hiccup.
    let (endpoint, served, server) = churning_server(CYCLES, |stream| {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let mut peer = RawPeer::new(Box::new(stream), Wire::V31);
        peer.handshake("ROUTER", b"");
    });
    client.connect(&endpoint).unwrap();
    wait_served(&served, CYCLES);
    server.join().unwrap();
    thread::sleep(Duration::from_millis(300));
    let mut queued = 0;
    loop {
        match client.recv_bytes(DONTWAIT) {
            Ok(m) => {
                assert_eq!(m, b"hiccup");
                queued += 1;
            }
            Err(Error::EAGAIN) => break,
            Err(e) => panic!("recv: {e}"),
        }
    }
    assert!(
        queued <= HWM as usize,
        "{queued} hiccups queued after {CYCLES} connections, more than RCVHWM {HWM}"
    );
    assert!(queued > 0, "the hiccups below the mark are kept");
}

#[test]
fn a_stream_connect_is_not_given_up_after_an_ordinary_disconnect() {
    // A STREAM connection has no handshake to fail: RECONNECT_STOP_HANDSHAKE_FAILED must
    // not stop it from reconnecting (libzmq counts raw connections as handshaked).
    let ctx = Context::new();
    let client = reconnecting(&ctx, SocketType::STREAM);
    client
        .set_reconnect_stop(zmq::RECONNECT_STOP_HANDSHAKE_FAILED)
        .unwrap();
    let (endpoint, served, server) = churning_server(3, drop);
    client.connect(&endpoint).unwrap();
    wait_served(&served, 3);
    server.join().unwrap();
}

/// A STREAM server with `linger`, a plain TCP client that never reads, and the client's
/// routing id.
fn stream_with_silent_client(ctx: &Context, linger: i32) -> (Socket, u16, TcpStream, Vec<u8>) {
    let server = socket(ctx, SocketType::STREAM);
    server.set_linger(linger).unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    let port = port_of(&server);
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let id = notification(&server);
    (server, port, client, id)
}

fn port_of(s: &Socket) -> u16 {
    let ep = s.get_last_endpoint().unwrap().unwrap();
    ep.rsplit(':').next().unwrap().parse().unwrap()
}

fn notification(s: &Socket) -> Vec<u8> {
    let m = s.recv_multipart(0).unwrap();
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(m[1].is_empty(), "a notification: {m:?}");
    m[0].clone()
}

/// Far more than the kernel's socket buffers on both sides hold.
const FLOOD: usize = 48;
const CHUNK: usize = 1 << 20;

/// Sends [`FLOOD`] chunks to the silent client, then closes it; returns the bytes sent.
fn flood_then_close(server: &Socket, id: &[u8]) -> usize {
    let chunk = vec![b'x'; CHUNK];
    for _ in 0..FLOOD {
        server.send(id, SNDMORE).unwrap();
        server.send(&chunk[..], 0).unwrap();
    }
    server.send(id, SNDMORE).unwrap();
    server.send(&b""[..], 0).unwrap();
    FLOOD * CHUNK
}

/// Reads until the end of the stream (or a reset); returns what came.
fn read_to_end(client: &mut TcpStream) -> usize {
    client.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = vec![0; 1 << 16];
    let mut total = 0;
    loop {
        match client.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return total,
            Err(e) => panic!("the connection was not closed: {e} after {total} bytes"),
        }
    }
}

/// A second client of the same server still talks both ways.
fn other_peer_works(server: &Socket, port: u16) {
    let mut other = TcpStream::connect(("127.0.0.1", port)).unwrap();
    other.set_read_timeout(Some(WAIT)).unwrap();
    let id = notification(server);
    other.write_all(b"ping").unwrap();
    let m = server.recv_multipart(0).unwrap();
    assert_eq!(m, vec![id.clone(), b"ping".to_vec()]);
    server.send(&id[..], SNDMORE).unwrap();
    server.send(&b"pong"[..], 0).unwrap();
    let mut got = [0; 4];
    other.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"pong");
}

fn closed_peer_ends_within(linger: i32, wait: Duration) {
    let ctx = Context::new();
    let (server, port, mut client, id) = stream_with_silent_client(&ctx, linger);
    let sent = flood_then_close(&server, &id);
    // Past the bound, the connection is closed although the client read nothing: what
    // the kernel still holds arrives, then the end of the stream, not the rest.
    thread::sleep(wait);
    let got = read_to_end(&mut client);
    assert!(
        got < sent,
        "all {sent} bytes were still written: the connection outlived its bound"
    );
    other_peer_works(&server, port);
}

#[test]
fn a_closed_stream_peer_that_reads_nothing_ends_within_the_linger() {
    closed_peer_ends_within(200, Duration::from_secs(3));
}

#[test]
fn a_closed_stream_peer_that_reads_nothing_ends_within_the_cap_when_linger_is_infinite() {
    closed_peer_ends_within(-1, Duration::from_secs(13));
}

/// The CPU time this process's thread `tid` has used.
fn thread_cpu(tid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
    // Fields after the command name (in parentheses): utime and stime are the 12th and
    // 13th, in clock ticks.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

#[test]
fn a_proxy_held_by_a_full_stream_peer_does_not_spin() {
    let ctx = Context::new();
    let (ready_tx, ready_rx) = mpsc::channel();
    let proxy_ctx = ctx.clone();
    let proxy = thread::spawn(move || {
        let frontend = socket(&proxy_ctx, SocketType::PAIR);
        frontend.bind("inproc://bounded-front").unwrap();
        let backend = socket(&proxy_ctx, SocketType::STREAM);
        backend.set_sndhwm(2).unwrap();
        backend.bind("tcp://127.0.0.1:*").unwrap();
        let control = socket(&proxy_ctx, SocketType::PAIR);
        control.bind("inproc://bounded-control").unwrap();
        let tid = std::fs::read_link("/proc/thread-self")
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        ready_tx.send((port_of(&backend), tid)).unwrap();
        zmq::Proxy::new(&frontend, &backend).control(&control).run()
    });
    let (port, tid) = ready_rx.recv_timeout(WAIT).unwrap();
    let driver = socket(&ctx, SocketType::PAIR);
    driver.connect("inproc://bounded-front").unwrap();
    let steer = socket(&ctx, SocketType::PAIR);
    steer.connect("inproc://bounded-control").unwrap();
    // A client that never reads: its STREAM pipe fills, and the proxy holds a message.
    let _client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let id = notification(&driver);
    let chunk = vec![b'x'; CHUNK];
    for _ in 0..FLOOD {
        driver.send(&id[..], SNDMORE).unwrap();
        driver.send(&chunk[..], 0).unwrap();
    }
    // Let the proxy forward what fits and get stuck.
    thread::sleep(Duration::from_secs(1));
    let before = thread_cpu(&tid);
    let window = Duration::from_secs(3);
    thread::sleep(window);
    let used = thread_cpu(&tid) - before;
    steer.send("TERMINATE", 0).unwrap();
    proxy.join().unwrap().unwrap();
    // A spinning proxy burns a core (or what a loaded machine leaves it); a waiting one
    // wakes at most a few dozen times a second.
    assert!(
        used < window / 10,
        "the stuck proxy used {used:?} of CPU in {window:?}"
    );
}

#[test]
fn a_stream_message_holds_at_most_8_kib_as_libzmq() {
    // One read is one message, and a read takes at most libzmq's 8 KiB: a queue at RCVHWM
    // holds at most RCVHWM times that per connection.
    const LEN: usize = 1 << 20;
    let ctx = Context::new();
    let server = socket(&ctx, SocketType::STREAM);
    server.bind("tcp://127.0.0.1:*").unwrap();
    let mut client = TcpStream::connect(("127.0.0.1", port_of(&server))).unwrap();
    let id = notification(&server);
    let sent: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let writer = {
        let sent = sent.clone();
        thread::spawn(move || {
            client.write_all(&sent).unwrap();
            client
        })
    };
    let mut got = Vec::with_capacity(LEN);
    while got.len() < LEN {
        let m = server.recv_multipart(0).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], id);
        assert!(!m[1].is_empty(), "the connection ended early");
        assert!(m[1].len() <= 8192, "a message of {} bytes", m[1].len());
        got.extend_from_slice(&m[1]);
    }
    assert!(got == sent, "the bytes arrived altered");
    drop(writer.join().unwrap());
}

/// A receiving thread drops the small bodies it is done with in batches
/// (`zmq_transport::recycle::release`), and drops what it holds before it waits: in a
/// blocking receive, in `zmq::poll`, in `Socket::poll`.
#[test]
fn held_back_bodies_are_dropped_before_the_thread_waits() {
    let ctx = Context::new();
    let pull = socket(&ctx, SocketType::PULL);
    let push = socket(&ctx, SocketType::PUSH);
    pull.bind("inproc://held-back").unwrap();
    push.connect("inproc://held-back").unwrap();
    // A body that crosses the inproc pipe as it is, shared with `watch`.
    let sent = |n: u8| {
        let body = bytes::Bytes::from(vec![n; 100]);
        let watch = body.clone();
        push.send(zmq::Message::from(body), 0).unwrap();
        watch
    };
    let mut msg = zmq::Message::new();
    type Wait<'a> = Box<dyn Fn() + 'a>;
    let waits: [(&str, Wait<'_>); 3] = [
        (
            "a blocking receive",
            Box::new(|| {
                pull.set_rcvtimeo(10).unwrap();
                assert_eq!(pull.recv_msg(0).unwrap_err(), Error::EAGAIN);
            }),
        ),
        (
            "zmq::poll",
            Box::new(|| {
                let mut items = [pull.as_poll_item(zmq::POLLIN)];
                assert_eq!(zmq::poll(&mut items, 10).unwrap(), 0);
            }),
        ),
        (
            "Socket::poll",
            Box::new(|| assert_eq!(pull.poll(zmq::POLLIN, 10).unwrap(), 0)),
        ),
    ];
    for (n, (how, wait)) in (1..).zip(waits) {
        let first = sent(n);
        pull.recv(&mut msg, 0).unwrap();
        assert_eq!(&msg[..], &first[..]);
        assert!(!first.is_unique(), "held by the message");
        // The next receive into the same message lets the first body go, held back.
        let second = sent(n + 100);
        pull.recv(&mut msg, 0).unwrap();
        assert_eq!(&msg[..], &second[..]);
        assert!(!first.is_unique(), "held back with the thread's batch");
        wait();
        assert!(first.is_unique(), "dropped before {how}");
        // Leaves nothing held for the next round.
        msg = zmq::Message::new();
        drop(second);
    }
}
