//! `zmq`: the command-line tool of the pure-Rust ZeroMQ.
//!
//! `zmq cat` is a socket on the command line: it sends standard input line by line and
//! prints what it receives, optionally over PLAIN or CURVE. `zmq keygen` makes a CURVE key
//! pair. `zmq z85` converts keys and other binary data to and from Z85. `zmq proxy` runs
//! libzmq's steerable proxy between two sockets. `zmq monitor` prints a socket's monitor
//! events live. `zmq bench` measures throughput, latency and memory against libzmq and a
//! plain socket.

mod bench;
mod cat;
mod monitor;
mod proxy;

use std::io::{self, Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The pure-Rust ZeroMQ command-line tool.
#[derive(Parser)]
#[command(name = "zmq", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Cat(Box<cat::CatArgs>),
    Bench(Box<bench::BenchArgs>),
    /// One side of one benchmark measurement (run by `zmq bench` itself).
    #[command(hide = true)]
    BenchPeer {
        /// The side's description, as JSON.
        spec: String,
    },
    Keygen(KeygenArgs),
    Proxy(proxy::ProxyArgs),
    Monitor(monitor::MonitorArgs),
    /// Convert between binary data and Z85 text (RFC 32), as used for CURVE keys.
    #[command(subcommand)]
    Z85(Z85),
}

#[derive(Subcommand)]
enum Z85 {
    /// Encode hex (argument) or raw bytes (stdin) as Z85 text.
    ///
    /// The input must be a multiple of 4 bytes, e.g. a 32-byte CURVE key.
    Encode {
        /// The bytes as hex digits; without it, raw bytes are read from stdin.
        hex: Option<String>,
    },
    /// Decode Z85 text (argument or stdin) and print it as hex, or raw with --raw.
    Decode {
        /// The Z85 text; without it, it is read from stdin (surrounding whitespace ignored).
        #[arg(allow_hyphen_values = true)]
        text: Option<String>,
        /// Write the raw bytes to stdout instead of hex.
        #[arg(long)]
        raw: bool,
    },
}

/// Generate a CURVE key pair, printed in Z85 as libzmq's curve_keygen prints it.
///
/// Give the secret key to the socket that owns the pair (`zmq cat --curve-server SECRET`)
/// and the public key to its peers (`--curve-serverkey PUBLIC`). Keys come from the
/// operating system's random generator.
///
/// Output:
///   == CURVE PUBLIC KEY ==
///   <40 characters>
///   == CURVE SECRET KEY ==
///   <40 characters>
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
struct KeygenArgs {
    /// Print the pair of this secret key (Z85) instead of a new pair: its public key is
    /// derived (libzmq's zmq_curve_public).
    #[arg(long, value_name = "SECRET", allow_hyphen_values = true)]
    from_secret: Option<String>,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Cat(args) => cat::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::BenchPeer { spec } => bench::peer::main(&spec).map(|()| ExitCode::SUCCESS),
        Command::Keygen(args) => keygen(&args).map(|()| ExitCode::SUCCESS),
        Command::Proxy(args) => proxy::run(&args),
        Command::Monitor(args) => monitor::run(&args),
        Command::Z85(z) => z85(z).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("zmq: {e}");
            ExitCode::FAILURE
        }
    }
}

fn keygen(args: &KeygenArgs) -> Result<(), String> {
    let (public, secret) = match &args.from_secret {
        Some(secret) => {
            let public = zmq::curve_public(secret.trim()).map_err(|_| {
                "--from-secret: a CURVE secret key is 40 characters of Z85".to_string()
            })?;
            (public, secret.trim().to_owned())
        }
        None => zmq::curve_keypair().map_err(|e| format!("cannot make a key pair: {e}"))?,
    };
    println!("== CURVE PUBLIC KEY ==\n{public}\n== CURVE SECRET KEY ==\n{secret}");
    Ok(())
}

fn z85(command: Z85) -> Result<(), String> {
    match command {
        Z85::Encode { hex } => {
            let data = match hex {
                Some(hex) => parse_hex(&hex)?,
                None => read_stdin()?,
            };
            let text = zmq::z85_encode(&data).map_err(|e| format!("cannot encode: {e}"))?;
            println!("{text}");
        }
        Z85::Decode { text, raw } => {
            let text = match text {
                Some(t) => t,
                None => String::from_utf8(read_stdin()?)
                    .map_err(|_| "stdin is not text; Z85 is ASCII".to_string())?,
            };
            let data = zmq::z85_decode(text.trim()).map_err(|e| format!("cannot decode: {e}"))?;
            let mut out = io::stdout().lock();
            let written = if raw {
                out.write_all(&data)
            } else {
                writeln!(out, "{}", to_hex(&data))
            };
            written.map_err(|e| format!("cannot write to stdout: {e}"))?;
        }
    }
    Ok(())
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    io::stdin()
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    Ok(data)
}

/// Lower-case hex digits of `data`.
pub(crate) fn to_hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from hex digits (whitespace ignored).
pub(crate) fn parse_hex(hex: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "hex input has an odd number of digits ({})",
            digits.len()
        ));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("'{}' is not a hex byte", String::from_utf8_lossy(pair)))
        })
        .collect()
}
