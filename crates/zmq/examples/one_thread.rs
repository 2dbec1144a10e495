//! The cost of a send and of a receive with nothing crossing cores: a PUSH and a PULL over
//! inproc on one thread, `BATCH` sends of a `SIZE`-byte message then `BATCH` receives,
//! repeated; the best round of each is printed, in nanoseconds per message.
//!
//! ```sh
//! cargo run --release -p zmq --example one_thread -- 1 400
//! ```
//!
//! Arguments: size in bytes (default 1) and rounds (default 400). The sends copy the
//! slice (`Socket::send(&[u8])`) and the receives reuse one message, as `zmq bench` does.

use std::time::Instant;

/// Messages per round: within the default high-water marks (1,000 each side).
const BATCH: usize = 1_000;

fn main() -> Result<(), zmq::Error> {
    let args: Vec<String> = std::env::args().collect();
    let size: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(400);
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL)?;
    pull.bind("inproc://one-thread")?;
    let push = ctx.socket(zmq::PUSH)?;
    push.connect("inproc://one-thread")?;
    let data = vec![7u8; size];
    let mut msg = zmq::Message::new();
    let (mut send_best, mut recv_best) = (f64::MAX, f64::MAX);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..BATCH {
            push.send(&data[..], 0)?;
        }
        let sent = start.elapsed();
        let start = Instant::now();
        for _ in 0..BATCH {
            pull.recv(&mut msg, 0)?;
        }
        let received = start.elapsed();
        assert_eq!(msg.len(), size, "each message arrives whole");
        send_best = send_best.min(sent.as_nanos() as f64 / BATCH as f64);
        recv_best = recv_best.min(received.as_nanos() as f64 / BATCH as f64);
    }
    println!("{size} B, best of {rounds} rounds of {BATCH}: send {send_best:.1} ns, receive {recv_best:.1} ns");
    Ok(())
}
