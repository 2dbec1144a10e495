//! PAIR (RFC 31): one peer, both directions, blocking at the high-water mark.

use alloc::collections::VecDeque;

use zmtp_codec::{Frame, SocketType};

use crate::lb::Outbound;
use crate::{Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers};

/// The PAIR pattern: talks to at most one peer and refuses any other while it has one.
///
/// Sending blocks (`Again`) while there is no peer or its queue is full; nothing is
/// dropped, except the rest of a message whose peer went away half-way (libzmq would send
/// that rest to the next peer, breaking the message).
#[derive(Debug, Default)]
pub struct Pair {
    peer: Option<PeerId>,
    out: Outbound,
    inbox: VecDeque<Frame>,
}

impl Pair {
    /// A PAIR with no peer.
    pub fn new() -> Self {
        Self::default()
    }

    fn fill(&mut self, peers: &mut dyn Peers) -> bool {
        if !self.inbox.is_empty() {
            return true;
        }
        let Some(peer) = self.peer else {
            return false;
        };
        loop {
            match peers.read(peer) {
                Some(frame) => {
                    let more = frame.more;
                    self.inbox.push_back(frame);
                    if !more {
                        return true;
                    }
                }
                None => {
                    self.inbox.clear();
                    return false;
                }
            }
        }
    }
}

impl Pattern for Pair {
    fn socket_type(&self) -> SocketType {
        SocketType::Pair
    }

    fn attach(&mut self, peer: PeerId, _info: PeerInfo, _peers: &mut dyn Peers) -> Attach {
        match self.peer {
            Some(current) if current == peer => return Attach::Accepted,
            Some(_) => return Attach::Refused,
            None => {}
        }
        self.peer = Some(peer);
        Attach::Accepted
    }

    fn detach(&mut self, peer: PeerId) {
        if self.peer == Some(peer) {
            self.peer = None;
            self.out = self.out.detached(peer);
        }
    }

    fn read_activated(&mut self, _peer: PeerId) {}

    fn write_activated(&mut self, _peer: PeerId) {}

    fn send(&mut self, frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        let more = frame.more;
        match self.out {
            Outbound::To(peer) => peers.write(peer, frame),
            Outbound::Dropping => {}
            Outbound::Idle => match self.peer {
                Some(peer) if peers.can_write(peer) => {
                    peers.write(peer, frame);
                    self.out = Outbound::To(peer);
                }
                _ => return Err(PatternError::Again(Some(frame))),
            },
        }
        self.out = self.out.after(more);
        Ok(())
    }

    fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError> {
        if self.fill(peers) {
            if let Some(frame) = self.inbox.pop_front() {
                return Ok(frame);
            }
        }
        Err(PatternError::Again(None))
    }

    fn has_in(&mut self, peers: &mut dyn Peers) -> bool {
        self.fill(peers)
    }

    fn has_out(&mut self, peers: &mut dyn Peers) -> bool {
        match (self.out, self.peer) {
            (Outbound::Idle, Some(peer)) => peers.can_write(peer),
            (Outbound::Idle, None) => false,
            _ => true,
        }
    }

    fn set_option(&mut self, _option: PatternOption) -> Result<(), PatternError> {
        Err(PatternError::Invalid)
    }
}
