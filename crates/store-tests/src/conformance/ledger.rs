//! Customer search ([`solocrm_core::search`]) and costs: every store finds the same
//! customers in the same order, Chinese and short texts included, never an erased
//! customer by their former data, and keeps costs exactly.

use solocrm_core::{
    Conflict, CostCategory, CostId, Customer, CustomerData, Entity, NewCost, SearchText, Store,
    StoreError, ValidationError,
};

use super::support::{assert_err, at, create, email, eur, label, name, tag, text, usd};

fn q(s: &str) -> SearchText {
    SearchText::parse(s).expect("a search text")
}

/// The names found for `s`, in order.
fn found(store: &dyn Store, s: &str) -> Vec<String> {
    let (items, total) = store.search_customers(&q(s), None).expect("a search");
    assert_eq!(items.len(), total, "{s}: every hit without a limit");
    items.iter().map(|c| c.name().to_string()).collect()
}

fn person(store: &dyn Store, who: &str, f: impl FnOnce(&mut CustomerData)) -> Customer {
    let mut data = CustomerData::new(name(who));
    f(&mut data);
    create(store, data)
}

/// A small book: Latin, Chinese, a company, a city and notes.
fn book(store: &dyn Store) -> Vec<Customer> {
    vec![
        person(store, "Ada Lovelace", |d| {
            d.email = Some(email("ada@Example.com"));
            d.company = Some(label("Analytical Engines Ltd"));
        }),
        person(store, "张伟", |d| {
            d.profile.city = Some(label("上海"));
            d.notes = text("喜欢绿茶，常买礼盒");
        }),
        person(store, "王芳", |d| {
            d.company = Some(label("杭州丝绸有限公司"))
        }),
        person(store, "王芳芳", |_| {}),
        person(store, "Jürgen Müller", |d| {
            d.notes = text("met at the trade fair")
        }),
        person(store, "李娜", |d| d.notes = text("王芳 referred her")),
    ]
}

/// Name, email, company, city and notes are searched; Latin text in any case.
pub fn search_finds_substrings_of_name_email_company_city_and_notes(store: &dyn Store) {
    book(store);
    assert_eq!(found(store, "LOVE"), ["Ada Lovelace"]);
    assert_eq!(found(store, "example.COM"), ["Ada Lovelace"]);
    assert_eq!(found(store, "engines"), ["Ada Lovelace"]);
    assert_eq!(found(store, "TRADE FAIR"), ["Jürgen Müller"]);
    assert_eq!(
        found(store, "MÜLLER"),
        ["Jürgen Müller"],
        "beyond ASCII too"
    );
    assert_eq!(
        found(store, "ü"),
        ["Jürgen Müller"],
        "one cased letter beyond ASCII"
    );
    assert!(found(store, "nobody at all").is_empty());
}

/// Chinese substrings of one, two and three or more characters are found, in any
/// field.
pub fn search_finds_chinese_substrings_of_any_length(store: &dyn Store) {
    book(store);
    assert_eq!(found(store, "伟"), ["张伟"], "one character");
    assert_eq!(found(store, "上海"), ["张伟"], "two characters, the city");
    assert_eq!(found(store, "绿茶"), ["张伟"], "two characters, the notes");
    assert_eq!(
        found(store, "常买礼盒"),
        ["张伟"],
        "four characters, the index"
    );
    assert_eq!(found(store, "丝绸有限"), ["王芳"], "the company");
}

/// The exact name first, then names that contain the text, then other fields; each
/// group by name, and a limit keeps the first and still counts them all.
pub fn search_ranks_the_exact_name_first_then_by_name(store: &dyn Store) {
    book(store);
    assert_eq!(found(store, "王芳"), ["王芳", "王芳芳", "李娜"]);
    let (first, total) = store
        .search_customers(&q("王芳"), Some(1))
        .expect("a search");
    assert_eq!(total, 3);
    assert_eq!(
        first
            .iter()
            .map(|c| c.name().to_string())
            .collect::<Vec<_>>(),
        ["王芳"]
    );
}

/// An edit is searchable at once: the new name is found, the old one no more.
pub fn search_follows_edits_at_once(store: &dyn Store) {
    let c = book(store).remove(1);
    let mut data = c.data().clone();
    data.name = name("张伟明");
    data.profile.city = Some(label("北京"));
    store.update_customer(c.id(), data).expect("an edit");
    assert_eq!(found(store, "张伟明"), ["张伟明"]);
    assert!(found(store, "上海").is_empty());
    assert_eq!(found(store, "北京"), ["张伟明"]);
}

/// An erased customer is found by nothing they were: not by name, email, company,
/// city or notes, long or short.
pub fn an_erased_customer_is_never_found(store: &dyn Store) {
    let people = book(store);
    store
        .erase_customer(people[1].id(), at(30))
        .expect("erased");
    store
        .erase_customer(people[0].id(), at(30))
        .expect("erased");
    for s in [
        "张伟",
        "伟",
        "上海",
        "绿茶",
        "喜欢绿茶",
        "Lovelace",
        "ada@",
        "Engines",
    ] {
        assert!(found(store, s).is_empty(), "{s} finds an erased customer");
    }
    assert!(found(store, "erased").is_empty(), "nor by the placeholder");
    assert_eq!(found(store, "王芳"), ["王芳", "王芳芳", "李娜"]);
}

/// A text that most customers match (more candidates than are read one by one) gives
/// the same ranked answer.
pub fn search_with_many_hits_ranks_them_all(store: &dyn Store) {
    for i in 1..=520 {
        person(store, &format!("客户{i}"), |_| {});
    }
    person(store, "客户", |_| {});
    person(store, "王芳", |d| d.notes = text("老客户"));
    let (first, total) = store
        .search_customers(&q("客户"), Some(4))
        .expect("a search");
    assert_eq!(total, 522);
    assert_eq!(
        first
            .iter()
            .map(|c| c.name().to_string())
            .collect::<Vec<_>>(),
        ["客户", "客户1", "客户10", "客户100"]
    );
    let (all, _) = store.search_customers(&q("客户"), None).expect("a search");
    assert_eq!(
        all.last().map(|c| c.name().to_string()),
        Some("王芳".to_owned())
    );
    let (fives, total) = store
        .search_customers(&q("户5"), Some(2))
        .expect("a search");
    assert_eq!(total, 32, "客户5, 客户50–59 and 客户500–520");
    assert_eq!(
        fives
            .iter()
            .map(|c| c.name().to_string())
            .collect::<Vec<_>>(),
        ["客户5", "客户50"]
    );
}

fn cost(day: u32, minor: i64, category: CostCategory, channel: Option<&str>) -> NewCost {
    NewCost {
        at: at(day),
        amount: eur(minor),
        category,
        channel: channel.map(tag),
        note: Some(text("朋友圈广告")),
    }
}

/// A recorded cost reads back exactly, with increasing ids; the list is by time then
/// id.
pub fn costs_read_back_by_time_then_id(store: &dyn Store) {
    let a = store
        .record_cost(cost(5, 12_345, CostCategory::Marketing, Some("wechat")))
        .expect("a cost");
    let b = store
        .record_cost(cost(2, 999, CostCategory::Tools, None))
        .expect("a cost");
    let c = store
        .record_cost(cost(5, 1, CostCategory::Other, None))
        .expect("a cost");
    assert_eq!(a.id(), CostId::new(1));
    assert_eq!(b.id(), CostId::new(2));
    assert_eq!(a.amount(), eur(12_345));
    assert_eq!(a.channel().map(|t| t.as_str()), Some("wechat"));
    assert_eq!(a.note().map(|t| t.as_str()), Some("朋友圈广告"));
    assert!(!a.is_void());
    let all = store.costs().expect("the costs");
    assert_eq!(all, vec![b, a, c]);
}

/// Zero, a negative amount or another currency is refused and nothing is stored.
pub fn a_cost_of_zero_or_in_another_currency_is_refused(store: &dyn Store) {
    assert_err!(
        store.record_cost(cost(1, 0, CostCategory::Marketing, None)),
        StoreError::Validation(ValidationError::NonPositiveAmount { .. })
    );
    assert_err!(
        store.record_cost(cost(1, -5, CostCategory::Marketing, None)),
        StoreError::Validation(ValidationError::NonPositiveAmount { .. })
    );
    let mut foreign = cost(1, 100, CostCategory::Tools, None);
    foreign.amount = usd(100);
    assert_err!(
        store.record_cost(foreign),
        StoreError::Validation(ValidationError::CurrencyMismatch { .. })
    );
    assert!(store.costs().expect("the costs").is_empty());
}

/// A voided cost stays, with when and why; voiding it again is refused and changes
/// nothing; an unknown cost is not found.
pub fn a_voided_cost_stays_and_is_voided_once(store: &dyn Store) {
    let c = store
        .record_cost(cost(3, 5_000, CostCategory::Marketing, Some("douyin")))
        .expect("a cost");
    let v = store
        .void_cost(c.id(), at(4), label("重复录入"))
        .expect("voided");
    assert_eq!(
        v.voided().map(|v| (v.at, v.reason.as_str())),
        Some((at(4), "重复录入"))
    );
    assert_err!(
        store.void_cost(c.id(), at(5), label("again")),
        StoreError::Conflict(Conflict::CostAlreadyVoid { .. })
    );
    assert_eq!(store.costs().expect("the costs"), vec![v]);
    assert_err!(
        store.void_cost(CostId::new(99), at(5), label("x")),
        StoreError::NotFound {
            entity: Entity::Cost,
            ..
        }
    );
}
