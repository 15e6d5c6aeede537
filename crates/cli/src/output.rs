//! Output: aligned tables for people, JSON for scripts, colour only on a terminal.
//!
//! Text from the database or from a file can hold anything, including the escape
//! sequences a terminal obeys (clearing the screen, rewriting earlier lines, writing the
//! clipboard with OSC 52). Everything printed for a person therefore goes through
//! [`escape_controls`]: control characters, DEL, the C1 controls and the bidirectional
//! overrides are shown as visible escapes (`\x1b`, `\u{202e}`) instead of being obeyed.
//! JSON output is left to `serde_json`, which escapes the C0 controls itself.
//!
//! Tables are laid out in terminal columns, not characters: a cell is escaped first and
//! then measured with `unicode-width`, so a Chinese or Japanese character or an emoji
//! counts 2 and a combining mark 0, and every column starts at the same column on every
//! line. A table is fitted to a width (see [`table_width`]): the widest text columns
//! are cut, at a grapheme boundary and ending in `…`; numeric (right-aligned) columns
//! never are.

use std::borrow::Cow;
use std::io::{self, IsTerminal, Write};

use anyhow::Result;
use serde::Serialize;
pub use solocrm_app::escape::{TerminalSafe, escape_controls};

mod json;
pub use json::{JsonFields, RowFields, WrittenRow};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Where and how to print.
pub struct Out {
    out: io::BufWriter<io::Stdout>,
    /// Print JSON instead of tables.
    pub json: bool,
    color: bool,
    /// The width tables are fitted to, if any (see [`table_width`]).
    width: Option<usize>,
    /// The rows of a screenful when standard output is a terminal (see
    /// [`screen_rows`]), else `None`.
    rows: Option<usize>,
}

impl Out {
    /// Standard output; colour if it is a terminal and `NO_COLOR` is unset or empty;
    /// tables fitted to the width [`table_width`] finds.
    pub fn new(json: bool) -> Self {
        let stdout = io::stdout();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let terminal = stdout.is_terminal();
        let color = !json && !no_color && terminal;
        let width = table_width(std::env::var_os("COLUMNS").as_deref(), terminal, || {
            terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0))
        });
        let rows = screen_rows(std::env::var_os("LINES").as_deref(), terminal, || {
            terminal_size::terminal_size_of(io::stdout()).map(|(_, h)| usize::from(h.0))
        });
        Out {
            out: io::BufWriter::with_capacity(1 << 16, stdout),
            json,
            color,
            width,
            rows,
        }
    }

    /// How many rows of a list to print when the user did not say (`--limit`): a
    /// screenful on a terminal, all (`None`) when the output is piped or JSON.
    pub fn default_rows(&self) -> Option<usize> {
        if self.json { None } else { self.rows }
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

    /// Writes a value as pretty JSON, streamed into the buffered output (a document of
    /// 100 k customers is tens of megabytes: it is not rendered whole first, issue 14).
    /// A failed write is the plain I/O error, taken back out of `serde_json`'s (a
    /// closed pipe ends the program quietly). Strings keep their text exactly; the
    /// characters a terminal would act on are written as `\uXXXX` escapes
    /// ([`TerminalSafe`]).
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        write_json(&mut self.out, value)?;
        Ok(())
    }

    /// Starts a JSON document written field by field: the same text as [`json`](Self::json)
    /// of a struct with those fields, its long lists laid out on two threads
    /// ([`JsonFields`]).
    pub fn json_fields(&mut self) -> Result<JsonFields<'_, io::BufWriter<io::Stdout>>> {
        Ok(JsonFields::new(&mut self.out)?)
    }

    /// Writes a table, its columns aligned by display width and, when a width is known
    /// (see [`table_width`]), its widest text columns cut to fit it.
    pub fn table(&mut self, table: &Table) -> Result<()> {
        // Each line written as it is laid out, in one reused buffer.
        let mut header = true;
        table.render_each(self.width, |line| {
            if std::mem::take(&mut header) {
                self.heading(line)
            } else {
                // Every cell was escaped as its row was added (`Table::row`), and the
                // layout adds only spaces and cut marks: written as it is.
                writeln!(self.out, "{line}")?;
                Ok(())
            }
        })
    }

    /// Flushes standard output.
    pub fn finish(mut self) -> Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

/// What [`Out::json`] writes, into `out`.
fn write_json<W: Write, T: Serialize + ?Sized>(mut out: W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        TerminalSafe(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut ser).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// A table: a header and rows of cells; some columns right-aligned (numbers, money).
///
/// The table speaks the run's language ([`crate::i18n`]) by itself: its columns are
/// named by their English headers, which it shows translated (`NAME` → `姓名`), and a
/// cell of a column that shows names of a closed list (`STAGE`, `CHANNEL`, `KIND` ...,
/// see [`crate::i18n::column_lists`]) is shown as the name's label (`at_risk` →
/// `有流失风险`). Widths are measured on what is shown, so alignment holds.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    right: Vec<bool>,
    /// Per column, the lists whose names its cells show (empty for most).
    lists: Vec<&'static [&'static str]>,
    /// Each cell as shown (translated, controls escaped) with its width in terminal
    /// columns, measured once as the row is added.
    rows: Vec<Vec<(String, usize)>>,
}

impl Table {
    /// A table with these columns, named by their English headers; a column whose name
    /// starts with `>` is right-aligned (the `>` is not shown).
    pub fn new(columns: &[&str]) -> Self {
        let keys = columns.iter().map(|c| c.trim_start_matches('>'));
        Table {
            header: keys.clone().map(crate::i18n::header).collect(),
            right: columns.iter().map(|c| c.starts_with('>')).collect(),
            lists: keys.map(crate::i18n::column_lists).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row. A cell is one line: its line breaks and other controls are shown
    /// escaped, so that a cell can neither break the table nor drive the terminal.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .enumerate()
                .map(|(i, c)| crate::i18n::cell(self.lists.get(i).copied().unwrap_or_default(), c))
                .map(|c| match escape_controls(&c, false) {
                    Cow::Borrowed(_) => c,
                    Cow::Owned(escaped) => escaped,
                })
                .map(|c| {
                    let width = shown_width(&c);
                    (c, width)
                })
                .collect(),
        );
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The natural width of each column: its widest cell or header, in terminal
    /// columns.
    fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.header.iter().map(|h| shown_width(h)).collect();
        for row in &self.rows {
            for (i, &(_, width)) in row.iter().enumerate() {
                if let Some(slot) = w.get_mut(i) {
                    *slot = (*slot).max(width);
                }
            }
        }
        w
    }

    /// The column widths fitted to `max` terminal columns. While the table is wider,
    /// one column loses one terminal column: a long text column (naturally wider than
    /// [`SHORT_COLUMN_WIDTH`]: names, reasons, descriptions) while one can still give,
    /// the widest of them (the rightmost of equals), so that the cut ones end up equally
    /// wide; only then a short one (a date, a stage). No column goes below its floor:
    /// [`MIN_COLUMN_WIDTH`] or its header's width, whichever is larger, and never more
    /// than its natural width. Right-aligned columns (numbers, money) keep their width.
    /// If the floors are still too wide the table is left wider than `max`.
    fn fitted_widths(&self, max: Option<usize>) -> Vec<usize> {
        let mut widths = self.widths();
        let Some(max) = max else {
            return widths;
        };
        let floors: Vec<usize> = widths
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                if self.right.get(i).copied().unwrap_or(false) {
                    w
                } else {
                    w.min(MIN_COLUMN_WIDTH.max(self.header[i].width()))
                }
            })
            .collect();
        let gaps = SEPARATOR.len() * widths.len().saturating_sub(1);
        let mut excess = (widths.iter().sum::<usize>() + gaps).saturating_sub(max);
        let natural = widths.clone();
        while excess > 0 {
            let Some(widest) = (0..widths.len())
                .filter(|&i| widths[i] > floors[i])
                .max_by_key(|&i| (natural[i] > SHORT_COLUMN_WIDTH, widths[i], i))
            else {
                break;
            };
            widths[widest] -= 1;
            excess -= 1;
        }
        widths
    }

    /// The header and the rows as lines, fitted to `max` terminal columns if given
    /// (see [`Table::fitted_widths`]); a cut cell ends in `…`.
    #[cfg(test)]
    fn render(&self, max: Option<usize>) -> (String, Vec<String>) {
        let mut lines = Vec::with_capacity(self.rows.len() + 1);
        self.render_each(max, |line| {
            lines.push(line.to_owned());
            Ok(())
        })
        .expect("collecting lines cannot fail");
        let header = lines.remove(0);
        (header, lines)
    }

    /// Hands `write` the header, then each row, as lines fitted to `max` terminal
    /// columns if given (see [`Table::fitted_widths`]; a cut cell ends in `…`), laid
    /// out one after the other in one buffer; stops at the first error `write` returns.
    fn render_each(
        &self,
        max: Option<usize>,
        mut write: impl FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        let widths = self.fitted_widths(max);
        let mut line = String::with_capacity(
            widths.iter().sum::<usize>() + SEPARATOR.len() * widths.len() + 16,
        );
        let lay_out = |cells: &mut dyn Iterator<Item = (&str, usize)>, line: &mut String| {
            line.clear();
            for (i, (cell, width)) in cells.enumerate() {
                let Some(&w) = widths.get(i) else { break };
                // A cell as wide as its column or narrower is shown whole (measured
                // once, in `row`); only a cut one is measured again.
                let (cell, shown) = if width <= w {
                    (Cow::Borrowed(cell), width)
                } else {
                    let cut = truncate(cell, w);
                    let shown = shown_width(&cut);
                    (cut, shown)
                };
                let pad = w.saturating_sub(shown);
                if i > 0 {
                    line.push_str(SEPARATOR);
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    push_spaces(line, pad);
                    line.push_str(&cell);
                } else {
                    line.push_str(&cell);
                    // The last column's padding would only be trimmed below.
                    if i + 1 < widths.len() {
                        push_spaces(line, pad);
                    }
                }
            }
            line.truncate(line.trim_end().len());
        };
        lay_out(
            &mut self.header.iter().map(|h| (h.as_str(), shown_width(h))),
            &mut line,
        );
        write(&line)?;
        for row in &self.rows {
            lay_out(&mut row.iter().map(|(c, w)| (c.as_str(), *w)), &mut line);
            write(&line)?;
        }
        Ok(())
    }
}

/// Appends `n` spaces to `line`, a slice at a time.
fn push_spaces(line: &mut String, mut n: usize) {
    const SPACES: &str = "                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        line.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// The width of `text` in terminal columns: its length when it is printable ASCII
/// (one column a character, the common cell, measured without decoding), else
/// [`UnicodeWidthStr::width`].
fn shown_width(text: &str) -> usize {
    if text.bytes().all(|b| (b' '..0x7f).contains(&b)) {
        text.len()
    } else {
        text.width()
    }
}

/// What stands between two columns.
const SEPARATOR: &str = "  ";

/// The narrowest a text column is cut to when a table is fitted to the terminal.
pub const MIN_COLUMN_WIDTH: usize = 8;

/// A text column at most this wide (a date, a stage) is cut only when the longer ones
/// are already at their floor.
pub const SHORT_COLUMN_WIDTH: usize = 10;

/// The mark that ends a cut cell (one terminal column).
const ELLIPSIS: char = '…';

/// The width, in terminal columns, that tables are fitted to, or `None` to never cut:
///
/// 1. `COLUMNS`, when set to a positive whole number, wins (as for `ls` and for the
///    help text), whether or not standard output is a terminal; so a script or a test
///    can ask for a width.
/// 2. Otherwise, when standard output is a terminal, its width (`terminal_width`).
/// 3. Otherwise (a pipe, a file) nothing is cut: the whole text goes to the program
///    or file that reads it.
pub fn table_width(
    columns: Option<&std::ffi::OsStr>,
    is_terminal: bool,
    terminal_width: impl FnOnce() -> Option<usize>,
) -> Option<usize> {
    if let Some(n) = columns
        .and_then(|c| c.to_str())
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    if is_terminal {
        terminal_width().filter(|&n| n > 0)
    } else {
        None
    }
}

/// The rows of a table that fill one screen, or `None` when nothing limits them:
/// `LINES` when set to a positive whole number, else the terminal's height when
/// standard output is a terminal; less five lines for the heading, the note under the
/// table and the prompt, and never fewer than ten.
pub fn screen_rows(
    lines: Option<&std::ffi::OsStr>,
    is_terminal: bool,
    terminal_height: impl FnOnce() -> Option<usize>,
) -> Option<usize> {
    let height = lines
        .and_then(|l| l.to_str())
        .and_then(|l| l.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .or_else(|| is_terminal.then(terminal_height).flatten())?;
    Some(height.saturating_sub(5).max(10))
}

/// `text` cut to at most `width` terminal columns: whole grapheme clusters (a letter
/// keeps its combining marks, an emoji sequence stays whole) followed by `…`. Text
/// that fits is returned as it is. A wide character that would straddle the limit is
/// left out, so the result can be one column narrower than `width` (the caller pads).
pub fn truncate(text: &str, width: usize) -> Cow<'_, str> {
    if shown_width(text) <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let room = width - 1; // for the ellipsis
    let mut end = 0;
    let mut used = 0;
    for (i, g) in text.grapheme_indices(true) {
        let w = g.width();
        if used + w > room {
            break;
        }
        used += w;
        end = i + g.len();
    }
    let mut cut = &text[..end];
    // A few sequences are narrower together than apart; the sum above bounds the
    // width, but measure what is shown and drop graphemes if it is still too wide.
    while cut.width() > room {
        match cut.grapheme_indices(true).next_back() {
            Some((i, _)) => cut = &cut[..i],
            None => break,
        }
    }
    let mut out = String::with_capacity(cut.len() + ELLIPSIS.len_utf8());
    out.push_str(cut);
    out.push(ELLIPSIS);
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

/// What a [`Progress`] counts, for how its numbers are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Records (customers, rows, moves): `12,345/200,000 (41,200/s)`.
    Records,
    /// Bytes of a file: `12.3 MiB/40.0 MiB (8.1 MiB/s)`.
    Bytes,
    /// Nothing counted: a spinner with the time taken.
    Time,
}

/// A progress bar on standard error (indicatif), with the count, the total, the rate
/// and the time left; shown only when standard error is a terminal (a pipe, a file or
/// a test sees nothing). Without a total it is a spinner with the count and rate.
/// Labels are the program's own words, never data, so they need no escaping.
pub struct Progress {
    bar: indicatif::ProgressBar,
}

impl Progress {
    /// A bar for `total` steps counted in `unit`, labelled `label`; a spinner if
    /// `total` is 0 (not known).
    pub fn new(label: &'static str, total: u64, unit: Unit) -> Self {
        Progress::on(
            label,
            total,
            unit,
            std::io::IsTerminal::is_terminal(&io::stderr()),
        )
    }

    /// [`Progress::new`], drawn only if `shown`.
    fn on(label: &'static str, total: u64, unit: Unit, shown: bool) -> Self {
        Progress::within(None, label, total, unit, shown)
    }

    /// [`Progress::on`], as one of the lines of `multi` if given.
    fn within(
        multi: Option<&indicatif::MultiProgress>,
        label: &'static str,
        total: u64,
        unit: Unit,
        shown: bool,
    ) -> Self {
        let mut bar = if !shown {
            indicatif::ProgressBar::hidden()
        } else if total == 0 {
            indicatif::ProgressBar::new_spinner()
        } else {
            indicatif::ProgressBar::new(total)
        };
        if shown && let Some(multi) = multi {
            bar = multi.add(bar);
        }
        bar.set_style(style(total, unit));
        bar.set_message(label);
        if shown {
            // Redrawn on its own while a long step (a commit) gives no news.
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
        Progress { bar }
    }

    /// Reports that `done` steps are done.
    pub fn set(&mut self, done: u64) {
        self.bar.set_position(done);
    }

    /// Says what is happening now (`committing`), keeping the count.
    pub fn stage(&mut self, label: &'static str) {
        self.bar.set_message(label);
    }

    /// Clears the bar.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// The look of a [`Progress`] of `total` (0: unknown) in `unit`.
fn style(total: u64, unit: Unit) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template(total, unit))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ")
        .with_key(
            "per_sec",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let rate = state.per_sec();
                let _ = if rate.is_finite() {
                    write!(w, "{}/s", indicatif::HumanCount(rate as u64))
                } else {
                    write!(w, "-/s")
                };
            },
        )
}

/// The template of [`style`].
fn template(total: u64, unit: Unit) -> &'static str {
    match (total, unit) {
        (0, Unit::Records) => "{spinner} {msg}: {human_pos} ({per_sec}, {elapsed})",
        (0, Unit::Bytes) => "{spinner} {msg}: {bytes} ({bytes_per_sec}, {elapsed})",
        (_, Unit::Time) => "{spinner} {msg} ({elapsed})",
        (_, Unit::Records) => "{msg} [{wide_bar}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
        (_, Unit::Bytes) => {
            "{msg} [{wide_bar}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)"
        }
    }
}

/// The progress of an import (see [`solocrm_app::exchange::Progress`]): a bar of the
/// bytes read for each pass over the file, and below it a count of the rows the
/// store has written with their rate; after the last row, `committing` until the
/// transaction ends. [`ImportProgress::finish`] clears both.
pub struct ImportProgress {
    /// The two lines, drawn together.
    lines: indicatif::MultiProgress,
    read: Option<Progress>,
    written: Option<Progress>,
    shown: bool,
}

impl ImportProgress {
    /// The bars of an import, drawn only when standard error is a terminal.
    pub fn new() -> Self {
        ImportProgress {
            lines: indicatif::MultiProgress::with_draw_target(
                indicatif::ProgressDrawTarget::stderr(),
            ),
            read: None,
            written: None,
            shown: std::io::IsTerminal::is_terminal(&io::stderr()),
        }
    }

    /// Clears the bars.
    pub fn finish(mut self) {
        for p in [self.read.take(), self.written.take()]
            .into_iter()
            .flatten()
        {
            p.finish();
        }
    }
}

impl solocrm_app::exchange::Progress for ImportProgress {
    fn begin(&mut self, total: u64) {
        let fresh = Progress::within(
            Some(&self.lines),
            t!("progress.reading"),
            total,
            Unit::Bytes,
            self.shown,
        );
        if let Some(old) = self.read.replace(fresh) {
            old.finish();
        }
        // A new pass writes again from the start.
        if let Some(old) = self.written.take() {
            old.finish();
        }
    }

    fn advance(&mut self, done: u64) {
        if let Some(p) = &mut self.read {
            p.set(done);
        }
    }

    fn end(&mut self) {
        if let Some(p) = self.read.take() {
            p.finish();
        }
        if let Some(p) = &mut self.written {
            p.stage(t!("progress.writing_read"));
        }
    }

    fn written(&mut self, rows: u64) {
        let (shown, lines) = (self.shown, &self.lines);
        self.written
            .get_or_insert_with(|| {
                Progress::within(Some(lines), t!("progress.writing"), 0, Unit::Records, shown)
            })
            .set(rows);
    }

    fn committing(&mut self) {
        if let Some(p) = &mut self.written {
            p.stage(t!("progress.committing"));
        }
    }
}

/// Counts the bytes written through it into a [`Progress`], if any (an export's).
pub struct Counted<'w> {
    inner: &'w mut dyn Write,
    progress: Option<Progress>,
    bytes: u64,
}

impl<'w> Counted<'w> {
    /// Writes to `inner`, counting into `progress`.
    pub fn new(inner: &'w mut dyn Write, progress: Option<Progress>) -> Self {
        Counted {
            inner,
            progress,
            bytes: 0,
        }
    }

    /// Clears the progress.
    pub fn finish(self) {
        if let Some(p) = self.progress {
            p.finish();
        }
    }
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        if let Some(p) = &mut self.progress {
            p.set(self.bytes);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(columns: &[&str], rows: &[&[&str]]) -> Table {
        let mut t = Table::new(columns);
        for r in rows {
            t.row(r.iter().map(|c| (*c).to_owned()).collect());
        }
        t
    }

    /// The display column at which each column's text starts on `line`, the columns
    /// being separated by two or more spaces.
    fn starts(line: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let mut col = 0;
        let mut spaces = 2;
        for g in line.graphemes(true) {
            if g == " " {
                spaces += 1;
            } else {
                if spaces >= 2 {
                    out.push(col);
                }
                spaces = 0;
            }
            col += g.width();
        }
        out
    }

    #[test]
    fn every_progress_template_parses_and_off_a_terminal_nothing_is_drawn() {
        for unit in [Unit::Records, Unit::Bytes, Unit::Time] {
            for total in [0, 10] {
                assert!(
                    indicatif::ProgressStyle::with_template(template(total, unit)).is_ok(),
                    "{unit:?} {total}"
                );
                let mut p = Progress::on("testing", total, unit, false);
                p.set(5);
                assert!(p.bar.is_hidden());
                p.finish();
            }
        }
    }

    #[test]
    fn widths_are_terminal_columns() {
        assert_eq!("李雷".width(), 4);
        assert_eq!("😀".width(), 2);
        assert_eq!("e\u{301}".width(), 1, "a combining mark takes no column");
        assert_eq!("Zoe\u{308} 王芳 😀".width(), 3 + 1 + 4 + 1 + 2);
        let t = table(
            &["NAME", ">N"],
            &[&["李雷"], &["😀"], &["e\u{301}"], &["Zoe\u{308} 王芳"]],
        );
        assert_eq!(t.widths(), [8, 1]);
    }

    #[test]
    fn cells_are_padded_by_display_width() {
        let t = table(
            &[">ID", "NAME", "CITY", ">TOTAL"],
            &[
                &["1", "李雷", "北京", "10"],
                &["22", "Zoe\u{308}", "Zürich", "1000"],
                &["3", "Ana 😀", "e\u{301}", "5"],
                &["4", "Bob", "Oslo", "7"],
            ],
        );
        let (header, rows) = t.render(None);
        assert_eq!(header, "ID  NAME    CITY    TOTAL");
        assert_eq!(rows[0], " 1  李雷    北京       10");
        assert_eq!(rows[1], "22  Zoe\u{308}     Zürich   1000");
        assert_eq!(rows[2], " 3  Ana 😀  e\u{301}           5");
        for row in &rows {
            assert_eq!(row.width(), header.width(), "{row}");
        }
        // Left-aligned columns start where their header does.
        let h = starts(&header);
        for row in &rows {
            let s = starts(row);
            assert_eq!(s[1..3], h[1..3], "{row}");
        }
    }

    #[test]
    fn controls_are_escaped_before_they_are_measured() {
        let t = table(&["NAME", "CITY"], &[&["a\u{1b}[2Jb", "x"], &["李", "y"]]);
        let (header, rows) = t.render(None);
        assert_eq!(rows[0], "a\\x1b[2Jb  x");
        assert_eq!(rows[1], "李         y");
        assert_eq!(starts(&header)[1], 11);
        assert_eq!(starts(&rows[1])[1], 11);
    }

    #[test]
    fn truncate_cuts_at_a_display_width_and_ends_in_an_ellipsis() {
        assert_eq!(truncate("Ada", 3), "Ada");
        assert_eq!(truncate("Ada Lovelace", 5), "Ada …");
        assert_eq!(truncate("Ada Lovelace", 1), "…");
        assert_eq!(truncate("Ada Lovelace", 0), "");
        // A wide character that does not fit whole is left out: the cut is one column
        // narrower and the table pads it.
        assert_eq!(truncate("李雷雷", 4), "李…");
        assert_eq!(truncate("李雷雷", 4).width(), 3);
        assert_eq!(truncate("李雷雷", 5), "李雷…");
        assert_eq!(truncate("😀😀😀", 4), "😀…");
        // A letter keeps its combining mark.
        assert_eq!(truncate("Zoe\u{308}y Smith", 4), "Zoe\u{308}…");
        assert_eq!(truncate("e\u{301}e\u{301}e\u{301}", 2), "e\u{301}…");
        // An emoji sequence is never split.
        let family = "👩\u{200d}👩\u{200d}👧";
        assert_eq!(
            truncate(&format!("{family}{family}x"), 3),
            format!("{family}…")
        );
        for text in ["李雷雷李", "Zoe\u{308} 王芳 😀 long", "ab😀cd"] {
            for w in 0..12 {
                assert!(truncate(text, w).width() <= w, "{text} to {w}");
            }
        }
    }

    #[test]
    fn a_table_is_fitted_by_cutting_its_widest_text_columns() {
        let t = table(
            &[">ID", "NAME", "STAGE", ">TOTAL", "WHY"],
            &[
                &[
                    "1",
                    "王芳王芳王芳王芳王芳",
                    "active",
                    "1234567",
                    "a very long reason indeed",
                ],
                &["2", "Zoe\u{308}", "new", "1", "short"],
            ],
        );
        let (header, rows) = t.render(None);
        assert_eq!(header.width(), 2 + 2 + 20 + 2 + 6 + 2 + 7 + 2 + 3);
        assert_eq!(rows[0].width(), 2 + 2 + 20 + 2 + 6 + 2 + 7 + 2 + 25);
        let (header, rows2) = t.render(Some(50));
        for line in std::iter::once(&header).chain(&rows2) {
            assert!(line.width() <= 50, "{line}: {}", line.width());
        }
        // WHY (25) is cut first, then NAME and WHY in turn: the numbers stay.
        assert_eq!(t.fitted_widths(Some(50)), [2, 14, 6, 7, 13]);
        assert!(rows2[0].contains("1234567"), "{}", rows2[0]);
        assert!(rows2[0].ends_with('…'), "{}", rows2[0]);
        // 14 columns: six wide characters and `…` take 13, a space pads the 14th.
        assert!(rows2[0].contains("王芳王芳王芳…   active"), "{}", rows2[0]);
        // The text columns (NAME, STAGE, WHY) start where their headers do.
        let text = |s: Vec<usize>| [s[1], s[2], s[4]];
        let h = text(starts(&header));
        assert_eq!(text(starts(&rows2[0])), h);
        assert_eq!(text(starts(&rows2[1])), h);
        assert_ne!(rows, rows2);
        // Never below the floor: a tiny width leaves the text columns at 8.
        let (_, narrow) = t.render(Some(10));
        assert!(narrow[0].contains("王芳王…"), "{}", narrow[0]);
        assert_eq!(t.fitted_widths(Some(10)), [2, 8, 6, 7, 8]);
    }

    #[test]
    fn short_columns_are_cut_only_after_the_long_ones_reach_the_floor() {
        let t = table(
            &["DATE", ">CUSTOMER", "NAME", "WHY"],
            &[&[
                "2026-06-10",
                "1",
                "Maximiliana Theodora",
                "birthday (turns 36)",
            ]],
        );
        // 10 + 8 + 8 + 8 and three gaps: the date stays whole.
        assert_eq!(t.fitted_widths(Some(40)), [10, 8, 8, 8]);
        let (_, rows) = t.render(Some(40));
        assert_eq!(rows[0], "2026-06-10         1  Maximil…  birthda…");
        // Narrower still, the date gives too, down to the floor.
        assert_eq!(t.fitted_widths(Some(39)), [9, 8, 8, 8]);
        assert_eq!(t.fitted_widths(Some(20)), [8, 8, 8, 8]);
    }

    #[test]
    fn the_width_comes_from_columns_then_the_terminal_and_never_for_a_pipe() {
        let os = |s: &'static str| Some(std::ffi::OsStr::new(s));
        assert_eq!(table_width(os("40"), false, || Some(100)), Some(40));
        assert_eq!(table_width(os("40"), true, || Some(100)), Some(40));
        assert_eq!(table_width(None, true, || Some(100)), Some(100));
        assert_eq!(table_width(os("wide"), true, || Some(100)), Some(100));
        assert_eq!(table_width(os("0"), false, || Some(100)), None);
        assert_eq!(table_width(None, false, || Some(100)), None);
        assert_eq!(table_width(None, true, || None), None);
    }
}
