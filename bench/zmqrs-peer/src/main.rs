//! One side of a `zmq bench` measurement driven by zmq.rs (the `zeromq` crate), for the
//! benchmark's zmq.rs column: `zmqrs-peer bench-peer SPEC`, with the protocol of the
//! tool's own peers (`crates/zmq-cli/src/bench/peer.rs`): a side that binds prints
//! `READY <endpoint>`, every side prints `RESULT <json>` and `DONE` when its traffic is
//! over, then waits for its standard input to close before it closes its socket.
//!
//! zmq.rs runs on a current-thread tokio runtime, its fastest set-up on two cores. It has
//! PUSH, PULL, REQ and REP over tcp and ipc (no inproc, no CURVE, no XPUB): the throughput
//! and latency cells over tcp and ipc.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use zeromq::prelude::*;
use zeromq::ZmqMessage;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("bench-peer") if args.len() == 3 => run(&args[2]),
        _ => Err("usage: zmqrs-peer bench-peer SPEC (run by `zmq bench --zmqrs`)".into()),
    };
    if let Err(e) = result {
        eprintln!("zmqrs-peer: {e}");
        std::process::exit(1);
    }
}

/// The fields of the tool's peer spec this side uses.
struct Spec {
    role: String,
    endpoint: String,
    size: usize,
    count: u64,
    warmup: u64,
}

fn parse(json: &str) -> Result<Spec, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("bad spec: {e}"))?;
    let text = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("the spec lacks `{k}`"))
    };
    let number = |k: &str| v[k].as_u64().ok_or_else(|| format!("the spec lacks `{k}`"));
    if v["curve"].is_object() {
        return Err("zmq.rs has no CURVE".into());
    }
    if v["shared"].as_bool() == Some(true) {
        return Err("zmq.rs has no zero-copy send to measure here".into());
    }
    let spec = Spec {
        role: text("role")?,
        endpoint: text("endpoint")?,
        size: usize::try_from(number("size")?).map_err(|_| "size too large")?,
        count: number("count")?,
        warmup: number("warmup")?,
    };
    if spec.count < 2 {
        return Err("count must be at least 2".into());
    }
    Ok(spec)
}

fn run(json: &str) -> Result<(), String> {
    let spec = parse(json)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?;
    runtime.block_on(side(spec))
}

/// Prints one protocol line, at once.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// `DONE`, then the wait for the parent to close standard input.
async fn done() {
    say("DONE");
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
}

/// The endpoint to bind: zmq.rs takes port 0 where libzmq takes `*`.
fn bindable(endpoint: &str) -> String {
    match endpoint.strip_suffix(":*") {
        Some(host) if endpoint.starts_with("tcp://") => format!("{host}:0"),
        _ => endpoint.to_string(),
    }
}

fn failed(what: &'static str) -> impl Fn(zeromq::ZmqError) -> String {
    move |e| format!("{what}: {e}")
}

fn check(message: &ZmqMessage, size: usize) -> Result<(), String> {
    match message.get(0) {
        Some(frame) if frame.len() == size && message.len() == 1 => Ok(()),
        _ => Err(format!(
            "a message of the wrong size (expected one {size}-byte frame)"
        )),
    }
}

async fn side(spec: Spec) -> Result<(), String> {
    let payload = vec![0xA5u8; spec.size];
    let result = match spec.role.as_str() {
        "receiver" => {
            let mut s = zeromq::PullSocket::new();
            let at = s
                .bind(&bindable(&spec.endpoint))
                .await
                .map_err(failed("bind"))?;
            say(&format!("READY {at}"));
            check(&s.recv().await.map_err(failed("recv"))?, spec.size)?;
            let start = Instant::now();
            for _ in 1..spec.count {
                check(&s.recv().await.map_err(failed("recv"))?, spec.size)?;
            }
            let elapsed = start.elapsed();
            done().await;
            throughput(spec.count, spec.size, elapsed)
        }
        "sender" => {
            let mut s = zeromq::PushSocket::new();
            s.connect(&spec.endpoint).await.map_err(failed("connect"))?;
            for _ in 0..spec.count {
                // A copy of the payload per message, as `send(&[u8])` and `zmq_send`.
                s.send(ZmqMessage::from(payload.clone()))
                    .await
                    .map_err(failed("send"))?;
            }
            done().await;
            json!({})
        }
        "echo" => {
            let mut s = zeromq::RepSocket::new();
            let at = s
                .bind(&bindable(&spec.endpoint))
                .await
                .map_err(failed("bind"))?;
            say(&format!("READY {at}"));
            for _ in 0..spec.warmup + spec.count {
                let m = s.recv().await.map_err(failed("recv"))?;
                s.send(m).await.map_err(failed("send"))?;
            }
            done().await;
            json!({})
        }
        "pinger" => {
            let mut s = zeromq::ReqSocket::new();
            s.connect(&spec.endpoint).await.map_err(failed("connect"))?;
            let mut rtts = Vec::with_capacity(usize::try_from(spec.count).unwrap_or(0));
            for i in 0..spec.warmup + spec.count {
                let start = Instant::now();
                s.send(ZmqMessage::from(payload.clone()))
                    .await
                    .map_err(failed("send"))?;
                check(&s.recv().await.map_err(failed("recv"))?, spec.size)?;
                if i >= spec.warmup {
                    rtts.push(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
                }
            }
            done().await;
            latency(rtts)
        }
        other => return Err(format!("zmq.rs does not take the `{other}` role here")),
    };
    let mut result = result;
    result["vmhwm_kb"] = json!(peak_rss_kb());
    say(&format!("RESULT {result}"));
    Ok(())
}

/// As the tool's peers: `count - 1` messages after the first in `elapsed`.
fn throughput(count: u64, size: usize, elapsed: Duration) -> Value {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let rate = (count - 1) as f64 / secs;
    json!({
        "messages": count,
        "seconds": secs,
        "msgs_per_s": rate,
        "mb_per_s": rate * size as f64 / 1e6,
    })
}

/// As the tool's peers: half round trips in microseconds.
fn latency(mut rtts: Vec<u64>) -> Value {
    rtts.sort_unstable();
    let n = rtts.len().max(1);
    let half_us = |ns: u64| ns as f64 / 2000.0;
    let pick = |q: f64| rtts[((n - 1) as f64 * q).round() as usize];
    let mean = rtts.iter().map(|&r| r as f64).sum::<f64>() / n as f64 / 2000.0;
    json!({
        "roundtrips": rtts.len(),
        "mean_us": mean,
        "p50_us": half_us(pick(0.5)),
        "p99_us": half_us(pick(0.99)),
        "max_us": half_us(rtts.last().copied().unwrap_or(0)),
    })
}

/// Peak resident set (`VmHWM`), in KiB; 0 where the system does not say.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
