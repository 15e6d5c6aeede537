//! iCalendar (RFC 5545): the care calendar as all-day events a calendar program can
//! subscribe to or import (`solocrm export calendar --format ics`).
//!
//! - **Birthdays** of customers who are not erased, yearly from the birthday
//!   (`RRULE:FREQ=YEARLY`). A February 29 birthday is celebrated as the care command
//!   celebrates it ([`solocrm_core::care::anniversary_in`]): on February 29 in leap
//!   years and March 1 in common years, which is the 60th day of every year
//!   (`RRULE:FREQ=YEARLY;BYYEARDAY=60`).
//! - **Holidays** given as fixed days (the care command's `--holiday NAME=MM-DD`),
//!   yearly from this year, February 29 as above.
//! - **Holidays kept with the books** (`solocrm holiday`: the chosen presets and the
//!   founder's own, lunar ones included), one all-day event per occurrence from today
//!   to a year ahead, since a lunar holiday has no yearly Gregorian rule. Their UID is
//!   the holiday's key and year (`holiday-spring_festival-2026@…`).
//! - **Open tasks** (follow-ups and the rest) on the day they are due; a recurring
//!   task on its current occurrence.
//!
//! Every event's `UID` is derived from the book id and the record (`birthday-7@…`,
//! `task-12@…`, `holiday-1225-…@…`), so importing a newer export into the same
//! calendar updates the events instead of adding them twice. Lines are folded at 75
//! octets without splitting a character and end with CRLF; text is escaped.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use solocrm_core::care::Holiday;
use solocrm_core::{Customer, CustomerId, Task};

use super::content_line::Lines;

/// What a calendar export holds.
#[derive(Debug, Clone)]
pub struct Calendar<'a> {
    /// The book id, part of every UID.
    pub book: &'a str,
    /// The customers (erased ones are left out).
    pub customers: &'a [Customer],
    /// The tasks (done ones are left out, as are those of erased customers).
    pub tasks: &'a [Task],
    /// The fixed-day holidays.
    pub holidays: &'a [Holiday],
    /// Dated holidays (from the calendar kept with the books), one event each.
    pub dated_holidays: &'a [solocrm_core::holiday::HolidayOccurrence],
    /// When the export is made (`DTSTAMP`).
    pub now: DateTime<Utc>,
    /// Today in the business time zone: holidays repeat from this year.
    pub today: NaiveDate,
}

/// The domain every UID ends in.
fn uid(kind: &str, book: &str) -> String {
    format!("UID:{kind}@{book}.solocrm")
}

/// A stable hash of a holiday's name for its UID (FNV-1a, 64 bits).
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `DTSTART` and `RRULE` of a yearly day beginning in `year` (or, for February 29,
/// in the last leap year up to it).
fn yearly(doc: &mut Lines, month: u32, day: u32, year: i32) {
    if month == 2 && day == 29 {
        let leap = (0..8)
            .map(|back| year - back)
            .find(|y| NaiveDate::from_ymd_opt(*y, 2, 29).is_some())
            .unwrap_or(year);
        doc.line(&format!("DTSTART;VALUE=DATE:{leap:04}0229"));
        doc.line("RRULE:FREQ=YEARLY;BYYEARDAY=60");
    } else {
        doc.line(&format!("DTSTART;VALUE=DATE:{year:04}{month:02}{day:02}"));
        doc.line("RRULE:FREQ=YEARLY");
    }
}

/// Writes the calendar.
pub fn write_calendar(cal: &Calendar<'_>) -> String {
    let mut doc = Lines::new();
    let stamp = format!("DTSTAMP:{}", cal.now.format("%Y%m%dT%H%M%SZ"));
    doc.line("BEGIN:VCALENDAR");
    doc.line("VERSION:2.0");
    doc.line(&format!(
        "PRODID:-//solocrm//solocrm {}//EN",
        env!("CARGO_PKG_VERSION")
    ));
    doc.line("CALSCALE:GREGORIAN");
    doc.line("METHOD:PUBLISH");
    doc.text("X-WR-CALNAME", "solocrm");
    let names: std::collections::HashMap<CustomerId, &Customer> =
        cal.customers.iter().map(|c| (c.id(), c)).collect();
    for c in cal.customers.iter().filter(|c| !c.is_erased()) {
        let Some(b) = c.birthday() else { continue };
        doc.line("BEGIN:VEVENT");
        doc.line(&uid(&format!("birthday-{}", c.id()), cal.book));
        doc.line(&stamp);
        yearly(&mut doc, b.month(), b.day(), b.year());
        doc.text("SUMMARY", &format!("Birthday: {}", c.name()));
        doc.text("CATEGORIES", "birthday");
        doc.line("TRANSP:TRANSPARENT");
        doc.line("END:VEVENT");
    }
    for h in cal.holidays {
        doc.line("BEGIN:VEVENT");
        doc.line(&uid(
            &format!(
                "holiday-{:02}{:02}-{:016x}",
                h.month(),
                h.day(),
                name_hash(h.name.as_str())
            ),
            cal.book,
        ));
        doc.line(&stamp);
        yearly(&mut doc, h.month(), h.day(), cal.today.year());
        doc.text("SUMMARY", h.name.as_str());
        doc.text("CATEGORIES", "holiday");
        doc.line("TRANSP:TRANSPARENT");
        doc.line("END:VEVENT");
    }
    for o in cal.dated_holidays {
        doc.line("BEGIN:VEVENT");
        doc.line(&uid(
            &format!("holiday-{}-{}", o.key.as_str(), o.date.year()),
            cal.book,
        ));
        doc.line(&stamp);
        doc.line(&format!("DTSTART;VALUE=DATE:{}", o.date.format("%Y%m%d")));
        doc.text("SUMMARY", o.name.as_str());
        doc.text("CATEGORIES", "holiday");
        doc.line("TRANSP:TRANSPARENT");
        doc.line("END:VEVENT");
    }
    for t in cal.tasks.iter().filter(|t| !t.is_done()) {
        let customer = t.customer().map(|id| names.get(&id).copied());
        // A task about a customer who is erased (or unknown) is not shown.
        let customer = match customer {
            Some(Some(c)) if c.is_erased() => continue,
            Some(None) => continue,
            Some(Some(c)) => Some(c),
            None => None,
        };
        doc.line("BEGIN:VEVENT");
        doc.line(&uid(&format!("task-{}", t.id()), cal.book));
        doc.line(&stamp);
        doc.line(&format!("DTSTART;VALUE=DATE:{}", t.due().format("%Y%m%d")));
        let summary = match customer {
            Some(c) => format!("{} — {}", t.title(), c.name()),
            None => t.title().to_string(),
        };
        doc.text("SUMMARY", &summary);
        doc.text(
            "DESCRIPTION",
            &format!("solocrm task #{} ({})", t.id(), t.kind()),
        );
        doc.text("CATEGORIES", t.kind().as_str());
        doc.line("END:VEVENT");
    }
    doc.line("END:VCALENDAR");
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leap_day_repeats_on_the_sixtieth_day_as_care_celebrates_it() {
        let mut doc = Lines::new();
        yearly(&mut doc, 2, 29, 2026);
        assert_eq!(
            doc.finish(),
            "DTSTART;VALUE=DATE:20240229\r\nRRULE:FREQ=YEARLY;BYYEARDAY=60\r\n"
        );
        // Day 60 is what care's rule gives: February 29 in leap years, March 1 else.
        for year in [2025, 2028, 2100] {
            let day60 = NaiveDate::from_yo_opt(year, 60).expect("a day");
            assert_eq!(
                solocrm_core::care::anniversary_in(2, 29, year),
                Some(day60),
                "{year}"
            );
        }
    }

    #[test]
    fn stored_holidays_are_dated_events_with_uids_by_key_and_year() {
        use solocrm_core::holiday::{HolidayCalendar, Preset};
        let cn = HolidayCalendar {
            presets: vec![Preset::Cn],
            own: vec![],
        };
        let from = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a day");
        let to = NaiveDate::from_ymd_opt(2026, 12, 31).expect("a day");
        let dated = cn.occurrences_between(from, to);
        let now = DateTime::from_timestamp(1_767_225_600, 0).expect("an instant");
        let ics = write_calendar(&Calendar {
            book: "b1",
            customers: &[],
            tasks: &[],
            holidays: &[],
            dated_holidays: &dated,
            now,
            today: from,
        });
        assert!(ics.contains("UID:holiday-spring_festival-2026@b1.solocrm\r\n"));
        assert!(ics.contains("DTSTART;VALUE=DATE:20260217\r\nSUMMARY:春节\r\n"));
        assert!(ics.contains("UID:holiday-mid_autumn-2026@b1.solocrm\r\n"));
        assert!(ics.contains("DTSTART;VALUE=DATE:20260925\r\n"));
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), dated.len());
        // The same export twice is the same text: the UIDs are stable.
        let again = write_calendar(&Calendar {
            book: "b1",
            customers: &[],
            tasks: &[],
            holidays: &[],
            dated_holidays: &dated,
            now,
            today: from,
        });
        assert_eq!(ics, again);
    }
}
