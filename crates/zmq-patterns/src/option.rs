//! The socket options that change a pattern's behaviour.

/// A socket option the pattern itself implements. Each takes effect at once, as in libzmq.
///
/// | option | socket types |
/// |---|---|
/// | `RouterMandatory`, `RouterHandover` | ROUTER; REP accepts them, as libzmq's REP (a ROUTER underneath) does, with no effect |
/// | `ProbeRouter` | ROUTER, DEALER, REQ; and REP, as in libzmq |
/// | `ReqCorrelate`, `ReqRelaxed` | REQ |
///
/// Any other combination is [`PatternError::Invalid`](crate::PatternError::Invalid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PatternOption {
    /// `ZMQ_ROUTER_MANDATORY`: a message to an unknown routing id fails with
    /// `HostUnreachable` and one to a full peer with `Again`, instead of being dropped;
    /// `POLLOUT` then means "some peer has room".
    RouterMandatory(bool),
    /// `ZMQ_ROUTER_HANDOVER`: a new peer with a routing id already in use takes it over, and
    /// the old peer is detached, instead of the new peer being refused.
    RouterHandover(bool),
    /// `ZMQ_PROBE_ROUTER`: write an empty message to each new peer, so that a ROUTER on the
    /// other side learns our routing id at once.
    ProbeRouter(bool),
    /// `ZMQ_REQ_CORRELATE`: prefix each request with a 4-byte request id, and accept only
    /// replies that echo the id of the last request.
    ReqCorrelate(bool),
    /// `ZMQ_REQ_RELAXED`: allow a new request before the reply to the last one; the old
    /// request is abandoned and a late reply to it is dropped.
    ReqRelaxed(bool),
}
