//! `solocrm settings show` and `solocrm settings set`.

use anyhow::{Context as _, Result};
use solocrm_app::settings::Settings;

use super::Ctx;
use crate::cli::SettingsCmd;

pub fn run(ctx: &mut Ctx, cmd: SettingsCmd) -> Result<()> {
    let books = ctx.open()?;
    match cmd {
        SettingsCmd::Show => {
            let settings = Settings::load(&books).context("reading the settings")?;
            if ctx.out.json {
                return ctx.out.json(&settings);
            }
            let schema = settings
                .schema_version
                .map_or_else(|| "-".to_owned(), |v| v.to_string());
            for (label, value) in [
                ("location", settings.location.clone()),
                ("book id", settings.book_id.clone()),
                ("currency", settings.currency.to_string()),
                ("timezone", settings.timezone.to_string()),
                ("schema", schema),
            ] {
                ctx.out.line(format!("{label:<10} {value}"))?;
            }
            Ok(())
        }
        SettingsCmd::Set { timezone } => {
            let change = books
                .set_time_zone(timezone)
                .context("changing the time zone")?;
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({
                    "timezone": change.to, "previous_timezone": change.from,
                }));
            }
            if change.is_unchanged() {
                return ctx.say(format!("the time zone is already {}", change.to));
            }
            ctx.say(format!("time zone: {} -> {}", change.from, change.to))?;
            ctx.say(format!("note: {}", change.note()))
        }
    }
}
