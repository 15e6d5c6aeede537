//! Automation rules, their firings and the runner's cursor (migration 0004's
//! `automation_rules`, `automation_firings` and `automation_cursor`), each statement
//! binding the tenant as `$1`. [`crate::tx`] forwards the port's methods here.

use solocrm_core::automation::{
    AutomationCursor, Firing, Occurrence, Priority, Rule, RuleName, RuleRecord,
};
use solocrm_core::port::{ContactTimes, CustomerDates};
use solocrm_core::{CustomerId, TaskId};

use crate::codec::{Cols, date, key, ts};
use crate::error::{Res, backend};
use crate::pool::Conn;

/// Every rule record of the tenant, by name.
pub(crate) fn rules(c: &mut Conn, t: i64) -> Res<Vec<RuleRecord>> {
    c.query(
        "SELECT name, enabled, body FROM automation_rules WHERE tenant_id = $1 ORDER BY name",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "automation_rules");
        Ok(RuleRecord {
            name: c.parse(0, RuleName::parse)?,
            enabled: c.bool(1)?,
            rule: c.opt_parse(2, |s| serde_json::from_str::<Rule>(s))?,
        })
    })
    .collect()
}

/// Stores `rule`, replacing the record with its name.
pub(crate) fn put_rule(c: &mut Conn, t: i64, rule: &RuleRecord) -> Res<()> {
    let body = rule
        .rule
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(backend)?;
    c.execute(
        "INSERT INTO automation_rules (tenant_id, name, enabled, body) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET enabled = excluded.enabled, body = excluded.body",
        &[&t, &rule.name.as_str(), &rule.enabled, &body],
    )?;
    Ok(())
}

/// Deletes the rule record named `name`; false if there was none.
pub(crate) fn delete_rule(c: &mut Conn, t: i64, name: &RuleName) -> Res<bool> {
    let n = c.execute(
        "DELETE FROM automation_rules WHERE tenant_id = $1 AND name = $2",
        &[&t, &name.as_str()],
    )?;
    Ok(n > 0)
}

/// The creation instant and birthday of every customer of the tenant who is not
/// erased, by id.
pub(crate) fn customer_dates(c: &mut Conn, t: i64) -> Res<Vec<CustomerDates>> {
    c.query(
        "SELECT id, created_at, created_at_ns, birthday FROM customers \
         WHERE tenant_id = $1 AND erased_at IS NULL ORDER BY id",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "customers");
        Ok(CustomerDates {
            id: c.id(0, CustomerId::new)?,
            created_at: c.time(1)?,
            birthday: c.opt_date(3)?,
        })
    })
    .collect()
}

/// See [`solocrm_core::port::ReadTx::contact_times`]: each customer's latest contact
/// before `from` and their contacts from `from` up to `until`, in whole seconds as
/// the `at` columns hold them.
pub(crate) fn contact_times(c: &mut Conn, t: i64, from: i64, until: i64) -> Res<Vec<ContactTimes>> {
    let mut by: std::collections::BTreeMap<i64, (Option<i64>, Vec<i64>)> =
        std::collections::BTreeMap::new();
    for (before, within) in [
        (
            "SELECT customer_id, max(at) FROM purchases \
             WHERE tenant_id = $1 AND void_at IS NULL AND at < $2 GROUP BY customer_id",
            "SELECT customer_id, at FROM purchases \
             WHERE tenant_id = $1 AND void_at IS NULL AND at >= $2 AND at < $3",
        ),
        (
            "SELECT customer_id, max(at) FROM interactions \
             WHERE tenant_id = $1 AND void_at IS NULL AND at < $2 GROUP BY customer_id",
            "SELECT customer_id, at FROM interactions \
             WHERE tenant_id = $1 AND void_at IS NULL AND at >= $2 AND at < $3",
        ),
    ] {
        for row in c.query(before, &[&t, &from.min(until)])? {
            let cols = Cols::new(&row, "contacts");
            let entry = by.entry(cols.i64(0)?).or_default();
            entry.0 = entry.0.max(Some(cols.i64(1)?));
        }
        for row in c.query(within, &[&t, &from, &until])? {
            let cols = Cols::new(&row, "contacts");
            by.entry(cols.i64(0)?).or_default().1.push(cols.i64(1)?);
        }
    }
    let instant = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| crate::error::corrupt(format!("an instant out of range: {secs}")))
    };
    by.into_iter()
        .map(|(customer, (before, mut within))| {
            within.sort_unstable();
            Ok(ContactTimes {
                customer: CustomerId::new(u64::try_from(customer).map_err(|_| {
                    crate::error::corrupt(format!("a customer id out of range: {customer}"))
                })?),
                last_before: before.map(instant).transpose()?,
                within: within.into_iter().map(instant).collect::<Res<_>>()?,
            })
        })
        .collect()
}

/// Whether the firing of `rule` for `customer` and `occurrence` is stored.
pub(crate) fn firing_exists(
    c: &mut Conn,
    t: i64,
    rule: &RuleName,
    customer: CustomerId,
    occurrence: &Occurrence,
) -> Res<bool> {
    Ok(c.query_opt(
        "SELECT 1 FROM automation_firings WHERE tenant_id = $1 AND rule = $2 \
         AND customer_id = $3 AND occurrence = $4",
        &[&t, &rule.as_str(), &key(customer.get()), &occurrence.key()],
    )?
    .is_some())
}

/// Every firing, by day, rule, customer and occurrence.
pub(crate) fn firings(c: &mut Conn, t: i64) -> Res<Vec<Firing>> {
    c.query(
        "SELECT rule, customer_id, occurrence, day, at, at_ns, task_id, priority \
         FROM automation_firings WHERE tenant_id = $1 \
         ORDER BY day, rule, customer_id, occurrence",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "automation_firings");
        Ok(Firing {
            rule: c.parse(0, RuleName::parse)?,
            customer: c.id(1, CustomerId::new)?,
            occurrence: c.parse(2, Occurrence::parse_key)?,
            day: c.date(3)?,
            at: c.time(4)?,
            task: c.opt_id(6, TaskId::new)?,
            priority: c.opt_parse(7, Priority::parse)?,
        })
    })
    .collect()
}

/// Stores `firing`; one stored with its key is a primary-key violation.
pub(crate) fn insert_firing(c: &mut Conn, t: i64, firing: &Firing) -> Res<()> {
    let (s, ns) = ts(firing.at);
    c.execute(
        "INSERT INTO automation_firings \
         (tenant_id, rule, customer_id, occurrence, day, at, at_ns, task_id, priority) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &t,
            &firing.rule.as_str(),
            &key(firing.customer.get()),
            &firing.occurrence.key(),
            &date(firing.day),
            &s,
            &ns,
            &firing.task.map(|x| key(x.get())),
            &firing.priority.map(Priority::as_str),
        ],
    )?;
    Ok(())
}

/// Deletes every firing of `customer`.
pub(crate) fn delete_firings_of(c: &mut Conn, t: i64, customer: CustomerId) -> Res<u64> {
    Ok(c.execute(
        "DELETE FROM automation_firings WHERE tenant_id = $1 AND customer_id = $2",
        &[&t, &key(customer.get())],
    )?)
}

/// The runner's cursor; the default before its first run.
pub(crate) fn cursor(c: &mut Conn, t: i64) -> Res<AutomationCursor> {
    let Some(row) = c.query_opt(
        "SELECT events, day FROM automation_cursor WHERE tenant_id = $1",
        &[&t],
    )?
    else {
        return Ok(AutomationCursor::default());
    };
    let c = Cols::new(&row, "automation_cursor");
    Ok(AutomationCursor {
        events: c.id(0, |s| s)?,
        day: c.opt_date(1)?,
    })
}

/// Stores the runner's cursor.
pub(crate) fn set_cursor(c: &mut Conn, t: i64, cursor: &AutomationCursor) -> Res<()> {
    c.execute(
        "INSERT INTO automation_cursor (tenant_id, events, day) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id) DO UPDATE SET events = excluded.events, day = excluded.day",
        &[&t, &key(cursor.events), &cursor.day.map(date)],
    )?;
    Ok(())
}
