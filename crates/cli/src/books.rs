//! The CLI's books: an SQLite file ([`File`] reaches it), or one tenant's books in a
//! PostgreSQL database ([`with_tenant`] applies `--tenant` to the URL).

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
pub use solocrm_app::Books;
use solocrm_app::Location;
use solocrm_store_sqlite::SqliteStore;

/// The SQLite file under the books, for what only a file has (book id, check,
/// checkpoint).
pub trait File {
    /// The file.
    ///
    /// # Errors
    ///
    /// If the books are not kept in a file (never, for books the CLI opened).
    fn file(&self) -> Result<&SqliteStore>;
}

impl File for Books {
    fn file(&self) -> Result<&SqliteStore> {
        self.sqlite()
            .ok_or_else(|| anyhow!("{} is not an SQLite file", self.location()))
    }
}

/// The books of an SQLite store the CLI opened or created at `path`.
pub fn of_file(store: SqliteStore, path: &std::path::Path) -> Books {
    Books::from_sqlite(store, Location::Path(path.to_owned()))
}

/// `db` (`--db`) with `tenant` (`--tenant`, `SOLOCRM_TENANT`) applied: a
/// `postgres://` URL without `tenant=` gets `tenant=N` added; one that names the same
/// tenant is kept as it is.
///
/// # Errors
///
/// If `db` is not a PostgreSQL URL (an SQLite file has one book, no tenants), or its
/// `tenant=` names another tenant.
pub fn with_tenant(db: PathBuf, tenant: Option<i64>) -> Result<PathBuf> {
    let Some(n) = tenant else { return Ok(db) };
    let url = match db.to_str() {
        Some(s) if matches!(Location::parse(s), Ok(Location::Postgres(_))) => s,
        _ => bail!(t!("tenant.not_postgres", tenant = n, db = db.display())),
    };
    let query = url.split_once('?').map(|(_, q)| q);
    let named: Vec<&str> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.strip_prefix("tenant="))
        .collect();
    match named.as_slice() {
        [] => {
            let sep = match query {
                None => "?",
                Some("") => "",
                Some(q) if q.ends_with('&') => "",
                Some(_) => "&",
            };
            Ok(PathBuf::from(format!("{url}{sep}tenant={n}")))
        }
        [given] if given.parse::<i64>().ok() == Some(n) => Ok(db),
        [given] => bail!(t!(
            "tenant.disagrees",
            tenant = n,
            given = given,
            db = Location::Postgres(url.to_owned())
        )),
        // Named twice: the store says so when it reads the URL.
        _ => Ok(db),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(db: &str, tenant: Option<i64>) -> Result<String> {
        with_tenant(PathBuf::from(db), tenant).map(|p| p.to_string_lossy().into_owned())
    }

    #[test]
    fn the_tenant_option_is_added_to_a_url_that_names_none() {
        for (db, tenant, url) in [
            ("postgres://h/crm", Some(3), "postgres://h/crm?tenant=3"),
            (
                "postgresql://u@h/crm?sslmode=disable",
                Some(12),
                "postgresql://u@h/crm?sslmode=disable&tenant=12",
            ),
            ("postgres://h/crm?", Some(2), "postgres://h/crm?tenant=2"),
            (
                "postgres://h/crm?tenant=5",
                Some(5),
                "postgres://h/crm?tenant=5",
            ),
            (
                "postgres://h/crm?tenant=5",
                None,
                "postgres://h/crm?tenant=5",
            ),
            ("books.db", None, "books.db"),
        ] {
            assert_eq!(applied(db, tenant).expect(db), url, "{db} {tenant:?}");
        }
    }

    #[test]
    fn a_tenant_that_disagrees_with_the_url_or_an_sqlite_file_is_refused() {
        let e = applied("postgres://ada:s3cret@h/crm?tenant=2", Some(3)).expect_err("two tenants");
        let text = e.to_string();
        assert!(text.contains('2') && text.contains('3'), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        for db in ["books.db", "sqlite:shop.db", "postgres:notes"] {
            let e = applied(db, Some(3)).expect_err(db);
            assert!(e.to_string().contains("PostgreSQL"), "{e}");
        }
    }
}
