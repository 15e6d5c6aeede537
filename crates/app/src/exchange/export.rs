//! The exports: [`CsvExporter`] and [`JsonExporter`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::ser::{SerializeSeq, Serializer as _};
use solocrm_core::product::PurchaseLine;
use solocrm_core::{ActivityQuery, CustomerId, Purchase, PurchaseId, StoreError};

use super::csv_file::neutralise;
use super::{
    CAMPAIGN_COLUMN, Dataset, PURCHASE_COLUMNS, PURCHASE_LINE_COLUMNS, customer_cells, text,
};
use crate::Books;
use crate::escape::{TerminalSafe, escape_controls};
use crate::keys::CustomerKey;

/// The columns whose cells an export formats itself rather than copying text: they
/// cannot begin a spreadsheet formula, so they are not guarded.
const FORMATTED: [&str; 14] = [
    "birthday",
    "quantity",
    "unit_price",
    "line_discount",
    "date",
    "amount",
    "currency",
    "kind",
    "score",
    "cost",
    "stage",
    "birth_year",
    "gender",
    "income_band",
];

/// Why an export failed. Nothing is to be kept of what was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The books could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CSV could not be written.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// The JSON could not be written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The output could not be written.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Writes a [`Dataset`] of the books, in one snapshot, in the columns its import
/// reads ([`Dataset::columns`]).
///
/// Every row names its customer by [`CustomerKey::of`] with the book id: the
/// reference, else the email, else `#ID@BOOK`, so that a re-import into another book
/// refuses the row rather than attach it to whoever has that id there. Records of
/// erased customers are left out. Dates are RFC 3339 in UTC; amounts are exact
/// decimals in the book's currency.
pub trait Exporter {
    /// Writes `dataset` of `books` to `out`.
    ///
    /// # Errors
    ///
    /// [`ExportError`] if the books cannot be read or `out` cannot be written.
    fn export(
        &self,
        books: &Books,
        dataset: Dataset,
        out: &mut dyn Write,
    ) -> Result<(), ExportError>;
}

/// CSV with a header row. Text cells that begin like a spreadsheet formula get a `'`
/// in front ([`neutralise`]), which the import removes again.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvExporter {
    escape_controls: bool,
}

impl CsvExporter {
    /// The CSV export: cells exactly as stored (formula-guarded).
    pub fn new() -> Self {
        CsvExporter::default()
    }

    /// For a person at a terminal: what a terminal would obey (escape sequences,
    /// bidirectional overrides) is written as a visible escape
    /// ([`escape_controls`]) instead. Such a file no longer holds the stored text;
    /// into a file or a pipe, leave this off.
    #[must_use]
    pub fn for_terminal(mut self, on: bool) -> Self {
        self.escape_controls = on;
        self
    }
}

/// A JSON array of objects, one per row, every value a string, keys as the CSV
/// columns. Controls a terminal obeys are written as `\uXXXX` escapes
/// ([`TerminalSafe`]), the same text to every JSON reader.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonExporter;

impl Exporter for CsvExporter {
    fn export(
        &self,
        books: &Books,
        dataset: Dataset,
        out: &mut dyn Write,
    ) -> Result<(), ExportError> {
        let mut w = csv::Writer::from_writer(&mut *out);
        let mut text: Vec<bool> = Vec::new();
        each_row(books, dataset, &mut |emit| {
            let r = match emit {
                Emit::Header(header) => {
                    w.write_record(header)?;
                    text = header.iter().map(|h| !FORMATTED.contains(h)).collect();
                    return Ok(());
                }
                Emit::Row(r) => r,
            };
            for (cell, &is_text) in r.iter().zip(&text) {
                let cell = match self.escape_controls {
                    true => escape_controls(cell, true),
                    false => Cow::Borrowed(cell.as_str()),
                };
                match is_text {
                    true => w.write_field(neutralise(&cell).as_bytes())?,
                    false => w.write_field(cell.as_bytes())?,
                }
            }
            w.write_record(None::<&[u8]>)?;
            Ok(())
        })?;
        w.flush()?;
        drop(w);
        out.flush()?;
        Ok(())
    }
}

impl Exporter for JsonExporter {
    fn export(
        &self,
        books: &Books,
        dataset: Dataset,
        out: &mut dyn Write,
    ) -> Result<(), ExportError> {
        let mut header: Vec<&'static str> = Vec::new();
        let mut order: Vec<usize> = Vec::new();
        // The serialiser writes many small pieces: buffered, they cost a system call
        // per 64 KiB rather than per piece.
        let mut buffered = io::BufWriter::with_capacity(1 << 16, &mut *out);
        let mut ser = serde_json::Serializer::with_formatter(
            &mut buffered,
            TerminalSafe(serde_json::ser::PrettyFormatter::new()),
        );
        // The array is written element by element as the rows are read; the output is
        // the same as serialising the whole list at once.
        let mut seq = ser.serialize_seq(None)?;
        each_row(books, dataset, &mut |emit| {
            let r = match emit {
                Emit::Header(h) => {
                    header = h.to_vec();
                    order = key_order(&header);
                    return Ok(());
                }
                Emit::Row(r) => r,
            };
            if r.len() == header.len() {
                seq.serialize_element(&JsonRow {
                    header: &header,
                    order: &order,
                    cells: r,
                })?;
            } else {
                let object: serde_json::Map<String, serde_json::Value> = header
                    .iter()
                    .zip(r)
                    .map(|(h, v)| ((*h).to_owned(), serde_json::Value::String(v.clone())))
                    .collect();
                seq.serialize_element(&object)?;
            }
            Ok(())
        })?;
        seq.end()?;
        writeln!(buffered)?;
        buffered.flush()?;
        drop(buffered);
        out.flush()?;
        Ok(())
    }
}

/// How many purchases the reading thread of [`purchase_rows`] hands over at a time.
const PURCHASE_BATCH: usize = 4096;

/// What the reading thread of [`purchase_rows`] hands to the writing one.
enum Batch {
    /// First, once: the customers' keys and the purchases' lines.
    Start {
        keys: KeyTable,
        lines: HashMap<PurchaseId, Vec<PurchaseLine>>,
    },
    /// Then the purchases, by time then id, a batch at a time.
    Purchases(Vec<Purchase>),
}

/// The purchases of [`each_row`], read in one snapshot on a second thread while
/// this one turns them into rows and writes them: reading and decoding the rows is
/// about half of an export, formatting and writing them the other half, so on two
/// cores the export takes the time of the longer half. At most a few batches of
/// [`PURCHASE_BATCH`] purchases are between the two, so memory stays flat.
///
/// A write error stops the reading (its next hand-over fails) and is the error
/// returned; otherwise a read error is.
fn purchase_rows(
    books: &Books,
    book: &str,
    row: &mut dyn FnMut(Emit<'_>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let (give, take) = std::sync::mpsc::sync_channel::<Batch>(4);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let handed = |_| StoreError::backend(WriteFailed);
            books.read(|r| {
                let keys = key_table(&r, book)?;
                let mut lines: HashMap<PurchaseId, Vec<PurchaseLine>> = HashMap::new();
                for (p, line) in r.all_purchase_lines()? {
                    lines.entry(p).or_default().push(line);
                }
                give.send(Batch::Start { keys, lines }).map_err(handed)?;
                let mut batch = Vec::with_capacity(PURCHASE_BATCH);
                r.for_each_purchase(&ActivityQuery::ALL, |p| {
                    batch.push(p);
                    if batch.len() == PURCHASE_BATCH {
                        let full =
                            std::mem::replace(&mut batch, Vec::with_capacity(PURCHASE_BATCH));
                        give.send(Batch::Purchases(full)).map_err(handed)?;
                    }
                    Ok(())
                })?;
                if !batch.is_empty() {
                    give.send(Batch::Purchases(batch)).map_err(handed)?;
                }
                Ok(())
            })
        });
        let written = write_purchase_rows(&take, row);
        // A reader still handing over purchases stops at its next hand-over.
        drop(take);
        let read = match reader.join() {
            Ok(read) => read,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        written?;
        Ok(read?)
    })
}

/// The writing half of [`purchase_rows`]: the header, then each purchase's row (or
/// rows, one per line). Returns when the reader stops handing over, whether it has
/// read everything or failed (its own result says which).
///
/// A purchase with lines is one row per line, in the lines' order; its first row
/// carries the amount, the others leave it empty (the import's rule for the rows of
/// one purchase, with or without a reference).
fn write_purchase_rows(
    take: &std::sync::mpsc::Receiver<Batch>,
    row: &mut dyn FnMut(Emit<'_>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let Ok(Batch::Start { keys, lines }) = take.recv() else {
        return Ok(());
    };
    if lines.is_empty() {
        row(Emit::Header(Dataset::Purchases.columns()))?;
    } else {
        let header = [Dataset::Purchases.columns(), &PURCHASE_LINE_COLUMNS[..]].concat();
        row(Emit::Header(&header))?;
    }
    // The row's cells are written into the same six buffers for every purchase: an
    // export of a million rows allocates nothing per row.
    let mut cells: Vec<String> = vec![String::new(); PURCHASE_COLUMNS.len()];
    let mut warmed = 0u8;
    for batch in take {
        let Batch::Purchases(purchases) = batch else {
            continue;
        };
        for (i, p) in purchases.iter().enumerate() {
            if i % WARM_AHEAD == 0 {
                let ahead = purchases[i..].iter().take(WARM_AHEAD);
                warmed ^= keys.warm(ahead.map(Purchase::customer));
            }
            let Some(key) = keys.get(p.customer()) else {
                continue;
            };
            cells.truncate(PURCHASE_COLUMNS.len());
            for cell in &mut cells {
                cell.clear();
            }
            cells[0].push_str(key);
            put_time(&mut cells[1], p.at());
            put_display(&mut cells[2], Some(p.amount().amount()));
            put_display(&mut cells[3], Some(p.amount().currency()));
            put_display(&mut cells[4], p.external_ref());
            put_display(&mut cells[5], p.description());
            if lines.is_empty() {
                row(Emit::Row(&cells))?;
                continue;
            }
            let Some(own) = lines.get(&p.id()) else {
                cells.extend(std::iter::repeat_n(String::new(), 4));
                row(Emit::Row(&cells))?;
                continue;
            };
            for (n, line) in own.iter().enumerate() {
                cells.truncate(PURCHASE_COLUMNS.len());
                if n == 1 {
                    cells[2].clear();
                }
                cells.extend([
                    line.sku.to_string(),
                    line.quantity.to_string(),
                    line.unit_price.amount().to_string(),
                    text(line.discount.map(|d| d.amount())),
                ]);
                row(Emit::Row(&cells))?;
            }
        }
    }
    // The warm-up's reads are kept, not optimised away.
    std::hint::black_box(warmed);
    Ok(())
}

/// The purchases whose customers' keys [`KeyTable::warm`] reads ahead at once: enough
/// cache misses to overlap, few enough that the keys are still cached when their rows
/// come.
const WARM_AHEAD: usize = 64;

/// Appends `v`'s text to `buf`, nothing for `None`: what [`text`] gives, without a
/// new string.
fn put_display(buf: &mut String, v: Option<impl std::fmt::Display>) {
    if let Some(v) = v {
        // Writing into a `String` cannot fail.
        let _ = write!(buf, "{v}");
    }
}

/// Appends `at` in RFC 3339, UTC, exactly as
/// `at.to_rfc3339_opts(SecondsFormat::AutoSi, true)` writes it: whole seconds (what
/// nearly every record holds) and years 0–9999 are written digit by digit, anything
/// else by chrono.
fn put_time(buf: &mut String, at: DateTime<Utc>) {
    let year = at.year();
    if at.nanosecond() != 0 || !(0..=9999).contains(&year) {
        buf.push_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        return;
    }
    let two = |n: u32| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
    let y = year.unsigned_abs();
    let [m0, m1] = two(at.month());
    let [d0, d1] = two(at.day());
    let [h0, h1] = two(at.hour());
    let [i0, i1] = two(at.minute());
    let [s0, s1] = two(at.second());
    let digits = [
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        i0,
        i1,
        b':',
        s0,
        s1,
        b'Z',
    ];
    // Only ASCII digits and separators were written.
    buf.push_str(std::str::from_utf8(&digits).unwrap_or_default());
}

/// The customers' keys ([`CustomerKey::of_keys`] with the book id), read from the
/// key columns alone, one customer at a time: only the keys' text is kept, not every
/// customer's stored keys beside it (a million customers' stored keys took about
/// 150 MB at once). Records of erased customers are left out: only those not erased
/// have a key.
fn key_table(r: &solocrm_core::Reader<'_>, book: &str) -> Result<KeyTable, StoreError> {
    let mut table = KeyTableBuilder::default();
    r.for_each_customer_key(|k| {
        if !k.erased {
            table.push(k.id, &CustomerKey::of_keys(&k, Some(book)));
        }
        Ok(())
    })?;
    Ok(table.finish())
}

/// The export's customer keys by id. A row of a million-row export looks up its
/// customer's key; in a hash map of owned strings that is two cache misses (the
/// table, then the text), a quarter of the export's time at 100 k customers. Ids are
/// dense in practice, so the keys are one block of text and each id's end in it,
/// indexed by id; ids spread too far apart for that keep the hash map.
enum KeyTable {
    /// `ends[i]..ends[i + 1]` of `text` is the key of id `first + i`; empty for an id
    /// without a key (no key is empty).
    Dense {
        first: u64,
        ends: Vec<u32>,
        text: String,
    },
    /// Each id's key.
    Sparse(HashMap<CustomerId, String>),
}

/// A [`KeyTable`] built one key at a time. It stays dense while the ids ascend, no key
/// is empty, the text fits `u32` offsets and the ids so far span at most twice their
/// number plus 65,536; at the first key that breaks one of these, what it holds moves
/// into the hash map, which takes the rest. (The rule is checked as the keys come, so
/// an early wide gap is never filled with empty spans, even if ids that follow would
/// have made the whole dense enough.)
#[derive(Default)]
struct KeyTableBuilder {
    table: Option<KeyTable>,
    /// The ids pushed.
    count: u64,
}

impl KeyTableBuilder {
    /// Adds `id`'s key; a later key of the same id replaces it.
    fn push(&mut self, id: CustomerId, key: &str) {
        self.count += 1;
        let count = self.count;
        let table = self.table.get_or_insert_with(|| KeyTable::Dense {
            first: id.get(),
            ends: vec![0],
            text: String::new(),
        });
        if let KeyTable::Dense { first, ends, text } = table {
            // The next id the table would give: `first + ends.len() − 1`.
            let next = *first + (ends.len() as u64 - 1);
            let fits = !key.is_empty()
                && id.get() >= next
                && id.get() - *first < 2 * count + 65_536
                && u32::try_from(text.len() + key.len()).is_ok();
            if fits {
                for _ in next..id.get() {
                    ends.push(text.len() as u32);
                }
                text.push_str(key);
                ends.push(text.len() as u32);
                return;
            }
            *table = KeyTable::Sparse(table.entries().collect());
        }
        if let KeyTable::Sparse(keys) = table {
            keys.insert(id, key.to_owned());
        }
    }

    /// The table of the keys pushed.
    fn finish(self) -> KeyTable {
        self.table
            .unwrap_or_else(|| KeyTable::Sparse(HashMap::new()))
    }
}

impl KeyTable {
    /// The table of `keys` (in ascending id order, as the store gives them; any order
    /// is correct, that one is the compact one).
    #[cfg(test)]
    fn new(keys: impl Iterator<Item = (CustomerId, String)>) -> Self {
        let mut table = KeyTableBuilder::default();
        for (id, key) in keys {
            table.push(id, &key);
        }
        table.finish()
    }

    /// Every id's key, owned.
    fn entries(&self) -> impl Iterator<Item = (CustomerId, String)> + '_ {
        let dense = match self {
            KeyTable::Dense { first, ends, text } => Some(
                ends.windows(2)
                    .enumerate()
                    .filter(|(_, w)| w[0] < w[1])
                    .map(|(i, w)| {
                        let key = text[w[0] as usize..w[1] as usize].to_owned();
                        (CustomerId::new(*first + i as u64), key)
                    }),
            ),
            KeyTable::Sparse(_) => None,
        };
        let sparse = match self {
            KeyTable::Sparse(keys) => Some(keys.iter().map(|(id, k)| (*id, k.clone()))),
            KeyTable::Dense { .. } => None,
        };
        dense
            .into_iter()
            .flatten()
            .chain(sparse.into_iter().flatten())
    }

    /// Reads the first byte of each key of `ids` and gives them back mixed: no use in
    /// itself, it brings those keys into the processor's cache. A million customers'
    /// keys do not fit it, and a row's own work is too long for the processor to reach
    /// the next row's key early, so each lookup of a row would wait for its misses
    /// alone; read together here, a batch's misses overlap.
    fn warm(&self, ids: impl Iterator<Item = CustomerId>) -> u8 {
        let KeyTable::Dense { first, ends, text } = self else {
            return 0;
        };
        let text = text.as_bytes();
        let mut mixed = 0u8;
        for id in ids {
            let at = id
                .get()
                .checked_sub(*first)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| ends.get(i))
                .and_then(|&from| text.get(from as usize));
            mixed ^= at.copied().unwrap_or(0);
        }
        mixed
    }

    /// The key of `id`, if it has one.
    fn get(&self, id: CustomerId) -> Option<&str> {
        match self {
            KeyTable::Dense { first, ends, text } => {
                let i = usize::try_from(id.get().checked_sub(*first)?).ok()?;
                let (&from, &to) = (ends.get(i)?, ends.get(i + 1)?);
                (from < to).then(|| &text[from as usize..to as usize])
            }
            KeyTable::Sparse(keys) => keys.get(&id).map(String::as_str),
        }
    }
}

/// The order in which a JSON row writes its cells: by column name, each name once
/// (its last cell), as a `serde_json::Map` of the row iterates, so that a row written
/// from its cells is the object that map would have made.
fn key_order(header: &[&'static str]) -> Vec<usize> {
    let mut last: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (i, h) in header.iter().enumerate() {
        last.insert(h, i);
    }
    last.into_values().collect()
}

/// One exported row as a JSON object, serialised straight from its cells.
struct JsonRow<'a> {
    header: &'a [&'static str],
    order: &'a [usize],
    cells: &'a [String],
}

impl serde::Serialize for JsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.order.len()))?;
        for &i in self.order {
            map.serialize_entry(self.header[i], &self.cells[i])?;
        }
        map.end()
    }
}

/// Stops a read when writing a row failed (the write error is kept aside).
#[derive(Debug)]
struct WriteFailed;

impl std::fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the export's output could not be written")
    }
}

impl std::error::Error for WriteFailed {}

/// Each attributed customer's campaign name.
fn customer_campaigns(
    campaigns: &[solocrm_core::campaign::Campaign],
    attributions: &[solocrm_core::campaign::Attribution],
) -> HashMap<CustomerId, String> {
    let names: HashMap<_, _> = campaigns
        .iter()
        .map(|c| (c.id(), c.name().to_string()))
        .collect();
    attributions
        .iter()
        .filter_map(|a| match a.subject {
            solocrm_core::campaign::AttributionSubject::Customer(c) => {
                names.get(&a.campaign).map(|n| (c, n.clone()))
            }
            _ => None,
        })
        .collect()
}

/// What [`each_row`] gives: first the header, then each row.
enum Emit<'a> {
    /// The columns: [`Dataset::columns`], and for purchases the
    /// [line columns](PURCHASE_LINE_COLUMNS) after them when the book has lines, for
    /// customers the [`CAMPAIGN_COLUMN`] when the book has campaigns.
    Header(&'a [&'static str]),
    /// A row's text cells, in the header's order.
    Row(&'a [String]),
}

/// Gives `row` the header, then the rows of `dataset` as text cells in its order, read
/// in one snapshot, each as soon as it is read: purchases come a batch at a time from
/// the store ([`Reader::for_each_purchase`](solocrm_core::Reader::for_each_purchase))
/// on a second thread ([`purchase_rows`]), so the memory an export of them takes does
/// not grow with their number (their lines, if the book has any, are read first, all
/// at once). Customers are named by their key columns alone, not read whole, except
/// for the customers dataset itself.
fn each_row(
    books: &Books,
    dataset: Dataset,
    row: &mut dyn FnMut(Emit<'_>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let book = books.book_id()?;
    if dataset == Dataset::Purchases {
        return purchase_rows(books, &book, row);
    }
    let mut failed: Option<ExportError> = None;
    let read = books.read(|r| {
        let mut emit = |e: Emit<'_>| -> Result<(), StoreError> {
            row(e).map_err(|e| {
                failed = Some(e);
                StoreError::backend(WriteFailed)
            })
        };
        match dataset {
            Dataset::Customers => {
                // Books with campaigns add the `campaign` column; books without
                // export exactly the columns they always did.
                let campaigns = r.campaigns()?;
                let attributed = customer_campaigns(&campaigns, &r.attributions()?);
                if campaigns.is_empty() {
                    emit(Emit::Header(dataset.columns()))?;
                } else {
                    let header = [dataset.columns(), &[CAMPAIGN_COLUMN][..]].concat();
                    emit(Emit::Header(&header))?;
                }
                for c in r.all_customers()? {
                    let mut cells = customer_cells(c.data(), Some(c.stage()));
                    cells.push(CustomerKey::of(&c, Some(&book)));
                    if !campaigns.is_empty() {
                        cells.push(attributed.get(&c.id()).cloned().unwrap_or_default());
                    }
                    emit(Emit::Row(&cells))?;
                }
                Ok(())
            }
            // Handed to `purchase_rows` at the top of this function.
            Dataset::Purchases => Ok(()),
            Dataset::Surveys => {
                emit(Emit::Header(dataset.columns()))?;
                let keys = key_table(&r, &book)?;
                let mut cells: Vec<String> = Vec::with_capacity(5);
                for s in r.surveys(&ActivityQuery::ALL)? {
                    let Some(key) = keys.get(s.customer()) else {
                        continue;
                    };
                    cells.clear();
                    cells.extend([
                        key.to_owned(),
                        s.at().to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        s.score().kind().to_string(),
                        s.score().value().to_string(),
                        text(s.comment()),
                    ]);
                    emit(Emit::Row(&cells))?;
                }
                Ok(())
            }
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(read?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The digit-by-digit time is chrono's RFC 3339 text, whole seconds or not,
        /// inside years 0–9999 or outside them.
        #[test]
        fn put_time_writes_what_chrono_writes(
            secs in -80_000_000_000_i64..300_000_000_000,
            nanos in prop_oneof![Just(0_u32), 0_u32..1_000_000_000, Just(1_000_000_u32)],
        ) {
            let at = DateTime::from_timestamp(secs, nanos).expect("inside chrono's range");
            let mut buf = String::from("kept ");
            put_time(&mut buf, at);
            prop_assert_eq!(buf, format!("kept {}", at.to_rfc3339_opts(SecondsFormat::AutoSi, true)));
        }

        /// A row written from its cells is the JSON a `serde_json::Map` of the row
        /// gives, whatever the column names (repeated ones included) and cells.
        #[test]
        fn json_rows_are_the_maps_json(
            picks in proptest::collection::vec(0_usize..6, 0..8),
            texts in proptest::collection::vec("[a-z\"\\\\\u{1b}\u{202e}张]{0,6}", 8),
        ) {
            const NAMES: [&str; 6] = ["customer", "date", "amount", "sku", "Zeta", "amount_x"];
            let header: Vec<&'static str> = picks.iter().map(|&i| NAMES[i]).collect();
            let cells: Vec<String> = texts[..header.len()].to_vec();
            let order = key_order(&header);
            let row = JsonRow { header: &header, order: &order, cells: &cells };
            let map: serde_json::Map<String, serde_json::Value> = header
                .iter()
                .zip(&cells)
                .map(|(h, v)| ((*h).to_owned(), serde_json::Value::String(v.clone())))
                .collect();
            prop_assert_eq!(
                serde_json::to_string_pretty(&row).expect("a row serialises"),
                serde_json::to_string_pretty(&map).expect("a map serialises")
            );
        }
    }

    /// A key's first letter, one of 26 by id.
    fn lead(id: u64) -> char {
        char::from(b'a' + (id % 26) as u8)
    }

    proptest! {
        /// Every id's key is found, dense or sparse, and an id without one is not.
        #[test]
        fn the_key_table_gives_each_ids_key(
            raw in proptest::collection::vec(0_u64..400_000, 0..300),
            spread in prop_oneof![Just(500_u64), Just(400_000)],
            probes in proptest::collection::vec(0_u64..400_010, 20),
            again in proptest::option::of(any::<proptest::sample::Index>()),
        ) {
            let ids: std::collections::BTreeSet<u64> = raw.iter().map(|i| i % spread + 1).collect();
            let mut keys: HashMap<CustomerId, String> = ids
                .iter()
                .map(|&i| (CustomerId::new(i), format!("{}{i}@例", lead(i))))
                .collect();
            let mut sorted: Vec<_> = keys.clone().into_iter().collect();
            sorted.sort();
            // An id given again after the others (out of order): its later key counts,
            // and the table built so far moves into the hash map.
            if let (Some(k), false) = (again, sorted.is_empty()) {
                let id = sorted[k.index(sorted.len())].0;
                let key = format!("{}{}@again", lead(id.get()), id.get());
                keys.insert(id, key.clone());
                sorted.push((id, key));
            }
            let table = KeyTable::new(sorted.into_iter());
            // A few hundred ids under 500 are dense; the same number spread over
            // 400,000 may be either.
            if spread == 500 && !ids.is_empty() && again.is_none() {
                let dense = matches!(table, KeyTable::Dense { .. });
                prop_assert!(dense, "dense ids kept in a hash map");
            }
            // The warm-up reads each key's first byte (a dense table's) and never
            // panics, for ids outside the table too.
            let with_keys = ids.iter().map(|&i| CustomerId::new(i));
            let firsts = ids.iter().fold(0_u8, |m, &i| m ^ lead(i) as u8);
            let dense = matches!(table, KeyTable::Dense { .. });
            prop_assert_eq!(table.warm(with_keys), if dense { firsts } else { 0 });
            table.warm(probes.iter().map(|&i| CustomerId::new(i)));
            for id in ids.iter().copied().chain(probes) {
                let id = CustomerId::new(id);
                prop_assert_eq!(table.get(id), keys.get(&id).map(String::as_str));
            }
        }
    }

    #[test]
    fn a_leap_second_and_a_negative_year_fall_back_to_chrono() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_000_000_000))
            .expect("a leap second")
            .and_utc();
        let mut buf = String::new();
        put_time(&mut buf, leap);
        assert_eq!(buf, "2016-12-31T23:59:60Z");
        let mut old = String::new();
        put_time(
            &mut old,
            DateTime::from_timestamp(-70_000_000_000, 0).expect("in range"),
        );
        assert!(old.starts_with('-'), "{old}");
    }
}
