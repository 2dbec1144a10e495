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
