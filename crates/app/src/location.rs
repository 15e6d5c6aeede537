//! Where the books are: [`Location`].

use std::fmt;
use std::path::PathBuf;

/// Where a book is kept.
///
/// Read from text by [`Location::parse`]:
///
/// | text | location |
/// |---|---|
/// | `memory:` | [`Location::Memory`]: nothing on disk, gone when closed |
/// | `sqlite:PATH` | [`Location::Path`] of `PATH`, taken literally |
/// | `postgres://…`, `postgresql://…` | [`Location::Postgres`]: a PostgreSQL database, `?tenant=N` selecting the books (1 if absent) |
/// | anything else | [`Location::Path`] of the text, taken literally |
///
/// A path is a file name, never an SQLite URI: `file:x.db?mode=memory` names a file
/// of that name, so no text can reach SQLite's URI options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An in-memory book.
    Memory,
    /// An SQLite file.
    Path(PathBuf),
    /// Books in a PostgreSQL database: the URL as given, `tenant` parameter included
    /// (see `solocrm_store_postgres::split_tenant`). Shown with its password hidden.
    Postgres(String),
}

/// Why a location cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocationError {
    /// Empty text.
    #[error("the location of the books is empty; give a file name, sqlite:PATH or memory:")]
    Empty,
    /// A kind of store this build cannot open (none is refused today: every scheme
    /// solocrm knows has a store).
    #[error("{scheme} locations are not supported yet; give a file name, sqlite:PATH or memory:")]
    Unsupported {
        /// The scheme, e.g. `postgres`.
        scheme: String,
    },
    /// `sqlite:` without a path.
    #[error("sqlite: needs a file name after it, e.g. sqlite:shop.db")]
    MissingPath,
}

impl Location {
    /// Reads a location; see the [type's docs](Location) for the forms.
    ///
    /// # Errors
    ///
    /// [`LocationError`] for empty text, `sqlite:` alone, or a server URL.
    pub fn parse(text: &str) -> Result<Location, LocationError> {
        if text.is_empty() {
            return Err(LocationError::Empty);
        }
        if text == "memory:" {
            return Ok(Location::Memory);
        }
        if let Some(path) = text.strip_prefix("sqlite:") {
            // `sqlite://x` is not a URL form we promise; the rest is a path as written.
            return if path.is_empty() {
                Err(LocationError::MissingPath)
            } else {
                Ok(Location::Path(PathBuf::from(path)))
            };
        }
        for scheme in ["postgres", "postgresql"] {
            if text
                .strip_prefix(scheme)
                .is_some_and(|rest| rest.starts_with("://"))
            {
                return Ok(Location::Postgres(text.to_owned()));
            }
        }
        Ok(Location::Path(PathBuf::from(text)))
    }

    /// The file, for a location that is one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Location::Path(p) => Some(p),
            Location::Memory | Location::Postgres(_) => None,
        }
    }
}

/// `url` with the password of its user part (`user:password@`) replaced by `***`, so
/// that a location can be shown in messages and logs.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Memory => f.write_str("memory:"),
            Location::Path(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

impl std::str::FromStr for Location {
    type Err = LocationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Location::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_reads_as_documented() {
        assert_eq!(Location::parse("memory:"), Ok(Location::Memory));
        assert_eq!(
            Location::parse("sqlite:shop.db"),
            Ok(Location::Path("shop.db".into()))
        );
        assert_eq!(
            Location::parse("sqlite:/var/lib/客户.db"),
            Ok(Location::Path("/var/lib/客户.db".into()))
        );
        assert_eq!(
            Location::parse("books/shop.db"),
            Ok(Location::Path("books/shop.db".into()))
        );
        assert_eq!(Location::parse(""), Err(LocationError::Empty));
        assert_eq!(Location::parse("sqlite:"), Err(LocationError::MissingPath));
        assert_eq!(
            Location::parse("postgres://localhost/crm?tenant=3"),
            Ok(Location::Postgres(
                "postgres://localhost/crm?tenant=3".into()
            ))
        );
        assert!(matches!(
            Location::parse("postgresql://u@h/db"),
            Ok(Location::Postgres(_))
        ));
    }

    #[test]
    fn sqlite_uris_and_look_alikes_are_plain_file_names() {
        for text in [
            "file:real.db",
            "file:real.db?mode=memory",
            "memory",
            "memory:x",
        ] {
            assert_eq!(
                Location::parse(text),
                Ok(Location::Path(text.into())),
                "{text}"
            );
        }
        // A file named like a scheme without `://` is a file too.
        assert_eq!(
            Location::parse("postgres:notes"),
            Ok(Location::Path("postgres:notes".into()))
        );
    }

    #[test]
    fn a_postgres_location_shows_without_its_password() {
        for (url, shown) in [
            (
                "postgres://ada:s3cret@db.example:5432/crm?tenant=2",
                "postgres://ada:***@db.example:5432/crm?tenant=2",
            ),
            (
                "postgres://ada@db.example/crm",
                "postgres://ada@db.example/crm",
            ),
            ("postgresql://db.example/crm", "postgresql://db.example/crm"),
            ("postgres://a:b:c@h/d", "postgres://a:***@h/d"),
        ] {
            let l = Location::parse(url).expect("a location");
            assert_eq!(l.to_string(), shown, "{url}");
            assert!(!l.to_string().contains("s3cret"));
        }
    }

    #[test]
    fn a_location_shows_as_it_reads_back() {
        for text in ["memory:", "shop.db", "/tmp/客户.db"] {
            let l = Location::parse(text).expect("valid");
            assert_eq!(Location::parse(&l.to_string()), Ok(l));
        }
    }
}
