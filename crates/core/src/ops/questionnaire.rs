//! Survey templates and sheets ([`crate::questionnaire`]): the checks a write makes
//! before the port stores them, and the reads and analysis over them.

use super::{Reader, Writer};
use crate::CustomerId;
use crate::error::Conflict;
use crate::event::DomainEvent;
use crate::questionnaire::analysis::{DimensionAnalysis, analyse_dimensions};
use crate::questionnaire::{SheetKey, SurveySheet, SurveyTemplate, SurveyTemplateEdit};
use crate::store::{Entity, StoreError, StoreResult};
use crate::text::Tag;
use crate::void::Void;

impl Reader<'_> {
    /// Every survey template, by name.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn survey_templates(&self) -> StoreResult<Vec<SurveyTemplate>> {
        self.tx.survey_templates()
    }

    /// The survey template named `name`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if there is none by that name.
    pub fn survey_template(&self, name: &Tag) -> StoreResult<SurveyTemplate> {
        self.tx
            .survey_templates()?
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| StoreError::NotFound {
                entity: Entity::SurveyTemplate,
                key: name.to_string(),
            })
    }

    /// The survey sheets of `customer` (everyone's with `None`), by time, customer,
    /// template.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn survey_sheets(&self, customer: Option<CustomerId>) -> StoreResult<Vec<SurveySheet>> {
        self.tx.survey_sheets(customer)
    }

    /// [`analyse_dimensions`] over every sheet, or over one template's.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown `template`.
    pub fn survey_dimensions(&self, template: Option<&Tag>) -> StoreResult<DimensionAnalysis> {
        self.survey_dimensions_where(template, &|_| true)
    }

    /// [`survey_dimensions`](Self::survey_dimensions) over the sheets of the customers
    /// `keep` accepts only (a segment's or stage's, ADR 0026): the analysis is the same,
    /// its input narrowed.
    ///
    /// # Errors
    ///
    /// As [`survey_dimensions`](Self::survey_dimensions).
    pub fn survey_dimensions_where(
        &self,
        template: Option<&Tag>,
        keep: &dyn Fn(CustomerId) -> bool,
    ) -> StoreResult<DimensionAnalysis> {
        let templates = match template {
            Some(name) => vec![self.survey_template(name)?],
            None => self.survey_templates()?,
        };
        let mut sheets = self.tx.survey_sheets(None)?;
        sheets.retain(|s| keep(s.customer));
        Ok(analyse_dimensions(&templates, &sheets))
    }
}

impl Reader<'_> {
    /// The participations of `customer` (everyone's with `None`), by time, customer,
    /// kind.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn participations(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<crate::participation::Participation>> {
        self.tx.participations(customer)
    }
}

impl Writer<'_> {
    /// Records a customer's participation in an event or the community, or their
    /// suggestion or review.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer; [`Conflict::CustomerErased`];
    /// [`StoreError::Validation`] for a time outside the accepted dates;
    /// [`Conflict::DuplicateParticipation`] if the customer already has one of that
    /// kind at that instant.
    pub fn record_participation(
        &mut self,
        participation: crate::participation::Participation,
    ) -> StoreResult<crate::participation::Participation> {
        crate::time::check_instant("participation time", participation.at)
            .map_err(StoreError::Validation)?;
        self.atomic(|w| {
            w.check_live(participation.customer)?;
            let key = participation.key();
            if w.tx
                .participations(Some(participation.customer))?
                .iter()
                .any(|p| p.key() == key)
            {
                return Err(Conflict::DuplicateParticipation {
                    customer: key.customer,
                    kind: key.kind.as_str().to_owned(),
                    at: key.at,
                }
                .into());
            }
            w.tx.insert_participation(&participation)?;
            Ok(participation)
        })
    }

    /// Adds a survey template.
    ///
    /// # Errors
    ///
    /// [`Conflict::DuplicateSurveyTemplate`] if the name is taken.
    pub fn add_survey_template(&mut self, template: SurveyTemplate) -> StoreResult<SurveyTemplate> {
        self.atomic(|w| {
            if w.tx
                .survey_templates()?
                .iter()
                .any(|t| t.name() == template.name())
            {
                return Err(Conflict::DuplicateSurveyTemplate {
                    name: template.name().to_string(),
                }
                .into());
            }
            w.tx.insert_survey_template(&template)?;
            Ok(template)
        })
    }

    /// Renames a survey template or replaces its questions (ADR 0030, issue 18). A
    /// template that has answer sheets keeps its questions — they give the stored
    /// answers their meaning — but may be renamed: its sheets then name the new name.
    /// Giving the same questions again is no change.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown template;
    /// [`Conflict::DuplicateSurveyTemplate`] if the new name is another template's;
    /// [`Conflict::SurveyTemplateAnswered`] for new questions of an answered template;
    /// [`StoreError::Validation`] if the questions do not make a template
    /// ([`SurveyTemplate::new`]).
    pub fn edit_survey_template(
        &mut self,
        name: &Tag,
        edit: SurveyTemplateEdit,
    ) -> StoreResult<SurveyTemplate> {
        self.atomic(|w| {
            let old = w.reader().survey_template(name)?;
            let new_name = edit.name.clone().unwrap_or_else(|| old.name().clone());
            let questions = edit
                .questions
                .clone()
                .unwrap_or_else(|| old.questions().to_vec());
            let template = SurveyTemplate::new(new_name, questions)
                .map_err(StoreError::Validation)?
                .with_archived(old.is_archived());
            if template.name() != old.name()
                && w.tx
                    .survey_templates()?
                    .iter()
                    .any(|t| t.name() == template.name())
            {
                return Err(Conflict::DuplicateSurveyTemplate {
                    name: template.name().to_string(),
                }
                .into());
            }
            if template.questions() != old.questions() {
                let sheets = answered(w, old.name())?;
                if sheets > 0 {
                    return Err(Conflict::SurveyTemplateAnswered {
                        name: old.name().to_string(),
                        sheets,
                    }
                    .into());
                }
            }
            if template != old {
                w.tx.replace_survey_template(old.name(), &template)?;
            }
            Ok(template)
        })
    }

    /// Removes a survey template no one has answered. An answered one stays (ADR
    /// 0011: the books keep what happened); it can be renamed instead.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown template;
    /// [`Conflict::SurveyTemplateAnswered`] if it has answer sheets.
    pub fn remove_survey_template(&mut self, name: &Tag) -> StoreResult<SurveyTemplate> {
        self.atomic(|w| {
            let old = w.reader().survey_template(name)?;
            let sheets = answered(w, old.name())?;
            if sheets > 0 {
                return Err(Conflict::SurveyTemplateAnswered {
                    name: old.name().to_string(),
                    sheets,
                }
                .into());
            }
            w.tx.delete_survey_template(old.name())?;
            Ok(old)
        })
    }

    /// Archives a survey template (`archived` true) or brings it back (false), ADR
    /// 0045. An archived template takes no new answer sheets; its sheets stay and
    /// still count in the dimension analysis and the exports. Setting the mark it
    /// already has is no change.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown template.
    pub fn set_survey_template_archived(
        &mut self,
        name: &Tag,
        archived: bool,
    ) -> StoreResult<SurveyTemplate> {
        self.atomic(|w| {
            let old = w.reader().survey_template(name)?;
            if old.is_archived() == archived {
                return Ok(old);
            }
            let template = old.clone().with_archived(archived);
            w.tx.replace_survey_template(old.name(), &template)?;
            Ok(template)
        })
    }

    /// Records a customer's answers to a template; the answers are kept by question
    /// number. A new sheet is never void (a `void` given is dropped; voiding is
    /// [`void_survey_sheet`](Self::void_survey_sheet)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer or template;
    /// [`Conflict::CustomerErased`]; [`Conflict::SurveyTemplateArchived`] for an
    /// archived template; [`StoreError::Validation`] for answers that do not
    /// fit the template ([`SurveyTemplate::check`]) or a time outside the accepted
    /// dates; [`Conflict::DuplicateSurveySheet`] if the customer already answered the
    /// template at that instant.
    pub fn record_survey_sheet(&mut self, sheet: SurveySheet) -> StoreResult<SurveySheet> {
        let sheet = sheet.normalized();
        crate::time::check_instant("survey time", sheet.at).map_err(StoreError::Validation)?;
        self.atomic(|w| {
            w.check_live(sheet.customer)?;
            let template = w.reader().survey_template(&sheet.template)?;
            if template.is_archived() {
                return Err(Conflict::SurveyTemplateArchived {
                    name: template.name().to_string(),
                }
                .into());
            }
            template
                .check(&sheet.answers)
                .map_err(StoreError::Validation)?;
            if w.tx
                .survey_sheets(Some(sheet.customer))?
                .iter()
                .any(|s| s.at == sheet.at && s.template == sheet.template)
            {
                return Err(Conflict::DuplicateSurveySheet {
                    template: sheet.template.to_string(),
                    customer: sheet.customer,
                    at: sheet.at,
                }
                .into());
            }
            let sheet = SurveySheet {
                void: None,
                ..sheet
            };
            w.tx.insert_survey_sheet(&sheet)?;
            Ok(sheet)
        })
    }

    /// Voids a survey sheet recorded by mistake (ADR 0050): it stays in the books, the
    /// exports and the archive with `void`, and counts in no dimension analysis from
    /// now on. It still answers its template (an answered template keeps its
    /// questions), as a voided answer stays an answer. A void cannot be undone.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer or no sheet with that key;
    /// [`Conflict::CustomerErased`]; [`Conflict::SurveySheetVoided`] if it is void
    /// already.
    pub fn void_survey_sheet(&mut self, key: &SheetKey, void: Void) -> StoreResult<SurveySheet> {
        self.atomic(|w| {
            w.check_live(key.customer)?;
            let Some(sheet) =
                w.tx.survey_sheets(Some(key.customer))?
                    .into_iter()
                    .find(|s| &s.key() == key)
            else {
                return Err(StoreError::NotFound {
                    entity: Entity::SurveySheet,
                    key: format!("{} {} {}", key.template, key.customer, key.at.to_rfc3339()),
                });
            };
            if let Some(old) = &sheet.void {
                return Err(Conflict::SurveySheetVoided {
                    template: key.template.to_string(),
                    customer: key.customer,
                    at: key.at,
                    voided_at: old.at,
                }
                .into());
            }
            let at = void.at;
            let sheet = SurveySheet {
                void: Some(void),
                ..sheet
            };
            w.tx.update_survey_sheet(&sheet)?;
            w.emit(
                Some(at),
                DomainEvent::SurveySheetVoided {
                    customer: key.customer,
                    template: key.template.clone(),
                    answered_at: key.at,
                },
            )?;
            Ok(sheet)
        })
    }
}

/// How many sheets answer the template `name`, void or not, erased customers' too.
fn answered(w: &Writer<'_>, name: &Tag) -> StoreResult<usize> {
    Ok(w.tx
        .survey_sheets(None)?
        .iter()
        .filter(|s| &s.template == name)
        .count())
}
