//! The recommender's hold-out check on generated lines: hide each customer's last
//! product, recommend from the rest, and count how often the hidden product is in the
//! top 10 — against the popularity baseline (the 10 best sellers they have not bought).
//! Asserted only as "better than the baseline", on a fixed seed; the numbers are in
//! docs/performance.md.

use solocrm_core::metrics::products::{CoPurchase, hit_rate};
use solocrm_sample::lines::{LinesConfig, hold_out_last, line_log};

#[test]
fn bought_together_beats_popularity_on_held_out_purchases() {
    let config = LinesConfig::new(5_000, 1_000, 50_000, 18);
    let (train, held) = hold_out_last(&line_log(&config));
    assert!(held.len() > 1_000, "{} held out", held.len());
    let index = CoPurchase::build(&train);
    let k = 10;
    let cosine = hit_rate(&held, k, |c, k| {
        index
            .recommend(c as usize, k)
            .into_iter()
            .map(|r| r.product)
            .collect()
    })
    .expect("held-out pairs");
    let popular = hit_rate(&held, k, |c, k| index.popular(c as usize, k)).expect("held-out pairs");
    eprintln!(
        "hit rate @{k} over {} held-out purchases: cosine {cosine}, popularity {popular}",
        held.len()
    );
    assert!(cosine > popular, "cosine {cosine} vs popularity {popular}");
}

#[test]
fn the_generated_lines_are_the_same_for_a_seed_and_add_up() {
    let config = LinesConfig::new(200, 100, 2_000, 7);
    let a = line_log(&config);
    assert_eq!(a, line_log(&config));
    assert_eq!(a.customers.len(), 200);
    assert!(a.len() >= 1_000 && a.len() <= 3_200, "{} lines", a.len());
    // Every line's revenue is its quantity times a positive price.
    assert!(
        a.revenue
            .iter()
            .zip(&a.quantity)
            .all(|(r, q)| *r > 0 && r % i64::from(*q) == 0)
    );
}
