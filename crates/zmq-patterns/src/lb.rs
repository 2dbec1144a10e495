//! The load-balancer (libzmq's `lb_t`): round-robin of whole messages over the peers that
//! can take one.

use zmtp_codec::Frame;

use crate::set::PeerSet;
use crate::{PeerId, Peers};

/// Where the frames of the message being sent go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Outbound {
    /// Between messages: the next frame starts a message.
    #[default]
    Idle,
    /// In a message whose earlier frames went to this peer.
    To(PeerId),
    /// In a message whose peer was detached (or that is being dropped): drop the rest.
    Dropping,
}

impl Outbound {
    /// The state after a frame with this `more` flag went to (or was dropped for) `self`.
    pub(crate) fn after(self, more: bool) -> Self {
        if more {
            self
        } else {
            Self::Idle
        }
    }

    /// The state after `peer` was detached.
    pub(crate) fn detached(self, peer: PeerId) -> Self {
        if self == Self::To(peer) {
            Self::Dropping
        } else {
            self
        }
    }
}

/// Round-robin over active peers; a peer found full is skipped until `write_activated`.
#[derive(Debug, Default)]
pub(crate) struct LoadBalancer {
    peers: PeerSet,
    out: Outbound,
}

/// What [`LoadBalancer::send`] did with a frame.
#[derive(Debug)]
pub(crate) enum Sent {
    /// Written to this peer.
    To(PeerId),
    /// Dropped: the rest of a message whose peer went away.
    Dropped,
    /// No peer can take a new message; the frame is left where it was.
    Blocked,
}

impl LoadBalancer {
    pub(crate) fn attach(&mut self, peer: PeerId) {
        self.peers.attach(peer);
    }

    pub(crate) fn detach(&mut self, peer: PeerId) {
        self.peers.remove(peer);
        self.out = self.out.detached(peer);
    }

    pub(crate) fn activated(&mut self, peer: PeerId) {
        self.peers.activate(peer);
    }

    /// Whether a message is half sent (its next frame cannot block).
    pub(crate) fn in_message(&self) -> bool {
        self.out != Outbound::Idle
    }

    /// Sends one frame, taken from `frame` (an empty frame is left there) unless no peer
    /// can take it ([`Sent::Blocked`]): the first frame of a message picks the next peer
    /// with room, later frames follow it. The frame is moved once, into the peer's queue
    /// ([`Peers::write_from`]).
    pub(crate) fn send(&mut self, frame: &mut Frame, peers: &mut dyn Peers) -> Sent {
        let more = frame.more;
        match self.out {
            Outbound::To(peer) => {
                peers.write_from(peer, frame);
                self.finish(peer, more);
                Sent::To(peer)
            }
            Outbound::Dropping => {
                drop(core::mem::take(frame));
                self.out = self.out.after(more);
                Sent::Dropped
            }
            Outbound::Idle => {
                while let Some(peer) = self.peers.current() {
                    if peers.can_write(peer) {
                        peers.write_from(peer, frame);
                        self.out = Outbound::To(peer);
                        self.finish(peer, more);
                        return Sent::To(peer);
                    }
                    self.peers.deactivate_current();
                }
                Sent::Blocked
            }
        }
    }

    fn finish(&mut self, peer: PeerId, more: bool) {
        if !more {
            self.out = Outbound::Idle;
            self.peers.advance_past(peer);
        }
    }

    /// Whether a frame could be sent now without blocking.
    pub(crate) fn has_out(&mut self, peers: &mut dyn Peers) -> bool {
        if self.in_message() {
            return true;
        }
        while let Some(peer) = self.peers.current() {
            if peers.can_write(peer) {
                return true;
            }
            self.peers.deactivate_current();
        }
        false
    }
}
