//! `cargo xtask loom`: the model tests of the lock-free structures, under loom.
//!
//! Builds `zmq-transport`'s unit tests with `--cfg loom` (loom's atomics and cells in place
//! of `std`'s in the pipe's frame queue, `pipe/sync.rs`) into `target/loom`, so the normal
//! build's cache is left alone, and runs the `model` tests: each explores the interleavings
//! of a writer and a reader thread, and fails on a data race, a frame lost, reordered or
//! dropped twice.

use std::process::Command;

use crate::util::{self, Result};

/// The model tests (a test-name filter).
const MODELS: &str = "pipe::frames::model";

/// Runs `cargo xtask loom`.
pub(crate) fn main(mut args: impl Iterator<Item = String>) -> Result {
    if let Some(arg) = args.next() {
        return Err(format!("unknown argument `{arg}`; usage: cargo xtask loom"));
    }
    util::run(&mut command())
}

/// The command that builds and runs the model tests.
pub(crate) fn command() -> Command {
    let mut cmd = util::cargo(&[
        "test",
        "--package",
        "zmq-transport",
        "--lib",
        "--release",
        "--locked",
        MODELS,
    ]);
    cmd.env("RUSTFLAGS", "--cfg loom")
        .env("CARGO_TARGET_DIR", util::root().join("target").join("loom"));
    cmd
}
