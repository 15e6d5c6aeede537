//! Reading and writing the CSV files of the import contract.
//!
//! A file has a header row; columns are matched by name, ignoring case and surrounding
//! spaces, in any order. A column the import does not know is an error unless the
//! caller ignores unknown columns. Errors name the file, the line and the column:
//! `FILE:LINE: column 'amount': ...`.
//!
//! [`CsvRows`] reads a file row by row into one reused [`Row`], for imports that
//! stream; [`Sheet`] holds every row, for imports that need them all at once.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};

use crate::paths::OutFile;

/// One data row of a CSV file.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The 1-based line the row starts on.
    pub line: u64,
    /// The cells, in file order.
    pub cells: csv::StringRecord,
}

/// A problem with one row, to be shown as `FILE:LINE: column 'x': reason`.
#[derive(Debug, Clone)]
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

/// A file's header: which known column is where.
#[derive(Debug, Clone)]
pub struct Columns {
    /// The file.
    pub path: PathBuf,
    /// The header as written.
    pub header: Vec<String>,
    index: HashMap<&'static str, usize>,
}

impl Columns {
    /// The trimmed cell of `column` in `row`, `None` if the column is absent.
    pub fn cell<'a>(&self, row: &'a Row, column: &str) -> Option<&'a str> {
        self.raw(row, column).map(str::trim)
    }

    /// The trimmed cell, `None` if the column is absent or the cell empty.
    pub fn value<'a>(&self, row: &'a Row, column: &str) -> Option<&'a str> {
        self.cell(row, column).filter(|s| !s.is_empty())
    }

    /// The untrimmed cell (for free text that keeps its whitespace).
    pub fn raw<'a>(&self, row: &'a Row, column: &str) -> Option<&'a str> {
        self.index.get(column).and_then(|&i| row.cells.get(i))
    }

    /// True if the file has `column`.
    pub fn has(&self, column: &str) -> bool {
        self.index.contains_key(column)
    }

    /// Writes refused rows to `out` with the header plus a `reason` column, and moves
    /// the file into place.
    pub fn write_rejects<'a>(
        &self,
        mut out: OutFile,
        rejects: impl IntoIterator<Item = (&'a Row, &'a RowError)>,
    ) -> Result<()> {
        let written = (|| -> Result<()> {
            let mut w = csv::Writer::from_writer(&mut out);
            let mut header = self.header.clone();
            header.push("reason".into());
            w.write_record(&header)?;
            for (row, err) in rejects {
                let mut cells = row.cells.clone();
                cells.push_field(&format!("line {}: {}", err.line, err.message()));
                w.write_record(&cells)?;
            }
            w.flush()?;
            Ok(())
        })();
        written.with_context(|| format!("cannot write {}", out.path().display()))?;
        out.commit()
    }
}

/// A CSV file read row by row.
pub struct CsvRows {
    columns: Columns,
    reader: csv::Reader<File>,
    /// The first row, read by [`CsvRows::open`] to refuse a file without rows.
    first: Option<Row>,
    len: u64,
}

impl CsvRows {
    /// Opens `path` and checks its header against `required` and `optional` column
    /// names (lower-case), and that it has at least one row.
    pub fn open(
        path: &Path,
        required: &[&'static str],
        optional: &[&'static str],
        ignore_unknown: bool,
    ) -> Result<CsvRows> {
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let len = file.metadata().map_or(0, |m| m.len());
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(file);
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(str::to_owned).collect(),
            Err(e) => bail!("{}: {}", path.display(), describe_csv_error(&e)),
        };
        let columns = Columns {
            index: header_index(path, &header, required, optional, ignore_unknown)?,
            path: path.to_owned(),
            header,
        };
        let mut rows = CsvRows {
            columns,
            reader,
            first: None,
            len,
        };
        let mut first = Row::default();
        if !rows.next_into(&mut first)? {
            bail!(
                "{}: the file has a header but no rows; nothing to import",
                path.display()
            );
        }
        rows.first = Some(first);
        Ok(rows)
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
        self.reader.position().byte()
    }

    /// Reads the next row into `row`; false at the end of the file.
    ///
    /// # Errors
    ///
    /// `FILE:LINE: reason` for a row that is not valid CSV, not UTF-8, or not as
    /// wide as the header.
    pub fn next_into(&mut self, row: &mut Row) -> Result<bool> {
        if let Some(first) = self.first.take() {
            *row = first;
            return Ok(true);
        }
        match self.reader.read_record(&mut row.cells) {
            Ok(more) => {
                row.line = row.cells.position().map_or(0, csv::Position::line);
                Ok(more)
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                Err(anyhow!(
                    "{}:{line}: {}",
                    self.columns.path.display(),
                    describe_csv_error(&e)
                ))
            }
        }
    }
}

/// A CSV file with all its rows in memory.
pub struct Sheet {
    /// The header.
    pub columns: Columns,
    /// The data rows.
    pub rows: Vec<Row>,
}

impl Sheet {
    /// Reads `path` as [`CsvRows::open`] does, and every row.
    pub fn read(
        path: &Path,
        required: &[&'static str],
        optional: &[&'static str],
        ignore_unknown: bool,
    ) -> Result<Sheet> {
        let mut file = CsvRows::open(path, required, optional, ignore_unknown)?;
        let mut rows = Vec::new();
        let mut row = Row::default();
        while file.next_into(&mut row)? {
            rows.push(row.clone());
        }
        Ok(Sheet {
            columns: file.columns,
            rows,
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
) -> Result<HashMap<&'static str, usize>> {
    if header.is_empty() || header.iter().all(|h| h.trim().is_empty()) {
        bail!(
            "{}: the file is empty; expected a header row with the columns {}",
            path.display(),
            required.join(", ")
        );
    }
    let mut index = HashMap::new();
    for (i, raw) in header.iter().enumerate() {
        let name = raw.trim().to_lowercase();
        match required.iter().chain(optional).find(|k| **k == name) {
            Some(&known) => {
                if index.insert(known, i).is_some() {
                    bail!(
                        "{}:1: column '{known}' appears twice in the header",
                        path.display()
                    );
                }
            }
            None if ignore_unknown => {}
            None => bail!(
                "{}:1: unknown column '{}'; expected {}{} (or pass --ignore-unknown)",
                path.display(),
                raw.trim(),
                required.join(", "),
                if optional.is_empty() {
                    String::new()
                } else {
                    format!(", optionally {}", optional.join(", "))
                }
            ),
        }
    }
    if let Some(missing) = required.iter().find(|r| !index.contains_key(*r)) {
        bail!(
            "{}:1: the required column '{missing}' is missing",
            path.display()
        );
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
