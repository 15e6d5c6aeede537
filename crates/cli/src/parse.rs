//! Parsing command-line values: dates, money, customer references, names.

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, NaiveDate, Utc};
pub use solocrm_app::CustomerKey;
use solocrm_app::values;
use solocrm_core::{BusinessZone, Customer, Money, Store};

/// An event time (`--at`: when something happened) in the books' `zone`: a bare date
/// is the start of that local day, `YYYY-MM-DD HH:MM` a local time, RFC 3339 as given;
/// none is `now`. An event cannot have happened more than a day after `now`.
pub fn at(input: Option<&str>, now: DateTime<Utc>, zone: BusinessZone) -> Result<DateTime<Utc>> {
    let Some(input) = input else {
        return Ok(now);
    };
    match values::event_at(Some(input), now, zone) {
        Ok(t) => Ok(t),
        Err(values::EventTimeError::Future { today, .. }) => bail!(
            "'{input}' is in the future; --at says when something happened (today is {today} in {zone})"
        ),
        Err(values::EventTimeError::Value(e)) => Err(e.into()),
    }
}

/// An `--as-of` time in the books' `zone`: a bare date is the last second of that
/// local day, so the whole day counts; none is `now`.
pub fn as_of(input: Option<&str>, now: DateTime<Utc>, zone: BusinessZone) -> Result<DateTime<Utc>> {
    Ok(values::as_of_in(input, now, zone)?)
}

/// The business-local day of an `--as-of`: the day written (or of the time written);
/// none is today in `zone`.
pub fn as_of_day(input: Option<&str>, now: DateTime<Utc>, zone: BusinessZone) -> Result<NaiveDate> {
    Ok(values::as_of_day_in(input, now, zone)?)
}

/// A calendar date, `YYYY-MM-DD`, within the accepted days.
pub fn date(input: &str) -> Result<NaiveDate> {
    Ok(values::date(input)?)
}

/// A non-negative amount in the store's currency.
pub fn money(input: &str, store: &solocrm_core::Crm) -> Result<Money> {
    Ok(Money::parse(input, store.base_currency())?)
}

/// The id of the customer an optional option names (see [`customer`]); `None` when
/// the option was not given.
pub fn customer_id(
    store: &crate::books::Books,
    input: Option<&str>,
) -> Result<Option<solocrm_core::CustomerId>> {
    Ok(input
        .map(|c| customer(store, c))
        .transpose()?
        .map(|c| c.id()))
}

/// Finds a customer by key: `#N`, `#N@BOOK`, email, or external reference (see
/// [`CustomerKey`]).
pub fn customer(store: &crate::books::Books, input: &str) -> Result<Customer> {
    let key =
        CustomerKey::parse(input).ok_or_else(|| anyhow!("{}", CustomerKey::invalid(input)))?;
    let found = match &key {
        CustomerKey::Id(id) => store.customer_by_id(*id)?,
        CustomerKey::BookId(id, book) => {
            if *book != store.book_id()? {
                bail!("{}", CustomerKey::foreign(*id, book));
            }
            store.customer_by_id(*id)?
        }
        CustomerKey::Email(e) => store.customer_by_email(e)?,
        CustomerKey::Reference(r) => store.customer_by_external_ref(r)?,
    };
    found.ok_or_else(|| anyhow!("{}", key.not_found()))
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

    const UTC: BusinessZone = BusinessZone::UTC;

    fn instant(input: &str) -> Result<DateTime<Utc>> {
        Ok(values::instant(input)?)
    }

    #[test]
    fn bare_dates_mean_the_start_for_events_and_the_end_for_as_of() {
        let now = Utc::now();
        assert_eq!(
            at(Some("2026-11-22"), now, UTC).unwrap().to_rfc3339(),
            "2026-11-22T00:00:00+00:00"
        );
        assert_eq!(
            as_of(Some("2026-11-22"), now, UTC).unwrap().to_rfc3339(),
            "2026-11-22T23:59:59+00:00"
        );
        assert_eq!(
            at(Some("2026-11-22T09:30:00+01:00"), now, UTC)
                .unwrap()
                .to_rfc3339(),
            "2026-11-22T08:30:00+00:00"
        );
        assert!(at(Some("22.11.2026"), now, UTC).is_err());
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
            let err = as_of(Some(input), now, UTC).expect_err(input).to_string();
            assert!(err.contains(why), "{input}: {err}");
        }
        assert!(date("2200-01-01").is_err());
        assert!(date("1900-01-01").is_ok(), "historic records import");
        assert!(instant("1900-01-01T00:00:00Z").is_ok());
        assert_eq!(
            as_of(Some("2199-12-31"), now, UTC).unwrap().to_rfc3339(),
            "2199-12-31T23:59:59+00:00"
        );
    }

    #[test]
    fn an_event_cannot_be_dated_after_tomorrow() {
        let now = instant("2026-11-29T12:00:00Z").unwrap();
        assert!(at(Some("2026-11-30"), now, UTC).is_ok(), "a day of slack");
        let err = at(Some("2026-12-01"), now, UTC).unwrap_err().to_string();
        assert!(err.contains("in the future"), "{err}");
        assert!(at(Some("1990-05-01"), now, UTC).is_ok());
    }
}
