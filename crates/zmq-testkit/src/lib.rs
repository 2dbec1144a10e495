//! Test support shared by the workspace's interop tests (a dev-dependency only; not
//! published).
//!
//! The tests that talk to a real libzmq run it through pyzmq, whose wheels bundle libzmq
//! (with CURVE). They find that Python the same way, here: `ZMQ_INTEROP_PYTHON`, else the
//! workspace's `.tools/bin/python` (which `cargo xtask tools` installs, as CI does), else
//! `python3`. Without one the tests fail and say how to get one; they are never skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace's root (this crate is `crates/zmq-testkit`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python to run libzmq peers with; fails the test, saying how to get one, if it has
/// no pyzmq.
pub fn python() -> PathBuf {
    checked_python("import zmq", "pyzmq")
}

/// [`python`], whose libzmq must also have CURVE (pyzmq's wheels do).
pub fn python_with_curve() -> PathBuf {
    checked_python("import zmq; assert zmq.has('curve')", "pyzmq (and CURVE)")
}

fn checked_python(check: &str, needs: &str) -> PathBuf {
    let candidate = std::env::var_os("ZMQ_INTEROP_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let venv = workspace_root().join(".tools/bin/python");
            venv.exists().then_some(venv)
        })
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ok = Command::new(&candidate)
        .args(["-c", check])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the libzmq interop tests need a Python with {needs}, and {} has none: run \
         `cargo xtask tools` (it installs one into .tools/) or set ZMQ_INTEROP_PYTHON",
        candidate.display()
    );
    candidate
}

/// pyzmq's bundled libzmq (`<venv>/lib/python3*/site-packages/pyzmq.libs/libzmq*.so*`):
/// in the venv of `ZMQ_INTEROP_PYTHON`, else in the workspace's `.tools`. Fails the test,
/// saying where it looked, if there is none.
pub fn pyzmq_libzmq() -> PathBuf {
    let mut venvs = vec![workspace_root().join(".tools")];
    if let Some(python) = std::env::var_os("ZMQ_INTEROP_PYTHON") {
        if let Some(venv) = Path::new(&python).parent().and_then(Path::parent) {
            venvs.insert(0, venv.to_path_buf());
        }
    }
    for venv in &venvs {
        let Ok(lib) = std::fs::read_dir(venv.join("lib")) else {
            continue;
        };
        for python in lib.flatten() {
            let libs = python.path().join("site-packages/pyzmq.libs");
            for entry in std::fs::read_dir(libs).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("libzmq") && name.contains(".so") {
                    return entry.path();
                }
            }
        }
    }
    panic!(
        "no libzmq to compare with: run `cargo xtask tools` (pyzmq bundles libzmq) or set \
         ZMQ_INTEROP_PYTHON to a Python with pyzmq; looked in {venvs:?}"
    );
}
