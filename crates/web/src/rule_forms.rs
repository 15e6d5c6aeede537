//! The rule forms of `/rules` (issue 16): add a rule, edit one of the founder's own,
//! remove one (after a confirmation page), and the dry run of any rule as of a day.
//!
//! The form's fields fill the application's [`RuleDraft`], which reads the trigger,
//! the condition and the templates with the core's own parsers, as `solocrm rule add`
//! does: a trigger kind the core learns needs no change here. A refused form comes
//! back as 422 with what was typed and the message beside its field (with the
//! condition parser's column marked); nothing is written.

use solocrm_app::automation::draft::{Part, RuleDraft, TaskDraft, split_tags};
use solocrm_app::automation::{Only, Planned, plan};
use solocrm_core::automation::{EventTrigger, Priority};

use super::*;

/// Rows of a dry run a page shows.
const TEST_ROWS: usize = 200;

/// The form of the add form.
const ADD: &str = "rule-add";
/// The form of the edit form.
const EDIT: &str = "rule-edit";

/// The field of the form a draft's refusal belongs beside.
fn field_of(part: Part) -> &'static str {
    match part {
        Part::Name => "name",
        Part::Trigger => "trigger",
        Part::Condition => "condition",
        Part::TaskTitle => "task_title",
        Part::TaskDueIn => "task_due_in",
        Part::TaskPriority => "task_priority",
        Part::Tag => "tags",
        Part::Untag => "untags",
        Part::Note => "note",
        Part::Points => "points",
        Part::Actions => "actions",
    }
}

/// The values a form shows for a draft (an edit form before anything is typed).
fn values_of(d: &RuleDraft) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert("name".into(), d.name.clone());
    v.insert("trigger".into(), d.trigger.clone());
    v.insert("condition".into(), d.condition.clone().unwrap_or_default());
    if let Some(t) = &d.task {
        v.insert("task_title".into(), t.title.clone());
        v.insert("task_kind".into(), t.kind.as_str().to_owned());
        v.insert("task_due_in".into(), t.due_in.to_string());
        v.insert("task_priority".into(), t.priority.clone());
    }
    v.insert("tags".into(), d.tags.join(", "));
    v.insert("untags".into(), d.untags.join(", "));
    v.insert(
        "stage".into(),
        d.stage.map(|s| s.as_str().to_owned()).unwrap_or_default(),
    );
    v.insert("note".into(), d.note.clone().unwrap_or_default());
    v.insert(
        "points".into(),
        d.points.map(|p| p.to_string()).unwrap_or_default(),
    );
    v
}

/// Reads a submitted rule form into a draft named `name`; a field the draft does not
/// read itself (a number, a stage, a kind) is refused here, beside it.
fn draft_of(
    l: Lang,
    form: &str,
    name: String,
    values: &HashMap<String, String>,
) -> Result<RuleDraft, FormState> {
    let fields = Fields::new(form, values);
    let number = |field: &'static str| -> Result<Option<u32>, FormState> {
        fields.optional(field, |v| {
            v.parse::<u32>()
                .map_err(|_| l.f("rules.bad_number", &[("value", &v)]))
        })
    };
    let due_in = number("task_due_in")?.unwrap_or(0);
    let points = number("points")?;
    let stage = fields.optional("stage", LifecycleStage::parse)?;
    let task = match non_empty(values, "task_title") {
        None => None,
        Some(title) => Some(TaskDraft {
            title,
            kind: fields
                .optional("task_kind", TaskKind::parse)?
                .unwrap_or(TaskKind::FollowUp),
            due_in,
            priority: non_empty(values, "task_priority").unwrap_or_else(|| "normal".into()),
        }),
    };
    let list = |field: &str| split_tags(values.get(field).map_or("", String::as_str));
    Ok(RuleDraft {
        name,
        trigger: values.get("trigger").cloned().unwrap_or_default(),
        condition: non_empty(values, "condition"),
        task,
        tags: list("tags"),
        untags: list("untags"),
        stage,
        note: non_empty(values, "note"),
        points,
    })
}

/// The rule of a form, or the refusal to show beside its field.
fn rule_of(
    l: Lang,
    form: &str,
    name: String,
    values: &HashMap<String, String>,
) -> Result<solocrm_core::automation::Rule, FormState> {
    let draft = draft_of(l, form, name, values)?;
    draft.build().map_err(|e| {
        let message = match e.column {
            Some(c) => l.f("rules.at_column", &[("column", &c), ("error", &e.message)]),
            None => e.message.clone(),
        };
        let mut state = FormState::new(form, field_of(e.part), message, values);
        state.column = e.column.and_then(|c| u32::try_from(c).ok());
        state
    })
}

/// The condition as typed with the character at `column` (1-based) marked, under a
/// refused condition.
fn marked(text: &str, column: u32) -> Markup {
    let chars: Vec<char> = text.chars().collect();
    let at = usize::try_from(column.saturating_sub(1))
        .unwrap_or(usize::MAX)
        .min(chars.len());
    let before: String = chars[..at].iter().collect();
    let here: String = chars
        .get(at)
        .map_or_else(|| " ".to_owned(), char::to_string);
    let after: String = chars
        .get(at + 1..)
        .map_or_else(String::new, |c| c.iter().collect());
    html! { code.marked { (before) mark { (here) } (after) } }
}

/// The add form (`name` is `None`) or the edit form of rule `name`, filled with
/// `shown` unless a refused form of the same kind is being shown again.
fn rule_form(
    l: Lang,
    name: Option<&str>,
    shown: &HashMap<String, String>,
    state: Option<&FormState>,
) -> Markup {
    let form = if name.is_some() { EDIT } else { ADD };
    let value = |k: &str| shown.get(k).map_or("", String::as_str).to_owned();
    let kinds: Vec<(&'static str, &'static str)> = TaskKind::ALL
        .iter()
        .map(|k| (k.as_str(), l.label("task", k.as_str())))
        .collect();
    let priorities: Vec<(&'static str, &'static str)> = Priority::ALL
        .iter()
        .map(|p| (p.as_str(), l.label("priority", p.as_str())))
        .collect();
    let mut stages: Vec<(&'static str, &'static str)> = vec![("", l.t("rules.no_stage"))];
    stages.extend(
        LifecycleStage::ALL
            .iter()
            .map(|s| (s.as_str(), stage_label(l, *s))),
    );
    let action = match name {
        Some(n) => format!("/rules/{n}/edit"),
        None => "/rules".to_owned(),
    };
    let kind_now = value("task_kind");
    let priority_now = value("task_priority");
    let stage_now = value("stage");
    let column = state.filter(|s| s.form == form && s.field == "condition");
    html! {
        form.rule-form #(form) method="post" action=(action) {
            @if name.is_none() {
                (field(state, form, "name", l.t("rules.field_name"), "text", &value("name")))
            }
            (field(state, form, "trigger", l.t("rules.trigger"), "text", &value("trigger")))
            p.hint { (l.f("rules.trigger_hint", &[("events", &EventTrigger::NAMES)])) }
            (field(state, form, "condition", l.t("rules.condition"), "text", &value("condition")))
            @if let Some(c) = column.and_then(|s| s.column) {
                // The parser read the condition trimmed: mark the same text.
                p.hint { (marked(typed(state, form, "condition").trim_start(), c)) }
            }
            p.hint { (l.t("rules.condition_hint")) }
            @if let Some(e) = error_for(state, form, "actions") {
                p.error role="alert" { (e) }
            }
            fieldset {
                legend { (l.t("rules.task_legend")) }
                (field(state, form, "task_title", l.t("rules.task_title"), "text", &value("task_title")))
                (choose(state, form, "task_kind", l.t("rules.task_kind"), &kinds, if kind_now.is_empty() { "follow_up" } else { &kind_now }))
                (field(state, form, "task_due_in", l.t("rules.task_due_in"), "number", &value("task_due_in")))
                (choose(state, form, "task_priority", l.t("rules.task_priority"), &priorities, if priority_now.is_empty() { "normal" } else { &priority_now }))
            }
            fieldset {
                legend { (l.t("rules.other_legend")) }
                (choose(state, form, "stage", l.t("rules.stage_action"), &stages, &stage_now))
                (field(state, form, "tags", l.t("rules.tags"), "text", &value("tags")))
                (field(state, form, "untags", l.t("rules.untags"), "text", &value("untags")))
                (field(state, form, "note", l.t("rules.note"), "text", &value("note")))
                (field(state, form, "points", l.t("rules.points"), "number", &value("points")))
            }
            @if name.is_none() {
                (choose(state, form, "enabled", l.t("rules.state"),
                    &[("on", l.t("rules.state_on")), ("off", l.t("rules.state_off"))], "on"))
                button type="submit" { (l.t("rules.add_button")) }
            } @else {
                button type="submit" { (l.t("rules.save_button")) }
            }
        }
    }
}

/// The add form under the rules list.
pub(super) fn add_form(l: Lang, state: Option<&FormState>) -> Markup {
    html! {
        h2 #add-rule { (l.t("rules.add_title")) }
        (rule_form(l, None, &HashMap::new(), state))
    }
}

/// The links of a rule's row: test for every rule; edit and remove for an own rule.
pub(super) fn row_links(l: Lang, r: &EffectiveRule) -> Markup {
    let name = r.rule.name();
    html! {
        a href=(format!("/rules/{name}/test")) { (l.t("rules.test")) }
        @if !r.builtin {
            " "
            a href=(format!("/rules/{name}/edit")) { (l.t("rules.edit")) }
            " "
            a href=(format!("/rules/{name}/remove")) { (l.t("rules.remove")) }
        }
    }
}

/// `POST /rules`: adds a rule from the form (fields as [`rule_form`] names them);
/// 303 to the rules page, or 422 with the form again and the message beside the
/// field (a name taken, by a built-in too, is refused beside the name).
pub async fn add_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let name = values.get("name").cloned().unwrap_or_default();
    let rule = match rule_of(l, ADD, name, &values) {
        Ok(r) => r,
        Err(state) => return show_rules_with(&st, &ctx, Some(state)).await,
    };
    let enabled = match values.get("enabled").map(|v| v.trim()) {
        None | Some("on") => true,
        Some("off") => false,
        Some(_) => {
            let state = FormState::new(ADD, "enabled", l.t("rules.bad_switch"), &values);
            return show_rules_with(&st, &ctx, Some(state)).await;
        }
    };
    let books = st.inner.books.clone();
    let done = blocking(move || Ok(books.write(|w| w.add_rule(rule.clone(), enabled)))).await;
    match done {
        Ok(Ok(())) => Redirect::to("/rules").into_response(),
        Ok(Err(e)) if e.kind() == StoreErrorKind::Conflict => {
            let state = FormState::new(ADD, "name", e.to_string(), &values);
            show_rules_with(&st, &ctx, Some(state)).await
        }
        Ok(Err(e)) => failure(&ctx, e.into()),
        Err(f) => failure(&ctx, f),
    }
}

/// A rule named in a path, or the 404 of an unknown one.
fn named(ctx: &Ctx, raw: &str) -> Result<RuleName, Failure> {
    RuleName::parse(raw)
        .map_err(|_| Failure::NotFound(ctx.lang.f("rules.unknown", &[("name", &raw)])))
}

/// The stored rule `name`: 404 for none, the refusal of a built-in (which is
/// switched, not edited or removed) as a 422.
async fn own_rule(st: &AppState, ctx: &Ctx, name: &RuleName) -> Result<EffectiveRule, Failure> {
    let books = st.inner.books.clone();
    let wanted = name.clone();
    let found = blocking(move || Ok(books.read(|r| r.rule(&wanted)))).await?;
    let rule = found.map_err(|e| match Failure::from(e) {
        Failure::NotFound(_) => Failure::NotFound(ctx.lang.f("rules.unknown", &[("name", name)])),
        f => f,
    })?;
    if rule.builtin {
        return Err(Failure::Invalid(
            ctx.lang.f("rules.builtin_no_edit", &[("name", name)]),
        ));
    }
    Ok(rule)
}

fn edit_page(
    ctx: &Ctx,
    name: &RuleName,
    shown: &HashMap<String, String>,
    state: Option<&FormState>,
) -> Markup {
    let l = ctx.lang;
    let body = html! {
        p { a href="/rules" { (l.t("rules.back")) } }
        (rule_form(l, Some(name.as_str()), shown, state))
    };
    frame(ctx, &l.f("rules.edit_title", &[("name", name)]), body)
}

/// `GET /rules/{name}/edit`: the edit form of an own rule, filled with it; a
/// built-in is refused (422), an unknown rule is a 404, and a rule whose actions the
/// form cannot show says to edit it as TOML.
pub async fn edit_rule_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> Response {
    let name = match named(&ctx, &raw) {
        Ok(n) => n,
        Err(f) => return failure(&ctx, f),
    };
    let rule = match own_rule(&st, &ctx, &name).await {
        Ok(r) => r,
        Err(f) => return failure(&ctx, f),
    };
    match RuleDraft::of(&rule.rule) {
        Some(d) => respond(StatusCode::OK, edit_page(&ctx, &name, &values_of(&d), None)),
        None => {
            let m = ctx.lang.f("rules.not_a_form", &[("name", &name)]);
            failure(&ctx, Failure::Invalid(m))
        }
    }
}

/// `POST /rules/{name}/edit`: replaces an own rule by the form's (its name, switch
/// and firings stay, as `rule edit` keeps them); 303 to the rules page, 422 with the
/// form again, a built-in refused, 404 for an unknown rule.
pub async fn edit_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let name = match named(&ctx, &raw) {
        Ok(n) => n,
        Err(f) => return failure(&ctx, f),
    };
    // A built-in is refused before its fields are read, as `rule edit` refuses it;
    // so is a rule whose actions the form cannot show (a stale tab or a hand-made
    // POST would otherwise drop its second task, note or stage move).
    let stored = match own_rule(&st, &ctx, &name).await {
        Ok(r) => r,
        Err(f) => return failure(&ctx, f),
    };
    if RuleDraft::of(&stored.rule).is_none() {
        let m = ctx.lang.f("rules.not_a_form", &[("name", &name)]);
        return failure(&ctx, Failure::Invalid(m));
    }
    let rule = match rule_of(ctx.lang, EDIT, name.to_string(), &values) {
        Ok(r) => r,
        Err(state) => {
            return respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                edit_page(&ctx, &name, &values, Some(&state)),
            );
        }
    };
    let books = st.inner.books.clone();
    let done = blocking(move || Ok(books.write(|w| w.edit_rule(rule.clone())))).await;
    match done {
        Ok(Ok(())) => Redirect::to("/rules").into_response(),
        Ok(Err(e)) => failure(&ctx, e.into()),
        Err(f) => failure(&ctx, f),
    }
}

fn remove_page(ctx: &Ctx, name: &RuleName, message: Option<&str>) -> Markup {
    let l = ctx.lang;
    let body = html! {
        @if let Some(m) = message { p.message role="alert" { (m) } }
        p { (l.t("rules.remove_explain")) }
        form #rule-remove method="post" action=(format!("/rules/{name}/remove")) {
            input type="hidden" name="confirm" value="yes";
            button type="submit" { (l.t("rules.remove_confirm")) }
            " "
            a href="/rules" { (l.t("rules.cancel")) }
        }
    };
    frame(ctx, &l.f("rules.remove_title", &[("name", name)]), body)
}

/// `GET /rules/{name}/remove`: the confirmation step of removing an own rule.
pub async fn remove_rule_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> Response {
    let name = match named(&ctx, &raw) {
        Ok(n) => n,
        Err(f) => return failure(&ctx, f),
    };
    match own_rule(&st, &ctx, &name).await {
        Ok(_) => respond(StatusCode::OK, remove_page(&ctx, &name, None)),
        Err(f) => failure(&ctx, f),
    }
}

/// `POST /rules/{name}/remove` (`confirm=yes`, which the confirmation page sends):
/// removes an own rule, its log stays; 303 to the rules page. Without the
/// confirmation the page asks again (422); a built-in is refused, an unknown rule is
/// a 404.
pub async fn remove_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let name = match named(&ctx, &raw) {
        Ok(n) => n,
        Err(f) => return failure(&ctx, f),
    };
    if let Err(f) = own_rule(&st, &ctx, &name).await {
        return failure(&ctx, f);
    }
    if values.get("confirm").map(|v| v.trim()) != Some("yes") {
        let m = ctx.lang.t("rules.remove_unconfirmed");
        return respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            remove_page(&ctx, &name, Some(m)),
        );
    }
    let books = st.inner.books.clone();
    let done = blocking(move || Ok(books.write(|w| w.remove_rule(&name)))).await;
    match done {
        Ok(Ok(())) => Redirect::to("/rules").into_response(),
        Ok(Err(e)) => failure(&ctx, e.into()),
        Err(f) => failure(&ctx, f),
    }
}

/// What a dry run found: the firings (the first [`TEST_ROWS`], with the customer's
/// name) and how many in all.
struct Tested {
    rows: Vec<(Planned, Option<String>)>,
    total: usize,
}

/// `GET /rules/{name}/test?as_of=YYYY-MM-DD`: what the rule (on or off) would fire as
/// of the end of that day (today if none), as `rule test` shows it; writes nothing.
/// A bad day is refused beside the field (422), an unknown rule is a 404.
pub async fn test_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let name = match named(&ctx, &raw) {
        Ok(n) => n,
        Err(f) => return failure(&ctx, f),
    };
    let books = st.inner.books.clone();
    let zone = match blocking(move || Ok(books.time_zone()?)).await {
        Ok(z) => z,
        Err(f) => return failure(&ctx, f),
    };
    let now = st.now();
    let typed_day = non_empty(&q, "as_of");
    let form = "rule-test";
    let as_of = match solocrm_app::values::as_of_in(typed_day.as_deref(), now, zone) {
        Ok(t) => t,
        Err(e) => {
            let state = FormState::new(form, "as_of", e.to_string(), &q);
            return respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                test_page(&ctx, &name, "", None, Some(&state)),
            );
        }
    };
    let books = st.inner.books.clone();
    let wanted = name.clone();
    let found = blocking(move || {
        let planned = plan(books.crm(), as_of, Only::Rule(&wanted))?;
        let total = planned.len();
        let mut names: HashMap<CustomerId, Option<String>> = HashMap::new();
        let mut rows = Vec::new();
        for p in planned.into_iter().take(TEST_ROWS) {
            let n = match names.get(&p.customer) {
                Some(n) => n.clone(),
                None => {
                    let n = books.read(|r| {
                        Ok(r.tx()
                            .customer(p.customer)?
                            .filter(|c| !c.is_erased())
                            .map(|c| c.name().to_string()))
                    })?;
                    names.insert(p.customer, n.clone());
                    n
                }
            };
            rows.push((p, n));
        }
        Ok(Tested { rows, total })
    })
    .await;
    match found {
        Ok(t) => {
            let day = zone.date_of(as_of).to_string();
            respond(StatusCode::OK, test_page(&ctx, &name, &day, Some(&t), None))
        }
        Err(Failure::NotFound(_)) => failure(
            &ctx,
            Failure::NotFound(l.f("rules.unknown", &[("name", &name)])),
        ),
        Err(f) => failure(&ctx, f),
    }
}

fn test_page(
    ctx: &Ctx,
    name: &RuleName,
    day: &str,
    tested: Option<&Tested>,
    state: Option<&FormState>,
) -> Markup {
    let l = ctx.lang;
    let form = "rule-test";
    let body = html! {
        p { a href="/rules" { (l.t("rules.back")) } }
        p { (l.t("rules.test_explain")) }
        form #(form) method="get" action=(format!("/rules/{name}/test")) {
            (field(state, form, "as_of", l.t("rules.as_of"), "date", day))
            button type="submit" { (l.t("rules.run_test")) }
        }
        @if let Some(t) = tested {
            p #would-fire { (l.f("rules.would_fire", &[("count", &t.total)])) }
            @if t.total > t.rows.len() {
                p { (l.f("rules.shown_first", &[("shown", &t.rows.len())])) }
            }
            @if !t.rows.is_empty() {
                table #rule-test {
                    thead { tr {
                        th { (l.t("col.date")) } th { (l.t("col.customer")) } th { (l.t("rules.why")) }
                    } }
                    tbody {
                        @for (p, n) in &t.rows {
                            tr {
                                td { (p.day) }
                                td { @match n {
                                    Some(n) => a href=(format!("/customers/{}", p.customer)) { bdi { (n) } },
                                    None => (p.customer),
                                } }
                                td { (p.why) }
                            }
                        }
                    }
                }
            }
        }
    };
    frame(ctx, &l.f("rules.test_title", &[("name", name)]), body)
}
