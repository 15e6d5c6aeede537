//! The view models, computed from one snapshot of a small book.

use chrono::{NaiveDate, TimeZone, Utc};
use solocrm_app::views::Dashboard;
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{
    Currency, CustomerData, LifecycleStage, Money, NewCustomer, NewPurchase, Period, PersonName,
    ReportConfig, StageReason, Store,
};

#[test]
fn the_dashboard_counts_stages_and_sums_revenue_from_one_snapshot() {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    let at = |d: u32| {
        Utc.with_ymd_and_hms(2026, 3, d, 10, 0, 0)
            .single()
            .expect("valid")
    };
    let mut ids = Vec::new();
    for name in ["王芳", "李雷", "韩梅梅"] {
        let c = books
            .create_customer(NewCustomer::new(
                CustomerData::new(PersonName::parse(name).expect("name")),
                at(1),
            ))
            .expect("customer");
        ids.push(c.id());
    }
    books
        .change_stage(ids[0], LifecycleStage::New, at(2), StageReason::manual())
        .expect("stage");
    for (i, amount) in [(0, "88.00"), (0, "12.50"), (1, "100.00")] {
        books
            .record_purchase(NewPurchase::new(
                ids[i],
                at(3),
                Money::parse(amount, Currency::CNY).expect("money"),
            ))
            .expect("purchase");
    }
    books.erase_customer(ids[2], at(4)).expect("erase");

    let period = Period::new(
        NaiveDate::from_ymd_opt(2026, 3, 1).expect("date"),
        NaiveDate::from_ymd_opt(2026, 3, 31).expect("date"),
    )
    .expect("period");
    let view = books
        .read(|r| Ok(Dashboard::load(&r, period, &ReportConfig::default())))
        .expect("read")
        .expect("dashboard");
    assert_eq!(view.revenue, "200.50");
    assert_eq!(view.customers_by_stage.get("new"), Some(&1));
    assert_eq!(
        view.customers_by_stage.get("prospect"),
        Some(&1),
        "the erased one is not counted"
    );
    assert_eq!(view.customers_by_stage.values().sum::<usize>(), 2);
    assert_eq!(view.stages.len(), LifecycleStage::ALL.len());
    let json = serde_json::to_value(&view).expect("json");
    assert_eq!(json["revenue"], "200.50");
    assert_eq!(json["period"]["start"], "2026-03-01");
    assert!(
        json.get("stages").is_none(),
        "the table form stays out of the JSON"
    );
}

#[test]
fn a_customer_page_holds_the_export_and_the_balance_of_one_snapshot() {
    use solocrm_app::views::CustomerPage;
    use solocrm_core::{NewPointsEntry, PointsKind};

    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    let at = Utc
        .with_ymd_and_hms(2026, 3, 8, 10, 0, 0)
        .single()
        .expect("valid");
    let c = books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("王芳").expect("name")),
            at,
        ))
        .expect("customer");
    for points in [120, 30] {
        books
            .post_points(NewPointsEntry::new(c.id(), at, PointsKind::Earn, points).expect("entry"))
            .expect("points");
    }
    let page = books
        .read(|r| CustomerPage::load(&r, c.id()))
        .expect("page");
    assert_eq!(page.points_balance, 150);
    assert_eq!(page.export.points.len(), 2);
    let json = serde_json::to_value(&page).expect("json");
    assert_eq!(json["points_balance"], 150);
    assert_eq!(json["customer"]["name"], "王芳");
    assert!(
        books
            .read(|r| CustomerPage::load(&r, solocrm_core::CustomerId::new(99)))
            .is_err()
    );
}
