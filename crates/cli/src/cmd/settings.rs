//! `solocrm settings show` and `solocrm settings set`.

use anyhow::{Context as _, Result};
use solocrm_app::settings::Settings;
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
        SettingsCmd::Set { timezone } => {
            let change = books
                .set_time_zone(timezone)
                .context(t!("settings.changing"))?;
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({
                    "timezone": change.to, "previous_timezone": change.from,
                }));
            }
            if change.is_unchanged() {
                return ctx.say(t!("settings.unchanged", zone = change.to));
            }
            ctx.say(t!("settings.changed", from = change.from, to = change.to))?;
            // The app's note (`change.note()`), in the run's language.
            ctx.say(t!("settings.note"))
        }
    }
}
