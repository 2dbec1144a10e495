//! The routing ids of ROUTER and STREAM peers, looked up both ways.

use alloc::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use zmtp_codec::Frame;

use crate::fq::FairQueue;
use crate::{seed_u32, PeerId, Peers};

/// Each peer's routing id and the peer of each routing id. Generated ids are 5 bytes,
/// `0x00` and a big-endian `u32` counter that starts at a value derived from the seed and
/// counts up, skipping ids in use (libzmq's form).
#[derive(Debug)]
pub(crate) struct RoutingIds {
    /// The peer with each routing id.
    by_id: BTreeMap<Bytes, PeerId>,
    /// Each peer's routing id.
    ids: BTreeMap<PeerId, Bytes>,
    /// The counter of the next generated routing id.
    next_id: u32,
}

impl RoutingIds {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            by_id: BTreeMap::new(),
            ids: BTreeMap::new(),
            next_id: seed_u32(seed),
        }
    }

    /// The routing id of an attached peer.
    pub(crate) fn id(&self, peer: PeerId) -> Option<&Bytes> {
        self.ids.get(&peer)
    }

    /// The peer attached under a routing id.
    pub(crate) fn peer(&self, routing_id: &[u8]) -> Option<PeerId> {
        self.by_id.get(routing_id).copied()
    }

    /// Whether the peer has a routing id (is attached).
    pub(crate) fn contains(&self, peer: PeerId) -> bool {
        self.ids.contains_key(&peer)
    }

    /// Every attached peer.
    pub(crate) fn peers(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.ids.keys().copied()
    }

    /// A generated routing id not in use.
    pub(crate) fn generate(&mut self) -> Bytes {
        loop {
            let n = self.next_id;
            self.next_id = n.wrapping_add(1);
            let [a, b, c, d] = n.to_be_bytes();
            let id = Bytes::copy_from_slice(&[0, a, b, c, d]);
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }

    /// Records a peer's routing id (not in use: the caller checked).
    pub(crate) fn insert(&mut self, peer: PeerId, id: Bytes) {
        self.by_id.insert(id.clone(), peer);
        self.ids.insert(peer, id);
    }

    /// Forgets a peer's routing id.
    pub(crate) fn remove(&mut self, peer: PeerId) {
        if let Some(id) = self.ids.remove(&peer) {
            self.by_id.remove(&id);
        }
    }

    /// Moves the next fair-queued message, behind its peer's routing-id frame, into an
    /// empty `inbox`; whether the inbox holds a message.
    pub(crate) fn fill(
        &self,
        fq: &mut FairQueue,
        inbox: &mut VecDeque<Frame>,
        peers: &mut dyn Peers,
    ) -> bool {
        if !inbox.is_empty() {
            return true;
        }
        let Some(peer) = fq.fetch(peers, inbox) else {
            return false;
        };
        let id = self.id(peer).cloned().unwrap_or_default();
        inbox.push_front(Frame::more(id));
        true
    }
}
