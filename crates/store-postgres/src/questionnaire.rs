//! Survey templates and sheets, participations (migration 0009's `survey_templates`,
//! `survey_sheets` and `participations`), each statement binding the tenant as `$1`. [`crate::tx`] forwards
//! the port's methods here.

use solocrm_core::questionnaire::{
    Answer, CollectionMethod, Question, SurveySheet, SurveyTemplate,
};
use solocrm_core::{CustomerId, Tag};

use crate::codec::{Cols, key, ts};
use crate::error::{Res, corrupt};
use crate::pool::Conn;

/// The tenant's templates, by name.
pub(crate) fn survey_templates(c: &mut Conn, t: i64) -> Res<Vec<SurveyTemplate>> {
    c.query(
        "SELECT name, questions, archived FROM survey_templates WHERE tenant_id = $1 \
         ORDER BY name",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "survey_templates");
        let name = c.parse(0, Tag::parse)?;
        let questions: Vec<Question> = serde_json::from_str(c.str(1)?)
            .map_err(|e| corrupt(format!("survey_templates {name}: {e}")))?;
        let archived = c.bool(2)?;
        SurveyTemplate::new(name.clone(), questions)
            .map(|t| t.with_archived(archived))
            .map_err(|e| corrupt(format!("survey_templates {name}: {e}")))
    })
    .collect()
}

fn sheet_row(row: &postgres::Row) -> Res<SurveySheet> {
    let c = Cols::new(row, "survey_sheets");
    let answers: Vec<Answer> = serde_json::from_str(c.str(5)?)
        .map_err(|e| corrupt(format!("survey_sheets: answers: {e}")))?;
    let void = match c.opt_str(6)? {
        Some(v) => Some(
            serde_json::from_str(v).map_err(|e| corrupt(format!("survey_sheets: voided: {e}")))?,
        ),
        None => None,
    };
    Ok(SurveySheet {
        template: c.parse(0, Tag::parse)?,
        customer: c.id(1, CustomerId::new)?,
        at: c.time(2)?,
        method: c.parse(4, CollectionMethod::parse)?,
        answers,
        void,
    })
}

/// The tenant's sheets, of one customer or all, by time, customer, template.
pub(crate) fn survey_sheets(
    c: &mut Conn,
    t: i64,
    customer: Option<CustomerId>,
) -> Res<Vec<SurveySheet>> {
    let rows = match customer {
        None => c.query(
            "SELECT template, customer_id, at, at_ns, method, answers, voided FROM survey_sheets \
             WHERE tenant_id = $1 ORDER BY at, at_ns, customer_id, template",
            &[&t],
        )?,
        Some(id) => c.query(
            "SELECT template, customer_id, at, at_ns, method, answers, voided FROM survey_sheets \
             WHERE tenant_id = $1 AND customer_id = $2 ORDER BY at, at_ns, template",
            &[&t, &key(id.get())],
        )?,
    };
    rows.iter().map(sheet_row).collect()
}

/// Stores a new template.
pub(crate) fn insert_survey_template(c: &mut Conn, t: i64, s: &SurveyTemplate) -> Res<()> {
    let questions = serde_json::to_string(s.questions())
        .map_err(|e| corrupt(format!("survey template {}: {e}", s.name())))?;
    c.execute(
        "INSERT INTO survey_templates (tenant_id, name, questions, archived) \
         VALUES ($1, $2, $3, $4)",
        &[&t, &s.name().as_str(), &questions, &s.is_archived()],
    )?;
    Ok(())
}

/// Replaces the template `from` by `s`; with a new name, its sheets follow (the new
/// row first, then the sheets, then the old row, so that every sheet names a template
/// at each step).
pub(crate) fn replace_survey_template(
    c: &mut Conn,
    t: i64,
    from: &Tag,
    s: &SurveyTemplate,
) -> Res<()> {
    let questions = serde_json::to_string(s.questions())
        .map_err(|e| corrupt(format!("survey template {}: {e}", s.name())))?;
    if s.name() == from {
        c.execute(
            "UPDATE survey_templates SET questions = $3, archived = $4 \
             WHERE tenant_id = $1 AND name = $2",
            &[&t, &from.as_str(), &questions, &s.is_archived()],
        )?;
        return Ok(());
    }
    insert_survey_template(c, t, s)?;
    c.execute(
        "UPDATE survey_sheets SET template = $3 WHERE tenant_id = $1 AND template = $2",
        &[&t, &from.as_str(), &s.name().as_str()],
    )?;
    delete_survey_template(c, t, from)
}

/// Deletes the template `name`.
pub(crate) fn delete_survey_template(c: &mut Conn, t: i64, name: &Tag) -> Res<()> {
    c.execute(
        "DELETE FROM survey_templates WHERE tenant_id = $1 AND name = $2",
        &[&t, &name.as_str()],
    )?;
    Ok(())
}

fn answers_json(s: &SurveySheet) -> Res<String> {
    serde_json::to_string(&s.clone().normalized().answers)
        .map_err(|e| corrupt(format!("survey sheet: {e}")))
}

/// Stores a new sheet.
pub(crate) fn insert_survey_sheet(c: &mut Conn, t: i64, s: &SurveySheet) -> Res<()> {
    let (at, ns) = ts(s.at);
    c.execute(
        "INSERT INTO survey_sheets \
         (tenant_id, template, customer_id, at, at_ns, method, answers, voided) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &t,
            &s.template.as_str(),
            &key(s.customer.get()),
            &at,
            &ns,
            &s.method.as_str(),
            &answers_json(s)?,
            &void_json(s)?,
        ],
    )?;
    Ok(())
}

fn void_json(s: &SurveySheet) -> Res<Option<String>> {
    s.void
        .as_ref()
        .map(|v| serde_json::to_string(v).map_err(|e| corrupt(format!("survey sheet: {e}"))))
        .transpose()
}

/// Replaces the method, answers and void of the sheet with `s`'s key.
pub(crate) fn update_survey_sheet(c: &mut Conn, t: i64, s: &SurveySheet) -> Res<()> {
    let (at, ns) = ts(s.at);
    let n = c.execute(
        "UPDATE survey_sheets SET method = $6, answers = $7, voided = $8 WHERE tenant_id = $1 \
         AND template = $2 AND customer_id = $3 AND at = $4 AND at_ns = $5",
        &[
            &t,
            &s.template.as_str(),
            &key(s.customer.get()),
            &at,
            &ns,
            &s.method.as_str(),
            &answers_json(s)?,
            &void_json(s)?,
        ],
    )?;
    if n == 0 {
        return Err(corrupt(format!(
            "no sheet of {} by customer {} at {} to update",
            s.template, s.customer, s.at
        )));
    }
    Ok(())
}

fn participation_row(row: &postgres::Row) -> Res<solocrm_core::participation::Participation> {
    let c = Cols::new(row, "participations");
    Ok(solocrm_core::participation::Participation {
        customer: c.id(0, CustomerId::new)?,
        at: c.time(1)?,
        kind: c.parse(3, solocrm_core::participation::ParticipationKind::parse)?,
        note: c.opt_parse(4, solocrm_core::FreeText::parse)?,
    })
}

/// The tenant's participations, of one customer or all, by time, customer, kind.
pub(crate) fn participations(
    c: &mut Conn,
    t: i64,
    customer: Option<CustomerId>,
) -> Res<Vec<solocrm_core::participation::Participation>> {
    let rows = match customer {
        None => c.query(
            "SELECT customer_id, at, at_ns, kind, note FROM participations \
             WHERE tenant_id = $1 ORDER BY at, at_ns, customer_id, kind",
            &[&t],
        )?,
        Some(id) => c.query(
            "SELECT customer_id, at, at_ns, kind, note FROM participations \
             WHERE tenant_id = $1 AND customer_id = $2 ORDER BY at, at_ns, kind",
            &[&t, &key(id.get())],
        )?,
    };
    rows.iter().map(participation_row).collect()
}

/// Stores a new participation.
pub(crate) fn insert_participation(
    c: &mut Conn,
    t: i64,
    p: &solocrm_core::participation::Participation,
) -> Res<()> {
    let (at, ns) = ts(p.at);
    c.execute(
        "INSERT INTO participations (tenant_id, customer_id, at, at_ns, kind, note) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &t,
            &key(p.customer.get()),
            &at,
            &ns,
            &p.kind.as_str(),
            &p.note.as_ref().map(|n| n.as_str()),
        ],
    )?;
    Ok(())
}

/// Replaces the note of the participation with `p`'s key.
pub(crate) fn update_participation(
    c: &mut Conn,
    t: i64,
    p: &solocrm_core::participation::Participation,
) -> Res<()> {
    let (at, ns) = ts(p.at);
    let n = c.execute(
        "UPDATE participations SET note = $6 WHERE tenant_id = $1 AND customer_id = $2 \
         AND at = $3 AND at_ns = $4 AND kind = $5",
        &[
            &t,
            &key(p.customer.get()),
            &at,
            &ns,
            &p.kind.as_str(),
            &p.note.as_ref().map(|n| n.as_str()),
        ],
    )?;
    if n == 0 {
        return Err(corrupt(format!(
            "no {} participation of customer {} at {} to update",
            p.kind, p.customer, p.at
        )));
    }
    Ok(())
}
