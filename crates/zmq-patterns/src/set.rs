//! The peer list shared by the load-balancer and the fair-queuer.
//!
//! As libzmq's `array_t` in `lb_t` and `fq_t`: one vector whose first `active` entries are
//! the peers worth trying, so that activating, deactivating and removing a peer are swaps.
//! libzmq keeps each pipe's position inside the pipe; here a map from peer to position does.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::PeerId;

/// Peers split into an active prefix and an inactive rest, with a round-robin cursor over
/// the active ones.
#[derive(Debug, Default)]
pub(crate) struct PeerSet {
    items: Vec<PeerId>,
    position: BTreeMap<PeerId, usize>,
    active: usize,
    /// The active position the next round-robin pick starts at; kept below `active` (or 0).
    current: usize,
}

impl PeerSet {
    /// Adds an active peer at the end of the active prefix; ignored if already present.
    pub(crate) fn attach(&mut self, peer: PeerId) {
        if self.position.contains_key(&peer) {
            return;
        }
        self.items.push(peer);
        self.position.insert(peer, self.items.len() - 1);
        self.activate(peer);
    }

    /// Moves the peer into the active prefix; ignored if unknown or already active.
    pub(crate) fn activate(&mut self, peer: PeerId) {
        if let Some(&i) = self.position.get(&peer) {
            if i >= self.active {
                self.swap(i, self.active);
                self.active += 1;
            }
        }
    }

    /// Removes the peer; ignored if unknown.
    pub(crate) fn remove(&mut self, peer: PeerId) {
        let Some(mut i) = self.position.get(&peer).copied() else {
            return;
        };
        if i < self.active {
            self.active -= 1;
            let last = self.active;
            self.swap(i, last);
            // The last active peer moved to `i`: if the cursor was on it, follow it.
            if self.current == last {
                self.current = i;
            }
            i = last;
        }
        let end = self.items.len() - 1;
        self.swap(i, end);
        self.items.pop();
        self.position.remove(&peer);
        self.clamp();
    }

    /// The peer under the cursor, if any peer is active.
    pub(crate) fn current(&self) -> Option<PeerId> {
        if self.active == 0 {
            None
        } else {
            Some(self.items[self.current])
        }
    }

    /// Deactivates the peer under the cursor; the last active peer takes its place, so the
    /// cursor then points at the next candidate.
    pub(crate) fn deactivate_current(&mut self) {
        if self.active == 0 {
            return;
        }
        self.active -= 1;
        let (i, last) = (self.current, self.active);
        self.swap(i, last);
        self.clamp();
    }

    /// Moves the cursor past `peer` (the peer just served), wrapping at the end of the
    /// active prefix.
    pub(crate) fn advance_past(&mut self, peer: PeerId) {
        let at = if self.current < self.active && self.items[self.current] == peer {
            self.current
        } else {
            match self.position.get(&peer) {
                Some(&i) if i < self.active => i,
                _ => return,
            }
        };
        self.current = at + 1;
        self.clamp();
    }

    fn swap(&mut self, a: usize, b: usize) {
        if a != b {
            self.items.swap(a, b);
            self.position.insert(self.items[a], a);
            self.position.insert(self.items[b], b);
        }
    }

    fn clamp(&mut self) {
        if self.current >= self.active {
            self.current = 0;
        }
    }
}
