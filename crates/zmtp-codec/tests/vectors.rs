//! Exact byte vectors from the ZeroMQ RFCs and from libzmq's behaviour, checked against the
//! codec in both directions (decode the bytes, and encode the same thing to the same bytes).
//!
//! Vectors are written with [`h`], a small notation close to the RFCs': whitespace-separated
//! hex bytes, `"ASCII"` runs, and `xx*N` for a byte repeated `N` times.

use bytes::{Bytes, BytesMut};
use zmtp_codec::command::CommandError;
use zmtp_codec::decode::{DecodeError, Decoder, Item};
use zmtp_codec::encode::{EncodeError, Encoder, WriteBatch};
use zmtp_codec::frame::FrameFormat;
use zmtp_codec::greeting::{
    Greeting, GreetingError, GreetingReader, PeerGreeting, Progress, Rest, Version,
};
use zmtp_codec::limits::{DEFAULT_HANDSHAKE_COMMAND_SIZE, MAX_REPRESENTABLE_FRAME};
use zmtp_codec::metadata::{self, Metadata};
use zmtp_codec::{z85, Command, Mechanism, SocketType};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Parses the vector notation: `ff 00*8 7f "NULL"`.
fn h(spec: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for token in spec.split_whitespace() {
        if let Some(text) = token.strip_prefix('"') {
            let text = text.strip_suffix('"').expect("unterminated ASCII run");
            out.extend_from_slice(text.as_bytes());
        } else if let Some((byte, count)) = token.split_once('*') {
            let byte = u8::from_str_radix(byte, 16).expect("hex byte");
            out.extend(std::iter::repeat_n(byte, count.parse().expect("count")));
        } else {
            assert_eq!(token.len(), 2, "not a hex byte: {token}");
            out.push(u8::from_str_radix(token, 16).expect("hex byte"));
        }
    }
    out
}

/// Decodes all of `input`, which must hold only whole frames.
fn decode_all(format: FrameFormat, input: &[u8]) -> Result<Vec<Item>, DecodeError> {
    let mut decoder = Decoder::new(format);
    let mut buf = BytesMut::from(input);
    let mut items = Vec::new();
    while let Some(item) = decoder.decode(&mut buf)? {
        items.push(item);
    }
    assert!(buf.is_empty(), "{} bytes left undecoded", buf.len());
    assert_eq!(decoder.pending_body(), None, "a frame was left half read");
    Ok(items)
}

/// Decodes `input` fed in pieces split at `splits` (increasing offsets).
fn decode_split(format: FrameFormat, input: &[u8], splits: &[usize]) -> Vec<Item> {
    let mut decoder = Decoder::new(format);
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut from = 0;
    for &to in splits.iter().chain(std::iter::once(&input.len())) {
        buf.extend_from_slice(&input[from..to]);
        from = to;
        while let Some(item) = decoder.decode(&mut buf).expect("valid input") {
            items.push(item);
        }
    }
    assert!(buf.is_empty());
    items
}

fn data(body: &[u8], more: bool) -> Item {
    Item::Data {
        body: Bytes::copy_from_slice(body).into(),
        more,
    }
}

fn command_frame(version: Version, command: &Command) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(version)
        .command(command, &mut out)
        .expect("encodable");
    out
}

fn data_frame(version: Version, more: bool, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(version).data(more, body, &mut out);
    out
}

fn subscription(version: Version, subscribe: bool, topic: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(version).subscription(subscribe, topic, &mut out);
    out
}

/// Polls the reader until it needs more input or is finished; returns what it reported.
fn poll_all(reader: &mut GreetingReader, input: &mut BytesMut) -> Vec<Progress> {
    let mut events = Vec::new();
    loop {
        match reader.poll(input) {
            Ok(Progress::NeedMore) => return events,
            Ok(p @ (Progress::Done(_) | Progress::Unversioned)) => {
                events.push(p);
                return events;
            }
            Ok(p) => events.push(p),
            Err(e) => panic!("poll after the end: {e}"),
        }
    }
}

fn done(events: &[Progress]) -> PeerGreeting {
    match events.last() {
        Some(Progress::Done(g)) => *g,
        other => panic!("greeting not done: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Greetings
// ---------------------------------------------------------------------------------------

/// libzmq 4.3.3+ with NULL and no routing id (`zmtp_engine.cpp`, `plug_internal` and
/// `receive_greeting_versioned`; reference notes 1.11 and "Byte-level points" 1): padding
/// `00 00 00 00 00 00 00 01` (routing-id length + 1), `7f`, major 3, minor 1, "NULL"
/// NUL-padded to 20 bytes, then 32 zero bytes (as-server and filler).
fn libzmq_null_greeting() -> Vec<u8> {
    let g = h(r#"ff 00 00 00 00 00 00 00 01 7f 03 01 "NULL" 00*16 00*32"#);
    assert_eq!(g.len(), 64);
    g
}

#[test]
fn libzmq_greeting_read_in_stages() {
    // Source: libzmq zmtp_engine.cpp sends the 10-byte signature, waits for the peer's
    // signature, sends byte 10, waits for the peer's byte 10, then sends the rest (notes
    // 1.11). The reader must report each stage as soon as its bytes are in.
    let peer = libzmq_null_greeting();
    let mut reader = GreetingReader::new();
    let mut buf = BytesMut::new();

    buf.extend_from_slice(&peer[..1]);
    assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
    buf.extend_from_slice(&peer[1..9]);
    assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
    buf.extend_from_slice(&peer[9..10]);
    assert_eq!(reader.poll(&mut buf), Ok(Progress::SendVersion));
    assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
    buf.extend_from_slice(&peer[10..11]);
    assert_eq!(reader.poll(&mut buf), Ok(Progress::SendRest(Rest::V3)));
    assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
    buf.extend_from_slice(&peer[11..12]);
    assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
    buf.extend_from_slice(&peer[12..63]);
    assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
    assert_eq!(
        buf.len(),
        63,
        "nothing is consumed before the greeting is whole"
    );
    buf.extend_from_slice(&peer[63..]);
    let Ok(Progress::Done(g)) = reader.poll(&mut buf) else {
        panic!("greeting not done");
    };
    assert_eq!(g.version, Version::V3_1);
    assert_eq!((g.major, g.minor), (3, 1));
    assert_eq!(g.mechanism, Mechanism::NULL);
    assert!(!g.as_server);
    assert_eq!(g.socket_type, None);
    assert!(buf.is_empty());
    assert_eq!(reader.poll(&mut buf), Err(GreetingError::AlreadyDone));
}

#[test]
fn libzmq_greeting_read_whole() {
    // Source: as above; a peer may send all 64 bytes at once (notes 1.11, "Consequences
    // for interop"), here followed by the start of its READY, which must stay buffered.
    let mut peer = libzmq_null_greeting();
    peer.extend_from_slice(&h(r#"04 29 05 "READY""#));
    let mut reader = GreetingReader::new();
    let mut buf = BytesMut::from(&peer[..]);
    let events = poll_all(&mut reader, &mut buf);
    assert_eq!(events.len(), 3);
    assert_eq!(events[0], Progress::SendVersion);
    assert_eq!(events[1], Progress::SendRest(Rest::V3));
    let g = done(&events);
    assert_eq!(g.version, Version::V3_1);
    assert_eq!(g.mechanism, Mechanism::NULL);
    assert_eq!(&buf[..], &h(r#"04 29 05 "READY""#)[..]);
}

#[test]
fn libzmq_4_2_greeting_is_zmtp_3_0() {
    // Source: libzmq 4.0-4.3.2 announce minor 0 (notes "Byte-level points" 4); with a
    // routing id "abc" the padding is 00 00 00 00 00 00 00 04 (notes 1.11 step 1). The
    // padding is never validated (RFC 37: "SHALL NOT ... validate this").
    let peer = h(r#"ff 00 00 00 00 00 00 00 04 7f 03 00 "PLAIN" 00*15 00*32"#);
    let g = done(&poll_all(
        &mut GreetingReader::new(),
        &mut BytesMut::from(&peer[..]),
    ));
    assert_eq!(g.version, Version::V3_0);
    assert_eq!((g.major, g.minor), (3, 0));
    assert_eq!(g.mechanism, Mechanism::PLAIN);
    assert!(!g.version.subscription_commands());
    assert!(g.version.has_commands());
}

#[test]
fn later_versions_speak_3_1() {
    // Source: RFC 37 ("peers MUST accept protocol versions >= 3.1") and libzmq
    // select_handshake_fun (major 3 minor >= 1, or any other major >= 2, is 3.1).
    for (major, minor) in [(3, 2), (4, 0), (2, 0), (0xff, 0xff)] {
        let mut peer = libzmq_null_greeting();
        peer[10] = major;
        peer[11] = minor;
        let g = done(&poll_all(
            &mut GreetingReader::new(),
            &mut BytesMut::from(&peer[..]),
        ));
        assert_eq!(g.version, Version::V3_1, "{major}.{minor}");
        assert_eq!((g.major, g.minor), (major, minor));
    }
}

#[test]
fn as_server_is_read_but_mechanism_compared_whole() {
    // Source: RFC 23 greeting: as-server = %x00 / %x01; mechanism is 20 octets compared
    // byte for byte (notes "Byte-level points" 2 and 3).
    let peer = h(r#"ff 00*7 01 7f 03 01 "CURVE" 00*15 01 00*31"#);
    let g = done(&poll_all(
        &mut GreetingReader::new(),
        &mut BytesMut::from(&peer[..]),
    ));
    assert_eq!(g.mechanism, Mechanism::CURVE);
    assert!(g.as_server);
    // "CURVE" followed by garbage is not CURVE.
    let peer = h(r#"ff 00*7 01 7f 03 01 "CURVE" 00*14 01 00 00*31"#);
    let g = done(&poll_all(
        &mut GreetingReader::new(),
        &mut BytesMut::from(&peer[..]),
    ));
    assert_ne!(g.mechanism, Mechanism::CURVE);
    assert_eq!(g.mechanism.as_wire(), &peer[12..32]);
}

#[test]
fn our_greetings_follow_rfc_23_layout() {
    // Source: RFC 23 "Greeting" (signature %xFF padding %x7F, version 3 1 for RFC 37,
    // 20-octet NUL-padded mechanism, as-server, 31 octets of filler), with libzmq's padding
    // (v1 identity length + 1).
    let cases = [
        (
            Greeting::new(Mechanism::NULL, false),
            h(r#"ff 00*7 01 7f 03 01 "NULL" 00*16 00 00*31"#),
        ),
        (
            Greeting::new(Mechanism::NULL, true),
            h(r#"ff 00*7 01 7f 03 01 "NULL" 00*16 01 00*31"#),
        ),
        (
            Greeting::new(Mechanism::PLAIN, false),
            h(r#"ff 00*7 01 7f 03 01 "PLAIN" 00*15 00 00*31"#),
        ),
        (
            Greeting::new(Mechanism::PLAIN, true),
            h(r#"ff 00*7 01 7f 03 01 "PLAIN" 00*15 01 00*31"#),
        ),
        (
            Greeting::new(Mechanism::CURVE, false),
            h(r#"ff 00*7 01 7f 03 01 "CURVE" 00*15 00 00*31"#),
        ),
        (
            Greeting::new(Mechanism::CURVE, true),
            h(r#"ff 00*7 01 7f 03 01 "CURVE" 00*15 01 00*31"#),
        ),
        (
            Greeting {
                v1_identity_len: 5,
                ..Greeting::new(Mechanism::NULL, false)
            },
            h(r#"ff 00*7 06 7f 03 01 "NULL" 00*16 00 00*31"#),
        ),
        (
            Greeting {
                v1_identity_len: 255,
                ..Greeting::new(Mechanism::NULL, false)
            },
            h(r#"ff 00*6 01 00 7f 03 01 "NULL" 00*16 00 00*31"#),
        ),
    ];
    for (greeting, expected) in cases {
        assert_eq!(expected.len(), 64);
        let bytes = greeting.to_bytes();
        assert_eq!(&bytes[..], &expected[..], "{greeting:?}");

        // The three stages add up to the whole greeting.
        let mut staged = Vec::new();
        staged.extend_from_slice(&greeting.signature());
        staged.extend_from_slice(&greeting.version_major());
        staged.extend_from_slice(&greeting.rest());
        assert_eq!(staged, expected);
        assert_eq!(greeting.version_major(), [3]);

        // And our reader reads it back.
        let g = done(&poll_all(
            &mut GreetingReader::new(),
            &mut BytesMut::from(&bytes[..]),
        ));
        assert_eq!(g.version, Version::V3_1);
        assert_eq!(g.mechanism, greeting.mechanism);
        assert_eq!(g.as_server, greeting.as_server);
    }
}

#[test]
fn our_signature_heads_a_zmtp_1_0_identity_frame() {
    // Source: libzmq plug_internal (notes 1.11 step 1): the signature is `ff`, u64 BE
    // (identity length + 1), `7f`, so a ZMTP 1.0 peer reads it as the header of an
    // identity frame of that length, which we then complete with the identity itself.
    let greeting = Greeting {
        v1_identity_len: 5,
        ..Greeting::new(Mechanism::NULL, false)
    };
    let mut stream = greeting.signature().to_vec();
    stream.extend_from_slice(b"ident");
    let items = decode_all(FrameFormat::V1, &stream).unwrap();
    assert_eq!(items.len(), 1);
    let Item::Data { body, .. } = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(&body[..], b"ident");
}

// ---------------------------------------------------------------------------------------
// ZMTP 2.0 and 1.0 detection and framing
// ---------------------------------------------------------------------------------------

#[test]
fn zmtp_2_0_greeting() {
    // Source: RFC 15 (greeting = signature, revision 01, socket-type) and libzmq
    // receive_greeting_versioned: a revision of 1 makes libzmq answer with its socket-type
    // byte and speak ZMTP 2.0 with a 12-byte greeting (notes 1.11 step 4).
    // A libzmq 3.x DEALER (ZMQ_DEALER = 5), followed by its empty identity frame.
    let peer = h("ff 00 00 00 00 00 00 00 01 7f 01 05 00 00");
    let mut reader = GreetingReader::new();
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&peer[..10]);
    assert_eq!(poll_all(&mut reader, &mut buf), [Progress::SendVersion]);
    buf.extend_from_slice(&peer[10..11]);
    assert_eq!(
        poll_all(&mut reader, &mut buf),
        [Progress::SendRest(Rest::SocketType)]
    );
    buf.extend_from_slice(&peer[11..]);
    let g = done(&poll_all(&mut reader, &mut buf));
    assert_eq!(g.version, Version::V2_0);
    assert_eq!(g.major, 1);
    assert_eq!(g.socket_type, Some(SocketType::Dealer.as_u8()));
    assert_eq!(g.mechanism, Mechanism::NULL);
    assert_eq!(g.version.frame_format(), FrameFormat::V2);
    assert!(!g.version.has_commands());
    // Exactly 12 bytes were consumed: the identity frame is left for the decoder.
    assert_eq!(&buf[..], &h("00 00")[..]);
    assert_eq!(
        decode_all(FrameFormat::V2, &buf).unwrap(),
        [data(b"", false)]
    );
}

#[test]
fn zmtp_1_0_versioned_greeting() {
    // Source: libzmq receive_greeting_versioned / handshake_v1_0 (revision 0 = ZMTP 1.0
    // with a revision; 12-byte greeting, then ZMTP 1.0 framing). A PUB (1).
    let peer = h("ff 00 00 00 00 00 00 00 01 7f 00 01");
    let events = poll_all(&mut GreetingReader::new(), &mut BytesMut::from(&peer[..]));
    assert_eq!(
        events[..2],
        [Progress::SendVersion, Progress::SendRest(Rest::SocketType)]
    );
    let g = done(&events);
    assert_eq!(g.version, Version::V1_0);
    assert_eq!(g.major, 0);
    assert_eq!(g.socket_type, Some(1));
    assert_eq!(g.version.frame_format(), FrameFormat::V1);
}

#[test]
fn zmtp_2_0_frames() {
    // Source: RFC 15 framing: flags (MORE 01, LONG 02), then a 1-byte or 8-byte BE size;
    // no COMMAND bit (notes 1.11 step 4, "RFC 13 and RFC 15").
    let long_body = [0x5a; 256];
    let mut stream = h(r#"01 03 "abc" 00 00"#);
    stream.extend_from_slice(&h("02 00 00 00 00 00 00 01 00"));
    stream.extend_from_slice(&long_body);
    assert_eq!(
        decode_all(FrameFormat::V2, &stream).unwrap(),
        [
            data(b"abc", true),
            data(b"", false),
            data(&long_body, false)
        ]
    );
    // Encoding gives the same bytes.
    let mut ours = data_frame(Version::V2_0, true, b"abc");
    ours.extend(data_frame(Version::V2_0, false, b""));
    ours.extend(data_frame(Version::V2_0, false, &long_body));
    assert_eq!(ours, stream);
    // Bit 2 is reserved in 2.0, not COMMAND: 04 01 "x" is a data frame.
    assert_eq!(
        decode_all(FrameFormat::V2, &h(r#"04 01 "x""#)).unwrap(),
        [data(b"x", false)]
    );
    // And there are no commands to send.
    for version in [Version::V2_0, Version::V1_0] {
        let mut out = Vec::new();
        assert_eq!(
            Encoder::new(version).command(
                &Command::Ping {
                    ttl: 0,
                    context: Bytes::new()
                },
                &mut out
            ),
            Err(EncodeError::NoCommands { version })
        );
        assert!(out.is_empty());
    }
}

#[test]
fn zmtp_1_0_unversioned_short_identity() {
    // Source: libzmq receive_greeting: a first byte other than 0xff is the 1-byte length
    // of a ZMTP 1.0 identity frame (notes 1.11 step 2). An empty identity is `01 00`
    // (the size counts the flags byte). It is detected from the first byte alone.
    let mut reader = GreetingReader::new();
    let mut buf = BytesMut::from(&h("01")[..]);
    assert_eq!(reader.poll(&mut buf), Ok(Progress::Unversioned));
    assert_eq!(buf.len(), 1, "nothing is consumed");
    assert_eq!(reader.poll(&mut buf), Err(GreetingError::AlreadyDone));
    buf.extend_from_slice(&h("00"));
    assert_eq!(
        decode_all(FrameFormat::V1, &buf).unwrap(),
        [data(b"", false)]
    );

    // An identity "abc": size 4.
    let stream = h(r#"04 00 "abc""#);
    let mut buf = BytesMut::from(&stream[..]);
    assert_eq!(
        GreetingReader::new().poll(&mut buf),
        Ok(Progress::Unversioned)
    );
    assert_eq!(
        decode_all(FrameFormat::V1, &buf).unwrap(),
        [data(b"abc", false)]
    );
}

#[test]
fn zmtp_1_0_unversioned_long_identity() {
    // Source: libzmq receive_greeting: after 10 bytes starting with 0xff, bit 0 of byte 9
    // clear means byte 9 is the flags byte of a long ZMTP 1.0 identity frame (notes 1.11
    // step 2). A 255-byte identity: size 256 = ff + 00 00 00 00 00 00 01 00, flags 00.
    let identity = [0x49; 255];
    let mut stream = h("ff 00 00 00 00 00 00 01 00 00");
    stream.extend_from_slice(&identity);
    let mut reader = GreetingReader::new();
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&stream[..9]);
    assert_eq!(reader.poll(&mut buf), Ok(Progress::NeedMore));
    buf.extend_from_slice(&stream[9..10]);
    assert_eq!(reader.poll(&mut buf), Ok(Progress::Unversioned));
    assert_eq!(buf.len(), 10, "nothing is consumed");
    buf.extend_from_slice(&stream[10..]);
    assert_eq!(
        decode_all(FrameFormat::V1, &buf).unwrap(),
        [data(&identity, false)]
    );
    // Any even byte 9 is unversioned, whatever the padding.
    for byte9 in [0x00, 0x02, 0x7e, 0xfe] {
        let mut sig = h("ff 12 34 56 78 9a bc de f0");
        sig.push(byte9);
        assert_eq!(
            poll_all(&mut GreetingReader::new(), &mut BytesMut::from(&sig[..])),
            [Progress::Unversioned]
        );
    }
}

#[test]
fn zmtp_1_0_frames() {
    // Source: RFC 13: size (1 byte, or ff + 8 bytes BE) counts the flags byte, then flags
    // (MORE = 01), then the body (notes "RFC 13 and RFC 15").
    let long_body = [0x4c; 254];
    let mut stream = h(r#"02 01 "a" 01 00 fe 00"#);
    stream.extend_from_slice(&[0x53; 253]);
    stream.extend_from_slice(&h("ff 00 00 00 00 00 00 00 ff 01"));
    stream.extend_from_slice(&long_body);
    stream.extend_from_slice(&h(r#"02 00 "z""#));
    assert_eq!(
        decode_all(FrameFormat::V1, &stream).unwrap(),
        [
            data(b"a", true),
            data(b"", false),
            data(&[0x53; 253], false),
            data(&long_body, true),
            data(b"z", false),
        ]
    );
    let mut ours = data_frame(Version::V1_0, true, b"a");
    ours.extend(data_frame(Version::V1_0, false, b""));
    ours.extend(data_frame(Version::V1_0, false, &[0x53; 253]));
    ours.extend(data_frame(Version::V1_0, true, &long_body));
    ours.extend(data_frame(Version::V1_0, false, b"z"));
    assert_eq!(ours, stream);
    // The long form is accepted for a small size too.
    assert_eq!(
        decode_all(FrameFormat::V1, &h(r#"ff 00 00 00 00 00 00 00 02 00 "q""#)).unwrap(),
        [data(b"q", false)]
    );
    // A size of 0 leaves no room for the flags byte: the CVE-2020-15166 family of v1
    // decoder bugs. Rejected in both forms.
    assert_eq!(
        decode_all(FrameFormat::V1, &h("00 00")),
        Err(DecodeError::ZeroLengthV1Frame)
    );
    assert_eq!(
        decode_all(FrameFormat::V1, &h("ff 00 00 00 00 00 00 00 00 00")),
        Err(DecodeError::ZeroLengthV1Frame)
    );
}

// ---------------------------------------------------------------------------------------
// Commands and metadata
// ---------------------------------------------------------------------------------------

/// RFC 37's worked example and libzmq `tests/testutil.hpp` `zmtp_ready_dealer`: the
/// 43-byte READY of a DEALER with an empty identity.
fn rfc37_dealer_ready() -> Vec<u8> {
    let frame =
        h(r#"04 29 05 "READY" 0b "Socket-Type" 00 00 00 06 "DEALER" 08 "Identity" 00 00 00 00"#);
    assert_eq!(frame.len(), 43);
    frame
}

#[test]
fn rfc37_dealer_ready_decodes() {
    // Source: RFC 37 "The READY command" example; libzmq tests/testutil.hpp.
    let frame = rfc37_dealer_ready();
    let items = decode_all(FrameFormat::V3, &frame).unwrap();
    let [Item::Command(Command::Ready(body))] = &items[..] else {
        panic!("{items:?}")
    };
    assert_eq!(body.len(), 0x29 - 6);
    assert_eq!(&body[..], &frame[8..]);
    let md = Metadata::parse(body).unwrap();
    assert_eq!(md.len(), 2);
    let props: Vec<(&[u8], &[u8])> = md.iter().map(|(n, v)| (&n[..], &v[..])).collect();
    assert_eq!(
        props,
        [
            (&b"Socket-Type"[..], &b"DEALER"[..]),
            (&b"Identity"[..], &b""[..])
        ]
    );
    assert_eq!(md.get(metadata::SOCKET_TYPE).unwrap(), "DEALER");
    assert_eq!(
        SocketType::from_name(md.get(metadata::SOCKET_TYPE).unwrap()),
        Some(SocketType::Dealer)
    );
    assert_eq!(md.get(metadata::IDENTITY).unwrap(), "");
}

#[test]
fn rfc37_dealer_ready_encodes() {
    // Source: RFC 37 "The READY command" example; libzmq mechanism_t::add_property.
    let mut md = Metadata::new();
    md.insert(metadata::SOCKET_TYPE, SocketType::Dealer.name())
        .unwrap();
    md.insert(metadata::IDENTITY, Bytes::new()).unwrap();
    let mut body = Vec::new();
    md.encode(&mut body);
    assert_eq!(body.len(), md.encoded_len());
    let command = Command::Ready(Bytes::from(body));
    assert_eq!(command.encoded_len(), 0x29);
    assert_eq!(command_frame(Version::V3_1, &command), rfc37_dealer_ready());
    // 3.0 uses the same command framing.
    assert_eq!(command_frame(Version::V3_0, &command), rfc37_dealer_ready());
    // Through a batch as well.
    let mut batch = WriteBatch::new(Version::V3_1);
    batch.push_command(&command).unwrap();
    assert_eq!(
        batch.chunks().flatten().copied().collect::<Vec<u8>>(),
        rfc37_dealer_ready()
    );
}

#[test]
fn subscribe_and_cancel_forms() {
    // Source: libzmq tests/test_mock_pub_sub.cpp (`04 0b 09 SUBSCRIBE A` to a 3.1 peer,
    // `00 02 01 A` to a 3.0 peer) and RFC 37 / RFC 23 (notes 1.14).
    let sub_31 = h(r#"04 0b 09 "SUBSCRIBE" "A""#);
    let cancel_31 = h(r#"04 08 06 "CANCEL" "A""#);
    let sub_30 = h(r#"00 02 01 "A""#);
    let cancel_30 = h(r#"00 02 00 "A""#);

    assert_eq!(subscription(Version::V3_1, true, b"A"), sub_31);
    assert_eq!(subscription(Version::V3_1, false, b"A"), cancel_31);
    assert_eq!(
        command_frame(Version::V3_1, &Command::Subscribe(Bytes::from_static(b"A"))),
        sub_31
    );
    assert_eq!(
        command_frame(Version::V3_1, &Command::Cancel(Bytes::from_static(b"A"))),
        cancel_31
    );
    for version in [Version::V3_0, Version::V2_0] {
        assert_eq!(subscription(version, true, b"A"), sub_30, "{version}");
        assert_eq!(subscription(version, false, b"A"), cancel_30, "{version}");
    }
    // ZMTP 1.0 frames the same data frame its own way: size 3 (flags + 2), flags 0.
    assert_eq!(
        subscription(Version::V1_0, true, b"A"),
        h(r#"03 00 01 "A""#)
    );
    assert_eq!(
        subscription(Version::V1_0, false, b"A"),
        h(r#"03 00 00 "A""#)
    );

    assert_eq!(
        decode_all(FrameFormat::V3, &sub_31).unwrap(),
        [Item::Command(Command::Subscribe(Bytes::from_static(b"A")))]
    );
    assert_eq!(
        decode_all(FrameFormat::V3, &cancel_31).unwrap(),
        [Item::Command(Command::Cancel(Bytes::from_static(b"A")))]
    );
    // The 3.0 forms are data; the publisher side interprets the first byte (notes 1.14).
    assert_eq!(
        decode_all(FrameFormat::V3, &sub_30).unwrap(),
        [data(b"\x01A", false)]
    );
    assert_eq!(
        decode_all(FrameFormat::V3, &cancel_30).unwrap(),
        [data(b"\x00A", false)]
    );

    // Subscribe to everything: an empty topic.
    assert_eq!(
        subscription(Version::V3_1, true, b""),
        h(r#"04 0a 09 "SUBSCRIBE""#)
    );
    assert_eq!(subscription(Version::V3_0, true, b""), h("00 01 01"));
}

#[test]
fn ping_and_pong() {
    // Source: RFC 37 PING/PONG; libzmq zmtp_engine.cpp produce_ping_message (`\x04PING`,
    // u16 BE TTL in deciseconds, empty context) and process_heartbeat_message (PONG =
    // `\x04PONG` + the context, truncated to 16 bytes). HEARTBEAT_TTL 1000 ms = 0x000a.
    let libzmq_ping = h(r#"04 07 04 "PING" 00 0a"#);
    let ping = Command::Ping {
        ttl: 10,
        context: Bytes::new(),
    };
    assert_eq!(
        decode_all(FrameFormat::V3, &libzmq_ping).unwrap(),
        [Item::Command(ping.clone())]
    );
    assert_eq!(command_frame(Version::V3_1, &ping), libzmq_ping);
    let pong = ping.pong_for().unwrap();
    assert_eq!(command_frame(Version::V3_1, &pong), h(r#"04 05 04 "PONG""#));

    // A 1-byte context: 04 08 04 PING 00 0a "x", answered by 04 06 04 PONG "x".
    let ping_x = h(r#"04 08 04 "PING" 00 0a "x""#);
    let items = decode_all(FrameFormat::V3, &ping_x).unwrap();
    let [Item::Command(ping)] = &items[..] else {
        panic!("{items:?}")
    };
    assert_eq!(
        ping,
        &Command::Ping {
            ttl: 10,
            context: Bytes::from_static(b"x")
        }
    );
    assert_eq!(command_frame(Version::V3_1, ping), ping_x);
    let pong = ping.pong_for().unwrap();
    let pong_x = h(r#"04 06 04 "PONG" "x""#);
    assert_eq!(command_frame(Version::V3_1, &pong), pong_x);
    assert_eq!(
        decode_all(FrameFormat::V3, &pong_x).unwrap(),
        [Item::Command(pong)]
    );

    // The longest context, 16 bytes, and a TTL using both bytes (300 = 01 2c).
    let ping16 = h(r#"04 17 04 "PING" 01 2c "0123456789abcdef""#);
    let items = decode_all(FrameFormat::V3, &ping16).unwrap();
    let [Item::Command(ping)] = &items[..] else {
        panic!("{items:?}")
    };
    assert!(matches!(ping, Command::Ping { ttl: 300, context } if context.len() == 16));
    assert_eq!(command_frame(Version::V3_1, ping), ping16);
    assert_eq!(
        command_frame(Version::V3_1, &ping.pong_for().unwrap()),
        h(r#"04 15 04 "PONG" "0123456789abcdef""#)
    );

    // A peer's over-long context (20 bytes) is accepted, and the PONG echoes 16 of them,
    // as libzmq truncates; we refuse to send such a PING ourselves.
    let ping20 = h(r#"04 1b 04 "PING" 00 00 "0123456789abcdefWXYZ""#);
    let items = decode_all(FrameFormat::V3, &ping20).unwrap();
    let [Item::Command(ping)] = &items[..] else {
        panic!("{items:?}")
    };
    assert_eq!(
        command_frame(Version::V3_1, &ping.pong_for().unwrap()),
        h(r#"04 15 04 "PONG" "0123456789abcdef""#)
    );
    assert!(matches!(
        Encoder::new(Version::V3_1).command(ping, &mut Vec::new()),
        Err(EncodeError::Command(CommandError::TooLong {
            len: 20,
            max: 16,
            ..
        }))
    ));

    // A PING without its TTL is malformed.
    assert_eq!(
        decode_all(FrameFormat::V3, &h(r#"04 06 04 "PING" 00"#)),
        Err(DecodeError::Command(CommandError::BadPing))
    );
}

#[test]
fn error_command() {
    // Source: RFC 23 ERROR (`\x05ERROR` + u8 length + reason); libzmq sends the ZAP status
    // code "400" on an authentication failure (notes RFC 25 table).
    let frame = h(r#"04 0a 05 "ERROR" 03 "400""#);
    let error = Command::Error {
        reason: Bytes::from_static(b"400"),
    };
    assert_eq!(
        decode_all(FrameFormat::V3, &frame).unwrap(),
        [Item::Command(error.clone())]
    );
    assert_eq!(command_frame(Version::V3_1, &error), frame);
    // A reason length past the end of the frame is malformed.
    assert_eq!(
        decode_all(FrameFormat::V3, &h(r#"04 0a 05 "ERROR" 04 "400""#)),
        Err(DecodeError::Command(CommandError::BadErrorReason))
    );
}

#[test]
fn join_leave_and_unknown_commands() {
    // Source: RFC 37 (JOIN `\x04JOIN` + group, LEAVE `\x05LEAVE` + group) and libzmq's
    // session_base, which ignores unknown commands after the handshake (notes 1.12).
    let join = h(r#"04 0c 04 "JOIN" "weather""#);
    let leave = h(r#"04 0d 05 "LEAVE" "weather""#);
    let unknown = h(r#"04 0a 05 "HELLX" "body""#);
    let mut stream = join.clone();
    stream.extend_from_slice(&leave);
    stream.extend_from_slice(&unknown);
    let items = decode_all(FrameFormat::V3, &stream).unwrap();
    let expected = [
        Command::Join(Bytes::from_static(b"weather")),
        Command::Leave(Bytes::from_static(b"weather")),
        Command::Unknown {
            name: Bytes::from_static(b"HELLX"),
            body: Bytes::from_static(b"body"),
        },
    ];
    assert_eq!(
        items,
        expected.clone().map(Item::Command).to_vec(),
        "unknown commands are items, not errors"
    );
    let mut ours = Vec::new();
    for c in &expected {
        ours.extend(command_frame(Version::V3_1, c));
    }
    assert_eq!(ours, stream);
    // Names are compared exactly: "ping" is not PING.
    assert_eq!(
        decode_all(FrameFormat::V3, &h(r#"04 07 04 "ping" 00 0a"#)).unwrap(),
        [Item::Command(Command::Unknown {
            name: Bytes::from_static(b"ping"),
            body: Bytes::from_static(b"\x00\x0a"),
        })]
    );
    // A name running past the end of the frame is malformed.
    assert_eq!(
        decode_all(FrameFormat::V3, &h(r#"04 05 05 "READ""#)),
        Err(DecodeError::Command(CommandError::BadName))
    );
    assert_eq!(
        decode_all(FrameFormat::V3, &h("04 00")),
        Err(DecodeError::Command(CommandError::BadName))
    );
}

#[test]
fn long_form_with_small_sizes() {
    // Source: notes 1.11 and "Byte-level points" 5: libzmq writes LONG only above 255
    // bytes, but a receiver must accept LONG for any size, for data and commands.
    let stream = h(concat!(
        r#"02 00 00 00 00 00 00 00 03 "abc" "#,
        r#"03 00 00 00 00 00 00 00 00 "#,
        r#"06 00 00 00 00 00 00 00 07 04 "PING" 00 0a"#
    ));
    assert_eq!(
        decode_all(FrameFormat::V3, &stream).unwrap(),
        [
            data(b"abc", false),
            data(b"", true),
            Item::Command(Command::Ping {
                ttl: 10,
                context: Bytes::new()
            }),
        ]
    );
    // We write the short form for up to 255 bytes and the long form from 256.
    assert_eq!(
        &data_frame(Version::V3_1, false, &[7; 255])[..2],
        &h("00 ff")[..]
    );
    assert_eq!(
        &data_frame(Version::V3_1, true, &[7; 256])[..9],
        &h("03 00 00 00 00 00 00 01 00")[..]
    );
}

#[test]
fn libzmq_v2_decoder_leniency() {
    // Source: libzmq v2_decoder.cpp does not reject reserved flag bits 3-7 nor a command
    // frame with MORE set (notes 1.11, "Consequences for interop").
    assert_eq!(
        decode_all(FrameFormat::V3, &h(r#"f8 01 "x" 05 07 04 "PING" 00 0a"#)).unwrap(),
        [
            data(b"x", false),
            Item::Command(Command::Ping {
                ttl: 10,
                context: Bytes::new()
            }),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// CURVE bodies stay opaque
// ---------------------------------------------------------------------------------------

/// A whole command frame (header included) of command `name` followed by `layout`, the
/// bytes standing for a mechanism's nonces and boxes. Uses the long form above 255 bytes.
fn opaque_command(name: &str, layout: &[u8]) -> Vec<u8> {
    let mut body = vec![u8::try_from(name.len()).unwrap()];
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(layout);
    let mut frame = if body.len() > 255 {
        let mut f = vec![0x06];
        f.extend_from_slice(&(body.len() as u64).to_be_bytes());
        f
    } else {
        vec![0x04, u8::try_from(body.len()).unwrap()]
    };
    frame.extend_from_slice(&body);
    frame
}

#[test]
fn curve_command_bodies_are_opaque() {
    // Source: RFC 25 / RFC 26 as libzmq implements them (notes RFC 25 table): HELLO 200
    // bytes, WELCOME 168, INITIATE >= 257, READY >= 30, MESSAGE >= 33.
    let nonce = |n: u8| h(&format!("00 00 00 00 00 00 00 {n:02x}"));
    let fill = |byte: u8, n: usize| vec![byte; n];

    // HELLO: version 01 00, 72 zero bytes of padding, C' (32), short nonce, box (80).
    let mut hello = h("01 00 00*72");
    hello.extend(fill(0xc1, 32));
    hello.extend(nonce(1));
    hello.extend(fill(0xb0, 80));
    // WELCOME: 16-byte nonce, box[S' + cookie] (144).
    let mut welcome = fill(0x57, 16);
    welcome.extend(fill(0xb1, 144));
    // INITIATE: cookie (96), short nonce, box[C + vouch + metadata] (32 + 96 + 22 + 16).
    let mut initiate = fill(0xc0, 96);
    initiate.extend(nonce(2));
    initiate.extend(fill(0xb2, 32 + 96 + 22 + 16));
    // READY: short nonce, box[metadata] (22 + 16).
    let mut ready = nonce(1);
    ready.extend(fill(0xb3, 22 + 16));
    // MESSAGE: short nonce, box[flags + empty payload] (1 + 16).
    let mut message = nonce(3);
    message.extend(fill(0xb4, 17));

    type Variant = fn(Bytes) -> Command;
    let cases: [(&str, Vec<u8>, usize, Variant); 5] = [
        ("HELLO", hello, 200, Command::Hello),
        ("WELCOME", welcome, 168, Command::Welcome),
        ("INITIATE", initiate, 279, Command::Initiate),
        ("READY", ready, 52, Command::Ready),
        ("MESSAGE", message, 33, Command::Message),
    ];
    for (name, layout, size, make) in cases {
        let frame = opaque_command(name, &layout);
        let header = if size > 255 { 9 } else { 2 };
        assert_eq!(frame.len(), header + size, "{name}");
        let items = decode_all(FrameFormat::V3, &frame).unwrap();
        let [Item::Command(command)] = &items[..] else {
            panic!("{name}: {items:?}")
        };
        assert_eq!(command, &make(Bytes::from(layout.clone())), "{name}");
        assert_eq!(command.name(), name.as_bytes());
        assert_eq!(command.encoded_len(), size, "{name}");
        assert_eq!(
            size - 1 - name.len(),
            layout.len(),
            "{name}: body length after the name"
        );
        assert_eq!(command_frame(Version::V3_1, command), frame, "{name}");
    }
    // The exact sizes libzmq checks.
    assert_eq!(opaque_command("HELLO", &[0; 194]).len(), 2 + 200);
    assert_eq!(opaque_command("WELCOME", &[0; 160]).len(), 2 + 168);
    assert_eq!(opaque_command("INITIATE", &[0; 248]).len(), 9 + 257);
}

// ---------------------------------------------------------------------------------------
// Limits and incremental decoding
// ---------------------------------------------------------------------------------------

#[test]
fn a_2_pow_63_frame_is_rejected_before_its_body() {
    // Source: notes 1.11 and "Byte-level points" 5 (check sizes before allocating;
    // CVE-2020-15166 family). No body byte is present: the header alone is refused.
    for (format, header, size) in [
        (FrameFormat::V3, h("02 80 00 00 00 00 00 00 00"), 1u64 << 63),
        (FrameFormat::V3, h("03 ff ff ff ff ff ff ff ff"), u64::MAX),
        (FrameFormat::V2, h("02 80 00 00 00 00 00 00 00"), 1u64 << 63),
        // ZMTP 1.0: size 2^63 + 1 counts the flags byte, so the body is 2^63.
        (
            FrameFormat::V1,
            h("ff 80 00 00 00 00 00 00 01 00"),
            1u64 << 63,
        ),
    ] {
        let mut decoder = Decoder::new(format);
        let mut buf = BytesMut::from(&header[..]);
        assert_eq!(
            decoder.decode(&mut buf),
            Err(DecodeError::FrameTooLarge {
                size,
                max: MAX_REPRESENTABLE_FRAME,
                command: false
            }),
            "{format:?}"
        );
        assert_eq!(decoder.pending_body(), None);
    }
    // A 2^63 command is refused too, against the command limit.
    let mut buf = BytesMut::from(&h("06 80 00 00 00 00 00 00 00")[..]);
    assert_eq!(
        Decoder::new(FrameFormat::V3).decode(&mut buf),
        Err(DecodeError::FrameTooLarge {
            size: 1 << 63,
            max: DEFAULT_HANDSHAKE_COMMAND_SIZE,
            command: true
        })
    );
}

#[test]
fn max_message_size_is_enforced_on_the_header() {
    // Source: libzmq ZMQ_MAXMSGSIZE, checked by the decoders before allocating (notes
    // 1.11).
    let mut decoder = Decoder::new(FrameFormat::V3);
    decoder.set_max_message_size(Some(1000));
    // 1000 bytes pass (long form): the header is accepted and the body awaited.
    let mut buf = BytesMut::from(&h("02 00 00 00 00 00 00 03")[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(decoder.pending_body(), None, "only 8 of 9 header bytes");
    buf.extend_from_slice(&h("e8"));
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(decoder.pending_body(), Some(1000));
    assert!(
        buf.is_empty(),
        "the header is consumed, the body not yet there"
    );
    // 1001 bytes are refused at once.
    let mut decoder = Decoder::new(FrameFormat::V3);
    decoder.set_max_message_size(Some(1000));
    let mut buf = BytesMut::from(&h("02 00 00 00 00 00 00 03 e9")[..]);
    assert_eq!(
        decoder.decode(&mut buf),
        Err(DecodeError::FrameTooLarge {
            size: 1001,
            max: 1000,
            command: false
        })
    );
    // The short form too, in every format.
    for (format, frame) in [
        (FrameFormat::V3, h(r#"01 05 "hello""#)),
        (FrameFormat::V2, h(r#"01 05 "hello""#)),
        (FrameFormat::V1, h(r#"06 01 "hello""#)),
    ] {
        let mut decoder = Decoder::new(format);
        decoder.set_max_message_size(Some(4));
        let mut buf = BytesMut::from(&frame[..]);
        assert_eq!(
            decoder.decode(&mut buf),
            Err(DecodeError::FrameTooLarge {
                size: 5,
                max: 4,
                command: false
            }),
            "{format:?}"
        );
        let mut decoder = Decoder::new(format);
        decoder.set_max_message_size(Some(5));
        let mut buf = BytesMut::from(&frame[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(Some(data(b"hello", true))));
    }
    // Commands are limited separately: the message limit does not apply to them.
    let mut decoder = Decoder::new(FrameFormat::V3);
    decoder.set_max_message_size(Some(4));
    let mut buf = BytesMut::from(&rfc37_dealer_ready()[..]);
    assert!(matches!(
        decoder.decode(&mut buf),
        Ok(Some(Item::Command(Command::Ready(_))))
    ));
    decoder.set_max_command_size(Some(40));
    let mut buf = BytesMut::from(&rfc37_dealer_ready()[..]);
    assert_eq!(
        decoder.decode(&mut buf),
        Err(DecodeError::FrameTooLarge {
            size: 41,
            max: 40,
            command: true
        })
    );
}

/// A stream of every header shape of one format.
fn every_header_shape(version: Version) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = Encoder::new(version);
    encoder.data(true, b"", &mut out);
    encoder.data(true, b"short", &mut out);
    encoder.data(false, &[0xab; 300], &mut out);
    encoder.data(false, &[0xcd; 254], &mut out);
    encoder.subscription(true, b"topic", &mut out);
    if version.has_commands() {
        encoder
            .command(
                &Command::Ping {
                    ttl: 10,
                    context: Bytes::from_static(b"ctx"),
                },
                &mut out,
            )
            .unwrap();
        encoder
            .command(&Command::Ready(Bytes::from(vec![0xef; 400])), &mut out)
            .unwrap();
        // A long-form header for a small size.
        out.extend_from_slice(&h(r#"06 00 00 00 00 00 00 00 05 04 "PONG""#));
    } else if version == Version::V1_0 {
        out.extend_from_slice(&h(r#"ff 00 00 00 00 00 00 00 02 00 "q""#));
    } else {
        out.extend_from_slice(&h(r#"02 00 00 00 00 00 00 00 01 "q""#));
    }
    out
}

#[test]
fn a_header_split_at_every_byte_still_decodes() {
    // Source: libzmq reads whatever the socket returns; any split of the stream, inside a
    // header or a body, must decode to the same frames.
    for version in [Version::V3_1, Version::V3_0, Version::V2_0, Version::V1_0] {
        let format = version.frame_format();
        let stream = every_header_shape(version);
        let whole = decode_all(format, &stream).unwrap();
        assert_eq!(whole.len(), if version.has_commands() { 8 } else { 6 });
        for split in 0..=stream.len() {
            assert_eq!(
                decode_split(format, &stream, &[split]),
                whole,
                "{version} split at {split}"
            );
        }
        let every_byte: Vec<usize> = (1..stream.len()).collect();
        assert_eq!(
            decode_split(format, &stream, &every_byte),
            whole,
            "{version}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Z85 and socket types
// ---------------------------------------------------------------------------------------

#[test]
fn z85_hello_world() {
    // Source: RFC 32 test vector.
    let bin = h("86 4f d2 6f b5 59 f7 5b");
    assert_eq!(z85::encode(&bin).unwrap(), "HelloWorld");
    assert_eq!(z85::decode(b"HelloWorld").unwrap(), bin);
    // The CURVE keys of libzmq tests/test_heartbeats.cpp are 40 characters for 32 bytes.
    let server_public = z85::decode(b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7").unwrap();
    assert_eq!(server_public.len(), 32);
    assert_eq!(
        z85::encode(&server_public).unwrap(),
        "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
    );
}

/// libzmq `mechanism_t::check_socket_type` (src/mechanism.cpp), with the draft types.
fn libzmq_peers(t: SocketType) -> &'static [SocketType] {
    use SocketType::*;
    match t {
        Req => &[Rep, Router],
        Rep => &[Req, Dealer],
        Dealer => &[Rep, Dealer, Router],
        Router => &[Req, Dealer, Router],
        Push => &[Pull],
        Pull => &[Push],
        Pub => &[Sub, XSub],
        Sub => &[Pub, XPub],
        XPub => &[Sub, XSub],
        XSub => &[Pub, XPub],
        Pair => &[Pair],
        Server => &[Client],
        Client => &[Server],
        Radio => &[Dish],
        Dish => &[Radio],
        Gather => &[Scatter],
        Scatter => &[Gather],
        Dgram => &[Dgram],
        Peer => &[Peer],
        Channel => &[Channel],
        Stream => &[],
    }
}

#[test]
fn socket_type_compatibility_matches_libzmq_for_every_pair() {
    // Source: libzmq src/mechanism.cpp check_socket_type (notes 1.1).
    let mut accepted = 0;
    for a in SocketType::ALL {
        for b in SocketType::ALL {
            let expected = libzmq_peers(a).contains(&b);
            assert_eq!(a.accepts(b), expected, "{a} with {b}");
            accepted += usize::from(expected);
        }
    }
    assert_eq!(accepted, 30);
}

#[test]
fn socket_type_names_and_numbers_match_libzmq() {
    // Source: libzmq include/zmq.h (ZMQ_PAIR 0 ... ZMQ_CHANNEL 20) and
    // mechanism_t::socket_type_string.
    let table = [
        "PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB",
        "STREAM", "SERVER", "CLIENT", "RADIO", "DISH", "GATHER", "SCATTER", "DGRAM", "PEER",
        "CHANNEL",
    ];
    for (value, name) in table.into_iter().enumerate() {
        let value = u8::try_from(value).unwrap();
        let t = SocketType::from_u8(value).unwrap();
        assert_eq!(t.name(), name);
        assert_eq!(t.as_u8(), value);
        assert_eq!(SocketType::from_name(name.as_bytes()), Some(t));
    }
    assert_eq!(SocketType::from_u8(21), None);
    // Identity is sent by REQ, DEALER and ROUTER only (notes 1.13).
    let senders: Vec<SocketType> = SocketType::ALL
        .into_iter()
        .filter(|t| t.sends_identity())
        .collect();
    assert_eq!(
        senders,
        [SocketType::Req, SocketType::Dealer, SocketType::Router]
    );
}
