//! A JSON document written field by field, its long lists of rows laid out on two
//! threads, in exactly the text [`Out::json`](super::Out::json) gives for the same
//! value (issue 14: a `clv --json` or `rfm --json` of 100 k customers is tens of
//! megabytes, and laying it out was a quarter of `clv`'s run on CDNOW).
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

/// The rows of a run of [`write_alternating`]: some hundred kilobytes of `clv`'s or
/// `rfm`'s rows.
const RUN_ROWS: usize = 1_024;

/// One indent level, as `serde_json`'s pretty formatter writes it.
const INDENT: &[u8] = b"  ";

/// A JSON document, an object written field by field
/// ([`Out::json_fields`](super::Out::json_fields)): [`field`](Self::field) and
/// [`rows_written`](Self::rows_written) in the order the keys should appear, then
/// [`end`](Self::end).
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

    /// Writes a field whose value is the array of what `shown` makes of each item:
    /// rows that write themselves ([`WrittenRow`]), each made as it is laid out, on
    /// the thread laying it out (no vector of rows first); every other run of rows
    /// laid out on a second thread meanwhile when there are many
    /// ([`write_alternating`]).
    pub fn rows_written<T: Sync, R: WrittenRow>(
        &mut self,
        key: &str,
        items: &[T],
        shown: impl Fn(&T) -> R + Sync,
    ) -> io::Result<()> {
        self.rows_split_from(key, items, &shown, PARALLEL_FROM, RUN_ROWS)
    }

    /// [`rows_written`](Self::rows_written), on two threads from `parallel_from`
    /// items, in runs of `run_rows`.
    fn rows_split_from<T: Sync, R: WrittenRow>(
        &mut self,
        key: &str,
        rows: &[T],
        shown: &(impl Fn(&T) -> R + Sync),
        parallel_from: usize,
        run_rows: usize,
    ) -> io::Result<()> {
        self.key(key)?;
        self.out.write_all(b"[")?;
        if rows.is_empty() {
            return self.out.write_all(b"]");
        }
        if rows.len() < parallel_from.max(2) {
            write_rows(self.out, rows, shown, true)?;
        } else {
            write_alternating(self.out, rows, shown, run_rows)?;
        }
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

/// Writes `rows` (at least two) as [`write_rows`] does, in runs of `run_rows`: this
/// thread lays out every other run and writes it as it goes, a second thread lays out
/// the runs between into buffers this one writes in turn and hands back. The output
/// streams and at most four runs are held, whatever the number of rows; without a
/// second thread, all are laid out here.
fn write_alternating<W: Write + ?Sized, T: Sync, R: WrittenRow>(
    out: &mut W,
    rows: &[T],
    shown: &(impl Fn(&T) -> R + Sync),
    run_rows: usize,
) -> io::Result<()> {
    // Runs of at most half the rows, so that both threads have one.
    let run = run_rows.clamp(1, rows.len().div_ceil(2).max(1));
    std::thread::scope(|scope| {
        // Laid-out runs, at most two ahead of this thread; emptied buffers back.
        let (done, laid_out) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(2);
        let (give_back, emptied) = std::sync::mpsc::channel::<Vec<u8>>();
        let helper = std::thread::Builder::new().spawn_scoped(scope, move || {
            for part in rows.chunks(run).skip(1).step_by(2) {
                let mut buf = emptied.try_recv().unwrap_or_default();
                buf.clear();
                let result = write_rows(&mut buf, part, shown, false).map(|()| buf);
                let failed = result.is_err();
                // A send fails when this thread's reader stopped (a failed write).
                if done.send(result).is_err() || failed {
                    return;
                }
            }
        });
        if helper.is_err() {
            return write_rows(out, rows, shown, true);
        }
        for (i, part) in rows.chunks(run).enumerate() {
            if i % 2 == 0 {
                write_rows(out, part, shown, i == 0)?;
            } else {
                let buf = laid_out
                    .recv()
                    .map_err(|_| io::Error::other("the thread laying out JSON rows stopped"))??;
                out.write_all(&buf)?;
                // The helper may have finished and dropped its end: nothing to give.
                let _ = give_back.send(buf);
            }
        }
        Ok(())
    })
}

/// Writes what `shown` makes of `rows` as the elements of an array that sits one level
/// into the document, each on its own line; `first` if no element precedes them.
fn write_rows<W: Write + ?Sized, T, R: WrittenRow>(
    out: &mut W,
    rows: &[T],
    shown: &impl Fn(&T) -> R,
    mut first: bool,
) -> io::Result<()> {
    for item in rows {
        out.write_all(if first { b"\n    " } else { b",\n    " })?;
        first = false;
        out.write_all(b"{")?;
        let mut row = RowFields {
            out: &mut *out,
            first: true,
        };
        shown(item).write_fields(&mut row)?;
        let empty = row.first;
        out.write_all(if empty { b"}" } else { b"\n    }" })?;
    }
    Ok(())
}

/// A row that writes its own JSON object, field by field, in exactly the text
/// `serde_json`'s pretty formatter gives the same fields ([`JsonFields::rows_written`]):
/// for the longest lists, whose rows' generic serialisation was most of the output
/// time.
pub trait WrittenRow {
    /// Writes the row's fields into `row` (in the order their keys should appear).
    fn write_fields<W: Write + ?Sized>(&self, row: &mut RowFields<'_, W>) -> io::Result<()>;
}

/// The fields of a row being written ([`WrittenRow`]), two levels into the document.
pub struct RowFields<'w, W: Write + ?Sized> {
    out: &'w mut W,
    /// True until the first field is written.
    first: bool,
}

impl<W: Write + ?Sized> RowFields<'_, W> {
    /// The separator, the indent and `"key": `. Keys are our own field names, written
    /// as they are: a debug assertion holds that they need no escape.
    fn key(&mut self, key: &'static str) -> io::Result<()> {
        debug_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        self.out.write_all(if self.first {
            b"\n      \""
        } else {
            b",\n      \""
        })?;
        self.first = false;
        self.out.write_all(key.as_bytes())?;
        self.out.write_all(b"\": ")
    }

    /// A value serialised by `serde_json` as it would be there: a text escaped inside
    /// [`TerminalSafe`], a float, an option, a list.
    pub fn value<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> io::Result<()> {
        self.key(key)?;
        write_at(self.out, 3, value)
    }

    /// A whole number.
    pub fn int(&mut self, key: &'static str, value: impl itoa::Integer) -> io::Result<()> {
        self.key(key)?;
        self.out
            .write_all(itoa::Buffer::new().format(value).as_bytes())
    }

    /// An exact decimal as a JSON string of its `Display` text (digits, a sign and a
    /// point: nothing to escape).
    pub fn decimal(&mut self, key: &'static str, value: &rust_decimal::Decimal) -> io::Result<()> {
        self.key(key)?;
        self.out.write_all(b"\"")?;
        write_decimal(self.out, value)?;
        self.out.write_all(b"\"")
    }
}

/// Writes `value`'s `Display` text from its mantissa and scale, the integer part and
/// then every digit of the scale (`11.00`, `0.05`, `-3`): what `Display` writes, without
/// the formatting machinery (a test compares them). Zero goes through `Display`, whose
/// sign rule for a negative zero is its own.
fn write_decimal<W: Write + ?Sized>(out: &mut W, value: &rust_decimal::Decimal) -> io::Result<()> {
    let mantissa = value.mantissa();
    if mantissa == 0 {
        return write!(out, "{value}");
    }
    if mantissa < 0 {
        out.write_all(b"-")?;
    }
    let magnitude = mantissa.unsigned_abs();
    let scale = value.scale();
    let unit = 10u128.pow(scale);
    let mut digits = itoa::Buffer::new();
    out.write_all(digits.format(magnitude / unit).as_bytes())?;
    if scale > 0 {
        let fraction = digits.format(magnitude % unit).as_bytes();
        out.write_all(b".")?;
        // Leading zeros of the fraction, then its digits: `scale` in all.
        for _ in fraction.len()..scale as usize {
            out.write_all(b"0")?;
        }
        out.write_all(fraction)?;
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
        f: u8,
        frequency: u32,
        list: Vec<u8>,
        #[serde(serialize_with = "as_text")]
        monetary: rust_decimal::Decimal,
        nested: std::collections::BTreeMap<String, Vec<String>>,
        p: f64,
    }

    /// A decimal as the JSON string of its `Display` text, as our documents print it.
    fn as_text<S: serde::Serializer>(d: &rust_decimal::Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    impl WrittenRow for Row {
        fn write_fields<W: Write + ?Sized>(&self, row: &mut RowFields<'_, W>) -> io::Result<()> {
            row.value("text", &self.text)?;
            row.value("amount", &self.amount)?;
            row.int("count", self.count)?;
            row.int("f", self.f)?;
            row.int("frequency", self.frequency)?;
            row.value("list", &self.list)?;
            row.decimal("monetary", &self.monetary)?;
            row.value("nested", &self.nested)?;
            row.value("p", &self.p)
        }
    }

    /// The same document as one value, for [`write_json`](super::super::write_json).
    #[derive(Serialize)]
    struct Whole<'a> {
        head: &'a str,
        meta: serde_json::Value,
        rows: &'a [Row],
        tail: Vec<Option<u8>>,
    }

    fn by_fields(rows: &[Row], parallel_from: usize, run_rows: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut doc = JsonFields::new(&mut out).unwrap();
        doc.field("head", "first\u{202e}").unwrap();
        doc.field(
            "meta",
            &serde_json::json!({"a": [], "b": {}, "c": [1, {"d": null}]}),
        )
        .unwrap();
        doc.rows_split_from("rows", rows, &|r: &Row| r.clone(), parallel_from, run_rows)
            .unwrap();
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
            "[a-z\u{4e00}-\u{4e10}\u{1b}\u{85}\u{202e}\\\"\n ]{0,8}",
            proptest::option::of(-1e300f64..1e300),
            any::<i64>(),
            (any::<u8>(), any::<u32>()),
            proptest::collection::vec(any::<u8>(), 0..3),
            (any::<i64>(), 0u32..6),
            proptest::collection::btree_map(
                "[a-z]{1,3}",
                proptest::collection::vec("[x\u{7f}\u{85}]{0,2}", 0..2),
                0..2,
            ),
            any::<f64>(),
        )
            .prop_map(
                |(text, amount, count, (f, frequency), list, (m, scale), nested, p)| Row {
                    text,
                    amount,
                    count,
                    f,
                    frequency,
                    list,
                    monetary: rust_decimal::Decimal::new(m, scale),
                    nested,
                    p,
                },
            )
    }

    proptest! {
        /// Field by field, rows that write themselves laid out on two threads in runs
        /// of any length: the text is byte for byte what the document as one value,
        /// its rows serialised by `serde`, gives.
        #[test]
        fn fields_and_alternating_runs_read_as_the_whole_document(
            rows in proptest::collection::vec(row(), 0..12),
            parallel_from in 0usize..14,
            run_rows in 0usize..5,
        ) {
            prop_assert_eq!(
                String::from_utf8(by_fields(&rows, parallel_from, run_rows)).unwrap(),
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
                f: (i % 5) as u8,
                frequency: i as u32,
                list: vec![1; i % 2],
                monetary: rust_decimal::Decimal::new(i as i64 * 7, 2),
                nested: Default::default(),
                p: 1.0 / (i as f64 + 1.0),
            })
            .collect();
        for n in [PARALLEL_FROM - 1, PARALLEL_FROM, PARALLEL_FROM + 1] {
            let mut out = Vec::new();
            let mut doc = JsonFields::new(&mut out).unwrap();
            doc.rows_written("rows", &rows[..n], |r| r.clone()).unwrap();
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

    proptest! {
        /// The decimal written from its parts is its `Display` text, at every scale,
        /// either sign, zero included.
        #[test]
        fn decimals_are_written_as_they_display(
            mantissa in prop_oneof![any::<i64>().prop_map(i128::from), -(1i128 << 95)..(1i128 << 95), -3i128..3],
            scale in 0u32..=28,
            negative_zero in any::<bool>(),
        ) {
            let mut d = rust_decimal::Decimal::from_i128_with_scale(mantissa, scale);
            if mantissa == 0 && negative_zero {
                d.set_sign_negative(true);
            }
            let mut out = Vec::new();
            write_decimal(&mut out, &d).unwrap();
            prop_assert_eq!(String::from_utf8(out).unwrap(), d.to_string());
        }
    }

    #[test]
    fn a_row_without_fields_is_empty_braces_as_serde_writes_it() {
        struct Nothing;
        impl WrittenRow for Nothing {
            fn write_fields<W: Write + ?Sized>(&self, _: &mut RowFields<'_, W>) -> io::Result<()> {
                Ok(())
            }
        }
        #[derive(Serialize)]
        struct Empty {}
        let (mut written, mut serialised) = (Vec::new(), Vec::new());
        let mut doc = JsonFields::new(&mut written).unwrap();
        doc.rows_written("rows", &[1, 2], |_| Nothing).unwrap();
        doc.end().unwrap();
        #[derive(Serialize)]
        struct Doc {
            rows: [Empty; 2],
        }
        super::super::write_json(
            &mut serialised,
            &Doc {
                rows: [Empty {}, Empty {}],
            },
        )
        .unwrap();
        assert_eq!(written, serialised);
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
