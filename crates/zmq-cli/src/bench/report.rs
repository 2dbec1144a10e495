//! The report: a table per section (ours / libzmq / raw, and zmq.rs where it was asked
//! for, with the ratios and the target for the cell), `results.csv`, `results.json`, and the throughput and latency
//! curves as SVG (hand-written: no plotting or font dependency).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::{size_name, Cell, Outcome, Section, Transport};

/// One cell and what each of its columns gave (in the cell's column order).
pub(crate) struct CellResult {
    pub(crate) cell: Cell,
    pub(crate) outcomes: Vec<Outcome>,
}

/// Where and how the run was made.
pub(crate) struct Meta {
    json: Value,
}

impl Meta {
    /// The machine and libzmq, read at the start of the run.
    pub(crate) fn collect(
        mode: &str,
        libzmq: Option<(&Path, &str)>,
        libzmq_missing: Option<&str>,
        zmqrs: Option<&Path>,
    ) -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        Self {
            json: json!({
                "mode": mode,
                "date_utc": utc_now(),
                "zmq_cli_version": env!("CARGO_PKG_VERSION"),
                "cpu": cpu,
                "cores": cores,
                "kernel": kernel,
                "load_average_start": load_average(),
                "libzmq_path": libzmq.map(|(p, _)| p.display().to_string()),
                "libzmq_version": libzmq.map(|(_, v)| v),
                "libzmq_missing": libzmq_missing,
                "zmqrs_peer": zmqrs.map(|p| p.display().to_string()),
            }),
        }
    }

    /// Adds the run's length and the load at its end.
    pub(crate) fn finish(mut self, elapsed: Duration) -> Self {
        self.json["seconds"] = json!(elapsed.as_secs_f64());
        self.json["load_average_end"] = json!(load_average());
        self
    }

    fn text(&self, key: &str) -> String {
        match &self.json[key] {
            Value::String(s) => s.clone(),
            Value::Null => "-".into(),
            other => other.to_string(),
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The current UTC time as `YYYY-MM-DD HH:MM:SS`.
fn utc_now() -> String {
    let secs = super::peer::epoch_ns() / 1_000_000_000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The total of a publish-subscribe cell from its subscribers' results: every message
/// delivered to every subscriber, over the span from the earliest first message to the
/// latest last one.
pub(crate) fn pubsub_total(cell: &Cell, subs: &[Value]) -> Result<Value, String> {
    let field = |v: &Value, k: &str| {
        v[k].as_u64()
            .ok_or_else(|| format!("a subscriber's result lacks {k}"))
    };
    let mut first = u64::MAX;
    let mut last = 0;
    let mut slowest = f64::INFINITY;
    for sub in subs {
        first = first.min(field(sub, "first_ns")?);
        last = last.max(field(sub, "last_ns")?);
        slowest = slowest.min(sub["msgs_per_s"].as_f64().unwrap_or(0.0));
    }
    let span = (last.saturating_sub(first) as f64 / 1e9).max(1e-9);
    let delivered = (cell.count - 1) as f64 * subs.len() as f64;
    let rate = delivered / span;
    Ok(json!({
        "messages": cell.count,
        "subscribers": subs.len(),
        "seconds": span,
        "msgs_per_s": rate,
        "mb_per_s": rate * cell.size as f64 / 1e6,
        "slowest_subscriber_msgs_per_s": slowest,
        "vmhwm_kb": subs.iter().filter_map(|s| s["vmhwm_kb"].as_u64()).max(),
    }))
}

/// Whether a bigger number is better for the section's headline figure.
fn higher_is_better(section: Section) -> bool {
    !matches!(section, Section::Latency | Section::Memory)
}

/// The headline figure of a measured column.
fn headline(section: Section, value: &Value) -> Option<f64> {
    match section {
        Section::Latency => value["mean_us"].as_f64(),
        Section::Memory => {
            Some(value["receiver_kb"].as_f64().unwrap_or(0.0) + value["sender_kb"].as_f64()?)
        }
        _ => value["msgs_per_s"].as_f64(),
    }
}

/// The median of a column's runs by the headline figure (the lower middle of an even
/// count), with every run's figure added as `runs`; a column with no measured run gives
/// its first failure.
pub(crate) fn median_run(section: Section, runs: Vec<Outcome>) -> Outcome {
    let mut measured: Vec<(f64, Value)> = Vec::with_capacity(runs.len());
    let mut failure = None;
    for outcome in runs {
        match outcome {
            Outcome::Measured(value) => match headline(section, &value) {
                Some(figure) => measured.push((figure, value)),
                None => {
                    failure
                        .get_or_insert_with(|| Outcome::Unavailable("a run gave no figure".into()));
                }
            },
            unavailable @ Outcome::Unavailable(_) => {
                failure.get_or_insert(unavailable);
            }
        }
    }
    if measured.is_empty() {
        return failure.unwrap_or_else(|| Outcome::Unavailable("not run".into()));
    }
    let figures: Vec<f64> = measured.iter().map(|(f, _)| *f).collect();
    measured.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (_, mut median) = measured.swap_remove((measured.len() - 1) / 2);
    if figures.len() > 1 {
        if let Value::Object(fields) = &mut median {
            fields.insert("runs".into(), json!(figures));
        }
    }
    Outcome::Measured(median)
}

fn human_rate(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2}M", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1}k", rate / 1e3)
    } else {
        format!("{rate:.0}")
    }
}

fn human_kb(kb: f64) -> String {
    if kb >= 1024.0 {
        format!("{:.1} MiB", kb / 1024.0)
    } else {
        format!("{kb:.0} KiB")
    }
}

/// A column's result in a table cell (and on the progress line).
pub(crate) fn short(section: Section, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Unavailable(reason) => {
            let mut r = format!("n/a: {reason}");
            if r.len() > 60 {
                let cut = (0..=57).rev().find(|&i| r.is_char_boundary(i)).unwrap_or(0);
                r.truncate(cut);
                r.push_str("...");
            }
            r
        }
        Outcome::Measured(v) => {
            let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            match section {
                Section::Latency => format!(
                    "{:.1}/{:.1}/{:.1}/{:.0}",
                    f("mean_us"),
                    f("p50_us"),
                    f("p99_us"),
                    f("max_us")
                ),
                Section::Memory => format!(
                    "{} + {}",
                    human_kb(f("receiver_kb")),
                    human_kb(f("sender_kb"))
                ),
                _ => format!(
                    "{}/s {:.1} MB/s",
                    human_rate(f("msgs_per_s")),
                    f("mb_per_s")
                ),
            }
        }
    }
}

/// The figures of the first three columns (ours, libzmq, raw), where measured.
fn figures(result: &CellResult) -> [Option<f64>; 3] {
    let mut out = [None; 3];
    for (slot, outcome) in out.iter_mut().zip(&result.outcomes) {
        if let Outcome::Measured(v) = outcome {
            *slot = headline(result.cell.section, v);
        }
    }
    out
}

/// The label of the zmq.rs column.
const ZMQRS: &str = "zmq.rs";

/// The zmq.rs column's figure, where the cell has that column and it was measured.
fn zmqrs_figure(result: &CellResult) -> Option<f64> {
    let k = result.cell.columns.iter().position(|c| c.label == ZMQRS)?;
    match result.outcomes.get(k)? {
        Outcome::Measured(v) => headline(result.cell.section, v),
        Outcome::Unavailable(_) => None,
    }
}

/// Ours against zmq.rs: the ratio, and whether ours is ahead (more messages a second, or
/// a shorter half round trip).
fn against_zmqrs(result: &CellResult) -> Option<(f64, bool)> {
    let r = ratio(figures(result)[0], zmqrs_figure(result))?;
    let ahead = if higher_is_better(result.cell.section) {
        r > 1.0
    } else {
        r < 1.0
    };
    Some((r, ahead))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The target for a cell: (what, required ratio, against raw?, at least?).
struct Target {
    text: &'static str,
    bound: f64,
    against_raw: bool,
    at_least: bool,
}

fn target(cell: &Cell) -> Option<Target> {
    let t = |text, bound, against_raw, at_least| {
        Some(Target {
            text,
            bound,
            against_raw,
            at_least,
        })
    };
    match (cell.section, cell.transport) {
        (Section::Throughput, Transport::Inproc) => t(">=3x libzmq", 3.0, false, true),
        (Section::Throughput, _) if cell.size <= 256 => t(">=1.5x libzmq", 1.5, false, true),
        (Section::Throughput, _) if (1 << 10..=16 << 10).contains(&cell.size) => {
            t(">=2.5x libzmq", 2.5, false, true)
        }
        (Section::Throughput | Section::Zerocopy, _) if cell.size >= 64 << 10 => {
            t(">=0.8x raw", 0.8, true, true)
        }
        (Section::Latency, _) => t("<=0.5x libzmq", 0.5, false, false),
        (Section::Memory, _) => t("<=1x libzmq", 1.0, false, false),
        (Section::Cross, _) => None,
        _ => t(">=1x libzmq", 1.0, false, true),
    }
}

/// The target, the ratio it is checked on, and whether it is met.
fn verdict(result: &CellResult) -> (String, Option<bool>) {
    let Some(target) = target(&result.cell) else {
        return ("-".into(), None);
    };
    let [ours, libzmq, raw] = figures(result);
    let r = ratio(ours, if target.against_raw { raw } else { libzmq });
    match r {
        None => (format!("{}: n/a", target.text), None),
        Some(r) => {
            let met = if target.at_least {
                r >= target.bound
            } else {
                r <= target.bound
            };
            let word = if met { "met" } else { "MISSED" };
            (format!("{}: {word} ({r:.2}x)", target.text), Some(met))
        }
    }
}

fn section_heading(section: Section) -> &'static str {
    match section {
        Section::Throughput => "Throughput: PUSH to PULL, counted at the receiver",
        Section::Latency => {
            "Latency: REQ/REP, half the round trip in microseconds (mean/p50/p99/max)"
        }
        Section::Pubsub => "Publish-subscribe: XPUB to SUBs, messages delivered to all per second",
        Section::Curve => "CURVE throughput: PUSH to PULL, encrypted (raw: plain tcp, unencrypted)",
        Section::Zerocopy => {
            "Zero-copy throughput: PUSH to PULL, one buffer sent again and again without a copy \
             (ours: a shared `Message`; libzmq: zmq_msg_init_data), as the raw stream writes it"
        }
        Section::Cross => "Cross-implementation throughput: sender to receiver",
        Section::Memory => "Peak memory (VmHWM): receiver + sender, a stream of 64 B messages",
    }
}

/// Every section's table, as text.
pub(crate) fn tables(meta: &Meta, results: &[CellResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nzmq bench ({}), {} s; {} ({} cores), Linux {}; load {} -> {}",
        meta.text("mode"),
        meta.json["seconds"].as_f64().map_or(0, |s| s as u64),
        meta.text("cpu"),
        meta.text("cores"),
        meta.text("kernel"),
        meta.text("load_average_start"),
        meta.text("load_average_end"),
    );
    match meta.json["libzmq_version"].as_str() {
        Some(v) => {
            let _ = writeln!(out, "libzmq {v} ({})", meta.text("libzmq_path"));
        }
        None => {
            let _ = writeln!(out, "libzmq: n/a ({})", meta.text("libzmq_missing"));
        }
    }
    if let Some(path) = meta.json["zmqrs_peer"].as_str() {
        let _ = writeln!(out, "zmq.rs (the `zeromq` crate) through {path}");
    }
    for section in Section::ALL {
        let rows: Vec<&CellResult> = results
            .iter()
            .filter(|r| r.cell.section == section)
            .collect();
        // The rows with the most columns name them (only some rows have zmq.rs's).
        let Some(widest) = rows.iter().max_by_key(|r| r.cell.columns.len()) else {
            continue;
        };
        let columns = widest.cell.columns.len();
        let zmqrs = widest.cell.columns.iter().any(|c| c.label == ZMQRS);
        let _ = writeln!(out, "\n{}", section_heading(section));
        let mut table: Vec<Vec<String>> = Vec::new();
        let mut head = vec!["transport".to_string(), "size".to_string()];
        if section == Section::Pubsub {
            head.push("subs".into());
        }
        head.extend(widest.cell.columns.iter().map(|c| c.label.to_string()));
        if section != Section::Cross {
            head.extend(["ours/libzmq".into(), "ours/raw".into()]);
            if zmqrs {
                head.push("ours/zmq.rs".into());
            }
            head.push("target".into());
        }
        table.push(head);
        for r in &rows {
            let mut row = vec![r.cell.transport.name().to_string(), size_name(r.cell.size)];
            if section == Section::Pubsub {
                row.push(r.cell.subs.to_string());
            }
            row.extend(r.outcomes.iter().map(|o| short(section, o)));
            row.resize(row.len() + columns - r.outcomes.len(), "-".into());
            if section != Section::Cross {
                let [ours, libzmq, raw] = figures(r);
                let show = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.2}x"));
                row.push(show(ratio(ours, libzmq)));
                row.push(show(ratio(ours, raw)));
                if zmqrs {
                    row.push(match against_zmqrs(r) {
                        Some((x, true)) => format!("{x:.2}x ahead"),
                        Some((x, false)) => format!("{x:.2}x BEHIND"),
                        None => "-".into(),
                    });
                }
                row.push(verdict(r).0);
            }
            table.push(row);
        }
        let widths: Vec<usize> = (0..table[0].len())
            .map(|i| {
                table
                    .iter()
                    .map(|row| row.get(i).map_or(0, |c| c.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (n, row) in table.iter().enumerate() {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, &w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "  {}", line.join("  ").trim_end());
            if n == 0 {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
                let _ = writeln!(out, "  {}", rule.join("  "));
            }
        }
        if !higher_is_better(section) {
            let _ = writeln!(out, "  (lower is better)");
        }
    }
    out
}

const CSV_FIELDS: [&str; 10] = [
    "msgs_per_s",
    "mb_per_s",
    "mean_us",
    "p50_us",
    "p99_us",
    "max_us",
    "receiver_kb",
    "sender_kb",
    "messages",
    "seconds",
];

/// `results.csv`: one row per column of every cell.
fn csv(results: &[CellResult]) -> String {
    let mut out = String::from("section,transport,size,subs,count,column,status");
    for f in CSV_FIELDS {
        out.push(',');
        out.push_str(f);
    }
    out.push_str(",target,note\n");
    for r in results {
        let (target, _) = verdict(r);
        for (column, outcome) in r.cell.columns.iter().zip(&r.outcomes) {
            let _ = write!(
                out,
                "{},{},{},{},{},{},",
                r.cell.section.name(),
                r.cell.transport.name(),
                r.cell.size,
                r.cell.subs,
                r.cell.count,
                column.label
            );
            match outcome {
                Outcome::Measured(v) => {
                    out.push_str("ok");
                    for f in CSV_FIELDS {
                        out.push(',');
                        if let Some(x) = v[f].as_f64() {
                            let _ = write!(out, "{x}");
                        }
                    }
                    let _ = writeln!(out, ",{},", csv_text(&target));
                }
                Outcome::Unavailable(reason) => {
                    out.push_str("n/a");
                    out.push_str(&",".repeat(CSV_FIELDS.len()));
                    let _ = writeln!(out, ",{},{}", csv_text(&target), csv_text(reason));
                }
            }
        }
    }
    out
}

fn csv_text(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `results.json`: the run's metadata and every cell with its columns, ratios and target.
fn json_report(meta: &Meta, results: &[CellResult]) -> Value {
    let cells: Vec<Value> = results
        .iter()
        .map(|r| {
            let columns: Vec<Value> = r
                .cell
                .columns
                .iter()
                .zip(&r.outcomes)
                .map(|(c, o)| match o {
                    Outcome::Measured(v) => json!({"column": c.label, "status": "ok", "result": v}),
                    Outcome::Unavailable(reason) => {
                        json!({"column": c.label, "status": "n/a", "reason": reason})
                    }
                })
                .collect();
            let [ours, libzmq, raw] = figures(r);
            let (target, met) = verdict(r);
            let zmqrs = against_zmqrs(r);
            json!({
                "section": r.cell.section,
                "transport": r.cell.transport,
                "size": r.cell.size,
                "subs": r.cell.subs,
                "count": r.cell.count,
                "columns": columns,
                "ours_over_libzmq": if r.cell.section == Section::Cross { None } else { ratio(ours, libzmq) },
                "ours_over_raw": if r.cell.section == Section::Cross { None } else { ratio(ours, raw) },
                "ours_over_zmqrs": zmqrs.map(|(x, _)| x),
                "ahead_of_zmqrs": zmqrs.map(|(_, ahead)| ahead),
                "target": target,
                "target_met": met,
            })
        })
        .collect();
    json!({"meta": meta.json, "cells": cells})
}

/// Writes `results.csv`, `results.json`, `throughput.svg` and `latency.svg` into `dir`.
pub(crate) fn write_files(dir: &Path, meta: &Meta, results: &[CellResult]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("results.csv", csv(results))?;
    let json = serde_json::to_string_pretty(&json_report(meta, results))
        .map_err(|e| format!("cannot encode the JSON report: {e}"))?;
    write("results.json", json + "\n")?;
    write(
        "throughput.svg",
        chart(
            results,
            Section::Throughput,
            "Throughput (PUSH to PULL)",
            "MB/s",
            "mb_per_s",
        ),
    )?;
    write(
        "latency.svg",
        chart(
            results,
            Section::Latency,
            "Latency (REQ/REP, mean half round trip)",
            "microseconds",
            "mean_us",
        ),
    )?;
    Ok(())
}

/// A log-log chart of `field` against message size: one line per transport and column
/// (colour: column; dash: transport).
fn chart(results: &[CellResult], section: Section, title: &str, unit: &str, field: &str) -> String {
    const W: f64 = 900.0;
    const H: f64 = 560.0;
    const L: f64 = 80.0;
    const R: f64 = 190.0;
    const T: f64 = 50.0;
    const B: f64 = 60.0;
    let colours = ["#d62728", "#1f77b4", "#7f7f7f", "#2ca02c"];
    let dashes = [
        (Transport::Tcp, ""),
        (Transport::Ipc, "8 4"),
        (Transport::Inproc, "2 3"),
    ];
    // (label, colour, dash, points)
    type Series<'a> = (String, &'a str, &'a str, Vec<(f64, f64)>);
    let mut series: Vec<Series<'_>> = Vec::new();
    for &(transport, dash) in &dashes {
        let rows: Vec<&CellResult> = results
            .iter()
            .filter(|r| r.cell.section == section && r.cell.transport == transport)
            .collect();
        let Some(first) = rows.first() else { continue };
        for (k, column) in first.cell.columns.iter().enumerate() {
            let points: Vec<(f64, f64)> = rows
                .iter()
                .filter_map(|r| match r.outcomes.get(k) {
                    Some(Outcome::Measured(v)) => v[field]
                        .as_f64()
                        .filter(|y| *y > 0.0)
                        .map(|y| (r.cell.size as f64, y)),
                    _ => None,
                })
                .collect();
            if !points.is_empty() {
                series.push((
                    format!("{} {}", column.label, transport.name()),
                    colours[k % colours.len()],
                    dash,
                    points,
                ));
            }
        }
    }
    let all = series.iter().flat_map(|s| s.3.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
         viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">{}</text>\n",
        (L + W - R) / 2.0,
        xml(title)
    );
    if series.is_empty() {
        svg.push_str("<text x=\"100\" y=\"100\">no measurements</text>\n</svg>\n");
        return svg;
    }
    // x: the measured sizes (log scale, a margin either side); y: decades.
    let (lx0, lx1) = (x0.log10() - 0.15, x1.log10().max(x0.log10() + 1.0) + 0.15);
    let (ly0, ly1) = (
        y0.log10().floor(),
        y1.log10().ceil().max(y0.log10().floor() + 1.0),
    );
    let px = |x: f64| L + (x.log10() - lx0) / (lx1 - lx0) * (W - L - R);
    let py = |y: f64| H - B - (y.log10() - ly0) / (ly1 - ly0) * (H - T - B);
    let _ = writeln!(
        svg,
        "<rect x=\"{L}\" y=\"{T}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>",
        W - L - R,
        H - T - B
    );
    let mut sizes: Vec<usize> = results
        .iter()
        .filter(|r| r.cell.section == section)
        .map(|r| r.cell.size)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        let x = px(size as f64);
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{T}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#ddd\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            H - B,
            H - B + 18.0,
            xml(&size_name(size))
        );
    }
    let mut e = ly0;
    while e <= ly1 {
        let y = py(10f64.powf(e));
        let _ = writeln!(
            svg,
            "<line x1=\"{L}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - R,
            L - 6.0,
            y + 4.0,
            10f64.powf(e)
        );
        e += 1.0;
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">message size (log)</text>\n\
         <text x=\"18\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {})\">{} (log)</text>",
        (L + W - R) / 2.0,
        H - 18.0,
        (T + H - B) / 2.0,
        (T + H - B) / 2.0,
        xml(unit)
    );
    for (i, (label, colour, dash, points)) in series.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" \
             stroke-dasharray=\"{dash}\"/>",
            path.join(" ")
        );
        for &(x, y) in points {
            let _ = writeln!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                px(x),
                py(y)
            );
        }
        let ly = T + 10.0 + i as f64 * 18.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" \
             stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            W - R + 12.0,
            W - R + 42.0,
            W - R + 48.0,
            ly + 4.0,
            xml(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(msgs_per_s: f64) -> Outcome {
        Outcome::Measured(json!({ "msgs_per_s": msgs_per_s }))
    }

    #[test]
    fn the_median_run_is_kept_with_every_figure() {
        let Outcome::Measured(median) = median_run(
            Section::Throughput,
            vec![
                rate(3.0),
                Outcome::Unavailable("timed out".into()),
                rate(1.0),
                rate(2.0),
            ],
        ) else {
            panic!("a measured median");
        };
        assert_eq!(median["msgs_per_s"], 2.0);
        assert_eq!(median["runs"], json!([3.0, 1.0, 2.0]));
        // Even counts take the lower middle; latency's headline is the mean.
        let Outcome::Measured(median) = median_run(
            Section::Latency,
            vec![
                Outcome::Measured(json!({ "mean_us": 9.0 })),
                Outcome::Measured(json!({ "mean_us": 7.0 })),
            ],
        ) else {
            panic!("a measured median");
        };
        assert_eq!(median["mean_us"], 7.0);
    }

    #[test]
    fn one_run_is_kept_as_it_is_and_failures_alone_give_the_first() {
        let Outcome::Measured(one) = median_run(Section::Throughput, vec![rate(5.0)]) else {
            panic!("a measured run");
        };
        assert_eq!(one, json!({ "msgs_per_s": 5.0 }));
        let failed = median_run(
            Section::Throughput,
            vec![
                Outcome::Unavailable("first".into()),
                Outcome::Unavailable("second".into()),
            ],
        );
        assert!(matches!(failed, Outcome::Unavailable(why) if why == "first"));
    }
}
