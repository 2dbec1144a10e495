//! `zmq cat` run as a program, as users run it.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const ZMQ: &str = env!("CARGO_BIN_EXE_zmq");

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(ZMQ)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run zmq");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ipc(name: &str) -> String {
    format!(
        "ipc://{}",
        std::env::temp_dir()
            .join(format!("zmq-cli-{}-{name}", std::process::id()))
            .display()
    )
}

#[test]
fn req_and_echoing_rep() {
    let ep = ipc("echo");
    let rep = Command::new(ZMQ)
        .args([
            "cat",
            "REP",
            "--bind",
            &ep,
            "--echo",
            "--count",
            "2",
            "--timeout",
            "10000",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let req = run_with_stdin(
        &["cat", "req", "--connect", &ep, "--timeout", "10000"],
        "hello\na|b\n",
    );
    assert!(
        req.status.success(),
        "{}",
        String::from_utf8_lossy(&req.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&req.stdout), "hello\na|b\n");
    let rep = rep.wait_with_output().unwrap();
    assert!(rep.status.success());
    assert_eq!(String::from_utf8_lossy(&rep.stdout), "hello\na|b\n");
}

#[test]
fn rep_answers_with_stdin_lines() {
    let ep = ipc("answers");
    let mut rep = Command::new(ZMQ)
        .args([
            "cat",
            "rep",
            "--bind",
            &ep,
            "--count",
            "2",
            "--timeout",
            "10000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    rep.stdin
        .take()
        .unwrap()
        .write_all(b"first answer\nsecond answer\n")
        .unwrap();
    let req = run_with_stdin(
        &["cat", "req", "--connect", &ep, "--timeout", "10000"],
        "q1\nq2\n",
    );
    assert_eq!(
        String::from_utf8_lossy(&req.stdout),
        "first answer\nsecond answer\n"
    );
    let rep = rep.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&rep.stdout), "q1\nq2\n");
}

#[test]
fn push_to_pull_with_count_and_separator() {
    let ep = ipc("pipeline");
    let pull = Command::new(ZMQ)
        .args([
            "cat",
            "Pull",
            "--bind",
            &ep,
            "--count",
            "3",
            "--separator",
            ",",
            "--timeout",
            "10000",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let push = run_with_stdin(&["cat", "push", "--connect", &ep], "1\n2,two\n3\n");
    assert!(push.status.success());
    let pull = pull.wait_with_output().unwrap();
    assert!(pull.status.success());
    assert_eq!(String::from_utf8_lossy(&pull.stdout), "1\n2,two\n3\n");
}

#[test]
fn timeout_exits_non_zero() {
    let started = std::time::Instant::now();
    let out = run_with_stdin(
        &["cat", "pull", "--bind", &ipc("quiet"), "--timeout", "200"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("200 ms"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn errors_name_the_endpoint_and_the_cause() {
    let out = run_with_stdin(&["cat", "pull", "--bind", "tcp://*:notaport"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tcp://*:notaport") && err.contains("port"),
        "{err}"
    );

    let out = run_with_stdin(&["cat", "sideways", "--bind", "tcp://*:1"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("SIDEWAYS"));

    let out = run_with_stdin(&["cat", "pull"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bind or --connect"));
}

#[test]
fn help_lists_the_options() {
    let out = run_with_stdin(&["cat", "--help"], "");
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--bind",
        "--connect",
        "--echo",
        "--count",
        "--separator",
        "--timeout",
    ] {
        assert!(help.contains(option), "{option} missing from --help");
    }
}

#[test]
fn sub_receives_what_it_subscribed_to() {
    let ep = ipc("pubsub");
    let sub = Command::new(ZMQ)
        .args([
            "cat",
            "SUB",
            "--bind",
            &ep,
            "--subscribe",
            "news",
            "--subscribe",
            "sport",
        ])
        .args(["--count", "2", "--timeout", "10000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut publisher = Command::new(ZMQ)
        .args(["cat", "pub", "--connect", &ep])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    // Give the subscription time to reach the publisher: it drops what comes before.
    std::thread::sleep(Duration::from_millis(500));
    publisher
        .stdin
        .take()
        .unwrap()
        .write_all(b"weather|rain\nnews|hello\nweather|sun\nsport|goal\n")
        .unwrap();
    let sub = sub.wait_with_output().unwrap();
    assert!(sub.status.success());
    assert_eq!(
        String::from_utf8_lossy(&sub.stdout),
        "news|hello\nsport|goal\n"
    );
    publisher.wait().unwrap();

    let out = run_with_stdin(
        &["cat", "push", "--bind", &ipc("nosub"), "--subscribe", "x"],
        "",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--subscribe is for SUB"));
}

/// Connects to a Unix socket as soon as it is bound.
fn unix_connect(path: &str) -> std::os::unix::net::UnixStream {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(c) => {
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                return c;
            }
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("nothing listens on {path}: {e}"),
        }
    }
}

#[test]
fn stream_echo_server_serves_a_plain_client() {
    use std::io::Read;
    let ep = ipc("stream-echo");
    let server = Command::new(ZMQ)
        .args([
            "cat",
            "stream",
            "--bind",
            &ep,
            "--echo",
            "--count",
            "1",
            "--timeout",
            "10000",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut c = unix_connect(ep.strip_prefix("ipc://").unwrap());
    c.write_all(b"raw bytes\x00\x01, no framing").unwrap();
    let mut back = vec![0; 23];
    c.read_exact(&mut back).unwrap();
    assert_eq!(back, b"raw bytes\x00\x01, no framing");
    drop(c);
    let out = server.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(out.stdout, b"raw bytes\x00\x01, no framing");
    assert!(
        stderr.contains("connected") && stderr.contains("disconnected"),
        "{stderr}"
    );
}

#[test]
fn stream_client_sends_stdin_and_prints_the_reply_until_the_server_closes() {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut request = Vec::new();
        let mut buf = [0; 256];
        while !request.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed early");
            request.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.0 200 OK\r\n\r\nhi").unwrap();
        request
    });
    let out = run_with_stdin(
        &[
            "cat",
            "stream",
            "--connect",
            &format!("tcp://127.0.0.1:{port}"),
            "--timeout",
            "10000",
        ],
        "GET / HTTP/1.0\r\n\r\n",
    );
    assert_eq!(server.join().unwrap(), b"GET / HTTP/1.0\r\n\r\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(out.stdout, b"HTTP/1.0 200 OK\r\n\r\nhi");
}
