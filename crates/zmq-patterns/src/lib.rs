//! ZeroMQ socket-type semantics as sans-IO state machines.
//!
//! This crate will hold PAIR, REQ, REP, DEALER, ROUTER, PUSH, PULL, the publish-subscribe
//! family, STREAM and the draft types, with their routing strategies (load-balance,
//! fair-queue, distribute) and the subscription trie, testable with no I/O. It has no
//! functionality yet: the patterns arrive with the runtime work (see `ARCHITECTURE.md`).
#![no_std]
#![forbid(unsafe_code)]
