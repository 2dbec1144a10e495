//! The shape of the API: what the `zmq` crate's users rely on at compile time.

fn send<T: Send>() {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn thread_safety_is_that_of_the_zmq_crate() {
    send::<zmq::Socket>();
    send_sync::<zmq::Context>();
    send_sync::<zmq::Message>();
    send_sync::<zmq::Error>();
}

#[test]
fn a_socket_moves_to_another_thread() {
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL).unwrap();
    pull.bind("inproc://moved").unwrap();
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.connect("inproc://moved").unwrap();
    let receiver = std::thread::spawn(move || pull.recv_string(0).unwrap().unwrap());
    push.send("across", 0).unwrap();
    assert_eq!(receiver.join().unwrap(), "across");
}

#[test]
fn version_has_and_constants() {
    assert_eq!(zmq::version(), (4, 3, 5));
    assert_eq!(zmq::has("ipc"), Some(true));
    assert_eq!(zmq::has("curve"), Some(true));
    assert_eq!(
        zmq::has("plain"),
        Some(false),
        "not a zmq_has capability in libzmq either"
    );
    assert_eq!(zmq::REQ.to_raw(), 3);
    assert_eq!(zmq::SocketType::from_raw(8), Some(zmq::PUSH));
    assert_eq!(zmq::SocketType::from_raw(99), None);
    assert_eq!(zmq::DONTWAIT, 1);
    assert_eq!(zmq::SNDMORE, 2);
    assert!(zmq::POLLIN.contains(zmq::PollEvents::POLLIN));
}

#[test]
fn every_stable_type_makes_a_socket() {
    let ctx = zmq::Context::new();
    for raw in 0..=11 {
        let t = zmq::SocketType::from_raw(raw).unwrap();
        let socket = ctx.socket(t).unwrap();
        assert_eq!(socket.get_socket_type().unwrap(), t);
    }
}

#[test]
fn the_socket_is_a_raw_fd_for_event_loops() {
    use std::os::fd::AsRawFd;
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL).unwrap();
    pull.bind("inproc://raw-fd").unwrap();
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.connect("inproc://raw-fd").unwrap();
    let fd = pull.as_raw_fd();
    assert!(fd >= 0);
    assert_eq!(fd, pull.get_fd().unwrap(), "one descriptor per socket");
    push.send("wake", 0).unwrap();
    // The descriptor becomes readable, and stays so while a message waits.
    let mut items = [zmq::PollItem::from_fd(fd, zmq::POLLIN)];
    assert_eq!(zmq::poll(&mut items, 5000).unwrap(), 1);
    assert!(pull.get_events().unwrap().contains(zmq::POLLIN));
    let mut items = [zmq::PollItem::from_fd(fd, zmq::POLLIN)];
    assert_eq!(zmq::poll(&mut items, 0).unwrap(), 1, "level-triggered");
    assert_eq!(pull.recv_string(0).unwrap().unwrap(), "wake");
    assert!(!pull.get_events().unwrap().contains(zmq::POLLIN));
    let mut items = [zmq::PollItem::from_fd(fd, zmq::POLLIN)];
    assert_eq!(zmq::poll(&mut items, 0).unwrap(), 0, "quiet once read");
}
