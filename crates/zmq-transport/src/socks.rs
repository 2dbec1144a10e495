//! A SOCKS5 client (RFC 1928, with RFC 1929 user name and password) for `ZMQ_SOCKS_PROXY`.
//!
//! It runs on a short-lived thread per connection attempt, as name resolution does, so a
//! slow proxy stalls no other connection: it connects to the proxy, asks it to connect to
//! the endpoint (by name when the endpoint names a host, as libzmq's `socks_connecter`
//! does), and hands the connected stream to the reactor, where the ZMTP handshake starts.
//! Every wait is bounded by `ZMQ_CONNECT_TIMEOUT` (the connect to the proxy) and
//! `ZMQ_HANDSHAKE_IVL` (the SOCKS exchange; 30 s without one).

use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::endpoint::Host;
use crate::options::TransportOptions;

/// RFC 1928's version byte.
const VERSION: u8 = 5;
/// No authentication (RFC 1928 section 3).
const NO_AUTH: u8 = 0;
/// User name and password (RFC 1929).
const USER_PASSWORD: u8 = 2;
/// RFC 1929's sub-negotiation version.
const AUTH_VERSION: u8 = 1;
/// How long the SOCKS exchange may take without `ZMQ_HANDSHAKE_IVL`.
const DEFAULT_EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

fn protocol(why: impl Into<String>) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("SOCKS5 proxy: {}", why.into()),
    )
}

/// Connects to `host`:`port` through the proxy `options.socks_proxy` (`host:port`).
pub(crate) fn connect(host: &Host, port: u16, options: &TransportOptions) -> io::Result<TcpStream> {
    let proxy = options
        .socks_proxy
        .to_socket_addrs()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("ZMQ_SOCKS_PROXY {:?}: {e}", options.socks_proxy),
            )
        })?
        .find(|a| options.ipv6 || a.is_ipv4())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "ZMQ_SOCKS_PROXY {:?} has no usable address",
                    options.socks_proxy
                ),
            )
        })?;
    let mut stream = match options.connect_timeout {
        Some(t) => TcpStream::connect_timeout(&proxy, t)?,
        None => TcpStream::connect(proxy)?,
    };
    let limit = options.handshake_ivl.unwrap_or(DEFAULT_EXCHANGE_TIMEOUT);
    let mut bounded = Bounded {
        stream: &mut stream,
        deadline: Instant::now() + limit,
    };
    negotiate(&mut bounded, host, port, options)?;
    stream.set_read_timeout(None)?;
    stream.set_write_timeout(None)?;
    Ok(stream)
}

/// The proxy's stream with one deadline for the whole exchange: each read and write may
/// take only what is left of it, so a proxy that answers a byte at a time cannot stretch
/// the exchange past `ZMQ_HANDSHAKE_IVL`.
struct Bounded<'a> {
    stream: &'a mut TcpStream,
    deadline: Instant,
}

impl Bounded<'_> {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        Ok(left)
    }
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "SOCKS5 proxy: the exchange took longer than ZMQ_HANDSHAKE_IVL",
    )
}

/// A socket timeout (`EAGAIN` on Linux) as the exchange's.
fn on_timeout<T>(result: io::Result<T>) -> io::Result<T> {
    result.map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timed_out(),
        _ => e,
    })
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_read_timeout(Some(left))?;
        on_timeout(self.stream.read(buf))
    }
}

impl Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_write_timeout(Some(left))?;
        on_timeout(self.stream.write(buf))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// The SOCKS5 exchange over any byte stream.
pub(crate) fn negotiate(
    stream: &mut (impl Read + Write),
    host: &Host,
    port: u16,
    options: &TransportOptions,
) -> io::Result<()> {
    let method = if options.socks_username.is_empty() {
        NO_AUTH
    } else {
        USER_PASSWORD
    };
    stream.write_all(&[VERSION, 1, method])?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice)?;
    if choice[0] != VERSION {
        return Err(protocol(format!(
            "version {} in its method choice",
            choice[0]
        )));
    }
    if choice[1] != method {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "SOCKS5 proxy refused authentication method {method} (answered {})",
                choice[1]
            ),
        ));
    }
    if method == USER_PASSWORD {
        let (user, pass) = (&options.socks_username, &options.socks_password);
        let mut auth = Vec::with_capacity(3 + user.len() + pass.len());
        auth.push(AUTH_VERSION);
        auth.push(u8::try_from(user.len()).map_err(|_| protocol("user name above 255 bytes"))?);
        auth.extend_from_slice(user);
        auth.push(u8::try_from(pass.len()).map_err(|_| protocol("password above 255 bytes"))?);
        auth.extend_from_slice(pass);
        stream.write_all(&auth)?;
        let mut status = [0u8; 2];
        stream.read_exact(&mut status)?;
        if status[1] != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "SOCKS5 proxy refused the user name and password",
            ));
        }
    }
    let mut request = vec![VERSION, 1, 0];
    match host {
        Host::Ip(IpAddr::V4(ip), _) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Host::Ip(IpAddr::V6(ip), _) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Host::Name(name) => {
            request.push(3);
            request.push(u8::try_from(name.len()).map_err(|_| protocol("host name too long"))?);
            request.extend_from_slice(name.as_bytes());
        }
        Host::Any => return Err(protocol("cannot connect to a wildcard address")),
    }
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request)?;
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply)?;
    if reply[0] != VERSION {
        return Err(protocol(format!("version {} in its reply", reply[0])));
    }
    if reply[1] != 0 {
        return Err(reply_error(reply[1]));
    }
    // The address the proxy bound, which we do not need: skip it.
    let skip = match reply[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len)?;
            usize::from(len[0])
        }
        other => return Err(protocol(format!("address type {other} in its reply"))),
    };
    // The longest: a domain name of 255 bytes, then the port.
    let mut rest = [0u8; 255 + 2];
    stream.read_exact(&mut rest[..skip + 2])?;
    Ok(())
}

/// RFC 1928's reply codes as errors.
fn reply_error(code: u8) -> io::Error {
    let (kind, what) = match code {
        2 => (
            io::ErrorKind::PermissionDenied,
            "connection not allowed by ruleset",
        ),
        3 => (io::ErrorKind::NetworkUnreachable, "network unreachable"),
        4 => (io::ErrorKind::HostUnreachable, "host unreachable"),
        5 => (io::ErrorKind::ConnectionRefused, "connection refused"),
        6 => (io::ErrorKind::TimedOut, "TTL expired"),
        7 => (io::ErrorKind::Unsupported, "command not supported"),
        8 => (io::ErrorKind::Unsupported, "address type not supported"),
        _ => (io::ErrorKind::Other, "general failure"),
    };
    io::Error::new(kind, format!("SOCKS5 proxy: {what} (reply {code})"))
}

/// Entry points for the fuzz targets and their corpus replay: a proxy that answers with
/// `answer`, whatever it is, ends the exchange with an error or success, never a panic.
#[doc(hidden)]
pub fn fuzz_negotiate(answer: &[u8]) {
    let Some((&flags, answer)) = answer.split_first() else {
        return;
    };
    let mut options = TransportOptions::new(zmtp_codec::SocketType::Dealer);
    if flags & 1 != 0 {
        options.socks_username = "user".into();
        options.socks_password = "password".into();
    }
    let host = if flags & 2 != 0 {
        Host::Name("example.org".into())
    } else {
        Host::Ip(IpAddr::from([10, 1, 2, 3]), 0)
    };
    let mut peer = Answers {
        input: io::Cursor::new(answer),
    };
    let _ = negotiate(&mut peer, &host, 5555, &options);
}

/// A proxy that answers from a buffer and swallows what it is sent.
struct Answers<'a> {
    input: io::Cursor<&'a [u8]>,
}

impl Read for Answers<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Answers<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::TransportOptions;
    use zmtp_codec::SocketType;

    /// A scripted peer: what it answers, and what it was sent.
    struct Script {
        input: io::Cursor<Vec<u8>>,
        sent: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.sent.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn script(answers: &[u8]) -> Script {
        Script {
            input: io::Cursor::new(answers.to_vec()),
            sent: Vec::new(),
        }
    }

    #[test]
    fn connects_by_name_with_a_password() {
        let mut o = TransportOptions::new(SocketType::Dealer);
        o.socks_username = "u".into();
        o.socks_password = "pw".into();
        let mut s = script(&[5, 2, 1, 0, 5, 0, 0, 3, 3, b'a', b'b', b'c', 0, 80]);
        negotiate(&mut s, &Host::Name("example.org".into()), 5555, &o).unwrap();
        let mut expected = vec![5, 1, 2, 1, 1, b'u', 2, b'p', b'w', 5, 1, 0, 3, 11];
        expected.extend_from_slice(b"example.org");
        expected.extend_from_slice(&5555u16.to_be_bytes());
        assert_eq!(s.sent, expected);
    }

    #[test]
    fn connects_to_an_address_without_authentication() {
        let o = TransportOptions::new(SocketType::Dealer);
        let mut s = script(&[5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]);
        let host = Host::Ip("10.1.2.3".parse().unwrap(), 0);
        negotiate(&mut s, &host, 80, &o).unwrap();
        assert_eq!(s.sent, vec![5, 1, 0, 5, 1, 0, 1, 10, 1, 2, 3, 0, 80]);
    }

    #[test]
    fn refusals_and_garbage_are_errors() {
        let o = TransportOptions::new(SocketType::Dealer);
        let host = Host::Ip("10.1.2.3".parse().unwrap(), 0);
        let refused = negotiate(&mut script(&[5, 0, 5, 5, 0, 1]), &host, 80, &o).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        let no_method = negotiate(&mut script(&[5, 0xff]), &host, 80, &o).unwrap_err();
        assert_eq!(no_method.kind(), io::ErrorKind::PermissionDenied);
        let bad = negotiate(&mut script(&[4, 0]), &host, 80, &o).unwrap_err();
        assert_eq!(bad.kind(), io::ErrorKind::InvalidData);
        let short = negotiate(&mut script(&[5, 0, 5, 0, 0, 1, 1]), &host, 80, &o).unwrap_err();
        assert_eq!(short.kind(), io::ErrorKind::UnexpectedEof);
        let odd = negotiate(&mut script(&[5, 0, 5, 0, 0, 9]), &host, 80, &o).unwrap_err();
        assert_eq!(odd.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn a_proxy_that_drips_cannot_stretch_the_exchange() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = listener.local_addr().unwrap();
        let dripper = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            // A valid answer, one byte every 200 ms: each read is quick, the whole is not.
            for byte in [5u8, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80] {
                std::thread::sleep(Duration::from_millis(200));
                if conn.write_all(&[byte]).is_err() {
                    return;
                }
            }
        });
        let mut o = TransportOptions::new(SocketType::Dealer);
        o.socks_proxy = proxy.to_string();
        o.handshake_ivl = Some(Duration::from_millis(700));
        let started = Instant::now();
        let e = connect(&Host::Ip("10.1.2.3".parse().unwrap(), 0), 80, &o).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        dripper.join().unwrap();
    }

    #[test]
    fn a_bound_name_of_any_length_is_skipped() {
        let o = TransportOptions::new(SocketType::Dealer);
        let host = Host::Ip("10.1.2.3".parse().unwrap(), 0);
        for len in [0u8, 16, 17, 200, 255] {
            let mut answer = vec![5, 0, 5, 0, 0, 3, len];
            answer.extend(std::iter::repeat_n(b'x', usize::from(len)));
            answer.extend_from_slice(&[0, 80]);
            negotiate(&mut script(&answer), &host, 80, &o).unwrap();
        }
    }
}
