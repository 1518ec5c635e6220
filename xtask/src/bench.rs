//! `cargo xtask bench`: the benchmarks on Mica and on Linux, booted in the
//! same QEMU configuration, printed side by side with their ratio and
//! written to `target/bench/{mica,linux}.json`. Never fails on a number.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::build;
use crate::linux::{LinuxBenchConfig, run_linux_bench};
use crate::qemu::{self, Accel};
use crate::report::Row;

const TIMEOUT: Duration = Duration::from_secs(600);

/// Runs both sides and prints the table.
pub fn run(accel: Option<Accel>, no_linux: bool, extra: &[String]) -> Result<ExitCode> {
    qemu::ensure_qemu()?;
    let accel = accel.unwrap_or(Accel::Tcg);
    let accel_args = qemu::accel_args(Some(accel), true);
    let unit = if accel == Accel::Kvm {
        "cycles"
    } else {
        "instructions"
    };
    let art = build::build_all()?;
    let out = build::root().join("target/bench");
    std::fs::create_dir_all(&out)?;

    let cmd = qemu::command(
        &art,
        &accel_args,
        &format!("mode=bench unit={unit}"),
        false,
        extra,
    );
    println!("xtask: benchmarking Mica ({})", accel_args.join(" "));
    let run = qemu::run_captured(cmd, TIMEOUT, &out.join("mica-serial.log"), |line| {
        if line.starts_with("BENCH ") {
            println!("mica: {line}");
        }
    })?;
    let mica = crate::linux::parse_bench_output(&run.lines).with_context(|| {
        format!(
            "Mica's benchmark run failed; last lines:\n{}",
            qemu::tail(&run.lines, 20)
        )
    })?;
    std::fs::write(out.join("mica.json"), serde_json::to_string_pretty(&mica)?)?;

    let linux = if no_linux {
        Vec::new()
    } else {
        let (cpu_args, cpu) = split_cpu(&accel_args)?;
        let cfg = LinuxBenchConfig {
            accel_args: cpu_args,
            cpu,
            memory: "512M".into(),
            smp: 1,
            extra_qemu_args: extra.to_vec(),
            unit: unit.into(),
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
    };
    print_table(&mica, &linux);
    println!("xtask: wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
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

/// Mica rows measured against a Linux row of another name (the closest
/// Linux mechanism for the same job).
const COUNTERPARTS: &[(&str, &str)] = &[
    ("ipc_call_reply_fast", "pipe_pingpong"),
    ("ipc_call_reply_fast_4w", "pipe_pingpong"),
    ("ipc_call_reply_slow", "pipe_pingpong"),
    ("ipc_call_reply_cap", "pipe_pingpong"),
    ("notify_roundtrip", "futex_pingpong"),
];

/// The Linux row a Mica row is compared with.
fn counterpart(name: &str) -> &str {
    COUNTERPARTS
        .iter()
        .find(|(mica, _)| *mica == name)
        .map_or(name, |(_, linux)| linux)
}

fn print_table(mica: &[Row], linux: &[Row]) {
    println!();
    println!(
        "{:<24} {:>12} {:>10} {:>10} {:>8}   {:>12} {:>10}",
        "benchmark", "mica median", "p10", "p90", "iters", "linux median", "mica/linux"
    );
    let mut names: Vec<&str> = mica.iter().map(|r| r.name.as_str()).collect();
    for r in linux {
        if !names.contains(&r.name.as_str()) {
            names.push(&r.name);
        }
    }
    for name in names {
        let m = mica.iter().find(|r| r.name == name);
        let linux_name = if m.is_some() { counterpart(name) } else { name };
        let l = linux.iter().find(|r| r.name == linux_name);
        let cell = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        let ratio = match (m, l) {
            (Some(m), Some(l)) if l.median > 0 => {
                format!("{:.2}", m.median as f64 / l.median as f64)
            }
            _ => "-".into(),
        };
        println!(
            "{:<24} {:>12} {:>10} {:>10} {:>8}   {:>12} {:>10}",
            name,
            cell(m.map(|r| r.median)),
            cell(m.map(|r| r.p10)),
            cell(m.map(|r| r.p90)),
            cell(m.map(|r| r.iterations)),
            cell(l.map(|r| r.median)),
            ratio
        );
    }
    let unit = mica.first().map_or("instructions", |r| r.unit.as_str());
    println!("(unit: {unit}; bytes rows are sizes)");
    for (mica, linux) in COUNTERPARTS {
        println!("({mica} is compared with Linux {linux})");
    }
}
