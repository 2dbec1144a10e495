//! `zmq proxy`: libzmq's steerable proxy on the command line.
//!
//! The proxy runs in its own thread, steered through an inproc PAIR. The main thread asks
//! it for `STATISTICS` to show a live status line, and relays the commands of the user's
//! `--control` socket, so that both can steer one proxy.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use zmq::endpoint::{Direction, Endpoint};
use zmq::{ProxyStatistics, SocketType};

/// How long the proxy's sockets may take to send what they queued when it stops.
const LINGER_MS: i32 = 1000;
/// How long the proxy thread may take to answer the tool's own commands.
const STEER_TIMEOUT_MS: i32 = 10_000;

/// Run a proxy: forward messages between a frontend and a backend socket, both ways.
///
/// Each socket is TYPE followed by its endpoints, each starting with `@` to bind or `>` to
/// connect, separated by commas (quote them: `>` redirects in a shell). TYPE is any
/// socket type in any case. A SUB side subscribes to everything.
///
/// Classic setups:
///   forwarder (publishers connect to 5555, subscribers to 5556; subscriptions go up):
///     zmq proxy 'xsub@tcp://*:5555' 'xpub@tcp://*:5556'
///   broker (REQ clients connect to 5559, REP workers to 5560):
///     zmq proxy 'router@tcp://*:5559' 'dealer@tcp://*:5560'
///   streamer (PUSH to 5557, PULL from 5558):
///     zmq proxy 'pull@tcp://*:5557' 'push@tcp://*:5558'
///   bind and connect at once:
///     zmq proxy 'xsub>tcp://upstream:5555,>tcp://other:5555' 'xpub@ipc:///tmp/feed'
///
/// --capture sends a copy of every message part, either way, to another socket (PUB, PUSH,
/// DEALER or PAIR). --control takes libzmq's commands on a REP or PAIR socket: PAUSE,
/// RESUME, TERMINATE (the proxy exits) and STATISTICS (8 parts of u64 in host byte
/// order: frontend messages in, bytes in, messages out, bytes out, then the backend's);
/// a REP gets an empty reply to the others:
///   zmq proxy 'pull@tcp://*:5557' 'push@tcp://*:5558' --control 'rep@tcp://127.0.0.1:5561'
///   echo TERMINATE | zmq cat req --connect tcp://127.0.0.1:5561
///
/// On a terminal, a status line shows the messages (parts) and bytes forwarded each way;
/// a summary is printed when the proxy ends. On exit, queued messages get up to 1 s to go
/// out.
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub(crate) struct ProxyArgs {
    /// The frontend socket, e.g. 'router@tcp://*:5559'.
    #[arg(value_name = "FRONTEND")]
    frontend: String,
    /// The backend socket, e.g. 'dealer@tcp://*:5560'.
    #[arg(value_name = "BACKEND")]
    backend: String,
    /// A socket that gets a copy of every message part, e.g. 'pub@tcp://*:5570'.
    #[arg(long, value_name = "SOCKET")]
    capture: Option<String>,
    /// A REP or PAIR socket for PAUSE, RESUME, TERMINATE and STATISTICS, e.g.
    /// 'rep@tcp://127.0.0.1:5561'.
    #[arg(long, value_name = "SOCKET")]
    control: Option<String>,
    /// How often the status line is refreshed, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    interval: u64,
    /// Print neither the status line nor the summary.
    #[arg(long)]
    quiet: bool,
}

/// A socket as given on the command line.
#[derive(Debug, PartialEq, Eq)]
struct Spec {
    socket_type: SocketType,
    /// Each endpoint, with true to bind it.
    endpoints: Vec<(bool, String)>,
}

const TYPES: [(&str, SocketType); 12] = [
    ("PAIR", zmq::PAIR),
    ("PUB", zmq::PUB),
    ("SUB", zmq::SUB),
    ("REQ", zmq::REQ),
    ("REP", zmq::REP),
    ("DEALER", zmq::DEALER),
    ("ROUTER", zmq::ROUTER),
    ("PULL", zmq::PULL),
    ("PUSH", zmq::PUSH),
    ("XPUB", zmq::XPUB),
    ("XSUB", zmq::XSUB),
    ("STREAM", zmq::STREAM),
];

/// Reads `TYPE@EP,>EP...`; `what` names the argument in errors.
fn parse_spec(spec: &str, what: &str) -> Result<Spec, String> {
    let Some(start) = spec.find(['@', '>']) else {
        return Err(format!(
            "{what} {spec:?}: give TYPE@ENDPOINT to bind or TYPE>ENDPOINT to connect, \
             e.g. 'router@tcp://*:5559'"
        ));
    };
    let name = &spec[..start];
    let socket_type = TYPES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = TYPES.iter().map(|(n, _)| *n).collect();
            format!(
                "{what} {spec:?}: unknown socket type {name:?}; use one of {}",
                names.join(", ")
            )
        })?;
    let mut endpoints = Vec::new();
    for item in spec[start..].split(',') {
        let (bind, endpoint) = if let Some(ep) = item.strip_prefix('@') {
            (true, ep)
        } else if let Some(ep) = item.strip_prefix('>') {
            (false, ep)
        } else {
            return Err(format!(
                "{what} {spec:?}: endpoint {item:?} must start with @ (bind) or > (connect)"
            ));
        };
        let direction = if bind {
            Direction::Bind
        } else {
            Direction::Connect
        };
        Endpoint::parse(endpoint, direction)
            .map_err(|e| format!("{what} {spec:?}: endpoint {endpoint:?}: {e}"))?;
        endpoints.push((bind, endpoint.to_owned()));
    }
    Ok(Spec {
        socket_type,
        endpoints,
    })
}

fn open(ctx: &zmq::Context, spec: &Spec, what: &str) -> Result<zmq::Socket, String> {
    let socket = ctx
        .socket(spec.socket_type)
        .map_err(|e| format!("cannot create the {what} socket: {e}"))?;
    socket
        .set_linger(LINGER_MS)
        .map_err(|e| format!("{what}: cannot set the linger: {e}"))?;
    if spec.socket_type == zmq::SUB {
        socket
            .set_subscribe(b"")
            .map_err(|e| format!("{what}: cannot subscribe: {e}"))?;
    }
    for (bind, endpoint) in &spec.endpoints {
        if *bind {
            socket
                .bind(endpoint)
                .map_err(|e| format!("{what}: cannot bind {endpoint}: {e}"))?;
        } else {
            socket
                .connect(endpoint)
                .map_err(|e| format!("{what}: cannot connect to {endpoint}: {e}"))?;
        }
    }
    Ok(socket)
}

pub(crate) fn run(args: &ProxyArgs) -> Result<ExitCode, String> {
    let frontend = parse_spec(&args.frontend, "FRONTEND")?;
    let backend = parse_spec(&args.backend, "BACKEND")?;
    let capture = args
        .capture
        .as_deref()
        .map(|s| parse_spec(s, "--capture"))
        .transpose()?;
    let control = args
        .control
        .as_deref()
        .map(|s| parse_spec(s, "--control"))
        .transpose()?;
    if let Some(c) = &control {
        if !matches!(c.socket_type, zmq::REP | zmq::PAIR) {
            return Err(format!(
                "--control {:?}: the control socket must be a REP or a PAIR, to answer \
                 STATISTICS",
                args.control.as_deref().unwrap_or_default()
            ));
        }
    }
    if args.interval == 0 {
        return Err("--interval must be at least 1 ms".into());
    }

    let ctx = zmq::Context::new();
    let front = open(&ctx, &frontend, "frontend")?;
    let back = open(&ctx, &backend, "backend")?;
    let capture = capture.map(|c| open(&ctx, &c, "capture")).transpose()?;
    let user_control = control.map(|c| open(&ctx, &c, "control")).transpose()?;
    let steer = ctx
        .socket(zmq::PAIR)
        .and_then(|s| {
            s.set_linger(0)?;
            s.set_rcvtimeo(STEER_TIMEOUT_MS)?;
            s.set_sndtimeo(STEER_TIMEOUT_MS)?;
            s.bind("inproc://zmq-cli-proxy-control")?;
            Ok(s)
        })
        .map_err(|e| format!("cannot set up the proxy's control: {e}"))?;
    let inner_control = ctx
        .socket(zmq::PAIR)
        .and_then(|s| {
            s.set_linger(0)?;
            s.connect("inproc://zmq-cli-proxy-control")?;
            Ok(s)
        })
        .map_err(|e| format!("cannot set up the proxy's control: {e}"))?;

    let proxy = thread::spawn(move || {
        let mut proxy = zmq::Proxy::new(&front, &back).control(&inner_control);
        if let Some(capture) = &capture {
            proxy = proxy.capture(capture);
        }
        proxy.run()
    });

    let live = !args.quiet && std::io::stderr().is_terminal();
    let interval = Duration::from_millis(args.interval);
    let mut last = ProxyStatistics::default();
    let mut next_status = Instant::now() + interval;
    loop {
        if proxy.is_finished() {
            let result = proxy.join().map_err(|_| "the proxy thread panicked")?;
            finish(args.quiet, live, &last);
            return match result {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => Err(format!("the proxy stopped: {e}")),
            };
        }
        let wait = next_status.saturating_duration_since(Instant::now());
        let commanded = match &user_control {
            Some(control) => {
                control
                    .poll(zmq::POLLIN, wait.as_millis().max(1) as i64)
                    .map_err(|e| format!("control: {e}"))?
                    > 0
            }
            None => {
                thread::sleep(wait);
                false
            }
        };
        if commanded {
            if let Some(control) = &user_control {
                if relay(control, &steer, &mut last)? {
                    let result = proxy.join().map_err(|_| "the proxy thread panicked")?;
                    finish(args.quiet, live, &last);
                    return result
                        .map(|()| ExitCode::SUCCESS)
                        .map_err(|e| format!("the proxy stopped: {e}"));
                }
            }
        }
        if Instant::now() >= next_status {
            next_status = Instant::now() + interval;
            if proxy.is_finished() {
                continue;
            }
            last = statistics(&steer)?;
            if live {
                eprint!("\r{}\x1b[K", status(&last));
                let _ = std::io::stderr().flush();
            }
        }
    }
}

/// Passes one command of the user's control socket to the proxy and answers it as the
/// proxy would; true if it was TERMINATE (the proxy is ending).
fn relay(
    control: &zmq::Socket,
    steer: &zmq::Socket,
    last: &mut ProxyStatistics,
) -> Result<bool, String> {
    let parts = match control.recv_multipart(zmq::DONTWAIT) {
        Ok(parts) => parts,
        Err(zmq::Error::EAGAIN) => return Ok(false),
        Err(e) => return Err(format!("control: cannot receive: {e}")),
    };
    let command = parts.first().map(Vec::as_slice).unwrap_or_default();
    let is_rep = control.get_socket_type().ok() == Some(zmq::REP);
    if command == b"STATISTICS" {
        *last = statistics(steer)?;
        // A REP's requester waits for its reply; any other control socket's peer may not
        // read at all, so its replies never block this loop (dropped at its HWM).
        let flags = if is_rep { 0 } else { zmq::DONTWAIT };
        match control.send_multipart(last.to_reply().iter().map(|p| &p[..]), flags) {
            Ok(()) | Err(zmq::Error::EAGAIN) => {}
            Err(e) => return Err(format!("control: cannot reply: {e}")),
        }
        return Ok(false);
    }
    let terminate = command == b"TERMINATE";
    if terminate {
        // The last counts, for the summary.
        *last = statistics(steer)?;
    }
    steer
        .send(command, 0)
        .map_err(|e| format!("cannot steer the proxy: {e}"))?;
    if !terminate {
        // The proxy answers commands in order: once STATISTICS is answered, the command
        // took effect, and the user's reply says so.
        *last = statistics(steer)?;
    }
    if is_rep {
        control
            .send("", 0)
            .map_err(|e| format!("control: cannot reply: {e}"))?;
    }
    Ok(terminate)
}

fn statistics(steer: &zmq::Socket) -> Result<ProxyStatistics, String> {
    steer
        .send("STATISTICS", 0)
        .and_then(|()| steer.recv_multipart(0))
        .map_err(|e| format!("the proxy does not answer: {e}"))
        .and_then(|reply| ProxyStatistics::from_reply(&reply).map_err(|e| e.to_string()))
}

/// `frontend→backend N msgs (B bytes), backend→frontend ...`: what each side sent in.
fn status(s: &ProxyStatistics) -> String {
    format!(
        "frontend→backend {} msgs ({} bytes), backend→frontend {} msgs ({} bytes)",
        s.frontend.msgs_in, s.frontend.bytes_in, s.backend.msgs_in, s.backend.bytes_in
    )
}

fn finish(quiet: bool, live: bool, last: &ProxyStatistics) {
    if live {
        eprint!("\r\x1b[K");
    }
    if !quiet {
        eprintln!("zmq proxy: {}", status(last));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            parse_spec("router@tcp://*:5559", "F"),
            Ok(Spec {
                socket_type: zmq::ROUTER,
                endpoints: vec![(true, "tcp://*:5559".into())],
            })
        );
        assert_eq!(
            parse_spec("XSub>tcp://a:1,@ipc:///tmp/x,>inproc://y", "F"),
            Ok(Spec {
                socket_type: zmq::XSUB,
                endpoints: vec![
                    (false, "tcp://a:1".into()),
                    (true, "ipc:///tmp/x".into()),
                    (false, "inproc://y".into()),
                ],
            })
        );
        assert!(parse_spec("router", "F")
            .unwrap_err()
            .contains("TYPE@ENDPOINT"));
        assert!(parse_spec("rooter@tcp://*:1", "F")
            .unwrap_err()
            .contains("unknown socket type"));
        assert!(parse_spec("pub@tcp://*:1,tcp://*:2", "F")
            .unwrap_err()
            .contains("must start with @"));
        assert!(parse_spec("pub@bogus://x", "F").is_err());
    }
}
