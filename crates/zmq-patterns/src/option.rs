//! The socket options that change a pattern's behaviour.

use bytes::Bytes;

/// A socket option the pattern itself implements. Each takes effect at once, as in libzmq.
///
/// | option | socket types |
/// |---|---|
/// | `RouterMandatory`, `RouterHandover` | ROUTER; REP accepts them, as libzmq's REP (a ROUTER underneath) does, with no effect |
/// | `ProbeRouter` | ROUTER, DEALER, REQ; and REP, as in libzmq |
/// | `ReqCorrelate`, `ReqRelaxed` | REQ |
/// | `Subscribe`, `Unsubscribe` | SUB; XPUB and PUB with `XpubManual` or `XpubManualLastValue` on |
/// | `XpubVerbose`, `XpubVerboser`, `XpubManual`, `XpubManualLastValue`, `XpubNodrop`, `XpubWelcomeMsg` | XPUB; and PUB, as in libzmq (PUB is an XPUB underneath) |
/// | `OnlyFirstSubscribe` | XPUB, XSUB; and PUB, as in libzmq |
/// | `XsubVerboseUnsubscribe` | XSUB |
/// | `InvertMatching` | PUB, XPUB, SUB; XSUB accepts it with no effect (it does not filter) |
///
/// Any other combination is [`PatternError::Invalid`](crate::PatternError::Invalid).
///
/// `ZMQ_CONFLATE` is not here: it is a property of the runtime's queues (libzmq's
/// `ypipe_conflate`), and `ZMQ_TOPICS_COUNT` is read with
/// [`Pattern::topics_count`](crate::Pattern::topics_count).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
    /// `ZMQ_SUBSCRIBE`: on SUB, add a reference to a prefix filter (the empty topic matches
    /// everything) and send the subscription to every publisher. On XPUB (and PUB) with
    /// `XpubManual`, subscribe the peer whose subscription or cancel the application
    /// received last.
    Subscribe(Bytes),
    /// `ZMQ_UNSUBSCRIBE`: on SUB, remove one reference to a filter, and send the cancel when
    /// the last goes. On XPUB with `XpubManual`, unsubscribe the peer of the last
    /// subscription received.
    Unsubscribe(Bytes),
    /// `ZMQ_XPUB_VERBOSE`: pass every subscription to the application, not only the first
    /// for a topic (and turn `XpubVerboser` off).
    XpubVerbose(bool),
    /// `ZMQ_XPUB_VERBOSER`: pass every subscription and every cancel to the application,
    /// not only the first and the last for a topic.
    XpubVerboser(bool),
    /// `ZMQ_XPUB_MANUAL`: subscriptions are not applied; the application receives every
    /// subscription and cancel and decides with `Subscribe`/`Unsubscribe` what the peer
    /// that sent it gets.
    XpubManual(bool),
    /// `ZMQ_XPUB_MANUAL_LAST_VALUE` (draft): `XpubManual`, and the first message sent after
    /// the application received a subscription goes only to the peer that sent it (the
    /// last-value cache pattern).
    XpubManualLastValue(bool),
    /// `ZMQ_XPUB_NODROP`: a send that a matching peer at its high-water mark cannot take
    /// fails with `Again` (nothing is sent to anyone) instead of dropping the message for
    /// that peer.
    XpubNodrop(bool),
    /// `ZMQ_XPUB_WELCOME_MSG`: a message written to each new peer; empty turns it off.
    XpubWelcomeMsg(Bytes),
    /// `ZMQ_XSUB_VERBOSE_UNSUBSCRIBE` (draft): forward every cancel to the publishers, not
    /// only the one that removes a topic's last reference.
    XsubVerboseUnsubscribe(bool),
    /// `ZMQ_INVERT_MATCHING`: deliver (PUB, XPUB: send to the peers; SUB: receive) the
    /// messages that match no subscription instead of those that match one. Both ends
    /// must set it.
    InvertMatching(bool),
    /// `ZMQ_ONLY_FIRST_SUBSCRIBE` (draft): a multipart message whose first frame is not a
    /// subscription or a cancel is user data throughout, even frames starting with 0 or 1.
    OnlyFirstSubscribe(bool),
}
