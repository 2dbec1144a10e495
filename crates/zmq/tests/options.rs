//! Socket and context options: every option's default, round trip and `EINVAL` against a
//! real libzmq (pyzmq's 4.3.5), and the behaviour behind the options that change what
//! the transport does (CONFLATE, TOS, PRIORITY, SNDBUF/RCVBUF, USE_FD, RECONNECT_STOP,
//! METADATA, CONNECT_TIMEOUT, MAXMSGSIZE, BINDTODEVICE, TCP_ACCEPT_FILTER, ROUTER_NOTIFY,
//! HELLO_MSG, DISCONNECT_MSG, SOCKS_PROXY, HWM changes after connecting).

mod peers;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use zmq::SocketType;

/// Generous: the machine may be loaded.
const TIMEOUT_MS: i32 = 20_000;
const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `libzmq_options_peer.py` in `mode` and returns its output lines.
fn libzmq(args: &[&str]) -> Vec<String> {
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers/libzmq_options_peer.py");
    let out = Command::new(peers::python())
        .arg(script)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("run the libzmq options peer");
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(
        out.status.success(),
        "libzmq options peer {args:?} failed:\n{text}"
    );
    text.lines().map(str::to_owned).collect()
}

fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn socket(ctx: &zmq::Context, ty: SocketType) -> zmq::Socket {
    let s = ctx.socket(ty).unwrap();
    s.set_linger(0).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s
}

/// Our value of an integer option, by libzmq's name (booleans as 0/1).
fn our_int(s: &zmq::Socket, name: &str) -> i64 {
    let b = |r: zmq::Result<bool>| i64::from(r.unwrap());
    match name {
        "AFFINITY" => s.get_affinity().unwrap() as i64,
        "RATE" => s.get_rate().unwrap().into(),
        "RECOVERY_IVL" => s.get_recovery_ivl().unwrap().into(),
        "SNDBUF" => s.get_sndbuf().unwrap().into(),
        "RCVBUF" => s.get_rcvbuf().unwrap().into(),
        "LINGER" => s.get_linger().unwrap().into(),
        "RECONNECT_IVL" => s.get_reconnect_ivl().unwrap().into(),
        "BACKLOG" => s.get_backlog().unwrap().into(),
        "RECONNECT_IVL_MAX" => s.get_reconnect_ivl_max().unwrap().into(),
        "MAXMSGSIZE" => s.get_maxmsgsize().unwrap(),
        "SNDHWM" => s.get_sndhwm().unwrap().into(),
        "RCVHWM" => s.get_rcvhwm().unwrap().into(),
        "MULTICAST_HOPS" => s.get_multicast_hops().unwrap().into(),
        "RCVTIMEO" => s.get_rcvtimeo().unwrap().into(),
        "SNDTIMEO" => s.get_sndtimeo().unwrap().into(),
        "IPV4ONLY" => b(s.is_ipv4only()),
        "TCP_KEEPALIVE" => s.get_tcp_keepalive().unwrap().into(),
        "TCP_KEEPALIVE_CNT" => s.get_tcp_keepalive_cnt().unwrap().into(),
        "TCP_KEEPALIVE_IDLE" => s.get_tcp_keepalive_idle().unwrap().into(),
        "TCP_KEEPALIVE_INTVL" => s.get_tcp_keepalive_intvl().unwrap().into(),
        "IMMEDIATE" => b(s.is_immediate()),
        "IPV6" => b(s.is_ipv6()),
        "MECHANISM" => match s.get_mechanism().unwrap() {
            zmq::Mechanism::ZMQ_NULL => 0,
            zmq::Mechanism::ZMQ_PLAIN => 1,
            zmq::Mechanism::ZMQ_CURVE => 2,
            zmq::Mechanism::ZMQ_GSSAPI => 3,
        },
        "PLAIN_SERVER" => b(s.is_plain_server()),
        "CURVE_SERVER" => b(s.is_curve_server()),
        "CONFLATE" => b(s.is_conflate()),
        "TOS" => s.get_tos().unwrap().into(),
        "HANDSHAKE_IVL" => s.get_handshake_ivl().unwrap().into(),
        "INVERT_MATCHING" => b(s.is_invert_matching()),
        "CONNECT_TIMEOUT" => s.get_connect_timeout().unwrap().into(),
        "TCP_MAXRT" => s.get_tcp_maxrt().unwrap().into(),
        "THREAD_SAFE" => b(s.is_thread_safe()),
        "MULTICAST_MAXTPDU" => s.get_multicast_maxtpdu().unwrap().into(),
        "USE_FD" => s.get_use_fd().unwrap().into(),
        "ZAP_ENFORCE_DOMAIN" => b(s.is_zap_enforce_domain()),
        "LOOPBACK_FASTPATH" => b(s.is_loopback_fastpath()),
        "MULTICAST_LOOP" => b(s.is_multicast_loop()),
        "RECONNECT_STOP" => s.get_reconnect_stop().unwrap().into(),
        "RCVMORE" => b(s.get_rcvmore()),
        "TYPE" => s.get_socket_type().unwrap().to_raw().into(),
        other => panic!("no accessor for {other} in this test"),
    }
}

/// Sets an integer option by libzmq's name.
fn set_our_int(s: &zmq::Socket, name: &str, v: i32) -> zmq::Result<()> {
    match name {
        "RATE" => s.set_rate(v),
        "RECOVERY_IVL" => s.set_recovery_ivl(v),
        "SNDBUF" => s.set_sndbuf(v),
        "RCVBUF" => s.set_rcvbuf(v),
        "LINGER" => s.set_linger(v),
        "RECONNECT_IVL" => s.set_reconnect_ivl(v),
        "BACKLOG" => s.set_backlog(v),
        "RECONNECT_IVL_MAX" => s.set_reconnect_ivl_max(v),
        "MAXMSGSIZE" => s.set_maxmsgsize(v.into()),
        "SNDHWM" => s.set_sndhwm(v),
        "RCVHWM" => s.set_rcvhwm(v),
        "MULTICAST_HOPS" => s.set_multicast_hops(v),
        "RCVTIMEO" => s.set_rcvtimeo(v),
        "SNDTIMEO" => s.set_sndtimeo(v),
        "TCP_KEEPALIVE" => s.set_tcp_keepalive(v),
        "TCP_KEEPALIVE_CNT" => s.set_tcp_keepalive_cnt(v),
        "TCP_KEEPALIVE_IDLE" => s.set_tcp_keepalive_idle(v),
        "TCP_KEEPALIVE_INTVL" => s.set_tcp_keepalive_intvl(v),
        "TOS" => s.set_tos(v),
        "HANDSHAKE_IVL" => s.set_handshake_ivl(v),
        "CONNECT_TIMEOUT" => s.set_connect_timeout(v),
        "TCP_MAXRT" => s.set_tcp_maxrt(v),
        "MULTICAST_MAXTPDU" => s.set_multicast_maxtpdu(v),
        "USE_FD" => s.set_use_fd(v),
        "RECONNECT_STOP" => s.set_reconnect_stop(v),
        other => panic!("no setter for {other} in this test"),
    }
}

#[test]
fn every_default_is_libzmqs() {
    let theirs: BTreeMap<String, String> = libzmq(&["defaults"])
        .into_iter()
        .map(|l| {
            let (k, v) = l.split_once(' ').expect("NAME VALUE");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let ctx = zmq::Context::new();
    let s = ctx.socket(zmq::DEALER).unwrap();
    let bytes_or_dash = |v: Vec<u8>| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let text = |r: zmq::Result<Result<String, Vec<u8>>>| bytes_or_dash(r.unwrap().unwrap().into());
    let mut compared = 0;
    for (name, value) in &theirs {
        let ours = match name.as_str() {
            "ROUTING_ID" => bytes_or_dash(s.get_identity().unwrap()),
            "LAST_ENDPOINT" => text(s.get_last_endpoint()),
            "ZAP_DOMAIN" => text(s.get_zap_domain()),
            "PLAIN_USERNAME" => text(s.get_plain_username()),
            "PLAIN_PASSWORD" => text(s.get_plain_password()),
            "BINDTODEVICE" => text(s.get_bindtodevice()),
            "SUB.LINGER" => ctx
                .socket(zmq::SUB)
                .unwrap()
                .get_linger()
                .unwrap()
                .to_string(),
            "CTX.IO_THREADS" => ctx.get_io_threads().unwrap().to_string(),
            "CTX.MAX_SOCKETS" => ctx.get_max_sockets().unwrap().to_string(),
            "CTX.SOCKET_LIMIT" => ctx.get_socket_limit().unwrap().to_string(),
            "CTX.IPV6" => i32::from(ctx.get_ipv6().unwrap()).to_string(),
            "CTX.BLOCKY" => i32::from(ctx.get_blocky().unwrap()).to_string(),
            int => our_int(&s, int).to_string(),
        };
        assert_eq!(
            &ours, value,
            "default of {name}: ours {ours}, libzmq's {value}"
        );
        compared += 1;
    }
    assert!(compared >= 50, "only {compared} defaults compared");
}

#[test]
fn every_integer_option_refuses_what_libzmq_refuses() {
    let cases: &[(&str, i32)] = &[
        ("RATE", 0),
        ("RATE", -1),
        ("RATE", 1),
        ("RECOVERY_IVL", -1),
        ("RECOVERY_IVL", 0),
        ("SNDBUF", -2),
        ("SNDBUF", 0),
        ("RCVBUF", -2),
        ("LINGER", -2),
        ("LINGER", 0),
        ("RECONNECT_IVL", -2),
        ("RECONNECT_IVL", -1),
        ("RECONNECT_IVL", 0),
        ("BACKLOG", -1),
        ("BACKLOG", 0),
        ("RECONNECT_IVL_MAX", -1),
        ("MAXMSGSIZE", -2),
        ("MAXMSGSIZE", 0),
        ("SNDHWM", -1),
        ("SNDHWM", 0),
        ("RCVHWM", -1),
        ("MULTICAST_HOPS", 0),
        ("MULTICAST_HOPS", -1),
        ("MULTICAST_HOPS", 255),
        ("RCVTIMEO", -2),
        ("SNDTIMEO", -2),
        ("TCP_KEEPALIVE", 2),
        ("TCP_KEEPALIVE", -2),
        ("TCP_KEEPALIVE", 1),
        ("TCP_KEEPALIVE_CNT", -2),
        ("TCP_KEEPALIVE_CNT", 0),
        ("TCP_KEEPALIVE_IDLE", -2),
        ("TCP_KEEPALIVE_INTVL", -2),
        ("TOS", -1),
        ("TOS", 0x28),
        ("TOS", 256),
        ("HANDSHAKE_IVL", -1),
        ("HANDSHAKE_IVL", 0),
        ("CONNECT_TIMEOUT", -1),
        ("CONNECT_TIMEOUT", 250),
        ("TCP_MAXRT", -1),
        ("TCP_MAXRT", 1000),
        ("MULTICAST_MAXTPDU", 0),
        ("MULTICAST_MAXTPDU", 9000),
        ("USE_FD", -2),
        ("USE_FD", -1),
        ("RECONNECT_STOP", -1),
        ("RECONNECT_STOP", 7),
        ("RECONNECT_STOP", 8),
    ];
    let args: Vec<String> = cases.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = vec!["validate"];
    cmd.extend(arg_refs);
    let theirs = libzmq(&cmd);
    assert_eq!(theirs.len(), cases.len());
    let ctx = zmq::Context::new();
    for ((name, value), line) in cases.iter().zip(&theirs) {
        let s = ctx.socket(zmq::DEALER).unwrap();
        let ours = match set_our_int(&s, name, *value) {
            Ok(()) => "ok".to_owned(),
            Err(zmq::Error::EINVAL) => "einval".to_owned(),
            Err(e) => format!("errno{}", e.to_raw()),
        };
        assert_eq!(
            format!("{name}={value} {ours}"),
            *line,
            "ours (left) and libzmq's (right) differ"
        );
        if ours == "ok" {
            let read = our_int(&s, name);
            assert_eq!(read, i64::from(*value), "{name} reads back what was set");
        }
    }
}

#[test]
fn boolean_and_string_options_round_trip() {
    let ctx = zmq::Context::new();
    let s = ctx.socket(zmq::PUSH).unwrap();
    type Flag = (
        fn(&zmq::Socket) -> zmq::Result<bool>,
        fn(&zmq::Socket, bool) -> zmq::Result<()>,
    );
    let flags: &[(&str, Flag)] = &[
        (
            "conflate",
            (zmq::Socket::is_conflate, zmq::Socket::set_conflate),
        ),
        (
            "multicast_loop",
            (
                zmq::Socket::is_multicast_loop,
                zmq::Socket::set_multicast_loop,
            ),
        ),
        (
            "loopback_fastpath",
            (
                zmq::Socket::is_loopback_fastpath,
                zmq::Socket::set_loopback_fastpath,
            ),
        ),
        (
            "invert_matching",
            (
                zmq::Socket::is_invert_matching,
                zmq::Socket::set_invert_matching,
            ),
        ),
        ("ipv6", (zmq::Socket::is_ipv6, zmq::Socket::set_ipv6)),
        (
            "ipv4only",
            (zmq::Socket::is_ipv4only, zmq::Socket::set_ipv4only),
        ),
        (
            "immediate",
            (zmq::Socket::is_immediate, zmq::Socket::set_immediate),
        ),
    ];
    for (name, (get, set)) in flags {
        let before = get(&s).unwrap();
        set(&s, !before).unwrap();
        assert_eq!(get(&s).unwrap(), !before, "{name}");
        set(&s, before).unwrap();
        assert_eq!(get(&s).unwrap(), before, "{name}");
    }
    s.set_ipv4only(false).unwrap();
    assert!(s.is_ipv6().unwrap(), "IPV4ONLY is the inverse of IPV6");
    s.set_priority(3).unwrap();
    assert_eq!(s.get_priority().unwrap(), 3);
    assert_eq!(s.set_priority(-1), Err(zmq::Error::EINVAL));
    s.set_busy_poll(50).unwrap();
    assert_eq!(s.get_options().unwrap().busy_poll, 50);
    assert!(!s.is_thread_safe().unwrap());

    // BINDTODEVICE: 1 to 16 bytes, as libzmq 4.3.5 (checked in every_default_is_libzmqs
    // for the default).
    s.set_bindtodevice("lo").unwrap();
    assert_eq!(s.get_bindtodevice().unwrap().unwrap(), "lo");
    s.set_bindtodevice(&"x".repeat(16)).unwrap();
    assert_eq!(s.set_bindtodevice(&"x".repeat(17)), Err(zmq::Error::EINVAL));
    assert_eq!(s.set_bindtodevice(""), Err(zmq::Error::EINVAL));

    // METADATA: `X-name:value`, as libzmq's options.cpp.
    for bad in ["X-a", "Y-a:b", ":b", "X-a:", "x-a:b", "X-a b:c", ""] {
        assert_eq!(s.set_metadata(bad), Err(zmq::Error::EINVAL), "{bad:?}");
    }
    let long = format!("X-{}:v", "n".repeat(254));
    assert_eq!(
        s.set_metadata(&long),
        Err(zmq::Error::EINVAL),
        "name above 255 bytes"
    );
    s.set_metadata("X-app:one").unwrap();
    s.set_metadata("X-app:two").unwrap();
    s.set_metadata("X-colon:a:b").unwrap();
    let md = s.get_options().unwrap().metadata;
    assert_eq!(
        md.get("X-app").map(String::as_str),
        Some("one"),
        "the first value stays"
    );
    assert_eq!(md.get("X-colon").map(String::as_str), Some("a:b"));

    // GSSAPI is not built, as in pyzmq's libzmq: EINVAL both ways.
    assert_eq!(s.set_gssapi_server(true), Err(zmq::Error::EINVAL));
    assert_eq!(s.is_gssapi_server(), Err(zmq::Error::EINVAL));
    assert_eq!(s.set_gssapi_principal("p"), Err(zmq::Error::EINVAL));
    assert_eq!(s.get_gssapi_service_principal(), Err(zmq::Error::EINVAL));
    assert_eq!(s.set_gssapi_plaintext(true), Err(zmq::Error::EINVAL));

    // The serde form carries the new options, and refuses bad ones on set_options.
    let mut options = s.get_options().unwrap();
    let json = serde_json::to_string(&options).unwrap();
    let back: zmq::SocketOptions = serde_json::from_str(&json).unwrap();
    assert_eq!(back, options);
    options.rate = 0;
    assert_eq!(s.set_options(&options), Err(zmq::Error::EINVAL));
}

#[test]
fn context_options() {
    let ctx = zmq::Context::new();
    assert_eq!(ctx.set_io_threads(-1), Err(zmq::Error::EINVAL));
    ctx.set_io_threads(0).unwrap();
    assert_eq!(ctx.get_io_threads().unwrap(), 0);
    assert_eq!(ctx.set_max_sockets(0), Err(zmq::Error::EINVAL));
    assert_eq!(ctx.set_max_sockets(65536), Err(zmq::Error::EINVAL));
    ctx.set_max_sockets(2).unwrap();
    ctx.set_ipv6(true).unwrap();
    ctx.set_blocky(false).unwrap();
    let a = ctx.socket(zmq::PUSH).unwrap();
    let b = ctx.socket(zmq::PULL).unwrap();
    assert!(matches!(ctx.socket(zmq::PAIR), Err(zmq::Error::EMFILE)));
    assert!(a.is_ipv6().unwrap(), "ZMQ_IPV6 comes from the context");
    assert_eq!(a.get_linger().unwrap(), 0, "BLOCKY off gives linger 0");
    // inproc works with no I/O thread asked for, and a closed socket frees its place.
    b.bind("inproc://ctx-options").unwrap();
    a.connect("inproc://ctx-options").unwrap();
    a.send("x", 0).unwrap();
    assert_eq!(b.recv_bytes(0).unwrap(), b"x");
    drop(a);
    ctx.socket(zmq::PAIR).unwrap();
}

/// The thread ids of this process's I/O threads with their scheduling policies (field 41
/// of `/proc/self/task/*/stat`).
#[cfg(target_os = "linux")]
fn io_thread_policies() -> std::collections::HashMap<String, u32> {
    let mut found = std::collections::HashMap::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The name is in parentheses and may hold spaces: fields are counted after it.
        let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
        else {
            continue;
        };
        if let (true, Some(policy)) = (name.starts_with("zmq-io-"), rest.split(' ').nth(38)) {
            let id = task.file_name().to_string_lossy().into_owned();
            found.insert(id, policy.parse().unwrap());
        }
    }
    found
}

/// The policies of the I/O threads `ctx` starts with its first socket.
#[cfg(target_os = "linux")]
fn policies_of_new_io_threads(ctx: &zmq::Context) -> Vec<u32> {
    let before = io_thread_policies();
    let s = ctx.socket(zmq::PUSH).unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let after = io_thread_policies();
    after
        .into_iter()
        .filter(|(id, _)| !before.contains_key(id))
        .map(|(_, policy)| policy)
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn context_thread_scheduling() {
    const SCHED_OTHER: u32 = 0;
    const SCHED_BATCH: u32 = 3;
    let ctx = zmq::Context::new();
    assert_eq!(ctx.get_thread_sched_policy().unwrap(), -1);
    assert_eq!(ctx.get_thread_priority().unwrap(), -1);
    assert_eq!(ctx.set_thread_sched_policy(-1), Err(zmq::Error::EINVAL));
    assert_eq!(ctx.set_thread_priority(-2), Err(zmq::Error::EINVAL));
    // Unset: SCHED_BATCH for threads that would run under the normal policy (the test's).
    assert!(policies_of_new_io_threads(&ctx).contains(&SCHED_BATCH));
    // libzmq's behaviour when asked for, with two I/O threads.
    let ctx = zmq::Context::new();
    ctx.set_io_threads(2).unwrap();
    ctx.set_thread_sched_policy(0).unwrap();
    assert_eq!(ctx.get_thread_sched_policy().unwrap(), 0);
    let policies = policies_of_new_io_threads(&ctx);
    assert_eq!(
        policies.iter().filter(|&&p| p == SCHED_OTHER).count(),
        2,
        "{policies:?}"
    );
    // A priority the policy does not take leaves the threads as they were, and they work.
    let ctx = zmq::Context::new();
    ctx.set_thread_sched_policy(SCHED_OTHER as i32).unwrap();
    ctx.set_thread_priority(99).unwrap();
    assert_eq!(ctx.get_thread_priority().unwrap(), 99);
    let pull = ctx.socket(zmq::PULL).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.connect(&pull.get_last_endpoint().unwrap().unwrap())
        .unwrap();
    push.send("over tcp", 0).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"over tcp");
}

/// Sends `n` numbered messages, then `last`, and returns what a reader that did not read
/// meanwhile then receives, up to and including `last`.
fn conflated(transport: &str, n: usize) -> Vec<String> {
    let ctx = zmq::Context::new();
    let pull = socket(&ctx, zmq::PULL);
    pull.set_conflate(true).unwrap();
    pull.bind(transport).unwrap();
    let push = socket(&ctx, zmq::PUSH);
    push.set_conflate(true).unwrap();
    push.connect(&pull.get_last_endpoint().unwrap().unwrap())
        .unwrap();
    for i in 0..n {
        push.send(format!("m{i:05}").as_str(), 0).unwrap();
    }
    push.send("last", 0).unwrap();
    let mut got = Vec::new();
    loop {
        let m = pull.recv_string(0).expect("conflated message").unwrap();
        let done = m == "last";
        got.push(m);
        if done {
            return got;
        }
    }
}

#[test]
fn conflate_keeps_only_the_latest_message_for_a_slow_reader() {
    // inproc: one queue, which holds the last message only.
    assert_eq!(
        conflated("inproc://conflate", 1000),
        vec!["last".to_owned()]
    );
    // tcp: the sender's queue and the receiver's conflate; what the reader sees is in
    // order, ends with the last, and is a small part of what was sent.
    let got = conflated("tcp://127.0.0.1:*", 5000);
    assert_eq!(got.last().map(String::as_str), Some("last"));
    let mut sorted = got.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), got.len(), "no message twice: {got:?}");
    assert!(
        got.len() < 100,
        "{} of 5001 messages reached a slow reader",
        got.len()
    );
}

#[test]
fn a_conflating_subscriber_still_sends_every_subscription() {
    // libzmq conflates the subscription direction too, and so loses all but the last.
    let ctx = zmq::Context::new();
    let xpub = socket(&ctx, zmq::XPUB);
    xpub.bind("tcp://127.0.0.1:*").unwrap();
    let sub = socket(&ctx, zmq::SUB);
    sub.set_conflate(true).unwrap();
    sub.connect(&xpub.get_last_endpoint().unwrap().unwrap())
        .unwrap();
    for topic in ["a", "b", "c"] {
        sub.set_subscribe(topic.as_bytes()).unwrap();
    }
    let mut seen = BTreeSet::new();
    while seen.len() < 3 {
        seen.insert(xpub.recv_bytes(0).expect("a subscription"));
    }
    assert_eq!(
        seen,
        BTreeSet::from([b"\x01a".to_vec(), b"\x01b".to_vec(), b"\x01c".to_vec()])
    );
    // Data conflates: the subscriber gets the latest of what it matches.
    for i in 0..200 {
        xpub.send(format!("a{i:03}").as_str(), 0).unwrap();
    }
    xpub.send("b-last", 0).unwrap();
    let mut got = Vec::new();
    loop {
        let m = sub.recv_string(0).unwrap().unwrap();
        got.push(m.clone());
        if m == "b-last" {
            break;
        }
    }
    assert!(
        got.len() < 50,
        "{} messages reached a slow subscriber",
        got.len()
    );
}

/// The descriptor of this process's tcp socket whose local address is `local` (our
/// library's side of a connection), found in `/proc/self/fd`.
fn our_fd_with(matches: impl Fn(SocketAddr, SocketAddr) -> bool) -> Option<RawFd> {
    for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<RawFd>() else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|p| p.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is open (listed just now) and is only borrowed for two
        // getsockname/getpeername calls; the sockets of this test stay open meanwhile.
        #[allow(unsafe_code)]
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&borrowed);
        let (Ok(local), Ok(peer)) = (sock.local_addr(), sock.peer_addr()) else {
            continue;
        };
        if let (Some(local), Some(peer)) = (local.as_socket(), peer.as_socket()) {
            if matches(local, peer) {
                return Some(fd);
            }
        }
    }
    None
}

fn with_fd<T>(fd: RawFd, f: impl FnOnce(socket2::SockRef<'_>) -> T) -> T {
    // SAFETY: as in `our_fd_with`: open, and borrowed only for this call.
    #[allow(unsafe_code)]
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    f(socket2::SockRef::from(&borrowed))
}

#[test]
fn tos_and_priority_reach_connected_and_accepted_tcp_sockets() {
    let ctx = zmq::Context::new();
    // Connect: our socket's side of the connection carries the options.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let there = listener.local_addr().unwrap();
    let push = socket(&ctx, zmq::PUSH);
    push.set_tos(0x28).unwrap();
    push.set_priority(4).unwrap();
    push.set_sndbuf(96 * 1024).unwrap();
    push.set_rcvbuf(80 * 1024).unwrap();
    push.connect(&format!("tcp://{there}")).unwrap();
    let (_conn, ours) = listener.accept().unwrap();
    let mut fd = None;
    until("our connected socket", || {
        fd = our_fd_with(|local, peer| local == ours && peer == there);
        fd.is_some()
    });
    let fd = fd.unwrap();
    assert_eq!(with_fd(fd, |s| s.tos_v4().unwrap()), 0x28);
    assert_eq!(with_fd(fd, |s| s.priority().unwrap()), 4);
    // SNDBUF and RCVBUF reach the OS socket (Linux reports twice the value set).
    assert!(with_fd(fd, |s| s.send_buffer_size().unwrap()) >= 96 * 1024);
    assert!(with_fd(fd, |s| s.recv_buffer_size().unwrap()) >= 80 * 1024);

    // Accept: the accepted socket carries them too.
    let pull = socket(&ctx, zmq::PULL);
    pull.set_tos(0x10).unwrap();
    pull.set_priority(2).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = pull.get_last_endpoint().unwrap().unwrap();
    let bound: SocketAddr = endpoint.trim_start_matches("tcp://").parse().unwrap();
    let client = TcpStream::connect(bound).unwrap();
    let client_addr = client.local_addr().unwrap();
    let mut fd = None;
    until("our accepted socket", || {
        fd = our_fd_with(|local, peer| local == bound && peer == client_addr);
        fd.is_some()
    });
    let fd = fd.unwrap();
    assert_eq!(with_fd(fd, |s| s.tos_v4().unwrap()), 0x10);
    assert_eq!(with_fd(fd, |s| s.priority().unwrap()), 2);
}

#[test]
fn bindtodevice_binds_or_reports_the_errno() {
    let ctx = zmq::Context::new();
    let pull = socket(&ctx, zmq::PULL);
    pull.set_bindtodevice("nosuchdev0").unwrap();
    let err = pull.bind("tcp://127.0.0.1:*").unwrap_err();
    // ENODEV with CAP_NET_RAW; EPERM without it (the kernel checks the capability first).
    assert!(
        matches!(err, zmq::Error::ENODEV | zmq::Error::EACCES) || err.to_raw() == libc::EPERM,
        "unexpected {err:?}"
    );
    let lo = socket(&ctx, zmq::PULL);
    lo.set_bindtodevice("lo").unwrap();
    match lo.bind("tcp://127.0.0.1:*") {
        Ok(()) => {
            let push = socket(&ctx, zmq::PUSH);
            push.connect(&lo.get_last_endpoint().unwrap().unwrap())
                .unwrap();
            push.send("via lo", 0).unwrap();
            assert_eq!(lo.recv_bytes(0).unwrap(), b"via lo");
        }
        // Without CAP_NET_RAW the OS refuses, and bind says so.
        Err(e) => assert_eq!(e.to_raw(), libc::EPERM, "unexpected {e:?}"),
    }
}

#[test]
fn use_fd_binds_on_the_applications_listening_socket() {
    let ctx = zmq::Context::new();
    // tcp
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let pull = socket(&ctx, zmq::PULL);
    pull.set_use_fd(listener.as_raw_fd()).unwrap();
    assert_eq!(pull.get_use_fd().unwrap(), listener.as_raw_fd());
    pull.bind(&format!("tcp://{addr}")).unwrap();
    assert_eq!(
        pull.get_last_endpoint().unwrap().unwrap(),
        format!("tcp://{addr}")
    );
    let push = socket(&ctx, zmq::PUSH);
    push.connect(&format!("tcp://{addr}")).unwrap();
    push.send("over the given fd", 0).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"over the given fd");

    // ipc
    let path = std::env::temp_dir().join(format!("zmq-use-fd-{}.ipc", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let unix = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let pull2 = socket(&ctx, zmq::PULL);
    pull2.set_use_fd(unix.as_raw_fd()).unwrap();
    let endpoint = format!("ipc://{}", path.display());
    pull2.bind(&endpoint).unwrap();
    assert_eq!(pull2.get_last_endpoint().unwrap().unwrap(), endpoint);
    let push2 = socket(&ctx, zmq::PUSH);
    push2.connect(&endpoint).unwrap();
    push2.send("over ipc", 0).unwrap();
    assert_eq!(pull2.recv_bytes(0).unwrap(), b"over ipc");
    drop(unix);
    let _ = std::fs::remove_file(&path);

    // Refused: a descriptor of the wrong family, one not listening, one not open.
    let wrong = socket(&ctx, zmq::PULL);
    wrong.set_use_fd(listener.as_raw_fd()).unwrap();
    assert_eq!(
        wrong.bind("ipc:///tmp/zmq-use-fd-wrong.ipc"),
        Err(zmq::Error::EINVAL)
    );
    let stream = TcpStream::connect(addr).unwrap();
    wrong.set_use_fd(stream.as_raw_fd()).unwrap();
    assert_eq!(
        wrong.bind(&format!("tcp://{addr}")),
        Err(zmq::Error::EINVAL)
    );
    wrong.set_use_fd(100_000).unwrap();
    assert!(wrong.bind("tcp://127.0.0.1:*").is_err());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn reconnect_stop_conn_refused_gives_up_the_connect() {
    let ctx = zmq::Context::new();
    let port = free_port();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    let push = socket(&ctx, zmq::PUSH);
    push.set_reconnect_ivl(20).unwrap();
    push.set_reconnect_stop(zmq::RECONNECT_STOP_CONN_REFUSED)
        .unwrap();
    push.connect(&endpoint).unwrap();
    // Its session goes with the refused connect: nothing is left to queue to.
    until("the refused connect to be given up", || {
        push.send("queued", zmq::DONTWAIT) == Err(zmq::Error::EAGAIN)
    });
    // And nothing reconnects once a listener appears.
    let pull = socket(&ctx, zmq::PULL);
    pull.set_rcvtimeo(500).unwrap();
    pull.bind(&endpoint).unwrap();
    assert_eq!(pull.recv_bytes(0), Err(zmq::Error::EAGAIN));

    // Without the option, the same connect keeps trying and delivers.
    let port = free_port();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    let retrying = socket(&ctx, zmq::PUSH);
    retrying.set_reconnect_ivl(20).unwrap();
    retrying.connect(&endpoint).unwrap();
    retrying.send("delivered", 0).unwrap();
    thread::sleep(Duration::from_millis(200));
    let pull = socket(&ctx, zmq::PULL);
    pull.bind(&endpoint).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"delivered");
}

/// Accepts and closes every connection for `for_how_long`, and returns how many came.
fn count_attempts(listener: &TcpListener, for_how_long: Duration) -> usize {
    listener.set_nonblocking(true).unwrap();
    let end = Instant::now() + for_how_long;
    let mut n = 0;
    while Instant::now() < end {
        match listener.accept() {
            Ok((conn, _)) => {
                n += 1;
                drop(conn);
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
    n
}

#[test]
fn reconnect_stop_handshake_failed_and_after_disconnect() {
    let ctx = zmq::Context::new();
    // A peer that closes every connection before any handshake.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let dealer = socket(&ctx, zmq::DEALER);
    dealer.set_reconnect_ivl(20).unwrap();
    dealer
        .set_reconnect_stop(zmq::RECONNECT_STOP_HANDSHAKE_FAILED)
        .unwrap();
    dealer.connect(&format!("tcp://{addr}")).unwrap();
    let attempts = count_attempts(&listener, Duration::from_millis(1500));
    assert_eq!(attempts, 1, "no reconnect after the failed handshake");

    // Control: without it, the same peer sees attempt after attempt.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let retrying = socket(&ctx, zmq::DEALER);
    retrying.set_reconnect_ivl(20).unwrap();
    retrying.connect(&format!("tcp://{addr}")).unwrap();
    assert!(count_attempts(&listener, Duration::from_millis(1500)) > 2);
    drop(retrying);

    // AFTER_DISCONNECT: once the socket called disconnect, its other connects stop too.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let other = format!("tcp://127.0.0.1:{}", free_port());
    let s = socket(&ctx, zmq::DEALER);
    s.set_reconnect_ivl(20).unwrap();
    s.set_reconnect_stop(zmq::RECONNECT_STOP_AFTER_DISCONNECT)
        .unwrap();
    s.connect(&format!("tcp://{addr}")).unwrap();
    s.connect(&other).unwrap();
    assert!(count_attempts(&listener, Duration::from_millis(500)) >= 1);
    s.disconnect(&other).unwrap();
    // At most the attempt already under way when disconnect was called.
    assert!(count_attempts(&listener, Duration::from_millis(1500)) <= 1);
}

/// The local ports of this host's tcp sockets in SYN_SENT toward `port` on 127.0.0.1.
fn syn_sent_to(port: u16) -> BTreeSet<u16> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let remote = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.len() > 3 && cols[2] == remote && cols[3] == "02")
                .then(|| u16::from_str_radix(cols[1].split(':').nth(1)?, 16).ok())
                .flatten()
        })
        .collect()
}

#[test]
fn connect_timeout_abandons_a_connect_that_hangs() {
    // A listener whose accept queue is full drops new SYNs, so connects to it hang.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    sock.listen(0).unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..2 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&addr.into());
        fillers.push(s);
    }
    thread::sleep(Duration::from_millis(200));
    let already = syn_sent_to(addr.port());
    let ctx = zmq::Context::new();
    let dealer = socket(&ctx, zmq::DEALER);
    dealer.set_connect_timeout(100).unwrap();
    dealer.set_reconnect_ivl(20).unwrap();
    dealer.connect(&format!("tcp://{addr}")).unwrap();
    // Each timed-out attempt is abandoned and a new one (a new local port) starts.
    let mut seen = BTreeSet::new();
    until("three connect attempts", || {
        seen.extend(syn_sent_to(addr.port()).difference(&already).copied());
        seen.len() >= 3
    });
}

#[test]
fn maxmsgsize_closes_only_the_offending_connection() {
    let ctx = zmq::Context::new();
    let pull = socket(&ctx, zmq::PULL);
    pull.set_maxmsgsize(100).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = pull.get_last_endpoint().unwrap().unwrap();
    let good = socket(&ctx, zmq::PUSH);
    good.connect(&endpoint).unwrap();
    let bad = socket(&ctx, zmq::PUSH);
    bad.set_reconnect_ivl(20).unwrap();
    bad.connect(&endpoint).unwrap();
    good.send("good-0", 0).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"good-0");
    bad.send(vec![b'x'; 1000], 0).unwrap();
    // The good connection carries on, in order and without loss.
    for i in 1..=50 {
        good.send(format!("good-{i}").as_str(), 0).unwrap();
    }
    // The offender's connection is closed; it reconnects, and what it sends after that
    // arrives (what it had written before the close is lost with the connection).
    pull.set_rcvtimeo(100).unwrap();
    let mut good_seen = 1;
    let mut bad_after = false;
    let deadline = Instant::now() + DEADLINE;
    while good_seen <= 50 || !bad_after {
        assert!(
            Instant::now() < deadline,
            "good {good_seen}, bad-after {bad_after}"
        );
        if !bad_after {
            let _ = bad.send("bad-after", zmq::DONTWAIT);
        }
        let Ok(m) = pull.recv_bytes(0) else {
            continue;
        };
        assert!(m.len() <= 100, "the oversized message was delivered");
        if m == b"bad-after" {
            bad_after = true;
        } else {
            assert_eq!(
                m,
                format!("good-{good_seen}").into_bytes(),
                "in order, none lost"
            );
            good_seen += 1;
        }
    }
}

#[test]
fn metadata_travels_both_ways_with_libzmq() {
    let ctx = zmq::Context::new();
    let ours = socket(&ctx, zmq::DEALER);
    ours.set_metadata("X-Ours:from-rust").unwrap();
    ours.set_metadata("X-Other:second").unwrap();
    ours.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = ours.get_last_endpoint().unwrap().unwrap();
    let peer = thread::spawn(move || libzmq(&["metadata-peer", &endpoint]));
    let mut ping = zmq::Message::new();
    ours.recv(&mut ping, 0).expect("the libzmq peer's ping");
    assert_eq!(&ping[..], b"ping");
    assert_eq!(ping.gets("X-Libzmq"), Some("from-libzmq"));
    assert_eq!(ping.gets("X-Shared"), Some("libzmq"));
    assert_eq!(ping.gets("Socket-Type"), Some("DEALER"));
    ours.send("pong", 0).unwrap();
    let lines = peer.join().unwrap();
    assert!(
        lines.contains(&"prop X-Ours from-rust".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"prop X-Other second".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"prop Socket-Type DEALER".to_owned()),
        "{lines:?}"
    );
}

#[test]
fn metadata_between_our_sockets_over_ipc() {
    let ctx = zmq::Context::new();
    let path = std::env::temp_dir().join(format!("zmq-md-{}.ipc", std::process::id()));
    let endpoint = format!("ipc://{}", path.display());
    let pull = socket(&ctx, zmq::PULL);
    pull.bind(&endpoint).unwrap();
    let push = socket(&ctx, zmq::PUSH);
    push.set_metadata("X-Tenant:blue").unwrap();
    push.connect(&endpoint).unwrap();
    push.send("m", 0).unwrap();
    let mut m = zmq::Message::new();
    pull.recv(&mut m, 0).unwrap();
    assert_eq!(m.gets("X-Tenant"), Some("blue"));
    let _ = std::fs::remove_file(&path);
}

/// Sends without blocking until EAGAIN; returns how many went.
fn fill(push: &zmq::Socket, limit: usize) -> usize {
    (0..limit)
        .take_while(|_| push.send("m", zmq::DONTWAIT).is_ok())
        .count()
}

#[test]
fn high_water_marks_changed_after_connecting_resize_the_pipes() {
    let ctx = zmq::Context::new();
    let pull = socket(&ctx, zmq::PULL);
    pull.set_rcvhwm(5).unwrap();
    pull.bind("inproc://hwm-resize").unwrap();
    let push = socket(&ctx, zmq::PUSH);
    push.set_sndhwm(5).unwrap();
    push.connect("inproc://hwm-resize").unwrap();
    // inproc: the sender's mark plus the receiver's, as libzmq.
    assert_eq!(fill(&push, 10_000), 10);
    push.set_sndhwm(20).unwrap();
    assert_eq!(fill(&push, 10_000), 15, "20 + 5 now");
    pull.set_rcvhwm(0).unwrap();
    assert_eq!(fill(&push, 10_000), 10_000, "a mark of 0 is no limit");
    drop(pull);

    // A connect's session pipe (tcp, no peer yet) follows SNDHWM alone.
    let push = socket(&ctx, zmq::PUSH);
    push.set_sndhwm(3).unwrap();
    push.connect(&format!("tcp://127.0.0.1:{}", free_port()))
        .unwrap();
    assert_eq!(fill(&push, 1000), 3);
    push.set_sndhwm(7).unwrap();
    assert_eq!(fill(&push, 1000), 4);
    push.set_sndhwm(2).unwrap();
    assert_eq!(fill(&push, 1000), 0, "lowering applies to what is queued");
}

#[test]
fn tcp_accept_filter_admits_only_its_networks() {
    let ctx = zmq::Context::new();
    let pull = socket(&ctx, zmq::PULL);
    // Validation as libzmq 4.3.5 (checked with pyzmq).
    for bad in [
        "10.0.0.0/33",
        "::1",
        "localhost",
        "",
        "1.2.3.4/",
        "1.2.3.4/-1",
    ] {
        assert_eq!(
            pull.set_tcp_accept_filter(Some(bad)),
            Err(zmq::Error::EINVAL),
            "{bad:?}"
        );
    }
    pull.set_tcp_accept_filter(Some("10.0.0.0/0")).unwrap();
    pull.set_tcp_accept_filter(None).unwrap();
    pull.set_ipv6(true).unwrap();
    pull.set_tcp_accept_filter(Some("fe80::/10")).unwrap();
    assert_eq!(
        pull.set_tcp_accept_filter(Some("::1/129")),
        Err(zmq::Error::EINVAL)
    );
    pull.set_tcp_accept_filter(None).unwrap();
    pull.set_ipv6(false).unwrap();

    // A filter that excludes 127.0.0.1: connections are closed at once.
    pull.set_tcp_accept_filter(Some("10.0.0.0/8")).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let closed = pull.get_last_endpoint().unwrap().unwrap();
    // One that admits it.
    let open = socket(&ctx, zmq::PULL);
    open.set_tcp_accept_filter(Some("10.0.0.0/8")).unwrap();
    open.set_tcp_accept_filter(Some("127.0.0.0/8")).unwrap();
    open.bind("tcp://127.0.0.1:*").unwrap();
    let admitted = open.get_last_endpoint().unwrap().unwrap();

    let push = socket(&ctx, zmq::PUSH);
    push.connect(&admitted).unwrap();
    push.send("admitted", 0).unwrap();
    assert_eq!(open.recv_bytes(0).unwrap(), b"admitted");

    let refused: SocketAddr = closed.trim_start_matches("tcp://").parse().unwrap();
    let mut stream = TcpStream::connect(refused).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 64];
    let n = std::io::Read::read(&mut stream, &mut buf).unwrap_or(0);
    assert_eq!(n, 0, "closed without a greeting");
}

#[test]
fn router_notify_hello_and_disconnect_messages() {
    let ctx = zmq::Context::new();
    let router = socket(&ctx, zmq::ROUTER);
    assert_eq!(router.get_router_notify().unwrap(), 0);
    assert_eq!(router.set_router_notify(4), Err(zmq::Error::EINVAL));
    assert_eq!(router.set_router_notify(-1), Err(zmq::Error::EINVAL));
    router
        .set_router_notify(zmq::NOTIFY_CONNECT | zmq::NOTIFY_DISCONNECT)
        .unwrap();
    router.set_hello_msg(b"welcome").unwrap();
    router.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = router.get_last_endpoint().unwrap().unwrap();

    let dealer = socket(&ctx, zmq::DEALER);
    dealer.set_identity(b"d1").unwrap();
    dealer.connect(&endpoint).unwrap();
    assert_eq!(
        router.recv_multipart(0).unwrap(),
        vec![b"d1".to_vec(), Vec::new()],
        "connect notification"
    );
    assert_eq!(
        dealer.recv_bytes(0).unwrap(),
        b"welcome",
        "the hello message"
    );
    dealer.send("hi", 0).unwrap();
    assert_eq!(
        router.recv_multipart(0).unwrap(),
        vec![b"d1".to_vec(), b"hi".to_vec()]
    );
    drop(dealer);
    assert_eq!(
        router.recv_multipart(0).unwrap(),
        vec![b"d1".to_vec(), Vec::new()],
        "disconnect notification"
    );

    // DISCONNECT_MSG instead of the empty notification.
    let router2 = socket(&ctx, zmq::ROUTER);
    router2.set_disconnect_msg(b"gone").unwrap();
    router2.bind("tcp://127.0.0.1:*").unwrap();
    let dealer = socket(&ctx, zmq::DEALER);
    dealer.set_identity(b"d2").unwrap();
    dealer
        .connect(&router2.get_last_endpoint().unwrap().unwrap())
        .unwrap();
    dealer.send("last words", 0).unwrap();
    assert_eq!(
        router2.recv_multipart(0).unwrap(),
        vec![b"d2".to_vec(), b"last words".to_vec()]
    );
    drop(dealer);
    assert_eq!(
        router2.recv_multipart(0).unwrap(),
        vec![b"d2".to_vec(), b"gone".to_vec()]
    );
}

/// A one-connection-at-a-time SOCKS5 server for the test: checks the credentials, records
/// each request's target, connects it and relays bytes both ways.
fn socks_server(
    user: &'static [u8],
    pass: &'static [u8],
) -> (SocketAddr, std::sync::mpsc::Receiver<(String, u16)>) {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { return };
            let tx = tx.clone();
            thread::spawn(move || -> std::io::Result<()> {
                let mut head = [0u8; 2];
                c.read_exact(&mut head)?;
                let mut methods = vec![0u8; usize::from(head[1])];
                c.read_exact(&mut methods)?;
                let want = if user.is_empty() { 0 } else { 2 };
                if !methods.contains(&want) {
                    return c.write_all(&[5, 0xff]);
                }
                c.write_all(&[5, want])?;
                if want == 2 {
                    let mut v = [0u8; 2];
                    c.read_exact(&mut v)?;
                    let mut u = vec![0u8; usize::from(v[1])];
                    c.read_exact(&mut u)?;
                    let mut plen = [0u8; 1];
                    c.read_exact(&mut plen)?;
                    let mut p = vec![0u8; usize::from(plen[0])];
                    c.read_exact(&mut p)?;
                    if u != user || p != pass {
                        return c.write_all(&[1, 1]);
                    }
                    c.write_all(&[1, 0])?;
                }
                let mut req = [0u8; 4];
                c.read_exact(&mut req)?;
                let host = match req[3] {
                    1 => {
                        let mut ip = [0u8; 4];
                        c.read_exact(&mut ip)?;
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    3 => {
                        let mut len = [0u8; 1];
                        c.read_exact(&mut len)?;
                        let mut name = vec![0u8; usize::from(len[0])];
                        c.read_exact(&mut name)?;
                        String::from_utf8(name).unwrap()
                    }
                    _ => return Ok(()),
                };
                let mut port = [0u8; 2];
                c.read_exact(&mut port)?;
                let port = u16::from_be_bytes(port);
                let _ = tx.send((host.clone(), port));
                let Ok(target) = TcpStream::connect((host.as_str(), port)) else {
                    return c.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
                };
                c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
                let (mut a, mut b) = (c.try_clone()?, target.try_clone()?);
                let (mut c2, mut t2) = (c, target);
                thread::spawn(move || std::io::copy(&mut a, &mut t2));
                std::io::copy(&mut b, &mut c2)?;
                Ok(())
            });
        }
    });
    (addr, rx)
}

#[test]
fn socks_proxy_carries_tcp_connects() {
    let ctx = zmq::Context::new();
    let pull = socket(&ctx, zmq::PULL);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = pull.get_last_endpoint().unwrap().unwrap();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();

    // With a user name and password, to a host named by name.
    let (proxy, targets) = socks_server(b"alice", b"hunter2");
    let push = socket(&ctx, zmq::PUSH);
    assert_eq!(push.get_socks_proxy().unwrap().unwrap(), "");
    push.set_socks_proxy(Some(&proxy.to_string())).unwrap();
    push.set_socks_username("alice").unwrap();
    push.set_socks_password("hunter2").unwrap();
    assert_eq!(
        push.set_socks_username(&"u".repeat(256)),
        Err(zmq::Error::EINVAL)
    );
    assert!(!format!("{:?}", push.get_options().unwrap()).contains("hunter2"));
    push.connect(&format!("tcp://localhost:{port}")).unwrap();
    push.send("through the proxy", 0).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"through the proxy");
    assert_eq!(
        targets.recv_timeout(DEADLINE).unwrap(),
        ("localhost".to_owned(), port),
        "the proxy was asked for the endpoint, by name"
    );

    // Wrong credentials: the proxy refuses, nothing is delivered, and the connect retries.
    let (proxy, targets) = socks_server(b"alice", b"hunter2");
    let refused = socket(&ctx, zmq::PUSH);
    refused.set_socks_proxy(Some(&proxy.to_string())).unwrap();
    refused.set_socks_username("alice").unwrap();
    refused.set_socks_password("wrong").unwrap();
    refused.set_reconnect_ivl(20).unwrap();
    refused.connect(&endpoint).unwrap();
    refused.send("never", 0).unwrap();
    pull.set_rcvtimeo(500).unwrap();
    assert_eq!(pull.recv_bytes(0), Err(zmq::Error::EAGAIN));
    assert!(
        targets.try_recv().is_err(),
        "no connect request without authentication"
    );
}

#[test]
fn hiccup_msg_reports_a_lost_connection() {
    let ctx = zmq::Context::new();
    let router = socket(&ctx, zmq::ROUTER);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = router.get_last_endpoint().unwrap().unwrap();
    let dealer = socket(&ctx, zmq::DEALER);
    dealer.set_hiccup_msg(b"hiccup").unwrap();
    dealer.set_reconnect_ivl(20).unwrap();
    dealer.connect(&endpoint).unwrap();
    dealer.send("hello", 0).unwrap();
    let parts = router.recv_multipart(0).unwrap();
    assert_eq!(parts[1], b"hello");
    // The peer goes away: the dealer learns of it.
    drop(router);
    assert_eq!(dealer.recv_bytes(0).unwrap(), b"hiccup");
    // And a new peer at the same address gets its messages.
    let router = socket(&ctx, zmq::ROUTER);
    router.bind(&endpoint).unwrap();
    dealer.send("again", 0).unwrap();
    assert_eq!(router.recv_multipart(0).unwrap()[1], b"again");
}
