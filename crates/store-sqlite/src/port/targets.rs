//! Sales targets (migration 15's `targets`).

use rusqlite::{Connection, params};
use solocrm_core::target::{Target, TargetMetric, TargetPeriod};

use crate::codec::Cols;
use crate::error::Res;
use crate::rows::{corrupt, execute, query_all};

pub(crate) fn targets(conn: &Connection) -> Res<Vec<Target>> {
    query_all(
        conn,
        "SELECT metric, period, value FROM targets ORDER BY period_start, span, metric",
        [],
        |row| {
            let c = Cols::new(row, "targets");
            let metric = c.parse(0, TargetMetric::parse)?;
            let period = c.parse(1, TargetPeriod::parse)?;
            let value = c.parse(2, solocrm_core::money::parse_plain_decimal)?;
            Target::new(metric, period, value).map_err(|e| corrupt(format!("targets: {e}")))
        },
    )
}

pub(crate) fn put_target(conn: &Connection, t: &Target) -> Res<()> {
    execute(
        conn,
        "INSERT INTO targets (metric, period, period_start, span, value) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (metric, period) DO UPDATE SET value = excluded.value",
        params![
            t.metric().as_str(),
            t.period().to_string(),
            t.period().start().to_string(),
            t.period().span_rank(),
            t.value().to_string()
        ],
    )?;
    Ok(())
}

pub(crate) fn delete_target(
    conn: &Connection,
    metric: TargetMetric,
    period: TargetPeriod,
) -> Res<bool> {
    Ok(execute(
        conn,
        "DELETE FROM targets WHERE metric = ?1 AND period = ?2",
        params![metric.as_str(), period.to_string()],
    )? > 0)
}
