//! `target/bench/chart.svg`: the benchmark summary as horizontal bars.
//!
//! One panel per unit (instructions or cycles first, then `us`, `bytes`),
//! each with its own logarithmic axis whose decades are labelled at the top
//! and bottom. In a panel, one group per row: the row's name (and Mica's
//! ratios) on the left, then up to three bars, always in the same order
//! and colour: Mica, Linux, seL4. A side without a figure keeps its place
//! and shows a dash, so the colours line up down the chart. Each bar ends
//! in its median, written out; a Linux counterpart row of another name
//! (`pipe_pingpong` for the IPC rows) is named after the figure.
//!
//! The SVG is written by hand: a few dozen elements, all text escaped.
//! Called by `bench.rs` after every run.

use std::fmt::Write;

use crate::report::{Measured, Summary, SummaryRow};

/// Canvas width.
const WIDTH: f64 = 1000.0;
/// Left edge of row names.
const LABEL_X: f64 = 16.0;
/// Where the axis starts (value 10^lo).
const PLOT_X0: f64 = 260.0;
/// Where the axis ends (value 10^hi); the rest is room for value labels.
const PLOT_X1: f64 = 820.0;
/// Height of one bar, and the distance between bar tops in a group.
const BAR_H: f64 = 11.0;
const BAR_STEP: f64 = 14.0;
/// Space between two groups.
const GROUP_GAP: f64 = 10.0;
/// Height of a group: three bar slots and the gap.
const GROUP_H: f64 = 3.0 * BAR_STEP + GROUP_GAP;

/// Characters per footnote line (11 px text across the canvas).
const NOTE_CHARS: usize = 150;

/// The three sides, in drawing order: name, CSS class, fill colour
/// (Okabe-Ito colours, which stay apart for colour-blind readers).
const SIDES: [(&str, &str, &str); 3] = [
    ("Mica", "mica", "#D55E00"),
    ("Linux", "linux", "#0072B2"),
    ("seL4", "sel4", "#009E73"),
];

/// A logarithmic axis over whole decades, 10^lo_exp to 10^hi_exp,
/// mapped onto `x0..x0 + width`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LogScale {
    /// Exponent of the left end.
    pub(crate) lo_exp: i32,
    /// Exponent of the right end; always above `lo_exp`.
    pub(crate) hi_exp: i32,
    x0: f64,
    width: f64,
}

/// floor(log10(v)) for v >= 1, exactly.
fn floor_log10(v: u64) -> i32 {
    v.ilog10() as i32
}

/// ceil(log10(v)) for v >= 1, exactly.
fn ceil_log10(v: u64) -> i32 {
    let floor = v.ilog10();
    if 10u64.pow(floor) == v {
        floor as i32
    } else {
        floor as i32 + 1
    }
}

impl LogScale {
    /// The smallest run of whole decades that holds every positive value,
    /// starting one decade lower when the smallest value is itself a power
    /// of ten (so that its bar has a length). Zeros have no logarithm and
    /// are left out; with no positive value the axis is 1 to 10.
    pub(crate) fn covering(values: impl IntoIterator<Item = u64>, x0: f64, width: f64) -> Self {
        let positive = values.into_iter().filter(|&v| v > 0);
        let (min, max) = positive.fold((u64::MAX, 0), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (lo_exp, hi_exp) = if max == 0 {
            (0, 1)
        } else {
            let mut lo = floor_log10(min);
            if 10u64.pow(lo as u32) == min {
                lo -= 1;
            }
            (lo, ceil_log10(max).max(lo + 1))
        };
        Self {
            lo_exp,
            hi_exp,
            x0,
            width,
        }
    }

    /// The x coordinate of `value`; 0 (and anything below the axis) sits
    /// at the left end.
    pub(crate) fn x(&self, value: u64) -> f64 {
        if value == 0 {
            return self.x0;
        }
        let decades = f64::from(self.hi_exp - self.lo_exp);
        let at = ((value as f64).log10() - f64::from(self.lo_exp)) / decades;
        self.x0 + at.clamp(0.0, 1.0) * self.width
    }

    /// Each decade's exponent and x coordinate, left to right.
    pub(crate) fn decades(&self) -> impl Iterator<Item = (i32, f64)> + '_ {
        (self.lo_exp..=self.hi_exp).map(move |exp| {
            let at = f64::from(exp - self.lo_exp) / f64::from(self.hi_exp - self.lo_exp);
            (exp, self.x0 + at * self.width)
        })
    }

    /// The x coordinates of 2..9 times each decade (the minor grid).
    fn minor_ticks(&self) -> impl Iterator<Item = f64> + '_ {
        let decades = f64::from(self.hi_exp - self.lo_exp);
        (self.lo_exp..self.hi_exp).flat_map(move |exp| {
            (2..10).map(move |k| {
                let at = (f64::from(exp - self.lo_exp) + f64::from(k).log10()) / decades;
                self.x0 + at * self.width
            })
        })
    }
}

/// A decade's label: 1, 10, 100, 1k ... 100G; 0.1, 0.01 below 1.
pub(crate) fn decade_label(exp: i32) -> String {
    const SUFFIXES: [&str; 5] = ["", "k", "M", "G", "T"];
    if exp < 0 {
        return format!("{:.*}", exp.unsigned_abs() as usize, 10f64.powi(exp));
    }
    let group = (exp / 3) as usize;
    match SUFFIXES.get(group) {
        Some(suffix) => format!("{}{suffix}", 10u64.pow((exp % 3) as u32)),
        None => format!("1e{exp}"),
    }
}

/// `12826` -> `12,826`.
pub(crate) fn thousands(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `text` split at spaces into lines of at most `width` characters (a
/// longer word gets a line of its own).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A panel's heading for a unit.
fn unit_heading(unit: &str) -> &str {
    match unit {
        "us" => "microseconds",
        other => other,
    }
}

/// Text with XML's special characters escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// The units in the order their panels appear: the run's unit first.
fn units(summary: &Summary) -> Vec<&str> {
    let mut units = vec![summary.unit.as_str()];
    for row in &summary.rows {
        if !units.contains(&row.unit.as_str()) {
            units.push(&row.unit);
        }
    }
    units.retain(|u| summary.rows.iter().any(|r| r.unit == *u));
    units
}

/// The chart for `summary`. `config` says how it was measured (one line
/// under the title).
pub fn render(summary: &Summary, config: &str) -> String {
    let mut body = String::new();
    let mut y = 30.0;
    let _ = writeln!(
        body,
        r#"<text x="{LABEL_X}" y="{y}" font-size="18" font-weight="bold">Mica, Linux and seL4: median per operation (shorter is faster)</text>"#
    );
    y += 20.0;
    let _ = writeln!(
        body,
        r##"<text x="{LABEL_X}" y="{y}" fill="#444">{}</text>"##,
        esc(config)
    );
    y += 26.0;
    legend(&mut body, y);
    y += 14.0;

    let units = units(summary);
    if units.is_empty() {
        y += 30.0;
        let _ = writeln!(
            body,
            r#"<text x="{LABEL_X}" y="{y}">No benchmark rows.</text>"#
        );
    }
    for unit in units {
        let rows: Vec<&SummaryRow> = summary.rows.iter().filter(|r| r.unit == unit).collect();
        y = panel(&mut body, y + 24.0, unit, &rows);
    }

    y += 8.0;
    for note in footnotes(summary).iter().flat_map(|n| wrap(n, NOTE_CHARS)) {
        y += 15.0;
        let _ = writeln!(
            body,
            r##"<text x="{LABEL_X}" y="{y}" font-size="11" fill="#444">{}</text>"##,
            esc(&note)
        );
    }
    let height = (y + 20.0).ceil();

    let mut svg = String::new();
    let _ = writeln!(svg, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, "<title>Mica benchmarks</title>");
    let _ = writeln!(
        svg,
        r#"<rect width="{WIDTH}" height="{height}" fill="white"/>"#
    );
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

/// The three colour swatches and their names.
fn legend(out: &mut String, y: f64) {
    let mut x = LABEL_X;
    for (name, class, colour) in SIDES {
        let _ = writeln!(
            out,
            r#"<rect class="legend {class}" x="{x}" y="{}" width="14" height="{BAR_H}" fill="{colour}"/>"#,
            y - BAR_H + 1.0
        );
        let _ = writeln!(out, r#"<text x="{}" y="{y}">{name}</text>"#, x + 20.0);
        x += 90.0;
    }
    let _ = writeln!(
        out,
        r##"<text x="{x}" y="{y}" fill="#444">(a dash: no figure for that side)</text>"##
    );
}

/// One unit's panel starting at `top`; returns the y where it ends.
fn panel(out: &mut String, top: f64, unit: &str, rows: &[&SummaryRow]) -> f64 {
    let scale = LogScale::covering(
        rows.iter().flat_map(|r| {
            [
                r.mica.as_ref().map(|m| m.median),
                r.linux.as_ref().map(|l| l.median),
                r.sel4.as_ref().map(|s| s.median),
            ]
            .into_iter()
            .flatten()
        }),
        PLOT_X0,
        PLOT_X1 - PLOT_X0,
    );
    let _ = writeln!(
        out,
        r#"<text x="{LABEL_X}" y="{top}" font-size="14" font-weight="bold">{} <tspan font-weight="normal" font-size="12">(log scale)</tspan></text>"#,
        esc(unit_heading(unit))
    );
    let axis_top = top + 22.0;
    let groups_top = axis_top + 8.0;
    let groups_bottom = groups_top + GROUP_H * rows.len() as f64;
    let axis_bottom = groups_bottom + 4.0;

    // Alternate rows get a light band, so a row's bars and name stay together.
    for (i, _) in rows.iter().enumerate().filter(|(i, _)| i % 2 == 1) {
        let band_top = groups_top + GROUP_H * i as f64 - GROUP_GAP / 2.0;
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{band_top}" width="{}" height="{GROUP_H}" fill="#f3f3f3"/>"##,
            LABEL_X - 6.0,
            WIDTH - 2.0 * (LABEL_X - 6.0)
        );
    }
    for x in scale.minor_ticks() {
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{axis_top}" x2="{x:.1}" y2="{axis_bottom}" stroke="#e4e4e4"/>"##
        );
    }
    for (exp, x) in scale.decades() {
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{axis_top}" x2="{x:.1}" y2="{axis_bottom}" stroke="#aaa"/>"##
        );
        let label = esc(&decade_label(exp));
        for y in [axis_top - 4.0, axis_bottom + 14.0] {
            let _ = writeln!(
                out,
                r##"<text x="{x:.1}" y="{y}" text-anchor="middle" font-size="11" fill="#444">{label}</text>"##
            );
        }
    }

    for (i, row) in rows.iter().enumerate() {
        group(out, &scale, groups_top + GROUP_H * i as f64, row);
    }
    axis_bottom + 14.0
}

/// One row: its name and ratios on the left, three bar slots on the right.
fn group(out: &mut String, scale: &LogScale, top: f64, row: &SummaryRow) {
    let _ = writeln!(
        out,
        r#"<text x="{LABEL_X}" y="{}" font-weight="bold">{}</text>"#,
        top + BAR_H,
        esc(&row.name)
    );
    let ratios: Vec<String> = [("seL4", row.mica_over_sel4), ("Linux", row.mica_over_linux)]
        .into_iter()
        .filter_map(|(side, r)| Some(format!("{:.2}\u{d7} {side}", r?)))
        .collect();
    if !ratios.is_empty() {
        let _ = writeln!(
            out,
            r##"<text x="{LABEL_X}" y="{}" font-size="11" fill="#444">Mica = {}</text>"##,
            top + BAR_H + BAR_STEP,
            esc(&ratios.join(", "))
        );
    }

    let linux_label = |l: &Measured| {
        if l.row == row.name {
            thousands(l.median)
        } else {
            format!("{} ({})", thousands(l.median), l.row)
        }
    };
    let figures = [
        row.mica.as_ref().map(|m| (m.median, thousands(m.median))),
        row.linux.as_ref().map(|l| (l.median, linux_label(l))),
        row.sel4.as_ref().map(|s| (s.median, thousands(s.median))),
    ];
    for (slot, ((side, class, colour), figure)) in SIDES.iter().zip(figures).enumerate() {
        let bar_top = top + BAR_STEP * slot as f64;
        let text_y = bar_top + BAR_H - 1.5;
        let Some((value, label)) = figure else {
            let _ = writeln!(
                out,
                r##"<text class="missing {class}" x="{}" y="{text_y}" font-size="11" fill="#999">{side}: &#8211;</text>"##,
                PLOT_X0 + 4.0
            );
            continue;
        };
        let end = scale.x(value);
        let _ = writeln!(
            out,
            r#"<rect class="bar {class}" x="{PLOT_X0}" y="{bar_top}" width="{:.1}" height="{BAR_H}" fill="{colour}"><title>{side} {}: {}</title></rect>"#,
            end - PLOT_X0,
            esc(&row.name),
            esc(&label)
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{text_y}" font-size="11">{}</text>"#,
            end + 4.0,
            esc(&label)
        );
    }
}

/// The lines under the chart: where seL4's figures come from and which
/// Linux rows stand in for Mica rows.
fn footnotes(summary: &Summary) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(source) = &summary.sel4_source {
        notes.push(format!(
            "seL4: bench/sel4.toml. {}, {}. Method: {}. QEMU {}.",
            source.kernel, source.build, source.method, source.qemu
        ));
    }
    let pairs = summary.counterparts_used();
    let mut linux_rows: Vec<&str> = Vec::new();
    for (_, linux) in &pairs {
        if !linux_rows.contains(linux) {
            linux_rows.push(linux);
        }
    }
    for linux in linux_rows {
        let mica: Vec<&str> = pairs
            .iter()
            .filter(|(_, l)| *l == linux)
            .map(|(m, _)| *m)
            .collect();
        notes.push(format!(
            "Linux has no {}: its bar there is {linux}, the closest Linux mechanism.",
            mica.join(", ")
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Row, Sel4Reference};

    #[test]
    fn decades_are_exact_at_powers_of_ten() {
        assert_eq!((floor_log10(1), ceil_log10(1)), (0, 0));
        assert_eq!((floor_log10(9), ceil_log10(9)), (0, 1));
        assert_eq!((floor_log10(10), ceil_log10(10)), (1, 1));
        assert_eq!((floor_log10(11), ceil_log10(11)), (1, 2));
        assert_eq!((floor_log10(999), ceil_log10(999)), (2, 3));
        assert_eq!((floor_log10(1000), ceil_log10(1000)), (3, 3));
        assert_eq!((floor_log10(u64::MAX), ceil_log10(u64::MAX)), (19, 20));
    }

    #[test]
    fn scale_covers_the_values_in_whole_decades() {
        let scale = LogScale::covering([61, 0, 12_826, 423], 100.0, 400.0);
        assert_eq!((scale.lo_exp, scale.hi_exp), (1, 5));
        assert_eq!(scale.x(10), 100.0);
        assert!((scale.x(1000) - 300.0).abs() < 1e-9);
        assert!((scale.x(100_000) - 500.0).abs() < 1e-9);
        assert_eq!(scale.x(0), 100.0);
        // Values inside the axis land strictly inside it, in order.
        assert!(100.0 < scale.x(61) && scale.x(61) < scale.x(423));
        assert!(scale.x(12_826) < 500.0);
        let ticks: Vec<(i32, f64)> = scale.decades().collect();
        assert_eq!(ticks.len(), 5);
        assert_eq!(ticks[0], (1, 100.0));
        assert_eq!(ticks[4], (5, 500.0));
        assert_eq!(scale.minor_ticks().count(), 4 * 8);

        // A smallest value that is a power of ten still gets a bar.
        let scale = LogScale::covering([100, 1000], 0.0, 1.0);
        assert_eq!((scale.lo_exp, scale.hi_exp), (1, 3));
        assert!(scale.x(100) > 0.0);
        let scale = LogScale::covering([1], 0.0, 1.0);
        assert_eq!((scale.lo_exp, scale.hi_exp), (-1, 0));
        assert_eq!(scale.x(1), 1.0);

        // Nothing to draw: a default axis, no panic.
        let scale = LogScale::covering([0, 0], 0.0, 1.0);
        assert_eq!((scale.lo_exp, scale.hi_exp), (0, 1));
        let scale = LogScale::covering([], 0.0, 1.0);
        assert_eq!(scale.x(5), 5f64.log10());
    }

    #[test]
    fn labels() {
        let labels: Vec<String> = (-2..=10).map(decade_label).collect();
        assert_eq!(
            labels,
            [
                "0.01", "0.1", "1", "10", "100", "1k", "10k", "100k", "1M", "10M", "100M", "1G",
                "10G"
            ]
        );
        assert_eq!(decade_label(16), "1e16");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_826), "12,826");
        assert_eq!(thousands(6_099_743_743), "6,099,743,743");
        assert_eq!(
            esc(r#"a<b & "c">'"#),
            "a&lt;b &amp; &quot;c&quot;&gt;&apos;"
        );
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("aa bbbbbbb c", 5), ["aa", "bbbbbbb", "c"]);
        assert!(wrap("  ", 5).is_empty());
    }

    fn row(name: &str, unit: &str, median: u64) -> Row {
        Row {
            name: name.into(),
            unit: unit.into(),
            median,
            p10: median,
            p90: median,
            iterations: 1,
        }
    }

    #[test]
    fn svg_is_well_formed_with_missing_sides() {
        let sel4 = Sel4Reference::parse(
            r#"
            [source]
            kernel = "seL4 <test> & co"
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
            "#,
        )
        .unwrap();
        let mica = [
            row("null_syscall", "instructions", 0),
            row("ipc_call_reply_fast", "instructions", 846),
            row("thread_object_bytes", "bytes", 448),
            row("timer_deadline_error_us", "us", 3),
        ];
        let linux = [
            row("null_syscall", "instructions", 327),
            row("pipe_pingpong", "instructions", 12_826),
            row("clock_read", "instructions", 71),
            row("timer_deadline_error_us", "us", 55),
        ];
        let summary = Summary::new("instructions", &mica, &linux, Some(&sel4));
        let svg = render(&summary, "QEMU -icount shift=0 <&>");
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        let count = |class: &str| {
            doc.descendants()
                .filter(|n| n.attribute("class") == Some(class))
                .count()
        };
        // Mica: null_syscall (0 still gets a zero-width bar), ipc, bytes, us.
        assert_eq!(count("bar mica"), 4);
        // Linux: null_syscall, ipc (as pipe_pingpong), pipe_pingpong, clock_read, us.
        assert_eq!(count("bar linux"), 5);
        assert_eq!(count("bar sel4"), 2);
        // Seven rows, three slots each.
        assert_eq!(count("missing mica") + count("bar mica"), 7);
        assert_eq!(count("missing linux") + count("bar linux"), 7);
        assert_eq!(count("missing sel4") + count("bar sel4"), 7);
        // Three panels, in the run's unit first.
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        let at = |t: &str| texts.iter().position(|x| *x == t).unwrap();
        assert!(at("instructions ") < at("bytes ") && at("bytes ") < at("microseconds "));
        assert!(texts.contains(&"12,826 (pipe_pingpong)"));
        assert!(texts.iter().any(|t| t.contains("seL4 <test> & co")));
        for node in doc.descendants().filter(|n| n.has_tag_name("rect")) {
            let width: f64 = node.attribute("width").unwrap().parse().unwrap();
            assert!((0.0..=WIDTH).contains(&width), "{width}");
        }

        let empty = Summary::new("instructions", &[], &[], None);
        roxmltree::Document::parse(&render(&empty, "")).unwrap();
    }
}
