//! Benchmark rows: the one shape every benchmark result takes; the seL4
//! reference figures checked in as `bench/sel4.toml`; and the summary that
//! lines Mica, Linux and seL4 up row by row. `bench.rs` prints the summary
//! as a table and writes it as JSON under `target/bench/`; `chart.rs`
//! draws it.
//!
//! A missing side is never an error: a row can have any of the three
//! figures, and the ratios exist only where both sides of one do.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

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

// ---- seL4 reference figures ---------------------------------------------------

/// `bench/sel4.toml`: seL4's figures, keyed by the Mica row each one is
/// compared with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sel4Reference {
    /// Where the figures come from.
    pub source: Sel4Source,
    /// Mica row name -> seL4's figure for the same operation.
    pub rows: BTreeMap<String, Sel4Row>,
}

/// How the seL4 figures were measured.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sel4Source {
    /// Kernel version and date.
    pub kernel: String,
    /// Build configuration.
    pub build: String,
    /// The QEMU options of the measurement.
    pub qemu: String,
    /// How samples were taken and what was subtracted.
    pub method: String,
    /// Unit of every row: `instructions` or `cycles`.
    pub unit: String,
}

/// One seL4 figure.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sel4Row {
    /// The measured figure (every sample was the same).
    pub median: u64,
    /// What seL4 did, in sel4bench's terms.
    pub operation: String,
}

impl Sel4Reference {
    /// Reads and checks the file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the seL4 figures {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("bad seL4 figures in {}", path.display()))
    }

    /// Parses the TOML text and checks it: a known unit, row names in
    /// lower_snake_case, no zero figures.
    pub fn parse(text: &str) -> Result<Self> {
        let reference: Self = toml::from_str(text)?;
        let unit = &reference.source.unit;
        if unit != "instructions" && unit != "cycles" {
            bail!("source.unit must be `instructions` or `cycles`, not `{unit}`");
        }
        if reference.rows.is_empty() {
            bail!("no [rows.<name>] tables");
        }
        for (name, row) in &reference.rows {
            let snake = name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !snake || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
                bail!("row name `{name}` is not a lower_snake_case benchmark name");
            }
            if row.median == 0 {
                bail!("rows.{name}.median is 0");
            }
        }
        Ok(reference)
    }
}

// ---- the summary ------------------------------------------------------------------

/// Mica rows measured against a Linux row of another name (the closest
/// Linux mechanism for the same job).
pub const COUNTERPARTS: &[(&str, &str)] = &[
    ("ipc_call_reply_fast", "pipe_pingpong"),
    ("ipc_call_reply_fast_4w", "pipe_pingpong"),
    ("ipc_call_reply_slow", "pipe_pingpong"),
    ("ipc_call_reply_cap", "pipe_pingpong"),
    ("notify_roundtrip", "futex_pingpong"),
];

/// The Linux row a Mica row is compared with.
pub fn counterpart(name: &str) -> &str {
    COUNTERPARTS
        .iter()
        .find(|(mica, _)| *mica == name)
        .map_or(name, |(_, linux)| linux)
}

/// A measured side of a summary row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Measured {
    /// The row's name on that side (differs from the summary row's name
    /// for a Linux counterpart, e.g. `pipe_pingpong`).
    pub row: String,
    /// Median.
    pub median: u64,
    /// 10th percentile.
    pub p10: u64,
    /// 90th percentile.
    pub p90: u64,
    /// Number of samples.
    pub iterations: u64,
}

impl Measured {
    fn of(row: &Row) -> Self {
        Self {
            row: row.name.clone(),
            median: row.median,
            p10: row.p10,
            p90: row.p90,
            iterations: row.iterations,
        }
    }
}

/// One operation with whatever Mica, Linux and seL4 figures it has.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// Mica's row name (or Linux's or seL4's when Mica has no such row).
    pub name: String,
    /// Unit of every figure in the row.
    pub unit: String,
    /// Mica's figures.
    pub mica: Option<Measured>,
    /// Linux's figures for the same operation or its counterpart.
    pub linux: Option<Measured>,
    /// seL4's figure (only when its unit is the row's).
    pub sel4: Option<Sel4Row>,
    /// Mica's median over Linux's.
    pub mica_over_linux: Option<f64>,
    /// Mica's median over seL4's.
    pub mica_over_sel4: Option<f64>,
}

/// Everything `cargo xtask bench` found, as written to `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The run's unit for time (`instructions` or `cycles`); rows in
    /// `bytes` or `us` say so in their own `unit`.
    pub unit: String,
    /// Where the seL4 column comes from, if it was loaded.
    pub sel4_source: Option<Sel4Source>,
    /// One entry per operation: Mica's rows in Mica's order, then Linux
    /// rows with no Mica row of their name, then seL4 rows with neither.
    pub rows: Vec<SummaryRow>,
}

/// `a / b`, when both exist and `b` is not zero.
fn ratio(a: Option<u64>, b: Option<u64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    }
}

impl Summary {
    /// Lines the three sides up. `unit` is the run's unit for time.
    pub fn new(unit: &str, mica: &[Row], linux: &[Row], sel4: Option<&Sel4Reference>) -> Self {
        let mut names: Vec<&str> = mica.iter().map(|r| r.name.as_str()).collect();
        for r in linux {
            if !names.contains(&r.name.as_str()) {
                names.push(&r.name);
            }
        }
        let sel4 = sel4.filter(|s| s.source.unit == unit);
        for name in sel4.iter().flat_map(|s| s.rows.keys()) {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        let rows = names
            .into_iter()
            .map(|name| {
                let m = mica.iter().find(|r| r.name == name);
                let row_unit = m
                    .or_else(|| linux.iter().find(|r| r.name == name))
                    .map_or(unit, |r| r.unit.as_str());
                // A Linux row stands in for a Mica row only in the same unit.
                let linux_name = if m.is_some() { counterpart(name) } else { name };
                let l = linux
                    .iter()
                    .find(|r| r.name == linux_name && r.unit == row_unit);
                let s = sel4
                    .filter(|s| s.source.unit == row_unit)
                    .and_then(|s| s.rows.get(name));
                SummaryRow {
                    name: name.to_owned(),
                    unit: row_unit.to_owned(),
                    mica: m.map(Measured::of),
                    linux: l.map(Measured::of),
                    sel4: s.cloned(),
                    mica_over_linux: ratio(m.map(|r| r.median), l.map(|r| r.median)),
                    mica_over_sel4: ratio(m.map(|r| r.median), s.map(|r| r.median)),
                }
            })
            .collect();
        Self {
            unit: unit.to_owned(),
            sel4_source: sel4.map(|s| s.source.clone()),
            rows,
        }
    }

    /// The counterpart pairs that some row of this summary uses.
    pub fn counterparts_used(&self) -> Vec<(&str, &str)> {
        self.rows
            .iter()
            .filter_map(|r| {
                let linux = r.linux.as_ref()?;
                (linux.row != r.name).then_some((r.name.as_str(), linux.row.as_str()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, unit: &str, median: u64) -> Row {
        Row {
            name: name.into(),
            unit: unit.into(),
            median,
            p10: median,
            p90: median,
            iterations: 10,
        }
    }

    const SEL4: &str = r#"
        [source]
        kernel = "seL4 test"
        build = "release"
        qemu = "-accel tcg"
        method = "sel4bench"
        unit = "instructions"

        [rows.ipc_call_reply_fast]
        median = 423
        operation = "round trip"

        [rows.signal_no_switch]
        median = 353
        operation = "signal"
    "#;

    #[test]
    fn the_checked_in_sel4_file_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/sel4.toml");
        let reference = Sel4Reference::load(&path).unwrap();
        assert_eq!(reference.source.unit, "instructions");
        assert_eq!(reference.rows["ipc_call_reply_fast"].median, 423);
        assert_eq!(reference.rows["yield_roundtrip"].median, 540);
        assert!(!reference.rows.contains_key("map_unmap_page"));
    }

    #[test]
    fn bad_sel4_files_are_clear_errors() {
        let unknown = SEL4.replace("median = 353", "median = 353\nmedain = 1");
        let err = format!("{:#}", Sel4Reference::parse(&unknown).unwrap_err());
        assert!(err.contains("medain"), "{err}");
        let zero = SEL4.replace("median = 353", "median = 0");
        let err = format!("{:#}", Sel4Reference::parse(&zero).unwrap_err());
        assert!(err.contains("signal_no_switch"), "{err}");
        let unit = SEL4.replace("unit = \"instructions\"", "unit = \"ns\"");
        assert!(Sel4Reference::parse(&unit).is_err());
        let name = SEL4.replace("rows.signal_no_switch", "rows.Signal-No-Switch");
        assert!(Sel4Reference::parse(&name).is_err());
        let missing = SEL4.replace("operation = \"signal\"", "");
        let err = format!("{:#}", Sel4Reference::parse(&missing).unwrap_err());
        assert!(err.contains("operation"), "{err}");
    }

    #[test]
    fn summary_lines_up_the_sides_and_tolerates_missing_ones() {
        let sel4 = Sel4Reference::parse(SEL4).unwrap();
        let mica = [
            row("null_syscall", "instructions", 100),
            row("ipc_call_reply_fast", "instructions", 846),
            row("timer_deadline_error_us", "us", 3),
        ];
        let linux = [
            row("null_syscall", "instructions", 327),
            row("pipe_pingpong", "instructions", 12_826),
            row("clock_read", "instructions", 71),
            row("timer_deadline_error_us", "us", 55),
        ];
        let summary = Summary::new("instructions", &mica, &linux, Some(&sel4));
        let names: Vec<&str> = summary.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "null_syscall",
                "ipc_call_reply_fast",
                "timer_deadline_error_us",
                "pipe_pingpong",
                "clock_read",
                "signal_no_switch"
            ]
        );
        let ipc = &summary.rows[1];
        assert_eq!(ipc.linux.as_ref().unwrap().row, "pipe_pingpong");
        assert_eq!(ipc.sel4.as_ref().unwrap().median, 423);
        assert_eq!(ipc.mica_over_sel4, Some(2.0));
        let null = &summary.rows[0];
        assert!(null.sel4.is_none() && null.mica_over_sel4.is_none());
        assert!((null.mica_over_linux.unwrap() - 100.0 / 327.0).abs() < 1e-12);
        let timer = &summary.rows[2];
        assert_eq!(timer.unit, "us");
        assert_eq!(timer.linux.as_ref().unwrap().median, 55);
        let clock = &summary.rows[4];
        assert!(clock.mica.is_none() && clock.linux.is_some() && clock.mica_over_linux.is_none());
        let signal = &summary.rows[5];
        assert!(signal.mica.is_none() && signal.linux.is_none());
        assert_eq!(signal.sel4.as_ref().unwrap().median, 353);
        assert_eq!(
            summary.counterparts_used(),
            [("ipc_call_reply_fast", "pipe_pingpong")]
        );
    }

    #[test]
    fn linux_only_rows_need_no_mica_or_sel4_figure() {
        // Rows Linux measures before Mica does (fork, pipe throughput, files):
        // shown with Linux's figure alone, no ratio, nothing asked of sel4.toml.
        let sel4 = Sel4Reference::parse(SEL4).unwrap();
        let mica = [row("null_syscall", "instructions", 100)];
        let linux = [
            row("null_syscall", "instructions", 323),
            row("fork_exit_wait", "instructions", 262_258),
            row("file_stat", "instructions", 7_246),
        ];
        let summary = Summary::new("instructions", &mica, &linux, Some(&sel4));
        for (name, median) in [("fork_exit_wait", 262_258), ("file_stat", 7_246)] {
            let r = summary.rows.iter().find(|r| r.name == name).unwrap();
            assert_eq!(r.unit, "instructions");
            assert_eq!(r.linux.as_ref().map(|l| l.median), Some(median));
            assert!(r.mica.is_none() && r.sel4.is_none(), "{name}");
            assert!(r.mica_over_linux.is_none() && r.mica_over_sel4.is_none());
        }
        assert!(summary.counterparts_used().is_empty());
    }

    #[test]
    fn sel4_figures_need_the_same_unit() {
        let sel4 = Sel4Reference::parse(SEL4).unwrap();
        let mica = [row("ipc_call_reply_fast", "cycles", 900)];
        let summary = Summary::new("cycles", &mica, &[], Some(&sel4));
        assert_eq!(summary.rows.len(), 1);
        assert!(summary.rows[0].sel4.is_none());
        let summary = Summary::new("instructions", &[], &[], None);
        assert!(summary.rows.is_empty());
    }
}
