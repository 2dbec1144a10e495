//! libzmq's error numbers, as the facade reports them.
//!
//! System errors take the platform's values; the ZeroMQ-specific ones are libzmq's
//! `ZMQ_HAUSNUMERO` (156384712) plus an offset (`include/zmq.h`).

/// Invalid argument.
pub const EINVAL: i32 = libc::EINVAL;
/// Resource temporarily unavailable.
pub const EAGAIN: i32 = libc::EAGAIN;
/// Protocol not supported (an unknown transport).
pub const EPROTONOSUPPORT: i32 = libc::EPROTONOSUPPORT;
/// Address already in use.
pub const EADDRINUSE: i32 = libc::EADDRINUSE;
/// Cannot assign the requested address.
pub const EADDRNOTAVAIL: i32 = libc::EADDRNOTAVAIL;
/// No such device (an unknown interface).
pub const ENODEV: i32 = libc::ENODEV;
/// No such file or directory (an inproc name not bound, an unknown endpoint to unbind).
pub const ENOENT: i32 = libc::ENOENT;
/// Host unreachable (ROUTER_MANDATORY with an unknown peer).
pub const EHOSTUNREACH: i32 = libc::EHOSTUNREACH;
/// Operation not supported (e.g. recv on PUSH).
pub const ENOTSUP: i32 = libc::ENOTSUP;
/// Message too long.
pub const EMSGSIZE: i32 = libc::EMSGSIZE;
/// Interrupted.
pub const EINTR: i32 = libc::EINTR;
/// Too many open files.
pub const EMFILE: i32 = libc::EMFILE;
/// Connection refused.
pub const ECONNREFUSED: i32 = libc::ECONNREFUSED;
/// Protocol error.
pub const EPROTO: i32 = libc::EPROTO;
/// Not a socket.
pub const ENOTSOCK: i32 = libc::ENOTSOCK;
/// Out of memory.
pub const ENOMEM: i32 = libc::ENOMEM;
/// Permission denied.
pub const EACCES: i32 = libc::EACCES;
/// Bad address.
pub const EFAULT: i32 = libc::EFAULT;
/// Name too long.
pub const ENAMETOOLONG: i32 = libc::ENAMETOOLONG;
/// Device or resource busy.
pub const EBUSY: i32 = libc::EBUSY;
/// Operation in progress.
pub const EINPROGRESS: i32 = libc::EINPROGRESS;
/// Socket not connected.
pub const ENOTCONN: i32 = libc::ENOTCONN;
/// No buffer space.
pub const ENOBUFS: i32 = libc::ENOBUFS;
/// Network down.
pub const ENETDOWN: i32 = libc::ENETDOWN;

/// Base of libzmq's own error numbers.
pub const ZMQ_HAUSNUMERO: i32 = 156_384_712;
/// Operation cannot be accomplished in the current state (e.g. REQ sending twice).
pub const EFSM: i32 = ZMQ_HAUSNUMERO + 51;
/// The protocol is not compatible with the socket type.
pub const ENOCOMPATPROTO: i32 = ZMQ_HAUSNUMERO + 52;
/// The context was terminated.
pub const ETERM: i32 = ZMQ_HAUSNUMERO + 53;
/// No I/O thread is available.
pub const EMTHREAD: i32 = ZMQ_HAUSNUMERO + 54;
