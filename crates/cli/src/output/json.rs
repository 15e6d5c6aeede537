//! A JSON document written field by field, its long lists of rows laid out on two
//! threads, in exactly the text [`Out::json`](super::Out::json) gives for the same
//! value (issue 14: a `clv --json` or `rfm --json` of 100 k customers is tens of
//! megabytes, and laying it out was a third of `clv`'s run on CDNOW).
//!
//! Each value is serialised by `serde_json`'s own pretty formatter, wrapped in
//! [`TerminalSafe`], set to the depth where the value sits; only the punctuation
//! between fields and rows (`,`, the line break and the indent) is written here, and a
//! test holds the whole text to what `Out::json` writes.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

use super::TerminalSafe;

/// Fewer rows than this are laid out on the calling thread alone: below it a second
/// thread costs about what it saves.
const PARALLEL_FROM: usize = 4_096;

/// One indent level, as `serde_json`'s pretty formatter writes it.
const INDENT: &[u8] = b"  ";

/// A JSON document, an object written field by field
/// ([`Out::json_fields`](super::Out::json_fields)): [`field`](Self::field) and
/// [`rows`](Self::rows) in the order the keys should appear, then [`end`](Self::end).
/// The text is what [`Out::json`](super::Out::json) writes for a struct with those
/// fields in that order.
pub struct JsonFields<'w, W: Write> {
    out: &'w mut W,
    /// True until the first field is written.
    first: bool,
}

impl<'w, W: Write> JsonFields<'w, W> {
    /// Starts an object on `out`.
    pub fn new(out: &'w mut W) -> io::Result<Self> {
        out.write_all(b"{")?;
        Ok(JsonFields { out, first: true })
    }

    /// Writes the key of the next field and the separator before it.
    fn key(&mut self, key: &str) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        self.out.write_all(INDENT)?;
        write_at(self.out, 1, key)?;
        self.out.write_all(b": ")
    }

    /// Writes one field.
    pub fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> io::Result<()> {
        self.key(key)?;
        write_at(self.out, 1, value)
    }

    /// Writes a field whose value is the array of `rows`: as one array of them, the
    /// second half laid out on a second thread meanwhile when there are many (the
    /// first half is written as it is laid out; the second is kept until then).
    pub fn rows<R: Serialize + Sync>(&mut self, key: &str, rows: &[R]) -> io::Result<()> {
        self.rows_split_from(key, rows, PARALLEL_FROM)
    }

    /// [`rows`](Self::rows), on two threads from `parallel_from` rows.
    fn rows_split_from<R: Serialize + Sync>(
        &mut self,
        key: &str,
        rows: &[R],
        parallel_from: usize,
    ) -> io::Result<()> {
        self.key(key)?;
        self.out.write_all(b"[")?;
        if rows.is_empty() {
            return self.out.write_all(b"]");
        }
        let (here, there) = if rows.len() >= parallel_from.max(2) {
            rows.split_at(rows.len() / 2)
        } else {
            (rows, &rows[rows.len()..])
        };
        let out = &mut *self.out;
        std::thread::scope(|scope| -> io::Result<()> {
            let later = (!there.is_empty())
                .then(|| {
                    std::thread::Builder::new()
                        .spawn_scoped(scope, || {
                            // About the size of the first half's rows, so no regrowth.
                            let mut buf = Vec::with_capacity(1 << 16);
                            write_rows(&mut buf, there, false).map(|()| buf)
                        })
                        .ok()
                })
                .flatten();
            write_rows(out, here, true)?;
            match later {
                Some(handle) => {
                    let buf = handle
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p))?;
                    out.write_all(&buf)
                }
                // No thread to be had (or none needed): the rest here.
                None => write_rows(out, there, here.is_empty()),
            }
        })?;
        self.out.write_all(b"\n")?;
        self.out.write_all(INDENT)?;
        self.out.write_all(b"]")
    }

    /// Closes the object and ends the line, as [`Out::json`](super::Out::json) ends its
    /// document.
    pub fn end(self) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b"\n")?;
        }
        self.out.write_all(b"}\n")
    }
}

/// Writes `rows` as the elements of an array that sits one level into the document,
/// each on its own line; `first` if no element precedes them.
fn write_rows<W: Write + ?Sized, R: Serialize>(
    out: &mut W,
    rows: &[R],
    mut first: bool,
) -> io::Result<()> {
    for row in rows {
        out.write_all(if first { b"\n    " } else { b",\n    " })?;
        first = false;
        write_at(out, 2, row)?;
    }
    Ok(())
}

/// Serialises `value` as it is laid out `depth` levels into a document.
fn write_at<W: Write + ?Sized, T: Serialize + ?Sized>(
    out: &mut W,
    depth: usize,
    value: &T,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, formatter_at(depth)?);
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// `serde_json`'s pretty formatter (inside [`TerminalSafe`]) set `depth` levels in:
/// opened that many times on a sink, so its indent is what it would be there.
fn formatter_at(depth: usize) -> io::Result<TerminalSafe<PrettyFormatter<'static>>> {
    let mut f = PrettyFormatter::with_indent(INDENT);
    for _ in 0..depth {
        f.begin_object(&mut io::sink())?;
    }
    Ok(TerminalSafe(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A row with what a row of ours can hold: text that needs escaping, numbers,
    /// nothing, nested lists and objects (empty too).
    #[derive(Debug, Clone, Serialize)]
    struct Row {
        text: String,
        amount: Option<f64>,
        count: i64,
        list: Vec<u8>,
        nested: std::collections::BTreeMap<String, Vec<String>>,
    }

    /// The same document as one value, for [`write_json`](super::super::write_json).
    #[derive(Serialize)]
    struct Whole<'a> {
        head: &'a str,
        meta: serde_json::Value,
        rows: &'a [Row],
        tail: Vec<Option<u8>>,
    }

    fn by_fields(rows: &[Row], parallel_from: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut doc = JsonFields::new(&mut out).unwrap();
        doc.field("head", "first\u{202e}").unwrap();
        doc.field(
            "meta",
            &serde_json::json!({"a": [], "b": {}, "c": [1, {"d": null}]}),
        )
        .unwrap();
        doc.rows_split_from("rows", rows, parallel_from).unwrap();
        doc.field("tail", &vec![Some(1u8), None]).unwrap();
        doc.end().unwrap();
        out
    }

    fn whole(rows: &[Row]) -> Vec<u8> {
        let mut out = Vec::new();
        let value = Whole {
            head: "first\u{202e}",
            meta: serde_json::json!({"a": [], "b": {}, "c": [1, {"d": null}]}),
            rows,
            tail: vec![Some(1), None],
        };
        super::super::write_json(&mut out, &value).unwrap();
        out
    }

    fn row() -> impl Strategy<Value = Row> {
        (
            "[a-z\u{4e00}-\u{4e10}\u{1b}\u{202e}\\\"\n ]{0,8}",
            proptest::option::of(-1e9f64..1e9),
            any::<i64>(),
            proptest::collection::vec(any::<u8>(), 0..3),
            proptest::collection::btree_map(
                "[a-z]{1,3}",
                proptest::collection::vec("[x\u{7f}\u{85}]{0,2}", 0..2),
                0..2,
            ),
        )
            .prop_map(|(text, amount, count, list, nested)| Row {
                text,
                amount,
                count,
                list,
                nested,
            })
    }

    proptest! {
        /// Field by field, the rows split across two threads at any point, the text
        /// is byte for byte what the document as one value gives.
        #[test]
        fn fields_and_split_rows_read_as_the_whole_document(
            rows in proptest::collection::vec(row(), 0..12),
            parallel_from in 0usize..14,
        ) {
            prop_assert_eq!(
                String::from_utf8(by_fields(&rows, parallel_from)).unwrap(),
                String::from_utf8(whole(&rows)).unwrap()
            );
        }
    }

    #[test]
    fn the_long_lists_split_at_the_threshold_read_the_same() {
        let rows: Vec<Row> = (0..PARALLEL_FROM + 1)
            .map(|i| Row {
                text: format!("客户{i}\u{1b}"),
                amount: (i % 3 != 0).then_some(i as f64 / 7.0),
                count: i as i64,
                list: vec![1; i % 2],
                nested: Default::default(),
            })
            .collect();
        for n in [PARALLEL_FROM - 1, PARALLEL_FROM, PARALLEL_FROM + 1] {
            let mut out = Vec::new();
            let mut doc = JsonFields::new(&mut out).unwrap();
            doc.rows("rows", &rows[..n]).unwrap();
            doc.end().unwrap();
            let mut expected = Vec::new();
            #[derive(Serialize)]
            struct Rows<'a> {
                rows: &'a [Row],
            }
            super::super::write_json(&mut expected, &Rows { rows: &rows[..n] }).unwrap();
            assert_eq!(out, expected, "{n} rows");
        }
    }

    #[test]
    fn an_object_without_fields_is_empty_braces() {
        let mut out = Vec::new();
        JsonFields::new(&mut out).unwrap().end().unwrap();
        let mut expected = Vec::new();
        super::super::write_json(&mut expected, &serde_json::Map::new()).unwrap();
        assert_eq!(out, expected);
        assert_eq!(out, b"{}\n");
    }
}
