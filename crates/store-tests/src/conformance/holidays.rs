//! The holiday calendar stored with the books (issue 18): the founder's own holidays
//! by key (fixed and lunar dates), the chosen presets in their order, and what the
//! calendar then lists.

use solocrm_core::holiday::{HolidayDef, HolidayRule, Preset};
use solocrm_core::{Entity, Store, StoreError};

use super::support::{assert_err, label, tag};

fn def(key: &str, name: &str, rule: HolidayRule) -> HolidayDef {
    HolidayDef {
        key: tag(key),
        name: label(name),
        rule,
    }
}

/// Own holidays read back by key, exactly (a lunar leap month included); a second put
/// with the same key replaces; a removed key is gone and a second removal is
/// not found; the presets keep their order and drop repeats.
pub fn holidays_are_stored_replaced_and_removed(store: &dyn Store) {
    let empty = store.holiday_calendar().expect("none yet");
    assert!(empty.presets.is_empty() && empty.own.is_empty());
    let shop = def("店庆", "店庆", HolidayRule::fixed(6, 18).expect("a day"));
    let mum = def(
        "mum-birthday",
        "妈妈生日",
        HolidayRule::lunar(4, 28, true).expect("a lunar day"),
    );
    store.put_holiday(shop.clone()).expect("stored");
    let cal = store.put_holiday(mum.clone()).expect("stored");
    // By key: "mum-birthday" sorts before "店庆".
    assert_eq!(cal.own, vec![mum.clone(), shop.clone()]);
    let moved = def(
        "店庆",
        "周年店庆",
        HolidayRule::fixed(2, 29).expect("a day"),
    );
    let cal = store.put_holiday(moved.clone()).expect("replaced");
    assert_eq!(cal.own, vec![mum.clone(), moved.clone()]);
    assert_eq!(store.holiday_calendar().expect("read").own, cal.own);
    // Only fixed and lunar dates are the founder's to store.
    assert_err!(
        store.put_holiday(def("easter", "Easter", HolidayRule::Easter)),
        StoreError::Validation(_)
    );
    let cal = store
        .set_holiday_presets(&[Preset::Western, Preset::Cn, Preset::Western])
        .expect("presets");
    assert_eq!(cal.presets, vec![Preset::Western, Preset::Cn]);
    let cal = store.set_holiday_presets(&[Preset::Cn]).expect("presets");
    assert_eq!(cal.presets, vec![Preset::Cn]);
    assert_eq!(store.holiday_calendar().expect("read").presets, cal.presets);
    let after = store.remove_holiday(&tag("店庆")).expect("removed");
    assert_eq!(after.own, vec![mum]);
    assert_err!(
        store.remove_holiday(&tag("店庆")),
        StoreError::NotFound {
            entity: Entity::Holiday,
            ..
        }
    );
    assert_eq!(store.holiday_calendar().expect("read"), after);
}

/// What a stored calendar lists for a year: the preset's lunar holidays on their
/// Gregorian days, and an own holiday in place of the preset one with its key.
pub fn a_stored_calendar_lists_its_holidays(store: &dyn Store) {
    store.set_holiday_presets(&[Preset::Cn]).expect("presets");
    store
        .put_holiday(def(
            "mid_autumn",
            "团圆节",
            HolidayRule::lunar(8, 15, false).expect("a lunar day"),
        ))
        .expect("stored");
    let year = store.holiday_calendar().expect("read").occurrences(2025);
    let find = |key: &str| {
        year.iter()
            .find(|o| o.key.as_str() == key)
            .map(|o| (o.date.to_string(), o.name.as_str().to_owned()))
    };
    assert_eq!(
        find("spring_festival"),
        Some(("2025-01-29".to_owned(), "春节".to_owned()))
    );
    assert_eq!(
        find("mid_autumn"),
        Some(("2025-10-06".to_owned(), "团圆节".to_owned()))
    );
    assert_eq!(
        year.iter()
            .filter(|o| o.key.as_str() == "mid_autumn")
            .count(),
        1
    );
}
