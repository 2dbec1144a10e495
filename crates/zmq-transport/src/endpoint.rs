//! Endpoint strings: `tcp://`, `ipc://` and `inproc://` addresses, parsed and checked.
//!
//! Forms accepted, as in libzmq (`zmq_tcp`, `zmq_ipc`, `zmq_inproc`):
//!
//! | form | meaning |
//! |---|---|
//! | `tcp://host:port` | connect to a host name, IPv4 or `[IPv6]` literal |
//! | `tcp://*:port`, `tcp://*:*`, `tcp://host:0` | bind on every interface; `*` or 0: an ephemeral port |
//! | `tcp://eth0:port` | bind on an interface's address |
//! | `tcp://[fe80::1%eth0]:port` | an IPv6 literal with a scope (interface name or number) |
//! | `tcp://src;host:port` | connect from a source address (`src` is `ip[:port]` or an interface) |
//! | `ipc://path`, `ipc://@name`, `ipc://*` | a Unix socket path, an abstract name (Linux), a generated path |
//! | `inproc://name` | a name within the same context |

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;

/// A parsed endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `tcp://`
    Tcp(TcpEndpoint),
    /// `ipc://`
    Ipc(IpcEndpoint),
    /// `inproc://name`
    Inproc(String),
}

/// A TCP endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TcpEndpoint {
    /// Where to bind or connect.
    pub host: Host,
    /// The port; 0 for an ephemeral port (`*` when binding).
    pub port: u16,
    /// For a connect, the local address to connect from (`tcp://src;dst`).
    pub source: Option<(Host, u16)>,
}

/// The host part of a TCP endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// `*`: every interface (bind only).
    Any,
    /// An address literal; for IPv6, the scope id if one was given.
    Ip(IpAddr, u32),
    /// A host name (connect) or an interface name (bind), resolved later.
    Name(String),
}

/// An IPC endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IpcEndpoint {
    /// A filesystem path.
    Path(PathBuf),
    /// A Linux abstract-namespace name (`ipc://@name`), without the `@`.
    Abstract(Vec<u8>),
    /// `ipc://*`: bind to a newly generated path.
    Generated,
}

/// Why an endpoint string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointError {
    /// The string is not a valid endpoint (libzmq: `EINVAL`).
    Invalid {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The transport is one we do not speak (libzmq: `EPROTONOSUPPORT`).
    UnsupportedTransport {
        /// The endpoint as given.
        endpoint: String,
        /// Its scheme.
        scheme: String,
    },
}

impl EndpointError {
    /// libzmq's errno for this error.
    pub fn errno(&self) -> i32 {
        match self {
            Self::Invalid { .. } => crate::errno::EINVAL,
            Self::UnsupportedTransport { .. } => crate::errno::EPROTONOSUPPORT,
        }
    }
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { endpoint, reason } => {
                write!(f, "invalid endpoint {endpoint:?}: {reason}")
            }
            Self::UnsupportedTransport { endpoint, scheme } => write!(
                f,
                "endpoint {endpoint:?}: transport {scheme:?} is not supported; use tcp://, ipc:// or inproc://"
            ),
        }
    }
}

impl std::error::Error for EndpointError {}

/// Whether the endpoint is for binding or for connecting; wildcards are for binding only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `bind`
    Bind,
    /// `connect`
    Connect,
}

impl Endpoint {
    /// Parses an endpoint for `direction`.
    pub fn parse(endpoint: &str, direction: Direction) -> Result<Self, EndpointError> {
        let invalid = |reason| EndpointError::Invalid {
            endpoint: endpoint.to_owned(),
            reason,
        };
        let (scheme, rest) = endpoint
            .split_once("://")
            .ok_or_else(|| invalid("expected transport://address"))?;
        match scheme {
            "tcp" => parse_tcp(rest, direction).map(Self::Tcp).map_err(invalid),
            "ipc" => parse_ipc(rest, direction).map(Self::Ipc).map_err(invalid),
            "inproc" => {
                if rest.is_empty() {
                    Err(invalid("an inproc endpoint needs a name"))
                } else {
                    Ok(Self::Inproc(rest.to_owned()))
                }
            }
            "pgm" | "epgm" | "udp" | "ws" | "wss" | "tipc" | "vmci" | "norm" | "vsock" => {
                Err(EndpointError::UnsupportedTransport {
                    endpoint: endpoint.to_owned(),
                    scheme: scheme.to_owned(),
                })
            }
            _ => Err(EndpointError::UnsupportedTransport {
                endpoint: endpoint.to_owned(),
                scheme: scheme.to_owned(),
            }),
        }
    }
}

fn parse_tcp(rest: &str, direction: Direction) -> Result<TcpEndpoint, &'static str> {
    let (source, target) = match rest.split_once(';') {
        Some((src, dst)) => {
            if direction == Direction::Bind {
                return Err("a source address (src;dst) is for connect only");
            }
            (Some(parse_host_port(src, true, direction)?), dst)
        }
        None => (None, rest),
    };
    let (host, port) = parse_host_port(target, false, direction)?;
    if direction == Direction::Connect {
        if host == Host::Any {
            return Err("cannot connect to *; name a host");
        }
        if port == 0 {
            return Err("cannot connect to port 0 or *; name a port");
        }
    }
    Ok(TcpEndpoint { host, port, source })
}

/// Parses `host:port`; for a source address the port is optional.
fn parse_host_port(
    s: &str,
    source: bool,
    direction: Direction,
) -> Result<(Host, u16), &'static str> {
    let (host, port) = if let Some(after) = s.strip_prefix('[') {
        let (inside, after) = after.split_once(']').ok_or("unclosed [ in IPv6 address")?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() && source => None,
            None => return Err("expected :port after the ]"),
        };
        (parse_ipv6(inside)?, port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (parse_host(h, direction)?, Some(p)),
            Some(_) => return Err("an IPv6 address must be in brackets: [addr]:port"),
            None if source => (parse_host(s, direction)?, None),
            None => return Err("expected host:port"),
        }
    };
    let port = match port {
        None | Some("*") => 0,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| "the port is not a number from 0 to 65535")?,
    };
    Ok((host, port))
}

fn parse_host(h: &str, direction: Direction) -> Result<Host, &'static str> {
    if h.is_empty() {
        return Err("the host is empty");
    }
    if h == "*" {
        return if direction == Direction::Bind {
            Ok(Host::Any)
        } else {
            Err("cannot connect to *; name a host")
        };
    }
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Ok(Host::Ip(ip, 0));
    }
    if h.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    {
        Ok(Host::Name(h.to_owned()))
    } else {
        Err("the host is neither an address nor a valid name")
    }
}

fn parse_ipv6(inside: &str) -> Result<Host, &'static str> {
    if inside == "*" {
        return Ok(Host::Any);
    }
    let (addr, scope) = match inside.split_once('%') {
        Some((a, s)) => (a, Some(s)),
        None => (inside, None),
    };
    let ip: Ipv6Addr = addr.parse().map_err(|_| "not a valid IPv6 address")?;
    let scope = match scope {
        None => 0,
        Some("") => return Err("empty IPv6 scope after %"),
        Some(s) => match s.parse::<u32>() {
            Ok(n) => n,
            Err(_) => crate::net::interface_index(s).ok_or("unknown interface in IPv6 scope")?,
        },
    };
    Ok(Host::Ip(IpAddr::V6(ip), scope))
}

fn parse_ipc(rest: &str, direction: Direction) -> Result<IpcEndpoint, &'static str> {
    if rest.is_empty() {
        return Err("an ipc endpoint needs a path");
    }
    if rest == "*" {
        return if direction == Direction::Bind {
            Ok(IpcEndpoint::Generated)
        } else {
            Err("cannot connect to ipc://*; name a path")
        };
    }
    if let Some(name) = rest.strip_prefix('@') {
        if !cfg!(target_os = "linux") {
            return Err("abstract ipc names (ipc://@name) exist only on Linux");
        }
        return Ok(IpcEndpoint::Abstract(name.as_bytes().to_vec()));
    }
    // sun_path holds 108 bytes including the terminating NUL.
    if rest.len() > 107 {
        return Err("the ipc path is longer than the 107 bytes a Unix socket address holds");
    }
    Ok(IpcEndpoint::Path(PathBuf::from(rest)))
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Ip(IpAddr::V6(ip), 0) => write!(f, "[{ip}]"),
            Self::Ip(IpAddr::V6(ip), scope) => write!(f, "[{ip}%{scope}]"),
            Self::Ip(ip, _) => write!(f, "{ip}"),
            Self::Name(name) => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn bind(s: &str) -> Result<Endpoint, EndpointError> {
        Endpoint::parse(s, Direction::Bind)
    }

    fn connect(s: &str) -> Result<Endpoint, EndpointError> {
        Endpoint::parse(s, Direction::Connect)
    }

    fn tcp(host: Host, port: u16) -> Endpoint {
        Endpoint::Tcp(TcpEndpoint {
            host,
            port,
            source: None,
        })
    }

    #[test]
    fn tcp_forms() {
        let local = Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        assert_eq!(
            connect("tcp://127.0.0.1:5555").unwrap(),
            tcp(local.clone(), 5555)
        );
        assert_eq!(bind("tcp://*:5555").unwrap(), tcp(Host::Any, 5555));
        assert_eq!(bind("tcp://*:*").unwrap(), tcp(Host::Any, 0));
        assert_eq!(bind("tcp://127.0.0.1:0").unwrap(), tcp(local.clone(), 0));
        assert_eq!(
            connect("tcp://localhost:80").unwrap(),
            tcp(Host::Name("localhost".into()), 80)
        );
        assert_eq!(
            connect("tcp://[::1]:5555").unwrap(),
            tcp(Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST), 0), 5555)
        );
        assert_eq!(
            connect("tcp://[fe80::1%3]:5555").unwrap(),
            tcp(Host::Ip("fe80::1".parse().unwrap(), 3), 5555)
        );
        assert_eq!(bind("tcp://[*]:1").unwrap(), tcp(Host::Any, 1));
        assert_eq!(
            connect("tcp://127.0.0.1:0;127.0.0.1:5555").unwrap(),
            Endpoint::Tcp(TcpEndpoint {
                host: local.clone(),
                port: 5555,
                source: Some((local.clone(), 0)),
            })
        );
        assert_eq!(
            connect("tcp://lo;host:1").unwrap(),
            Endpoint::Tcp(TcpEndpoint {
                host: Host::Name("host".into()),
                port: 1,
                source: Some((Host::Name("lo".into()), 0)),
            })
        );
    }

    #[test]
    fn tcp_errors() {
        for bad in [
            "tcp://",
            "tcp://host",
            "tcp://host:",
            "tcp://host:65536",
            "tcp://host:x",
            "tcp://::1:5555",
            "tcp://[::1:5555",
            "tcp://[nope]:1",
            "tcp://ho st:1",
        ] {
            assert!(
                matches!(connect(bad), Err(EndpointError::Invalid { .. })),
                "{bad}"
            );
        }
        assert!(connect("tcp://*:5555").is_err());
        assert!(connect("tcp://127.0.0.1:0").is_err());
        assert!(bind("tcp://a;b:1").is_err());
        assert_eq!(
            connect("tcp://host").unwrap_err().errno(),
            crate::errno::EINVAL
        );
    }

    #[test]
    fn ipc_and_inproc() {
        assert_eq!(
            bind("ipc:///tmp/x.sock").unwrap(),
            Endpoint::Ipc(IpcEndpoint::Path("/tmp/x.sock".into()))
        );
        assert_eq!(
            bind("ipc://*").unwrap(),
            Endpoint::Ipc(IpcEndpoint::Generated)
        );
        assert!(connect("ipc://*").is_err());
        #[cfg(target_os = "linux")]
        assert_eq!(
            connect("ipc://@name").unwrap(),
            Endpoint::Ipc(IpcEndpoint::Abstract(b"name".to_vec()))
        );
        assert!(bind(&format!("ipc:///{}", "a".repeat(200))).is_err());
        assert_eq!(connect("inproc://x").unwrap(), Endpoint::Inproc("x".into()));
        assert!(connect("inproc://").is_err());
    }

    #[test]
    fn unsupported_and_malformed() {
        let e = connect("pgm://eth0;239.1.1.1:5555").unwrap_err();
        assert_eq!(e.errno(), crate::errno::EPROTONOSUPPORT);
        assert!(e.to_string().contains("pgm"));
        assert!(connect("bogus://x").is_err());
        assert_eq!(
            connect("no-scheme").unwrap_err().errno(),
            crate::errno::EINVAL
        );
    }
}
