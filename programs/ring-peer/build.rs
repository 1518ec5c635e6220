//! Links the program with rt's ELF layout (rt/elf.ld).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/../../rt/elf.ld");
    println!("cargo:rerun-if-changed=../../rt/elf.ld");
}
