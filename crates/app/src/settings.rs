//! The settings of a book: what it is kept in (currency, business time zone) and what
//! it is (location, book id, schema version), and changing its time zone.

use serde::Serialize;
use solocrm_core::{BusinessZone, Currency, StoreResult};

use crate::books::Books;

/// A book's settings, read in one go. Its JSON is what `solocrm settings show --json`
/// prints: `location`, `book_id`, `currency`, `timezone` (an IANA name) and
/// `schema_version` (`null` for a book not kept in an SQLite file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Where the book is (`memory:` or the file's path).
    pub location: String,
    /// The book id ([`Books::book_id`]).
    pub book_id: String,
    /// The currency the books are kept in.
    pub currency: Currency,
    /// The business time zone every day is counted in.
    pub timezone: BusinessZone,
    /// The schema version of the SQLite file.
    pub schema_version: Option<u32>,
}

impl Settings {
    /// Reads the settings of `books`.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn load(books: &Books) -> StoreResult<Settings> {
        Ok(Settings {
            location: books.location().to_string(),
            book_id: books.book_id()?,
            currency: books.currency(),
            timezone: books.time_zone()?,
            schema_version: books.sqlite().map(|s| s.schema_version()).transpose()?,
        })
    }
}

/// A change of the business time zone: what [`Books::set_time_zone`] did.
///
/// Stored instants stay as they are; only the days they fall on are counted anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ZoneChange {
    /// The zone before.
    pub from: BusinessZone,
    /// The zone now.
    pub to: BusinessZone,
}

impl ZoneChange {
    /// True if the zone stayed the same.
    pub fn is_unchanged(&self) -> bool {
        self.from == self.to
    }

    /// The one-line note a frontend shows with the change.
    pub fn note(&self) -> &'static str {
        "past records keep their exact instants; their days (recency, birthdays, due \
         dates, cohorts, report periods) are now counted in the new zone"
    }
}

/// The business time zone a new book gets when none is chosen: the zone named by the
/// `TZ` environment variable if it is an IANA name, else the system's zone (as
/// `iana-time-zone` reads it), else UTC.
pub fn default_zone() -> BusinessZone {
    zone_from_env(std::env::var("TZ").ok().as_deref()).unwrap_or(BusinessZone::UTC)
}

/// The zone of a `TZ` value (a leading `:` ignored), else of the system.
fn zone_from_env(tz: Option<&str>) -> Option<BusinessZone> {
    tz.map(|v| v.trim_start_matches(':'))
        .filter(|v| !v.is_empty())
        .and_then(|v| BusinessZone::parse(v).ok())
        .or_else(system_zone)
}

/// The system's zone, if it has an IANA name solocrm knows.
fn system_zone() -> Option<BusinessZone> {
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| BusinessZone::parse(&name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tz_names_a_zone_and_anything_else_falls_back() {
        let bj = zone_from_env(Some("Asia/Shanghai"));
        assert_eq!(bj.map(|z| z.name()), Some("Asia/Shanghai"));
        let colon = zone_from_env(Some(":Europe/Berlin"));
        assert_eq!(colon.map(|z| z.name()), Some("Europe/Berlin"));
        // A POSIX rule is not a name: the system's zone (or, in the end, UTC) instead.
        assert_eq!(zone_from_env(Some("CST-8")), system_zone());
    }
}
