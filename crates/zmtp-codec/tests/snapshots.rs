//! Snapshot tests of everything the codec writes: every greeting, every command variant as
//! a whole frame, subscriptions in each version's form, and data frames in the ZMTP 1.0,
//! 2.0 and 3.x layouts.
//!
//! Each snapshot is a hex dump (16 bytes a line, with offsets and an ASCII column) so that
//! it can be checked by eye against the RFC bytes. Regenerate with
//! `INSTA_UPDATE=always cargo test -p zmtp-codec --test snapshots`, then review the diff.

use std::fmt::Write as _;

use bytes::Bytes;
use zmtp_codec::encode::{Encoder, WriteBatch};
use zmtp_codec::greeting::{Greeting, Version};
use zmtp_codec::metadata::{self, Metadata};
use zmtp_codec::{Command, Mechanism, SocketType};

/// A hex dump in the style of `hexdump -C`:
/// `0000  ff 00 00 00 00 00 00 00  01 7f 03 01 4e 55 4c 4c  |............NULL|`.
fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        write!(out, "{:04x} ", line * 16).unwrap();
        for i in 0..16 {
            if i % 8 == 0 {
                out.push(' ');
            }
            match chunk.get(i) {
                Some(b) => write!(out, "{b:02x} ").unwrap(),
                None => out.push_str("   "),
            }
        }
        out.push_str(" |");
        for &b in chunk {
            out.push(if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            });
        }
        out.push_str("|\n");
    }
    if bytes.is_empty() {
        out.push_str("(empty)\n");
    }
    out
}

/// A snapshot of labelled byte strings, each with its length and dump.
fn snap(name: &str, sections: &[(&str, &[u8])]) {
    let mut text = String::new();
    for (label, bytes) in sections {
        let unit = if bytes.len() == 1 { "byte" } else { "bytes" };
        writeln!(text, "# {label} ({} {unit})", bytes.len()).unwrap();
        text.push_str(&hex_dump(bytes));
    }
    insta::assert_snapshot!(name.to_owned(), text);
}

/// A command encoded through [`Encoder::command`] as a whole ZMTP 3.1 frame.
fn command_frame(command: &Command) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(Version::V3_1)
        .command(command, &mut out)
        .expect("encodable");
    out
}

fn metadata_body(props: &[(&str, &[u8])]) -> Bytes {
    let mut md = Metadata::new();
    for (name, value) in props {
        md.insert(name, Bytes::copy_from_slice(value)).unwrap();
    }
    let mut out = Vec::new();
    md.encode(&mut out);
    Bytes::from(out)
}

/// `len` bytes counting up from 0, so offsets inside a body can be read off the dump.
fn counting(len: usize) -> Vec<u8> {
    (0..len).map(|i| i as u8).collect()
}

#[test]
fn hex_dump_layout() {
    assert_eq!(
        hex_dump(b"\xff\0\0\0\0\0\0\0\x01\x7f\x03\x01NULL\0"),
        "0000  ff 00 00 00 00 00 00 00  01 7f 03 01 4e 55 4c 4c  |............NULL|\n\
         0010  00                                                |.|\n"
    );
    assert_eq!(hex_dump(b""), "(empty)\n");
}

// ---------------------------------------------------------------------------------------
// Greetings (RFC 23 "Greeting", RFC 37 minor 1, libzmq padding)
// ---------------------------------------------------------------------------------------

#[test]
fn greetings() {
    for (name, mechanism) in [
        ("null", Mechanism::NULL),
        ("plain", Mechanism::PLAIN),
        ("curve", Mechanism::CURVE),
        ("gssapi", Mechanism::GSSAPI),
    ] {
        for as_server in [false, true] {
            let greeting = Greeting::new(mechanism, as_server);
            let role = if as_server { "server" } else { "client" };
            snap(
                &format!("greeting_{name}_{role}"),
                &[(
                    &format!("greeting {mechanism}, as-server {}", u8::from(as_server)),
                    &greeting.to_bytes(),
                )],
            );
        }
    }
}

#[test]
fn greeting_with_v1_identity_length() {
    let greeting = Greeting {
        v1_identity_len: 5,
        ..Greeting::new(Mechanism::NULL, false)
    };
    snap(
        "greeting_null_v1_identity_len_5",
        &[
            ("greeting NULL, v1_identity_len 5", &greeting.to_bytes()),
            ("signature stage", &greeting.signature()),
            ("version stage", &greeting.version_major()),
            ("rest stage", &greeting.rest()),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Commands (RFC 23, RFC 24, RFC 25, RFC 37), each through Encoder::command
// ---------------------------------------------------------------------------------------

#[test]
fn command_ready() {
    let dealer = Command::Ready(metadata_body(&[
        (metadata::SOCKET_TYPE, SocketType::Dealer.name().as_bytes()),
        (metadata::IDENTITY, b""),
    ]));
    let router = Command::Ready(metadata_body(&[
        (metadata::SOCKET_TYPE, SocketType::Router.name().as_bytes()),
        (metadata::IDENTITY, b"peer-1"),
    ]));
    let publisher = Command::Ready(metadata_body(&[(
        metadata::SOCKET_TYPE,
        SocketType::Pub.name().as_bytes(),
    )]));
    snap(
        "command_ready_dealer",
        &[(
            "READY Socket-Type=DEALER Identity=\"\" (RFC 37 example)",
            &command_frame(&dealer),
        )],
    );
    snap(
        "command_ready_router_identity",
        &[(
            "READY Socket-Type=ROUTER Identity=\"peer-1\"",
            &command_frame(&router),
        )],
    );
    snap(
        "command_ready_pub",
        &[(
            "READY Socket-Type=PUB (no Identity)",
            &command_frame(&publisher),
        )],
    );
}

#[test]
fn command_ready_long_form() {
    let padding = vec![b'p'; 300];
    let ready = Command::Ready(metadata_body(&[
        (metadata::SOCKET_TYPE, SocketType::Dealer.name().as_bytes()),
        ("X-Padding", &padding),
    ]));
    snap(
        "command_ready_long_form",
        &[(
            "READY Socket-Type=DEALER X-Padding=300 x 'p' (long form)",
            &command_frame(&ready),
        )],
    );
}

#[test]
fn command_error() {
    let error = Command::Error {
        reason: Bytes::from_static(b"400"),
    };
    let empty = Command::Error {
        reason: Bytes::new(),
    };
    snap(
        "command_error",
        &[
            ("ERROR \"400\"", &command_frame(&error)),
            ("ERROR \"\"", &command_frame(&empty)),
        ],
    );
}

#[test]
fn command_subscribe_cancel() {
    snap(
        "command_subscribe_cancel",
        &[
            (
                "SUBSCRIBE \"A\"",
                &command_frame(&Command::Subscribe(Bytes::from_static(b"A"))),
            ),
            (
                "SUBSCRIBE \"\" (everything)",
                &command_frame(&Command::Subscribe(Bytes::new())),
            ),
            (
                "CANCEL \"A\"",
                &command_frame(&Command::Cancel(Bytes::from_static(b"A"))),
            ),
        ],
    );
}

#[test]
fn command_ping_pong() {
    let ping = Command::Ping {
        ttl: 10,
        context: Bytes::new(),
    };
    let ping_ctx = Command::Ping {
        ttl: 300,
        context: Bytes::from_static(b"0123456789abcdef"),
    };
    snap(
        "command_ping_pong",
        &[
            ("PING ttl=10 no context", &command_frame(&ping)),
            ("PONG for it", &command_frame(&ping.pong_for().unwrap())),
            (
                "PING ttl=300 context=\"0123456789abcdef\"",
                &command_frame(&ping_ctx),
            ),
            ("PONG for it", &command_frame(&ping_ctx.pong_for().unwrap())),
        ],
    );
}

#[test]
fn command_join_leave() {
    snap(
        "command_join_leave",
        &[
            (
                "JOIN \"weather\"",
                &command_frame(&Command::Join(Bytes::from_static(b"weather"))),
            ),
            (
                "LEAVE \"weather\"",
                &command_frame(&Command::Leave(Bytes::from_static(b"weather"))),
            ),
        ],
    );
}

#[test]
fn command_mechanism_handshake() {
    // PLAIN (RFC 24) HELLO, WELCOME and INITIATE, and a small CURVE-shaped MESSAGE (short
    // nonce 3 and a 17-byte stand-in box). The codec keeps all of these bodies opaque.
    let hello = Command::Hello(Bytes::from_static(b"\x05admin\x06secret"));
    let welcome = Command::Welcome(Bytes::new());
    let initiate = Command::Initiate(metadata_body(&[(
        metadata::SOCKET_TYPE,
        SocketType::Req.name().as_bytes(),
    )]));
    let mut message_body = vec![0, 0, 0, 0, 0, 0, 0, 3];
    message_body.extend(0xe0..0xf1u8);
    let message = Command::Message(Bytes::from(message_body));
    snap(
        "command_mechanism_handshake",
        &[
            ("HELLO user=admin password=secret", &command_frame(&hello)),
            ("WELCOME (empty body)", &command_frame(&welcome)),
            ("INITIATE Socket-Type=REQ", &command_frame(&initiate)),
            ("MESSAGE nonce 3 + 17-byte box", &command_frame(&message)),
        ],
    );
}

#[test]
fn command_unknown() {
    let unknown = Command::Unknown {
        name: Bytes::from_static(b"X-CUSTOM"),
        body: Bytes::from_static(b"data"),
    };
    snap(
        "command_unknown",
        &[("X-CUSTOM \"data\"", &command_frame(&unknown))],
    );
}

// ---------------------------------------------------------------------------------------
// Subscriptions by version (RFC 23, RFC 37; libzmq tests/test_mock_pub_sub.cpp)
// ---------------------------------------------------------------------------------------

#[test]
fn subscriptions() {
    for (name, version) in [
        ("subscription_3_1", Version::V3_1),
        ("subscription_3_0", Version::V3_0),
        ("subscription_2_0", Version::V2_0),
        ("subscription_1_0", Version::V1_0),
    ] {
        let encoder = Encoder::new(version);
        let mut sub = Vec::new();
        encoder.subscription(true, b"A", &mut sub);
        let mut cancel = Vec::new();
        encoder.subscription(false, b"A", &mut cancel);
        let mut everything = Vec::new();
        encoder.subscription(true, b"", &mut everything);
        snap(
            name,
            &[
                (&format!("{version} subscribe \"A\""), &sub),
                (&format!("{version} cancel \"A\""), &cancel),
                (&format!("{version} subscribe \"\""), &everything),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Data frames (RFC 13, RFC 15, RFC 23)
// ---------------------------------------------------------------------------------------

fn data_frame(version: Version, more: bool, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(version).data(more, body, &mut out);
    out
}

#[test]
fn data_frames_v3() {
    let v = Version::V3_1;
    snap(
        "data_v3",
        &[
            ("MORE \"hello\"", &data_frame(v, true, b"hello")),
            ("last, empty", &data_frame(v, false, b"")),
            (
                "last, 255 bytes (largest short form)",
                &data_frame(v, false, &counting(255)),
            ),
            (
                "MORE, 256 bytes (long form)",
                &data_frame(v, true, &counting(256)),
            ),
        ],
    );
}

#[test]
fn data_frames_v2() {
    let v = Version::V2_0;
    snap(
        "data_v2",
        &[
            ("MORE \"hello\"", &data_frame(v, true, b"hello")),
            ("last, empty", &data_frame(v, false, b"")),
            (
                "last, 255 bytes (largest short form)",
                &data_frame(v, false, &counting(255)),
            ),
            (
                "MORE, 256 bytes (long form)",
                &data_frame(v, true, &counting(256)),
            ),
        ],
    );
}

#[test]
fn data_frames_v1() {
    let v = Version::V1_0;
    snap(
        "data_v1",
        &[
            ("MORE \"hello\"", &data_frame(v, true, b"hello")),
            ("last, empty", &data_frame(v, false, b"")),
            (
                "last, 253 bytes (largest short form: size 254 counts the flags)",
                &data_frame(v, false, &counting(253)),
            ),
            (
                "MORE, 254 bytes (long form: size 255)",
                &data_frame(v, true, &counting(254)),
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// A whole NULL handshake and message through a WriteBatch
// ---------------------------------------------------------------------------------------

#[test]
fn batch_null_dealer_handshake() {
    let greeting = Greeting::new(Mechanism::NULL, false);
    let mut batch = WriteBatch::new(Version::V3_1);
    batch.push_raw(&greeting.to_bytes());
    batch
        .push_command(&Command::Ready(metadata_body(&[
            (metadata::SOCKET_TYPE, SocketType::Dealer.name().as_bytes()),
            (metadata::IDENTITY, b""),
        ])))
        .unwrap();
    batch.push_data(true, Bytes::from_static(b""));
    batch.push_data(false, Bytes::from_static(b"hello"));
    let bytes: Vec<u8> = batch.chunks().flatten().copied().collect();
    assert_eq!(bytes.len(), batch.len());
    snap(
        "batch_null_dealer_handshake",
        &[("greeting NULL + READY DEALER + [\"\", \"hello\"]", &bytes)],
    );
}
