//! Survey templates written by hand: a TOML file (`survey template add NAME --from
//! FILE`) or one `--question` flag per question, both read into a
//! [`SurveyTemplate`] here so every frontend accepts the same forms.
//!
//! The file lists the questions in the order asked:
//!
//! ```toml
//! [[question]]
//! text = "您向朋友推荐我们的可能性有多大？"
//! dimension = "总体"
//! answer = "0-10"
//! role = "nps"
//!
//! [[question]]
//! text = "售后还有什么建议？"
//! dimension = "售后支持"
//! answer = "text"
//! ```
//!
//! `answer` is a scale `MIN-MAX` (e.g. `1-5`) or `text`; `role` (optional, on a score
//! question) is `nps`, `csat` or `ces`. A flag writes the same as
//! `TEXT|DIMENSION|ANSWER[|ROLE]`.

use serde::Deserialize;
use solocrm_core::questionnaire::{Answering, Question, Scale, SurveyTemplate};
use solocrm_core::{Label, SurveyKind, Tag};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    question: Vec<QuestionEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionEntry {
    text: String,
    dimension: String,
    answer: String,
    #[serde(default)]
    role: Option<String>,
}

/// One question from its four parts; the error names the part at fault.
///
/// # Errors
///
/// A message for an empty or over-long text or dimension, an answer that is neither
/// `text` nor a scale, a role that is not `nps`, `csat` or `ces`, or a role on a text
/// question.
pub fn question(
    text: &str,
    dimension: &str,
    answer: &str,
    role: Option<&str>,
) -> Result<Question, String> {
    let text = Label::parse(text).map_err(|e| format!("text: {e}"))?;
    let dimension = Label::parse(dimension).map_err(|e| format!("dimension: {e}"))?;
    let role = role
        .map(SurveyKind::parse)
        .transpose()
        .map_err(|e| format!("role: {e}"))?;
    let answering = if answer.trim().eq_ignore_ascii_case("text") {
        if role.is_some() {
            return Err("role: a text question has no role".to_owned());
        }
        Answering::Text
    } else {
        let scale = Scale::parse(answer)
            .map_err(|e| format!("answer: {e}, or 'text' for a free-text question"))?;
        Answering::Score { scale, role }
    };
    Ok(Question {
        text,
        dimension,
        answering,
    })
}

/// A question from a flag `TEXT|DIMENSION|ANSWER[|ROLE]`.
///
/// ```
/// use solocrm_app::questionnaire::question_from_flag;
/// let q = question_from_flag("服务态度如何？|服务质量|1-5").unwrap();
/// assert_eq!(q.dimension.as_str(), "服务质量");
/// assert!(question_from_flag("只有两段|服务质量").is_err());
/// ```
///
/// # Errors
///
/// A message for the wrong number of parts, or as [`question`].
pub fn question_from_flag(flag: &str) -> Result<Question, String> {
    let parts: Vec<&str> = flag.split('|').collect();
    match parts.as_slice() {
        [text, dimension, answer] => question(text, dimension, answer, None),
        [text, dimension, answer, role] => question(text, dimension, answer, Some(role)),
        _ => Err(format!(
            "--question '{flag}' is not TEXT|DIMENSION|ANSWER[|ROLE], e.g. '服务态度如何？|服务质量|1-5'"
        )),
    }
}

/// A template named `name` from the questions of a TOML file.
///
/// # Errors
///
/// A message with the TOML error (and its line), or `question N: …` for the first
/// question at fault, or the template's own check (no questions, two NPS questions, a
/// role on the wrong scale).
pub fn template_from_toml(name: Tag, source: &str) -> Result<SurveyTemplate, String> {
    let file: TemplateFile = toml::from_str(source).map_err(|e| e.to_string())?;
    let questions = file
        .question
        .iter()
        .enumerate()
        .map(|(i, q)| {
            question(&q.text, &q.dimension, &q.answer, q.role.as_deref())
                .map_err(|e| format!("question {}: {e}", i + 1))
        })
        .collect::<Result<Vec<_>, _>>()?;
    SurveyTemplate::new(name, questions).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_reads_into_a_template_and_a_bad_one_names_its_question() {
        let file = "[[question]]\ntext = \"推荐意愿\"\ndimension = \"总体\"\nanswer = \"0-10\"\nrole = \"nps\"\n\n[[question]]\ntext = \"建议\"\ndimension = \"售后支持\"\nanswer = \"text\"\n";
        let t = template_from_toml(Tag::parse("回访").expect("a tag"), file).expect("a template");
        assert_eq!(t.questions().len(), 2);
        assert_eq!(t.questions()[0].role(), Some(SurveyKind::Nps));
        let bad = file.replace("\"0-10\"", "\"1-5\"");
        let e = template_from_toml(Tag::parse("回访").expect("a tag"), &bad).expect_err("refused");
        assert!(e.contains("nps"), "{e}");
        let bad = file.replace("answer = \"text\"", "answer = \"很多\"");
        let e = template_from_toml(Tag::parse("回访").expect("a tag"), &bad).expect_err("refused");
        assert!(e.starts_with("question 2: answer:"), "{e}");
        let e = template_from_toml(
            Tag::parse("回访").expect("a tag"),
            "[[question]]\ntext = 1\n",
        )
        .expect_err("refused");
        assert!(!e.is_empty());
    }
}
