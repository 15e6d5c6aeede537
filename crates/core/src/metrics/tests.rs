//! Tests across the metrics: worked examples, edge cases and properties.
