//! `system.toml` and its variants (`system-test.toml`): read with unknown
//! fields denied, validated, and packed into `sysconf`'s binary form for
//! the initramfs (`etc/system.bin`, `etc/system-test.bin`).
//!
//! Validation collects every error, each naming its entry, so one build
//! shows everything wrong with the file. `cargo xtask build` calls
//! [`pack_file`] once per file; each error line starts with the file's
//! name. init decodes the result with `sysconf::Config::parse` and checks
//! it again. The schema is in docs/system.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Deserializer};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemToml {
    /// Global settings.
    #[serde(default)]
    pub system: Settings,
    /// Programs in start order.
    #[serde(default, rename = "program")]
    pub programs: Vec<ProgramToml>,
}

/// `[system]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The loader randomizes program addresses.
    #[serde(default = "yes")]
    pub aslr: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { aslr: true }
    }
}

fn yes() -> bool {
    true
}

/// One `[[program]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramToml {
    name: String,
    path: String,
    priority: u32,
    #[serde(default)]
    max_priority: Option<u32>,
    budget_frames: u32,
    #[serde(default)]
    least_budget_frames: Option<u32>,
    #[serde(default)]
    debug: bool,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    restart: RestartToml,
    #[serde(default)]
    io_ports: Vec<IoPortsToml>,
    #[serde(default)]
    irqs: Vec<IrqToml>,
    #[serde(default)]
    device_memory: Vec<DeviceMemoryToml>,
    #[serde(default)]
    serves: Vec<String>,
    #[serde(default)]
    client_of: Vec<String>,
    #[serde(default)]
    authority: Vec<AuthorityToml>,
}

/// One name of `authority = [...]`: a `sysconf::Authority` by its
/// kebab-case name. Read through `Authority::from_name`, so the names are
/// listed once, in sysconf; an unknown one is serde's "unknown variant"
/// error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AuthorityToml(sysconf::Authority);

impl<'de> Deserialize<'de> for AuthorityToml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        sysconf::Authority::from_name(&name)
            .map(AuthorityToml)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, &sysconf::Authority::NAMES))
    }
}

/// `[program.restart]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestartToml {
    #[serde(default)]
    policy: PolicyToml,
    #[serde(default)]
    backoff_initial_ms: u32,
    #[serde(default)]
    backoff_max_ms: u32,
    #[serde(default)]
    min_run_ms: u32,
    #[serde(default)]
    give_up_after: u32,
    #[serde(default)]
    give_up_window_ms: u32,
}

impl Default for RestartToml {
    fn default() -> Self {
        RestartToml {
            policy: PolicyToml::Never,
            backoff_initial_ms: 0,
            backoff_max_ms: 0,
            min_run_ms: 0,
            give_up_after: 0,
            give_up_window_ms: 0,
        }
    }
}

#[derive(Debug, Default, Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum PolicyToml {
    #[default]
    Never,
    OnFailure,
    Always,
}

/// `{ base = 0x3f8, count = 8 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IoPortsToml {
    base: u64,
    count: u64,
}

/// `{ isa = 4 }` or `{ gsi = 20, level = true, active_low = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IrqToml {
    isa: Option<u64>,
    gsi: Option<u64>,
    #[serde(default)]
    level: bool,
    #[serde(default)]
    active_low: bool,
}

/// `{ phys = 0xfeb00000, pages = 2 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceMemoryToml {
    phys: u64,
    pages: u64,
}

/// Reads, validates and packs the configuration file at `path` (such as
/// `system.toml` or `system-test.toml`) into the bytes of its `.bin`.
///
/// # Errors
/// Reading, parsing or packing fails, or validation finds problems: then
/// the message lists every one, a line each, each line starting with the
/// file's name and naming its entry (`system-test.toml: program "serial":
/// budget_frames is 0`).
pub fn pack_file(path: &Path) -> Result<Vec<u8>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file = path.file_name().unwrap_or(path.as_os_str()).display();
    pack_lines(&text).map_err(|lines| {
        let lines: Vec<String> = lines.iter().map(|line| format!("{file}: {line}")).collect();
        anyhow::anyhow!("{} is not valid:\n{}", path.display(), lines.join("\n"))
    })
}

/// Parses, validates and packs `text`, or gives every problem, one a line.
fn pack_lines(text: &str) -> Result<Vec<u8>, Vec<String>> {
    let parsed: SystemToml =
        toml::from_str(text).map_err(|e| vec![format!("parsing: {}", e.to_string().trim_end())])?;
    let system = validate(&parsed)?;
    sysconf::encode(&system).map_err(|e| vec![format!("packing: {e}")])
}

/// A closed range of some resource held by one program, for overlap checks.
struct Held {
    program: String,
    start: u64,
    end: u64,
}

/// Checks `parsed` and returns the encoder's model, or every error.
pub fn validate(parsed: &SystemToml) -> Result<sysconf::System, Vec<String>> {
    let mut errors = Vec::new();
    let mut err =
        |program: &str, what: String| errors.push(format!("program \"{program}\": {what}"));
    let names: BTreeSet<&str> = parsed.programs.iter().map(|p| p.name.as_str()).collect();
    let mut seen = BTreeSet::new();
    let mut ports: Vec<Held> = Vec::new();
    let mut memory: Vec<Held> = Vec::new();
    let mut irqs: BTreeMap<String, String> = BTreeMap::new();
    let mut servers: BTreeMap<&str, &str> = BTreeMap::new();
    let mut programs = Vec::new();
    for p in &parsed.programs {
        let name = p.name.as_str();
        if !sysconf::is_name(name) {
            err(
                name,
                "the name must be lowercase letters, digits and '-', starting with a letter".into(),
            );
        }
        if !seen.insert(name) {
            err(name, "the name is used by an earlier program too".into());
        }
        if !sysconf::is_initramfs_path(&p.path) {
            err(
                name,
                format!("path \"{}\" is not of the form bin/<name>", p.path),
            );
        }
        if p.priority > u32::from(sysconf::MAX_PRIORITY) {
            err(
                name,
                format!("priority {} is above {}", p.priority, sysconf::MAX_PRIORITY),
            );
        }
        if let Some(max) = p.max_priority
            && (max > u32::from(sysconf::MAX_PRIORITY) || max < p.priority)
        {
            err(
                name,
                format!(
                    "max_priority {max} is above {} or below priority {}",
                    sysconf::MAX_PRIORITY,
                    p.priority
                ),
            );
        }
        if p.budget_frames == 0 {
            err(name, "budget_frames is 0".into());
        }
        if let Some(least) = p.least_budget_frames
            && (least == 0 || least > p.budget_frames)
        {
            err(
                name,
                format!(
                    "least_budget_frames {least} is 0 or above budget_frames {}",
                    p.budget_frames
                ),
            );
        }
        let r = &p.restart;
        if r.backoff_initial_ms > r.backoff_max_ms {
            err(
                name,
                format!(
                    "restart.backoff_initial_ms {} exceeds restart.backoff_max_ms {}",
                    r.backoff_initial_ms, r.backoff_max_ms
                ),
            );
        }
        if r.give_up_after != 0 && r.give_up_window_ms == 0 {
            err(
                name,
                "restart.give_up_after needs a nonzero restart.give_up_window_ms".into(),
            );
        }
        let mut grants = Vec::new();
        for range in &p.io_ports {
            let shown = format!(
                "{:#x}..{:#x}",
                range.base,
                range.base.saturating_add(range.count)
            );
            let end = range.base.checked_add(range.count);
            if range.count == 0 {
                err(name, format!("I/O ports at {:#x}: count is 0", range.base));
                continue;
            }
            if end.is_none_or(|end| end > sysconf::IO_PORT_SPACE.into()) {
                err(name, format!("I/O ports {shown} go past 0xffff"));
                continue;
            }
            let (start, end) = (range.base, range.base + range.count);
            for (first, count) in abi::syscall::KERNEL_IO_PORTS {
                let (k_start, k_end) = (u64::from(first), u64::from(first) + u64::from(count));
                if start < k_end && k_start < end {
                    err(
                        name,
                        format!(
                            "I/O ports {shown} include the kernel's own {k_start:#x}..{k_end:#x}"
                        ),
                    );
                }
            }
            for held in &ports {
                if start < held.end && held.start < end {
                    err(
                        name,
                        format!(
                            "I/O ports {shown} overlap program \"{}\"'s {:#x}..{:#x}",
                            held.program, held.start, held.end
                        ),
                    );
                }
            }
            ports.push(Held {
                program: name.into(),
                start,
                end,
            });
            grants.push(sysconf::GrantSpec::IoPorts {
                base: start as u16,
                count: range.count as u32,
            });
        }
        for irq in &p.irqs {
            let (key, grant) = match (irq.isa, irq.gsi) {
                (Some(line), None) => {
                    if line > u64::from(sysconf::MAX_ISA_IRQ) {
                        err(
                            name,
                            format!("ISA IRQ {line} is above {}", sysconf::MAX_ISA_IRQ),
                        );
                        continue;
                    }
                    if irq.level || irq.active_low {
                        err(
                            name,
                            format!(
                                "ISA IRQ {line}: level and active_low are for GSIs (the MADT says for ISA IRQs)"
                            ),
                        );
                    }
                    if line == 0 || line == 2 {
                        err(
                            name,
                            format!("ISA IRQ {line} is the kernel's (timer, 8259 cascade)"),
                        );
                    }
                    (
                        format!("ISA IRQ {line}"),
                        sysconf::GrantSpec::IrqIsa(line as u8),
                    )
                }
                (None, Some(gsi)) => {
                    if gsi > u64::from(sysconf::MAX_GSI) {
                        err(name, format!("GSI {gsi} is above {}", sysconf::MAX_GSI));
                        continue;
                    }
                    let grant = sysconf::GrantSpec::IrqGsi {
                        gsi: gsi as u32,
                        level: irq.level,
                        active_low: irq.active_low,
                    };
                    (format!("GSI {gsi}"), grant)
                }
                _ => {
                    err(name, "an IRQ needs exactly one of isa or gsi".into());
                    continue;
                }
            };
            if let Some(other) = irqs.get(&key) {
                err(name, format!("{key} is granted to program \"{other}\" too"));
            } else {
                irqs.insert(key, name.into());
            }
            grants.push(grant);
        }
        for range in &p.device_memory {
            let bytes = range.pages.checked_mul(sysconf::PAGE_BYTES);
            let end = bytes.and_then(|b| range.phys.checked_add(b));
            let shown = format!("{:#x} ({} pages)", range.phys, range.pages);
            if range.pages == 0 {
                err(name, format!("device memory {shown}: no pages"));
                continue;
            }
            if range.phys % sysconf::PAGE_BYTES != 0 {
                err(name, format!("device memory {shown}: not page-aligned"));
                continue;
            }
            let (Some(end), Ok(pages)) = (end, u32::try_from(range.pages)) else {
                err(name, format!("device memory {shown}: the end overflows"));
                continue;
            };
            for held in &memory {
                if range.phys < held.end && held.start < end {
                    err(
                        name,
                        format!(
                            "device memory {:#x}..{end:#x} overlaps program \"{}\"'s {:#x}..{:#x}",
                            range.phys, held.program, held.start, held.end
                        ),
                    );
                }
            }
            memory.push(Held {
                program: name.into(),
                start: range.phys,
                end,
            });
            grants.push(sysconf::GrantSpec::DeviceMemory {
                phys: range.phys,
                pages,
            });
        }
        for endpoint in &p.serves {
            if !sysconf::is_name(endpoint) {
                err(
                    name,
                    format!(
                        "endpoint name \"{endpoint}\" must be lowercase letters, digits and '-'"
                    ),
                );
            }
            if let Some(other) = servers.get(endpoint.as_str()) {
                err(
                    name,
                    format!("endpoint \"{endpoint}\" is served by program \"{other}\" too"),
                );
                continue;
            }
            servers.insert(endpoint.as_str(), name);
            grants.push(sysconf::GrantSpec::Serves(endpoint.clone()));
        }
        let mut authorities = BTreeSet::new();
        for &AuthorityToml(authority) in &p.authority {
            if authorities.insert(authority) {
                grants.push(sysconf::GrantSpec::Authority(authority));
            } else {
                err(name, format!("authority \"{authority}\" is listed twice"));
            }
        }
        let restart = sysconf::RestartPolicy {
            kind: match r.policy {
                PolicyToml::Never => sysconf::RestartKind::Never,
                PolicyToml::OnFailure => sysconf::RestartKind::OnFailure,
                PolicyToml::Always => sysconf::RestartKind::Always,
            },
            backoff_initial_ms: r.backoff_initial_ms,
            backoff_max_ms: r.backoff_max_ms,
            min_run_ms: r.min_run_ms,
            give_up_failures: r.give_up_after,
            give_up_window_ms: r.give_up_window_ms,
        };
        programs.push(sysconf::ProgramSpec {
            name: p.name.clone(),
            path: p.path.clone(),
            priority: p.priority.min(u32::from(sysconf::MAX_PRIORITY)) as u8,
            max_priority: p
                .max_priority
                .unwrap_or(0)
                .min(u32::from(sysconf::MAX_PRIORITY)) as u8,
            budget_frames: p.budget_frames,
            least_budget_frames: p.least_budget_frames.unwrap_or(p.budget_frames),
            restart,
            debug: p.debug,
            args: p.args.clone(),
            grants,
            depends_on: p.depends_on.clone(),
        });
    }
    // Names that refer to other entries, once every server is known.
    for (p, spec) in parsed.programs.iter().zip(&mut programs) {
        let name = p.name.as_str();
        for endpoint in &p.client_of {
            match servers.get(endpoint.as_str()) {
                None => err(
                    name,
                    format!("client of endpoint \"{endpoint}\", which no program serves"),
                ),
                Some(server) if *server == name => err(
                    name,
                    format!("client of endpoint \"{endpoint}\", which it serves itself"),
                ),
                Some(_) => spec
                    .grants
                    .push(sysconf::GrantSpec::ClientOf(endpoint.clone())),
            }
        }
        for dep in &p.depends_on {
            if !names.contains(dep.as_str()) {
                err(
                    name,
                    format!("depends_on names \"{dep}\", which is no program"),
                );
            }
        }
    }
    if let Some(cycle) = find_cycle(&parsed.programs) {
        err(
            &cycle[0],
            format!("dependency cycle: {}", cycle.join(" -> ")),
        );
    }
    if errors.is_empty() {
        Ok(sysconf::System {
            aslr: parsed.system.aslr,
            programs,
        })
    } else {
        Err(errors)
    }
}

/// A dependency cycle, as the names along it with the first repeated at
/// the end, or `None`. Unknown names are reported elsewhere and skipped.
fn find_cycle(programs: &[ProgramToml]) -> Option<Vec<String>> {
    let index: BTreeMap<&str, usize> = programs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; programs.len()];
    let mut path = Vec::new();
    fn visit(
        i: usize,
        programs: &[ProgramToml],
        index: &BTreeMap<&str, usize>,
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<String>> {
        state[i] = 1;
        path.push(i);
        for dep in &programs[i].depends_on {
            let Some(&j) = index.get(dep.as_str()) else {
                continue;
            };
            if state[j] == 1 {
                let from = path.iter().position(|&k| k == j).unwrap_or(0);
                let mut cycle: Vec<String> = path[from..]
                    .iter()
                    .map(|&k| programs[k].name.clone())
                    .collect();
                cycle.push(programs[j].name.clone());
                return Some(cycle);
            }
            if state[j] == 0
                && let Some(cycle) = visit(j, programs, index, state, path)
            {
                return Some(cycle);
            }
        }
        path.pop();
        state[i] = 2;
        None
    }
    (0..programs.len()).find_map(|i| {
        if state[i] == 0 {
            visit(i, programs, &index, &mut state, &mut path)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses, validates and packs `text`.
    fn pack(text: &str) -> Result<Vec<u8>> {
        pack_lines(text).map_err(|lines| anyhow::anyhow!(lines.join("\n")))
    }

    /// The errors `text` gives.
    fn errors(text: &str) -> Vec<String> {
        let parsed: SystemToml = toml::from_str(text).expect("parses");
        validate(&parsed).expect_err("is refused")
    }

    fn one_error(text: &str) -> String {
        let errors = errors(text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        errors[0].clone()
    }

    const SERIAL: &str = r#"
[[program]]
name = "serial"
path = "bin/serial"
priority = 10
budget_frames = 32
"#;

    /// SERIAL followed by `extra` inside its table.
    fn serial(extra: &str) -> String {
        format!("{SERIAL}{extra}\n")
    }

    fn other(extra: &str) -> String {
        format!(
            "\n[[program]]\nname = \"other\"\npath = \"bin/other\"\npriority = 10\nbudget_frames = 32\n{extra}\n"
        )
    }

    #[test]
    fn a_valid_system_packs_and_decodes() {
        let text = r#"
[system]
aslr = false

[[program]]
name = "serial"
path = "bin/serial"
priority = 10
budget_frames = 32
debug = true
args = ["--baud", "115200"]
io_ports = [{ base = 0x2f8, count = 8 }]
irqs = [{ isa = 3 }, { gsi = 20, level = true, active_low = true }]
device_memory = [{ phys = 0xfeb00000, pages = 2 }]
serves = ["serial"]
restart = { policy = "on-failure", backoff_initial_ms = 10, backoff_max_ms = 1000, min_run_ms = 500, give_up_after = 5, give_up_window_ms = 60000 }

[[program]]
name = "shell"
path = "bin/shell"
priority = 5
budget_frames = 64
client_of = ["serial"]
depends_on = ["serial"]
"#;
        let bytes = pack(text).unwrap();
        let config = sysconf::Config::parse(&bytes).unwrap();
        assert!(!config.aslr());
        let programs: Vec<_> = config.programs().map(Result::unwrap).collect();
        assert_eq!(programs[0].name, "serial");
        assert_eq!(programs[0].grant_count(), 5);
        assert_eq!(programs[0].restart.kind, sysconf::RestartKind::OnFailure);
        assert_eq!(programs[1].depends_on().collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn aslr_defaults_to_true() {
        let bytes = pack(SERIAL).unwrap();
        assert!(sysconf::Config::parse(&bytes).unwrap().aslr());
    }

    #[test]
    fn every_system_toml_of_the_repository_is_valid() {
        // system.toml, system-test.toml and any other system*.toml.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut checked = Vec::new();
        for entry in std::fs::read_dir(&root).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !(name.starts_with("system") && name.ends_with(".toml")) {
                continue;
            }
            let bytes = pack_file(&path).unwrap_or_else(|e| panic!("{e:#}"));
            let config = sysconf::Config::parse(&bytes).unwrap();
            assert!(config.programs().all(|p| p.is_ok()), "{name}");
            checked.push(name);
        }
        assert!(checked.iter().any(|n| n == "system.toml"), "{checked:?}");
    }

    /// A scratch file named `name` holding `text`, in a directory of its
    /// own.
    fn scratch_file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-system-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn pack_file_names_the_file_on_every_line() {
        let text = SERIAL.replace("budget_frames = 32", "budget_frames = 0")
            + "authority = [\"boot-info\", \"boot-info\"]\n";
        let path = scratch_file("system-test.toml", &text);
        let message = pack_file(&path).unwrap_err().to_string();
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(
            lines[1..],
            [
                "system-test.toml: program \"serial\": budget_frames is 0",
                "system-test.toml: program \"serial\": authority \"boot-info\" is listed twice",
            ]
        );
        assert!(
            lines[0].ends_with("system-test.toml is not valid:"),
            "{message}"
        );

        let path = scratch_file("system-bad.toml", "[[program]]\nname = 1\n");
        let message = pack_file(&path).unwrap_err().to_string();
        assert!(
            message.contains("\nsystem-bad.toml: parsing: TOML parse error"),
            "{message}"
        );

        let path = scratch_file("system-good.toml", SERIAL);
        let bytes = pack_file(&path).unwrap();
        assert_eq!(sysconf::Config::parse(&bytes).unwrap().program_count(), 1);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn authorities() {
        let bytes = pack(&serial(
            "authority = [\"io-space\", \"boot-info\", \"supervisor\"]",
        ))
        .unwrap();
        let config = sysconf::Config::parse(&bytes).unwrap();
        let program = config.program(0).unwrap();
        let granted: Vec<_> = program.grants().collect();
        assert_eq!(
            granted,
            [
                sysconf::Grant::Authority(sysconf::Authority::IoSpace),
                sysconf::Grant::Authority(sysconf::Authority::BootInfo),
                sysconf::Grant::Authority(sysconf::Authority::Supervisor),
            ]
        );
        // Every name sysconf knows is accepted.
        let all: Vec<String> = sysconf::Authority::ALL
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect();
        let bytes = pack(&serial(&format!("authority = [{}]", all.join(", ")))).unwrap();
        let config = sysconf::Config::parse(&bytes).unwrap();
        let program = config.program(0).unwrap();
        assert!(
            sysconf::Authority::ALL
                .iter()
                .all(|&a| program.has_authority(a))
        );
        // Two programs may hold the same authority.
        let text = serial("authority = [\"io-space\"]") + &other("authority = [\"io-space\"]");
        pack(&text).unwrap();
    }

    #[test]
    fn bad_authorities() {
        let e = toml::from_str::<SystemToml>(&serial("authority = [\"io_space\"]")).unwrap_err();
        assert!(
            e.to_string().contains(
                "unknown variant `io_space`, expected one of `io-space`, `irq-control`, \
                 `device-memory`, `initramfs`, `boot-info`, `supervisor`"
            ),
            "{e}"
        );
        let e = toml::from_str::<SystemToml>(&serial("authority = \"io-space\"")).unwrap_err();
        assert!(e.to_string().contains("invalid type"), "{e}");
        assert_eq!(
            one_error(&serial(
                "authority = [\"io-space\", \"irq-control\", \"io-space\"]"
            )),
            "program \"serial\": authority \"io-space\" is listed twice"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = toml::from_str::<SystemToml>(&serial("colour = \"red\"")).unwrap_err();
        assert!(e.to_string().contains("unknown field `colour`"), "{e}");
        let e = toml::from_str::<SystemToml>("[system]\naslr = true\nkaslr = 1\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `kaslr`"), "{e}");
        let e =
            toml::from_str::<SystemToml>(&serial("io_ports = [{ base = 1, count = 1, size = 2 }]"))
                .unwrap_err();
        assert!(e.to_string().contains("unknown field `size`"), "{e}");
        let e = toml::from_str::<SystemToml>(&serial("restart = { policy = \"sometimes\" }"))
            .unwrap_err();
        assert!(e.to_string().contains("unknown variant `sometimes`"), "{e}");
    }

    #[test]
    fn bad_names_and_duplicates() {
        assert_eq!(
            one_error(&format!("{SERIAL}{SERIAL}")),
            "program \"serial\": the name is used by an earlier program too"
        );
        assert_eq!(
            one_error(&SERIAL.replace("name = \"serial\"", "name = \"Serial\"")),
            "program \"Serial\": the name must be lowercase letters, digits and '-', starting with a letter"
        );
    }

    #[test]
    fn bad_path() {
        for path in [
            "serial",
            "/bin/serial",
            "bin/",
            "bin/../serial",
            "bin//serial",
        ] {
            let text = SERIAL.replace("bin/serial", path);
            assert_eq!(
                one_error(&text),
                format!("program \"serial\": path \"{path}\" is not of the form bin/<name>")
            );
        }
    }

    #[test]
    fn priority_out_of_range() {
        assert_eq!(
            one_error(&SERIAL.replace("priority = 10", "priority = 64")),
            "program \"serial\": priority 64 is above 63"
        );
    }

    #[test]
    fn max_priority_out_of_range() {
        assert_eq!(
            one_error(&SERIAL.replace("priority = 10", "priority = 10\nmax_priority = 9")),
            "program \"serial\": max_priority 9 is above 63 or below priority 10"
        );
        assert_eq!(
            one_error(&SERIAL.replace("priority = 10", "priority = 10\nmax_priority = 64")),
            "program \"serial\": max_priority 64 is above 63 or below priority 10"
        );
        let text = SERIAL.replace("priority = 10", "priority = 10\nmax_priority = 63");
        let packed = pack_lines(&text).unwrap();
        let decoded = sysconf::Config::parse(&packed).unwrap();
        assert_eq!(decoded.program(0).unwrap().max_priority, 63);
    }

    #[test]
    fn zero_budget() {
        assert_eq!(
            one_error(&SERIAL.replace("budget_frames = 32", "budget_frames = 0")),
            "program \"serial\": budget_frames is 0"
        );
    }

    #[test]
    fn least_budget() {
        for least in [0, 33] {
            assert_eq!(
                one_error(&SERIAL.replace(
                    "budget_frames = 32",
                    &format!("budget_frames = 32\nleast_budget_frames = {least}")
                )),
                format!(
                    "program \"serial\": least_budget_frames {least} is 0 or above budget_frames 32"
                )
            );
        }
        let text = SERIAL.replace(
            "budget_frames = 32",
            "budget_frames = 32\nleast_budget_frames = 8",
        );
        let packed = pack_lines(&text).unwrap();
        let decoded = sysconf::Config::parse(&packed).unwrap();
        assert_eq!(decoded.program(0).unwrap().least_budget_frames, 8);
        // Without the field, the least is the ask.
        let packed = pack_lines(SERIAL).unwrap();
        let decoded = sysconf::Config::parse(&packed).unwrap();
        assert_eq!(decoded.program(0).unwrap().least_budget_frames, 32);
    }

    #[test]
    fn bad_restart() {
        assert_eq!(
            one_error(&serial(
                "restart = { policy = \"always\", backoff_initial_ms = 20, backoff_max_ms = 10 }"
            )),
            "program \"serial\": restart.backoff_initial_ms 20 exceeds restart.backoff_max_ms 10"
        );
        assert_eq!(
            one_error(&serial(
                "restart = { policy = \"always\", give_up_after = 3 }"
            )),
            "program \"serial\": restart.give_up_after needs a nonzero restart.give_up_window_ms"
        );
    }

    #[test]
    fn malformed_io_ports() {
        assert_eq!(
            one_error(&serial("io_ports = [{ base = 0x2f8, count = 0 }]")),
            "program \"serial\": I/O ports at 0x2f8: count is 0"
        );
        assert_eq!(
            one_error(&serial("io_ports = [{ base = 0xfff8, count = 9 }]")),
            "program \"serial\": I/O ports 0xfff8..0x10001 go past 0xffff"
        );
        assert_eq!(
            one_error(&serial(
                "io_ports = [{ base = 0xffffffffffffffff, count = 2 }]"
            )),
            "program \"serial\": I/O ports 0xffffffffffffffff..0xffffffffffffffff go past 0xffff"
        );
    }

    #[test]
    fn kernel_io_ports() {
        assert_eq!(
            one_error(&serial("io_ports = [{ base = 0xe8, count = 2 }]")),
            "program \"serial\": I/O ports 0xe8..0xea include the kernel's own 0xe9..0xea"
        );
        assert_eq!(
            one_error(&serial("io_ports = [{ base = 0xf0, count = 8 }]")),
            "program \"serial\": I/O ports 0xf0..0xf8 include the kernel's own 0xf4..0xf5"
        );
    }

    #[test]
    fn overlapping_io_ports() {
        let text = serial("io_ports = [{ base = 0x2f8, count = 8 }]")
            + &other("io_ports = [{ base = 0x2fc, count = 4 }]");
        assert_eq!(
            one_error(&text),
            "program \"other\": I/O ports 0x2fc..0x300 overlap program \"serial\"'s 0x2f8..0x300"
        );
        assert_eq!(
            one_error(&serial(
                "io_ports = [{ base = 0x2f8, count = 8 }, { base = 0x2f8, count = 1 }]"
            )),
            "program \"serial\": I/O ports 0x2f8..0x2f9 overlap program \"serial\"'s 0x2f8..0x300"
        );
    }

    #[test]
    fn bad_irqs() {
        assert_eq!(
            one_error(&serial("irqs = [{ isa = 16 }]")),
            "program \"serial\": ISA IRQ 16 is above 15"
        );
        assert_eq!(
            one_error(&serial("irqs = [{ gsi = 256 }]")),
            "program \"serial\": GSI 256 is above 255"
        );
        assert_eq!(
            one_error(&serial("irqs = [{ isa = 0 }]")),
            "program \"serial\": ISA IRQ 0 is the kernel's (timer, 8259 cascade)"
        );
        assert_eq!(
            one_error(&serial("irqs = [{ isa = 3, gsi = 3 }]")),
            "program \"serial\": an IRQ needs exactly one of isa or gsi"
        );
        assert_eq!(
            one_error(&serial("irqs = [{ isa = 3, level = true }]")),
            "program \"serial\": ISA IRQ 3: level and active_low are for GSIs (the MADT says for ISA IRQs)"
        );
        let text = serial("irqs = [{ isa = 4 }]") + &other("irqs = [{ isa = 4 }]");
        assert_eq!(
            one_error(&text),
            "program \"other\": ISA IRQ 4 is granted to program \"serial\" too"
        );
    }

    #[test]
    fn bad_device_memory() {
        assert_eq!(
            one_error(&serial("device_memory = [{ phys = 0x1000, pages = 0 }]")),
            "program \"serial\": device memory 0x1000 (0 pages): no pages"
        );
        assert_eq!(
            one_error(&serial("device_memory = [{ phys = 0x1001, pages = 1 }]")),
            "program \"serial\": device memory 0x1001 (1 pages): not page-aligned"
        );
        assert_eq!(
            one_error(&serial(
                "device_memory = [{ phys = 0xfffffffffffff000, pages = 2 }]"
            )),
            "program \"serial\": device memory 0xfffffffffffff000 (2 pages): the end overflows"
        );
        let text = serial("device_memory = [{ phys = 0x10000, pages = 4 }]")
            + &other("device_memory = [{ phys = 0x12000, pages = 4 }]");
        assert_eq!(
            one_error(&text),
            "program \"other\": device memory 0x12000..0x16000 overlaps program \"serial\"'s 0x10000..0x14000"
        );
    }

    #[test]
    fn endpoints() {
        let text = serial("serves = [\"tty\"]") + &other("serves = [\"tty\"]");
        assert_eq!(
            one_error(&text),
            "program \"other\": endpoint \"tty\" is served by program \"serial\" too"
        );
        assert_eq!(
            one_error(&serial("client_of = [\"tty\"]")),
            "program \"serial\": client of endpoint \"tty\", which no program serves"
        );
        assert_eq!(
            one_error(&serial("serves = [\"tty\"]\nclient_of = [\"tty\"]")),
            "program \"serial\": client of endpoint \"tty\", which it serves itself"
        );
        assert_eq!(
            one_error(&serial("serves = [\"TTY\"]")),
            "program \"serial\": endpoint name \"TTY\" must be lowercase letters, digits and '-'"
        );
    }

    #[test]
    fn dependencies() {
        assert_eq!(
            one_error(&serial("depends_on = [\"nobody\"]")),
            "program \"serial\": depends_on names \"nobody\", which is no program"
        );
        assert_eq!(
            one_error(&serial("depends_on = [\"serial\"]")),
            "program \"serial\": dependency cycle: serial -> serial"
        );
        let text = serial("depends_on = [\"other\"]") + &other("depends_on = [\"serial\"]");
        assert_eq!(
            one_error(&text),
            "program \"serial\": dependency cycle: serial -> other -> serial"
        );
    }

    #[test]
    fn every_error_is_reported() {
        let text = SERIAL
            .replace("priority = 10", "priority = 99")
            .replace("budget_frames = 32", "budget_frames = 0")
            + "client_of = [\"nothing\"]\n";
        assert_eq!(
            errors(&text),
            [
                "program \"serial\": priority 99 is above 63",
                "program \"serial\": budget_frames is 0",
                "program \"serial\": client of endpoint \"nothing\", which no program serves",
            ]
        );
    }
}
