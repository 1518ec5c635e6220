//! `system.toml` and its variants (`system-test.toml`): read with unknown
//! fields denied, validated, and packed into `sysconf`'s binary form for
//! the initramfs (`etc/system.bin`, `etc/system-test.bin`).
//!
//! Validation collects every error, each naming its entry, so one build
//! shows everything wrong with the file. `cargo xtask build` calls
//! [`pack_file`] once per file; each error line starts with the file's
//! name. init decodes the result with `sysconf::Config::parse` and checks
//! it again. The schema is in docs/system.md.
//!
//! This file holds the schema (the serde types, whose fields mirror the
//! file's) and the entry points; the checks are in `validate`, the tests in
//! `tests`.

#[cfg(test)]
mod tests;
mod validate;

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Deserializer};

pub use validate::validate;

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
