//! The holiday calendar kept with the books (issue 18), as `solocrm holiday` keeps it:
//! `/holidays` lists a year of it (`?year=`, this year in the books' zone unless
//! asked; 1900–2100) with each holiday's date, name, key and kind of rule (fixed,
//! lunar or computed), and holds three forms — the preset calendars (`holiday use`),
//! one's own holiday (`holiday add`: a fixed `MM-DD` or a lunar `M-D`, the leap month
//! if ticked) and, beside each own holiday, its removal (`holiday remove`). What is
//! typed is read by [`solocrm_app::holidays`], as the command line reads it.
//!
//! The care list and the automation read the calendar, so a change drops the kept
//! views and runs the automation, as the other writes do.

use solocrm_app::holidays::{self as shared, HolidayRow, RuleKind};
use solocrm_core::holiday::{HolidayCalendar, HolidayDef, HolidayRule, Preset};

use super::*;

/// The form that picks the year.
const YEAR: &str = "holiday-year";
/// The form that chooses the presets.
const PRESETS: &str = "holiday-presets";
/// The form that adds an own holiday.
const ADD: &str = "holiday-add";

/// The choices of the presets form: the value `holiday use` takes, and its label.
const CHOICES: [(&str, &str); 5] = [
    ("cn", "holidays.preset_cn"),
    ("western", "holidays.preset_western"),
    ("cn,western", "holidays.preset_cn_western"),
    ("western,cn", "holidays.preset_western_cn"),
    ("none", "holidays.preset_none"),
];

/// What `/holidays` shows.
struct Shown {
    year: i32,
    rows: Vec<HolidayRow>,
    calendar: HolidayCalendar,
}

fn kind_label(l: Lang, k: RuleKind) -> &'static str {
    l.label("hkind", k.as_str())
}

/// A rule as it is typed: `06-18`, lunar `8-15` (leap `闰4-5`, in both languages as
/// the calendar writes it).
fn rule_text(l: Lang, rule: &HolidayRule) -> String {
    match *rule {
        HolidayRule::Fixed { month, day } => format!("{month:02}-{day:02}"),
        HolidayRule::Lunar { month, day, leap } => {
            let lunar = l.t("holidays.lunar_prefix");
            if leap {
                format!("{lunar} {} {month}-{day}", l.t("holidays.leap_month"))
            } else {
                format!("{lunar} {month}-{day}")
            }
        }
        _ => String::new(),
    }
}

/// The presets as the form's value (`cn,western`, `none`).
fn presets_value(presets: &[Preset]) -> String {
    if presets.is_empty() {
        return "none".to_owned();
    }
    presets
        .iter()
        .map(|p| p.key())
        .collect::<Vec<_>>()
        .join(",")
}

/// `GET /holidays` (`?year=YYYY`).
pub async fn holidays(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show_holidays(&st, &ctx, &q, StatusCode::OK, None).await
}

async fn show_holidays(
    st: &AppState,
    ctx: &Ctx,
    q: &HashMap<String, String>,
    status: StatusCode,
    state: Option<&FormState>,
) -> Response {
    let l = ctx.lang;
    let books = st.inner.books.clone();
    let now = st.now();
    let loaded = blocking(move || Ok((books.time_zone()?, books.holiday_calendar()?))).await;
    let (zone, calendar) = match loaded {
        Ok(v) => v,
        Err(f) => return failure(ctx, f),
    };
    let this_year = chrono::Datelike::year(&zone.date_of(now));
    let asked = non_empty(q, "year").map(|v| match v.parse::<i32>() {
        Ok(y) if shared::year_in_range(y) => Ok(y),
        Ok(y) => Err(l.f("holidays.bad_year", &[("year", &y)])),
        Err(_) => Err(l.f("holidays.not_a_year", &[("year", &v)])),
    });
    let (year, status, year_state) = match asked {
        None => (this_year, status, None),
        Some(Ok(y)) => (y, status, None),
        Some(Err(m)) => (
            this_year,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(FormState::new(YEAR, "year", m, q)),
        ),
    };
    let shown = Shown {
        year,
        rows: shared::year_rows(&calendar, year),
        calendar,
    };
    respond(
        status,
        holidays_page(ctx, &shown, state.or(year_state.as_ref())),
    )
}

fn holidays_page(ctx: &Ctx, s: &Shown, state: Option<&FormState>) -> Markup {
    let l = ctx.lang;
    let choices: Vec<(&'static str, &'static str)> =
        CHOICES.iter().map(|(v, key)| (*v, l.t(key))).collect();
    let kinds: Vec<(&'static str, &'static str)> = [RuleKind::Fixed, RuleKind::Lunar]
        .into_iter()
        .map(|k| (k.as_str(), kind_label(l, k)))
        .collect();
    let current = presets_value(&s.calendar.presets);
    let leap_id = format!("{ADD}-leap");
    let leap_ticked = state
        .filter(|st| st.form == ADD)
        .is_some_and(|st| st.values.contains_key("leap"));
    let leap_error = error_for(state, ADD, "leap");
    let optional = |label: &str| format!("{} {}", l.t(label), l.t("field.optional"));
    let body = html! {
        form #(YEAR) method="get" action="/holidays" {
            (field(state, YEAR, "year", l.t("holidays.year"), "number", &s.year.to_string()))
            button type="submit" { (l.t("form.show")) }
        }
        h2 { (l.f("holidays.of_year", &[("year", &s.year)])) }
        @if s.rows.is_empty() {
            p.empty #no-holidays { (l.t("holidays.none")) }
        } @else {
            table #holidays {
                thead { tr {
                    th { (l.t("holidays.date")) } th { (l.t("holidays.name")) }
                    th { (l.t("holidays.key")) } th { (l.t("holidays.kind")) }
                    th { (l.t("holidays.source")) }
                } }
                tbody {
                    @for r in &s.rows {
                        tr data-key=(r.key.as_str()) data-kind=(r.kind.as_str()) {
                            td { (r.date) }
                            td { bdi { (r.name.as_str()) } }
                            td { code { (r.key.as_str()) } }
                            td { (kind_label(l, r.kind)) }
                            td { @if r.own { (l.t("holidays.own")) } @else { (l.t("holidays.preset")) } }
                        }
                    }
                }
            }
        }
        h2 #presets { (l.t("holidays.presets_title")) }
        form #(PRESETS) method="post" action="/holidays/presets" {
            (choose(state, PRESETS, "presets", l.t("holidays.presets"), &choices, &current))
            button type="submit" { (l.t("holidays.use")) }
        }
        p.hint { (l.t("holidays.presets_hint")) }
        h2 #own { (l.t("holidays.own_title")) }
        @if s.calendar.own.is_empty() {
            p.empty #no-own { (l.t("holidays.no_own")) }
        } @else {
            table #own-holidays {
                thead { tr {
                    th { (l.t("holidays.name")) } th { (l.t("holidays.key")) }
                    th { (l.t("holidays.rule")) } th {}
                } }
                tbody {
                    @for h in &s.calendar.own {
                        tr data-key=(h.key.as_str()) {
                            td { bdi { (h.name.as_str()) } }
                            td { code { (h.key.as_str()) } }
                            td { (rule_text(l, &h.rule)) }
                            td {
                                form.inline method="post" action="/holidays/remove" {
                                    input type="hidden" name="key" value=(h.key.as_str());
                                    button type="submit" { (l.t("holidays.remove")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 #add-holiday { (l.t("holidays.add_title")) }
        form #(ADD) method="post" action="/holidays" {
            (field(state, ADD, "name", l.t("holidays.name"), "text", ""))
            (field(state, ADD, "key", &optional("holidays.key_hint"), "text", ""))
            (choose(state, ADD, "kind", l.t("holidays.kind"), &kinds, "fixed"))
            (field(state, ADD, "day", l.t("holidays.day_hint"), "text", ""))
            div.field {
                label for=(leap_id) { (l.t("holidays.leap")) }
                @if leap_ticked {
                    input id=(leap_id) type="checkbox" name="leap" value="1" checked;
                } @else {
                    input id=(leap_id) type="checkbox" name="leap" value="1";
                }
                @if let Some(e) = leap_error {
                    span.error id=(format!("{leap_id}-error")) role="alert" { (e) }
                }
            }
            button type="submit" { (l.t("holidays.add")) }
        }
    };
    frame(ctx, l.t("holidays.title"), body)
}

/// A refused form: the page again, 422, the message beside its field.
async fn refused(st: &AppState, ctx: &Ctx, state: FormState) -> Response {
    show_holidays(
        st,
        ctx,
        &HashMap::new(),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(&state),
    )
    .await
}

/// After a change of the calendar: the kept care lists name holidays, and the
/// automation's holiday rules read them.
async fn changed(st: &AppState) -> Response {
    st.forget_kept_views();
    st.after_write().await;
    Redirect::to("/holidays").into_response()
}

/// `POST /holidays/presets` (`presets`: `cn`, `western`, `cn,western`, … or `none`):
/// chooses the preset calendars, as `holiday use` does; 303 to the page, or 422.
pub async fn use_presets(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let fields = Fields::new(PRESETS, &values);
    let presets = match fields.required("presets", |v| shared::parse_presets(&[v])) {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, state).await,
    };
    let books = st.inner.books.clone();
    match blocking(move || Ok(books.set_holiday_presets(&presets)?)).await {
        Ok(_) => changed(&st).await,
        Err(Failure::Invalid(m)) => refused(&st, &ctx, fields.refuse("presets", m)).await,
        Err(f) => failure(&ctx, f),
    }
}

/// `POST /holidays` (`name`, `key` optional, `kind` fixed|lunar, `day` MM-DD or M-D,
/// `leap` for a lunar leap month): adds an own holiday, or replaces the one with its
/// key, as `holiday add` does; 303 to the page, or 422 beside the field.
pub async fn add_holiday(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let fields = Fields::new(ADD, &values);
    let leap = values.contains_key("leap");
    let parsed = (|| {
        let name = fields.required("name", Label::parse)?;
        let key = fields.optional("key", |k| shared::own_key(&name, Some(k)))?;
        let key = match key {
            Some(k) => k,
            None => {
                shared::own_key(&name, None).map_err(|e| fields.refuse("name", e.to_string()))?
            }
        };
        let kind = fields.required("kind", |k| match k {
            "fixed" => Ok(RuleKind::Fixed),
            "lunar" => Ok(RuleKind::Lunar),
            other => Err(l.f("holidays.bad_kind", &[("kind", &other)])),
        })?;
        let rule = match kind {
            RuleKind::Lunar => fields.required("day", |d| shared::lunar_rule(d, leap, "M-D"))?,
            _ if leap => return Err(fields.refuse("leap", l.t("holidays.leap_fixed"))),
            _ => fields.required("day", |d| shared::fixed_rule(d, "MM-DD"))?,
        };
        Ok(HolidayDef { key, name, rule })
    })();
    let def = match parsed {
        Ok(d) => d,
        Err(state) => return refused(&st, &ctx, state).await,
    };
    let books = st.inner.books.clone();
    match blocking(move || Ok(books.put_holiday(def)?)).await {
        Ok(_) => changed(&st).await,
        Err(Failure::Invalid(m)) => refused(&st, &ctx, fields.refuse("name", m)).await,
        Err(f) => failure(&ctx, f),
    }
}

/// `POST /holidays/remove` (`key`): removes an own holiday, as `holiday remove` does;
/// 303 to the page, 404 for a key that is not one's own, 422 for a key that is no
/// tag.
pub async fn remove_holiday(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let raw = values.get("key").map_or("", |v| v.trim());
    let key = match Tag::parse(raw) {
        Ok(k) => k,
        Err(e) => return failure(&ctx, Failure::Invalid(e.to_string())),
    };
    let books = st.inner.books.clone();
    let shown = key.clone();
    match blocking(move || Ok(books.remove_holiday(&key)?)).await {
        Ok(_) => changed(&st).await,
        Err(Failure::NotFound(_)) => failure(
            &ctx,
            Failure::NotFound(ctx.lang.f("holidays.unknown", &[("key", &shown)])),
        ),
        Err(f) => failure(&ctx, f),
    }
}
