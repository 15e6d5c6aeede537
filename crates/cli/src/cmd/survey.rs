//! `solocrm survey …`: record, list, show and void survey answers.

use anyhow::{Result, anyhow};
use solocrm_core::{
    ActivityQuery, FreeText, NewSurveyResponse, Store, SurveyId, SurveyKind, SurveyScore,
};

use super::purchase::{show_void, void_mark, when};
use super::{Ctx, CustomerNames};
use crate::cli::SurveyCmd;
use crate::output::{Table, opt};
use crate::parse;

/// Runs a `survey` subcommand.
pub fn run(ctx: &mut Ctx, cmd: SurveyCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        SurveyCmd::Record {
            customer,
            nps,
            csat,
            ces,
            comment,
            at,
        } => {
            let score = match (nps, csat, ces) {
                (Some(n), None, None) => SurveyScore::new(SurveyKind::Nps, n)?,
                (None, Some(n), None) => SurveyScore::new(SurveyKind::Csat, n)?,
                (None, None, Some(n)) => SurveyScore::new(SurveyKind::Ces, n)?,
                _ => return Err(anyhow!(t!("survey.one_kind"))),
            };
            let c = parse::customer(&store, &customer)?;
            let s = store.record_survey(NewSurveyResponse {
                customer: c.id(),
                at: ctx.at(at.at.as_deref())?,
                score,
                comment: comment.as_deref().map(FreeText::parse).transpose()?,
            })?;
            if ctx.out.json {
                return ctx.out.json(&s);
            }
            ctx.say(t!(
                "survey.recorded",
                kind = score.kind(),
                score = score.value(),
                name = c.name()
            ))
        }
        SurveyCmd::List {
            customer,
            kind,
            voided,
            page,
        } => {
            let mut query = match customer {
                Some(c) => ActivityQuery::customer(parse::customer(&store, &c)?.id()),
                None => ActivityQuery::ALL,
            };
            query.include_voided = voided.voided;
            let mut rows = store.surveys(&query)?;
            rows.retain(|s| kind.is_none_or(|k| s.score().kind() == k));
            let total = ctx.keep_newest(&mut rows, page);
            if ctx.out.json {
                return ctx.out.json(&rows);
            }
            rows.reverse();
            let mut names = CustomerNames::default();
            let mut head = vec![">ID", ">CUSTOMER", "NAME", "DATE", "KIND", ">SCORE"];
            if voided.voided {
                head.push("VOIDED");
            }
            head.push("COMMENT");
            let mut t = Table::new(&head);
            for s in &rows {
                let mut row = vec![
                    s.id().to_string(),
                    s.customer().to_string(),
                    names.of(&store, s.customer())?,
                    ctx.day(s.at()).to_string(),
                    s.score().kind().to_string(),
                    s.score().value().to_string(),
                ];
                if voided.voided {
                    row.push(opt(s.void().map(|v| ctx.day(v.at))));
                }
                row.push(opt(s.comment()));
                t.row(row);
            }
            ctx.out.table(&t)?;
            ctx.more(rows.len(), total, "survey answers")
        }
        SurveyCmd::Show { id } => {
            let s = store.read(|r| r.survey(SurveyId::new(id)))?;
            if ctx.out.json {
                return ctx.out.json(&s);
            }
            let name = CustomerNames::default().of(&store, s.customer())?;
            ctx.out.heading(t!("survey.heading", id = s.id()))?;
            let at = when(ctx, s.at());
            super::fields(
                ctx,
                11,
                vec![
                    (
                        t!("field.customer"),
                        t!("field.id_name", id = s.customer(), name = name),
                    ),
                    (t!("field.at"), at),
                    (t!("field.kind"), s.score().kind().to_string()),
                    (t!("field.score"), s.score().value().to_string()),
                    (t!("field.comment"), opt(s.comment())),
                ],
            )?;
            show_void(ctx, s.void())
        }
        SurveyCmd::Void { id, void } => {
            let mark = void_mark(ctx, &void)?;
            let s = store.write(|w| w.void_survey(SurveyId::new(id), mark.clone()))?;
            if ctx.out.json {
                return ctx.out.json(&s);
            }
            ctx.say(t!("survey.voided", id = s.id()))
        }
        SurveyCmd::Template(cmd) => super::questionnaire::template(ctx, &store, cmd),
        SurveyCmd::Answer {
            template,
            customer,
            method,
            answers,
            at,
        } => super::questionnaire::answer_cmd(
            ctx,
            &store,
            &template,
            &customer,
            &method,
            &answers,
            at.at.as_deref(),
        ),
        SurveyCmd::Sheet(cmd) => super::questionnaire::sheet(ctx, &store, cmd),
        SurveyCmd::Dimensions { template, group } => {
            super::questionnaire::dimensions(ctx, &store, template.as_deref(), &group)
        }
    }
}
