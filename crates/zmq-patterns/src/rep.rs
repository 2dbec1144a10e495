//! REP (RFC 28): fair-queued requests, each answered through its saved envelope.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use zmtp_codec::{Frame, SocketType};

use crate::fq::FairQueue;
use crate::lb::Outbound;
use crate::{write_probe, Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers};

/// Where a REP is in its request-reply cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Ready to receive a request (which may already be in the inbox).
    Idle,
    /// Some frames of the request body were returned; the rest are in the inbox.
    Receiving,
    /// The request was received; the reply is being sent.
    Replying(Outbound),
}

/// The REP pattern.
///
/// Requests are taken from the peers in turn (fair-queued). Each request's envelope, the
/// frames up to and including the first empty frame that has more frames after it, is
/// stripped and kept; `recv` returns the body. A request without such a delimiter is
/// malformed and dropped. The reply, sent after the whole request was received
/// (`Fsm` before), goes to the peer the request came from behind the saved envelope. It is
/// silently dropped if that peer is gone or its queue is full when the reply starts (libzmq
/// writes the envelope when the request arrives and drops it then if the queue is full;
/// we decide when the reply starts, with the same outcome for a full queue).
///
/// `ROUTER_MANDATORY` and `ROUTER_HANDOVER` are accepted, as libzmq's REP (a ROUTER
/// underneath) accepts them, but change nothing here: a REP routes replies by peer, not by
/// routing id, and takes every peer. `PROBE_ROUTER` writes the empty probe message, as in
/// libzmq.
#[derive(Debug)]
pub struct Rep {
    fq: FairQueue,
    state: State,
    /// The body of the current (or prefetched) request.
    inbox: VecDeque<Frame>,
    /// The envelope of the current (or prefetched) request.
    envelope: Vec<Frame>,
    /// The peer the current (or prefetched) request came from, while attached.
    requester: Option<PeerId>,
    probe_router: bool,
}

impl Default for Rep {
    fn default() -> Self {
        Self::new()
    }
}

impl Rep {
    /// A REP with no peers.
    pub fn new() -> Self {
        Self {
            fq: FairQueue::default(),
            state: State::Idle,
            inbox: VecDeque::new(),
            envelope: Vec::new(),
            requester: None,
            probe_router: false,
        }
    }

    /// Finds the next well-formed request: its envelope goes to `envelope`, its body stays
    /// in the inbox.
    fn fetch_request(&mut self, peers: &mut dyn Peers) -> bool {
        if !self.inbox.is_empty() {
            return true;
        }
        while let Some(peer) = self.fq.fetch(peers, &mut self.inbox) {
            let delimiter = self.inbox.iter().position(|f| f.more && f.data.is_empty());
            if let Some(end) = delimiter {
                self.envelope.clear();
                self.envelope.extend(self.inbox.drain(..=end));
                self.requester = Some(peer);
                return true;
            }
            self.inbox.clear();
        }
        false
    }
}

impl Pattern for Rep {
    fn socket_type(&self) -> SocketType {
        SocketType::Rep
    }

    fn attach(&mut self, peer: PeerId, _info: PeerInfo, peers: &mut dyn Peers) -> Attach {
        if self.probe_router {
            write_probe(peer, peers);
        }
        self.fq.attach(peer);
        Attach::Accepted
    }

    fn detach(&mut self, peer: PeerId) {
        self.fq.detach(peer);
        if self.requester == Some(peer) {
            self.requester = None;
        }
        if let State::Replying(out) = self.state {
            self.state = State::Replying(out.detached(peer));
        }
    }

    fn read_activated(&mut self, peer: PeerId) {
        self.fq.activated(peer);
    }

    fn write_activated(&mut self, _peer: PeerId) {}

    fn send(&mut self, mut frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        self.send_from(&mut frame, peers)
    }

    /// The body's frames go down through [`Peers::write_from`], after the envelope.
    fn send_from(&mut self, frame: &mut Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        let State::Replying(out) = self.state else {
            drop(core::mem::take(frame));
            return Err(PatternError::Fsm);
        };
        let more = frame.more;
        let out = match out {
            Outbound::Idle => match self.requester {
                Some(peer) if peers.can_write(peer) => {
                    for part in self.envelope.drain(..) {
                        peers.write(peer, part);
                    }
                    peers.write_from(peer, frame);
                    Outbound::To(peer)
                }
                _ => {
                    drop(core::mem::take(frame));
                    Outbound::Dropping
                }
            },
            Outbound::To(peer) => {
                peers.write_from(peer, frame);
                out
            }
            Outbound::Dropping => {
                drop(core::mem::take(frame));
                out
            }
        };
        self.state = if more {
            State::Replying(out)
        } else {
            self.envelope.clear();
            self.requester = None;
            State::Idle
        };
        Ok(())
    }

    fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError> {
        match self.state {
            State::Replying(_) => return Err(PatternError::Fsm),
            State::Idle => {
                if !self.fetch_request(peers) {
                    return Err(PatternError::Again(None));
                }
            }
            State::Receiving => {}
        }
        let Some(frame) = self.inbox.pop_front() else {
            // Unreachable: a request's body is whole. Recover to a sane state.
            self.state = State::Idle;
            return Err(PatternError::Again(None));
        };
        self.state = if frame.more {
            State::Receiving
        } else {
            State::Replying(Outbound::Idle)
        };
        Ok(frame)
    }

    fn has_in(&mut self, peers: &mut dyn Peers) -> bool {
        match self.state {
            State::Idle => self.fetch_request(peers),
            State::Receiving => true,
            State::Replying(_) => false,
        }
    }

    fn has_out(&mut self, _peers: &mut dyn Peers) -> bool {
        matches!(self.state, State::Replying(_))
    }

    fn set_option(&mut self, option: PatternOption) -> Result<(), PatternError> {
        match option {
            PatternOption::ProbeRouter(on) => self.probe_router = on,
            PatternOption::RouterMandatory(_) | PatternOption::RouterHandover(_) => {}
            _ => return Err(PatternError::Invalid),
        }
        Ok(())
    }
}
