//! The optional `campaign` column of the customers file (issue 18): import sets,
//! keeps and clears a customer's campaign by name, refuses an unknown name with its
//! line and column and writes nothing; the export writes the column only for books
//! that have campaigns; a round trip keeps the attributions, over both backends.

use std::path::Path;

use chrono::NaiveDate;
use solocrm_app::exchange::{
    CsvExporter, CsvImporter, Dataset, Exporter, ImportError, ImportOptions, ImportSummary,
    Importer, NoProgress,
};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::campaign::{AttributionSubject, NewCampaign};
use solocrm_core::{CampaignId, Currency, CustomerId, Label, Store, Tag};

fn books(kind: &str, dir: &Path, file: &str) -> Books {
    let location = match kind {
        "memory" => Location::Memory,
        _ => Location::Path(dir.join(format!("{file}.db"))),
    };
    Books::create(&location, Currency::CNY, &OpenOptions::new()).expect("create books")
}

fn options() -> ImportOptions {
    ImportOptions::new("2026-11-29T08:00:00Z".parse().expect("an instant"))
}

fn import_text(
    books: &Books,
    dir: &Path,
    text: &str,
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let file = dir.join("customers.csv");
    std::fs::write(&file, text).expect("write");
    CsvImporter.import(
        books,
        Dataset::Customers,
        &file.as_path().into(),
        options,
        None,
        &mut NoProgress,
    )
}

fn export(books: &Books) -> String {
    let mut out = Vec::new();
    CsvExporter::new()
        .export(books, Dataset::Customers, &mut out)
        .expect("export");
    String::from_utf8(out).expect("UTF-8")
}

/// Adds the campaigns `双十一直播` (id 1) and `Spring Fair` (id 2).
fn campaigns(books: &Books) -> (CampaignId, CampaignId) {
    let add = |name: &str, channel: &str| {
        books
            .add_campaign(NewCampaign::new(
                Label::parse(name).expect("a label"),
                Tag::parse(channel).expect("a tag"),
                NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date"),
            ))
            .expect("added")
            .id()
    };
    (
        add("双十一直播", "douyin"),
        add("Spring Fair", "trade-fair"),
    )
}

/// Each attributed customer's campaign, by the customer's reference.
fn attributed(books: &Books) -> Vec<(String, CampaignId)> {
    let mut out: Vec<(String, CampaignId)> = books
        .attributions()
        .expect("attributions")
        .into_iter()
        .filter_map(|a| match a.subject {
            AttributionSubject::Customer(c) => Some((reference(books, c), a.campaign)),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

fn reference(books: &Books, id: CustomerId) -> String {
    books
        .customer(id)
        .expect("customer")
        .data()
        .external_ref
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

#[test]
fn import_creates_and_updates_attributions_and_clear_removes_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in ["memory", "sqlite"] {
        let b = books(kind, dir.path(), "create");
        let (live, fair) = campaigns(&b);
        // A name matches ignoring case; an empty cell attributes no one.
        let first = "name,reference,营销活动\n\
                     王伟,C-1,双十一直播\n\
                     李娜,C-2,spring fair\n\
                     张敏,C-3,\n";
        let s = import_text(&b, dir.path(), first, &options()).expect("imported");
        assert_eq!(s.counts, [("created", 3), ("updated", 0), ("unchanged", 0)]);
        assert_eq!(
            attributed(&b),
            [("C-1".to_owned(), live), ("C-2".to_owned(), fair)]
        );
        // Same data: a changed campaign is an update, an empty cell keeps it, the
        // clear token removes it, the same campaign is unchanged.
        let second = "name,reference,campaign\n\
                      王伟,C-1,Spring Fair\n\
                      李娜,C-2,(clear)\n\
                      张敏,C-3,\n";
        let s = import_text(&b, dir.path(), second, &options()).expect("imported");
        assert_eq!(
            s.counts,
            [("created", 0), ("updated", 2), ("unchanged", 1)],
            "{kind}"
        );
        assert_eq!(attributed(&b), [("C-1".to_owned(), fair)]);
        let third = "name,reference,campaign\n王伟,C-1,SPRING FAIR\n";
        let s = import_text(&b, dir.path(), third, &options()).expect("imported");
        assert_eq!(s.counts, [("created", 0), ("updated", 0), ("unchanged", 1)]);
    }
}

#[test]
fn an_unknown_campaign_names_its_line_and_column_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in ["memory", "sqlite"] {
        let b = books(kind, dir.path(), "unknown");
        campaigns(&b);
        let text = "name,reference,campaign\n\
                    王伟,C-1,双十一直播\n\
                    李娜,C-2,春季展会\n";
        let err = import_text(&b, dir.path(), text, &options()).expect_err("refused");
        let msg = err.to_string();
        let ImportError::Row { row, .. } = err else {
            panic!("not a row error: {msg}");
        };
        assert_eq!((row.line, row.column.as_deref()), (3, Some("campaign")));
        assert!(msg.contains(":3: column 'campaign'"), "{msg}");
        assert!(msg.contains("春季展会"), "{msg}");
        assert!(msg.contains("nothing was imported"), "{msg}");
        assert!(b.customer_keys().expect("keys").is_empty());
        assert!(b.attributions().expect("attributions").is_empty());

        // With --skip-invalid the row is set aside and the rest imported.
        let mut skip = options();
        skip.skip_invalid = true;
        let s = import_text(&b, dir.path(), text, &skip).expect("imported");
        assert_eq!(s.rejected, 1);
        assert_eq!(s.counts[0], ("created", 1));
        assert_eq!(attributed(&b).len(), 1);
    }
}

#[test]
fn a_dry_run_lists_the_campaign_change_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = books("sqlite", dir.path(), "dry");
    let (live, _) = campaigns(&b);
    let text = "name,reference,campaign\n王伟,C-1,双十一直播\n";
    import_text(&b, dir.path(), text, &options()).expect("imported");
    let mut dry = options();
    dry.dry_run = true;
    let moved = "name,reference,campaign\n王伟,C-1,Spring Fair\n";
    let s = import_text(&b, dir.path(), moved, &dry).expect("a dry run");
    assert!(s.dry_run);
    assert_eq!(s.counts, [("created", 0), ("updated", 1), ("unchanged", 0)]);
    let plan = s.plan.expect("a plan");
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].action, "update");
    let changes: Vec<_> = plan[0]
        .changes
        .iter()
        .map(|c| (c.field, c.from.as_str(), c.to.as_str()))
        .collect();
    assert_eq!(changes, [("campaign", "双十一直播", "Spring Fair")]);
    assert_eq!(attributed(&b), [("C-1".to_owned(), live)]);
}

#[test]
fn export_then_import_keeps_the_attributions() {
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in ["memory", "sqlite"] {
        let b = books(kind, dir.path(), &format!("{kind}-from"));
        campaigns(&b);
        let text = "name,reference,campaign\n\
                    王伟,C-1,双十一直播\n\
                    李娜,C-2,Spring Fair\n\
                    张敏,C-3,\n";
        import_text(&b, dir.path(), text, &options()).expect("imported");
        let exported = export(&b);
        let header = exported.lines().next().expect("a header");
        assert!(header.ends_with(",customer,campaign"), "{header}");
        assert!(exported.contains(",双十一直播\n"), "{exported}");

        let other = books(kind, dir.path(), &format!("{kind}-to"));
        campaigns(&other);
        let s = import_text(&other, dir.path(), &exported, &options()).expect("imported");
        assert_eq!(s.counts[0], ("created", 3));
        let names = |books: &Books| -> Vec<(String, String)> {
            let all = books.campaigns().expect("campaigns");
            attributed(books)
                .into_iter()
                .map(|(r, id)| {
                    let c = all.iter().find(|c| c.id() == id).expect("a campaign");
                    (r, c.name().to_string())
                })
                .collect()
        };
        assert_eq!(names(&other), names(&b));
        assert_eq!(names(&other).len(), 2);
        // Re-importing the export into the same books changes nothing.
        let s = import_text(&b, dir.path(), &exported, &options()).expect("imported");
        assert_eq!(s.counts, [("created", 0), ("updated", 0), ("unchanged", 3)]);
    }
}

#[test]
fn books_without_campaigns_export_the_old_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = books("memory", dir.path(), "old");
    import_text(&b, dir.path(), "name,reference\n王伟,C-1\n", &options()).expect("imported");
    let exported = export(&b);
    let header = exported.lines().next().expect("a header");
    assert_eq!(header, Dataset::Customers.columns().join(","));
    assert!(!header.contains("campaign"));
    // A file with the column but no campaigns in the books: an empty cell is fine,
    // a name is an error.
    let with = "name,reference,campaign\n王伟,C-1,\n";
    import_text(&b, dir.path(), with, &options()).expect("imported");
    let named = "name,reference,campaign\n王伟,C-1,双十一直播\n";
    let err = import_text(&b, dir.path(), named, &options()).expect_err("refused");
    assert!(err.to_string().contains("双十一直播"), "{err}");
}
