//! The analytic commands: `report` (the dashboard), `rfm`, `cohort`, `pipeline`,
//! `churn-risk`.
//!
//! Fixed JSON shapes (docs/cli.md): `report` has at least `nps`, `csat`, `churn_rate`,
//! `retention_rate`, `repeat_purchase_rate`, `loyalty_index` (ratios as numbers in
//! percent, `null` when undefined) and `customers_by_stage`, plus the whole
//! `MetricsReport` under `report` (money as decimal strings); `rfm` is
//! `{"as_of", "customers": [{"customer", "recency_days", "frequency", "monetary", "r",
//! "f", "m", "segment"}]}`.

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Days, Months, Utc};
use solocrm_app::groups::{CustomerGroup, GroupError, Members, only_members_log};
use solocrm_app::history::{read_as_of_day, read_as_of_day_beside};
use solocrm_app::rfm::rfm_table;
use solocrm_app::sorted_json::SortedKeys;
use solocrm_app::trends::{self, Grain, GroupDashboard, Trend};
use solocrm_app::views::Dashboard;
use solocrm_core::metrics::{
    Activity, CohortGrain, Measured, Period, Ratio, ReportConfig, RiskReason, TieRule,
    WarningConfig, churn_warnings_by_contacts, cohort_matrix, pipeline_metrics,
};
use solocrm_core::{
    ActivityQuery, CustomerId, LifecyclePolicy, LifecycleStage, OpenQuery, Reader, Store,
};

use super::Ctx;
use crate::cli::{CohortBy, Group, Range, Ties, TrendBy};
use crate::i18n::label;
use crate::output::Table;
use crate::parse;

/// The period of `report` and `pipeline`: `[from, to)` in whole days of the books'
/// time zone. `--to` is inclusive on the command line; without it the period ends with
/// the `--as-of` day (default: today), and `--as-of` cannot be given with `--to` (clap
/// refuses the pair). Without `--from` it is the year that ends with the last day.
pub fn period(ctx: &Ctx, range: &Range) -> Result<Period> {
    let (from, to, as_of) = (
        range.from.as_deref(),
        range.to.as_deref(),
        range.as_of.as_deref(),
    );
    let last_day = match to {
        Some(t) => parse::date(t)?,
        None => ctx.as_of_day(as_of)?,
    };
    let end = last_day.checked_add_days(Days::new(1)).unwrap_or(last_day);
    let start = match from {
        Some(f) => parse::date(f)?,
        None => end.checked_sub_months(Months::new(12)).unwrap_or(end),
    };
    if start >= end {
        bail!(t!("period.backwards", start = start, last_day = last_day));
    }
    Ok(Period::new(start, end)?.in_zone(ctx.zone()))
}

/// The group `--segment` or `--stage` names, if any.
pub(super) fn chosen(g: &Group) -> Option<CustomerGroup> {
    match (&g.segment, g.stage) {
        (Some(name), _) => Some(CustomerGroup::Segment(name.clone())),
        (None, Some(stage)) => Some(CustomerGroup::Stage(stage)),
        (None, None) => None,
    }
}

/// The members of `group` in the reader's snapshot, decided at `at` (the inner result:
/// an unknown segment is not a store failure).
pub(super) fn members_in(
    r: &Reader<'_>,
    group: Option<&CustomerGroup>,
    at: DateTime<Utc>,
) -> Result<Option<Members>, GroupError> {
    group.map(|g| g.members(r, at)).transpose()
}

/// The instant a view of the business-local `day` decides its group at: the end of the
/// day, or now for today.
pub(super) fn group_instant(ctx: &Ctx, day: chrono::NaiveDate) -> DateTime<Utc> {
    ctx.zone().end_of(day).min(ctx.now)
}

/// A group error as the user reads it.
pub(super) fn group_failed(e: GroupError) -> anyhow::Error {
    match e {
        GroupError::UnknownSegment(name) => {
            super::BadValue(t!("group.unknown_segment", name = name)).into()
        }
        GroupError::TooManyPeriods { asked, max } => {
            anyhow!(t!("trend.too_many", asked = asked, max = max))
        }
        GroupError::Report(e) => e.into(),
    }
}

/// The line that says whom a filtered view measures: `only segment 高价值客户: 3 customers`.
pub(super) fn group_line(group: &CustomerGroup, members: usize) -> String {
    let customers = tn!("count.customer", members);
    match group {
        CustomerGroup::Segment(name) => t!("group.segment", name = name, customers = customers),
        CustomerGroup::Stage(stage) => {
            t!("group.stage", stage = label(*stage), customers = customers)
        }
    }
}

fn show_percent(r: &Measured<Ratio>) -> String {
    r.value()
        .map_or_else(|| "-".into(), |r| format!("{} %", r.percent_rounded(1)))
}

/// The report's costs, when the period has any: their total, ROI on revenue and on
/// gross margin, and CAC and ROI per acquisition channel.
fn spend_tables(
    out: &mut crate::output::Out,
    r: &solocrm_core::metrics::MetricsReport,
) -> Result<()> {
    let Some(s) = r
        .spend
        .as_ref()
        .filter(|s| !s.total.is_zero() || s.voided > 0)
    else {
        return Ok(());
    };
    out.line("")?;
    let parts: Vec<String> = s
        .by_category
        .iter()
        .map(|c| format!("{} {}", c.category, c.spend.amount()))
        .collect();
    let roi = |m: &Measured<solocrm_core::metrics::CostBenefit>| {
        m.value().map_or_else(|| "-".into(), roi_text)
    };
    let mut t = Table::new(&["COSTS", "VALUE"]);
    t.row(vec![
        "costs".to_owned(),
        format!("{} ({})", s.total, parts.join(", ")),
    ]);
    t.row(vec!["ROI on revenue".to_owned(), roi(&s.roi_on_revenue)]);
    t.row(vec![
        "ROI on gross margin".to_owned(),
        roi(&s.roi_on_gross_margin),
    ]);
    out.table(&t)?;
    if s.channels.is_empty() {
        return Ok(());
    }
    out.line("")?;
    let mut t = Table::new(&["CHANNEL", ">SPEND", ">NEW", ">CAC", ">REVENUE", ">ROI"]);
    for c in &s.channels {
        t.row(vec![
            c.channel.clone(),
            c.spend.to_string(),
            c.new_customers.to_string(),
            show(&c.cac),
            c.revenue.to_string(),
            c.roi.value().map_or_else(
                || "-".into(),
                |r| format!("{} %", r.roi_percent().round_dp(1)),
            ),
        ]);
    }
    out.table(&t)
}

/// An ROI in percent with what it compares: `-42.9 % (gain 400.00 CNY on 700.00 CNY)`.
fn roi_text(c: &solocrm_core::metrics::CostBenefit) -> String {
    format!(
        "{} % ({} on {})",
        c.roi_percent().round_dp(1),
        c.gain,
        c.cost
    )
}

fn show<T: std::fmt::Display>(m: &Measured<T>) -> String {
    m.value().map_or_else(|| "-".into(), ToString::to_string)
}

/// The report's choices on the command line: no per-customer RFM table.
pub(super) fn report_config() -> ReportConfig {
    ReportConfig {
        include_rfm_table: false,
        ..ReportConfig::default()
    }
}

/// The report's choices of `demo`'s dashboard: [`report_config`].
pub(super) fn default_report_config() -> ReportConfig {
    report_config()
}

/// [`report_config`] with the loyalty index's engagement measured by `basis`
/// (`report --engagement`); an unknown name is a usage error listing the two.
fn report_config_with(basis: Option<&str>) -> Result<ReportConfig> {
    let engagement_basis = match basis {
        None => solocrm_core::metrics::EngagementBasis::default(),
        Some(b) => solocrm_core::metrics::EngagementBasis::parse(b)
            .map_err(|e| super::BadValue(e.to_string()))?,
    };
    Ok(ReportConfig {
        engagement_basis,
        ..report_config()
    })
}

/// `solocrm report`, and the dashboard `demo` prints; `group` narrows it to one
/// segment or stage.
///
/// `built`: the books `demo` has just built, the instant its history ends before
/// (nothing in them is dated at or after it) and, if `demo` computed it from the
/// generated business while writing it, the whole book's dashboard of `period`
/// (ADR 0059). When the period's cut (the end of its last day) is not before that
/// instant there is nothing to rewind, and the whole book's dashboard is that one, or
/// read from the books as they are: the same view, without replaying every customer's
/// stage history (a test compares it with `report`'s).
pub fn dashboard(
    ctx: &mut Ctx,
    store: &solocrm_core::Crm,
    period: Period,
    built: Option<(Option<Dashboard>, DateTime<Utc>)>,
    group: Option<&CustomerGroup>,
    config: &ReportConfig,
) -> Result<()> {
    let config = config.clone();
    let cut = store.read(|r| r.time_zone())?.end_of(period.last_day());
    // One snapshot serves the report and the stage counts: the books as they stood at
    // the end of the period's last day.
    let made = built.is_some();
    let loaded = match (built, group) {
        (Some((Some(computed), ends_before)), None) if ends_before <= cut => GroupDashboard {
            members: None,
            dashboard: computed,
        },
        (Some((None, ends_before)), None) if ends_before <= cut => GroupDashboard {
            members: None,
            dashboard: store.read(|r| Ok(Dashboard::load(&r, period, &config)))??,
        },
        _ => {
            trends::load_dashboard(store, period, &config, group, ctx.now).map_err(group_failed)?
        }
    };
    let view = loaded.dashboard;
    // The book's targets of the period (a group's report has none: targets are the
    // whole book's).
    let targets = match group {
        None => super::target::of_report(store, period, ctx.now)?,
        Some(_) => Vec::new(),
    };
    if ctx.out.json {
        // Keys sorted at every level, as this output always was (it went through a
        // JSON value), written as a stream. A group adds `group` and `members`;
        // targets add `targets`.
        #[derive(serde::Serialize)]
        struct WithGroup<'a, T: serde::Serialize> {
            #[serde(flatten)]
            view: &'a Dashboard,
            #[serde(skip_serializing_if = "Option::is_none")]
            group: Option<&'a CustomerGroup>,
            #[serde(skip_serializing_if = "Option::is_none")]
            members: Option<Option<usize>>,
            #[serde(skip_serializing_if = "<[T]>::is_empty")]
            targets: &'a [T],
        }
        return ctx.out.json(&SortedKeys(&WithGroup {
            view: &view,
            group,
            members: group.map(|_| loaded.members),
            targets: &targets,
        }));
    }
    let r = &view.report;
    let stages: Vec<(&str, usize)> = view.stages.iter().map(|(s, n)| (label(*s), *n)).collect();
    // The names of the customers the early-warning table shows (its first five).
    let warned: Vec<String> = r
        .early_warning
        .iter()
        .take(5)
        .map(|w| solocrm_core::Store::customer(store, w.customer).map(|c| c.name().to_string()))
        .collect::<Result<_, _>>()?;
    let out = &mut ctx.out;
    if made {
        out.line(t!("dashboard.created", db = ctx.db.display()))?;
    }
    out.heading(t!(
        "dashboard.heading",
        from = period.start(),
        to = period.last_day()
    ))?;
    if let Some(g) = group {
        out.line(group_line(g, loaded.members.unwrap_or(0)))?;
    }
    out.line("")?;
    let mut t = Table::new(&["STAGE", ">CUSTOMERS"]);
    for (stage, n) in &stages {
        t.row(vec![(*stage).to_owned(), n.to_string()]);
    }
    out.table(&t)?;
    out.line("")?;
    let p = &r.purchases;
    let nps = r.satisfaction.nps.value().map_or_else(
        || "-".into(),
        |n| {
            t!(
                "dashboard.nps",
                score = n.score.round_dp(1),
                promoters = tn!("count.promoter", n.promoters),
                passives = tn!("count.passive", n.passives),
                detractors = tn!("count.detractor", n.detractors)
            )
        },
    );
    let csat = r.satisfaction.csat.value().map_or_else(
        || "-".into(),
        |c| {
            t!(
                "dashboard.csat",
                percent = c.share.percent_rounded(1),
                answers = tn!("count.answer", c.respondents)
            )
        },
    );
    let nps_customers = r.satisfaction.nps_per_customer.value().map_or_else(
        || "-".into(),
        |n| {
            t!(
                "dashboard.nps_per_customer",
                score = n.score.round_dp(1),
                customers = tn!("count.customer", n.respondents())
            )
        },
    );
    let csat_customers = r.satisfaction.csat_per_customer.value().map_or_else(
        || "-".into(),
        |c| {
            t!(
                "dashboard.csat_per_customer",
                percent = c.share.percent_rounded(1),
                customers = tn!("count.customer", c.respondents)
            )
        },
    );
    let ces = r.satisfaction.ces.value().map_or_else(
        || "-".into(),
        |c| {
            t!(
                "dashboard.ces",
                average = c.average.round_dp(2),
                low = c.low_effort_share.percent_rounded(1),
                answers = tn!("count.answer", c.respondents)
            )
        },
    );
    let churn = r.retention.churn.value();
    let rows: Vec<(&str, String)> = vec![
        (t!("metric.nps"), nps),
        (t!("metric.nps_per_customer"), nps_customers),
        (t!("metric.csat"), csat),
        (t!("metric.csat_per_customer"), csat_customers),
        (t!("metric.ces"), ces),
        (
            t!("metric.churn_rate"),
            churn.map_or_else(
                || "-".into(),
                |c| {
                    t!(
                        "dashboard.churn",
                        percent = c.churn_rate.percent_rounded(1),
                        lost = c.lost,
                        at_start = c.at_start
                    )
                },
            ),
        ),
        (
            t!("metric.retention_rate"),
            churn.map_or_else(
                || "-".into(),
                |c| format!("{} %", c.retention_rate.percent_rounded(1)),
            ),
        ),
        (t!("metric.crr"), show_percent(&r.retention.crr)),
        (
            t!("metric.orders"),
            t!(
                "dashboard.orders",
                orders = p.stats.orders,
                buyers = tn!("count.buyer", p.stats.buyers)
            ),
        ),
        (
            t!("metric.revenue"),
            t!(
                "dashboard.revenue",
                revenue = p.stats.revenue,
                net = p.net_revenue
            ),
        ),
        (t!("metric.average_order"), show(&p.average_order_value)),
        (
            t!("metric.repeat_purchase_rate"),
            show_percent(&p.repeat_purchase_rate),
        ),
        (
            t!("metric.engagement_rate"),
            r.engagement.value().map_or_else(
                || "-".into(),
                |e| format!("{} %", e.engagement_rate.percent_rounded(1)),
            ),
        ),
        (
            t!("metric.loyalty_index"),
            r.loyalty.value().map_or_else(
                || "-".into(),
                |l| {
                    let basis = match l.engagement_basis {
                        solocrm_core::metrics::EngagementBasis::InteractionRate => {
                            t!("loyalty.by_interaction_rate")
                        }
                        solocrm_core::metrics::EngagementBasis::ParticipationRate => {
                            t!("loyalty.by_participation_rate")
                        }
                    };
                    format!("{} % ({basis})", l.index.percent_rounded(1))
                },
            ),
        ),
        (t!("metric.average_clv"), show(&r.value.average_clv)),
        (t!("metric.retention_clv"), show(&r.value.retention_clv)),
        (
            t!("metric.ltv_to_cac"),
            r.value
                .ltv_to_cac
                .value()
                .map_or_else(|| "-".into(), |v| v.round_dp(2).to_string()),
        ),
        (
            t!("metric.cac"),
            r.value.cac.overall.value().map_or_else(
                || "-".into(),
                |c| {
                    t!(
                        "dashboard.cac",
                        cac = c.cac,
                        new_customers = tn!("count.new_customer", c.new_customers)
                    )
                },
            ),
        ),
        (
            t!("metric.win_rate"),
            r.pipeline.win_rate.value().map_or_else(
                || "-".into(),
                |w| {
                    t!(
                        "dashboard.win_rate",
                        percent = w.rate.percent_rounded(1),
                        won = w.won,
                        lost = w.lost
                    )
                },
            ),
        ),
        (
            t!("metric.open_pipeline"),
            t!(
                "dashboard.open_pipeline",
                deals = tn!("count.deal", r.pipeline.pipeline.open_deals),
                total = r.pipeline.pipeline.total,
                weighted = r.pipeline.pipeline.weighted
            ),
        ),
        (
            t!("metric.first_response"),
            r.service.first_response.value().map_or_else(
                || "-".into(),
                |d| {
                    t!(
                        "dashboard.first_response",
                        median = d.median_hours().round_dp(1),
                        p90 = d.p90_hours().round_dp(1)
                    )
                },
            ),
        ),
        (
            t!("metric.open_complaints"),
            r.service.open_complaints.to_string(),
        ),
    ];
    let mut t = Table::new(&["METRIC", "VALUE"]);
    for (k, v) in rows {
        t.row(vec![k.to_owned(), v]);
    }
    out.table(&t)?;
    spend_tables(out, r)?;
    super::campaign::report_tables(out, r)?;
    if !targets.is_empty() {
        out.line("")?;
        super::target::progress_table(out, &targets)?;
    }
    out.line("")?;
    let mut t = Table::new(&["RFM SEGMENT", ">CUSTOMERS"]);
    for s in r.rfm.segments.iter().filter(|s| s.customers > 0) {
        t.row(vec![label(s.segment).to_owned(), s.customers.to_string()]);
    }
    out.table(&t)?;
    if !r.early_warning.is_empty() {
        out.line("")?;
        let mut t = Table::new(&[">CUSTOMER", "NAME", ">RISK", "WHY"]);
        for (w, name) in r.early_warning.iter().zip(&warned) {
            t.row(vec![
                w.customer.to_string(),
                name.clone(),
                w.score.to_string(),
                w.factors
                    .first()
                    .map(|f| risk_reason(&f.reason))
                    .unwrap_or_default(),
            ]);
        }
        out.table(&t)?;
        // Two different counts, said apart: the stage the lifecycle recorded, and
        // anyone with at least one early-warning signal.
        let in_stage = view
            .customers_by_stage
            .get(LifecycleStage::AtRisk.as_str())
            .copied()
            .unwrap_or(0);
        let overdue_points = config.warning.overdue_points;
        let strong = r
            .early_warning
            .iter()
            .filter(|w| w.score >= overdue_points)
            .count();
        let signalled = r.early_warning.len();
        out.line(t!(
            "dashboard.warnings",
            signalled = tn!("count.customer_shows", signalled),
            strong = strong,
            points = overdue_points,
            in_stage = tn!("count.in_stage", in_stage)
        ))?;
    }
    Ok(())
}

/// A churn-risk factor as a person reads it, in the run's language (the core's own
/// wording, [`RiskReason::describe`], in English).
fn risk_reason(reason: &RiskReason) -> String {
    if crate::i18n::lang() == crate::i18n::Lang::En {
        return reason.describe();
    }
    match reason {
        RiskReason::Overdue {
            days_since_last_purchase: d,
            overdue_after_days: t,
            median_gap_days: Some(g),
        } => t!(
            "risk.overdue_gap",
            days = tn!("count.day", *d),
            threshold = t,
            gap = tn!("count.day", *g)
        ),
        RiskReason::Overdue {
            days_since_last_purchase: d,
            overdue_after_days: t,
            median_gap_days: None,
        } => t!(
            "risk.overdue_once",
            days = tn!("count.day", *d),
            threshold = t
        ),
        RiskReason::Approaching {
            days_since_last_purchase: d,
            overdue_after_days: t,
        } => t!(
            "risk.approaching",
            days = tn!("count.day", *d),
            threshold = t
        ),
        RiskReason::Nps {
            previous: Some(p),
            latest,
        } => t!("risk.nps_down", latest = latest, previous = p),
        RiskReason::Nps {
            previous: None,
            latest,
        } => t!("risk.nps_detractor", latest = latest),
        RiskReason::Csat {
            previous: Some(p),
            latest,
        } => t!("risk.csat_down", latest = latest, previous = p),
        RiskReason::Csat {
            previous: None,
            latest,
        } => t!("risk.csat_unsatisfied", latest = latest),
        RiskReason::OpenComplaints { count, oldest_days } => t!(
            "risk.open_complaints",
            complaints = tn!("count.complaint", *count),
            oldest = tn!("count.day", *oldest_days)
        ),
        RiskReason::LongSilence { days_since_contact } => t!(
            "risk.long_silence",
            days = tn!("count.day", *days_since_contact)
        ),
    }
}

/// The keys customers are shown by in analytic output, from the store's key columns
/// alone ([`solocrm_core::CustomerKeys`]; decoding whole customers to print a key cost
/// most of `rfm --json`'s time, issue 14): each customer's key is made when it is
/// shown, borrowed from the keys read ([`CustomerKey::shown`](crate::parse::CustomerKey::shown)),
/// on whichever thread shows it. Building a table of every key up front was the
/// longest path of `rfm --json`.
pub(super) struct KeyTable {
    /// By ascending id (as [`ReadTx::customer_keys`](solocrm_core::port::ReadTx::customer_keys)
    /// gives them).
    keys: Vec<solocrm_core::CustomerKeys>,
}

/// The [`KeyTable`] of `keys`, every customer's keys by ascending id.
pub(super) fn key_table(mut keys: Vec<solocrm_core::CustomerKeys>) -> KeyTable {
    // The port promises ascending ids; a check is one pass.
    if !keys.is_sorted_by_key(|k| k.id) {
        keys.sort_unstable_by_key(|k| k.id);
    }
    KeyTable { keys }
}

impl KeyTable {
    /// The key `id` is shown by: its reference, else its email, else `#ID`
    /// ([`CustomerKey::of`](crate::parse::CustomerKey::of)); `None` for an erased or
    /// unknown customer (a caller shows their bare id).
    pub(super) fn get(&self, id: CustomerId) -> Option<std::borrow::Cow<'_, str>> {
        // Ids are dense in most books: the place the id would have without gaps first.
        let first = self.keys.first()?.id.get();
        let guess = id
            .get()
            .checked_sub(first)
            .and_then(|d| usize::try_from(d).ok())
            .and_then(|i| self.keys.get(i))
            .filter(|k| k.id == id);
        let k = match guess {
            Some(k) => k,
            None => {
                let i = self.keys.binary_search_by_key(&id, |k| k.id).ok()?;
                self.keys.get(i)?
            }
        };
        (!k.erased).then(|| crate::parse::CustomerKey::shown(k, None))
    }
}

pub fn report(
    ctx: &mut Ctx,
    range: &Range,
    by: Option<TrendBy>,
    group: &Group,
    engagement: Option<&str>,
) -> Result<()> {
    let config = report_config_with(engagement)?;
    let store = ctx.open()?;
    let period = period(ctx, range)?;
    let group = chosen(group);
    match by {
        None => dashboard(ctx, &store, period, None, group.as_ref(), &config),
        Some(by) => {
            let grain = match by {
                TrendBy::Month => Grain::Month,
                TrendBy::Quarter => Grain::Quarter,
            };
            let trend = Trend::load(&store, period, grain, &config, group.as_ref(), ctx.now)
                .map_err(group_failed)?;
            show_trend(ctx, &trend)
        }
    }
}

/// `report --by`: two tables of one row per period (and the total), readable on an
/// 80-column terminal; `--json` is the whole [`Trend`].
fn show_trend(ctx: &mut Ctx, trend: &Trend) -> Result<()> {
    if ctx.out.json {
        return ctx.out.json(&SortedKeys(trend));
    }
    let out = &mut ctx.out;
    let grain = match trend.by {
        Grain::Month => t!("grain.month"),
        Grain::Quarter => t!("grain.quarter"),
    };
    out.heading(t!(
        "trend.heading",
        grain = grain,
        from = trend.total.period.start,
        to = trend.total.as_of,
        currency = trend.total.report.currency
    ))?;
    if let Some(g) = &trend.group {
        out.line(group_line(g, trend.members.unwrap_or(0)))?;
    }
    out.line("")?;
    let rows: Vec<(String, &Dashboard)> = trend
        .periods
        .iter()
        .map(|p| {
            let mark = if p.partial { "*" } else { "" };
            (format!("{}{mark}", p.label), &p.dashboard)
        })
        .chain(std::iter::once((
            t!("trend.total").to_owned(),
            &trend.total,
        )))
        .collect();
    let pct = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.1}%"));
    let mut t = Table::new(&[
        "PERIOD",
        ">REVENUE",
        ">ORDERS",
        ">BUYERS",
        ">NEW",
        ">CHURN",
        ">RETENTION",
    ]);
    for (name, d) in &rows {
        let r = &d.report;
        t.row(vec![
            name.clone(),
            r.purchases.stats.revenue.amount().to_string(),
            r.purchases.stats.orders.to_string(),
            r.purchases.stats.buyers.to_string(),
            r.retention.base.acquired.to_string(),
            pct(d.churn_rate),
            pct(d.retention_rate),
        ]);
    }
    out.table(&t)?;
    out.line("")?;
    let mut t = Table::new(&[
        "PERIOD",
        ">NPS",
        ">CSAT",
        ">CES",
        ">CRR",
        ">REPEAT",
        ">NET REVENUE",
    ]);
    for (name, d) in &rows {
        t.row(vec![
            name.clone(),
            d.nps.map_or_else(|| "-".into(), |v| format!("{v:.1}")),
            pct(d.csat),
            d.ces.map_or_else(|| "-".into(), |v| format!("{v:.2}")),
            pct(d.crr),
            pct(d.repeat_purchase_rate),
            d.net_revenue.clone(),
        ]);
    }
    out.table(&t)?;
    if trend.periods.iter().any(|p| p.partial) {
        out.line(t!("trend.partial"))?;
    }
    ctx.say(t!("trend.footer"))
}

pub fn rfm_cmd(
    ctx: &mut Ctx,
    as_of: Option<&str>,
    ties: Ties,
    top: Option<usize>,
    group: &Group,
) -> Result<()> {
    let store = ctx.open()?;
    let day = ctx.as_of_day(as_of)?;
    let tie_rule = match ties {
        Ties::Shared => TieRule::Shared,
        Ties::Ordinal => TieRule::Ordinal,
    };
    let group = chosen(group);
    let at = group_instant(ctx, day);
    // From every buyer's kept purchase summary, not the purchase log (ADR 0057); a
    // group's RFM ranks its buyers among themselves. The customers' keys are read on a
    // second thread meanwhile, in the same snapshot (issue 14).
    let (found, keys) = read_as_of_day_beside(
        &store,
        day,
        ctx.now,
        |r| {
            Ok(match members_in(&r, group.as_ref(), at) {
                Ok(members) => {
                    let table = rfm_table(&r, day, tie_rule, members.as_ref())?;
                    Ok((members, table))
                }
                Err(e) => Err(e),
            })
        },
        |r| Ok(key_table(r.customer_keys()?)),
    )?;
    let (members, table) = found.map_err(group_failed)?;
    let table = table?;
    let key = |id: CustomerId| {
        keys.get(id)
            .unwrap_or_else(|| std::borrow::Cow::Owned(id.to_string()))
    };
    // The ranking `--top` keeps the first of: the best RFM code, then the most spent.
    // (Not sorted for a whole JSON document, which is in customer order.)
    let mut ranked: Vec<_> = table.rows().collect();
    if !ctx.out.json || top.is_some() {
        ranked.sort_by(|a, b| {
            (b.score.code(), b.monetary.amount()).cmp(&(a.score.code(), a.monetary.amount()))
        });
    }
    if ctx.out.json {
        // Everything, in customer order, unless --top asks for the first N of the
        // ranking (then in ranking order).
        ranked.truncate(top.unwrap_or(usize::MAX));
        // Written straight from the rows (no `Value` tree); the fields in the order the
        // tree had them (serde_json's maps sort their keys), so the text is the same.
        // The keys are borrowed: no `String` per row; each row made as it is laid out,
        // on two threads, and writing its own fields (issue 14).
        struct Row<'k> {
            customer: std::borrow::Cow<'k, str>,
            row: solocrm_core::metrics::RfmRow,
        }
        impl crate::output::WrittenRow for Row<'_> {
            fn write_fields<W: std::io::Write + ?Sized>(
                &self,
                out: &mut crate::output::RowFields<'_, W>,
            ) -> std::io::Result<()> {
                let r = &self.row;
                out.value("customer", &self.customer)?;
                out.int("f", r.score.f())?;
                out.int("frequency", r.frequency)?;
                out.int("m", r.score.m())?;
                out.decimal("monetary", &r.monetary.amount())?;
                out.int("r", r.score.r())?;
                out.int("recency_days", r.recency_days)?;
                out.value("segment", r.segment.label())
            }
        }
        let mut doc = ctx.out.json_fields()?;
        doc.field("as_of", &day)?;
        doc.rows_written("customers", &ranked, |r| Row {
            customer: key(r.customer),
            row: *r,
        })?;
        return Ok(doc.end()?);
    }
    let rows = ranked;
    if let (Some(g), Some(m)) = (&group, &members) {
        ctx.out.line(group_line(g, m.len()))?;
    }
    let shown = top.unwrap_or(TABLE_TOP);
    let mut t = Table::new(&[
        "CUSTOMER",
        ">RECENCY",
        ">FREQUENCY",
        ">MONETARY",
        "RFM",
        "SEGMENT",
    ]);
    for r in rows.iter().take(shown) {
        t.row(vec![
            key(r.customer).into_owned(),
            r.recency_days.to_string(),
            r.frequency.to_string(),
            r.monetary.to_string(),
            r.score.code().to_string(),
            label(r.segment).to_owned(),
        ]);
    }
    ctx.out.table(&t)?;
    ctx.say(t!(
        "rfm.footer",
        shown = rows.len().min(shown),
        customers = tn!("count.customer", rows.len()),
        day = day,
        ties = tie_rule.as_str(),
        more = more_hint(rows.len(), shown)
    ))
}

/// How many rows a ranked table shows without `--top`.
pub const TABLE_TOP: usize = 20;

/// `; --top N shows more` when the table left rows out.
pub fn more_hint(total: usize, shown: usize) -> String {
    if total > shown {
        t!("more.top", total = total)
    } else {
        String::new()
    }
}

pub fn cohort(
    ctx: &mut Ctx,
    by: CohortBy,
    as_of: Option<&str>,
    revenue: bool,
    group: &Group,
) -> Result<()> {
    let store = ctx.open()?;
    let day = ctx.as_of_day(as_of)?;
    let grain = match by {
        CohortBy::Month => CohortGrain::Month,
        CohortBy::Week => CohortGrain::Week,
    };
    let group = chosen(group);
    let at = group_instant(ctx, day);
    let (log, members) = read_as_of_day(&store, day, ctx.now, |r| {
        Ok((r.purchase_log()?, members_in(&r, group.as_ref(), at)))
    })?;
    let members = members.map_err(group_failed)?;
    // A group's cohorts are its buyers, by their first purchase.
    let log = match &members {
        Some(m) => only_members_log(&log, m),
        None => log,
    };
    let m = cohort_matrix(&log, grain, day)?;
    if ctx.out.json {
        return ctx.out.json(&m);
    }
    if let (Some(g), Some(members)) = (&group, &members) {
        ctx.out.line(group_line(g, members.len()))?;
    }
    let width = m
        .rows
        .iter()
        .map(|r| r.customers.len())
        .max()
        .unwrap_or(0)
        .min(13);
    let mut columns: Vec<String> = vec!["COHORT".into(), ">SIZE".into()];
    columns.extend((0..width).map(|i| format!(">+{i}")));
    let column_refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut t = Table::new(&column_refs);
    for row in &m.rows {
        let mut cells = vec![row.start.to_string(), row.size.to_string()];
        for i in 0..width {
            cells.push(if revenue {
                row.revenue
                    .get(i)
                    .map_or_else(String::new, |v| v.amount().round().to_string())
            } else {
                row.customers.get(i).map_or_else(String::new, |&n| {
                    // Rounded half up to a whole percent.
                    if row.size == 0 {
                        "-".into()
                    } else {
                        format!("{}%", (n * 200 + row.size) / (2 * row.size))
                    }
                })
            });
        }
        t.row(cells);
    }
    ctx.out.table(&t)?;
    let what = if revenue {
        t!("cohort.revenue", currency = m.currency)
    } else {
        t!("cohort.share").to_owned()
    };
    ctx.say(t!(
        "cohort.footer",
        what = what,
        grain = grain_name(grain),
        width = width
    ))
}

fn grain_name(g: CohortGrain) -> &'static str {
    match g {
        CohortGrain::Month => t!("grain.month"),
        CohortGrain::Week => t!("grain.week"),
    }
}

pub fn pipeline(ctx: &mut Ctx, range: &Range, group: &Group) -> Result<()> {
    let store = ctx.open()?;
    let period = period(ctx, range)?;
    let group = chosen(group);
    let at = group_instant(ctx, period.last_day());
    let (mut deals, members) = read_as_of_day(&store, period.last_day(), ctx.now, |r| {
        Ok((
            r.deals(&OpenQuery::default())?,
            members_in(&r, group.as_ref(), at),
        ))
    })?;
    let members = members.map_err(group_failed)?;
    // A group's pipeline is its customers' deals.
    if let Some(m) = &members {
        deals.retain(|d| m.contains(d.customer()));
    }
    let m = pipeline_metrics(
        &deals,
        &ReportConfig::default().stage_probabilities,
        period,
        store.base_currency(),
    )?;
    if ctx.out.json {
        return ctx.out.json(&m);
    }
    ctx.out.heading(t!(
        "pipeline.heading",
        from = period.start(),
        to = period.last_day()
    ))?;
    if let (Some(g), Some(m)) = (&group, &members) {
        ctx.out.line(group_line(g, m.len()))?;
    }
    let mut t = Table::new(&["STAGE", ">REACHED", ">ADVANCED", ">CONVERSION"]);
    for s in &m.stage_conversion {
        t.row(vec![
            label(s.stage).to_owned(),
            s.reached.to_string(),
            s.advanced.to_string(),
            show_percent(&s.rate),
        ]);
    }
    ctx.out.table(&t)?;
    ctx.out.line(t!(
        "pipeline.footer",
        win_rate = show_percent(&m.win_rate.clone().map(|w| w.rate)),
        cycle = m.cycle_time.value().map_or_else(
            || "-".into(),
            |c| tn!("count.day", c.average_days.round_dp(1))
        ),
        deals = tn!("count.deal", m.pipeline.open_deals),
        total = m.pipeline.total,
        weighted = m.pipeline.weighted,
        velocity = show(&m.sales_velocity),
    ))
}

pub fn churn_risk(
    ctx: &mut Ctx,
    as_of: Option<&str>,
    top: Option<usize>,
    group: &Group,
) -> Result<()> {
    let store = ctx.open()?;
    let at = ctx.as_of(as_of)?;
    let group = chosen(group);
    let until = ActivityQuery {
        customer: None,
        range: solocrm_core::TimeRange::until(at + chrono::Duration::seconds(1)),
        include_voided: false,
    };
    // The interactions the warnings look at: those before `until` and before the end
    // of the day, of which each customer's latest alone counts.
    let day_end = ctx.zone().end_of(ctx.day(at));
    let contacts_until = until.range.to.map_or(day_end, |to| to.min(day_end));
    // One snapshot of the books as they stood at the end of the day; the purchases on
    // a second thread meanwhile (ADR 0070).
    let ((stages, surveys, requests, contacts, members), log) = read_as_of_day_beside(
        &store,
        ctx.day(at),
        ctx.now,
        |r| {
            Ok((
                r.customer_stages()?,
                r.surveys(&until)?,
                r.requests(&OpenQuery::default())?,
                r.tx().last_interactions(contacts_until)?,
                members_in(&r, group.as_ref(), at),
            ))
        },
        // Only each customer's purchase days count, in any order.
        |r| r.purchase_log_by_customer(),
    )?;
    let members = members.map_err(group_failed)?;
    // The customers are read by their stage alone and the interactions by each
    // customer's latest (`churn_warnings_by_contacts`).
    let activity = Activity {
        customers: &[],
        log: &log,
        surveys: &surveys,
        requests: &requests,
        interactions: &[],
    };
    let mut warnings = churn_warnings_by_contacts(
        &stages,
        &contacts,
        &activity,
        &LifecyclePolicy::default(),
        &WarningConfig::default(),
        ctx.day(at),
    )?;
    // Each customer's warning reads only their own records, so the group's list is
    // the whole list cut to its members.
    if let Some(m) = &members {
        warnings.retain(|w| m.contains(w.customer));
    }
    if ctx.out.json {
        let n = top.unwrap_or(usize::MAX);
        return ctx.out.json(&warnings.iter().take(n).collect::<Vec<_>>());
    }
    let top = top.unwrap_or(TABLE_TOP);
    let mut names = super::CustomerNames::default();
    let mut t = Table::new(&[">CUSTOMER", "NAME", "STAGE", ">RISK", "WHY"]);
    for w in warnings.iter().take(top) {
        let why: Vec<String> = w.factors.iter().map(|f| risk_reason(&f.reason)).collect();
        t.row(vec![
            w.customer.to_string(),
            names.of(&store, w.customer)?,
            label(w.stage).to_owned(),
            w.score.to_string(),
            why.join(t!("risk.separator")),
        ]);
    }
    if let (Some(g), Some(m)) = (&group, &members) {
        ctx.out.line(group_line(g, m.len()))?;
    }
    if warnings.is_empty() {
        return ctx.out.line(t!("churn.nobody", day = ctx.day(at)));
    }
    ctx.out.table(&t)?;
    ctx.say(t!(
        "churn.footer",
        shown = warnings.len().min(top),
        customers = tn!("count.customer", warnings.len()),
        day = ctx.day(at),
        more = more_hint(warnings.len(), top)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solocrm_core::{CustomerKeys, Email, ExternalRef};

    fn keys(id: u64, reference: Option<&str>, email: Option<&str>, erased: bool) -> CustomerKeys {
        CustomerKeys {
            id: CustomerId::new(id),
            external_ref: reference.map(|r| ExternalRef::parse(r).expect("a reference")),
            email: email.map(|e| Email::parse(e).expect("an email")),
            erased,
        }
    }

    #[test]
    fn the_key_table_finds_each_customer_with_gaps_and_out_of_order_and_skips_the_erased() {
        let all = vec![
            keys(3, Some("C-3"), Some("c3@example.cn"), false),
            keys(4, None, Some("王芳@example.cn"), false),
            keys(5, None, None, false),
            keys(9, Some("#9"), Some("nine@example.cn"), false),
            keys(10, None, None, true),
            keys(12, Some("客户-12"), None, false),
        ];
        for table in [
            key_table(all.clone()),
            key_table(all.into_iter().rev().collect()),
        ] {
            let shown = |id: u64| table.get(CustomerId::new(id)).map(|k| k.into_owned());
            assert_eq!(shown(3).as_deref(), Some("C-3"));
            assert_eq!(shown(4).as_deref(), Some("王芳@example.cn"));
            assert_eq!(shown(5).as_deref(), Some("#5"));
            // A reference that reads as an id is passed over for the email.
            assert_eq!(shown(9).as_deref(), Some("nine@example.cn"));
            assert_eq!(shown(10), None, "erased");
            assert_eq!(shown(12).as_deref(), Some("客户-12"));
            for unknown in [1, 2, 6, 11, 13, u64::MAX] {
                assert_eq!(shown(unknown), None, "{unknown}");
            }
        }
        assert_eq!(key_table(Vec::new()).get(CustomerId::new(1)), None);
    }
}
