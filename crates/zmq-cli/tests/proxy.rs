//! `zmq proxy` run as a program: a streamer with a capture socket, steered over its REP
//! control socket (STATISTICS with exact counts, PAUSE, RESUME, TERMINATE).

use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const ZMQ: &str = env!("CARGO_BIN_EXE_zmq");

fn ipc(name: &str) -> String {
    format!(
        "ipc://{}",
        std::env::temp_dir()
            .join(format!("zmq-cli-proxy-{}-{name}", std::process::id()))
            .display()
    )
}

fn socket(ctx: &zmq::Context, ty: zmq::SocketType, endpoint: &str) -> zmq::Socket {
    let s = ctx.socket(ty).unwrap();
    s.set_linger(0).unwrap();
    s.set_rcvtimeo(10_000).unwrap();
    s.set_sndtimeo(10_000).unwrap();
    s.connect(endpoint).unwrap();
    s
}

/// Waits for the process to exit, failing after 30 s.
fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("zmq proxy did not exit in 30 s");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn streamer_with_capture_steered_over_rep() {
    let (front, back, capture, control) = (ipc("front"), ipc("back"), ipc("cap"), ipc("ctl"));
    let mut child = Command::new(ZMQ)
        .args([
            "proxy",
            &format!("pull@{front}"),
            &format!("PUSH@{back}"),
            "--capture",
            &format!("push@{capture}"),
            "--control",
            &format!("rep@{control}"),
            "--interval",
            "50",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("run zmq proxy");
    let ctx = zmq::Context::new();
    let push = socket(&ctx, zmq::PUSH, &front);
    let pull = socket(&ctx, zmq::PULL, &back);
    let captured = socket(&ctx, zmq::PULL, &capture);
    let steer = socket(&ctx, zmq::REQ, &control);
    for i in 0..100 {
        push.send_multipart([format!("{i:03}").as_bytes(), b"tail"], 0)
            .unwrap();
    }
    for i in 0..100 {
        let want = vec![format!("{i:03}").into_bytes(), b"tail".to_vec()];
        assert_eq!(pull.recv_multipart(0).unwrap(), want);
        assert_eq!(captured.recv_multipart(0).unwrap(), want);
    }
    steer.send("STATISTICS", 0).unwrap();
    let stats = zmq::ProxyStatistics::from_reply(&steer.recv_multipart(0).unwrap()).unwrap();
    assert_eq!(stats.frontend.msgs_in, 200);
    assert_eq!(stats.frontend.bytes_in, 700);
    assert_eq!(stats.backend.msgs_out, 200);
    assert_eq!(stats.backend.bytes_out, 700);
    assert_eq!(stats.backend.msgs_in, 0);

    steer.send("PAUSE", 0).unwrap();
    assert_eq!(steer.recv_bytes(0).unwrap(), b"");
    push.send("paused", 0).unwrap();
    assert_eq!(
        pull.poll(zmq::POLLIN, 200).unwrap(),
        0,
        "forwarded while paused"
    );
    steer.send("RESUME", 0).unwrap();
    assert_eq!(steer.recv_bytes(0).unwrap(), b"");
    assert_eq!(pull.recv_bytes(0).unwrap(), b"paused");

    steer.send("TERMINATE", 0).unwrap();
    assert_eq!(steer.recv_bytes(0).unwrap(), b"");
    let status = wait_exit(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("zmq proxy: frontend→backend 201 msgs (706 bytes)"),
        "summary: {stderr}"
    );
}

#[test]
fn bad_socket_arguments_say_what_to_write() {
    let out = Command::new(ZMQ)
        .args(["proxy", "router:tcp://*:1", "dealer@tcp://*:2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TYPE@ENDPOINT"), "{stderr}");
    let out = Command::new(ZMQ)
        .args([
            "proxy",
            "router@tcp://127.0.0.1:*",
            "dealer@tcp://127.0.0.1:*",
            "--control",
            "pull@tcp://127.0.0.1:*",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("REP or a PAIR"));
}
