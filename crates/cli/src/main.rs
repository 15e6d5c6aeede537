//! `solocrm`: run the customer relationships of a one-person company from the terminal.
//!
//! The binary is thin: it parses arguments, opens the SQLite store, calls the library,
//! and prints. Exit codes: 0 success, 1 runtime error, 2 usage error (also a value the books
//! refuse, such as an unknown `--segment`). Errors go to
//! standard error as `solocrm: error: ...` (`solocrm: 错误: ...` in Chinese, see
//! [`i18n`]) with their causes; a closed pipe (`| head`)
//! ends the program quietly. Messages pass through [`output::escape_controls`], so an
//! escape sequence inside a file's cell or an argument is shown, never obeyed.

#[macro_use]
mod i18n;
mod books;
mod cli;
mod cmd;
mod output;
mod parse;
mod paths;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

use crate::output::escape_controls;

/// The binary's allocator: jemalloc, whose arenas give freed memory back to the system
/// after a few seconds, instead of glibc's per-thread arenas that kept the web server's
/// peak about 160 MiB higher under many readers (ADR 0060). SQLite's own allocations
/// still go through the C library's `malloc`.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse().and_then(|cli| cli.check().map(|()| cli)) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0, usage errors to stderr with 2. A
            // usage error quotes the argument it refuses: it is shown without styling
            // and with its controls escaped.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let text = e.render().to_string();
            let _ = write!(std::io::stderr(), "{}", escape_controls(&text, true));
            return ExitCode::from(2);
        }
    };
    // Set once, before anything prints: `--lang`, else the locale (LC_ALL, LC_MESSAGES,
    // LANG), else English.
    i18n::set(i18n::choose(cli.lang, |var| std::env::var_os(var)));
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            output::to_stderr(t!("error.prefix"), &describe(&e));
            // A value the books refuse (an unknown segment) is a usage error too.
            if e.downcast_ref::<cmd::BadValue>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The error and its causes as one line, `outer: cause: root`, leaving out a cause
/// whose text the message before it already contains (a library error that repeats its
/// source's text would otherwise print the same words two or three times).
fn describe(e: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
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
