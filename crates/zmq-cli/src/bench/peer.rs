//! One side of one measurement, run in a child process (`zmq bench-peer SPEC`, hidden):
//! the benchmark re-executes itself so that sender and receiver of tcp and ipc cells are
//! separate processes, and each cell starts from a fresh process (its peak RSS is its own).
//!
//! A side that binds prints `READY <endpoint>` once bound; every side prints
//! `RESULT <json>` when done, with its peak RSS and, for the measuring side, the numbers.
//! The same workload functions drive our implementation and libzmq (through
//! [`Net`]); [`super::raw`] does the same traffic over plain sockets.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::api::{Curve, Kind, Net, Sock};

/// Which implementation a side runs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Impl {
    Ours,
    Libzmq,
    Raw,
    /// zmq.rs, through its own peer program (`bench/zmqrs-peer`), which takes this spec.
    Zmqrs,
}

impl Impl {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Libzmq => "libzmq",
            Self::Raw => "raw",
            Self::Zmqrs => "zmq.rs",
        }
    }
}

/// What a side does.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Role {
    /// PULL: binds, receives `count` messages, measures from the first to the last.
    Receiver,
    /// PUSH: connects and sends `count` messages.
    Sender,
    /// REP: binds and echoes `warmup + count` requests.
    Echo,
    /// REQ: connects, makes `warmup` round trips, then measures `count`.
    Pinger,
    /// XPUB: binds, waits for `subs` subscribers, then publishes `count` messages.
    Publisher,
    /// SUB: subscribes to everything, connects, receives `count` messages.
    Subscriber,
    /// Receiver and sender as two threads of this process, over inproc.
    InprocThroughput,
    /// Echo and pinger as two threads of this process, over inproc.
    InprocLatency,
}

/// CURVE keys for both ends, in Z85.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct CurveKeys {
    pub(crate) server_public: String,
    pub(crate) server_secret: String,
    pub(crate) client_public: String,
    pub(crate) client_secret: String,
}

impl CurveKeys {
    /// Fresh keys for a server and a client.
    pub(crate) fn generate() -> Result<Self, String> {
        let (server_public, server_secret) =
            zmq::curve_keypair().map_err(|e| format!("cannot make CURVE keys: {e}"))?;
        let (client_public, client_secret) =
            zmq::curve_keypair().map_err(|e| format!("cannot make CURVE keys: {e}"))?;
        Ok(Self {
            server_public,
            server_secret,
            client_public,
            client_secret,
        })
    }

    fn server(&self) -> Curve {
        Curve::Server {
            secret: self.server_secret.clone(),
        }
    }

    fn client(&self) -> Curve {
        Curve::Client {
            server: self.server_public.clone(),
            public: self.client_public.clone(),
            secret: self.client_secret.clone(),
        }
    }
}

/// Everything a side needs, passed as JSON on its command line.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct PeerSpec {
    pub(crate) imp: Impl,
    /// The libzmq to load when `imp` is `Libzmq`.
    pub(crate) libzmq: Option<PathBuf>,
    pub(crate) role: Role,
    /// Where to bind (may hold a wildcard port) or connect.
    pub(crate) endpoint: String,
    /// Message size in bytes.
    pub(crate) size: usize,
    /// Messages (throughput) or measured round trips (latency); at least 2.
    pub(crate) count: u64,
    /// Round trips before measuring.
    pub(crate) warmup: u64,
    /// Subscribers a publisher waits for.
    pub(crate) subs: u32,
    /// This subscriber's number.
    pub(crate) index: u32,
    pub(crate) curve: Option<CurveKeys>,
    /// The sender sends one buffer without copying it ([`Sock::send_shared`]).
    #[serde(default)]
    pub(crate) shared: bool,
}

/// Runs the side `spec` describes; `json` is the spec as given on the command line.
pub(crate) fn main(json: &str) -> Result<(), String> {
    let spec: PeerSpec =
        serde_json::from_str(json).map_err(|e| format!("bench-peer: bad spec: {e}"))?;
    if spec.count < 2 {
        return Err("bench-peer: count must be at least 2".into());
    }
    let mut result = match spec.imp {
        Impl::Raw => super::raw::run(&spec)?,
        Impl::Ours => run(&spec, super::api::Ours::context())?,
        Impl::Zmqrs => return Err("bench-peer: zmq.rs sides run in the zmq.rs peer program".into()),
        Impl::Libzmq => {
            let path = spec
                .libzmq
                .as_ref()
                .ok_or("bench-peer: the libzmq side needs the library's path")?;
            let lib = super::libzmq::Lib::load(path)?;
            // The context is dropped (terminated) inside `run`, before the library.
            run(&spec, lib.context()?)?
        }
    };
    if let Value::Object(map) = &mut result {
        map.insert("vmhwm_kb".into(), json!(peak_rss_kb()));
    }
    say(&format!("RESULT {result}"));
    Ok(())
}

/// Says `DONE` (this side's traffic is over) and waits until the parent closes this
/// process's standard input, which it does once every side is done. No side closes its
/// sockets before then: a sender that closed at once would leave its last messages to
/// `ZMQ_LINGER`, and libzmq 4.3.5 was seen to lose such messages over ipc when its receiver
/// was at its high-water mark (a libzmq PULL missed ~900 of 20,000 1-byte messages from a
/// sender that closed right after sending).
pub(crate) fn done() {
    say("DONE");
    let mut sink = Vec::new();
    // End of input (or an error reading it) is the signal; the bytes do not matter.
    let _ = std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut sink);
}

/// Prints one protocol line to the parent, at once.
pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // The parent reads these lines; if it has gone there is no one to tell.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// This process's peak resident set (`VmHWM` in /proc/self/status), in KiB; 0 where the
/// system does not say.
pub(crate) fn peak_rss_kb() -> u64 {
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

/// The payload every benchmark sends.
pub(crate) fn payload(size: usize) -> Vec<u8> {
    vec![0xA5; size]
}

/// Nanoseconds since the Unix epoch (to line up subscribers' clocks; same machine).
pub(crate) fn epoch_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The JSON of a throughput measurement: `count - 1` messages after the first in `elapsed`.
pub(crate) fn throughput_result(count: u64, size: usize, elapsed: Duration) -> Value {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let rate = (count - 1) as f64 / secs;
    json!({
        "messages": count,
        "seconds": secs,
        "msgs_per_s": rate,
        "mb_per_s": rate * size as f64 / 1e6,
    })
}

/// The JSON of a latency measurement from round-trip times in nanoseconds.
pub(crate) fn latency_result(mut rtts: Vec<u64>) -> Value {
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

fn run(spec: &PeerSpec, net: Arc<dyn Net>) -> Result<Value, String> {
    match spec.role {
        Role::Receiver => {
            let mut s = net.socket(Kind::Pull)?;
            if let Some(keys) = &spec.curve {
                s.set_curve(&keys.server())?;
            }
            let endpoint = s.bind(&spec.endpoint)?;
            say(&format!("READY {endpoint}"));
            let elapsed = receive(&mut *s, spec.size, spec.count)?;
            done();
            Ok(throughput_result(spec.count, spec.size, elapsed))
        }
        Role::Sender => {
            let mut s = net.socket(Kind::Push)?;
            if let Some(keys) = &spec.curve {
                s.set_curve(&keys.client())?;
            }
            s.connect(&spec.endpoint)?;
            if spec.shared {
                send_shared(&mut *s, spec.size, spec.count)?;
            } else {
                send_all(&mut *s, spec.size, spec.count)?;
            }
            done();
            Ok(json!({}))
        }
        Role::Echo => {
            let mut s = net.socket(Kind::Rep)?;
            let endpoint = s.bind(&spec.endpoint)?;
            say(&format!("READY {endpoint}"));
            for _ in 0..spec.warmup + spec.count {
                s.echo()?;
            }
            done();
            Ok(json!({}))
        }
        Role::Pinger => {
            let mut s = net.socket(Kind::Req)?;
            s.connect(&spec.endpoint)?;
            let rtts = ping(&mut *s, spec.size, spec.warmup, spec.count)?;
            done();
            Ok(latency_result(rtts))
        }
        Role::Publisher => {
            let mut s = net.socket(Kind::XPub)?;
            s.set_hwm(0)?;
            let endpoint = s.bind(&spec.endpoint)?;
            say(&format!("READY {endpoint}"));
            wait_for_subscribers(&mut *s, spec.subs)?;
            send_all(&mut *s, spec.size, spec.count)?;
            done();
            Ok(json!({}))
        }
        Role::Subscriber => {
            let mut s = net.socket(Kind::Sub)?;
            s.set_hwm(0)?;
            s.subscribe(b"")?;
            s.subscribe(format!("sync{}", spec.index).as_bytes())?;
            s.connect(&spec.endpoint)?;
            s.recv()?;
            let first = epoch_ns();
            let start = Instant::now();
            for _ in 1..spec.count {
                expect_size(s.recv()?, spec.size)?;
            }
            let elapsed = start.elapsed();
            let last = epoch_ns();
            done();
            let mut result = throughput_result(spec.count, spec.size, elapsed);
            result["first_ns"] = json!(first);
            result["last_ns"] = json!(last);
            Ok(result)
        }
        Role::InprocThroughput => {
            let endpoint = "inproc://bench-throughput";
            let (size, count) = (spec.size, spec.count);
            let (bound_tx, bound_rx) = mpsc::channel();
            let receiver_net = Arc::clone(&net);
            let receiver = std::thread::spawn(move || -> Result<Duration, String> {
                let mut s = receiver_net.socket(Kind::Pull)?;
                s.bind(endpoint)?;
                let _ = bound_tx.send(());
                receive(&mut *s, size, count)
            });
            let sent = bound_rx
                .recv()
                .map_err(|_| "the inproc receiver could not bind".to_string())
                .and_then(|()| {
                    let mut s = net.socket(Kind::Push)?;
                    s.connect(endpoint)?;
                    send_all(&mut *s, size, count)
                });
            let received = receiver
                .join()
                .map_err(|_| "the inproc receiver thread panicked".to_string())?;
            sent?;
            let elapsed = received?;
            done();
            Ok(throughput_result(count, size, elapsed))
        }
        Role::InprocLatency => {
            let endpoint = "inproc://bench-latency";
            let rounds = spec.warmup + spec.count;
            let (bound_tx, bound_rx) = mpsc::channel();
            let echo_net = Arc::clone(&net);
            let echo = std::thread::spawn(move || -> Result<(), String> {
                let mut s = echo_net.socket(Kind::Rep)?;
                s.bind(endpoint)?;
                let _ = bound_tx.send(());
                for _ in 0..rounds {
                    s.echo()?;
                }
                Ok(())
            });
            let rtts = bound_rx
                .recv()
                .map_err(|_| "the inproc echo could not bind".to_string())
                .and_then(|()| {
                    let mut s = net.socket(Kind::Req)?;
                    s.connect(endpoint)?;
                    ping(&mut *s, spec.size, spec.warmup, spec.count)
                });
            echo.join()
                .map_err(|_| "the inproc echo thread panicked".to_string())??;
            let rtts = rtts?;
            done();
            Ok(latency_result(rtts))
        }
    }
}

fn expect_size(got: usize, size: usize) -> Result<(), String> {
    if got == size {
        Ok(())
    } else {
        Err(format!("received a {got}-byte message, expected {size}"))
    }
}

/// Receives `count` messages; the time from the first to the last.
fn receive(s: &mut dyn Sock, size: usize, count: u64) -> Result<Duration, String> {
    expect_size(s.recv()?, size)?;
    let start = Instant::now();
    for _ in 1..count {
        expect_size(s.recv()?, size)?;
    }
    Ok(start.elapsed())
}

/// Sends `count` messages of one buffer without copying it ([`Sock::send_shared`]).
fn send_shared(s: &mut dyn Sock, size: usize, count: u64) -> Result<(), String> {
    // For the rest of the process: libzmq may still be writing from it when this returns.
    let data: &'static [u8] = payload(size).leak();
    for _ in 0..count {
        s.send_shared(data)?;
    }
    Ok(())
}

fn send_all(s: &mut dyn Sock, size: usize, count: u64) -> Result<(), String> {
    let data = payload(size);
    for _ in 0..count {
        s.send(&data)?;
    }
    Ok(())
}

/// `warmup` round trips, then `count` measured ones (their times in nanoseconds).
fn ping(s: &mut dyn Sock, size: usize, warmup: u64, count: u64) -> Result<Vec<u64>, String> {
    let data = payload(size);
    for _ in 0..warmup {
        s.send(&data)?;
        expect_size(s.recv()?, size)?;
    }
    let mut rtts = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for _ in 0..count {
        let start = Instant::now();
        s.send(&data)?;
        expect_size(s.recv()?, size)?;
        rtts.push(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    Ok(rtts)
}

/// Receives subscriptions on an XPUB until `subs` subscribers have each sent their own
/// `sync<i>` one (sent after their subscription to everything, so all are in place).
fn wait_for_subscribers(s: &mut dyn Sock, subs: u32) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < subs as usize {
        s.recv()?;
        if let Some(topic) = s.received().strip_prefix(b"\x01sync") {
            seen.insert(topic.to_vec());
        }
    }
    Ok(())
}
