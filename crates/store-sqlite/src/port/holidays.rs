//! The holiday calendar: the founder's own holidays and the chosen presets.

use rusqlite::{Connection, params};
use solocrm_core::Tag;
use solocrm_core::holiday::{HolidayCalendar, HolidayDef, HolidayRule, Preset};
use solocrm_core::text::Label;

use crate::codec::Cols;
use crate::error::Res;
use crate::rows::{corrupt, execute, query_all};

pub(crate) fn holiday_calendar(conn: &Connection) -> Res<HolidayCalendar> {
    let presets = query_all(
        conn,
        "SELECT preset FROM holiday_presets ORDER BY position",
        [],
        |row| Cols::new(row, "holiday_presets").parse(0, Preset::parse),
    )?;
    let own = query_all(
        conn,
        "SELECT key, name, kind, month, day, leap FROM holidays ORDER BY key",
        [],
        |row| {
            let c = Cols::new(row, "holidays");
            let month: u32 = c.int(3)?;
            let day: u32 = c.int(4)?;
            let rule = match c.str(2)? {
                "fixed" => HolidayRule::fixed(month, day),
                "lunar" => HolidayRule::lunar(month, day, c.bool(5)?),
                other => return Err(corrupt(format!("holidays: unknown kind {other:?}"))),
            }
            .map_err(|e| corrupt(format!("holidays: {e}")))?;
            Ok(HolidayDef {
                key: c.parse(0, Tag::parse)?,
                name: c.parse(1, Label::parse)?,
                rule,
            })
        },
    )?;
    Ok(HolidayCalendar { presets, own })
}

pub(crate) fn put_holiday(conn: &Connection, h: &HolidayDef) -> Res<()> {
    let (kind, month, day, leap) = match h.rule {
        HolidayRule::Fixed { month, day } => ("fixed", month, day, false),
        HolidayRule::Lunar { month, day, leap } => ("lunar", month, day, leap),
        _ => {
            return Err(corrupt(format!(
                "holiday {}: only fixed and lunar dates are stored",
                h.key
            )));
        }
    };
    execute(
        conn,
        "INSERT INTO holidays (key, name, kind, month, day, leap) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (key) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
         month = excluded.month, day = excluded.day, leap = excluded.leap",
        params![h.key.as_str(), h.name.as_str(), kind, month, day, leap],
    )?;
    Ok(())
}

pub(crate) fn delete_holiday(conn: &Connection, key: &Tag) -> Res<bool> {
    Ok(execute(conn, "DELETE FROM holidays WHERE key = ?1", [key.as_str()])? > 0)
}

pub(crate) fn set_holiday_presets(conn: &Connection, presets: &[Preset]) -> Res<()> {
    execute(conn, "DELETE FROM holiday_presets", [])?;
    for (i, p) in presets.iter().enumerate() {
        execute(
            conn,
            "INSERT INTO holiday_presets (preset, position) VALUES (?1, ?2)",
            params![p.key(), i64::try_from(i).unwrap_or(i64::MAX)],
        )?;
    }
    Ok(())
}
