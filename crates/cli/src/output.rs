//! Output: aligned tables for people, JSON for scripts, colour only on a terminal.
//!
//! Text from the database or from a file can hold anything, including the escape
//! sequences a terminal obeys (clearing the screen, rewriting earlier lines, writing the
//! clipboard with OSC 52). Everything printed for a person therefore goes through
//! [`escape_controls`]: control characters, DEL, the C1 controls and the bidirectional
//! overrides are shown as visible escapes (`\x1b`, `\u{202e}`) instead of being obeyed.
//! JSON output is left to `serde_json`, which escapes the C0 controls itself.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use anyhow::Result;
use serde::Serialize;

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

/// A JSON formatter that also escapes what `serde_json` writes raw but a terminal
/// obeys: DEL, the C1 controls and the bidirectional controls, as `\uXXXX` (the same
/// string to every JSON reader).
pub struct TerminalSafe<F>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for TerminalSafe<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| is_unsafe(c)) {
            self.0.write_string_fragment(writer, &rest[..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[i + c.len_utf8()..];
        }
        self.0.write_string_fragment(writer, rest)
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
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

/// True for the characters a terminal may act on instead of showing, or that show as
/// nothing and so make text read as what it is not: the C0 controls, DEL, the C1
/// controls (U+0080 to U+009F, among them the one-character CSI), the line and
/// paragraph separators, the bidirectional marks, embeddings, overrides and isolates,
/// zero-width and invisible characters (U+200B, U+2060 to U+2064, U+FEFF), the
/// interlinear annotation marks and the tag characters. The zero-width joiner and
/// non-joiner (U+200C, U+200D) are kept: emoji sequences and several scripts need them.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `text` with every character a terminal would act on shown as a visible escape:
/// `\x1b` for ESC, `\u{9b}`, `\u{202e}`, and `\t`, `\r`, `\n` for the blanks. Line
/// breaks are kept as they are when `keep_newlines` is set (a message of several lines).
/// Text without such characters is returned as it is, without copying.
///
/// A terminal shown `\x1b]52;c;...\x07` prints those characters instead of writing its
/// clipboard.
pub fn escape_controls(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let must_escape = |c: char| is_unsafe(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(must_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !must_escape(c) {
            out.push(c);
            continue;
        }
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
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
