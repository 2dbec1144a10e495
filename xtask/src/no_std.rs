//! `cargo xtask no-std`: builds the sans-IO crates (`zmtp-codec`, `zmq-security`,
//! `zmq-patterns`) without default features for `thumbv7m-none-eabi`, a target that has
//! `core` and `alloc` but no `std`, so any use of `std` in them or their dependencies fails
//! the build. Adds the target with rustup first when it is not installed.

use crate::util::{self, Result};

/// A bare-metal target with `alloc` and atomics but no `std`.
pub(crate) const TARGET: &str = "thumbv7m-none-eabi";

/// The crates that must build without `std`.
const CRATES: [&str; 3] = ["zmtp-codec", "zmq-security", "zmq-patterns"];

/// Runs `cargo xtask no-std`.
pub(crate) fn main(args: impl Iterator<Item = String>) -> Result {
    if let Some(arg) = args.into_iter().next() {
        return Err(format!(
            "`cargo xtask no-std` takes no arguments (got `{arg}`)"
        ));
    }
    run()
}

/// Ensures the target is installed, then builds each sans-IO crate for it.
pub(crate) fn run() -> Result {
    ensure_target()?;
    for krate in CRATES {
        util::run(&mut util::cargo(&[
            "build",
            "-p",
            krate,
            "--no-default-features",
            "--target",
            TARGET,
            "--locked",
        ]))
        .map_err(|e| {
            format!(
                "{krate} does not build without `std` for {TARGET}: {e}.\n\
                 Something in {krate} (or a dependency it enables) needs `std` when the `std` \
                 feature is off: keep `#![no_std]` with `extern crate alloc;`, use `core::`/`alloc::` \
                 paths, gate std-only code behind `#[cfg(feature = \"std\")]`, and declare \
                 dependencies with `default-features = false`."
            )
        })?;
        println!("{krate} builds for {TARGET} without default features");
    }
    Ok(())
}

/// Runs `rustup target add` unless the target's standard library is already installed.
fn ensure_target() -> Result {
    let installed =
        util::output_of(util::command("rustup").args(["target", "list", "--installed"])).map_err(
            |e| format!("cannot list the installed targets (is rustup installed?): {e}"),
        )?;
    if installed.lines().any(|l| l.trim() == TARGET) {
        return Ok(());
    }
    println!("{TARGET} is not installed; adding it");
    util::run(util::command("rustup").args(["target", "add", TARGET]))
        .map_err(|e| format!("could not install the {TARGET} target with rustup: {e}"))
}
