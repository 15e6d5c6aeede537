//! The whole business as records ready to insert.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use solocrm_core::{
    BirthYear, Channel, Consent, CountryCode, CustomerData, CustomerId, DealId, DealStage,
    Direction, Email, ExternalRef, FreeText, Gender, IncomeBand, Label, LifecycleStage, Money,
    NewCustomer, NewDeal, NewInteraction, NewPointsEntry, NewPurchase, NewRefund,
    NewServiceRequest, NewSurveyResponse, NewTask, PersonName, Phone, PointsKind, PolicyRule,
    PurchaseId, Recurrence, RequestEventKind, RequestKind, Sentiment, StageReason, SurveyKind,
    SurveyScore, Tag, TaskKind,
};

use super::GenConfig;
use super::log::{self, DAY, Plan};
use super::rng::Rng;
use super::tables::{INTERESTS, TAGS, Tables, tables};

const STREAM_CUSTOMER: u64 = 10;
const STREAM_ACTIVITY: u64 = 11;
const STREAM_GLOBAL: u64 = 12;

/// Purchases from which a customer counts as loyal.
const LOYAL_AT: usize = 8;
/// Points needed for one voucher.
const VOUCHER_POINTS: i64 = 500;

/// A purchase. Customer and deal references are indices into [`Business::customers`]
/// and [`Business::deals`]; the deal is won, of the same customer, and closed before
/// the purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenPurchase {
    /// The buyer (index).
    pub customer: usize,
    /// When.
    pub at: DateTime<Utc>,
    /// What they paid.
    pub amount: Money,
    /// What it cost, if known.
    pub cost: Option<Money>,
    /// How many items.
    pub items: Option<u32>,
    /// What was bought.
    pub description: Option<FreeText>,
    /// The invoice number (unique).
    pub external_ref: Option<ExternalRef>,
    /// The won deal it follows from (index).
    pub deal: Option<usize>,
}

impl GenPurchase {
    /// The purchase to record, for the stored ids of its customer and deal.
    pub fn to_new(&self, customer: CustomerId, deal: Option<DealId>) -> NewPurchase {
        NewPurchase {
            customer,
            at: self.at,
            amount: self.amount,
            cost: self.cost,
            description: self.description.clone(),
            items: self.items,
            external_ref: self.external_ref.clone(),
            deal,
        }
    }
}

/// A refund of (part of) a purchase; never more than what is left of it, never before
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenRefund {
    /// The refunded purchase (index into [`Business::purchases`]).
    pub purchase: usize,
    /// When.
    pub at: DateTime<Utc>,
    /// How much (more than zero).
    pub amount: Money,
    /// Why.
    pub reason: Option<FreeText>,
}

impl GenRefund {
    /// The refund to record, for the stored id of its purchase.
    pub fn to_new(&self, purchase: PurchaseId) -> NewRefund {
        NewRefund {
            purchase,
            at: self.at,
            amount: self.amount,
            reason: self.reason.clone(),
        }
    }
}

/// An interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenInteraction {
    /// The customer (index).
    pub customer: usize,
    /// The channel.
    pub channel: Channel,
    /// Who started it.
    pub direction: Direction,
    /// When.
    pub at: DateTime<Utc>,
    /// What was said.
    pub summary: FreeText,
    /// The tone.
    pub sentiment: Option<Sentiment>,
}

impl GenInteraction {
    /// The interaction to log, for the stored id of its customer.
    pub fn to_new(&self, customer: CustomerId) -> NewInteraction {
        NewInteraction {
            customer,
            channel: self.channel,
            direction: self.direction,
            at: self.at,
            summary: self.summary.clone(),
            sentiment: self.sentiment,
        }
    }
}

/// A survey answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenSurvey {
    /// The customer (index).
    pub customer: usize,
    /// When.
    pub at: DateTime<Utc>,
    /// The score.
    pub score: SurveyScore,
    /// The comment.
    pub comment: Option<FreeText>,
}

impl GenSurvey {
    /// The answer to record, for the stored id of its customer.
    pub fn to_new(&self, customer: CustomerId) -> NewSurveyResponse {
        NewSurveyResponse {
            customer,
            at: self.at,
            score: self.score,
            comment: self.comment.clone(),
        }
    }
}

/// A deal with its moves through the pipeline, in time order, none before its
/// creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenDeal {
    /// The customer (index).
    pub customer: usize,
    /// What it is about.
    pub title: Label,
    /// Its value.
    pub value: Money,
    /// When it entered the pipeline.
    pub created_at: DateTime<Utc>,
    /// The first stage (open).
    pub stage: DealStage,
    /// When it is expected to close.
    pub expected_close: Option<NaiveDate>,
    /// The moves, oldest first; the last one is `Won` or `Lost` for a closed deal.
    pub moves: Vec<(DealStage, DateTime<Utc>)>,
}

impl GenDeal {
    /// The deal to create, for the stored id of its customer.
    pub fn to_new(&self, customer: CustomerId) -> NewDeal {
        NewDeal {
            customer,
            title: self.title.clone(),
            value: self.value,
            created_at: self.created_at,
            stage: self.stage,
            expected_close: self.expected_close,
        }
    }

    /// The stage after every move.
    pub fn final_stage(&self) -> DealStage {
        self.moves.last().map_or(self.stage, |m| m.0)
    }
}

/// A service request with its steps after opening, in time order, none before the
/// opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenRequest {
    /// The customer (index).
    pub customer: usize,
    /// What kind.
    pub kind: RequestKind,
    /// The subject.
    pub subject: Label,
    /// The full text.
    pub description: FreeText,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// The won deal of the same customer it follows from (index).
    pub deal: Option<usize>,
    /// Respond, resolve and reopen steps, oldest first.
    pub steps: Vec<(RequestEventKind, DateTime<Utc>)>,
}

impl GenRequest {
    /// The request to open, for the stored ids of its customer and deal.
    pub fn to_new(&self, customer: CustomerId, deal: Option<DealId>) -> NewServiceRequest {
        NewServiceRequest {
            customer,
            kind: self.kind,
            subject: self.subject.clone(),
            description: self.description.clone(),
            opened_at: self.opened_at,
            deal,
        }
    }
}

/// A task and the times it was completed (at most once for a one-off task; once per
/// occurrence for a recurring one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenTask {
    /// The customer it concerns (index), if any.
    pub customer: Option<usize>,
    /// What it is for.
    pub kind: TaskKind,
    /// What to do.
    pub title: Label,
    /// When it is (first) due.
    pub due: NaiveDate,
    /// How often it comes back.
    pub recurrence: Option<Recurrence>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was completed, oldest first.
    pub completions: Vec<DateTime<Utc>>,
}

impl GenTask {
    /// The task to create, for the stored id of its customer.
    pub fn to_new(&self, customer: Option<CustomerId>) -> NewTask {
        NewTask {
            customer,
            kind: self.kind,
            title: self.title.clone(),
            due: self.due,
            recurrence: self.recurrence,
            created_at: self.created_at,
        }
    }
}

/// A loyalty points entry. Posted in [`Business::points`] order, no customer's
/// balance ever goes below zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenPoints {
    /// The customer (index).
    pub customer: usize,
    /// When.
    pub at: DateTime<Utc>,
    /// What it does.
    pub kind: PointsKind,
    /// The signed change (positive to earn, negative to redeem or expire).
    pub delta: i64,
    /// Why.
    pub reason: Option<Label>,
}

impl GenPoints {
    /// The entry to post, for the stored id of its customer.
    pub fn to_new(&self, customer: CustomerId) -> NewPointsEntry {
        NewPointsEntry {
            customer,
            at: self.at,
            kind: self.kind,
            delta: self.delta,
            reason: self.reason.clone(),
        }
    }
}

/// A lifecycle stage change. Applied in [`Business::stage_changes`] order from each
/// customer's first stage, every change is allowed by the transition table and none is
/// earlier than the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenStageChange {
    /// The customer (index).
    pub customer: usize,
    /// The new stage.
    pub to: LifecycleStage,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: StageReason,
}

/// A consent decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConsent {
    /// The customer (index).
    pub customer: usize,
    /// The decision.
    pub consent: Consent,
}

/// The whole generated business. Every list is ordered by time (purchases by time,
/// then customer, exactly as [`purchase_log`](super::purchase_log)); references to
/// customers, purchases and deals are indices into the lists here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    /// The customers, in the order to create them.
    pub customers: Vec<NewCustomer>,
    /// The purchases, by time, then customer.
    pub purchases: Vec<GenPurchase>,
    /// Refunds, by time.
    pub refunds: Vec<GenRefund>,
    /// Interactions, by time.
    pub interactions: Vec<GenInteraction>,
    /// Survey answers, by time.
    pub surveys: Vec<GenSurvey>,
    /// Deals, by creation time.
    pub deals: Vec<GenDeal>,
    /// Service requests, by opening time.
    pub requests: Vec<GenRequest>,
    /// Tasks, by creation time.
    pub tasks: Vec<GenTask>,
    /// Loyalty points entries, in posting order (by time).
    pub points: Vec<GenPoints>,
    /// Lifecycle stage changes, by time (each customer's in order).
    pub stage_changes: Vec<GenStageChange>,
    /// Consent decisions, by time.
    pub consents: Vec<GenConsent>,
}

/// The whole business as records ready to insert (customer references are indices
/// into `customers`). Its purchases are the rows of
/// [`purchase_log`](super::purchase_log) for the same configuration.
///
/// Meant for up to some hundred thousand customers; for benchmarks over millions of
/// purchases use [`purchase_log`](super::purchase_log). Uses all cores (up to 16, and
/// one per 2,000 customers at most), each thread generating a contiguous part of the
/// customers; the result does not depend on their number.
///
/// # Panics
///
/// As [`purchase_log`](super::purchase_log).
pub fn business(config: &GenConfig) -> Business {
    business_in_parts(config, parts_for(config.customers))
}

/// Customers per part below which [`business`] stays on one thread: a part must be
/// worth a thread's start.
const CUSTOMERS_PER_PART: u32 = 2_000;

/// How many parts [`business`] splits the customers into: one per core (at most 16),
/// fewer for small businesses.
fn parts_for(customers: u32) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let worth = (customers / CUSTOMERS_PER_PART).max(1) as usize;
    cores.min(worth).min(16)
}

/// [`business`] with the customers split into `parts` contiguous ranges, each
/// generated on its own thread, then put together in order. Every customer draws from
/// their own random streams and every list is built customer by customer, so the
/// result is the same for any number of parts (a test holds it to that).
pub(crate) fn business_in_parts(config: &GenConfig, parts: usize) -> Business {
    let plan = log::plan(config);
    let log = log::log(config, &plan);
    let customers = plan.profiles.len();
    // Each customer's rows, in time order: `rows[first_row[i]..first_row[i + 1]]`
    // are the rows (indices into the log) of customer `i`, and `slot[k]` is the
    // place of row `k` in `rows`.
    let mut first_row = vec![0usize; customers + 1];
    for (i, &c) in plan.counts.iter().enumerate().take(customers) {
        first_row[i + 1] = first_row[i] + c as usize;
    }
    let mut next = first_row.clone();
    let mut rows = vec![0usize; log.len()];
    let mut slot = vec![0usize; log.len()];
    for (k, &c) in log.customer.iter().enumerate() {
        let j = next[c as usize];
        rows[j] = k;
        slot[k] = j;
        next[c as usize] += 1;
    }
    // Parts of about the same work (customers plus their purchases).
    let parts = parts.clamp(1, customers.max(1));
    let total = customers + log.len();
    let mut bounds = vec![0usize];
    let mut from = 0;
    for p in 1..parts {
        let target = total * p / parts;
        from = (from..customers)
            .find(|&i| i + first_row[i] >= target)
            .unwrap_or(customers);
        bounds.push(from);
    }
    bounds.push(customers);
    let generate = |lo: usize, hi: usize| {
        let base = first_row[lo];
        let mut g = Gen::new(config, &plan, lo, base, &slot);
        g.purchases = rows[base..first_row[hi]]
            .iter()
            .map(|&k| GenPurchase {
                customer: log.customer[k] as usize,
                at: g.ts(log.at[k]),
                amount: Money::from_minor(log.amount[k], config.currency),
                cost: None,
                items: None,
                description: None,
                external_ref: None,
                deal: None,
            })
            .collect();
        for i in lo..hi {
            g.customer(i, &rows[first_row[i]..first_row[i + 1]]);
        }
        g
    };
    let mut pieces: Vec<Gen<'_>> = if parts == 1 {
        vec![generate(0, customers)]
    } else {
        std::thread::scope(|s| {
            let generate = &generate;
            let running: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let (lo, hi) = (w[0], w[1]);
                    s.spawn(move || generate(lo, hi))
                })
                .collect();
            running
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut g = pieces.remove(0);
    for piece in pieces {
        g.append(piece);
    }
    // The purchases back in the log's order (by time, then customer).
    let mut by_customer: Vec<Option<GenPurchase>> = std::mem::take(&mut g.purchases)
        .into_iter()
        .map(Some)
        .collect();
    g.purchases = slot
        .iter()
        .filter_map(|&j| by_customer.get_mut(j).and_then(Option::take))
        .collect();
    g.global_tasks();
    g.finish()
}

/// The generator's working state.
struct Gen<'a> {
    config: &'a GenConfig,
    plan: &'a Plan,
    /// The words of `config.locale`.
    words: &'static Tables,
    /// `as_of` in Unix seconds.
    end: i64,
    digits_scale: i64,
    /// Where the current customer's refunds start in `refunds`.
    refunds_from: usize,
    /// The index of the first customer in `customers` (customers are indexed from
    /// the start of the whole business).
    first_customer: usize,
    /// The place in the customer-ordered rows of the first row in `purchases`.
    first_slot: usize,
    /// For each row of the log, its place in the customer-ordered rows.
    slot: &'a [usize],
    customers: Vec<NewCustomer>,
    /// The purchases of the customers generated here, customer by customer (each
    /// customer's in time order); look one up by its row in the log with
    /// [`Gen::row`]. Deal references are indices into `deals`.
    purchases: Vec<GenPurchase>,
    refunds: Vec<GenRefund>,
    interactions: Vec<GenInteraction>,
    surveys: Vec<GenSurvey>,
    deals: Vec<GenDeal>,
    requests: Vec<GenRequest>,
    tasks: Vec<GenTask>,
    points: Vec<GenPoints>,
    stage_changes: Vec<GenStageChange>,
    consents: Vec<GenConsent>,
}

/// What happens to a member's points, before the balance is simulated.
enum PointsEvent {
    Earn(i64),
    Goodwill(i64),
    ExpireAll,
}

impl<'a> Gen<'a> {
    /// The state for generating the customers from `first_customer` on, whose rows
    /// start at `first_slot` of the customer-ordered rows (`slot`: see
    /// [`business_in_parts`]).
    fn new(
        config: &'a GenConfig,
        plan: &'a Plan,
        first_customer: usize,
        first_slot: usize,
        slot: &'a [usize],
    ) -> Self {
        Gen {
            config,
            plan,
            words: tables(config.locale),
            end: config.as_of.timestamp(),
            digits_scale: 10_i64.pow(config.currency.minor_unit_digits()),
            refunds_from: 0,
            first_customer,
            first_slot,
            slot,
            customers: Vec::new(),
            purchases: Vec::new(),
            refunds: Vec::new(),
            interactions: Vec::new(),
            surveys: Vec::new(),
            deals: Vec::new(),
            requests: Vec::new(),
            tasks: Vec::new(),
            points: Vec::new(),
            stage_changes: Vec::new(),
            consents: Vec::new(),
        }
    }

    /// The place in `purchases` of row `k` of the log (a row of a customer generated
    /// here).
    fn row(&self, k: usize) -> usize {
        self.slot[k] - self.first_slot
    }

    /// Appends what `next` generated, for the customers right after this one's: deal
    /// references move by the deals already here.
    fn append(&mut self, mut next: Gen<'_>) {
        let offset = self.deals.len();
        for p in &mut next.purchases {
            p.deal = p.deal.map(|d| d + offset);
        }
        for r in &mut next.requests {
            r.deal = r.deal.map(|d| d + offset);
        }
        self.customers.append(&mut next.customers);
        self.purchases.append(&mut next.purchases);
        self.refunds.append(&mut next.refunds);
        self.interactions.append(&mut next.interactions);
        self.surveys.append(&mut next.surveys);
        self.deals.append(&mut next.deals);
        self.requests.append(&mut next.requests);
        self.tasks.append(&mut next.tasks);
        self.points.append(&mut next.points);
        self.stage_changes.append(&mut next.stage_changes);
        self.consents.append(&mut next.consents);
    }

    fn ts(&self, secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("generated times lie between start and as_of")
    }

    fn money(&self, minor: i64) -> Money {
        Money::from_minor(minor, self.config.currency)
    }

    /// A time `after` seconds after `from`, if it is before `as_of`.
    fn before_end(&self, from: i64, after: f64) -> Option<i64> {
        let t = from.saturating_add(after.max(0.0) as i64);
        (t < self.end).then_some(t)
    }

    /// Everything about customer `i`, whose purchases are `rows`.
    fn customer(&mut self, i: usize, rows: &[usize]) {
        let profile = self.plan.profiles[i];
        let created = self.plan.start + profile.acquired as i64;
        self.refunds_from = self.refunds.len();
        let mut rng = Rng::stream(self.config.seed, STREAM_CUSTOMER, i as u64);
        let member = !rows.is_empty() && rng.chance(0.3);
        let data = self.customer_data(i, &mut rng, rows.len(), member);
        let has_email = data.email.is_some();
        let has_phone = data.phone.is_some();
        let b2b = data.company.is_some();
        self.customers
            .push(NewCustomer::new(data, self.ts(created)));

        let mut rng = Rng::stream(self.config.seed, STREAM_ACTIVITY, i as u64);
        let times: Vec<i64> = rows
            .iter()
            .map(|&k| self.purchases[self.row(k)].at.timestamp())
            .collect();
        let churns = self.stages(i, &mut rng, created, &times);
        self.purchase_details(&mut rng, rows);
        self.interactions_of(i, &mut rng, created, &times);
        self.surveys_of(i, &mut rng, &times);
        self.deals_of(i, &mut rng, created, rows, b2b);
        let complaints = self.requests_of(i, &mut rng, rows);
        self.refunds_of(&mut rng, rows);
        self.tasks_of(i, &mut rng, &times);
        if member {
            self.points_of(i, &mut rng, rows, &complaints, &churns);
        }
        self.consents_of(i, &mut rng, created, has_email, has_phone);
    }

    fn customer_data(
        &self,
        i: usize,
        rng: &mut Rng,
        purchases: usize,
        member: bool,
    ) -> CustomerData {
        let n = i + 1;
        let w = self.words;
        let &(first, first_ascii) = rng.choose(w.first_names).unwrap_or(&("Anna", "anna"));
        let &(last, last_ascii) = rng.choose(w.last_names).unwrap_or(&("Weber", "weber"));
        let name = if w.family_first {
            format!("{last}{first}")
        } else {
            format!("{first} {last}")
        };
        let mut data = CustomerData::new(parse(PersonName::parse(&name)));
        if rng.chance(0.75) {
            let domain = rng.pick(w.domains);
            let initial = &first_ascii[..1];
            // Every pattern ends in the customer number right before the '@', and names
            // hold no digits, so addresses are unique ignoring case.
            let local = match rng.below(4) {
                0 => format!("{first_ascii}.{last_ascii}{n}"),
                1 => format!("{first_ascii}{n}"),
                2 => format!("{initial}{last_ascii}{n}"),
                _ => format!("{}.{}{n}", capitalise(first_ascii), capitalise(last_ascii)),
            };
            data.email = Some(parse(Email::parse(&format!("{local}@{domain}"))));
        }
        let countries = w.countries;
        let country = countries
            .get(rng.weighted(&countries.iter().map(|c| c.weight).collect::<Vec<_>>()))
            .unwrap_or(&countries[0]);
        if rng.chance(0.55) {
            let phone = if w.mobile_numbers {
                // A mobile number: 1, a network digit 3–9, then nine digits.
                let network = rng.between(130, 199);
                let rest = rng.between(0, 99_999_999);
                format!(
                    "{} {network} {:04} {:04}",
                    country.phone,
                    rest / 10_000,
                    rest % 10_000
                )
            } else {
                format!(
                    "{} {} {}",
                    country.phone,
                    rng.between(20, 899),
                    rng.between(100_000, 9_999_999)
                )
            };
            data.phone = Some(parse(Phone::parse(&phone)));
        }
        if rng.chance(0.12) {
            let &(company, industry) = rng.choose(w.companies).unwrap_or(&w.companies[0]);
            data.company = Some(label(company));
            data.profile.industry = Some(label(industry));
            data.tags.insert(tag("b2b"));
        }
        if rng.chance(0.35) {
            data.birthday = Some(birthday(rng));
        } else if rng.chance(0.2) {
            data.profile.birth_year = BirthYear::new(rng.between(1945, 2006) as i32).ok();
        }
        if rng.chance(0.9) {
            data.profile.country = Some(parse(CountryCode::parse(country.code)));
            let &(city, region) = rng.choose(country.cities).unwrap_or(&("Berlin", "Berlin"));
            data.profile.city = Some(label(city));
            if rng.chance(0.5) {
                data.profile.region = Some(label(region));
            }
        }
        if rng.chance(0.5) {
            data.profile.gender = Some(*rng.pick(&[
                (Gender::Female, 48),
                (Gender::Male, 48),
                (Gender::Diverse, 4),
            ]));
        }
        if rng.chance(0.2) {
            data.profile.income_band = rng.choose(IncomeBand::ALL).copied();
        }
        for _ in 0..rng.below(3) {
            if let Some(interest) = rng.choose(INTERESTS) {
                data.profile.interests.insert(tag(interest));
            }
        }
        for _ in 0..rng.weighted(&[50, 35, 15]) {
            let t: &&str = rng.pick(TAGS);
            data.tags.insert(tag(t));
        }
        if purchases >= 25 {
            data.tags.insert(tag("vip"));
        }
        if member {
            data.tags.insert(tag("loyalty-member"));
        }
        if rng.chance(0.85) {
            let (channel, _, cost) =
                w.channels[rng.weighted(&w.channels.iter().map(|c| c.1).collect::<Vec<_>>())];
            let cost = cost.map(|(lo, hi)| {
                self.money(rng.between(lo * self.digits_scale, hi * self.digits_scale))
            });
            data = data.with_acquisition(tag(channel), cost);
        }
        if rng.chance(0.2) {
            data.external_ref = Some(parse(ExternalRef::parse(&format!("C-{n:07}"))));
        }
        if rng.chance(0.08) {
            let note = *rng.choose(w.notes).unwrap_or(&"");
            data.notes = parse(FreeText::parse(note));
        }
        data
    }

    /// Lifecycle changes as the policy would make them; returns the churn times.
    fn stages(&mut self, i: usize, rng: &mut Rng, created: i64, times: &[i64]) -> Vec<i64> {
        let mut stage = LifecycleStage::Prospect;
        let mut changes = Vec::new();
        let mut churns = Vec::new();
        let mut go =
            |stage: &mut LifecycleStage, to: LifecycleStage, at: i64, reason: StageReason| {
                if let Some(path) = stage.path_to(to) {
                    for s in path {
                        changes.push((s, at, reason.clone()));
                    }
                    *stage = to;
                }
            };
        let rule = |rule| StageReason::Rule { rule };
        let first = times.first().copied();
        // Some show interest before buying.
        if rng.chance(if first.is_some() { 0.3 } else { 0.4 }) {
            let at = created + rng.exponential(DAY) as i64;
            if at < self.end && first.is_none_or(|f| at <= f) {
                let note = Some(label(self.words.phrases.asked_for_catalogue));
                go(
                    &mut stage,
                    LifecycleStage::Lead,
                    at,
                    StageReason::Manual { note },
                );
            }
        }
        let Some(first) = first else {
            self.push_stage_changes(i, changes);
            return churns;
        };
        let n = times.len();
        let span = times[n - 1] - first;
        let gap = if n >= 2 {
            span as f64 / (n - 1) as f64
        } else {
            90.0 * DAY
        };
        let at_risk_after = (2.5 * gap).clamp(45.0 * DAY, 240.0 * DAY) as i64;
        let churn_after = (5.0 * gap).clamp(150.0 * DAY, 540.0 * DAY) as i64;
        let mut loyal = false;
        for (k, &t) in times.iter().enumerate() {
            if k == 0 {
                go(
                    &mut stage,
                    LifecycleStage::New,
                    t,
                    rule(PolicyRule::FirstPurchase),
                );
                continue;
            }
            let prev = times[k - 1];
            let silence = t - prev;
            if silence > churn_after {
                go(
                    &mut stage,
                    LifecycleStage::AtRisk,
                    prev + at_risk_after,
                    rule(PolicyRule::Overdue),
                );
                go(
                    &mut stage,
                    LifecycleStage::Churned,
                    prev + churn_after,
                    rule(PolicyRule::Silent),
                );
                churns.push(prev + churn_after);
                go(
                    &mut stage,
                    LifecycleStage::WonBack,
                    t,
                    rule(PolicyRule::PurchaseAfterChurn),
                );
                loyal = false;
            } else if silence > at_risk_after {
                go(
                    &mut stage,
                    LifecycleStage::AtRisk,
                    prev + at_risk_after,
                    rule(PolicyRule::Overdue),
                );
                let back = if loyal {
                    LifecycleStage::Loyal
                } else {
                    LifecycleStage::Active
                };
                go(&mut stage, back, t, rule(PolicyRule::RepeatPurchase));
            } else if matches!(stage, LifecycleStage::New | LifecycleStage::WonBack) {
                go(
                    &mut stage,
                    LifecycleStage::Active,
                    t,
                    rule(PolicyRule::RepeatPurchase),
                );
            }
            if k + 1 >= LOYAL_AT && stage == LifecycleStage::Active && !loyal {
                go(
                    &mut stage,
                    LifecycleStage::Loyal,
                    t,
                    rule(PolicyRule::LoyalBehaviour),
                );
                loyal = true;
            }
        }
        let last = times[n - 1];
        if last + at_risk_after < self.end {
            go(
                &mut stage,
                LifecycleStage::AtRisk,
                last + at_risk_after,
                rule(PolicyRule::Overdue),
            );
        }
        if last + churn_after < self.end {
            go(
                &mut stage,
                LifecycleStage::Churned,
                last + churn_after,
                rule(PolicyRule::Silent),
            );
            churns.push(last + churn_after);
        }
        self.push_stage_changes(i, changes);
        churns
    }

    fn push_stage_changes(&mut self, i: usize, changes: Vec<(LifecycleStage, i64, StageReason)>) {
        for (to, at, reason) in changes {
            let at = self.ts(at);
            self.stage_changes.push(GenStageChange {
                customer: i,
                to,
                at,
                reason,
            });
        }
    }

    /// Costs, items, descriptions and invoice numbers.
    fn purchase_details(&mut self, rng: &mut Rng, rows: &[usize]) {
        for &k in rows {
            let j = self.row(k);
            let amount = self.purchases[j].amount;
            let minor = amount.to_minor_units().unwrap_or(0);
            let p = &mut self.purchases[j];
            if rng.chance(0.6) {
                let share = rng.between(30, 65);
                p.cost = Some(Money::from_minor(minor * share / 100, amount.currency()));
            }
            if rng.chance(0.8) {
                p.items = Some(1 + rng.geometric(0.6, 30));
            }
            if rng.chance(0.5) {
                let product = rng
                    .choose(self.words.products)
                    .copied()
                    .unwrap_or(self.words.phrases.any_product);
                p.description = Some(parse(FreeText::parse(product)));
            }
            if rng.chance(0.7) {
                let year = p.at.year();
                p.external_ref = Some(parse(ExternalRef::parse(&format!(
                    "INV-{year}-{:08}",
                    k + 1
                ))));
            }
        }
    }

    fn interactions_of(&mut self, i: usize, rng: &mut Rng, created: i64, times: &[i64]) {
        let count = rng.geometric(0.8 + 0.25 * times.len() as f64, 40);
        let mut list = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let at = match rng.choose(times) {
                Some(&t) if rng.chance(0.5) => self.before_end(t, rng.exponential(2.0 * DAY)),
                _ => Some(rng.between(created, self.end - 1)),
            };
            let Some(at) = at else { continue };
            let inbound = rng.chance(0.45);
            let summaries: Vec<&str> = self
                .words
                .summaries
                .iter()
                .filter(|(dir, _)| *dir == inbound)
                .map(|(_, s)| *s)
                .collect();
            let summary = rng.choose(&summaries).copied().unwrap_or("");
            let [email, phone, chat, social, in_person, other] = self.words.interaction_weights;
            let channel = *rng.pick(&[
                (Channel::Email, email),
                (Channel::Phone, phone),
                // A Chinese shop chats on WeChat.
                (
                    match self.config.locale {
                        crate::Locale::ZhCn => Channel::WeChat,
                        _ => Channel::Chat,
                    },
                    chat,
                ),
                (Channel::Social, social),
                (Channel::InPerson, in_person),
                (Channel::Other, other),
            ]);
            let sentiment = rng.chance(0.65).then(|| {
                *rng.pick(&[
                    (Sentiment::Positive, 50),
                    (Sentiment::Neutral, 35),
                    (Sentiment::Negative, 15),
                ])
            });
            list.push(GenInteraction {
                customer: i,
                channel,
                direction: if inbound {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                at: self.ts(at),
                summary: parse(FreeText::parse(summary)),
                sentiment,
            });
        }
        list.sort_by_key(|x| x.at);
        self.interactions.extend(list);
    }

    fn surveys_of(&mut self, i: usize, rng: &mut Rng, times: &[i64]) {
        // 0 unhappy, 1 lukewarm, 2 happy: most customers are happy.
        let mood = rng.weighted(&[15, 25, 60]) as u8;
        for &t in times {
            if !rng.chance(0.06) {
                continue;
            }
            let Some(at) = self.before_end(t, rng.gamma2(2.0 * DAY)) else {
                continue;
            };
            let kind = *rng.pick(&[
                (SurveyKind::Nps, 70),
                (SurveyKind::Csat, 25),
                (SurveyKind::Ces, 5),
            ]);
            let (lo, hi) = match (kind, mood) {
                (SurveyKind::Nps, 2) => (9, 10),
                (SurveyKind::Nps, 1) => (7, 8),
                (SurveyKind::Nps, _) => (if rng.chance(0.7) { 4 } else { 0 }, 6),
                (SurveyKind::Csat, 2) => (4, 5),
                (SurveyKind::Csat, 1) => (3, 4),
                (SurveyKind::Csat, _) => (1, 3),
                (SurveyKind::Ces, 2) => (1, 3),
                (SurveyKind::Ces, 1) => (2, 4),
                (SurveyKind::Ces, _) => (4, 7),
            };
            let Ok(score) = SurveyScore::new(kind, rng.between(lo, hi)) else {
                continue;
            };
            let comment = if rng.chance(0.3) {
                let fitting: Vec<&str> = self
                    .words
                    .comments
                    .iter()
                    .filter(|(m, _)| *m == mood)
                    .map(|(_, c)| *c)
                    .collect();
                rng.choose(&fitting).map(|c| parse(FreeText::parse(c)))
            } else {
                None
            };
            self.surveys.push(GenSurvey {
                customer: i,
                at: self.ts(at),
                score,
                comment,
            });
        }
    }

    fn deals_of(&mut self, i: usize, rng: &mut Rng, created: i64, rows: &[usize], b2b: bool) {
        if !rng.chance(if b2b { 0.45 } else { 0.04 }) {
            return;
        }
        let count = 1 + usize::from(rng.chance(0.3));
        for _ in 0..count {
            let title = label(
                rng.choose(self.words.deal_titles)
                    .copied()
                    .unwrap_or(self.words.phrases.any_deal),
            );
            let unlinked: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&k| {
                    let p = &self.purchases[self.row(k)];
                    p.deal.is_none() && !p.amount.is_zero()
                })
                .collect();
            let first_stage = if rng.chance(0.7) {
                DealStage::NeedIdentified
            } else {
                DealStage::Contacted
            };
            let index = self.deals.len();
            let deal = if !unlinked.is_empty() && rng.chance(0.55) {
                // Won: the deal became this purchase.
                let k = *rng.choose(&unlinked).unwrap_or(&unlinked[0]);
                let j = self.row(k);
                let bought = self.purchases[j].at.timestamp();
                let opened = (bought - ((7.0 + rng.exponential(20.0)) * DAY) as i64)
                    .max(created)
                    .min(bought);
                let won = bought - rng.between(0, (bought - opened).min(2 * 86_400));
                self.purchases[j].deal = Some(index);
                let value = self.purchases[j].amount;
                let moves = pipeline(rng, first_stage, DealStage::Won, opened, won);
                (opened, value, moves, None)
            } else if rng.chance(0.6) && self.end - 10 * 86_400 > created {
                let opened = rng.between(created, self.end - 10 * 86_400);
                let closed = self
                    .before_end(opened, (1.0 + rng.exponential(30.0)) * DAY)
                    .unwrap_or(self.end - 1);
                let value = self.deal_value(rng, i);
                let moves = pipeline(rng, first_stage, DealStage::Lost, opened, closed);
                (opened, value, moves, None)
            } else {
                let opened = rng.between(created.max(self.end - 90 * 86_400), self.end - 1);
                let value = self.deal_value(rng, i);
                let mut moves = pipeline(rng, first_stage, DealStage::Won, opened, self.end - 1);
                moves.pop();
                moves.truncate(rng.below(moves.len() as u64 + 1) as usize);
                let close = self.config.zone.date_of(self.ts(opened))
                    + Days::new(rng.between(30, 75) as u64);
                (opened, value, moves, Some(close))
            };
            let (opened, value, moves, expected_close) = deal;
            let moves = moves.into_iter().map(|(s, t)| (s, self.ts(t))).collect();
            self.deals.push(GenDeal {
                customer: i,
                title,
                value,
                created_at: self.ts(opened),
                stage: first_stage,
                expected_close,
                moves,
            });
            if let Some(close) = expected_close {
                self.tasks.push(GenTask {
                    customer: Some(i),
                    kind: TaskKind::FollowUp,
                    title: label(self.words.phrases.call_about_quote),
                    due: close,
                    recurrence: None,
                    created_at: self.ts(opened),
                    completions: Vec::new(),
                });
            }
        }
    }

    fn deal_value(&self, rng: &mut Rng, i: usize) -> Money {
        let spend = self.plan.profiles[i].spend + super::rng::ln(8.0);
        let major = rng.log_normal(spend, 0.5).min(1e7);
        self.money((major * self.digits_scale as f64).round() as i64)
    }

    /// Service requests; returns the times of complaints.
    fn requests_of(&mut self, i: usize, rng: &mut Rng, rows: &[usize]) -> Vec<i64> {
        let mut complaints = Vec::new();
        if rows.is_empty() || !rng.chance(0.07) {
            return complaints;
        }
        let count = 1 + usize::from(rng.chance(0.2));
        for _ in 0..count {
            let k = *rng.choose(rows).unwrap_or(&rows[0]);
            let j = self.row(k);
            let bought = self.purchases[j].at.timestamp();
            let Some(opened) = self.before_end(bought, 3600.0 + rng.exponential(4.0 * DAY)) else {
                continue;
            };
            let kind = *rng.pick(&[
                (RequestKind::Feedback, 20),
                (RequestKind::Question, 45),
                (RequestKind::Complaint, 35),
            ]);
            let kind_index = match kind {
                RequestKind::Feedback => 0,
                RequestKind::Question => 1,
                RequestKind::Complaint => 2,
            };
            let subjects: Vec<&str> = self
                .words
                .subjects
                .iter()
                .filter(|(k, _)| *k == kind_index)
                .map(|(_, s)| *s)
                .collect();
            let subject = label(rng.choose(&subjects).copied().unwrap_or("Question"));
            let description = parse(FreeText::parse(&format!(
                "{subject}\n\nOrder of {}.",
                self.config.zone.date_of(self.purchases[j].at)
            )));
            let deal = self.purchases[j].deal.filter(|_| rng.chance(0.5));
            // The steps, stopping at the first that would fall at or after as_of.
            let mut steps = Vec::new();
            let mut t = opened;
            let mut step = |t: &mut i64, wait: f64, kind: RequestEventKind| -> bool {
                match self.before_end(*t, wait) {
                    Some(next) => {
                        *t = next;
                        steps.push((kind, next));
                        true
                    }
                    None => false,
                }
            };
            let mut resolved_at = None;
            'steps: {
                if rng.chance(0.85) {
                    if !step(
                        &mut t,
                        rng.gamma2(8.0 * 3600.0),
                        RequestEventKind::Responded,
                    ) {
                        break 'steps;
                    }
                    if rng.chance(0.25)
                        && !step(&mut t, rng.gamma2(DAY), RequestEventKind::Responded)
                    {
                        break 'steps;
                    }
                }
                if !rng.chance(0.8)
                    || !step(&mut t, rng.gamma2(2.0 * DAY), RequestEventKind::Resolved)
                {
                    break 'steps;
                }
                resolved_at = Some(t);
                if rng.chance(0.08) {
                    if !step(&mut t, rng.gamma2(5.0 * DAY), RequestEventKind::Reopened) {
                        break 'steps;
                    }
                    if rng.chance(0.7) && step(&mut t, rng.gamma2(DAY), RequestEventKind::Resolved)
                    {
                        resolved_at = Some(t);
                    }
                }
            }
            if kind == RequestKind::Complaint {
                complaints.push(resolved_at.unwrap_or(opened));
                if rng.chance(0.5) {
                    let at = resolved_at.unwrap_or(opened);
                    self.refund(rng, k, at, "Complaint");
                }
            }
            let steps = steps.into_iter().map(|(s, t)| (s, self.ts(t))).collect();
            self.requests.push(GenRequest {
                customer: i,
                kind,
                subject,
                description,
                opened_at: self.ts(opened),
                deal,
                steps,
            });
        }
        complaints
    }

    /// Refunds (part of) purchase `k` at `at`, within what is left of it.
    fn refund(&mut self, rng: &mut Rng, k: usize, at: i64, why: &str) {
        let j = self.row(k);
        let paid = self.purchases[j].amount.to_minor_units().unwrap_or(0);
        // This customer's refunds so far are the tail of the list.
        let already: i64 = self.refunds[self.refunds_from..]
            .iter()
            .filter(|r| r.purchase == k)
            .filter_map(|r| r.amount.to_minor_units().ok())
            .sum();
        let left = paid - already;
        if left <= 0 || at < self.purchases[j].at.timestamp() || at >= self.end {
            return;
        }
        let amount = if rng.chance(0.6) {
            left
        } else {
            (left * rng.between(10, 90) / 100).max(1)
        };
        let reason = if rng.chance(0.7) {
            let r = rng
                .choose(self.words.refund_reasons)
                .copied()
                .unwrap_or(why);
            Some(parse(FreeText::parse(r)))
        } else {
            None
        };
        self.refunds.push(GenRefund {
            purchase: k,
            at: self.ts(at),
            amount: self.money(amount),
            reason,
        });
    }

    fn refunds_of(&mut self, rng: &mut Rng, rows: &[usize]) {
        for &k in rows {
            let j = self.row(k);
            if self.purchases[j].amount.is_zero() || !rng.chance(0.015) {
                continue;
            }
            let bought = self.purchases[j].at.timestamp();
            if let Some(at) = self.before_end(bought, rng.gamma2(6.0 * DAY)) {
                self.refund(rng, k, at, "Returned");
                if rng.chance(0.1)
                    && let Some(later) = self.before_end(at, rng.gamma2(3.0 * DAY))
                {
                    self.refund(rng, k, later, "Goodwill");
                }
            }
        }
    }

    fn tasks_of(&mut self, i: usize, rng: &mut Rng, times: &[i64]) {
        if let Some(&first) = times.first()
            && rng.chance(0.2)
        {
            let due = self.config.zone.date_of(self.ts(first)) + Days::new(7);
            let title = label(
                rng.choose(self.words.follow_ups)
                    .copied()
                    .unwrap_or(self.words.phrases.any_follow_up),
            );
            let mut completions = Vec::new();
            let done = self.at_nine(due) + rng.between(0, 3 * 86_400);
            if done < self.end && rng.chance(0.85) {
                completions.push(self.ts(done));
            }
            self.tasks.push(GenTask {
                customer: Some(i),
                kind: TaskKind::FollowUp,
                title,
                due,
                recurrence: None,
                created_at: self.ts(first),
                completions,
            });
        }
        // Birthday greetings for the best customers.
        let customer = &self.customers[i - self.first_customer];
        let best = customer
            .data
            .tags
            .iter()
            .any(|t| t.as_str() == "vip" || t.as_str() == "loyalty-member");
        if let (Some(birthday), true) = (customer.data.birthday, best) {
            let created = customer.created_at;
            let from = self.config.zone.date_of(created);
            let anchor = (from.year()..from.year() + 8)
                .filter_map(|y| NaiveDate::from_ymd_opt(y, birthday.month(), birthday.day()))
                .find(|d| *d >= from);
            if let Some(anchor) = anchor {
                let completions = self.occurrences(Recurrence::Yearly, anchor, created);
                self.tasks.push(GenTask {
                    customer: Some(i),
                    kind: TaskKind::Birthday,
                    title: label(self.words.phrases.birthday_card),
                    due: anchor,
                    recurrence: Some(Recurrence::Yearly),
                    created_at: created,
                    completions,
                });
            }
        }
    }

    /// 09:00 on `day` in the shop's time zone, in Unix seconds.
    fn at_nine(&self, day: NaiveDate) -> i64 {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN);
        self.config.zone.instant(day.and_time(nine)).timestamp()
    }

    /// Completion times of every occurrence due before `as_of`: 09:00 on the day, but
    /// not before the task was created.
    fn occurrences(
        &self,
        recurrence: Recurrence,
        anchor: NaiveDate,
        created: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let created = created.timestamp();
        (0..)
            .map_while(|n| recurrence.nth(anchor, n))
            .map(|d| self.at_nine(d).max(created))
            .take_while(|&t| t < self.end)
            .map(|t| self.ts(t))
            .collect()
    }

    fn points_of(
        &mut self,
        i: usize,
        rng: &mut Rng,
        rows: &[usize],
        complaints: &[i64],
        churns: &[i64],
    ) {
        let mut events: Vec<(i64, PointsEvent)> = Vec::new();
        for &k in rows {
            let p = &self.purchases[self.row(k)];
            let points = p.amount.to_minor_units().unwrap_or(0) / self.digits_scale;
            if points > 0 {
                events.push((p.at.timestamp(), PointsEvent::Earn(points)));
            }
        }
        events.extend(complaints.iter().map(|&t| (t, PointsEvent::Goodwill(50))));
        events.extend(
            churns
                .iter()
                .filter(|_| rng.chance(0.5))
                .map(|&t| (t, PointsEvent::ExpireAll)),
        );
        events.sort_by_key(|e| e.0);
        let mut balance = 0i64;
        for (t, event) in events {
            let at = self.ts(t);
            let mut entries = Vec::with_capacity(2);
            match event {
                PointsEvent::Earn(p) => {
                    entries.push((PointsKind::Earn, p, "purchase"));
                    if balance + p >= VOUCHER_POINTS && rng.chance(0.35) {
                        entries.push((PointsKind::Redeem, -VOUCHER_POINTS, "voucher"));
                    }
                }
                PointsEvent::Goodwill(p) => {
                    entries.push((PointsKind::Adjust, p, "goodwill after a complaint"));
                }
                PointsEvent::ExpireAll if balance > 0 => {
                    entries.push((PointsKind::Expire, -balance, "expired after inactivity"));
                }
                PointsEvent::ExpireAll => {}
            }
            for (kind, delta, reason) in entries {
                balance += delta;
                self.points.push(GenPoints {
                    customer: i,
                    at,
                    kind,
                    delta,
                    reason: Some(label(reason)),
                });
            }
        }
    }

    fn consents_of(&mut self, i: usize, rng: &mut Rng, created: i64, email: bool, phone: bool) {
        let mut push = |purpose: &str, granted, at: i64, source: &str| {
            self.consents.push(GenConsent {
                customer: i,
                consent: Consent {
                    purpose: tag(purpose),
                    granted,
                    at: DateTime::from_timestamp(at, 0).expect("generated times are valid"),
                    source: label(source),
                },
            });
        };
        if email && rng.chance(0.5) {
            let source = if rng.chance(0.6) {
                "web form"
            } else {
                "checkout"
            };
            push("marketing-email", true, created, source);
            if rng.chance(0.15) {
                let at = rng.between(created, self.end - 1);
                push("marketing-email", false, at, "unsubscribe link");
            }
        }
        if phone && rng.chance(0.1) {
            push("marketing-sms", true, created, "phone call");
        }
    }

    /// Tasks of the business itself: a monthly newsletter and a yearly stock-take.
    fn global_tasks(&mut self) {
        let mut rng = Rng::stream(self.config.seed, STREAM_GLOBAL, 0);
        let start = self.config.start;
        if self.config.as_of <= start {
            return;
        }
        let day = self.config.zone.date_of(start) + Days::new(rng.between(0, 27) as u64);
        let completions = self.occurrences(Recurrence::Monthly, day, start);
        self.tasks.push(GenTask {
            customer: None,
            kind: TaskKind::Custom,
            title: label(self.words.phrases.newsletter),
            due: day,
            recurrence: Some(Recurrence::Monthly),
            created_at: start,
            completions,
        });
        if let Some(day) = NaiveDate::from_ymd_opt(start.year(), 12, 30) {
            let completions = self.occurrences(Recurrence::Yearly, day, start);
            self.tasks.push(GenTask {
                customer: None,
                kind: TaskKind::Custom,
                title: label(self.words.phrases.stock_take),
                due: day,
                recurrence: Some(Recurrence::Yearly),
                created_at: start,
                completions,
            });
        }
    }

    /// Orders every list by time, renumbering deal references.
    fn finish(mut self) -> Business {
        let mut order: Vec<usize> = (0..self.deals.len()).collect();
        order.sort_by_key(|&d| (self.deals[d].created_at, d));
        let mut new_index = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        let mut deals: Vec<Option<GenDeal>> = self.deals.into_iter().map(Some).collect();
        let deals = order.iter().filter_map(|&d| deals[d].take()).collect();
        for p in &mut self.purchases {
            p.deal = p.deal.map(|d| new_index[d]);
        }
        for r in &mut self.requests {
            r.deal = r.deal.map(|d| new_index[d]);
        }
        // Stable sorts keep each customer's records in the order generated.
        self.refunds.sort_by_key(|r| r.at);
        self.interactions.sort_by_key(|x| x.at);
        self.surveys.sort_by_key(|s| s.at);
        self.requests.sort_by_key(|r| r.opened_at);
        self.tasks.sort_by_key(|t| t.created_at);
        self.points.sort_by_key(|p| p.at);
        self.stage_changes.sort_by_key(|c| c.at);
        self.consents.sort_by_key(|c| c.consent.at);
        Business {
            customers: self.customers,
            purchases: self.purchases,
            refunds: self.refunds,
            interactions: self.interactions,
            surveys: self.surveys,
            deals,
            requests: self.requests,
            tasks: self.tasks,
            points: self.points,
            stage_changes: self.stage_changes,
            consents: self.consents,
        }
    }
}

/// Moves of a deal from `first` through some later open stages (sometimes going back
/// once) to `last`, spread evenly over `opened..=closed`.
fn pipeline(
    rng: &mut Rng,
    first: DealStage,
    last: DealStage,
    opened: i64,
    closed: i64,
) -> Vec<(DealStage, i64)> {
    let mut stages = Vec::new();
    let later = [
        (DealStage::Contacted, 0.8),
        (DealStage::Demo, 0.5),
        (DealStage::Proposal, 0.85),
        (DealStage::Negotiation, 0.6),
    ];
    let start = DealStage::OPEN
        .iter()
        .position(|s| *s == first)
        .unwrap_or(0);
    for (stage, p) in later {
        let pos = DealStage::OPEN
            .iter()
            .position(|s| *s == stage)
            .unwrap_or(0);
        if pos > start && rng.chance(p) {
            stages.push(stage);
        }
    }
    if stages.last() == Some(&DealStage::Negotiation) && rng.chance(0.1) {
        stages.push(DealStage::Proposal);
        stages.push(DealStage::Negotiation);
    }
    stages.push(last);
    let m = stages.len() as i64;
    let length = (closed - opened).max(0);
    stages
        .into_iter()
        .enumerate()
        .map(|(j, s)| (s, opened + length * (j as i64 + 1) / m))
        .collect()
}

/// A birthday: mostly uniform over 1945–2006, and 2 % on February 29.
fn birthday(rng: &mut Rng) -> NaiveDate {
    let leap_day = rng.chance(0.02);
    let year = rng.between(1945, 2006) as i32;
    let date = if leap_day {
        let leap_year = year - year.rem_euclid(4);
        NaiveDate::from_ymd_opt(leap_year, 2, 29)
    } else {
        NaiveDate::from_yo_opt(year, rng.between(1, 365) as u32)
    };
    date.unwrap_or(NaiveDate::MIN)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Unwraps a value built from the generator's own tables and patterns, which the tests
/// check are valid.
fn parse<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.expect("the generator's tables and patterns produce valid values")
}

fn label(s: &str) -> Label {
    parse(Label::parse(s))
}

fn tag(s: &str) -> Tag {
    parse(Tag::parse(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Locale;

    /// The business generated on several threads, each a part of the customers, is
    /// the business generated on one: the same records in the same order, the deal
    /// references of the later parts moved to the deals before them.
    #[test]
    fn the_business_does_not_depend_on_the_number_of_parts() {
        let en = GenConfig::new(3_000, 5);
        let zh = GenConfig::new(2_000, 9)
            .with_zone(Locale::ZhCn.zone())
            .with_end(NaiveDate::from_ymd_opt(2026, 3, 6).unwrap_or(NaiveDate::MIN))
            .with_locale(Locale::ZhCn)
            .with_currency(Locale::ZhCn.currency());
        for config in [en, zh] {
            let one = business_in_parts(&config, 1);
            assert!(
                one.purchases.iter().any(|p| p.deal.is_some())
                    && one.requests.iter().any(|r| r.deal.is_some()),
                "the sample links purchases and requests to deals"
            );
            for parts in [2, 3, 7] {
                let split = business_in_parts(&config, parts);
                assert!(split == one, "{parts} parts, {:?}", config.locale);
            }
        }
        // More parts than customers, and a business without customers.
        let tiny = GenConfig::new(3, 1).with_purchases(7);
        assert_eq!(business_in_parts(&tiny, 8), business_in_parts(&tiny, 1));
        let none = GenConfig::new(0, 1).with_purchases(0);
        assert_eq!(business_in_parts(&none, 2), business_in_parts(&none, 1));
    }
}
