//! The raw limit: the same traffic as the ZeroMQ cells over a plain TCP or Unix socket,
//! with no ZeroMQ. A message is a 4-byte little-endian length and the payload.
//! - Throughput: the sender batches messages into [`BATCH`]-byte writes (a large message
//!   goes out as its header and payload in one vectored write); the receiver reads through
//!   a [`BATCH`]-byte buffer and copies each payload out, as a ZeroMQ receiver does.
//! - Latency: ping-pong of one message, `TCP_NODELAY` set (as ZeroMQ sets it).
//! - Publish-subscribe: the publisher writes each batch to every subscriber in turn.
//! - inproc has no plain socket: two threads hand batches (throughput) or the message
//!   itself (latency) over `std::sync::mpsc` channels, the cost of a thread hand-off.

use std::io::{self, BufReader, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::peer::{
    done, epoch_ns, latency_result, payload, say, throughput_result, PeerSpec, Role,
};

/// Bytes per write of the sender's batch, and the receiver's read buffer.
const BATCH: usize = 64 * 1024;

/// A connected plain stream.
trait Stream: Read + Write + Send {}
impl Stream for TcpStream {}
impl Stream for UnixStream {}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

impl Listener {
    /// Binds `tcp://host:port` (port 0: any) or `ipc://path`; returns the endpoint to
    /// connect to.
    fn bind(endpoint: &str) -> Result<(Self, String), String> {
        if let Some(addr) = endpoint.strip_prefix("tcp://") {
            let addr = addr.replace(":*", ":0");
            let l = TcpListener::bind(&addr).map_err(|e| format!("cannot bind {addr}: {e}"))?;
            let local = l.local_addr().map_err(|e| format!("local address: {e}"))?;
            Ok((Self::Tcp(l), format!("tcp://{local}")))
        } else if let Some(path) = endpoint.strip_prefix("ipc://") {
            let path = PathBuf::from(path);
            let _ = std::fs::remove_file(&path);
            let l = UnixListener::bind(&path)
                .map_err(|e| format!("cannot bind {}: {e}", path.display()))?;
            Ok((Self::Unix(l, path), endpoint.to_string()))
        } else {
            Err(format!("raw: no plain socket for {endpoint}"))
        }
    }

    fn accept(&self) -> Result<Box<dyn Stream>, String> {
        match self {
            Self::Tcp(l) => {
                let (s, _) = l.accept().map_err(|e| format!("accept: {e}"))?;
                s.set_nodelay(true)
                    .map_err(|e| format!("TCP_NODELAY: {e}"))?;
                Ok(Box::new(s))
            }
            Self::Unix(l, _) => {
                let (s, _) = l.accept().map_err(|e| format!("accept: {e}"))?;
                Ok(Box::new(s))
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Self::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn connect(endpoint: &str) -> Result<Box<dyn Stream>, String> {
    if let Some(addr) = endpoint.strip_prefix("tcp://") {
        let s = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        s.set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        Ok(Box::new(s))
    } else if let Some(path) = endpoint.strip_prefix("ipc://") {
        let s = UnixStream::connect(path).map_err(|e| format!("cannot connect to {path}: {e}"))?;
        Ok(Box::new(s))
    } else {
        Err(format!("raw: no plain socket for {endpoint}"))
    }
}

fn io_err(what: &'static str) -> impl Fn(io::Error) -> String {
    move |e| format!("raw {what}: {e}")
}

/// Writes all of `slices` with vectored writes.
fn write_all_vectored(w: &mut dyn Stream, slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    let mut slices = slices;
    while !slices.is_empty() {
        match w.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn header(size: usize) -> [u8; 4] {
    u32::try_from(size).unwrap_or(u32::MAX).to_le_bytes()
}

/// Streams `count` messages to every one of `outs`.
fn stream_out(outs: &mut [Box<dyn Stream>], size: usize, count: u64) -> Result<(), String> {
    let data = payload(size);
    let head = header(size);
    if size + 4 >= BATCH {
        for _ in 0..count {
            for out in outs.iter_mut() {
                write_all_vectored(&mut **out, &mut [IoSlice::new(&head), IoSlice::new(&data)])
                    .map_err(io_err("write"))?;
            }
        }
    } else {
        let mut batch = Vec::with_capacity(BATCH + size + 4);
        for i in 0..count {
            batch.extend_from_slice(&head);
            batch.extend_from_slice(&data);
            if batch.len() >= BATCH || i + 1 == count {
                for out in outs.iter_mut() {
                    out.write_all(&batch).map_err(io_err("write"))?;
                }
                batch.clear();
            }
        }
    }
    Ok(())
}

/// Reads one message into `buf`; its size.
fn read_message<R: Read + ?Sized>(r: &mut R, buf: &mut Vec<u8>) -> Result<usize, String> {
    let mut head = [0u8; 4];
    r.read_exact(&mut head).map_err(io_err("read"))?;
    let n = u32::from_le_bytes(head) as usize;
    buf.resize(n, 0);
    r.read_exact(&mut buf[..n]).map_err(io_err("read"))?;
    Ok(n)
}

/// Receives `count` messages of `size`; the time from the first to the last.
fn stream_in(input: Box<dyn Stream>, size: usize, count: u64) -> Result<Duration, String> {
    let mut r = BufReader::with_capacity(BATCH, input);
    let mut buf = Vec::new();
    let check = |n: usize| {
        if n == size {
            Ok(())
        } else {
            Err(format!("raw: a {n}-byte message, expected {size}"))
        }
    };
    check(read_message(&mut r, &mut buf)?)?;
    let start = Instant::now();
    for _ in 1..count {
        check(read_message(&mut r, &mut buf)?)?;
    }
    Ok(start.elapsed())
}

/// Runs one raw side.
pub(crate) fn run(spec: &PeerSpec) -> Result<Value, String> {
    let (size, count) = (spec.size, spec.count);
    match spec.role {
        Role::Receiver => {
            let (listener, endpoint) = Listener::bind(&spec.endpoint)?;
            say(&format!("READY {endpoint}"));
            let elapsed = stream_in(listener.accept()?, size, count)?;
            done();
            Ok(throughput_result(count, size, elapsed))
        }
        Role::Sender | Role::Pinger | Role::Subscriber => {
            let mut s = connect(&spec.endpoint)?;
            match spec.role {
                Role::Sender => {
                    stream_out(std::slice::from_mut(&mut s), size, count)?;
                    s.flush().map_err(io_err("flush"))?;
                    done();
                    Ok(json!({}))
                }
                Role::Pinger => {
                    let rtts = ping(&mut *s, size, spec.warmup, count)?;
                    done();
                    Ok(latency_result(rtts))
                }
                _ => {
                    // Tell the publisher this subscriber is connected.
                    s.write_all(b"s").map_err(io_err("write"))?;
                    let mut r = BufReader::with_capacity(BATCH, s);
                    let mut buf = Vec::new();
                    read_message(&mut r, &mut buf)?;
                    let first = epoch_ns();
                    let start = Instant::now();
                    for _ in 1..count {
                        read_message(&mut r, &mut buf)?;
                    }
                    let elapsed = start.elapsed();
                    let last = epoch_ns();
                    done();
                    let mut result = throughput_result(count, size, elapsed);
                    result["first_ns"] = json!(first);
                    result["last_ns"] = json!(last);
                    Ok(result)
                }
            }
        }
        Role::Echo => {
            let (listener, endpoint) = Listener::bind(&spec.endpoint)?;
            say(&format!("READY {endpoint}"));
            let mut s = listener.accept()?;
            let mut buf = Vec::new();
            for _ in 0..spec.warmup + count {
                let n = read_message(&mut s, &mut buf)?;
                write_all_vectored(
                    &mut *s,
                    &mut [IoSlice::new(&header(n)), IoSlice::new(&buf[..n])],
                )
                .map_err(io_err("write"))?;
            }
            done();
            Ok(json!({}))
        }
        Role::Publisher => {
            let (listener, endpoint) = Listener::bind(&spec.endpoint)?;
            say(&format!("READY {endpoint}"));
            let mut outs = Vec::new();
            for _ in 0..spec.subs {
                let mut s = listener.accept()?;
                let mut hello = [0u8; 1];
                s.read_exact(&mut hello).map_err(io_err("read"))?;
                outs.push(s);
            }
            stream_out(&mut outs, size, count)?;
            done();
            Ok(json!({}))
        }
        Role::InprocThroughput => {
            let result = inproc_throughput(size, count)?;
            done();
            Ok(result)
        }
        Role::InprocLatency => {
            let result = inproc_latency(size, spec.warmup, count)?;
            done();
            Ok(result)
        }
    }
}

fn ping(s: &mut dyn Stream, size: usize, warmup: u64, count: u64) -> Result<Vec<u64>, String> {
    let data = payload(size);
    let head = header(size);
    let mut buf = Vec::new();
    let mut rtts = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for i in 0..warmup + count {
        let start = Instant::now();
        write_all_vectored(s, &mut [IoSlice::new(&head), IoSlice::new(&data)])
            .map_err(io_err("write"))?;
        let n = read_message(s, &mut buf)?;
        if n != size {
            return Err(format!("raw: a {n}-byte reply, expected {size}"));
        }
        if i >= warmup {
            rtts.push(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
    }
    Ok(rtts)
}

fn inproc_throughput(size: usize, count: u64) -> Result<Value, String> {
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
    // Emptied batches go back to the sender, so that no batch is allocated per message.
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    let sender = std::thread::spawn(move || {
        let data = payload(size);
        let head = header(size);
        let fresh = || Vec::with_capacity(BATCH + size + 4);
        let mut batch = fresh();
        for i in 0..count {
            batch.extend_from_slice(&head);
            batch.extend_from_slice(&data);
            if batch.len() >= BATCH || i + 1 == count {
                let next = back_rx.try_recv().unwrap_or_else(|_| fresh());
                if tx.send(std::mem::replace(&mut batch, next)).is_err() {
                    return;
                }
            }
        }
    });
    let mut buf = Vec::new();
    let mut received = 0u64;
    let mut start = Instant::now();
    while received < count {
        let mut batch = rx
            .recv()
            .map_err(|_| "raw inproc: the sender stopped early".to_string())?;
        let mut r = &batch[..];
        while !r.is_empty() {
            let n = read_message(&mut r, &mut buf)?;
            if n != size {
                return Err(format!("raw inproc: a {n}-byte message, expected {size}"));
            }
            received += 1;
            if received == 1 {
                start = Instant::now();
            }
        }
        batch.clear();
        let _ = back_tx.send(batch);
    }
    let elapsed = start.elapsed();
    sender
        .join()
        .map_err(|_| "raw inproc: the sender panicked".to_string())?;
    Ok(throughput_result(count, size, elapsed))
}

fn inproc_latency(size: usize, warmup: u64, count: u64) -> Result<Value, String> {
    let (ping_tx, ping_rx) = mpsc::sync_channel::<Vec<u8>>(1);
    let (pong_tx, pong_rx) = mpsc::sync_channel::<Vec<u8>>(1);
    let echo = std::thread::spawn(move || {
        while let Ok(message) = ping_rx.recv() {
            if pong_tx.send(message).is_err() {
                return;
            }
        }
    });
    let mut message = payload(size);
    let mut rtts = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for i in 0..warmup + count {
        let start = Instant::now();
        ping_tx
            .send(message)
            .map_err(|_| "raw inproc: the echo thread stopped".to_string())?;
        message = pong_rx
            .recv()
            .map_err(|_| "raw inproc: the echo thread stopped".to_string())?;
        if i >= warmup {
            rtts.push(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
    }
    drop(ping_tx);
    echo.join()
        .map_err(|_| "raw inproc: the echo thread panicked".to_string())?;
    Ok(latency_result(rtts))
}
