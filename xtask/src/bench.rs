//! `cargo xtask bench`: the benchmarks on Mica and on Linux, booted in the
//! same QEMU configuration, printed side by side with seL4's figures from
//! `bench/sel4.toml` and the ratios. Writes `target/bench/mica.json`,
//! `linux.json`, `summary.json` (all three per row) and `chart.svg`. Never
//! fails on a number: a side without a figure prints as `-`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::build;
use crate::chart;
use crate::linux::{LinuxBenchConfig, run_linux_bench};
use crate::qemu::{self, Accel};
use crate::report::{Row, Sel4Reference, Summary};

const TIMEOUT: Duration = Duration::from_secs(600);

/// seL4's figures, relative to the repository root.
const SEL4_FIGURES: &str = "bench/sel4.toml";

/// Which sides `run` measures.
pub struct Sides {
    /// Boot Mica (`--no-mica` clears it).
    pub mica: bool,
    /// Boot Linux (`--no-linux` clears it).
    pub linux: bool,
    /// Only the rows whose names contain this (`--only`).
    pub only: Option<String>,
}

/// Runs the sides asked for and prints the table.
pub fn run(accel: Option<Accel>, sides: &Sides, extra: &[String]) -> Result<ExitCode> {
    // A bad reference file should stop the run before minutes of booting.
    let sel4 = Sel4Reference::load(&build::root().join(SEL4_FIGURES))?;
    qemu::ensure_qemu()?;
    let accel = accel.unwrap_or(Accel::Tcg);
    let accel_args = qemu::accel_args(Some(accel), true);
    let unit = if accel == Accel::Kvm {
        "cycles"
    } else {
        "instructions"
    };
    let out = build::root().join("target/bench");
    std::fs::create_dir_all(&out)?;

    let mica = if sides.mica {
        run_mica(&accel_args, unit, sides.only.as_deref(), extra, &out)?
    } else {
        Vec::new()
    };
    let linux = if sides.linux {
        let (cpu_args, cpu) = split_cpu(&accel_args)?;
        let cfg = LinuxBenchConfig {
            accel_args: cpu_args,
            cpu,
            memory: "512M".into(),
            smp: 1,
            extra_qemu_args: extra.to_vec(),
            unit: unit.into(),
            only: sides.only.clone(),
            workdir: build::root().join("target/linux"),
            serial_log: out.join("linux-serial.log"),
        };
        match run_linux_bench(&cfg) {
            Ok(rows) => {
                std::fs::write(out.join("linux.json"), serde_json::to_string_pretty(&rows)?)?;
                rows
            }
            Err(e) => {
                println!("xtask: the Linux side failed, showing Mica only: {e:#}");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };

    // boot_to_prompt's Linux column is the anchor, when the units agree.
    let mut linux_and_anchor = linux.clone();
    let anchored = unit == "instructions" && mica.iter().any(|r| r.name == PROMPT_ROW);
    if anchored {
        linux_and_anchor.push(Row {
            name: PROMPT_ROW.into(),
            unit: unit.into(),
            median: LINUX_BOOT_ANCHOR,
            p10: LINUX_BOOT_ANCHOR,
            p90: LINUX_BOOT_ANCHOR,
            iterations: 1,
        });
    }
    let summary = Summary::new(unit, &mica, &linux_and_anchor, Some(&sel4));
    print_table(&summary);
    if anchored {
        println!(
            "({PROMPT_ROW}: the Linux figure is an anchor, not measured in this run: Linux 6.1's bzImage boot to /init, ../shared/BENCH-ANCHORS.md; the bar is 20,000,000)"
        );
    }
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    let config = format!(
        "QEMU {} -smp 1 -m 512M; Linux with mitigations=off; seL4 from {SEL4_FIGURES}",
        accel_args.join(" ")
    );
    std::fs::write(out.join("chart.svg"), chart::render(&summary, &config))?;
    println!("xtask: wrote {} (summary.json, chart.svg)", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Builds and boots Mica's benchmark run, then the normal system for
/// `boot_to_prompt`; writes `mica.json`. `only` (`--only`, or an `only=`
/// in an `-append` among `extra`) picks the rows, and with them which of
/// the two boots run: a part of `boot_to_prompt` that holds `prompt`
/// runs only the second.
fn run_mica(
    accel_args: &[String],
    unit: &str,
    only: Option<&str>,
    extra: &[String],
    out: &Path,
) -> Result<Vec<Row>> {
    let art = build::build_all()?;
    let only = only.map(str::to_owned).or_else(|| only_row(extra));
    let prompt_wanted = only.as_deref().is_none_or(|o| PROMPT_ROW.contains(o));
    let prompt_only = only
        .as_deref()
        .is_some_and(|o| PROMPT_ROW.contains(o) && o.contains("prompt"));
    let mut mica = Vec::new();
    if !prompt_only {
        let only = only
            .as_deref()
            .map_or_else(String::new, |name| format!(" only={name}"));
        let cmd = qemu::command(
            &art,
            accel_args,
            &format!("system=test mode=bench unit={unit}{only}"),
            false,
            extra,
        );
        println!("xtask: benchmarking Mica ({})", accel_args.join(" "));
        let run = qemu::run_captured(cmd, TIMEOUT, &out.join("mica-serial.log"), &[], |line| {
            if line.starts_with("BENCH ") {
                println!("mica: {line}");
            }
        })?;
        mica = crate::linux::parse_bench_output(&run.lines).with_context(|| {
            format!(
                "Mica's benchmark run failed; last lines:\n{}",
                qemu::tail(&run.lines, 20)
            )
        })?;
    }
    if prompt_wanted {
        mica.extend(boot_to_prompt(&art, accel_args, unit, extra, out)?);
    }
    std::fs::write(out.join("mica.json"), serde_json::to_string_pretty(&mica)?)?;
    Ok(mica)
}

/// The row the normal system's boot measures.
const PROMPT_ROW: &str = "boot_to_prompt";

/// Linux's figure for `boot_to_prompt`, not measured here: Linux 6.1's
/// bzImage to `/init` in the same QEMU configuration under icount
/// (`../shared/BENCH-ANCHORS.md`, "boot to `/init`").
const LINUX_BOOT_ANCHOR: u64 = 6_099_743_743;

/// The `only=` word of an `-append` among QEMU's extra arguments.
fn only_row(extra: &[String]) -> Option<String> {
    let at = extra.iter().position(|a| a == "-append")?;
    extra
        .get(at + 1)?
        .split_whitespace()
        .find_map(|w| w.strip_prefix("only="))
        .map(str::to_owned)
}

/// Boots the normal system (`mode=bench`: init hands every program the
/// kernel's entry TSC, and `sh` prints the row when its first prompt is
/// written) and stops QEMU at the row. Extra arguments apply except an
/// `-append`, which would replace the command line this needs.
fn boot_to_prompt(
    art: &build::Artifacts,
    accel_args: &[String],
    unit: &str,
    extra: &[String],
    out: &Path,
) -> Result<Vec<Row>> {
    let rest = qemu::without_append(extra);
    let cmd = qemu::command(
        art,
        accel_args,
        &format!("mode=bench unit={unit}"),
        false,
        &rest,
    );
    println!("xtask: booting the normal system to its prompt");
    let log = out.join("mica-prompt-serial.log");
    let run = qemu::run_until(cmd, TIMEOUT, &log, &[], Some("BENCH-DONE"), |line| {
        if line.starts_with("BENCH boot_to_prompt") {
            println!("mica: {line}");
        }
    })?;
    let rows = crate::linux::parse_bench_output(&run.lines).with_context(|| {
        format!(
            "the boot to the prompt failed; last lines:\n{}",
            qemu::tail(&run.lines, 20)
        )
    })?;
    Ok(rows.into_iter().filter(|r| r.name == PROMPT_ROW).collect())
}

/// Separates `-cpu X` from the accelerator arguments.
fn split_cpu(args: &[String]) -> Result<(Vec<String>, String)> {
    let Some(at) = args.iter().position(|a| a == "-cpu") else {
        bail!("no -cpu in {args:?}")
    };
    let mut rest = args.to_vec();
    let cpu = rest.remove(at + 1);
    rest.remove(at);
    Ok((rest, cpu))
}

/// `-` for a missing figure.
fn cell<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn print_table(summary: &Summary) {
    println!();
    println!(
        "{:<24} {:>12} {:>10} {:>10} {:>8}   {:>12} {:>10}   {:>10} {:>10}",
        "benchmark",
        "mica median",
        "p10",
        "p90",
        "iters",
        "linux median",
        "mica/linux",
        "sel4",
        "mica/sel4"
    );
    for row in &summary.rows {
        let m = row.mica.as_ref();
        println!(
            "{:<24} {:>12} {:>10} {:>10} {:>8}   {:>12} {:>10}   {:>10} {:>10}",
            row.name,
            cell(m.map(|r| r.median)),
            cell(m.map(|r| r.p10)),
            cell(m.map(|r| r.p90)),
            cell(m.map(|r| r.iterations)),
            cell(row.linux.as_ref().map(|r| r.median)),
            cell(row.mica_over_linux.map(|r| format!("{r:.2}"))),
            cell(row.sel4.as_ref().map(|r| r.median)),
            cell(row.mica_over_sel4.map(|r| format!("{r:.2}"))),
        );
    }
    println!(
        "(unit: {}, except *_bytes rows (sizes in bytes) and *_us rows (microseconds))",
        summary.unit
    );
    for (mica, linux) in summary.counterparts_used() {
        println!("({mica} is compared with Linux {linux})");
    }
    match &summary.sel4_source {
        Some(source) => println!(
            "(seL4: {SEL4_FIGURES}, {}, {}; {})",
            source.kernel, source.build, source.qemu
        ),
        None => println!(
            "(no seL4 column: {SEL4_FIGURES} holds instructions under icount, this run measured {})",
            summary.unit
        ),
    }
}
