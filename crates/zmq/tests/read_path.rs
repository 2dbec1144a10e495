//! The engine's read path (`Engine::read_some`): small frames are split off a shared read
//! buffer, frames over 16 KiB gather in a buffer of their own, and the read after a large
//! frame is short. These streams mix sizes on and around every threshold, in one message
//! and across messages, so that frames start and end at every kind of buffer boundary;
//! every byte must arrive as sent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use zmq::{Context, Socket};

const KIB: usize = 1024;

/// Sizes on and around the read path's thresholds (16 KiB, 64 KiB, 8 KiB after a large
/// frame) and a few far from them.
const SIZES: &[usize] = &[
    0,
    1,
    9,
    255,
    256,
    8 * KIB - 9,
    8 * KIB,
    16 * KIB - 1,
    16 * KIB,
    16 * KIB + 1,
    64 * KIB - 9,
    64 * KIB,
    64 * KIB + 1,
    100_000,
    256 * KIB + 3,
    1024 * KIB + 17,
];

fn payload(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ seed.wrapping_mul(7)) as u8)
        .collect()
}

fn endpoint(transport: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    match transport {
        "tcp" => "tcp://127.0.0.1:*".to_owned(),
        _ => format!(
            "ipc:///tmp/zmq-read-path-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ),
    }
}

fn connected(ctx: &Context, transport: &str) -> (Socket, Socket) {
    connected_with_hwm(ctx, transport, 1000)
}

fn connected_with_hwm(ctx: &Context, transport: &str, rcvhwm: i32) -> (Socket, Socket) {
    let pull = ctx.socket(zmq::PULL).unwrap();
    pull.set_rcvhwm(rcvhwm).unwrap();
    pull.set_rcvtimeo(30_000).unwrap();
    pull.bind(&endpoint(transport)).unwrap();
    let ep = pull.get_last_endpoint().unwrap().unwrap();
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.set_sndtimeo(30_000).unwrap();
    push.connect(&ep).unwrap();
    (push, pull)
}

/// Every size after every other: single-frame messages.
fn mixed_sizes(transport: &str) {
    let ctx = Context::new();
    let (push, pull) = connected(&ctx, transport);
    let mut order = Vec::new();
    for (i, &a) in SIZES.iter().enumerate() {
        for &b in &SIZES[i..] {
            order.push(a);
            order.push(b);
        }
    }
    let expected = order.clone();
    let sender = thread::spawn(move || {
        for (k, len) in order.into_iter().enumerate() {
            push.send(payload(k, len), 0).unwrap();
        }
        push
    });
    for (k, &len) in expected.iter().enumerate() {
        let got = pull.recv_bytes(0).unwrap();
        assert_eq!(got.len(), len, "length of message {k}");
        assert!(
            got == payload(k, len),
            "content of message {k} ({len} bytes)"
        );
    }
    drop(sender.join().unwrap());
}

/// Large and small frames in one message, then a burst of small messages.
fn multipart_mixed(transport: &str) {
    let ctx = Context::new();
    let (push, pull) = connected(&ctx, transport);
    let sender = thread::spawn(move || {
        for round in 0..4 {
            let parts: Vec<Vec<u8>> = SIZES
                .iter()
                .rev()
                .enumerate()
                .map(|(i, &len)| payload(round * 100 + i, len))
                .collect();
            push.send_multipart(parts, 0).unwrap();
            for k in 0..1000 {
                push.send(payload(k, 64), 0).unwrap();
            }
        }
        push
    });
    for round in 0..4 {
        let parts = pull.recv_multipart(0).unwrap();
        assert_eq!(parts.len(), SIZES.len());
        for (i, (part, &len)) in parts.iter().zip(SIZES.iter().rev()).enumerate() {
            assert!(
                *part == payload(round * 100 + i, len),
                "round {round} part {i}"
            );
        }
        for k in 0..1000 {
            assert!(
                pull.recv_bytes(0).unwrap() == payload(k, 64),
                "small message {k}"
            );
        }
    }
    drop(sender.join().unwrap());
}

#[test]
fn tcp_mixed_sizes() {
    mixed_sizes("tcp");
}

#[test]
fn ipc_mixed_sizes() {
    mixed_sizes("ipc");
}

#[test]
fn tcp_multipart_mixed() {
    multipart_mixed("tcp");
}

#[test]
fn ipc_multipart_mixed() {
    multipart_mixed("ipc");
}

/// Small messages into a receiver that takes them in bursts, so that its pipe fills and
/// drains again and again with whole frames still in the engine's read buffer: they must
/// go to the pipe before anything more is read (before, each refill read 64 KiB more and
/// copied everything buffered into a new buffer, so the buffer grew and 16 B to 32 B
/// streams ran ten times slower than 64 B ones).
fn small_messages_to_a_full_pipe(transport: &str) {
    const COUNT: usize = 100_000;
    let ctx = Context::new();
    let (push, pull) = connected_with_hwm(&ctx, transport, 100);
    let sender = thread::spawn(move || {
        for k in 0..COUNT {
            push.send(payload(k, 16 + k % 17), 0).unwrap();
        }
        push
    });
    for k in 0..COUNT {
        if k % 1000 == 0 {
            // Let the pipe fill while the engine holds more input.
            thread::sleep(std::time::Duration::from_millis(1));
        }
        let got = pull.recv_bytes(0).unwrap();
        assert!(got == payload(k, 16 + k % 17), "message {k}");
    }
    drop(sender.join().unwrap());
}

#[test]
fn tcp_small_messages_to_a_full_pipe() {
    small_messages_to_a_full_pipe("tcp");
}

#[test]
fn ipc_small_messages_to_a_full_pipe() {
    small_messages_to_a_full_pipe("ipc");
}
