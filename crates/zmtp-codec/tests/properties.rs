//! Property tests: what the encoder writes the decoder reads back, however the bytes are
//! split; the write batch hands out exactly its bytes however it is drained; metadata and
//! Z85 round-trip; and the greeting reader reports the same stages whatever the splits.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use zmtp_codec::decode::{Decoder, Item};
use zmtp_codec::encode::WriteBatch;
use zmtp_codec::greeting::{GreetingReader, Progress, Rest, Version};
use zmtp_codec::metadata::Metadata;
use zmtp_codec::{z85, Command, Mechanism};

/// Moderate case counts keep the file to a few seconds in debug builds. No regression
/// files are written: a failure prints its minimal input.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const VERSIONS: [Version; 4] = [Version::V3_1, Version::V3_0, Version::V2_0, Version::V1_0];

/// The non-alphanumeric characters of the Z85 alphabet (RFC 32).
const Z85_PUNCTUATION: &[u8] = b".-:+=^!/*?&<>()[]{}@%$#";

/// Command names the codec parses into their own variants.
const KNOWN_NAMES: [&[u8]; 12] = [
    b"READY",
    b"ERROR",
    b"SUBSCRIBE",
    b"CANCEL",
    b"PING",
    b"PONG",
    b"JOIN",
    b"LEAVE",
    b"HELLO",
    b"WELCOME",
    b"INITIATE",
    b"MESSAGE",
];

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// What a connection may push, in order.
#[derive(Clone, Debug)]
enum Op {
    /// A message of 1 to 8 frames.
    Message(Vec<Bytes>),
    /// A command (ZMTP 3.x only).
    Command(Command),
    /// A subscription or its cancellation, in the form of the version.
    Subscription { subscribe: bool, topic: Bytes },
}

fn bytes_up_to(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

fn unknown_name() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        // Upper-case names, which can come close to real ones.
        vec(b'A'..=b'Z', 1..=20),
        vec(any::<u8>(), 1..=20),
    ]
    .prop_filter("a known command name", |name| {
        !KNOWN_NAMES.contains(&&name[..])
    })
    .prop_map(Bytes::from)
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        bytes_up_to(300).prop_map(Command::Subscribe),
        bytes_up_to(300).prop_map(Command::Cancel),
        (any::<u16>(), bytes_up_to(16)).prop_map(|(ttl, context)| Command::Ping { ttl, context }),
        bytes_up_to(16).prop_map(|context| Command::Pong { context }),
        bytes_up_to(255).prop_map(Command::Join),
        bytes_up_to(255).prop_map(Command::Leave),
        bytes_up_to(300).prop_map(Command::Ready),
        bytes_up_to(255).prop_map(|reason| Command::Error { reason }),
        (unknown_name(), bytes_up_to(40)).prop_map(|(name, body)| Command::Unknown { name, body }),
        bytes_up_to(300).prop_map(Command::Hello),
        bytes_up_to(300).prop_map(Command::Welcome),
        bytes_up_to(300).prop_map(Command::Initiate),
        bytes_up_to(300).prop_map(Command::Message),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => vec(bytes_up_to(600), 1..=8).prop_map(Op::Message),
        2 => command().prop_map(Op::Command),
        1 => (any::<bool>(), bytes_up_to(40))
            .prop_map(|(subscribe, topic)| Op::Subscription { subscribe, topic }),
    ]
}

/// The large-frame threshold of a batch: small (most bodies become separate chunks),
/// medium, or the default.
fn large_frame() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![
        Just(None),
        (1usize..=8).prop_map(Some),
        (1usize..=700).prop_map(Some),
    ]
}

/// Chunk sizes for splitting a stream: many single bytes, some small and some large.
fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    vec(
        prop_oneof![Just(1usize), 1usize..=16, 1usize..=1000],
        1..=32,
    )
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The ops a version can carry: ZMTP 1.0 and 2.0 have no commands.
fn ops_for(version: Version, ops: &[Op]) -> Vec<Op> {
    ops.iter()
        .filter(|op| version.has_commands() || !matches!(op, Op::Command(_)))
        .cloned()
        .collect()
}

fn push(batch: &mut WriteBatch, op: &Op) {
    match op {
        Op::Message(frames) => {
            for (i, frame) in frames.iter().enumerate() {
                batch.push_data(i + 1 < frames.len(), frame.clone());
            }
        }
        Op::Command(command) => batch.push_command(command).expect("a valid command"),
        Op::Subscription { subscribe, topic } => batch.push_subscription(*subscribe, topic),
    }
}

fn encode(version: Version, large: Option<usize>, ops: &[Op]) -> (Vec<u8>, usize) {
    let mut batch = WriteBatch::new(version);
    if let Some(large) = large {
        batch.set_large_frame(large);
    }
    for op in ops {
        push(&mut batch, op);
    }
    let bytes: Vec<u8> = batch.chunks().flatten().copied().collect();
    assert_eq!(bytes.len(), batch.len());
    (bytes, batch.chunks().count())
}

/// The items a peer of `version` decodes for `ops`.
fn expected_items(version: Version, ops: &[Op]) -> Vec<Item> {
    let mut items = Vec::new();
    for op in ops {
        match op {
            Op::Message(frames) => {
                for (i, body) in frames.iter().enumerate() {
                    items.push(Item::Data {
                        body: body.clone().into(),
                        more: i + 1 < frames.len(),
                    });
                }
            }
            Op::Command(command) => items.push(Item::Command(command.clone())),
            Op::Subscription { subscribe, topic } => {
                items.push(if version.subscription_commands() {
                    Item::Command(if *subscribe {
                        Command::Subscribe(topic.clone())
                    } else {
                        Command::Cancel(topic.clone())
                    })
                } else {
                    let mut body = vec![u8::from(*subscribe)];
                    body.extend_from_slice(topic);
                    Item::Data {
                        body: Bytes::from(body).into(),
                        more: false,
                    }
                });
            }
        }
    }
    items
}

/// Decodes `input` fed in chunks of the given sizes (cycled), draining after each.
fn decode_chunked(version: Version, input: &[u8], sizes: &[usize]) -> Vec<Item> {
    let mut decoder = Decoder::new(version.frame_format());
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut rest = input;
    let mut sizes = sizes.iter().cycle();
    loop {
        while let Some(item) = decoder.decode(&mut buf).expect("valid input") {
            items.push(item);
        }
        if rest.is_empty() {
            break;
        }
        let n = (*sizes.next().unwrap()).min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
    }
    assert!(buf.is_empty(), "{} bytes left undecoded", buf.len());
    assert_eq!(decoder.pending_body(), None);
    items
}

/// Writes up to `n` bytes from the front of the batch, as a vectored write would, and
/// reports them written.
fn write_some(batch: &mut WriteBatch, n: usize, out: &mut Vec<u8>) {
    let before = batch.len();
    let mut left = n;
    for chunk in batch.chunks() {
        if left == 0 {
            break;
        }
        let take = left.min(chunk.len());
        out.extend_from_slice(&chunk[..take]);
        left -= take;
    }
    batch.advance(n);
    assert_eq!(batch.len(), before - n.min(before));
    assert_eq!(
        batch.chunks().map(<[u8]>::len).sum::<usize>(),
        batch.len(),
        "len() agrees with the chunks"
    );
    assert!(batch.chunks().all(|c| !c.is_empty()), "no empty chunk");
}

/// Polls until the reader needs more input or is finished, collecting what it reports.
fn poll_events(reader: &mut GreetingReader, input: &mut BytesMut, events: &mut Vec<Progress>) {
    loop {
        match reader.poll(input).expect("polled after the end") {
            Progress::NeedMore => return,
            p @ (Progress::Done(_) | Progress::Unversioned) => {
                events.push(p);
                return;
            }
            p => events.push(p),
        }
    }
}

fn finished(events: &[Progress]) -> bool {
    matches!(
        events.last(),
        Some(Progress::Done(_) | Progress::Unversioned)
    )
}

// ---------------------------------------------------------------------------------------
// (a), (b): encode then decode, whole and split
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(96))]

    /// (a) Everything pushed through a WriteBatch decodes back to the same items in order,
    /// in every version (commands for ZMTP 3.x only), whatever the large-frame threshold.
    #[test]
    fn batch_round_trips_through_the_decoder(
        ops in vec(op(), 0..=10),
        large in large_frame(),
    ) {
        for version in VERSIONS {
            let ops = ops_for(version, &ops);
            let (bytes, _) = encode(version, large, &ops);
            let items = decode_chunked(version, &bytes, &[usize::MAX]);
            prop_assert_eq!(&items, &expected_items(version, &ops), "{}", version);
        }
    }

    /// (b) Splitting the bytes at arbitrary points, one byte at a time included, decodes
    /// to the same items as decoding them whole.
    #[test]
    fn split_input_decodes_like_whole_input(
        ops in vec(op(), 1..=8),
        large in large_frame(),
        sizes in chunk_sizes(),
    ) {
        for version in VERSIONS {
            let ops = ops_for(version, &ops);
            let (bytes, _) = encode(version, large, &ops);
            let whole = decode_chunked(version, &bytes, &[usize::MAX]);
            let split = decode_chunked(version, &bytes, &sizes);
            prop_assert_eq!(&split, &whole, "{}", version);
            let bytewise = decode_chunked(version, &bytes, &[1]);
            prop_assert_eq!(&bytewise, &whole, "{} byte by byte", version);
        }
    }
}

// ---------------------------------------------------------------------------------------
// (c): WriteBatch::advance
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(128))]

    /// (c) Draining a batch with writes of arbitrary sizes (zero and more than is waiting
    /// included), interleaved with further pushes, writes exactly the bytes of all the
    /// pushes in order.
    #[test]
    fn advance_yields_exactly_the_batch_bytes(
        ops in vec((op(), vec(0usize..=700, 0..=3)), 0..=8),
        large in large_frame(),
        drain in vec(1usize..=700, 1..=8),
        raw in bytes_up_to(70),
    ) {
        let version = Version::V3_1;
        let mut batch = WriteBatch::new(version);
        if let Some(large) = large {
            batch.set_large_frame(large);
        }
        let mut reference = WriteBatch::new(version);
        if let Some(large) = large {
            reference.set_large_frame(large);
        }
        let mut written = Vec::new();
        batch.push_raw(&raw);
        reference.push_raw(&raw);
        for (op, writes) in &ops {
            push(&mut batch, op);
            push(&mut reference, op);
            for &n in writes {
                write_some(&mut batch, n, &mut written);
            }
        }
        let mut steps = drain.iter().cycle();
        while !batch.is_empty() {
            write_some(&mut batch, *steps.next().unwrap(), &mut written);
        }
        prop_assert_eq!(batch.len(), 0);
        prop_assert_eq!(batch.chunks().count(), 0);
        let expected: Vec<u8> = reference.chunks().flatten().copied().collect();
        prop_assert_eq!(written, expected);

        // A drained batch is reusable.
        batch.push_data(false, Bytes::from_static(b"again"));
        let again: Vec<u8> = batch.chunks().flatten().copied().collect();
        prop_assert_eq!(again, b"\x00\x05again".to_vec());
    }
}

// ---------------------------------------------------------------------------------------
// (d) metadata, (e) Z85
// ---------------------------------------------------------------------------------------

/// A property name of the RFC 23 character set, short or up to the 255-byte maximum.
fn property_name() -> impl Strategy<Value = String> {
    let name_char = prop_oneof![
        b'A'..=b'Z',
        b'a'..=b'z',
        b'0'..=b'9',
        prop::sample::select(&b"-_.+"[..]),
    ];
    prop_oneof![
        4 => vec(name_char.clone(), 1..=16),
        1 => vec(name_char, 1..=255),
    ]
    .prop_map(|chars| String::from_utf8(chars).expect("ASCII"))
}

proptest! {
    #![proptest_config(config(128))]

    /// (d) Inserted properties encode to `encoded_len` bytes and parse back to the same
    /// list, in order; lookups ignore ASCII case and find the first value; every cut of
    /// the encoding that is not on a property boundary is refused.
    #[test]
    fn metadata_round_trips(
        props in vec((property_name(), bytes_up_to(300)), 0..=8),
    ) {
        let mut md = Metadata::new();
        for (name, value) in &props {
            prop_assert!(md.insert(name, value.clone()).is_ok());
        }
        prop_assert_eq!(md.len(), props.len());
        prop_assert_eq!(md.is_empty(), props.is_empty());
        let mut encoded = Vec::new();
        md.encode(&mut encoded);
        prop_assert_eq!(encoded.len(), md.encoded_len());

        let encoded = Bytes::from(encoded);
        let parsed = Metadata::parse(&encoded).expect("parses");
        prop_assert_eq!(&parsed, &md);
        let pairs: Vec<(Vec<u8>, Bytes)> =
            parsed.iter().map(|(n, v)| (n.to_vec(), v.clone())).collect();
        let expected: Vec<(Vec<u8>, Bytes)> =
            props.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.clone())).collect();
        prop_assert_eq!(pairs, expected);

        for (name, _) in &props {
            let first = props
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v);
            prop_assert_eq!(parsed.get(&name.to_ascii_lowercase()), first);
            prop_assert_eq!(parsed.get(&name.to_ascii_uppercase()), first);
        }

        let mut boundaries = vec![0];
        for (name, value) in &props {
            boundaries.push(boundaries.last().unwrap() + 1 + name.len() + 4 + value.len());
        }
        for cut in 0..encoded.len() {
            let result = Metadata::parse(&encoded.slice(..cut));
            match boundaries.iter().position(|&b| b == cut) {
                Some(n) => prop_assert_eq!(result.map(|m| m.len()), Ok(n)),
                None => prop_assert!(result.is_err(), "cut at {} parsed", cut),
            }
        }
    }

    /// (e) Any multiple of 4 bytes encodes to 5/4 as many Z85 characters and back.
    #[test]
    fn z85_round_trips(groups in vec(any::<[u8; 4]>(), 0..=32)) {
        let data: Vec<u8> = groups.concat();
        let text = z85::encode(&data).expect("a multiple of 4");
        prop_assert_eq!(text.len(), data.len() / 4 * 5);
        prop_assert_eq!(z85::encoded_len(data.len()), Ok(text.len()));
        let in_alphabet = text.bytes().all(|c| c.is_ascii_alphanumeric() || Z85_PUNCTUATION.contains(&c));
        prop_assert!(in_alphabet, "{:?} is outside the Z85 alphabet", text);
        prop_assert_eq!(z85::decode(text.as_bytes()).expect("valid text"), data);
    }

    /// (e) Any other length is refused.
    #[test]
    fn z85_refuses_partial_groups(data in vec(any::<u8>(), 0..=64)) {
        prop_assume!(data.len() % 4 != 0);
        prop_assert!(z85::encode(&data).is_err());
    }
}

// ---------------------------------------------------------------------------------------
// (f) the greeting reader
// ---------------------------------------------------------------------------------------

/// A versioned greeting: `ff`, random padding, `7f`, any major, random rest, and some
/// trailing bytes that belong to the frames after it.
fn versioned_greeting() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 8]>(),
        any::<u8>(),
        any::<u8>(),
        any::<[u8; 20]>(),
        any::<u8>(),
        vec(any::<u8>(), 31),
        vec(any::<u8>(), 0..=20),
    )
        .prop_map(
            |(padding, major, minor, mechanism, as_server, filler, trailing)| {
                let mut g = vec![0xff];
                g.extend_from_slice(&padding);
                g.push(0x7f);
                g.push(major);
                g.push(minor);
                g.extend_from_slice(&mechanism);
                g.push(as_server);
                g.extend_from_slice(&filler);
                assert_eq!(g.len(), 64);
                g.extend_from_slice(&trailing);
                g
            },
        )
}

/// Reads a greeting from `input` fed in chunks of `sizes` (cycled); returns the events
/// and how many bytes were consumed.
fn read_greeting(input: &[u8], sizes: &[usize]) -> (Vec<Progress>, usize) {
    let mut reader = GreetingReader::new();
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    let mut fed = 0;
    let mut sizes = sizes.iter().cycle();
    poll_events(&mut reader, &mut buf, &mut events);
    while !finished(&events) && fed < input.len() {
        let n = (*sizes.next().unwrap()).min(input.len() - fed);
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
        poll_events(&mut reader, &mut buf, &mut events);
    }
    (events, fed - buf.len())
}

proptest! {
    #![proptest_config(config(256))]

    /// (f) Fed in arbitrary pieces, the reader reports the same stages as fed whole, and
    /// consumes exactly the 12 (ZMTP 1.0/2.0) or 64 bytes of the greeting.
    #[test]
    fn greeting_stages_do_not_depend_on_splits(
        input in versioned_greeting(),
        sizes in vec(prop_oneof![Just(1usize), 1usize..=70], 1..=16),
    ) {
        let (whole, consumed_whole) = read_greeting(&input, &[usize::MAX]);
        let (split, consumed_split) = read_greeting(&input, &sizes);
        prop_assert_eq!(&split, &whole);
        prop_assert_eq!(consumed_split, consumed_whole);

        let major = input[10];
        let (size, rest) = if major <= 1 {
            (12, Rest::SocketType)
        } else {
            (64, Rest::V3)
        };
        prop_assert_eq!(consumed_whole, size);
        prop_assert_eq!(whole.len(), 3);
        prop_assert_eq!(whole[0], Progress::SendVersion);
        prop_assert_eq!(whole[1], Progress::SendRest(rest));
        let Progress::Done(g) = whole[2] else {
            return Err(TestCaseError::fail(format!("not done: {whole:?}")));
        };
        prop_assert_eq!(g.major, major);
        if major <= 1 {
            let version = if major == 0 { Version::V1_0 } else { Version::V2_0 };
            prop_assert_eq!(g.version, version);
            prop_assert_eq!(g.socket_type, Some(input[11]));
            prop_assert_eq!(g.minor, 0);
            prop_assert_eq!(g.mechanism, Mechanism::NULL);
        } else {
            let version = if major == 3 && input[11] == 0 {
                Version::V3_0
            } else {
                Version::V3_1
            };
            prop_assert_eq!(g.version, version);
            prop_assert_eq!(g.minor, input[11]);
            prop_assert_eq!(g.socket_type, None);
            prop_assert_eq!(g.mechanism.as_wire(), &input[12..32]);
            prop_assert_eq!(g.as_server, input[32] & 1 == 1);
        }
    }

    /// (f) A first byte other than 0xff, or a byte 9 with bit 0 clear, is an unversioned
    /// ZMTP 1.0 peer, whatever the splits, and nothing is consumed.
    #[test]
    fn unversioned_peers_are_detected(
        mut input in vec(any::<u8>(), 10..=40),
        long_identity in any::<bool>(),
        sizes in vec(prop_oneof![Just(1usize), 1usize..=12], 1..=8),
    ) {
        if long_identity {
            input[0] = 0xff;
            input[9] &= !1;
        } else if input[0] == 0xff {
            input[0] = 0x01;
        }
        for sizes in [&[usize::MAX][..], &sizes] {
            let (events, consumed) = read_greeting(&input, sizes);
            prop_assert_eq!(&events, &[Progress::Unversioned]);
            prop_assert_eq!(consumed, 0);
        }
    }
}
