//! A fixed workload for instruction counts (`valgrind --tool=callgrind`): a PUSH sends
//! `COUNT` messages of `SIZE` bytes to a PULL over one transport, with a copy per send
//! (`Socket::send(&[u8])`) and a reused message per receive, as `zmq bench` does.
//!
//! ```sh
//! cargo build --release -p zmq --example perf_stream
//! valgrind --tool=callgrind target/release/examples/perf_stream inproc 64 100000
//! ```
//!
//! Arguments: transport (`inproc`, `tcp` or `ipc`), size in bytes, count, and `curve` to
//! run the stream over CURVE (tcp and ipc). Subtract a run with a smaller count to take out
//! start-up and read instructions per message.

use std::env;
use std::process::ExitCode;
use std::thread;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    let transport = args.get(1).map_or("inproc", String::as_str);
    let size: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(64);
    let count: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let curve = args.get(4).is_some_and(|a| a == "curve");
    let endpoint = match transport {
        "inproc" => "inproc://perf-stream".to_owned(),
        "tcp" => "tcp://127.0.0.1:*".to_owned(),
        "ipc" => format!("ipc:///tmp/perf-stream-{}.sock", std::process::id()),
        other => {
            eprintln!("perf_stream: unknown transport {other:?}: use inproc, tcp or ipc");
            return ExitCode::FAILURE;
        }
    };
    match run(&endpoint, size, count, curve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perf_stream: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(endpoint: &str, size: usize, count: usize, curve: bool) -> zmq::Result<()> {
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL)?;
    let push = ctx.socket(zmq::PUSH)?;
    if curve {
        let server = zmq::CurveKeyPair::new()?;
        let client = zmq::CurveKeyPair::new()?;
        pull.set_curve_server(true)?;
        pull.set_curve_secretkey(&server.secret_key)?;
        push.set_curve_serverkey(&server.public_key)?;
        push.set_curve_publickey(&client.public_key)?;
        push.set_curve_secretkey(&client.secret_key)?;
    }
    pull.bind(endpoint)?;
    let endpoint = pull
        .get_last_endpoint()?
        .unwrap_or_else(|_| endpoint.to_owned());
    push.connect(&endpoint)?;
    let sender = thread::spawn(move || -> zmq::Result<()> {
        let payload = vec![7u8; size];
        for _ in 0..count {
            push.send(&payload[..], 0)?;
        }
        Ok(())
    });
    let mut msg = zmq::Message::new();
    let mut bytes = 0usize;
    for _ in 0..count {
        pull.recv(&mut msg, 0)?;
        bytes += msg.len();
    }
    sender.join().expect("the sending thread panicked")?;
    println!("{count} messages, {bytes} bytes");
    Ok(())
}
