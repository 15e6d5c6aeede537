//! `solocrm survey template …`, `survey answer`, `survey sheet …` and `survey
//! dimensions`: survey templates with dimensions, the sheets answered against them
//! (listed and voided), and their analysis.

use anyhow::Result;
use solocrm_core::questionnaire::analysis::DimensionAnalysis;
use solocrm_core::questionnaire::{
    Answer, AnswerValue, Answering, CollectionMethod, Question, SheetKey, SurveySheet,
    SurveyTemplate, SurveyTemplateEdit,
};
use solocrm_core::{FreeText, Store, StoreError, Tag};

use crate::books::Books;

use super::{BadValue, Ctx, CustomerNames};
use crate::cli::{SurveySheetCmd, SurveyTemplateCmd};
use crate::output::{Table, opt};
use crate::parse;

/// A value the books refuse, as a usage error (exit 2).
fn bad(e: impl std::fmt::Display) -> anyhow::Error {
    BadValue(e.to_string()).into()
}

/// A write's error: a refused value or an unknown template is a usage error.
fn refused(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Validation(_)
        | StoreError::NotFound {
            entity: solocrm_core::Entity::SurveyTemplate,
            ..
        } => bad(e),
        other => other.into(),
    }
}

/// `survey template archive|unarchive NAME` (ADR 0045).
fn set_archived(ctx: &mut Ctx, store: &Books, name: &str, archive: bool) -> Result<()> {
    let name = template_name(name)?;
    let t = store
        .write(|w| w.set_survey_template_archived(&name, archive))
        .map_err(refused)?;
    if ctx.out.json {
        return ctx.out.json(&t);
    }
    if archive {
        ctx.say(t!("survey_template.archived", name = t.name()))
    } else {
        ctx.say(t!("survey_template.unarchived", name = t.name()))
    }
}

fn template_name(name: &str) -> Result<Tag> {
    Tag::parse(name).map_err(bad)
}

/// Runs a `survey template` subcommand.
pub fn template(ctx: &mut Ctx, store: &Books, cmd: SurveyTemplateCmd) -> Result<()> {
    match cmd {
        SurveyTemplateCmd::Add {
            name,
            from,
            questions,
        } => {
            let name = template_name(&name)?;
            let Some(qs) = questions_from(from.as_deref(), &questions)? else {
                return Err(bad(t!("survey_template.no_questions")));
            };
            let template = SurveyTemplate::new(name, qs).map_err(bad)?;
            let t = store.add_survey_template(template)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(t!(
                "survey_template.added",
                name = t.name(),
                count = t.questions().len()
            ))
        }
        SurveyTemplateCmd::Edit {
            name,
            rename,
            from,
            questions,
        } => {
            let name = template_name(&name)?;
            let edit = SurveyTemplateEdit {
                name: rename.as_deref().map(template_name).transpose()?,
                questions: questions_from(from.as_deref(), &questions)?,
            };
            if edit == SurveyTemplateEdit::default() {
                return Err(bad(t!("survey_template.nothing_to_edit")));
            }
            let t = store.edit_survey_template(&name, edit).map_err(refused)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(t!(
                "survey_template.edited",
                name = t.name(),
                count = t.questions().len()
            ))
        }
        SurveyTemplateCmd::Remove { name } => {
            let name = template_name(&name)?;
            let t = store.remove_survey_template(&name).map_err(refused)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(t!("survey_template.removed", name = t.name()))
        }
        SurveyTemplateCmd::Archive { name } => set_archived(ctx, store, &name, true),
        SurveyTemplateCmd::Unarchive { name } => set_archived(ctx, store, &name, false),
        SurveyTemplateCmd::List { archived } => {
            let mut templates = store.survey_templates()?;
            templates.retain(|x| archived || !x.is_archived());
            if ctx.out.json {
                return ctx.out.json(&templates);
            }
            if templates.is_empty() {
                return ctx.say(t!("survey_template.none"));
            }
            let mut head = vec!["NAME", ">QUESTIONS", "DIMENSIONS"];
            if archived {
                head.push("ARCHIVED");
            }
            let mut t = Table::new(&head);
            for x in &templates {
                let dims: Vec<&str> = x.dimensions().iter().map(|d| d.as_str()).collect();
                let mut row = vec![
                    x.name().to_string(),
                    x.questions().len().to_string(),
                    dims.join(", "),
                ];
                if archived {
                    row.push(if x.is_archived() {
                        t!("word.yes").to_owned()
                    } else {
                        String::new()
                    });
                }
                t.row(row);
            }
            ctx.out.table(&t)
        }
        SurveyTemplateCmd::Show { name } => {
            let name = template_name(&name)?;
            let x = store.read(|r| r.survey_template(&name)).map_err(refused)?;
            if ctx.out.json {
                return ctx.out.json(&x);
            }
            ctx.out
                .heading(t!("survey_template.heading", name = x.name()))?;
            let mut t = Table::new(&[">NO", "DIMENSION", "ANSWER", "ROLE", "QUESTION"]);
            for (i, q) in x.questions().iter().enumerate() {
                let (answer, role) = match q.answering {
                    Answering::Score { scale, role } => (scale.to_string(), role),
                    Answering::Text => (t!("survey_template.text").to_string(), None),
                };
                t.row(vec![
                    (i + 1).to_string(),
                    q.dimension.to_string(),
                    answer,
                    opt(role.map(|r| r.as_str())),
                    q.text.to_string(),
                ]);
            }
            ctx.out.table(&t)
        }
    }
}

/// The questions of `--from FILE` or of `--question` flags; `None` if neither is
/// given.
fn questions_from(
    from: Option<&std::path::Path>,
    flags: &[String],
) -> Result<Option<Vec<Question>>> {
    if let Some(path) = from {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(t!(
                "survey_template.unreadable",
                path = path.display(),
                error = e
            ))
        })?;
        // The file is read as a template's; only its questions are kept.
        let name = Tag::parse("file").map_err(bad)?;
        let t = solocrm_app::questionnaire::template_from_toml(name, &text)
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        return Ok(Some(t.questions().to_vec()));
    }
    if flags.is_empty() {
        return Ok(None);
    }
    flags
        .iter()
        .map(|q| solocrm_app::questionnaire::question_from_flag(q))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
        .map_err(bad)
}

/// Parses `N=VALUE` against the template: a score for a score question, the text for
/// a free-text one.
fn answer(template: &SurveyTemplate, spec: &str) -> Result<Answer> {
    let (n, value) = spec
        .split_once('=')
        .ok_or_else(|| bad(t!("survey_sheet.bad_answer", spec = spec)))?;
    let question: u16 = n
        .trim()
        .parse()
        .map_err(|_| bad(t!("survey_sheet.bad_answer", spec = spec)))?;
    let q = template.question(question).ok_or_else(|| {
        bad(t!(
            "survey_sheet.no_question",
            n = question,
            name = template.name(),
            count = template.questions().len()
        ))
    })?;
    let value = match q.answering {
        Answering::Text => AnswerValue::Text(FreeText::parse(value).map_err(bad)?),
        Answering::Score { scale, .. } => {
            let score: i64 = value.trim().parse().map_err(|_| {
                bad(t!(
                    "survey_sheet.not_a_score",
                    n = question,
                    value = value,
                    scale = scale
                ))
            })?;
            match u8::try_from(score) {
                Ok(s) if scale.contains(score) => AnswerValue::Score(s),
                _ => {
                    return Err(bad(t!(
                        "survey_sheet.not_a_score",
                        n = question,
                        value = value,
                        scale = scale
                    )));
                }
            }
        }
    };
    Ok(Answer { question, value })
}

/// Runs `survey answer`.
pub fn answer_cmd(
    ctx: &mut Ctx,
    store: &Books,
    template: &str,
    customer: &str,
    method: &str,
    answers: &[String],
    at: Option<&str>,
) -> Result<()> {
    let method = CollectionMethod::parse_any(method).map_err(|_| {
        bad(t!(
            "survey_sheet.bad_method",
            method = method,
            expected = CollectionMethod::ALL
                .iter()
                .zip(CollectionMethod::CHINESE)
                .map(|(m, zh)| format!("{} ({zh})", m.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let name = template_name(template)?;
    let t = store.read(|r| r.survey_template(&name)).map_err(refused)?;
    let c = parse::customer(store, customer)?;
    let answers = answers
        .iter()
        .map(|a| answer(&t, a))
        .collect::<Result<Vec<_>>>()?;
    let sheet = store
        .record_survey_sheet(SurveySheet {
            void: None,
            template: name,
            customer: c.id(),
            at: ctx.at(at)?,
            method,
            answers,
        })
        .map_err(refused)?;
    if ctx.out.json {
        return ctx.out.json(&sheet);
    }
    ctx.say(t!(
        "survey_sheet.recorded",
        count = sheet.answers.len(),
        name = c.name(),
        template = sheet.template
    ))
}

/// Runs a `survey sheet` subcommand (ADR 0050).
pub fn sheet(ctx: &mut Ctx, store: &Books, cmd: SurveySheetCmd) -> Result<()> {
    match cmd {
        SurveySheetCmd::List {
            customer,
            template,
            voided,
            page,
        } => {
            let customer = customer
                .map(|c| parse::customer(store, &c).map(|c| c.id()))
                .transpose()?;
            let template = template.as_deref().map(template_name).transpose()?;
            let mut rows = store.survey_sheets(customer)?;
            rows.retain(|s| {
                (voided.voided || !s.is_void())
                    && template.as_ref().is_none_or(|t| &s.template == t)
            });
            let total = ctx.keep_newest(&mut rows, page);
            if ctx.out.json {
                return ctx.out.json(&rows);
            }
            rows.reverse();
            let mut names = CustomerNames::default();
            let mut head = vec![">CUSTOMER", "NAME", "TEMPLATE", "AT", "METHOD", ">ANSWERS"];
            if voided.voided {
                head.push("VOIDED");
            }
            let mut t = Table::new(&head);
            for s in &rows {
                let mut row = vec![
                    s.customer.to_string(),
                    names.of(store, s.customer)?,
                    s.template.to_string(),
                    s.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    s.method.as_str().to_owned(),
                    s.answers.len().to_string(),
                ];
                if voided.voided {
                    row.push(opt(s.void.as_ref().map(|v| ctx.day(v.at))));
                }
                t.row(row);
            }
            ctx.out.table(&t)?;
            ctx.more(rows.len(), total, "survey sheets")
        }
        SurveySheetCmd::Void {
            template,
            customer,
            at,
            void,
        } => {
            if void.reason.trim().is_empty() {
                return Err(bad(t!("survey_sheet.blank_reason")));
            }
            let name = template_name(&template)?;
            let c = parse::customer(store, &customer)?;
            let key = SheetKey {
                at: ctx.at(Some(&at))?,
                customer: c.id(),
                template: name,
            };
            let mark = super::purchase::void_mark(ctx, &void)?;
            let sheet = store.write(|w| w.void_survey_sheet(&key, mark.clone()))?;
            if ctx.out.json {
                return ctx.out.json(&sheet);
            }
            ctx.say(t!(
                "survey_sheet.voided",
                template = sheet.template,
                name = c.name()
            ))
        }
    }
}

/// A share of the scale as a percentage with one decimal.
fn percent(share: Option<rust_decimal::Decimal>) -> String {
    opt(share.map(|s| (s * rust_decimal::Decimal::ONE_HUNDRED).round_dp(1)))
}

/// Runs `survey dimensions`.
pub fn dimensions(
    ctx: &mut Ctx,
    store: &Books,
    template: Option<&str>,
    group: &crate::cli::Group,
) -> Result<()> {
    let name = template.map(template_name).transpose()?;
    let group = super::analytics::chosen(group);
    let at = super::analytics::group_instant(ctx, ctx.as_of_day(None)?);
    // The group and the sheets from one snapshot; a group's analysis reads its
    // members' sheets only.
    let (a, members): (DimensionAnalysis, _) = store
        .read(|r| {
            let members = match super::analytics::members_in(&r, group.as_ref(), at) {
                Ok(m) => m,
                Err(e) => return Ok(Err(e)),
            };
            let keep = |c| members.as_ref().is_none_or(|m| m.contains(c));
            let a = r.survey_dimensions_where(name.as_ref(), &keep)?;
            Ok(Ok((a, members)))
        })
        .map_err(refused)?
        .map_err(super::analytics::group_failed)?;
    if ctx.out.json {
        return ctx.out.json(&a);
    }
    if let (Some(g), Some(m)) = (&group, &members) {
        ctx.out.line(super::analytics::group_line(g, m.len()))?;
    }
    let mut t = Table::new(&[
        "DIMENSION",
        ">ANSWERS",
        ">MEAN",
        ">SCORE",
        ">PROMOTERS",
        ">DETRACTORS",
        ">GAP",
    ]);
    for d in &a.dimensions {
        let score = match (d.mean_score, d.scale) {
            (Some(m), Some(s)) => format!("{} / {s}", m.round_dp(2)),
            _ => opt(None::<String>),
        };
        t.row(vec![
            d.dimension.to_string(),
            d.answers.to_string(),
            percent(d.mean_share),
            score,
            percent(d.promoter_mean),
            percent(d.detractor_mean),
            percent(d.gap),
        ]);
    }
    ctx.out.table(&t)?;
    ctx.say(t!(
        "survey_dimensions.summary",
        sheets = a.sheets,
        promoters = a.promoters,
        detractors = a.detractors
    ))?;
    match &a.separating {
        Some(d) => ctx.say(t!("survey_dimensions.separating", dimension = d))?,
        None => ctx.say(t!("survey_dimensions.no_separating"))?,
    }
    let mut names = CustomerNames::default();
    for group in &a.comments {
        ctx.out.heading(t!(
            "survey_dimensions.comments",
            dimension = group.dimension
        ))?;
        let mut t = Table::new(&["DATE", ">CUSTOMER", "NAME", "TEMPLATE", "COMMENT"]);
        for c in &group.comments {
            t.row(vec![
                ctx.day(c.at).to_string(),
                c.customer.to_string(),
                names.of(store, c.customer)?,
                c.template.to_string(),
                c.text.to_string(),
            ]);
        }
        ctx.out.table(&t)?;
    }
    Ok(())
}

/// Runs a `participation` subcommand.
pub fn participation(ctx: &mut Ctx, cmd: crate::cli::ParticipationCmd) -> Result<()> {
    use solocrm_core::participation::{Participation, ParticipationKind};
    let store = ctx.open()?;
    match cmd {
        crate::cli::ParticipationCmd::Add {
            customer,
            kind,
            note,
            at,
        } => {
            let kind = ParticipationKind::parse_any(&kind).map_err(|_| {
                bad(t!(
                    "participation.bad_kind",
                    kind = kind,
                    expected = ParticipationKind::ALL
                        .iter()
                        .zip(ParticipationKind::CHINESE)
                        .map(|(k, zh)| format!("{} ({zh})", k.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            let note = note
                .as_deref()
                .map(FreeText::parse)
                .transpose()
                .map_err(bad)?;
            let c = parse::customer(&store, &customer)?;
            let p = store.record_participation(Participation {
                customer: c.id(),
                at: ctx.at(at.at.as_deref())?,
                kind,
                note,
            })?;
            if ctx.out.json {
                return ctx.out.json(&p);
            }
            ctx.say(t!(
                "participation.recorded",
                kind = p.kind.as_str(),
                name = c.name()
            ))
        }
        crate::cli::ParticipationCmd::List { customer, page } => {
            let who = customer
                .map(|c| parse::customer(&store, &c).map(|c| c.id()))
                .transpose()?;
            let mut rows = store.participations(who)?;
            let total = ctx.keep_newest(&mut rows, page);
            if ctx.out.json {
                return ctx.out.json(&rows);
            }
            if rows.is_empty() {
                return ctx.say(t!("participation.none"));
            }
            rows.reverse();
            let mut names = CustomerNames::default();
            let mut t = Table::new(&["DATE", ">CUSTOMER", "NAME", "KIND", "NOTE"]);
            for p in &rows {
                t.row(vec![
                    ctx.day(p.at).to_string(),
                    p.customer.to_string(),
                    names.of(&store, p.customer)?,
                    p.kind.as_str().to_owned(),
                    opt(p.note.as_ref()),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.more(rows.len(), total, "participations")
        }
    }
}
