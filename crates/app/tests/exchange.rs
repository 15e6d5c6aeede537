//! The import/export pipelines through the application crate alone, over both
//! backends: what the command line and the web workspace will both rely on.

use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use solocrm_app::exchange::{
    CsvExporter, CsvImporter, Dataset, ExportError, Exporter, ImportError, ImportOptions,
    ImportSummary, Importer, JsonExporter, NoProgress, Output, Progress,
};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{Currency, Store};

/// An output kept in memory; `committed` says whether the pipeline committed it.
#[derive(Clone, Default)]
struct Memory {
    bytes: Arc<Mutex<Vec<u8>>>,
    committed: Arc<Mutex<bool>>,
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output for Memory {
    fn name(&self) -> String {
        "memory".to_owned()
    }
    fn commit(self: Box<Self>) -> io::Result<()> {
        *self.committed.lock().expect("lock") = true;
        Ok(())
    }
}

impl Memory {
    fn text(&self) -> String {
        String::from_utf8(self.bytes.lock().expect("lock").clone()).expect("UTF-8")
    }
    fn committed(&self) -> bool {
        *self.committed.lock().expect("lock")
    }
}

/// Counts what the importer reports.
#[derive(Default)]
struct Counted {
    begun: usize,
    ended: usize,
    last: u64,
}

impl Progress for Counted {
    fn begin(&mut self, _total: u64) {
        self.begun += 1;
    }
    fn advance(&mut self, done: u64) {
        self.last = done;
    }
    fn end(&mut self) {
        self.ended += 1;
    }
}

const CUSTOMERS: &str = "name,email,phone,birthday,country,tags,channel,reference\n\
    张伟,zhang.wei@example.cn,+86 138 0013 8000,1988-02-14,CN,vip;上海,微信,C-1\n\
    李娜,,,,,,,C-2\n\
    \"=HYPERLINK(\"\"x\"\")\",formula@example.com,,,,,,C-3\n";

const PURCHASES: &str = "customer,date,amount,reference,description\n\
    C-1,2026-01-01T07:00:00Z,199.00,O-1,春节礼盒\n\
    C-2,2026-02-01,88.5,O-2,\n\
    C-9,2026-03-01,10,O-3,new customer\n";

const SURVEYS: &str = "customer,date,kind,score,comment\n\
    zhang.wei@example.cn,2026-01-05,nps,9,很好\n\
    C-2,2026-02-05,csat,4,\n";

fn books(kind: &str, dir: &Path) -> Books {
    let location = match kind {
        "memory" => Location::Memory,
        _ => Location::Path(dir.join(format!("{kind}.db"))),
    };
    Books::create(&location, Currency::CNY, &OpenOptions::new()).expect("create books")
}

fn import(
    books: &Books,
    dataset: Dataset,
    file: &Path,
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    CsvImporter.import(books, dataset, &file.into(), options, None, &mut NoProgress)
}

fn export(books: &Books, dataset: Dataset, exporter: &dyn Exporter) -> String {
    let mut out = Vec::new();
    exporter.export(books, dataset, &mut out).expect("export");
    String::from_utf8(out).expect("UTF-8")
}

fn options() -> ImportOptions {
    let mut o = ImportOptions::new("2026-11-29T08:00:00Z".parse().expect("an instant"));
    o.create_missing = true;
    o
}

#[test]
fn files_round_trip_through_both_backends_alike() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in [
        ("customers.csv", CUSTOMERS),
        ("purchases.csv", PURCHASES),
        ("surveys.csv", SURVEYS),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let mut exports = Vec::new();
    for kind in ["memory", "sqlite"] {
        let first = books(kind, dir.path());
        let c = import(
            &first,
            Dataset::Customers,
            &dir.path().join("customers.csv"),
            &options(),
        )
        .expect("customers");
        assert_eq!(c.counts, [("created", 3), ("updated", 0), ("unchanged", 0)]);
        let p = import(
            &first,
            Dataset::Purchases,
            &dir.path().join("purchases.csv"),
            &options(),
        )
        .expect("purchases");
        assert_eq!(p.counts, [("purchases", 3), ("new customers", 1)]);
        let s = import(
            &first,
            Dataset::Surveys,
            &dir.path().join("surveys.csv"),
            &options(),
        )
        .expect("surveys");
        assert_eq!(s.counts, [("survey answers", 2)]);

        let customers = export(&first, Dataset::Customers, &CsvExporter::new());
        // The formula is guarded in the file, and read back as it was written.
        assert!(
            customers.contains("\"'=HYPERLINK(\"\"x\"\")\""),
            "{customers}"
        );
        assert!(
            customers.contains(
                "张伟,zhang.wei@example.cn,'+86 138 0013 8000,1988-02-14,CN,vip;上海,微信,C-1,,,,,prospect,,,,,,,,,,C-1\n"
            ),
            "{customers}"
        );
        let purchases = export(&first, Dataset::Purchases, &CsvExporter::new());
        assert!(
            purchases.contains("C-1,2026-01-01T07:00:00Z,199.00,CNY,O-1,春节礼盒\n"),
            "{purchases}"
        );
        let surveys = export(&first, Dataset::Surveys, &CsvExporter::new());

        // Into a new book of the same backend: the same files come out.
        let again = books(
            if kind == "memory" {
                "memory"
            } else {
                "sqlite-again"
            },
            dir.path(),
        );
        for (dataset, text) in [
            (Dataset::Customers, &customers),
            (Dataset::Purchases, &purchases),
            (Dataset::Surveys, &surveys),
        ] {
            let file = dir.path().join(format!("{kind}-{dataset:?}.csv"));
            std::fs::write(&file, text).expect("write");
            import(&again, dataset, &file, &options()).expect("re-import");
            assert_eq!(
                &export(&again, dataset, &CsvExporter::new()),
                text,
                "{kind} {dataset:?}"
            );
        }
        let json: serde_json::Value =
            serde_json::from_str(&export(&first, Dataset::Surveys, &JsonExporter)).expect("JSON");
        assert_eq!(json[0]["comment"], "很好");
        assert_eq!(json[1]["customer"], "C-2");
        exports.push((customers, purchases, surveys));
    }
    assert_eq!(
        exports[0], exports[1],
        "memory and SQLite export the same files"
    );
}

#[test]
fn bad_rows_stop_the_import_or_go_to_the_rejects_with_their_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("sqlite", dir.path());
    let customers = dir.path().join("customers.csv");
    std::fs::write(&customers, CUSTOMERS).expect("write");
    import(&books, Dataset::Customers, &customers, &options()).expect("customers");
    let file = dir.path().join("purchases.csv");
    std::fs::write(
        &file,
        "customer,date,amount\nC-1,2026-01-01,10\nC-1,2026-13-01,10\nC-2,2026-01-02,-5\nC-2,2026-01-03,7\n",
    )
    .expect("write");

    // Strict: the first bad row, named by file, line and column; nothing written, the
    // rejects output not committed.
    let rejects = Memory::default();
    let err = CsvImporter
        .import(
            &books,
            Dataset::Purchases,
            &file.as_path().into(),
            &options(),
            Some(Box::new(rejects.clone())),
            &mut NoProgress,
        )
        .expect_err("a bad date");
    match &err {
        ImportError::Row { row, .. } => {
            assert_eq!((row.line, row.column.as_deref()), (3, Some("date")));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().ends_with("; nothing was imported"), "{err}");
    assert!(!rejects.committed());
    assert_eq!(
        books
            .purchases(&solocrm_core::ActivityQuery::ALL)
            .expect("purchases")
            .len(),
        0
    );

    // Skipping: the good rows in, the bad ones out with their reason, and the
    // progress seen from the reading thread.
    let mut o = options();
    o.skip_invalid = true;
    let mut progress = Counted::default();
    let summary = CsvImporter
        .import(
            &books,
            Dataset::Purchases,
            &file.as_path().into(),
            &o,
            Some(Box::new(rejects.clone())),
            &mut progress,
        )
        .expect("import");
    assert_eq!(
        (summary.counts[0], summary.rejected, summary.rows),
        (("purchases", 2), 2, 4)
    );
    assert!(rejects.committed());
    let text = rejects.text();
    assert!(text.starts_with("customer,date,amount,reason\n"), "{text}");
    assert!(
        text.contains("C-1,2026-13-01,10,line 3: column 'date':"),
        "{text}"
    );
    assert!(
        text.contains("C-2,2026-01-02,-5,\"line 4: column 'amount':"),
        "{text}"
    );
    assert_eq!((progress.begun, progress.ended), (1, 1));
    assert_eq!(
        books
            .purchases(&solocrm_core::ActivityQuery::ALL)
            .expect("purchases")
            .len(),
        2
    );
}

#[test]
fn a_file_that_is_not_the_import_s_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("memory", dir.path());
    let missing = import(
        &books,
        Dataset::Customers,
        &dir.path().join("nope.csv"),
        &options(),
    )
    .expect_err("missing");
    assert!(missing.to_string().starts_with("cannot read "), "{missing}");
    let file = dir.path().join("x.csv");
    std::fs::write(&file, "name,shoe size\nAda,38\n").expect("write");
    let unknown = import(&books, Dataset::Customers, &file, &options()).expect_err("unknown");
    assert!(
        unknown.to_string().contains("unknown column 'shoe size'"),
        "{unknown}"
    );
    let mut lenient = options();
    lenient.ignore_unknown = true;
    import(&books, Dataset::Customers, &file, &lenient).expect("ignored");
    assert_eq!(books.count_customers().expect("count"), 1);
}

#[test]
fn an_export_into_a_closed_output_says_so() {
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("memory", dir.path());
    let err = CsvExporter::new()
        .export(&books, Dataset::Customers, &mut Closed)
        .expect_err("closed");
    assert!(
        matches!(err, ExportError::Csv(_) | ExportError::Io(_)),
        "{err:?}"
    );
}

/// Writes until `left` bytes are used up, then fails as a full disk would.
struct FillsUp {
    left: usize,
}

impl Write for FillsUp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.left {
            return Err(io::Error::other("no space left"));
        }
        self.left -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The purchases are read on a second thread while this one writes them (a few
/// batches of 4,096 at a time): more purchases than fit between the two are
/// written in full and in order, and a write that fails midway stops the reader and
/// is the error returned, whichever backend.
#[test]
fn a_long_purchase_export_is_whole_or_ends_with_the_write_error() {
    const N: usize = 30_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut file = String::from("customer,date,amount,reference,description\n");
    for i in 0..N {
        file.push_str(&format!(
            "C-{},2026-01-01T00:00:00Z,{}.{:02},R-{i},=1+{i} 第{i}\n",
            i % 997,
            i % 500,
            i % 100
        ));
    }
    let path = dir.path().join("purchases.csv");
    std::fs::write(&path, file).expect("write the file");
    for kind in ["memory", "sqlite"] {
        let books = books(kind, dir.path());
        import(&books, Dataset::Purchases, &path, &options()).expect("import");
        let csv = export(&books, Dataset::Purchases, &CsvExporter::new());
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), N + 1, "{kind}: the header and every purchase");
        for (i, r) in rows[1..].iter().enumerate() {
            // In order, formula-guarded, Chinese intact.
            assert!(
                r.contains(&format!(",R-{i},'=1+{i} 第{i}")),
                "{kind}: row {i} is {r}"
            );
        }
        let json = export(&books, Dataset::Purchases, &JsonExporter);
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).expect("JSON");
        assert_eq!(parsed.len(), N, "{kind}");
        for exporter in [&CsvExporter::new() as &dyn Exporter, &JsonExporter] {
            let err = exporter
                .export(&books, Dataset::Purchases, &mut FillsUp { left: 100_000 })
                .expect_err("the output fills up");
            assert!(
                matches!(
                    err,
                    ExportError::Csv(_) | ExportError::Io(_) | ExportError::Json(_)
                ),
                "{kind}: {err:?}"
            );
            assert!(err.to_string().contains("no space left"), "{kind}: {err}");
        }
    }
}

#[test]
fn a_dry_run_checks_what_the_store_checks_and_keeps_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in ["memory", "sqlite"] {
        let books = books(kind, dir.path());
        let customers = dir.path().join("customers.csv");
        std::fs::write(&customers, CUSTOMERS).expect("write");
        import(&books, Dataset::Customers, &customers, &options()).expect("customers");
        let purchases = dir.path().join("purchases.csv");
        std::fs::write(&purchases, PURCHASES).expect("write");
        let mut dry = options();
        dry.dry_run = true;
        let would = import(&books, Dataset::Purchases, &purchases, &dry).expect("dry run");
        assert!(would.dry_run);
        assert_eq!(would.counts, [("purchases", 3), ("new customers", 1)]);
        assert!(
            books
                .purchases(&solocrm_core::ActivityQuery::ALL)
                .expect("purchases")
                .is_empty(),
            "{kind}: a dry run keeps nothing"
        );
        assert_eq!(books.count_customers().expect("count"), 3, "{kind}");

        // Only the store can tell that 李娜 may not take 张伟's email: the dry run
        // finds it all the same, and with skip_invalid lists the row as rejected.
        let clash = dir.path().join("clash.csv");
        std::fs::write(
            &clash,
            "name,reference,email\n李娜,C-2,zhang.wei@example.cn\n",
        )
        .expect("write");
        let err = import(&books, Dataset::Customers, &clash, &dry).expect_err("a clash");
        assert!(err.to_string().contains("column 'email'"), "{kind}: {err}");
        dry.skip_invalid = true;
        let rejects = Memory::default();
        let would = CsvImporter
            .import(
                &books,
                Dataset::Customers,
                &clash.as_path().into(),
                &dry,
                Some(Box::new(rejects.clone())),
                &mut NoProgress,
            )
            .expect("dry run");
        let plan = would.plan.expect("a plan");
        assert_eq!((plan[0].line, plan[0].action), (2, "reject"), "{kind}");
        assert!(!rejects.committed(), "{kind}: a dry run writes no rejects");
    }
}

#[test]
fn dates_without_an_offset_are_read_in_the_books_zone() {
    let dir = tempfile::tempdir().expect("dir");
    for kind in ["memory", "sqlite"] {
        let books = books(kind, dir.path());
        let beijing = solocrm_core::BusinessZone::parse("Asia/Shanghai").expect("a zone");
        books.set_time_zone(beijing).expect("the zone");
        let file = dir.path().join(format!("{kind}-zoned.csv"));
        std::fs::write(
            &file,
            "customer,date,amount,reference\n\
             C-9,2026-01-01 07:00,88,A\n\
             C-9,2026-11-11,11.11,B\n\
             C-9,2026-11-11T07:30:00+08:00,1,C\n",
        )
        .expect("the file");
        import(&books, Dataset::Purchases, &file, &options()).expect("import");
        let at: Vec<String> = books
            .purchases(&solocrm_core::ActivityQuery::ALL)
            .expect("purchases")
            .iter()
            .map(|p| p.at().to_rfc3339())
            .collect();
        assert_eq!(
            at,
            [
                "2025-12-31T23:00:00+00:00",
                "2026-11-10T16:00:00+00:00",
                "2026-11-10T23:30:00+00:00"
            ],
            "{kind}"
        );
    }
}
