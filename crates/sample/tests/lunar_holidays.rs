//! The zh-CN shop's 春节 and 中秋节 come from the core's lunar calendar; for 2020–2035
//! they are the dates of the hand table this crate kept before (so the demo stays the
//! same), and outside those years they are there too.

use chrono::NaiveDate;
use solocrm_sample::Locale;

/// A day of the year: (month, day).
type MonthDay = (u32, u32);

/// (year, 春节, 中秋节) as the crate's former hand table had them.
const FORMER_TABLE: &[(i32, MonthDay, MonthDay)] = &[
    (2020, (1, 25), (10, 1)),
    (2021, (2, 12), (9, 21)),
    (2022, (2, 1), (9, 10)),
    (2023, (1, 22), (9, 29)),
    (2024, (2, 10), (9, 17)),
    (2025, (1, 29), (10, 6)),
    (2026, (2, 17), (9, 25)),
    (2027, (2, 6), (9, 15)),
    (2028, (1, 26), (10, 3)),
    (2029, (2, 13), (9, 22)),
    (2030, (2, 3), (9, 12)),
    (2031, (1, 23), (10, 1)),
    (2032, (2, 11), (9, 19)),
    (2033, (1, 31), (9, 8)),
    (2034, (2, 19), (9, 27)),
    (2035, (2, 8), (9, 16)),
];

#[test]
fn the_calendar_gives_the_former_table_and_more_years() {
    for &(year, spring, mid) in FORMER_TABLE {
        let d = |(m, day)| NaiveDate::from_ymd_opt(year, m, day).expect("a date");
        assert_eq!(
            Locale::ZhCn.holidays(year),
            vec![("春节", d(spring)), ("中秋节", d(mid))],
            "{year}"
        );
    }
    assert_eq!(Locale::ZhCn.holidays(2040).len(), 2);
    assert!(Locale::ZhCn.holidays(2101).is_empty());
}
