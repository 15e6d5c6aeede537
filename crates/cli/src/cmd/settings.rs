//! `solocrm settings show` and `solocrm settings set`.

use anyhow::{Context as _, Result};
use solocrm_app::settings::{Settings, validity_for};
use solocrm_core::PointsExpiry;
use unicode_width::UnicodeWidthStr as _;

use super::Ctx;
use crate::cli::SettingsCmd;

pub fn run(ctx: &mut Ctx, cmd: SettingsCmd) -> Result<()> {
    let books = ctx.open()?;
    match cmd {
        SettingsCmd::Show => {
            let settings = Settings::load(&books).context(t!("settings.reading"))?;
            if ctx.out.json {
                return ctx.out.json(&settings);
            }
            let schema = settings
                .schema_version
                .map_or_else(|| "-".to_owned(), |v| v.to_string());
            let rows = [
                (t!("settings.location"), settings.location.clone()),
                (t!("settings.book_id"), settings.book_id.clone()),
                (t!("settings.currency"), settings.currency.to_string()),
                (t!("settings.timezone"), settings.timezone.to_string()),
                (
                    t!("settings.points_validity"),
                    validity_text(settings.points_validity),
                ),
                (t!("settings.schema"), schema),
            ];
            // Labels padded to 10 columns by display width (a Chinese character takes
            // two), so the values start in one column.
            let width = rows
                .iter()
                .map(|(l, _)| l.width())
                .max()
                .unwrap_or(0)
                .max(10);
            for (label, value) in rows {
                let pad = " ".repeat(width.saturating_sub(label.width()) + 1);
                ctx.out.line(format!("{label}{pad}{value}"))?;
            }
            Ok(())
        }
        SettingsCmd::Set {
            timezone,
            points_validity,
            points_validity_from,
        } => {
            // Both values are checked before either is stored, and both are stored in
            // one transaction. A validity's default start is today in the zone being
            // set, if one is.
            let today = timezone.map_or_else(|| ctx.today(), |z| z.date_of(ctx.now));
            let validity = match &points_validity {
                None => None,
                Some(text) => {
                    let months = months(text)?;
                    let start = points_validity_from
                        .as_deref()
                        .map(crate::parse::date)
                        .transpose()?;
                    let current = books.crm().read(|r| r.points_expiry())?;
                    Some(validity_for(current, months, start, today)?)
                }
            };
            let (zone, points) = books.set_settings(timezone, validity).context(
                match (timezone.is_some(), validity.is_some()) {
                    (false, true) => t!("settings.changing_points"),
                    _ => t!("settings.changing"),
                },
            )?;
            if ctx.out.json {
                let mut out = serde_json::Map::new();
                if let Some(change) = zone {
                    out.insert("timezone".into(), serde_json::to_value(change.to)?);
                    out.insert(
                        "previous_timezone".into(),
                        serde_json::to_value(change.from)?,
                    );
                }
                if let Some(change) = points {
                    out.insert("points_validity".into(), serde_json::to_value(change.to)?);
                    out.insert(
                        "previous_points_validity".into(),
                        serde_json::to_value(change.from)?,
                    );
                }
                return ctx.out.json(&out);
            }
            if let Some(change) = zone {
                if change.is_unchanged() {
                    ctx.say(t!("settings.unchanged", zone = change.to))?;
                } else {
                    ctx.say(t!("settings.changed", from = change.from, to = change.to))?;
                    // The app's note (`change.note()`), in the run's language.
                    ctx.say(t!("settings.note"))?;
                }
            }
            if let Some(change) = points {
                if change.is_unchanged() {
                    ctx.say(t!(
                        "settings.points_unchanged",
                        validity = validity_text(change.to)
                    ))?;
                } else {
                    ctx.say(t!(
                        "settings.points_changed",
                        from = validity_text(change.from),
                        to = validity_text(change.to)
                    ))?;
                }
            }
            Ok(())
        }
    }
}

/// `--points-validity`: a number of months, or `never` (`None`).
fn months(text: &str) -> Result<Option<u32>> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("never") || t == "永不" {
        return Ok(None);
    }
    match t.parse::<u32>() {
        Ok(m) => Ok(Some(m)),
        Err(_) => anyhow::bail!(t!("settings.points_validity_bad", value = text)),
    }
}

/// The validity in words, in the run's language.
fn validity_text(v: Option<PointsExpiry>) -> String {
    match v {
        None => t!("settings.points_never").to_owned(),
        Some(v) => t!(
            "settings.points_months",
            months = v.months(),
            from = v.from()
        ),
    }
}
