//! The error type, as in the `zmq` crate: one variant per errno that libzmq reports.

use std::fmt;
use std::io;

use zmq_transport::endpoint::EndpointError;
use zmq_transport::errno;
use zmq_transport::TransportError;

/// The result of a fallible call.
pub type Result<T> = std::result::Result<T, Error>;

/// An error returned by a ZeroMQ call, named after libzmq's errno.
///
/// The variants and their values ([`to_raw`](Self::to_raw)) are the `zmq` crate's: the
/// system errors take the platform's errno values and the ZeroMQ-specific ones
/// (`EFSM`, `ENOCOMPATPROTO`, `ETERM`, `EMTHREAD`) are libzmq's `ZMQ_HAUSNUMERO`-based
/// numbers, so code that matches on them, or compares raw values, keeps working.
///
/// [`message`](Self::message) is libzmq's `zmq_strerror` text. `Display` adds a short hint
/// where one helps (which REQ/REP rule was broken, why a call would block, ...); `Debug`
/// prints the same as `Display`, as the `zmq` crate's does, so `unwrap()` shows the hint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub enum Error {
    /// Permission denied.
    EACCES,
    /// Address already in use.
    EADDRINUSE,
    /// Resource temporarily unavailable: the call would block.
    EAGAIN,
    /// Device or resource busy.
    EBUSY,
    /// Connection refused.
    ECONNREFUSED,
    /// Bad address.
    EFAULT,
    /// Interrupted by a signal.
    EINTR,
    /// Host unreachable (`ROUTER_MANDATORY` and no peer with that routing id).
    EHOSTUNREACH,
    /// Operation in progress.
    EINPROGRESS,
    /// Invalid argument.
    EINVAL,
    /// Too many open files.
    EMFILE,
    /// Message too long.
    EMSGSIZE,
    /// Name too long.
    ENAMETOOLONG,
    /// No such device (an unknown interface).
    ENODEV,
    /// No such file or directory (an endpoint not in use).
    ENOENT,
    /// Out of memory.
    ENOMEM,
    /// Not connected.
    ENOTCONN,
    /// Not a socket.
    ENOTSOCK,
    /// Protocol error.
    EPROTO,
    /// Protocol not supported (an unknown transport).
    EPROTONOSUPPORT,
    /// Operation not supported (the socket type cannot do that).
    ENOTSUP,
    /// No buffer space available.
    ENOBUFS,
    /// Network is down.
    ENETDOWN,
    /// Address not available.
    EADDRNOTAVAIL,

    /// The operation cannot be accomplished in the socket's current state (REQ/REP order).
    EFSM,
    /// The transport is not compatible with the socket type.
    ENOCOMPATPROTO,
    /// The context was terminated.
    ETERM,
    /// No I/O thread is available.
    EMTHREAD,
}

/// libzmq's codes for system errors on platforms that lack them (`ZMQ_HAUSNUMERO + n`,
/// `include/zmq.h`). libzmq built for such a platform reports these; accept them too.
const HAUSNUMERO_ALIASES: [(i32, Error); 10] = [
    (errno::ZMQ_HAUSNUMERO + 1, Error::ENOTSUP),
    (errno::ZMQ_HAUSNUMERO + 2, Error::EPROTONOSUPPORT),
    (errno::ZMQ_HAUSNUMERO + 3, Error::ENOBUFS),
    (errno::ZMQ_HAUSNUMERO + 4, Error::ENETDOWN),
    (errno::ZMQ_HAUSNUMERO + 5, Error::EADDRINUSE),
    (errno::ZMQ_HAUSNUMERO + 6, Error::EADDRNOTAVAIL),
    (errno::ZMQ_HAUSNUMERO + 7, Error::ECONNREFUSED),
    (errno::ZMQ_HAUSNUMERO + 8, Error::EINPROGRESS),
    (errno::ZMQ_HAUSNUMERO + 9, Error::ENOTSOCK),
    (errno::ZMQ_HAUSNUMERO + 10, Error::EMSGSIZE),
];

impl Error {
    /// The errno value of this error.
    pub fn to_raw(self) -> i32 {
        match self {
            Self::EACCES => errno::EACCES,
            Self::EADDRINUSE => errno::EADDRINUSE,
            Self::EAGAIN => errno::EAGAIN,
            Self::EBUSY => errno::EBUSY,
            Self::ECONNREFUSED => errno::ECONNREFUSED,
            Self::EFAULT => errno::EFAULT,
            Self::EINTR => errno::EINTR,
            Self::EHOSTUNREACH => errno::EHOSTUNREACH,
            Self::EINPROGRESS => errno::EINPROGRESS,
            Self::EINVAL => errno::EINVAL,
            Self::EMFILE => errno::EMFILE,
            Self::EMSGSIZE => errno::EMSGSIZE,
            Self::ENAMETOOLONG => errno::ENAMETOOLONG,
            Self::ENODEV => errno::ENODEV,
            Self::ENOENT => errno::ENOENT,
            Self::ENOMEM => errno::ENOMEM,
            Self::ENOTCONN => errno::ENOTCONN,
            Self::ENOTSOCK => errno::ENOTSOCK,
            Self::EPROTO => errno::EPROTO,
            Self::EPROTONOSUPPORT => errno::EPROTONOSUPPORT,
            Self::ENOTSUP => errno::ENOTSUP,
            Self::ENOBUFS => errno::ENOBUFS,
            Self::ENETDOWN => errno::ENETDOWN,
            Self::EADDRNOTAVAIL => errno::EADDRNOTAVAIL,
            Self::EFSM => errno::EFSM,
            Self::ENOCOMPATPROTO => errno::ENOCOMPATPROTO,
            Self::ETERM => errno::ETERM,
            Self::EMTHREAD => errno::EMTHREAD,
        }
    }

    /// The error whose errno is `raw`, if there is one.
    ///
    /// Besides each variant's own [`to_raw`](Self::to_raw) value, this accepts libzmq's
    /// `ZMQ_HAUSNUMERO + n` stand-ins for system errors (what libzmq reports on platforms
    /// without those errnos, such as Windows). Anything else is `None`.
    pub fn try_from_raw(raw: i32) -> Option<Self> {
        let error = match raw {
            errno::EACCES => Self::EACCES,
            errno::EADDRINUSE => Self::EADDRINUSE,
            errno::EAGAIN => Self::EAGAIN,
            errno::EBUSY => Self::EBUSY,
            errno::ECONNREFUSED => Self::ECONNREFUSED,
            errno::EFAULT => Self::EFAULT,
            errno::EINTR => Self::EINTR,
            errno::EHOSTUNREACH => Self::EHOSTUNREACH,
            errno::EINPROGRESS => Self::EINPROGRESS,
            errno::EINVAL => Self::EINVAL,
            errno::EMFILE => Self::EMFILE,
            errno::EMSGSIZE => Self::EMSGSIZE,
            errno::ENAMETOOLONG => Self::ENAMETOOLONG,
            errno::ENODEV => Self::ENODEV,
            errno::ENOENT => Self::ENOENT,
            errno::ENOMEM => Self::ENOMEM,
            errno::ENOTCONN => Self::ENOTCONN,
            errno::ENOTSOCK => Self::ENOTSOCK,
            errno::EPROTO => Self::EPROTO,
            errno::EPROTONOSUPPORT => Self::EPROTONOSUPPORT,
            errno::ENOTSUP => Self::ENOTSUP,
            errno::ENOBUFS => Self::ENOBUFS,
            errno::ENETDOWN => Self::ENETDOWN,
            errno::EADDRNOTAVAIL => Self::EADDRNOTAVAIL,
            errno::EFSM => Self::EFSM,
            errno::ENOCOMPATPROTO => Self::ENOCOMPATPROTO,
            errno::ETERM => Self::ETERM,
            errno::EMTHREAD => Self::EMTHREAD,
            _ => {
                return HAUSNUMERO_ALIASES
                    .iter()
                    .find(|&&(code, _)| code == raw)
                    .map(|&(_, error)| error)
            }
        };
        Some(error)
    }

    /// The error for errno `raw`. Unlike the `zmq` crate's, this never panics.
    ///
    /// A value [`try_from_raw`](Self::try_from_raw) knows gives its variant. Any other
    /// value is an OS error the enum has no variant for (the enum is the `zmq` crate's, and
    /// adding one would break code that matches on it exhaustively), so it maps to the
    /// variant of the same kind, judged by what [`std::io::ErrorKind`] the OS error has:
    /// `ENOTDIR` to `ENOENT`, `EPERM` and `EROFS` to `EACCES`, `ENETUNREACH` to
    /// `EHOSTUNREACH`, `ECONNRESET`, `ECONNABORTED` and `EPIPE` to `ENOTCONN`, `ETIMEDOUT`
    /// to `EAGAIN` (how ZeroMQ reports a timeout), Windows' `WSAE*` codes to their
    /// namesakes, and so on. A value of no known kind gives [`EPROTO`](Self::EPROTO):
    /// "something below ZeroMQ failed", a variant callers do not use for control flow, so
    /// the fallback cannot turn into a spurious retry (`EAGAIN`, `EINTR`), shutdown
    /// (`ETERM`) or argument error (`EINVAL`). Use `try_from_raw` to tell these cases apart.
    pub fn from_raw(raw: i32) -> Self {
        Self::try_from_raw(raw)
            .or_else(|| Self::from_io_kind(io::Error::from_raw_os_error(raw).kind()))
            .unwrap_or(Self::EPROTO)
    }

    /// The variant for an I/O error: its OS errno if it has one, else its kind, else
    /// `fallback`.
    pub(crate) fn from_io(error: &io::Error, fallback: Self) -> Self {
        match error.raw_os_error() {
            Some(raw) => Self::from_raw(raw),
            None => Self::from_io_kind(error.kind()).unwrap_or(fallback),
        }
    }

    /// The closest variant for an I/O error kind, if there is one.
    fn from_io_kind(kind: io::ErrorKind) -> Option<Self> {
        use io::ErrorKind as K;
        Some(match kind {
            K::NotFound | K::NotADirectory => Self::ENOENT,
            K::PermissionDenied | K::ReadOnlyFilesystem => Self::EACCES,
            K::ConnectionRefused => Self::ECONNREFUSED,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::NotConnected => {
                Self::ENOTCONN
            }
            K::HostUnreachable | K::NetworkUnreachable => Self::EHOSTUNREACH,
            K::NetworkDown => Self::ENETDOWN,
            K::AddrInUse => Self::EADDRINUSE,
            K::AddrNotAvailable => Self::EADDRNOTAVAIL,
            K::WouldBlock | K::TimedOut => Self::EAGAIN,
            K::InvalidInput => Self::EINVAL,
            K::InvalidData => Self::EPROTO,
            K::Interrupted => Self::EINTR,
            K::Unsupported => Self::ENOTSUP,
            K::OutOfMemory => Self::ENOMEM,
            K::ResourceBusy => Self::EBUSY,
            _ => return None,
        })
    }

    /// libzmq's `zmq_strerror` text for this error.
    ///
    /// The system errors' texts are those of Linux (glibc), where libzmq passes them to
    /// `strerror`; they are the same on every platform here.
    pub fn message(self) -> &'static str {
        match self {
            Self::EACCES => "Permission denied",
            Self::EADDRINUSE => "Address already in use",
            Self::EAGAIN => "Resource temporarily unavailable",
            Self::EBUSY => "Device or resource busy",
            Self::ECONNREFUSED => "Connection refused",
            Self::EFAULT => "Bad address",
            Self::EINTR => "Interrupted system call",
            Self::EHOSTUNREACH => "No route to host",
            Self::EINPROGRESS => "Operation now in progress",
            Self::EINVAL => "Invalid argument",
            Self::EMFILE => "Too many open files",
            Self::EMSGSIZE => "Message too long",
            Self::ENAMETOOLONG => "File name too long",
            Self::ENODEV => "No such device",
            Self::ENOENT => "No such file or directory",
            Self::ENOMEM => "Cannot allocate memory",
            Self::ENOTCONN => "Transport endpoint is not connected",
            Self::ENOTSOCK => "Socket operation on non-socket",
            Self::EPROTO => "Protocol error",
            Self::EPROTONOSUPPORT => "Protocol not supported",
            Self::ENOTSUP => "Operation not supported",
            Self::ENOBUFS => "No buffer space available",
            Self::ENETDOWN => "Network is down",
            Self::EADDRNOTAVAIL => "Cannot assign requested address",
            Self::EFSM => "Operation cannot be accomplished in current state",
            Self::ENOCOMPATPROTO => "The protocol is not compatible with the socket type",
            Self::ETERM => "Context was terminated",
            Self::EMTHREAD => "No thread available",
        }
    }

    /// What to do about this error, where a short hint helps.
    fn hint(self) -> Option<&'static str> {
        Some(match self {
            Self::EACCES => {
                "not allowed to use that address: a port below 1024, or an ipc path that \
                 cannot be created"
            }
            Self::EADDRINUSE => {
                "something else is bound to that address; unbind it, or pick another port \
                 or inproc name"
            }
            Self::EAGAIN => {
                "the operation would block: no peer is ready, a high-water mark is reached, \
                 or DONTWAIT or a timeout was given"
            }
            Self::EINTR => "interrupted by a signal; retry the call",
            Self::EHOSTUNREACH => {
                "ROUTER_MANDATORY is set and no connected peer has that routing id"
            }
            Self::EINVAL => "an endpoint, option value or flag was not accepted",
            Self::EMFILE => {
                "the process is out of file descriptors; close sockets or raise the limit"
            }
            Self::EMSGSIZE => "the message is larger than the limit (MAXMSGSIZE)",
            Self::ENODEV => "the endpoint names an interface or host that does not exist",
            Self::ENOENT => "that endpoint is not bound or connected on this socket",
            Self::EPROTONOSUPPORT => "unknown transport; use tcp://, ipc:// or inproc://",
            Self::ENOTSUP => {
                "this socket type cannot do that (e.g. recv on PUSH, send on PULL or SUB)"
            }
            Self::EADDRNOTAVAIL => {
                "the address is not one of this machine's; bind to a local address or *"
            }
            Self::EFSM => {
                "a REQ socket must receive the reply before sending again; a REP socket must \
                 receive a request before replying"
            }
            Self::ENOCOMPATPROTO => "this transport cannot be used with this socket type",
            Self::ETERM => {
                "the context is terminating; close (drop) this socket so termination can finish"
            }
            Self::EMTHREAD => "the context has no I/O thread; set io_threads above 0",
            _ => return None,
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())?;
        match self.hint() {
            Some(hint) => write!(f, " ({hint})"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    #[allow(deprecated)]
    fn description(&self) -> &str {
        self.message()
    }
}

impl From<Error> for io::Error {
    /// An `io::Error` of the closest [`io::ErrorKind`] that carries the `Error` itself, as the
    /// `zmq` crate's does: `get_ref()` and `into_inner()` give it back.
    fn from(error: Error) -> Self {
        use io::ErrorKind as K;
        let kind = match error {
            Error::EACCES => K::PermissionDenied,
            Error::EADDRINUSE => K::AddrInUse,
            Error::EAGAIN => K::WouldBlock,
            Error::EBUSY => K::ResourceBusy,
            Error::ECONNREFUSED => K::ConnectionRefused,
            Error::EINTR => K::Interrupted,
            Error::EHOSTUNREACH => K::HostUnreachable,
            Error::EINVAL | Error::EMSGSIZE | Error::ENAMETOOLONG | Error::ENOTSOCK => {
                K::InvalidInput
            }
            Error::ENODEV | Error::ENOENT => K::NotFound,
            Error::ENOMEM => K::OutOfMemory,
            Error::ENOTCONN => K::NotConnected,
            Error::EPROTO => K::InvalidData,
            Error::EPROTONOSUPPORT | Error::ENOTSUP | Error::ENOCOMPATPROTO => K::Unsupported,
            Error::ENETDOWN => K::NetworkDown,
            Error::EADDRNOTAVAIL => K::AddrNotAvailable,
            Error::EFAULT
            | Error::EINPROGRESS
            | Error::EMFILE
            | Error::ENOBUFS
            | Error::EFSM
            | Error::ETERM
            | Error::EMTHREAD => K::Other,
        };
        Self::new(kind, error)
    }
}

impl From<EndpointError> for Error {
    fn from(error: EndpointError) -> Self {
        Self::from_raw(error.errno())
    }
}

impl From<TransportError> for Error {
    fn from(error: TransportError) -> Self {
        match &error {
            // An I/O error without an errno (e.g. an address that did not parse) still has
            // a kind; `errno()` would call every such error EINVAL.
            TransportError::Io {
                error: io_error, ..
            } if io_error.raw_os_error().is_none() => Self::from_io(io_error, Self::EINVAL),
            _ => Self::from_raw(error.errno()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Error; 28] = [
        Error::EACCES,
        Error::EADDRINUSE,
        Error::EAGAIN,
        Error::EBUSY,
        Error::ECONNREFUSED,
        Error::EFAULT,
        Error::EINTR,
        Error::EHOSTUNREACH,
        Error::EINPROGRESS,
        Error::EINVAL,
        Error::EMFILE,
        Error::EMSGSIZE,
        Error::ENAMETOOLONG,
        Error::ENODEV,
        Error::ENOENT,
        Error::ENOMEM,
        Error::ENOTCONN,
        Error::ENOTSOCK,
        Error::EPROTO,
        Error::EPROTONOSUPPORT,
        Error::ENOTSUP,
        Error::ENOBUFS,
        Error::ENETDOWN,
        Error::EADDRNOTAVAIL,
        Error::EFSM,
        Error::ENOCOMPATPROTO,
        Error::ETERM,
        Error::EMTHREAD,
    ];

    #[test]
    fn raw_round_trips_for_every_variant() {
        for error in ALL {
            assert_eq!(Error::try_from_raw(error.to_raw()), Some(error), "{error}");
            assert_eq!(Error::from_raw(error.to_raw()), error, "{error}");
        }
        let mut raws: Vec<i32> = ALL.iter().map(|e| e.to_raw()).collect();
        raws.sort_unstable();
        raws.dedup();
        assert_eq!(raws.len(), ALL.len(), "two variants share an errno");
    }

    #[test]
    fn raw_values_are_libzmqs() {
        assert_eq!(Error::EFSM.to_raw(), 156_384_763);
        assert_eq!(Error::ENOCOMPATPROTO.to_raw(), 156_384_764);
        assert_eq!(Error::ETERM.to_raw(), 156_384_765);
        assert_eq!(Error::EMTHREAD.to_raw(), 156_384_766);
        assert_eq!(Error::EAGAIN.to_raw(), errno::EAGAIN);
        assert_eq!(Error::EINTR.to_raw(), errno::EINTR);
    }

    #[test]
    fn hausnumero_aliases_are_accepted() {
        let base = errno::ZMQ_HAUSNUMERO;
        assert_eq!(Error::try_from_raw(base + 1), Some(Error::ENOTSUP));
        assert_eq!(Error::try_from_raw(base + 2), Some(Error::EPROTONOSUPPORT));
        assert_eq!(Error::try_from_raw(base + 5), Some(Error::EADDRINUSE));
        assert_eq!(Error::try_from_raw(base + 10), Some(Error::EMSGSIZE));
        assert_eq!(Error::try_from_raw(base + 11), None);
        assert_eq!(Error::from_raw(base + 7), Error::ECONNREFUSED);
    }

    #[test]
    fn unknown_raw_values_do_not_panic() {
        for raw in [-1, 0, 9999, i32::MIN, i32::MAX, errno::ZMQ_HAUSNUMERO + 99] {
            assert_eq!(Error::try_from_raw(raw), None);
            assert_eq!(Error::from_raw(raw), Error::EPROTO, "{raw}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn unknown_os_errors_map_by_kind() {
        // Linux values: EPERM 1, ENOTDIR 20, EROFS 30, EPIPE 32, ENETUNREACH 101,
        // ECONNABORTED 103, ECONNRESET 104, ETIMEDOUT 110.
        let cases = [
            (1, Error::EACCES),
            (20, Error::ENOENT),
            (30, Error::EACCES),
            (32, Error::ENOTCONN),
            (101, Error::EHOSTUNREACH),
            (103, Error::ENOTCONN),
            (104, Error::ENOTCONN),
            (110, Error::EAGAIN),
        ];
        for (raw, want) in cases {
            assert_eq!(Error::try_from_raw(raw), None, "{raw}");
            assert_eq!(Error::from_raw(raw), want, "{raw}");
        }
    }

    #[test]
    fn messages_are_libzmqs() {
        assert_eq!(
            Error::EFSM.message(),
            "Operation cannot be accomplished in current state"
        );
        assert_eq!(Error::ETERM.message(), "Context was terminated");
        assert_eq!(Error::EAGAIN.message(), "Resource temporarily unavailable");
        assert_eq!(
            Error::ENOCOMPATPROTO.message(),
            "The protocol is not compatible with the socket type"
        );
        assert_eq!(Error::EMTHREAD.message(), "No thread available");
        assert_eq!(Error::EINVAL.message(), "Invalid argument");
        for error in ALL {
            assert!(!error.message().is_empty());
        }
    }

    #[test]
    fn display_is_message_then_hint() {
        assert_eq!(
            Error::EFSM.to_string(),
            "Operation cannot be accomplished in current state (a REQ socket must receive \
             the reply before sending again; a REP socket must receive a request before \
             replying)"
        );
        assert_eq!(
            Error::EPROTONOSUPPORT.to_string(),
            "Protocol not supported (unknown transport; use tcp://, ipc:// or inproc://)"
        );
        assert!(Error::EAGAIN.to_string().contains("would block"));
        assert!(Error::EHOSTUNREACH.to_string().contains("ROUTER_MANDATORY"));
        assert!(Error::ENOTSUP.to_string().contains("PUSH"));
        assert!(Error::ETERM
            .to_string()
            .starts_with("Context was terminated ("));
        // No hint: the message alone.
        assert_eq!(Error::EFAULT.to_string(), "Bad address");
        for error in ALL {
            let shown = error.to_string();
            assert!(shown.starts_with(error.message()), "{shown}");
            assert_eq!(format!("{error:?}"), shown);
        }
    }

    #[test]
    fn is_a_std_error() {
        fn takes(_: &(dyn std::error::Error + Send + Sync + 'static)) {}
        takes(&Error::EINVAL);
        let boxed: Box<dyn std::error::Error> = Error::ETERM.into();
        assert_eq!(boxed.downcast_ref::<Error>(), Some(&Error::ETERM));
    }

    #[test]
    fn into_io_error() {
        let cases = [
            (Error::EAGAIN, io::ErrorKind::WouldBlock),
            (Error::EINTR, io::ErrorKind::Interrupted),
            (Error::EINVAL, io::ErrorKind::InvalidInput),
            (Error::ENOENT, io::ErrorKind::NotFound),
            (Error::EACCES, io::ErrorKind::PermissionDenied),
            (Error::EADDRINUSE, io::ErrorKind::AddrInUse),
            (Error::EADDRNOTAVAIL, io::ErrorKind::AddrNotAvailable),
            (Error::ECONNREFUSED, io::ErrorKind::ConnectionRefused),
            (Error::ENOTCONN, io::ErrorKind::NotConnected),
            (Error::ENOTSUP, io::ErrorKind::Unsupported),
            (Error::EPROTONOSUPPORT, io::ErrorKind::Unsupported),
            (Error::ENOMEM, io::ErrorKind::OutOfMemory),
            (Error::EFSM, io::ErrorKind::Other),
            (Error::ETERM, io::ErrorKind::Other),
        ];
        for (error, kind) in cases {
            let io_error = io::Error::from(error);
            assert_eq!(io_error.kind(), kind, "{error}");
            assert_eq!(io_error.to_string(), error.to_string());
            let inner = io_error.get_ref().and_then(|e| e.downcast_ref::<Error>());
            assert_eq!(inner, Some(&error));
        }
        for error in ALL {
            let back = io::Error::from(error).into_inner().unwrap();
            assert_eq!(*back.downcast::<Error>().unwrap(), error);
        }
    }

    #[test]
    fn from_endpoint_error() {
        use zmq_transport::endpoint::{Direction, Endpoint};
        let e = Endpoint::parse("carrier-pigeon://x", Direction::Connect).unwrap_err();
        assert_eq!(Error::from(e), Error::EPROTONOSUPPORT);
        let e = Endpoint::parse("tcp://", Direction::Connect).unwrap_err();
        assert_eq!(Error::from(e), Error::EINVAL);
    }

    #[test]
    fn from_transport_error() {
        assert_eq!(Error::from(TransportError::Terminated), Error::ETERM);
        assert_eq!(
            Error::from(TransportError::InprocInUse("x".into())),
            Error::EADDRINUSE
        );
        assert_eq!(
            Error::from(TransportError::NoSuchDevice("eth9".into())),
            Error::ENODEV
        );
        let io_error = |error| TransportError::Io {
            endpoint: "tcp://127.0.0.1:1".into(),
            error,
        };
        let in_use = io::Error::from_raw_os_error(errno::EADDRINUSE);
        assert_eq!(Error::from(io_error(in_use)), Error::EADDRINUSE);
        let denied = io::Error::from_raw_os_error(errno::EACCES);
        assert_eq!(Error::from(io_error(denied)), Error::EACCES);
        // No errno: judged by kind, else EINVAL.
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "no");
        assert_eq!(Error::from(io_error(refused)), Error::ECONNREFUSED);
        let other = io::Error::other("no");
        assert_eq!(Error::from(io_error(other)), Error::EINVAL);
    }

    #[test]
    fn from_io() {
        let e = io::Error::from_raw_os_error(errno::EINTR);
        assert_eq!(Error::from_io(&e, Error::EPROTO), Error::EINTR);
        let e = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(Error::from_io(&e, Error::EPROTO), Error::EAGAIN);
        let e = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert_eq!(Error::from_io(&e, Error::ENOTCONN), Error::ENOTCONN);
    }

    #[test]
    fn is_send_sync_copy() {
        fn check<T: Send + Sync + Copy + 'static>() {}
        check::<Error>();
    }
}
