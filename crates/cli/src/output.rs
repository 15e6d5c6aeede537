//! Output: aligned tables for people, JSON for scripts, colour only on a terminal.
//!
//! Text from the database or from a file can hold anything, including the escape
//! sequences a terminal obeys (clearing the screen, rewriting earlier lines, writing the
//! clipboard with OSC 52). Everything printed for a person therefore goes through
//! [`escape_controls`]: control characters, DEL, the C1 controls and the bidirectional
//! overrides are shown as visible escapes (`\x1b`, `\u{202e}`) instead of being obeyed.
//! JSON output is left to `serde_json`, which escapes the C0 controls itself.

use std::borrow::Cow;
use std::io::{self, IsTerminal, Write};

use anyhow::Result;
use serde::Serialize;
pub use solocrm_app::escape::{TerminalSafe, escape_controls};

/// Where and how to print.
pub struct Out {
    out: io::BufWriter<io::Stdout>,
    /// Print JSON instead of tables.
    pub json: bool,
    color: bool,
}

impl Out {
    /// Standard output; colour if it is a terminal and `NO_COLOR` is unset or empty.
    pub fn new(json: bool) -> Self {
        let stdout = io::stdout();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = !json && !no_color && stdout.is_terminal();
        Out {
            out: io::BufWriter::new(stdout),
            json,
            color,
        }
    }

    /// Writes one line. A line break inside `text` (which can only come from data: no
    /// message of ours spans lines) is shown as `\n`, like every other control, so that
    /// stored text cannot print a line that looks like ours.
    pub fn line(&mut self, text: impl AsRef<str>) -> Result<()> {
        writeln!(self.out, "{}", escape_controls(text.as_ref(), false))?;
        Ok(())
    }

    /// Writes a heading (bold on a colour terminal).
    pub fn heading(&mut self, text: impl AsRef<str>) -> Result<()> {
        let text = escape_controls(text.as_ref(), false);
        if self.color {
            writeln!(self.out, "\x1b[1m{text}\x1b[0m")?;
        } else {
            writeln!(self.out, "{text}")?;
        }
        Ok(())
    }

    /// Writes a value as pretty JSON. It is rendered first and written after, so that a
    /// failed write is the plain I/O error (a closed pipe ends the program quietly).
    /// Strings keep their text exactly; the characters a terminal would act on are
    /// written as `\uXXXX` escapes ([`TerminalSafe`]).
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let mut text = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut text,
            TerminalSafe(serde_json::ser::PrettyFormatter::new()),
        );
        value.serialize(&mut ser)?;
        text.push(b'\n');
        self.out.write_all(&text)?;
        Ok(())
    }

    /// Writes a table.
    pub fn table(&mut self, table: &Table) -> Result<()> {
        let widths = table.widths();
        let render = |cells: &[String]| -> String {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let w = widths[i];
                let pad = w.saturating_sub(cell.chars().count());
                if i > 0 {
                    line.push_str("  ");
                }
                if table.right.get(i).copied().unwrap_or(false) {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if i + 1 < cells.len() {
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
            line
        };
        let header = render(&table.header);
        self.heading(header.trim_end())?;
        for row in &table.rows {
            let line = render(row);
            self.line(line.trim_end())?;
        }
        Ok(())
    }

    /// Flushes standard output.
    pub fn finish(mut self) -> Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

/// A table: a header and rows of cells; some columns right-aligned (numbers, money).
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns; a column whose name starts with `>` is right-aligned
    /// (the `>` is not shown).
    pub fn new(columns: &[&str]) -> Self {
        Table {
            header: columns
                .iter()
                .map(|c| c.trim_start_matches('>').to_owned())
                .collect(),
            right: columns.iter().map(|c| c.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row. A cell is one line: its line breaks and other controls are shown
    /// escaped, so that a cell can neither break the table nor drive the terminal.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| match escape_controls(&c, false) {
                    Cow::Borrowed(_) => c,
                    Cow::Owned(escaped) => escaped,
                })
                .collect(),
        );
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(slot) = w.get_mut(i) {
                    *slot = (*slot).max(cell.chars().count());
                }
            }
        }
        w
    }
}

/// Prints `solocrm: {label}{message}` on standard error, the message on one line with
/// its controls escaped. Standard error gone is not worth failing over.
pub fn to_stderr(label: &str, message: &str) {
    let _ = writeln!(
        io::stderr(),
        "solocrm: {label}{}",
        escape_controls(message, false)
    );
}

/// Shows an optional value, `-` for none.
pub fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// A progress line on standard error, shown only when it is a terminal.
pub struct Progress {
    label: &'static str,
    total: u64,
    shown: bool,
    last_percent: u64,
}

impl Progress {
    /// Starts a progress line for `total` steps.
    pub fn new(label: &'static str, total: u64) -> Self {
        Progress {
            label,
            total,
            shown: io::stderr().is_terminal(),
            last_percent: u64::MAX,
        }
    }

    /// Reports that `done` steps are done.
    pub fn set(&mut self, done: u64) {
        if !self.shown || self.total == 0 {
            return;
        }
        let percent = done.saturating_mul(100) / self.total;
        if percent != self.last_percent {
            self.last_percent = percent;
            eprint!("\r{} {percent:>3}%", self.label);
        }
    }

    /// Clears the line.
    pub fn finish(self) {
        if self.shown {
            eprint!("\r{}\r", " ".repeat(self.label.len() + 6));
        }
    }
}

/// A [`Progress`] line for each pass of an import (see
/// [`solocrm_app::exchange::Progress`]).
pub struct ProgressLine {
    label: &'static str,
    current: Option<Progress>,
}

impl ProgressLine {
    /// A line labelled `label`, shown while a pass runs.
    pub fn new(label: &'static str) -> Self {
        ProgressLine {
            label,
            current: None,
        }
    }
}

impl solocrm_app::exchange::Progress for ProgressLine {
    fn begin(&mut self, total: u64) {
        if let Some(old) = self.current.replace(Progress::new(self.label, total)) {
            old.finish();
        }
    }

    fn advance(&mut self, done: u64) {
        if let Some(p) = &mut self.current {
            p.set(done);
        }
    }

    fn end(&mut self) {
        if let Some(p) = self.current.take() {
            p.finish();
        }
    }
}
