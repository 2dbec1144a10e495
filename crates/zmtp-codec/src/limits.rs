//! Named limits of the wire format and the defaults the decoder enforces.
//!
//! Every length a peer announces is checked against one of these (or against the caller's
//! configured maximum) before anything is allocated for it.

/// Size of the ZMTP 3.x greeting (RFC 23, "Greeting": signature 10, version 2, mechanism 20,
/// as-server 1, filler 31).
pub const GREETING_SIZE: usize = 64;

/// Size of the greeting signature (RFC 23: `%xFF padding %x7F`).
pub const SIGNATURE_SIZE: usize = 10;

/// Size of the ZMTP 2.0 greeting: signature, revision and socket type (RFC 15).
pub const V2_GREETING_SIZE: usize = 12;

/// Size of a mechanism name field, NUL-padded (RFC 23, "mechanism = 20OCTET").
pub const MECHANISM_SIZE: usize = 20;

/// Largest command name (RFC 23: the name is prefixed by one octet).
pub const MAX_COMMAND_NAME: usize = 255;

/// Largest metadata property name (RFC 23: `name = OCTET 1*255name-char`).
pub const MAX_PROPERTY_NAME: usize = 255;

/// Most properties accepted in one metadata list.
///
/// RFC 23 sets no bound; libzmq sends two (Socket-Type, Identity) plus one per
/// `ZMQ_METADATA` entry. The bound caps the table a peer can make us build; the bytes
/// themselves are already bounded by the command size.
pub const MAX_PROPERTIES: usize = 1024;

/// Largest PING context (RFC 37, "PING": up to 16 octets of context).
pub const MAX_PING_CONTEXT: usize = 16;

/// Largest group name of JOIN and LEAVE (RFC 48: 0-255 octets).
pub const MAX_GROUP_NAME: usize = 255;

/// Largest ERROR reason (RFC 23: `error-reason = OCTET 0*255VCHAR`).
pub const MAX_ERROR_REASON: usize = 255;

/// Largest frame size the decoder can represent at all.
///
/// A 64-bit length above this is rejected whatever the configured maximum: no buffer of
/// that size can exist (Rust allocations are bounded by `isize::MAX`).
pub const MAX_REPRESENTABLE_FRAME: u64 = isize::MAX as u64;

/// Default largest command frame while a connection is being set up.
///
/// Handshake commands are small (a NULL READY is tens of bytes, a CURVE INITIATE a few
/// hundred plus metadata); 64 KiB leaves ample room for application metadata while stopping
/// a peer that announces a huge handshake command. An engine may raise it after the
/// handshake, when CURVE MESSAGE commands carry whole messages.
pub const DEFAULT_HANDSHAKE_COMMAND_SIZE: u64 = 64 * 1024;

/// Frames whose body is at least this large are handed out separately by the encoder for a
/// vectored write, instead of being copied into the batch.
pub const DEFAULT_LARGE_FRAME: usize = 8 * 1024;
