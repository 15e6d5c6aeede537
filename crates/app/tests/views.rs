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
    // The first customer was moved by hand, the second by their purchase (the
    // books' lifecycle moves by itself); the erased prospect is not counted.
    assert_eq!(view.customers_by_stage.get("new"), Some(&2));
    assert_eq!(
        view.customers_by_stage
            .get("prospect")
            .copied()
            .unwrap_or(0),
        0
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

#[test]
fn the_pipeline_board_groups_open_deals_by_stage_with_exact_weighted_totals() {
    use rust_decimal::Decimal;
    use solocrm_app::views::PipelineBoard;
    use solocrm_core::{DealStage, Label, NewDeal, StageProbabilities};

    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    let at = |d: u32| {
        Utc.with_ymd_and_hms(2026, 4, d, 9, 0, 0)
            .single()
            .expect("valid")
    };
    let c = books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("陈静").expect("name")),
            at(1),
        ))
        .expect("customer");
    let deal = |title: &str, value: &str, day: u32| {
        books
            .create_deal(NewDeal::new(
                c.id(),
                Label::parse(title).expect("label"),
                Money::parse(value, Currency::CNY).expect("money"),
                at(day),
            ))
            .expect("deal")
    };
    let a = deal("官网改版", "10000.00", 1);
    let b = deal("年度维护", "3333.33", 5);
    let won = deal("培训", "500.00", 2);
    books
        .move_deal(b.id(), DealStage::Proposal, at(6))
        .expect("move");
    books
        .move_deal(won.id(), DealStage::Won, at(3))
        .expect("win");

    let probabilities = StageProbabilities::new([
        Decimal::new(10, 2),
        Decimal::new(20, 2),
        Decimal::new(40, 2),
        Decimal::new(60, 2),
        Decimal::new(80, 2),
    ])
    .expect("probabilities");
    let board = books
        .read(|r| PipelineBoard::load(&r, at(11), &probabilities))
        .expect("board");
    assert_eq!(board.columns.len(), DealStage::OPEN.len());
    let first = &board.columns[0];
    assert_eq!(first.stage, DealStage::NeedIdentified);
    assert_eq!(first.cards.len(), 1, "the won deal is not on the board");
    assert_eq!(first.cards[0].deal, a.id());
    assert_eq!(first.cards[0].days_in_stage, 10);
    assert_eq!(first.cards[0].customer_name, "陈静");
    assert_eq!(
        first.weighted,
        Money::parse("1000.00", Currency::CNY).expect("money")
    );
    let proposal = board
        .columns
        .iter()
        .find(|c| c.stage == DealStage::Proposal)
        .expect("a proposal column");
    assert_eq!(proposal.cards.len(), 1);
    assert_eq!(proposal.cards[0].days_in_stage, 5);
    // 3333.33 × 0.60 = 1999.998, rounded to the fen (half to even).
    assert_eq!(
        proposal.weighted,
        Money::parse("2000.00", Currency::CNY).expect("money")
    );
}

#[test]
fn the_care_list_names_the_customers_it_lists() {
    use solocrm_app::views::CareList;
    use solocrm_core::CareConfig;

    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    let created = Utc
        .with_ymd_and_hms(2026, 1, 2, 9, 0, 0)
        .single()
        .expect("valid");
    let data = CustomerData::new(PersonName::parse("刘洋").expect("name"))
        .with_birthday(NaiveDate::from_ymd_opt(1990, 5, 3).expect("date"));
    let c = books
        .create_customer(NewCustomer::new(data, created))
        .expect("customer");
    let as_of = Utc
        .with_ymd_and_hms(2026, 5, 1, 9, 0, 0)
        .single()
        .expect("valid");
    let list = books
        .read(|r| CareList::load(&r, as_of, 7, &CareConfig::default()))
        .expect("care list");
    assert_eq!(
        list.as_of,
        NaiveDate::from_ymd_opt(2026, 5, 1).expect("date")
    );
    let birthday = list
        .entries
        .iter()
        .find(|e| e.item.date == NaiveDate::from_ymd_opt(2026, 5, 3).expect("date"))
        .expect("the birthday in the window");
    assert_eq!(birthday.item.customer, Some(c.id()));
    assert_eq!(birthday.customer_name.as_deref(), Some("刘洋"));
    let json = serde_json::to_value(&list).expect("json");
    assert_eq!(json["entries"][0]["customer_name"], "刘洋");
}
