//! The business time zone: where a day starts and ends for the business.
//!
//! solocrm stores every instant in UTC. Everything counted in days — recency, silence,
//! birthdays, due dates, cohorts, report periods and the `--from/--to/--as-of` dates a
//! user types — is counted in the *business-local* calendar of one [`BusinessZone`],
//! chosen when the books are created and changeable later. A Beijing shop's sale at
//! 07:00 on 1 January (23:00 UTC on 31 December) belongs to 1 January.
//!
//! The zone is a name from the IANA time-zone database (`Asia/Shanghai`,
//! `Europe/Berlin`, `America/New_York`, `UTC`), shipped inside the binary by
//! [`chrono_tz`]; solocrm never reads the system's zone files, so a book counts the
//! same days on every machine.
//!
//! # Gaps and overlaps
//!
//! Where the clocks jump forward (a *gap*: 02:30 on 8 March 2026 never happens in New
//! York) or back (an *overlap*: 01:30 on 1 November 2026 happens twice), a local time is
//! read the way calendars usually read it ([`BusinessZone::instant`]): a time in a gap
//! moves forward by the length of the gap (02:30 → 03:30 EDT), and a time in an overlap
//! is the earlier of the two (01:30 EDT). A day always starts at its first instant
//! ([`BusinessZone::start_of`]), which is not midnight on the rare days whose midnight
//! falls in a gap.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::{GapInfo, TZ_VARIANTS, Tz};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// A business time zone: an IANA time-zone name such as `Asia/Shanghai`.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::BusinessZone;
/// let beijing = BusinessZone::parse("Asia/Shanghai")?;
/// // 07:00 on New Year's Day in Beijing is 23:00 UTC the day before.
/// let sale = Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0).unwrap();
/// assert_eq!(beijing.date_of(sale), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
/// assert_eq!(BusinessZone::UTC.date_of(sale), NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
/// assert_eq!(beijing.name(), "Asia/Shanghai");
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BusinessZone(Tz);

impl BusinessZone {
    /// Coordinated Universal Time: the zone of books created before zones existed.
    pub const UTC: BusinessZone = BusinessZone(Tz::UTC);

    /// Reads an IANA time-zone name, ignoring ASCII case (`asia/shanghai` is
    /// `Asia/Shanghai`).
    ///
    /// ```
    /// use solocrm_core::BusinessZone;
    /// assert_eq!(BusinessZone::parse("europe/berlin")?.name(), "Europe/Berlin");
    /// let err = BusinessZone::parse("Beijing").unwrap_err().to_string();
    /// assert!(err.contains("Asia/Shanghai"), "{err}");
    /// let err = BusinessZone::parse("UTC+8").unwrap_err().to_string();
    /// assert!(err.contains("Etc/GMT-8"), "{err}");
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationError::InvalidTimeZone`] for a name the database does not hold, with
    /// the name to use where one can be guessed (a city, a Chinese city name, a fixed
    /// UTC offset or a common abbreviation).
    pub fn parse(input: &str) -> Result<BusinessZone, ValidationError> {
        let name = input.trim();
        if let Some(tz) = TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
        {
            return Ok(BusinessZone(*tz));
        }
        Err(ValidationError::InvalidTimeZone {
            input: input.to_owned(),
            reason: hint(name),
        })
    }

    /// The zone of a stored name. The same as [`BusinessZone::parse`]: the database
    /// inside the binary only ever gains names, so a name a book was given stays valid.
    ///
    /// # Errors
    ///
    /// [`ValidationError::InvalidTimeZone`].
    pub fn from_stored(name: &str) -> Result<BusinessZone, ValidationError> {
        BusinessZone::parse(name)
    }

    /// The IANA name, e.g. `Asia/Shanghai`.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The [`chrono_tz`] zone, for formatting local times.
    pub fn tz(&self) -> Tz {
        self.0
    }

    /// True for UTC (and its aliases such as `Etc/UTC`), where local days are UTC days.
    pub fn is_utc(&self) -> bool {
        matches!(
            self.0,
            Tz::UTC
                | Tz::Etc__UTC
                | Tz::Etc__UCT
                | Tz::UCT
                | Tz::Universal
                | Tz::Zulu
                | Tz::Etc__Universal
                | Tz::Etc__Zulu
        )
    }

    /// The offset from UTC in seconds at an instant (`+28800` for Beijing).
    pub fn offset_at(&self, at: DateTime<Utc>) -> i32 {
        if self.is_utc() {
            return 0;
        }
        self.0
            .offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc()
    }

    /// The business-local date of an instant.
    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        if self.is_utc() {
            return at.date_naive();
        }
        at.with_timezone(&self.0).date_naive()
    }

    /// The business-local date and time of an instant.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.0).naive_local()
    }

    /// The instant a business-local date and time denotes. A time that falls in a gap
    /// moves forward by the length of the gap; a time that happens twice is the earlier
    /// one (see the [module docs](self)).
    ///
    /// ```
    /// use chrono::{NaiveDate, TimeZone, Utc};
    /// use solocrm_core::BusinessZone;
    /// let ny = BusinessZone::parse("America/New_York")?;
    /// let day = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
    /// // 02:30 does not exist that night; it is read as 03:30 EDT (07:30 UTC).
    /// let gap = ny.instant(day.and_hms_opt(2, 30, 0).unwrap());
    /// assert_eq!(gap, Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap());
    /// // 01:30 on 1 November happens twice; the first (EDT, 05:30 UTC) is meant.
    /// let twice = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(1, 30, 0).unwrap();
    /// assert_eq!(ny.instant(twice), Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap: read the wall time with the offset in force before it, which
                // lands as far after the gap's end as the time is after its start.
                let before = GapInfo::new(&local, &self.0)
                    .and_then(|g| g.begin)
                    .map_or(0, |(_, offset)| offset.fix().local_minus_utc());
                (local - chrono::TimeDelta::seconds(i64::from(before))).and_utc()
            }
        }
    }

    /// The first instant of a business-local day: local midnight, or the end of the
    /// gap on a day whose midnight the clocks skip.
    ///
    /// ```
    /// use chrono::{NaiveDate, TimeZone, Utc};
    /// use solocrm_core::BusinessZone;
    /// let beijing = BusinessZone::parse("Asia/Shanghai")?;
    /// let day = NaiveDate::from_ymd_opt(2026, 11, 11).unwrap();
    /// assert_eq!(beijing.start_of(day), Utc.with_ymd_and_hms(2026, 11, 10, 16, 0, 0).unwrap());
    /// // Santiago de Chile skips midnight when summer time starts.
    /// let santiago = BusinessZone::parse("America/Santiago")?;
    /// let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
    /// assert_eq!(santiago.start_of(day), Utc.with_ymd_and_hms(2026, 9, 6, 4, 0, 0).unwrap());
    /// assert_eq!(santiago.date_of(santiago.start_of(day)), day);
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_time(NaiveTime::MIN);
        if self.is_utc() {
            return midnight.and_utc();
        }
        match self.0.from_local_datetime(&midnight) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
            LocalResult::None => GapInfo::new(&midnight, &self.0)
                .and_then(|g| g.end)
                .map_or_else(|| self.instant(midnight), |t| t.with_timezone(&Utc)),
        }
    }

    /// The first instant after a business-local day (the start of the next day); the
    /// end of the calendar for the last date chrono knows.
    pub fn end_of(&self, day: NaiveDate) -> DateTime<Utc> {
        match day.succ_opt() {
            Some(next) => self.start_of(next),
            None => DateTime::<Utc>::MAX_UTC,
        }
    }

    /// A fast converter from Unix seconds to business-local day numbers, for loops over
    /// many instants (see [`LocalDays`]).
    pub fn days(&self) -> LocalDays {
        LocalDays::new(*self)
    }
}

impl Default for BusinessZone {
    fn default() -> BusinessZone {
        BusinessZone::UTC
    }
}

impl fmt::Debug for BusinessZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BusinessZone({})", self.name())
    }
}

impl fmt::Display for BusinessZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BusinessZone {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<BusinessZone, ValidationError> {
        BusinessZone::parse(s)
    }
}

impl TryFrom<String> for BusinessZone {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<BusinessZone, ValidationError> {
        BusinessZone::parse(&s)
    }
}

impl From<BusinessZone> for String {
    fn from(z: BusinessZone) -> String {
        z.name().to_owned()
    }
}

/// Names people type for the zones of Chinese-speaking places and common abbreviations,
/// with the IANA name to use. Names the database itself holds (`PRC`, `GMT`, `CET`,
/// `EST`, `Hongkong`) never reach this list: they parse.
const ALIASES: &[(&str, &str)] = &[
    ("beijing", "Asia/Shanghai"),
    ("peking", "Asia/Shanghai"),
    ("china", "Asia/Shanghai"),
    ("北京", "Asia/Shanghai"),
    ("上海", "Asia/Shanghai"),
    ("中国", "Asia/Shanghai"),
    ("北京时间", "Asia/Shanghai"),
    ("广州", "Asia/Shanghai"),
    ("深圳", "Asia/Shanghai"),
    ("成都", "Asia/Shanghai"),
    ("杭州", "Asia/Shanghai"),
    ("香港", "Asia/Hong_Kong"),
    ("hongkong", "Asia/Hong_Kong"),
    ("澳门", "Asia/Macau"),
    ("台北", "Asia/Taipei"),
    ("臺北", "Asia/Taipei"),
    ("taiwan", "Asia/Taipei"),
    ("新加坡", "Asia/Singapore"),
    ("東京", "Asia/Tokyo"),
    ("东京", "Asia/Tokyo"),
    ("pst", "a city such as America/Los_Angeles"),
    ("ist", "Asia/Kolkata (India) or Europe/Dublin (Ireland)"),
    (
        "cst",
        "Asia/Shanghai (China) or America/Chicago (US Central)",
    ),
    ("local", "the IANA name of your zone, e.g. Asia/Shanghai"),
];

/// The advice for a name that is not in the database.
fn hint(name: &str) -> String {
    let folded: String = name
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let compact = folded.replace('_', "");
    if let Some((_, to)) = ALIASES
        .iter()
        .find(|(alias, _)| *alias == compact || *alias == name)
    {
        return format!("use {to}");
    }
    let spaceless: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if let Some(hours) = fixed_offset_hours(&spaceless) {
        // POSIX inverts the sign of the Etc/GMT zones.
        let etc = match hours {
            0 => "Etc/UTC".to_owned(),
            h if h > 0 => format!("Etc/GMT-{h}"),
            h => format!("Etc/GMT+{}", -h),
        };
        return format!(
            "a UTC offset is not a time zone (it ignores summer time); use a city such as \
             Asia/Shanghai, or {etc} for a fixed offset"
        );
    }
    let cities: Vec<&str> = TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|n| {
            n.rsplit('/')
                .next()
                .is_some_and(|city| city.eq_ignore_ascii_case(&folded))
        })
        .collect();
    match cities.as_slice() {
        [] => {
            "use an IANA name such as Asia/Shanghai, Europe/Berlin or America/New_York".to_owned()
        }
        [one] => format!("use {one}"),
        many => format!("use one of {}", many.join(", ")),
    }
}

/// The whole hours of an input like `+08:00`, `utc+8`, `gmt-5`, or `None`.
fn fixed_offset_hours(compact: &str) -> Option<i32> {
    let rest = compact
        .strip_prefix("utc")
        .or_else(|| compact.strip_prefix("gmt"))
        .unwrap_or(compact);
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let hours = digits.split(':').next()?;
    if hours.is_empty() || hours.len() > 2 || !hours.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = hours.parse().ok()?;
    (h <= 14).then_some(sign * h)
}

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01: day numbers since
/// the Unix epoch plus this are chrono's `num_days_from_ce`.
pub(crate) const EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// The spans of one zone with a constant offset within one chunk of the table:
/// `starts[i]` (Unix seconds; the first is the chunk's first second, `i64::MIN` for
/// the first chunk) and the offset in force from it on.
struct Chunk {
    starts: Vec<i64>,
    offsets: Vec<i64>,
    /// The first second after the chunk (`i64::MAX` for the last).
    limit: i64,
}

/// First and last second the span tables cover: 1900-01-01 to 2200-01-01 UTC, the
/// plausible calendar (see [`crate::time`]) with a day of margin either side.
const TABLE_FROM: i64 = -2_208_988_800 - 86_400;
const TABLE_TO: i64 = 7_258_118_400 + 86_400;
/// The table is sampled every twelve hours (no zone has changed its offset twice
/// within one day) and each change found to the second by bisection.
const SAMPLE_STEP: i64 = 43_200;
/// One chunk of the table: 3,650 days, a whole number of samples, so that the chunks'
/// samples are those of one table built from `TABLE_FROM` at once.
const CHUNK_SECS: i64 = 7_300 * SAMPLE_STEP;
/// The chunks between `TABLE_FROM` and `TABLE_TO` (the last one open-ended).
const CHUNKS: usize = ((TABLE_TO - TABLE_FROM) / CHUNK_SECS + 1) as usize;

/// A zone's table of offset changes from 1900 to 2200, built a chunk of ten years at a
/// time when a lookup first needs it: a book's instants fall in one or two chunks, and
/// the whole table took 10 ms (219,000 samples of the zone) of every command that
/// counts days in a zone other than UTC (issue 14).
struct Spans {
    tz: Tz,
    chunks: [OnceLock<Chunk>; CHUNKS],
}

impl Spans {
    fn new(tz: Tz) -> Spans {
        Spans {
            tz,
            chunks: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    /// The chunk covering `secs` (instants outside the table fall in its first or last).
    fn chunk_of(secs: i64) -> usize {
        let k = secs.saturating_sub(TABLE_FROM).div_euclid(CHUNK_SECS);
        k.clamp(0, CHUNKS as i64 - 1) as usize
    }

    /// Chunk `k`, built on first use.
    fn chunk(&self, k: usize) -> &Chunk {
        self.chunks[k].get_or_init(|| self.build(k))
    }

    /// The offset changes within chunk `k`: the same changes, to the second, as one
    /// pass over the whole table from `TABLE_FROM` finds there.
    fn build(&self, k: usize) -> Chunk {
        let offset = |secs: i64| offset_at(self.tz, secs);
        let from = TABLE_FROM + k as i64 * CHUNK_SECS;
        let to = (from + CHUNK_SECS).min(TABLE_TO);
        let mut current = offset(from);
        let mut starts = vec![if k == 0 { i64::MIN } else { from }];
        let mut offsets = vec![current];
        let mut t = from;
        while t < to {
            let next = t + SAMPLE_STEP;
            let o = offset(next);
            if o != current {
                let (mut lo, mut hi) = (t, next);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if offset(mid) == current {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                starts.push(hi);
                offsets.push(o);
                current = o;
            }
            t = next;
        }
        let limit = if k + 1 == CHUNKS {
            i64::MAX
        } else {
            from + CHUNK_SECS
        };
        Chunk {
            starts,
            offsets,
            limit,
        }
    }
}

/// The offset of `tz` from UTC in seconds at `secs` (0 outside chrono's calendar).
fn offset_at(tz: Tz, secs: i64) -> i64 {
    DateTime::from_timestamp(secs, 0).map_or(0, |t| {
        i64::from(
            tz.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc(),
        )
    })
}

/// The span tables of the zones used so far in this process.
fn spans_of(tz: Tz) -> Arc<Spans> {
    static TABLES: OnceLock<Mutex<HashMap<Tz, Arc<Spans>>>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = tables.lock().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(map.entry(tz).or_insert_with(|| Arc::new(Spans::new(tz))))
}

/// Unix seconds to business-local day numbers (days since 1970-01-01 in the business
/// calendar), for the metric kernels that look at millions of instants.
///
/// A table of the zone's offset changes from 1900 to 2200 is built once per zone and
/// process, ten years at a time as lookups reach them (about 0.3 ms each); a lookup
/// checks the span of the previous one first, so a scan in time order costs two
/// comparisons per instant, and UTC costs none.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::BusinessZone;
/// let days = BusinessZone::parse("Asia/Shanghai")?.days();
/// let at = Utc.with_ymd_and_hms(2026, 11, 10, 23, 30, 0).unwrap().timestamp();
/// let day = NaiveDate::from_ymd_opt(2026, 11, 11).unwrap();
/// assert_eq!(days.day(at), (day - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days());
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Clone)]
pub struct LocalDays {
    zone: BusinessZone,
    spans: Option<Arc<Spans>>,
    /// The chunk and the span within it of the last lookup.
    last: Cell<(usize, usize)>,
}

impl fmt::Debug for LocalDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalDays({})", self.zone.name())
    }
}

impl LocalDays {
    /// The converter of `zone`.
    pub fn new(zone: BusinessZone) -> LocalDays {
        LocalDays {
            zone,
            spans: (!zone.is_utc()).then(|| spans_of(zone.tz())),
            last: Cell::new((usize::MAX, 0)),
        }
    }

    /// The zone.
    pub fn zone(&self) -> BusinessZone {
        self.zone
    }

    /// The offset from UTC in seconds at `secs`.
    #[inline]
    pub fn offset(&self, secs: i64) -> i64 {
        let Some(spans) = &self.spans else {
            return 0;
        };
        let (k, i) = self.last.get();
        if let Some(chunk) = spans.chunks.get(k).and_then(OnceLock::get) {
            let end = chunk.starts.get(i + 1).copied().unwrap_or(chunk.limit);
            if chunk.starts[i] <= secs && secs < end {
                return chunk.offsets[i];
            }
        }
        let k = Spans::chunk_of(secs);
        let chunk = spans.chunk(k);
        let i = chunk
            .starts
            .partition_point(|&s| s <= secs)
            .saturating_sub(1);
        self.last.set((k, i));
        chunk.offsets[i]
    }

    /// The business-local day number of `secs`.
    #[inline]
    pub fn day(&self, secs: i64) -> i64 {
        secs.saturating_add(self.offset(secs)).div_euclid(86_400)
    }

    /// The business-local date of `secs`; `None` outside chrono's calendar.
    #[inline]
    pub fn date(&self, secs: i64) -> Option<NaiveDate> {
        let ce = i32::try_from(self.day(secs).checked_add(EPOCH_DAYS_FROM_CE)?).ok()?;
        NaiveDate::from_num_days_from_ce_opt(ce)
    }

    /// The first second of business-local day number `day`.
    pub fn start_of_day(&self, day: i64) -> i64 {
        if self.spans.is_none() {
            return day.saturating_mul(86_400);
        }
        let date = i32::try_from(day + EPOCH_DAYS_FROM_CE)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt);
        match date {
            Some(d) => self.zone.start_of(d).timestamp(),
            None if day < 0 => i64::MIN,
            None => i64::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn names_parse_case_insensitively_and_round_trip() {
        for tz in TZ_VARIANTS {
            let z = BusinessZone::parse(tz.name()).unwrap();
            assert_eq!(z.name(), tz.name());
            assert_eq!(
                BusinessZone::parse(&tz.name().to_lowercase()).unwrap().tz(),
                tz
            );
        }
        let json = serde_json::to_string(&BusinessZone::parse("Asia/Shanghai").unwrap()).unwrap();
        assert_eq!(json, "\"Asia/Shanghai\"");
        let back: BusinessZone = serde_json::from_str(&json).unwrap();
        assert_eq!(back.name(), "Asia/Shanghai");
        assert!(serde_json::from_str::<BusinessZone>("\"Mars/Olympus\"").is_err());
    }

    #[test]
    fn unknown_names_get_a_hint() {
        let msg = |s: &str| BusinessZone::parse(s).unwrap_err().to_string();
        assert!(msg("北京").contains("Asia/Shanghai"));
        assert!(msg("new york").contains("America/New_York"));
        assert!(msg("+08:00").contains("Etc/GMT-8"));
        assert!(msg("GMT-5").contains("Etc/GMT+5"));
        assert!(msg("CST").contains("America/Chicago"));
        assert!(msg("Mars/Olympus").contains("IANA name"));
        assert!(msg("").contains("IANA name"));
    }

    #[test]
    fn the_fast_days_agree_with_chrono_tz() {
        for name in [
            "UTC",
            "Asia/Shanghai",
            "America/New_York",
            "Europe/Berlin",
            "America/Santiago",
            "Australia/Lord_Howe",
            "Asia/Kathmandu",
            "Pacific/Apia",
        ] {
            let zone = BusinessZone::parse(name).unwrap();
            let days = zone.days();
            let epoch = ymd(1970, 1, 1);
            // Every 97 minutes over 1960–2060, forwards then backwards.
            let from = Utc
                .with_ymd_and_hms(1960, 1, 1, 0, 0, 0)
                .unwrap()
                .timestamp();
            let to = Utc
                .with_ymd_and_hms(2060, 1, 1, 0, 0, 0)
                .unwrap()
                .timestamp();
            let check = |t: i64| {
                let at = DateTime::from_timestamp(t, 0).unwrap();
                assert_eq!(
                    days.day(t),
                    (zone.date_of(at) - epoch).num_days(),
                    "{name} {at}"
                );
            };
            let mut t = from;
            while t < to {
                check(t);
                t += 97 * 60;
            }
            while t > from {
                check(t);
                t -= 7 * 97 * 60 + 13;
            }
        }
    }

    /// The table as one pass from `TABLE_FROM` builds it (the algorithm before the
    /// chunks): `(starts, offsets)`, the first start `i64::MIN`.
    fn whole_table(tz: Tz) -> (Vec<i64>, Vec<i64>) {
        let offset = |secs: i64| offset_at(tz, secs);
        let mut starts = vec![i64::MIN];
        let mut offsets = vec![offset(TABLE_FROM)];
        let mut t = TABLE_FROM;
        while t < TABLE_TO {
            let next = t + SAMPLE_STEP;
            let o = offset(next);
            if o != *offsets.last().unwrap() {
                let (mut lo, mut hi) = (t, next);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if offset(mid) == *offsets.last().unwrap() {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                starts.push(hi);
                offsets.push(o);
            }
            t = next;
        }
        (starts, offsets)
    }

    #[test]
    fn the_table_built_in_chunks_gives_the_offsets_of_the_whole_table() {
        for name in [
            "Asia/Shanghai",
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "Africa/Casablanca",
            "Pacific/Apia",
            "America/Sao_Paulo",
            "Asia/Kolkata",
        ] {
            let zone = BusinessZone::parse(name).unwrap();
            let (starts, offsets) = whole_table(zone.tz());
            let want = |secs: i64| offsets[starts.partition_point(|&s| s <= secs) - 1];
            // Every change and its neighbours, every chunk boundary and its neighbours,
            // the ends of the table and beyond, in time order and then backwards.
            let mut probes: Vec<i64> = vec![i64::MIN, TABLE_FROM - 1, TABLE_TO + 1, i64::MAX];
            for &c in &starts[1..] {
                probes.extend([c - 1, c, c + 1]);
            }
            for k in 0..=CHUNKS as i64 {
                let b = TABLE_FROM + k * CHUNK_SECS;
                probes.extend([b - 1, b, b + 1]);
            }
            probes.sort_unstable();
            let days = zone.days();
            for &t in probes.iter().chain(probes.iter().rev()) {
                assert_eq!(days.offset(t), want(t), "{name} {t}");
            }
            // Jumps between distant chunks, each lookup on a fresh converter too.
            let mut t = TABLE_FROM - 86_400;
            let mut step = 7_919_i64;
            while t < TABLE_TO + 86_400 {
                assert_eq!(days.offset(t), want(t), "{name} {t}");
                assert_eq!(zone.days().offset(t), want(t), "{name} {t}");
                step = (step * 48_271) % 2_147_483_647;
                t += 86_400 * 30 + step;
            }
        }
    }

    #[test]
    fn a_day_starts_at_its_first_instant_and_ends_where_the_next_starts() {
        for name in [
            "America/New_York",
            "America/Santiago",
            "Asia/Shanghai",
            "UTC",
        ] {
            let zone = BusinessZone::parse(name).unwrap();
            let days = zone.days();
            let mut d = ymd(2024, 1, 1);
            while d < ymd(2027, 1, 1) {
                let start = zone.start_of(d);
                assert_eq!(zone.date_of(start), d, "{name} {d}");
                assert_eq!(
                    zone.date_of(start - Duration::seconds(1)),
                    d.pred_opt().unwrap()
                );
                assert_eq!(zone.end_of(d), zone.start_of(d.succ_opt().unwrap()));
                let n = (d - ymd(1970, 1, 1)).num_days();
                assert_eq!(days.start_of_day(n), start.timestamp());
                d = d.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn local_times_in_gaps_move_forward_and_in_overlaps_take_the_earlier() {
        let ny = BusinessZone::parse("America/New_York").unwrap();
        let at = |d: NaiveDate, h, m| ny.instant(d.and_hms_opt(h, m, 0).unwrap());
        // The gap of 2026-03-08: 02:00–03:00 EST does not exist.
        assert_eq!(
            at(ymd(2026, 3, 8), 2, 0),
            Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap()
        );
        assert_eq!(
            at(ymd(2026, 3, 8), 3, 0),
            Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap()
        );
        assert_eq!(
            at(ymd(2026, 3, 8), 1, 59),
            Utc.with_ymd_and_hms(2026, 3, 8, 6, 59, 0).unwrap()
        );
        // The overlap of 2026-11-01.
        assert_eq!(
            at(ymd(2026, 11, 1), 1, 0),
            Utc.with_ymd_and_hms(2026, 11, 1, 5, 0, 0).unwrap()
        );
        assert_eq!(
            ny.start_of(ymd(2026, 3, 8)),
            Utc.with_ymd_and_hms(2026, 3, 8, 5, 0, 0).unwrap()
        );
        assert_eq!(
            ny.start_of(ymd(2026, 3, 9)),
            Utc.with_ymd_and_hms(2026, 3, 9, 4, 0, 0).unwrap()
        );
        assert_eq!(
            ny.offset_at(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap()),
            -4 * 3600
        );
    }

    #[test]
    fn beijing_days() {
        let bj = BusinessZone::parse("Asia/Shanghai").unwrap();
        // New Year 07:00 Beijing and Singles' Day 07:30 Beijing.
        let new_year = bj.instant(ymd(2026, 1, 1).and_hms_opt(7, 0, 0).unwrap());
        assert_eq!(
            new_year,
            Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0).unwrap()
        );
        assert_eq!(bj.date_of(new_year), ymd(2026, 1, 1));
        let singles = bj.instant(ymd(2026, 11, 11).and_hms_opt(7, 30, 0).unwrap());
        assert_eq!(bj.date_of(singles), ymd(2026, 11, 11));
        assert_eq!(BusinessZone::UTC.date_of(singles), ymd(2026, 11, 10));
    }
}
