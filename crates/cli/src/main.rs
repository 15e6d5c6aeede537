//! The `solocrm` binary. The full command set arrives with the CLI issue; until then it
//! says so plainly instead of pretending.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "solocrm {}: the command-line interface is not built yet.\n\
         Use solocrm as a library for now: `cargo run --example quickstart` shows how.",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::from(2)
}
