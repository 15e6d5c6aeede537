//! The customer summary convention and CLV.

use chrono::{NaiveDate, TimeZone, Utc};
use solocrm_core::{Currency, CustomerId, Money, NewPurchase, Purchase, PurchaseId, PurchaseLog};
use solocrm_models::{
    BgNbd, ClvOptions, CustomerSummary, GammaGamma, ModelError, PurchaseModel, SpendData,
    SummaryOptions, TimeUnit, clv, clv_money,
};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn at(y: i32, m: u32, d: u32, h: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("time")
        .timestamp()
}

/// Customer 0: three purchases on 1 Jan (merge), one on 11 Jan, one on 31 Jan (the
/// calibration end, included), one on 1 Feb (held out). Customer 1: one purchase on
/// 20 Jan. Customer 2: never bought. Customer 3: first bought on 5 Feb (held out).
fn log() -> PurchaseLog {
    let ids = (1..=4).map(CustomerId::new).collect();
    let mut log = PurchaseLog::with_customers(Currency::EUR, ids);
    log.push(0, at(2026, 1, 11, 9), 1_000);
    log.push(0, at(2026, 1, 1, 9), 500);
    log.push(0, at(2026, 1, 1, 23), 250);
    log.push(0, at(2026, 1, 1, 0), 250);
    log.push(0, at(2026, 1, 31, 23), 3_001);
    log.push(0, at(2026, 2, 1, 0), 99_999);
    log.push(1, at(2026, 1, 20, 12), 4_200);
    log.push(3, at(2026, 2, 5, 12), 700);
    log
}

#[test]
fn summary_follows_the_convention() {
    let mut opts = SummaryOptions::new(day(2026, 1, 31), TimeUnit::Day);
    opts.holdout_end = Some(day(2026, 2, 28));
    let s = CustomerSummary::from_log(&log(), &opts).expect("summary");
    assert_eq!(s.customers, vec![CustomerId::new(1), CustomerId::new(2)]);
    assert_eq!(s.frequency, vec![2, 0]);
    assert_eq!(s.recency_days, vec![30, 0]);
    assert_eq!(s.t_days, vec![30, 11]);
    // Repeat days: 10.00 and 30.01 → mean 20.005; the first day's 10.00 is excluded.
    assert_eq!(s.repeat_total_minor, vec![4_001, 0]);
    assert!((s.monetary(0) - 20.005).abs() < 1e-12);
    assert_eq!(s.monetary(1), 0.0);
    assert_eq!(s.holdout_frequency, vec![1, 0]);
    // Weeks are days / 7.
    let w = CustomerSummary::from_log(
        &log(),
        &SummaryOptions::new(day(2026, 1, 31), TimeUnit::Week),
    )
    .expect("summary");
    assert!((w.t(0) - 30.0 / 7.0).abs() < 1e-15);
    assert!((w.recency(0) - 30.0 / 7.0).abs() < 1e-15);
}

#[test]
fn purchases_after_the_calibration_end_never_leak_in() {
    let early = CustomerSummary::from_log(
        &log(),
        &SummaryOptions::new(day(2026, 1, 30), TimeUnit::Day),
    )
    .expect("summary");
    // The 31 Jan purchase is now held out.
    assert_eq!(early.frequency, vec![1, 0]);
    assert_eq!(early.recency_days, vec![10, 0]);
    assert_eq!(early.t_days, vec![29, 10]);
    assert_eq!(early.repeat_total_minor, vec![1_000, 0]);
    // A customer whose first purchase is on the end date has T = 0.
    let on_end = CustomerSummary::from_log(
        &log(),
        &SummaryOptions::new(day(2026, 1, 20), TimeUnit::Day),
    )
    .expect("summary");
    assert_eq!(on_end.t_days, vec![19, 0]);
}

#[test]
fn summary_from_purchases_equals_summary_from_the_log() {
    let mut purchases = Vec::new();
    let l = log();
    for k in 0..l.len() {
        let when = Utc.timestamp_opt(l.at[k], 0).single().expect("time");
        let p = NewPurchase::new(
            l.customers[l.customer[k] as usize],
            when,
            Money::from_minor(l.amount[k], Currency::EUR),
        );
        purchases.push(Purchase::new(PurchaseId::new(k as u64 + 1), p));
    }
    let opts = SummaryOptions::new(day(2026, 1, 31), TimeUnit::Week);
    let a = CustomerSummary::from_purchases(&purchases, &opts).expect("summary");
    let b = CustomerSummary::from_log(&l, &opts).expect("summary");
    // The log also lists the customers who never bought; the rows agree.
    assert_eq!(a.customers, b.customers);
    assert_eq!(a.frequency, b.frequency);
    assert_eq!(a.recency_days, b.recency_days);
    assert_eq!(a.t_days, b.t_days);
    assert_eq!(a.repeat_total_minor, b.repeat_total_minor);
}

#[test]
fn collapsed_data_counts_identical_customers_once() {
    let ids = (1..=5).map(CustomerId::new).collect();
    let mut log = PurchaseLog::with_customers(Currency::EUR, ids);
    for c in 0..4 {
        log.push(c, at(2026, 1, 1, 10), 100);
        log.push(c, at(2026, 1, 5, 10), 100);
    }
    log.push(4, at(2026, 1, 2, 10), 100);
    let s = CustomerSummary::from_log(&log, &SummaryOptions::new(day(2026, 1, 10), TimeUnit::Day))
        .expect("summary");
    let data = s.count_data().expect("data");
    assert_eq!(data.rows(), 2);
    assert_eq!(data.customers(), 5.0);
    let rows: Vec<_> = data.iter().collect();
    assert_eq!(rows, vec![(0, 0.0, 8.0, 1.0), (1, 4.0, 9.0, 4.0)]);
}

#[test]
fn gamma_gamma_excludes_and_counts_non_positive_spend() {
    let d = SpendData::new(&[0, 1, 2, 3, 1], &[0.0, 0.0, 12.5, -1.0, 7.0]).expect("data");
    assert_eq!(d.customers(), 2.0);
    assert_eq!(d.excluded(), 2);
    assert!(matches!(
        SpendData::new(&[0, 2], &[0.0, 0.0]),
        Err(ModelError::NoRepeatCustomers { excluded: 1 })
    ));
    assert!(SpendData::new(&[1], &[f64::NAN]).is_err());
}

#[test]
fn clv_is_the_discounted_sum_of_monthly_increments() {
    let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    let gg = GammaGamma::new(6.25, 3.74, 15.44).expect("valid");
    let (x, tx, t, m) = (4, 30.0, 38.0, 42.0);
    let opts = ClvOptions {
        horizon_months: 3,
        discount_monthly: 0.02,
        margin: 0.5,
        unit: TimeUnit::Week,
    };
    let spend = gg.conditional_expected_spend(x, m).expect("spend");
    assert!((spend - 6.25 * (15.44 + 4.0 * 42.0) / (6.25 * 4.0 + 3.74 - 1.0)).abs() < 1e-12);
    let e = |months: f64| bg.expected_purchases(x, tx, t, months * 4.345).expect("E");
    let want = 0.5
        * spend
        * (e(1.0) / 1.02
            + (e(2.0) - e(1.0)) / 1.02_f64.powi(2)
            + (e(3.0) - e(2.0)) / 1.02_f64.powi(3));
    let got = clv(&bg, &gg, x, tx, t, m, &opts).expect("clv");
    assert!((got - want).abs() < 1e-12 * want, "{got} vs {want}");
    assert_eq!(
        clv_money(got, Currency::EUR)
            .expect("money")
            .amount()
            .scale(),
        2
    );
    let bad = ClvOptions {
        margin: 2.0,
        ..opts
    };
    assert!(clv(&bg, &gg, x, tx, t, m, &bad).is_err());
}

#[test]
fn batch_predictions_equal_the_per_customer_ones() {
    use solocrm_models::{MbgNbd, ParetoNbd, Simulate, predict, simulate_purchase_log};
    let start = day(2026, 1, 1);
    let bg = BgNbd::new(0.243, 4.414 * 7.0, 0.793, 2.426).expect("valid");
    let log = simulate_purchase_log(&bg, None, 3_000, start, 84, 189, Currency::EUR, 5);
    let s = CustomerSummary::from_log(
        &log,
        &SummaryOptions::new(start + chrono::Days::new(189), TimeUnit::Week),
    )
    .expect("summary");
    fn check<M: PurchaseModel + Simulate + Sync>(m: &M, s: &CustomerSummary) {
        let p = predict(m, s, 39.0).expect("predictions");
        assert_eq!(p.p_alive.len(), s.len());
        for i in 0..s.len() {
            let (x, tx, t) = (s.frequency[i], s.recency(i), s.t(i));
            assert_eq!(p.p_alive[i], m.p_alive(x, tx, t).expect("p"));
            let e = m.expected_purchases(x, tx, t, 39.0).expect("e");
            assert!((p.expected_purchases[i] - e).abs() <= 1e-14 * e.max(1e-300));
        }
    }
    check(&BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid"), &s);
    check(&MbgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid"), &s);
    check(
        &ParetoNbd::new(0.553, 10.578, 0.606, 11.669).expect("valid"),
        &s,
    );
}

/// The summary counts the days of the log's business time zone: in Beijing (UTC+8,
/// no summer time) it equals the UTC summary of the log moved eight hours later, and
/// the example log's "23:00 UTC on 31 January" is a purchase of 1 February there.
#[test]
fn the_summary_counts_the_days_of_the_logs_zone() {
    let beijing = solocrm_core::BusinessZone::parse("Asia/Shanghai").expect("zone");
    let zoned = log().in_zone(beijing);
    let mut moved = log();
    for t in &mut moved.at {
        *t += 8 * 3600;
    }
    let mut opts = SummaryOptions::new(day(2026, 1, 31), TimeUnit::Day);
    opts.holdout_end = Some(day(2026, 2, 28));
    let a = CustomerSummary::from_log(&zoned, &opts).expect("summary");
    let b = CustomerSummary::from_log(&moved, &opts).expect("summary");
    assert_eq!(a, b);
    let utc = CustomerSummary::from_log(&log(), &opts).expect("summary");
    assert_ne!(a, utc);
    // Customer 0 in Beijing: purchase days 1 Jan (00:00 and 09:00 UTC), 2 Jan (23:00
    // UTC on the 1st), 11 Jan; 31 Jan 23:00 UTC and 1 Feb 00:00 UTC fall on 1 Feb.
    assert_eq!(a.frequency[0], 2);
    assert_eq!(a.recency_days[0], 10);
    assert_eq!(a.t_days[0], 30);
    assert_eq!(a.holdout_frequency[0], 1);
}
