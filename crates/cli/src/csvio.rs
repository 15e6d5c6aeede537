//! Reading and writing the CSV files of the import contract.
//!
//! A file has a header row; columns are matched by name, ignoring case and surrounding
//! spaces, in any order. A column the import does not know is an error unless the
//! caller ignores unknown columns. Errors name the file, the line and the column:
//! `FILE:LINE: column 'amount': ...`.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};

/// One data row of a CSV file.
#[derive(Debug, Clone)]
pub struct Row {
    /// The 1-based line the row starts on.
    pub line: u64,
    /// The cells, in file order.
    pub cells: Vec<String>,
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

/// A parsed CSV file: which known column is where, and the rows.
pub struct Sheet {
    /// The file.
    pub path: PathBuf,
    /// The header as written.
    pub header: Vec<String>,
    index: HashMap<&'static str, usize>,
    /// The data rows.
    pub rows: Vec<Row>,
}

impl Sheet {
    /// Reads `path`, checking the header against `required` and `optional` column
    /// names (lower-case).
    pub fn read(
        path: &Path,
        required: &[&'static str],
        optional: &[&'static str],
        ignore_unknown: bool,
    ) -> Result<Sheet> {
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(file);
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(str::to_owned).collect(),
            Err(e) => bail!("{}: {}", path.display(), describe_csv_error(&e)),
        };
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
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, csv::Position::line);
                anyhow!("{}:{line}: {}", path.display(), describe_csv_error(&e))
            })?;
            let line = record.position().map_or(0, csv::Position::line);
            rows.push(Row {
                line,
                cells: record.iter().map(str::to_owned).collect(),
            });
        }
        if rows.is_empty() {
            bail!(
                "{}: the file has a header but no rows; nothing to import",
                path.display()
            );
        }
        Ok(Sheet {
            path: path.to_owned(),
            header,
            index,
            rows,
        })
    }

    /// The trimmed cell of `column` in `row`, `None` if the column is absent.
    pub fn cell<'a>(&self, row: &'a Row, column: &str) -> Option<&'a str> {
        self.index
            .get(column)
            .and_then(|&i| row.cells.get(i))
            .map(|s| s.trim())
    }

    /// The trimmed cell, `None` if the column is absent or the cell empty.
    pub fn value<'a>(&self, row: &'a Row, column: &str) -> Option<&'a str> {
        self.cell(row, column).filter(|s| !s.is_empty())
    }

    /// The untrimmed cell (for free text that keeps its whitespace).
    pub fn raw<'a>(&self, row: &'a Row, column: &str) -> Option<&'a str> {
        self.index
            .get(column)
            .and_then(|&i| row.cells.get(i))
            .map(String::as_str)
    }

    /// True if the file has `column`.
    pub fn has(&self, column: &str) -> bool {
        self.index.contains_key(column)
    }

    /// Writes refused rows to `path` with the header plus a `reason` column.
    pub fn write_rejects(&self, path: &Path, rejects: &[(usize, RowError)]) -> Result<()> {
        let mut w = csv::Writer::from_path(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut header = self.header.clone();
        header.push("reason".into());
        w.write_record(&header)?;
        for (i, err) in rejects {
            let mut cells = self.rows[*i].cells.clone();
            cells.push(format!("line {}: {}", err.line, err.message()));
            w.write_record(&cells)?;
        }
        w.flush()?;
        Ok(())
    }
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
