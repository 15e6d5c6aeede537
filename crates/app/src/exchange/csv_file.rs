//! Reading and writing the CSV files of the import contract.
//!
//! A file has a header row; columns are matched by name, ignoring case and surrounding
//! spaces, in any order. A column the import does not know is an error unless the
//! caller ignores unknown columns. Errors name the file, the line and the column:
//! `FILE:LINE: column 'amount': ...`.
//!
//! [`CsvRows`] reads a file row by row into one reused [`Row`], for imports that
//! stream; [`Sheet`] holds every row, for imports that need them all at once.
//! [`Columns::write_rejects`] writes the rows an import set aside, with the reason,
//! in a file that reads back the same way.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::fmt::{self, Write as _};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::encoding::{Decoded, DetectError, Detected, Encoding, SNIFF};
use super::{Input, Output, Source, WriteError};

/// Why a file cannot be read as the file of an import. Nothing of it is imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file cannot be opened.
    #[error("cannot read {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file is in none of the encodings an import reads (UTF-8, UTF-16,
    /// GB18030): `FILE: byte N: not UTF-8, UTF-16 or GB18030; save it as UTF-8`.
    #[error("{}: {source}", path.display())]
    Encoding {
        /// The file.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: super::encoding::NotText,
    },
    /// Read as UTF-8 from the look of its start ([`Detected::Utf8SoFar`]), the file
    /// has a row on `line` that is not UTF-8: the encoding is to be detected from the
    /// whole file ([`FileError::detect_whole`]) and the file read again. The
    /// importers do so themselves.
    #[error("{}:{line}: not UTF-8 after all; detect the encoding of the whole file", path.display())]
    NotUtf8After {
        /// The file.
        path: PathBuf,
        /// The first line that is not UTF-8.
        line: u64,
    },
    /// The header names a column the import does not know (and unknown columns are
    /// not to be ignored).
    #[error("{}:1: unknown column '{column}'; expected {expected}", path.display())]
    UnknownColumn {
        /// The file.
        path: PathBuf,
        /// The column as the header writes it.
        column: String,
        /// The columns the import knows, required ones first.
        expected: String,
    },
    /// The file, its header or a record is not what the import reads, and the rest of
    /// the file cannot be read: `FILE:LINE: reason` (`FILE: reason` when no line is
    /// to blame).
    #[error("{}{}: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line, when one is to blame.
        line: Option<u64>,
        /// What is wrong.
        reason: String,
    },
}

impl FileError {
    /// The encoding of `input` as far as the start of it tells (the whole of it
    /// where the start does not: see [`encoding`](super::encoding)), and the input
    /// opened for its first pass (a pipe's first bytes, read to tell, are not lost).
    pub(crate) fn detect(input: &Input) -> Result<(Detected, Source), FileError> {
        let open_err = |source| FileError::Open {
            path: input.name().to_owned(),
            source,
        };
        let mut first = input.open().map_err(open_err)?;
        let rereadable = input.rereadable();
        let mut start = Vec::new();
        (&mut first)
            .take(SNIFF as u64)
            .read_to_end(&mut start)
            .map_err(open_err)?;
        if let Some(detected) = super::encoding::sniff(&start, start.len() < SNIFF) {
            // A pipe cannot be read again: what its start says is final.
            let detected = if rereadable {
                detected
            } else {
                Detected::Sure(detected.encoding())
            };
            let source = match first {
                Source::File(f) => Source::Started(io::Cursor::new(start), f),
                _ => input.open().map_err(open_err)?,
            };
            return Ok((detected, source));
        }
        if !rereadable {
            if let Source::File(mut f) = first {
                f.read_to_end(&mut start).map_err(open_err)?;
            }
            input.keep(start);
        }
        let encoding = FileError::detect_whole(input)?;
        Ok((Detected::Sure(encoding), input.open().map_err(open_err)?))
    }

    /// The encoding of `input`, from all of it, or why it has none the import
    /// reads.
    pub fn detect_whole(input: &Input) -> Result<Encoding, FileError> {
        super::encoding::detect(|| input.open()).map_err(|e| match e {
            DetectError::Io(source) => FileError::Open {
                path: input.name().to_owned(),
                source,
            },
            DetectError::NotText(source) => FileError::Encoding {
                path: input.name().to_owned(),
                source,
            },
        })
    }

    fn invalid(path: &Path, line: Option<u64>, reason: impl Into<String>) -> FileError {
        FileError::Invalid {
            path: path.to_owned(),
            line,
            reason: reason.into(),
        }
    }
}

/// One data row of a CSV file.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The 1-based line the row starts on.
    pub line: u64,
    /// The cells, in file order.
    pub cells: csv::StringRecord,
    /// For a row whose structure is wrong (a stray quote, more fields than the
    /// header): the record's bytes as the file has them, lossily as UTF-8, since its
    /// cells do not show them faithfully. `None` for every other row.
    pub as_read: Option<String>,
}

/// A problem with one row, to be shown as `FILE:LINE: column 'x': reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line.
    pub line: u64,
    /// The column, when one is to blame.
    pub column: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl RowError {
    /// An error in `column` of the row on `line`.
    pub fn at(line: u64, column: &str, reason: impl fmt::Display) -> Self {
        RowError {
            line,
            column: Some(column.to_owned()),
            reason: reason.to_string(),
        }
    }

    /// An error of the row on `line` as a whole.
    pub fn row(line: u64, reason: impl fmt::Display) -> Self {
        RowError {
            line,
            column: None,
            reason: reason.to_string(),
        }
    }

    /// The message without the file name.
    pub fn message(&self) -> String {
        match &self.column {
            Some(c) => format!("column '{c}': {}", self.reason),
            None => self.reason.clone(),
        }
    }

    /// The full message for `file`.
    pub fn in_file(&self, file: &Path) -> String {
        format!("{}:{}: {}", file.display(), self.line, self.message())
    }
}

/// The first characters that make a spreadsheet read a cell as a formula (`=`, `+`,
/// `-`, `@`, tab, carriage return), and the guard itself, so that guarding can be
/// undone exactly.
const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// A text cell as a CSV export writes it: a cell that begins with a formula
/// character (or with `'`) gets a `'` in front, so that a spreadsheet shows it as
/// text instead of running it. [`restore`] undoes this.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell as an import reads it: one leading `'` is removed when a formula character
/// (or another `'`) follows it, undoing [`neutralise`].
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// A file's header: which known column is where.
#[derive(Debug, Clone)]
pub struct Columns {
    /// The file.
    pub path: PathBuf,
    /// The header as written.
    pub header: Vec<String>,
    /// Where each known column is. Looked up for every cell of every row, so hashed
    /// with foldhash: with SipHash, the look-ups were 4.2 % of a 1 M-row import's
    /// samples, 1.5 % now.
    index: ColumnIndex,
}

/// The position of each known column in the header. A fixed seed: the keys are the
/// program's own column names, not the file's text.
type ColumnIndex = HashMap<&'static str, usize, foldhash::fast::FixedState>;

impl Columns {
    /// The trimmed cell of `column` in `row`, `None` if the column is absent.
    pub fn cell<'a>(&self, row: &'a Row, column: &str) -> Option<&'a str> {
        self.raw(row, column).map(str::trim)
    }

    /// The trimmed cell, `None` if the column is absent or the cell empty.
    pub fn value<'a>(&self, row: &'a Row, column: &str) -> Option<&'a str> {
        self.cell(row, column).filter(|s| !s.is_empty())
    }

    /// The untrimmed cell (for free text that keeps its whitespace), with the
    /// formula guard of an export removed (see [`restore`]).
    pub fn raw<'a>(&self, row: &'a Row, column: &str) -> Option<&'a str> {
        self.index
            .get(column)
            .and_then(|&i| row.cells.get(i))
            .map(restore)
    }

    /// True if the file has `column`.
    pub fn has(&self, column: &str) -> bool {
        self.index.contains_key(column)
    }

    /// Writes refused rows to `out` with the header plus a `reason` column, and moves
    /// the file into place.
    ///
    /// Every row has exactly the header's cells and then the reason, so that the
    /// file reads back strictly and each reason sits in the `reason` column: a row
    /// narrower than the header is padded with empty cells; a wider one keeps the
    /// header's number of cells, and its whole record as read goes into the reason,
    /// as does that of a row with a stray quote. Text is written as it was read,
    /// control characters included: this is a file, not a terminal.
    pub fn write_rejects<'a>(
        &self,
        mut out: Box<dyn Output + '_>,
        rejects: impl IntoIterator<Item = (&'a Row, &'a RowError)>,
    ) -> Result<(), WriteError> {
        let written = (|| -> Result<(), csv::Error> {
            let width = self.header.len();
            let mut w = csv::WriterBuilder::new().from_writer(&mut out);
            let mut header = self.header.clone();
            header.push("reason".into());
            w.write_record(&header)?;
            let mut reason = String::new();
            for (row, err) in rejects {
                // The row as the file has it, to be fixed and imported again.
                for i in 0..width {
                    w.write_field(row.cells.get(i).unwrap_or(""))?;
                }
                reason.clear();
                let _ = write!(reason, "line {}: {}", err.line, err.message());
                if let Some(raw) = &row.as_read {
                    let _ = write!(reason, "; as read: {raw}");
                }
                w.write_field(&reason)?;
                w.write_record(None::<&[u8]>)?;
            }
            w.flush()?;
            Ok(())
        })();
        let name = out.name();
        written
            .map_err(io::Error::from)
            .and_then(|()| out.commit())
            .map_err(|source| WriteError { name, source })
    }
}

/// A structural fault the [`Scanner`] found in a row.
#[derive(Debug, Clone, Copy)]
struct Flaw {
    /// The offset of the offending byte.
    byte: u64,
    /// Its line.
    line: u64,
    /// What is wrong.
    what: &'static str,
}

/// Where the [`Scanner`] is within a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Quoting {
    /// At the start of a field.
    #[default]
    FieldStart,
    /// Inside a field that did not start with a quote.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: the field's end, or the first half
    /// of a doubled quote.
    QuoteInQuoted,
}

/// The UTF-8 byte order mark, which the CSV reader skips at the start of a file.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Follows the bytes the CSV reader reads, with the same record boundaries (those of
/// `csv_core`: `,` between fields, `\r`, `\n` or `\r\n` between records, doubled
/// quotes inside quoted fields), and notes what that reader lets pass: a quote inside
/// an unquoted field, text after a quoted field's closing quote, and a quoted field
/// still open at the end of the file.
#[derive(Debug, Default)]
struct Scanner {
    state: Quoting,
    /// The offset of the next byte.
    byte: u64,
    /// The line of the next byte, from 1.
    line: u64,
    /// The line where the quoted field being read opened.
    open_line: u64,
    /// The faults not yet claimed by a record, in file order, at most one a record.
    flaws: VecDeque<Flaw>,
    /// True once the current record has a fault.
    record_flawed: bool,
    /// The offset where the quoted field being read opened.
    open_byte: u64,
    /// At the end of the file: the line and offset of a quoted field that never
    /// closed.
    unclosed: Option<(u64, u64)>,
}

impl Scanner {
    fn new() -> Scanner {
        Scanner {
            line: 1,
            ..Scanner::default()
        }
    }

    fn flaw(&mut self, what: &'static str) {
        // The first fault of a record is the one reported: a row of a million stray
        // quotes must not take memory for each.
        if self.record_flawed {
            return;
        }
        self.record_flawed = true;
        self.flaws.push_back(Flaw {
            byte: self.byte,
            line: self.line,
            what,
        });
    }

    fn feed(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        // A byte order mark is skipped, as the CSV reader skips it.
        while self.byte < 3 && !bytes.is_empty() {
            let at = usize::try_from(self.byte).unwrap_or(0);
            if bytes[0] != BOM[at] {
                if at > 0 {
                    // Not a mark after all: the bytes skipped were text.
                    self.state = Quoting::Unquoted;
                }
                break;
            }
            self.byte += 1;
            bytes = &bytes[1..];
        }
        let mut i = 0;
        while i < bytes.len() {
            // Inside a field only a few bytes matter: the others are passed over in
            // one go (this keeps the scan a small part of a big import's reading).
            let rest = &bytes[i..];
            let skip = match self.state {
                Quoting::Unquoted => rest
                    .iter()
                    .position(|&b| matches!(b, b'"' | b',' | b'\r' | b'\n')),
                Quoting::Quoted => rest.iter().position(|&b| matches!(b, b'"' | b'\n')),
                Quoting::FieldStart | Quoting::QuoteInQuoted => Some(0),
            }
            .unwrap_or(rest.len());
            i += skip;
            self.byte += skip as u64;
            let Some(&b) = bytes.get(i) else {
                break;
            };
            self.state = match self.state {
                Quoting::FieldStart => match b {
                    b'"' => {
                        self.open_line = self.line;
                        self.open_byte = self.byte;
                        Quoting::Quoted
                    }
                    b',' | b'\r' => Quoting::FieldStart,
                    b'\n' => {
                        self.line += 1;
                        Quoting::FieldStart
                    }
                    _ => Quoting::Unquoted,
                },
                Quoting::Unquoted => match b {
                    b'"' => {
                        self.flaw(
                            "a quote inside a field that does not start with one; quote the \
                             whole field and double the quote (\"\")",
                        );
                        Quoting::Unquoted
                    }
                    b',' | b'\r' => Quoting::FieldStart,
                    b'\n' => {
                        self.line += 1;
                        Quoting::FieldStart
                    }
                    _ => Quoting::Unquoted,
                },
                Quoting::Quoted => match b {
                    b'"' => Quoting::QuoteInQuoted,
                    b'\n' => {
                        self.line += 1;
                        Quoting::Quoted
                    }
                    _ => Quoting::Quoted,
                },
                Quoting::QuoteInQuoted => match b {
                    b'"' => Quoting::Quoted,
                    b',' | b'\r' => Quoting::FieldStart,
                    b'\n' => {
                        self.line += 1;
                        Quoting::FieldStart
                    }
                    _ => {
                        self.flaw(
                            "text after the closing quote of a quoted field; a quote inside a \
                             quoted field is written twice (\"\")",
                        );
                        Quoting::Unquoted
                    }
                },
            };
            if matches!(b, b'\r' | b'\n') && self.state == Quoting::FieldStart {
                self.record_flawed = false;
            }
            self.byte += 1;
            i += 1;
        }
    }

    fn finish(&mut self) {
        if self.state == Quoting::Quoted {
            self.unclosed = Some((self.open_line, self.open_byte));
        }
    }
}

/// A file read through a [`Scanner`], keeping the bytes the CSV reader has taken but
/// not yet finished with (those of the current record and its read-ahead), so that a
/// malformed record can be shown as the file has it.
struct Scanned<R> {
    inner: R,
    scanner: Scanner,
    /// The bytes from offset `kept_from` on.
    kept: VecDeque<u8>,
    kept_from: u64,
}

impl<R> Scanned<R> {
    fn new(inner: R) -> Self {
        Scanned {
            inner,
            scanner: Scanner::new(),
            kept: VecDeque::new(),
            kept_from: 0,
        }
    }

    /// Forgets the bytes before offset `end`.
    fn release(&mut self, end: u64) {
        let n = usize::try_from(end.saturating_sub(self.kept_from))
            .unwrap_or(usize::MAX)
            .min(self.kept.len());
        self.kept.drain(..n);
        self.kept_from += n as u64;
    }

    /// Where the record the CSV reader says begins at `start` on `line` really
    /// begins: after a `\r\n`, the reader places the next record at the `\n`, on the
    /// line before.
    fn record_start(&self, mut start: u64, mut line: u64) -> (u64, u64) {
        let from = usize::try_from(start.saturating_sub(self.kept_from)).unwrap_or(usize::MAX);
        for &b in self.kept.range(from.min(self.kept.len())..) {
            match b {
                b'\n' => line += 1,
                b'\r' => {}
                _ => break,
            }
            start += 1;
        }
        (start, line)
    }

    /// The bytes from offset `start` to `end` (not released yet), without the line
    /// break that ends them, lossily as UTF-8.
    fn text(&self, start: u64, end: u64) -> String {
        let from = usize::try_from(start.saturating_sub(self.kept_from)).unwrap_or(usize::MAX);
        let to = usize::try_from(end.saturating_sub(self.kept_from))
            .unwrap_or(usize::MAX)
            .min(self.kept.len());
        let mut bytes: Vec<u8> = self.kept.range(from.min(to)..to).copied().collect();
        while matches!(bytes.last(), Some(b'\r' | b'\n')) {
            bytes.pop();
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The longest record a file may hold. Free text is at most 1 MiB a cell and a row has
/// a dozen cells, so this is far beyond any real row; a file past it (`/dev/zero`, a
/// binary, a quote opened at the top of a huge file) is refused instead of being read
/// into memory until the machine runs out.
pub const MAX_RECORD_BYTES: usize = 32 * 1024 * 1024;

impl<R: Read> Read for Scanned<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.kept.len() > MAX_RECORD_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a single record runs past {} MiB, which no CSV file of solocrm's holds (is it a CSV file? is a quote left open?)",
                    MAX_RECORD_BYTES / (1024 * 1024)
                ),
            ));
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.scanner.finish();
        } else {
            self.scanner.feed(&buf[..n]);
            self.kept.extend(&buf[..n]);
        }
        Ok(n)
    }
}

/// What [`CsvRows::next_into`] read.
#[derive(Debug)]
pub enum Next {
    /// A row, in the `Row`.
    Row,
    /// A row whose structure is wrong: not as wide as the header, not UTF-8 (the
    /// `Row` holds it with the invalid bytes replaced), or a stray quote. The rows
    /// after it are unaffected.
    Malformed(RowError),
    /// The end of the file.
    End,
}

/// A CSV file read row by row, strictly: a row that is not well-formed CSV (a stray
/// quote), not UTF-8 or not as wide as the header is [`Next::Malformed`], and a
/// quoted field still open at the end of the file is an error at the line where it
/// opened.
pub struct CsvRows {
    columns: Columns,
    reader: csv::Reader<Scanned<Decoded<Source>>>,
    /// The bytes of the current row, reused.
    record: csv::ByteRecord,
    /// False if the file is read as UTF-8 before its encoding is sure
    /// ([`Detected::Utf8SoFar`]).
    settled: bool,
    len: u64,
    rows: u64,
}

impl CsvRows {
    /// Opens `path`, as UTF-8, and checks its header against `required` and
    /// `optional` column names (lower-case, or an alias of one: see
    /// `docs/cli.md`).
    pub fn open(
        path: &Path,
        required: &[&'static str],
        optional: &[&'static str],
        ignore_unknown: bool,
    ) -> Result<CsvRows, FileError> {
        CsvRows::open_input(
            &Input::file(path),
            Detected::Sure(Encoding::Utf8),
            required,
            optional,
            ignore_unknown,
        )
    }

    /// Opens `input` in the encoding `detected` says (see [`encoding`](super::encoding))
    /// as [`CsvRows::open`] opens a file. Only an encoding other than UTF-8 is
    /// transcoded. With [`Detected::Utf8SoFar`], a row that is not UTF-8 is
    /// [`FileError::NotUtf8After`].
    pub fn open_input(
        input: &Input,
        detected: Detected,
        required: &[&'static str],
        optional: &[&'static str],
        ignore_unknown: bool,
    ) -> Result<CsvRows, FileError> {
        let file = input.open().map_err(|source| FileError::Open {
            path: input.name().to_owned(),
            source,
        })?;
        CsvRows::open_source(
            input.name(),
            file,
            detected,
            required,
            optional,
            ignore_unknown,
        )
    }

    /// [`CsvRows::open_input`] of an input opened already.
    pub(crate) fn open_source(
        path: &Path,
        file: Source,
        detected: Detected,
        required: &[&'static str],
        optional: &[&'static str],
        ignore_unknown: bool,
    ) -> Result<CsvRows, FileError> {
        let encoding = detected.encoding();
        let len = file.len();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Scanned::new(Decoded::new(file, encoding)));
        let mut record = csv::ByteRecord::new();
        let got = reader
            .read_byte_record(&mut record)
            .map_err(|e| FileError::invalid(path, None, describe_csv_error(&e)))?;
        let end = reader.position().byte();
        reader.get_mut().release(end);
        let scanner = &mut reader.get_mut().scanner;
        if let Some(flaw) = scanner.flaws.front().filter(|f| f.byte < end) {
            return Err(FileError::invalid(path, Some(flaw.line), flaw.what));
        }
        if let Some((line, open)) = scanner.unclosed
            && (!got || open < end)
        {
            return Err(FileError::invalid(path, Some(line), UNCLOSED));
        }
        let header: Vec<String> = if got {
            match csv::StringRecord::from_byte_record(record.clone()) {
                Ok(h) => h.iter().map(str::to_owned).collect(),
                Err(e) => {
                    return Err(FileError::invalid(
                        path,
                        Some(1),
                        format!(
                            "the header is not valid UTF-8 (field {})",
                            e.utf8_error().field() + 1
                        ),
                    ));
                }
            }
        } else {
            Vec::new()
        };
        let columns = Columns {
            index: header_index(path, &header, required, optional, ignore_unknown)?,
            path: path.to_owned(),
            header,
        };
        Ok(CsvRows {
            columns,
            reader,
            record,
            settled: detected != Detected::Utf8SoFar,
            len,
            rows: 0,
        })
    }

    /// The header.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// The size of the file in bytes.
    pub fn file_len(&self) -> u64 {
        self.len
    }

    /// How far into the file reading has come, in bytes.
    pub fn bytes_read(&self) -> u64 {
        let decoded = &self.reader.get_ref().inner;
        if decoded.transcodes() {
            // The CSV reader counts the UTF-8 text, not the file.
            decoded.consumed()
        } else {
            self.reader.position().byte()
        }
    }

    /// How many rows (after the header) were read so far, malformed ones included.
    pub fn rows_read(&self) -> u64 {
        self.rows
    }

    /// Reads the next row into `row`.
    ///
    /// # Errors
    ///
    /// `FILE:LINE: reason` for what makes the rest of the file unreadable: a quoted
    /// field that never closes (LINE is where it opened), or a read error.
    pub fn next_into(&mut self, row: &mut Row) -> Result<Next, FileError> {
        let path = &self.columns.path;
        let got = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| FileError::invalid(path, None, describe_csv_error(&e)))?;
        let end = self.reader.position().byte();
        let scanned = self.reader.get_mut();
        if let Some((line, open)) = scanned.scanner.unclosed
            && (!got || open < end)
        {
            return Err(FileError::invalid(path, Some(line), UNCLOSED));
        }
        if !got {
            return Ok(Next::End);
        }
        self.rows += 1;
        let (start, line) = scanned.record_start(
            self.record.position().map_or(0, csv::Position::byte),
            self.record.position().map_or(0, csv::Position::line),
        );
        row.line = line;
        let scanner = &mut scanned.scanner;
        let mut flaw = None;
        while let Some(f) = scanner.flaws.front().filter(|f| f.byte < end) {
            if f.byte >= start && flaw.is_none() {
                flaw = Some(*f);
            }
            scanner.flaws.pop_front();
        }
        // The cells, reusing the row's buffers.
        let bytes = std::mem::take(&mut row.cells).into_byte_record();
        let bytes = std::mem::replace(&mut self.record, bytes);
        let (cells, bad_utf8) = match csv::StringRecord::from_byte_record(bytes) {
            Ok(cells) => (cells, None),
            Err(e) => {
                let field = e.utf8_error().field() + 1;
                let lossy: csv::StringRecord = e
                    .into_byte_record()
                    .iter()
                    .map(String::from_utf8_lossy)
                    .collect();
                (lossy, Some(field))
            }
        };
        if bad_utf8.is_some() && !self.settled {
            return Err(FileError::NotUtf8After {
                path: path.to_owned(),
                line: row.line,
            });
        }
        row.cells = cells;
        let width = self.columns.header.len();
        // A row whose cells do not show it faithfully is kept as read too.
        row.as_read = (flaw.is_some() || row.cells.len() > width).then(|| scanned.text(start, end));
        scanned.release(end);
        let structure = if let Some(f) = flaw {
            Some((f.line, f.what.to_owned()))
        } else if row.cells.len() != width {
            Some((
                row.line,
                format!(
                    "this row has {} fields but the header has {width}",
                    row.cells.len()
                ),
            ))
        } else {
            None
        };
        // Invalid UTF-8 is a fault of its own, and worth saying with any other: the
        // row as shown (and written to the rejects) is not the row in the file.
        let utf8 = bad_utf8.map(|field| {
            format!(
                "the text is not valid UTF-8 (field {field}); the invalid bytes are shown \
                 as U+FFFD"
            )
        });
        let malformed = match (structure, utf8) {
            (Some((line, why)), Some(utf8)) => Some(RowError::row(line, format!("{why}; {utf8}"))),
            (Some((line, why)), None) => Some(RowError::row(line, why)),
            (None, Some(utf8)) => Some(RowError::row(row.line, utf8)),
            (None, None) => None,
        };
        Ok(malformed.map_or(Next::Row, Next::Malformed))
    }
}

/// The message for a quoted field still open at the end of the file.
const UNCLOSED: &str = "a quoted field opened here is never closed (the rest of the file \
                        would be inside it); close it with a quote";

/// A CSV file with all its rows in memory.
pub struct Sheet {
    /// The header.
    pub columns: Columns,
    /// The data rows, malformed ones included.
    pub rows: Vec<Row>,
    /// The malformed rows, by index into `rows`.
    pub malformed: HashMap<usize, RowError>,
}

impl Sheet {
    /// Reads `path` as [`CsvRows::open`] does, and every row.
    pub fn read(
        path: &Path,
        required: &[&'static str],
        optional: &[&'static str],
        ignore_unknown: bool,
    ) -> Result<Sheet, FileError> {
        Sheet::read_input(
            &Input::file(path),
            Detected::Sure(Encoding::Utf8),
            required,
            optional,
            ignore_unknown,
        )
    }

    /// Reads `input` as [`CsvRows::open_input`] does, and every row.
    pub fn read_input(
        input: &Input,
        detected: Detected,
        required: &[&'static str],
        optional: &[&'static str],
        ignore_unknown: bool,
    ) -> Result<Sheet, FileError> {
        let file = CsvRows::open_input(input, detected, required, optional, ignore_unknown)?;
        Sheet::read_rows(file)
    }

    /// Reads every row of `file`.
    pub(crate) fn read_rows(mut file: CsvRows) -> Result<Sheet, FileError> {
        let mut rows = Vec::new();
        let mut malformed = HashMap::new();
        let mut row = Row::default();
        loop {
            match file.next_into(&mut row)? {
                Next::End => break,
                Next::Row => {}
                Next::Malformed(e) => {
                    malformed.insert(rows.len(), e);
                }
            }
            rows.push(row.clone());
        }
        Ok(Sheet {
            columns: file.columns,
            rows,
            malformed,
        })
    }
}

/// Where each known column is, checking that the header names each at most once, has
/// every required one, and (unless `ignore_unknown`) no other.
fn header_index(
    path: &Path,
    header: &[String],
    required: &[&'static str],
    optional: &[&'static str],
    ignore_unknown: bool,
) -> Result<ColumnIndex, FileError> {
    if header.is_empty() || header.iter().all(|h| h.trim().is_empty()) {
        return Err(FileError::invalid(
            path,
            None,
            format!(
                "the file is empty; expected a header row with the columns {}",
                required.join(", ")
            ),
        ));
    }
    let mut index = ColumnIndex::default();
    let columns = [required, optional].concat();
    for (i, raw) in header.iter().enumerate() {
        match super::headers::column(raw, &columns) {
            Some(known) => {
                if let Some(before) = index.insert(known, i) {
                    let (first, second) = (header[before].trim(), raw.trim());
                    let reason = if first == second {
                        format!("column '{known}' appears twice in the header")
                    } else {
                        format!("the header names column '{known}' twice: '{first}' and '{second}'")
                    };
                    return Err(FileError::invalid(path, Some(1), reason));
                }
            }
            None if ignore_unknown => {}
            None => {
                return Err(FileError::UnknownColumn {
                    path: path.to_owned(),
                    column: raw.trim().to_owned(),
                    expected: format!(
                        "{}{}",
                        required.join(", "),
                        if optional.is_empty() {
                            String::new()
                        } else {
                            format!(", optionally {}", optional.join(", "))
                        }
                    ),
                });
            }
        }
    }
    // A purchase line's quantity, unit price and discount mean something only beside
    // its product: without a `sku` column they are not line columns, and a header such
    // as `数量` or `price` is as unknown as it was before lines existed (an error, or
    // skipped with `ignore_unknown`), so older files read exactly as they did.
    if optional.contains(&"sku") && !index.contains_key("sku") {
        for dependent in ["quantity", "unit_price", "line_discount"] {
            let Some(i) = index.remove(dependent) else {
                continue;
            };
            if !ignore_unknown {
                return Err(FileError::UnknownColumn {
                    path: path.to_owned(),
                    column: header[i].trim().to_owned(),
                    expected: format!(
                        "{}, optionally {} ('{dependent}' only beside 'sku')",
                        required.join(", "),
                        optional.join(", ")
                    ),
                });
            }
        }
    }
    if let Some(missing) = required.iter().find(|r| !index.contains_key(*r)) {
        return Err(FileError::invalid(
            path,
            Some(1),
            format!("the required column '{missing}' is missing"),
        ));
    }
    Ok(index)
}

fn describe_csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("the text is not valid UTF-8 (field {})", err.field() + 1)
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("this row has {len} fields but the header has {expected_len}")
        }
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One record of the strict model: its fields, and whether its structure is wrong.
    #[derive(Debug)]
    struct ModelRecord {
        fields: Vec<Vec<u8>>,
        flawed: bool,
    }

    /// A strict CSV reader written independently of [`Scanner`]: the records of
    /// `bytes`, and the line of a quoted field that never closes, if one does (then
    /// the last record is the one it swallows, as far as it goes).
    fn model(bytes: &[u8]) -> (Vec<ModelRecord>, Option<u64>) {
        let b = bytes.strip_prefix(&BOM[..]).unwrap_or(bytes);
        let mut i = 0;
        let mut line = 1;
        let mut records = Vec::new();
        loop {
            // Empty lines between records are skipped.
            while i < b.len() && (b[i] == b'\r' || b[i] == b'\n') {
                line += u64::from(b[i] == b'\n');
                i += 1;
            }
            if i == b.len() {
                return (records, None);
            }
            let mut record = ModelRecord {
                fields: Vec::new(),
                flawed: false,
            };
            loop {
                let mut field = Vec::new();
                if b.get(i) == Some(&b'"') {
                    let open = line;
                    i += 1;
                    loop {
                        match b.get(i) {
                            None => {
                                records.push(record);
                                return (records, Some(open));
                            }
                            Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                                field.push(b'"');
                                i += 2;
                            }
                            Some(b'"') => {
                                i += 1;
                                break;
                            }
                            Some(&c) => {
                                line += u64::from(c == b'\n');
                                field.push(c);
                                i += 1;
                            }
                        }
                    }
                    if !matches!(b.get(i), None | Some(b',' | b'\r' | b'\n')) {
                        record.flawed = true;
                    }
                }
                while let Some(&c) = b.get(i) {
                    if matches!(c, b',' | b'\r' | b'\n') {
                        break;
                    }
                    record.flawed |= c == b'"';
                    field.push(c);
                    i += 1;
                }
                record.fields.push(field);
                match b.get(i) {
                    Some(b',') => i += 1,
                    _ => break,
                }
            }
            records.push(record);
        }
    }

    /// Reads `bytes` as a file with [`CsvRows`]: the header, then each row as its
    /// cells or `None` if malformed; or the error that stopped the reading.
    fn strict(bytes: &[u8]) -> (Option<usize>, Vec<Option<Vec<String>>>, Option<String>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f.csv");
        std::fs::write(&path, bytes).expect("write");
        let mut rows = match CsvRows::open(&path, &[], &[], true) {
            Ok(rows) => rows,
            Err(e) => return (None, Vec::new(), Some(format!("{e:#}"))),
        };
        let width = rows.columns().header.len();
        let mut out = Vec::new();
        let mut row = Row::default();
        loop {
            match rows.next_into(&mut row) {
                Ok(Next::End) => return (Some(width), out, None),
                Ok(Next::Row) => out.push(Some(row.cells.iter().map(str::to_owned).collect())),
                Ok(Next::Malformed(_)) => out.push(None),
                Err(e) => return (Some(width), out, Some(format!("{e:#}"))),
            }
        }
    }

    fn check(bytes: &[u8]) {
        let (width, rows, error) = strict(bytes);
        let (mut records, unclosed) = model(bytes);
        let Some(width) = width else {
            // Only the header may stop the file from opening: unclosed, malformed,
            // blank or not UTF-8.
            let e = error.unwrap_or_default();
            let header_unclosed = unclosed.is_some() && records.len() == 1;
            let bad = header_unclosed
                || records.first().is_none_or(|h| {
                    h.flawed
                        || h.fields
                            .iter()
                            .all(|f| String::from_utf8_lossy(f).trim().is_empty())
                        || h.fields.iter().any(|f| std::str::from_utf8(f).is_err())
                });
            assert!(bad, "{e}");
            if let Some(open) = unclosed
                && records.len() == 1
                && !records[0].flawed
            {
                assert!(
                    e.contains(&format!(":{open}: a quoted field opened")),
                    "{e}"
                );
            }
            return;
        };
        match unclosed {
            Some(open) => {
                let e = error.unwrap_or_default();
                assert!(
                    e.contains(&format!(":{open}: a quoted field opened")),
                    "{e}"
                );
            }
            None => {
                assert_eq!(error, None);
                assert_eq!(rows.len(), records.len() - 1);
            }
        }
        if unclosed.is_some() {
            records.pop();
        }
        // Every row read before the end (or the error) is as the model says.
        for (got, want) in rows.iter().zip(records.iter().skip(1)) {
            let cells: Option<Vec<String>> = want
                .fields
                .iter()
                .map(|f| String::from_utf8(f.clone()).ok())
                .collect();
            let good = !want.flawed && want.fields.len() == width;
            assert_eq!(got, &cells.filter(|_| good), "{want:?}");
        }
    }

    #[test]
    fn a_record_keeps_one_fault() {
        let mut s = Scanner::new();
        s.feed("a,b\n".repeat(2).as_bytes());
        s.feed(&b"x\"".repeat(100_000));
        s.feed(b"\n\"y\"z,\"\"\n");
        assert_eq!(s.flaws.len(), 2);
        assert_eq!((s.flaws[0].line, s.flaws[1].line), (3, 4));
    }

    #[test]
    fn the_reader_is_strict_about_structure() {
        check(b"a,b\n1,\"2\n");
        check(b"a,b\n1,2\"\n3,4\n");
        check(b"a,b\n1,\"2\"x\n3,4\n");
        check(b"a,b\n1,2,3\n\"x\"\"y\",\"z\r\nw\"\r\n");
        check(b"\xEF\xBB\xBF\"a\",b\n1,2");
        check(b"\xEF\xBB\"a\",b\n1,2");
        check(b"a\n\xff\n");
        check(b"");
        check(b"\n\n");
    }

    /// Writes `cell` as an export does and reads it back as an import does.
    fn through_a_file(cell: &str) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f.csv");
        let mut w = csv::Writer::from_path(&path).expect("create");
        w.write_record(["x", "y"]).expect("header");
        w.write_record([neutralise(cell).as_ref(), "1"])
            .expect("row");
        w.flush().expect("flush");
        drop(w);
        let mut rows = CsvRows::open(&path, &["x"], &["y"], false).expect("open");
        let mut row = Row::default();
        assert!(matches!(rows.next_into(&mut row), Ok(Next::Row)));
        rows.columns().raw(&row, "x").expect("x").to_owned()
    }

    #[test]
    fn formula_cells_are_guarded_and_restored() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-2+3", "'-2+3"),
            ("+49 30 1234", "'+49 30 1234"),
            ("\tx", "'\tx"),
            ("'quoted'", "''quoted'"),
            ("Ada", "Ada"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), written);
            assert_eq!(restore(written), cell);
        }
        assert_eq!(restore("'hello"), "'hello", "an ordinary apostrophe stays");
    }

    proptest::proptest! {
        /// Export then import gives back any text, and no exported cell can start a
        /// formula.
        #[test]
        fn guarding_formulas_round_trips(
            cell in "(['=+@\t\r-]{0,3}|\\PC{0,2})\\PC{0,12}",
        ) {
            let written = neutralise(&cell);
            proptest::prop_assert!(
                !written.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{written:?}"
            );
            proptest::prop_assert_eq!(restore(&written), cell.as_str());
            proptest::prop_assert_eq!(through_a_file(&cell), cell);
        }

        /// Any bytes: the reader does not panic, and a row it returns is one the
        /// strict model accepts, cell for cell; a quote open at the end of the file is
        /// an error at the line where it opened.
        #[test]
        fn arbitrary_bytes_never_yield_a_row_the_strict_model_rejects(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(b"a,\"\n\r ,\"".to_vec()),
                    proptest::num::u8::ANY,
                ],
                0..200,
            ),
        ) {
            check(&bytes);
        }

        /// Files that look like CSV, with the occasional fault.
        #[test]
        fn csv_like_files_read_as_the_strict_model_says(
            bytes in "(([a-c]{0,3}|\"[a-c,\n\"]{0,4}\"?)(,|\n|\r\n|\"){1,2}){0,30}",
        ) {
            check(bytes.as_bytes());
        }
    }
}
