//! Metric formulas (work in progress).
