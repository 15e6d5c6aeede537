//! `solocrm`: run the customer relationships of a one-person company from the terminal.
//!
//! The binary is thin: it parses arguments, opens the SQLite store, calls the library,
//! and prints. Exit codes: 0 success, 1 runtime error, 2 usage error. Errors go to
//! standard error as `solocrm: error: ...` with their causes; a closed pipe (`| head`)
//! ends the program quietly.

mod cli;
mod cmd;
mod csvio;
mod output;
mod parse;
mod paths;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0, usage errors to stderr with 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            if e.print().is_err() {
                return ExitCode::from(code);
            }
            return ExitCode::from(code);
        }
    };
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("solocrm: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// True if the error comes from writing to a closed pipe, also when a CSV or JSON
/// writer wrapped the I/O error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|cause| {
        let io = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind);
        let json = cause
            .downcast_ref::<serde_json::Error>()
            .and_then(serde_json::Error::io_error_kind);
        let csv = cause
            .downcast_ref::<csv::Error>()
            .and_then(|c| match c.kind() {
                csv::ErrorKind::Io(io) => Some(io.kind()),
                _ => None,
            });
        [io, json, csv].contains(&Some(BrokenPipe))
    })
}
