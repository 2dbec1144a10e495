//! The errors a pattern returns, with libzmq's errno values.

use core::fmt;

use zmtp_codec::Frame;

/// Why a pattern refused an operation. Each variant maps to the errno libzmq sets for the
/// same case ([`PatternError::errno`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternError {
    /// `EAGAIN`: the operation would block. For `send` it carries the frame back, to retry
    /// when the socket is writable; for `recv` it is `None`.
    Again(Option<Frame>),
    /// `EFSM`: the operation is not valid in the socket's current state (REQ and REP must
    /// alternate send and receive).
    Fsm,
    /// `EHOSTUNREACH`: a ROUTER with `ROUTER_MANDATORY` has no peer with this routing id.
    HostUnreachable,
    /// `ENOTSUP`: this socket type cannot do this (receive on PUSH or PUB, send on PULL or
    /// SUB), or the type is not built yet.
    NotSupported,
    /// `EINVAL`: the option does not apply to this socket type.
    Invalid,
}

impl PatternError {
    /// libzmq's `EAGAIN` on Linux.
    pub const EAGAIN: i32 = 11;
    /// libzmq's `EINVAL` on Linux.
    pub const EINVAL: i32 = 22;
    /// libzmq's `ENOTSUP` on Linux.
    pub const ENOTSUP: i32 = 95;
    /// libzmq's `EHOSTUNREACH` on Linux.
    pub const EHOSTUNREACH: i32 = 113;
    /// libzmq's `EFSM`: `ZMQ_HAUSNUMERO` (156384712) + 51.
    pub const EFSM: i32 = 156_384_712 + 51;

    /// The errno libzmq sets for this error (Linux values).
    pub const fn errno(&self) -> i32 {
        match self {
            Self::Again(_) => Self::EAGAIN,
            Self::Fsm => Self::EFSM,
            Self::HostUnreachable => Self::EHOSTUNREACH,
            Self::NotSupported => Self::ENOTSUP,
            Self::Invalid => Self::EINVAL,
        }
    }

    /// The frame handed back by a `send` that would block, if any.
    pub fn into_frame(self) -> Option<Frame> {
        match self {
            Self::Again(frame) => frame,
            _ => None,
        }
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Again(Some(_)) => {
                "no peer can take the message now (none connected, or all at their high-water \
                 mark); retry the same frame when the socket is writable (POLLOUT)"
            }
            Self::Again(None) => {
                "no message is available now; retry when the socket is readable (POLLIN)"
            }
            Self::Fsm => {
                "the operation is not valid in the socket's current state: REQ must send a \
                 request and receive its reply in turn (or set REQ_RELAXED), REP must \
                 receive a request before sending its reply"
            }
            Self::HostUnreachable => {
                "no peer has this routing id (ROUTER_MANDATORY is set); the message was not \
                 sent: check the id, or wait for that peer to connect"
            }
            Self::NotSupported => {
                "this socket type does not support the operation (PUSH and PUB cannot \
                 receive, PULL and SUB cannot send)"
            }
            Self::Invalid => "this option does not apply to this socket type",
        })
    }
}

impl core::error::Error for PatternError {}
