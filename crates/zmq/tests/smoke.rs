//! First end-to-end checks of the runtime over each transport.

fn req_rep(endpoint: &str) {
    let ctx = zmq::Context::new();
    let rep = ctx.socket(zmq::REP).unwrap();
    rep.bind(endpoint).unwrap();
    let bound = rep.get_last_endpoint().unwrap().unwrap();
    let req = ctx.socket(zmq::REQ).unwrap();
    req.set_rcvtimeo(5000).unwrap();
    rep.set_rcvtimeo(5000).unwrap();
    req.connect(&bound).unwrap();
    for i in 0..100 {
        req.send(format!("hello {i}").as_str(), 0).unwrap();
        let got = rep.recv_string(0).unwrap().unwrap();
        assert_eq!(got, format!("hello {i}"));
        rep.send(format!("world {i}").as_str(), 0).unwrap();
        assert_eq!(req.recv_string(0).unwrap().unwrap(), format!("world {i}"));
    }
}

#[test]
fn req_rep_inproc() {
    req_rep("inproc://smoke");
}

#[test]
fn req_rep_tcp() {
    req_rep("tcp://127.0.0.1:*");
}

#[test]
fn req_rep_ipc() {
    req_rep("ipc://*");
}

/// Messages sent to a connect whose peer does not exist yet are delivered once it binds,
/// even though the sending socket and its context were closed meanwhile (default linger),
/// and the context's termination waits for exactly that.
#[test]
fn queued_messages_survive_close_before_the_peer_binds() {
    let path = format!(
        "ipc://{}/zmq-smoke-linger-{}.sock",
        std::env::temp_dir().display(),
        std::process::id()
    );
    let sender = {
        let path = path.clone();
        std::thread::spawn(move || {
            let ctx = zmq::Context::new();
            let push = ctx.socket(zmq::PUSH).unwrap();
            push.connect(&path).unwrap();
            for i in 0..3 {
                push.send(format!("{i}").as_str(), 0).unwrap();
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL).unwrap();
    pull.set_rcvtimeo(5000).unwrap();
    pull.bind(&path).unwrap();
    for i in 0..3 {
        assert_eq!(pull.recv_string(0).unwrap().unwrap(), format!("{i}"));
    }
    sender.join().unwrap();
}

/// One PUSH-PULL exchange between a bind and a connect endpoint.
fn exchange(bind: &str, connect: impl Fn(&str) -> String, setup: impl Fn(&zmq::Socket)) {
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL).unwrap();
    setup(&pull);
    pull.set_rcvtimeo(5000).unwrap();
    pull.bind(bind).unwrap();
    let bound = pull.get_last_endpoint().unwrap().unwrap();
    let push = ctx.socket(zmq::PUSH).unwrap();
    setup(&push);
    push.connect(&connect(&bound)).unwrap();
    push.send("over", 0).unwrap();
    assert_eq!(
        pull.recv_string(0).unwrap().unwrap(),
        "over",
        "{bind} -> {bound}"
    );
}

fn port_of(endpoint: &str) -> &str {
    endpoint.rsplit(':').next().unwrap()
}

#[test]
fn endpoint_forms() {
    let plain = |_: &zmq::Socket| {};
    // A host name, resolved off the I/O thread.
    exchange(
        "tcp://127.0.0.1:*",
        |b| format!("tcp://localhost:{}", port_of(b)),
        plain,
    );
    // An interface name for the bind.
    exchange(
        "tcp://lo:*",
        |b| format!("tcp://127.0.0.1:{}", port_of(b)),
        plain,
    );
    // A source address for the connect.
    exchange(
        "tcp://127.0.0.1:*",
        |b| format!("tcp://127.0.0.1:0;127.0.0.1:{}", port_of(b)),
        plain,
    );
    // IPv6 literals, with and without a scope (interface lo).
    let ipv6 = |s: &zmq::Socket| s.set_ipv6(true).unwrap();
    exchange(
        "tcp://[::1]:*",
        |b| format!("tcp://[::1]:{}", port_of(b)),
        ipv6,
    );
    exchange(
        "tcp://[::1]:*",
        |b| format!("tcp://[::1%lo]:{}", port_of(b)),
        ipv6,
    );
    // The wildcard, dual-stack with IPv6: both families reach it.
    exchange(
        "tcp://*:*",
        |b| format!("tcp://127.0.0.1:{}", port_of(b)),
        ipv6,
    );
    exchange("tcp://*:*", |b| format!("tcp://[::1]:{}", port_of(b)), ipv6);
    // Abstract and generated ipc names.
    let name = format!("ipc://@zmq-smoke-{}", std::process::id());
    exchange(&name, |b| b.to_owned(), plain);
    exchange("ipc://*", |b| b.to_owned(), plain);
}
