//! Sales targets (migration 0008's `targets`), each statement binding the tenant as
//! `$1`. [`crate::tx`] forwards the port's methods here.

use solocrm_core::target::{Target, TargetMetric, TargetPeriod};

use crate::codec::Cols;
use crate::error::{Res, corrupt};
use crate::pool::Conn;

/// The tenant's targets, by period start, span, then metric name.
pub(crate) fn targets(c: &mut Conn, t: i64) -> Res<Vec<Target>> {
    c.query(
        "SELECT metric, period, value FROM targets WHERE tenant_id = $1 \
         ORDER BY period_start, span, metric",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "targets");
        let metric = c.parse(0, TargetMetric::parse)?;
        let period = c.parse(1, TargetPeriod::parse)?;
        let value = c.parse(2, solocrm_core::money::parse_plain_decimal)?;
        Target::new(metric, period, value).map_err(|e| corrupt(format!("targets: {e}")))
    })
    .collect()
}

/// Stores `target`, replacing the one for its metric and period.
pub(crate) fn put_target(c: &mut Conn, t: i64, target: &Target) -> Res<()> {
    let span = i16::from(target.period().span_rank());
    c.execute(
        "INSERT INTO targets (tenant_id, metric, period, period_start, span, value) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, metric, period) DO UPDATE SET value = excluded.value",
        &[
            &t,
            &target.metric().as_str(),
            &target.period().to_string(),
            &target.period().start().to_string(),
            &span,
            &target.value().to_string(),
        ],
    )?;
    Ok(())
}

/// Deletes the target for `metric` and `period`; false if there was none.
pub(crate) fn delete_target(
    c: &mut Conn,
    t: i64,
    metric: TargetMetric,
    period: TargetPeriod,
) -> Res<bool> {
    Ok(c.execute(
        "DELETE FROM targets WHERE tenant_id = $1 AND metric = $2 AND period = $3",
        &[&t, &metric.as_str(), &period.to_string()],
    )? > 0)
}
