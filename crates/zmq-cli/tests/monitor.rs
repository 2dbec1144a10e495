//! `zmq monitor` run as a program, watching real connections.

use std::process::{Command, Stdio};

const ZMQ: &str = env!("CARGO_BIN_EXE_zmq");

/// The rows of the table, split into columns (the header left out).
fn rows(stdout: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(stdout);
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    assert!(header.starts_with("TIME"), "{header}");
    lines
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn a_bound_socket_sees_its_peer_come_and_go() {
    let path = std::env::temp_dir().join(format!("zmq-cli-monitor-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let ep = format!("ipc://{}", path.display());
    let monitor = Command::new(ZMQ)
        .args([
            "monitor",
            "REP",
            "--bind",
            &ep,
            "--count",
            "4",
            "--timeout",
            "60000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Connect a client (retrying until the monitor's socket is bound), make one
    // exchange's worth of connection, and leave.
    let ctx = zmq::Context::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the monitor never bound"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let req = ctx.socket(zmq::REQ).unwrap();
    req.set_linger(0).unwrap();
    req.connect(&ep).unwrap();
    req.send("hello", 0).unwrap();
    // The handshake is done once the REP side has it; then the client goes.
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(req);
    let out = monitor.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = rows(&out.stdout);
    let events: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        events,
        [
            "LISTENING",
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "DISCONNECTED"
        ],
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(rows.iter().all(|r| r[3] == ep));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_connect_to_nothing_retries_and_the_list_filters() {
    let out = Command::new(ZMQ)
        .args([
            "monitor",
            "dealer",
            "--connect",
            "tcp://127.0.0.1:1",
            "--events",
            "connect_retried",
            "--count",
            "2",
            "--timeout",
            "60000",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = rows(&out.stdout);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r[1], "CONNECT_RETRIED");
        let ms: u32 = r[2].parse().unwrap();
        // libzmq's default RECONNECT_IVL (100 ms) plus up to as much jitter.
        assert!((100..200).contains(&ms), "{r:?}");
        assert_eq!(r[3], "tcp://127.0.0.1:1");
    }
}

#[test]
fn a_bind_failure_is_shown_then_reported() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://{}", holder.local_addr().unwrap());
    let out = Command::new(ZMQ)
        .args(["monitor", "pull", "--bind", &ep])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let rows = rows(&out.stdout);
    let events: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(events, ["CLOSED", "BIND_FAILED"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot bind"), "{stderr}");
}

#[test]
fn unknown_events_are_refused_with_the_names() {
    let out = Command::new(ZMQ)
        .args([
            "monitor",
            "pull",
            "--bind",
            "tcp://127.0.0.1:*",
            "--events",
            "nope",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("handshake_succeeded"), "{stderr}");
}
