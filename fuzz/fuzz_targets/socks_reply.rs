//! A SOCKS5 proxy's answers (`ZMQ_SOCKS_PROXY`): the first byte picks the exchange (bit 0:
//! with a user name and password; bit 1: to a host name), the rest is what the proxy says.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zmq_transport::fuzzing::socks_negotiate(data);
});
