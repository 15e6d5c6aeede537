//! The analytic views (issue 15): the RFM grid and its buyers, the churn-risk list,
//! the cohort heatmap, the CLV of a fitted model, and the saved segments, each
//! computed as the CLI's `rfm`, `churn-risk`, `cohort`, `clv` and `segment list`/`show`
//! compute them (as of now; CLV up to a calibration day), and narrowed by
//! `?segment=NAME` or `?stage=STAGE` as `--segment`/`--stage` narrow them (ADR 0026).
//!
//! Each page takes `?as_of=YYYY-MM-DD` as the CLI's `--as-of` (the books as they
//! stood at the end of that day, [`read_as_of_day`]); a day that does not parse or is
//! after today is a 422 with the message beside the date field, the page shown as of
//! today (ADR 0041). On `/clv` the day is the calibration end (`?end=`).
//!
//! A bad query value (an unknown segment, a stage or page that does not parse, both a
//! segment and a stage, an unknown RFM segment, cohort period or model, a bad day) is a
//! 422 page that names it; nothing here answers 500 for one.

use solocrm_app::groups::{CustomerGroup, GroupError, Members, only_members_log};
use solocrm_app::history::read_as_of_day;
use solocrm_app::rfm::rfm_table;
use solocrm_core::metrics::{
    Activity, ChurnWarning, CohortGrain, CohortMatrix, RfmRow, RfmScore, RfmSegment, RiskReason,
    TieRule, WarningConfig, churn_warnings, cohort_matrix,
};
use solocrm_core::{ActivityQuery, LifecyclePolicy, OpenQuery, Reader, Segment, TimeRange};
use solocrm_models::{
    BgNbd, CountData, CustomerSummary, FitOptions, Fitted, GuardOptions, GuardedClv, MbgNbd,
    ModelError, ParetoNbd, PurchaseModel, SummaryOptions, TimeUnit, clv_money, guarded_clv,
};

use super::*;

/// Rows per page of the analytic lists.
const ROWS: usize = 50;

impl From<GroupError> for Failure {
    fn from(e: GroupError) -> Self {
        match e {
            GroupError::UnknownSegment(_) | GroupError::TooManyPeriods { .. } => {
                Failure::Invalid(e.to_string())
            }
            GroupError::Report(e) => e.into(),
        }
    }
}

/// What an analytic page's query asks: its group, its page, and the words of the
/// links to keep them.
pub(super) struct Asked {
    pub(super) group: Option<CustomerGroup>,
    pub(super) page: usize,
    pub(super) segment: String,
    pub(super) stage: String,
    /// `?as_of=` as typed (trimmed; empty for today).
    as_of: String,
    /// Why `as_of` was refused, once [`Asked::day`] has checked it.
    as_of_error: Option<String>,
}

impl Asked {
    /// Every customer, the first page: what a page without a query asks.
    pub(super) fn all() -> Asked {
        Asked {
            group: None,
            page: 1,
            segment: String::new(),
            stage: String::new(),
            as_of: String::new(),
            as_of_error: None,
        }
    }

    /// Reads `segment`, `stage` and `page` of the query; `Failure::Invalid` names a
    /// bad one.
    pub(super) fn read(l: Lang, q: &HashMap<String, String>) -> Result<Asked, Failure> {
        let segment = non_empty(q, "segment").unwrap_or_default();
        let stage = non_empty(q, "stage").unwrap_or_default();
        let group = match (segment.is_empty(), stage.is_empty()) {
            (true, true) => None,
            (false, false) => return Err(Failure::Invalid(l.t("group.both").to_owned())),
            (false, true) => Some(CustomerGroup::Segment(
                Label::parse(&segment).map_err(|e| Failure::Invalid(e.to_string()))?,
            )),
            (true, false) => Some(CustomerGroup::Stage(
                LifecycleStage::parse(&stage).map_err(|e| Failure::Invalid(e.to_string()))?,
            )),
        };
        let page = match non_empty(q, "page") {
            None => 1,
            Some(p) => p
                .parse::<usize>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| Failure::Invalid(l.f("error.bad_page", &[("page", &p)])))?,
        };
        Ok(Asked {
            group,
            page,
            segment,
            stage,
            as_of: non_empty(q, "as_of").unwrap_or_default(),
            as_of_error: None,
        })
    }

    /// The day the page is computed as of: `?as_of=` or today in `zone`. A day that
    /// does not parse or is after today is refused (kept in `as_of_error`, for the
    /// 422 beside the field) and the page shows today.
    fn day(&mut self, l: Lang, zone: BusinessZone, now: DateTime<Utc>) -> NaiveDate {
        let (day, error) = as_of_day(l, &self.as_of, zone, now);
        self.as_of_error = error;
        day
    }

    /// 422 when `?as_of=` was refused, else 200.
    fn status(&self) -> StatusCode {
        if self.as_of_error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        }
    }

    /// The link to `path` with this group and `extra` pairs.
    pub(super) fn link(&self, path: &str, extra: &[(&str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.as_of.is_empty() && self.as_of_error.is_none() {
            pairs.push(("as_of", self.as_of.clone()));
        }
        if !self.segment.is_empty() {
            pairs.push(("segment", self.segment.clone()));
        }
        if !self.stage.is_empty() {
            pairs.push(("stage", self.stage.clone()));
        }
        pairs.extend(extra.iter().cloned());
        if pairs.is_empty() {
            return path.to_owned();
        }
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }
}

/// The day of `?as_of=` (`typed`, empty for today): a `YYYY-MM-DD` not after today
/// in `zone`. A refused day gives today and the message.
fn as_of_day(
    l: Lang,
    typed: &str,
    zone: BusinessZone,
    now: DateTime<Utc>,
) -> (NaiveDate, Option<String>) {
    let today = zone.date_of(now);
    if typed.is_empty() {
        return (today, None);
    }
    match solocrm_app::values::date(typed) {
        Err(e) => (today, Some(e.to_string())),
        Ok(d) if d > today => (
            today,
            Some(l.f("asof.after_today", &[("day", &d), ("today", &today)])),
        ),
        Ok(d) => (d, None),
    }
}

/// The instant a view of `day` stands at: the last second of the day, as the CLI's
/// `--as-of DAY` (`values::as_of_in`), or now for today.
fn as_of_instant(zone: BusinessZone, day: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    (zone.end_of(day) - chrono::TimeDelta::seconds(1)).min(now)
}

/// The date field of `?as_of=`, with its message when it was refused.
fn as_of_field(l: Lang, form: &str, asked: &Asked) -> Markup {
    let values = HashMap::from([("as_of".to_owned(), asked.as_of.clone())]);
    let state = asked
        .as_of_error
        .as_ref()
        .map(|m| FormState::new(form, "as_of", m.clone(), &values));
    field(
        state.as_ref(),
        form,
        "as_of",
        l.t("asof.label"),
        "date",
        &asked.as_of,
    )
}

/// The rows of page `page` (1-based) of `items`, and whether a later page exists.
fn page_of<T: Clone>(items: &[T], page: usize) -> (Vec<T>, bool) {
    let start = (page - 1).saturating_mul(ROWS);
    let rows: Vec<T> = items.iter().skip(start).take(ROWS).cloned().collect();
    (rows, start.saturating_add(ROWS) < items.len())
}

/// The group filter: the `as_of` day (if `with_day`), a select of the saved
/// segments, one of the stages, and the button; `extra` hidden fields keep the page's
/// other choices.
pub(super) fn group_form(
    l: Lang,
    action: &str,
    segments: &[Label],
    asked: &Asked,
    extra: &[(&str, &str)],
    with_day: bool,
) -> Markup {
    html! {
        form.inline.group method="get" action=(action) {
            @for (name, value) in extra {
                input type="hidden" name=(name) value=(value);
            }
            @if with_day { (as_of_field(l, "group", asked)) }
            div.field {
                label for="group-segment" { (l.t("group.segment")) }
                select #group-segment name="segment" {
                    option value="" { (l.t("group.any_segment")) }
                    @for s in segments {
                        @if s.as_str() == asked.segment {
                            option value=(s.as_str()) selected { (s.as_str()) }
                        } @else {
                            option value=(s.as_str()) { (s.as_str()) }
                        }
                    }
                }
            }
            div.field {
                label for="group-stage" { (l.t("col.stage")) }
                select #group-stage name="stage" {
                    option value="" { (l.t("customers.any_stage")) }
                    @for s in LifecycleStage::ALL {
                        @if s.as_str() == asked.stage {
                            option value=(s.as_str()) selected { (stage_label(l, *s)) }
                        } @else {
                            option value=(s.as_str()) { (stage_label(l, *s)) }
                        }
                    }
                }
            }
            button type="submit" { (l.t("group.show")) }
        }
    }
}

/// The line that says whom a filtered page measures.
pub(super) fn group_line(l: Lang, group: Option<&CustomerGroup>, members: Option<usize>) -> Markup {
    let (Some(group), Some(n)) = (group, members) else {
        return html! {};
    };
    let text = match group {
        CustomerGroup::Segment(name) => {
            l.f("group.only_segment", &[("name", &name.as_str()), ("n", &n)])
        }
        CustomerGroup::Stage(stage) => l.f(
            "group.only_stage",
            &[("stage", &stage_label(l, *stage)), ("n", &n)],
        ),
    };
    html! { p.group-line { bdi { (text) } } }
}

/// The previous and next links of a paginated list.
fn pager(l: Lang, asked: &Asked, path: &str, more: bool, extra: &[(&str, String)]) -> Markup {
    let at = |page: usize| {
        let mut pairs = extra.to_vec();
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        asked.link(path, &pairs)
    };
    html! {
        nav.pages {
            @if asked.page > 1 { a rel="prev" href=(at(asked.page - 1)) { (l.t("customers.previous")) } }
            @if more { a rel="next" href=(at(asked.page + 1)) { (l.t("customers.next")) } }
        }
    }
}

/// The members of `group` in the reader's snapshot, decided at `at`; an unknown
/// segment is a `Failure::Invalid` in the page's language.
pub(super) fn members_of(
    l: Lang,
    r: &Reader<'_>,
    group: Option<&CustomerGroup>,
    at: DateTime<Utc>,
) -> Result<Option<Members>, Failure> {
    match group.map(|g| g.members(r, at)).transpose() {
        Err(GroupError::UnknownSegment(name)) => Err(unknown_segment(l, &name)),
        other => Ok(other?),
    }
}

/// The failure of a segment name nobody saved.
fn unknown_segment(l: Lang, name: &Label) -> Failure {
    Failure::Invalid(l.f("group.unknown_segment", &[("name", &name.as_str())]))
}

/// The names of the saved segments, for the filter's select.
pub(super) fn segment_names(r: &Reader<'_>) -> Result<Vec<Label>, StoreError> {
    Ok(r.segments()?.into_iter().map(|s| s.name).collect())
}

/// The page of a failed analytic request: a bad query value is a 422 with the
/// message (and the filter, to pick again); the rest as every page fails.
pub(super) fn analytic_failure(ctx: &Ctx, title: &str, f: Failure) -> Response {
    match f {
        Failure::Invalid(m) => respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            frame(ctx, title, html! { p.message role="alert" { (m) } }),
        ),
        other => failure(ctx, other),
    }
}

// ---------------------------------------------------------------------------------
// RFM

/// What `/rfm` shows.
struct RfmView {
    day: NaiveDate,
    segments: Vec<Label>,
    members: Option<usize>,
    /// Buyers per (R, FM) cell, `[r - 1][fm - 1]`.
    cells: [[usize; 5]; 5],
    /// Buyers per RFM segment, in [`RfmSegment::ALL`] order.
    counts: Vec<(RfmSegment, usize)>,
    /// The buyers listed (after the `rfm=` choice), how many, and this page of them
    /// with their names.
    listed: usize,
    rows: Vec<(RfmRow, String)>,
    more: bool,
}

/// The RFM table of the books as of `day` (the CLI's `rfm`: shared ties, a group's
/// buyers ranked among themselves), with the group's size.
///
/// # Errors
///
/// The store's; an unknown segment; the metric's.
fn rfm_rows(
    l: Lang,
    r: &Reader<'_>,
    day: NaiveDate,
    at: DateTime<Utc>,
    group: Option<&CustomerGroup>,
) -> Result<(Vec<RfmRow>, Option<usize>), Failure> {
    let members = members_of(l, r, group, at)?;
    // From every buyer's kept purchase summary, not the purchase log (ADR 0057).
    let table = rfm_table(r, day, TieRule::Shared, members.as_ref())??;
    // The CLI's ranking: the best RFM code first, then the most spent.
    let mut rows: Vec<RfmRow> = table.rows().collect();
    rows.sort_by(|a, b| {
        (b.score.code(), b.monetary.amount()).cmp(&(a.score.code(), a.monetary.amount()))
    });
    Ok((rows, members.map(|m| m.len())))
}

/// The books' time zone, read on the blocking pool.
async fn zone_of(st: &AppState) -> Result<BusinessZone, Failure> {
    let books = st.inner.books.clone();
    blocking(move || Ok(books.time_zone()?)).await
}

/// The name a list shows for a customer (its number if the snapshot lacks it).
fn name_of(r: &Reader<'_>, id: CustomerId) -> Result<String, StoreError> {
    match r.customer(id) {
        Ok(c) => Ok(c.name().to_string()),
        Err(e) if e.kind() == StoreErrorKind::NotFound => Ok(format!("#{id}")),
        Err(e) => Err(e),
    }
}

/// `GET /rfm`: the RFM grid of today and the buyers, best first, 50 a page;
/// `?rfm=SEGMENT` lists one RFM segment's buyers.
pub async fn rfm_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let title = l.t("rfm.title");
    let mut asked = match Asked::read(l, &q) {
        Ok(a) => a,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let only = match non_empty(&q, "rfm") {
        None => None,
        Some(s) => match RfmSegment::ALL.iter().find(|g| g.as_str() == s) {
            Some(g) => Some(*g),
            None => {
                let m = l.f("error.bad_rfm", &[("name", &s)]);
                return analytic_failure(&ctx, title, Failure::Invalid(m));
            }
        },
    };
    let now = st.now();
    let inner = st.inner.clone();
    let group = asked.group.clone();
    let page = asked.page;
    let zone = match zone_of(&st).await {
        Ok(z) => z,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let day = asked.day(l, zone, now);
    let loaded = blocking(move || {
        let books = &inner.books;
        let at = zone.end_of(day).min(now);
        read_as_of_day(books, day, now, |r| {
            Ok((|| {
                let segments = segment_names(&r)?;
                let (all, members) = rfm_rows(l, &r, day, at, group.as_ref())?;
                let mut cells = [[0usize; 5]; 5];
                let mut counts: Vec<(RfmSegment, usize)> =
                    RfmSegment::ALL.iter().map(|s| (*s, 0)).collect();
                for row in &all {
                    let (ri, fi) = (
                        usize::from(row.score.r().clamp(1, 5)) - 1,
                        usize::from(row.score.fm().clamp(1, 5)) - 1,
                    );
                    cells[ri][fi] += 1;
                    if let Some(c) = counts.iter_mut().find(|(s, _)| *s == row.segment) {
                        c.1 += 1;
                    }
                }
                let listed: Vec<RfmRow> = all
                    .into_iter()
                    .filter(|row| only.is_none_or(|s| row.segment == s))
                    .collect();
                let (this_page, more) = page_of(&listed, page);
                let rows = this_page
                    .into_iter()
                    .map(|row| Ok((row, name_of(&r, row.customer)?)))
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Ok::<_, Failure>(RfmView {
                    day,
                    segments,
                    members,
                    cells,
                    counts,
                    listed: listed.len(),
                    rows,
                    more,
                })
            })())
        })?
    })
    .await;
    match loaded {
        Ok(view) => respond(
            asked.status(),
            frame(&ctx, title, rfm_body(l, &asked, only, &view)),
        ),
        Err(f) => analytic_failure(&ctx, title, f),
    }
}

/// The SVG grid of buyers by recency (rows, 5 at the top) and frequency-monetary
/// (columns), each cell's shade by its share of the largest cell, with the counts per
/// RFM segment in a data table beside it.
fn rfm_grid(l: Lang, asked: &Asked, view: &RfmView) -> Markup {
    const CELL: usize = 56;
    const LEFT: usize = 28;
    const TOP: usize = 8;
    let max = view.cells.iter().flatten().copied().max().unwrap_or(0);
    let size = LEFT + 5 * CELL;
    let height = TOP + 5 * CELL + 28;
    let shade = |n: usize| {
        if max == 0 || n == 0 {
            return "0".to_owned();
        }
        // An opacity in hundredths, from 0.08 (so a small cell still shows) to 0.60
        // (so its number stays readable on it).
        let share = i64::try_from(n * 52 / max + 8).unwrap_or(60);
        Decimal::new(share, 2).to_string()
    };
    let title = l.t("rfm.grid_title");
    html! {
        figure.chart #rfm-grid {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="rfm-grid-title"
                viewBox=(format!("0 0 {size} {height}")) width=(size) height=(height) {
                title #rfm-grid-title { (title) }
                @for (ri, row) in view.cells.iter().enumerate() {
                    @let r = ri + 1;
                    @let y = TOP + (5 - r) * CELL;
                    text x=(LEFT / 2) y=(y + CELL / 2 + 4) text-anchor="middle" font-size="11" { "R" (r) }
                    @for (fi, n) in row.iter().enumerate() {
                        @let fm = fi + 1;
                        @let x = LEFT + fi * CELL;
                        @let segment = cell_segment(r, fm);
                        g.cell {
                            rect x=(x) y=(y) width=(CELL - 2) height=(CELL - 2)
                                fill="currentColor" fill-opacity=(shade(*n)) stroke="currentColor"
                                stroke-opacity="0.3" data-count=(n) {
                                title { "R" (r) " FM" (fm) " · " (segment.map_or("", |s| l.label("rfm", s.as_str()))) ": " (n) }
                            }
                            text x=(x + CELL / 2 - 1) y=(y + CELL / 2 + 4) text-anchor="middle" font-size="12" { (n) }
                        }
                    }
                }
                @for fi in 0..5usize {
                    text x=(LEFT + fi * CELL + CELL / 2) y=(TOP + 5 * CELL + 16) text-anchor="middle" font-size="11" { "FM" (fi + 1) }
                }
            }
            table.data #rfm-segments {
                caption { (l.t("rfm.segments_caption")) }
                thead { tr { th scope="col" { (l.t("col.rfm_segment")) } th scope="col" { (l.t("col.buyers")) } } }
                tbody {
                    @for (segment, n) in &view.counts {
                        tr data-segment=(segment.as_str()) {
                            th scope="row" { a href=(asked.link("/rfm", &[("rfm", segment.as_str().to_owned())])) { (l.label("rfm", segment.as_str())) } }
                            td.num { (n) }
                        }
                    }
                }
            }
        }
    }
}

/// The RFM segment of the grid's cell (R, FM): that of the score R, FM, FM.
fn cell_segment(r: usize, fm: usize) -> Option<RfmSegment> {
    let (r, fm) = (u8::try_from(r).ok()?, u8::try_from(fm).ok()?);
    RfmScore::new(r, fm, fm).ok().map(RfmScore::segment)
}

fn rfm_body(l: Lang, asked: &Asked, only: Option<RfmSegment>, view: &RfmView) -> Markup {
    let only_value = only.map(|s| s.as_str()).unwrap_or_default();
    let keep: Vec<(&str, String)> = only
        .map(|s| vec![("rfm", s.as_str().to_owned())])
        .unwrap_or_default();
    html! {
        (group_form(l, "/rfm", &view.segments, asked, &[], true))
        (group_line(l, asked.group.as_ref(), view.members))
        p.explain { (l.f("rfm.explain", &[("day", &view.day)])) }
        (rfm_grid(l, asked, view))
        h2 #buyers {
            @if let Some(s) = only { (l.f("rfm.buyers_of", &[("segment", &l.label("rfm", s.as_str()))])) }
            @else { (l.t("rfm.buyers")) }
        }
        @if !only_value.is_empty() {
            p { a href=(asked.link("/rfm", &[])) { (l.t("rfm.all_buyers")) } }
        }
        p.count { (l.f("rfm.listed", &[("n", &view.listed)])) }
        @if view.rows.is_empty() {
            p.empty { (l.t("rfm.none")) }
        } @else {
            table.rfm {
                thead { tr {
                    th { (l.t("col.name")) } th.num { (l.t("col.recency")) }
                    th.num { (l.t("col.frequency")) } th.num { (l.t("col.monetary")) }
                    th.num { "R" } th.num { "F" } th.num { "M" } th { (l.t("col.rfm_segment")) }
                } }
                tbody {
                    @for (row, name) in &view.rows {
                        tr data-customer=(row.customer) {
                            td { a href=(format!("/customers/{}", row.customer)) { bdi { (name) } } }
                            td.num { (row.recency_days) }
                            td.num { (row.frequency) }
                            td.num { (row.monetary) }
                            td.num { (row.score.r()) }
                            td.num { (row.score.f()) }
                            td.num { (row.score.m()) }
                            td data-segment=(row.segment.as_str()) { (l.label("rfm", row.segment.as_str())) }
                        }
                    }
                }
            }
        }
        (pager(l, asked, "/rfm", view.more, &keep))
    }
}

// ---------------------------------------------------------------------------------
// Churn risk

/// What `/churn` shows.
struct ChurnView {
    day: NaiveDate,
    segments: Vec<Label>,
    members: Option<usize>,
    total: usize,
    rows: Vec<(ChurnWarning, String)>,
    more: bool,
}

/// The churn warnings of the books as of `at` (the CLI's `churn-risk`: the default
/// policy and warning settings, riskiest first), cut to the group, with its size.
///
/// # Errors
///
/// The store's; an unknown segment; the metric's.
fn churn_rows(
    l: Lang,
    r: &Reader<'_>,
    at: DateTime<Utc>,
    day: NaiveDate,
    group: Option<&CustomerGroup>,
) -> Result<(Vec<ChurnWarning>, Option<usize>), Failure> {
    let until = ActivityQuery {
        customer: None,
        range: TimeRange::until(at + chrono::Duration::seconds(1)),
        include_voided: false,
    };
    let customers = r.all_customers()?;
    let log = r.purchase_log()?;
    let surveys = r.surveys(&until)?;
    let requests = r.requests(&OpenQuery::default())?;
    let interactions = r.interactions(&until)?;
    let members = members_of(l, r, group, at)?;
    let activity = Activity {
        customers: &customers,
        log: &log,
        surveys: &surveys,
        requests: &requests,
        interactions: &interactions,
    };
    let mut warnings = churn_warnings(
        &activity,
        &LifecyclePolicy::default(),
        &WarningConfig::default(),
        day,
    )?;
    if let Some(m) = &members {
        warnings.retain(|w| m.contains(w.customer));
    }
    Ok((warnings, members.map(|m| m.len())))
}

/// A churn factor in the page's language.
fn risk_reason(l: Lang, reason: &RiskReason) -> String {
    if l == Lang::En {
        return reason.describe();
    }
    let days = |n: &dyn std::fmt::Display| l.f("count.day", &[("n", n)]);
    match reason {
        RiskReason::Overdue {
            days_since_last_purchase: d,
            overdue_after_days: t,
            median_gap_days: Some(g),
        } => l.f(
            "risk.overdue_gap",
            &[("days", &days(d)), ("threshold", t), ("gap", &days(g))],
        ),
        RiskReason::Overdue {
            days_since_last_purchase: d,
            overdue_after_days: t,
            median_gap_days: None,
        } => l.f("risk.overdue_once", &[("days", &days(d)), ("threshold", t)]),
        RiskReason::Approaching {
            days_since_last_purchase: d,
            overdue_after_days: t,
        } => l.f("risk.approaching", &[("days", &days(d)), ("threshold", t)]),
        RiskReason::Nps {
            previous: Some(p),
            latest,
        } => l.f("risk.nps_down", &[("latest", latest), ("previous", p)]),
        RiskReason::Nps {
            previous: None,
            latest,
        } => l.f("risk.nps_detractor", &[("latest", latest)]),
        RiskReason::Csat {
            previous: Some(p),
            latest,
        } => l.f("risk.csat_down", &[("latest", latest), ("previous", p)]),
        RiskReason::Csat {
            previous: None,
            latest,
        } => l.f("risk.csat_unsatisfied", &[("latest", latest)]),
        RiskReason::OpenComplaints { count, oldest_days } => l.f(
            "risk.open_complaints",
            &[("count", count), ("oldest", &days(oldest_days))],
        ),
        RiskReason::LongSilence { days_since_contact } => {
            l.f("risk.long_silence", &[("days", &days(days_since_contact))])
        }
    }
}

/// `GET /churn`: the customers at risk of churning as of now, riskiest first, with
/// the reasons, 50 a page.
pub async fn churn_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let title = l.t("churn.title");
    let mut asked = match Asked::read(l, &q) {
        Ok(a) => a,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let now = st.now();
    let inner = st.inner.clone();
    let group = asked.group.clone();
    let page = asked.page;
    let zone = match zone_of(&st).await {
        Ok(z) => z,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let day = asked.day(l, zone, now);
    let at = as_of_instant(zone, day, now);
    let loaded = blocking(move || {
        let books = &inner.books;
        read_as_of_day(books, day, now, |r| {
            Ok((|| {
                let segments = segment_names(&r)?;
                let (all, members) = churn_rows(l, &r, at, day, group.as_ref())?;
                let (this_page, more) = page_of(&all, page);
                let rows = this_page
                    .into_iter()
                    .map(|w| {
                        let name = name_of(&r, w.customer)?;
                        Ok((w, name))
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Ok::<_, Failure>(ChurnView {
                    day,
                    segments,
                    members,
                    total: all.len(),
                    rows,
                    more,
                })
            })())
        })?
    })
    .await;
    let view = match loaded {
        Ok(v) => v,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let body = html! {
        (group_form(l, "/churn", &view.segments, &asked, &[], true))
        (group_line(l, asked.group.as_ref(), view.members))
        p.explain { (l.f("churn.explain", &[("day", &view.day)])) }
        p.count { (l.f("churn.count", &[("n", &view.total)])) }
        @if view.rows.is_empty() {
            p.empty { (l.t("churn.none")) }
        } @else {
            table.churn {
                thead { tr {
                    th { (l.t("col.name")) } th { (l.t("col.stage")) }
                    th.num { (l.t("col.risk")) } th { (l.t("col.why")) }
                } }
                tbody {
                    @for (w, name) in &view.rows {
                        tr data-customer=(w.customer) {
                            td { a href=(format!("/customers/{}", w.customer)) { bdi { (name) } } }
                            td data-stage=(w.stage.as_str()) { (stage_label(l, w.stage)) }
                            td.num { (w.score) }
                            td {
                                ul.reasons {
                                    @for f in &w.factors { li { (risk_reason(l, &f.reason)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager(l, &asked, "/churn", view.more, &[]))
    };
    respond(asked.status(), frame(&ctx, title, body))
}

// ---------------------------------------------------------------------------------
// Saved segments

/// `GET /segments`: every saved segment, its condition and how many customers it
/// holds now, or at the end of `?as_of=YYYY-MM-DD` (the books as they stood then).
pub async fn segments_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let title = l.t("segments.title");
    let now = st.now();
    let zone = match zone_of(&st).await {
        Ok(z) => z,
        Err(f) => return failure(&ctx, f),
    };
    let mut asked = Asked {
        group: None,
        page: 1,
        segment: String::new(),
        stage: String::new(),
        as_of: non_empty(&q, "as_of").unwrap_or_default(),
        as_of_error: None,
    };
    let day = asked.day(l, zone, now);
    let at = as_of_instant(zone, day, now);
    let inner = st.inner.clone();
    let loaded = blocking(move || {
        Ok(read_as_of_day(&inner.books, day, now, |r| {
            let segments = r.segments()?;
            let mut rows: Vec<(Segment, usize)> = Vec::with_capacity(segments.len());
            for s in segments {
                let group = CustomerGroup::Segment(s.name.clone());
                let n = match group.members(&r, at) {
                    Ok(m) => m.len(),
                    Err(GroupError::Report(solocrm_core::ReportError::Store(e))) => {
                        return Err(e);
                    }
                    // Deleted between the two reads: not listed.
                    Err(_) => continue,
                };
                rows.push((s, n));
            }
            Ok(rows)
        })?)
    })
    .await;
    let rows = match loaded {
        Ok(v) => v,
        Err(f) => return failure(&ctx, f),
    };
    // A day asked and accepted is kept in the links to the views.
    let kept_day =
        (!asked.as_of.is_empty() && asked.as_of_error.is_none()).then(|| day.to_string());
    let body = html! {
        form.inline #segments-day method="get" action="/segments" {
            (as_of_field(l, "segments", &asked))
            button type="submit" { (l.t("form.show")) }
        }
        p.explain { (l.t("segments.explain")) }
        p.explain #segments-as-of { (l.f("asof.members_on", &[("day", &day)])) }
        @if rows.is_empty() {
            p.empty { (l.t("segments.none")) }
        } @else {
            table.segments {
                thead { tr {
                    th { (l.t("col.segment")) } th { (l.t("col.condition")) } th.num { (l.t("col.members")) }
                    th { (l.t("col.views")) }
                } }
                tbody {
                    @for (s, n) in &rows {
                        @let name = s.name.as_str();
                        @let q = serde_urlencoded::to_string([("segment", name)]).unwrap_or_default();
                        // The views keep the day the counts were taken on (the CLV
                        // view as its calibration end); the member list is today's.
                        @let at = |key: &str| match kept_day.as_deref() {
                            Some(d) => serde_urlencoded::to_string([("segment", name), (key, d)]).unwrap_or_default(),
                            None => q.clone(),
                        };
                        tr {
                            td { a href=(format!("/segments/members?{q}")) { bdi { (name) } } }
                            td { code { bdi { (s.predicate) } } }
                            td.num { (n) }
                            td {
                                a href=(format!("/rfm?{}", at("as_of"))) { (l.t("nav.rfm")) } " · "
                                a href=(format!("/churn?{}", at("as_of"))) { (l.t("nav.churn")) } " · "
                                a href=(format!("/cohorts?{}", at("as_of"))) { (l.t("nav.cohorts")) } " · "
                                a href=(format!("/clv?{}", at("end"))) { (l.t("nav.clv")) }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(asked.status(), frame(&ctx, title, body))
}

/// `GET /segments/members?segment=NAME`: the segment's customers now, by number, 50
/// a page.
pub async fn segment_members(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let title = l.t("segments.members_title");
    let asked = match Asked::read(l, &q) {
        Ok(a) => a,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let Some(CustomerGroup::Segment(name)) = asked.group.clone() else {
        let m = l.t("error.segment_needed").to_owned();
        return analytic_failure(&ctx, title, Failure::Invalid(m));
    };
    let now = st.now();
    let inner = st.inner.clone();
    let page = asked.page;
    let wanted = name.clone();
    let loaded = blocking(move || {
        inner.books.read(|r| {
            Ok((|| {
                let Some(segment) = r.segments()?.into_iter().find(|s| s.name == wanted) else {
                    return Err(unknown_segment(l, &wanted));
                };
                let members = r.all_matching(&CustomerQuery {
                    segment: Some(solocrm_core::SegmentFilter {
                        predicate: segment.predicate.clone(),
                        as_of: now,
                    }),
                    ..CustomerQuery::default()
                })?;
                let (rows, more) = page_of(&members, page);
                Ok::<_, Failure>((segment, members.len(), rows, more))
            })())
        })?
    })
    .await;
    let (segment, total, rows, more) = match loaded {
        Ok(v) => v,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let heading = l.f("segments.members_of", &[("name", &name.as_str())]);
    let body = html! {
        p { code { bdi { (segment.predicate) } } }
        p.count { (l.f("customers.found", &[("n", &total)])) }
        @if rows.is_empty() {
            p.empty { (l.t("customers.none")) }
        } @else {
            table.customers {
                thead { tr { th { (l.t("col.name")) } th { (l.t("col.stage")) } } }
                tbody {
                    @for c in &rows {
                        tr {
                            td { a href=(format!("/customers/{}", c.id())) { bdi { (c.name()) } } }
                            td data-stage=(c.stage().as_str()) { (stage_label(l, c.stage())) }
                        }
                    }
                }
            }
        }
        (pager(l, &asked, "/segments/members", more, &[]))
    };
    respond(StatusCode::OK, frame(&ctx, &heading, body))
}

// ---------------------------------------------------------------------------------
// Cohorts

/// The most periods after acquisition the heatmap shows (`+0` to `+12`), as the CLI's
/// table does.
const COHORT_WIDTH: usize = 13;

/// What `/cohorts` shows.
struct CohortView {
    segments: Vec<Label>,
    members: Option<usize>,
    matrix: CohortMatrix,
}

/// The cohort matrix of the books as of `day` (the CLI's `cohort`: a group's buyers,
/// by their first purchase), with the group's size.
///
/// # Errors
///
/// The store's; an unknown segment; the metric's.
fn cohort_of(
    l: Lang,
    r: &Reader<'_>,
    grain: CohortGrain,
    day: NaiveDate,
    at: DateTime<Utc>,
    group: Option<&CustomerGroup>,
) -> Result<(CohortMatrix, Option<usize>), Failure> {
    let log = r.purchase_log()?;
    let members = members_of(l, r, group, at)?;
    let log = match &members {
        Some(m) => only_members_log(&log, m),
        None => log,
    };
    Ok((cohort_matrix(&log, grain, day)?, members.map(|m| m.len())))
}

/// The share of a cohort still buying, in whole percent rounded half up, as the CLI
/// prints it; `None` for an empty cohort.
fn retained_percent(n: u64, size: u64) -> Option<u64> {
    (size > 0).then(|| (n * 200 + size) / (2 * size))
}

/// The shade of a heatmap cell of `percent`: up to 0.60, so text on it stays readable.
fn opacity(percent: u64) -> Decimal {
    Decimal::new(i64::try_from(percent.min(100)).unwrap_or(100) * 60, 4).normalize()
}

/// `GET /cohorts`: the retention of each acquisition cohort (`?by=month`, the
/// default, or `week`) as a heatmap with its table.
pub async fn cohorts_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let title = l.t("cohort.title");
    let mut asked = match Asked::read(l, &q) {
        Ok(a) => a,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let grain = match non_empty(&q, "by").as_deref() {
        None | Some("month") => CohortGrain::Month,
        Some("week") => CohortGrain::Week,
        Some(other) => {
            let m = l.f("error.bad_grain", &[("by", &other)]);
            return analytic_failure(&ctx, title, Failure::Invalid(m));
        }
    };
    let now = st.now();
    let inner = st.inner.clone();
    let group = asked.group.clone();
    let zone = match zone_of(&st).await {
        Ok(z) => z,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let day = asked.day(l, zone, now);
    let loaded = blocking(move || {
        let books = &inner.books;
        let at = zone.end_of(day).min(now);
        read_as_of_day(books, day, now, |r| {
            Ok((|| {
                let segments = segment_names(&r)?;
                let (matrix, members) = cohort_of(l, &r, grain, day, at, group.as_ref())?;
                Ok::<_, Failure>(CohortView {
                    segments,
                    members,
                    matrix,
                })
            })())
        })?
    })
    .await;
    let view = match loaded {
        Ok(v) => v,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let by = grain.as_str();
    let body = html! {
        (group_form(l, "/cohorts", &view.segments, &asked, &[("by", by)], true))
        nav.pages {
            @for g in CohortGrain::ALL {
                @let href = asked.link("/cohorts", &[("by", g.as_str().to_owned())]);
                @if *g == grain {
                    a href=(href) aria-current="true" { (l.label("grain", g.as_str())) }
                } @else {
                    a href=(href) { (l.label("grain", g.as_str())) }
                }
            }
        }
        (group_line(l, asked.group.as_ref(), view.members))
        p.explain { (l.f("cohort.explain", &[("day", &view.matrix.as_of)])) }
        (cohort_heatmap(l, &view.matrix))
    };
    respond(asked.status(), frame(&ctx, title, body))
}

/// The heatmap: one row per cohort, one column per period after acquisition, each
/// cell shaded by the share still buying, with the same shares (and each cohort's
/// size) in a data table.
pub(super) fn cohort_heatmap(l: Lang, m: &CohortMatrix) -> Markup {
    const CELL_W: usize = 40;
    const CELL_H: usize = 18;
    const LEFT: usize = 84;
    const TOP: usize = 16;
    let width = m
        .rows
        .iter()
        .map(|r| r.customers.len())
        .max()
        .unwrap_or(0)
        .min(COHORT_WIDTH);
    let svg_w = LEFT + width.max(1) * CELL_W;
    let svg_h = TOP + m.rows.len().max(1) * CELL_H;
    let title = l.t("cohort.heatmap_title");
    html! {
        figure.chart #cohort-heatmap {
            figcaption { (title) }
            @if m.rows.is_empty() {
                p.empty { (l.t("cohort.none")) }
            } @else {
                svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="cohort-title"
                    viewBox=(format!("0 0 {svg_w} {svg_h}")) width=(svg_w) height=(svg_h) {
                    title #cohort-title { (title) }
                    @for j in 0..width {
                        text x=(LEFT + j * CELL_W + CELL_W / 2) y=(TOP - 4) text-anchor="middle" font-size="10" { "+" (j) }
                    }
                    @for (i, row) in m.rows.iter().enumerate() {
                        @let y = TOP + i * CELL_H;
                        text x="2" y=(y + CELL_H - 5) font-size="10" { (row.start) }
                        @for j in 0..width {
                            @if let Some(n) = row.customers.get(j) {
                                @let p = retained_percent(*n, row.size);
                                g.cell {
                                    rect x=(LEFT + j * CELL_W) y=(y) width=(CELL_W - 1) height=(CELL_H - 1)
                                        fill="currentColor" stroke="currentColor" stroke-opacity="0.2"
                                        fill-opacity=(p.map_or_else(|| "0".to_owned(), |p| opacity(p).to_string()))
                                        data-percent=(p.map_or_else(String::new, |p| p.to_string())) {
                                        title { (row.start) " +" (j) ": " (n) " / " (row.size) }
                                    }
                                }
                            }
                        }
                    }
                }
                table.data #cohort-table {
                    caption { (l.t("cohort.table_caption")) }
                    thead { tr {
                        th scope="col" { (l.t("col.cohort")) }
                        th scope="col" { (l.t("col.size")) }
                        @for j in 0..width { th scope="col" { "+" (j) } }
                    } }
                    tbody {
                        @for row in &m.rows {
                            tr data-cohort=(row.start) {
                                th scope="row" { (row.start) }
                                td.num { (row.size) }
                                @for j in 0..width {
                                    td.num {
                                        @if let Some(n) = row.customers.get(j) {
                                            (retained_percent(*n, row.size).map_or_else(|| "-".to_owned(), |p| format!("{p}%")))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Customer lifetime value

/// The purchase-count models `/clv` fits, by the name `solocrm clv --model` takes.
const CLV_MODELS: [&str; 3] = ["bg-nbd", "mbg-nbd", "pareto-nbd"];

/// One customer's value, as `/clv` lists it.
#[derive(Debug, Clone)]
struct ClvRow {
    customer: CustomerId,
    name: String,
    /// Purchases in the calibration period (repeat purchases + 1).
    buys: u32,
    p_alive: f64,
    expected: f64,
    clv: Money,
    method: &'static str,
}

/// What `/clv` shows: the fit's summary and this page of the customers by value.
struct ClvView {
    segments: Vec<Label>,
    members: Option<usize>,
    customers: usize,
    /// `(name, value)` of each fitted parameter; empty when the fit failed.
    params: Vec<(String, f64)>,
    log_likelihood: Option<f64>,
    converged: bool,
    iterations: u32,
    /// Why the fit failed or ran to the edge of a parameter's range.
    degenerate: Option<String>,
    penalizer: f64,
    warnings: Vec<String>,
    horizon: f64,
    rows: Vec<ClvRow>,
    more: bool,
}

/// The customers' values from `summary` under model `M`, as `solocrm clv` computes
/// them with its defaults (weeks, a horizon of 12 months, 1 % monthly discount, margin
/// 1, the automatic penaliser, predictions over the calibration length), ranked by CLV
/// then expected purchases.
///
/// # Errors
///
/// The model's, for a summary it cannot value.
fn clv_values<M: PurchaseModel + Sync>(
    summary: &CustomerSummary,
    fit: fn(&CountData, &FitOptions) -> Result<Fitted<M>, ModelError>,
    currency: Currency,
) -> Result<Valued<M>, ModelError> {
    // The defaults of `solocrm clv`, from the one place both read them.
    let opts = GuardOptions::standard(summary);
    let horizon = opts.horizon;
    let guarded: GuardedClv<M> = guarded_clv(summary, fit, &opts)?;
    let mut ranked: Vec<usize> = (0..guarded.values.len()).collect();
    ranked.sort_by(|&a, &b| {
        let (a, b) = (&guarded.values[a], &guarded.values[b]);
        b.clv
            .total_cmp(&a.clv)
            .then(b.expected_purchases.total_cmp(&a.expected_purchases))
    });
    let ranked = ranked
        .into_iter()
        .map(|i| Ok((i, clv_money(guarded.values[i].clv, currency)?)))
        .collect::<Result<Vec<_>, ModelError>>()?;
    Ok(Valued {
        guarded,
        ranked,
        horizon,
    })
}

/// The values [`clv_values`] gives.
struct Valued<M> {
    guarded: GuardedClv<M>,
    /// Each customer's index in the summary and CLV, the most valuable first.
    ranked: Vec<(usize, Money)>,
    /// The span the expected purchases cover, in the summary's unit.
    horizon: f64,
}

/// Fits model `M` and renders one page of it into a [`ClvView`] (the names are read
/// for that page only).
fn clv_view<M: PurchaseModel + Sync>(
    r: &Reader<'_>,
    summary: &CustomerSummary,
    fit: fn(&CountData, &FitOptions) -> Result<Fitted<M>, ModelError>,
    currency: Currency,
    page: usize,
) -> Result<ClvView, Failure> {
    let Valued {
        guarded,
        ranked,
        horizon,
    } = clv_values(summary, fit, currency).map_err(|e| Failure::Invalid(e.to_string()))?;
    let (this_page, more) = page_of(&ranked, page);
    let rows = this_page
        .into_iter()
        .map(|(i, clv)| {
            let v = &guarded.values[i];
            let customer = summary.customers[i];
            Ok(ClvRow {
                customer,
                name: name_of(r, customer)?,
                buys: summary.frequency[i] + 1,
                p_alive: v.p_alive,
                expected: v.expected_purchases,
                clv,
                method: v.method.as_str(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let fitted = guarded.fitted.as_ref().ok();
    Ok(ClvView {
        segments: Vec::new(),
        members: None,
        customers: summary.len(),
        params: fitted
            .map(|f| {
                f.model
                    .params()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect()
            })
            .unwrap_or_default(),
        log_likelihood: fitted.map(|f| f.log_likelihood),
        converged: fitted.is_some_and(|f| f.converged),
        iterations: fitted.map_or(0, |f| f.iterations),
        degenerate: match &guarded.fitted {
            Ok(f) => f.degenerate.clone(),
            Err(e) => Some(e.to_string()),
        },
        penalizer: guarded.penalizer,
        warnings: guarded.warnings.clone(),
        horizon,
        rows,
        more,
    })
}

/// `GET /clv`: a buy-till-you-die model fitted on the purchases up to `?end=` (default
/// today; `?model=` bg-nbd, mbg-nbd or pareto-nbd) and the customers by predicted
/// value, 50 a page. The fit runs on every request.
pub async fn clv_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let title = l.t("clv.title");
    let asked = match Asked::read(l, &q) {
        Ok(a) => a,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let model = non_empty(&q, "model").unwrap_or_else(|| CLV_MODELS[0].to_owned());
    if !CLV_MODELS.contains(&model.as_str()) {
        let m = l.f("error.bad_model", &[("model", &model)]);
        return analytic_failure(&ctx, title, Failure::Invalid(m));
    }
    let now = st.now();
    // `?as_of=` (the other pages' day) is the calibration end when `?end=` is absent;
    // a refused day is a 422 beside the end field.
    let typed_end = non_empty(&q, "end")
        .or_else(|| non_empty(&q, "as_of"))
        .unwrap_or_default();
    let end = if typed_end.is_empty() {
        None
    } else {
        let zone = match zone_of(&st).await {
            Ok(z) => z,
            Err(f) => return analytic_failure(&ctx, title, f),
        };
        match as_of_day(l, &typed_end, zone, now) {
            (d, None) => Some(d),
            (_, Some(m)) => {
                let values = HashMap::from([("end".to_owned(), typed_end.clone())]);
                let state = FormState::new("clv", "end", m, &values);
                let body = html! {
                    form.inline method="get" action="/clv" {
                        input type="hidden" name="model" value=(model);
                        (field(Some(&state), "clv", "end", l.t("clv.end"), "date", &typed_end))
                        button type="submit" { (l.t("clv.fit")) }
                    }
                };
                return respond(StatusCode::UNPROCESSABLE_ENTITY, frame(&ctx, title, body));
            }
        }
    };
    let inner = st.inner.clone();
    let group = asked.group.clone();
    let page = asked.page;
    let chosen = model.clone();
    let loaded = blocking(move || {
        let books = &inner.books;
        let zone = books.time_zone()?;
        let end = end.unwrap_or_else(|| zone.date_of(now));
        let at = zone.end_of(end).min(now);
        let currency = books.base_currency();
        let (segments, log) = books.read(|r| Ok((segment_names(&r)?, r.purchase_log()?)))?;
        // The group is decided at the end of the calibration day, as `clv --segment`
        // decides it; one read after the other, never one inside the other.
        let members = match &group {
            None => None,
            Some(_) => read_as_of_day(books, end, now, |past| {
                Ok(members_of(l, &past, group.as_ref(), at))
            })??,
        };
        let log = match &members {
            Some(m) => only_members_log(&log, m),
            None => log,
        };
        let summary = CustomerSummary::from_log(&log, &SummaryOptions::new(end, TimeUnit::Week))
            .map_err(|e| Failure::Invalid(e.to_string()))?;
        if summary.is_empty() {
            return Err(Failure::Invalid(l.f("clv.nobody", &[("end", &end)])));
        }
        let view = books.read(|r| {
            Ok((|| {
                let mut view = match chosen.as_str() {
                    "mbg-nbd" => clv_view(&r, &summary, MbgNbd::fit, currency, page)?,
                    "pareto-nbd" => clv_view(&r, &summary, ParetoNbd::fit, currency, page)?,
                    _ => clv_view(&r, &summary, BgNbd::fit, currency, page)?,
                };
                view.segments = segments;
                view.members = members.map(|m| m.len());
                Ok::<_, Failure>(view)
            })())
        })?;
        Ok((end, view?))
    })
    .await;
    let (end, view) = match loaded {
        Ok(v) => v,
        Err(f) => return analytic_failure(&ctx, title, f),
    };
    let end_text = end.to_string();
    let keep = [("model", model.clone()), ("end", end_text.clone())];
    let body = html! {
        form.inline method="get" action="/clv" {
            div.field {
                label for="clv-model" { (l.t("clv.model")) }
                select #clv-model name="model" {
                    @for m in CLV_MODELS {
                        @if m == model { option value=(m) selected { (m) } } @else { option value=(m) { (m) } }
                    }
                }
            }
            (field(None, "clv", "end", l.t("clv.end"), "date", &end_text))
            @if !asked.segment.is_empty() { input type="hidden" name="segment" value=(asked.segment); }
            @if !asked.stage.is_empty() { input type="hidden" name="stage" value=(asked.stage); }
            button type="submit" { (l.t("clv.fit")) }
        }
        (group_form(l, "/clv", &view.segments, &asked, &[("model", &model), ("end", &end_text)], false))
        (group_line(l, asked.group.as_ref(), view.members))
        p.explain { (l.t("clv.slow")) }
        section #clv-fit {
            h2 { (l.f("clv.fitted", &[("model", &model), ("n", &view.customers), ("end", &end)])) }
            @if view.params.is_empty() {
                p.message role="alert" { (l.t("clv.not_fitted")) " " (view.degenerate.as_deref().unwrap_or("")) }
            } @else {
                dl.params {
                    @for (k, v) in &view.params { dt { (k) } dd { (format!("{v:.6}")) } }
                    dt { (l.t("clv.log_likelihood")) } dd { (format!("{:.4}", view.log_likelihood.unwrap_or(f64::NAN))) }
                    dt { (l.t("clv.converged")) } dd { (if view.converged { l.t("clv.yes") } else { l.t("clv.no") }) " (" (view.iterations) ")" }
                    dt { (l.t("clv.penalizer")) } dd { (view.penalizer) }
                }
                @if let Some(d) = &view.degenerate { p.message { (d) } }
            }
            @if !view.warnings.is_empty() {
                ul.warnings { @for w in &view.warnings { li { (w) } } }
            }
            p.explain { (l.f("clv.terms", &[("horizon", &format!("{:.1}", view.horizon))])) }
        }
        h2 { (l.t("clv.customers")) }
        table.clv {
            thead { tr {
                th { (l.t("col.name")) } th.num { (l.t("col.buys")) } th.num { (l.t("col.p_alive")) }
                th.num { (l.t("col.expected")) } th.num { (l.t("col.clv")) } th { (l.t("col.method")) }
            } }
            tbody {
                @for row in &view.rows {
                    tr data-customer=(row.customer) {
                        td { a href=(format!("/customers/{}", row.customer)) { bdi { (row.name) } } }
                        td.num { (row.buys) }
                        td.num { (format!("{:.3}", row.p_alive)) }
                        td.num { (format!("{:.2}", row.expected)) }
                        td.num { (row.clv) }
                        td { (row.method) }
                    }
                }
            }
        }
        (pager(l, &asked, "/clv", view.more, &keep))
    };
    respond(StatusCode::OK, frame(&ctx, title, body))
}
