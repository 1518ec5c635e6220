//! Host tests of `system.toml` handling: a full file packs and decodes,
//! every `system*.toml` of the repository is valid, unknown fields are
//! refused, and each validation error has its exact message.

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
    let e = toml::from_str::<SystemToml>(&serial("io_ports = [{ base = 1, count = 1, size = 2 }]"))
        .unwrap_err();
    assert!(e.to_string().contains("unknown field `size`"), "{e}");
    let e =
        toml::from_str::<SystemToml>(&serial("restart = { policy = \"sometimes\" }")).unwrap_err();
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
