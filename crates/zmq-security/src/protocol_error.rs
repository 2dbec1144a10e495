//! libzmq's `ZMQ_PROTOCOL_ERROR_*` values: the value of a `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`
//! monitor event (`include/zmq.h`, libzmq 4.3).
//!
//! [`HandshakeError::zmtp_error_code`](crate::HandshakeError::zmtp_error_code) picks one of
//! these for each failure; an engine raises the monitor event with it.

/// `ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED`: a ZMTP failure with no more specific code.
pub const ZMTP_UNSPECIFIED: u32 = 0x1000_0000;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND`: a command (or message) the handshake did
/// not expect at this point.
pub const ZMTP_UNEXPECTED_COMMAND: u32 = 0x1000_0001;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE`: a CURVE nonce out of sequence.
pub const ZMTP_INVALID_SEQUENCE: u32 = 0x1000_0002;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE`: a CURVE key exchange failure.
pub const ZMTP_KEY_EXCHANGE: u32 = 0x1000_0003;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED`: a malformed command.
pub const ZMTP_MALFORMED_COMMAND_UNSPECIFIED: u32 = 0x1000_0011;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE`: a malformed MESSAGE command.
pub const ZMTP_MALFORMED_COMMAND_MESSAGE: u32 = 0x1000_0012;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO`: a malformed HELLO command.
pub const ZMTP_MALFORMED_COMMAND_HELLO: u32 = 0x1000_0013;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE`: a malformed INITIATE command.
pub const ZMTP_MALFORMED_COMMAND_INITIATE: u32 = 0x1000_0014;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR`: a malformed ERROR command.
pub const ZMTP_MALFORMED_COMMAND_ERROR: u32 = 0x1000_0015;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY`: a malformed READY command.
pub const ZMTP_MALFORMED_COMMAND_READY: u32 = 0x1000_0016;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME`: a malformed WELCOME command.
pub const ZMTP_MALFORMED_COMMAND_WELCOME: u32 = 0x1000_0017;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA`: metadata that does not parse or is refused
/// (libzmq's PLAIN and CURVE clients raise it when `parse_metadata` fails, which includes an
/// incompatible `Socket-Type`).
pub const ZMTP_INVALID_METADATA: u32 = 0x1000_0018;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC`: a CURVE box that does not open.
pub const ZMTP_CRYPTOGRAPHIC: u32 = 0x1100_0001;
/// `ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH`: the peers announced different mechanisms.
pub const ZMTP_MECHANISM_MISMATCH: u32 = 0x1100_0002;
/// `ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED`: a ZAP failure with no more specific code.
pub const ZAP_UNSPECIFIED: u32 = 0x2000_0000;
/// `ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY`: a ZAP reply without exactly 7 frames.
pub const ZAP_MALFORMED_REPLY: u32 = 0x2000_0001;
/// `ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID`: a ZAP reply with the wrong request id.
pub const ZAP_BAD_REQUEST_ID: u32 = 0x2000_0002;
/// `ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION`: a ZAP reply whose version is not `1.0`.
pub const ZAP_BAD_VERSION: u32 = 0x2000_0003;
/// `ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE`: a ZAP status other than 200/300/400/500.
pub const ZAP_INVALID_STATUS_CODE: u32 = 0x2000_0004;
/// `ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA`: ZAP reply metadata that does not parse.
pub const ZAP_INVALID_METADATA: u32 = 0x2000_0005;
