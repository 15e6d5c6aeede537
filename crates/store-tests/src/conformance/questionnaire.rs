//! Survey templates with dimensions and the sheets answered against them (issue 18):
//! stored and read back exactly, listed in key order, refused when they do not fit,
//! analysed by dimension, and scrubbed of their free text by an erasure.

use solocrm_core::questionnaire::{
    Answer, AnswerValue, Answering, CollectionMethod, Question, Scale, SurveySheet, SurveyTemplate,
    SurveyTemplateEdit,
};
use solocrm_core::{Conflict, CustomerId, Entity, Store, StoreError, SurveyKind, Void};

use super::support::{assert_err, at, at_hour, customer, label, tag, text};

fn q(text: &str, dimension: &str, answering: Answering) -> Question {
    Question {
        text: label(text),
        dimension: label(dimension),
        answering,
    }
}

fn scale(min: i64, max: i64) -> Scale {
    Scale::new(min, max).expect("a scale")
}

/// 回访: an NPS question (总体), two 1–5 questions (产品满意度, 服务质量) and a comment
/// on 售后支持.
fn template() -> SurveyTemplate {
    SurveyTemplate::new(
        tag("回访"),
        vec![
            q(
                "您向朋友推荐我们的可能性有多大？",
                "总体",
                Answering::Score {
                    scale: scale(0, 10),
                    role: Some(SurveyKind::Nps),
                },
            ),
            q(
                "产品质量如何？",
                "产品满意度",
                Answering::Score {
                    scale: scale(1, 5),
                    role: None,
                },
            ),
            q(
                "服务态度如何？",
                "服务质量",
                Answering::Score {
                    scale: scale(1, 5),
                    role: None,
                },
            ),
            q("售后还有什么建议？", "售后支持", Answering::Text),
        ],
    )
    .expect("a template")
}

fn score(question: u16, s: u8) -> Answer {
    Answer {
        question,
        value: AnswerValue::Score(s),
    }
}

fn comment(question: u16, s: &str) -> Answer {
    Answer {
        question,
        value: AnswerValue::Text(text(s)),
    }
}

fn sheet(customer: CustomerId, day: u32, answers: Vec<Answer>) -> SurveySheet {
    SurveySheet {
        void: None,
        template: tag("回访"),
        customer,
        at: at(day),
        method: CollectionMethod::Phone,
        answers,
    }
}

/// Templates read back exactly, by name; a second template of the same name is a
/// conflict; sheets read back with their answers by question number, listed by time
/// then customer then template, all or of one customer.
pub fn survey_templates_and_sheets_are_stored_and_listed_in_order(store: &dyn Store) {
    assert!(store.survey_templates().expect("none").is_empty());
    let t = template();
    store.add_survey_template(t.clone()).expect("added");
    let other = SurveyTemplate::new(
        tag("a-short"),
        vec![q(
            "满意吗？",
            "服务质量",
            Answering::Score {
                scale: scale(1, 7),
                role: None,
            },
        )],
    )
    .expect("a template");
    store.add_survey_template(other.clone()).expect("added");
    // By name: "a-short" sorts before "回访".
    assert_eq!(
        store.survey_templates().expect("read"),
        vec![other, t.clone()]
    );
    assert_err!(
        store.add_survey_template(t),
        StoreError::Conflict(Conflict::DuplicateSurveyTemplate { .. })
    );

    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    // Answers given out of order come back by question number.
    let late = store
        .record_survey_sheet(sheet(
            wang,
            3,
            vec![comment(4, "配送太慢了"), score(1, 9), score(2, 5)],
        ))
        .expect("recorded");
    assert_eq!(
        late.answers.iter().map(|a| a.question).collect::<Vec<_>>(),
        vec![1, 2, 4]
    );
    let mut early = sheet(li, 2, vec![score(1, 3), score(3, 1)]);
    early.method = CollectionMethod::InPerson;
    let early = store.record_survey_sheet(early).expect("recorded");
    let mut short = sheet(wang, 2, vec![score(1, 6)]);
    short.template = tag("a-short");
    let short = store.record_survey_sheet(short).expect("recorded");
    // Same instant: customer order (王伟 was created first), then template name.
    let all = store.survey_sheets(None).expect("read");
    assert_eq!(all, vec![short.clone(), early.clone(), late.clone()]);
    assert_eq!(
        store.survey_sheets(Some(wang)).expect("read"),
        vec![short, late]
    );
    assert_eq!(store.survey_sheets(Some(li)).expect("read"), vec![early]);
    // A second sheet with the same key is a conflict.
    assert_err!(
        store.record_survey_sheet(sheet(wang, 3, vec![score(1, 1)])),
        StoreError::Conflict(Conflict::DuplicateSurveySheet { .. })
    );
}

/// A sheet that does not fit its template, of an unknown template or customer, or of
/// an erased customer, is refused and nothing is written.
pub fn a_survey_sheet_that_does_not_fit_is_refused(store: &dyn Store) {
    store.add_survey_template(template()).expect("added");
    let wang = customer(store, "王伟").id();
    for bad in [
        vec![],
        vec![score(2, 6)],
        vec![score(1, 11)],
        vec![score(9, 1)],
        vec![comment(2, "不错")],
        vec![score(4, 3)],
        vec![score(1, 8), score(1, 9)],
    ] {
        assert_err!(
            store.record_survey_sheet(sheet(wang, 1, bad)),
            StoreError::Validation(_)
        );
    }
    let mut unknown = sheet(wang, 1, vec![score(1, 8)]);
    unknown.template = tag("没有");
    assert_err!(
        store.record_survey_sheet(unknown),
        StoreError::NotFound {
            entity: Entity::SurveyTemplate,
            ..
        }
    );
    assert_err!(
        store.record_survey_sheet(sheet(CustomerId::new(999), 1, vec![score(1, 8)])),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    store.erase_customer(wang, at(2)).expect("erased");
    assert_err!(
        store.record_survey_sheet(sheet(wang, 3, vec![score(1, 8)])),
        StoreError::Conflict(Conflict::CustomerErased { .. })
    );
    assert!(store.survey_sheets(None).expect("read").is_empty());
}

/// The analysis over stored sheets: means by dimension, the separating dimension and
/// the comments grouped by dimension.
pub fn survey_dimensions_are_analysed_over_the_stored_sheets(store: &dyn Store) {
    store.add_survey_template(template()).expect("added");
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    store
        .record_survey_sheet(sheet(wang, 1, vec![score(1, 10), score(2, 5), score(3, 5)]))
        .expect("recorded");
    store
        .record_survey_sheet(sheet(
            li,
            1,
            vec![
                score(1, 2),
                score(2, 4),
                score(3, 1),
                comment(4, "退货流程太复杂"),
            ],
        ))
        .expect("recorded");
    let a = store.survey_dimensions(None).expect("analysed");
    assert_eq!((a.sheets, a.promoters, a.detractors), (2, 1, 1));
    assert_eq!(a.separating.as_ref().map(|d| d.as_str()), Some("服务质量"));
    let names: Vec<&str> = a.dimensions.iter().map(|d| d.dimension.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "dimensions by name");
    assert_eq!(a.comments.len(), 1);
    assert_eq!(a.comments[0].dimension.as_str(), "售后支持");
    assert_eq!(a.comments[0].comments[0].customer, li);
    assert_err!(
        store.survey_dimensions(Some(&tag("没有"))),
        StoreError::NotFound {
            entity: Entity::SurveyTemplate,
            ..
        }
    );
}

/// Erasing a customer drops the free-text answers of their sheets and keeps the
/// scores, the method and the time; other customers' sheets are untouched.
pub fn erasure_scrubs_the_free_text_of_survey_sheets(store: &dyn Store) {
    store.add_survey_template(template()).expect("added");
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    store
        .record_survey_sheet(sheet(
            wang,
            1,
            vec![score(1, 4), comment(4, "王先生的手机号是138…")],
        ))
        .expect("recorded");
    let kept = store
        .record_survey_sheet(sheet(li, 1, vec![score(1, 9), comment(4, "很满意")]))
        .expect("recorded");
    store.erase_customer(wang, at_hour(2, 9)).expect("erased");
    let after = store.survey_sheets(Some(wang)).expect("read");
    assert_eq!(after.len(), 1);
    assert!(!after[0].has_text());
    assert_eq!(after[0].answers, vec![score(1, 4)]);
    assert_eq!(after[0].method, CollectionMethod::Phone);
    assert_eq!(store.survey_sheets(Some(li)).expect("read"), vec![kept]);
    let a = store.survey_dimensions(None).expect("analysed");
    assert!(
        a.comments
            .iter()
            .flat_map(|d| &d.comments)
            .all(|c| c.customer != wang)
    );
}

/// Editing a template (issue 18): questions change while no one has answered it;
/// once answered they are refused (the stored answers would change meaning), but a
/// rename still goes through and carries the sheets with it, answers unchanged; a
/// name another template has is refused; an unknown template is not found.
pub fn a_survey_template_is_renamed_with_its_sheets_and_keeps_answered_questions(
    store: &dyn Store,
) {
    store.add_survey_template(template()).expect("added");
    let other = SurveyTemplate::new(
        tag("售后"),
        vec![q("满意吗？", "售后支持", Answering::Text)],
    )
    .expect("a template");
    store.add_survey_template(other).expect("added");
    // Unanswered: the questions may change (here: the comment dropped).
    let fewer: Vec<Question> = template().questions()[..3].to_vec();
    let edited = store
        .edit_survey_template(
            &tag("回访"),
            SurveyTemplateEdit {
                questions: Some(fewer.clone()),
                ..SurveyTemplateEdit::default()
            },
        )
        .expect("edited");
    assert_eq!(edited.questions(), &fewer[..]);
    let back = store
        .edit_survey_template(
            &tag("回访"),
            SurveyTemplateEdit {
                questions: Some(template().questions().to_vec()),
                ..SurveyTemplateEdit::default()
            },
        )
        .expect("edited back");
    assert_eq!(back, template());

    let c = customer(store, "周杰");
    let answered = sheet(
        c.id(),
        2,
        vec![score(1, 9), score(2, 4), comment(4, "很好")],
    );
    store
        .record_survey_sheet(answered.clone())
        .expect("recorded");
    assert_err!(
        store.edit_survey_template(
            &tag("回访"),
            SurveyTemplateEdit {
                questions: Some(fewer),
                ..SurveyTemplateEdit::default()
            },
        ),
        StoreError::Conflict(Conflict::SurveyTemplateAnswered { sheets: 1, .. })
    );
    assert_err!(
        store.edit_survey_template(
            &tag("回访"),
            SurveyTemplateEdit {
                name: Some(tag("售后")),
                ..SurveyTemplateEdit::default()
            },
        ),
        StoreError::Conflict(Conflict::DuplicateSurveyTemplate { .. })
    );
    assert_err!(
        store.edit_survey_template(&tag("无此模板"), SurveyTemplateEdit::default()),
        StoreError::NotFound {
            entity: Entity::SurveyTemplate,
            ..
        }
    );
    // The same questions again with a new name: a rename, the sheet follows.
    let renamed = store
        .edit_survey_template(
            &tag("回访"),
            SurveyTemplateEdit {
                name: Some(tag("季度回访")),
                questions: Some(template().questions().to_vec()),
            },
        )
        .expect("renamed");
    assert_eq!(renamed.name(), &tag("季度回访"));
    let names: Vec<String> = store
        .survey_templates()
        .expect("listed")
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    assert_eq!(names, ["售后", "季度回访"]);
    let sheets = store.survey_sheets(None).expect("read");
    assert_eq!(
        sheets,
        [SurveySheet {
            void: None,
            template: tag("季度回访"),
            ..answered.normalized()
        }]
    );
    // New answers go to the new name; the old one is gone.
    store
        .record_survey_sheet(SurveySheet {
            void: None,
            template: tag("季度回访"),
            ..sheet(c.id(), 3, vec![score(1, 10)])
        })
        .expect("recorded under the new name");
    assert_err!(
        store.record_survey_sheet(sheet(c.id(), 4, vec![score(1, 10)])),
        StoreError::NotFound {
            entity: Entity::SurveyTemplate,
            ..
        }
    );
}

/// Removing a template: gone while no one has answered it; refused once answered,
/// the template and its sheets left as they were (ADR 0011: the books keep what
/// happened).
pub fn a_survey_template_is_removed_only_while_unanswered(store: &dyn Store) {
    store.add_survey_template(template()).expect("added");
    let removed = store.remove_survey_template(&tag("回访")).expect("removed");
    assert_eq!(removed, template());
    assert!(store.survey_templates().expect("listed").is_empty());
    assert_err!(
        store.remove_survey_template(&tag("回访")),
        StoreError::NotFound {
            entity: Entity::SurveyTemplate,
            ..
        }
    );
    store.add_survey_template(template()).expect("added again");
    let c = customer(store, "吴敏");
    store
        .record_survey_sheet(sheet(c.id(), 2, vec![score(1, 3)]))
        .expect("recorded");
    assert_err!(
        store.remove_survey_template(&tag("回访")),
        StoreError::Conflict(Conflict::SurveyTemplateAnswered { sheets: 1, .. })
    );
    assert_eq!(store.survey_templates().expect("listed"), [template()]);
    assert_eq!(store.survey_sheets(None).expect("read").len(), 1);
}

/// ADR 0045: an archived template is listed with its mark, takes no new sheet, keeps
/// its sheets in the analysis, and takes sheets again once unarchived.
pub fn an_archived_survey_template_takes_no_answers_until_unarchived(store: &dyn Store) {
    store.add_survey_template(template()).expect("added");
    let c = customer(store, "郑秀兰");
    store
        .record_survey_sheet(sheet(c.id(), 2, vec![score(1, 9), score(3, 4)]))
        .expect("recorded");
    let archived = store
        .set_survey_template_archived(&tag("回访"), true)
        .expect("archived");
    assert!(archived.is_archived());
    assert_eq!(archived.questions(), template().questions());
    assert_eq!(
        store.survey_templates().expect("listed"),
        [template().with_archived(true)]
    );
    assert_err!(
        store.record_survey_sheet(sheet(c.id(), 3, vec![score(1, 8)])),
        StoreError::Conflict(Conflict::SurveyTemplateArchived { .. })
    );
    assert_eq!(store.survey_sheets(None).expect("read").len(), 1);
    // Archiving twice is no change; renaming keeps the mark.
    store
        .set_survey_template_archived(&tag("回访"), true)
        .expect("again");
    let renamed = store
        .edit_survey_template(
            &tag("回访"),
            SurveyTemplateEdit {
                name: Some(tag("旧回访")),
                questions: None,
            },
        )
        .expect("renamed");
    assert!(renamed.is_archived());
    assert_err!(
        store.set_survey_template_archived(&tag("回访"), false),
        StoreError::NotFound {
            entity: Entity::SurveyTemplate,
            ..
        }
    );
    let back = store
        .set_survey_template_archived(&tag("旧回访"), false)
        .expect("unarchived");
    assert!(!back.is_archived());
    assert!(!store.survey_templates().expect("listed")[0].is_archived());
    let mut again = sheet(c.id(), 4, vec![score(1, 10)]);
    again.template = tag("旧回访");
    store.record_survey_sheet(again).expect("answered again");
    assert_eq!(store.survey_sheets(None).expect("read").len(), 2);
}

/// A sheet is voided once (ADR 0050): it stays, listed with its void, but counts in no
/// dimension analysis, and its template stays answered. Voiding it again, an unknown
/// sheet, or a sheet of an erased customer is refused and nothing is written; an
/// erasure drops the void's reason and keeps its time.
pub fn a_survey_sheet_is_voided_once_and_counts_in_no_analysis(store: &dyn Store) {
    store.add_survey_template(template()).expect("added");
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    let promoter = store
        .record_survey_sheet(sheet(wang, 1, vec![score(1, 10), score(3, 5)]))
        .expect("recorded");
    let detractor = store
        .record_survey_sheet(sheet(li, 1, vec![score(1, 2), score(3, 1)]))
        .expect("recorded");
    assert_eq!(detractor.void, None);
    let before = store.survey_dimensions(None).expect("analysed");
    assert_eq!(
        (before.sheets, before.promoters, before.detractors),
        (2, 1, 1)
    );

    let void = Void::at(at(5)).because(text("录错了客户"));
    let voided = store
        .void_survey_sheet(&detractor.key(), void.clone())
        .expect("voided");
    assert_eq!(
        voided,
        SurveySheet {
            void: Some(void.clone()),
            ..detractor.clone()
        }
    );
    // Still listed (so exported and archived), with its void.
    assert_eq!(
        store.survey_sheets(None).expect("read"),
        vec![promoter.clone(), voided.clone()]
    );
    // Counted nowhere.
    let after = store.survey_dimensions(None).expect("analysed");
    assert_eq!((after.sheets, after.promoters, after.detractors), (1, 1, 0));
    assert_eq!(
        after,
        solocrm_core::questionnaire::analysis::analyse_dimensions(
            &[template()],
            std::slice::from_ref(&promoter)
        )
    );
    // Still an answer: the template keeps its questions.
    assert_err!(
        store.remove_survey_template(&tag("回访")),
        StoreError::Conflict(Conflict::SurveyTemplateAnswered { sheets: 2, .. })
    );

    // Twice, unknown key, unknown customer: refused, nothing written.
    assert_err!(
        store.void_survey_sheet(&detractor.key(), Void::at(at(6))),
        StoreError::Conflict(Conflict::SurveySheetVoided { .. })
    );
    let mut unknown = promoter.key();
    unknown.at = at(2);
    assert_err!(
        store.void_survey_sheet(&unknown, Void::at(at(6))),
        StoreError::NotFound {
            entity: Entity::SurveySheet,
            ..
        }
    );
    let mut nobody = promoter.key();
    nobody.customer = CustomerId::new(999_999);
    assert_err!(
        store.void_survey_sheet(&nobody, Void::at(at(6))),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert_eq!(
        store.survey_sheets(None).expect("read"),
        vec![promoter.clone(), voided.clone()]
    );

    // An erased customer's sheet cannot be voided; an erasure keeps the void's time and
    // drops its reason.
    store.erase_customer(wang, at(7)).expect("erased");
    assert_err!(
        store.void_survey_sheet(&promoter.key(), Void::at(at(8))),
        StoreError::Conflict(Conflict::CustomerErased { .. })
    );
    assert_eq!(
        store.survey_sheets(Some(wang)).expect("read"),
        vec![promoter]
    );
    store.erase_customer(li, at(8)).expect("erased");
    let scrubbed = store.survey_sheets(Some(li)).expect("read");
    assert_eq!(scrubbed.len(), 1);
    assert_eq!(scrubbed[0].void, Some(Void::at(at(5))));
}
