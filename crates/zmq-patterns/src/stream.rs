//! STREAM: raw byte-stream peers (TCP without ZMTP), addressed by routing id, as libzmq's
//! `stream_t`.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::Bytes;
use zmtp_codec::{Frame, SocketType};

use crate::fq::FairQueue;
use crate::lb::Outbound;
use crate::routing_ids::RoutingIds;
use crate::{Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers};

/// The STREAM pattern.
///
/// Every peer is one raw connection. It gets a routing id when it is attached: its
/// non-empty [`PeerInfo::routing_id`] (our `CONNECT_ROUTING_ID` for an outgoing connect),
/// else a generated 5-byte id, `0x00` and a big-endian `u32` counter that starts at a value
/// derived from the seed and counts up, skipping ids in use. A peer whose given routing id
/// is already in use is refused (libzmq asserts).
///
/// Receiving: each message a peer's queue holds (one chunk of bytes as read from the
/// connection, or an empty connect/disconnect notification the runtime queued) is returned
/// as two frames, `[routing id, data]`, fair-queued over the peers.
///
/// Sending: a message is `[routing id, data]`. The routing-id frame must have `more`; the
/// data frame ends the message whether or not it has `more` (libzmq ignores it). The
/// routing id of no peer fails with [`PatternError::HostUnreachable`], and a peer whose
/// queue is full with [`PatternError::Again`] (the routing-id frame handed back): STREAM
/// never drops silently. An empty data frame asks for that peer's connection to be closed:
/// the peer is detached at once (its routing id is unknown from then on) and the runtime
/// learns it from [`Pattern::take_disconnect`]; what was queued to it before is still
/// sent. A routing-id frame without `more` is ignored.
#[derive(Debug)]
pub struct Stream {
    fq: FairQueue,
    /// Each peer's routing id, both ways.
    ids: RoutingIds,
    /// The last routing id generated (libzmq's `ZMQ_ROUTING_ID` of a STREAM socket).
    last_generated: Option<Bytes>,
    /// After a routing-id frame: where its data frame goes.
    out: Outbound,
    /// The message being received: its routing-id frame, then its frames.
    inbox: VecDeque<Frame>,
    /// Peers the application asked to disconnect, for the runtime.
    disconnects: Vec<PeerId>,
}

impl Stream {
    /// A STREAM with no peers; `seed` gives the first generated routing id.
    pub fn new(seed: u64) -> Self {
        Self {
            fq: FairQueue::default(),
            ids: RoutingIds::new(seed),
            last_generated: None,
            out: Outbound::Idle,
            inbox: VecDeque::new(),
            disconnects: Vec::new(),
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

impl Pattern for Stream {
    fn socket_type(&self) -> SocketType {
        SocketType::Stream
    }

    fn attach(&mut self, peer: PeerId, info: PeerInfo, _peers: &mut dyn Peers) -> Attach {
        if self.ids.contains(peer) {
            return Attach::Accepted;
        }
        let id = if info.routing_id.is_empty() {
            let id = self.ids.generate();
            self.last_generated = Some(id.clone());
            id
        } else if self.ids.peer(&info.routing_id).is_some() {
            return Attach::Refused;
        } else {
            info.routing_id
        };
        self.ids.insert(peer, id);
        self.fq.attach(peer);
        Attach::Accepted
    }

    fn detach(&mut self, peer: PeerId) {
        self.forget(peer);
    }

    fn read_activated(&mut self, peer: PeerId) {
        self.fq.activated(peer);
    }

    fn write_activated(&mut self, _peer: PeerId) {}

    fn send(&mut self, frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        if self.out == Outbound::Idle {
            if !frame.more {
                // A routing id with no data after it: ignored (libzmq swallows it and the
                // frame after it; see ARCHITECTURE.md).
                return Ok(());
            }
            self.out = match self.ids.peer(&frame.data) {
                Some(peer) if peers.can_write(peer) => Outbound::To(peer),
                Some(_) => return Err(PatternError::Again(Some(frame))),
                None => return Err(PatternError::HostUnreachable),
            };
            return Ok(());
        }
        // The data frame ends the message, `more` or not, as in libzmq.
        let out = core::mem::replace(&mut self.out, Outbound::Idle);
        if let Outbound::To(peer) = out {
            if frame.data.is_empty() {
                self.forget(peer);
                self.disconnects.push(peer);
            } else {
                peers.write(peer, Frame::last(frame.data));
            }
        }
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

    fn has_out(&mut self, _peers: &mut dyn Peers) -> bool {
        // As libzmq: whether a send succeeds depends on the peer it names.
        true
    }

    fn set_option(&mut self, _option: PatternOption) -> Result<(), PatternError> {
        // STREAM_NOTIFY and CONNECT_ROUTING_ID belong to the runtime (the connections and
        // the routing id given to `attach`).
        Err(PatternError::Invalid)
    }

    fn take_disconnect(&mut self) -> Option<PeerId> {
        self.disconnects.pop()
    }

    fn generated_routing_id(&self) -> Option<Bytes> {
        self.last_generated.clone()
    }
}
