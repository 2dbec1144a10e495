//! Two handshakes talking to each other in memory, in chunks down to one byte.

mod common;

use bytes::{Bytes, BytesMut};
use common::{config, decode_all, feed, zmtp_types, Pair};
use proptest::prelude::*;
use zmq_security::{protocol_error, FailureClass, HandshakeConfig, HandshakeError};
use zmtp_codec::frame::FrameFormat;
use zmtp_codec::metadata::{IDENTITY, SOCKET_TYPE};
use zmtp_codec::{Command, Decoder, Item, Metadata, SocketType, Version, WriteBatch};

const CHUNKS: [usize; 9] = [1, 2, 3, 10, 11, 12, 64, 65, 4096];

fn routing_id(t: SocketType) -> Bytes {
    Bytes::from(format!("id-{t}"))
}

fn named(t: SocketType) -> HandshakeConfig {
    let mut c = HandshakeConfig::new(t);
    c.routing_id = routing_id(t);
    c
}

#[test]
fn every_socket_type_pair() {
    let mut completed = 0;
    let mut refused = 0;
    for a in zmtp_types() {
        for b in zmtp_types() {
            for chunk in CHUNKS {
                let mut pair = Pair::new(named(a), named(b), chunk);
                pair.drive();
                if a.accepts(b) {
                    for (side, ours, theirs) in [(&pair.a, a, b), (&pair.b, b, a)] {
                        let est = side.established();
                        assert_eq!(est.version, Version::V3_1);
                        assert_eq!(est.peer_socket_type, Some(theirs), "{ours} <- {theirs}");
                        let expected_id = if theirs.sends_identity() {
                            routing_id(theirs)
                        } else {
                            Bytes::new()
                        };
                        assert_eq!(est.peer_routing_id, expected_id, "{ours} <- {theirs}");
                        assert_eq!(est.peer_metadata.get(SOCKET_TYPE).unwrap(), theirs.name());
                        assert_eq!(
                            est.peer_metadata.get(IDENTITY).is_some(),
                            theirs.sends_identity()
                        );
                        assert!(side.inbox.is_empty());
                        assert_eq!(side.out.encoder().version(), Version::V3_1);
                    }
                    completed += 1;
                } else {
                    for (side, ours, theirs) in [(&mut pair.a, a, b), (&mut pair.b, b, a)] {
                        assert_eq!(
                            side.error(),
                            &HandshakeError::IncompatibleSocketType {
                                ours,
                                theirs: Bytes::from_static(theirs.name().as_bytes()),
                            }
                        );
                        assert_eq!(side.error().monitor_class(), FailureClass::Protocol);
                        assert_eq!(
                            side.error().zmtp_error_code(),
                            Some(protocol_error::ZMTP_INVALID_METADATA)
                        );
                        // Each side refused the other's READY, and the other's ERROR arrived
                        // after it.
                        let mut decoder = Decoder::new(FrameFormat::V3);
                        assert_eq!(
                            decode_all(&mut decoder, &mut side.inbox),
                            [Item::Command(Command::Error {
                                reason: Bytes::from_static(b"incompatible Socket-Type")
                            })]
                        );
                        assert!(side.inbox.is_empty());
                    }
                    refused += 1;
                }
            }
        }
    }
    // 20 types with ZMTP: 30 ordered compatible pairs (12 edges both ways, 6 self-pairs:
    // PAIR, DEALER, ROUTER, DGRAM, PEER, CHANNEL).
    assert_eq!(completed, 30 * CHUNKS.len());
    assert_eq!(refused, (20 * 20 - 30) * CHUNKS.len());
}

#[test]
fn identity_and_metadata_are_delivered() {
    let mut dealer = config(SocketType::Dealer, b"client-1");
    dealer.metadata.insert("X-Hello", "world").unwrap();
    dealer.metadata.insert("X-Empty", "").unwrap();
    let mut router = config(SocketType::Router, b"");
    router.metadata.insert("X-Role", "broker").unwrap();
    for chunk in CHUNKS {
        let mut pair = Pair::new(dealer.clone(), router.clone(), chunk);
        pair.drive();
        let at_router = pair.b.established();
        assert_eq!(at_router.peer_routing_id, "client-1");
        let props: Vec<(&[u8], &[u8])> = at_router
            .peer_metadata
            .iter()
            .map(|(n, v)| (&n[..], &v[..]))
            .collect();
        assert_eq!(
            props,
            [
                (&b"Socket-Type"[..], &b"DEALER"[..]),
                (b"Identity", b"client-1"),
                (b"X-Hello", b"world"),
                (b"X-Empty", b""),
            ]
        );
        let at_dealer = pair.a.established();
        assert_eq!(at_dealer.peer_routing_id, "");
        assert_eq!(at_dealer.peer_metadata.get("x-role").unwrap(), "broker");
        assert_eq!(at_dealer.peer_metadata.len(), 3);
    }
}

/// Pushes the frames a peer might send right after its READY, in the batch's version.
fn push_traffic(batch: &mut WriteBatch) {
    batch.push_data(true, Bytes::from_static(b""));
    batch.push_data(false, Bytes::from_static(b"hello"));
    batch.push_data(false, Bytes::from(vec![7u8; 300]));
    if batch.encoder().version().has_commands() {
        batch.push_subscription(true, b"topic");
        batch
            .push_command(&Command::Ping {
                ttl: 10,
                context: Bytes::from_static(b"ctx"),
            })
            .unwrap();
    }
}

/// The bytes of [`push_traffic`] for `version`.
fn traffic(version: Version) -> Vec<u8> {
    let mut batch = WriteBatch::new(version);
    push_traffic(&mut batch);
    common::flatten(&batch)
}

fn expected_traffic(version: Version) -> Vec<Item> {
    let mut items = vec![
        Item::Data {
            body: Bytes::new().into(),
            more: true,
        },
        Item::Data {
            body: Bytes::from_static(b"hello").into(),
            more: false,
        },
        Item::Data {
            body: Bytes::from(vec![7u8; 300]).into(),
            more: false,
        },
    ];
    if version.has_commands() {
        items.push(Item::Command(Command::Subscribe(Bytes::from_static(
            b"topic",
        ))));
        items.push(Item::Command(Command::Ping {
            ttl: 10,
            context: Bytes::from_static(b"ctx"),
        }));
    }
    items
}

#[test]
fn traffic_after_the_handshake() {
    for chunk in CHUNKS {
        let mut pair = Pair::new(
            config(SocketType::Dealer, b"d"),
            config(SocketType::Router, b"r"),
            chunk,
        );
        pair.drive();
        // Each side's batch was switched to the peer's version; what it pushes now is
        // traffic, carried in the same chunks.
        push_traffic(&mut pair.a.out);
        push_traffic(&mut pair.b.out);
        pair.drive();
        assert_eq!(pair.a.traffic(), expected_traffic(Version::V3_1));
        assert_eq!(pair.b.traffic(), expected_traffic(Version::V3_1));
    }
}

#[test]
fn traffic_in_the_same_read_as_ready() {
    // Everything a DEALER put on the wire during a handshake, then its first messages: a
    // ROUTER fed all of it in any chunking stops right after the READY.
    let mut pair = Pair::new(
        config(SocketType::Dealer, b"d"),
        config(SocketType::Router, b""),
        4096,
    );
    pair.drive();
    let mut stream = pair.a.wire.clone();
    let handshake_len = stream.len();
    stream.extend_from_slice(&traffic(Version::V3_1));
    for chunk in 1..=stream.len() {
        let (result, mut rest, _) = feed(config(SocketType::Router, b""), &stream, chunk);
        let est = result.unwrap().unwrap();
        assert_eq!(est.peer_routing_id, "d");
        // The handshake ends as soon as READY is in: the rest of the last chunk is traffic.
        let consumed = stream.len() - rest.len();
        assert!(consumed >= handshake_len && consumed < handshake_len + chunk);
        assert_eq!(&rest[..], &stream[handshake_len..]);
        let mut decoder = est.decoder;
        assert_eq!(
            decode_all(&mut decoder, &mut rest),
            expected_traffic(Version::V3_1)
        );
        assert!(rest.is_empty());
    }
}

#[test]
fn both_sides_send_before_they_receive() {
    // Neither side waits for the other's whole greeting: after the first exchange of
    // signatures each has sent its version byte, after the second the rest.
    let mut pair = Pair::new(
        config(SocketType::Pair, b""),
        config(SocketType::Pair, b""),
        4096,
    );
    assert_eq!(pair.a.out.len(), 10);
    pair.step();
    assert_eq!((pair.a.wire.len(), pair.a.out.len()), (10, 1));
    pair.step();
    assert_eq!((pair.a.wire.len(), pair.a.out.len()), (11, 53));
    pair.step();
    // The greeting is done; READY follows at once, before the peer's READY is in.
    assert_eq!(pair.a.wire.len(), 64);
    assert!(!pair.a.out.is_empty());
    assert!(pair.a.result.is_none());
    pair.step();
    assert!(pair.a.result.is_some() && pair.b.result.is_some());
    assert!(!pair.step());
}

#[test]
fn after_success_the_handshake_is_finished() {
    let mut pair = Pair::new(
        config(SocketType::Push, b""),
        config(SocketType::Pull, b""),
        7,
    );
    pair.drive();
    let mut input = BytesMut::from(&b"\x00\x01x"[..]);
    assert_eq!(
        pair.a
            .hs
            .handle_input(&mut input, &mut pair.a.out)
            .unwrap_err(),
        HandshakeError::Finished
    );
    assert_eq!(input.len(), 3, "nothing is consumed");
}

#[test]
fn empty_and_longest_routing_ids() {
    let longest: &'static [u8] = Box::leak(vec![b'z'; 255].into_boxed_slice());
    for (id, chunk) in [(&b""[..], 1), (longest, 1), (longest, 4096)] {
        let mut pair = Pair::new(
            config(SocketType::Req, id),
            config(SocketType::Router, b""),
            chunk,
        );
        pair.drive();
        assert_eq!(pair.b.established().peer_routing_id, id);
    }
}

proptest! {
    #[test]
    fn any_chunking_completes(
        a in 0usize..20,
        b in 0usize..20,
        chunk in 1usize..200,
        id in proptest::collection::vec(any::<u8>(), 0..=255),
    ) {
        let types: Vec<SocketType> = zmtp_types().collect();
        let (a, b) = (types[a], types[b]);
        let mut ca = HandshakeConfig::new(a);
        ca.routing_id = Bytes::from(id.clone());
        let mut pair = Pair::new(ca, HandshakeConfig::new(b), chunk);
        pair.drive();
        prop_assert_eq!(pair.a.result.as_ref().unwrap().is_ok(), a.accepts(b));
        prop_assert_eq!(pair.b.result.as_ref().unwrap().is_ok(), a.accepts(b));
        if a.accepts(b) && a.sends_identity() {
            prop_assert_eq!(&pair.b.established().peer_routing_id[..], &id[..]);
        }
    }
}

#[test]
fn metadata_lookups_ignore_case() {
    let mut c = config(SocketType::Pair, b"");
    c.metadata.insert("X-Case", "v").unwrap();
    let mut pair = Pair::new(c, config(SocketType::Pair, b""), 5);
    pair.drive();
    let md: &Metadata = &pair.b.established().peer_metadata;
    assert_eq!(md.get("x-case").unwrap(), "v");
    assert_eq!(md.get("SOCKET-TYPE").unwrap(), "PAIR");
}
