//! [`Crm`] as a [`Store`]: every operation in its own transaction, so code written
//! against the `Store` trait (the conformance suite, generic helpers) runs over any
//! backend of the port unchanged.

use chrono::{DateTime, Utc};

use super::Crm;
use crate::cost::{Cost, NewCost};
use crate::customer::{Consent, Customer, CustomerData, NewCustomer};
use crate::deal::{Deal, DealStage, NewDeal};
use crate::ids::{
    CostId, CustomerId, DealId, InteractionId, PurchaseId, RequestId, SurveyId, TaskId,
};
use crate::interaction::{Interaction, InteractionEdit, NewInteraction};
use crate::lifecycle::{LifecycleStage, StageChange, StageReason};
use crate::loyalty::{NewPointsEntry, PointsEntry};
use crate::money::Currency;
use crate::privacy::{AuditEntry, CustomerExport};
use crate::purchase::{NewPurchase, NewRefund, Purchase, PurchaseEdit, PurchaseLog, Refund};
use crate::search::SearchText;
use crate::segment::Segment;
use crate::service::{NewServiceRequest, RequestEventKind, ServiceRequest};
use crate::store::{
    ActivityQuery, CustomerKeys, CustomerQuery, ImportPart, ImportReceipt, OpenQuery, Page, Store,
    StoreError, StoreResult, TaskQuery,
};
use crate::survey::{NewSurveyResponse, SurveyResponse};
use crate::task::{NewTask, Task};
use crate::text::{Email, ExternalRef, Label, Tag};
use crate::void::Void;

impl Store for Crm {
    fn base_currency(&self) -> Currency {
        self.currency()
    }

    fn create_customer(&self, new: NewCustomer) -> StoreResult<Customer> {
        self.write(|w| w.create_customer(new.clone()))
    }

    fn customer(&self, id: CustomerId) -> StoreResult<Customer> {
        self.read(|r| r.customer(id))
    }

    fn customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>> {
        self.read(|r| r.customer_by_email(email))
    }

    fn customer_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<Customer>> {
        self.read(|r| r.customer_by_external_ref(reference))
    }

    fn customer_keys(&self) -> StoreResult<Vec<CustomerKeys>> {
        self.read(|r| r.customer_keys())
    }

    fn update_customer(&self, id: CustomerId, data: CustomerData) -> StoreResult<Customer> {
        self.write(|w| w.update_customer(id, data.clone()))
    }

    fn list_customers(&self, query: &CustomerQuery) -> StoreResult<Page<Customer>> {
        self.read(|r| r.list_customers(query))
    }

    fn count_customers(&self) -> StoreResult<u64> {
        self.read(|r| r.count_customers())
    }

    fn tag_customer(&self, id: CustomerId, tag: &Tag) -> StoreResult<bool> {
        self.write(|w| w.tag_customer(id, tag))
    }

    fn untag_customer(&self, id: CustomerId, tag: &Tag) -> StoreResult<bool> {
        self.write(|w| w.untag_customer(id, tag))
    }

    fn record_consent(&self, id: CustomerId, consent: Consent) -> StoreResult<Customer> {
        self.write(|w| w.record_consent(id, consent.clone()))
    }

    fn change_stage(
        &self,
        id: CustomerId,
        to: LifecycleStage,
        at: DateTime<Utc>,
        reason: StageReason,
    ) -> StoreResult<StageChange> {
        self.write(|w| w.change_stage(id, to, at, reason.clone()))
    }

    fn stage_history(&self, id: CustomerId) -> StoreResult<Vec<StageChange>> {
        self.read(|r| r.stage_history(id))
    }

    fn log_interaction(&self, new: NewInteraction) -> StoreResult<Interaction> {
        self.write(|w| w.log_interaction(new.clone()))
    }

    fn interactions(&self, query: &ActivityQuery) -> StoreResult<Vec<Interaction>> {
        self.read(|r| r.interactions(query))
    }

    fn interaction(&self, id: InteractionId) -> StoreResult<Interaction> {
        self.read(|r| r.interaction(id))
    }

    fn edit_interaction(
        &self,
        id: InteractionId,
        edit: &InteractionEdit,
    ) -> StoreResult<Interaction> {
        self.write(|w| w.edit_interaction(id, edit))
    }

    fn void_interaction(&self, id: InteractionId, void: Void) -> StoreResult<Interaction> {
        self.write(|w| w.void_interaction(id, void.clone()))
    }

    fn edit_purchase(&self, id: PurchaseId, edit: &PurchaseEdit) -> StoreResult<Purchase> {
        self.write(|w| w.edit_purchase(id, edit))
    }

    fn void_purchase(&self, id: PurchaseId, void: Void) -> StoreResult<Purchase> {
        self.write(|w| w.void_purchase(id, void.clone()))
    }

    fn survey(&self, id: SurveyId) -> StoreResult<SurveyResponse> {
        self.read(|r| r.survey(id))
    }

    fn void_survey(&self, id: SurveyId, void: Void) -> StoreResult<SurveyResponse> {
        self.write(|w| w.void_survey(id, void.clone()))
    }

    fn record_purchase(&self, new: NewPurchase) -> StoreResult<Purchase> {
        self.write(|w| w.record_purchase(new.clone()))
    }

    fn record_purchases(&self, batch: Vec<NewPurchase>) -> StoreResult<Vec<PurchaseId>> {
        let mut batch = Some(batch);
        self.write_bulk(|w| {
            // The batch is the transaction's only operation: its failure rolls the
            // whole write back, so a savepoint (and its journal of every page the
            // batch touches) would add nothing.
            w.all_or_nothing();
            w.record_purchases(batch.take().ok_or_else(replayed)?)
        })
    }

    fn import_parts(
        &self,
        parts: &mut dyn Iterator<Item = ImportPart>,
    ) -> StoreResult<ImportReceipt> {
        let mut parts = Some(parts);
        self.write_bulk(|w| {
            // As in `record_purchases`: one operation, all or nothing without a
            // savepoint.
            w.all_or_nothing();
            w.import_parts(parts.take().ok_or_else(replayed)?)
        })
    }

    fn purchase(&self, id: PurchaseId) -> StoreResult<Purchase> {
        self.read(|r| r.purchase(id))
    }

    fn purchases(&self, query: &ActivityQuery) -> StoreResult<Vec<Purchase>> {
        self.read(|r| r.purchases(query))
    }

    fn purchase_log(&self) -> StoreResult<PurchaseLog> {
        self.read(|r| r.purchase_log())
    }

    fn record_refund(&self, new: NewRefund) -> StoreResult<Refund> {
        self.write(|w| w.record_refund(new.clone()))
    }

    fn refunds(&self, query: &ActivityQuery) -> StoreResult<Vec<Refund>> {
        self.read(|r| r.refunds(query))
    }

    fn record_survey(&self, new: NewSurveyResponse) -> StoreResult<SurveyResponse> {
        self.write(|w| w.record_survey(new.clone()))
    }

    fn surveys(&self, query: &ActivityQuery) -> StoreResult<Vec<SurveyResponse>> {
        self.read(|r| r.surveys(query))
    }

    fn open_request(&self, new: NewServiceRequest) -> StoreResult<ServiceRequest> {
        self.write(|w| w.open_request(new.clone()))
    }

    fn update_request(
        &self,
        id: RequestId,
        step: RequestEventKind,
        at: DateTime<Utc>,
    ) -> StoreResult<ServiceRequest> {
        self.write(|w| w.update_request(id, step, at))
    }

    fn request(&self, id: RequestId) -> StoreResult<ServiceRequest> {
        self.read(|r| r.request(id))
    }

    fn requests(&self, query: &OpenQuery) -> StoreResult<Vec<ServiceRequest>> {
        self.read(|r| r.requests(query))
    }

    fn create_deal(&self, new: NewDeal) -> StoreResult<Deal> {
        self.write(|w| w.create_deal(new.clone()))
    }

    fn move_deal(&self, id: DealId, to: DealStage, at: DateTime<Utc>) -> StoreResult<Deal> {
        self.write(|w| w.move_deal(id, to, at))
    }

    fn edit_deal(&self, id: DealId, edit: &crate::deal::DealEdit) -> StoreResult<Deal> {
        self.write(|w| w.edit_deal(id, edit))
    }

    fn deal(&self, id: DealId) -> StoreResult<Deal> {
        self.read(|r| r.deal(id))
    }

    fn deals(&self, query: &OpenQuery) -> StoreResult<Vec<Deal>> {
        self.read(|r| r.deals(query))
    }

    fn create_task(&self, new: NewTask) -> StoreResult<Task> {
        self.write(|w| w.create_task(new.clone()))
    }

    fn complete_task(&self, id: TaskId, at: DateTime<Utc>) -> StoreResult<Task> {
        self.write(|w| w.complete_task(id, at))
    }

    fn edit_task(
        &self,
        id: TaskId,
        title: Option<Label>,
        kind: Option<crate::TaskKind>,
        due: Option<chrono::NaiveDate>,
    ) -> StoreResult<Task> {
        self.write(|w| w.edit_task(id, title.clone(), kind, due))
    }

    fn cancel_task(&self, id: TaskId, at: DateTime<Utc>) -> StoreResult<Task> {
        self.write(|w| w.cancel_task(id, at))
    }

    fn task(&self, id: TaskId) -> StoreResult<Task> {
        self.read(|r| r.task(id))
    }

    fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        self.read(|r| r.tasks(query))
    }

    fn post_points(&self, entry: NewPointsEntry) -> StoreResult<PointsEntry> {
        self.write(|w| w.post_points(entry.clone()))
    }

    fn points_tiers(&self) -> StoreResult<crate::PointsTiers> {
        self.read(|r| r.points_tiers())
    }

    fn set_points_tier(&self, tier: crate::PointsTier) -> StoreResult<crate::PointsTiers> {
        self.write(|w| w.set_points_tier(tier.clone()))
    }

    fn remove_points_tier(&self, name: &Tag) -> StoreResult<crate::PointsTiers> {
        self.write(|w| w.remove_points_tier(name))
    }

    fn holiday_calendar(&self) -> StoreResult<crate::holiday::HolidayCalendar> {
        self.read(|r| r.holiday_calendar())
    }

    fn points_expiry(&self) -> StoreResult<Option<crate::PointsExpiry>> {
        self.read(|r| r.points_expiry())
    }

    fn set_points_expiry(&self, expiry: Option<crate::PointsExpiry>) -> StoreResult<()> {
        self.write(|w| w.set_points_expiry(expiry))
    }

    fn points_holders(&self) -> StoreResult<Vec<CustomerId>> {
        self.read(|r| r.tx().points_holders())
    }

    fn post_due_lapses(
        &self,
        customer: CustomerId,
        through: chrono::NaiveDate,
    ) -> StoreResult<Vec<PointsEntry>> {
        self.write(|w| w.post_due_lapses(customer, through))
    }

    fn put_holiday(
        &self,
        holiday: crate::holiday::HolidayDef,
    ) -> StoreResult<crate::holiday::HolidayCalendar> {
        self.write(|w| w.put_holiday(holiday.clone()))
    }

    fn remove_holiday(&self, key: &Tag) -> StoreResult<crate::holiday::HolidayCalendar> {
        self.write(|w| w.remove_holiday(key))
    }

    fn set_holiday_presets(
        &self,
        presets: &[crate::holiday::Preset],
    ) -> StoreResult<crate::holiday::HolidayCalendar> {
        self.write(|w| w.set_holiday_presets(presets))
    }

    fn targets(&self) -> StoreResult<Vec<crate::target::Target>> {
        self.read(|r| r.targets())
    }

    fn set_target(&self, target: crate::target::Target) -> StoreResult<crate::target::Target> {
        self.write(|w| w.set_target(target.clone()))
    }

    fn remove_target(
        &self,
        metric: crate::target::TargetMetric,
        period: crate::target::TargetPeriod,
    ) -> StoreResult<crate::target::Target> {
        self.write(|w| w.remove_target(metric, period))
    }

    fn survey_templates(&self) -> StoreResult<Vec<crate::questionnaire::SurveyTemplate>> {
        self.read(|r| r.survey_templates())
    }

    fn add_survey_template(
        &self,
        template: crate::questionnaire::SurveyTemplate,
    ) -> StoreResult<crate::questionnaire::SurveyTemplate> {
        self.write(|w| w.add_survey_template(template.clone()))
    }

    fn edit_survey_template(
        &self,
        name: &crate::Tag,
        edit: crate::questionnaire::SurveyTemplateEdit,
    ) -> StoreResult<crate::questionnaire::SurveyTemplate> {
        self.write(|w| w.edit_survey_template(name, edit.clone()))
    }

    fn remove_survey_template(
        &self,
        name: &crate::Tag,
    ) -> StoreResult<crate::questionnaire::SurveyTemplate> {
        self.write(|w| w.remove_survey_template(name))
    }

    fn set_survey_template_archived(
        &self,
        name: &crate::Tag,
        archived: bool,
    ) -> StoreResult<crate::questionnaire::SurveyTemplate> {
        self.write(|w| w.set_survey_template_archived(name, archived))
    }

    fn record_survey_sheet(
        &self,
        sheet: crate::questionnaire::SurveySheet,
    ) -> StoreResult<crate::questionnaire::SurveySheet> {
        self.write(|w| w.record_survey_sheet(sheet.clone()))
    }

    fn void_survey_sheet(
        &self,
        key: &crate::questionnaire::SheetKey,
        void: Void,
    ) -> StoreResult<crate::questionnaire::SurveySheet> {
        self.write(|w| w.void_survey_sheet(key, void.clone()))
    }

    fn survey_sheets(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<crate::questionnaire::SurveySheet>> {
        self.read(|r| r.survey_sheets(customer))
    }

    fn survey_dimensions(
        &self,
        template: Option<&Tag>,
    ) -> StoreResult<crate::questionnaire::analysis::DimensionAnalysis> {
        self.read(|r| r.survey_dimensions(template))
    }

    fn record_participation(
        &self,
        participation: crate::participation::Participation,
    ) -> StoreResult<crate::participation::Participation> {
        self.write(|w| w.record_participation(participation.clone()))
    }

    fn participations(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<crate::participation::Participation>> {
        self.read(|r| r.participations(customer))
    }

    fn offer(&self, code: &crate::offer::OfferCode) -> StoreResult<crate::offer::Offer> {
        self.read(|r| r.offer(code))
    }

    fn offers(&self) -> StoreResult<Vec<crate::offer::Offer>> {
        self.read(|r| r.offers())
    }

    fn add_offer(&self, offer: crate::offer::Offer) -> StoreResult<crate::offer::Offer> {
        self.write(|w| w.add_offer(offer.clone()))
    }

    fn end_offer(
        &self,
        code: &crate::offer::OfferCode,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::offer::Offer> {
        self.write(|w| w.end_offer(code, at))
    }

    fn record_purchase_with_offer(
        &self,
        new: NewPurchase,
        code: &crate::offer::OfferCode,
    ) -> StoreResult<(Purchase, crate::offer::Redemption)> {
        self.write(|w| w.record_purchase_with_offer(new.clone(), code))
    }

    fn redemptions(
        &self,
        code: Option<&crate::offer::OfferCode>,
    ) -> StoreResult<Vec<crate::offer::Redemption>> {
        self.read(|r| r.redemptions(code))
    }

    fn offer_stats(
        &self,
        code: &crate::offer::OfferCode,
        lookback: u32,
    ) -> StoreResult<crate::offer::OfferStats> {
        self.read(|r| r.offer_stats(code, lookback))
    }

    fn products(&self) -> StoreResult<Vec<crate::product::Product>> {
        self.read(|r| r.products())
    }

    fn product(&self, sku: &crate::product::Sku) -> StoreResult<crate::product::Product> {
        self.read(|r| r.product(sku))
    }

    fn add_product(
        &self,
        product: crate::product::Product,
    ) -> StoreResult<crate::product::Product> {
        self.write(|w| w.add_product(product.clone()))
    }

    fn edit_product(
        &self,
        sku: &crate::product::Sku,
        edit: &crate::product::ProductEdit,
    ) -> StoreResult<crate::product::Product> {
        self.write(|w| w.edit_product(sku, edit))
    }

    fn remove_product(
        &self,
        sku: &crate::product::Sku,
    ) -> StoreResult<crate::product::ProductRemoval> {
        self.write(|w| w.remove_product(sku))
    }

    fn record_purchase_with_lines(
        &self,
        new: NewPurchase,
        lines: Vec<crate::product::PurchaseLine>,
    ) -> StoreResult<(Purchase, Vec<crate::product::PurchaseLine>)> {
        self.write(|w| w.record_purchase_with_lines(new.clone(), lines.clone()))
    }

    fn purchase_lines(
        &self,
        purchase: PurchaseId,
    ) -> StoreResult<Vec<crate::product::PurchaseLine>> {
        self.read(|r| r.purchase_lines(purchase))
    }

    fn all_purchase_lines(&self) -> StoreResult<Vec<(PurchaseId, crate::product::PurchaseLine)>> {
        self.read(|r| r.all_purchase_lines())
    }

    fn record_need(&self, new: crate::need::NewNeed) -> StoreResult<crate::need::Need> {
        self.write(|w| w.record_need(new.clone()))
    }

    fn resolve_need(
        &self,
        id: crate::NeedId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<crate::need::Need> {
        self.write(|w| w.resolve_need(id, at))
    }

    fn void_need(
        &self,
        id: crate::NeedId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<crate::need::Need> {
        self.write(|w| w.void_need(id, at))
    }

    fn needs(&self, customer: Option<CustomerId>) -> StoreResult<Vec<crate::need::Need>> {
        self.read(|r| r.needs(customer))
    }

    fn need(&self, id: crate::NeedId) -> StoreResult<crate::need::Need> {
        self.read(|r| r.need(id))
    }

    fn points_balance(&self, customer: CustomerId) -> StoreResult<i64> {
        self.read(|r| r.points_balance(customer))
    }

    fn points_ledger(&self, customer: CustomerId) -> StoreResult<Vec<PointsEntry>> {
        self.read(|r| r.points_ledger(customer))
    }

    fn create_segment(&self, segment: Segment) -> StoreResult<()> {
        self.write(|w| w.create_segment(segment.clone()))
    }

    fn segment(&self, name: &Label) -> StoreResult<Segment> {
        self.read(|r| r.segment(name))
    }

    fn segments(&self) -> StoreResult<Vec<Segment>> {
        self.read(|r| r.segments())
    }

    fn delete_segment(&self, name: &Label) -> StoreResult<()> {
        self.write(|w| w.delete_segment(name))
    }

    fn erase_customer(&self, id: CustomerId, at: DateTime<Utc>) -> StoreResult<AuditEntry> {
        self.write(|w| w.erase_customer(id, at))
    }

    fn export_customer(&self, id: CustomerId) -> StoreResult<CustomerExport> {
        self.read(|r| r.export_customer(id))
    }

    fn audit_log(&self) -> StoreResult<Vec<AuditEntry>> {
        self.read(|r| r.audit_log())
    }

    fn search_customers(
        &self,
        text: &SearchText,
        limit: Option<usize>,
    ) -> StoreResult<(Vec<Customer>, usize)> {
        self.read(|r| r.search_customers(text, limit))
    }

    fn record_cost(&self, new: NewCost) -> StoreResult<Cost> {
        self.write(|w| w.record_cost(new.clone()))
    }

    fn void_cost(&self, id: CostId, at: DateTime<Utc>, reason: Label) -> StoreResult<Cost> {
        self.write(|w| w.void_cost(id, at, reason.clone()))
    }

    fn costs(&self) -> StoreResult<Vec<Cost>> {
        self.read(|r| r.costs())
    }

    fn campaigns(&self) -> StoreResult<Vec<crate::campaign::Campaign>> {
        self.read(|r| r.campaigns())
    }

    fn campaign(&self, id: crate::ids::CampaignId) -> StoreResult<crate::campaign::Campaign> {
        self.read(|r| r.campaign(id))
    }

    fn add_campaign(
        &self,
        new: crate::campaign::NewCampaign,
    ) -> StoreResult<crate::campaign::Campaign> {
        self.write(|w| w.add_campaign(new.clone()))
    }

    fn edit_campaign(
        &self,
        id: crate::ids::CampaignId,
        edit: &crate::campaign::CampaignEdit,
    ) -> StoreResult<crate::campaign::Campaign> {
        self.write(|w| w.edit_campaign(id, edit))
    }

    fn attributions(&self) -> StoreResult<Vec<crate::campaign::Attribution>> {
        self.read(|r| r.attributions())
    }

    fn attribute(
        &self,
        subject: crate::campaign::AttributionSubject,
        campaign: Option<crate::ids::CampaignId>,
    ) -> StoreResult<Option<crate::ids::CampaignId>> {
        self.write(|w| w.attribute(subject, campaign))
    }

    fn record_campaign_cost(
        &self,
        new: NewCost,
        campaign: crate::ids::CampaignId,
    ) -> StoreResult<Cost> {
        self.write(|w| w.record_campaign_cost(new.clone(), campaign))
    }
}

/// A backend ran a write that consumes its input a second time.
fn replayed() -> StoreError {
    StoreError::Aborted(
        "the backend retried a write whose input can be read only once; run it again".into(),
    )
}
