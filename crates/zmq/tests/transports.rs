//! End-to-end scenarios of the runtime, each run over tcp, ipc and inproc.
//!
//! Every scenario is a function of the transport; `suite!` makes one test per scenario and
//! transport (`tcp::pair`, `ipc::pair`, `inproc::pair`, ...). Endpoints are wildcards
//! (`tcp://127.0.0.1:*`, `ipc://*`) or unique inproc names, read back with
//! `get_last_endpoint`, so the tests run in parallel. Every socket has receive and send
//! timeouts, and every scenario a watchdog, so a bug fails a test instead of hanging it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use zmq::{Context, Error, Message, Socket, SocketType, DONTWAIT, SNDMORE};

/// The most any single blocking call of a scenario may take.
const TIMEOUT_MS: i32 = 5000;
/// The message that fills queues in the high-water-mark scenarios.
///
/// Not tiny: the kernel charges socket buffers by allocation, not by payload, and with a
/// few bytes per write a TCP receiver keeps compacting its queue and reopening its window
/// every delayed-ACK tick for seconds, so "full" would not be a stable state to test.
const FILL_MSG: &[u8] = &[b'm'; 1000];
/// The most [`FILL_MSG`]s a PUSH with SNDHWM 1 may take before it blocks, over tcp or ipc,
/// when its peer (RCVHWM 1) does not read: the engines' buffers (64 KiB read ahead on the
/// receiving side) and the kernel's (a few MiB on loopback) hold the rest.
const NETWORK_FILL_MAX: usize = 20_000;
/// The most a whole scenario may take.
const WATCHDOG: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tr {
    Tcp,
    Ipc,
    Inproc,
}

fn unique() -> usize {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

impl Tr {
    /// An endpoint to bind, resolved by the bind.
    fn wildcard(self) -> String {
        match self {
            Self::Tcp => "tcp://127.0.0.1:*".into(),
            Self::Ipc => "ipc://*".into(),
            Self::Inproc => format!("inproc://scenario-{}", unique()),
        }
    }

    /// A concrete endpoint nobody has bound, for connecting before the bind.
    fn fresh(self) -> String {
        match self {
            Self::Tcp => {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                format!("tcp://127.0.0.1:{}", l.local_addr().unwrap().port())
            }
            Self::Ipc => format!(
                "ipc://{}",
                std::env::temp_dir()
                    .join(format!(
                        "zmq-transports-{}-{}.sock",
                        std::process::id(),
                        unique()
                    ))
                    .display()
            ),
            Self::Inproc => format!("inproc://fresh-{}", unique()),
        }
    }

    fn is_network(self) -> bool {
        self != Self::Inproc
    }
}

/// Runs a scenario under a watchdog, so a hang fails the test.
fn run(tr: Tr, scenario: fn(Tr)) {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        scenario(tr);
        let _ = tx.send(());
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(()) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{tr:?}: scenario hung"),
    }
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod tcp {
            $( #[test] fn $name() { super::run(super::Tr::Tcp, super::$name); } )*
        }
        mod ipc {
            $( #[test] fn $name() { super::run(super::Tr::Ipc, super::$name); } )*
        }
        mod inproc {
            $( #[test] fn $name() { super::run(super::Tr::Inproc, super::$name); } )*
        }
    };
}

suite!(
    pair,
    req_rep,
    req_rep_written_by_the_callers,
    borrowed_large_parts,
    req_rep_read_by_the_callers,
    req_rep_input_lease,
    req_router,
    dealer_rep,
    dealer_router,
    dealer_dealer,
    router_router,
    push_pull,
    push_round_robin,
    pull_fair_queue,
    multipart_and_empty_frames,
    large_messages,
    large_frames_of_many_sizes,
    stream_100k,
    hwm_dontwait,
    hwm_small_messages,
    hwm_blocks_until_read,
    hwm_sndtimeo,
    rcvtimeo,
    reconnect_after_restart,
    connect_before_bind,
    linger_delivers_on_close,
    linger_zero_drops,
    unbind_and_disconnect,
    immediate,
    router_mandatory,
    router_handover,
    probe_router,
    req_correlate_relaxed,
    events_and_fd,
    poll_sockets_and_fd,
    metadata,
    max_msg_size,
    term_unblocks_recv,
    reconnect_options,
    bind_errors,
);

// ---------------------------------------------------------------------------------------
// Helpers

fn sock(ctx: &Context, t: SocketType) -> Socket {
    let s = ctx.socket(t).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s
}

/// Binds `s` to a fresh endpoint of `tr` and returns the endpoint to connect to.
fn bind(s: &Socket, tr: Tr) -> String {
    s.bind(&tr.wildcard()).unwrap();
    s.get_last_endpoint().unwrap().unwrap()
}

fn send_parts(s: &Socket, parts: &[&[u8]]) {
    s.send_multipart(parts.iter().copied(), 0).unwrap();
}

fn recv_parts(s: &Socket) -> Vec<Vec<u8>> {
    s.recv_multipart(0).unwrap()
}

fn parts(p: &[&[u8]]) -> Vec<Vec<u8>> {
    p.iter().map(|x| x.to_vec()).collect()
}

fn recv_str(s: &Socket) -> String {
    s.recv_string(0).unwrap().unwrap()
}

/// Sends a routed message once the ROUTER (with `ROUTER_MANDATORY`) knows the peer.
fn send_routed(s: &Socket, id: &[u8], body: &[&[u8]]) {
    let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
    loop {
        match s.send(id, SNDMORE) {
            Ok(()) => break,
            Err(Error::EHOSTUNREACH) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("routing to {id:?}: {e}"),
        }
    }
    s.send_multipart(body.iter().copied(), 0).unwrap();
}

/// Sends with DONTWAIT until the socket stays full; returns how many were taken. Fails
/// past `max`.
fn fill(s: &Socket, payload: &[u8], max: usize) -> usize {
    fill_with(s, max, |s| s.send(payload, DONTWAIT))
}

/// How long a socket must stay without POLLOUT to count as full: an EAGAIN may be
/// momentary while an I/O thread (perhaps starved of CPU) moves messages on.
const SETTLE_MS: i64 = 250;

/// Sends messages with `send` (which must not block) until the socket stays full;
/// returns how many were taken. Fails past `max`.
fn fill_with(s: &Socket, max: usize, mut send: impl FnMut(&Socket) -> zmq::Result<()>) -> usize {
    let mut n = 0;
    while n <= max {
        match send(s) {
            Ok(()) => n += 1,
            Err(Error::EAGAIN) => {
                if s.poll(zmq::POLLOUT, SETTLE_MS).unwrap() == 0 {
                    return n;
                }
            }
            Err(e) => panic!("send {n}: {e}"),
        }
    }
    panic!("no lasting EAGAIN after {max} sends");
}

/// Waits until `f` holds, for at most the test timeout.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

fn assert_elapsed(start: Instant, min_ms: u64, max_ms: u64) {
    let ms = start.elapsed().as_millis() as u64;
    assert!(
        (min_ms..=max_ms).contains(&ms),
        "took {ms} ms, expected {min_ms}..={max_ms}"
    );
}

/// Whether a raw descriptor is readable now.
fn fd_readable(fd: std::os::fd::RawFd) -> bool {
    let mut items = [zmq::PollItem::from_fd(fd, zmq::POLLIN)];
    zmq::poll(&mut items, 0).unwrap() == 1 && items[0].is_readable()
}

// ---------------------------------------------------------------------------------------
// Every socket pair

fn pair(tr: Tr) {
    let ctx = Context::new();
    let a = sock(&ctx, zmq::PAIR);
    let ep = bind(&a, tr);
    let b = sock(&ctx, zmq::PAIR);
    b.connect(&ep).unwrap();
    for i in 0..50 {
        b.send(format!("ping {i}").as_str(), 0).unwrap();
        assert_eq!(recv_str(&a), format!("ping {i}"));
        a.send(format!("pong {i}").as_str(), 0).unwrap();
        assert_eq!(recv_str(&b), format!("pong {i}"));
    }
    // Either side may send several before the other reads.
    for i in 0..10 {
        a.send(format!("{i}").as_str(), 0).unwrap();
    }
    for i in 0..10 {
        assert_eq!(recv_str(&b), format!("{i}"));
    }
    // A PAIR takes one peer: a second one is refused and the first keeps working.
    let intruder = sock(&ctx, zmq::PAIR);
    intruder.set_linger(0).unwrap();
    intruder.connect(&ep).unwrap();
    let _ = intruder.send("intruder", DONTWAIT);
    b.send("still b", 0).unwrap();
    assert_eq!(recv_str(&a), "still b");
    a.set_rcvtimeo(100).unwrap();
    assert_eq!(a.recv_bytes(0), Err(Error::EAGAIN));
    a.send("to b", 0).unwrap();
    assert_eq!(recv_str(&b), "to b");
}

fn req_rep(tr: Tr) {
    let ctx = Context::new();
    // REP binds, REQ connects.
    let rep = sock(&ctx, zmq::REP);
    let ep = bind(&rep, tr);
    let req = sock(&ctx, zmq::REQ);
    req.connect(&ep).unwrap();
    for i in 0..20 {
        send_parts(&req, &[b"hello", format!("{i}").as_bytes()]);
        assert_eq!(
            recv_parts(&rep),
            parts(&[b"hello", format!("{i}").as_bytes()])
        );
        rep.send(format!("world {i}").as_str(), 0).unwrap();
        assert_eq!(recv_str(&req), format!("world {i}"));
    }
    // The state machine is enforced.
    assert_eq!(rep.send("x", 0), Err(Error::EFSM));
    req.send("again", 0).unwrap();
    assert_eq!(req.send("twice", 0), Err(Error::EFSM));
    assert_eq!(recv_str(&rep), "again");
    assert_eq!(rep.recv_bytes(0), Err(Error::EFSM));
    rep.send("ok", 0).unwrap();
    assert_eq!(recv_str(&req), "ok");

    // REQ binds, two REPs connect: requests are load-balanced.
    let req = sock(&ctx, zmq::REQ);
    let ep = bind(&req, tr);
    let reps: Vec<Socket> = (0..2)
        .map(|_| {
            let r = sock(&ctx, zmq::REP);
            r.connect(&ep).unwrap();
            r
        })
        .collect();
    // Wait until both REPs are attached: a request to each comes back.
    let mut seen = HashSet::new();
    let mut poll_items: Vec<_> = reps.iter().map(|r| r.as_poll_item(zmq::POLLIN)).collect();
    for i in 0..20 {
        req.send(format!("r{i}").as_str(), 0).unwrap();
        assert_eq!(zmq::poll(&mut poll_items, TIMEOUT_MS as i64).unwrap(), 1);
        let k = poll_items.iter().position(|p| p.is_readable()).unwrap();
        assert_eq!(recv_str(&reps[k]), format!("r{i}"));
        reps[k].send(format!("a{i}").as_str(), 0).unwrap();
        assert_eq!(recv_str(&req), format!("a{i}"));
        seen.insert(k);
    }
    assert_eq!(seen.len(), 2, "both REPs should have served requests");
}

/// REQ and REP write their messages from the caller's thread when the connection is idle
/// (`Engine::write_direct`), and hand over to the I/O thread when a write would block: a
/// message larger than the kernel takes at once, PINGs due between requests, two clients
/// whose replies the REP writes while the I/O thread reads their requests.
fn req_rep_written_by_the_callers(tr: Tr) {
    let ctx = Context::new();
    let rep = sock(&ctx, zmq::REP);
    rep.set_heartbeat_ivl(5).unwrap();
    rep.set_heartbeat_timeout(2000).unwrap();
    let ep = bind(&rep, tr);
    let make = |seed: usize, len: usize| -> Vec<u8> {
        (0..len)
            .map(|i| (i.wrapping_mul(131) ^ seed) as u8)
            .collect()
    };
    let clients: Vec<_> = (0..2)
        .map(|c| {
            let req = sock(&ctx, zmq::REQ);
            req.set_heartbeat_ivl(5).unwrap();
            // A whole frame must arrive within the timeout, and 8 MiB ones take a while.
            req.set_heartbeat_timeout(2000).unwrap();
            req.connect(&ep).unwrap();
            thread::spawn(move || {
                let sizes = [0, 1, 64, 8 << 10, 300 << 10, 8 << 20, 5];
                for round in 0..3 {
                    for (k, &len) in sizes.iter().enumerate() {
                        let seed = c * 1000 + round * 100 + k;
                        req.send_multipart([make(seed, len), make(seed + 1, 3)], 0)
                            .unwrap();
                        let reply = recv_parts(&req);
                        assert_eq!(reply.len(), 2, "client {c} round {round} size {len}");
                        assert!(reply[0] == make(seed, len), "client {c}: body of {len} B");
                        assert_eq!(reply[1], make(seed + 1, 3));
                    }
                    // Idle long enough for PINGs both ways.
                    thread::sleep(Duration::from_millis(20));
                }
                req
            })
        })
        .collect();
    for _ in 0..(2 * 3 * 7) {
        let request = recv_parts(&rep);
        let refs: Vec<&[u8]> = request.iter().map(Vec::as_slice).collect();
        send_parts(&rep, &refs);
    }
    for client in clients {
        drop(client.join().unwrap());
    }
}

/// A part of 64 KiB or more sent from a borrowed buffer (`&[u8]`, `&Vec<u8>`, `&String`,
/// `&str`) is written to an idle connection from there, after the parts of its message
/// still in the pipe, and goes through the pipe otherwise (`Core::send_borrowed`): every
/// part arrives whole and in order, whichever way each went. Large and small parts first,
/// in the middle and last; messages that alternate between the two; parts larger than
/// the kernel takes at once; a REQ's request after its id (`ZMQ_REQ_CORRELATE`) and a
/// REP's reply after its envelope; a DEALER to a ROUTER.
fn borrowed_large_parts(tr: Tr) {
    // Printable, so that any part can be sent as a string too.
    let make = |seed: usize, len: usize| -> String {
        (0..len)
            .map(|i| char::from(b'a' + ((i.wrapping_mul(7) ^ seed.wrapping_mul(13)) % 26) as u8))
            .collect()
    };
    // Each part in one of the borrowed forms, by `k`.
    let send = |s: &Socket, part: &String, k: usize, more: bool| {
        let flags = if more { SNDMORE } else { 0 };
        match k % 4 {
            0 => s.send(part.as_bytes(), flags),
            // The borrow is the point: `&Vec<u8>` is one of the borrowed forms.
            #[allow(clippy::needless_borrows_for_generic_args)]
            1 => s.send(&part.as_bytes().to_vec(), flags),
            2 => s.send(part, flags),
            _ => s.send(part.as_str(), flags),
        }
        .unwrap();
    };
    let send_msg = |s: &Socket, msg: &[String], k: usize| {
        for (i, part) in msg.iter().enumerate() {
            send(s, part, k + i, i + 1 < msg.len());
        }
    };
    let check = |got: Vec<Vec<u8>>, msg: &[String], what: &str| {
        assert_eq!(got.len(), msg.len(), "{tr:?} {what}: parts");
        for (i, (g, m)) in got.iter().zip(msg).enumerate() {
            assert!(
                g == m.as_bytes(),
                "{tr:?} {what}: part {i} ({} bytes)",
                m.len()
            );
        }
    };
    let sizes = [3, 64 << 10, 100_000, 300 << 10];
    let ctx = Context::new();

    let pull = sock(&ctx, zmq::PULL);
    let ep = bind(&pull, tr);
    let push = sock(&ctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    let mut messages = Vec::new();
    for (i, &a) in sizes.iter().enumerate() {
        messages.push(vec![make(i, a)]);
        for (j, &b) in sizes.iter().enumerate() {
            messages.push(vec![make(i, a), make(j + 10, b)]);
            messages.push(vec![make(j, 5), make(i + 20, a), make(j + 30, b)]);
        }
    }
    for k in 0..40 {
        messages.push(vec![make(k, if k % 2 == 0 { 5 } else { 70_000 })]);
    }
    // More than the kernel takes at once.
    messages.push(vec![make(99, 6 << 20)]);
    messages.push(vec![make(98, 4 << 20), make(97, 7)]);
    for (k, msg) in messages.iter().enumerate() {
        send_msg(&push, msg, k);
    }
    for (k, msg) in messages.iter().enumerate() {
        check(recv_parts(&pull), msg, &format!("PUSH message {k}"));
    }

    // Small kernel buffers: the large parts are written in part from the caller's buffer
    // and in part by the I/O thread.
    let rep = sock(&ctx, zmq::REP);
    rep.set_sndbuf(32 << 10).unwrap();
    rep.set_rcvbuf(32 << 10).unwrap();
    let ep = bind(&rep, tr);
    let req = sock(&ctx, zmq::REQ);
    req.set_sndbuf(32 << 10).unwrap();
    req.set_rcvbuf(32 << 10).unwrap();
    req.set_req_correlate(true).unwrap();
    req.set_req_relaxed(true).unwrap();
    req.connect(&ep).unwrap();
    for (k, &len) in sizes.iter().chain(&[5 << 20]).enumerate() {
        let request = [make(k, len), make(k + 1, 4)];
        send_msg(&req, &request, k);
        check(recv_parts(&rep), &request, "request");
        let reply = [make(k + 2, 9), make(k + 3, len)];
        send_msg(&rep, &reply, k);
        check(recv_parts(&req), &reply, "reply");
    }

    // Two peers, small kernel buffers: what a connection does not take at once goes to
    // the I/O thread at once (a lone peer's send waits for room a while first).
    let pulls: Vec<Socket> = (0..2)
        .map(|_| {
            let pull = sock(&ctx, zmq::PULL);
            pull.set_rcvbuf(32 << 10).unwrap();
            pull
        })
        .collect();
    let push = sock(&ctx, zmq::PUSH);
    push.set_sndbuf(32 << 10).unwrap();
    for pull in &pulls {
        push.connect(&bind(pull, tr)).unwrap();
    }
    // Both attached before the large messages: probes until each has had one.
    let mut probed = [false; 2];
    while probed != [true; 2] {
        push.send("probe", 0).unwrap();
        thread::sleep(Duration::from_millis(2));
        for (pull, seen) in pulls.iter().zip(&mut probed) {
            while pull.recv_bytes(DONTWAIT).is_ok() {
                *seen = true;
            }
        }
    }
    let large: Vec<Vec<String>> = (0..12)
        .map(|k| vec![make(k, 200_000 + k), make(k + 50, 3)])
        .collect();
    for (k, msg) in large.iter().enumerate() {
        send_msg(&push, msg, k);
    }
    let mut got: Vec<Vec<Vec<u8>>> = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
    while got.len() < large.len() && Instant::now() < deadline {
        for pull in &pulls {
            while let Ok(msg) = pull.recv_multipart(DONTWAIT) {
                got.push(msg);
            }
        }
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(got.len(), large.len(), "{tr:?}: messages to two peers");
    for msg in got {
        let k = large
            .iter()
            .position(|m| m[0].len() == msg[0].len())
            .expect("a message that was sent");
        check(msg, &large[k], "message to one of two peers");
    }

    let router = sock(&ctx, zmq::ROUTER);
    let ep = bind(&router, tr);
    let dealer = sock(&ctx, zmq::DEALER);
    dealer.connect(&ep).unwrap();
    for (k, &len) in sizes.iter().enumerate() {
        let msg = [make(k, len), make(k + 1, 2), make(k + 2, len)];
        send_msg(&dealer, &msg, k);
        let mut got = recv_parts(&router);
        let id = got.remove(0);
        check(got, &msg, "DEALER message");
        router.send(&id, SNDMORE).unwrap();
        send_msg(&router, &msg, k);
        check(recv_parts(&dealer), &msg, "ROUTER message");
    }
}

/// REQ and REP with one connection wait on it and read it from the caller's thread
/// (`DirectRead`); everything else that may happen meanwhile still reaches them: a
/// timeout, a second client (through the I/O thread), PINGs that must be answered while
/// the caller waits, the peer going away, and the context's termination.
fn req_rep_read_by_the_callers(tr: Tr) {
    let mut ctx = Context::new();
    let rep = sock(&ctx, zmq::REP);
    let ep = bind(&rep, tr);
    let req = sock(&ctx, zmq::REQ);
    req.connect(&ep).unwrap();
    req.send("warm-up", 0).unwrap();
    assert_eq!(recv_str(&rep), "warm-up");
    rep.send("ok", 0).unwrap();
    assert_eq!(recv_str(&req), "ok");

    // RCVTIMEO while waiting on the connection.
    rep.set_rcvtimeo(100).unwrap();
    let start = Instant::now();
    assert_eq!(rep.recv_bytes(0), Err(Error::EAGAIN));
    assert_elapsed(start, 90, 2000);
    rep.set_rcvtimeo(TIMEOUT_MS).unwrap();

    // A second client's request, read by the I/O thread, wakes a REP that waits on the
    // first connection.
    let waiter = thread::spawn(move || {
        let got = recv_str(&rep);
        (rep, got)
    });
    thread::sleep(Duration::from_millis(50));
    let second = sock(&ctx, zmq::REQ);
    second.connect(&ep).unwrap();
    second.send("from the second", 0).unwrap();
    let (rep, got) = waiter.join().unwrap();
    assert_eq!(got, "from the second");
    rep.send("to the second", 0).unwrap();
    assert_eq!(recv_str(&second), "to the second");
    drop(second);

    // PINGs come while the REQ waits for a slow reply: it must answer them (it sends
    // none of its own), or the REP (100 ms timeout) drops the connection and the reply is
    // lost.
    if tr != Tr::Inproc {
        let (rep2, ep2) = bind_fresh(&ctx, tr, |s| {
            s.set_heartbeat_ivl(10).unwrap();
            s.set_heartbeat_timeout(100).unwrap();
        });
        let req2 = sock(&ctx, zmq::REQ);
        req2.connect(&ep2).unwrap();
        req2.send("slow", 0).unwrap();
        assert_eq!(recv_str(&rep2), "slow");
        let replier = thread::spawn(move || {
            thread::sleep(Duration::from_millis(500));
            rep2.send("late", 0).unwrap();
            rep2
        });
        assert_eq!(recv_str(&req2), "late");
        drop(replier.join().unwrap());
        drop(req2);
    }

    // The REP goes away while the REQ waits: the REQ keeps waiting (as libzmq's), until
    // its timeout.
    req.set_rcvtimeo(300).unwrap();
    req.send("unanswered", 0).unwrap();
    assert_eq!(recv_str(&rep), "unanswered");
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        drop(rep);
    });
    assert_eq!(req.recv_bytes(0), Err(Error::EAGAIN));
    closer.join().unwrap();

    // Termination ends a wait on the connection with ETERM.
    let rep = sock(&ctx, zmq::REP);
    rep.set_rcvtimeo(-1).unwrap();
    let ep = bind(&rep, tr);
    let client = sock(&ctx, zmq::REQ);
    client.connect(&ep).unwrap();
    client.send("one", 0).unwrap();
    assert_eq!(recv_str(&rep), "one");
    rep.send("done", 0).unwrap();
    assert_eq!(recv_str(&client), "done");
    let waiter = thread::spawn(move || {
        let r = rep.recv_bytes(0);
        drop(rep);
        r
    });
    thread::sleep(Duration::from_millis(50));
    drop(client);
    drop(req);
    ctx.destroy().unwrap();
    assert_eq!(waiter.join().unwrap(), Err(Error::ETERM));
}

/// A REP, configured by `setup` before its bind, and its endpoint.
/// After a REQ's caller read its connection itself, the connection's input stays that
/// thread's for a moment, unwatched by the I/O thread (`engine::READ_LEASE`). A wait of
/// another kind gives it back at once: a poll, `ZMQ_EVENTS`. With no call at all, the
/// lease ends by itself, and the peer's going away is still seen.
fn req_rep_input_lease(tr: Tr) {
    if !tr.is_network() {
        return;
    }
    let ctx = Context::new();
    let rep = sock(&ctx, zmq::REP);
    let ep = bind(&rep, tr);
    let server = thread::spawn(move || {
        // Ends with the REQ's "bye".
        loop {
            let request = recv_str(&rep);
            rep.send(request.as_str(), 0).unwrap();
            if request == "bye" {
                return rep;
            }
        }
    });
    let req = sock(&ctx, zmq::REQ);
    req.connect(&ep).unwrap();
    let rounds = 40;
    let start = Instant::now();
    for i in 0..rounds {
        // A blocking receive: read by this thread, which keeps the input.
        req.send("wait", 0).unwrap();
        assert_eq!(recv_str(&req), "wait");
        // The reply to the next request is awaited otherwise: it must not wait for the
        // lease to end (10 to 20 ms).
        req.send("poll", 0).unwrap();
        if i % 2 == 0 {
            let mut items = [req.as_poll_item(zmq::POLLIN)];
            assert_eq!(zmq::poll(&mut items, TIMEOUT_MS as i64).unwrap(), 1);
        } else {
            eventually("POLLIN", || req.get_events().unwrap().contains(zmq::POLLIN));
        }
        assert_eq!(recv_str(&req), "poll");
    }
    let ms = start.elapsed().as_millis();
    assert!(
        ms < rounds * 5,
        "{rounds} rounds took {ms} ms: the polls waited for the lease to end"
    );

    // The REQ's caller reads, then makes no call; its peer goes away meanwhile.
    let monitor = "inproc://req-input-lease";
    req.monitor(monitor, zmq::SocketEvent::DISCONNECTED as i32)
        .unwrap();
    let events = sock(&ctx, zmq::PAIR);
    events.connect(monitor).unwrap();
    req.send("bye", 0).unwrap();
    assert_eq!(recv_str(&req), "bye");
    drop(server.join().unwrap());
    let event = events.recv_multipart(0).expect("the REQ saw its peer go");
    let kind = u16::from_le_bytes([event[0][0], event[0][1]]);
    assert_eq!(kind, zmq::SocketEvent::DISCONNECTED as u16);
}

fn bind_fresh(ctx: &Context, tr: Tr, setup: impl FnOnce(&Socket)) -> (Socket, String) {
    let rep = sock(ctx, zmq::REP);
    setup(&rep);
    let ep = bind(&rep, tr);
    (rep, ep)
}

fn req_router(tr: Tr) {
    let ctx = Context::new();
    let router = sock(&ctx, zmq::ROUTER);
    let ep = bind(&router, tr);
    let req = sock(&ctx, zmq::REQ);
    req.set_identity(b"req-1").unwrap();
    req.connect(&ep).unwrap();
    for i in 0..10 {
        req.send(format!("q{i}").as_str(), 0).unwrap();
        assert_eq!(
            recv_parts(&router),
            parts(&[b"req-1", b"", format!("q{i}").as_bytes()])
        );
        send_parts(&router, &[b"req-1", b"", format!("a{i}").as_bytes()]);
        assert_eq!(recv_str(&req), format!("a{i}"));
    }
    // A reply without the delimiter is not a reply: the REQ drops it.
    req.send("q", 0).unwrap();
    assert_eq!(recv_parts(&router), parts(&[b"req-1", b"", b"q"]));
    send_parts(&router, &[b"req-1", b"bogus"]);
    send_parts(&router, &[b"req-1", b"", b"good"]);
    assert_eq!(recv_str(&req), "good");
}

fn dealer_rep(tr: Tr) {
    let ctx = Context::new();
    let rep = sock(&ctx, zmq::REP);
    let ep = bind(&rep, tr);
    let dealer = sock(&ctx, zmq::DEALER);
    dealer.connect(&ep).unwrap();
    // A DEALER may send several requests at once; each needs the empty delimiter.
    for i in 0..5 {
        send_parts(&dealer, &[b"", format!("q{i}").as_bytes()]);
    }
    for i in 0..5 {
        assert_eq!(recv_str(&rep), format!("q{i}"));
        rep.send(format!("a{i}").as_str(), 0).unwrap();
    }
    for i in 0..5 {
        assert_eq!(
            recv_parts(&dealer),
            parts(&[b"", format!("a{i}").as_bytes()])
        );
    }
    // An envelope with several hops comes back whole.
    send_parts(&dealer, &[b"hop1", b"hop2", b"", b"deep"]);
    assert_eq!(recv_str(&rep), "deep");
    send_parts(&rep, &[b"r1", b"r2"]);
    assert_eq!(
        recv_parts(&dealer),
        parts(&[b"hop1", b"hop2", b"", b"r1", b"r2"])
    );
}

fn dealer_router(tr: Tr) {
    let ctx = Context::new();
    let router = sock(&ctx, zmq::ROUTER);
    let ep = bind(&router, tr);
    let dealers: Vec<Socket> = ["d0", "d1", "d2"]
        .iter()
        .map(|id| {
            let d = sock(&ctx, zmq::DEALER);
            d.set_identity(id.as_bytes()).unwrap();
            d.connect(&ep).unwrap();
            d
        })
        .collect();
    for (i, d) in dealers.iter().enumerate() {
        send_parts(d, &[b"hello", format!("{i}").as_bytes()]);
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = recv_parts(&router);
        assert_eq!(m.len(), 3);
        assert_eq!(m[1], b"hello");
        assert_eq!(
            m[0],
            format!("d{}", String::from_utf8_lossy(&m[2])).as_bytes()
        );
        got.push(m[0].clone());
    }
    got.sort();
    assert_eq!(got, parts(&[b"d0", b"d1", b"d2"]));
    // Replies go to the peer named.
    for i in (0..3).rev() {
        send_parts(
            &router,
            &[
                format!("d{i}").as_bytes(),
                b"for",
                format!("{i}").as_bytes(),
            ],
        );
    }
    for (i, d) in dealers.iter().enumerate() {
        assert_eq!(recv_parts(d), parts(&[b"for", format!("{i}").as_bytes()]));
    }
    // An unknown routing id is dropped silently without ROUTER_MANDATORY.
    send_parts(&router, &[b"nobody", b"lost"]);
    send_parts(&router, &[b"d0", b"found"]);
    assert_eq!(recv_parts(&dealers[0]), parts(&[b"found"]));
}

fn dealer_dealer(tr: Tr) {
    let ctx = Context::new();
    let a = sock(&ctx, zmq::DEALER);
    let ep = bind(&a, tr);
    let b = sock(&ctx, zmq::DEALER);
    b.connect(&ep).unwrap();
    for i in 0..10 {
        send_parts(&b, &[b"b", format!("{i}").as_bytes()]);
    }
    for i in 0..10 {
        assert_eq!(recv_parts(&a), parts(&[b"b", format!("{i}").as_bytes()]));
        send_parts(&a, &[b"a", format!("{i}").as_bytes()]);
    }
    for i in 0..10 {
        assert_eq!(recv_parts(&b), parts(&[b"a", format!("{i}").as_bytes()]));
    }
}

fn router_router(tr: Tr) {
    let ctx = Context::new();
    let server = sock(&ctx, zmq::ROUTER);
    server.set_identity(b"server").unwrap();
    let ep = bind(&server, tr);
    let client = sock(&ctx, zmq::ROUTER);
    client.set_identity(b"client").unwrap();
    client.set_router_mandatory(true).unwrap();
    client.connect(&ep).unwrap();
    // The client learns the server's routing id in the handshake.
    send_routed(&client, b"server", &[b"hello"]);
    assert_eq!(recv_parts(&server), parts(&[b"client", b"hello"]));
    send_parts(&server, &[b"client", b"world"]);
    assert_eq!(recv_parts(&client), parts(&[b"server", b"world"]));

    // CONNECT_ROUTING_ID names the peer of the next connect on our side.
    let other = sock(&ctx, zmq::ROUTER);
    other.set_identity(b"other").unwrap();
    let ep2 = bind(&other, tr);
    client.set_connect_routing_id(b"alias").unwrap();
    client.connect(&ep2).unwrap();
    send_routed(&client, b"alias", &[b"via alias"]);
    assert_eq!(recv_parts(&other), parts(&[b"client", b"via alias"]));
    send_parts(&other, &[b"client", b"back"]);
    assert_eq!(recv_parts(&client), parts(&[b"alias", b"back"]));
}

fn push_pull(tr: Tr) {
    let ctx = Context::new();
    // PULL binds.
    let pull = sock(&ctx, zmq::PULL);
    let ep = bind(&pull, tr);
    let push = sock(&ctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    for i in 0..100 {
        push.send(format!("{i}").as_str(), 0).unwrap();
    }
    for i in 0..100 {
        assert_eq!(recv_str(&pull), format!("{i}"));
    }
    assert_eq!(pull.send("x", 0), Err(Error::ENOTSUP));
    assert_eq!(push.recv_bytes(0), Err(Error::ENOTSUP));

    // PUSH binds.
    let push = sock(&ctx, zmq::PUSH);
    let ep = bind(&push, tr);
    let pull = sock(&ctx, zmq::PULL);
    pull.connect(&ep).unwrap();
    for i in 0..100 {
        push.send(format!("{i}").as_str(), 0).unwrap();
    }
    for i in 0..100 {
        assert_eq!(recv_str(&pull), format!("{i}"));
    }
}

fn push_round_robin(tr: Tr) {
    let ctx = Context::new();
    let pulls: Vec<Socket> = (0..3).map(|_| sock(&ctx, zmq::PULL)).collect();
    let push = sock(&ctx, zmq::PUSH);
    for p in &pulls {
        push.connect(&bind(p, tr)).unwrap();
    }
    for i in 0..30u32 {
        push.send(&i.to_le_bytes()[..], 0).unwrap();
    }
    let mut residues = HashSet::new();
    for p in &pulls {
        let got: Vec<u32> = (0..10)
            .map(|_| u32::from_le_bytes(p.recv_bytes(0).unwrap().try_into().unwrap()))
            .collect();
        let r = got[0] % 3;
        let expected: Vec<u32> = (0..10).map(|k| r + 3 * k).collect();
        assert_eq!(got, expected, "round-robin over the three PULLs");
        residues.insert(r);
        assert_eq!(p.recv_bytes(DONTWAIT), Err(Error::EAGAIN));
    }
    assert_eq!(residues.len(), 3);
}

fn pull_fair_queue(tr: Tr) {
    let ctx = Context::new();
    let pull = sock(&ctx, zmq::PULL);
    let ep = bind(&pull, tr);
    let pushes: Vec<Socket> = (0..3)
        .map(|_| {
            let p = sock(&ctx, zmq::PUSH);
            p.connect(&ep).unwrap();
            p
        })
        .collect();
    // Each pusher connects and is heard from before the measured run.
    for (i, p) in pushes.iter().enumerate() {
        p.send(format!("hi {i}").as_str(), 0).unwrap();
    }
    let mut hello: Vec<String> = (0..3).map(|_| recv_str(&pull)).collect();
    hello.sort();
    assert_eq!(hello, ["hi 0", "hi 1", "hi 2"]);
    // Each pusher queues 20; the last one sends a marker after its batch, and the
    // puller waits for all to arrive so that all three queues are full when it reads.
    for (i, p) in pushes.iter().enumerate() {
        for k in 0..20 {
            p.send(format!("{i}-{k}").as_str(), 0).unwrap();
        }
    }
    if tr.is_network() {
        // The messages must reach the PULL's queues before it reads, for the fairness
        // check below; a short settle time is enough on loopback.
        thread::sleep(Duration::from_millis(200));
    }
    let got: Vec<String> = (0..60).map(|_| recv_str(&pull)).collect();
    for i in 0..3 {
        let from_i: Vec<&String> = got
            .iter()
            .filter(|m| m.starts_with(&format!("{i}-")))
            .collect();
        let expected: Vec<String> = (0..20).map(|k| format!("{i}-{k}")).collect();
        assert_eq!(
            from_i,
            expected.iter().collect::<Vec<_>>(),
            "order per pusher"
        );
    }
    // Fair-queued: every window of three holds one message from each pusher.
    for w in got.chunks(3) {
        let senders: HashSet<&str> = w.iter().map(|m| &m[..1]).collect();
        assert_eq!(senders.len(), 3, "not fair-queued: {got:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Message shapes and volume

fn multipart_and_empty_frames(tr: Tr) {
    let ctx = Context::new();
    let a = sock(&ctx, zmq::DEALER);
    let ep = bind(&a, tr);
    let b = sock(&ctx, zmq::DEALER);
    b.connect(&ep).unwrap();
    let shapes: Vec<Vec<&[u8]>> = vec![
        vec![b""],
        vec![b"", b""],
        vec![b"a", b"", b"b", b""],
        vec![b"", b"x"],
        (0..100).map(|_| &b"part"[..]).collect(),
    ];
    for shape in &shapes {
        send_parts(&b, shape);
    }
    for shape in &shapes {
        let mut got = Vec::new();
        loop {
            let mut msg = Message::new();
            a.recv(&mut msg, 0).unwrap();
            let more = msg.get_more();
            assert_eq!(more, a.get_rcvmore().unwrap());
            got.push(msg.to_vec());
            if !more {
                break;
            }
        }
        assert_eq!(got, parts(shape));
    }
    // Frames sent one by one with SNDMORE arrive as one message, after its last frame.
    b.send("one", SNDMORE).unwrap();
    b.send("two", SNDMORE).unwrap();
    assert_eq!(a.recv_bytes(DONTWAIT), Err(Error::EAGAIN));
    b.send("", 0).unwrap();
    assert_eq!(recv_parts(&a), parts(&[b"one", b"two", b""]));
    // A zero-length buffer receive reports the full size.
    b.send("sixteen bytes!!!", 0).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(a.recv_into(&mut buf, 0).unwrap(), 16);
    assert_eq!(&buf, b"sixt");
}

fn large_messages(tr: Tr) {
    let ctx = Context::new();
    let a = sock(&ctx, zmq::PAIR);
    let ep = bind(&a, tr);
    let b = sock(&ctx, zmq::PAIR);
    b.connect(&ep).unwrap();
    const MIB: usize = 1 << 20;
    let make = |seed: u8, len: usize| -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    };
    let sender = thread::spawn(move || {
        for k in 0..8u8 {
            b.send(make(k, MIB), 0).unwrap();
        }
        // A multipart message with a large frame between small ones.
        b.send_multipart([make(100, 3), make(101, MIB + 17), Vec::new()], 0)
            .unwrap();
        let echo = b.recv_bytes(0).unwrap();
        assert_eq!(echo, make(7, MIB));
        b
    });
    for k in 0..8u8 {
        let got = a.recv_bytes(0).unwrap();
        assert_eq!(got.len(), MIB);
        assert!(got == make(k, MIB), "content of 1 MiB message {k}");
    }
    let m = recv_parts(&a);
    assert_eq!(m.len(), 3);
    assert!(m[0] == make(100, 3) && m[1] == make(101, MIB + 17) && m[2].is_empty());
    a.send(make(7, MIB), 0).unwrap();
    let _b = sender.join().unwrap();
}

/// Large frames of sizes around the receive path's thresholds and the recycled buffers'
/// size classes, each followed at once by a small frame and a message of the same size:
/// the reads that end a body also take the next frame's first bytes, and bodies land in
/// new and in recycled buffers (whose stale content must never show).
fn large_frames_of_many_sizes(tr: Tr) {
    let ctx = Context::new();
    let a = sock(&ctx, zmq::PULL);
    let ep = bind(&a, tr);
    let b = sock(&ctx, zmq::PUSH);
    b.connect(&ep).unwrap();
    const SIZES: [usize; 10] = [
        8 * 1024 + 1,
        16 * 1024,
        16 * 1024 + 1,
        32 * 1024 - 7,
        65_535,
        65_536,
        65_537,
        200_001,
        (1 << 20) - 48,
        (1 << 20) + 3,
    ];
    let make = |seed: usize, len: usize| -> Vec<u8> {
        (0..len).map(|i| (i.wrapping_mul(7) ^ seed) as u8).collect()
    };
    let sender = thread::spawn(move || {
        for (k, &len) in SIZES.iter().enumerate() {
            for round in 0..3 {
                let seed = k * 3 + round;
                // From a slice (the facade's copy into a recycled buffer) and from a vector.
                b.send(&make(seed, len)[..], SNDMORE).unwrap();
                b.send(make(seed + 100, 5), SNDMORE).unwrap();
                b.send(make(seed + 200, len), 0).unwrap();
            }
        }
        b
    });
    for (k, &len) in SIZES.iter().enumerate() {
        for round in 0..3 {
            let seed = k * 3 + round;
            let m = recv_parts(&a);
            assert_eq!(m.len(), 3, "size {len} round {round}");
            assert!(
                m[0] == make(seed, len),
                "first frame of {len} bytes, round {round}"
            );
            assert!(m[1] == make(seed + 100, 5));
            assert!(
                m[2] == make(seed + 200, len),
                "last frame of {len} bytes, round {round}"
            );
        }
    }
    let _b = sender.join().unwrap();
}

fn stream_100k(tr: Tr) {
    const N: u64 = 100_000;
    let ctx = Context::new();
    let pull = sock(&ctx, zmq::PULL);
    let ep = bind(&pull, tr);
    let push = sock(&ctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    let sender = thread::spawn(move || {
        for i in 0..N {
            push.send(&i.to_le_bytes()[..], 0).unwrap();
        }
        push
    });
    let mut buf = [0u8; 16];
    for i in 0..N {
        let n = pull.recv_into(&mut buf, 0).unwrap();
        assert_eq!(n, 8);
        let got = u64::from_le_bytes(buf[..8].try_into().unwrap());
        assert_eq!(got, i, "message lost or reordered");
    }
    let _push = sender.join().unwrap();
    assert_eq!(pull.recv_bytes(DONTWAIT), Err(Error::EAGAIN));
}

// ---------------------------------------------------------------------------------------
// High-water marks and timeouts

/// A PUSH with SNDHWM 1 to a PULL with RCVHWM 1 that does not read.
fn blocked_pipeline(ctx: &Context, tr: Tr) -> (Socket, Socket) {
    let pull = sock(ctx, zmq::PULL);
    pull.set_rcvhwm(1).unwrap();
    let ep = bind(&pull, tr);
    let push = sock(ctx, zmq::PUSH);
    push.set_sndhwm(1).unwrap();
    push.set_linger(0).unwrap();
    push.connect(&ep).unwrap();
    // The connection is up once a message went through.
    push.send("first", 0).unwrap();
    assert_eq!(recv_str(&pull), "first");
    (push, pull)
}

fn hwm_dontwait(tr: Tr) {
    let ctx = Context::new();
    let (push, pull) = blocked_pipeline(&ctx, tr);
    // inproc queues exactly SNDHWM + RCVHWM; over a network the engines' buffers and the
    // kernel's hold more, but not without bound.
    let max = if tr.is_network() { NETWORK_FILL_MAX } else { 2 };
    let sent = fill(&push, FILL_MSG, max);
    if tr == Tr::Inproc {
        assert_eq!(sent, 2);
    }
    assert_eq!(push.send(FILL_MSG, DONTWAIT), Err(Error::EAGAIN));
    assert!(!push.get_events().unwrap().contains(zmq::POLLOUT));
    // Everything taken is delivered, in order, and then sending works again.
    for _ in 0..sent {
        assert!(pull.recv_bytes(0).unwrap() == FILL_MSG);
    }
    push.send("after", 0).unwrap();
    assert_eq!(recv_str(&pull), "after");
    assert_eq!(pull.recv_bytes(DONTWAIT), Err(Error::EAGAIN));
}

fn hwm_small_messages(tr: Tr) {
    // The high-water mark bounds what a sender queues even when a message is a few
    // bytes: the engine leaves messages in the pipe while the socket cannot take them,
    // instead of moving a whole write batch (tens of thousands of such messages) out of
    // the high-water mark's sight.
    let max = match tr {
        // Unix sockets hold a few hundred small writes.
        Tr::Ipc => 2_000,
        Tr::Inproc => 2,
        // Loopback TCP merges tiny segments and charges only their payload: it takes
        // megabytes of them (a million messages, for half a minute) before it pushes
        // back, whatever the runtime does. The engine is the same as for ipc.
        Tr::Tcp => return,
    };
    let ctx = Context::new();
    let (push, pull) = blocked_pipeline(&ctx, tr);
    let sent = fill(&push, b"s", max);
    for _ in 0..sent {
        assert_eq!(recv_str(&pull), "s");
    }
    push.send("after", 0).unwrap();
    assert_eq!(recv_str(&pull), "after");
}

fn hwm_blocks_until_read(tr: Tr) {
    let ctx = Context::new();
    let (push, pull) = blocked_pipeline(&ctx, tr);
    let sent = fill(&push, FILL_MSG, NETWORK_FILL_MAX);
    // A blocking send waits for the reader.
    push.set_sndtimeo(-1).unwrap();
    let reading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let blocked = thread::spawn({
        let reading = reading.clone();
        move || {
            push.send("unblocked", 0).unwrap();
            // The send could only complete once the reader made room.
            (push, reading.load(Ordering::SeqCst))
        }
    });
    thread::sleep(Duration::from_millis(50));
    reading.store(true, Ordering::SeqCst);
    for _ in 0..sent {
        assert!(pull.recv_bytes(0).unwrap() == FILL_MSG);
    }
    assert_eq!(recv_str(&pull), "unblocked");
    let (_push, after_reading) = blocked.join().unwrap();
    assert!(after_reading, "send did not block until the reader read");
}

fn hwm_sndtimeo(tr: Tr) {
    let ctx = Context::new();
    let (push, _pull) = blocked_pipeline(&ctx, tr);
    push.set_sndtimeo(100).unwrap();
    // If the kernel still took something after the socket looked full, fill again.
    let mut attempts = 0;
    loop {
        fill(&push, FILL_MSG, NETWORK_FILL_MAX);
        let start = Instant::now();
        match push.send(FILL_MSG, 0) {
            Err(Error::EAGAIN) => {
                assert_elapsed(start, 95, 1000);
                break;
            }
            Ok(()) if tr.is_network() && attempts < 5 => attempts += 1,
            other => panic!("a send to a full peer with SNDTIMEO: {other:?}"),
        }
    }
    // SNDTIMEO 0 is DONTWAIT.
    push.set_sndtimeo(0).unwrap();
    let start = Instant::now();
    assert_eq!(push.send("late", 0), Err(Error::EAGAIN));
    assert_elapsed(start, 0, 1000);
    // A PUSH without peers blocks too.
    let lonely = sock(&ctx, zmq::PUSH);
    lonely.set_sndtimeo(50).unwrap();
    let start = Instant::now();
    assert_eq!(lonely.send("x", 0), Err(Error::EAGAIN));
    assert_elapsed(start, 45, 1000);
}

fn rcvtimeo(tr: Tr) {
    let ctx = Context::new();
    let pull = sock(&ctx, zmq::PULL);
    let ep = bind(&pull, tr);
    let push = sock(&ctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    pull.set_rcvtimeo(100).unwrap();
    let start = Instant::now();
    assert_eq!(pull.recv_bytes(0), Err(Error::EAGAIN));
    assert_elapsed(start, 95, 1000);
    // DONTWAIT, and RCVTIMEO 0, do not wait (the long timeout would show if they did).
    pull.set_rcvtimeo(TIMEOUT_MS).unwrap();
    let start = Instant::now();
    assert_eq!(pull.recv_bytes(DONTWAIT), Err(Error::EAGAIN));
    assert_elapsed(start, 0, 1000);
    pull.set_rcvtimeo(0).unwrap();
    let start = Instant::now();
    assert_eq!(pull.recv_bytes(0), Err(Error::EAGAIN));
    assert_elapsed(start, 0, 1000);
    // A message arriving during the wait ends it at once.
    pull.set_rcvtimeo(TIMEOUT_MS).unwrap();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        push.send("late", 0).unwrap();
        push
    });
    let start = Instant::now();
    assert_eq!(recv_str(&pull), "late");
    assert_elapsed(start, 40, 2000);
    let _push = sender.join().unwrap();
    // REQ waiting for a reply times out the same way.
    let rep = sock(&ctx, zmq::REP);
    let ep = bind(&rep, tr);
    let req = sock(&ctx, zmq::REQ);
    req.set_rcvtimeo(60).unwrap();
    req.connect(&ep).unwrap();
    req.send("q", 0).unwrap();
    let start = Instant::now();
    assert_eq!(req.recv_bytes(0), Err(Error::EAGAIN));
    assert_elapsed(start, 55, 1000);
}

// ---------------------------------------------------------------------------------------
// Connection management

fn reconnect_after_restart(tr: Tr) {
    let ctx = Context::new();
    let ep = tr.fresh();
    let pull = sock(&ctx, zmq::PULL);
    pull.bind(&ep).unwrap();
    let push = sock(&ctx, zmq::PUSH);
    push.set_reconnect_ivl(20).unwrap();
    push.connect(&ep).unwrap();
    push.send("before", 0).unwrap();
    assert_eq!(recv_str(&pull), "before");
    drop(pull);

    let pull = sock(&ctx, zmq::PULL);
    if tr == Tr::Inproc {
        // inproc does not reconnect (as libzmq); the name is free again, and a new
        // connect reaches the new socket.
        pull.bind(&ep).unwrap();
        let push2 = sock(&ctx, zmq::PUSH);
        push2.connect(&ep).unwrap();
        push2.send("after", 0).unwrap();
        assert_eq!(recv_str(&pull), "after");
        return;
    }
    // The same port or path is bound again.
    pull.bind(&ep).unwrap();
    pull.set_rcvtimeo(100).unwrap();
    // A message written while the old connection was dying may be lost; keep sending
    // until the new connection carries one, then the stream is whole again.
    let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
    loop {
        push.send("probe", 0).unwrap();
        if pull.recv_bytes(0).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "no reconnect");
    }
    pull.set_rcvtimeo(TIMEOUT_MS).unwrap();
    while pull.recv_bytes(DONTWAIT).is_ok() {}
    for i in 0..100 {
        push.send(format!("{i}").as_str(), 0).unwrap();
    }
    for i in 0..100 {
        assert_eq!(recv_str(&pull), format!("{i}"));
    }
}

fn connect_before_bind(tr: Tr) {
    let ctx = Context::new();
    let ep = tr.fresh();
    let push = sock(&ctx, zmq::PUSH);
    push.set_reconnect_ivl(10).unwrap();
    push.connect(&ep).unwrap();
    // Messages queue to the connect before the peer exists.
    for i in 0..10 {
        push.send(format!("{i}").as_str(), 0).unwrap();
    }
    let ep2 = tr.fresh();
    let req = sock(&ctx, zmq::REQ);
    req.set_reconnect_ivl(10).unwrap();
    req.connect(&ep2).unwrap();
    req.send("request", 0).unwrap();
    thread::sleep(Duration::from_millis(30));

    let pull = sock(&ctx, zmq::PULL);
    pull.bind(&ep).unwrap();
    for i in 0..10 {
        assert_eq!(recv_str(&pull), format!("{i}"));
    }
    let rep = sock(&ctx, zmq::REP);
    rep.bind(&ep2).unwrap();
    assert_eq!(recv_str(&rep), "request");
    rep.send("reply", 0).unwrap();
    assert_eq!(recv_str(&req), "reply");

    // A ROUTER connecting first learns the peer's routing id when it binds.
    let ep3 = tr.fresh();
    let router = sock(&ctx, zmq::ROUTER);
    router.set_router_mandatory(true).unwrap();
    router.connect(&ep3).unwrap();
    let dealer = sock(&ctx, zmq::DEALER);
    dealer.set_identity(b"late-binder").unwrap();
    dealer.bind(&ep3).unwrap();
    send_routed(&router, b"late-binder", &[b"found you"]);
    assert_eq!(recv_parts(&dealer), parts(&[b"found you"]));
}

fn linger_delivers_on_close(tr: Tr) {
    // The sender's context goes away right after its socket: termination waits for the
    // connection to deliver what was queued.
    let rctx = Context::new();
    let sctx = if tr.is_network() {
        Context::new()
    } else {
        rctx.clone()
    };
    let pull = sock(&rctx, zmq::PULL);
    let ep = bind(&pull, tr);
    let big = vec![7u8; 100_000];
    let push = sock(&sctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    for i in 0..200u32 {
        if i % 20 == 0 {
            push.send(&big[..], 0).unwrap();
        } else {
            push.send(&i.to_le_bytes()[..], 0).unwrap();
        }
    }
    drop(push);
    drop(sctx);
    for i in 0..200u32 {
        let m = pull.recv_bytes(0).unwrap();
        if i % 20 == 0 {
            assert!(m == big);
        } else {
            assert_eq!(m, i.to_le_bytes());
        }
    }

    // The same from the bound side, to a peer that connected.
    let sctx = if tr.is_network() {
        Context::new()
    } else {
        rctx.clone()
    };
    let push = sock(&sctx, zmq::PUSH);
    let ep = bind(&push, tr);
    let pull = sock(&rctx, zmq::PULL);
    pull.connect(&ep).unwrap();
    push.send("hello", 0).unwrap();
    assert_eq!(recv_str(&pull), "hello");
    for i in 0..100 {
        push.send(format!("{i}").as_str(), 0).unwrap();
    }
    drop(push);
    drop(sctx);
    for i in 0..100 {
        assert_eq!(recv_str(&pull), format!("{i}"));
    }

    // Connected before the peer exists, sent, closed: with the default linger the
    // messages wait for the bind, and the sender's context termination waits for them.
    let ep = tr.fresh();
    let sctx = if tr.is_network() {
        Context::new()
    } else {
        rctx.clone()
    };
    let sender = {
        let ep = ep.clone();
        thread::spawn(move || {
            let push = sock(&sctx, zmq::PUSH);
            push.set_reconnect_ivl(10).unwrap();
            push.connect(&ep).unwrap();
            for i in 0..3 {
                push.send(format!("early {i}").as_str(), 0).unwrap();
            }
            drop(push);
            drop(sctx);
        })
    };
    thread::sleep(Duration::from_millis(100));
    let pull = sock(&rctx, zmq::PULL);
    pull.bind(&ep).unwrap();
    for i in 0..3 {
        assert_eq!(recv_str(&pull), format!("early {i}"));
    }
    sender.join().unwrap();
}

fn linger_zero_drops(tr: Tr) {
    let rctx = Context::new();
    let sctx = if tr.is_network() {
        Context::new()
    } else {
        rctx.clone()
    };
    let pull = sock(&rctx, zmq::PULL);
    pull.set_rcvhwm(1).unwrap();
    let ep = bind(&pull, tr);
    let push = sock(&sctx, zmq::PUSH);
    push.set_sndhwm(1).unwrap();
    push.set_linger(0).unwrap();
    push.connect(&ep).unwrap();
    push.send("first", 0).unwrap();
    assert_eq!(recv_str(&pull), "first");
    let sent = fill(&push, &[0u8; 1000], 100_000);
    let start = Instant::now();
    drop(push);
    drop(sctx);
    // Prompt: the stuck peer would otherwise hold termination up forever.
    assert_elapsed(start, 0, 2000);
    pull.set_rcvtimeo(100).unwrap();
    let mut got = 0;
    while pull.recv_bytes(0).is_ok() {
        got += 1;
    }
    if tr.is_network() {
        // What was still queued on the sender's side is gone.
        assert!(
            got < sent,
            "linger 0 should drop what was queued ({got} of {sent})"
        );
    } else {
        // inproc has one queue, the receiver's: what was sent is there already (as in
        // libzmq, whose inproc pipe delivers what it holds whatever the linger).
        assert_eq!(got, sent);
    }

    // A finite linger bounds termination when the peer never appears. (With the default,
    // infinite linger termination waits for the peer, as libzmq's does: see smoke.rs.)
    if tr.is_network() {
        let ctx = Context::new();
        let push = sock(&ctx, zmq::PUSH);
        push.set_linger(100).unwrap();
        push.set_reconnect_ivl(10).unwrap();
        push.connect(&tr.fresh()).unwrap();
        push.send("nobody", 0).unwrap();
        let start = Instant::now();
        drop(push);
        drop(ctx);
        assert_elapsed(start, 90, 2000);
    }
}

fn unbind_and_disconnect(tr: Tr) {
    let ctx = Context::new();
    let pull = sock(&ctx, zmq::PULL);
    assert_eq!(pull.unbind(&tr.fresh()), Err(Error::ENOENT));
    assert_eq!(pull.disconnect(&tr.fresh()), Err(Error::ENOENT));
    let ep = bind(&pull, tr);
    // A bound endpoint is not a connect.
    assert_eq!(pull.disconnect(&ep), Err(Error::ENOENT));

    let push = sock(&ctx, zmq::PUSH);
    push.set_linger(0).unwrap();
    push.connect(&ep).unwrap();
    push.send("before", 0).unwrap();
    assert_eq!(recv_str(&pull), "before");
    pull.unbind(&ep).unwrap();
    assert_eq!(pull.unbind(&ep), Err(Error::ENOENT));
    // The connections accepted through it are closed: nothing more arrives.
    let _ = push.send("after", DONTWAIT);
    pull.set_rcvtimeo(200).unwrap();
    assert_eq!(pull.recv_bytes(0), Err(Error::EAGAIN));
    // The endpoint can be bound again.
    let pull2 = sock(&ctx, zmq::PULL);
    pull2.bind(&ep).unwrap();
    drop(pull2);

    // disconnect: a PUSH connected to two PULLs sends only to the one left.
    let a = sock(&ctx, zmq::PULL);
    let b = sock(&ctx, zmq::PULL);
    let ep_a = bind(&a, tr);
    let ep_b = bind(&b, tr);
    let push = sock(&ctx, zmq::PUSH);
    push.connect(&ep_a).unwrap();
    push.connect(&ep_b).unwrap();
    push.send("1", 0).unwrap();
    push.send("2", 0).unwrap();
    let mut got = [recv_str(&a), recv_str(&b)];
    got.sort();
    assert_eq!(got, ["1", "2"]);
    push.disconnect(&ep_a).unwrap();
    assert_eq!(push.disconnect(&ep_a), Err(Error::ENOENT));
    for i in 0..10 {
        push.send(format!("{i}").as_str(), 0).unwrap();
    }
    for i in 0..10 {
        assert_eq!(recv_str(&b), format!("{i}"));
    }
    a.set_rcvtimeo(100).unwrap();
    assert_eq!(a.recv_bytes(0), Err(Error::EAGAIN));
}

fn immediate(tr: Tr) {
    let ctx = Context::new();
    let pull = sock(&ctx, zmq::PULL);
    let ep = bind(&pull, tr);
    let push = sock(&ctx, zmq::PUSH);
    push.set_immediate(true).unwrap();
    assert!(push.is_immediate().unwrap());
    if tr.is_network() {
        // A connect that never completes gets no messages.
        push.set_reconnect_ivl(10).unwrap();
        push.connect(&tr.fresh()).unwrap();
    }
    push.connect(&ep).unwrap();
    // Sending blocks until the live connection is up, then everything goes there.
    for i in 0..20 {
        push.send(format!("{i}").as_str(), 0).unwrap();
    }
    for i in 0..20 {
        assert_eq!(recv_str(&pull), format!("{i}"));
    }
    // Without peers, an IMMEDIATE socket has nothing to queue to.
    let lonely = sock(&ctx, zmq::DEALER);
    lonely.set_immediate(true).unwrap();
    if tr.is_network() {
        lonely.connect(&tr.fresh()).unwrap();
    }
    assert_eq!(lonely.send("x", DONTWAIT), Err(Error::EAGAIN));
}

// ---------------------------------------------------------------------------------------
// Routing options

fn router_mandatory(tr: Tr) {
    let ctx = Context::new();
    let router = sock(&ctx, zmq::ROUTER);
    // Pipes take the high-water marks in force when they are made.
    router.set_sndhwm(1).unwrap();
    let ep = bind(&router, tr);
    assert!(!router.is_router_mandatory().unwrap());
    // Without the option an unknown peer's message is dropped.
    send_parts(&router, &[b"ghost", b"dropped"]);
    router.set_router_mandatory(true).unwrap();
    assert_eq!(router.send("ghost", SNDMORE), Err(Error::EHOSTUNREACH));
    assert_eq!(
        router.send("ghost", SNDMORE | DONTWAIT),
        Err(Error::EHOSTUNREACH)
    );

    let dealer = sock(&ctx, zmq::DEALER);
    dealer.set_identity(b"known").unwrap();
    dealer.set_rcvhwm(1).unwrap();
    dealer.connect(&ep).unwrap();
    dealer.send("hi", 0).unwrap();
    assert_eq!(recv_parts(&router), parts(&[b"known", b"hi"]));
    send_parts(&router, &[b"known", b"reply"]);
    assert_eq!(recv_parts(&dealer), parts(&[b"reply"]));
    // A peer that stops reading: eventually EAGAIN rather than a drop.
    let sent = fill_with(&router, NETWORK_FILL_MAX, |r| {
        r.send("known", SNDMORE | DONTWAIT)?;
        r.send(FILL_MSG, 0)
    });
    if tr == Tr::Inproc {
        // SNDHWM 1 + RCVHWM 1.
        assert_eq!(sent, 2);
    }
    for _ in 0..sent {
        let m = recv_parts(&dealer);
        assert!(m.len() == 1 && m[0] == FILL_MSG);
    }
    // A peer that went away is unreachable again.
    drop(dealer);
    eventually("the peer to be detached", || {
        match router.send("known", SNDMORE | DONTWAIT) {
            Err(Error::EHOSTUNREACH) => true,
            // Still there (or full): finish the message and look again.
            Ok(()) => {
                router.send("x", 0).unwrap();
                false
            }
            Err(Error::EAGAIN) => false,
            Err(e) => panic!("{e}"),
        }
    });
}

fn router_handover(tr: Tr) {
    let ctx = Context::new();
    let router = sock(&ctx, zmq::ROUTER);
    router.set_router_handover(true).unwrap();
    let ep = bind(&router, tr);
    let first = sock(&ctx, zmq::DEALER);
    first.set_identity(b"X").unwrap();
    first.connect(&ep).unwrap();
    first.send("from first", 0).unwrap();
    assert_eq!(recv_parts(&router), parts(&[b"X", b"from first"]));

    let second = sock(&ctx, zmq::DEALER);
    second.set_identity(b"X").unwrap();
    second.connect(&ep).unwrap();
    second.send("from second", 0).unwrap();
    assert_eq!(recv_parts(&router), parts(&[b"X", b"from second"]));
    // The routing id now names the second peer.
    send_parts(&router, &[b"X", b"to X"]);
    assert_eq!(recv_parts(&second), parts(&[b"to X"]));
    first.set_rcvtimeo(100).unwrap();
    assert_eq!(first.recv_bytes(0), Err(Error::EAGAIN));

    // Without handover, the newcomer with a taken id is refused; the first one keeps it.
    let router = sock(&ctx, zmq::ROUTER);
    let ep = bind(&router, tr);
    let first = sock(&ctx, zmq::DEALER);
    first.set_identity(b"Y").unwrap();
    first.connect(&ep).unwrap();
    first.send("one", 0).unwrap();
    assert_eq!(recv_parts(&router), parts(&[b"Y", b"one"]));
    let second = sock(&ctx, zmq::DEALER);
    second.set_identity(b"Y").unwrap();
    second.set_linger(0).unwrap();
    second.connect(&ep).unwrap();
    let _ = second.send("refused", DONTWAIT);
    router.set_rcvtimeo(200).unwrap();
    assert_eq!(router.recv_bytes(0), Err(Error::EAGAIN));
    send_parts(&router, &[b"Y", b"still first"]);
    assert_eq!(recv_parts(&first), parts(&[b"still first"]));
}

fn probe_router(tr: Tr) {
    let ctx = Context::new();
    let router = sock(&ctx, zmq::ROUTER);
    let ep = bind(&router, tr);
    let dealer = sock(&ctx, zmq::DEALER);
    dealer.set_identity(b"prober").unwrap();
    dealer.set_probe_router(true).unwrap();
    dealer.connect(&ep).unwrap();
    // The probe arrives without the dealer sending anything.
    assert_eq!(recv_parts(&router), parts(&[b"prober", b""]));
    send_parts(&router, &[b"prober", b"hello"]);
    assert_eq!(recv_parts(&dealer), parts(&[b"hello"]));

    // A ROUTER probing a ROUTER: the bound side learns the connecter's id at once.
    let server = sock(&ctx, zmq::ROUTER);
    let ep = bind(&server, tr);
    let client = sock(&ctx, zmq::ROUTER);
    client.set_identity(b"client").unwrap();
    client.set_probe_router(true).unwrap();
    client.connect(&ep).unwrap();
    // The connecting ROUTER takes its peer once the handshake told it the peer's routing
    // id, on its own thread (in any call on the socket): keep it busy meanwhile.
    let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
    while server.poll(zmq::POLLIN, 0).unwrap() == 0 {
        assert!(Instant::now() < deadline, "no probe");
        client.poll(zmq::POLLIN, 5).unwrap();
    }
    assert_eq!(recv_parts(&server), parts(&[b"client", b""]));
    // Probes are not for socket types that do not route.
    let push = sock(&ctx, zmq::PUSH);
    assert_eq!(push.set_probe_router(true), Err(Error::EINVAL));
}

fn req_correlate_relaxed(tr: Tr) {
    let ctx = Context::new();
    let router = sock(&ctx, zmq::ROUTER);
    let ep = bind(&router, tr);
    let req = sock(&ctx, zmq::REQ);
    req.set_identity(b"req").unwrap();
    req.set_req_correlate(true).unwrap();
    req.set_req_relaxed(true).unwrap();
    req.connect(&ep).unwrap();

    req.send("first", 0).unwrap();
    let m1 = recv_parts(&router);
    assert_eq!(m1.len(), 4, "id, request id, delimiter, body: {m1:?}");
    assert_eq!(
        (m1[0].as_slice(), m1[2].as_slice(), m1[3].as_slice()),
        (&b"req"[..], &b""[..], &b"first"[..])
    );
    assert_eq!(m1[1].len(), 4);
    // Relaxed: a new request without waiting for the reply.
    req.send("second", 0).unwrap();
    let m2 = recv_parts(&router);
    assert_eq!(m2[3], b"second");
    assert_ne!(m1[1], m2[1], "each request has its own id");
    // The late reply to the first request is dropped; the second's is taken.
    send_parts(&router, &[b"req", &m1[1], b"", b"stale"]);
    send_parts(&router, &[b"req", &m2[1], b"", b"fresh"]);
    assert_eq!(recv_str(&req), "fresh");
    // After the reply, a receive is out of order again.
    assert_eq!(req.recv_bytes(DONTWAIT), Err(Error::EFSM));

    // Strict REQ: a second send before the reply is refused.
    let strict = sock(&ctx, zmq::REQ);
    strict.set_req_correlate(true).unwrap();
    strict.connect(&ep).unwrap();
    strict.send("q", 0).unwrap();
    assert_eq!(strict.send("q2", 0), Err(Error::EFSM));
    let m = recv_parts(&router);
    assert_eq!(m.len(), 4);
    // A reply with a wrong request id is ignored.
    let mut wrong = m[1].clone();
    wrong[0] ^= 0xff;
    send_parts(&router, &[&m[0], &wrong, b"", b"wrong id"]);
    send_parts(&router, &[&m[0], &m[1], b"", b"right id"]);
    assert_eq!(recv_str(&strict), "right id");
}

// ---------------------------------------------------------------------------------------
// Polling, metadata, limits

fn events_and_fd(tr: Tr) {
    let ctx = Context::new();
    let pull = sock(&ctx, zmq::PULL);
    let ep = bind(&pull, tr);
    let push = sock(&ctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    let fd = pull.get_fd().unwrap();
    assert!(pull.get_events().unwrap().is_empty());
    assert!(!fd_readable(fd), "no event yet");
    assert!(push.get_events().unwrap().contains(zmq::POLLOUT));

    push.send("a", 0).unwrap();
    push.send("b", 0).unwrap();
    // The descriptor becomes readable when the message arrives...
    let mut items = [zmq::PollItem::from_fd(fd, zmq::POLLIN)];
    assert_eq!(zmq::poll(&mut items, TIMEOUT_MS as i64).unwrap(), 1);
    eventually("POLLIN", || {
        pull.get_events().unwrap().contains(zmq::POLLIN)
    });
    // ... and stays readable while a message is there (level-triggered), however often
    // the events are read.
    for _ in 0..3 {
        assert!(fd_readable(fd));
        assert_eq!(pull.get_events().unwrap(), zmq::POLLIN);
    }
    assert_eq!(recv_str(&pull), "a");
    eventually("b", || pull.get_events().unwrap().contains(zmq::POLLIN));
    assert!(fd_readable(fd));
    assert_eq!(recv_str(&pull), "b");
    assert!(pull.get_events().unwrap().is_empty());
    assert!(!fd_readable(fd), "nothing left to read");
    // Another message makes it readable again, without any call on the socket.
    push.send("c", 0).unwrap();
    let mut items = [zmq::PollItem::from_fd(fd, zmq::POLLIN)];
    assert_eq!(zmq::poll(&mut items, TIMEOUT_MS as i64).unwrap(), 1);
    assert_eq!(recv_str(&pull), "c");

    // POLLOUT follows the high-water mark.
    let (full, _reader) = blocked_pipeline(&ctx, tr);
    let wfd = full.get_fd().unwrap();
    assert!(full.get_events().unwrap().contains(zmq::POLLOUT));
    assert!(fd_readable(wfd), "POLLOUT is an event too");
    fill(&full, FILL_MSG, NETWORK_FILL_MAX);
    assert!(!full.get_events().unwrap().contains(zmq::POLLOUT));
    assert!(!fd_readable(wfd));
}

fn poll_sockets_and_fd(tr: Tr) {
    let ctx = Context::new();
    let a = sock(&ctx, zmq::PULL);
    let b = sock(&ctx, zmq::PULL);
    let ep_a = bind(&a, tr);
    let ep_b = bind(&b, tr);
    let push_a = sock(&ctx, zmq::PUSH);
    push_a.connect(&ep_a).unwrap();
    let push_b = sock(&ctx, zmq::PUSH);
    push_b.connect(&ep_b).unwrap();
    let (mut raw_tx, raw_rx) = std::os::unix::net::UnixStream::pair().unwrap();
    use std::os::fd::AsRawFd;
    let raw = raw_rx.as_raw_fd();

    // Nothing ready: poll times out.
    {
        let mut items = [
            a.as_poll_item(zmq::POLLIN),
            b.as_poll_item(zmq::POLLIN),
            zmq::PollItem::from_fd(raw, zmq::POLLIN),
        ];
        let start = Instant::now();
        assert_eq!(zmq::poll(&mut items, 50).unwrap(), 0);
        assert_elapsed(start, 45, 1000);
    }
    // One socket ready.
    push_b.send("to b", 0).unwrap();
    {
        let mut items = [
            a.as_poll_item(zmq::POLLIN),
            b.as_poll_item(zmq::POLLIN),
            zmq::PollItem::from_fd(raw, zmq::POLLIN),
        ];
        assert_eq!(zmq::poll(&mut items, TIMEOUT_MS as i64).unwrap(), 1);
        assert!(!items[0].is_readable() && items[1].is_readable() && !items[2].is_readable());
    }
    assert_eq!(recv_str(&b), "to b");
    // The raw descriptor ready.
    std::io::Write::write_all(&mut raw_tx, b"x").unwrap();
    {
        let mut items = [
            a.as_poll_item(zmq::POLLIN),
            b.as_poll_item(zmq::POLLIN),
            zmq::PollItem::from_fd(raw, zmq::POLLIN),
        ];
        assert_eq!(zmq::poll(&mut items, TIMEOUT_MS as i64).unwrap(), 1);
        assert!(items[2].is_readable() && items[2].has_fd(raw));
        assert!(items[0].has_socket(&a));
    }
    let mut byte = [0u8; 1];
    std::io::Read::read_exact(&mut &raw_rx, &mut byte).unwrap();
    // A blocked poll wakes for a message sent from another thread.
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        push_a.send("to a", 0).unwrap();
        push_a
    });
    {
        let mut items = [
            a.as_poll_item(zmq::POLLIN),
            b.as_poll_item(zmq::POLLIN),
            zmq::PollItem::from_fd(raw, zmq::POLLIN),
        ];
        let start = Instant::now();
        assert_eq!(zmq::poll(&mut items, TIMEOUT_MS as i64).unwrap(), 1);
        assert!(items[0].is_readable());
        assert_elapsed(start, 40, 2000);
    }
    let _push_a = sender.join().unwrap();
    assert_eq!(recv_str(&a), "to a");
    // POLLOUT on a socket, and on a writable descriptor.
    {
        let mut items = [
            push_b.as_poll_item(zmq::POLLOUT),
            zmq::PollItem::from_fd(raw, zmq::POLLOUT),
        ];
        assert_eq!(zmq::poll(&mut items, 0).unwrap(), 2);
        assert!(items[0].is_writable() && items[1].is_writable());
    }
    assert_eq!(push_b.poll(zmq::POLLOUT, 0).unwrap(), 1);
    assert_eq!(a.poll(zmq::POLLIN, 10).unwrap(), 0);
}

fn metadata(tr: Tr) {
    let ctx = Context::new();
    let pull = sock(&ctx, zmq::PULL);
    let ep = bind(&pull, tr);
    let push = sock(&ctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    push.send("hello", 0).unwrap();
    let mut msg = pull.recv_msg(0).unwrap();
    assert_eq!(msg.gets("Socket-Type"), Some("PUSH"));
    match tr {
        Tr::Tcp => assert_eq!(msg.gets("Peer-Address"), Some("127.0.0.1")),
        _ => assert_eq!(msg.gets("Peer-Address"), None),
    }
    assert_eq!(msg.gets("No-Such-Property"), None);

    // Identity travels for the types that send it.
    let router = sock(&ctx, zmq::ROUTER);
    let ep = bind(&router, tr);
    let dealer = sock(&ctx, zmq::DEALER);
    dealer.set_identity(b"meta-id").unwrap();
    dealer.connect(&ep).unwrap();
    dealer.send("x", 0).unwrap();
    let mut id = router.recv_msg(0).unwrap();
    assert_eq!(&id[..], b"meta-id");
    let mut body = router.recv_msg(0).unwrap();
    assert_eq!(body.gets("Socket-Type"), Some("DEALER"));
    if tr.is_network() {
        assert_eq!(body.gets("Identity"), Some("meta-id"));
    }
    let _ = id.gets("Socket-Type");
}

fn max_msg_size(tr: Tr) {
    if tr == Tr::Inproc {
        // As in libzmq, inproc has no decoder and no size limit.
        let ctx = Context::new();
        let pull = sock(&ctx, zmq::PULL);
        pull.set_maxmsgsize(10).unwrap();
        let ep = bind(&pull, tr);
        let push = sock(&ctx, zmq::PUSH);
        push.connect(&ep).unwrap();
        push.send(&[0u8; 100][..], 0).unwrap();
        assert_eq!(pull.recv_bytes(0).unwrap().len(), 100);
        return;
    }
    let ctx = Context::new();
    let pull = sock(&ctx, zmq::PULL);
    pull.set_maxmsgsize(1000).unwrap();
    assert_eq!(pull.get_maxmsgsize().unwrap(), 1000);
    let ep = bind(&pull, tr);
    let good = sock(&ctx, zmq::PUSH);
    good.connect(&ep).unwrap();
    let bad = sock(&ctx, zmq::PUSH);
    bad.set_reconnect_ivl(20).unwrap();
    bad.connect(&ep).unwrap();
    good.send("hello", 0).unwrap();
    assert_eq!(recv_str(&pull), "hello");
    // Exactly the limit passes; one byte more closes that connection.
    bad.send(&[1u8; 1000][..], 0).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap().len(), 1000);
    bad.send(&[2u8; 1001][..], 0).unwrap();
    // The other connection keeps working.
    for i in 0..10 {
        good.send(format!("{i}").as_str(), 0).unwrap();
    }
    for i in 0..10 {
        assert_eq!(recv_str(&pull), format!("{i}"));
    }
    // The offender reconnects and its small messages pass again; the large one never
    // arrives.
    pull.set_rcvtimeo(100).unwrap();
    let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
    loop {
        bad.send("small", 0).unwrap();
        match pull.recv_bytes(0) {
            Ok(m) => {
                assert_eq!(m, b"small");
                break;
            }
            Err(Error::EAGAIN) => assert!(Instant::now() < deadline, "no reconnect"),
            Err(e) => panic!("{e}"),
        }
    }
}

fn term_unblocks_recv(tr: Tr) {
    let mut ctx = Context::new();
    let pull = ctx.socket(zmq::PULL).unwrap();
    let ep = bind(&pull, tr);
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.connect(&ep).unwrap();
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        tx.send(()).unwrap();
        let result = pull.recv_bytes(0);
        drop(pull);
        result
    });
    rx.recv().unwrap();
    thread::sleep(Duration::from_millis(20));
    let later_sender = thread::spawn(move || {
        // A socket still open elsewhere: its next call fails with ETERM.
        thread::sleep(Duration::from_millis(50));
        let r = push.send("x", 0);
        drop(push);
        r
    });
    // A send blocked for want of a peer, and a poll blocked for want of a message.
    let lonely = ctx.socket(zmq::DEALER).unwrap();
    let blocked_sender = thread::spawn(move || {
        let r = lonely.send("x", 0);
        drop(lonely);
        r
    });
    let idle = ctx.socket(zmq::PULL).unwrap();
    bind(&idle, tr);
    let blocked_poller = thread::spawn(move || {
        let r = idle.poll(zmq::POLLIN, -1);
        drop(idle);
        r
    });
    thread::sleep(Duration::from_millis(20));
    let start = Instant::now();
    ctx.destroy().unwrap();
    assert_elapsed(start, 0, 2000);
    assert_eq!(waiter.join().unwrap(), Err(Error::ETERM));
    assert_eq!(later_sender.join().unwrap(), Err(Error::ETERM));
    assert_eq!(blocked_sender.join().unwrap(), Err(Error::ETERM));
    assert_eq!(blocked_poller.join().unwrap(), Err(Error::ETERM));
    // No new sockets after termination.
    assert_eq!(ctx.socket(zmq::PUSH).map(|_| ()), Err(Error::ETERM));
}

fn reconnect_options(tr: Tr) {
    if !tr.is_network() {
        return;
    }
    let ctx = Context::new();
    // Exponential backoff: the first retries are quick, and a late bind is still found
    // within the maximum interval.
    let ep = tr.fresh();
    let push = sock(&ctx, zmq::PUSH);
    push.set_reconnect_ivl(10).unwrap();
    push.set_reconnect_ivl_max(200).unwrap();
    assert_eq!(push.get_reconnect_ivl_max().unwrap(), 200);
    push.connect(&ep).unwrap();
    push.send("backoff", 0).unwrap();
    thread::sleep(Duration::from_millis(300));
    let pull = sock(&ctx, zmq::PULL);
    pull.bind(&ep).unwrap();
    let start = Instant::now();
    assert_eq!(recv_str(&pull), "backoff");
    assert_elapsed(start, 0, 1500);

    // CONNECT_TIMEOUT: a connect to an address that never answers is abandoned and
    // retried; closing the socket is prompt.
    if tr == Tr::Tcp {
        let stuck = sock(&ctx, zmq::PUSH);
        stuck.set_connect_timeout(50).unwrap();
        assert_eq!(stuck.get_connect_timeout().unwrap(), 50);
        stuck.set_reconnect_ivl(10).unwrap();
        stuck.set_linger(0).unwrap();
        // TEST-NET-1 (RFC 5737): nothing answers there.
        stuck.connect("tcp://192.0.2.1:9").unwrap();
        stuck.send("never", DONTWAIT).unwrap();
        thread::sleep(Duration::from_millis(200));
        drop(stuck);
    }

    // RECONNECT_IVL -1: no reconnect after the connection is lost.
    let ep = tr.fresh();
    let pull = sock(&ctx, zmq::PULL);
    pull.bind(&ep).unwrap();
    let once = sock(&ctx, zmq::PUSH);
    once.set_reconnect_ivl(-1).unwrap();
    once.set_linger(0).unwrap();
    once.connect(&ep).unwrap();
    once.send("1", 0).unwrap();
    assert_eq!(recv_str(&pull), "1");
    drop(pull);
    let pull = sock(&ctx, zmq::PULL);
    pull.bind(&ep).unwrap();
    thread::sleep(Duration::from_millis(100));
    let _ = once.send("2", DONTWAIT);
    pull.set_rcvtimeo(200).unwrap();
    assert_eq!(pull.recv_bytes(0), Err(Error::EAGAIN));
}

fn bind_errors(tr: Tr) {
    let ctx = Context::new();
    let s = sock(&ctx, zmq::PULL);
    let other = sock(&ctx, zmq::PULL);
    match tr {
        Tr::Tcp => {
            let ep = bind(&s, tr);
            assert_eq!(other.bind(&ep), Err(Error::EADDRINUSE));
            assert_eq!(other.bind("tcp://127.0.0.1"), Err(Error::EINVAL));
            assert_eq!(other.bind("tcp://127.0.0.1:99999"), Err(Error::EINVAL));
            assert_eq!(other.bind("tcp://127.0.0.1:port"), Err(Error::EINVAL));
            assert_eq!(other.bind("tcp://no-such-if0:5555"), Err(Error::ENODEV));
            assert_eq!(other.connect("tcp://127.0.0.1"), Err(Error::EINVAL));
            // The wildcard and an interface name are fine.
            other.bind("tcp://lo:*").unwrap();
            assert!(other
                .get_last_endpoint()
                .unwrap()
                .unwrap()
                .starts_with("tcp://127.0.0.1:"));
        }
        Tr::Ipc => {
            // Binding a path in use takes it over, as in libzmq; closing the first socket
            // then leaves the second one's socket file alone.
            let ep = tr.fresh();
            let first = sock(&ctx, zmq::PULL);
            first.bind(&ep).unwrap();
            let second = sock(&ctx, zmq::PULL);
            second.bind(&ep).unwrap();
            drop(first);
            let push = sock(&ctx, zmq::PUSH);
            push.connect(&ep).unwrap();
            push.send("to the second", 0).unwrap();
            assert_eq!(recv_str(&second), "to the second");
            // An ipc path's directory must exist.
            assert!(other.bind("ipc:///no/such/dir/sock").is_err());
            assert_eq!(other.connect("ipc://*"), Err(Error::EINVAL));
        }
        Tr::Inproc => {
            let ep = bind(&s, tr);
            assert_eq!(other.bind(&ep), Err(Error::EADDRINUSE));
            assert_eq!(other.bind("inproc://"), Err(Error::EINVAL));
            // Unbinding frees the name.
            s.unbind(&ep).unwrap();
            other.bind(&ep).unwrap();
        }
    }
    assert_eq!(
        other.bind("pgm://eth0;239.1.1.1:5555"),
        Err(Error::EPROTONOSUPPORT)
    );
    assert_eq!(
        other.connect("pgm://eth0;239.1.1.1:5555"),
        Err(Error::EPROTONOSUPPORT)
    );
    assert_eq!(other.bind("nonsense"), Err(Error::EINVAL));
    assert_eq!(other.bind("foo://bar"), Err(Error::EPROTONOSUPPORT));
    assert_eq!(other.connect(""), Err(Error::EINVAL));
}
