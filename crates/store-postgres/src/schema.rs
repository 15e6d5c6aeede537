//! Versioned migrations: hand-written SQL, one transaction per migration with its
//! version bump (PostgreSQL's DDL is transactional), under an advisory lock so that
//! two processes never migrate one database at once. Released migrations never
//! change; a new version adds a file under `migrations/`.

use postgres::Client;

use crate::error::OpenError;

/// One migration: the version it brings the schema to and its SQL.
pub(crate) struct Migration {
    pub(crate) version: i32,
    pub(crate) sql: &'static str,
}

/// Every migration, in order. The last one's version is [`SCHEMA_VERSION`].
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/0001_books.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/0002_ledger_voids_relations.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/0003_search_index.sql"),
    },
    // Automation's rules, firings and the runner's cursor.
    Migration {
        version: 4,
        sql: include_str!("../migrations/0004_rules.sql"),
    },
    // Purchases partitioned by tenant (ADR 0019).
    Migration {
        version: 5,
        sql: include_str!("../migrations/0005_purchases_by_tenant.sql"),
    },
    // The holiday calendar (issue 18, ADR 0021).
    Migration {
        version: 6,
        sql: include_str!("../migrations/0006_holidays.sql"),
    },
    // The points validity (issue 16, ADR 0024).
    Migration {
        version: 7,
        sql: include_str!("../migrations/0007_points_validity.sql"),
    },
    // Sales targets (issue 18, ADR 0029).
    Migration {
        version: 8,
        sql: include_str!("../migrations/0008_targets.sql"),
    },
    // Survey templates and sheets, participations (issue 18, ADR 0030).
    Migration {
        version: 9,
        sql: include_str!("../migrations/0009_surveys_and_participation.sql"),
    },
    // Offers and their redemptions (issue 18, ADR 0031).
    Migration {
        version: 10,
        sql: include_str!("../migrations/0010_offers.sql"),
    },
    // The product catalogue and purchase lines (issue 18, ADR 0028).
    Migration {
        version: 11,
        sql: include_str!("../migrations/0011_products.sql"),
    },
    // Needs and pain points (issue 18, ADR 0035).
    Migration {
        version: 12,
        sql: include_str!("../migrations/0012_needs.sql"),
    },
    // Campaigns and attribution (issue 18, ADR 0034).
    Migration {
        version: 13,
        sql: include_str!("../migrations/0013_campaigns.sql"),
    },
    // An archived mark on survey templates (issue 18, ADR 0045).
    Migration {
        version: 14,
        sql: include_str!("../migrations/0014_survey_template_archive.sql"),
    },
    // A void mark on survey sheets (issue 18, ADR 0050).
    Migration {
        version: 15,
        sql: include_str!("../migrations/0015_survey_sheet_void.sql"),
    },
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 15;

/// The key of the advisory lock migrations hold ("SOLO" in ASCII).
const MIGRATION_LOCK: i64 = 0x534F_4C4F;

/// The schema's version: 0 if the database has no solocrm schema (in the schema the
/// connection's `search_path` names first).
fn version(client: &mut Client) -> Result<i32, OpenError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('solocrm_schema') IS NOT NULL", &[])
        .and_then(|r| r.try_get(0))
        .map_err(OpenError::Db)?;
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_opt("SELECT version FROM solocrm_schema", &[])
        .map_err(OpenError::Db)?;
    match row {
        Some(r) => r.try_get(0).map_err(OpenError::Db),
        None => Err(OpenError::Corrupt(
            "the solocrm_schema table has no row".to_owned(),
        )),
    }
}

/// Brings the schema up to [`SCHEMA_VERSION`]; refuses a newer one untouched.
pub(crate) fn migrate(client: &mut Client) -> Result<(), OpenError> {
    // A plain read first: a current database is opened without any lock.
    let current = version(client)?;
    if current > SCHEMA_VERSION {
        return Err(OpenError::NewerSchema {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let mut tx = client.transaction().map_err(OpenError::Db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(OpenError::Db)?;
        // Read again under the lock: another process may have migrated meanwhile.
        let now = {
            let exists: bool = tx
                .query_one("SELECT to_regclass('solocrm_schema') IS NOT NULL", &[])
                .and_then(|r| r.try_get(0))
                .map_err(OpenError::Db)?;
            if exists {
                tx.query_one("SELECT version FROM solocrm_schema", &[])
                    .and_then(|r| r.try_get::<_, i32>(0))
                    .map_err(OpenError::Db)?
            } else {
                0
            }
        };
        if now >= m.version {
            continue;
        }
        if now != m.version - 1 {
            return Err(OpenError::Corrupt(format!(
                "schema version {now} cannot be migrated by migration {}",
                m.version
            )));
        }
        tx.batch_execute(m.sql).map_err(OpenError::Db)?;
        if m.version == 1 {
            tx.execute("INSERT INTO solocrm_schema (version) VALUES (1)", &[])
                .map_err(OpenError::Db)?;
        } else {
            tx.execute("UPDATE solocrm_schema SET version = $1", &[&m.version])
                .map_err(OpenError::Db)?;
        }
        tx.commit().map_err(OpenError::Db)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_one_by_one_up_to_the_schema_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(usize::try_from(m.version).ok(), Some(i + 1));
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }
}
