//! PUSH and PULL (RFC 30): load-balanced sending, fair-queued receiving.

use alloc::collections::VecDeque;

use zmtp_codec::{Frame, SocketType};

use crate::fq::FairQueue;
use crate::lb::{LoadBalancer, Sent};
use crate::{Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers};

/// The PUSH pattern: sends each message to the next peer, round-robin, skipping peers whose
/// queue is full; blocks (`Again`) when no peer can take it. Cannot receive.
#[derive(Debug, Default)]
pub struct Push {
    lb: LoadBalancer,
}

impl Push {
    /// A PUSH with no peers.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Sends through a load-balancer, mapping "blocked" to `Again` with the frame.
pub(crate) fn lb_send(
    lb: &mut LoadBalancer,
    mut frame: Frame,
    peers: &mut dyn Peers,
) -> Result<(), PatternError> {
    match lb.send(&mut frame, peers) {
        Sent::To(_) | Sent::Dropped => Ok(()),
        Sent::Blocked => Err(PatternError::Again(Some(frame))),
    }
}

/// [`lb_send`] of the frame at `frame` ([`Pattern::send_from`]): left there on `Again`.
pub(crate) fn lb_send_from(
    lb: &mut LoadBalancer,
    frame: &mut Frame,
    peers: &mut dyn Peers,
) -> Result<(), PatternError> {
    match lb.send(frame, peers) {
        Sent::To(_) | Sent::Dropped => Ok(()),
        Sent::Blocked => Err(PatternError::Again(None)),
    }
}

/// Returns the next frame of `inbox`, refilling it from `fq` with a whole message first.
pub(crate) fn fq_recv(
    fq: &mut FairQueue,
    inbox: &mut VecDeque<Frame>,
    peers: &mut dyn Peers,
) -> Result<Frame, PatternError> {
    let mut frame = Frame::default();
    fq_recv_into(fq, inbox, peers, &mut frame).map(|()| frame)
}

/// [`fq_recv`] into `out` ([`Pattern::recv_into`]).
pub(crate) fn fq_recv_into(
    fq: &mut FairQueue,
    inbox: &mut VecDeque<Frame>,
    peers: &mut dyn Peers,
    out: &mut Frame,
) -> Result<(), PatternError> {
    if let Some(frame) = inbox.pop_front() {
        *out = frame;
        return Ok(());
    }
    if fq.fetch_first(peers, inbox, out) {
        Ok(())
    } else {
        Err(PatternError::Again(None))
    }
}

/// Whether `inbox` has a frame, prefetching a message from `fq` if it is empty.
pub(crate) fn fq_has_in(
    fq: &mut FairQueue,
    inbox: &mut VecDeque<Frame>,
    peers: &mut dyn Peers,
) -> bool {
    !inbox.is_empty() || fq.fetch(peers, inbox).is_some()
}

impl Pattern for Push {
    fn socket_type(&self) -> SocketType {
        SocketType::Push
    }

    fn attach(&mut self, peer: PeerId, _info: PeerInfo, _peers: &mut dyn Peers) -> Attach {
        self.lb.attach(peer);
        Attach::Accepted
    }

    fn detach(&mut self, peer: PeerId) {
        self.lb.detach(peer);
    }

    fn read_activated(&mut self, _peer: PeerId) {}

    fn write_activated(&mut self, peer: PeerId) {
        self.lb.activated(peer);
    }

    fn send(&mut self, frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        lb_send(&mut self.lb, frame, peers)
    }

    fn send_from(&mut self, frame: &mut Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        lb_send_from(&mut self.lb, frame, peers)
    }

    fn recv(&mut self, _peers: &mut dyn Peers) -> Result<Frame, PatternError> {
        Err(PatternError::NotSupported)
    }

    fn has_in(&mut self, _peers: &mut dyn Peers) -> bool {
        false
    }

    fn has_out(&mut self, peers: &mut dyn Peers) -> bool {
        self.lb.has_out(peers)
    }

    fn set_option(&mut self, _option: PatternOption) -> Result<(), PatternError> {
        Err(PatternError::Invalid)
    }
}

/// The PULL pattern: receives whole messages from its peers in turn, round-robin over those
/// that have one. Cannot send.
#[derive(Debug, Default)]
pub struct Pull {
    fq: FairQueue,
    inbox: VecDeque<Frame>,
}

impl Pull {
    /// A PULL with no peers.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Pattern for Pull {
    fn socket_type(&self) -> SocketType {
        SocketType::Pull
    }

    fn attach(&mut self, peer: PeerId, _info: PeerInfo, _peers: &mut dyn Peers) -> Attach {
        self.fq.attach(peer);
        Attach::Accepted
    }

    fn detach(&mut self, peer: PeerId) {
        self.fq.detach(peer);
    }

    fn read_activated(&mut self, peer: PeerId) {
        self.fq.activated(peer);
    }

    fn write_activated(&mut self, _peer: PeerId) {}

    fn send(&mut self, _frame: Frame, _peers: &mut dyn Peers) -> Result<(), PatternError> {
        Err(PatternError::NotSupported)
    }

    fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError> {
        fq_recv(&mut self.fq, &mut self.inbox, peers)
    }

    fn recv_into(&mut self, peers: &mut dyn Peers, out: &mut Frame) -> Result<(), PatternError> {
        fq_recv_into(&mut self.fq, &mut self.inbox, peers, out)
    }

    fn has_in(&mut self, peers: &mut dyn Peers) -> bool {
        fq_has_in(&mut self.fq, &mut self.inbox, peers)
    }

    fn has_out(&mut self, _peers: &mut dyn Peers) -> bool {
        false
    }

    fn set_option(&mut self, _option: PatternOption) -> Result<(), PatternError> {
        Err(PatternError::Invalid)
    }
}
