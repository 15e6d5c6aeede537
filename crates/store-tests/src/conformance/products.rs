//! The product catalogue and purchase lines (issue 18): products by SKU, lines read
//! back in order, a purchase amount that is exactly the sum of its lines, a product
//! named by lines archived rather than deleted, and erasure leaving the lines of an
//! erased customer's purchases as they were (they hold no personal data).

use solocrm_core::ops::ProductRemoval;
use solocrm_core::product::{Product, ProductEdit, PurchaseLine, Sku};
use solocrm_core::{
    ActivityQuery, Conflict, Entity, NewPurchase, PurchaseEdit, Store, StoreError, ValidationError,
};

use super::support::{assert_err, at, customer, eur, label};

fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("a valid SKU")
}

fn product(code: &str, name: &str, category: Option<&str>, price: i64) -> Product {
    let mut p = Product::new(sku(code), label(name), eur(price));
    p.category = category.map(label);
    p
}

fn line(code: &str, quantity: u32, unit: i64, discount: Option<i64>) -> PurchaseLine {
    let mut l = PurchaseLine::new(sku(code), quantity, eur(unit));
    l.discount = discount.map(eur);
    l
}

/// A tea shop's catalogue: two teas and a cup.
fn catalogue(store: &dyn Store) {
    let mut tea = product("TEA-LJ", "龙井茶 250g", Some("茶叶"), 8_800);
    tea.cost = Some(eur(4_000));
    store.add_product(tea).expect("added");
    store
        .add_product(product("TEA-PE", "普洱茶饼", Some("茶叶"), 12_000))
        .expect("added");
    store
        .add_product(product("CUP-01", "青瓷茶杯", Some("茶具"), 3_500))
        .expect("added");
}

/// Products read back exactly and list by SKU (byte order); a second product with a
/// SKU is refused; a negative price or a foreign currency is refused; an edit changes
/// only the named fields; an unknown SKU is not found.
pub fn products_are_added_read_edited_and_listed_by_sku(store: &dyn Store) {
    catalogue(store);
    let all = store.products().expect("listed");
    let skus: Vec<&str> = all.iter().map(|p| p.sku.as_str()).collect();
    assert_eq!(skus, ["CUP-01", "TEA-LJ", "TEA-PE"]);
    let tea = store.product(&sku("TEA-LJ")).expect("found");
    assert_eq!(tea.name.as_str(), "龙井茶 250g");
    assert_eq!(tea.category.as_ref().map(|c| c.as_str()), Some("茶叶"));
    assert_eq!(
        (tea.price, tea.cost, tea.archived),
        (eur(8_800), Some(eur(4_000)), false)
    );
    assert_err!(
        store.add_product(product("TEA-LJ", "另一种茶", None, 100)),
        StoreError::Conflict(Conflict::DuplicateSku { .. })
    );
    assert_err!(
        store.add_product(product("NEG", "负价", None, -1)),
        StoreError::Validation(ValidationError::NegativeAmount { .. })
    );
    let mut usd = product("USD", "美元价", None, 100);
    usd.price = super::support::usd(100);
    assert_err!(
        store.add_product(usd),
        StoreError::Validation(ValidationError::CurrencyMismatch { .. })
    );
    let edit = ProductEdit {
        name: Some(label("明前龙井 250g")),
        cost: Some(None),
        ..ProductEdit::default()
    };
    let edited = store.edit_product(&sku("TEA-LJ"), &edit).expect("edited");
    assert_eq!(edited.name.as_str(), "明前龙井 250g");
    assert_eq!((edited.price, edited.cost), (eur(8_800), None));
    assert_eq!(store.product(&sku("TEA-LJ")).expect("read"), edited);
    assert_eq!(store.products().expect("listed").len(), 3);
    assert_err!(
        store.product(&sku("NONE")),
        StoreError::NotFound {
            entity: Entity::Product,
            ..
        }
    );
}

/// A purchase recorded with lines reads them back in the order given; its amount is
/// exactly Σ (quantity × unit price − discount); a purchase whose amount differs, a
/// discount above its line, or an unknown SKU is refused and nothing is written; the
/// amount of a purchase with lines cannot be edited away from their sum.
pub fn a_purchase_with_lines_adds_up_exactly_and_reads_back_in_order(store: &dyn Store) {
    catalogue(store);
    let c = customer(store, "王小明");
    let lines = vec![
        line("TEA-PE", 2, 12_000, Some(1_000)),
        line("CUP-01", 3, 3_500, None),
    ];
    // 2 × 120.00 − 10.00 + 3 × 35.00 = 335.00
    let (p, stored) = store
        .record_purchase_with_lines(NewPurchase::new(c.id(), at(3), eur(33_500)), lines.clone())
        .expect("recorded");
    assert_eq!(stored, lines);
    assert_eq!(store.purchase_lines(p.id()).expect("read"), lines);
    let before = store.purchases(&ActivityQuery::ALL).expect("listed").len();
    assert_err!(
        store.record_purchase_with_lines(NewPurchase::new(c.id(), at(4), eur(33_501)), lines),
        StoreError::Validation(ValidationError::LinesTotal { .. })
    );
    assert_err!(
        store.record_purchase_with_lines(
            NewPurchase::new(c.id(), at(4), eur(0)),
            vec![line("CUP-01", 1, 3_500, Some(3_501))],
        ),
        StoreError::Validation(ValidationError::LineDiscount { .. })
    );
    assert_err!(
        store.record_purchase_with_lines(
            NewPurchase::new(c.id(), at(4), eur(100)),
            vec![line("NOPE", 1, 100, None)],
        ),
        StoreError::NotFound {
            entity: Entity::Product,
            ..
        }
    );
    assert_eq!(
        store.purchases(&ActivityQuery::ALL).expect("listed").len(),
        before
    );
    let edit = PurchaseEdit {
        amount: Some(eur(30_000)),
        ..PurchaseEdit::default()
    };
    assert_err!(
        store.edit_purchase(p.id(), &edit),
        StoreError::Validation(ValidationError::LinesTotal { .. })
    );
    // A second purchase: every line of the store, by purchase and then in order.
    let (q, _) = store
        .record_purchase_with_lines(
            NewPurchase::new(c.id(), at(5), eur(8_800)),
            vec![line("TEA-LJ", 1, 8_800, None)],
        )
        .expect("recorded");
    let all = store.all_purchase_lines().expect("listed");
    let order: Vec<(u64, &str)> = all
        .iter()
        .map(|(id, l)| (id.get(), l.sku.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (p.id().get(), "TEA-PE"),
            (p.id().get(), "CUP-01"),
            (q.id().get(), "TEA-LJ")
        ]
    );
    // A purchase without lines has none.
    let plain = store
        .record_purchase(NewPurchase::new(c.id(), at(6), eur(500)))
        .expect("recorded");
    assert!(store.purchase_lines(plain.id()).expect("read").is_empty());
}

/// Removing a product no line names deletes it; removing one that lines name
/// archives it, keeps their lines, and refuses it on new lines.
pub fn a_product_named_by_lines_is_archived_not_deleted(store: &dyn Store) {
    catalogue(store);
    let c = customer(store, "李娜");
    store
        .record_purchase_with_lines(
            NewPurchase::new(c.id(), at(2), eur(7_000)),
            vec![line("CUP-01", 2, 3_500, None)],
        )
        .expect("recorded");
    assert_eq!(
        store.remove_product(&sku("TEA-PE")).expect("removed"),
        ProductRemoval::Deleted
    );
    assert_err!(store.product(&sku("TEA-PE")), StoreError::NotFound { .. });
    match store.remove_product(&sku("CUP-01")).expect("removed") {
        ProductRemoval::Archived(p) => assert!(p.archived),
        ProductRemoval::Deleted => panic!("a product named by a line was deleted"),
    }
    assert!(store.product(&sku("CUP-01")).expect("kept").archived);
    assert_eq!(store.all_purchase_lines().expect("listed").len(), 1);
    assert_err!(
        store.record_purchase_with_lines(
            NewPurchase::new(c.id(), at(3), eur(3_500)),
            vec![line("CUP-01", 1, 3_500, None)],
        ),
        StoreError::Conflict(Conflict::ProductArchived { .. })
    );
    assert_err!(
        store.remove_product(&sku("TEA-PE")),
        StoreError::NotFound { .. }
    );
}

/// Erasing a customer keeps the lines of their purchases exactly (products, quantities
/// and prices are no personal data, and the amounts they explain stay too), while the
/// purchase's description goes as before.
pub fn erasure_keeps_the_lines_of_an_erased_customers_purchases(store: &dyn Store) {
    catalogue(store);
    let c = customer(store, "张伟");
    let mut new = NewPurchase::new(c.id(), at(2), eur(12_300));
    new.description = Some(super::support::text("送给张伟的生日礼物"));
    let lines = vec![
        line("TEA-LJ", 1, 8_800, None),
        line("CUP-01", 1, 3_500, None),
    ];
    let (p, _) = store
        .record_purchase_with_lines(new, lines.clone())
        .expect("recorded");
    store.erase_customer(c.id(), at(9)).expect("erased");
    assert_eq!(store.purchase_lines(p.id()).expect("read"), lines);
    let after = store.purchase(p.id()).expect("kept");
    assert_eq!(after.amount(), eur(12_300));
    assert!(after.description().is_none());
}

/// An import batch carries lines for some of its purchases (`ImportBatch::purchase_lines`,
/// the CSV import's line columns): they are checked as `record_purchase_with_lines`
/// checks them and written beside their purchase; a refused line (an unknown SKU, a
/// total that is not the amount) refuses the whole import, naming the purchase.
pub fn an_import_writes_lines_beside_its_purchases_all_or_none(store: &dyn Store) {
    use solocrm_core::{CustomerRef, ImportBatch, ImportSection};
    catalogue(store);
    let c = customer(store, "王芳");
    let purchase = |day: u32, amount: i64| {
        (
            CustomerRef::Existing(c.id()),
            NewPurchase::new(c.id(), at(day), eur(amount)),
        )
    };
    let batch = ImportBatch {
        purchases: vec![purchase(1, 21_100), purchase(2, 500), purchase(3, 3_500)],
        purchase_lines: vec![
            (
                0,
                vec![
                    line("TEA-LJ", 2, 8_800, None),
                    line("CUP-01", 1, 3_500, None),
                ],
            ),
            (2, vec![line("CUP-01", 1, 3_500, None)]),
        ],
        ..ImportBatch::default()
    };
    let receipt = store.import(batch).expect("imported");
    assert_eq!(receipt.purchases.len(), 3);
    let first = store.purchase_lines(receipt.purchases[0]).expect("read");
    assert_eq!(
        first,
        [
            line("TEA-LJ", 2, 8_800, None),
            line("CUP-01", 1, 3_500, None)
        ]
    );
    assert!(
        store
            .purchase_lines(receipt.purchases[1])
            .expect("read")
            .is_empty()
    );
    assert_eq!(
        store
            .purchase_lines(receipt.purchases[2])
            .expect("read")
            .len(),
        1
    );

    // A bad line refuses everything, naming its purchase.
    let before = store.purchases(&ActivityQuery::ALL).expect("read").len();
    let lines_before = store.all_purchase_lines().expect("read").len();
    for (lines, check) in [
        (
            vec![line("NOPE", 1, 500, None)],
            (|e: &StoreError| {
                matches!(
                    e,
                    StoreError::NotFound {
                        entity: Entity::Product,
                        ..
                    }
                )
            }) as fn(&StoreError) -> bool,
        ),
        (vec![line("CUP-01", 1, 400, None)], |e: &StoreError| {
            matches!(
                e,
                StoreError::Validation(ValidationError::LinesTotal { .. })
            )
        }),
    ] {
        let batch = ImportBatch {
            purchases: vec![purchase(4, 100), purchase(5, 500)],
            purchase_lines: vec![(1, lines)],
            ..ImportBatch::default()
        };
        match store.import(batch) {
            Err(StoreError::Import {
                section: ImportSection::Purchases,
                index: 1,
                error,
            }) => assert!(check(&error), "{error}"),
            other => panic!("expected the second purchase refused, got {other:?}"),
        }
        assert_eq!(
            store.purchases(&ActivityQuery::ALL).expect("read").len(),
            before
        );
        assert_eq!(
            store.all_purchase_lines().expect("read").len(),
            lines_before
        );
    }
}
