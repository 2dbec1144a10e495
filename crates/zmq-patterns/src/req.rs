//! REQ (RFC 28): strict request-reply over a DEALER-like core.

use alloc::collections::VecDeque;

use bytes::Bytes;
use zmtp_codec::{Frame, SocketType};

use crate::fq::FairQueue;
use crate::lb::{LoadBalancer, Sent};
use crate::{
    seed_u32, write_probe, Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers,
};

/// Where a REQ is in its request-reply cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Ready to send a request.
    Idle,
    /// Some frames of a request are sent; the rest follow.
    Sending,
    /// The request is sent; waiting for its reply (which may already be in the inbox).
    Awaiting,
    /// Some frames of the reply were returned; the rest are in the inbox.
    Receiving,
}

/// The REQ pattern.
///
/// Each request goes to the next peer with room (round-robin), prefixed with an empty
/// delimiter frame (and, with `REQ_CORRELATE`, a 4-byte request id before it). Then only a
/// reply from that same peer, starting with that prefix, is accepted; other messages are
/// dropped. Sending and receiving must alternate, else [`PatternError::Fsm`].
///
/// - With `REQ_RELAXED` a new request may be sent while a reply is awaited: the old
///   request is abandoned and a late reply to it is dropped (with `REQ_CORRELATE` even one
///   from the same peer; without it a late reply from the peer the new request went to
///   cannot be told apart, as in libzmq).
/// - Before each request is sent, every message already queued from any peer is dropped,
///   so that a stale reply cannot pass for the new one.
/// - If the peer a request went to is detached, its reply can never come. Without
///   `REQ_RELAXED` the socket is then stuck, as in libzmq: `recv` says `Again` forever and
///   `send` says `Fsm`; the application must close it (or set `REQ_RELAXED` and send
///   again). libzmq would instead accept a reply from any other peer at that point; we
///   accept none, since no other peer has seen the request.
/// - The request id is written little-endian (libzmq writes it in host order, which is
///   little-endian on every platform it is commonly built for); the first one is the
///   seed's 32-bit value plus one, and each request adds one, wrapping.
#[derive(Debug)]
pub struct Req {
    lb: LoadBalancer,
    fq: FairQueue,
    state: State,
    /// The peer the current request went to, while it can still reply.
    reply_peer: Option<PeerId>,
    /// The id of the last request, if it was sent with one.
    sent_id: Option<u32>,
    /// The last request id used; the next request uses the one after it.
    request_id: u32,
    /// The accepted reply, its prefix stripped (`Awaiting`, `Receiving`).
    inbox: VecDeque<Frame>,
    correlate: bool,
    relaxed: bool,
    probe_router: bool,
}

impl Req {
    /// A REQ with no peers; `seed` gives the first request id.
    pub fn new(seed: u64) -> Self {
        Self {
            lb: LoadBalancer::default(),
            fq: FairQueue::default(),
            state: State::Idle,
            reply_peer: None,
            sent_id: None,
            request_id: seed_u32(seed),
            inbox: VecDeque::new(),
            correlate: false,
            relaxed: false,
            probe_router: false,
        }
    }

    /// Writes the request prefix to the next peer with room; `false` if none has room.
    fn begin_request(&mut self, peers: &mut dyn Peers) -> bool {
        let id = self.correlate.then(|| self.request_id.wrapping_add(1));
        let mut first = match id {
            Some(id) => Frame::more(Bytes::copy_from_slice(&id.to_le_bytes())),
            None => Frame::more(Bytes::new()),
        };
        self.reply_peer = match self.lb.send(&mut first, peers) {
            Sent::To(peer) => Some(peer),
            Sent::Blocked => return false,
            Sent::Dropped => None,
        };
        if let Some(id) = id {
            self.request_id = id;
            // The delimiter follows the id to the same peer: it cannot block.
            let _ = self.lb.send(&mut Frame::more(Bytes::new()), peers);
        }
        self.sent_id = id;
        // Drop every reply queued so far: none can answer this request.
        self.inbox.clear();
        self.fq.drain(peers, &mut self.inbox);
        self.inbox.clear();
        true
    }

    /// Finds the reply to the current request and leaves its body in the inbox.
    fn fetch_reply(&mut self, peers: &mut dyn Peers) -> bool {
        if !self.inbox.is_empty() {
            return true;
        }
        while let Some(peer) = self.fq.fetch(peers, &mut self.inbox) {
            if Some(peer) == self.reply_peer && self.strip_prefix() {
                return true;
            }
            self.inbox.clear();
        }
        false
    }

    /// Removes the expected prefix (request id, delimiter) from the message in the inbox;
    /// `false` if it does not start with it.
    fn strip_prefix(&mut self) -> bool {
        if let Some(id) = self.sent_id {
            match self.inbox.front() {
                Some(f) if f.more && f.data[..] == id.to_le_bytes() => {}
                _ => return false,
            }
            self.inbox.pop_front();
        }
        match self.inbox.front() {
            Some(f) if f.more && f.data.is_empty() => {}
            _ => return false,
        }
        self.inbox.pop_front();
        true
    }
}

impl Pattern for Req {
    fn socket_type(&self) -> SocketType {
        SocketType::Req
    }

    fn attach(&mut self, peer: PeerId, _info: PeerInfo, peers: &mut dyn Peers) -> Attach {
        if self.probe_router {
            write_probe(peer, peers);
        }
        self.fq.attach(peer);
        self.lb.attach(peer);
        Attach::Accepted
    }

    fn detach(&mut self, peer: PeerId) {
        self.fq.detach(peer);
        self.lb.detach(peer);
        if self.reply_peer == Some(peer) {
            self.reply_peer = None;
        }
    }

    fn read_activated(&mut self, peer: PeerId) {
        self.fq.activated(peer);
    }

    fn write_activated(&mut self, peer: PeerId) {
        self.lb.activated(peer);
    }

    fn send(&mut self, mut frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        match self.send_from(&mut frame, peers) {
            Err(PatternError::Again(None)) => Err(PatternError::Again(Some(frame))),
            other => other,
        }
    }

    /// The request's frames go down through [`Peers::write_from`], after its prefix.
    fn send_from(&mut self, frame: &mut Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        if matches!(self.state, State::Awaiting | State::Receiving) {
            if !self.relaxed {
                drop(core::mem::take(frame));
                return Err(PatternError::Fsm);
            }
            // Abandon the outstanding request (libzmq does so even if this send then
            // blocks).
            self.state = State::Idle;
            self.reply_peer = None;
            self.inbox.clear();
        }
        if self.state == State::Idle {
            if !self.begin_request(peers) {
                return Err(PatternError::Again(None));
            }
            self.state = State::Sending;
        }
        let more = frame.more;
        // Inside a message: never blocks.
        let _ = self.lb.send(frame, peers);
        if !more {
            self.state = State::Awaiting;
        }
        Ok(())
    }

    fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError> {
        match self.state {
            State::Idle | State::Sending => return Err(PatternError::Fsm),
            State::Awaiting => {
                if !self.fetch_reply(peers) {
                    return Err(PatternError::Again(None));
                }
            }
            State::Receiving => {}
        }
        let Some(frame) = self.inbox.pop_front() else {
            // Unreachable: a reply's body is whole. Recover to a sane state.
            self.state = State::Idle;
            return Err(PatternError::Again(None));
        };
        self.state = if frame.more {
            State::Receiving
        } else {
            State::Idle
        };
        Ok(frame)
    }

    fn has_in(&mut self, peers: &mut dyn Peers) -> bool {
        match self.state {
            State::Idle | State::Sending => false,
            State::Awaiting => self.fetch_reply(peers),
            State::Receiving => true,
        }
    }

    fn has_out(&mut self, peers: &mut dyn Peers) -> bool {
        match self.state {
            State::Sending => true,
            State::Awaiting | State::Receiving if !self.relaxed => false,
            _ => self.lb.has_out(peers),
        }
    }

    fn set_option(&mut self, option: PatternOption) -> Result<(), PatternError> {
        match option {
            PatternOption::ReqCorrelate(on) => self.correlate = on,
            PatternOption::ReqRelaxed(on) => self.relaxed = on,
            PatternOption::ProbeRouter(on) => self.probe_router = on,
            _ => return Err(PatternError::Invalid),
        }
        Ok(())
    }
}
