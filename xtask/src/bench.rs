//! `cargo xtask bench [ARGS...]`: builds the `zmq` tool in release mode and runs
//! `zmq bench ARGS...` (ours, libzmq and a plain socket side by side; `zmq bench --help`
//! lists the arguments). Results go to `<target dir>/bench` unless `--out` is given.
//!
//! libzmq is found by the tool itself (`--libzmq`, `ZMQ_BENCH_LIBZMQ`, Debian's
//! `libzmq.so.5`, or pyzmq's bundled copy in `.tools`, which `cargo xtask tools` installs).
//!
//! `--zmqrs` (no value) builds the zmq.rs peer (`bench/zmqrs-peer`, its own workspace,
//! into `<target dir>/zmqrs-peer`) and passes it to the tool: the throughput and latency
//! cells over tcp and ipc then have a zmq.rs column.

use std::path::PathBuf;

use crate::util::{self, Result};

/// Runs `cargo xtask bench`.
pub(crate) fn main(args: impl Iterator<Item = String>) -> Result {
    let mut args: Vec<String> = args.collect();
    util::run(&mut util::cargo(&[
        "build",
        "--release",
        "--package",
        "zmq-cli",
        "--bin",
        "zmq",
    ]))?;
    let target = target_dir();
    if let Some(at) = args.iter().position(|a| a == "--zmqrs") {
        let peer = build_zmqrs_peer()?;
        args.splice(at..=at, ["--zmqrs".to_string(), peer.display().to_string()]);
    }
    let zmq = target.join("release").join("zmq");
    if !args.iter().any(|a| a == "--out" || a.starts_with("--out=")) {
        args.push("--out".into());
        args.push(target.join("bench").display().to_string());
    }
    let mut cmd = util::command(&zmq.display().to_string());
    cmd.arg("bench").args(&args);
    util::run(&mut cmd)
}

/// The workspace's target directory.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_relative() {
                util::root().join(dir)
            } else {
                dir
            }
        })
        .unwrap_or_else(|| util::root().join("target"))
}

/// Builds the zmq.rs peer program (release, with its own lock file) and returns its path.
pub(crate) fn build_zmqrs_peer() -> Result<PathBuf> {
    let manifest = util::root()
        .join("bench")
        .join("zmqrs-peer")
        .join("Cargo.toml");
    let target = target_dir().join("zmqrs-peer");
    util::run(&mut util::cargo(&[
        "build",
        "--release",
        "--locked",
        "--manifest-path",
        &manifest.display().to_string(),
        "--target-dir",
        &target.display().to_string(),
    ]))?;
    Ok(target.join("release").join("zmqrs-peer"))
}
