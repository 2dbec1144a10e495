//! `cargo xtask check-layers`: the architecture check.
//!
//! The workspace is layered, lowest first:
//!
//! | crate           | may depend on (normal and build dependencies)              |
//! |-----------------|------------------------------------------------------------|
//! | `zmtp-codec`    | no workspace crate                                         |
//! | `zmq-security`  | `zmtp-codec`                                               |
//! | `zmq-patterns`  | `zmtp-codec`                                               |
//! | `zmq-transport` | `zmtp-codec`, `zmq-security`                               |
//! | `zmq`           | the four above                                             |
//! | `zmq-cli`       | `zmq` and the layers below it                              |
//! | `zmq-testkit`   | no workspace crate (test support, a dev-dependency only)   |
//! | `xtask`         | no workspace crate                                         |
//!
//! Four checks enforce it:
//!
//! 1. **Layer table**: from `cargo metadata`, each workspace crate's normal and build
//!    dependencies on workspace crates stay within its row above. A workspace crate that is
//!    not in [`LAYERS`] is a violation until it is added.
//! 2. **no_std codec**: `zmtp-codec` built alone without default features pulls in only
//!    [`NO_STD_ALLOWED`] and enables no dependency's `std` feature.
//! 3. **Sans-IO closures**: the normal dependency closures of `zmq-security` and
//!    `zmq-patterns` hold none of [`IO_CRATES`].
//! 4. **Source scan**: `crates/{zmtp-codec,zmq-security,zmq-patterns}/src/**/*.rs` use none
//!    of `std::net`, `std::thread`, `std::fs`, `std::process` and read no clock
//!    (`Instant::now`, `SystemTime::now`). Comments and string literals are skipped; grouped
//!    imports such as `use std::{fs, io};` are caught. This check also runs as a `#[test]`,
//!    so `cargo test` enforces it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{self, Result};

/// Each workspace crate and the workspace crates it may depend on (normal and build
/// dependencies; dev-dependencies are not restricted).
pub(crate) const LAYERS: &[(&str, &[&str])] = &[
    ("zmtp-codec", &[]),
    ("zmq-security", &["zmtp-codec"]),
    ("zmq-patterns", &["zmtp-codec"]),
    ("zmq-transport", &["zmtp-codec", "zmq-security"]),
    (
        "zmq",
        &[
            "zmtp-codec",
            "zmq-security",
            "zmq-patterns",
            "zmq-transport",
        ],
    ),
    (
        "zmq-cli",
        &[
            "zmq",
            "zmtp-codec",
            "zmq-security",
            "zmq-patterns",
            "zmq-transport",
        ],
    ),
    ("zmq-testkit", &[]),
    ("xtask", &[]),
];

/// The crate that must build without `std`.
const NO_STD_CRATE: &str = "zmtp-codec";

/// The only packages allowed in [`NO_STD_CRATE`]'s tree without default features.
/// `bytemuck` views an inline payload's words as bytes without unsafe code in the codec.
pub(crate) const NO_STD_ALLOWED: &[&str] = &["zmtp-codec", "bytes", "smallvec", "bytemuck"];

/// Crates whose normal dependency closure must hold none of [`IO_CRATES`].
const SANS_IO_CLOSURES: &[&str] = &["zmq-security", "zmq-patterns"];

/// Packages that do I/O (or are our I/O layer).
pub(crate) const IO_CRATES: &[&str] = &[
    "polling",
    "socket2",
    "mio",
    "tokio",
    "async-io",
    "async-std",
    "zmq-transport",
];

/// Crates whose `src/` is scanned for I/O and clock reads.
pub(crate) const SCANNED_CRATES: &[&str] = &["zmtp-codec", "zmq-security", "zmq-patterns"];

/// `std` modules the scanned crates must not use.
const FORBIDDEN_STD_MODULES: &[&str] = &["net", "thread", "fs", "process"];

/// Types whose `::now()` reads the clock.
const CLOCK_TYPES: &[&str] = &["Instant", "SystemTime"];

/// Runs `cargo xtask check-layers`.
pub(crate) fn main(args: impl Iterator<Item = String>) -> Result {
    if let Some(arg) = args.into_iter().next() {
        return Err(format!(
            "`cargo xtask check-layers` takes no arguments (got `{arg}`)"
        ));
    }
    run()
}

/// Runs all four checks, prints what each found and fails if any found a violation.
pub(crate) fn run() -> Result {
    let mut violations = Vec::new();

    let metadata = Metadata::load()?;
    violations.extend(check_layer_table(&metadata));
    violations.extend(check_no_std_tree()?);
    violations.extend(check_sans_io_closures(&metadata));
    violations.extend(check_sources(&util::root())?);

    if violations.is_empty() {
        println!("\ncheck-layers: all layer rules hold");
        Ok(())
    } else {
        println!("\ncheck-layers: {} violation(s):", violations.len());
        for (i, v) in violations.iter().enumerate() {
            println!("  {}. {v}", i + 1);
        }
        Err(format!(
            "check-layers found {} violation(s), listed above with what to fix",
            violations.len()
        ))
    }
}

/// The parts of `cargo metadata` the checks need.
struct Metadata {
    /// Workspace members: package id -> name.
    members: BTreeMap<String, String>,
    /// Every package id -> name.
    names: HashMap<String, String>,
    /// Resolve graph: package id -> its dependencies as (package id, kinds), where a kind
    /// is `"normal"`, `"build"` or `"dev"`.
    deps: HashMap<String, Vec<(String, BTreeSet<String>)>>,
}

impl Metadata {
    fn load() -> Result<Self> {
        let json = util::output_of(&mut util::cargo(&[
            "metadata",
            "--format-version",
            "1",
            "--locked",
        ]))?;
        Self::parse(&json)
    }

    fn parse(json: &str) -> Result<Self> {
        let v: Value =
            serde_json::from_str(json).map_err(|e| format!("cargo metadata: bad JSON: {e}"))?;
        let bad = |what: &str| format!("cargo metadata: unexpected output ({what})");
        let str_of = |v: &Value, key: &str| v[key].as_str().map(str::to_owned);

        let mut names = HashMap::new();
        for p in v["packages"].as_array().ok_or_else(|| bad("no packages"))? {
            let id = str_of(p, "id").ok_or_else(|| bad("package without id"))?;
            let name = str_of(p, "name").ok_or_else(|| bad("package without name"))?;
            names.insert(id, name);
        }
        let mut members = BTreeMap::new();
        for id in v["workspace_members"]
            .as_array()
            .ok_or_else(|| bad("no workspace_members"))?
        {
            let id = id.as_str().ok_or_else(|| bad("member id"))?.to_owned();
            let name = names.get(&id).ok_or_else(|| bad("unknown member"))?.clone();
            members.insert(id, name);
        }
        let mut deps = HashMap::new();
        for node in v["resolve"]["nodes"]
            .as_array()
            .ok_or_else(|| bad("no resolve graph"))?
        {
            let id = str_of(node, "id").ok_or_else(|| bad("node without id"))?;
            let mut list = Vec::new();
            for d in node["deps"].as_array().into_iter().flatten() {
                let pkg = str_of(d, "pkg").ok_or_else(|| bad("dep without pkg"))?;
                let kinds = d["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|k| k["kind"].as_str().unwrap_or("normal").to_owned())
                    .collect();
                list.push((pkg, kinds));
            }
            deps.insert(id, list);
        }
        Ok(Self {
            members,
            names,
            deps,
        })
    }

    fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.names.get(id).map_or(id, String::as_str)
    }

    fn member_id(&self, name: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(id, _)| id.as_str())
    }

    /// `id`'s dependencies on workspace members through normal or build edges:
    /// name -> the kinds it is used as.
    fn workspace_deps(&self, id: &str) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (dep, kinds) in self.deps.get(id).into_iter().flatten() {
            if !self.members.contains_key(dep) {
                continue;
            }
            let kinds: BTreeSet<String> = kinds
                .iter()
                .filter(|k| *k == "normal" || *k == "build")
                .cloned()
                .collect();
            if !kinds.is_empty() {
                out.entry(self.name(dep).to_owned())
                    .or_default()
                    .extend(kinds);
            }
        }
        out
    }

    /// Every package reachable from `id` through normal edges, each with the chain of
    /// package names that leads to it (starting at `id`).
    fn normal_closure(&self, id: &str) -> BTreeMap<String, Vec<String>> {
        let mut chains: HashMap<&str, Vec<String>> = HashMap::new();
        chains.insert(id, vec![self.name(id).to_owned()]);
        let mut queue = VecDeque::from([id]);
        while let Some(current) = queue.pop_front() {
            for (dep, kinds) in self.deps.get(current).into_iter().flatten() {
                if !kinds.contains("normal") || chains.contains_key(dep.as_str()) {
                    continue;
                }
                let mut chain = chains[current].clone();
                chain.push(self.name(dep).to_owned());
                chains.insert(dep, chain);
                queue.push_back(dep);
            }
        }
        chains.remove(id);
        chains
            .into_iter()
            .map(|(dep, chain)| (self.name(dep).to_owned(), chain))
            .collect()
    }
}

fn allowed_for(name: &str) -> Option<&'static [&'static str]> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// Check 1: the layer table.
fn check_layer_table(metadata: &Metadata) -> Vec<String> {
    println!("Layer table (normal + build dependencies on workspace crates):\n");
    let mut violations = Vec::new();
    let mut rows = Vec::new();
    // Rows in layer order, then any crate the table does not know.
    let mut members: Vec<(&String, &String)> = metadata.members.iter().collect();
    members.sort_by_key(|(_, name)| {
        LAYERS
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or(LAYERS.len())
    });
    for (id, name) in members {
        let deps = metadata.workspace_deps(id);
        let shown: Vec<String> = deps
            .iter()
            .map(|(dep, kinds)| {
                if kinds.contains("normal") {
                    dep.clone()
                } else {
                    format!("{dep} (build)")
                }
            })
            .collect();
        let (allowed, verdict) = match allowed_for(name) {
            None => {
                violations.push(format!(
                    "`{name}` is a workspace crate with no row in the layer table: add it to \
                     LAYERS in xtask/src/layers.rs with the workspace crates it may depend on"
                ));
                (
                    "(not in the table)".to_owned(),
                    "VIOLATION: unknown crate".to_owned(),
                )
            }
            Some(allowed) => {
                let bad: Vec<&String> = deps
                    .keys()
                    .filter(|d| !allowed.contains(&d.as_str()))
                    .collect();
                for dep in &bad {
                    violations.push(format!(
                        "`{name}` depends on `{dep}`, but may only depend on {}: remove `{dep}` \
                         from `{name}`'s [dependencies]/[build-dependencies] (move the code that \
                         needs it up a layer), or change the layering in xtask/src/layers.rs if \
                         the architecture really changed",
                        list_or_none(allowed)
                    ));
                }
                let verdict = if bad.is_empty() {
                    "ok".to_owned()
                } else {
                    format!(
                        "VIOLATION: {}",
                        bad.iter()
                            .map(|d| d.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                (list_or_none(allowed), verdict)
            }
        };
        rows.push(vec![
            name.clone(),
            if shown.is_empty() {
                "-".to_owned()
            } else {
                shown.join(", ")
            },
            allowed,
            verdict,
        ]);
    }
    print!(
        "{}",
        util::table(&["crate", "workspace deps", "allowed", "verdict"], &rows)
    );
    for (name, _) in LAYERS {
        if metadata.member_id(name).is_none() {
            println!("note: `{name}` is in the layer table but not in the workspace");
        }
    }
    violations
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "no workspace crate".to_owned()
    } else {
        names.join(", ")
    }
}

/// Check 2: the codec's dependency tree without default features.
fn check_no_std_tree() -> Result<Vec<String>> {
    println!("\n{NO_STD_CRATE} without default features (normal dependencies, all targets):\n");
    let out = util::output_of(&mut util::cargo(&[
        "tree",
        "-p",
        NO_STD_CRATE,
        "--no-default-features",
        "-e",
        "normal",
        "--target",
        "all",
        "--locked",
        "--prefix",
        "none",
        "--format",
        "{p}|{f}",
    ]))?;
    let packages = parse_tree(&out);
    let mut violations = Vec::new();
    let mut rows = Vec::new();
    for (package, features) in &packages {
        let name = package.split_whitespace().next().unwrap_or(package);
        let mut problems = Vec::new();
        if !NO_STD_ALLOWED.contains(&name) {
            problems.push("not allowed");
            violations.push(format!(
                "`{package}` is in {NO_STD_CRATE}'s dependency tree without default features, \
                 which may hold only {}: drop the dependency, make it optional behind \
                 {NO_STD_CRATE}'s `std` feature, or (if it is no_std and really needed) add it to \
                 NO_STD_ALLOWED in xtask/src/layers.rs",
                NO_STD_ALLOWED.join(", ")
            ));
        }
        if features.iter().any(|f| f == "std") {
            problems.push("std enabled");
            violations.push(format!(
                "`{package}` has its `std` feature enabled when {NO_STD_CRATE} is built without \
                 default features: declare it with `default-features = false` and enable its \
                 `std` only from {NO_STD_CRATE}'s own `std` feature (e.g. `std = [\"{name}/std\"]`)"
            ));
        }
        rows.push(vec![
            package.clone(),
            if features.is_empty() {
                "-".to_owned()
            } else {
                features.iter().cloned().collect::<Vec<_>>().join(",")
            },
            if problems.is_empty() {
                "ok".to_owned()
            } else {
                format!("VIOLATION: {}", problems.join(", "))
            },
        ]);
    }
    print!(
        "{}",
        util::table(&["package", "features", "verdict"], &rows)
    );
    Ok(violations)
}

/// Parses `cargo tree --prefix none --format "{p}|{f}"` into package -> enabled features.
fn parse_tree(out: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in out.lines() {
        let line = line.trim().trim_end_matches("(*)").trim_end();
        let Some((package, features)) = line.rsplit_once('|') else {
            continue;
        };
        let features = features
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned);
        packages
            .entry(package.trim().to_owned())
            .or_default()
            .extend(features);
    }
    packages
}

/// Check 3: no I/O crate in the sans-IO crates' normal closures.
fn check_sans_io_closures(metadata: &Metadata) -> Vec<String> {
    println!("\nSans-IO dependency closures (normal dependencies):\n");
    let mut violations = Vec::new();
    let mut rows = Vec::new();
    for name in SANS_IO_CLOSURES {
        let Some(id) = metadata.member_id(name) else {
            violations.push(format!(
                "`{name}` is not in the workspace, so its dependency closure cannot be checked: \
                 restore it or update SANS_IO_CLOSURES in xtask/src/layers.rs"
            ));
            rows.push(vec![
                (*name).to_owned(),
                "-".into(),
                "VIOLATION: missing".into(),
            ]);
            continue;
        };
        let closure = metadata.normal_closure(id);
        let mut found = Vec::new();
        for io in IO_CRATES {
            if let Some(chain) = closure.get(*io) {
                found.push(*io);
                violations.push(format!(
                    "`{name}` must stay sans-IO but depends on `{io}` through {}: remove that \
                     dependency (I/O belongs in zmq-transport or above)",
                    chain.join(" -> ")
                ));
            }
        }
        rows.push(vec![
            (*name).to_owned(),
            closure.len().to_string(),
            if found.is_empty() {
                "ok".to_owned()
            } else {
                format!("VIOLATION: {}", found.join(", "))
            },
        ]);
    }
    print!(
        "{}",
        util::table(&["crate", "packages in closure", "verdict"], &rows)
    );
    println!("(forbidden: {})", IO_CRATES.join(", "));
    violations
}

/// A use of I/O or the clock found by the source scan.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    /// The file, relative to the workspace root.
    pub(crate) path: PathBuf,
    /// 1-based line number.
    pub(crate) line: usize,
    /// What was found, e.g. `std::net` or `Instant::now`.
    pub(crate) what: String,
    /// The source line, trimmed.
    pub(crate) text: String,
}

/// Check 4: the source scan, printed and turned into violations.
fn check_sources(root: &Path) -> Result<Vec<String>> {
    println!(
        "\nSource scan of {} (no I/O, no clock):\n",
        scanned_dirs_label()
    );
    let (files, findings) = scan_sources(root)?;
    let violations: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}: `{}` in a sans-IO layer ({}): take the I/O or the current time as a \
                 parameter from the caller, or move this code to zmq-transport or zmq",
                f.path.display(),
                f.line,
                f.what,
                f.text
            )
        })
        .collect();
    println!(
        "{files} file(s) scanned, {} finding(s){}",
        findings.len(),
        if findings.is_empty() { ": ok" } else { ":" }
    );
    for f in &findings {
        println!("  {}:{}: {}   {}", f.path.display(), f.line, f.what, f.text);
    }
    Ok(violations)
}

fn scanned_dirs_label() -> String {
    format!("crates/{{{}}}/src", SCANNED_CRATES.join(","))
}

/// Scans `crates/<c>/src/**/*.rs` for every scanned crate. Returns the number of files
/// scanned and the findings. A missing `src/` directory is an error, so a renamed crate
/// cannot make the scan pass by scanning nothing.
pub(crate) fn scan_sources(root: &Path) -> Result<(usize, Vec<Finding>)> {
    let mut files = Vec::new();
    for krate in SCANNED_CRATES {
        let dir = root.join("crates").join(krate).join("src");
        if !dir.is_dir() {
            return Err(format!(
                "{} does not exist: update SCANNED_CRATES in xtask/src/layers.rs",
                dir.display()
            ));
        }
        collect_rs_files(&dir, &mut files)?;
    }
    let mut findings = Vec::new();
    for file in &files {
        let src = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let lines: Vec<&str> = src.lines().collect();
        let rel = file.strip_prefix(root).unwrap_or(file).to_path_buf();
        for (line, what) in scan_source(&src) {
            findings.push(Finding {
                path: rel.clone(),
                line,
                what,
                text: lines.get(line - 1).map_or("", |l| l.trim()).to_owned(),
            });
        }
    }
    Ok((files.len(), findings))
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_rs_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Finds forbidden uses in one Rust source: (1-based line, what).
pub(crate) fn scan_source(src: &str) -> Vec<(usize, String)> {
    let toks = lex(src);
    let mut found = Vec::new();
    let ident = |k: usize| match toks.get(k) {
        Some(Token {
            tok: Tok::Ident(s), ..
        }) => Some(s.as_str()),
        _ => None,
    };
    let is = |k: usize, t: &Tok| toks.get(k).is_some_and(|x| x.tok == *t);
    for k in 0..toks.len() {
        let line = toks[k].line;
        match ident(k) {
            Some("std") if is(k + 1, &Tok::PathSep) => {
                if let Some(m) = ident(k + 2) {
                    if FORBIDDEN_STD_MODULES.contains(&m) {
                        found.push((line, format!("std::{m}")));
                    }
                } else if is(k + 2, &Tok::Open) {
                    // A grouped import: `std::{io, net::TcpStream, ...}`; look at the
                    // first segment of each top-level item.
                    let mut depth = 0usize;
                    let mut item_start = true;
                    for t in &toks[k + 2..] {
                        match &t.tok {
                            Tok::Open => {
                                depth += 1;
                                item_start = true;
                            }
                            Tok::Close => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                                item_start = false;
                            }
                            Tok::Comma => item_start = depth == 1,
                            Tok::Ident(m) => {
                                if depth == 1
                                    && item_start
                                    && FORBIDDEN_STD_MODULES.contains(&m.as_str())
                                {
                                    found.push((t.line, format!("std::{m}")));
                                }
                                item_start = false;
                            }
                            Tok::PathSep | Tok::Other => item_start = false,
                        }
                    }
                }
            }
            Some(ty)
                if CLOCK_TYPES.contains(&ty)
                    && is(k + 1, &Tok::PathSep)
                    && ident(k + 2) == Some("now") =>
            {
                found.push((line, format!("{ty}::now")));
            }
            _ => {}
        }
    }
    found
}

/// A token of the tiny lexer behind the source scan. It knows just enough Rust to skip
/// comments, string and character literals, and to see paths.
#[derive(Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    /// `{`
    Open,
    /// `}`
    Close,
    /// `,`
    Comma,
    /// Anything else (punctuation, numbers).
    Other,
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn lex(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let len = chars.len();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < len {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            _ if c.is_whitespace() => i += 1,
            '/' if at(i + 1) == '/' => {
                while i < len && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 1;
                i += 2;
                while i < len && depth > 0 {
                    if chars[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                    } else {
                        if chars[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => i = skip_string(&chars, i + 1, &mut line),
            '\'' => {
                if at(i + 1) == '\\' {
                    // An escaped char literal: '\n', '\'', '\u{..}'.
                    i += 3;
                    while i < len && chars[i] != '\'' && chars[i] != '\n' {
                        i += 1;
                    }
                    i += 1;
                } else if at(i + 2) == '\'' && at(i + 1) != '\n' {
                    i += 3; // 'x'
                } else {
                    i += 1; // a lifetime or label; its name lexes as an identifier
                }
            }
            ':' if at(i + 1) == ':' => {
                out.push(Token {
                    tok: Tok::PathSep,
                    line,
                });
                i += 2;
            }
            '{' | '}' | ',' => {
                let tok = match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    _ => Tok::Comma,
                };
                out.push(Token { tok, line });
                i += 1;
            }
            _ if c.is_ascii_digit() => {
                while i < len && is_ident_continue(chars[i]) {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Other,
                    line,
                });
            }
            _ if is_ident_start(c) => {
                let start = i;
                while i < len && is_ident_continue(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if matches!(word.as_str(), "r" | "br" | "cr") && matches!(at(i), '"' | '#') {
                    let mut j = i;
                    while at(j) == '#' {
                        j += 1;
                    }
                    let hashes = j - i;
                    if at(j) == '"' {
                        i = skip_raw_string(&chars, j + 1, hashes, &mut line);
                        continue;
                    }
                    if word == "r" && hashes == 1 && is_ident_start(at(j)) {
                        // A raw identifier: r#type.
                        let start = j;
                        i = j;
                        while i < len && is_ident_continue(chars[i]) {
                            i += 1;
                        }
                        out.push(Token {
                            tok: Tok::Ident(chars[start..i].iter().collect()),
                            line,
                        });
                        continue;
                    }
                }
                out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                });
            }
            _ => {
                out.push(Token {
                    tok: Tok::Other,
                    line,
                });
                i += 1;
            }
        }
    }
    out
}

/// Skips a string body starting after its opening quote; returns the index after the
/// closing quote.
fn skip_string(chars: &[char], mut i: usize, line: &mut usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if chars.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
            }
            '"' => return i + 1,
            '\n' => {
                *line += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

/// Skips a raw string body (`r#"..."#` with `hashes` hashes) starting after the opening
/// quote; returns the index after the closing delimiter.
fn skip_raw_string(chars: &[char], mut i: usize, hashes: usize, line: &mut usize) -> usize {
    while i < chars.len() {
        if chars[i] == '"' && (1..=hashes).all(|h| chars.get(i + h) == Some(&'#')) {
            return i + 1 + hashes;
        }
        if chars[i] == '\n' {
            *line += 1;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The source scan over the real crates: `cargo test` fails on any finding.
    #[test]
    fn sans_io_sources_use_no_io_and_no_clock() {
        let root = util::root();
        let (files, findings) = scan_sources(&root).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            files > 0,
            "the source scan found no files under {}",
            scanned_dirs_label()
        );
        let report: Vec<String> = findings
            .iter()
            .map(|f| format!("{}:{}: {}   {}", f.path.display(), f.line, f.what, f.text))
            .collect();
        assert!(
            findings.is_empty(),
            "sans-IO layers must not do I/O or read the clock (take it as a parameter, or move \
             the code to zmq-transport / zmq):\n{}",
            report.join("\n")
        );
    }

    fn whats(src: &str) -> Vec<(usize, String)> {
        scan_source(src)
    }

    #[test]
    fn scan_finds_paths_imports_and_clock_reads() {
        let src = "use std::net::TcpStream;\n\
                   use std :: thread;\n\
                   fn f() { let _ = ::std::fs::read(\"x\"); }\n\
                   use std::{\n  io,\n  process::Command,\n};\n\
                   let t = Instant::now();\n\
                   let s = std::time::SystemTime::now();\n";
        assert_eq!(
            whats(src),
            vec![
                (1, "std::net".into()),
                (2, "std::thread".into()),
                (3, "std::fs".into()),
                (6, "std::process".into()),
                (8, "Instant::now".into()),
                (9, "SystemTime::now".into()),
            ]
        );
    }

    #[test]
    fn scan_ignores_comments_strings_and_lookalikes() {
        let src = "//! Unlike std::net, this does no I/O.\n\
                   /// Never calls `Instant::now()`.\n\
                   /* std::fs /* nested std::thread */ still comment std::process */\n\
                   const A: &str = \"std::net::TcpStream\";\n\
                   const B: &str = r#\"Instant::now \" std::fs\"#;\n\
                   const C: char = '\"'; const D: char = '\\'';\n\
                   fn g<'a>(x: &'a str) -> &'a str { x }\n\
                   use core::net::Ipv4Addr; use mystd::net; use std::{io::{self, net}};\n\
                   let n = now(); let i = Instant::from(now);\n";
        assert_eq!(whats(src), vec![]);
    }

    #[test]
    fn scan_keeps_line_numbers_across_multiline_literals() {
        let src = "const S: &str = \"a\nb\nc\";\nuse std::fs;\n";
        assert_eq!(whats(src), vec![(4, "std::fs".into())]);
    }

    #[test]
    fn parse_tree_reads_features_and_duplicates() {
        let out = "zmtp-codec v0.1.0 (/w/crates/zmtp-codec)|\n\
                   bytes v1.12.1|\n\
                   smallvec v1.16.5|const_generics,const_new,union\n\
                   bytes v1.12.1| (*)\n";
        let parsed = parse_tree(out);
        assert_eq!(parsed.len(), 3);
        assert!(parsed["bytes v1.12.1"].is_empty());
        assert!(parsed["smallvec v1.16.5"].contains("union"));
    }

    #[test]
    fn layer_table_covers_known_crates() {
        for name in SANS_IO_CLOSURES.iter().chain(SCANNED_CRATES) {
            assert!(allowed_for(name).is_some(), "{name} missing from LAYERS");
        }
        assert_eq!(allowed_for("zmtp-codec"), Some(&[][..]));
    }
}
