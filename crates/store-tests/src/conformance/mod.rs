//! Conformance checks (work in progress).
