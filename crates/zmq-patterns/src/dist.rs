//! The distributor (libzmq's `dist_t`): fan-out of whole messages to a chosen set of peers.
//!
//! Each peer gets a small dense slot number, which the subscription trie stores, so that
//! matching a message marks slots in a vector instead of looking peers up. The peers a
//! message goes to are fixed by its first frame: the marked peers that can take a message
//! then. A peer attached while a message is being sent does not get its rest, and a peer
//! detached then is forgotten at once. Later frames go to exactly the peers that got the
//! first, so no peer ever sees part of a message.
//!
//! At the high-water mark a peer either misses the message (lossy: PUB, XPUB, XSUB) or the
//! whole send is refused before anything is written (`XPUB_NODROP`).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use zmtp_codec::Frame;

use crate::{PeerId, Peers};

#[derive(Clone, Debug, Default)]
struct Slot {
    /// The peer in this slot; `None` for a free slot.
    peer: Option<PeerId>,
    /// `can_write` has not said no since the last `write_activated`.
    writable: bool,
    /// The epoch of the last match that marked the slot.
    mark: u64,
    /// The message being sent goes to this peer.
    target: bool,
}

/// Fan-out over a set of peers; see the [module documentation](self).
#[derive(Debug)]
pub(crate) struct Dist {
    slots: Vec<Slot>,
    free: Vec<usize>,
    by_peer: BTreeMap<PeerId, usize>,
    /// Bumped by every [`Dist::begin`]; a slot is marked when its `mark` equals it.
    epoch: u64,
    /// The slots marked since the last `begin`.
    matched: Vec<usize>,
    /// The slots the message being sent goes to.
    targets: Vec<usize>,
    /// A message is being sent (its last frame has not come yet).
    more: bool,
    /// Messages a marked peer missed because it was at its high-water mark.
    pub(crate) dropped: u64,
}

impl Default for Dist {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            by_peer: BTreeMap::new(),
            epoch: 1,
            matched: Vec::new(),
            targets: Vec::new(),
            more: false,
            dropped: 0,
        }
    }
}

impl Dist {
    /// Adds a writable peer and returns its slot (its existing slot if attached already).
    pub(crate) fn attach(&mut self, peer: PeerId) -> usize {
        if let Some(&slot) = self.by_peer.get(&peer) {
            return slot;
        }
        let entry = Slot {
            peer: Some(peer),
            writable: true,
            mark: 0,
            target: false,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = entry;
                slot
            }
            None => {
                self.slots.push(entry);
                self.slots.len() - 1
            }
        };
        self.by_peer.insert(peer, slot);
        slot
    }

    /// Forgets a peer (and drops it from the message being sent); returns the slot it had,
    /// which may be given to the next peer attached.
    pub(crate) fn detach(&mut self, peer: PeerId) -> Option<usize> {
        let slot = self.by_peer.remove(&peer)?;
        if self.slots[slot].target {
            self.targets.retain(|&s| s != slot);
        }
        self.matched.retain(|&s| s != slot);
        self.slots[slot] = Slot::default();
        self.free.push(slot);
        Some(slot)
    }

    pub(crate) fn slot(&self, peer: PeerId) -> Option<usize> {
        self.by_peer.get(&peer).copied()
    }

    /// The attached peers, in id order.
    pub(crate) fn peers(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.by_peer.keys().copied()
    }

    /// The peer has room again.
    pub(crate) fn activated(&mut self, peer: PeerId) {
        if let Some(&slot) = self.by_peer.get(&peer) {
            self.slots[slot].writable = true;
        }
    }

    /// `can_write` said no for the peer.
    pub(crate) fn deactivated(&mut self, peer: PeerId) {
        if let Some(&slot) = self.by_peer.get(&peer) {
            self.slots[slot].writable = false;
        }
    }

    /// A message is half sent.
    pub(crate) fn in_message(&self) -> bool {
        self.more
    }

    /// The message being sent goes to this peer (so nothing else may be written to it
    /// before its last frame).
    pub(crate) fn is_target(&self, peer: PeerId) -> bool {
        self.by_peer
            .get(&peer)
            .is_some_and(|&slot| self.slots[slot].target)
    }

    /// Starts choosing the peers of a new message: nothing is marked.
    pub(crate) fn begin(&mut self) {
        self.epoch += 1;
        self.matched.clear();
    }

    /// Marks a slot (again is a no-op).
    pub(crate) fn mark(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot) {
            if s.peer.is_some() && s.mark != self.epoch {
                s.mark = self.epoch;
                self.matched.push(slot);
            }
        }
    }

    /// Marks every peer.
    pub(crate) fn mark_all(&mut self) {
        for slot in 0..self.slots.len() {
            self.mark(slot);
        }
    }

    /// Marks exactly the peers that are not marked (`INVERT_MATCHING`).
    pub(crate) fn invert(&mut self) {
        let epoch = self.epoch;
        self.epoch += 1;
        self.matched.clear();
        for slot in 0..self.slots.len() {
            let s = &mut self.slots[slot];
            if s.peer.is_some() && s.mark != epoch {
                s.mark = self.epoch;
                self.matched.push(slot);
            }
        }
    }

    /// Sends one frame. The first frame of a message goes to the marked peers that can
    /// take a message: the others miss it (`lossy`), or nothing is written and the frame
    /// comes back (not `lossy`, `XPUB_NODROP`). Later frames follow the first.
    pub(crate) fn send(
        &mut self,
        frame: Frame,
        peers: &mut dyn Peers,
        lossy: bool,
    ) -> Result<(), Frame> {
        if !self.more {
            self.targets.clear();
            if lossy {
                for i in 0..self.matched.len() {
                    let slot = self.matched[i];
                    let s = &mut self.slots[slot];
                    let Some(peer) = s.peer else { continue };
                    if !s.writable {
                        self.dropped += 1;
                        continue;
                    }
                    if peers.can_write(peer) {
                        self.targets.push(slot);
                    } else {
                        s.writable = false;
                        self.dropped += 1;
                    }
                }
            } else {
                if self.matched.iter().any(|&slot| !self.slots[slot].writable) {
                    return Err(frame);
                }
                for i in 0..self.matched.len() {
                    let slot = self.matched[i];
                    let s = &mut self.slots[slot];
                    let Some(peer) = s.peer else { continue };
                    if !peers.can_write(peer) {
                        s.writable = false;
                        return Err(frame);
                    }
                }
                self.targets.extend_from_slice(&self.matched);
            }
            for &slot in &self.targets {
                self.slots[slot].target = true;
            }
        }
        let more = frame.more;
        if let Some((&last, rest)) = self.targets.split_last() {
            for &slot in rest {
                if let Some(peer) = self.slots[slot].peer {
                    peers.write(peer, frame.clone());
                }
            }
            if let Some(peer) = self.slots[last].peer {
                peers.write(peer, frame);
            }
        }
        self.more = more;
        if !more {
            for &slot in &self.targets {
                self.slots[slot].target = false;
            }
            self.targets.clear();
        }
        Ok(())
    }
}
