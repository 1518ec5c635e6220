//! Benchmark rows: the one shape every benchmark result takes, printed as a
//! table and written as JSON under `target/bench/`.

use serde::Serialize;

/// One measured operation.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Stable lower_snake_case name; the same name on Mica and Linux means
    /// the same operation.
    pub name: String,
    /// `instructions`, `cycles`, `bytes` or `us`.
    pub unit: String,
    /// Median over the samples.
    pub median: u64,
    /// 10th percentile.
    pub p10: u64,
    /// 90th percentile.
    pub p90: u64,
    /// Number of samples.
    pub iterations: u64,
}
