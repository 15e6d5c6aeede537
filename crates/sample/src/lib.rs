//! # solocrm-sample
//!
//! Seeded synthetic data: a deterministic generator of a realistic one-person business,
//! for the CLI's `demo`, tests and benchmarks. Everything is at the crate root
//! (formerly `solocrm_store_tests::generate`); the random numbers are in
//! [`rng`].
//!
//! ```
//! use solocrm_core::{Crm, Currency, Store};
//! use solocrm_sample::{GenConfig, business, populate, purchase_log};
//! use solocrm_store_memory::MemoryStore;
//!
//! // A tiny book: 20 customers, exactly 60 purchases, seed 7, in euros.
//! let config = GenConfig::new(20, 7).with_purchases(60);
//! let store = Crm::new(MemoryStore::new(Currency::EUR));
//! let created = populate(&store, &config)?;
//!
//! assert_eq!(store.count_customers()?, 20);
//! assert_eq!(created.counts.purchases, 60);
//! assert_eq!(created.counts, business(&config).counts());
//! // The store's own purchase log is the generator's, up to the ids the store assigned.
//! let mut log = purchase_log(&config);
//! log.customers = created.customers.clone();
//! assert_eq!(store.purchase_log()?, log);
//! # Ok::<(), solocrm_core::StoreError>(())
//! ```
//!
//! Three entry points, from fast to complete:
//!
//! - [`purchase_log`]: only the purchases, as the columnar [`PurchaseLog`] the metrics
//!   read, without building any store (10 M rows over 1 M customers in well under a
//!   second on two cores);
//! - [`business`]: the whole business as plain records ready to insert: customers with
//!   contact data and profiles, purchases and refunds, interactions, surveys, deals,
//!   service requests, tasks, loyalty points, lifecycle stage changes and consents;
//! - [`populate`]: inserts [`business`] into any [`Store`], in practice a
//!   [`Crm`](solocrm_core::Crm) over one of the backends (and [`insert`] inserts a
//!   [`Business`] you built or edited), every record its own transaction;
//!   [`populate_bulk`] (and [`insert_bulk`], [`insert_into`]) the same records through
//!   the same operations in one bulk transaction of a `Crm`, reporting progress, as
//!   `solocrm demo` does.
//!
//! The purchases of [`business`] are exactly the rows of [`purchase_log`] for the same
//! configuration, in the same order, so after [`populate`] into an empty store, the
//! store's own [`Store::purchase_log`] equals [`purchase_log`].
//!
//! # Determinism
//!
//! The same [`GenConfig`] gives bit-identical output on every platform, with any number
//! of threads, and across dependency upgrades: the random numbers come from a generator
//! written here ([`rng`]: SplitMix64 seeding xoshiro256**), not from the `rand` crate
//! whose streams may change between versions, and the logarithms and exponentials the
//! sampling needs are computed with IEEE basic operations only, not the platform's math
//! library. Every customer draws from their own streams, so work can be split between
//! threads freely. A pinned hash in the tests guards the stream; changing the model
//! changes it on purpose only.
//!
//! # The model
//!
//! - **Acquisition.** Customers become known over the whole history with a growing
//!   rate (three times as many new customers a day at the end as at the start), at
//!   daytime hours.
//! - **Who buys how often.** 8 % never buy (prospects and leads). Half of the buyers
//!   buy exactly once. Repeat buyers have their own purchase rate, drawn from a
//!   power law (Pareto with exponent 1.5 from 2 purchases a year, capped at 150), and
//!   an active lifetime after their first purchase (exponential, mean 18 months), after
//!   which they lapse (churn); 15 % of the lapsed come back after four months or more
//!   and stay for the rest of the history.
//! - **Exact total.** Every buyer gets their first purchase, and the remaining
//!   purchases are shared out in proportion to rate × active time by systematic
//!   sampling, so each count is the floor or the ceiling of its expectation and the
//!   total is exactly [`GenConfig::purchases`]. (With fewer purchases than buyers, the
//!   purchases are spread one each.) The result: most customers buy once or twice,
//!   the median is 1, and a heavy tail buys hundreds of times.
//! - **Rhythm.** The first purchase follows the first contact (at once for 35 %,
//!   otherwise after an exponential wait of 5 days on average). The others follow a
//!   renewal process with Gamma(2) gaps conditioned on the count, so every customer has
//!   their own mean gap (active time ÷ count) and buys more regularly than a Poisson
//!   process would; a comeback customer's purchases are split between both periods.
//! - **Amounts.** Each customer has a typical order (log-normal, median 40 major units,
//!   σ = 0.6), single orders vary log-normally around it (σ ≈ 0.45), 1.5 % of orders
//!   are free (zero), and in two-decimal currencies a quarter of the prices end in .99
//!   and a sixth are whole. Amounts are whole minor units.
//! - **The rest** ([`business`]): lifecycle stages follow the purchases as the policy
//!   would (first purchase, repeat, loyal after 8 purchases, at risk and churned after
//!   long silences relative to the customer's own rhythm, won back); 1.5 % of paid
//!   purchases are refunded (fully or partly) and some complaints end in a refund;
//!   interactions cluster around purchases; NPS answers lean positive; deals close won
//!   (linked to the purchase they became), lost, or are still open; loyalty members earn
//!   a point per major unit and redeem vouchers.
//!
//! Times are whole seconds, all in `[start, as_of)`.
#![deny(missing_docs)]

mod business;
pub mod lines;
mod log;
mod populate;
mod report;
pub mod rng;
mod tables;

use chrono::{DateTime, Months, NaiveDate, Utc};
use solocrm_core::{BusinessZone, Currency, PurchaseLog};

pub use business::{
    Business, GenConsent, GenDeal, GenInteraction, GenPoints, GenPurchase, GenRefund, GenRequest,
    GenStageChange, GenSurvey, GenTask, business,
};
pub use populate::{Counts, Populated, insert, insert_bulk, insert_into, populate, populate_bulk};

#[cfg(doc)]
use solocrm_core::Store;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    /// The number of customers (all of them in the log, with ids `1..=customers`).
    pub customers: u32,
    /// The exact total number of purchases to generate.
    pub purchases: u64,
    /// The seed: the same configuration gives the same data.
    pub seed: u64,
    /// The history starts here.
    pub start: DateTime<Utc>,
    /// Nothing is generated at or after this instant.
    pub as_of: DateTime<Utc>,
    /// The currency of every amount.
    pub currency: Currency,
    /// The language and country of the names, places, products and phrases.
    pub locale: Locale,
    /// The shop's business time zone: the times of day of purchases, first contacts and
    /// task completions follow a shop's day there, and the days of due dates, expected
    /// closes and birthday reminders are its days. UTC by default.
    pub zone: BusinessZone,
}

/// The kind of shop the generator builds: the language and country of its customers'
/// names, cities, phone numbers and mail domains, of its products and of everything it
/// writes. The locale does not change the purchases: [`purchase_log`] (times, buyers,
/// amounts in minor units) is the same in every locale for the same seed, history and
/// [`zone`](GenConfig::zone) (the demo puts a Chinese shop in its own zone,
/// [`Locale::zone`], so its times of day are Beijing's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    /// A European shop (mostly German-speaking customers), in English: the original
    /// demo, in EUR.
    #[default]
    En,
    /// A Chinese shop: Chinese names (family name first), mainland cities, `+86` mobile
    /// numbers, Chinese mail domains, products and phrases, WeChat as the first
    /// acquisition channel (`wechat`), in CNY.
    ZhCn,
}

impl Locale {
    /// The locale's code as the CLI spells it: `en` or `zh-CN`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
        }
    }

    /// The currency such a shop keeps its books in: EUR or CNY.
    pub fn currency(self) -> Currency {
        match self {
            Locale::En => Currency::EUR,
            Locale::ZhCn => Currency::CNY,
        }
    }

    /// The IANA time zone such a shop lives in: `Europe/Berlin` or `Asia/Shanghai`
    /// (informative; the zone the demo's books count their days in is [`Locale::zone`]).
    pub fn time_zone(self) -> &'static str {
        match self {
            Locale::En => "Europe/Berlin",
            Locale::ZhCn => "Asia/Shanghai",
        }
    }

    /// The business time zone the demo's books of this locale are kept in: UTC for
    /// `en` (the original demo, whose data and reports stay what they were) and
    /// `Asia/Shanghai` for `zh-CN`.
    pub fn zone(self) -> BusinessZone {
        match self {
            Locale::En => BusinessZone::UTC,
            Locale::ZhCn => BusinessZone::parse("Asia/Shanghai").unwrap_or(BusinessZone::UTC),
        }
    }

    /// The holidays a shop of this locale greets its customers for in `year`, as
    /// (name, date). For `zh-CN` these are 春节 (Spring Festival) and 中秋节
    /// (Mid-Autumn Festival), whose dates follow the lunar calendar
    /// ([`solocrm_core::holiday::lunar_date`], years 1900–2100; empty outside); for
    /// `en`, Christmas.
    pub fn holidays(self, year: i32) -> Vec<(&'static str, NaiveDate)> {
        match self {
            Locale::En => NaiveDate::from_ymd_opt(year, 12, 25)
                .map(|d| vec![("Christmas", d)])
                .unwrap_or_default(),
            Locale::ZhCn => [("春节", 1, 1), ("中秋节", 8, 15)]
                .into_iter()
                .filter_map(|(name, month, day)| {
                    solocrm_core::holiday::HolidayRule::Lunar {
                        month,
                        day,
                        leap: false,
                    }
                    .dates_in(year)
                    .first()
                    .map(|d| (name, *d))
                })
                .collect(),
        }
    }
}

/// How long the history of [`GenConfig::with_end`] is.
const HISTORY_MONTHS: u32 = 36;

/// 2023-01-01T00:00:00Z.
const DEFAULT_START: i64 = 1_672_531_200;
/// 2026-01-01T00:00:00Z.
const DEFAULT_AS_OF: i64 = 1_767_225_600;

impl GenConfig {
    /// `customers` with on average 10 purchases each, `seed`, history
    /// 2023-01-01..2026-01-01 UTC (the same as [`with_end`](Self::with_end) of
    /// 2025-12-31), EUR, [`Locale::En`].
    pub fn new(customers: u32, seed: u64) -> Self {
        let at = |secs| DateTime::from_timestamp(secs, 0).expect("a fixed, valid date");
        GenConfig {
            customers,
            purchases: u64::from(customers) * 10,
            seed,
            start: at(DEFAULT_START),
            as_of: at(DEFAULT_AS_OF),
            currency: Currency::EUR,
            locale: Locale::En,
            zone: BusinessZone::UTC,
        }
    }

    /// The same with a history of three years that ends with the day `end` in the
    /// config's [`zone`](GenConfig::zone) (set it first, with
    /// [`with_zone`](Self::with_zone)): from the start of the day three years (36
    /// months) before the day after `end`, to just before the day after `end`.
    /// `2025-12-31` gives the history of [`new`](Self::new).
    ///
    /// # Panics
    ///
    /// If `end` is the last day chrono can represent.
    #[must_use]
    pub fn with_end(self, end: NaiveDate) -> Self {
        let after = end
            .succ_opt()
            .expect("the end of the history has a next day");
        let start = after
            .checked_sub_months(Months::new(HISTORY_MONTHS))
            .expect("three years before a representable day is representable");
        let zone = self.zone;
        self.with_history(zone.start_of(start), zone.start_of(after))
    }

    /// The same in another business time zone (see [`GenConfig::zone`]); the history's
    /// bounds stay as they are.
    #[must_use]
    pub fn with_zone(mut self, zone: BusinessZone) -> Self {
        self.zone = zone;
        self
    }

    /// The same in another [`Locale`] (the currency stays: see [`Locale::currency`]).
    #[must_use]
    pub fn with_locale(mut self, locale: Locale) -> Self {
        self.locale = locale;
        self
    }

    /// The same with exactly `purchases` purchases.
    #[must_use]
    pub fn with_purchases(mut self, purchases: u64) -> Self {
        self.purchases = purchases;
        self
    }

    /// The same with another history: from `start` to just before `as_of`.
    #[must_use]
    pub fn with_history(mut self, start: DateTime<Utc>, as_of: DateTime<Utc>) -> Self {
        self.start = start;
        self.as_of = as_of;
        self
    }

    /// The same in another currency.
    #[must_use]
    pub fn with_currency(mut self, currency: Currency) -> Self {
        self.currency = currency;
        self
    }
}

/// Fast path for benchmarks: a columnar log of exactly `config.purchases` rows over
/// `config.customers` customers with ids `1..=customers` (all in `customers`,
/// ascending), rows sorted by time, then by customer, amounts in minor units, without
/// building any store. Uses all cores for large logs; the result does not depend on
/// their number.
///
/// # Panics
///
/// If purchases are asked for with no customers or with `as_of` not after `start`, or
/// if the history in seconds times the number of customers exceeds 2⁶⁴.
pub fn purchase_log(config: &GenConfig) -> PurchaseLog {
    let plan = log::plan(config);
    log::log(config, &plan).in_zone(config.zone)
}
