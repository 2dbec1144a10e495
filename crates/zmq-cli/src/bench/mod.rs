//! `zmq bench`: our implementation, libzmq and the raw limit side by side.
//!
//! The plan is a list of cells (section, transport, message size); each cell runs its
//! columns (ours, libzmq, raw, and zmq.rs where asked for) one after the other, the order
//! rotating from cell to cell, so that all see the same machine. tcp and ipc cells run
//! each side in its own child process (this binary, re-executed as the hidden
//! `bench-peer`, see [`peer`]); inproc cells run two threads in one child. [`report`]
//! prints the tables and writes CSV, JSON and SVG.

mod api;
mod libzmq;
pub(crate) mod peer;
mod raw;
mod report;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::Value;

use peer::{CurveKeys, Impl, PeerSpec, Role};

/// Measure throughput, latency and memory: ours, libzmq and a plain socket side by side.
///
/// Throughput is PUSH to PULL, counted at the receiver; latency is half the REQ/REP round
/// trip. tcp and ipc run sender and receiver as separate processes, inproc as two threads.
/// libzmq is loaded at run time (--libzmq PATH, else $ZMQ_BENCH_LIBZMQ, Debian's
/// libzmq.so.5, or pyzmq's bundled copy); without it its column says n/a and why.
/// With --zmqrs PATH (or $ZMQ_BENCH_ZMQRS), the throughput and latency cells over tcp
/// and ipc get a fourth column, zmq.rs, driven by the peer program at PATH
/// (bench/zmqrs-peer; `cargo xtask bench --zmqrs` builds it and passes it).
///
/// Examples:
///   zmq bench --quick
///   zmq bench --only latency --transport tcp,ipc --sizes 64,1K
///   zmq bench --out target/bench      (writes results.csv, results.json and SVG curves)
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub(crate) struct BenchArgs {
    /// Fewer sizes (64 B, 1 KiB, 64 KiB) and messages: done in under two minutes.
    #[arg(long)]
    quick: bool,
    /// Transports to measure (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Transport::Tcp, Transport::Ipc, Transport::Inproc])]
    transport: Vec<Transport>,
    /// Message sizes in bytes, K (KiB) or M (MiB), comma-separated [default: 1,16,64,256,
    /// 1K,4K,16K,64K,256K,1M; with --quick 64,1K,64K].
    #[arg(long, value_delimiter = ',', value_parser = parse_size)]
    sizes: Vec<usize>,
    /// Sections to run (comma-separated) [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
    /// Messages per throughput cell, instead of the count adapted to the size.
    #[arg(long, value_name = "N")]
    messages: Option<u64>,
    /// Measured round trips per latency cell, instead of the count adapted to the size.
    #[arg(long, value_name = "N")]
    roundtrips: Option<u64>,
    /// Messages of the peak-memory stream.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    memory_messages: u64,
    /// The libzmq shared library to compare with.
    #[arg(long, value_name = "PATH")]
    libzmq: Option<PathBuf>,
    /// The zmq.rs peer program (bench/zmqrs-peer), for a zmq.rs column in the throughput
    /// and latency cells over tcp and ipc [default: $ZMQ_BENCH_ZMQRS, else no column].
    #[arg(long, value_name = "PATH")]
    zmqrs: Option<PathBuf>,
    /// Write results.csv, results.json, throughput.svg and latency.svg into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Runs every column of every cell N times, the columns alternating within each
    /// round, and reports each column's median run (by the section's headline figure):
    /// small-message cells move between runs, libzmq's most.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=99))]
    repeat: u32,
    /// Seconds one measurement may take before it is stopped and reported as failed.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    timeout: u64,
}

/// A transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Transport {
    Tcp,
    Ipc,
    Inproc,
}

impl Transport {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Ipc => "ipc",
            Self::Inproc => "inproc",
        }
    }
}

/// A section of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Section {
    /// PUSH to PULL, messages/s and MB/s at the receiver.
    Throughput,
    /// REQ/REP, half the round trip.
    Latency,
    /// XPUB to 1 and to 10 SUBs (tcp), messages/s delivered in all.
    Pubsub,
    /// PUSH to PULL over CURVE (tcp).
    Curve,
    /// PUSH to PULL, messages of 64 KiB and more sent without a copy (tcp and ipc).
    Zerocopy,
    /// Our sender to a libzmq receiver and the reverse (tcp).
    Cross,
    /// Peak RSS of sender and receiver during a long stream of 64 B messages (tcp).
    Memory,
}

impl Section {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Throughput => "throughput",
            Self::Latency => "latency",
            Self::Pubsub => "pubsub",
            Self::Curve => "curve",
            Self::Zerocopy => "zerocopy",
            Self::Cross => "cross",
            Self::Memory => "memory",
        }
    }

    const ALL: [Self; 7] = [
        Self::Throughput,
        Self::Latency,
        Self::Pubsub,
        Self::Curve,
        Self::Zerocopy,
        Self::Cross,
        Self::Memory,
    ];
}

/// Whether the cell gets a zmq.rs column: zmq.rs has PUSH, PULL, REQ and REP over tcp
/// and ipc, and neither CURVE nor XPUB nor inproc.
fn zmqrs_measures(section: Section, transport: Transport) -> bool {
    matches!(section, Section::Throughput | Section::Latency) && transport != Transport::Inproc
}

/// The smallest message the zero-copy section sends: the size from which the issue's
/// target is set against the raw stream, which writes its one buffer without a copy.
const ZEROCOPY_FROM: usize = 64 << 10;

/// Message size of the peak-memory stream (the headline small size).
const MEMORY_SIZE: usize = 64;
/// The full mode's sizes (issue 6).
const FULL_SIZES: [usize; 10] = [
    1,
    16,
    64,
    256,
    1 << 10,
    4 << 10,
    16 << 10,
    64 << 10,
    256 << 10,
    1 << 20,
];
/// The quick mode's sizes.
const QUICK_SIZES: [usize; 3] = [64, 1 << 10, 64 << 10];

/// Parses `64`, `1K`, `1KiB`, `4k`, `1M`, `1MiB`.
pub(crate) fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let (digits, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => lower.split_at(i),
        None => (lower.as_str(), ""),
    };
    let unit = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        other => return Err(format!("unknown size unit `{other}` (use B, K or M)")),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{t}` is not a size such as 64, 1K or 1M"))?;
    let size = n
        .checked_mul(unit)
        .filter(|&s| (1..=256 << 20).contains(&s))
        .ok_or_else(|| format!("size `{t}` must be from 1 B to 256 MiB"))?;
    Ok(size)
}

/// A size as people read it: `64 B`, `4 KiB`, `1 MiB`.
pub(crate) fn size_name(size: usize) -> String {
    if size >= 1 << 20 && size.is_multiple_of(1 << 20) {
        format!("{} MiB", size >> 20)
    } else if size >= 1 << 10 && size.is_multiple_of(1 << 10) {
        format!("{} KiB", size >> 10)
    } else {
        format!("{size} B")
    }
}

/// One column of a cell: who sends and who receives.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) label: &'static str,
    sender: Impl,
    receiver: Impl,
}

impl Column {
    const fn same(label: &'static str, imp: Impl) -> Self {
        Self {
            label,
            sender: imp,
            receiver: imp,
        }
    }

    fn uses_libzmq(&self) -> bool {
        self.sender == Impl::Libzmq || self.receiver == Impl::Libzmq
    }
}

/// One row of a table: a section, a transport, a size, and the columns to run.
#[derive(Clone, Debug)]
pub(crate) struct Cell {
    pub(crate) section: Section,
    pub(crate) transport: Transport,
    pub(crate) size: usize,
    /// Subscribers (publish-subscribe cells), else 0.
    pub(crate) subs: u32,
    /// Messages (per subscriber for publish-subscribe) or measured round trips.
    pub(crate) count: u64,
    pub(crate) warmup: u64,
    pub(crate) columns: Vec<Column>,
}

impl Cell {
    /// `throughput tcp 64 B`, `pubsub tcp 1 KiB x10`.
    pub(crate) fn title(&self) -> String {
        let subs = if self.subs > 0 {
            format!(
                " to {} SUB{}",
                self.subs,
                if self.subs == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        format!(
            "{} {} {}{subs}",
            self.section.name(),
            self.transport.name(),
            size_name(self.size)
        )
    }
}

/// What one column of one cell gave.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// The measuring side's numbers (see [`peer`] for the fields).
    Measured(Value),
    /// No number, and why.
    Unavailable(String),
}

/// The adapted message count: `budget` bytes, within `min..=max` messages.
fn adapted(budget: u64, size: usize, min: u64, max: u64) -> u64 {
    (budget / size as u64).clamp(min, max)
}

/// Builds the plan from the arguments.
pub(crate) fn plan(args: &BenchArgs) -> Vec<Cell> {
    let with_zmqrs = zmqrs_path(args).is_some();
    let sizes: Vec<usize> = if !args.sizes.is_empty() {
        args.sizes.clone()
    } else if args.quick {
        QUICK_SIZES.to_vec()
    } else {
        FULL_SIZES.to_vec()
    };
    let sections: Vec<Section> = if args.only.is_empty() {
        Section::ALL.to_vec()
    } else {
        Section::ALL
            .into_iter()
            .filter(|s| args.only.contains(s))
            .collect()
    };
    let (tp_budget, tp_max, lat_budget, lat_max, ps_budget) = if args.quick {
        (256 << 20, 600_000, 64 << 20, 4_000, 64 << 20)
    } else {
        // Up to 3,000,000 messages: a 1,000,000-message cell of small messages lasted
        // 0.2 s, and both implementations' figures moved by a third between runs.
        (512 << 20, 3_000_000, 256 << 20, 10_000, 512 << 20)
    };
    let throughput_count = |size| {
        args.messages
            .unwrap_or_else(|| adapted(tp_budget, size, 200, tp_max))
            .max(2)
    };
    let latency_count = |size| {
        args.roundtrips
            .unwrap_or_else(|| adapted(lat_budget, size, 100, lat_max))
            .max(2)
    };
    // The sections measured over tcp only use fewer sizes in quick mode.
    let secondary: Vec<usize> = if args.quick && args.sizes.is_empty() {
        vec![1 << 10]
    } else {
        sizes.clone()
    };
    let three = vec![
        Column::same("ours", Impl::Ours),
        Column::same("libzmq", Impl::Libzmq),
        Column::same("raw", Impl::Raw),
    ];
    let mut four = three.clone();
    four.push(Column::same("zmq.rs", Impl::Zmqrs));
    let tcp = args.transport.contains(&Transport::Tcp);
    let mut cells = Vec::new();
    let cell = |section, transport, size, subs, count, warmup, columns: &Vec<Column>| Cell {
        section,
        transport,
        size,
        subs,
        count,
        warmup,
        columns: columns.clone(),
    };
    for section in sections {
        match section {
            Section::Throughput | Section::Latency => {
                for &transport in &args.transport {
                    let columns = if with_zmqrs && zmqrs_measures(section, transport) {
                        &four
                    } else {
                        &three
                    };
                    for &size in &sizes {
                        cells.push(if section == Section::Throughput {
                            cell(
                                section,
                                transport,
                                size,
                                0,
                                throughput_count(size),
                                0,
                                columns,
                            )
                        } else {
                            let count = latency_count(size);
                            let warmup = (count / 10).clamp(1, 100);
                            cell(section, transport, size, 0, count, warmup, columns)
                        });
                    }
                }
            }
            Section::Pubsub if tcp => {
                for subs in [1, 10] {
                    for &size in &secondary {
                        let count = args.messages.unwrap_or_else(|| {
                            let max = if args.quick { 200_000 } else { 3_000_000 } / subs as u64;
                            adapted(ps_budget / subs as u64, size, 100, max)
                        });
                        let c = cell(section, Transport::Tcp, size, subs, count.max(2), 0, &three);
                        cells.push(c);
                    }
                }
            }
            Section::Curve if tcp => {
                for &size in &secondary {
                    let c = cell(
                        section,
                        Transport::Tcp,
                        size,
                        0,
                        throughput_count(size),
                        0,
                        &three,
                    );
                    cells.push(c);
                }
            }
            Section::Zerocopy => {
                for &transport in &args.transport {
                    if transport == Transport::Inproc {
                        continue;
                    }
                    for &size in sizes.iter().filter(|&&size| size >= ZEROCOPY_FROM) {
                        let count = throughput_count(size);
                        cells.push(cell(section, transport, size, 0, count, 0, &three));
                    }
                }
            }
            Section::Cross if tcp => {
                let cross = vec![
                    Column {
                        label: "ours→libzmq",
                        sender: Impl::Ours,
                        receiver: Impl::Libzmq,
                    },
                    Column {
                        label: "libzmq→ours",
                        sender: Impl::Libzmq,
                        receiver: Impl::Ours,
                    },
                ];
                for &size in &secondary {
                    let c = cell(
                        section,
                        Transport::Tcp,
                        size,
                        0,
                        throughput_count(size),
                        0,
                        &cross,
                    );
                    cells.push(c);
                }
            }
            Section::Memory if tcp => {
                let count = args.memory_messages.max(2);
                cells.push(cell(
                    section,
                    Transport::Tcp,
                    MEMORY_SIZE,
                    0,
                    count,
                    0,
                    &three,
                ));
            }
            Section::Pubsub | Section::Curve | Section::Cross | Section::Memory => {}
        }
    }
    cells
}

/// Runs `zmq bench`.
pub(crate) fn run(args: &BenchArgs) -> Result<ExitCode, String> {
    let cells = plan(args);
    if cells.is_empty() {
        return Err(
            "nothing to measure: pubsub, curve, cross and memory run over tcp only, \
             zerocopy over tcp and ipc with sizes from 64 KiB; add tcp to --transport, \
             a size of 64 KiB or more to --sizes, or choose throughput or latency with --only"
                .into(),
        );
    }
    let libzmq = match find_libzmq(args.libzmq.as_deref()) {
        Ok(path) => match libzmq::Lib::load(&path) {
            Ok(lib) => {
                let (a, b, c) = lib.version();
                Ok((lib.path().to_path_buf(), format!("{a}.{b}.{c}")))
            }
            Err(e) if args.libzmq.is_some() => return Err(e),
            Err(e) => Err(e),
        },
        Err(e) if args.libzmq.is_some() => return Err(e),
        Err(e) => Err(e),
    };
    match &libzmq {
        Ok((path, version)) => eprintln!("libzmq {version} from {}", path.display()),
        Err(reason) => eprintln!("libzmq column: n/a ({reason})"),
    }
    let zmqrs = zmqrs_path(args);
    if let Some(path) = &zmqrs {
        if !path.exists() {
            return Err(format!(
                "the zmq.rs peer {} does not exist: build it with `cargo xtask bench --zmqrs`",
                path.display()
            ));
        }
        eprintln!("zmq.rs column: {}", path.display());
    }
    let curve_keys = if cells.iter().any(|c| c.section == Section::Curve) {
        Some(CurveKeys::generate()?)
    } else {
        None
    };
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to run its benchmark peers: {e}"))?;
    let runner = Runner {
        exe,
        libzmq: libzmq.as_ref().ok().map(|(p, _)| p.clone()),
        libzmq_missing: libzmq.as_ref().err().cloned(),
        zmqrs: zmqrs.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        curve: curve_keys,
    };
    let mut mode = String::from(if args.quick {
        "quick mode"
    } else {
        "full mode"
    });
    if args.messages.is_some() || args.roundtrips.is_some() {
        mode.push_str(", counts set by hand");
    }
    let repeat = args.repeat.max(1) as usize;
    if repeat > 1 {
        mode.push_str(&format!(", median of {repeat} runs"));
    }
    let meta = report::Meta::collect(
        &mode,
        libzmq.as_ref().ok().map(|(p, v)| (p.as_path(), v.as_str())),
        libzmq.as_ref().err().map(String::as_str),
        zmqrs.as_deref(),
    );
    let total: usize = cells.iter().map(|c| c.columns.len()).sum::<usize>() * repeat;
    let started = Instant::now();
    let mut results = Vec::with_capacity(cells.len());
    let mut done = 0;
    for (i, cell) in cells.iter().enumerate() {
        let n = cell.columns.len();
        let mut runs: Vec<Vec<Outcome>> = vec![Vec::with_capacity(repeat); n];
        // Alternate: each cell, and each round of it, starts with the next column.
        for round in 0..repeat {
            for k in 0..n {
                let j = (i + round + k) % n;
                let column = &cell.columns[j];
                done += 1;
                eprint!(
                    "[{done:>3}/{total}] {:<32} {:<12} ",
                    cell.title(),
                    column.label
                );
                let outcome = runner.run(cell, column);
                eprintln!("{}", report::short(cell.section, &outcome));
                runs[j].push(outcome);
            }
        }
        let outcomes = runs
            .into_iter()
            .map(|runs| report::median_run(cell.section, runs))
            .collect();
        results.push(report::CellResult {
            cell: cell.clone(),
            outcomes,
        });
    }
    let meta = meta.finish(started.elapsed());
    print!("{}", report::tables(&meta, &results));
    if let Some(dir) = &args.out {
        report::write_files(dir, &meta, &results)?;
        eprintln!(
            "wrote results.csv, results.json, throughput.svg and latency.svg to {}",
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The zmq.rs peer program, if a zmq.rs column was asked for.
fn zmqrs_path(args: &BenchArgs) -> Option<PathBuf> {
    args.zmqrs
        .clone()
        .or_else(|| std::env::var_os("ZMQ_BENCH_ZMQRS").map(PathBuf::from))
        .filter(|p| !p.as_os_str().is_empty())
}

/// Where libzmq is, or why it cannot be used.
fn find_libzmq(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return if path.exists() {
            Ok(path.to_path_buf())
        } else {
            Err(format!("--libzmq {}: no such file", path.display()))
        };
    }
    if let Some(path) = std::env::var_os("ZMQ_BENCH_LIBZMQ") {
        let path = PathBuf::from(path);
        return if path.exists() {
            Ok(path)
        } else {
            Err(format!("ZMQ_BENCH_LIBZMQ={}: no such file", path.display()))
        };
    }
    let system = [
        "/usr/lib/x86_64-linux-gnu/libzmq.so.5",
        "/usr/lib/aarch64-linux-gnu/libzmq.so.5",
        "/usr/lib64/libzmq.so.5",
        "/usr/lib/libzmq.so.5",
        "/usr/local/lib/libzmq.so.5",
    ];
    if let Some(path) = system.iter().map(PathBuf::from).find(|p| p.exists()) {
        return Ok(path);
    }
    // pyzmq's wheels bundle libzmq in site-packages/pyzmq.libs: look in the venv of
    // $ZMQ_INTEROP_PYTHON and in any `.tools` venv above the working directory or this
    // program (the workspace's `cargo xtask tools`).
    let mut venvs = Vec::new();
    if let Some(python) = std::env::var_os("ZMQ_INTEROP_PYTHON") {
        if let Some(venv) = Path::new(&python).parent().and_then(Path::parent) {
            venvs.push(venv.to_path_buf());
        }
    }
    let starts = [std::env::current_dir().ok(), std::env::current_exe().ok()];
    for start in starts.iter().flatten() {
        venvs.extend(start.ancestors().map(|dir| dir.join(".tools")));
    }
    for venv in &venvs {
        if let Some(path) = pyzmq_libzmq(venv) {
            return Ok(path);
        }
    }
    Err(
        "no libzmq found: give --libzmq PATH or ZMQ_BENCH_LIBZMQ, install Debian's \
         libzmq5, or pyzmq (`cargo xtask tools`)"
            .into(),
    )
}

/// `<venv>/lib/python3*/site-packages/pyzmq.libs/libzmq*.so*`, if there is one.
fn pyzmq_libzmq(venv: &Path) -> Option<PathBuf> {
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    for python in lib.flatten() {
        let libs = python.path().join("site-packages").join("pyzmq.libs");
        let Ok(entries) = std::fs::read_dir(&libs) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libzmq") && n.contains(".so"))
            })
            .collect();
        found.sort();
        if let Some(path) = found.pop() {
            return Some(path);
        }
    }
    None
}

/// Runs the child processes of one column.
struct Runner {
    exe: PathBuf,
    libzmq: Option<PathBuf>,
    libzmq_missing: Option<String>,
    /// The zmq.rs peer program.
    zmqrs: Option<PathBuf>,
    timeout: Duration,
    curve: Option<CurveKeys>,
}

/// A line from a child, or the end of its output.
enum Line {
    Out(usize, String),
    End(usize),
}

/// A child process, the thread collecting its stderr, and its stdin (closed to let it end).
struct Peer {
    child: Child,
    stderr: Option<std::thread::JoinHandle<String>>,
    stdin: Option<std::process::ChildStdin>,
}

/// Child processes that are killed if the measurement ends early.
struct Children(Vec<Peer>);

impl Drop for Children {
    fn drop(&mut self) {
        for peer in &mut self.0 {
            if let Ok(None) = peer.child.try_wait() {
                let _ = peer.child.kill();
                let _ = peer.child.wait();
            }
        }
    }
}

impl Runner {
    fn run(&self, cell: &Cell, column: &Column) -> Outcome {
        if column.uses_libzmq() && self.libzmq.is_none() {
            let reason = self.libzmq_missing.as_deref().unwrap_or("no libzmq");
            return Outcome::Unavailable(reason.to_string());
        }
        match self.measure(cell, column) {
            Ok(value) => Outcome::Measured(value),
            Err(e) => Outcome::Unavailable(format!("failed: {e}")),
        }
    }

    fn spec(&self, imp: Impl, role: Role, cell: &Cell, endpoint: &str) -> PeerSpec {
        PeerSpec {
            imp,
            libzmq: self.libzmq.clone(),
            role,
            endpoint: endpoint.to_string(),
            size: cell.size,
            count: cell.count,
            warmup: cell.warmup,
            subs: cell.subs,
            index: 0,
            curve: if cell.section == Section::Curve && imp != Impl::Raw {
                self.curve.clone()
            } else {
                None
            },
            shared: cell.section == Section::Zerocopy,
        }
    }

    fn measure(&self, cell: &Cell, column: &Column) -> Result<Value, String> {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let endpoint = match cell.transport {
            Transport::Tcp => "tcp://127.0.0.1:*".to_string(),
            Transport::Ipc => {
                let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path = std::env::temp_dir()
                    .join(format!("zmq-bench-{}-{seq}.sock", std::process::id()));
                format!("ipc://{}", path.display())
            }
            Transport::Inproc => String::new(),
        };
        let result = if cell.transport == Transport::Inproc {
            let role = if cell.section == Section::Latency {
                Role::InprocLatency
            } else {
                Role::InprocThroughput
            };
            let spec = self.spec(column.receiver, role, cell, &endpoint);
            self.processes(spec, Vec::new())
                .map(|mut r| r.swap_remove(0))
        } else {
            match cell.section {
                Section::Latency => {
                    let echo = self.spec(column.receiver, Role::Echo, cell, &endpoint);
                    let ping = self.spec(column.sender, Role::Pinger, cell, "");
                    self.processes(echo, vec![ping])
                        .map(|mut r| r.swap_remove(1))
                }
                Section::Pubsub => {
                    let publisher = self.spec(column.sender, Role::Publisher, cell, &endpoint);
                    let subs = (0..cell.subs)
                        .map(|i| {
                            let mut s = self.spec(column.receiver, Role::Subscriber, cell, "");
                            s.index = i;
                            s
                        })
                        .collect();
                    self.processes(publisher, subs)
                        .and_then(|r| report::pubsub_total(cell, &r[1..]))
                }
                Section::Throughput
                | Section::Curve
                | Section::Zerocopy
                | Section::Cross
                | Section::Memory => {
                    let receiver = self.spec(column.receiver, Role::Receiver, cell, &endpoint);
                    let sender = self.spec(column.sender, Role::Sender, cell, "");
                    self.processes(receiver, vec![sender]).map(|r| {
                        let mut value = r[0].clone();
                        value["receiver_kb"] = r[0]["vmhwm_kb"].clone();
                        value["sender_kb"] = r[1]["vmhwm_kb"].clone();
                        value
                    })
                }
            }
        };
        if let Some(path) = endpoint.strip_prefix("ipc://") {
            let _ = std::fs::remove_file(path);
        }
        result
    }

    /// Starts `first` (which binds and says where, unless it is an inproc pair), then
    /// `rest` connected to it; once every one has said `DONE`, closes their standard
    /// inputs so that they close their sockets and exit; the `RESULT` of each, in order.
    /// If one ends without a result first, the others are stopped.
    fn processes(&self, first: PeerSpec, rest: Vec<PeerSpec>) -> Result<Vec<Value>, String> {
        let deadline = Instant::now() + self.timeout;
        let (tx, rx) = mpsc::channel();
        let mut children = Children(Vec::new());
        let total = 1 + rest.len();
        let mut results: Vec<Option<Value>> = vec![None; total];
        let (mut ended, mut done) = (0, 0);
        let mut roles = vec![format!("{} {:?}", first.imp.name(), first.role)];
        self.spawn(&first, 0, &tx, &mut children)?;
        let mut pending = Some(rest).filter(|r| !r.is_empty());
        let mut stopped_early = false;
        while ended < children.0.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).map_err(|_| {
                format!(
                    "timed out after {} s (raise --timeout)",
                    self.timeout.as_secs()
                )
            })?;
            match line {
                Line::Out(i, text) => {
                    if let Some(ep) = text.strip_prefix("READY ") {
                        for (k, spec) in pending.take().into_iter().flatten().enumerate() {
                            let mut spec = spec;
                            spec.endpoint = ep.to_string();
                            roles.push(format!("{} {:?}", spec.imp.name(), spec.role));
                            self.spawn(&spec, k + 1, &tx, &mut children)?;
                        }
                    } else if text == "DONE" {
                        done += 1;
                        if done == total {
                            for peer in &mut children.0 {
                                peer.stdin = None;
                            }
                        }
                    } else if let Some(json) = text.strip_prefix("RESULT ") {
                        let value = serde_json::from_str(json)
                            .map_err(|e| format!("unreadable result `{json}`: {e}"))?;
                        results[i] = Some(value);
                    }
                }
                Line::End(i) => {
                    ended += 1;
                    if results[i].is_none() {
                        stopped_early = true;
                        break;
                    }
                }
            }
        }
        if stopped_early {
            // Give the failed side's stderr a moment to be complete, then stop the rest.
            for peer in &mut children.0 {
                peer.stdin = None;
                if let Ok(None) = peer.child.try_wait() {
                    let _ = peer.child.kill();
                }
            }
        }
        let mut failures = Vec::new();
        for (i, peer) in children.0.iter_mut().enumerate() {
            let status = peer.child.wait().map_err(|e| format!("wait: {e}"))?;
            let text = peer
                .stderr
                .take()
                .and_then(|h| h.join().ok())
                .unwrap_or_default();
            if !status.success() || results[i].is_none() {
                let why = text.lines().last().unwrap_or("no message").to_string();
                failures.push(format!("{} exited with {status}: {why}", roles[i]));
            }
        }
        if !failures.is_empty() {
            return Err(failures.join("; "));
        }
        if pending.is_some() {
            return Err(format!("{} ended without binding", roles[0]));
        }
        Ok(results.into_iter().map(Option::unwrap_or_default).collect())
    }

    fn spawn(
        &self,
        spec: &PeerSpec,
        index: usize,
        tx: &mpsc::Sender<Line>,
        children: &mut Children,
    ) -> Result<(), String> {
        let json = serde_json::to_string(spec).map_err(|e| format!("spec: {e}"))?;
        let program = match (spec.imp, &self.zmqrs) {
            (Impl::Zmqrs, Some(path)) => path,
            (Impl::Zmqrs, None) => return Err("no zmq.rs peer program (--zmqrs)".into()),
            _ => &self.exe,
        };
        let mut child = Command::new(program)
            .arg("bench-peer")
            .arg(json)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let stdin = child.stdin.take();
        let tx = tx.clone();
        std::thread::spawn(move || {
            if let Some(out) = stdout {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(Line::Out(index, line)).is_err() {
                        return;
                    }
                }
            }
            let _ = tx.send(Line::End(index));
        });
        let err_reader = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut err) = stderr {
                let _ = err.read_to_string(&mut text);
            }
            text
        });
        children.0.push(Peer {
            child,
            stderr: Some(err_reader),
            stdin,
        });
        Ok(())
    }
}
