//! ROUTER (RFC 28): routing-id prefixed receiving, routing-id addressed sending.

use alloc::collections::VecDeque;

use bytes::Bytes;
use zmtp_codec::{Frame, SocketType};

use crate::fq::FairQueue;
use crate::lb::Outbound;
use crate::routing_ids::RoutingIds;
use crate::{write_probe, Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers};

/// The ROUTER pattern.
///
/// Every peer has a routing id: its non-empty [`PeerInfo::routing_id`] (the `Identity` it
/// announced, or our `CONNECT_ROUTING_ID` for it), else a generated 5-byte id, `0x00` and a
/// big-endian `u32` counter that starts at a value derived from the seed and counts up,
/// skipping ids in use. A peer whose routing id is already in use is refused, or with
/// `ROUTER_HANDOVER` takes the id over from the old peer, which is detached
/// ([`Attach::Replaced`]).
///
/// Receiving: messages are taken from the peers in turn (fair-queued), each returned with
/// a first frame holding its peer's routing id. A ROUTER never blocks its peers.
///
/// Sending: the first frame of each message names the peer and is not sent. The message is
/// silently dropped if no peer has that id (`HostUnreachable` with `ROUTER_MANDATORY`), or
/// if that peer's queue is full (`Again`, with the routing-id frame handed back, with
/// `ROUTER_MANDATORY`). A message of a routing id alone (no `more`) is dropped, even with
/// `ROUTER_MANDATORY`, as in libzmq.
#[derive(Debug)]
pub struct Router {
    fq: FairQueue,
    /// Each peer's routing id, both ways.
    ids: RoutingIds,
    out: Outbound,
    /// The message being received: its routing-id frame, then its frames.
    inbox: VecDeque<Frame>,
    mandatory: bool,
    handover: bool,
    probe_router: bool,
    /// Messages dropped because their peer was at its high-water mark.
    dropped: u64,
}

impl Router {
    /// A ROUTER with no peers; `seed` gives the first generated routing id.
    pub fn new(seed: u64) -> Self {
        Self {
            fq: FairQueue::default(),
            ids: RoutingIds::new(seed),
            out: Outbound::Idle,
            inbox: VecDeque::new(),
            mandatory: false,
            handover: false,
            probe_router: false,
            dropped: 0,
        }
    }

    /// The routing id of an attached peer.
    pub fn routing_id(&self, peer: PeerId) -> Option<&Bytes> {
        self.ids.id(peer)
    }

    /// The peer attached under a routing id.
    pub fn peer(&self, routing_id: &[u8]) -> Option<PeerId> {
        self.ids.peer(routing_id)
    }

    /// Forgets a peer entirely.
    fn forget(&mut self, peer: PeerId) {
        self.fq.detach(peer);
        self.ids.remove(peer);
        self.out = self.out.detached(peer);
    }

    /// Moves the next message, behind its routing-id frame, into the inbox.
    fn fill(&mut self, peers: &mut dyn Peers) -> bool {
        self.ids.fill(&mut self.fq, &mut self.inbox, peers)
    }
}

impl Pattern for Router {
    fn socket_type(&self) -> SocketType {
        SocketType::Router
    }

    fn attach(&mut self, peer: PeerId, info: PeerInfo, peers: &mut dyn Peers) -> Attach {
        if self.ids.contains(peer) {
            // Attached already: nothing changes.
            return Attach::Accepted;
        }
        let mut result = Attach::Accepted;
        let id = if info.routing_id.is_empty() {
            self.ids.generate()
        } else {
            if let Some(old) = self.ids.peer(&info.routing_id) {
                if !self.handover {
                    return Attach::Refused;
                }
                if self.out == Outbound::To(old) {
                    peers.rollback(old);
                }
                self.forget(old);
                result = Attach::Replaced(old);
            }
            info.routing_id
        };
        if self.probe_router {
            write_probe(peer, peers);
        }
        self.ids.insert(peer, id);
        self.fq.attach(peer);
        result
    }

    fn detach(&mut self, peer: PeerId) {
        self.forget(peer);
    }

    fn read_activated(&mut self, peer: PeerId) {
        self.fq.activated(peer);
    }

    fn write_activated(&mut self, _peer: PeerId) {}

    fn send(&mut self, frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        let more = frame.more;
        let out = match self.out {
            Outbound::Idle => {
                if !more {
                    // A routing id with no message after it: ignored, as in libzmq.
                    return Ok(());
                }
                match self.ids.peer(&frame.data) {
                    Some(peer) if peers.can_write(peer) => Outbound::To(peer),
                    Some(_) if self.mandatory => return Err(PatternError::Again(Some(frame))),
                    None if self.mandatory => return Err(PatternError::HostUnreachable),
                    Some(_) => {
                        self.dropped += 1;
                        Outbound::Dropping
                    }
                    None => Outbound::Dropping,
                }
            }
            Outbound::To(peer) => {
                peers.write(peer, frame);
                self.out.after(more)
            }
            Outbound::Dropping => self.out.after(more),
        };
        self.out = out;
        Ok(())
    }

    fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError> {
        if !self.fill(peers) {
            return Err(PatternError::Again(None));
        }
        self.inbox.pop_front().ok_or(PatternError::Again(None))
    }

    fn has_in(&mut self, peers: &mut dyn Peers) -> bool {
        self.fill(peers)
    }

    fn has_out(&mut self, peers: &mut dyn Peers) -> bool {
        if !self.mandatory || self.out != Outbound::Idle {
            return true;
        }
        self.ids.peers().any(|peer| peers.can_write(peer))
    }

    fn dropped_at_hwm(&self) -> u64 {
        self.dropped
    }

    fn set_option(&mut self, option: PatternOption) -> Result<(), PatternError> {
        match option {
            PatternOption::RouterMandatory(on) => self.mandatory = on,
            PatternOption::RouterHandover(on) => self.handover = on,
            PatternOption::ProbeRouter(on) => self.probe_router = on,
            _ => return Err(PatternError::Invalid),
        }
        Ok(())
    }
}
