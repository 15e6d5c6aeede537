//! Parsing command-line values: dates, money, customer references, names.

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use solocrm_core::{Customer, CustomerId, Email, ExternalRef, Money, Store};

/// A command-line date: `YYYY-MM-DD` or RFC 3339.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// A whole day.
    Day(NaiveDate),
    /// An instant.
    Instant(DateTime<Utc>),
}

/// Parses `YYYY-MM-DD` or RFC 3339.
pub fn when(input: &str) -> Result<When> {
    let s = input.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(When::Day(d));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| When::Instant(t.with_timezone(&Utc)))
        .map_err(|_| {
            anyhow!("'{input}' is not a date; use YYYY-MM-DD or RFC 3339 (2026-11-22T09:30:00Z)")
        })
}

fn start_of(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// An event time: a bare date is the start of that day (UTC); none is `now`.
pub fn at(input: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    input.map_or(Ok(now), instant)
}

/// An instant: a bare date is the start of that day (UTC).
pub fn instant(input: &str) -> Result<DateTime<Utc>> {
    Ok(match when(input)? {
        When::Day(d) => start_of(d),
        When::Instant(t) => t,
    })
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

/// A calendar date, `YYYY-MM-DD`.
pub fn date(input: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow!("'{input}' is not a date; use YYYY-MM-DD"))
}

/// A non-negative amount in the store's currency.
pub fn money(input: &str, store: &dyn Store) -> Result<Money> {
    Ok(Money::parse(input, store.base_currency())?)
}

/// Finds a customer by numeric id, email, or external reference.
pub fn customer(store: &dyn Store, input: &str) -> Result<Customer> {
    let s = input.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Ok(store.customer(CustomerId::new(n))?);
    }
    if s.contains('@')
        && let Ok(email) = Email::parse(s)
    {
        return store
            .customer_by_email(&email)?
            .ok_or_else(|| anyhow!("no customer with email '{s}'"));
    }
    let reference = ExternalRef::parse(s)
        .map_err(|_| anyhow!("'{input}' is not a customer id, email or reference"))?;
    store
        .customer_by_external_ref(&reference)?
        .ok_or_else(|| anyhow!("no customer with id, email or reference '{s}'"))
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
}
