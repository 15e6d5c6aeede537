//! Saved segments: named predicates, unique by exact name, listed by name.

use solocrm_core::segment::MAX_PREDICATE_DEPTH;
use solocrm_core::{
    Cmp, Comparison, Conflict, Entity, LifecycleStage, Predicate, Segment, Store, StoreError,
    ValidationError,
};

use super::support::{assert_err, label, tag};

fn segment(name: &str, predicate: Predicate) -> Segment {
    Segment {
        name: label(name),
        predicate,
    }
}

fn vips() -> Predicate {
    Predicate::All(vec![
        Predicate::Tag(tag("vip")),
        Predicate::not(Predicate::Stage(LifecycleStage::Churned)),
        Predicate::PurchaseCount(Comparison {
            op: Cmp::Ge,
            value: 3,
        }),
        Predicate::TotalSpend(Comparison {
            op: Cmp::Gt,
            value: rust_decimal::Decimal::new(100_050, 2),
        }),
    ])
}

/// A saved segment reads back by name with its predicate intact.
pub fn a_saved_segment_can_be_read_back_by_name(store: &dyn Store) {
    let s = segment("Big spenders", vips());
    store.create_segment(s.clone()).expect("saving a segment");
    assert_eq!(store.segment(&label("Big spenders")).expect("found"), s);
}

/// A second segment with a taken name is [`Conflict::DuplicateSegment`], and the first
/// one stays as it was.
pub fn a_duplicate_segment_name_is_refused(store: &dyn Store) {
    let first = segment("vips", vips());
    store
        .create_segment(first.clone())
        .expect("saving a segment");
    assert_err!(
        store.create_segment(segment("vips", Predicate::Any(vec![]))),
        StoreError::Conflict(Conflict::DuplicateSegment { ref name }) if name == "vips"
    );
    assert_eq!(store.segment(&label("vips")).expect("found"), first);
    assert_eq!(store.segments().expect("listing segments"), [first]);
}

/// Segment names compare exactly: `VIPs` and `vips` are two segments.
pub fn segment_names_compare_exactly(store: &dyn Store) {
    store
        .create_segment(segment("vips", vips()))
        .expect("saving a segment");
    store
        .create_segment(segment("VIPs", Predicate::All(vec![])))
        .expect("a name in another case is another name");
    assert_eq!(
        store.segment(&label("VIPs")).expect("found").predicate,
        Predicate::All(vec![])
    );
    assert_eq!(store.segments().expect("listing segments").len(), 2);
}

/// `segments` lists every segment by name.
pub fn segments_are_listed_by_name(store: &dyn Store) {
    assert!(store.segments().expect("listing segments").is_empty());
    for name in ["churn risk", "b2b", "Zebra", "active buyers"] {
        store
            .create_segment(segment(name, Predicate::Tag(tag("x"))))
            .expect("saving a segment");
    }
    let names: Vec<String> = store
        .segments()
        .expect("listing segments")
        .into_iter()
        .map(|s| s.name.into_inner())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        names, sorted,
        "by name, as `Label` (and `str`) orders names"
    );
    assert_eq!(names, ["Zebra", "active buyers", "b2b", "churn risk"]);
}

/// A deleted segment is gone from look-ups and lists, and its name can be used again.
pub fn a_deleted_segment_is_gone_and_its_name_free_again(store: &dyn Store) {
    store
        .create_segment(segment("vips", vips()))
        .expect("saving a segment");
    store
        .create_segment(segment("others", Predicate::Any(vec![])))
        .expect("saving a segment");
    store
        .delete_segment(&label("vips"))
        .expect("deleting a segment");
    assert_err!(
        store.segment(&label("vips")),
        StoreError::NotFound {
            entity: Entity::Segment,
            ..
        }
    );
    let left: Vec<String> = store
        .segments()
        .expect("listing segments")
        .into_iter()
        .map(|s| s.name.into_inner())
        .collect();
    assert_eq!(left, ["others"]);
    store
        .create_segment(segment("vips", Predicate::Tag(tag("vip"))))
        .expect("the name is free again");
}

/// Reading or deleting a segment that does not exist is [`StoreError::NotFound`] for a
/// segment, keyed by its name.
pub fn an_unknown_segment_is_not_found(store: &dyn Store) {
    assert_err!(
        store.segment(&label("nobody")),
        StoreError::NotFound { entity: Entity::Segment, ref key } if key == "nobody"
    );
    assert_err!(
        store.delete_segment(&label("nobody")),
        StoreError::NotFound {
            entity: Entity::Segment,
            ..
        }
    );
    store
        .create_segment(segment("Nobody", vips()))
        .expect("saving a segment");
    assert_err!(
        store.delete_segment(&label("nobody")),
        StoreError::NotFound {
            entity: Entity::Segment,
            ..
        }
    );
    assert_eq!(store.segments().expect("listing segments").len(), 1);
}

/// `levels` levels of predicate: `not` around `not` ... around one comparison.
fn nested_nots(levels: usize) -> Predicate {
    let mut p = Predicate::Stage(LifecycleStage::Active);
    for _ in 1..levels {
        p = Predicate::not(p);
    }
    p
}

/// A predicate built in code nested deeper than [`MAX_PREDICATE_DEPTH`] is refused
/// with [`ValidationError::TooDeep`] before anything is written (it could not be read
/// back), even when its name is taken; one exactly at the limit is saved and reads
/// back.
pub fn a_segment_nested_too_deep_is_refused_and_nothing_saved(store: &dyn Store) {
    for levels in [MAX_PREDICATE_DEPTH + 1, 127, 1_000] {
        assert_err!(
            store.create_segment(segment("deep", nested_nots(levels))),
            StoreError::Validation(ValidationError::TooDeep { depth, max, .. })
                if depth == levels && max == MAX_PREDICATE_DEPTH
        );
    }
    let wide = Predicate::All(vec![
        Predicate::Tag(tag("vip")),
        Predicate::Any(vec![nested_nots(MAX_PREDICATE_DEPTH - 1)]),
    ]);
    assert_err!(
        store.create_segment(segment("deep", wide)),
        StoreError::Validation(ValidationError::TooDeep { .. })
    );
    assert!(store.segments().expect("listing segments").is_empty());
    assert_err!(
        store.segment(&label("deep")),
        StoreError::NotFound {
            entity: Entity::Segment,
            ..
        }
    );

    let deepest = segment("deep", nested_nots(MAX_PREDICATE_DEPTH));
    store
        .create_segment(deepest.clone())
        .expect("a predicate at the limit is saved");
    assert_eq!(store.segment(&label("deep")).expect("found"), deepest);
    // Validation comes before the name check: too deep under a taken name is still
    // the validation error.
    assert_err!(
        store.create_segment(segment("deep", nested_nots(MAX_PREDICATE_DEPTH + 1))),
        StoreError::Validation(ValidationError::TooDeep { .. })
    );
    assert_eq!(store.segments().expect("listing segments"), [deepest]);
}
