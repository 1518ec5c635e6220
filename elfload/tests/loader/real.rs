//! Real programs: tiny freestanding C programs built by the host's gcc
//! (static, and static-pie when gcc can), and any static executable the
//! host happens to have. Without gcc on PATH the tests say they were
//! skipped and pass; CI has gcc.

use std::path::{Path, PathBuf};
use std::process::Command;

use abi::layout::{PAGE_BYTES, STACK_TOP};
use elfload::{ElfError, Image, InitialStack, Kind, Options, parse, section, tls_layout};

use crate::invariants::{check_image, check_section};

/// A program with code, read-only data, data, .bss and thread-local
/// variables, that writes a line and exits with raw Linux syscalls.
const PROGRAM: &str = r#"
static const char message[] = "hello from elfload's test\n";
int counter = 5;
long table[3000];
__thread int tls_initialized = 3;
__thread long tls_zeroed[4];
__attribute__((used, section(".mica.manifest")))
static const unsigned char manifest[16] = "MMAN manifest 16";

void _start(void) {
    long result;
    counter += tls_initialized + (int)tls_zeroed[1];
    table[2999] = counter;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(1L), "D"(1L), "S"(message), "d"(sizeof message - 1)
                     : "rcx", "r11", "memory");
    __asm__ volatile("syscall" : : "a"(60L), "D"(0L) : "rcx", "r11", "memory");
    for (;;) {
    }
}
"#;

/// A fresh directory for one test's files.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("elfload-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether gcc runs; says so when it does not.
fn have_gcc(test: &str) -> bool {
    let found = Command::new("gcc").arg("--version").output().is_ok();
    if !found {
        eprintln!("{test}: skipped, gcc is not on PATH");
    }
    found
}

/// Compiles [`PROGRAM`] in `dir` with `flags`; `None` if gcc refuses them.
fn compile(dir: &Path, output: &str, flags: &[&str]) -> Option<Vec<u8>> {
    let source = dir.join("program.c");
    std::fs::write(&source, PROGRAM).unwrap();
    let binary = dir.join(output);
    let status = Command::new("gcc")
        .args(["-nostdlib", "-ffreestanding", "-O2", "-fno-stack-protector"])
        .args(flags)
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    Some(std::fs::read(binary).unwrap())
}

/// Checks the plan of a real program: the usual shape of a GNU ld output
/// (headers, text, read-only data, data with .bss), a stack and a TLS block
/// that can be written.
fn check_real(file: &[u8], opts: &Options) -> Image {
    let image = parse(file, opts).unwrap_or_else(|error| panic!("refused: {error}"));
    check_image(&image, file, opts);
    let segments = image.segments();
    assert!(segments.iter().any(|s| s.access.exec && !s.access.write));
    assert!(
        segments
            .iter()
            .any(|s| s.access.write && s.mem_bytes > s.file_bytes)
    );
    let bss: u64 = segments.iter().map(|s| s.mem_bytes - s.file_bytes).sum();
    assert!(bss >= 3000 * 8, "table is .bss");
    assert!(image.phdr().is_some(), "GNU ld loads the program headers");
    let template = image.tls().expect("the program has thread-local variables");
    assert_eq!(template.file_bytes, 4);
    assert!(template.mem_bytes >= 4 + 32);
    let layout = tls_layout(Some(&template), 64).unwrap();
    let mut block = vec![0u8; layout.block_bytes as usize];
    let tp = layout
        .write_block(file, &mut block, 0x7000_0000_0000)
        .unwrap();
    assert_eq!(tp, 0x7000_0000_0000 + layout.tp_offset);
    let data = layout.data_offset as usize;
    assert_eq!(
        block[data..data + 4],
        3i32.to_le_bytes(),
        "tls_initialized = 3"
    );

    let args: [&[u8]; 2] = [b"program", b"--flag"];
    let env: [&[u8]; 1] = [b"HOME=/"];
    let stack = InitialStack {
        args: &args,
        env: &env,
        random: [9; 16],
        extra_aux: &[],
    };
    let mut buffer = vec![0u8; PAGE_BYTES as usize];
    let rsp = stack.write(&image, &mut buffer, STACK_TOP).unwrap();
    assert_eq!(rsp % 16, 0);

    // The linker's section header table, read back.
    assert_eq!(
        section(file, ".mica.manifest"),
        Ok(Some(&b"MMAN manifest 16"[..]))
    );
    let text = section(file, ".text").unwrap().expect("a .text section");
    assert!(!text.is_empty());
    assert_eq!(
        section(file, ".bss"),
        Ok(Some(&[][..])),
        ".bss has no file bytes"
    );
    assert_eq!(section(file, ".no-such-section"), Ok(None));
    image
}

#[test]
fn gcc_static_executable() {
    if !have_gcc("gcc_static_executable") {
        return;
    }
    let dir = scratch_dir("static");
    let file = compile(&dir, "static", &["-static", "-fno-pie", "-no-pie"])
        .expect("gcc builds a static executable");
    let image = check_real(&file, &Options::default());
    assert_eq!(image.kind(), Kind::Exec);
    assert_eq!(image.bias(), 0);
    // The same file inside an unaligned container: all copies, same plan
    // otherwise.
    let opts = Options {
        base: 0,
        file_page_offset: 0x10,
    };
    let unaligned = check_real(&file, &opts);
    assert!(unaligned.segments().iter().all(|s| s.direct.is_none()));
    assert_eq!(unaligned.entry(), image.entry());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn gcc_static_pie() {
    if !have_gcc("gcc_static_pie") {
        return;
    }
    let dir = scratch_dir("static-pie");
    let Some(file) = compile(&dir, "static-pie", &["-fpie", "-static-pie"]) else {
        eprintln!("gcc_static_pie: skipped, gcc does not accept -static-pie");
        return;
    };
    // Linked at 0: it needs a base.
    assert_eq!(
        parse(&file, &Options::default()).unwrap_err(),
        ElfError::BelowUserStart
    );
    for base in [0x1000_0000, 0x5555_5555_0000] {
        let opts = Options {
            base,
            file_page_offset: 0,
        };
        let image = check_real(&file, &opts);
        assert_eq!(image.kind(), Kind::StaticPie);
        assert_eq!(image.bias(), base);
        assert!(image.entry() > base);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn gcc_dynamic_executable_is_refused() {
    if !have_gcc("gcc_dynamic_executable_is_refused") {
        return;
    }
    let dir = scratch_dir("dynamic");
    let source = dir.join("main.c");
    std::fs::write(&source, "int main(void) { return 0; }\n").unwrap();
    let binary = dir.join("dynamic");
    let built = Command::new("gcc")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .status()
        .is_ok_and(|status| status.success());
    if !built {
        eprintln!("gcc_dynamic_executable_is_refused: skipped, no C library to link");
        return;
    }
    let file = std::fs::read(&binary).unwrap();
    assert_eq!(
        parse(
            &file,
            &Options {
                base: 0x1000_0000,
                file_page_offset: 0
            }
        ),
        Err(ElfError::NeedsInterpreter)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn host_binaries_never_panic() {
    // Whatever the host has (dynamic programs, mostly): parse must give an
    // answer, and an image it accepts must keep its promises.
    for dir in ["/bin", "/usr/bin", "/sbin"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten().take(200) {
            let Ok(file) = std::fs::read(entry.path()) else {
                continue;
            };
            for base in [0, 0x1000_0000] {
                let opts = Options {
                    base,
                    file_page_offset: 0,
                };
                if let Ok(image) = parse(&file, &opts) {
                    check_image(&image, &file, &opts);
                }
            }
            for name in [".text", ".mica.manifest", ".bss", ".shstrtab"] {
                check_section(&file, name);
            }
        }
    }
}
