//! Parsing command-line values: dates, money, customer references, names.

use crate::books::File as _;
use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use solocrm_core::{Currency, Customer, CustomerId, Email, ExternalRef, Money, Store, time};

/// A command-line date: `YYYY-MM-DD` or RFC 3339.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// A whole day.
    Day(NaiveDate),
    /// An instant.
    Instant(DateTime<Utc>),
}

/// Refuses a day outside the core's plausible calendar ([`time::EARLIEST_DATE`] to
/// [`time::LATEST_DATE`], 1900 to 2199): historic records back to 1900 import without
/// a word; an earlier or later year is taken for a typo (`0205` for `2025`).
fn plausible(input: &str, day: NaiveDate) -> Result<NaiveDate> {
    time::check_date("date", day).map_err(|e| anyhow!("'{input}': {e} (a typo in the year?)"))?;
    Ok(day)
}

/// Parses `YYYY-MM-DD` or RFC 3339 within the accepted days. A leap second (`:60`) is
/// refused: stored instants count seconds without them.
pub fn when(input: &str) -> Result<When> {
    let s = input.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(When::Day(plausible(input, d)?));
    }
    let t = DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            anyhow!("'{input}' is not a date; use YYYY-MM-DD or RFC 3339 (2026-11-22T09:30:00Z)")
        })?;
    time::check_instant("date", t).map_err(|e| anyhow!("'{input}': {e}"))?;
    Ok(When::Instant(t))
}

fn start_of(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// How far past `now` an event may be dated: a day, for a clock or a time zone a little
/// ahead of ours, not more.
const EVENT_SLACK: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// An event time (`--at`: when something happened): a bare date is the start of that
/// day (UTC); none is `now`. An event cannot have happened more than a day after `now`.
pub fn at(input: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let Some(input) = input else {
        return Ok(now);
    };
    let t = instant(input)?;
    if t > now + EVENT_SLACK {
        bail!(
            "'{input}' is in the future; --at says when something happened (today is {})",
            now.date_naive()
        );
    }
    Ok(t)
}

/// An instant: a bare date is the start of that day (UTC).
pub fn instant(input: &str) -> Result<DateTime<Utc>> {
    if let Some(t) = common_instant(input) {
        return Ok(t);
    }
    Ok(match when(input)? {
        When::Day(d) => start_of(d),
        When::Instant(t) => t,
    })
}

/// The two shapes of date a file mostly holds, `YYYY-MM-DD` and
/// `YYYY-MM-DDTHH:MM:SSZ`, read directly; `None` for anything else, which [`when`]
/// then reads. Gives what [`when`] gives for every input it accepts (a test checks
/// this), only faster: a big import reads a date per row.
fn common_instant(input: &str) -> Option<DateTime<Utc>> {
    let b = input.trim().as_bytes();
    if !(b.len() == 10 || b.len() == 20) || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0, |n: u32, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(5, 7)?, num(8, 10)?)?;
    // A day outside the accepted ones is left to the general path, which explains.
    if !(time::EARLIEST_DATE..=time::LATEST_DATE).contains(&date) {
        return None;
    }
    if b.len() == 10 {
        return Some(start_of(date));
    }
    if b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    // Second 60 (a leap second) is left to the general parser.
    let time = NaiveTime::from_hms_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?)?;
    Some(date.and_time(time).and_utc())
}

/// An amount of a file, as stored: `Money::parse` followed by
/// [`Money::for_storage`]. Plain amounts (`digits` or `digits.digits`, at most 12
/// digits before the point and no more after it than the currency has minor digits)
/// are read directly into minor units; `None` for anything else, which the general
/// path then reads and explains. A test checks the two agree.
pub fn stored_amount(input: &str, base: Currency) -> Option<Money> {
    let s = input.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = base.minor_unit_digits();
    let frac_len = u32::try_from(frac.len()).ok()?;
    if int.is_empty()
        || int.len() > 12
        || frac_len > digits
        || (s.len() > int.len() && frac.is_empty())
    {
        return None;
    }
    let read = |part: &str| -> Option<i64> {
        part.bytes().try_fold(0, |n: i64, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let minor = read(int)? * 10_i64.pow(digits) + read(frac)? * 10_i64.pow(digits - frac_len);
    Some(Money::from_minor(minor, base))
}

/// An `--as-of` time: a bare date is the last second of that day (UTC), so the whole
/// day counts; none is `now`.
pub fn as_of(input: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    Ok(match input.map(when).transpose()? {
        None => now,
        Some(When::Day(d)) => start_of(d) + chrono::Duration::seconds(86_399),
        Some(When::Instant(t)) => t,
    })
}

/// A calendar date, `YYYY-MM-DD`, within the accepted days.
pub fn date(input: &str) -> Result<NaiveDate> {
    let d = NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow!("'{input}' is not a date; use YYYY-MM-DD"))?;
    plausible(input, d)
}

/// A non-negative amount in the store's currency.
pub fn money(input: &str, store: &solocrm_core::Crm) -> Result<Money> {
    Ok(Money::parse(input, store.base_currency())?)
}

/// What a customer key names, in the one order every command and every import uses
/// (docs/cli.md, "Customer keys"): `#N` is the customer with id N; `#N@BOOK` the
/// customer with id N of the database whose book id is BOOK; a key with `@` that is an
/// email address is an email; anything else is an external reference. Bare digits
/// are a reference, never an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerKey {
    /// `#N`.
    Id(CustomerId),
    /// `#N@BOOK`.
    BookId(CustomerId, String),
    /// An email address.
    Email(Email),
    /// An external reference.
    Reference(ExternalRef),
}

impl CustomerKey {
    /// Reads a key (trimmed); `None` if it is none of the four shapes (an empty or
    /// too long reference).
    pub fn parse(input: &str) -> Option<CustomerKey> {
        let s = input.trim();
        if let Some(rest) = s.strip_prefix('#') {
            let (digits, book) = match rest.split_once('@') {
                Some((d, b)) => (d, Some(b)),
                None => (rest, None),
            };
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && let Ok(n) = digits.parse::<u64>()
            {
                let id = CustomerId::new(n);
                match book {
                    None => return Some(CustomerKey::Id(id)),
                    Some(b) if !b.is_empty() => {
                        return Some(CustomerKey::BookId(id, b.to_owned()));
                    }
                    Some(_) => {}
                }
            }
        }
        if s.contains('@')
            && let Ok(email) = Email::parse(s)
        {
            return Some(CustomerKey::Email(email));
        }
        ExternalRef::parse(s).ok().map(CustomerKey::Reference)
    }

    /// Why no customer has this key (a key of another database is refused before
    /// it is looked up: [`CustomerKey::foreign`]).
    pub fn not_found(&self) -> String {
        match self {
            CustomerKey::Id(id) | CustomerKey::BookId(id, _) => {
                format!("no customer with id {id}")
            }
            CustomerKey::Email(e) => format!("no customer with email '{e}'"),
            CustomerKey::Reference(r) => {
                let r = r.as_str();
                if r.bytes().all(|b| b.is_ascii_digit()) {
                    format!(
                        "no customer with reference '{r}'; for the customer with id {r} write #{r}"
                    )
                } else {
                    format!("no customer with reference '{r}'")
                }
            }
        }
    }

    /// The refusal of text that is no key at all (empty, or not a valid reference).
    pub fn invalid(input: &str) -> String {
        format!(
            "'{}' is not a customer key; give #ID, an email address or a reference",
            input.trim()
        )
    }

    /// The refusal of `#N@BOOK` when BOOK is not this database's book id.
    pub fn foreign(id: CustomerId, book: &str) -> String {
        format!(
            "customer #{id} of another database (book {book}): export its customers with an \
             email or reference, or give it one"
        )
    }

    /// The key that names `c`: the reference, else the email, else `#N@BOOK` with
    /// `book` the database's book id (an export's key, valid in that database only),
    /// or `#N` without one (a key to show). A reference that would read as another
    /// shape of key (`#12`, `x@example.com`) is passed over.
    pub fn of(c: &Customer, book: Option<&str>) -> String {
        if let Some(r) = c.external_ref()
            && CustomerKey::parse(r.as_str()).as_ref() == Some(&CustomerKey::Reference(r.clone()))
        {
            return r.to_string();
        }
        match (c.email(), book) {
            (Some(e), _) => e.to_string(),
            (None, Some(book)) => format!("#{}@{book}", c.id()),
            (None, None) => format!("#{}", c.id()),
        }
    }
}

/// Finds a customer by key: `#N`, `#N@BOOK`, email, or external reference (see
/// [`CustomerKey`]).
pub fn customer(store: &crate::books::Books, input: &str) -> Result<Customer> {
    let key =
        CustomerKey::parse(input).ok_or_else(|| anyhow!("{}", CustomerKey::invalid(input)))?;
    let found = match &key {
        CustomerKey::Id(id) => customer_by_id(store, *id)?,
        CustomerKey::BookId(id, book) => {
            if *book != store.file()?.book_id()? {
                bail!("{}", CustomerKey::foreign(*id, book));
            }
            customer_by_id(store, *id)?
        }
        CustomerKey::Email(e) => store.customer_by_email(e)?,
        CustomerKey::Reference(r) => store.customer_by_external_ref(r)?,
    };
    found.ok_or_else(|| anyhow!("{}", key.not_found()))
}

/// The customer with id `id`, if there is one.
pub fn customer_by_id(store: &crate::books::Books, id: CustomerId) -> Result<Option<Customer>> {
    match store.customer(id) {
        Ok(c) => Ok(Some(c)),
        Err(solocrm_core::StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Refuses an empty list with a message.
pub fn non_empty<T>(items: Vec<T>, what: &str) -> Result<Vec<T>> {
    if items.is_empty() {
        bail!("give at least one {what}");
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_dates_mean_the_start_for_events_and_the_end_for_as_of() {
        let now = Utc::now();
        assert_eq!(
            at(Some("2026-11-22"), now).unwrap().to_rfc3339(),
            "2026-11-22T00:00:00+00:00"
        );
        assert_eq!(
            as_of(Some("2026-11-22"), now).unwrap().to_rfc3339(),
            "2026-11-22T23:59:59+00:00"
        );
        assert_eq!(
            at(Some("2026-11-22T09:30:00+01:00"), now)
                .unwrap()
                .to_rfc3339(),
            "2026-11-22T08:30:00+00:00"
        );
        assert!(at(Some("22.11.2026"), now).is_err());
    }

    #[test]
    fn customer_keys_are_read_in_one_order() {
        let id = |n| CustomerKey::Id(CustomerId::new(n));
        let reference = |r| CustomerKey::Reference(ExternalRef::parse(r).expect("a reference"));
        assert_eq!(CustomerKey::parse(" #12 "), Some(id(12)));
        assert_eq!(CustomerKey::parse("12"), Some(reference("12")));
        assert_eq!(
            CustomerKey::parse("#12@b00k"),
            Some(CustomerKey::BookId(CustomerId::new(12), "b00k".into()))
        );
        assert_eq!(
            CustomerKey::parse("Ada@Example.com"),
            Some(CustomerKey::Email(
                Email::parse("Ada@Example.com").expect("an email")
            ))
        );
        assert_eq!(CustomerKey::parse("@ref"), Some(reference("@ref")));
        assert_eq!(CustomerKey::parse("#x1"), Some(reference("#x1")));
        assert_eq!(CustomerKey::parse(""), None);
        assert!(
            reference("2")
                .not_found()
                .contains("for the customer with id 2 write #2")
        );
        assert!(!reference("C-2").not_found().contains("write #"));
    }

    /// What the general path makes of a date.
    fn general_instant(input: &str) -> Option<DateTime<Utc>> {
        when(input).ok().map(|w| match w {
            When::Day(d) => start_of(d),
            When::Instant(t) => t,
        })
    }

    /// What the general path makes of an amount.
    fn general_amount(input: &str, base: Currency) -> Option<Money> {
        Money::parse(input, base)
            .ok()
            .filter(|m| !m.is_negative())
            .and_then(|m| m.for_storage("amount", base).ok())
    }

    #[test]
    fn the_fast_paths_read_the_common_shapes() {
        let t = common_instant("2026-02-28T23:59:59Z").expect("read directly");
        assert_eq!(t.to_rfc3339(), "2026-02-28T23:59:59+00:00");
        assert!(common_instant("2026-02-29").is_none(), "no such day");
        assert!(
            common_instant("2026-12-31T23:59:60Z").is_none(),
            "left to chrono"
        );
        assert_eq!(
            stored_amount("12.5", Currency::EUR),
            Some(Money::from_minor(1_250, Currency::EUR))
        );
        assert_eq!(
            stored_amount("7", Currency::JPY),
            Some(Money::from_minor(7, Currency::JPY))
        );
        for other in ["-1", "1.", ".5", "1.234", "+1", "1e3", "", "1,5"] {
            assert_eq!(stored_amount(other, Currency::EUR), None, "{other}");
        }
    }

    #[test]
    fn dates_outside_the_accepted_days_are_refused_with_the_reason() {
        let now = Utc::now();
        for (input, why) in [
            ("0205-03-01", "before 1900-01-01"),
            ("0000-01-01", "before 1900-01-01"),
            ("2205-01-01", "after 2199-12-31"),
            ("+262142-12-31", "after 2199-12-31"),
            ("2025-06-30T23:59:60Z", "leap second"),
            ("1899-12-31T23:59:59Z", "before 1900-01-01"),
        ] {
            let err = instant(input).expect_err(input).to_string();
            assert!(err.contains(why), "{input}: {err}");
            let err = as_of(Some(input), now).expect_err(input).to_string();
            assert!(err.contains(why), "{input}: {err}");
        }
        assert!(date("2200-01-01").is_err());
        assert!(date("1900-01-01").is_ok(), "historic records import");
        assert!(instant("1900-01-01T00:00:00Z").is_ok());
        assert_eq!(
            as_of(Some("2199-12-31"), now).unwrap().to_rfc3339(),
            "2199-12-31T23:59:59+00:00"
        );
    }

    #[test]
    fn an_event_cannot_be_dated_after_tomorrow() {
        let now = instant("2026-11-29T12:00:00Z").unwrap();
        assert!(at(Some("2026-11-30"), now).is_ok(), "a day of slack");
        let err = at(Some("2026-12-01"), now).unwrap_err().to_string();
        assert!(err.contains("in the future"), "{err}");
        assert!(at(Some("1990-05-01"), now).is_ok());
    }

    proptest::proptest! {
        /// On every input the fast date path reads, it agrees with the general one.
        #[test]
        fn the_fast_date_path_agrees_with_chrono(
            input in "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?|[0-9T:Z -]{8,22}",
        ) {
            if let Some(fast) = common_instant(&input) {
                proptest::prop_assert_eq!(Some(fast), general_instant(&input));
            }
        }

        /// On every input the fast amount path reads, it agrees with the general one.
        #[test]
        fn the_fast_amount_path_agrees_with_money_parse(
            input in "[0-9]{1,14}(\\.[0-9]{0,5})?|[-+0-9. e]{1,8}",
            code in proptest::sample::select(vec!["EUR", "JPY", "KWD", "CLF"]),
        ) {
            let base = Currency::parse(code).expect("a code");
            if let Some(fast) = stored_amount(&input, base) {
                proptest::prop_assert_eq!(Some(fast), general_amount(&input, base));
            }
        }
    }
}
