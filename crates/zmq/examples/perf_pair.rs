//! A fixed workload for instruction-count profiles of the I/O path (PERFORMANCE.md):
//! one side of a PUSH/PULL stream or a REQ/REP ping-pong, run as two processes so that
//! `valgrind --tool=callgrind` (or `strace -c`) can watch one of them.
//!
//! ```sh
//! perf_pair pull tcp://127.0.0.1:5599 100000 64 &
//! valgrind --tool=callgrind perf_pair push tcp://127.0.0.1:5599 100000 64
//! perf_pair rep tcp://127.0.0.1:5598 2000 64 &
//! strace -f -c perf_pair req tcp://127.0.0.1:5598 2000 64
//! ```
//!
//! `pull` and `rep` bind, `push` and `req` connect. The stream ends with one empty message
//! after the counted ones, so every side exits on its own once everything was delivered.

use std::process::ExitCode;

fn run(role: &str, endpoint: &str, count: usize, size: usize) -> Result<(), zmq::Error> {
    let ctx = zmq::Context::new();
    let payload = vec![0x5a_u8; size];
    let mut msg = zmq::Message::new();
    match role {
        "pull" => {
            let s = ctx.socket(zmq::PULL)?;
            s.bind(endpoint)?;
            let mut got = 0usize;
            loop {
                s.recv(&mut msg, 0)?;
                if msg.is_empty() {
                    break;
                }
                got += 1;
            }
            println!("pull: {got} messages");
        }
        "push" => {
            let s = ctx.socket(zmq::PUSH)?;
            s.set_linger(-1)?;
            s.connect(endpoint)?;
            for _ in 0..count {
                s.send(&payload[..], 0)?;
            }
            s.send(&[][..], 0)?;
        }
        "rep" => {
            let s = ctx.socket(zmq::REP)?;
            s.bind(endpoint)?;
            for _ in 0..count {
                s.recv(&mut msg, 0)?;
                s.send(&msg[..], 0)?;
            }
        }
        "req" => {
            let s = ctx.socket(zmq::REQ)?;
            s.connect(endpoint)?;
            for _ in 0..count {
                s.send(&payload[..], 0)?;
                s.recv(&mut msg, 0)?;
            }
        }
        _ => unreachable!("checked by main"),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [role, endpoint, count, size]
            if matches!(role.as_str(), "pull" | "push" | "rep" | "req") =>
        {
            count
                .parse()
                .ok()
                .zip(size.parse().ok())
                .map(|(c, s)| (role.as_str(), endpoint.as_str(), c, s))
        }
        _ => None,
    };
    let Some((role, endpoint, count, size)) = parsed else {
        eprintln!("usage: perf_pair pull|push|rep|req ENDPOINT COUNT SIZE");
        return ExitCode::from(2);
    };
    match run(role, endpoint, count, size) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perf_pair {role}: {e}");
            ExitCode::FAILURE
        }
    }
}
