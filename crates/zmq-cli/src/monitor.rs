//! `zmq monitor`: a socket's monitor events, live, as a table.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use zmq::endpoint::{Direction, Endpoint};
use zmq::monitor::{Event, EventKind, ALL};

/// How long one wait for an event lasts, so that --timeout is checked.
const TICK: Duration = Duration::from_millis(100);

/// Watch a socket's connections: print its monitor events as they happen.
///
/// Creates a socket of TYPE, binds or connects it, and prints one line per event (time,
/// event, value, endpoint, peer address, reason) until Ctrl-C, --count events or
/// --timeout. The socket sends and reads no messages. Values are libzmq's: descriptors,
/// errnos, retry intervals in ms, ZMQ_PROTOCOL_ERROR_* codes (in hex), ZAP statuses.
/// SUBSCRIBED (a PUB or XPUB got a peer's first subscription) is this library's own.
///
/// Examples:
///   zmq monitor rep --bind 'tcp://*:5555'
///   zmq monitor req --connect tcp://localhost:5555 --events connected,disconnected
///   zmq monitor pub --bind ipc:///tmp/feed --events subscribed --count 1
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub(crate) struct MonitorArgs {
    /// Socket type, in any case: PAIR, REQ, REP, DEALER, ROUTER, PUSH, PULL, PUB, SUB,
    /// XPUB or XSUB.
    #[arg(value_name = "TYPE")]
    socket_type: String,
    /// Bind to an endpoint (repeatable), e.g. tcp://*:5555, ipc:///tmp/x.
    #[arg(long, value_name = "EP")]
    bind: Vec<String>,
    /// Connect to an endpoint (repeatable), e.g. tcp://localhost:5555.
    #[arg(long, value_name = "EP")]
    connect: Vec<String>,
    /// The events to show, comma-separated, e.g. connected,disconnected (names as in
    /// libzmq, with or without ZMQ_EVENT_; `all`, the default, is every event).
    #[arg(long, value_name = "LIST", default_value = "all")]
    events: String,
    /// Exit after this many events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Exit after this many milliseconds.
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
}

pub(crate) fn run(args: &MonitorArgs) -> Result<ExitCode, String> {
    let socket_type = match args.socket_type.to_ascii_uppercase().as_str() {
        "PAIR" => zmq::PAIR,
        "REQ" => zmq::REQ,
        "REP" => zmq::REP,
        "DEALER" => zmq::DEALER,
        "ROUTER" => zmq::ROUTER,
        "PUSH" => zmq::PUSH,
        "PULL" => zmq::PULL,
        "PUB" => zmq::PUB,
        "SUB" => zmq::SUB,
        "XPUB" => zmq::XPUB,
        "XSUB" => zmq::XSUB,
        other => {
            return Err(format!(
                "unknown or unsupported socket type {other:?}; use PAIR, REQ, REP, DEALER, \
                 ROUTER, PUSH, PULL, PUB, SUB, XPUB or XSUB"
            ))
        }
    };
    if args.bind.is_empty() && args.connect.is_empty() {
        return Err("give at least one --bind or --connect endpoint".into());
    }
    let mask = parse_events(&args.events)?;
    let ctx = zmq::Context::new();
    let socket = ctx
        .socket(socket_type)
        .map_err(|e| format!("cannot create a {} socket: {e}", args.socket_type))?;
    socket
        .set_linger(0)
        .map_err(|e| format!("cannot set LINGER: {e}"))?;
    let events = socket
        .monitor_events(mask)
        .map_err(|e| format!("cannot monitor the socket: {e}"))?;
    let mut out = io::stdout().lock();
    let write_failed = |e: io::Error| format!("cannot write to stdout: {e}");
    writeln!(
        out,
        "{:<12}  {:<26}  {:>10}  {:<32}  {:<15}  REASON",
        "TIME", "EVENT", "VALUE", "ENDPOINT", "PEER"
    )
    .map_err(write_failed)?;
    out.flush().map_err(write_failed)?;
    for ep in &args.bind {
        Endpoint::parse(ep, Direction::Bind).map_err(|e| format!("cannot bind {ep}: {e}"))?;
        // A failed bind is an event too (BIND_FAILED); it is shown before the error.
        if let Err(e) = socket.bind(ep) {
            print_pending(&events, &mut out).map_err(write_failed)?;
            return Err(format!("cannot bind {ep}: {e}"));
        }
    }
    for ep in &args.connect {
        Endpoint::parse(ep, Direction::Connect)
            .map_err(|e| format!("cannot connect to {ep}: {e}"))?;
        socket
            .connect(ep)
            .map_err(|e| format!("cannot connect to {ep}: {e}"))?;
    }
    let deadline = args
        .timeout
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    let mut shown = 0u64;
    while args.count.is_none_or(|n| shown < n) {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let wait = deadline.map_or(TICK, |d| {
            d.saturating_duration_since(Instant::now()).min(TICK)
        });
        if let Some(event) = events.recv(Some(wait)) {
            writeln!(out, "{}", row(&event)).map_err(write_failed)?;
            out.flush().map_err(write_failed)?;
            shown += 1;
        }
    }
    if events.dropped() > 0 {
        eprintln!(
            "zmq: {} events were dropped (printing did not keep up)",
            events.dropped()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_pending(events: &zmq::monitor::EventStream, out: &mut impl Write) -> io::Result<()> {
    while let Some(event) = events.try_recv() {
        writeln!(out, "{}", row(&event))?;
    }
    out.flush()
}

/// The mask of a comma-separated list of event names.
fn parse_events(list: &str) -> Result<u32, String> {
    let mut mask = 0;
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let upper = name.to_ascii_uppercase();
        let bare = upper.strip_prefix("ZMQ_EVENT_").unwrap_or(&upper);
        if bare == "ALL" {
            mask |= ALL;
            continue;
        }
        let kind = EventKind::ALL
            .into_iter()
            .find(|k| k.name() == bare)
            .ok_or_else(|| {
                let names: Vec<String> = EventKind::ALL
                    .iter()
                    .map(|k| k.name().to_ascii_lowercase())
                    .collect();
                format!(
                    "--events: unknown event {name:?}; use all or some of {}",
                    names.join(", ")
                )
            })?;
        mask |= kind.bit();
    }
    if mask == 0 {
        return Err("--events: give at least one event (or all)".into());
    }
    Ok(mask)
}

/// One line of the table.
fn row(e: &Event) -> String {
    let value = match e.kind {
        EventKind::HandshakeFailedProtocol => format!("{:#010x}", e.value),
        _ => e.value.to_string(),
    };
    let endpoint = if e.endpoint.is_empty() {
        "-"
    } else {
        &e.endpoint
    };
    format!(
        "{:<12}  {:<26}  {:>10}  {:<32}  {:<15}  {}",
        clock(),
        e.kind.name(),
        value,
        endpoint,
        e.peer_address.as_deref().unwrap_or("-"),
        e.reason.as_deref().unwrap_or("-"),
    )
}

/// The time of day (UTC) as HH:MM:SS.mmm.
fn clock() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists() {
        assert_eq!(parse_events("all").unwrap(), ALL);
        assert_eq!(
            parse_events("connected, ZMQ_EVENT_DISCONNECTED").unwrap(),
            EventKind::Connected.bit() | EventKind::Disconnected.bit()
        );
        assert_eq!(
            parse_events("Subscribed").unwrap(),
            EventKind::Subscribed.bit()
        );
        assert!(parse_events("connectd").unwrap_err().contains("connected"));
        assert!(parse_events(",").is_err());
    }

    #[test]
    fn rows_show_every_column() {
        let mut e = Event::new(EventKind::HandshakeFailedProtocol, 0x1100_0002, "tcp://a:1");
        e.reason = Some("mechanism mismatch".into());
        let r = row(&e);
        assert!(r.contains("HANDSHAKE_FAILED_PROTOCOL"), "{r}");
        assert!(r.contains("0x11000002"), "{r}");
        assert!(r.contains("tcp://a:1"), "{r}");
        assert!(r.ends_with("mechanism mismatch"), "{r}");
    }
}
