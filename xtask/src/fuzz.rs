//! `cargo xtask fuzz [--seconds N] [TARGET...]`: a fuzz smoke run on stable Rust.
//!
//! In `fuzz/` (its own workspace, cargo-fuzz layout) it checks that `fuzz/Cargo.lock` is up
//! to date, builds every target once with `cargo fuzz build -s none` (no sanitizer, so no
//! nightly is needed), then for each target (all of `cargo fuzz list`, or those named):
//!
//! 1. replays `fuzz/regressions/<target>/` (committed crash inputs) with `-runs=0`, if it
//!    exists;
//! 2. fuzzes for N seconds (default 10) from `fuzz/corpus/<target>/` (created if missing,
//!    and grown by the run) plus `fuzz/seeds/<target>/` if it exists, with
//!    `-rss_limit_mb=1024 -malloc_limit_mb=128`.
//!
//! The targets over `unsafe` code (`pipe_ops`, the pipe's lock-free frame queue;
//! `read_splits`, the engine's reads into uninitialised capacity;
//! `handshake_curve_server`, whose traffic goes through CURVE's AVX2 Salsa20, called
//! through `unsafe` once the CPU is found to have AVX2) then do both steps again
//! under AddressSanitizer, built into `fuzz/target/asan` with
//! `RUSTC_BOOTSTRAP=1` set for that command only (ASan's `-Z` flag on stable Rust).
//!
//! libFuzzer's per-input progress lines are counted, not echoed. A crash, leak, time-out or
//! out-of-memory input fails the target, and the saved input (under `fuzz/artifacts/`) is
//! named. Every target runs even after one fails; a table closes the run.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{self, Result};

/// Default seconds of fuzzing per target.
pub(crate) const DEFAULT_SECONDS: u64 = 10;

/// libFuzzer limits for every run.
const LIMITS: [&str; 2] = ["-rss_limit_mb=1024", "-malloc_limit_mb=128"];

/// Targets whose code under test has `unsafe` blocks: after their plain run they run again
/// under AddressSanitizer, which catches the out-of-bounds, use-after-free and leaks that
/// a plain run does not see.
const ASAN_TARGETS: [&str; 3] = ["pipe_ops", "read_splits", "handshake_curve_server"];

/// How a target is built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sanitizer {
    /// No sanitizer: stable Rust as it is.
    None,
    /// AddressSanitizer (with its leak checker): needs `RUSTC_BOOTSTRAP=1` on stable, set
    /// on that command only; built into `fuzz/target/asan`, so that the plain build stays.
    Address,
}

impl Sanitizer {
    /// `cargo fuzz <verb> <these> ...`, with the environment it needs.
    fn apply(self, cmd: &mut Command) {
        match self {
            Self::None => {
                cmd.args(["-s", "none"]);
            }
            Self::Address => {
                cmd.args(["-s", "address", "--target-dir", "target/asan"])
                    .env("RUSTC_BOOTSTRAP", "1");
            }
        }
    }

    fn label(self, target: &str) -> String {
        match self {
            Self::None => target.to_owned(),
            Self::Address => format!("{target} (ASan)"),
        }
    }
}

/// Runs `cargo xtask fuzz`.
pub(crate) fn main(mut args: impl Iterator<Item = String>) -> Result {
    let mut seconds = DEFAULT_SECONDS;
    let mut targets = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            seconds = util::parse_seconds("--seconds", args.next())?;
        } else if let Some(value) = arg.strip_prefix("--seconds=") {
            seconds = util::parse_seconds("--seconds", Some(value.to_owned()))?;
        } else if arg.starts_with('-') {
            return Err(format!(
                "unknown option `{arg}`; usage: cargo xtask fuzz [--seconds N] [TARGET...]"
            ));
        } else {
            targets.push(arg);
        }
    }
    run(seconds, &targets)
}

/// What happened to one target.
struct Outcome {
    target: String,
    ok: bool,
    status: String,
    seconds: String,
}

/// Builds the fuzz targets and runs each for `seconds`; `requested` empty means all.
pub(crate) fn run(seconds: u64, requested: &[String]) -> Result {
    let dir = util::root().join("fuzz");
    if !dir.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} not found: the fuzz targets live in their own cargo-fuzz workspace there \
             (`cargo fuzz init` creates it)",
            dir.join("Cargo.toml").display()
        ));
    }
    if util::try_output(&mut fuzz_cmd(&dir, &["--version"])).is_none() {
        return Err(
            "`cargo fuzz` is not available: run `cargo xtask tools` first \
                    (it installs cargo-fuzz into .tools/bin)"
                .to_owned(),
        );
    }

    util::run(util::cargo(&["fetch", "--locked"]).current_dir(&dir)).map_err(|e| {
        format!(
            "{e}\nfuzz/Cargo.lock is missing or out of date: run `cargo update --workspace` in \
             fuzz/ and commit fuzz/Cargo.lock"
        )
    })?;

    let listed: Vec<String> = util::output_of(&mut fuzz_cmd(&dir, &["list"]))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let targets: Vec<String> = if requested.is_empty() {
        listed.clone()
    } else {
        for t in requested {
            if !listed.contains(t) {
                return Err(format!(
                    "no fuzz target `{t}`; `cargo fuzz list` has: {}",
                    listed.join(", ")
                ));
            }
        }
        requested.to_vec()
    };
    if targets.is_empty() {
        return Err("`cargo fuzz list` found no fuzz targets in fuzz/".to_owned());
    }

    println!("building {} fuzz target(s) (sanitizer: none)", listed.len());
    util::run(&mut fuzz_cmd(&dir, &["build", "-s", "none"]))?;

    let runs: Vec<(&String, Sanitizer)> = targets
        .iter()
        .map(|t| (t, Sanitizer::None))
        .chain(
            targets
                .iter()
                .filter(|t| ASAN_TARGETS.contains(&t.as_str()))
                .map(|t| (t, Sanitizer::Address)),
        )
        .collect();
    let n = runs.len();
    let mut outcomes = Vec::new();
    for (i, &(target, sanitizer)) in runs.iter().enumerate() {
        let label = sanitizer.label(target);
        println!("\n--> fuzz target {label} ({}/{n}), {seconds} s", i + 1);
        if sanitizer == Sanitizer::Address {
            println!("(built once more, with AddressSanitizer, into fuzz/target/asan)");
        }
        let (outcome, took) = util::timed(|| fuzz_one(&dir, target, sanitizer, seconds));
        let (ok, status) = match outcome {
            Ok(status) => (true, status),
            Err(e) => (false, format!("FAILED: {e}")),
        };
        println!("<-- {label}: {status}");
        outcomes.push(Outcome {
            target: label,
            ok,
            status,
            seconds: util::secs(took),
        });
    }

    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| vec![o.target.clone(), o.status.clone(), o.seconds.clone()])
        .collect();
    println!(
        "\nfuzz summary ({seconds} s per target):\n{}",
        util::table(&["target", "runs / status", "seconds"], &rows)
    );

    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        let lines: Vec<String> = failed
            .iter()
            .map(|o| format!("  {}: {}", o.target, o.status))
            .collect();
        Err(format!(
            "{} of {n} fuzz run(s) failed:\n{}\nReproduce with `cargo fuzz run -s none <target> \
             <artifact>` in fuzz/ (an ASan run: `RUSTC_BOOTSTRAP=1 cargo fuzz run -s address \
             --target-dir target/asan <target> <artifact>`); once fixed, copy the input to \
             fuzz/regressions/<target>/ so it is replayed on every run",
            failed.len(),
            lines.join("\n")
        ))
    }
}

/// `cargo fuzz <args>` run in `dir`.
fn fuzz_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = util::cargo(&["fuzz"]);
    cmd.args(args).current_dir(dir);
    cmd
}

/// Replays the regressions, then fuzzes; `Ok(status)` or `Err(what failed)`.
fn fuzz_one(dir: &Path, target: &str, sanitizer: Sanitizer, seconds: u64) -> Result<String> {
    let corpus = dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let mut status = String::new();

    let regressions = dir.join("regressions").join(target);
    if regressions.is_dir() {
        let count = std::fs::read_dir(&regressions).map_or(0, Iterator::count);
        println!(
            "replaying {count} regression input(s) from {}",
            regressions.display()
        );
        let report = run_fuzzer(
            dir,
            target,
            sanitizer,
            &[regressions.as_path()],
            &["-runs=0"],
        )?;
        if !report.ok {
            return Err(format!(
                "a regression input in {} fails again ({}){}",
                relative(&regressions).display(),
                report.exit,
                report.artifacts_note()
            ));
        }
        status = format!("{count} regression(s) ok, ");
    }

    let mut corpora = vec![corpus.as_path()];
    let seeds = dir.join("seeds").join(target);
    if seeds.is_dir() {
        corpora.push(seeds.as_path());
    }
    let time = format!("-max_total_time={seconds}");
    let report = run_fuzzer(dir, target, sanitizer, &corpora, &[&time])?;
    if !report.ok {
        return Err(format!(
            "the fuzzer found a failing input ({}){}",
            report.exit,
            report.artifacts_note()
        ));
    }
    match report.runs {
        Some(runs) => status.push_str(&format!("{runs} runs")),
        None => status.push_str("ok"),
    }
    Ok(status)
}

/// What one `cargo fuzz run` printed and how it ended.
struct Report {
    ok: bool,
    exit: String,
    runs: Option<u64>,
    artifacts: Vec<PathBuf>,
}

impl Report {
    fn artifacts_note(&self) -> String {
        if self.artifacts.is_empty() {
            "; no artifact was saved, see the output above".to_owned()
        } else {
            let paths: Vec<String> = self
                .artifacts
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            format!("; artifact: {}", paths.join(", "))
        }
    }
}

/// Runs `cargo fuzz run -s <sanitizer> <target> <corpora> -- <flags> <LIMITS>`, echoing its
/// stderr except libFuzzer's progress lines, and collects the run count and saved
/// artifacts.
fn run_fuzzer(
    dir: &Path,
    target: &str,
    sanitizer: Sanitizer,
    corpora: &[&Path],
    flags: &[&str],
) -> Result<Report> {
    let artifacts_dir = dir.join("artifacts").join(target);
    let before = list_files(&artifacts_dir);

    let mut cmd = fuzz_cmd(dir, &["run"]);
    sanitizer.apply(&mut cmd);
    cmd.arg(target)
        .args(corpora)
        .arg("--")
        .args(flags)
        .args(LIMITS);
    println!("$ (in fuzz/) {}", util::display(&cmd));
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{}`: {e}", util::display(&cmd)))?;

    let mut runs = None;
    let mut written = Vec::new();
    let mut hidden = 0usize;
    let mut last_progress = None;
    if let Some(stderr) = child.stderr.take() {
        let mut reader = BufReader::new(stderr);
        let mut buf = Vec::new();
        while reader.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
            let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
            buf.clear();
            if is_progress(&line) && !line.contains("INITED") && !line.contains("DONE") {
                hidden += 1;
                last_progress = Some(line);
                continue;
            }
            if let Some(n) = parse_done(&line) {
                runs = Some(n);
            }
            if let Some(path) = line.split("Test unit written to ").nth(1) {
                written.push(path.trim().to_owned());
            }
            eprintln!("{line}");
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo fuzz: {e}"))?;
    if let Some(last) = last_progress {
        println!("({hidden} progress line(s) not shown; last: {last})");
    }

    let mut artifacts: Vec<PathBuf> = list_files(&artifacts_dir)
        .difference(&before)
        .cloned()
        .collect();
    for path in written {
        let path = dir.join(path);
        if !artifacts.iter().any(|a| same_file(a, &path)) {
            artifacts.push(path);
        }
    }
    let artifacts = artifacts.iter().map(|a| relative(a)).collect();
    Ok(Report {
        ok: status.success(),
        exit: util::describe(status),
        runs,
        artifacts,
    })
}

/// `path` relative to the workspace root when it is inside it.
fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(util::root())
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn list_files(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// libFuzzer's status lines: `#4096\tpulse  cov: ...`, `#12\tNEW    cov: ...`.
fn is_progress(line: &str) -> bool {
    line.strip_prefix('#')
        .and_then(|rest| rest.split_once('\t'))
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `Done 4227899 runs in 11 second(s)` -> 4227899.
fn parse_done(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("Done ")?;
    let (n, rest) = rest.split_once(' ')?;
    rest.starts_with("runs in")
        .then(|| n.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_libfuzzer_lines() {
        assert!(is_progress(
            "#4096\tpulse  cov: 12 ft: 13 corp: 2/3b exec/s: 0 rss: 30Mb"
        ));
        assert!(is_progress("#2\tINITED cov: 3"));
        assert!(!is_progress("#![no_main]"));
        assert!(!is_progress("INFO: Seed: 1"));
        assert_eq!(
            parse_done("Done 4227899 runs in 11 second(s)"),
            Some(4_227_899)
        );
        assert_eq!(parse_done("Done compiling"), None);
    }
}
