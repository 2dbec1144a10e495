//! Entry point for the `pattern_ops` fuzz target in `fuzz/`, also run by the crate's
//! property tests.
//!
//! [`pattern_ops`] reads a socket type, its options and a list of operations from arbitrary
//! bytes (attach, detach, send, recv, peers delivering and draining messages, activations,
//! polls, option changes) and runs them against the pattern over in-memory queues that
//! check the [`Peers`] contract. It panics when an invariant breaks:
//!
//! - the pattern touches a peer that is not attached, writes the first frame of a message
//!   without a `can_write` that said yes;
//! - a frame of a half-sent message is refused, or a half-received message does not go on
//!   (unless a relaxed REQ's new request abandoned it);
//! - `has_in` says yes and `recv` then has nothing;
//! - a frame handed back by `Again` is not the frame sent;
//! - an error is not one the socket type can give;
//! - a strict REQ begins a second request before the reply to the first was received.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use bytes::Bytes;
use zmtp_codec::{Frame, SocketType};

use crate::{new_pattern, Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers};

mod pubsub;

pub use pubsub::{pubsub_ops, subscription_trie, trie_ops, PUBSUB_TYPES};

/// The socket types [`pattern_ops`] drives, by the input's first byte.
pub const TYPES: [SocketType; 7] = [
    SocketType::Pair,
    SocketType::Req,
    SocketType::Rep,
    SocketType::Dealer,
    SocketType::Router,
    SocketType::Push,
    SocketType::Pull,
];

/// One peer's queues in [`CheckedPeers`].
#[derive(Debug, Default)]
struct Queues {
    inbound: VecDeque<Frame>,
    outbound: VecDeque<Frame>,
    /// Frames of the unfinished message at the back of `outbound`.
    open: usize,
    /// Complete messages in `outbound`.
    messages: usize,
    /// At most this many complete messages outbound; 0 is no limit.
    hwm: usize,
    /// `can_write` said yes and no message was started since.
    granted: bool,
    /// `read` found the queue empty; `read_activated` is due when a message arrives.
    found_empty: bool,
    /// `can_write` found the queue full; `write_activated` is due when there is room.
    found_full: bool,
}

/// In-memory queues that panic when the pattern breaks the [`Peers`] contract.
#[derive(Debug, Default)]
pub struct CheckedPeers {
    queues: BTreeMap<PeerId, Queues>,
    /// Requests begun (first frames with `more` written to any peer).
    requests_begun: u64,
}

impl CheckedPeers {
    fn get(&mut self, peer: PeerId) -> &mut Queues {
        match self.queues.get_mut(&peer) {
            Some(q) => q,
            None => panic!("the pattern touched peer {peer}, which is not attached"),
        }
    }
}

impl Peers for CheckedPeers {
    fn can_write(&mut self, peer: PeerId) -> bool {
        let q = self.get(peer);
        let ok = q.hwm == 0 || q.messages < q.hwm;
        q.granted = ok;
        q.found_full |= !ok;
        ok
    }

    fn write(&mut self, peer: PeerId, frame: Frame) {
        let q = self.get(peer);
        let first = q.open == 0;
        if first {
            assert!(
                q.granted,
                "first frame of a message written to peer {peer} without can_write"
            );
            q.granted = false;
        }
        let more = frame.more;
        q.outbound.push_back(frame);
        if more {
            q.open += 1;
        } else {
            q.open = 0;
            q.messages += 1;
        }
        if first && more {
            self.requests_begun += 1;
        }
    }

    fn rollback(&mut self, peer: PeerId) {
        let q = self.get(peer);
        for _ in 0..q.open {
            q.outbound.pop_back();
        }
        q.open = 0;
    }

    fn read(&mut self, peer: PeerId) -> Option<Frame> {
        let q = self.get(peer);
        let frame = q.inbound.pop_front();
        q.found_empty |= frame.is_none();
        frame
    }
}

/// Reads bytes of the input; zeros once it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// The options of a type that `set_option` must accept.
fn accepts(t: SocketType, option: &PatternOption) -> bool {
    use PatternOption::*;
    match t {
        SocketType::Router | SocketType::Rep => {
            matches!(
                option,
                RouterMandatory(_) | RouterHandover(_) | ProbeRouter(_)
            )
        }
        SocketType::Dealer => matches!(option, ProbeRouter(_)),
        SocketType::Req => matches!(option, ProbeRouter(_) | ReqCorrelate(_) | ReqRelaxed(_)),
        _ => false,
    }
}

fn option_from(b: u8) -> PatternOption {
    let on = b & 8 != 0;
    match b % 5 {
        0 => PatternOption::RouterMandatory(on),
        1 => PatternOption::RouterHandover(on),
        2 => PatternOption::ProbeRouter(on),
        3 => PatternOption::ReqCorrelate(on),
        _ => PatternOption::ReqRelaxed(on),
    }
}

/// Whether `err` is one that `t` may give for a send (`send == true`) or a recv.
fn allowed(t: SocketType, err: &PatternError, send: bool) -> bool {
    match err {
        PatternError::Again(frame) => frame.is_some() == send,
        PatternError::Fsm => matches!(t, SocketType::Req | SocketType::Rep),
        PatternError::HostUnreachable => send && t == SocketType::Router,
        PatternError::NotSupported => {
            (send && t == SocketType::Pull) || (!send && t == SocketType::Push)
        }
        PatternError::Invalid => false,
    }
}

/// The driver's state.
struct Driver {
    t: SocketType,
    pattern: alloc::boxed::Box<dyn Pattern>,
    peers: CheckedPeers,
    attached: Vec<PeerId>,
    next_peer: PeerId,
    /// Routing ids to address ROUTER messages to: given at attach, or seen on recv.
    known_ids: Vec<Bytes>,
    /// The last successful send had `more`.
    send_open: bool,
    /// The last successful recv had `more`, and nothing was sent since.
    recv_open: bool,
    /// The next recv starts a message.
    recv_at_start: bool,
    replies_received: u64,
    relaxed_ever: bool,
}

impl Driver {
    fn pick(&self, b: u8) -> Option<PeerId> {
        if self.attached.is_empty() {
            None
        } else {
            Some(self.attached[usize::from(b) % self.attached.len()])
        }
    }

    fn set_option(&mut self, option: PatternOption) {
        let result = self.pattern.set_option(option.clone());
        if accepts(self.t, &option) {
            assert_eq!(result, Ok(()), "{} refused {option:?}", self.t);
        } else {
            assert_eq!(
                result,
                Err(PatternError::Invalid),
                "{} took {option:?}",
                self.t
            );
        }
        if result.is_ok() && option == PatternOption::ReqRelaxed(true) {
            self.relaxed_ever = true;
        }
    }

    fn attach(&mut self, input: &mut Input<'_>) {
        let peer = self.next_peer;
        self.next_peer += 1;
        let b = input.byte();
        let routing_id = match b % 6 {
            0 | 1 => Bytes::new(),
            2..=4 => Bytes::copy_from_slice(&[b'a' + b % 3]),
            _ => Bytes::copy_from_slice(&[0, 0, 0, 0, b % 4]),
        };
        let hwm = usize::from(input.byte() % 4);
        self.peers.queues.insert(
            peer,
            Queues {
                hwm,
                ..Queues::default()
            },
        );
        let info = PeerInfo::new(routing_id.clone(), None);
        match self.pattern.attach(peer, info, &mut self.peers) {
            Attach::Accepted => self.attached.push(peer),
            Attach::Refused => {
                self.peers.queues.remove(&peer);
            }
            Attach::Replaced(old) => {
                assert!(self.attached.contains(&old), "replaced unknown peer {old}");
                self.attached.retain(|&p| p != old);
                self.peers.queues.remove(&old);
                self.attached.push(peer);
            }
        }
        if !routing_id.is_empty() {
            self.known_ids.push(routing_id);
        }
    }

    fn detach(&mut self, b: u8) {
        if let Some(peer) = self.pick(b) {
            self.attached.retain(|&p| p != peer);
            self.peers.queues.remove(&peer);
            self.pattern.detach(peer);
        }
    }

    fn send(&mut self, input: &mut Input<'_>) {
        let b = input.byte();
        let more = b & 1 != 0;
        let data = if self.t == SocketType::Router && !self.send_open && b & 2 == 0 {
            match self.known_ids.len() {
                0 => Bytes::new(),
                n => self.known_ids[usize::from(input.byte()) % n].clone(),
            }
        } else {
            Bytes::from(alloc::vec![b; usize::from(b >> 6)])
        };
        let frame = Frame::new(data, more);
        // Both ways in: moved, or taken from a place (left there on `Again`).
        let result = if b & 4 == 0 {
            self.pattern.send(frame.clone(), &mut self.peers)
        } else {
            let mut place = frame.clone();
            let result = self.pattern.send_from(&mut place, &mut self.peers);
            match &result {
                Err(PatternError::Again(back)) => {
                    assert!(back.is_none(), "send_from's Again carries no frame");
                    assert_eq!(place, frame, "Again left another frame in place");
                    Err(PatternError::Again(Some(place)))
                }
                Ok(()) => {
                    assert_eq!(place, Frame::default(), "a frame sent is taken");
                    result
                }
                Err(_) => result,
            }
        };
        match result {
            Ok(()) => {
                self.send_open = more;
                self.recv_open = false;
            }
            Err(err) => {
                assert!(
                    !self.send_open,
                    "frame of a half-sent message refused: {err:?}"
                );
                assert!(allowed(self.t, &err, true), "{} send gave {err:?}", self.t);
                if let PatternError::Again(Some(back)) = err {
                    assert_eq!(back, frame, "Again handed back another frame");
                    if self.t == SocketType::Req {
                        // A relaxed REQ abandons the old request (and the rest of its
                        // reply) even when the new one then blocks, as libzmq does.
                        self.recv_open = false;
                    }
                }
            }
        }
        if self.t == SocketType::Req && !self.relaxed_ever {
            assert!(
                self.peers.requests_begun <= self.replies_received + 1,
                "strict REQ has two requests outstanding"
            );
        }
    }

    fn received(&mut self, frame: &Frame) {
        if self.t == SocketType::Router && self.recv_at_start {
            assert!(frame.more, "ROUTER routing-id frame without more");
            self.known_ids.push(frame.data.clone().into_bytes());
        }
        self.recv_open = frame.more;
        self.recv_at_start = !frame.more;
        if !frame.more && self.t == SocketType::Req {
            self.replies_received += 1;
        }
    }

    fn recv(&mut self) {
        match self.pattern.recv(&mut self.peers) {
            Ok(frame) => self.received(&frame),
            Err(err) => {
                assert!(!self.recv_open, "half-received message stopped: {err:?}");
                assert!(allowed(self.t, &err, false), "{} recv gave {err:?}", self.t);
            }
        }
    }

    fn deliver(&mut self, input: &mut Input<'_>) {
        let Some(peer) = self.pick(input.byte()) else {
            return;
        };
        let shape = input.byte();
        let frames = 1 + usize::from(shape % 4);
        let q = self.peers.get(peer);
        for i in 0..frames {
            let b = input.byte();
            // Short frames, often empty (delimiters), sometimes 4 bytes (request ids).
            let len = [0, 0, 1, 4][usize::from(b % 4)];
            let data = Bytes::from(alloc::vec![b >> 2; len]);
            q.inbound.push_back(Frame::new(data, i + 1 < frames));
        }
        if core::mem::take(&mut q.found_empty) || shape & 0x80 != 0 {
            self.pattern.read_activated(peer);
        }
    }

    fn drain(&mut self, b: u8) {
        let Some(peer) = self.pick(b) else {
            return;
        };
        let q = self.peers.get(peer);
        if q.messages == 0 {
            return;
        }
        while let Some(frame) = q.outbound.pop_front() {
            if !frame.more {
                break;
            }
        }
        q.messages -= 1;
        if core::mem::take(&mut q.found_full) || b & 0x80 != 0 {
            self.pattern.write_activated(peer);
        }
    }

    fn step(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        match op % 12 {
            0 => self.attach(input),
            1 => self.detach(input.byte()),
            2 | 3 => self.send(input),
            4 | 5 => self.recv(),
            6 | 7 => self.deliver(input),
            8 => self.drain(input.byte()),
            9 => {
                // Spurious activations, of attached and unknown peers.
                let b = input.byte();
                let peer = self.pick(b).unwrap_or(PeerId::from(b));
                if b & 1 == 0 {
                    self.pattern.read_activated(peer);
                } else {
                    self.pattern.write_activated(peer);
                }
            }
            10 => {
                if self.pattern.has_in(&mut self.peers) {
                    match self.pattern.recv(&mut self.peers) {
                        Ok(frame) => self.received(&frame),
                        Err(err) => panic!("has_in said yes, recv gave {err:?}"),
                    }
                }
                let _ = self.pattern.has_out(&mut self.peers);
            }
            _ => self.set_option(option_from(input.byte())),
        }
    }
}

/// Runs the operations encoded in `data` against one pattern; panics if an invariant
/// breaks (see the [module documentation](self)).
pub fn pattern_ops(data: &[u8]) {
    let mut input = Input(data);
    let t = TYPES[usize::from(input.byte()) % TYPES.len()];
    let seed = u64::from(input.byte()) * 0x0101_0101;
    let pattern = match new_pattern(t, seed) {
        Ok(p) => p,
        Err(e) => panic!("new_pattern({t}) failed: {e}"),
    };
    assert_eq!(pattern.socket_type(), t);
    let mut driver = Driver {
        t,
        pattern,
        peers: CheckedPeers::default(),
        attached: Vec::new(),
        next_peer: 1,
        known_ids: Vec::new(),
        send_open: false,
        recv_open: false,
        recv_at_start: true,
        replies_received: 0,
        relaxed_ever: false,
    };
    let flags = input.byte();
    for (bit, option) in [
        PatternOption::RouterMandatory(true),
        PatternOption::RouterHandover(true),
        PatternOption::ProbeRouter(true),
        PatternOption::ReqCorrelate(true),
        PatternOption::ReqRelaxed(true),
    ]
    .into_iter()
    .enumerate()
    {
        if flags & (1 << bit) != 0 {
            driver.set_option(option);
        }
    }
    let mut steps = 0;
    while !input.done() && steps < 4096 {
        driver.step(&mut input);
        steps += 1;
    }
}
