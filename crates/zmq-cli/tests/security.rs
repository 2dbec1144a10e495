//! `zmq keygen`, and `zmq cat` over CURVE and PLAIN, run as programs.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};

const ZMQ: &str = env!("CARGO_BIN_EXE_zmq");

fn run(args: &[&str], stdin: &str) -> Output {
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

fn spawn(args: &[&str]) -> Child {
    Command::new(ZMQ)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run zmq")
}

/// A REP that echoes one request back (`cat rep --echo --count 1`), bound at `ep`, with
/// `security` (its mechanism's options).
fn echo_server(ep: &str, security: &[&str]) -> Child {
    let mut args = vec![
        "cat",
        "rep",
        "--bind",
        ep,
        "--echo",
        "--count",
        "1",
        "--timeout",
        "20000",
    ];
    args.extend_from_slice(security);
    spawn(&args)
}

/// A REQ that sends `input`'s lines to `ep` (`cat req`), giving up after `timeout_ms`,
/// with `security` (its mechanism's options).
fn request(ep: &str, timeout_ms: u32, security: &[&str], input: &str) -> Output {
    let timeout = timeout_ms.to_string();
    let mut args = vec!["cat", "req", "--connect", ep, "--timeout", &timeout];
    args.extend_from_slice(security);
    run(&args, input)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ipc(name: &str) -> String {
    format!(
        "ipc://{}",
        std::env::temp_dir()
            .join(format!("zmq-cli-security-{}-{name}", std::process::id()))
            .display()
    )
}

/// `zmq keygen`: (public, secret).
fn keygen() -> (String, String) {
    let out = run(&["keygen"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(lines[0], "== CURVE PUBLIC KEY ==");
    assert_eq!(lines[2], "== CURVE SECRET KEY ==");
    (lines[1].to_owned(), lines[3].to_owned())
}

#[test]
fn keygen_prints_a_z85_pair() {
    let (public, secret) = keygen();
    assert_eq!((public.len(), secret.len()), (40, 40));
    assert_eq!(zmq::curve_public(&secret).unwrap(), public);
    assert_ne!(
        keygen(),
        (public.clone(), secret.clone()),
        "keys are random"
    );
    let out = run(&["keygen", "--from-secret", &secret], "");
    assert_eq!(
        text(&out.stdout),
        format!("== CURVE PUBLIC KEY ==\n{public}\n== CURVE SECRET KEY ==\n{secret}\n")
    );
    let out = run(&["keygen", "--from-secret", "nonsense"], "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("Z85"), "{}", text(&out.stderr));
}

#[test]
fn a_curve_cat_pair() {
    let (public, secret) = keygen();
    let ep = ipc("curve");
    let server = echo_server(&ep, &["--curve-server", &secret]);
    // A client with another server key never gets through.
    let (other, _) = keygen();
    let refused = request(&ep, 700, &["--curve-serverkey", &other], "let me in\n");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert_eq!(text(&refused.stdout), "");
    // The right one does, with keys of its own generated.
    let client = request(&ep, 20000, &["--curve-serverkey", &public], "hello|curve\n");
    assert!(client.status.success(), "{}", text(&client.stderr));
    assert_eq!(text(&client.stdout), "hello|curve\n");
    let server = server.wait_with_output().unwrap();
    assert!(server.status.success(), "{}", text(&server.stderr));
    assert_eq!(text(&server.stdout), "hello|curve\n");
    assert!(
        text(&server.stderr).contains(&public),
        "the server prints its public key: {}",
        text(&server.stderr)
    );
}

#[test]
fn a_curve_server_allowing_one_client_key() {
    let (server_public, server_secret) = keygen();
    let (client_public, client_secret) = keygen();
    let ep = ipc("allow-key");
    let server = spawn(&[
        "cat",
        "pull",
        "--bind",
        &ep,
        "--count",
        "1",
        "--timeout",
        "20000",
        "--curve-server",
        &server_secret,
        "--allow-key",
        &client_public,
    ]);
    // A generated key is not the allowed one: what it sends never arrives. (Its exit is
    // bounded by a linger: a refused connect is given up, but a refusal seen as a lost
    // connection would be retried, as libzmq retries one.)
    let stranger = run(
        &[
            "cat",
            "push",
            "--connect",
            &ep,
            "--curve-serverkey",
            &server_public,
            "--linger",
            "3000",
        ],
        "from a stranger\n",
    );
    assert!(stranger.status.success());
    let known = run(
        &[
            "cat",
            "push",
            "--connect",
            &ep,
            "--curve-serverkey",
            &server_public,
            "--curve-secretkey",
            &client_secret,
        ],
        "from a known key\n",
    );
    assert!(known.status.success(), "{}", text(&known.stderr));
    let server = server.wait_with_output().unwrap();
    assert!(server.status.success(), "{}", text(&server.stderr));
    assert_eq!(text(&server.stdout), "from a known key\n");
}

/// A secret key (Z85) that begins with '-' and whose public key does too: the first of a
/// fixed series that does (about one in 85 public keys begins with it).
fn hyphen_pair(series: u8) -> (String, String) {
    (0u32..)
        .find_map(|i| {
            let mut bytes = [series; 32];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            // Any first character makes a valid first group with this one's.
            let secret = format!("-{}", &zmq::z85_encode(&bytes).unwrap()[1..]);
            let public = zmq::curve_public(&secret).unwrap();
            public.starts_with('-').then_some((public, secret))
        })
        .unwrap()
}

/// One Z85 key in 85 begins with '-': every option that takes a key or a credential reads
/// it as its value, not as another option.
#[test]
fn keys_and_credentials_that_begin_with_a_hyphen() {
    let (server_public, server_secret) = hyphen_pair(1);
    let (client_public, client_secret) = hyphen_pair(2);
    let out = run(&["keygen", "--from-secret", &server_secret], "");
    assert_eq!(
        text(&out.stdout),
        format!(
            "== CURVE PUBLIC KEY ==\n{server_public}\n== CURVE SECRET KEY ==\n{server_secret}\n"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["z85", "decode", &server_secret], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ep = ipc("hyphen-keys");
    let server = echo_server(
        &ep,
        &[
            "--curve-server",
            &server_secret,
            "--allow-key",
            &client_public,
        ],
    );
    let client = request(
        &ep,
        20000,
        &[
            "--curve-serverkey",
            &server_public,
            "--curve-publickey",
            &client_public,
            "--curve-secretkey",
            &client_secret,
        ],
        "-dash|curve\n",
    );
    assert!(client.status.success(), "{}", text(&client.stderr));
    assert_eq!(text(&client.stdout), "-dash|curve\n");
    let server = server.wait_with_output().unwrap();
    assert!(server.status.success(), "{}", text(&server.stderr));
    let plain = ipc("hyphen-plain");
    let server = spawn(&[
        "cat",
        "pull",
        "--bind",
        &plain,
        "--count",
        "1",
        "--timeout",
        "20000",
        "--plain-server",
        "--allow-user",
        "-user:-password",
    ]);
    let client = run(
        &[
            "cat",
            "push",
            "--connect",
            &plain,
            "--plain-user",
            "-user",
            "--plain-password",
            "-password",
        ],
        "in plain\n",
    );
    assert!(client.status.success(), "{}", text(&client.stderr));
    let server = server.wait_with_output().unwrap();
    assert!(server.status.success(), "{}", text(&server.stderr));
    assert_eq!(text(&server.stdout), "in plain\n");
}

#[test]
fn a_plain_cat_pair_with_allowed_users() {
    let ep = ipc("plain");
    let server = echo_server(
        &ep,
        &[
            "--plain-server",
            "--allow-user",
            "alice:wonderland",
            "--allow-user",
            "bob:builder",
        ],
    );
    let refused = request(
        &ep,
        700,
        &["--plain-user", "alice", "--plain-password", "guess"],
        "let me in\n",
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let client = request(
        &ep,
        20000,
        &["--plain-user", "bob", "--plain-password", "builder"],
        "hello plain\n",
    );
    assert!(client.status.success(), "{}", text(&client.stderr));
    assert_eq!(text(&client.stdout), "hello plain\n");
    let server = server.wait_with_output().unwrap();
    assert!(server.status.success(), "{}", text(&server.stderr));
    assert_eq!(text(&server.stdout), "hello plain\n");
}

#[test]
fn a_plain_server_without_allowed_users_accepts_anyone_and_says_so() {
    let ep = ipc("plain-any");
    let server = spawn(&[
        "cat",
        "pull",
        "--bind",
        &ep,
        "--count",
        "1",
        "--timeout",
        "20000",
        "--plain-server",
    ]);
    let client = run(
        &[
            "cat",
            "push",
            "--connect",
            &ep,
            "--plain-user",
            "anyone",
            "--plain-password",
            "anything",
        ],
        "in\n",
    );
    assert!(client.status.success(), "{}", text(&client.stderr));
    let server = server.wait_with_output().unwrap();
    assert_eq!(text(&server.stdout), "in\n");
    assert!(
        text(&server.stderr).contains("accepts any user name"),
        "{}",
        text(&server.stderr)
    );
}

#[test]
fn security_flags_are_checked() {
    let out = run(
        &[
            "cat",
            "req",
            "--connect",
            "ipc:///nowhere",
            "--curve-serverkey",
            "short",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--curve-serverkey") && text(&out.stderr).contains("Z85"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &[
            "cat",
            "pull",
            "--bind",
            "ipc:///nowhere",
            "--allow-user",
            "a:b",
        ],
        "",
    );
    assert!(!out.status.success(), "--allow-user needs --plain-server");
    let out = run(
        &[
            "cat",
            "pull",
            "--bind",
            "ipc:///nowhere",
            "--plain-server",
            "--allow-user",
            "no-colon",
        ],
        "",
    );
    assert!(
        text(&out.stderr).contains("USER:PASSWORD"),
        "{}",
        text(&out.stderr)
    );

    let help = text(&run(&["cat", "--help"], "").stdout);
    for option in [
        "--curve-server",
        "--curve-serverkey",
        "--curve-publickey",
        "--curve-secretkey",
        "--allow-key",
        "--plain-user",
        "--plain-password",
        "--plain-server",
        "--allow-user",
    ] {
        assert!(help.contains(option), "{option} missing from --help");
    }
}
