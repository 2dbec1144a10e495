//! Test support: in-memory peer queues that check the `Peers` contract, and a harness that
//! drives a pattern over them the way the runtime will (activations included).
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use zmq_patterns::{
    new_pattern, Attach, Frame, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers,
    SocketType,
};

/// A message as a list of frame payloads.
pub(crate) type Msg = Vec<Bytes>;

/// A message from string frames.
pub(crate) fn msg(frames: &[&str]) -> Msg {
    frames
        .iter()
        .map(|f| Bytes::copy_from_slice(f.as_bytes()))
        .collect()
}

/// One peer's queues.
#[derive(Debug, Default)]
pub(crate) struct Queues {
    /// Frames the peer sent us, not read yet.
    pub(crate) inbound: VecDeque<Frame>,
    /// Frames written to the peer, not taken yet.
    pub(crate) outbound: VecDeque<Frame>,
    /// Frames of the unfinished message at the back of `outbound`.
    pub(crate) open: usize,
    /// Complete messages in `outbound`.
    pub(crate) messages: usize,
    /// SNDHWM in messages; 0 is unlimited.
    pub(crate) hwm: usize,
    granted: bool,
    /// `read` returned `None` since the last `read_activated`.
    pub(crate) found_empty: bool,
    /// `can_write` returned `false` since the last `write_activated`.
    pub(crate) found_full: bool,
    /// Calls of `read` (frames or not).
    pub(crate) reads: usize,
    /// Calls of `rollback`.
    pub(crate) rollbacks: usize,
}

/// Per-peer `VecDeque`s implementing `Peers`; panics when the contract is broken.
#[derive(Debug, Default)]
pub(crate) struct TestPeers {
    pub(crate) queues: BTreeMap<PeerId, Queues>,
}

impl TestPeers {
    pub(crate) fn q(&mut self, peer: PeerId) -> &mut Queues {
        self.queues
            .get_mut(&peer)
            .unwrap_or_else(|| panic!("peer {peer} is not attached"))
    }
}

impl Peers for TestPeers {
    fn can_write(&mut self, peer: PeerId) -> bool {
        let q = self.q(peer);
        let ok = q.hwm == 0 || q.messages < q.hwm;
        q.granted = ok;
        q.found_full |= !ok;
        ok
    }

    fn write(&mut self, peer: PeerId, frame: Frame) {
        let q = self.q(peer);
        if q.open == 0 {
            assert!(
                q.granted,
                "message started on peer {peer} without can_write"
            );
            q.granted = false;
        }
        if frame.more {
            q.open += 1;
        } else {
            q.open = 0;
            q.messages += 1;
        }
        q.outbound.push_back(frame);
    }

    fn rollback(&mut self, peer: PeerId) {
        let q = self.q(peer);
        q.rollbacks += 1;
        for _ in 0..q.open {
            q.outbound.pop_back();
        }
        q.open = 0;
    }

    fn read(&mut self, peer: PeerId) -> Option<Frame> {
        let q = self.q(peer);
        q.reads += 1;
        let frame = q.inbound.pop_front();
        q.found_empty |= frame.is_none();
        frame
    }
}

/// A pattern and its peers' queues, driven as the runtime would drive them.
pub(crate) struct Harness {
    pub(crate) pattern: Box<dyn Pattern>,
    pub(crate) peers: TestPeers,
    next_peer: PeerId,
    /// Call `read_activated`/`write_activated` when due (as the runtime must).
    pub(crate) auto_activate: bool,
}

impl Harness {
    pub(crate) fn new(t: SocketType) -> Self {
        Self::with_seed(t, 0)
    }

    pub(crate) fn with_seed(t: SocketType, seed: u64) -> Self {
        Self {
            pattern: new_pattern(t, seed).expect("type is built"),
            peers: TestPeers::default(),
            next_peer: 1,
            auto_activate: true,
        }
    }

    pub(crate) fn with_options(t: SocketType, options: &[PatternOption]) -> Self {
        let mut h = Self::new(t);
        for &o in options {
            h.pattern.set_option(o).expect("option applies");
        }
        h
    }

    /// Attaches a peer with this routing id and SNDHWM; says what the pattern did.
    pub(crate) fn try_attach(&mut self, routing_id: &[u8], hwm: usize) -> (PeerId, Attach) {
        let peer = self.next_peer;
        self.next_peer += 1;
        self.peers.queues.insert(
            peer,
            Queues {
                hwm,
                ..Queues::default()
            },
        );
        let info = PeerInfo::new(Bytes::copy_from_slice(routing_id), None);
        let result = self.pattern.attach(peer, info, &mut self.peers);
        match result {
            Attach::Refused => {
                self.peers.queues.remove(&peer);
            }
            Attach::Replaced(old) => {
                self.peers.queues.remove(&old);
            }
            _ => {}
        }
        (peer, result)
    }

    /// Attaches a peer with no routing id and no HWM.
    pub(crate) fn attach(&mut self) -> PeerId {
        self.attach_with(b"", 0)
    }

    /// Attaches a peer that must be accepted.
    pub(crate) fn attach_with(&mut self, routing_id: &[u8], hwm: usize) -> PeerId {
        let (peer, result) = self.try_attach(routing_id, hwm);
        assert_eq!(result, Attach::Accepted);
        peer
    }

    pub(crate) fn detach(&mut self, peer: PeerId) {
        self.peers.queues.remove(&peer);
        self.pattern.detach(peer);
    }

    /// The peer sends us a message.
    pub(crate) fn deliver_bytes(&mut self, peer: PeerId, frames: &[Bytes]) {
        let q = self.peers.q(peer);
        for (i, f) in frames.iter().enumerate() {
            q.inbound
                .push_back(Frame::new(f.clone(), i + 1 < frames.len()));
        }
        if self.auto_activate && std::mem::take(&mut q.found_empty) {
            self.pattern.read_activated(peer);
        }
    }

    pub(crate) fn deliver(&mut self, peer: PeerId, frames: &[&str]) {
        self.deliver_bytes(peer, &msg(frames));
    }

    /// The peer takes the oldest complete message written to it.
    pub(crate) fn take(&mut self, peer: PeerId) -> Option<Msg> {
        let auto = self.auto_activate;
        let q = self.peers.q(peer);
        if q.messages == 0 {
            return None;
        }
        let mut out = Vec::new();
        while let Some(f) = q.outbound.pop_front() {
            out.push(f.data);
            if !f.more {
                break;
            }
        }
        q.messages -= 1;
        if auto && std::mem::take(&mut q.found_full) {
            self.pattern.write_activated(peer);
        }
        Some(out)
    }

    /// Everything the peer can take.
    pub(crate) fn take_all(&mut self, peer: PeerId) -> Vec<Msg> {
        std::iter::from_fn(|| self.take(peer)).collect()
    }

    /// Complete messages queued to the peer.
    pub(crate) fn queued(&mut self, peer: PeerId) -> usize {
        self.peers.q(peer).messages
    }

    pub(crate) fn send_frame(&mut self, data: Bytes, more: bool) -> Result<(), PatternError> {
        self.pattern.send(Frame::new(data, more), &mut self.peers)
    }

    /// Sends a whole message; a failure is allowed on the first frame only.
    pub(crate) fn send_bytes(&mut self, frames: &[Bytes]) -> Result<(), PatternError> {
        for (i, f) in frames.iter().enumerate() {
            let r = self.send_frame(f.clone(), i + 1 < frames.len());
            if let Err(e) = r {
                assert_eq!(i, 0, "frame {i} of a message refused: {e:?}");
                return Err(e);
            }
        }
        Ok(())
    }

    pub(crate) fn send(&mut self, frames: &[&str]) -> Result<(), PatternError> {
        self.send_bytes(&msg(frames))
    }

    pub(crate) fn recv_frame(&mut self) -> Result<Frame, PatternError> {
        self.pattern.recv(&mut self.peers)
    }

    /// Receives a whole message; once its first frame came, the rest must follow.
    pub(crate) fn recv(&mut self) -> Result<Msg, PatternError> {
        let mut out = Vec::new();
        loop {
            match self.recv_frame() {
                Ok(f) => {
                    out.push(f.data);
                    if !f.more {
                        return Ok(out);
                    }
                }
                Err(e) => {
                    assert!(out.is_empty(), "message cut short after {out:?}: {e:?}");
                    return Err(e);
                }
            }
        }
    }

    pub(crate) fn has_in(&mut self) -> bool {
        self.pattern.has_in(&mut self.peers)
    }

    pub(crate) fn has_out(&mut self) -> bool {
        self.pattern.has_out(&mut self.peers)
    }
}

/// `Err(Again(None))`, what `recv` says with nothing to receive.
pub(crate) fn again<T>() -> Result<T, PatternError> {
    Err(PatternError::Again(None))
}
