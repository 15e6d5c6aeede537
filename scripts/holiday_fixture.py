#!/usr/bin/env python3
"""Writes crates/core/tests/fixtures/lunar_holidays.csv, the independent check of the
lunar holiday dates that solocrm computes (see docs/adr/0021-holiday-calendar.md).

The dates come from the PyPI package `borax` (version 4.1.3, MIT licence), whose Chinese
lunar calendar is a table of 1900-2100 independent of the Rust crate solocrm uses
(`tyme4rs`, which computes new moons and solar terms astronomically). Run once, by hand:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install borax==4.1.3
    /tmp/venv/bin/python scripts/holiday_fixture.py > crates/core/tests/fixtures/lunar_holidays.csv

Columns: key, year, date. For a lunar holiday `year` is the lunar year (the holiday's
lunar month/day in that lunar year); for `qingming` (a solar term) it is the Gregorian
year. `new_years_eve_lunar` of lunar year Y is the day before the first day of lunar
year Y + 1 (the last day of the twelfth month, the 29th or 30th).
"""
import datetime

from borax.calendars.lunardate import LunarDate, TermUtils

LUNAR = [
    ("spring_festival", 1, 1),
    ("lantern_festival", 1, 15),
    ("dragon_boat", 5, 5),
    ("qixi", 7, 7),
    ("mid_autumn", 8, 15),
    ("double_ninth", 9, 9),
]

print("key,year,date")
for year in range(1900, 2101):
    for key, month, day in LUNAR:
        print(f"{key},{year},{LunarDate(year, month, day, 0).to_solar_date().isoformat()}")
    if year < 2100:
        eve = LunarDate(year + 1, 1, 1, 0).to_solar_date() - datetime.timedelta(days=1)
        print(f"new_years_eve_lunar,{year},{eve.isoformat()}")
    print(f"qingming,{year},{TermUtils.nth_term_day(year, term_name='清明').isoformat()}")
