//! Property: a purchase's total is Σ (quantity × unit price − line discount), exactly,
//! computed independently here with plain decimals; [`check_lines`] accepts that
//! amount and refuses it one minor unit off either way.

use proptest::prelude::*;
use rust_decimal::Decimal;
use solocrm_core::product::{PurchaseLine, Sku, check_lines, lines_total};
use solocrm_core::{Currency, Money};

fn line() -> impl Strategy<Value = (u32, i64, i64)> {
    // quantity, unit price in minor units, discount as a share of the gross (per mille)
    (1u32..1_000, 0i64..10_000_000, 0i64..=1_000)
}

fn build(cur: Currency, raw: &[(u32, i64, i64)]) -> (Vec<PurchaseLine>, Decimal) {
    let skus = ["茶-001", "CUP-01", "TEA-PE", "礼盒-9"];
    let scale = cur.minor_unit_digits();
    let mut expected = Decimal::ZERO;
    let mut lines = Vec::new();
    for (i, &(q, unit, per_mille)) in raw.iter().enumerate() {
        let gross = i64::from(q) * unit;
        let discount = gross * per_mille / 1_000;
        let mut l = PurchaseLine::new(
            Sku::parse(skus[i % skus.len()]).expect("a SKU"),
            q,
            Money::from_minor(unit, cur),
        );
        if per_mille % 3 != 0 {
            l.discount = Some(Money::from_minor(discount, cur));
        }
        let unit_d = Decimal::new(unit, scale);
        let disc_d = l.discount.map_or(Decimal::ZERO, |d| d.amount());
        expected += unit_d * Decimal::from(q) - disc_d;
        lines.push(l);
    }
    (lines, expected)
}

proptest! {
    #[test]
    fn the_total_is_the_sum_of_the_lines_less_their_discounts_exactly(
        raw in prop::collection::vec(line(), 1..12),
        cur in prop::sample::select(vec![Currency::CNY, Currency::EUR, Currency::JPY]),
    ) {
        let (lines, expected) = build(cur, &raw);
        let total = lines_total(&lines, cur).expect("fits");
        prop_assert_eq!(total.amount(), expected);
        prop_assert!(check_lines(total, &lines).is_ok());
        let one = Money::from_minor(1, cur);
        let above = total.checked_add(one).expect("fits");
        prop_assert!(check_lines(above, &lines).is_err());
        if !total.is_zero() {
            let below = total.checked_sub(one).expect("fits");
            prop_assert!(check_lines(below, &lines).is_err());
        }
    }

    #[test]
    fn a_discount_above_its_line_is_refused(q in 1u32..100, unit in 0i64..100_000, extra in 1i64..1_000) {
        let cur = Currency::CNY;
        let mut l = PurchaseLine::new(Sku::parse("TEA").expect("a SKU"), q, Money::from_minor(unit, cur));
        l.discount = Some(Money::from_minor(i64::from(q) * unit + extra, cur));
        prop_assert!(l.total().is_err());
        prop_assert!(l.for_storage(cur).is_err());
    }
}
