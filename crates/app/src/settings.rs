//! The settings of a book: what it is kept in (currency, business time zone) and what
//! it is (location, book id, schema version), and changing its time zone.

use chrono::NaiveDate;
use serde::Serialize;
use solocrm_core::{BusinessZone, Currency, PointsExpiry, StoreResult};

use crate::books::Books;

/// A book's settings, read in one go. Its JSON is what `solocrm settings show --json`
/// prints: `location`, `book_id`, `currency`, `timezone` (an IANA name),
/// `points_validity` (`{"months": 12, "from": "2026-01-01"}`, `null` when points never
/// expire) and `schema_version` (`null` for a book not kept in an SQLite file).
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
    /// How long earned points stay valid; `None`: they never expire.
    pub points_validity: Option<PointsExpiry>,
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
            points_validity: books.crm().read(|r| r.points_expiry())?,
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

/// A change of the points validity: what [`Books::set_points_validity`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ValidityChange {
    /// The validity before (`None`: points never expired).
    pub from: Option<PointsExpiry>,
    /// The validity now.
    pub to: Option<PointsExpiry>,
}

impl ValidityChange {
    /// True if the validity stayed the same.
    pub fn is_unchanged(&self) -> bool {
        self.from == self.to
    }
}

/// The validity `settings set --points-validity` asks for: `months` months (`None`:
/// never), from `start` if given, else from the first day already set, else from
/// `today` — so changing the months keeps the day expiry was switched on, and
/// switching it on never makes points already earned lapse before `today` plus the
/// validity.
///
/// ```
/// use chrono::NaiveDate;
/// use solocrm_app::settings::validity_for;
/// use solocrm_core::PointsExpiry;
/// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
/// let on = validity_for(None, Some(12), None, d("2026-03-01"))?.unwrap();
/// assert_eq!((on.months(), on.from()), (12, d("2026-03-01")));
/// let shorter = validity_for(Some(on), Some(6), None, d("2026-09-30"))?.unwrap();
/// assert_eq!((shorter.months(), shorter.from()), (6, d("2026-03-01")));
/// assert_eq!(validity_for(Some(on), None, None, d("2026-09-30"))?, None);
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
///
/// # Errors
///
/// [`solocrm_core::ValidationError::OutOfRange`] for months outside 1 to 120 or a
/// day outside the years 1 to 9999.
pub fn validity_for(
    current: Option<PointsExpiry>,
    months: Option<u32>,
    start: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Option<PointsExpiry>, solocrm_core::ValidationError> {
    let Some(months) = months else {
        return Ok(None);
    };
    let from = start.or(current.map(|c| c.from())).unwrap_or(today);
    PointsExpiry::new(months, from).map(Some)
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
