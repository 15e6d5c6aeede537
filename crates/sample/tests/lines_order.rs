//! The interleaved order of generated lines (`lines::interleave`, purchases shuffled
//! across customers as a book records them over time) changes the layout the product
//! kernels meet, not their figures.

use solocrm_core::metrics::products::ProductAnalytics;
use solocrm_sample::lines::{LinesConfig, interleave, line_log};

#[test]
fn interleaved_lines_give_the_same_product_figures() {
    let log = line_log(&LinesConfig::new(300, 120, 4_000, 11));
    let mixed = interleave(&log, 5);
    assert_eq!(mixed.len(), log.len());
    assert_ne!(
        mixed.customer, log.customer,
        "the customers are interleaved"
    );
    // Purchases are renumbered in their new order: ascending, as a book gives them.
    assert!(mixed.purchase.windows(2).all(|w| w[0] <= w[1]));
    let (a, b) = (ProductAnalytics::new(&log), ProductAnalytics::new(&mixed));
    assert_eq!(a.product_sales(), b.product_sales());
    assert_eq!(a.category_sales(), b.category_sales());
    assert_eq!(a.products_per_customer(), b.products_per_customer());
    let (x, y) = (a.co_purchase(), b.co_purchase());
    assert_eq!(x, y);
    for k in [0, 17, 299] {
        assert_eq!(x.recommend(k, 10), y.recommend(k, 10));
    }
}
