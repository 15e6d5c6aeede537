//! Survey templates and sheets (tables `survey_templates` and `survey_sheets`): the
//! questions and the answers are kept as JSON text, checked again when read.

use rusqlite::{Connection, params};
use solocrm_core::CustomerId;
use solocrm_core::Tag;
use solocrm_core::questionnaire::{Answer, Question, SurveySheet, SurveyTemplate};

use crate::codec::{Cols, key, ts};
use crate::error::Res;
use crate::rows::{corrupt, execute, query_all};

pub(crate) fn survey_templates(conn: &Connection) -> Res<Vec<SurveyTemplate>> {
    query_all(
        conn,
        "SELECT name, questions, archived FROM survey_templates ORDER BY name",
        [],
        |row| {
            let c = Cols::new(row, "survey_templates");
            let name = c.parse(0, Tag::parse)?;
            let questions: Vec<Question> = serde_json::from_str(c.str(1)?)
                .map_err(|e| corrupt(format!("survey_templates {name}: {e}")))?;
            let archived = c.bool(2)?;
            SurveyTemplate::new(name.clone(), questions)
                .map(|t| t.with_archived(archived))
                .map_err(|e| corrupt(format!("survey_templates {name}: {e}")))
        },
    )
}

const SHEET_COLUMNS: &str = "template, customer_id, at, at_ns, method, answers, voided";

fn sheet_row(row: &rusqlite::Row<'_>) -> Res<SurveySheet> {
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
        method: c.parse(4, solocrm_core::questionnaire::CollectionMethod::parse)?,
        answers,
        void,
    })
}

pub(crate) fn survey_sheets(
    conn: &Connection,
    customer: Option<CustomerId>,
) -> Res<Vec<SurveySheet>> {
    match customer {
        None => query_all(
            conn,
            &format!(
                "SELECT {SHEET_COLUMNS} FROM survey_sheets \
                 ORDER BY at, at_ns, customer_id, template"
            ),
            [],
            sheet_row,
        ),
        Some(id) => query_all(
            conn,
            &format!(
                "SELECT {SHEET_COLUMNS} FROM survey_sheets WHERE customer_id = ?1 \
                 ORDER BY at, at_ns, template"
            ),
            [key(id.get())],
            sheet_row,
        ),
    }
}

pub(crate) fn insert_survey_template(conn: &Connection, t: &SurveyTemplate) -> Res<()> {
    let questions = serde_json::to_string(t.questions())
        .map_err(|e| corrupt(format!("survey template {}: {e}", t.name())))?;
    execute(
        conn,
        "INSERT INTO survey_templates (name, questions, archived) VALUES (?1, ?2, ?3)",
        params![t.name().as_str(), questions, t.is_archived()],
    )?;
    Ok(())
}

/// Replaces the template `from` by `t`; with a new name, its sheets follow (the new
/// row first, then the sheets, then the old row, so that every sheet names a template
/// at each step).
pub(crate) fn replace_survey_template(
    conn: &Connection,
    from: &Tag,
    t: &SurveyTemplate,
) -> Res<()> {
    let questions = serde_json::to_string(t.questions())
        .map_err(|e| corrupt(format!("survey template {}: {e}", t.name())))?;
    if t.name() == from {
        execute(
            conn,
            "UPDATE survey_templates SET questions = ?2, archived = ?3 WHERE name = ?1",
            params![from.as_str(), questions, t.is_archived()],
        )?;
        return Ok(());
    }
    insert_survey_template(conn, t)?;
    execute(
        conn,
        "UPDATE survey_sheets SET template = ?2 WHERE template = ?1",
        params![from.as_str(), t.name().as_str()],
    )?;
    delete_survey_template(conn, from)
}

/// Deletes the template `name`.
pub(crate) fn delete_survey_template(conn: &Connection, name: &Tag) -> Res<()> {
    execute(
        conn,
        "DELETE FROM survey_templates WHERE name = ?1",
        params![name.as_str()],
    )?;
    Ok(())
}

fn answers_json(s: &SurveySheet) -> Res<String> {
    serde_json::to_string(&s.clone().normalized().answers)
        .map_err(|e| corrupt(format!("survey sheet: {e}")))
}

fn void_json(s: &SurveySheet) -> Res<Option<String>> {
    s.void
        .as_ref()
        .map(|v| serde_json::to_string(v).map_err(|e| corrupt(format!("survey sheet: {e}"))))
        .transpose()
}

pub(crate) fn insert_survey_sheet(conn: &Connection, s: &SurveySheet) -> Res<()> {
    let (at, ns) = ts(s.at);
    execute(
        conn,
        &format!("INSERT INTO survey_sheets ({SHEET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            s.template.as_str(),
            key(s.customer.get()),
            at,
            ns,
            s.method.as_str(),
            answers_json(s)?,
            void_json(s)?
        ],
    )?;
    Ok(())
}

pub(crate) fn update_survey_sheet(conn: &Connection, s: &SurveySheet) -> Res<()> {
    let (at, ns) = ts(s.at);
    let n = execute(
        conn,
        "UPDATE survey_sheets SET method = ?5, answers = ?6, voided = ?7 \
         WHERE template = ?1 AND customer_id = ?2 AND at = ?3 AND at_ns = ?4",
        params![
            s.template.as_str(),
            key(s.customer.get()),
            at,
            ns,
            s.method.as_str(),
            answers_json(s)?,
            void_json(s)?
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

const PARTICIPATION_COLUMNS: &str = "customer_id, at, at_ns, kind, note";

fn participation_row(row: &rusqlite::Row<'_>) -> Res<solocrm_core::participation::Participation> {
    let c = Cols::new(row, "participations");
    Ok(solocrm_core::participation::Participation {
        customer: c.id(0, CustomerId::new)?,
        at: c.time(1)?,
        kind: c.parse(3, solocrm_core::participation::ParticipationKind::parse)?,
        note: c.opt_parse(4, solocrm_core::FreeText::parse)?,
    })
}

pub(crate) fn participations(
    conn: &Connection,
    customer: Option<CustomerId>,
) -> Res<Vec<solocrm_core::participation::Participation>> {
    match customer {
        None => query_all(
            conn,
            &format!(
                "SELECT {PARTICIPATION_COLUMNS} FROM participations \
                 ORDER BY at, at_ns, customer_id, kind"
            ),
            [],
            participation_row,
        ),
        Some(id) => query_all(
            conn,
            &format!(
                "SELECT {PARTICIPATION_COLUMNS} FROM participations WHERE customer_id = ?1 \
                 ORDER BY at, at_ns, kind"
            ),
            [key(id.get())],
            participation_row,
        ),
    }
}

pub(crate) fn insert_participation(
    conn: &Connection,
    p: &solocrm_core::participation::Participation,
) -> Res<()> {
    let (at, ns) = ts(p.at);
    execute(
        conn,
        &format!(
            "INSERT INTO participations ({PARTICIPATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
        ),
        params![
            key(p.customer.get()),
            at,
            ns,
            p.kind.as_str(),
            p.note.as_ref().map(|n| n.as_str())
        ],
    )?;
    Ok(())
}

pub(crate) fn update_participation(
    conn: &Connection,
    p: &solocrm_core::participation::Participation,
) -> Res<()> {
    let (at, ns) = ts(p.at);
    let n = execute(
        conn,
        "UPDATE participations SET note = ?5 \
         WHERE customer_id = ?1 AND at = ?2 AND at_ns = ?3 AND kind = ?4",
        params![
            key(p.customer.get()),
            at,
            ns,
            p.kind.as_str(),
            p.note.as_ref().map(|n| n.as_str())
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
