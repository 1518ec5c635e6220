//! Links the program at the fixed image address with rt's user layout.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/../../rt/user.ld");
    println!("cargo:rerun-if-changed=../../rt/user.ld");
}
