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
        for o in options.iter().cloned() {
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
            out.push(f.data.into_bytes());
            if !f.more {
                break;
            }
        }
        q.messages -= 1;
        if auto && std::mem::take(&mut q.found_full) {
            self.pattern.write_activated(peer);
            // As the runtime does: owed writes (subscriptions) go out at once.
            self.pattern.flush(&mut self.peers);
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
                    out.push(f.data.into_bytes());
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

impl Harness {
    /// Sets an option that must apply, then flushes as the runtime does.
    pub(crate) fn set(&mut self, option: PatternOption) {
        self.pattern
            .set_option(option.clone())
            .unwrap_or_else(|e| panic!("{option:?}: {e}"));
        self.flush();
    }

    pub(crate) fn flush(&mut self) {
        self.pattern.flush(&mut self.peers);
    }

    /// The peer's connection was re-established.
    pub(crate) fn hiccup(&mut self, peer: PeerId) {
        self.pattern.hiccuped(peer, &mut self.peers);
    }

    /// `ZMQ_TOPICS_COUNT`.
    pub(crate) fn topics(&mut self) -> usize {
        self.pattern.topics_count(&mut self.peers).unwrap()
    }

    /// Receives every whole message available now.
    pub(crate) fn recv_all(&mut self) -> Vec<Msg> {
        std::iter::from_fn(|| self.recv().ok()).collect()
    }
}

/// A subscription message, `\x01topic`.
pub(crate) fn sub(topic: &str) -> Msg {
    vec![flagged(1, topic.as_bytes())]
}

/// A cancel message, `\x00topic`.
pub(crate) fn cancel(topic: &str) -> Msg {
    vec![flagged(0, topic.as_bytes())]
}

pub(crate) fn flagged(flag: u8, topic: &[u8]) -> Bytes {
    let mut v = vec![flag];
    v.extend_from_slice(topic);
    Bytes::from(v)
}

/// Sockets (harnesses) joined by in-memory links, like inproc: `settle` carries every
/// complete message across until nothing moves, with the activations a runtime makes.
pub(crate) struct Net {
    pub(crate) s: Vec<Harness>,
    /// (socket, its peer id for the link, other socket, its peer id)
    links: Vec<(usize, PeerId, usize, PeerId)>,
}

impl Net {
    pub(crate) fn new() -> Self {
        Self {
            s: Vec::new(),
            links: Vec::new(),
        }
    }

    pub(crate) fn socket(&mut self, t: SocketType) -> usize {
        self.s.push(Harness::new(t));
        self.s.len() - 1
    }

    fn two(&mut self, a: usize, b: usize) -> (&mut Harness, &mut Harness) {
        assert_ne!(a, b);
        if a < b {
            let (x, y) = self.s.split_at_mut(b);
            (&mut x[a], &mut y[0])
        } else {
            let (x, y) = self.s.split_at_mut(a);
            (&mut y[0], &mut x[b])
        }
    }

    /// Links `a` and `b` (no HWM); returns their peer ids for each other.
    pub(crate) fn connect(&mut self, a: usize, b: usize) -> (PeerId, PeerId) {
        self.connect_with(a, b, 0, 0)
    }

    /// Links `a` and `b` with these SNDHWMs (0: none).
    pub(crate) fn connect_with(
        &mut self,
        a: usize,
        b: usize,
        hwm_a: usize,
        hwm_b: usize,
    ) -> (PeerId, PeerId) {
        let pa = self.s[a].attach_with(b"", hwm_a);
        let pb = self.s[b].attach_with(b"", hwm_b);
        self.links.push((a, pa, b, pb));
        (pa, pb)
    }

    /// Closes the link of socket `a`'s peer `pa`: both ends are detached.
    pub(crate) fn disconnect(&mut self, a: usize, pa: PeerId) {
        let i = self
            .links
            .iter()
            .position(|&(x, px, y, py)| (x, px) == (a, pa) || (y, py) == (a, pa))
            .expect("linked");
        let (x, px, y, py) = self.links.remove(i);
        self.s[x].detach(px);
        self.s[y].detach(py);
    }

    /// Closes socket `a`: every link of it.
    pub(crate) fn close(&mut self, a: usize) {
        while let Some(&(x, px, y, py)) = self.links.iter().find(|l| l.0 == a || l.2 == a) {
            if x == a {
                self.disconnect(x, px);
            } else {
                self.disconnect(y, py);
            }
        }
    }

    /// Carries messages both ways until nothing moves.
    pub(crate) fn settle(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.links.len() {
                let (a, pa, b, pb) = self.links[i];
                for (from, pf, to, pt) in [(a, pa, b, pb), (b, pb, a, pa)] {
                    let (x, y) = self.two(from, to);
                    while let Some(m) = x.take(pf) {
                        y.deliver_bytes(pt, &m);
                        moved = true;
                    }
                }
            }
            for h in &mut self.s {
                h.flush();
            }
            if !moved {
                return;
            }
        }
    }

    /// Settles, then receives one message on socket `i`.
    pub(crate) fn recv(&mut self, i: usize) -> Result<Msg, PatternError> {
        self.settle();
        self.s[i].recv()
    }

    pub(crate) fn send(&mut self, i: usize, frames: &[&str]) {
        self.s[i].send(frames).unwrap();
    }

    pub(crate) fn send_bytes(&mut self, i: usize, frames: &[Bytes]) {
        self.s[i].send_bytes(frames).unwrap();
    }

    pub(crate) fn set(&mut self, i: usize, option: PatternOption) {
        self.s[i].set(option);
    }
}
