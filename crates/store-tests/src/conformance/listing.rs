//! Listing customers: keyset pages, the page-size limits, and the stage, tag, segment
//! and erasure filters.

use solocrm_core::store::MAX_PAGE_SIZE;
use solocrm_core::{
    Cmp, Comparison, Customer, CustomerData, CustomerId, CustomerQuery, LifecycleStage,
    NewCustomer, Page, Predicate, SegmentFilter, StageReason, Store, StoreError, ValidationError,
};

use super::support::{assert_err, at, buy, create, customer, customers, ids, name, tag};

/// Lists one page.
fn page(store: &dyn Store, query: &CustomerQuery) -> Page<Customer> {
    store
        .list_customers(query)
        .expect("listing customers with a valid query should work")
}

/// Follows `next` from the first page to the end and returns the pages' ids. Panics if
/// the cursor does not advance, or after more pages than customers could fill.
fn all_pages(store: &dyn Store, query: &CustomerQuery) -> Vec<Vec<CustomerId>> {
    let mut query = query.clone();
    let mut pages = Vec::new();
    let most = store.count_customers().expect("count") + 2;
    loop {
        let p = page(store, &query);
        pages.push(ids(&p.items));
        match p.next {
            None => return pages,
            Some(next) => {
                assert!(
                    query.after.is_none_or(|a| next > a),
                    "the cursor must advance: {:?} after {:?}",
                    next,
                    query.after
                );
                if let Some(last) = p.items.last() {
                    assert!(
                        next >= last.id(),
                        "the cursor {next} must not go back before the last item {}",
                        last.id()
                    );
                }
                query.after = Some(next);
            }
        }
        assert!(
            (pages.len() as u64) <= most,
            "pagination does not end: {pages:?}"
        );
    }
}

/// The query with `limit`.
fn limit(limit: u32) -> CustomerQuery {
    CustomerQuery {
        limit,
        ..CustomerQuery::default()
    }
}

/// An empty store lists an empty page without a next cursor.
pub fn an_empty_store_lists_no_customers_and_no_next_page(store: &dyn Store) {
    let p = page(store, &CustomerQuery::default());
    assert!(p.items.is_empty());
    assert_eq!(p.next, None);
}

/// A page size of 0 is [`ValidationError::OutOfRange`].
pub fn a_page_size_of_zero_is_refused(store: &dyn Store) {
    customer(store, "Ada");
    assert_err!(
        store.list_customers(&limit(0)),
        StoreError::Validation(ValidationError::OutOfRange { value: 0, .. })
    );
}

/// A page size above [`MAX_PAGE_SIZE`] is [`ValidationError::OutOfRange`];
/// [`MAX_PAGE_SIZE`] itself is fine.
pub fn a_page_size_above_the_maximum_is_refused_and_the_maximum_is_accepted(store: &dyn Store) {
    customer(store, "Ada");
    assert_err!(
        store.list_customers(&limit(MAX_PAGE_SIZE + 1)),
        StoreError::Validation(ValidationError::OutOfRange { value, .. })
            if value == i64::from(MAX_PAGE_SIZE) + 1
    );
    assert_err!(
        store.list_customers(&limit(u32::MAX)),
        StoreError::Validation(ValidationError::OutOfRange { .. })
    );
    let p = page(store, &limit(MAX_PAGE_SIZE));
    assert_eq!(p.items.len(), 1);
    let p = page(store, &limit(1));
    assert_eq!(p.items.len(), 1);
}

/// Pages hold up to `limit` customers ascending by id; following `next` visits every
/// customer exactly once.
pub fn customers_are_listed_ascending_by_id_page_after_page(store: &dyn Store) {
    let all = ids(&customers(store, 5));
    let first = page(store, &limit(2));
    assert_eq!(ids(&first.items), all[..2]);
    assert!(first.next.is_some(), "more customers follow");
    let pages = all_pages(store, &limit(2));
    let non_empty: Vec<_> = pages.iter().filter(|p| !p.is_empty()).cloned().collect();
    assert_eq!(
        non_empty,
        [all[..2].to_vec(), all[2..4].to_vec(), all[4..].to_vec()]
    );
    // The whole set in one page, and `after` on its own.
    assert_eq!(ids(&page(store, &limit(100)).items), all);
    let after = CustomerQuery {
        after: Some(all[2]),
        ..CustomerQuery::default()
    };
    assert_eq!(ids(&page(store, &after).items), all[3..]);
}

/// When the customers fill the last page exactly, following `next` neither loses nor
/// repeats a customer and ends.
pub fn an_exact_page_boundary_loses_and_repeats_no_customer(store: &dyn Store) {
    let all = ids(&customers(store, 4));
    let pages = all_pages(store, &limit(2));
    let seen: Vec<CustomerId> = pages.iter().flatten().copied().collect();
    assert_eq!(seen, all);
    assert!(
        pages.len() <= 3,
        "at most one empty page at the end: {pages:?}"
    );
    let single = all_pages(store, &limit(4));
    assert_eq!(single.iter().flatten().copied().collect::<Vec<_>>(), all);
}

/// A page with fewer customers than the limit is the last: its `next` is `None`.
pub fn a_short_last_page_has_no_next_cursor(store: &dyn Store) {
    let all = ids(&customers(store, 3));
    let p = page(
        store,
        &CustomerQuery {
            after: Some(all[0]),
            limit: 5,
            ..CustomerQuery::default()
        },
    );
    assert_eq!(ids(&p.items), all[1..]);
    assert_eq!(p.next, None);
}

/// `after` need not be an existing id: a cursor between ids starts at the next one, and
/// a cursor past the last customer gives an empty last page.
pub fn a_cursor_between_or_past_ids_is_a_plain_lower_bound(store: &dyn Store) {
    let all = ids(&customers(store, 3));
    let after = |id: CustomerId| {
        page(
            store,
            &CustomerQuery {
                after: Some(id),
                ..CustomerQuery::default()
            },
        )
    };
    assert_eq!(ids(&after(CustomerId::new(0)).items), all);
    let past = after(CustomerId::new(all[2].get() + 1_000));
    assert!(past.items.is_empty());
    assert_eq!(past.next, None);
    let last = after(all[2]);
    assert!(last.items.is_empty());
    assert_eq!(last.next, None);
}

/// Keyset pages stay correct while customers are added: customers created between two
/// pages appear at the end, and none is skipped or repeated.
pub fn keyset_pages_stay_correct_while_customers_are_added(store: &dyn Store) {
    let mut all = ids(&customers(store, 3));
    let first = page(store, &limit(2));
    assert_eq!(ids(&first.items), all[..2]);
    let next = first.next.expect("more customers follow");
    all.extend(ids(&customers(store, 2)));
    let rest = all_pages(
        store,
        &CustomerQuery {
            after: Some(next),
            limit: 2,
            ..CustomerQuery::default()
        },
    );
    let seen: Vec<CustomerId> = rest.iter().flatten().copied().collect();
    assert_eq!(seen, all[2..]);
}

/// `stage` lists only customers in that stage.
pub fn customers_are_filtered_by_stage(store: &dyn Store) {
    let cs = customers(store, 4);
    for c in [&cs[1], &cs[3]] {
        store
            .change_stage(c.id(), LifecycleStage::Lead, at(1), StageReason::manual())
            .expect("allowed");
    }
    let active = store
        .create_customer(
            NewCustomer::new(CustomerData::new(name("Imported")), at(0))
                .at_stage(LifecycleStage::Active),
        )
        .expect("creating a customer should work");
    let by_stage = |stage| {
        ids(&page(
            store,
            &CustomerQuery {
                stage: Some(stage),
                ..CustomerQuery::default()
            },
        )
        .items)
    };
    assert_eq!(by_stage(LifecycleStage::Lead), [cs[1].id(), cs[3].id()]);
    assert_eq!(by_stage(LifecycleStage::Prospect), [cs[0].id(), cs[2].id()]);
    assert_eq!(by_stage(LifecycleStage::Active), [active.id()]);
    assert!(by_stage(LifecycleStage::Churned).is_empty());
}

/// `tag` lists only customers with that tag, whether set at creation or added later.
pub fn customers_are_filtered_by_tag(store: &dyn Store) {
    let cs = customers(store, 3);
    let tagged_at_creation = create(store, CustomerData::new(name("Eve")).with_tag(tag("vip")));
    store
        .tag_customer(cs[1].id(), &tag("VIP"))
        .expect("tagging");
    store
        .tag_customer(cs[2].id(), &tag("b2b"))
        .expect("tagging");
    let by_tag = |t: &str| {
        ids(&page(
            store,
            &CustomerQuery {
                tag: Some(tag(t)),
                ..CustomerQuery::default()
            },
        )
        .items)
    };
    assert_eq!(by_tag("vip"), [cs[1].id(), tagged_at_creation.id()]);
    assert_eq!(by_tag("b2b"), [cs[2].id()]);
    assert!(by_tag("none").is_empty());
    store
        .untag_customer(cs[1].id(), &tag("vip"))
        .expect("untagging");
    assert_eq!(by_tag("vip"), [tagged_at_creation.id()]);
}

/// A segment filter with purchase conditions counts only purchases up to its `as_of`.
pub fn customers_are_filtered_by_segment_as_of_a_time(store: &dyn Store) {
    let cs = customers(store, 3);
    buy(store, cs[0].id(), 10, 5_000);
    buy(store, cs[1].id(), 30, 5_000);
    let buyers = |as_of| {
        ids(&page(
            store,
            &CustomerQuery {
                segment: Some(SegmentFilter {
                    predicate: Predicate::PurchaseCount(Comparison {
                        op: Cmp::Ge,
                        value: 1,
                    }),
                    as_of,
                }),
                ..CustomerQuery::default()
            },
        )
        .items)
    };
    assert!(buyers(at(5)).is_empty());
    assert_eq!(buyers(at(20)), [cs[0].id()]);
    assert_eq!(buyers(at(40)), [cs[0].id(), cs[1].id()]);
    // A segment on customer data alone, combined with the stage filter.
    store
        .tag_customer(cs[2].id(), &tag("vip"))
        .expect("tagging");
    let vips = page(
        store,
        &CustomerQuery {
            stage: Some(LifecycleStage::Prospect),
            segment: Some(SegmentFilter {
                predicate: Predicate::Tag(tag("vip")),
                as_of: at(40),
            }),
            ..CustomerQuery::default()
        },
    );
    assert_eq!(ids(&vips.items), [cs[2].id()]);
}

/// "Purchases after `as_of` are ignored", so a purchase at exactly `as_of` counts.
pub fn a_purchase_exactly_at_as_of_counts_for_the_segment_filter(store: &dyn Store) {
    let ada = customer(store, "Ada");
    buy(store, ada.id(), 10, 100);
    let query = |as_of| CustomerQuery {
        segment: Some(SegmentFilter {
            predicate: Predicate::TotalSpend(Comparison {
                op: Cmp::Eq,
                value: rust_decimal::Decimal::ONE,
            }),
            as_of,
        }),
        ..CustomerQuery::default()
    };
    assert_eq!(ids(&page(store, &query(at(10))).items), [ada.id()]);
    let just_before = at(10) - chrono::Duration::seconds(1);
    assert!(page(store, &query(just_before)).items.is_empty());
}

/// Filters select before the page is cut: every page holds up to `limit` matching
/// customers, and following `next` finds all of them.
pub fn filters_apply_before_the_page_size(store: &dyn Store) {
    let cs = customers(store, 9);
    let vips: Vec<CustomerId> = cs.iter().step_by(3).map(Customer::id).collect();
    for id in &vips {
        store.tag_customer(*id, &tag("vip")).expect("tagging");
    }
    let query = CustomerQuery {
        tag: Some(tag("vip")),
        limit: 2,
        ..CustomerQuery::default()
    };
    let first = page(store, &query);
    assert_eq!(ids(&first.items), vips[..2]);
    let pages = all_pages(store, &query);
    assert_eq!(pages.iter().flatten().copied().collect::<Vec<_>>(), vips);
    // The same with a segment filter that needs purchases.
    for id in &vips {
        buy(store, *id, 3, 1_000);
    }
    let by_segment = CustomerQuery {
        segment: Some(SegmentFilter {
            predicate: Predicate::PurchaseCount(Comparison {
                op: Cmp::Gt,
                value: 0,
            }),
            as_of: at(10),
        }),
        limit: 2,
        ..CustomerQuery::default()
    };
    let pages = all_pages(store, &by_segment);
    assert_eq!(pages.iter().flatten().copied().collect::<Vec<_>>(), vips);
}

/// Erased customers are left out unless `include_erased` is set.
pub fn erased_customers_are_listed_only_when_included(store: &dyn Store) {
    let all = ids(&customers(store, 3));
    store.erase_customer(all[1], at(5)).expect("erasing");
    assert_eq!(
        ids(&page(store, &CustomerQuery::default()).items),
        [all[0], all[2]]
    );
    let with_erased = page(
        store,
        &CustomerQuery {
            include_erased: true,
            ..CustomerQuery::default()
        },
    );
    assert_eq!(ids(&with_erased.items), all);
    assert!(with_erased.items[1].is_erased());
    let pages = all_pages(
        store,
        &CustomerQuery {
            limit: 1,
            ..CustomerQuery::default()
        },
    );
    assert_eq!(
        pages.iter().flatten().copied().collect::<Vec<_>>(),
        [all[0], all[2]]
    );
}
