//! The holiday calendar (migration 0006's `holidays` and `holiday_presets`), each
//! statement binding the tenant as `$1`. [`crate::tx`] forwards the port's methods here.

use solocrm_core::Tag;
use solocrm_core::holiday::{HolidayCalendar, HolidayDef, HolidayRule, Preset};
use solocrm_core::text::Label;

use crate::codec::Cols;
use crate::error::{Res, corrupt};
use crate::pool::Conn;

/// The tenant's calendar: presets in their order, own holidays by key.
pub(crate) fn holiday_calendar(c: &mut Conn, t: i64) -> Res<HolidayCalendar> {
    let presets = c
        .query(
            "SELECT preset FROM holiday_presets WHERE tenant_id = $1 ORDER BY position",
            &[&t],
        )?
        .iter()
        .map(|row| Cols::new(row, "holiday_presets").parse(0, Preset::parse))
        .collect::<Res<Vec<_>>>()?;
    let own = c
        .query(
            "SELECT key, name, kind, month, day, leap FROM holidays WHERE tenant_id = $1 \
             ORDER BY key",
            &[&t],
        )?
        .iter()
        .map(|row| {
            let c = Cols::new(row, "holidays");
            let month: u32 = c.int(3)?;
            let day: u32 = c.int(4)?;
            let rule = match c.str(2)? {
                "fixed" => HolidayRule::fixed(month, day),
                "lunar" => HolidayRule::lunar(month, day, c.bool(5)?),
                other => {
                    return Err(corrupt(format!("holidays: unknown kind {other:?}")));
                }
            }
            .map_err(|e| corrupt(format!("holidays: {e}")))?;
            Ok(HolidayDef {
                key: c.parse(0, Tag::parse)?,
                name: c.parse(1, Label::parse)?,
                rule,
            })
        })
        .collect::<Res<Vec<_>>>()?;
    Ok(HolidayCalendar { presets, own })
}

/// Stores `h`, replacing the holiday with its key.
pub(crate) fn put_holiday(c: &mut Conn, t: i64, h: &HolidayDef) -> Res<()> {
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
    c.execute(
        "INSERT INTO holidays (tenant_id, key, name, kind, month, day, leap) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, key) DO UPDATE SET name = excluded.name, \
         kind = excluded.kind, month = excluded.month, day = excluded.day, \
         leap = excluded.leap",
        &[
            &t,
            &h.key.as_str(),
            &h.name.as_str(),
            &kind,
            &i64::from(month),
            &i64::from(day),
            &leap,
        ],
    )?;
    Ok(())
}

/// Deletes the holiday with `key`; false if there was none.
pub(crate) fn delete_holiday(c: &mut Conn, t: i64, key: &Tag) -> Res<bool> {
    Ok(c.execute(
        "DELETE FROM holidays WHERE tenant_id = $1 AND key = $2",
        &[&t, &key.as_str()],
    )? > 0)
}

/// Replaces the chosen presets.
pub(crate) fn set_holiday_presets(c: &mut Conn, t: i64, presets: &[Preset]) -> Res<()> {
    c.execute("DELETE FROM holiday_presets WHERE tenant_id = $1", &[&t])?;
    for (i, p) in presets.iter().enumerate() {
        c.execute(
            "INSERT INTO holiday_presets (tenant_id, preset, position) VALUES ($1, $2, $3)",
            &[&t, &p.key(), &i64::try_from(i).unwrap_or(i64::MAX)],
        )?;
    }
    Ok(())
}
