//! Differential test: random sequences of store operations, valid and invalid, applied
//! through the operations layer (`Crm`) to the in-memory port and to the SQLite port,
//! which must give the same answer at every step (values compared with `==`, errors
//! by their kind and message), and hold the same data at the end.
//!
//! 256 cases by default; set `PROPTEST_CASES` for a longer run, e.g.
//! `PROPTEST_CASES=5000 cargo test -p solocrm-store-sqlite --release --test differential`.

use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use solocrm_core::metrics::{MetricsReport, Period, ReportConfig};
use solocrm_core::ops::Crm;
use solocrm_core::ops::ReportError;
use solocrm_core::store::{CustomerRef, ImportBatch, ImportPart};
use solocrm_core::{
    ActivityQuery, Channel, Cmp, Comparison, Consent, CountryCode, Currency, CustomerData,
    CustomerId, CustomerQuery, DealId, DealStage, Direction, Email, ExternalRef, FreeText,
    InteractionEdit, InteractionId, Label, LifecycleStage, Money, NewCustomer, NewDeal,
    NewInteraction, NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest, NewSurveyResponse,
    NewTask, OpenQuery, PersonName, Phone, PointsKind, PolicyRule, Predicate, PurchaseEdit,
    PurchaseId, Recurrence, RequestEventKind, RequestId, RequestKind, Segment, SegmentFilter,
    Sentiment, StageReason, Store, StoreResult, SurveyId, SurveyKind, SurveyScore, Tag, TaskId,
    TaskKind, TaskQuery, TimeRange, Void,
};
use solocrm_store_memory::MemoryStore;
use solocrm_store_sqlite::SqliteStore;

// ----- values -----

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
}

/// Instants that stress the storage form: before 1970 with a fraction, outside the
/// range of i64 nanoseconds, a leap second.
fn special_instants() -> Vec<DateTime<Utc>> {
    let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
        .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
        .map(|t| t.and_utc());
    [
        DateTime::from_timestamp(-1, 500_000_000),
        DateTime::from_timestamp(-2_208_988_800, 0),
        Utc.with_ymd_and_hms(2300, 6, 1, 12, 0, 0).single(),
        Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single(),
        leap,
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn instant() -> BoxedStrategy<DateTime<Utc>> {
    prop_oneof![
        8 => (0i64..120 * 86_400 / 3_600).prop_map(|h| base() + Duration::hours(h)),
        2 => (0i64..120 * 86_400, 0i64..1_000_000_000)
            .prop_map(|(s, ns)| base() + Duration::seconds(s) + Duration::nanoseconds(ns)),
        1 => prop::sample::select(special_instants()),
    ]
    .boxed()
}

fn date() -> BoxedStrategy<NaiveDate> {
    prop_oneof![
        8 => (0i64..400).prop_map(|d| base().date_naive() + Duration::days(d)),
        1 => prop::sample::select(vec![
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default(),
            NaiveDate::from_ymd_opt(2026, 1, 31).unwrap_or_default(),
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(-44, 3, 15).unwrap_or_default(),
        ]),
    ]
    .boxed()
}

/// Mostly the customers of the prelude, sometimes one created later, one that does not
/// exist, or one beyond what SQLite can store.
fn customer_id() -> BoxedStrategy<CustomerId> {
    prop_oneof![
        16 => (1u64..=3).prop_map(CustomerId::new),
        3 => (4u64..=6).prop_map(CustomerId::new),
        1 => prop::sample::select(vec![0, u64::MAX]).prop_map(CustomerId::new),
    ]
    .boxed()
}

/// An id of a deal, request, task or purchase: mostly one of the first few.
fn small_id() -> BoxedStrategy<u64> {
    prop_oneof![16 => 1u64..=3, 3 => 4u64..=8, 1 => Just(u64::MAX)].boxed()
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn money() -> BoxedStrategy<Money> {
    prop_oneof![
        20 => (0i64..50_000).prop_map(eur),
        1 => (1i64..5_000).prop_map(|m| eur(-m)),
        1 => (0i64..5_000).prop_map(|m| Money::from_minor(m, Currency::USD)),
        1 => (0i64..5_000).prop_map(|m| Money::new(Decimal::new(m, 3), Currency::EUR)),
        1 => (0i64..5_000).prop_map(|m| Money::new(Decimal::new(m * 100, 4), Currency::EUR)),
        1 => Just(Money::new(Decimal::MAX, Currency::EUR)),
    ]
    .boxed()
}

fn pick<T: Clone + Debug + 'static>(items: Vec<T>) -> BoxedStrategy<T> {
    prop::sample::select(items).boxed()
}

fn parsed<T: Clone + Debug + 'static, E: Debug>(
    items: &[&str],
    parse: impl Fn(&str) -> Result<T, E>,
) -> BoxedStrategy<T> {
    pick(
        items
            .iter()
            .map(|s| parse(s).expect("a valid fixture"))
            .collect(),
    )
}

fn name() -> BoxedStrategy<PersonName> {
    parsed(
        &[
            "Ada",
            "O'Brien",
            "'); DROP TABLE customers; --",
            "山田 太郎 🎉",
            "  padded  ",
            "Zoë \"Zed\" Smith",
        ],
        PersonName::parse,
    )
}

fn email() -> BoxedStrategy<Email> {
    parsed(
        &[
            "ada@example.com",
            "ADA@Example.com",
            "bob@example.org",
            "jürgen@müller.de",
        ],
        Email::parse,
    )
}

fn reference() -> BoxedStrategy<ExternalRef> {
    parsed(&["R-1", "r-1", "R-2", "x'; --"], ExternalRef::parse)
}

fn purchase_ref() -> BoxedStrategy<ExternalRef> {
    parsed(&["INV-1", "INV-2", "INV-3", "inv-1"], ExternalRef::parse)
}

fn tag() -> BoxedStrategy<Tag> {
    parsed(&["vip", "b2b", "Trade Fair", "newsletter"], Tag::parse)
}

fn label() -> BoxedStrategy<Label> {
    parsed(
        &[
            "website",
            "Berlin",
            "berlin",
            "'; DELETE FROM deals; --",
            "北京",
        ],
        Label::parse,
    )
}

fn free_text() -> BoxedStrategy<FreeText> {
    parsed(
        &[
            "",
            "  leading and trailing  ",
            "line one\nline two\r\n\ttabbed",
            "Robert'); DROP TABLE purchases; --",
            "🎉 émoji and 中文",
        ],
        FreeText::parse,
    )
}

fn stage() -> BoxedStrategy<LifecycleStage> {
    pick(LifecycleStage::ALL.to_vec())
}

fn customer_data() -> BoxedStrategy<CustomerData> {
    (
        name(),
        prop::option::of(email()),
        prop::option::weighted(0.3, parsed(&["+49 (30) 123-456", "555 0100"], Phone::parse)),
        prop::collection::btree_set(tag(), 0..3),
        prop::option::weighted(0.3, (tag(), prop::option::of(money()))),
        prop::option::weighted(0.4, reference()),
        free_text(),
        prop::option::weighted(0.3, (label(), tag(), label())),
        prop::option::weighted(0.2, date()),
    )
        .prop_map(
            |(name, email, phone, tags, acquisition, external_ref, notes, profile, birthday)| {
                let mut d = CustomerData::new(name);
                d.email = email;
                d.phone = phone;
                d.tags = tags;
                if let Some((channel, cost)) = acquisition {
                    d = d.with_acquisition(channel, cost);
                }
                d.external_ref = external_ref;
                d.notes = notes;
                d.birthday = birthday;
                if let Some((city, interest, value)) = profile {
                    d.profile.city = Some(city);
                    d.profile.country = CountryCode::parse("DE").ok();
                    d.profile.interests.insert(interest.clone());
                    d.profile.attributes.insert(interest, value);
                }
                d
            },
        )
        .boxed()
}

fn new_customer() -> BoxedStrategy<NewCustomer> {
    (customer_data(), instant(), stage())
        .prop_map(|(data, at, stage)| NewCustomer::new(data, at).at_stage(stage))
        .boxed()
}

fn new_purchase() -> BoxedStrategy<NewPurchase> {
    (
        customer_id(),
        instant(),
        money(),
        prop::option::weighted(0.3, money()),
        prop::option::weighted(0.3, free_text()),
        prop::option::weighted(0.3, 0u32..5),
        prop::option::weighted(0.4, purchase_ref()),
        prop::option::weighted(0.2, small_id().prop_map(DealId::new)),
    )
        .prop_map(
            |(customer, at, amount, cost, description, items, external_ref, deal)| NewPurchase {
                customer,
                at,
                amount,
                cost,
                description,
                items,
                external_ref,
                deal,
            },
        )
        .boxed()
}

fn new_survey() -> BoxedStrategy<NewSurveyResponse> {
    (
        customer_id(),
        instant(),
        pick(SurveyKind::ALL.to_vec()),
        0i64..=10,
        prop::option::of(free_text()),
    )
        .prop_filter_map(
            "a score on the scale",
            |(customer, at, kind, score, comment)| {
                SurveyScore::new(kind, score)
                    .ok()
                    .map(|score| NewSurveyResponse {
                        customer,
                        at,
                        score,
                        comment,
                    })
            },
        )
        .boxed()
}

fn customer_ref() -> BoxedStrategy<CustomerRef> {
    prop_oneof![
        2 => customer_id().prop_map(CustomerRef::Existing),
        1 => (0usize..3).prop_map(CustomerRef::New),
    ]
    .boxed()
}

fn import_batch() -> BoxedStrategy<ImportBatch> {
    (
        prop::collection::vec(new_customer(), 0..3),
        prop::collection::vec((customer_id(), customer_data()), 0..2),
        prop::collection::vec((customer_ref(), new_purchase()), 0..4),
        prop::collection::vec((customer_ref(), new_survey()), 0..2),
        prop::collection::vec(import_attribution(), 0..2),
    )
        .prop_map(
            |(create_customers, update_customers, purchases, surveys, attributions)| ImportBatch {
                create_customers,
                update_customers,
                purchases,
                surveys,
                purchase_lines: Vec::new(),
                attributions,
            },
        )
        .boxed()
}

/// A customer of an import (an existing one or one the batch creates) attributed to a
/// campaign (most of them exist), or its attribution cleared.
fn import_attribution() -> BoxedStrategy<(CustomerRef, Option<solocrm_core::CampaignId>)> {
    (customer_ref(), prop::option::weighted(0.85, campaign_id())).boxed()
}

/// A batch of new customers and attributions only (ImportBatch::attributions without
/// the other sections' refusals, so that most of them land).
fn import_attributions() -> BoxedStrategy<ImportBatch> {
    (
        prop::collection::vec(new_customer(), 0..3),
        prop::collection::vec(import_attribution(), 1..4),
    )
        .prop_map(|(create_customers, attributions)| ImportBatch {
            create_customers,
            attributions,
            ..ImportBatch::default()
        })
        .boxed()
}

fn time_range() -> BoxedStrategy<TimeRange> {
    (prop::option::of(instant()), prop::option::of(instant()))
        .prop_map(|(from, to)| TimeRange { from, to })
        .boxed()
}

fn activity_query() -> BoxedStrategy<ActivityQuery> {
    (prop::option::of(customer_id()), time_range(), any::<bool>())
        .prop_map(|(customer, range, include_voided)| ActivityQuery {
            customer,
            range,
            include_voided,
        })
        .boxed()
}

fn void() -> BoxedStrategy<Void> {
    (
        instant(),
        prop::option::of(label()),
        prop::option::of(free_text()),
    )
        .prop_map(|(at, by, reason)| Void { at, by, reason })
        .boxed()
}

fn purchase_edit() -> BoxedStrategy<PurchaseEdit> {
    (
        prop::option::of(money()),
        prop::option::of(prop::option::of(money())),
        prop::option::of(prop::option::of(free_text())),
        prop::option::of(prop::option::of(reference())),
        prop::option::of(instant()),
    )
        .prop_map(
            |(amount, cost, description, external_ref, at)| PurchaseEdit {
                amount,
                cost,
                description,
                external_ref,
                at,
            },
        )
        .boxed()
}

fn interaction_edit() -> BoxedStrategy<InteractionEdit> {
    (
        prop::option::of(free_text()),
        prop::option::of(pick(Channel::ALL.to_vec())),
        prop::option::of(pick(Direction::ALL.to_vec())),
        prop::option::of(prop::option::of(pick(Sentiment::ALL.to_vec()))),
        prop::option::of(instant()),
    )
        .prop_map(
            |(summary, channel, direction, sentiment, at)| InteractionEdit {
                summary,
                channel,
                direction,
                sentiment,
                at,
            },
        )
        .boxed()
}

fn open_query() -> BoxedStrategy<OpenQuery> {
    (prop::option::of(customer_id()), any::<bool>())
        .prop_map(|(customer, open_only)| OpenQuery {
            customer,
            open_only,
        })
        .boxed()
}

fn predicate() -> BoxedStrategy<Predicate> {
    let leaf = prop_oneof![
        stage().prop_map(Predicate::Stage),
        tag().prop_map(Predicate::Tag),
        label().prop_map(Predicate::City),
        (pick(Cmp::ALL.to_vec()), 0u64..4)
            .prop_map(|(op, value)| Predicate::PurchaseCount(Comparison { op, value })),
        (pick(Cmp::ALL.to_vec()), 0i64..500).prop_map(|(op, v)| Predicate::TotalSpend(
            Comparison {
                op,
                value: Decimal::new(v, 0),
            }
        )),
        (pick(Cmp::ALL.to_vec()), 0i64..120)
            .prop_map(|(op, value)| Predicate::DaysSinceLastPurchase(Comparison { op, value })),
        parsed(&["fast-delivery", "价格敏感"], Tag::parse).prop_map(Predicate::Need),
        parsed(&["价格敏感", "售后"], Tag::parse).prop_map(Predicate::PainPoint),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Predicate::All),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Predicate::Any),
            inner.prop_map(Predicate::not),
        ]
    })
    .boxed()
}

fn customer_query() -> BoxedStrategy<CustomerQuery> {
    (
        prop::option::weighted(0.3, stage()),
        prop::option::weighted(0.3, tag()),
        prop::option::weighted(0.3, (predicate(), instant())),
        any::<bool>(),
        prop::option::of(customer_id()),
        prop::sample::select(vec![0u32, 1, 2, 3, 100, 10_000, 10_001]),
    )
        .prop_map(
            |(stage, tag, segment, include_erased, after, limit)| CustomerQuery {
                stage,
                tag,
                segment: segment.map(|(predicate, as_of)| SegmentFilter { predicate, as_of }),
                include_erased,
                after,
                limit,
            },
        )
        .boxed()
}

fn reason() -> BoxedStrategy<StageReason> {
    prop_oneof![
        prop::option::of(label()).prop_map(|note| StageReason::Manual { note }),
        pick(PolicyRule::ALL.to_vec()).prop_map(|rule| StageReason::Rule { rule }),
    ]
    .boxed()
}

// ----- operations -----

#[derive(Debug, Clone)]
enum Op {
    CreateCustomer(NewCustomer),
    UpdateCustomer(CustomerId, CustomerData),
    Customer(CustomerId),
    ByEmail(Email),
    ByRef(ExternalRef),
    List(CustomerQuery),
    Count,
    Tag(CustomerId, Tag),
    Untag(CustomerId, Tag),
    Consent(CustomerId, Consent),
    ChangeStage(CustomerId, LifecycleStage, DateTime<Utc>, StageReason),
    StageHistory(CustomerId),
    LogInteraction(NewInteraction),
    Interactions(ActivityQuery),
    RecordPurchase(NewPurchase),
    RecordPurchases(Vec<NewPurchase>),
    Import(ImportBatch),
    /// An import of new customers and campaign attributions only.
    ImportAttributions(ImportBatch),
    /// A streamed import of these parts; with `true`, the source fails after them.
    ImportParts(Vec<ImportBatch>, bool),
    CustomerKeys,
    Purchase(PurchaseId),
    Purchases(ActivityQuery),
    PurchaseLog,
    Refund(NewRefund),
    Refunds(ActivityQuery),
    Survey(NewSurveyResponse),
    Surveys(ActivityQuery),
    OpenRequest(NewServiceRequest),
    UpdateRequest(RequestId, RequestEventKind, DateTime<Utc>),
    Requests(OpenQuery),
    CreateDeal(NewDeal),
    MoveDeal(DealId, DealStage, DateTime<Utc>),
    Deals(OpenQuery),
    CreateTask(NewTask),
    CompleteTask(TaskId, DateTime<Utc>),
    Tasks(TaskQuery),
    PostPoints(NewPointsEntry),
    Balance(CustomerId),
    Ledger(CustomerId),
    CreateSegment(Segment),
    Segment(Label),
    Segments,
    DeleteSegment(Label),
    Erase(CustomerId, DateTime<Utc>),
    Export(CustomerId),
    AuditLog,
    VoidPurchase(PurchaseId, Void),
    EditPurchase(PurchaseId, PurchaseEdit),
    Interaction(InteractionId),
    VoidInteraction(InteractionId, Void),
    EditInteraction(InteractionId, InteractionEdit),
    SurveyById(SurveyId),
    VoidSurvey(SurveyId, Void),
    PutHoliday(solocrm_core::holiday::HolidayDef),
    RemoveHoliday(Tag),
    SetHolidayPresets(Vec<solocrm_core::holiday::Preset>),
    HolidayCalendar,
    SetTarget(solocrm_core::target::Target),
    RemoveTarget(
        solocrm_core::target::TargetMetric,
        solocrm_core::target::TargetPeriod,
    ),
    Targets,
    AddSurveyTemplate(solocrm_core::questionnaire::SurveyTemplate),
    RecordSurveySheet(solocrm_core::questionnaire::SurveySheet),
    SurveySheets(Option<CustomerId>),
    SurveyDimensions(Option<Tag>),
    RecordParticipation(solocrm_core::participation::Participation),
    Participations(Option<CustomerId>),
    RecordNeed(solocrm_core::need::NewNeed),
    ResolveNeed(solocrm_core::NeedId, DateTime<Utc>),
    VoidNeed(solocrm_core::NeedId, DateTime<Utc>),
    Needs(Option<CustomerId>),
    AddOffer(solocrm_core::offer::Offer),
    EndOffer(solocrm_core::offer::OfferCode, DateTime<Utc>),
    PurchaseWithOffer(NewPurchase, solocrm_core::offer::OfferCode),
    Offers,
    Redemptions(Option<solocrm_core::offer::OfferCode>),
    OfferStats(solocrm_core::offer::OfferCode, u32),
    AddProduct(solocrm_core::product::Product),
    EditProduct(
        solocrm_core::product::Sku,
        solocrm_core::product::ProductEdit,
    ),
    RemoveProduct(solocrm_core::product::Sku),
    PurchaseWithLines(NewPurchase, Vec<solocrm_core::product::PurchaseLine>, bool),
    PurchaseLines(PurchaseId),
    Products,
    AddCampaign(solocrm_core::campaign::NewCampaign),
    EditCampaign(
        solocrm_core::CampaignId,
        solocrm_core::campaign::CampaignEdit,
    ),
    Attribute(
        solocrm_core::campaign::AttributionSubject,
        Option<solocrm_core::CampaignId>,
    ),
    RecordCampaignCost(solocrm_core::NewCost, solocrm_core::CampaignId),
    Campaigns,
    Attributions,
    SetPointsExpiry(Option<solocrm_core::PointsExpiry>),
    PointsExpiry,
    PointsHolders,
    PostDueLapses(CustomerId, NaiveDate),
}

/// A coupon code from a few, so adds clash and redemptions find their offer.
fn offer_code() -> BoxedStrategy<solocrm_core::offer::OfferCode> {
    parsed(
        &["SPRING10", "vip", "GIFT"],
        solocrm_core::offer::OfferCode::parse,
    )
}

/// An offer: any kind (a percentage out of range now and then), a window of up to
/// two months, small limits, sometimes an audience.
fn offer() -> BoxedStrategy<solocrm_core::offer::Offer> {
    use solocrm_core::offer::{Benefit, Offer};
    let benefit = prop_oneof![
        (0u32..=110).prop_map(|p| Benefit::Percent(rust_decimal::Decimal::from(p))),
        money().prop_map(Benefit::Amount),
        label().prop_map(Benefit::Gift),
    ];
    (
        offer_code(),
        benefit,
        date(),
        -2i64..60,
        prop::option::of(0u32..3),
        prop::option::of(0u32..4),
        prop::option::of(predicate()),
        instant(),
    )
        .prop_map(
            |(code, benefit, from, len, per_customer, total, audience, at)| Offer {
                code,
                benefit,
                valid_from: from,
                valid_until: from
                    .checked_add_signed(chrono::Duration::days(len))
                    .unwrap_or(from),
                per_customer,
                total,
                audience,
                created_at: at,
                ended_at: None,
            },
        )
        .boxed()
}

/// One of the founder's own holidays: a key from a few (so puts replace), a fixed or
/// a lunar date (some out of range, refused alike by both stores before storing).
/// A sales target: a few periods and every metric (so sets replace), values of the
/// metric's kind, revenue now and then finer than a cent (refused alike).
fn target() -> BoxedStrategy<solocrm_core::target::Target> {
    use solocrm_core::target::{Target, TargetMetric};
    (target_metric(), target_period(), 0i64..2_000_000, 0u32..4)
        .prop_filter_map("a valid target", |(m, p, v, scale)| {
            let value = match m {
                TargetMetric::RetentionRate => rust_decimal::Decimal::new(v % 101, 2),
                TargetMetric::Revenue => rust_decimal::Decimal::new(v, scale),
                _ => rust_decimal::Decimal::from(v % 500),
            };
            Target::new(m, p, value).ok()
        })
        .boxed()
}

fn target_metric() -> BoxedStrategy<solocrm_core::target::TargetMetric> {
    pick(solocrm_core::target::TargetMetric::ALL.to_vec())
}

fn target_period() -> BoxedStrategy<solocrm_core::target::TargetPeriod> {
    parsed(
        &["2026-01", "2026-02", "2026-Q1", "2026", "2025-Q4"],
        solocrm_core::target::TargetPeriod::parse,
    )
}

fn holiday() -> BoxedStrategy<solocrm_core::holiday::HolidayDef> {
    use solocrm_core::holiday::{HolidayDef, HolidayRule};
    let rule = prop_oneof![
        (1u32..=12, 1u32..=31).prop_filter_map("a day of the year", |(m, d)| {
            HolidayRule::fixed(m, d).ok()
        }),
        (1u32..=12, 1u32..=30, any::<bool>())
            .prop_filter_map("a lunar day", |(m, d, l)| HolidayRule::lunar(m, d, l).ok()),
        Just(HolidayRule::Easter),
    ];
    (
        parsed(
            &["店庆", "mum-birthday", "mid_autumn", "new_year"],
            Tag::parse,
        ),
        label(),
        rule,
    )
        .prop_map(|(key, name, rule)| HolidayDef { key, name, rule })
        .boxed()
}

/// A survey template: one of two names (so a second add is a conflict), an NPS
/// question, a score question on a random scale and a text question, in some order.
fn survey_template() -> BoxedStrategy<solocrm_core::questionnaire::SurveyTemplate> {
    use solocrm_core::questionnaire::{Answering, Question, Scale, SurveyTemplate};
    (
        parsed(&["回访", "nps-only"], Tag::parse),
        (0i64..4, 1i64..11),
        label(),
        prop::sample::select(vec![0usize, 1, 2]),
    )
        .prop_filter_map("a template", |(name, (min, max), dim, first)| {
            let q = |dimension: &str, answering| Question {
                text: Label::parse("您满意吗？").expect("a label"),
                dimension: Label::parse(dimension).expect("a label"),
                answering,
            };
            let mut qs = vec![
                q(
                    "总体",
                    Answering::Score {
                        scale: Scale::new(0, 10).ok()?,
                        role: Some(solocrm_core::SurveyKind::Nps),
                    },
                ),
                Question {
                    dimension: dim,
                    ..q(
                        "x",
                        Answering::Score {
                            scale: Scale::new(min, max).ok()?,
                            role: None,
                        },
                    )
                },
                q("售后支持", Answering::Text),
            ];
            qs.rotate_left(first);
            SurveyTemplate::new(name, qs).ok()
        })
        .boxed()
}

/// A sheet: a template of a few names (one never added), any customer and time,
/// answers that may or may not fit.
fn survey_sheet() -> BoxedStrategy<solocrm_core::questionnaire::SurveySheet> {
    use solocrm_core::questionnaire::{Answer, AnswerValue, CollectionMethod, SurveySheet};
    let answer = (
        0u16..5,
        prop_oneof![
            (0u8..12).prop_map(AnswerValue::Score),
            free_text().prop_map(AnswerValue::Text),
        ],
    )
        .prop_map(|(question, value)| Answer { question, value });
    (
        parsed(&["回访", "nps-only", "没有"], Tag::parse),
        customer_id(),
        instant(),
        pick(CollectionMethod::ALL.to_vec()),
        prop::collection::vec(answer, 0..4),
    )
        .prop_map(|(template, customer, at, method, answers)| SurveySheet {
            void: None,
            template,
            customer,
            at,
            method,
            answers,
        })
        .boxed()
}

fn op() -> BoxedStrategy<Op> {
    prop_oneof![
        8 => new_customer().prop_map(Op::CreateCustomer),
        2 => (customer_id(), customer_data()).prop_map(|(i, d)| Op::UpdateCustomer(i, d)),
        1 => customer_id().prop_map(Op::Customer),
        1 => email().prop_map(Op::ByEmail),
        1 => reference().prop_map(Op::ByRef),
        3 => customer_query().prop_map(Op::List),
        1 => Just(Op::Count),
        2 => (customer_id(), tag()).prop_map(|(i, t)| Op::Tag(i, t)),
        1 => (customer_id(), tag()).prop_map(|(i, t)| Op::Untag(i, t)),
        1 => (customer_id(), tag(), any::<bool>(), instant(), label()).prop_map(
            |(i, purpose, granted, at, source)| Op::Consent(i, Consent { purpose, granted, at, source })
        ),
        3 => (customer_id(), stage(), instant(), reason())
            .prop_map(|(i, s, at, r)| Op::ChangeStage(i, s, at, r)),
        1 => customer_id().prop_map(Op::StageHistory),
        2 => (customer_id(), pick(Channel::ALL.to_vec()), pick(Direction::ALL.to_vec()),
              instant(), free_text(), prop::option::of(pick(Sentiment::ALL.to_vec())))
            .prop_map(|(customer, channel, direction, at, summary, sentiment)| {
                Op::LogInteraction(NewInteraction { customer, channel, direction, at, summary, sentiment })
            }),
        1 => activity_query().prop_map(Op::Interactions),
        6 => new_purchase().prop_map(Op::RecordPurchase),
        3 => prop::collection::vec(new_purchase(), 0..5).prop_map(Op::RecordPurchases),
        2 => import_batch().prop_map(Op::Import),
        2 => import_attributions().prop_map(Op::ImportAttributions),
        2 => (prop::collection::vec(import_batch(), 0..4), prop::bool::weighted(0.2))
            .prop_map(|(parts, abort)| Op::ImportParts(parts, abort)),
        1 => Just(Op::CustomerKeys),
        1 => small_id().prop_map(|i| Op::Purchase(PurchaseId::new(i))),
        2 => activity_query().prop_map(Op::Purchases),
        1 => Just(Op::PurchaseLog),
        3 => (small_id(), instant(), money(), prop::option::of(free_text())).prop_map(
            |(p, at, amount, reason)| Op::Refund(NewRefund { purchase: PurchaseId::new(p), at, amount, reason })
        ),
        1 => activity_query().prop_map(Op::Refunds),
        2 => new_survey().prop_map(Op::Survey),
        1 => activity_query().prop_map(Op::Surveys),
        3 => (customer_id(), pick(RequestKind::ALL.to_vec()), label(), free_text(), instant(),
              prop::option::weighted(0.3, small_id().prop_map(DealId::new)))
            .prop_map(|(customer, kind, subject, description, opened_at, deal)| {
                Op::OpenRequest(NewServiceRequest { customer, kind, subject, description, opened_at, deal })
            }),
        3 => (small_id(), pick(RequestEventKind::ALL.to_vec()), instant())
            .prop_map(|(i, k, at)| Op::UpdateRequest(RequestId::new(i), k, at)),
        1 => open_query().prop_map(Op::Requests),
        4 => (customer_id(), label(), money(), instant(), pick(DealStage::ALL.to_vec()),
              prop::option::of(date()))
            .prop_map(|(customer, title, value, created_at, stage, expected_close)| {
                Op::CreateDeal(NewDeal { customer, title, value, created_at, stage, expected_close })
            }),
        4 => (small_id(), pick(DealStage::ALL.to_vec()), instant())
            .prop_map(|(i, s, at)| Op::MoveDeal(DealId::new(i), s, at)),
        1 => open_query().prop_map(Op::Deals),
        2 => (prop::option::of(customer_id()), pick(TaskKind::ALL.to_vec()), label(), date(),
              prop::option::of(pick(Recurrence::ALL.to_vec())), instant())
            .prop_map(|(customer, kind, title, due, recurrence, created_at)| {
                Op::CreateTask(NewTask { customer, kind, title, due, recurrence, created_at })
            }),
        2 => (small_id(), instant()).prop_map(|(i, at)| Op::CompleteTask(TaskId::new(i), at)),
        1 => (prop::option::of(customer_id()), prop::option::of(date()), any::<bool>())
            .prop_map(|(customer, due_until, include_done)| {
                Op::Tasks(TaskQuery { customer, due_until, include_done })
            }),
        3 => (customer_id(), instant(), pick(PointsKind::ALL.to_vec()), -50i64..200,
              prop::option::of(label()))
            .prop_filter_map("a valid points entry", |(c, at, kind, points, reason)| {
                NewPointsEntry::new(c, at, kind, points).ok().map(|e| match reason {
                    Some(r) => Op::PostPoints(e.with_reason(r)),
                    None => Op::PostPoints(e),
                })
            }),
        1 => customer_id().prop_map(Op::Balance),
        1 => customer_id().prop_map(Op::Ledger),
        1 => (label(), predicate()).prop_map(|(name, predicate)| Op::CreateSegment(Segment { name, predicate })),
        1 => label().prop_map(Op::Segment),
        1 => Just(Op::Segments),
        1 => label().prop_map(Op::DeleteSegment),
        2 => (customer_id(), instant()).prop_map(|(i, at)| Op::Erase(i, at)),
        1 => customer_id().prop_map(Op::Export),
        1 => Just(Op::AuditLog),
        2 => (small_id(), void()).prop_map(|(i, v)| Op::VoidPurchase(PurchaseId::new(i), v)),
        2 => (small_id(), purchase_edit()).prop_map(|(i, e)| Op::EditPurchase(PurchaseId::new(i), e)),
        1 => small_id().prop_map(|i| Op::Interaction(InteractionId::new(i))),
        1 => (small_id(), void()).prop_map(|(i, v)| Op::VoidInteraction(InteractionId::new(i), v)),
        1 => (small_id(), interaction_edit())
            .prop_map(|(i, e)| Op::EditInteraction(InteractionId::new(i), e)),
        1 => small_id().prop_map(|i| Op::SurveyById(SurveyId::new(i))),
        1 => (small_id(), void()).prop_map(|(i, v)| Op::VoidSurvey(SurveyId::new(i), v)),
        1 => holiday().prop_map(Op::PutHoliday),
        1 => parsed(&["店庆", "mum-birthday", "mid_autumn"], Tag::parse).prop_map(Op::RemoveHoliday),
        1 => prop::collection::vec(pick(solocrm_core::holiday::Preset::ALL.to_vec()), 0..4)
            .prop_map(Op::SetHolidayPresets),
        1 => Just(Op::HolidayCalendar),
        1 => target().prop_map(Op::SetTarget),
        1 => (target_metric(), target_period()).prop_map(|(m, p)| Op::RemoveTarget(m, p)),
        1 => Just(Op::Targets),
        1 => survey_template().prop_map(Op::AddSurveyTemplate),
        3 => survey_sheet().prop_map(Op::RecordSurveySheet),
        1 => prop::option::of(customer_id()).prop_map(Op::SurveySheets),
        1 => prop::option::of(parsed(&["回访", "nps-only", "没有"], Tag::parse))
            .prop_map(Op::SurveyDimensions),
        2 => (customer_id(), instant(), pick(solocrm_core::participation::ParticipationKind::ALL.to_vec()),
              prop::option::of(free_text()))
            .prop_map(|(customer, at, kind, note)| {
                Op::RecordParticipation(solocrm_core::participation::Participation { customer, at, kind, note })
            }),
        1 => prop::option::of(customer_id()).prop_map(Op::Participations),
        3 => (customer_id(), prop::option::of(small_id()), pick(solocrm_core::need::NeedKind::ALL.to_vec()),
              parsed(&["fast-delivery", "价格敏感", "售后"], Tag::parse), prop::option::of(free_text()), instant())
            .prop_map(|(customer, deal, kind, key, note, at)| {
                Op::RecordNeed(solocrm_core::need::NewNeed {
                    customer, deal: deal.map(solocrm_core::DealId::new), kind, key, note, at,
                })
            }),
        1 => (small_id(), instant()).prop_map(|(i, at)| Op::ResolveNeed(solocrm_core::NeedId::new(i), at)),
        1 => (small_id(), instant()).prop_map(|(i, at)| Op::VoidNeed(solocrm_core::NeedId::new(i), at)),
        1 => prop::option::of(customer_id()).prop_map(Op::Needs),
        2 => offer().prop_map(Op::AddOffer),
        1 => (offer_code(), instant()).prop_map(|(c, at)| Op::EndOffer(c, at)),
        4 => (new_purchase(), offer_code()).prop_map(|(n, c)| Op::PurchaseWithOffer(n, c)),
        1 => Just(Op::Offers),
        1 => prop::option::of(offer_code()).prop_map(Op::Redemptions),
        1 => (offer_code(), 0u32..60).prop_map(|(c, d)| Op::OfferStats(c, d)),
        2 => product().prop_map(Op::AddProduct),
        1 => (sku(), product_edit()).prop_map(|(k, e)| Op::EditProduct(k, e)),
        1 => sku().prop_map(Op::RemoveProduct),
        3 => (new_purchase(), prop::collection::vec(purchase_line(), 0..4), prop::bool::weighted(0.7))
            .prop_map(|(p, l, exact)| Op::PurchaseWithLines(p, l, exact)),
        1 => small_id().prop_map(|i| Op::PurchaseLines(PurchaseId::new(i))),
        1 => Just(Op::Products),
        2 => new_campaign().prop_map(Op::AddCampaign),
        1 => (campaign_id(), campaign_edit()).prop_map(|(i, e)| Op::EditCampaign(i, e)),
        3 => (attribution_subject(), prop::option::of(campaign_id()))
            .prop_map(|(s, c)| Op::Attribute(s, c)),
        2 => (new_cost(), campaign_id()).prop_map(|(n, c)| Op::RecordCampaignCost(n, c)),
        1 => Just(Op::Campaigns),
        1 => Just(Op::Attributions),
        1 => prop::option::of((1u32..=36, date()).prop_filter_map("a validity", |(m, from)| {
            solocrm_core::PointsExpiry::new(m, from).ok()
        })).prop_map(Op::SetPointsExpiry),
        1 => Just(Op::PointsExpiry),
        1 => Just(Op::PointsHolders),
        2 => (customer_id(), date()).prop_map(|(c, d)| Op::PostDueLapses(c, d)),
    ]
    .boxed()
}

// ----- running -----

thread_local! {
    /// The outcome of the last operation: `None` for success, else the error kind.
    static LAST: std::cell::Cell<Option<solocrm_core::StoreErrorKind>> =
        const { std::cell::Cell::new(None) };
}

/// Runs `f` on both stores and requires the same answer.
fn same<T: PartialEq + Debug>(
    memory: &dyn Store,
    sqlite: &dyn Store,
    f: impl Fn(&dyn Store) -> StoreResult<T>,
) -> Result<(), String> {
    let (m, s) = (f(memory), f(sqlite));
    LAST.with(|l| l.set(m.as_ref().err().map(|e| e.kind())));
    match (&m, &s) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(a), Err(b)) if a.kind() == b.kind() && a.to_string() == b.to_string() => Ok(()),
        _ => Err(format!("memory: {m:?}\n sqlite: {s:?}")),
    }
}

fn apply(op: &Op, m: &dyn Store, s: &dyn Store) -> Result<(), String> {
    match op.clone() {
        Op::CreateCustomer(n) => same(m, s, |st| st.create_customer(n.clone())),
        Op::UpdateCustomer(i, d) => same(m, s, |st| st.update_customer(i, d.clone())),
        Op::Customer(i) => same(m, s, |st| st.customer(i)),
        Op::ByEmail(e) => same(m, s, |st| st.customer_by_email(&e)),
        Op::ByRef(r) => same(m, s, |st| st.customer_by_external_ref(&r)),
        Op::List(q) => same(m, s, |st| st.list_customers(&q)),
        Op::Count => same(m, s, |st| st.count_customers()),
        Op::Tag(i, t) => same(m, s, |st| st.tag_customer(i, &t)),
        Op::Untag(i, t) => same(m, s, |st| st.untag_customer(i, &t)),
        Op::Consent(i, c) => same(m, s, |st| st.record_consent(i, c.clone())),
        Op::ChangeStage(i, to, at, r) => same(m, s, |st| st.change_stage(i, to, at, r.clone())),
        Op::StageHistory(i) => same(m, s, |st| st.stage_history(i)),
        Op::LogInteraction(n) => same(m, s, |st| st.log_interaction(n.clone())),
        Op::Interactions(q) => same(m, s, |st| st.interactions(&q)),
        Op::RecordPurchase(n) => same(m, s, |st| st.record_purchase(n.clone())),
        Op::RecordPurchases(b) => same(m, s, |st| st.record_purchases(b.clone())),
        Op::Import(b) | Op::ImportAttributions(b) => same(m, s, |st| st.import(b.clone())),
        Op::ImportParts(parts, abort) => same(m, s, |st| {
            let failure: Option<ImportPart> = abort.then(|| Err("the source failed".into()));
            let mut stream = parts.iter().cloned().map(Ok).chain(failure);
            st.import_parts(&mut stream)
        }),
        Op::CustomerKeys => same(m, s, |st| st.customer_keys()),
        Op::Purchase(i) => same(m, s, |st| st.purchase(i)),
        Op::Purchases(q) => same(m, s, |st| st.purchases(&q)),
        Op::PurchaseLog => same(m, s, |st| st.purchase_log()),
        Op::Refund(n) => same(m, s, |st| st.record_refund(n.clone())),
        Op::Refunds(q) => same(m, s, |st| st.refunds(&q)),
        Op::VoidPurchase(i, v) => same(m, s, |st| st.void_purchase(i, v.clone())),
        Op::EditPurchase(i, e) => same(m, s, |st| st.edit_purchase(i, &e)),
        Op::Interaction(i) => same(m, s, |st| st.interaction(i)),
        Op::VoidInteraction(i, v) => same(m, s, |st| st.void_interaction(i, v.clone())),
        Op::EditInteraction(i, e) => same(m, s, |st| st.edit_interaction(i, &e)),
        Op::SurveyById(i) => same(m, s, |st| st.survey(i)),
        Op::VoidSurvey(i, v) => same(m, s, |st| st.void_survey(i, v.clone())),
        Op::PutHoliday(h) => same(m, s, |st| st.put_holiday(h.clone())),
        Op::RemoveHoliday(k) => same(m, s, |st| st.remove_holiday(&k)),
        Op::SetHolidayPresets(p) => same(m, s, |st| st.set_holiday_presets(&p)),
        Op::HolidayCalendar => same(m, s, |st| st.holiday_calendar()),
        Op::SetTarget(t) => same(m, s, |st| st.set_target(t.clone())),
        Op::RemoveTarget(metric, period) => same(m, s, |st| st.remove_target(metric, period)),
        Op::Targets => same(m, s, |st| st.targets()),
        Op::AddSurveyTemplate(t) => same(m, s, |st| st.add_survey_template(t.clone())),
        Op::RecordSurveySheet(x) => same(m, s, |st| st.record_survey_sheet(x.clone())),
        Op::SurveySheets(c) => same(m, s, |st| st.survey_sheets(c)),
        Op::SurveyDimensions(t) => same(m, s, |st| st.survey_dimensions(t.as_ref())),
        Op::RecordParticipation(p) => same(m, s, |st| st.record_participation(p.clone())),
        Op::Participations(c) => same(m, s, |st| st.participations(c)),
        Op::RecordNeed(n) => same(m, s, |st| st.record_need(n.clone())),
        Op::ResolveNeed(i, at) => same(m, s, |st| st.resolve_need(i, at)),
        Op::VoidNeed(i, at) => same(m, s, |st| st.void_need(i, at)),
        Op::Needs(c) => same(m, s, |st| st.needs(c)),
        Op::AddOffer(o) => same(m, s, |st| st.add_offer(o.clone())),
        Op::EndOffer(c, at) => same(m, s, |st| st.end_offer(&c, at)),
        Op::PurchaseWithOffer(n, c) => {
            same(m, s, |st| st.record_purchase_with_offer(n.clone(), &c))
        }
        Op::Offers => same(m, s, |st| st.offers()),
        Op::Redemptions(c) => same(m, s, |st| st.redemptions(c.as_ref())),
        Op::OfferStats(c, d) => same(m, s, |st| st.offer_stats(&c, d)),
        Op::AddProduct(p) => same(m, s, |st| st.add_product(p.clone())),
        Op::EditProduct(k, e) => same(m, s, |st| st.edit_product(&k, &e)),
        Op::RemoveProduct(k) => same(m, s, |st| st.remove_product(&k)),
        Op::PurchaseWithLines(mut p, lines, exact) => {
            // Mostly the amount the lines add up to, sometimes the random one.
            if exact && let Ok(total) = solocrm_core::product::lines_total(&lines, Currency::EUR) {
                p.amount = total;
            }
            same(m, s, |st| {
                st.record_purchase_with_lines(p.clone(), lines.clone())
            })
        }
        Op::PurchaseLines(id) => same(m, s, |st| st.purchase_lines(id)),
        Op::Products => same(m, s, |st| st.products()),
        Op::AddCampaign(n) => same(m, s, |st| st.add_campaign(n.clone())),
        Op::EditCampaign(i, e) => same(m, s, |st| st.edit_campaign(i, &e)),
        Op::Attribute(subject, c) => same(m, s, |st| st.attribute(subject, c)),
        Op::RecordCampaignCost(n, c) => same(m, s, |st| st.record_campaign_cost(n.clone(), c)),
        Op::Campaigns => same(m, s, |st| st.campaigns()),
        Op::Attributions => same(m, s, |st| st.attributions()),
        Op::SetPointsExpiry(e) => same(m, s, |st| st.set_points_expiry(e)),
        Op::PointsExpiry => same(m, s, |st| st.points_expiry()),
        Op::PointsHolders => same(m, s, |st| st.points_holders()),
        Op::PostDueLapses(c, d) => same(m, s, |st| st.post_due_lapses(c, d)),
        Op::Survey(n) => same(m, s, |st| st.record_survey(n.clone())),
        Op::Surveys(q) => same(m, s, |st| st.surveys(&q)),
        Op::OpenRequest(n) => same(m, s, |st| st.open_request(n.clone())),
        Op::UpdateRequest(i, k, at) => same(m, s, |st| st.update_request(i, k, at)),
        Op::Requests(q) => same(m, s, |st| st.requests(&q)),
        Op::CreateDeal(n) => same(m, s, |st| st.create_deal(n.clone())),
        Op::MoveDeal(i, to, at) => same(m, s, |st| st.move_deal(i, to, at)),
        Op::Deals(q) => same(m, s, |st| st.deals(&q)),
        Op::CreateTask(n) => same(m, s, |st| st.create_task(n.clone())),
        Op::CompleteTask(i, at) => same(m, s, |st| st.complete_task(i, at)),
        Op::Tasks(q) => same(m, s, |st| st.tasks(&q)),
        Op::PostPoints(e) => same(m, s, |st| st.post_points(e.clone())),
        Op::Balance(i) => same(m, s, |st| st.points_balance(i)),
        Op::Ledger(i) => same(m, s, |st| st.points_ledger(i)),
        Op::CreateSegment(g) => same(m, s, |st| st.create_segment(g.clone())),
        Op::Segment(n) => same(m, s, |st| st.segment(&n)),
        Op::Segments => same(m, s, |st| st.segments()),
        Op::DeleteSegment(n) => same(m, s, |st| st.delete_segment(&n)),
        Op::Erase(i, at) => same(m, s, |st| st.erase_customer(i, at)),
        Op::Export(i) => same(m, s, |st| st.export_customer(i)),
        Op::AuditLog => same(m, s, |st| st.audit_log()),
    }
}

/// Everything both stores hold, compared at the end.
fn same_state(m: &Crm, s: &Crm) -> Result<(), String> {
    let all = ActivityQuery::ALL;
    let every = OpenQuery {
        customer: None,
        open_only: false,
    };
    let all_tasks = TaskQuery {
        customer: None,
        due_until: None,
        include_done: true,
    };
    same(m, s, |st| st.count_customers())?;
    let n = m.count_customers().map_err(|e| e.to_string())?;
    for id in 1..=n {
        same(m, s, |st| st.export_customer(CustomerId::new(id)))?;
    }
    same(m, s, |st| {
        st.list_customers(&CustomerQuery {
            include_erased: true,
            limit: 10_000,
            ..CustomerQuery::default()
        })
    })?;
    same(m, s, |st| st.interactions(&all))?;
    same(m, s, |st| st.purchases(&all))?;
    same(m, s, |st| st.refunds(&all))?;
    same(m, s, |st| st.surveys(&all))?;
    same(m, s, |st| st.requests(&every))?;
    same(m, s, |st| st.deals(&every))?;
    same(m, s, |st| st.tasks(&all_tasks))?;
    same(m, s, |st| st.segments())?;
    same(m, s, |st| st.holiday_calendar())?;
    same(m, s, |st| st.targets())?;
    same(m, s, |st| st.survey_templates())?;
    same(m, s, |st| st.survey_sheets(None))?;
    same(m, s, |st| st.survey_dimensions(None))?;
    same(m, s, |st| st.participations(None))?;
    same(m, s, |st| st.needs(None))?;
    same(m, s, |st| st.products())?;
    same(m, s, |st| st.campaigns())?;
    same(m, s, |st| st.attributions())?;
    same(m, s, |st| st.costs())?;
    same(m, s, |st| st.all_purchase_lines())?;
    same(m, s, |st| st.points_expiry())?;
    same(m, s, |st| st.points_holders())?;
    same(m, s, |st| st.audit_log())?;
    same(m, s, |st| st.purchase_log())?;
    same_report(m, s, Period::month(2026, 2))?;
    same_report(m, s, Period::year(2026))
}

/// The metrics report over `period` is the same from both stores (or fails the same).
fn same_report(
    m: &Crm,
    s: &Crm,
    period: solocrm_core::metrics::MetricResult<Period>,
) -> Result<(), String> {
    let period = period.map_err(|e| e.to_string())?;
    let a = report(m, period).map_err(|e| e.to_string());
    let b = report(s, period).map_err(|e| e.to_string());
    if a == b {
        Ok(())
    } else {
        Err(format!(
            "metrics report of {period:?}:\n memory: {a:?}\n sqlite: {b:?}"
        ))
    }
}

/// The metrics report of `period` with the default configuration, from one snapshot.
fn report(crm: &Crm, period: Period) -> Result<MetricsReport, ReportError> {
    crm.metrics_report(period, &ReportConfig::default())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// With `DIFFERENTIAL_STATS=1`, counts the outcomes per operation and error kind and
/// prints them when the test ends, to see that the generator reaches both the
/// accepting and the refusing paths of every method.
struct Stats(std::collections::BTreeMap<String, [usize; 2]>);

impl Stats {
    fn record(&mut self, op: &Op) {
        let name = format!("{op:?}");
        let name = name.split(['(', ' ']).next().unwrap_or("?").to_owned();
        let outcome = LAST.with(std::cell::Cell::get);
        let key = match outcome {
            None => name,
            Some(kind) => format!("{name} {kind:?}"),
        };
        self.0.entry(key).or_default()[0] += 1;
    }
}

static STATS: std::sync::Mutex<Option<Stats>> = std::sync::Mutex::new(None);

fn record(op: &Op) {
    if std::env::var_os("DIFFERENTIAL_STATS").is_some()
        && let Ok(mut g) = STATS.lock()
    {
        g.get_or_insert_with(|| Stats(Default::default()))
            .record(op);
    }
}

#[test]
fn zz_print_stats_when_asked() {
    // Runs after the property test when tests run on one thread
    // (`--test-threads 1`), and prints nothing unless asked.
    if let Ok(g) = STATS.lock()
        && let Some(stats) = g.as_ref()
    {
        for (k, v) in &stats.0 {
            eprintln!("{k:40} {}", v[0]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2_000,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/differential.proptest-regressions",
            ),
        )),
        ..ProptestConfig::default()
    })]

    /// Both ports through the operations layer: `Crm` writes the rules once, each
    /// port stores and lists, and both must answer alike at every step.
    #[test]
    fn the_operations_layer_over_sqlite_answers_like_the_memory_store(
        prelude in prop::collection::vec(new_customer(), 3),
        ops in prop::collection::vec(op(), 1..100),
    ) {
        let memory = Crm::new(MemoryStore::new(Currency::EUR));
        let file = Arc::new(
            SqliteStore::open_in_memory(Currency::EUR).expect("an in-memory database"),
        );
        let sqlite = Crm::from_shared(file.clone());
        let prelude = prelude.into_iter().map(Op::CreateCustomer);
        for (i, op) in prelude.chain(ops).enumerate() {
            let op = &op;
            if let Err(diff) = apply(op, &memory, &sqlite) {
                prop_assert!(false, "step {i}: {op:?}\n memory and sqlite differ:\n {diff}");
            }
            record(op);
        }
        if let Err(diff) = same_state(&memory, &sqlite) {
            prop_assert!(false, "the final state differs:\n {diff}");
        }
        prop_assert!(file.integrity_check().expect("integrity check").is_empty());
    }
}

/// A generated business (a few hundred customers with every kind of record) populated
/// through the operations layer reads back the same from both ports, also from a
/// database file after reopening it, and the SQLite port's purchase log is the
/// generator's.
#[test]
fn a_generated_business_reads_back_the_same_from_both_stores() {
    use solocrm_sample::{GenConfig, populate, purchase_log};
    let config = GenConfig::new(300, 7).with_purchases(3_000);
    let memory = Crm::new(MemoryStore::new(Currency::EUR));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("business.db");
    let sqlite = Crm::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
    let m = populate(&memory, &config).expect("memory populated");
    let s = populate(&sqlite, &config).expect("sqlite populated");
    assert_eq!(m, s);
    drop(sqlite);
    let file = Arc::new(SqliteStore::open(&path).expect("reopened"));
    let sqlite = Crm::from_shared(file.clone());
    if let Err(diff) = same_state(&memory, &sqlite) {
        panic!("the stores differ:\n {diff}");
    }
    assert_eq!(
        sqlite.purchase_log().expect("log"),
        purchase_log(&config),
        "the store's log is the generator's"
    );
    for period in [Period::year(2024), Period::month(2025, 12)] {
        let period = period.expect("a period");
        let report = report(&sqlite, period).expect("the report computes");
        assert!(
            report.purchases.average_order_value.is_defined(),
            "{period:?} has purchases"
        );
        if let Err(diff) = same_report(&memory, &sqlite, Ok(period)) {
            panic!("{diff}");
        }
    }
    // Segment filters over real purchase histories, page by page.
    let as_of = config.as_of;
    let segments = [
        Predicate::PurchaseCount(Comparison {
            op: Cmp::Ge,
            value: 5,
        }),
        Predicate::All(vec![
            Predicate::DaysSinceLastPurchase(Comparison {
                op: Cmp::Gt,
                value: 90,
            }),
            Predicate::TotalSpend(Comparison {
                op: Cmp::Ge,
                value: Decimal::new(200, 0),
            }),
        ]),
        Predicate::not(Predicate::Stage(LifecycleStage::Churned)),
    ];
    for predicate in segments {
        let mut query = CustomerQuery {
            segment: Some(SegmentFilter {
                predicate: predicate.clone(),
                as_of,
            }),
            limit: 7,
            ..CustomerQuery::default()
        };
        let mut pages = 0;
        loop {
            if let Err(diff) = same(&memory, &sqlite, |st| st.list_customers(&query)) {
                panic!("{predicate:?} page {pages}:\n {diff}");
            }
            let page = sqlite.list_customers(&query).expect("a page");
            pages += 1;
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        assert!(pages > 1, "{predicate:?} spans several pages");
    }
    assert_eq!(file.integrity_check().expect("check"), Vec::<String>::new());
}

/// A SKU from a few, so that adds clash and lines name known and unknown products.
fn sku() -> BoxedStrategy<solocrm_core::product::Sku> {
    parsed(
        &["TEA-01", "CUP-01", "茶-02", "NONE"],
        solocrm_core::product::Sku::parse,
    )
}

/// A product with random money (sometimes negative or foreign, to be refused).
fn product() -> BoxedStrategy<solocrm_core::product::Product> {
    (
        sku(),
        label(),
        prop::option::of(label()),
        money(),
        prop::option::weighted(0.5, money()),
    )
        .prop_map(|(sku, name, category, price, cost)| {
            let mut p = solocrm_core::product::Product::new(sku, name, price);
            p.category = category;
            p.cost = cost;
            p
        })
        .boxed()
}

fn product_edit() -> BoxedStrategy<solocrm_core::product::ProductEdit> {
    (
        prop::option::of(label()),
        prop::option::of(prop::option::of(label())),
        prop::option::of(money()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(name, category, price, archived)| solocrm_core::product::ProductEdit {
                name,
                category,
                price,
                cost: None,
                archived,
            },
        )
        .boxed()
}

/// A purchase line: a quantity from 0 (refused) up, a unit price, a discount that is
/// sometimes above the gross (refused).
fn purchase_line() -> BoxedStrategy<solocrm_core::product::PurchaseLine> {
    (
        sku(),
        prop_oneof![1 => Just(0u32), 10 => 1u32..5],
        prop_oneof![20 => (0i64..20_000).prop_map(eur), 1 => money()],
        prop::option::weighted(0.3, (0i64..30_000).prop_map(eur)),
    )
        .prop_map(
            |(sku, quantity, unit_price, discount)| solocrm_core::product::PurchaseLine {
                sku,
                quantity,
                unit_price,
                discount,
            },
        )
        .boxed()
}

/// A campaign: a name from a few (some equal ignoring case, so adds clash), a channel,
/// days sometimes out of order or out of range, a budget sometimes negative or in
/// another currency (refused alike by both stores).
fn new_campaign() -> BoxedStrategy<solocrm_core::campaign::NewCampaign> {
    (
        parsed(
            &["双十一直播", "Spring Fair", "spring fair", "年货节"],
            Label::parse,
        ),
        tag(),
        date(),
        prop::option::of(date()),
        prop::option::of(money()),
        prop::option::of(free_text()),
    )
        .prop_map(
            |(name, channel, start, end, budget, note)| solocrm_core::campaign::NewCampaign {
                name,
                channel,
                start,
                end,
                budget,
                note,
            },
        )
        .boxed()
}

/// Mostly one of the first few campaigns, sometimes one that does not exist.
fn campaign_id() -> BoxedStrategy<solocrm_core::CampaignId> {
    prop_oneof![8 => 1u64..=3, 1 => 4u64..=9]
        .prop_map(solocrm_core::CampaignId::new)
        .boxed()
}

fn campaign_edit() -> BoxedStrategy<solocrm_core::campaign::CampaignEdit> {
    (
        prop::option::of(parsed(
            &["双十一直播", "SPRING FAIR", "清明踏青"],
            Label::parse,
        )),
        prop::option::of(tag()),
        prop::option::of(date()),
        prop::option::of(prop::option::of(date())),
        prop::option::of(prop::option::of(money())),
    )
        .prop_map(
            |(name, channel, start, end, budget)| solocrm_core::campaign::CampaignEdit {
                name,
                channel,
                start,
                end,
                budget,
                note: None,
            },
        )
        .boxed()
}

fn attribution_subject() -> BoxedStrategy<solocrm_core::campaign::AttributionSubject> {
    use solocrm_core::campaign::AttributionSubject;
    prop_oneof![
        3 => customer_id().prop_map(AttributionSubject::Customer),
        2 => small_id().prop_map(|i| AttributionSubject::Deal(solocrm_core::DealId::new(i))),
        1 => small_id().prop_map(|i| AttributionSubject::Cost(solocrm_core::CostId::new(i))),
    ]
    .boxed()
}

fn new_cost() -> BoxedStrategy<solocrm_core::NewCost> {
    (instant(), money(), prop::option::of(tag()))
        .prop_map(|(at, amount, channel)| solocrm_core::NewCost {
            at,
            amount,
            category: solocrm_core::CostCategory::Marketing,
            channel,
            note: None,
        })
        .boxed()
}
