//! Seeded synthetic data (work in progress).
