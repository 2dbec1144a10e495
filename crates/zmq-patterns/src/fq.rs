//! The fair-queuer (libzmq's `fq_t`): round-robin of whole messages over the peers that
//! have one.
//!
//! Unlike libzmq, which hands frames out one by one straight from the pipe, a message is
//! taken from its peer whole, into a buffer the pattern then returns frame by frame. The
//! buffer is reused, so this costs no allocation in the steady state, and it makes
//! atomicity independent of the peer: a peer detached or replaced half-way through a
//! message the application is reading cannot cut it short. A message of one frame skips
//! the buffer ([`FairQueue::fetch_first`]).

use alloc::collections::VecDeque;

use zmtp_codec::Frame;

use crate::set::PeerSet;
use crate::{PeerId, Peers};

/// Round-robin over active peers; a peer found empty is skipped until `read_activated`.
#[derive(Debug, Default)]
pub(crate) struct FairQueue {
    peers: PeerSet,
    /// The peer the last message fetched came from.
    last: PeerId,
}

impl FairQueue {
    pub(crate) fn attach(&mut self, peer: PeerId) {
        self.peers.attach(peer);
    }

    pub(crate) fn detach(&mut self, peer: PeerId) {
        self.peers.remove(peer);
    }

    pub(crate) fn activated(&mut self, peer: PeerId) {
        self.peers.activate(peer);
    }

    /// Moves the next whole message into `buf` (which must be empty) and says which peer it
    /// came from; `None` when no active peer has one.
    pub(crate) fn fetch(
        &mut self,
        peers: &mut dyn Peers,
        buf: &mut VecDeque<Frame>,
    ) -> Option<PeerId> {
        let mut first = Frame::default();
        if !self.fetch_first(peers, buf, &mut first) {
            return None;
        }
        buf.push_front(first);
        Some(self.last)
    }

    /// Takes the next whole message: puts its first frame in `first` and moves the rest,
    /// if any, into `rest` (which must be empty); returns whether there was one. A
    /// single-frame message, most of them, goes straight to the caller's frame, without
    /// the buffer (`Peers::read_into`).
    pub(crate) fn fetch_first(
        &mut self,
        peers: &mut dyn Peers,
        rest: &mut VecDeque<Frame>,
        first: &mut Frame,
    ) -> bool {
        while let Some(peer) = self.peers.current() {
            if read_message(peers, peer, rest, first) {
                self.peers.advance_past(peer);
                self.last = peer;
                return true;
            }
            self.peers.deactivate_current();
        }
        false
    }

    /// Reads and discards every message available now.
    pub(crate) fn drain(&mut self, peers: &mut dyn Peers, scratch: &mut VecDeque<Frame>) {
        while self.fetch(peers, scratch).is_some() {
            scratch.clear();
        }
    }
}

/// Reads one whole message from `peer`: puts its first frame in `first` and the rest in
/// `rest` (empty). `false` if the peer has none; a message cut short (the runtime broke the
/// [`Peers::read`] contract) is discarded, and counts as none.
fn read_message(
    peers: &mut dyn Peers,
    peer: PeerId,
    rest: &mut VecDeque<Frame>,
    first: &mut Frame,
) -> bool {
    debug_assert!(rest.is_empty());
    if !peers.read_into(peer, first) {
        return false;
    }
    if !first.more {
        return true;
    }
    loop {
        match peers.read(peer) {
            Some(frame) => {
                let more = frame.more;
                rest.push_back(frame);
                if !more {
                    return true;
                }
            }
            None => {
                rest.clear();
                return false;
            }
        }
    }
}
