//! `zmq bench` run as a program in a tiny mode (one size, few messages): the table, CSV,
//! JSON and SVG it writes are well-formed and every number is positive. Not a timed test:
//! nothing here depends on how fast the machine is.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use zmq_testkit::pyzmq_libzmq as libzmq;

const ZMQ: &str = env!("CARGO_BIN_EXE_zmq");

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zmq-bench-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The `results.json` written into `out`.
fn results_json(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap())
        .expect("results.json is JSON")
}

/// `zmq bench` in the tiny mode, with `extra` arguments and environment.
fn tiny_bench(out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(ZMQ);
    cmd.args([
        "bench",
        "--sizes",
        "64",
        "--messages",
        "2000",
        "--roundtrips",
        "50",
        "--memory-messages",
        "2000",
        "--timeout",
        "300",
        "--out",
    ])
    .arg(out)
    .args(extra)
    .env_remove("ZMQ_BENCH_LIBZMQ")
    .env_remove("ZMQ_BENCH_ZMQRS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("run zmq bench");
    assert!(
        output.status.success(),
        "zmq bench failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Splits one CSV line (fields may be quoted, with `""` for a quote).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    assert!(!quoted, "unterminated quote in CSV line {line:?}");
    fields
}

fn positive(row: &[(String, String)], field: &str) -> f64 {
    let value = row
        .iter()
        .find(|(k, _)| k == field)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {field} in {row:?}"));
    let x: f64 = value
        .parse()
        .unwrap_or_else(|_| panic!("{field} = {value:?} is not a number in {row:?}"));
    assert!(x > 0.0 && x.is_finite(), "{field} = {x} in {row:?}");
    x
}

/// Checks the CSV: same number of fields on every line, and for each measured row the
/// figures of its section positive. Returns (measured rows, unavailable rows) as maps.
fn check_csv(text: &str) -> Vec<Vec<(String, String)>> {
    let mut lines = text.lines();
    let header = csv_fields(lines.next().expect("a CSV header"));
    assert_eq!(
        &header[..7],
        [
            "section",
            "transport",
            "size",
            "subs",
            "count",
            "column",
            "status"
        ]
    );
    let mut rows = Vec::new();
    for line in lines {
        let fields = csv_fields(line);
        assert_eq!(fields.len(), header.len(), "CSV line {line:?}");
        let row: Vec<(String, String)> = header.iter().cloned().zip(fields).collect();
        let get = |k: &str| row.iter().find(|(h, _)| h == k).unwrap().1.clone();
        if get("status") == "ok" {
            match get("section").as_str() {
                "latency" => {
                    let p50 = positive(&row, "p50_us");
                    let p99 = positive(&row, "p99_us");
                    let max = positive(&row, "max_us");
                    positive(&row, "mean_us");
                    assert!(
                        p50 <= p99 && p99 <= max,
                        "percentiles out of order: {row:?}"
                    );
                }
                "memory" => {
                    positive(&row, "receiver_kb");
                    positive(&row, "sender_kb");
                }
                _ => {
                    positive(&row, "msgs_per_s");
                    positive(&row, "mb_per_s");
                }
            }
        } else {
            assert_eq!(get("status"), "n/a", "{row:?}");
            assert!(!get("note").is_empty(), "an n/a without a reason: {row:?}");
        }
        rows.push(row);
    }
    rows
}

fn check_svg(path: &Path) {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert!(svg.contains("<polyline"), "no curve in {}", path.display());
}

#[test]
fn tiny_run_measures_all_three_columns() {
    let out = out_dir("all");
    let lib = libzmq();
    let output = tiny_bench(&out, &["--libzmq", lib.to_str().unwrap()], &[]);
    let table = String::from_utf8_lossy(&output.stdout);
    for heading in [
        "Throughput: PUSH to PULL",
        "Latency: REQ/REP",
        "Publish-subscribe",
        "CURVE throughput",
        "Cross-implementation",
        "Peak memory",
    ] {
        assert!(table.contains(heading), "no {heading:?} in\n{table}");
    }
    assert!(
        table.contains("ours/libzmq") && table.contains("ours/raw"),
        "{table}"
    );
    for transport in ["tcp ", "ipc ", "inproc "] {
        assert!(table.contains(transport), "no {transport} row in\n{table}");
    }
    assert!(
        !table.contains("n/a"),
        "a column was not measured:\n{table}"
    );
    // Progress went to stderr, one line per column run.
    let progress = String::from_utf8_lossy(&output.stderr);
    assert!(progress.contains("[  1/"), "{progress}");

    let rows = check_csv(&std::fs::read_to_string(out.join("results.csv")).unwrap());
    // 3 transports x (throughput + latency) x 3 columns, pubsub 2 x 3, curve 3, cross 2,
    // memory 3.
    assert_eq!(rows.len(), 18 + 6 + 3 + 2 + 3, "{rows:?}");
    assert!(rows
        .iter()
        .all(|r| r.iter().any(|(k, v)| k == "status" && v == "ok")));

    let json = results_json(&out);
    assert!(json["meta"]["libzmq_version"]
        .as_str()
        .is_some_and(|v| v.starts_with("4.")));
    let cells = json["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 6 + 2 + 1 + 1 + 1);
    for cell in cells {
        for column in cell["columns"].as_array().unwrap() {
            assert_eq!(column["status"], "ok", "{cell}");
        }
        if cell["section"] != "cross" {
            assert!(
                cell["ours_over_libzmq"].as_f64().is_some_and(|r| r > 0.0),
                "{cell}"
            );
            assert!(
                cell["ours_over_raw"].as_f64().is_some_and(|r| r > 0.0),
                "{cell}"
            );
        }
    }
    check_svg(&out.join("throughput.svg"));
    check_svg(&out.join("latency.svg"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn without_libzmq_its_column_says_why() {
    let out = out_dir("nolib");
    let output = tiny_bench(
        &out,
        &["--transport", "tcp", "--only", "throughput,latency"],
        &[("ZMQ_BENCH_LIBZMQ", "/nonexistent/libzmq.so.5")],
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("n/a"), "{table}");
    let rows = check_csv(&std::fs::read_to_string(out.join("results.csv")).unwrap());
    assert_eq!(rows.len(), 6);
    for row in &rows {
        let get = |k: &str| row.iter().find(|(h, _)| h == k).unwrap().1.as_str();
        if get("column") == "libzmq" {
            assert_eq!(get("status"), "n/a");
            assert!(get("note").contains("ZMQ_BENCH_LIBZMQ"), "{row:?}");
        } else {
            assert_eq!(get("status"), "ok", "{row:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_bad_size_is_refused_with_the_reason() {
    let output = Command::new(ZMQ)
        .args(["bench", "--sizes", "3X"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("unknown size unit"), "{err}");
}

#[test]
fn repeated_runs_report_each_columns_median() {
    let out = out_dir("repeat");
    let output = tiny_bench(
        &out,
        &[
            "--transport",
            "inproc",
            "--only",
            "throughput",
            "--repeat",
            "3",
        ],
        &[("ZMQ_BENCH_LIBZMQ", "/nonexistent/libzmq.so.5")],
    );
    let progress = String::from_utf8_lossy(&output.stderr);
    // Ours and raw, three times each (libzmq's column is n/a each time).
    assert!(progress.contains("[  9/9]"), "{progress}");
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("median of 3 runs"), "{table}");
    let json = results_json(&out);
    let cells = json["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 1);
    for column in cells[0]["columns"].as_array().unwrap() {
        if column["column"] == "libzmq" {
            assert_eq!(column["status"], "n/a");
            continue;
        }
        let result = &column["result"];
        let runs: Vec<f64> = result["runs"]
            .as_array()
            .expect("every run's figure")
            .iter()
            .map(|r| r.as_f64().unwrap())
            .collect();
        assert_eq!(runs.len(), 3, "{column}");
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(result["msgs_per_s"].as_f64(), Some(sorted[1]), "{column}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn zero_copy_sends_measure_all_three_columns_from_64_kib() {
    let out = out_dir("zerocopy");
    let lib = libzmq();
    let output = tiny_bench(
        &out,
        &[
            "--libzmq",
            lib.to_str().unwrap(),
            "--only",
            "zerocopy",
            // With the tiny mode's 64 B, which this section leaves out.
            "--sizes",
            "65536",
        ],
        &[],
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("Zero-copy throughput"), "{table}");
    assert!(
        !table.contains("n/a"),
        "a column was not measured:\n{table}"
    );
    let json = results_json(&out);
    let cells = json["cells"].as_array().expect("cells");
    // tcp and ipc at 64 KiB; not inproc, not 64 B.
    let mut seen: Vec<(String, u64)> = cells
        .iter()
        .map(|c| {
            assert_eq!(c["section"], "zerocopy", "{c}");
            for column in c["columns"].as_array().unwrap() {
                assert_eq!(column["status"], "ok", "{c}");
                assert!(
                    column["result"]["msgs_per_s"]
                        .as_f64()
                        .is_some_and(|r| r > 0.0),
                    "{c}"
                );
            }
            (
                c["transport"].as_str().unwrap().to_string(),
                c["size"].as_u64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [("ipc".to_string(), 65536), ("tcp".to_string(), 65536)]
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// The zmq.rs peer program (`bench/zmqrs-peer`), built as `cargo xtask bench --zmqrs`
/// builds it (CI builds it in a step of its own; here that is then quick).
fn zmqrs_peer() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // This test's own target directory: the tool is in `<target>/<profile>/zmq`.
    let target = Path::new(ZMQ)
        .parent()
        .and_then(Path::parent)
        .expect("the tool is in a target directory")
        .join("zmqrs-peer");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--quiet",
            "--manifest-path",
        ])
        .arg(root.join("bench/zmqrs-peer/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("run cargo");
    assert!(status.success(), "the zmq.rs peer did not build");
    target.join("release/zmqrs-peer")
}

#[test]
fn the_zmqrs_column_is_measured_over_tcp_and_ipc_only() {
    let out = out_dir("zmqrs");
    let lib = libzmq();
    let peer = zmqrs_peer();
    let output = tiny_bench(
        &out,
        &[
            "--libzmq",
            lib.to_str().unwrap(),
            "--zmqrs",
            peer.to_str().unwrap(),
            "--only",
            "throughput,latency",
        ],
        &[],
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("zmq.rs (the `zeromq` crate) through"),
        "{table}"
    );
    assert!(table.contains("ours/zmq.rs"), "{table}");
    assert!(
        !table.contains("n/a"),
        "a column was not measured:\n{table}"
    );
    let json = results_json(&out);
    let cells = json["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 6, "two sections over three transports");
    for c in cells {
        let labels: Vec<&str> = c["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|col| {
                assert_eq!(col["status"], "ok", "{c}");
                col["column"].as_str().unwrap()
            })
            .collect();
        if c["transport"] == "inproc" {
            // zmq.rs has no inproc.
            assert_eq!(labels, ["ours", "libzmq", "raw"], "{c}");
            assert!(c["ours_over_zmqrs"].is_null(), "{c}");
        } else {
            assert_eq!(labels, ["ours", "libzmq", "raw", "zmq.rs"], "{c}");
            let figure = if c["section"] == "latency" {
                "mean_us"
            } else {
                "msgs_per_s"
            };
            let zmqrs = &c["columns"][3]["result"];
            assert!(zmqrs[figure].as_f64().is_some_and(|x| x > 0.0), "{c}");
            assert!(zmqrs["vmhwm_kb"].as_u64().is_some_and(|kb| kb > 0), "{c}");
            assert!(
                c["ours_over_zmqrs"].as_f64().is_some_and(|r| r > 0.0),
                "{c}"
            );
            assert!(c["ahead_of_zmqrs"].is_boolean(), "{c}");
        }
    }
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(
        csv.lines().filter(|l| l.contains(",zmq.rs,ok,")).count(),
        4,
        "{csv}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
