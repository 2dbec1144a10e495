//! DEALER (RFC 28): load-balanced sending and fair-queued receiving, no envelopes.

use alloc::collections::VecDeque;

use zmtp_codec::{Frame, SocketType};

use crate::fq::FairQueue;
use crate::lb::LoadBalancer;
use crate::pipeline::{fq_has_in, fq_recv, fq_recv_into, lb_send, lb_send_from};
use crate::{write_probe, Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers};

/// The DEALER pattern: sends each message to the next peer with room, round-robin, and
/// receives whole messages from its peers in turn. Blocks (`Again`) when no peer can take
/// a message; never drops one.
#[derive(Debug, Default)]
pub struct Dealer {
    lb: LoadBalancer,
    fq: FairQueue,
    inbox: VecDeque<Frame>,
    probe_router: bool,
}

impl Dealer {
    /// A DEALER with no peers.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Pattern for Dealer {
    fn socket_type(&self) -> SocketType {
        SocketType::Dealer
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
    }

    fn read_activated(&mut self, peer: PeerId) {
        self.fq.activated(peer);
    }

    fn write_activated(&mut self, peer: PeerId) {
        self.lb.activated(peer);
    }

    fn send(&mut self, frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        lb_send(&mut self.lb, frame, peers)
    }

    fn send_from(&mut self, frame: &mut Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        lb_send_from(&mut self.lb, frame, peers)
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

    fn has_out(&mut self, peers: &mut dyn Peers) -> bool {
        self.lb.has_out(peers)
    }

    fn set_option(&mut self, option: PatternOption) -> Result<(), PatternError> {
        match option {
            PatternOption::ProbeRouter(on) => self.probe_router = on,
            _ => return Err(PatternError::Invalid),
        }
        Ok(())
    }
}
