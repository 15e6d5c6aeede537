//! Purchases files with line columns (issue 18): one row per line, grouped into
//! purchases by reference; every inconsistency is a line and column error and nothing
//! is written; the export writes the lines back and re-imports to the same books.

use std::path::Path;

use solocrm_app::exchange::{
    CsvExporter, CsvImporter, Dataset, Exporter, ImportError, ImportOptions, ImportSummary,
    Importer, Input, NoProgress,
};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::product::{Product, ProductEdit, Sku};
use solocrm_core::{
    ActivityQuery, Currency, CustomerData, Label, Money, NewCustomer, PersonName, Store,
};

fn cny(s: &str) -> Money {
    Money::parse(s, Currency::CNY).expect("money")
}

/// Books with a catalogue (龙井茶, 紫砂壶, an archived 旧茶杯) and customers C-1, C-2.
fn books(kind: &str, dir: &Path) -> Books {
    let location = match kind {
        _ if kind.starts_with("memory") => Location::Memory,
        _ => Location::Path(dir.join(format!("{kind}.db"))),
    };
    let books = Books::create(&location, Currency::CNY, &OpenOptions::new()).expect("books");
    for (sku, name, price) in [
        ("TEA-LJ", "龙井茶 250g", "68.00"),
        ("POT-ZS", "紫砂壶", "320.00"),
        ("CUP-OLD", "旧茶杯", "15.00"),
    ] {
        let p = Product::new(
            Sku::parse(sku).expect("sku"),
            Label::parse(name).expect("name"),
            cny(price),
        );
        books.add_product(p).expect("product");
    }
    let archive = ProductEdit {
        archived: Some(true),
        ..ProductEdit::default()
    };
    books
        .edit_product(&Sku::parse("CUP-OLD").expect("sku"), &archive)
        .expect("archive");
    let at = "2026-01-01T00:00:00Z".parse().expect("instant");
    for (name, reference) in [("张伟", "C-1"), ("李娜", "C-2")] {
        let data = CustomerData::new(PersonName::parse(name).expect("name"))
            .with_external_ref(solocrm_core::ExternalRef::parse(reference).expect("ref"));
        books
            .create_customer(NewCustomer::new(data, at))
            .expect("customer");
    }
    books
}

fn options() -> ImportOptions {
    ImportOptions::new("2026-11-29T08:00:00Z".parse().expect("an instant"))
}

fn import_bytes(books: &Books, bytes: &[u8]) -> Result<ImportSummary, ImportError> {
    import_with(books, bytes, &options())
}

fn import_with(
    books: &Books,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    CsvImporter.import(
        books,
        Dataset::Purchases,
        &Input::bytes("purchases.csv", bytes.to_vec()),
        options,
        None,
        &mut NoProgress,
    )
}

fn export(books: &Books) -> String {
    let mut out = Vec::new();
    CsvExporter::new()
        .export(books, Dataset::Purchases, &mut out)
        .expect("export");
    String::from_utf8(out).expect("UTF-8")
}

/// The purchases and their lines, as comparable text.
fn contents(books: &Books) -> Vec<String> {
    let lines = books.all_purchase_lines().expect("lines");
    books
        .purchases(&ActivityQuery::ALL)
        .expect("purchases")
        .iter()
        .map(|p| {
            let own: Vec<String> = lines
                .iter()
                .filter(|(id, _)| *id == p.id())
                .map(|(_, l)| {
                    format!(
                        "{}×{}@{}-{:?}",
                        l.sku,
                        l.quantity,
                        l.unit_price.amount(),
                        l.discount.map(|d| d.amount().to_string())
                    )
                })
                .collect();
            format!(
                "{} {} {} {:?} {:?} {}",
                p.customer(),
                p.at(),
                p.amount().amount(),
                p.external_ref().map(ToString::to_string),
                p.description().map(ToString::to_string),
                own.join(" ")
            )
        })
        .collect()
}

const LINES: &str = "客户,下单时间,金额,订单号,备注,商品编码,数量,单价,折扣\n\
    C-1,2026-03-01 10:00,456.00,O-1,春节礼盒,TEA-LJ,2,68.00,\n\
    C-2,2026-03-02,100,O-2,,TEA-LJ,1,,\n\
    C-1,2026-03-01 10:00,,O-1,春节礼盒,POT-ZS,1,330.00,10\n\
    C-2,2026-03-02,100,O-2,,CUP-NEW,1,32,\n";

#[test]
fn rows_of_one_reference_make_one_purchase_with_chinese_headers() {
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in ["memory", "sqlite"] {
        let books = books(kind, dir.path());
        books
            .add_product(Product::new(
                Sku::parse("CUP-NEW").expect("sku"),
                Label::parse("白瓷杯").expect("name"),
                cny("30.00"),
            ))
            .expect("product");
        let s = import_bytes(&books, LINES.as_bytes()).expect("import");
        assert_eq!(
            s.counts,
            [
                ("purchases", 2),
                ("new customers", 0),
                ("purchase lines", 4)
            ]
        );
        let got = contents(&books);
        assert_eq!(got.len(), 2, "{got:?}");
        // 2 × 68 + (330 − 10) = 456; the price defaults to the catalogue's.
        assert!(
            got[0].contains("456.00")
                && got[0].contains("TEA-LJ×2@68.00-None POT-ZS×1@330.00-Some(\"10.00\")"),
            "{got:?}"
        );
        assert!(
            got[1].contains("TEA-LJ×1@68.00-None CUP-NEW×1@32.00-None"),
            "{got:?}"
        );
    }
}

#[test]
fn the_amount_is_derived_when_no_row_of_a_purchase_gives_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("memory", dir.path());
    let file = "customer,date,amount,reference,sku,quantity,unit_price,line_discount\n\
        C-1,2026-03-01,,O-7,TEA-LJ,3,,5\n\
        C-1,2026-03-01,,O-7,POT-ZS,1,,\n";
    import_bytes(&books, file.as_bytes()).expect("import");
    let p = &books.purchases(&ActivityQuery::ALL).expect("purchases")[0];
    assert_eq!(p.amount(), cny("519.00"));
}

#[test]
fn a_gb18030_file_with_line_columns_imports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("sqlite", dir.path());
    books
        .add_product(Product::new(
            Sku::parse("CUP-NEW").expect("sku"),
            Label::parse("白瓷杯").expect("name"),
            cny("30.00"),
        ))
        .expect("product");
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(LINES);
    assert!(!unmappable);
    let s = import_bytes(&books, &bytes).expect("import");
    assert_eq!(s.counts[2], ("purchase lines", 4));
    let got = contents(&books);
    assert!(got[0].contains("春节礼盒"), "{got:?}");
}

/// Each fault, the line and column it is reported on, and nothing written.
#[test]
fn every_inconsistency_is_a_line_and_column_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("sqlite", dir.path());
    let head = "customer,date,amount,currency,reference,sku,quantity,unit_price,line_discount\n";
    let ok = "C-1,2026-03-01,68,CNY,OK-1,TEA-LJ,1,,\n";
    let cases: [(&str, u64, &str, &str); 11] = [
        (
            "C-1,2026-03-01,68,,O-1,NOPE,1,,\n",
            3,
            "sku",
            "no product has the SKU 'NOPE'",
        ),
        ("C-1,2026-03-01,15,,O-1,CUP-OLD,1,,\n", 3, "sku", "archived"),
        (
            "C-1,2026-03-01,100,,O-1,TEA-LJ,1,,\nC-1,2026-03-01,,,O-1,TEA-LJ,1,,\n",
            3,
            "amount",
            "not the sum of its lines",
        ),
        (
            "C-1,2026-03-01,136,CNY,O-1,TEA-LJ,1,,\nC-1,2026-03-01,,USD,O-1,TEA-LJ,1,,\n",
            4,
            "currency",
            "USD differs",
        ),
        (
            "C-1,2026-03-01,136,,O-1,TEA-LJ,1,,\nC-2,2026-03-01,,,O-1,TEA-LJ,1,,\n",
            4,
            "customer",
            "names another customer",
        ),
        (
            "C-1,2026-03-01,136,,O-1,TEA-LJ,1,,\nC-1,2026-03-02,,,O-1,TEA-LJ,1,,\n",
            4,
            "date",
            "gives another date",
        ),
        (
            "C-1,2026-03-01,136,,O-1,TEA-LJ,1,,\nC-1,2026-03-01,137,,O-1,TEA-LJ,1,,\n",
            4,
            "amount",
            "gives another amount",
        ),
        (
            "C-1,2026-03-01,68,,O-1,TEA-LJ,0,,\n",
            3,
            "quantity",
            "at least 1",
        ),
        (
            "C-1,2026-03-01,68,,O-1,TEA-LJ,1,,70\n",
            3,
            "line_discount",
            "more than",
        ),
        (
            "C-1,2026-03-01,68,,O-1,,1,,\n",
            3,
            "quantity",
            "without a product",
        ),
        (
            "C-1,2026-03-01,,,,TEA-LJ,1,,\n",
            3,
            "amount",
            "there is none",
        ),
    ];
    for (rows, line, column, reason) in cases {
        let file = format!("{head}{ok}{rows}");
        let err = import_bytes(&books, file.as_bytes()).expect_err(rows);
        let ImportError::Row { row, .. } = &err else {
            panic!("{rows}: {err}");
        };
        assert_eq!(row.line, line, "{rows}: {err}");
        assert_eq!(row.column.as_deref(), Some(column), "{rows}: {err}");
        assert!(row.reason.contains(reason), "{rows}: {err}");
        assert!(err.to_string().contains("nothing was imported"), "{err}");
        assert!(
            books
                .purchases(&ActivityQuery::ALL)
                .expect("read")
                .is_empty(),
            "{rows}"
        );
        assert!(books.all_purchase_lines().expect("read").is_empty());
    }
}

#[test]
fn with_skip_invalid_a_purchase_with_a_bad_row_is_set_aside_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("memory", dir.path());
    let file = "customer,date,amount,reference,sku,quantity\n\
        C-1,2026-03-01,136,O-1,TEA-LJ,1\n\
        C-1,2026-03-01,,O-1,NOPE,1\n\
        C-2,2026-03-02,68,O-2,TEA-LJ,1\n";
    let mut o = options();
    o.skip_invalid = true;
    let s = import_with(&books, file.as_bytes(), &o).expect("import");
    assert_eq!(s.counts[0], ("purchases", 1));
    assert_eq!(s.rejected, 2);
    let got = contents(&books);
    assert!(got[0].contains("O-2"), "{got:?}");
}

#[test]
fn a_file_without_line_columns_imports_as_before() {
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("sqlite", dir.path());
    let file = "customer,date,amount,reference\nC-1,2026-03-01,10,O-1\nC-1,2026-03-02,20,O-2\n";
    let s = import_bytes(&books, file.as_bytes()).expect("import");
    assert_eq!(s.counts, [("purchases", 2), ("new customers", 0)]);
    // A repeated reference is still a refusal, not a purchase of two rows.
    let again = "customer,date,amount,reference\nC-1,2026-03-03,10,O-3\nC-1,2026-03-04,20,O-3\n";
    let err = import_bytes(&books, again.as_bytes()).expect_err("repeated reference");
    assert!(err.to_string().contains("O-3"), "{err}");
    // With no lines in the book, the export is what it always was.
    assert!(
        export(&books).starts_with("customer,date,amount,currency,reference,description\n"),
        "{}",
        export(&books)
    );
}

#[test]
fn quantity_and_price_without_a_sku_column_are_unknown_columns_as_before_lines() {
    // A shop's order list with a count and a price per order, but no product column:
    // before purchase lines it failed on the unknown 数量 column, or imported as plain
    // purchases with `--ignore-unknown`. It still does both.
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("sqlite", dir.path());
    let file = "客户,日期,金额,订单号,数量,单价\nC-1,2026-03-01,136,O-1,2,68\nC-2,2026-03-02,320,O-2,1,320\n";
    let err = import_bytes(&books, file.as_bytes()).expect_err("an unknown column");
    assert!(err.to_string().contains("数量"), "{err}");
    assert!(contents(&books).is_empty(), "nothing written");
    let mut lenient = options();
    lenient.ignore_unknown = true;
    let s = import_with(&books, file.as_bytes(), &lenient).expect("imports");
    assert_eq!(s.counts, [("purchases", 2), ("new customers", 0)]);
    assert!(books.all_purchase_lines().expect("lines").is_empty());
    let amounts: Vec<String> = books
        .purchases(&ActivityQuery::ALL)
        .expect("purchases")
        .iter()
        .map(|p| p.amount().amount().to_string())
        .collect();
    assert_eq!(amounts, ["136.00", "320.00"]);
}

#[test]
fn an_export_with_lines_re_imports_to_the_same_purchases() {
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in ["memory", "sqlite"] {
        let first = books(kind, dir.path());
        let file = "customer,date,amount,reference,description,sku,quantity,unit_price,line_discount\n\
            C-1,2026-03-01 10:00,456.00,O-1,春节礼盒,TEA-LJ,2,,\n\
            C-1,2026-03-01 10:00,,O-1,春节礼盒,POT-ZS,1,330,10\n\
            C-2,2026-03-02,50,,无订单号,TEA-LJ,1,60,10\n\
            C-2,2026-03-02,,,无订单号,TEA-LJ,1,0,\n\
            C-2,2026-03-03,12.5,,没有明细,,,,\n\
            C-1,2026-03-04,68,,,TEA-LJ,1,,\n";
        import_bytes(&first, file.as_bytes()).expect("import");
        let text = export(&first);
        assert!(
            text.starts_with(
                "customer,date,amount,currency,reference,description,sku,quantity,unit_price,line_discount\n"
            ),
            "{text}"
        );
        let second = books(&format!("{kind}-again"), dir.path());
        let s = import_bytes(&second, text.as_bytes()).expect("re-import");
        assert_eq!(s.counts[0], ("purchases", 4), "{text}");
        assert_eq!(contents(&first), contents(&second), "{text}");
        assert_eq!(export(&second), text);
    }
}

#[test]
fn a_dry_run_of_lines_writes_nothing_and_create_missing_creates_one_customer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let books = books("sqlite", dir.path());
    let file = "customer,date,amount,reference,sku,quantity\n\
        新客户,2026-03-01,136,O-1,TEA-LJ,1\n\
        新客户,2026-03-01,,O-1,TEA-LJ,1\n\
        新客户,2026-03-05,68,O-2,TEA-LJ,1\n";
    let mut o = options();
    o.create_missing = true;
    o.dry_run = true;
    let s = import_with(&books, file.as_bytes(), &o).expect("dry run");
    assert!(s.dry_run);
    assert_eq!(
        s.counts,
        [
            ("purchases", 2),
            ("new customers", 1),
            ("purchase lines", 3)
        ]
    );
    assert!(
        books
            .purchases(&ActivityQuery::ALL)
            .expect("read")
            .is_empty()
    );
    assert!(books.all_purchase_lines().expect("read").is_empty());
    o.dry_run = false;
    import_with(&books, file.as_bytes(), &o).expect("import");
    assert_eq!(books.all_purchase_lines().expect("read").len(), 3);
    let purchases = books.purchases(&ActivityQuery::ALL).expect("read");
    assert_eq!(purchases.len(), 2);
    assert_eq!(purchases[0].customer(), purchases[1].customer());
}
